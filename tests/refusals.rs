//! Refusals: every slider of every scene's settings table at its maximum, the other settings at
//! the scene's defaults, is accepted; and a refused combination names the setting the reader moved and the
//! settings of that scene that can fix it.

use descent::error::Error;
use descent::scenes::double_descent::{self, DoubleDescentConfig, Sweep};
use descent::scenes::lazy;
use descent::scenes::playground::{self, PlaygroundConfig};
use descent::scenes::step_size::{self, StepSizeConfig, track_flops_with};
use descent::session::budget::{
    DOUBLE_DESCENT_MEMORY, LAZY_SETUP_FLOPS, PLAYGROUND_MEMORY, STEP_SIZE_TRACK_FLOPS,
};
use descent::session::net::{DataSettings, NetSettings};
use descent::session::settings::{Kind, SceneSpec};

/// The top of each numeric setting's slider in the scene's table (the page's control stops
/// there; a link may ask for more, up to the range's end, and is refused when too large).
fn slider_maxima(spec: &SceneSpec) -> Vec<(&'static str, f64)> {
    spec.settings
        .iter()
        .filter(|s| matches!(s.kind, Kind::Int | Kind::Float) && !s.optional)
        .map(|s| (s.name, s.slider.map_or(s.max, |[_, hi]| hi)))
        .collect()
}

/// `base` with the setting `name` replaced by `value`, through the settings' JSON names (as a
/// share link sets them).
fn with<T: serde::Serialize + serde::de::DeserializeOwned>(base: &T, name: &str, value: f64) -> T {
    let mut v = serde_json::to_value(base).expect("settings serialise");
    let old = &v[name];
    assert!(!old.is_null(), "no setting {name}");
    v[name] = if old.is_u64() {
        serde_json::json!(value as u64)
    } else {
        serde_json::json!(value)
    };
    serde_json::from_value(v).expect("settings deserialise")
}

#[test]
fn every_playground_slider_at_its_maximum_is_accepted() {
    for (name, max) in slider_maxima(&playground::settings()) {
        let c = with(&PlaygroundConfig::default(), name, max);
        c.validate(PLAYGROUND_MEMORY)
            .unwrap_or_else(|e| panic!("Playground, {name} = {max}: {e}"));
    }
}

#[test]
fn every_step_size_slider_at_its_maximum_is_accepted() {
    for (name, max) in slider_maxima(&step_size::settings()) {
        let c = with(&StepSizeConfig::default(), name, max);
        c.validate()
            .unwrap_or_else(|e| panic!("Step size, {name} = {max}: {e}"));
    }
}

#[test]
fn every_lazy_slider_at_its_maximum_is_accepted() {
    for (name, max) in slider_maxima(&lazy::settings()) {
        if name == "ridge" {
            continue; // not part of the network's settings: any ridge costs the same
        }
        if name == "ensemble" {
            // Not part of the network's settings either: the scene builds its largest ensemble
            // beside the default network.
            lazy::LazyRich::with_ensemble(
                lazy::scene_defaults(),
                lazy::DEFAULT_RIDGE,
                max as usize,
            )
            .unwrap_or_else(|e| panic!("Lazy or rich, ensemble = {max}: {e}"));
            continue;
        }
        let c = with(&lazy::scene_defaults(), name, max);
        assert!(
            lazy::setup_flops(&c) <= LAZY_SETUP_FLOPS,
            "Lazy or rich, {name} = {max}: set-up too costly"
        );
        c.validate(PLAYGROUND_MEMORY)
            .unwrap_or_else(|e| panic!("Lazy or rich, {name} = {max}: {e}"));
    }
}

#[test]
fn every_double_descent_slider_at_its_maximum_is_accepted() {
    for sweep in [Sweep::Features, Sweep::Samples] {
        let base = DoubleDescentConfig {
            sweep,
            ..DoubleDescentConfig::default()
        };
        for (name, max) in slider_maxima(&double_descent::settings()) {
            let c = with(&base, name, max);
            c.validate(DOUBLE_DESCENT_MEMORY)
                .unwrap_or_else(|e| panic!("Double descent ({sweep:?}), {name} = {max}: {e}"));
        }
    }
}

#[test]
fn deep_step_size_networks_take_fewer_hessian_iterations_within_the_budget() {
    // The default network measures with every iteration; a deep one with as many as fit.
    let d = StepSizeConfig::default();
    assert_eq!(d.hessian_iters_per_point(), d.hessian_iters);
    let deep = StepSizeConfig {
        net: NetSettings { depth: 3, ..d.net },
        ..d
    };
    let iters = deep.hessian_iters_per_point();
    assert!(
        iters < deep.hessian_iters && iters >= 4,
        "{iters} iterations"
    );
    assert!(track_flops_with(&deep, iters) <= STEP_SIZE_TRACK_FLOPS);
    assert!(track_flops_with(&deep, iters + 1) > STEP_SIZE_TRACK_FLOPS);
}

/// The setting an InvalidConfig names, and its message.
fn refused(e: Error) -> (&'static str, String) {
    let text = e.to_string();
    match e {
        Error::InvalidConfig { field, .. } => (field, text),
        other => panic!("expected a refusal of a setting, got {other:?}"),
    }
}

#[test]
fn a_refused_step_size_network_names_the_setting_that_was_raised() {
    // Depth raised (×3) on a wide network (×4 over the default width): width is named first.
    let wide_deep = StepSizeConfig {
        net: NetSettings {
            width: 4096,
            depth: 3,
            ..StepSizeConfig::default().net
        },
        ..StepSizeConfig::default()
    };
    let (field, text) = refused(wide_deep.validate().unwrap_err());
    assert_eq!(field, "width", "{text}");
    assert!(
        text.contains("lower `width`, `depth` or `nTrain`"),
        "{text}"
    );
    // Depth raised on a network of the default width, with more points: depth is named.
    let deep = StepSizeConfig {
        data: DataSettings {
            n_train: 64,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            depth: 3,
            ..StepSizeConfig::default().net
        },
        ..StepSizeConfig::default()
    };
    let (field, text) = refused(deep.validate().unwrap_err());
    assert_eq!(field, "depth", "{text}");
    assert!(text.starts_with("invalid setting `depth`"), "{text}");
    assert!(
        text.contains("lower `depth`, `nTrain` or `width`"),
        "{text}"
    );
}

#[test]
fn a_too_large_double_descent_sweep_suggests_its_own_settings() {
    let big = DoubleDescentConfig {
        seeds: 20,
        n_test: 5000,
        ratio_max: 20.0,
        n_train: 1000,
        ..DoubleDescentConfig::default()
    };
    let e = big.validate(DOUBLE_DESCENT_MEMORY).unwrap_err();
    let text = e.to_string();
    let Error::TooLarge { fixes, .. } = e else {
        panic!("expected TooLarge, got {text}");
    };
    // nTest ×5 is the largest raise; every fix is a setting of this scene.
    assert_eq!(fixes[0], "nTest", "{text}");
    for name in ["nTrain", "seeds", "ratioMax", "sizes"] {
        assert!(fixes.contains(&name), "{name} missing from {fixes:?}");
    }
    assert!(!text.contains("width") && !text.contains("depth"), "{text}");
    assert!(text.contains("lower `nTest`"), "{text}");
    // Sample-wise, the fixed side is the number of features.
    let samples = DoubleDescentConfig {
        sweep: Sweep::Samples,
        n_features: 1000,
        seeds: 20,
        n_test: 5000,
        ratio_max: 20.0,
        ..DoubleDescentConfig::default()
    };
    let text = samples
        .validate(DOUBLE_DESCENT_MEMORY)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("`nFeatures`") && !text.contains("`nTrain`"),
        "{text}"
    );
}

#[test]
fn a_too_large_playground_network_names_the_setting_that_was_raised() {
    let big = PlaygroundConfig {
        net: NetSettings {
            width: 4096,
            depth: 4,
            ..PlaygroundConfig::default().net
        },
        ..PlaygroundConfig::default()
    };
    // Whether or not this one fits, a 2 MB limit refuses it: width (×32) is named first.
    let text = big.validate(2_000_000).unwrap_err().to_string();
    assert!(
        text.contains("lower `width`, `depth` or `nTrain`"),
        "{text}"
    );
    let many = PlaygroundConfig {
        data: DataSettings {
            n_train: 2048,
            ..PlaygroundConfig::default().data
        },
        ..PlaygroundConfig::default()
    };
    let text = many.validate(200_000).unwrap_err().to_string();
    assert!(
        text.contains("lower `nTrain`, `width` or `depth`"),
        "{text}"
    );
}

#[test]
fn a_capped_deep_run_measures_its_start_fully_and_restarts_warm() {
    use descent::scenes::step_size::StepSize;
    // Two hidden layers of width 1024: fewer Hessian iterations per point than configured.
    let c = StepSizeConfig {
        net: NetSettings {
            depth: 2,
            ..StepSizeConfig::default().net
        },
        measure_catapult: false,
        ..StepSizeConfig::default()
    };
    assert!(c.hessian_iters_per_point() < c.hessian_iters);
    let mut run = StepSize::new(c).expect("accepted");
    let first = run.report().sharpness[0];
    let later = run.advance(4).sharpness;
    assert!(later.iter().all(|v| v.is_finite() && *v > 0.0), "{later:?}");
    // The restart (at θ₀) starts from θ₀'s eigenvector: the same sharpness at step 0, to the
    // power iteration's relative tolerance (1e-3) twice over.
    let lr = run.report().lr;
    run.set_lr(0.5 * lr).expect("a new step");
    let again = run.report().sharpness[0];
    assert!(
        (again / first - 1.0).abs() < 2e-3,
        "{again} against {first}"
    );
}

#[test]
fn a_too_costly_phase_diagram_names_the_depth_the_reader_raised() {
    use descent::scenes::step_size::PhaseConfig;
    // The page's diagram (widths 16–4096, 13 step multiples) of a network with 2 hidden layers.
    let d = PhaseConfig::default();
    let deep = PhaseConfig {
        base: StepSizeConfig {
            net: NetSettings {
                depth: 2,
                ..d.base.net.clone()
            },
            ..d.base.clone()
        },
        ..d
    };
    let (field, text) = refused(deep.validate().unwrap_err());
    assert_eq!(field, "depth", "{text}");
    assert!(text.contains("diagram would take"), "{text}");
    assert!(text.contains("lower `depth`, `widthMax`"), "{text}");
}
