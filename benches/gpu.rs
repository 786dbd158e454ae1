//! The two backends on the same workloads, natively: full-batch training steps per second of
//! one MLP on the CPU path and on the GPU backend (wgpu on Vulkan), and the ratio.
//!
//! `cargo bench --bench gpu` prints one line per workload to stderr and JSON to stdout. With
//! only Mesa's software Vulkan (lavapipe) the GPU figures say nothing about a real GPU; the
//! adapter's name is printed so a reader can tell which one ran. Without an adapter the GPU
//! columns are skipped and the reason is printed.
//!
//! Workloads: n = 256 points, d = 2, ReLU, NTK parametrisation, squared loss (the Playground's
//! benchmark networks), one hidden layer of width 256 … 16384 and three of width 256 … 4096;
//! and 64 networks of one architecture with their own seeds and step sizes, trained at once by
//! the batched trainer on the GPU, against the same 64 trained one after another on the CPU
//! (and the batched trainer's CPU twin); the empirical NTK Gram matrix of a network on n
//! points (the layer Grams through the backend's gemm, combined on the device, one readback);
//! the analytic NNGP and NTK of a ReLU network on n points (`kernels::analytic::nngp_ntk_on`,
//! the f32 element-wise recursion, beside the f64 CPU closed forms `nngp_ntk`); and the
//! random-feature Grams of the double-descent scene at 11 prefix sizes
//! (`kernels::random_features::relu_feature_grams_on`, beside an f64 accumulation on the CPU).
//! The GPU runs [`Trainer::advance_async`] in batches of [`GPU_BATCH`] steps, each batch one
//! submission and one readback of its losses: the way the page trains on WebGPU.

use std::time::Instant;

use descent::backend::cpu::Cpu;
use descent::backend::gpu::Gpu;
use descent::backend::{Backend, Trans};
use descent::kernels::analytic::{KernelSpec, nngp_ntk, nngp_ntk_on};
use descent::kernels::random_features::relu_feature_grams_on;
use descent::nn::Activation;
use descent::nn::batched::{BatchedTrainer, NetConfig};
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::train::Trainer;
use descent::rng::Rng;
use nalgebra::DMatrix;

/// (hidden layers, width) of the single-network workloads.
const CONFIGS: [(usize, usize); 7] = [
    (1, 256),
    (1, 1024),
    (1, 4096),
    (3, 256),
    (3, 1024),
    (1, 16384),
    (3, 4096),
];

/// Steps queued per GPU submission (one readback of their losses each).
const GPU_BATCH: u64 = 64;

/// Seconds each measurement runs for (after a warm-up).
const MEASURE_SECONDS: f64 = 1.5;

fn data(n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(11);
    let x: Vec<f32> = (0..2 * n).map(|_| rng.normal() as f32).collect();
    let y: Vec<f32> = (0..n)
        .map(|i| {
            if x[2 * i] * x[2 * i + 1] > 0.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    (x, y)
}

fn spec(depth: usize, width: usize) -> MlpSpec {
    MlpSpec {
        input_dim: 2,
        hidden: vec![width; depth],
        activation: Activation::Relu,
        parametrization: Parametrization::Ntk,
        sigma_w: std::f64::consts::SQRT_2,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: 1,
    }
}

fn trainer<B: Backend>(mut backend: B, depth: usize, width: usize) -> Trainer<B> {
    let (x, y) = data(256);
    let mut rng = Rng::new(3);
    let mlp = Mlp::new(&mut backend, spec(depth, width), &mut rng).expect("benchmark spec");
    Trainer::new(backend, mlp, &x, &y, false, 1e-3, 0, 1).expect("benchmark trainer")
}

/// The median rate over chunks of at least 50 ms, for [`MEASURE_SECONDS`]: `run(k)` takes k
/// steps and returns when they are done.
fn median_rate(mut run: impl FnMut(u64), min_chunk: u64) -> f64 {
    run(min_chunk);
    let mut rates = Vec::new();
    let mut chunk = min_chunk;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < MEASURE_SECONDS || rates.len() < 5 {
        let t = Instant::now();
        run(chunk);
        let dt = t.elapsed().as_secs_f64();
        if dt < 0.05 {
            chunk *= 2;
            continue;
        }
        rates.push(chunk as f64 / dt);
        if rates.len() >= 40 {
            break;
        }
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn cpu_rate(depth: usize, width: usize) -> f64 {
    let mut t = trainer(Cpu::new(), depth, width);
    median_rate(|k| t.advance(k).expect("the benchmark run diverged"), 1)
}

fn gpu_rate(gpu: Gpu, depth: usize, width: usize) -> f64 {
    let mut t = trainer(gpu, depth, width);
    median_rate(
        |k| {
            let mut left = k;
            while left > 0 {
                let b = left.min(GPU_BATCH);
                pollster::block_on(t.advance_async(b)).expect("the benchmark run diverged");
                left -= b;
            }
        },
        GPU_BATCH,
    )
}

/// Per-operation cost on the GPU: `reps` identical operations queued, then one readback;
/// returns (µs to record them, µs per operation in all). Diagnoses where a step's time goes.
fn op_costs(gpu: &mut Gpu) {
    use descent::backend::Trans;
    let reps = 500;
    let cases: Vec<(&str, usize, usize, usize, Trans, Trans)> = vec![
        ("gemm NN 256x256x2", 256, 256, 2, Trans::N, Trans::N),
        ("gemm NN 256x1x256", 256, 1, 256, Trans::N, Trans::N),
        ("gemm NN 256x1x4096", 256, 1, 4096, Trans::N, Trans::N),
        ("gemm NT 256x4096x1", 256, 4096, 1, Trans::N, Trans::T),
        ("gemm TN 4096x1x256", 4096, 1, 256, Trans::T, Trans::N),
        ("gemm TN 2x4096x256", 2, 4096, 256, Trans::T, Trans::N),
        ("gemm NN 256x4096x4096", 256, 4096, 4096, Trans::N, Trans::N),
        ("gemm TN 4096x4096x256", 4096, 4096, 256, Trans::T, Trans::N),
        (
            "gemm NN 1024x1024x1024",
            1024,
            1024,
            1024,
            Trans::N,
            Trans::N,
        ),
    ];
    for (name, m, n, k, ta, tb) in cases {
        let a = gpu.upload(&vec![0.5; m * k]);
        let b = gpu.upload(&vec![0.25; k * n]);
        let mut c = gpu.zeros(m * n);
        gpu.gemm(ta, tb, m, n, k, 1.0, &a, &b, 0.0, &mut c);
        pollster::block_on(gpu.read_async(&c, 1)).expect("warm-up");
        let t = Instant::now();
        for _ in 0..reps {
            gpu.gemm(ta, tb, m, n, k, 1.0, &a, &b, 0.0, &mut c);
        }
        let record = t.elapsed().as_secs_f64();
        pollster::block_on(gpu.read_async(&c, 1)).expect("readback");
        let all = t.elapsed().as_secs_f64();
        let gflops = 2.0 * (m * n * k) as f64 * reps as f64 / all / 1e9;
        eprintln!(
            "{name:>24}: record {:>7.1} µs/op   total {:>8.1} µs/op   {gflops:>8.1} GFLOP/s",
            record / reps as f64 * 1e6,
            all / reps as f64 * 1e6
        );
    }
    let x = gpu.upload(&vec![0.5; 256]);
    let mut y = gpu.zeros(256);
    let t = Instant::now();
    for _ in 0..reps {
        gpu.axpy(256, 0.1, &x, &mut y);
    }
    let record = t.elapsed().as_secs_f64();
    pollster::block_on(gpu.read_async(&y, 1)).expect("readback");
    let all = t.elapsed().as_secs_f64();
    eprintln!(
        "{:>24}: record {:>7.1} µs/op   total {:>8.1} µs/op",
        "axpy 256",
        record / reps as f64 * 1e6,
        all / reps as f64 * 1e6
    );
}

/// (hidden layers, width, points) of the empirical-NTK Gram workloads.
const NTK_CONFIGS: [(usize, usize, usize); 3] = [(1, 1024, 256), (3, 1024, 512), (1, 4096, 1024)];

/// Empirical NTK Gram matrices (n × n, every layer, `nn::ntk::empirical_kernels`) per second:
/// the layer Grams and their sum run on `backend`, with one readback per kernel.
fn ntk_rate<B: Backend>(mut backend: B, depth: usize, width: usize, n: usize) -> f64 {
    let (x, _) = data(n);
    let mut rng = Rng::new(3);
    let mlp = Mlp::new(&mut backend, spec(depth, width), &mut rng).expect("spec");
    median_rate(
        |k| {
            for _ in 0..k {
                descent::nn::ntk::empirical_kernels(&mut backend, &mlp, &x, None).expect("ntk");
            }
        },
        1,
    )
}

/// (hidden layers, points) of the analytic-kernel workloads (ReLU, NTK parametrisation, d = 2).
const ANALYTIC_CONFIGS: [(usize, usize); 2] = [(3, 1024), (3, 4096)];

fn analytic_spec(depth: usize) -> KernelSpec {
    KernelSpec::ntk(depth, Activation::Relu, std::f64::consts::SQRT_2, 0.1)
}

/// Analytic (NNGP, NTK) pairs per second of n × n through `nngp_ntk_on` on `backend` (f32).
fn analytic_rate<B: Backend>(mut backend: B, depth: usize, n: usize) -> f64 {
    let (x, _) = data(n);
    let spec = analytic_spec(depth);
    median_rate(
        |k| {
            for _ in 0..k {
                pollster::block_on(nngp_ntk_on(&mut backend, &spec, &x, None, 2)).expect("kernel");
            }
        },
        1,
    )
}

/// The same through the f64 CPU closed forms (`nngp_ntk`, one triangle).
fn analytic_rate_f64(depth: usize, n: usize) -> f64 {
    let (x, _) = data(n);
    let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let spec = analytic_spec(depth);
    median_rate(
        |k| {
            for _ in 0..k {
                nngp_ntk(&spec, &x, None, 2).expect("kernel");
            }
        },
        1,
    )
}

/// (points n, input dimension d, features p_max) of the random-feature Gram workloads; the
/// Grams are read at 11 prefixes p_max·{0.1, 0.2, …, 1} (0.1 rounded to a multiple of 1).
const RF_CONFIGS: [(usize, usize, usize); 2] = [(300, 100, 3000), (1000, 100, 4000)];

fn rf_data(n: usize, d: usize, p_max: usize) -> (Vec<f32>, Vec<f32>, Vec<usize>) {
    let mut rng = Rng::new(17);
    let mut x = vec![0.0f32; n * d];
    rng.fill_normal_f32(&mut x, 1.0);
    let mut w = vec![0.0f32; d * p_max];
    rng.fill_normal_f32(&mut w, 1.0 / (d as f64).sqrt());
    let prefixes = (1..=10).map(|i| p_max * i / 10).collect();
    (x, w, prefixes)
}

/// Sets of all prefix Grams per second through `relu_feature_grams_on` on `backend` (f32).
fn rf_rate<B: Backend>(mut backend: B, n: usize, d: usize, p_max: usize) -> f64 {
    let (x, w, prefixes) = rf_data(n, d, p_max);
    median_rate(
        |k| {
            for _ in 0..k {
                pollster::block_on(relu_feature_grams_on(
                    &mut backend,
                    &x,
                    d,
                    &w,
                    p_max,
                    &prefixes,
                    0,
                ))
                .expect("grams");
            }
        },
        1,
    )
}

/// The same with the Gram accumulated in f64 on the CPU, as the double-descent scene does
/// (features in f32 through the CPU backend, K += Φ_ΔΦ_Δᵀ in f64 by nalgebra, the full
/// product rather than the scene's upper triangle).
fn rf_rate_f64(n: usize, d: usize, p_max: usize) -> f64 {
    let (x, w, prefixes) = rf_data(n, d, p_max);
    let mut cpu = Cpu::new();
    median_rate(
        |k| {
            for _ in 0..k {
                let mut z = vec![0.0f32; n * p_max];
                cpu.gemm(Trans::N, Trans::N, n, p_max, d, 1.0, &x, &w, 0.0, &mut z);
                let mut gram = DMatrix::<f64>::zeros(n, n);
                let mut done = 0;
                let mut grams = Vec::new();
                for &p in &prefixes {
                    let blk = DMatrix::from_fn(n, p - done, |i, j| {
                        z[i * p_max + done + j].max(0.0) as f64
                    });
                    gram.gemm(1.0, &blk, &blk.transpose(), 1.0);
                    grams.push(gram.clone());
                    done = p;
                }
                std::hint::black_box(grams);
            }
        },
        1,
    )
}

/// Networks in the batched workload.
const BATCH: usize = 64;

/// (hidden layers, width) of the batched workloads: 64 networks each.
const BATCH_CONFIGS: [(usize, usize); 3] = [(1, 256), (1, 1024), (3, 256)];

/// 64 networks: seeds 1…64, step sizes spread over a factor of 4 (all stable).
fn net_configs() -> Vec<NetConfig> {
    (0..BATCH)
        .map(|i| NetConfig {
            seed: 1 + i as u64,
            init_scale: 1.0,
            lr: 1e-3 * (1.0 + 3.0 * i as f64 / BATCH as f64),
        })
        .collect()
}

/// Steps per second of all 64 networks (one step = every network one step): on the CPU as 64
/// Trainers one after another, and as the CPU twin of the batched trainer.
fn cpu_batch_rates(depth: usize, width: usize) -> (f64, f64) {
    let (x, y) = data(256);
    let mut trainers: Vec<Trainer<Cpu>> = net_configs()
        .iter()
        .map(|c| {
            let mut backend = Cpu::new();
            let mut rng = Rng::stream(c.seed, descent::data::stream::WEIGHTS);
            let mlp = Mlp::new(&mut backend, spec(depth, width), &mut rng).expect("spec");
            Trainer::new(backend, mlp, &x, &y, false, c.lr, 0, 1).expect("trainer")
        })
        .collect();
    let sequential = median_rate(
        |k| {
            for t in trainers.iter_mut() {
                t.advance(k).expect("the benchmark run diverged");
            }
        },
        1,
    );
    let mut batched =
        BatchedTrainer::new(Cpu::new(), spec(depth, width), &x, &y, &net_configs()).expect("batch");
    let twin = median_rate(
        |k| {
            batched.advance(k).expect("batched run");
        },
        1,
    );
    (sequential, twin)
}

fn gpu_batch_rate(gpu: Gpu, depth: usize, width: usize) -> f64 {
    let (x, y) = data(256);
    let mut batched =
        BatchedTrainer::new(gpu, spec(depth, width), &x, &y, &net_configs()).expect("batch");
    median_rate(
        |k| {
            let mut left = k;
            while left > 0 {
                let b = left.min(GPU_BATCH);
                pollster::block_on(batched.advance_async(b)).expect("batched run");
                left -= b;
            }
        },
        GPU_BATCH,
    )
}

/// `rate` on a fresh GPU device, when the probe found an adapter (`present`).
fn on_gpu(present: bool, rate: impl FnOnce(Gpu) -> f64) -> Option<f64> {
    if present {
        Gpu::new_blocking().ok().map(rate)
    } else {
        None
    }
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let probe = Gpu::new_blocking();
    let adapter = match &probe {
        Ok(g) => g.adapter().to_string(),
        Err(e) => {
            eprintln!("no GPU figures: {e}");
            String::new()
        }
    };
    if std::env::args().any(|a| a == "--ops") {
        if let Ok(mut g) = probe {
            op_costs(&mut g);
        }
        return;
    }
    drop(probe);
    let present = !adapter.is_empty();
    if !adapter.is_empty() {
        eprintln!("GPU adapter: {adapter}");
    }
    let mut rows = Vec::new();
    for (depth, width) in CONFIGS {
        let name = format!("train {depth}x{width}");
        if !wanted(&name) {
            continue;
        }
        let cpu = cpu_rate(depth, width);
        let gpu = on_gpu(present, |g| gpu_rate(g, depth, width));
        match gpu {
            Some(g) => eprintln!(
                "{name:>16}: cpu {cpu:>9.1} steps/s   gpu {g:>9.1} steps/s   gpu/cpu {:>6.2}×",
                g / cpu
            ),
            None => eprintln!("{name:>16}: cpu {cpu:>9.1} steps/s"),
        }
        rows.push(format!(
            "  {{\"workload\": \"{name}\", \"depth\": {depth}, \"width\": {width}, \"cpuStepsPerSecond\": {cpu:.2}, \"gpuStepsPerSecond\": {}}}",
            gpu.map_or("null".to_string(), |g| format!("{g:.2}"))
        ));
    }
    for (depth, width, n) in NTK_CONFIGS {
        let name = format!("ntk {depth}x{width} n={n}");
        if !wanted(&name) {
            continue;
        }
        let cpu = ntk_rate(Cpu::new(), depth, width, n);
        let gpu = on_gpu(present, |g| ntk_rate(g, depth, width, n));
        match gpu {
            Some(g) => eprintln!(
                "{name:>16}: cpu {cpu:>9.2} Grams/s   gpu {g:>9.2} Grams/s   gpu/cpu {:>6.2}×",
                g / cpu
            ),
            None => eprintln!("{name:>16}: cpu {cpu:>9.2} Grams/s"),
        }
        rows.push(format!(
            "  {{\"workload\": \"{name}\", \"depth\": {depth}, \"width\": {width}, \"points\": {n}, \"cpuGramsPerSecond\": {cpu:.3}, \"gpuGramsPerSecond\": {}}}",
            gpu.map_or("null".to_string(), |g| format!("{g:.3}"))
        ));
    }
    for (depth, n) in ANALYTIC_CONFIGS {
        let name = format!("analytic relu L={depth} n={n}");
        if !wanted(&name) {
            continue;
        }
        let f64_cpu = analytic_rate_f64(depth, n);
        let twin = analytic_rate(Cpu::new(), depth, n);
        let gpu = on_gpu(present, |g| analytic_rate(g, depth, n));
        match gpu {
            Some(g) => eprintln!(
                "{name:>16}: cpu f64 {f64_cpu:>8.2}/s (f32 twin {twin:.2}/s)   gpu {g:>8.2}/s   gpu/cpu-f64 {:>6.2}×",
                g / f64_cpu
            ),
            None => eprintln!("{name:>16}: cpu f64 {f64_cpu:>8.2}/s (f32 twin {twin:.2}/s)"),
        }
        rows.push(format!(
            "  {{\"workload\": \"{name}\", \"depth\": {depth}, \"points\": {n}, \"cpuF64KernelsPerSecond\": {f64_cpu:.3}, \"cpuF32TwinKernelsPerSecond\": {twin:.3}, \"gpuKernelsPerSecond\": {}}}",
            gpu.map_or("null".to_string(), |g| format!("{g:.3}"))
        ));
    }
    for (n, d, p_max) in RF_CONFIGS {
        let name = format!("rf-gram n={n} p={p_max}");
        if !wanted(&name) {
            continue;
        }
        let f64_cpu = rf_rate_f64(n, d, p_max);
        let twin = rf_rate(Cpu::new(), n, d, p_max);
        let gpu = on_gpu(present, |g| rf_rate(g, n, d, p_max));
        match gpu {
            Some(g) => eprintln!(
                "{name:>16}: cpu f64 {f64_cpu:>8.2}/s (f32 twin {twin:.2}/s)   gpu {g:>8.2}/s   gpu/cpu-f64 {:>6.2}×",
                g / f64_cpu
            ),
            None => eprintln!("{name:>16}: cpu f64 {f64_cpu:>8.2}/s (f32 twin {twin:.2}/s)"),
        }
        rows.push(format!(
            "  {{\"workload\": \"{name}\", \"points\": {n}, \"inputDim\": {d}, \"features\": {p_max}, \"cpuF64GramSetsPerSecond\": {f64_cpu:.3}, \"cpuF32TwinGramSetsPerSecond\": {twin:.3}, \"gpuGramSetsPerSecond\": {}}}",
            gpu.map_or("null".to_string(), |g| format!("{g:.3}"))
        ));
    }
    for (depth, width) in BATCH_CONFIGS {
        let name = format!("batch64 {depth}x{width}");
        if !wanted(&name) {
            continue;
        }
        let (cpu, twin) = cpu_batch_rates(depth, width);
        let gpu = on_gpu(present, |g| gpu_batch_rate(g, depth, width));
        match gpu {
            Some(g) => eprintln!(
                "{name:>16}: cpu {cpu:>9.1} steps/s (batched twin {twin:.1})   gpu {g:>9.1} steps/s   gpu/cpu {:>6.2}×",
                g / cpu
            ),
            None => eprintln!("{name:>16}: cpu {cpu:>9.1} steps/s (batched twin {twin:.1})"),
        }
        rows.push(format!(
            "  {{\"workload\": \"{name}\", \"depth\": {depth}, \"width\": {width}, \"networks\": {BATCH}, \"cpuStepsPerSecond\": {cpu:.2}, \"cpuBatchedTwinStepsPerSecond\": {twin:.2}, \"gpuStepsPerSecond\": {}}}",
            gpu.map_or("null".to_string(), |g| format!("{g:.2}"))
        ));
    }
    println!(
        "{{\"adapter\": {:?}, \"rows\": [\n{}\n]}}",
        adapter,
        rows.join(",\n")
    );
}
