//! The live run behind the Playground page: backend choice, the notice when a GPU is wanted
//! but missing, and the move to the CPU when the GPU fails mid-run, keeping the run's state.
//!
//! The GPU cases need a Vulkan adapter (Mesa's lavapipe will do), like tests/gpu_backend.rs:
//! without one they fail unless `DESCENT_ALLOW_NO_GPU=1`.

#![cfg(not(target_arch = "wasm32"))]

#[path = "common/native_gpu.rs"]
mod native_gpu;

use descent::data::DatasetKind;
use descent::error::Error;
use descent::scenes::playground::live::{Live, auto_prefers_gpu};
use descent::scenes::playground::{Playground, PlaygroundConfig};
use descent::session::device::{BackendChoice, unavailable_notice};
use descent::session::net::{DataSettings, NetSettings};

fn gpu_present() -> bool {
    native_gpu::gpu().is_some()
}

fn small() -> PlaygroundConfig {
    PlaygroundConfig {
        data: DataSettings {
            dataset: DatasetKind::Circles,
            n_train: 64,
            ..PlaygroundConfig::default().data
        },
        net: NetSettings {
            width: 32,
            ..PlaygroundConfig::default().net
        },
        lr: 0.5,
        ..PlaygroundConfig::default()
    }
}

#[test]
fn auto_keeps_small_runs_on_the_cpu_and_says_nothing() {
    let cfg = small();
    assert!(!auto_prefers_gpu(&cfg));
    let live = pollster::block_on(Live::create(cfg, BackendChoice::Auto, 0.0)).unwrap();
    assert_eq!(live.backend(), "cpu");
    assert_eq!(live.notice(), None);
    // Large full-batch networks are the GPU's; mini-batch runs never are.
    let big = PlaygroundConfig {
        data: DataSettings {
            n_train: 256,
            ..small().data
        },
        net: NetSettings {
            width: 4096,
            ..small().net
        },
        ..small()
    };
    assert!(auto_prefers_gpu(&big));
    assert!(!auto_prefers_gpu(&PlaygroundConfig {
        batch_size: 32,
        ..big
    }));
}

#[test]
fn a_cpu_live_run_is_the_playground() {
    let mut live = pollster::block_on(Live::create(small(), BackendChoice::Cpu, 0.0)).unwrap();
    let mut pg = Playground::new(small()).unwrap();
    let a = pollster::block_on(live.advance(40, 0.0)).unwrap();
    let b = pg.advance(40);
    assert_eq!(
        a.report, b,
        "the same code on the same backend: bit for bit"
    );
    assert_eq!(a.backend, "cpu");
}

#[test]
fn gpu_mini_batch_runs_on_the_cpu_with_a_notice() {
    let cfg = PlaygroundConfig {
        batch_size: 16,
        ..small()
    };
    let live = pollster::block_on(Live::create(cfg, BackendChoice::Gpu, 0.0)).unwrap();
    assert_eq!(live.backend(), "cpu");
    assert!(live.notice().unwrap().contains("full batch only"));
}

#[test]
fn settings_errors_are_errors_on_every_backend() {
    let cfg = PlaygroundConfig {
        net: NetSettings {
            width: 0,
            ..small().net
        },
        ..small()
    };
    for choice in [BackendChoice::Cpu, BackendChoice::Gpu, BackendChoice::Auto] {
        let err = pollster::block_on(Live::create(cfg.clone(), choice, 0.0)).err();
        assert!(err.unwrap().to_string().contains("width"));
    }
}

#[test]
fn a_lost_gpu_moves_the_run_to_the_cpu_from_its_snapshot() {
    if !gpu_present() {
        return;
    }
    let cfg = small();
    let mut live = pollster::block_on(Live::create(cfg.clone(), BackendChoice::Gpu, 0.0)).unwrap();
    assert_eq!(live.backend(), "webgpu");
    assert!(live.adapter().is_some());
    // 30 steps; the clock reads 10 s later, so a snapshot is taken after them.
    let r = pollster::block_on(live.advance(30, 10_000.0)).unwrap();
    assert_eq!(r.report.step, 30);
    assert_eq!(r.backend, "webgpu");
    live.lose_device();
    let r = pollster::block_on(live.advance(20, 10_001.0)).unwrap();
    assert_eq!(r.backend, "cpu");
    let notice = r.notice.expect("the move is explained");
    assert!(
        notice.contains("continues on the CPU from step 30"),
        "{notice}"
    );
    assert_eq!(r.report.step, 50, "the run kept its 30 GPU steps");
    // The same 50 steps on the CPU alone. Tolerance: 30 steps in f32 on the GPU differ from
    // the CPU's by rounding only (tests/gpu_backend.rs bounds a 300-step run at 6e-7
    // relative); 1e-4 relative leaves room for a different summation order.
    let mut cpu = Playground::new(cfg).unwrap();
    let want = cpu.advance(50);
    let rel = (r.report.train_loss - want.train_loss).abs() / want.train_loss;
    assert!(
        rel < 1e-4,
        "train loss {} vs {}",
        r.report.train_loss,
        want.train_loss
    );
}

#[test]
fn a_gpu_lost_before_any_snapshot_restarts_from_the_initial_parameters() {
    if !gpu_present() {
        return;
    }
    let mut live = pollster::block_on(Live::create(small(), BackendChoice::Gpu, 0.0)).unwrap();
    live.lose_device();
    let r = pollster::block_on(live.advance(10, 1.0)).unwrap();
    assert_eq!(r.backend, "cpu");
    assert!(r.notice.unwrap().contains("from step 0"));
    assert_eq!(r.report.step, 10);
    let want = Playground::new(small()).unwrap().advance(10);
    assert_eq!(
        r.report,
        want.clone(),
        "from θ₀ on the CPU: the CPU run itself"
    );
}

/// A GPU emulated on the CPU (lavapipe here, SwiftShader in a browser) is slower than the CPU
/// path, so auto never takes it and says why; forced onto it, the run trains there and warns.
/// On a real GPU auto takes it for a large network, silently.
#[test]
fn auto_passes_over_a_software_gpu_and_says_so() {
    let Some(g) = native_gpu::gpu() else { return };
    let software = g.is_software();
    drop(g);
    let big = PlaygroundConfig {
        data: DataSettings {
            n_train: 256,
            ..small().data
        },
        net: NetSettings {
            width: 4096,
            ..small().net
        },
        ..small()
    };
    let live = pollster::block_on(Live::create(big, BackendChoice::Auto, 0.0)).unwrap();
    let forced = pollster::block_on(Live::create(small(), BackendChoice::Gpu, 0.0)).unwrap();
    assert_eq!(forced.backend(), "webgpu");
    if software {
        assert_eq!(live.backend(), "cpu");
        let notice = live.notice().expect("a notice");
        assert!(
            notice.starts_with("The GPU here is a software emulation on the CPU (")
                && notice.contains("so training runs on the CPU"),
            "{notice}"
        );
        let warning = forced.notice().expect("a warning");
        assert!(
            warning.contains("much slower than the CPU path"),
            "{warning}"
        );
    } else {
        assert_eq!(live.backend(), "webgpu");
        assert_eq!(live.notice(), None);
        assert_eq!(forced.notice(), None);
    }
}

/// The reader sees what happened in plain words and where the work runs; the adapter or device
/// error stays in the detail, for the console.
#[test]
fn a_missing_gpu_is_said_in_plain_words_and_the_detail_kept_apart() {
    let e = Error::GpuUnavailable {
        reason: "this browser does not offer WebGPU".into(),
        detail: "navigator.gpu is missing or requestAdapter() returned null".into(),
    };
    let (text, detail) = unavailable_notice(&e, "training runs on the CPU");
    assert_eq!(
        text,
        "This browser does not offer WebGPU, so training runs on the CPU."
    );
    assert_eq!(
        detail,
        "navigator.gpu is missing or requestAdapter() returned null"
    );
    let gpu = Error::Gpu {
        op: "create_buffer",
        message: "out of memory".into(),
    };
    let (text, detail) = unavailable_notice(&gpu, "the phase diagram trains on the CPU");
    assert_eq!(
        text,
        "The GPU failed while setting up, so the phase diagram trains on the CPU."
    );
    assert!(detail.contains("out of memory"), "{detail}");
}
