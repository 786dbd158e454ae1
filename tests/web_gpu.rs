//! Browser tests of the GPU backend (`wasm-pack test --headless --chrome --test web_gpu`):
//! the same operation bodies as tests/gpu_backend.rs (tests/common/backend_ops.rs), on the
//! browser's WebGPU — in headless Chromium started with `--enable-unsafe-webgpu` (see
//! webdriver.json) that is SwiftShader — and on the CPU backend compiled to wasm. Here a
//! missing adapter fails the test: the command above always provides one.

#![cfg(target_arch = "wasm32")]

#[path = "common/backend_ops.rs"]
mod ops;

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
}

#[wasm_bindgen_test]
async fn gpu_adapter_is_named() {
    let g = gpu().await;
    assert_eq!(g.name(), "webgpu");
    web_sys::console::log_1(&format!("WebGPU adapter: {}", g.adapter()).into());
}
