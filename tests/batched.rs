//! [`BatchedTrainer`](descent::nn::BatchedTrainer) natively: every network of a batch against
//! its single `Trainer` run on the CPU (tests/common/batched_train.rs), with the batch on the
//! CPU (bit for bit) and on the GPU (Vulkan; lavapipe in CI).
//!
//! The GPU tests need a wgpu adapter (Mesa's lavapipe will do); without one they FAIL unless
//! `DESCENT_ALLOW_NO_GPU=1` is set (see tests/common/native_gpu.rs).

#![cfg(not(target_arch = "wasm32"))]

#[path = "common/native_gpu.rs"]
mod native_gpu;

#[path = "common/batched_train.rs"]
mod batched_train;

#[path = "common/phase_diagram.rs"]
mod phase_diagram;

use batched_train::Tol;
use descent::backend::cpu::Cpu;
use descent::session::net::DataSettings;
use native_gpu::gpu;

/// The batch on the GPU against single runs on the CPU, after 120 steps: the two backends
/// differ only by rounding (GEMM and reduction summation orders, f32 erf and tanh), which the
/// dynamics amplify. The tolerances of tests/gpu_backend.rs's training comparison (1e-4
/// relative on losses, 1e-4 · (1 + |value|) on parameters and predictions).
const GPU_TOL: Tol = Tol {
    loss_rtol: 1e-4,
    param_tol: 1e-4,
};

#[test]
fn cpu_batch_matches_single_runs() {
    for case in batched_train::cases(false) {
        pollster::block_on(batched_train::batch_matches_single(Cpu::new(), &case, None));
    }
}

/// K > 1 outputs, cross-entropy and squared: bit for bit on the CPU.
#[test]
fn cpu_multi_output_batch_matches_single_runs() {
    for case in batched_train::multi_output_cases(false) {
        pollster::block_on(batched_train::batch_matches_single(Cpu::new(), &case, None));
    }
}

/// K > 1 outputs on the GPU against single runs on the CPU, within [`GPU_TOL`].
#[test]
fn gpu_multi_output_batch_matches_single_runs() {
    let Some(_) = gpu() else { return };
    let mut g = gpu().expect("adapter");
    for case in batched_train::multi_output_cases(false) {
        g = pollster::block_on(batched_train::batch_matches_single(g, &case, Some(GPU_TOL)));
    }
    g.check().expect("no device error");
}

#[test]
fn gpu_batch_matches_single_runs() {
    let Some(_) = gpu() else { return };
    let mut g = gpu().expect("adapter");
    for case in batched_train::cases(false) {
        g = pollster::block_on(batched_train::batch_matches_single(g, &case, Some(GPU_TOL)));
    }
    g.check().expect("no device error");
}

#[test]
fn cpu_divergence_is_per_network() {
    for k in [4, 20] {
        pollster::block_on(batched_train::divergence_is_per_network(
            Cpu::new(),
            k,
            40,
            true,
            None,
        ));
    }
}

#[test]
fn gpu_divergence_is_per_network() {
    let Some(_) = gpu() else { return };
    let mut g = gpu().expect("adapter");
    for k in [4, 20] {
        g = pollster::block_on(batched_train::divergence_is_per_network(
            g,
            k,
            40,
            false,
            Some(GPU_TOL),
        ));
    }
    g.check().expect("no device error");
}

/// A phase diagram trained on the GPU against the same diagram on the CPU
/// (tests/common/phase_diagram.rs).
#[test]
fn gpu_phase_diagram_agrees_with_cpu() {
    let Some(g) = gpu() else { return };
    let g = pollster::block_on(phase_diagram::gpu_agrees_with_cpu(g, 3, 80));
    g.check().expect("no device error");
}

/// A GPU lost while a phase diagram's first width trains: the diagram says so, goes on on the
/// CPU from that width (restarted from θ₀), and ends with every cell exactly as the CPU-only
/// diagram's (the cells before the loss would be GPU-rounded; here there are none).
#[test]
fn phase_diagram_survives_a_lost_gpu() {
    use descent::scenes::step_size::{PhaseConfig, PhaseDiagram, StepSizeConfig};
    use descent::session::device::BackendChoice;
    let Some(g) = gpu() else { return };
    let config = PhaseConfig {
        base: StepSizeConfig {
            data: DataSettings {
                n_train: 16,
                ..StepSizeConfig::default().data
            },
            ..StepSizeConfig::default()
        },
        width_min: 64,
        width_max: 4096,
        width_count: 2,
        y_min: 0.5,
        y_max: 4.0,
        y_count: 4,
        steps: 200,
        ..PhaseConfig::default()
    };
    let mut cpu = PhaseDiagram::new(config.clone()).unwrap();
    while !cpu.advance(8).unwrap().finished {}
    let mut d = PhaseDiagram::new(config).unwrap();
    d.set_gpu(g, BackendChoice::Gpu);
    // Set up the first width, then train one slice of it on the GPU.
    let p = pollster::block_on(d.advance_async()).unwrap();
    assert_eq!(p.backend, "webgpu");
    let p = pollster::block_on(d.advance_async()).unwrap();
    assert!(p.activity.contains("training together"), "{}", p.activity);
    assert!(!p.finished && p.done == 0);
    d.lose_device();
    let mut last = p;
    while !last.finished {
        last = pollster::block_on(d.advance_async()).unwrap();
    }
    assert_eq!(last.backend, "cpu");
    let notice = last.notice.clone().expect("a notice");
    assert!(
        notice.starts_with("The GPU stopped working") && notice.contains("from width 64"),
        "{notice}"
    );
    let (a, b) = (d.report(), cpu.report());
    assert_eq!(a.regime, b.regime);
    assert_eq!(a.final_loss, b.final_loss);
    assert_eq!(a.sharpness_lr, b.sharpness_lr);
    assert_eq!(a.stability_bound, b.stability_bound);
}

/// A batch too large for the memory limit, or with one buffer past WebGPU's default binding
/// size, is refused with its estimate before anything is allocated.
#[test]
fn oversize_batches_are_refused_with_their_estimate() {
    use descent::nn::batched::{BatchedTrainer, MAX_BUFFER_BYTES, MEMORY_LIMIT, NetConfig};
    use descent::nn::{Activation, MlpSpec, Parametrization};
    let spec = |width: usize| MlpSpec {
        input_dim: 2,
        hidden: vec![width; 2],
        activation: Activation::Relu,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.4,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: 1,
    };
    let net = NetConfig {
        seed: 1,
        init_scale: 1.0,
        lr: 0.1,
    };
    let (x, y) = (vec![0.5f32; 2 * 256], vec![1.0f32; 256]);
    // 9 networks of 2 × 2048 on 16 points: 9 × 2048² weights (151 MB) in one buffer, 160 MB
    // in all.
    let (bytes, largest) = BatchedTrainer::<Cpu>::memory_bytes(&spec(2048), 16, 9);
    assert!(
        largest > MAX_BUFFER_BYTES && bytes < MEMORY_LIMIT,
        "{bytes} {largest}"
    );
    let err = BatchedTrainer::new(Cpu::new(), spec(2048), &x[..32], &y[..16], &[net; 9])
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("one buffer of a batch of 9 networks")
            && msg.contains("more than the 134.2 MB limit"),
        "{msg}"
    );
    // 64 networks of 2 × 1024 on 256 points: 673 MB in all.
    let err = BatchedTrainer::new(Cpu::new(), spec(1024), &x, &y, &[net; 64])
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("would need about 672.7 MB of memory, more than the 536.9 MB limit"),
        "{err}"
    );
    // 8 of them fit, and the estimate covers at least their parameters and activations.
    let (bytes, _) = BatchedTrainer::<Cpu>::memory_bytes(&spec(1024), 256, 8);
    assert!(bytes >= 4 * 8 * (1024 * 1024 + 2 * 256 * 1024 * 2) as u64);
    assert!(BatchedTrainer::new(Cpu::new(), spec(1024), &x, &y, &[net; 8]).is_ok());
}
