//! Browser tests of the GPU backend (`wasm-pack test --headless --chrome --test web_gpu`):
//! the same operation bodies as tests/gpu_backend.rs (tests/common/backend_ops.rs), on the
//! browser's WebGPU — in headless Chromium started with `--enable-unsafe-webgpu` (see
//! webdriver.json) that is SwiftShader — and on the CPU backend compiled to wasm. Here a
//! missing adapter fails the test: the command above always provides one.

#![cfg(target_arch = "wasm32")]

#[path = "common/backend_ops.rs"]
mod ops;

#[path = "common/kernels_gpu.rs"]
mod kernels_gpu;

use descent::backend::Backend;
use descent::backend::cpu::Cpu;
use descent::backend::gpu::Gpu;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn gpu() -> Gpu {
    Gpu::new()
        .await
        .unwrap_or_else(|e| panic!("{e} (is Chromium running with --enable-unsafe-webgpu?)"))
}

macro_rules! on_both {
    ($($name:ident: $body:expr;)*) => {
        mod cpu {
            use super::*;
            $(#[wasm_bindgen_test]
            async fn $name() {
                let mut b = Cpu::new();
                $body(&mut b).await;
            })*
        }
        mod gpu {
            use super::*;
            $(#[wasm_bindgen_test]
            async fn $name() {
                let mut b = super::gpu().await;
                $body(&mut b).await;
                b.check().expect("no device error");
            })*
        }
    };
}

on_both! {
    gemm: |b| ops::gemm(b, 11, false);
    bias_act: |b| ops::bias_act(b, 12, false);
    act_backward: |b| ops::act_backward(b, 13, false);
    col_sum: |b| ops::col_sum(b, 14, false);
    axpy: |b| ops::axpy(b, 15, false);
    residual_loss: |b| ops::residual_loss(b, 16, false);
    buffers: |b| ops::buffers(b, 17);
    gemm_batched: |b| ops::gemm_batched(b, 18, false);
    bias_act_batched: |b| ops::bias_act_batched(b, 19, false);
    col_sum_batched: |b| ops::col_sum_batched(b, 20, false);
    residual_loss_batched: |b| ops::residual_loss_batched(b, 21, false);
    cross_entropy: |b| ops::cross_entropy(b, 24, false);
    cross_entropy_batched: |b| ops::cross_entropy_batched(b, 25, false);
    bag_cross_entropy: |b| ops::bag_cross_entropy(b, 26, false);
    ntk_accumulate: |b| ops::ntk_accumulate(b, 22, false);
    nngp_ntk_recursion: |b| ops::nngp_ntk_recursion(b, 23, false);
    momentum_step: |b| ops::momentum_step(b, 24, false);
    empirical_kernels: |b| kernels_gpu::empirical_kernels(b, 31);
    analytic_kernels: |b| kernels_gpu::analytic_kernels(b, 32, false);
    random_feature_grams: |b| kernels_gpu::random_feature_grams(b, 33, false);
}

#[wasm_bindgen_test]
async fn gpu_adapter_is_named() {
    let g = gpu().await;
    assert_eq!(g.name(), "webgpu");
    web_sys::console::log_1(&format!("WebGPU adapter: {}", g.adapter()).into());
}

#[path = "common/train_async.rs"]
mod train_async;

#[path = "common/phase_diagram.rs"]
mod phase_diagram;

/// A phase diagram's widths trained on the web GPU against the CPU (two widths, 40 steps:
/// SwiftShader is slow).
#[wasm_bindgen_test]
async fn phase_diagram_on_webgpu_agrees_with_cpu() {
    let g = phase_diagram::gpu_agrees_with_cpu(gpu().await, 2, 40).await;
    g.check().expect("no device error");
}

use descent::nn::Activation;

/// Training on the web GPU against the CPU backend stepping synchronously: the tolerances of
/// tests/gpu_backend.rs's training comparison (rounding only: different summation orders).
const TRAIN_TOL: train_async::Tol = train_async::Tol {
    loss_rtol: 1e-4,
    param_tol: 1e-4,
};

#[wasm_bindgen_test]
async fn cpu_advance_async_matches_sync() {
    train_async::advance_async_matches_sync(
        Cpu::new(),
        Cpu::new(),
        Activation::Tanh,
        false,
        false,
        None,
    )
    .await;
}

/// Cross-entropy on 5 outputs on the browser's WebGPU against the CPU backend stepping
/// synchronously, within the training comparison's tolerances.
#[wasm_bindgen_test]
async fn gpu_cross_entropy_training_agrees_with_cpu() {
    train_async::loss_async_matches_sync(
        Cpu::new(),
        gpu().await,
        Activation::Tanh,
        false,
        false,
        5,
        descent::nn::Loss::CrossEntropy,
        Some(TRAIN_TOL),
    )
    .await;
}

/// The bag loss on 5 outputs in bags of 8 on the browser's WebGPU against the CPU backend
/// stepping synchronously, within the training comparison's tolerances (uncentred: centring
/// reads f(x; θ₀) back synchronously).
#[wasm_bindgen_test]
async fn gpu_bag_loss_training_agrees_with_cpu() {
    train_async::loss_async_matches_sync(
        Cpu::new(),
        gpu().await,
        Activation::Tanh,
        false,
        false,
        5,
        descent::nn::Loss::Proportions { bag: 8 },
        Some(TRAIN_TOL),
    )
    .await;
}

/// The point of `advance_async`: full-batch training on the browser's WebGPU, no blocking
/// readback anywhere (the trainer is uncentred: centring evaluates f(x; θ₀) synchronously).
#[wasm_bindgen_test]
async fn gpu_advance_async_matches_sync() {
    train_async::advance_async_matches_sync(
        Cpu::new(),
        gpu().await,
        Activation::Tanh,
        false,
        false,
        Some(TRAIN_TOL),
    )
    .await;
}

#[wasm_bindgen_test]
async fn cpu_advance_async_reports_divergence() {
    train_async::advance_async_reports_divergence(Cpu::new(), Cpu::new(), Some(None)).await;
}

/// The divergence step against the CPU's; not the parameters: in the steps before divergence
/// the two backends' roundings grow ~10-100× a step (measured natively, lavapipe against the
/// CPU: 5e-6 at step 4, 9e-2 at step 7), so only the same backend can be compared there
/// (tests/gpu_backend.rs does, GPU against GPU).
#[wasm_bindgen_test]
async fn gpu_advance_async_reports_divergence() {
    train_async::advance_async_reports_divergence(Cpu::new(), gpu().await, None).await;
}

#[path = "common/batched_train.rs"]
mod batched_train;

/// Batched training on the web GPU against single CPU runs: the tolerances of the native
/// comparison (tests/batched.rs; rounding only, measured there below 3e-6).
const BATCH_TOL: batched_train::Tol = batched_train::Tol {
    loss_rtol: 1e-4,
    param_tol: 1e-4,
};

#[wasm_bindgen_test]
async fn cpu_batch_matches_single_runs() {
    let mut b = Cpu::new();
    for case in batched_train::cases(true) {
        b = batched_train::batch_matches_single(b, &case, None).await;
    }
}

/// Many networks trained at once on the browser's WebGPU, one readback per call (the short
/// cases: 12 steps, to keep the suite within its time limit on SwiftShader).
#[wasm_bindgen_test]
async fn gpu_batch_matches_single_runs() {
    let mut b = gpu().await;
    for case in batched_train::cases(true) {
        b = batched_train::batch_matches_single(b, &case, Some(BATCH_TOL)).await;
    }
    b.check().expect("no device error");
}

#[wasm_bindgen_test]
async fn cpu_batch_divergence_is_per_network() {
    let mut b = Cpu::new();
    for k in [4, 20] {
        b = batched_train::divergence_is_per_network(b, k, 12, true, None).await;
    }
}

/// The divergence step against the CPU single run's, and the healthy networks to the batch
/// tolerance (the diverging network's own losses differ across backends, as above).
#[wasm_bindgen_test]
async fn gpu_batch_divergence_is_per_network() {
    let mut b = gpu().await;
    for k in [4, 20] {
        b = batched_train::divergence_is_per_network(b, k, 12, false, Some(BATCH_TOL)).await;
    }
    b.check().expect("no device error");
}
