//! A phase diagram whose widths train on the GPU against the same diagram on the CPU, one
//! body for the native GPU (tests/batched.rs, lavapipe) and the browser's WebGPU
//! (tests/web_gpu.rs, SwiftShader). Async for the readbacks; natively under `pollster`.

#![allow(dead_code)]

use descent::backend::gpu::Gpu;
use descent::scenes::step_size::{PhaseConfig, PhaseDiagram, StepSizeConfig};
use descent::session::device::BackendChoice;
use descent::session::net::DataSettings;

/// `widths` widths from 16 up (×4 each) and 5 step sizes 0.5–16 η₀, `steps` steps per cell.
/// Stable cells (η < η₀) contract every error mode, so their measurements agree to rounding:
/// 1e-3 relative on the final loss, sharpness, NTK and the lazy measures. Above the bound the
/// loss spike amplifies rounding by orders of magnitude, so there only the regime is compared
/// (a catapult cell's regime already says it ended finite and below its starting loss).
/// Returns the GPU for the caller's device check.
pub async fn gpu_agrees_with_cpu(gpu: Gpu, widths: usize, steps: u64) -> Gpu {
    let config = PhaseConfig {
        base: StepSizeConfig {
            data: DataSettings {
                n_train: 16,
                ..StepSizeConfig::default().data
            },
            ..StepSizeConfig::default()
        },
        width_min: 16,
        width_max: 16 << (2 * (widths - 1)),
        width_count: widths,
        y_min: 0.5,
        y_max: 16.0,
        y_count: 5,
        steps,
        ..PhaseConfig::default()
    };
    let mut cpu = PhaseDiagram::new(config.clone()).unwrap();
    while !cpu.advance_async().await.unwrap().finished {}
    let mut on_gpu = PhaseDiagram::new(config).unwrap();
    on_gpu.set_gpu(gpu, BackendChoice::Gpu);
    let mut backends = Vec::new();
    loop {
        let p = on_gpu.advance_async().await.unwrap();
        if !backends.contains(&p.backend) {
            backends.push(p.backend);
        }
        assert_eq!(p.notice, None, "the GPU must not fail here");
        if p.finished {
            break;
        }
    }
    assert_eq!(backends, ["webgpu"]);
    let (a, b) = (on_gpu.report(), cpu.report());
    let rel = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => (x - y).abs() / y.abs().max(1e-12),
        (None, None) => 0.0,
        _ => f64::INFINITY,
    };
    let nx = a.widths.len();
    let mut stable = 0;
    for i in 0..a.regime.len() {
        let what = format!("cell {i} (width {}, {}×)", a.widths[i % nx], a.ys[i / nx]);
        assert_eq!(a.regime[i], b.regime[i], "{what}");
        if a.ys[i / nx] < 1.0 {
            stable += 1;
            for (name, x, y) in [
                ("final loss", a.final_loss[i], b.final_loss[i]),
                ("sharpness", a.sharpness_lr[i], b.sharpness_lr[i]),
                ("NTK", a.ntk_lr[i], b.ntk_lr[i]),
                ("weight change", a.weight_change[i], b.weight_change[i]),
                (
                    "kernel distance",
                    a.kernel_distance[i],
                    b.kernel_distance[i],
                ),
            ] {
                assert!(rel(x, y) <= 1e-3, "{what} {name}: {x:?} against {y:?}");
            }
        }
    }
    assert_eq!(stable, nx);
    on_gpu.take_gpu().expect("the diagram's GPU")
}
