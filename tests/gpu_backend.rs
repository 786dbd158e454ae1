//! The GPU backend against its CPU twin, natively: every operation's one test body
//! (tests/common/backend_ops.rs) on both backends, and a short training run through the
//! [`Trainer`] on each, compared.
//!
//! The GPU tests need a wgpu adapter (Vulkan; Mesa's lavapipe runs them without a GPU:
//! `apt-get install mesa-vulkan-drivers`). Without one they FAIL, unless
//! `DESCENT_ALLOW_NO_GPU=1` is set, in which case they print why and pass without running.

#![cfg(not(target_arch = "wasm32"))]

#[path = "common/native_gpu.rs"]
mod native_gpu;

#[path = "common/backend_ops.rs"]
mod ops;

#[path = "common/kernels_gpu.rs"]
mod kernels_gpu;

use descent::backend::Backend;
use descent::backend::cpu::Cpu;
use descent::error::Error;
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::train::Trainer;
use descent::nn::{Activation, Loss};
use descent::rng::Rng;
use native_gpu::gpu;

/// One test per backend from one body: `cpu_NAME` and `gpu_NAME`.
macro_rules! on_both {
    ($($name:ident: $body:expr;)*) => {
        mod cpu {
            use super::*;
            $(#[test]
            fn $name() {
                let mut b = Cpu::new();
                pollster::block_on($body(&mut b));
            })*
        }
        mod gpu {
            use super::*;
            $(#[test]
            fn $name() {
                let Some(mut b) = gpu() else { return };
                pollster::block_on($body(&mut b));
                b.check().expect("no device error");
            })*
        }
    };
}

on_both! {
    gemm: |b| ops::gemm(b, 11, true);
    bias_act: |b| ops::bias_act(b, 12, true);
    act_backward: |b| ops::act_backward(b, 13, true);
    col_sum: |b| ops::col_sum(b, 14, true);
    axpy: |b| ops::axpy(b, 15, true);
    residual_loss: |b| ops::residual_loss(b, 16, true);
    buffers: |b| ops::buffers(b, 17);
    gemm_batched: |b| ops::gemm_batched(b, 18, true);
    bias_act_batched: |b| ops::bias_act_batched(b, 19, true);
    col_sum_batched: |b| ops::col_sum_batched(b, 20, true);
    residual_loss_batched: |b| ops::residual_loss_batched(b, 21, true);
    cross_entropy: |b| ops::cross_entropy(b, 24, true);
    cross_entropy_batched: |b| ops::cross_entropy_batched(b, 25, true);
    bag_cross_entropy: |b| ops::bag_cross_entropy(b, 26, true);
    ntk_accumulate: |b| ops::ntk_accumulate(b, 22, true);
    nngp_ntk_recursion: |b| ops::nngp_ntk_recursion(b, 23, true);
    momentum_step: |b| ops::momentum_step(b, 24, true);
    empirical_kernels: |b| kernels_gpu::empirical_kernels(b, 31);
    analytic_kernels: |b| kernels_gpu::analytic_kernels(b, 32, true);
    random_feature_grams: |b| kernels_gpu::random_feature_grams(b, 33, true);
}

#[test]
fn gpu_context_reports_its_adapter_and_name() {
    let Some(g) = gpu() else { return };
    assert_eq!(g.name(), "webgpu");
    assert!(!g.adapter().is_empty());
    eprintln!("GPU adapter: {}", g.adapter());
}

#[test]
fn gpu_device_errors_are_recorded_not_thrown() {
    let Some(mut g) = gpu() else { return };
    let x = g.upload(&[1.0, 2.0]);
    let mut y = g.zeros(1);
    // Shape errors on the GPU path are recorded and reported by `check` and every readback.
    g.axpy(1, 1.0, &x, &mut y);
    g.copy(&x, &mut y, 2);
    assert!(matches!(g.check(), Err(Error::Gpu { op: "device", .. })));
    let mut out = [0.0f32; 1];
    g.read(&y, &mut out);
    assert!(
        out[0].is_nan(),
        "a failed readback yields NaN, got {}",
        out[0]
    );
}

/// What a training run leaves behind, for comparing backends.
struct Run {
    /// Training loss (evaluated) every 50 steps, including step 0.
    losses: Vec<f64>,
    params: Vec<f32>,
    predictions: Vec<f32>,
}

fn train<B: Backend>(
    mut backend: B,
    activation: Activation,
    center: bool,
    batch: usize,
    steps: u64,
) -> Run {
    // 97 points of a smooth 2-D target; a 2 → 33 → 17 → 1 network (widths not multiples
    // of any tile).
    let n = 97;
    let mut rng = Rng::new(5);
    let x: Vec<f32> = (0..2 * n).map(|_| rng.normal() as f32).collect();
    let y: Vec<f32> = (0..n)
        .map(|i| (1.3 * x[2 * i]).sin() * (0.7 * x[2 * i + 1]).cos())
        .collect();
    let spec = MlpSpec {
        input_dim: 2,
        hidden: vec![33, 17],
        activation,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.5,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: 1,
    };
    let mut wrng = Rng::new(9);
    let mlp = Mlp::new(&mut backend, spec, &mut wrng).expect("valid spec");
    let mut t = Trainer::new(backend, mlp, &x, &y, center, 0.3, batch, 3).expect("trainer");
    let mut losses = vec![t.evaluate_train().loss];
    for _ in 0..steps / 50 {
        t.advance(50).expect("no divergence");
        losses.push(t.evaluate_train().loss);
    }
    let grid: Vec<f32> = (0..2 * 61).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    let predictions = t.predict(&grid);
    let params = t.mlp.params(&mut t.backend);
    Run {
        losses,
        params,
        predictions,
    }
}

/// Tolerances of the training comparison: after 300 steps of f32 gradient descent the two
/// backends differ only by rounding (different summation orders in GEMM and reductions),
/// amplified by the dynamics. Losses agree to TRAIN_LOSS_RTOL relative; every parameter and
/// prediction to TRAIN_PARAM_TOL · (1 + |value|). Measured on lavapipe: below 1e-6 for both.
const TRAIN_LOSS_RTOL: f64 = 1e-4;
const TRAIN_PARAM_TOL: f64 = 1e-4;

#[test]
fn training_agrees_between_backends() {
    let Some(_) = gpu() else { return };
    for (activation, center, batch) in [
        (Activation::Tanh, false, 0),
        (Activation::Erf, true, 0),
        (Activation::Relu, false, 32),
    ] {
        let what = format!("{activation:?} centred={center} batch={batch}");
        let cpu = train(Cpu::new(), activation, center, batch, 300);
        let gpu = train(gpu().expect("adapter"), activation, center, batch, 300);
        assert!(
            cpu.losses.last() < cpu.losses.first(),
            "{what}: training lowers the loss: {:?}",
            cpu.losses
        );
        let mut worst_loss = 0.0f64;
        for (c, g) in cpu.losses.iter().zip(&gpu.losses) {
            let rel = (c - g).abs() / c.abs();
            worst_loss = worst_loss.max(rel);
            assert!(
                rel <= TRAIN_LOSS_RTOL,
                "{what}: losses cpu {:?} gpu {:?}",
                cpu.losses,
                gpu.losses
            );
        }
        let mut worst = 0.0f64;
        for (label, c, g) in [
            ("parameter", &cpu.params, &gpu.params),
            ("prediction", &cpu.predictions, &gpu.predictions),
        ] {
            assert_eq!(c.len(), g.len());
            for (i, (&cv, &gv)) in c.iter().zip(g.iter()).enumerate() {
                let err = (cv as f64 - gv as f64).abs() / (1.0 + (cv as f64).abs());
                worst = worst.max(err);
                assert!(
                    err <= TRAIN_PARAM_TOL,
                    "{what}: {label} {i} is {gv} on the GPU, {cv} on the CPU"
                );
            }
        }
        eprintln!(
            "{what}: loss {:.6} → {:.6}; worst relative loss difference {worst_loss:.2e}, \
             worst parameter/prediction difference {worst:.2e}",
            cpu.losses[0],
            cpu.losses.last().copied().unwrap_or(f64::NAN)
        );
    }
}

#[path = "common/train_async.rs"]
mod train_async;

/// The batched path's tolerance against step-by-step training on the same GPU: the training
/// comparison's (in practice the same arithmetic in the same order gives the same bits).
const TRAIN_TOL: train_async::Tol = train_async::Tol {
    loss_rtol: TRAIN_LOSS_RTOL,
    param_tol: TRAIN_PARAM_TOL,
};

#[test]
fn cpu_advance_async_matches_sync() {
    for (activation, center) in [(Activation::Tanh, false), (Activation::Erf, true)] {
        pollster::block_on(train_async::advance_async_matches_sync(
            Cpu::new(),
            Cpu::new(),
            activation,
            center,
            true,
            None,
        ));
    }
}

/// Cross-entropy on 2, 5 and 10 outputs (and the squared loss on 5): the batched path gives
/// the step-by-step run's bits on the CPU.
#[test]
fn cpu_multi_output_advance_async_matches_sync() {
    for (k, loss, center) in [
        (2, Loss::CrossEntropy, false),
        (5, Loss::CrossEntropy, true),
        (10, Loss::CrossEntropy, false),
        (5, Loss::Squared, true),
    ] {
        pollster::block_on(train_async::loss_async_matches_sync(
            Cpu::new(),
            Cpu::new(),
            Activation::Tanh,
            center,
            true,
            k,
            loss,
            None,
        ));
    }
}

/// A few cross-entropy steps (and squared-loss steps on 5 outputs) on the GPU against the
/// CPU: rounding only (summation orders, f32 exp), within the training comparison's
/// tolerances.
#[test]
fn gpu_multi_output_training_agrees_with_cpu() {
    let Some(_) = gpu() else { return };
    for (k, loss, center) in [
        (2, Loss::CrossEntropy, false),
        (5, Loss::CrossEntropy, true),
        (10, Loss::CrossEntropy, false),
        (5, Loss::Squared, true),
    ] {
        pollster::block_on(train_async::loss_async_matches_sync(
            Cpu::new(),
            gpu().expect("adapter"),
            Activation::Tanh,
            center,
            true,
            k,
            loss,
            Some(TRAIN_TOL),
        ));
    }
}

/// The bag loss: the batched path gives the step-by-step run's bits on the CPU, bags of one
/// and of several.
#[test]
fn cpu_bag_loss_advance_async_matches_sync() {
    for (k, bag, center) in [(3, 1, false), (5, 8, true), (10, 32, false)] {
        pollster::block_on(train_async::loss_async_matches_sync(
            Cpu::new(),
            Cpu::new(),
            Activation::Tanh,
            center,
            true,
            k,
            Loss::Proportions { bag },
            None,
        ));
    }
}

/// A few bag-loss steps on the GPU against the CPU, bags of 1, 8 and 32 (96 rows in 3
/// bags), within the cross-entropy comparison's tolerances
/// (rounding only: summation orders, f32 exp and log).
#[test]
fn gpu_bag_loss_training_agrees_with_cpu() {
    let Some(_) = gpu() else { return };
    for (k, bag, center) in [(3, 1, false), (5, 8, true), (10, 32, false)] {
        pollster::block_on(train_async::loss_async_matches_sync(
            Cpu::new(),
            gpu().expect("adapter"),
            Activation::Tanh,
            center,
            true,
            k,
            Loss::Proportions { bag },
            Some(TRAIN_TOL),
        ));
    }
}

#[test]
fn gpu_advance_async_matches_sync() {
    let Some(_) = gpu() else { return };
    for (activation, center) in [(Activation::Tanh, false), (Activation::Erf, true)] {
        pollster::block_on(train_async::advance_async_matches_sync(
            gpu().expect("adapter"),
            gpu().expect("adapter"),
            activation,
            center,
            true,
            Some(TRAIN_TOL),
        ));
    }
}

#[test]
fn cpu_advance_async_reports_divergence() {
    pollster::block_on(train_async::advance_async_reports_divergence(
        Cpu::new(),
        Cpu::new(),
        Some(None),
    ));
}

#[test]
fn gpu_advance_async_reports_divergence() {
    let Some(_) = gpu() else { return };
    pollster::block_on(train_async::advance_async_reports_divergence(
        gpu().expect("adapter"),
        gpu().expect("adapter"),
        Some(Some(TRAIN_TOL)),
    ));
}

/// Heavy ball with weight decay (β = 0.9, λ_wd = 10⁻³, η = 0.1) on the GPU's readback-free
/// path, 60 steps in batches of 20, against the CPU stepping one step at a time: the two
/// differ by rounding only (GEMM and reduction orders), so the training comparison's
/// tolerances hold for the losses and every parameter.
#[test]
fn heavy_ball_training_agrees_between_backends() {
    use descent::nn::Momentum;
    let Some(g) = gpu() else { return };
    let m = Momentum {
        beta: 0.9,
        weight_decay: 1e-3,
    };
    let mut c = train_async::trainer(Cpu::new(), Activation::Tanh, false, 0.1)
        .with_momentum(m)
        .unwrap();
    let mut t = train_async::trainer(g, Activation::Tanh, false, 0.1)
        .with_momentum(m)
        .unwrap();
    let mut cpu_losses = Vec::new();
    for _ in 0..60 {
        c.advance(1).expect("no divergence");
        cpu_losses.push(c.last_loss().expect("a step") as f64);
    }
    let mut losses = Vec::new();
    for _ in 0..3 {
        losses.extend(pollster::block_on(t.advance_async(20)).expect("no divergence"));
    }
    assert!(
        losses[59] < losses[0],
        "training lowers the loss: {losses:?}"
    );
    let mut worst_loss = 0.0f64;
    for (i, (&cl, &gl)) in cpu_losses.iter().zip(&losses).enumerate() {
        let rel = (cl - gl as f64).abs() / cl.abs();
        worst_loss = worst_loss.max(rel);
        assert!(rel <= TRAIN_LOSS_RTOL, "loss {i}: cpu {cl}, gpu {gl}");
    }
    let pc = c.mlp.params(&mut c.backend);
    let pg = pollster::block_on(train_async::params(&mut t));
    let mut worst = 0.0f64;
    for (i, (&cv, &gv)) in pc.iter().zip(&pg).enumerate() {
        let err = (cv as f64 - gv as f64).abs() / (1.0 + (cv as f64).abs());
        worst = worst.max(err);
        assert!(err <= TRAIN_PARAM_TOL, "parameter {i}: cpu {cv}, gpu {gv}");
    }
    eprintln!(
        "heavy ball: loss {:.6} → {:.6}; worst relative loss difference {worst_loss:.2e}, \
         worst parameter difference {worst:.2e}",
        cpu_losses[0], cpu_losses[59]
    );
}
