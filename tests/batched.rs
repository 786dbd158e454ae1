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

use batched_train::Tol;
use descent::backend::cpu::Cpu;
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
