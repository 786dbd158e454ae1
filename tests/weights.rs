//! The weights file (src/session/weights.rs): exact round trip of every value, a run continued
//! from a file equal bit for bit to the uninterrupted run, rewind to θ₀ equal to a fresh run,
//! and bad files refused, each with its message.
//!
//! Every comparison here is exact (bit patterns of f32 parameters, f64 losses computed from
//! them): the CPU path is deterministic, so any difference is a bug, not rounding.

use descent::data::DatasetKind;
use descent::nn::{Activation, Parametrization};
use descent::scenes::playground::{self, Playground, PlaygroundConfig};
use descent::session::net::{DataSettings, InitSettings, NetSettings};
use descent::session::run::{Report, Run, RunConfig};
use descent::session::weights::{Architecture, FORMAT, LayerWeights, VERSION, Weights};
use serde_json::Value;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A small run, quick to train.
fn small() -> RunConfig {
    RunConfig {
        data: DataSettings {
            n_train: 64,
            ..DataSettings::default()
        },
        net: NetSettings {
            width: 32,
            depth: 2,
            ..NetSettings::default()
        },
        ..RunConfig::default()
    }
}

/// The settings exact continuation is checked on: plain, centred with α ≠ 1 on a 1-D
/// regression, mean-field with tanh, and mini-batches that wrap past the end of an order.
fn variants() -> Vec<(&'static str, RunConfig)> {
    let base = small();
    vec![
        ("plain", base.clone()),
        (
            "centred, alpha 4, sine",
            RunConfig {
                data: DataSettings {
                    dataset: DatasetKind::Sine,
                    ..base.data.clone()
                },
                net: NetSettings {
                    init: InitSettings {
                        center_output: true,
                        ..InitSettings::default()
                    },
                    ..base.net.clone()
                },
                alpha: 4.0,
                ..base.clone()
            },
        ),
        (
            "mean-field tanh",
            RunConfig {
                net: NetSettings {
                    init: InitSettings {
                        activation: Activation::Tanh,
                        parametrization: Parametrization::MeanField,
                        ..InitSettings::default()
                    },
                    ..base.net.clone()
                },
                lr: 0.051_234_567_890_123_4,
                ..base.clone()
            },
        ),
        (
            "mini-batch 24 of 64",
            RunConfig {
                batch_size: 24,
                ..base.clone()
            },
        ),
    ]
}

fn same_report(a: &Report, b: &Report, what: &str) {
    assert_eq!(a.step, b.step, "{what}: step");
    assert_eq!(
        a.train_loss.to_bits(),
        b.train_loss.to_bits(),
        "{what}: train loss"
    );
    assert_eq!(
        a.test_loss.to_bits(),
        b.test_loss.to_bits(),
        "{what}: test loss"
    );
    assert_eq!(a.train_acc, b.train_acc, "{what}: train accuracy");
    assert_eq!(a.test_acc, b.test_acc, "{what}: test accuracy");
    assert_eq!(a.diverged, b.diverged, "{what}: divergence");
}

fn export(run: &mut Run) -> String {
    let config = run.config.clone();
    run.export_weights(playground::SCENE, &config)
        .unwrap()
        .to_json()
}

#[test]
fn file_reads_back_bit_for_bit() {
    // Values chosen for the round trip: −0, the smallest and largest subnormals, the
    // smallest normal, the largest finite, and values whose shortest decimals are long.
    let special = [
        -0.0f32,
        0.0,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::MIN,
        0.1,
        1.0 / 3.0,
        -16_777_217.0,
        std::f32::consts::PI,
    ];
    let mut run = Run::new(small()).unwrap();
    run.advance(5);
    let mut w = Weights::parse(&export(&mut run)).unwrap();
    w.layers[0].w[..special.len()].copy_from_slice(&special);
    // And a sweep of bit patterns across the whole exponent range.
    let sweep: Vec<f32> = (0..w.layers[1].w.len())
        .map(|i| f32::from_bits((i as u32).wrapping_mul(2_654_435_761) & 0x7f7f_ffff))
        .collect();
    w.layers[1].w.copy_from_slice(&sweep);
    // A setting whose shortest decimal has 17 digits (a step size the Step-size scene
    // computes) reads back exactly too.
    w.settings["lr"] = serde_json::json!(1.433_182_728_119_777_3_f64);
    let back = Weights::parse(&w.to_json()).unwrap();
    assert_eq!(
        back.settings["lr"].as_f64().map(f64::to_bits),
        Some(1.433_182_728_119_777_3_f64.to_bits())
    );
    assert_eq!(back.scene, w.scene);
    assert_eq!(back.settings, w.settings);
    assert_eq!(back.architecture, w.architecture);
    assert_eq!((back.seed, back.step), (w.seed, 5));
    assert_eq!(
        back.initial_loss.map(f32::to_bits),
        w.initial_loss.map(f32::to_bits)
    );
    assert_eq!(back.layers.len(), w.layers.len());
    for (a, b) in back.layers.iter().zip(&w.layers) {
        assert_eq!((a.fan_in, a.fan_out), (b.fan_in, b.fan_out));
        assert_eq!(bits(&a.w), bits(&b.w));
        assert_eq!(bits(&a.b), bits(&b.b));
    }
}

#[test]
fn file_states_format_architecture_and_shapes() {
    let config = small();
    let mut run = Run::new(config.clone()).unwrap();
    run.advance(3);
    let v: Value = serde_json::from_str(&export(&mut run)).unwrap();
    assert_eq!(v["format"], FORMAT);
    assert_eq!(v["version"], VERSION);
    assert_eq!(v["scene"], "playground");
    assert_eq!(v["seed"], 1);
    assert_eq!(v["step"], 3);
    assert_eq!(v["settings"]["width"], 32);
    assert_eq!(v["settings"]["nTrain"], 64);
    assert_eq!(v["settings"]["dataset"], "circles");
    let a = &v["architecture"];
    assert_eq!(a["inputDim"], 2);
    assert_eq!(a["hidden"], serde_json::json!([32, 32]));
    assert_eq!(a["outputs"], 1);
    assert_eq!(a["activation"], "relu");
    assert_eq!(a["parametrization"], "ntk");
    assert_eq!(a["alpha"], 1.0);
    let layers = v["layers"].as_array().unwrap();
    let shapes: Vec<Value> = layers.iter().map(|l| l["W"]["shape"].clone()).collect();
    assert_eq!(
        shapes,
        vec![
            serde_json::json!([2, 32]),
            serde_json::json!([32, 32]),
            serde_json::json!([32, 1])
        ]
    );
    assert_eq!(layers[2]["b"]["shape"], serde_json::json!([1]));
    // Row-major as stored: the file's values are Run::params in order.
    let flat: Vec<f32> = layers
        .iter()
        .flat_map(|l| {
            let w = l["W"]["data"].as_array().unwrap().clone();
            let b = l["b"]["data"].as_array().unwrap().clone();
            w.into_iter().chain(b)
        })
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(bits(&flat), bits(&run.params()));
    assert_eq!(
        Architecture::of(&config),
        serde_json::from_value::<Architecture>(a.clone()).unwrap()
    );
}

#[test]
fn continuing_from_a_file_equals_the_uninterrupted_run() {
    // Export at step k, import, train m more: bit for bit the run of k + m steps, at every
    // step (losses) and at the end (parameters). k = 13 and m = 11 with a batch of 24 of 64
    // rows cross the end of an order (13·24 = 312 rows: 4 orders used up, the 5th part-way).
    let (k, m) = (13, 11);
    for (what, config) in variants() {
        let mut straight = Run::new(config.clone()).unwrap();
        straight.advance(k);
        let mut source = Run::new(config.clone()).unwrap();
        source.advance(k);
        let text = export(&mut source);
        let (read, w) = playground::read_weights(&text).unwrap();
        assert_eq!(read, config, "{what}: the file's settings");
        let mut resumed = Run::import_weights(read, &w).unwrap();
        assert_eq!(resumed.step(), k, "{what}");
        same_report(
            resumed.last_report(),
            straight.last_report(),
            &format!("{what} at import"),
        );
        for i in 1..=m {
            let a = straight.advance(1);
            let b = resumed.advance(1);
            same_report(&b, &a, &format!("{what}, step {}", k + i));
        }
        assert_eq!(bits(&resumed.params()), bits(&straight.params()), "{what}");
        assert_eq!(
            resumed.trainer().initial_loss().map(f32::to_bits),
            straight.trainer().initial_loss().map(f32::to_bits),
            "{what}: divergence reference"
        );
    }
}

#[test]
fn a_file_of_step_zero_continues_too() {
    // Before any step there is no divergence reference: the file says null and the imported
    // run takes its first step as a fresh run does.
    let config = small();
    let mut fresh = Run::new(config.clone()).unwrap();
    let text = export(&mut fresh);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["initialLoss"], Value::Null);
    let (read, w) = playground::read_weights(&text).unwrap();
    let mut resumed = Run::import_weights(read, &w).unwrap();
    same_report(
        &resumed.advance(7),
        &fresh.advance(7),
        "7 steps from step 0",
    );
    assert_eq!(bits(&resumed.params()), bits(&fresh.params()));
}

#[test]
fn rewind_equals_a_fresh_run() {
    for (what, config) in variants() {
        let mut run = Run::new(config.clone()).unwrap();
        run.advance(17);
        let r = run.rewind();
        let mut fresh = Run::new(config.clone()).unwrap();
        assert_eq!(r.step, 0, "{what}");
        same_report(&r, fresh.last_report(), &format!("{what} at θ₀"));
        assert_eq!(bits(&run.params()), bits(&fresh.params()), "{what}: θ₀");
        assert_eq!(bits(&run.initial_params().unwrap()), bits(&fresh.params()));
        assert_eq!(run.trainer().initial_loss(), None, "{what}");
        for i in 1..=9 {
            same_report(
                &run.advance(1),
                &fresh.advance(1),
                &format!("{what}, step {i} after rewind"),
            );
        }
        assert_eq!(bits(&run.params()), bits(&fresh.params()), "{what}");
    }
}

#[test]
fn rewind_forgets_a_divergence() {
    let config = RunConfig {
        lr: 1000.0,
        ..small()
    };
    let mut run = Run::new(config.clone()).unwrap();
    let r = run.advance(200);
    assert!(r.diverged.is_some(), "η = 1000 diverges");
    let err = run.export_weights(playground::SCENE, &config).unwrap_err();
    assert!(
        err.to_string().contains("diverged at step")
            && err.to_string().contains("no trained weights"),
        "{err}"
    );
    let r = run.rewind();
    assert_eq!((r.step, r.diverged, r.message.clone()), (0, None, None));
    let mut fresh = Run::new(config).unwrap();
    same_report(
        &run.advance(1),
        &fresh.advance(1),
        "after rewinding a diverged run",
    );
}

#[test]
fn the_playground_exports_and_imports_through_its_scene() {
    // The grid run the page drives: the same file and the same continuation.
    let config = PlaygroundConfig {
        data: DataSettings {
            dataset: DatasetKind::Xor,
            seed: 7,
            ..small().data
        },
        ..small()
    };
    let mut pg = Playground::new(config.clone()).unwrap();
    pg.advance(6);
    let w = descent::exec::block_on(playground::export_weights(&mut pg)).unwrap();
    assert_eq!((w.scene.as_str(), w.seed, w.step), ("playground", 7, 6));
    let (read, back) = playground::read_weights(&w.to_json()).unwrap();
    assert_eq!(read, config);
    let mut resumed = Run::import_weights(read, &back).unwrap();
    same_report(&resumed.advance(4), &pg.advance(4), "playground, step 10");
}

/// The exported JSON of a small run at step 4, as a value to spoil.
fn good_file() -> Value {
    let mut run = Run::new(small()).unwrap();
    run.advance(4);
    serde_json::from_str(&export(&mut run)).unwrap()
}

fn refusal(text: &str) -> String {
    match playground::read_weights(text) {
        Ok(_) => panic!("accepted a bad file: {}", &text[..text.len().min(200)]),
        Err(e) => e.to_string(),
    }
}

fn refusal_of(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = good_file();
    edit(&mut v);
    refusal(&v.to_string())
}

fn says(message: &str, parts: &[&str]) {
    assert!(
        message.starts_with("this weights file cannot be used: "),
        "{message}"
    );
    for p in parts {
        assert!(message.contains(p), "{message:?} should say {p:?}");
    }
}

#[test]
fn bad_files_are_refused_with_their_reason() {
    says(&refusal("not json at all"), &["it is not JSON"]);
    says(&refusal("[1, 2]"), &["not a JSON object"]);
    says(
        &refusal_of(|v| v["format"] = "other-weights".into()),
        &["its format is \"other-weights\", not \"descent-weights\""],
    );
    says(
        &refusal_of(|v| {
            v.as_object_mut().unwrap().remove("format");
        }),
        &["not a Descent weights file"],
    );
    says(
        &refusal_of(|v| v["version"] = 2.into()),
        &["version 2 of the format", "reads version 1"],
    );
    says(
        &refusal_of(|v| v["scene"] = "lazy".into()),
        &["a network of the “lazy” scene, not of “playground”"],
    );
    // A layer of the wrong shape, consistent in itself: the architecture's check names it.
    says(
        &refusal_of(|v| {
            let l = &mut v["layers"][2];
            l["W"]["shape"] = serde_json::json!([32, 2]);
            l["W"]["data"] = Value::Array(vec![0.5.into(); 64]);
            l["b"] = serde_json::json!({"shape": [2], "data": [0.0, 0.0]});
        }),
        &["layer 3 weights have shape 32×2, the architecture needs 32×1"],
    );
    says(
        &refusal_of(|v| {
            v["layers"].as_array_mut().unwrap().pop();
        }),
        &["it has 2 layers, the architecture needs 3"],
    );
    says(
        &refusal_of(|v| {
            v["layers"][1]["W"]["data"].as_array_mut().unwrap().pop();
        }),
        &["layer 2 weights has 1023 values, its shape 32×32 needs 1024"],
    );
    says(
        &refusal_of(|v| v["layers"][0]["b"]["data"][5] = "x".into()),
        &["layer 1 biases: value 5 is not a number (it is \"x\")"],
    );
    says(
        &refusal_of(|v| v["layers"][0]["W"]["data"][0] = Value::Null),
        &["layer 1 weights: value 0 is not a number (it is null)"],
    );
    says(
        &refusal_of(|v| v["layers"][0]["W"]["data"][1] = 1e300.into()),
        &["layer 1 weights: value 1", "too large for single precision"],
    );
    // Settings out of range: the scene's table names the setting.
    says(
        &refusal_of(|v| v["settings"]["width"] = 0.into()),
        &["its settings: invalid setting `width`"],
    );
    says(
        &refusal_of(|v| v["settings"]["lr"] = (-1.0).into()),
        &["its settings: invalid setting `lr`"],
    );
    says(
        &refusal_of(|v| v["settings"]["dataset"] = "moons".into()),
        &["its settings", "moons"],
    );
    // Settings and architecture that disagree.
    says(
        &refusal_of(|v| v["settings"]["width"] = 64.into()),
        &["its architecture's `hidden` is [32, 32], its settings make [64, 64]"],
    );
    says(
        &refusal_of(|v| v["seed"] = 9.into()),
        &["its seed 9 differs from its settings' seed 1"],
    );
    says(
        &refusal_of(|v| v["step"] = (-3).into()),
        &["`step` must be a whole number"],
    );
}

#[test]
fn a_file_for_other_settings_does_not_restore_into_a_run() {
    // Run::restore_weights_async checks the shapes against the run's own settings.
    let mut run = Run::new(small()).unwrap();
    let mut w = run.export_weights(playground::SCENE, &small()).unwrap();
    w.layers[0] = LayerWeights {
        fan_in: 2,
        fan_out: 16,
        w: vec![0.0; 32],
        b: vec![0.0; 16],
    };
    let err = match Run::import_weights(small(), &w) {
        Ok(_) => panic!("restored a file of other shapes"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("layer 1 weights have shape 2×16, the architecture needs 2×32"),
        "{err}"
    );
}

#[test]
fn lazy_or_rich_exports_imports_and_rewinds() {
    use descent::scenes::lazy::{self, LazyConfig, LazyRich};
    let config = LazyConfig {
        run: RunConfig {
            data: DataSettings {
                n_train: 24,
                ..lazy::scene_defaults().data
            },
            net: NetSettings {
                width: 32,
                ..lazy::scene_defaults().net
            },
            ..lazy::scene_defaults()
        },
        ridge: 0.01,
        ensemble: 4,
    };
    let mut straight =
        LazyRich::with_ensemble(config.run.clone(), config.ridge, config.ensemble).unwrap();
    straight.advance(8).unwrap();
    let text = straight.export_weights().unwrap().to_json();
    let (read, mut resumed) = LazyRich::import(&text).unwrap();
    assert_eq!(read, config);
    assert_eq!(resumed.step(), 8);
    let a = straight.advance(5).unwrap();
    let b = resumed.advance(5).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
        "every model's losses, the weight change and the kernel distance"
    );
    // The file keeps the ensemble's size; the resumed ensemble was trained to the file's step,
    // so its networks match those trained straight through.
    assert_eq!(
        straight.ensemble_picture().unwrap(),
        resumed.ensemble_picture().unwrap()
    );
    let r = resumed.rewind().unwrap();
    let mut fresh =
        LazyRich::with_ensemble(config.run.clone(), config.ridge, config.ensemble).unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        serde_json::to_string(&fresh.evaluate().unwrap()).unwrap()
    );
    // A Playground file is not a Lazy-or-rich one.
    let mut run = Run::new(small()).unwrap();
    let other = export(&mut run);
    let err = match LazyRich::import(&other) {
        Ok(_) => panic!("imported a Playground file"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("“playground” scene, not of “lazy”"), "{err}");
}

#[test]
fn step_size_exports_its_live_run() {
    use descent::scenes::step_size::{StepSize, StepSizeConfig};
    let config = StepSizeConfig {
        data: DataSettings {
            n_train: 16,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            width: 32,
            ..StepSizeConfig::default().net
        },
        ..StepSizeConfig::default()
    };
    let mut s = StepSize::new(config).unwrap();
    s.advance(6);
    let w = s.export_weights().unwrap();
    assert_eq!((w.scene.as_str(), w.step), ("step", 6));
    let back = Weights::parse(&w.to_json()).unwrap();
    assert_eq!(back, w);
    let spec = descent::scenes::step_size::settings();
    let read: StepSizeConfig = back
        .config(&spec, &StepSizeConfig::default(), StepSizeConfig::run)
        .unwrap();
    assert_eq!(read, s.config, "the settings with the step size in force");
    assert_eq!(read.lr, s.config.lr);
    assert!(read.lr.is_some());
}

#[test]
fn a_five_class_cross_entropy_run_continues_from_its_file_bit_for_bit() {
    // K = 5 blobs under cross-entropy: the file carries the 5-wide output layer, and the run
    // continued from it takes the uninterrupted run's steps exactly (as the variants above).
    let config = RunConfig {
        data: DataSettings {
            dataset: DatasetKind::Blobs,
            ..small().data
        },
        classes: 5,
        loss: descent::nn::loss::Loss::CrossEntropy,
        ..small()
    };
    let (k, m) = (9, 7);
    let mut straight = Run::new(config.clone()).unwrap();
    straight.advance(k);
    let mut source = Run::new(config.clone()).unwrap();
    source.advance(k);
    let text = export(&mut source);
    let (read, w) = playground::read_weights(&text).unwrap();
    assert_eq!(read, config, "the file's settings");
    assert_eq!(w.architecture.outputs, 5);
    assert_eq!(w.layers.last().map(|l| l.fan_out), Some(5));
    let mut resumed = Run::import_weights(read, &w).unwrap();
    same_report(resumed.last_report(), straight.last_report(), "at import");
    assert_eq!(
        resumed.last_report().confusion,
        straight.last_report().confusion
    );
    for i in 1..=m {
        let a = straight.advance(1);
        let b = resumed.advance(1);
        same_report(&b, &a, &format!("step {}", k + i));
        assert_eq!(b.confusion, a.confusion, "step {}", k + i);
    }
    assert_eq!(bits(&resumed.params()), bits(&straight.params()));
}

#[test]
fn a_momentum_run_continues_from_its_file_bit_for_bit() {
    // Heavy ball carries a velocity the settings do not determine: the file holds it (shaped
    // as the layers), and the continued run equals the uninterrupted one exactly, full batch
    // and in mini-batches, with weight decay on top. Without momentum the file has none.
    let base = small();
    for (what, config) in [
        (
            "beta 0.9",
            RunConfig {
                momentum: 0.9,
                lr: 0.1,
                ..base.clone()
            },
        ),
        (
            "beta 0.5, decay 1e-3, batch 24",
            RunConfig {
                momentum: 0.5,
                weight_decay: 1e-3,
                batch_size: 24,
                lr: 0.1,
                ..base.clone()
            },
        ),
    ] {
        let (k, m) = (13, 11);
        let mut straight = Run::new(config.clone()).unwrap();
        straight.advance(k);
        let mut source = Run::new(config.clone()).unwrap();
        source.advance(k);
        let text = export(&mut source);
        let (read, w) = playground::read_weights(&text).unwrap();
        let velocity = w.velocity.as_ref().expect("the file holds the velocity");
        assert_eq!(velocity.len(), w.layers.len(), "{what}");
        assert!(
            velocity.iter().flat_map(|l| &l.w).any(|&v| v != 0.0),
            "{what}"
        );
        assert_eq!(
            Weights::parse(&w.to_json()).unwrap(),
            w,
            "{what}: exact round trip"
        );
        let mut resumed = Run::import_weights(read, &w).unwrap();
        for i in 1..=m {
            let a = straight.advance(1);
            let b = resumed.advance(1);
            same_report(&b, &a, &format!("{what}, step {}", k + i));
        }
        assert_eq!(bits(&resumed.params()), bits(&straight.params()), "{what}");
    }
    let mut plain = Run::new(base).unwrap();
    plain.advance(3);
    let text = export(&mut plain);
    assert!(!text.contains("\"velocity\""));
    assert_eq!(Weights::parse(&text).unwrap().velocity, None);
}
