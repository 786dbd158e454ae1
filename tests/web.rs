//! Browser tests (`wasm-pack test --headless --chrome --test web`): the exported API as the
//! page's worker uses it, and the wasm SIMD matrix kernels against the plain reference.
#![cfg(target_arch = "wasm32")]

#[path = "common/tables.rs"]
mod tables;

use descent::api::double_descent::{DoubleDescent, TrainedSweep, check_double_descent};
use descent::api::lazy::{LazyRich, WidthSweep, lazy_defaults};
use descent::api::playground::{DataTable, Playground, default_config};
use descent::api::step_size::StepSize;
use descent::api::{build_info, scene_spec};
use descent::backend::Trans;
use descent::backend::cpu::gemm::{Gemm, reference};
use descent::rng::Rng;
use js_sys::{Float32Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

fn num(obj: &JsValue, key: &str) -> f64 {
    get(obj, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number"))
}

fn config(pairs: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), v).unwrap();
    }
    obj.into()
}

#[wasm_bindgen_test]
fn defaults_settings_tables_and_build_info_are_plain_objects() {
    let d = default_config().unwrap();
    assert_eq!(get(&d, "dataset").as_string().unwrap(), "circles");
    assert_eq!(num(&d, "width"), 128.0);
    let spec = scene_spec("playground").unwrap();
    let settings: js_sys::Array = get(&spec, "settings").dyn_into().unwrap();
    let width = settings
        .iter()
        .find(|s| get(s, "name").as_string().as_deref() == Some("width"))
        .expect("the Playground's table has a width");
    assert_eq!(num(&width, "max"), 4096.0);
    assert_eq!(num(&width, "default"), 128.0);
    assert_eq!(
        get(&get(&width, "kind"), "type").as_string().unwrap(),
        "int"
    );
    assert!(scene_spec("no-such-scene").is_err());
    let info = build_info().unwrap();
    assert_eq!(
        get(&info, "simd").as_bool(),
        Some(true),
        "the wasm build must have SIMD on"
    );
}

#[wasm_bindgen_test]
fn training_through_the_api_lowers_the_loss() {
    let mut pg =
        Playground::new(config(&[("dataset", "xor".into()), ("width", 64.into())])).unwrap();
    assert_eq!(pg.task(), "classification");
    assert_eq!(pg.input_dim(), 2);
    // 2·64 + 64 + 64 + 1 parameters.
    assert_eq!(pg.param_count(), 257.0);
    let r0 = pg.evaluate().unwrap();
    let r = pg.advance(300).unwrap();
    assert_eq!(num(&r, "step"), 300.0);
    assert!(num(&r, "trainLoss") < 0.5 * num(&r0, "trainLoss"));
    assert!(num(&r, "trainAcc") > 0.9);
    assert!(get(&r, "diverged").is_null());
    assert!(get(&r, "message").is_null());
    let grid: Float32Array = JsValue::from(pg.predict_grid().expect("a CPU run"))
        .dyn_into()
        .unwrap();
    let spec = pg.grid_spec().unwrap();
    assert_eq!(grid.length() as f64, num(&spec, "size").powi(2));
    assert_eq!(pg.train_x().len(), 2 * 128);
    assert!(pg.target_grid().is_none());
}

#[wasm_bindgen_test]
fn regression_has_a_target_curve() {
    let mut pg = Playground::new(config(&[("dataset", "sine".into())])).unwrap();
    assert_eq!(pg.task(), "regression");
    let target = pg.target_grid().unwrap();
    assert_eq!(target.len(), pg.predict_grid().expect("a CPU run").len());
    assert!(get(&pg.evaluate().unwrap(), "trainAcc").is_null());
}

#[wasm_bindgen_test]
fn divergence_is_reported_in_words() {
    let mut pg = Playground::new(config(&[("lr", 1000.0.into())])).unwrap();
    let r = pg.advance(100).unwrap();
    let k = num(&r, "diverged");
    let msg = get(&r, "message").as_string().unwrap();
    assert!(msg.starts_with(&format!("diverged at step {k}")), "{msg}");
    assert!(num(&r, "trainLoss").is_finite());
    assert!(
        pg.predict_grid()
            .expect("a CPU run")
            .iter()
            .all(|v| v.is_finite())
    );
}

#[wasm_bindgen_test]
fn bad_settings_throw_readable_errors() {
    let err = Playground::new(config(&[("width", 0.into())]))
        .err()
        .unwrap();
    let msg: String = js_sys::Error::from(err).message().into();
    assert!(msg.contains("width"), "{msg}");
    let err = Playground::new(config(&[("activation", "swish".into())]))
        .err()
        .unwrap();
    let msg: String = js_sys::Error::from(err).message().into();
    assert!(
        msg.contains("invalid settings") && msg.contains("swish"),
        "{msg}"
    );
    let big = config(&[
        ("width", 4096.into()),
        ("depth", 4.into()),
        ("nTrain", 2048.into()),
    ]);
    let msg: String = js_sys::Error::from(Playground::new(big).err().unwrap())
        .message()
        .into();
    assert!(
        msg.contains("would need about") && msg.contains("MB"),
        "{msg}"
    );
    let mut pg = Playground::new(JsValue::UNDEFINED).unwrap();
    assert!(pg.set_lr(f64::NAN).is_err());
    assert!(pg.set_lr(0.1).is_ok());
}

#[wasm_bindgen_test]
fn simd_gemm_matches_the_reference_on_awkward_shapes() {
    // The wasm build runs the SIMD kernels; they must agree with the f64 reference within
    // f32 accumulation error: |Δ| ≤ 4·k·ε_f32·Σ_p|a_ip·b_pj| + 1e-30.
    let mut rng = Rng::new(17);
    let mut g = Gemm::new();
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (17, 1, 33),
        (64, 64, 64),
        (65, 31, 129),
        (128, 257, 3),
        (2, 300, 97),
    ];
    for &(m, n, k) in &shapes {
        for ta in [Trans::N, Trans::T] {
            for tb in [Trans::N, Trans::T] {
                for (alpha, beta) in [(1.0f32, 0.0f32), (-0.5, 1.0), (2.5, -0.5)] {
                    let a: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
                    let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
                    let c0: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
                    let lda = if ta == Trans::N { k } else { m };
                    let ldb = if tb == Trans::N { n } else { k };
                    let mut want = c0.clone();
                    reference(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut want, n);
                    let mut got = c0.clone();
                    g.run(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut got, n);
                    for i in 0..m {
                        for j in 0..n {
                            let mut mag = 0.0f64;
                            for p in 0..k {
                                let av = if ta == Trans::N {
                                    a[i * lda + p]
                                } else {
                                    a[p * lda + i]
                                };
                                let bv = if tb == Trans::N {
                                    b[p * ldb + j]
                                } else {
                                    b[j * ldb + p]
                                };
                                mag += (av as f64 * bv as f64).abs();
                            }
                            let tol = 4.0
                                * k as f64
                                * f32::EPSILON as f64
                                * (alpha.abs() as f64 * mag
                                    + (beta as f64 * c0[i * n + j] as f64).abs())
                                + 1e-30;
                            let d = (got[i * n + j] as f64 - want[i * n + j] as f64).abs();
                            assert!(
                                d <= tol,
                                "{ta:?}{tb:?} {m}x{n}x{k} at ({i},{j}): {} vs {}",
                                got[i * n + j],
                                want[i * n + j]
                            );
                        }
                    }
                }
            }
        }
    }
}

#[wasm_bindgen_test]
fn lazy_rich_reports_all_four_models_and_the_lazy_measures() {
    let d = lazy_defaults().unwrap();
    assert_eq!(get(&d, "dataset").as_string().unwrap(), "sine");
    assert_eq!(num(&d, "maxTrain"), 512.0);
    let mut s = LazyRich::new(config(&[("width", 512.into())])).unwrap();
    let r0 = s.evaluate().unwrap();
    let r = s.advance(200).unwrap();
    assert_eq!(num(&r, "step"), 200.0);
    for model in ["network", "linearized", "ntk", "krr"] {
        let loss = num(&get(&r, model), "testLoss");
        assert!(loss.is_finite() && loss >= 0.0, "{model}: {loss}");
    }
    // Training lowers the network's and the linearisation's train loss together.
    for model in ["network", "linearized", "ntk"] {
        assert!(
            num(&get(&r, model), "trainLoss") < 0.7 * num(&get(&r0, model), "trainLoss"),
            "{model}"
        );
    }
    let (w, k) = (num(&r, "weightChange"), num(&r, "kernelDistance"));
    assert!(
        w > 0.0 && w < 0.2 && k > 0.0 && k < 0.2,
        "lazy measures at width 512: {w}, {k}"
    );
    let grid = s.predict_grid().unwrap();
    let size = num(&s.grid_spec().unwrap(), "size") as u32;
    for model in ["network", "linearized", "ntk", "krr"] {
        let a: Float32Array = get(&grid, model).dyn_into().unwrap();
        assert_eq!(a.length(), size, "{model}");
    }
    let gram = s.ntk_gram().unwrap();
    let n = num(&gram, "size") as u32;
    let now: Float32Array = get(&gram, "now").dyn_into().unwrap();
    assert_eq!(now.length(), n * n);
    let train_points = s.train_y().len() as f64;
    assert_eq!(
        num(&gram, "eigFloor"),
        train_points * f32::EPSILON as f64,
        "the f32 floor of the empirical spectra"
    );
    s.set_ridge(0.5).unwrap();
    assert!(s.set_ridge(-1.0).is_err());
    let err = LazyRich::new(config(&[("nTrain", 2000.into())]))
        .err()
        .unwrap();
    let msg: String = js_sys::Error::from(err).message().into();
    assert!(msg.contains("nTrain"), "{msg}");
}

#[wasm_bindgen_test]
fn width_sweep_trains_one_width_per_call_and_fits_slopes() {
    let mut sw =
        WidthSweep::new(config(&[("nTrain", 16.into())]), vec![64, 256, 1024], 50).unwrap();
    let mut last = JsValue::NULL;
    for i in 0..3 {
        last = sw.next_point().unwrap();
        assert_eq!(num(&last, "index"), i as f64);
    }
    assert_eq!(get(&last, "done").as_bool(), Some(true));
    let slopes = sw.slopes().unwrap();
    let w = num(&slopes, "weightChange");
    assert!((-0.8..=-0.2).contains(&w), "weight-change slope {w}");

    // Two seeds per width: four runs, summarised per width; the expected slopes of erf, one
    // hidden layer, NTK parametrisation.
    let mut sw =
        WidthSweep::with_seeds(config(&[("nTrain", 16.into())]), vec![16, 32], 10, 2).unwrap();
    for i in 0..4 {
        assert_eq!(num(&sw.next_point().unwrap(), "index"), i as f64);
    }
    let summary: js_sys::Array = sw.summary().unwrap().dyn_into().unwrap();
    assert_eq!(summary.length(), 2);
    let first = summary.get(0);
    assert_eq!(num(&first, "runs"), 2.0);
    let wc = get(&first, "weightChange");
    assert!(num(&wc, "min") <= num(&wc, "mean") && num(&wc, "mean") <= num(&wc, "max"));
    let expected = sw.expected_slopes().unwrap();
    assert_eq!(num(&expected, "weightChange"), -0.5);
    assert_eq!(num(&expected, "kernelDistance"), -1.0);
}

#[wasm_bindgen_test]
fn double_descent_fills_in_seed_by_seed_and_peaks_at_the_threshold() {
    let cfg = config(&[
        ("nTrain", 60.into()),
        ("dim", 30.into()),
        ("nTest", 200.into()),
        ("sizes", 15.into()),
        ("seeds", 2.into()),
    ]);
    let mut dd = DoubleDescent::new(cfg, None).unwrap();
    assert!(
        !dd.advance().unwrap(),
        "two seeds: not done after the first"
    );
    assert!(dd.advance().unwrap());
    let r = dd.report().unwrap();
    assert_eq!(num(&r, "seedsDone"), 2.0);
    let ratio: js_sys::Array = get(&r, "ratio").dyn_into().unwrap();
    assert_eq!(ratio.length(), 15);
    // The ridgeless test error is largest at the interpolation threshold p = n.
    let mean: js_sys::Array = get(&get(&r, "testMse"), "mean").dyn_into().unwrap();
    let values: Vec<f64> = mean.iter().map(|v| v.as_f64().unwrap()).collect();
    let peak = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(peak as f64, num(&r, "thresholdIndex"), "{values:?}");
    dd.set_ridge(0.1).unwrap();
    assert_eq!(num(&dd.report().unwrap(), "ridge"), 0.1);
}

#[wasm_bindgen_test]
fn double_descent_reads_the_digits_csv_and_refuses_oversize_sweeps() {
    let cfg = config(&[
        ("data", "digits".into()),
        ("nTrain", 40.into()),
        ("nTest", 100.into()),
        ("sizes", 7.into()),
        ("seeds", 1.into()),
    ]);
    let csv = include_str!("../data/digits.csv").to_string();
    let mut dd = DoubleDescent::new(cfg.clone(), Some(csv)).unwrap();
    assert!(dd.advance().unwrap());
    let r = dd.report().unwrap();
    assert_eq!(num(&r, "outputs"), 10.0);
    // Without the CSV the digits cannot be used: a readable error, not a panic.
    let err = DoubleDescent::new(cfg, None).err().expect("refused");
    let msg = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(msg.contains("digits"), "{msg}");
    // The whole-sweep check refuses what one session could not hold, with the estimate.
    let big = config(&[("nTrain", 1000.into()), ("seeds", 20.into())]);
    let err = check_double_descent(big).expect_err("refused");
    let msg = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(msg.contains("MB"), "{msg}");
    assert!(check_double_descent(config(&[])).unwrap() > 1e6);
}

#[wasm_bindgen_test]
fn trained_sweep_runs_to_the_end_in_slices() {
    let cfg = config(&[
        ("nTrain", 20.into()),
        ("dim", 4.into()),
        ("nTest", 50.into()),
        ("sizes", 4.into()),
        ("seeds", 1.into()),
        ("steps", 50.into()),
    ]);
    let mut sw = TrainedSweep::new(cfg).unwrap();
    let mut slices = 0;
    while !sw.done() {
        sw.advance(5.0).unwrap();
        slices += 1;
        assert!(slices < 10_000, "the sweep does not end");
    }
    let r = sw.report().unwrap();
    let test: js_sys::Array = get(&get(&r, "testMse"), "mean").dyn_into().unwrap();
    let widths: js_sys::Array = get(&r, "widths").dyn_into().unwrap();
    assert_eq!(test.length(), widths.length());
    assert!(test.iter().all(|v| v.as_f64().is_some_and(f64::is_finite)));
}

#[wasm_bindgen_test]
fn step_size_reports_bounds_and_a_regime() {
    let cfg = config(&[
        ("width", 64.into()),
        ("nTrain", 16.into()),
        ("measureCatapult", false.into()),
        ("lrMultiple", 0.5.into()),
    ]);
    let mut run = StepSize::new(cfg).unwrap();
    let r = run.advance(20).unwrap();
    assert_eq!(num(&r, "step"), 20.0);
    let bound = num(&r, "stabilityBound");
    assert!(bound.is_finite() && bound > 0.0);
    assert!((num(&r, "lr") - 0.5 * bound).abs() < 1e-9 * bound);
    assert_eq!(get(&r, "regime").as_string().as_deref(), Some("stable"));
    let loss: js_sys::Array = get(&r, "loss").dyn_into().unwrap();
    assert_eq!(loss.length(), 21);
    // The top k = 3 eigenvalues per tracked step, as rows; the first is the sharpness.
    let sharpness: js_sys::Array = get(&r, "sharpness").dyn_into().unwrap();
    let hessian: js_sys::Array = get(&r, "hessianTop").dyn_into().unwrap();
    let ntk: js_sys::Array = get(&r, "ntkSpectrum").dyn_into().unwrap();
    assert!(hessian.length() > 1 && hessian.length() == sharpness.length());
    assert_eq!(ntk.length(), hessian.length());
    for i in 0..hessian.length() {
        let row: js_sys::Array = hessian.get(i).dyn_into().unwrap();
        assert_eq!(row.length(), 3);
        assert_eq!(row.get(0).as_f64(), sharpness.get(i).as_f64());
    }
    // Far above the bound the run diverges and says so, with finite numbers only.
    run.set_lr_multiple(50.0).unwrap();
    let r = run.advance(500).unwrap();
    assert!(num(&r, "diverged") > 0.0);
    assert_eq!(get(&r, "regime").as_string().as_deref(), Some("divergent"));
}

/// 60 rows of three inputs and the name of the largest one.
fn three_class_csv() -> String {
    let mut s = String::from("a,b,c,y\n");
    for i in 0..60 {
        let x = [
            (i as f64).sin(),
            (i as f64 * 1.3).cos(),
            (i as f64 * 0.7).sin(),
        ];
        let top = (0..3).fold(0, |p, q| if x[q] > x[p] { q } else { p });
        s.push_str(&format!(
            "{:.3},{:.3},{:.3},{}\n",
            x[0],
            x[1],
            x[2],
            ["r", "g", "b"][top]
        ));
    }
    s
}

#[wasm_bindgen_test]
async fn a_reader_table_is_read_summarised_and_trained_on() {
    let bad = DataTable::parse("a,b\n1,x\n", JsValue::UNDEFINED);
    assert!(bad.is_err(), "a file of one complete row is refused");
    let csv = three_class_csv();
    let by_name = DataTable::parse(
        &csv,
        config(&[("target", "y".into()), ("task", "auto".into())]),
    )
    .unwrap();
    let s = by_name.summary().unwrap();
    assert_eq!(num(&s, "rows"), 60.0);
    assert_eq!(num(&s, "dim"), 3.0);
    assert_eq!(num(&s, "classes"), 3.0);
    assert_eq!(get(&s, "target").as_string().unwrap(), "y");
    assert_eq!(get(&s, "task").as_string().unwrap(), "classification");
    assert!(get(&s, "hash").as_string().unwrap().starts_with("fnv1a64:"));
    let by_index = DataTable::parse(&csv, config(&[("target", 3.into())])).unwrap();
    assert_eq!(
        get(&by_index.summary().unwrap(), "target")
            .as_string()
            .unwrap(),
        "y"
    );

    let on_table = || config(&[("dataset", "table".into()), ("loss", "crossEntropy".into())]);
    let refused = Playground::create(on_table(), "cpu".into(), None)
        .await
        .err()
        .expect("no table, no run");
    let msg: String = js_sys::Error::from(refused).message().into();
    assert!(msg.contains("Your own data"), "{msg}");

    let mut pg = Playground::create(on_table(), "cpu".into(), Some(by_name.share()))
        .await
        .unwrap();
    assert_eq!(pg.outputs(), 3);
    assert_eq!(pg.classes(), 3);
    assert_eq!(pg.input_dim(), 3);
    assert_eq!(pg.plot_dim(), 2);
    assert!(pg.projected());
    assert!(pg.explained().is_some_and(|e| e > 0.0 && e <= 1.0));
    assert_eq!(pg.data_hash(), get(&s, "hash").as_string());
    assert_eq!(pg.loss(), "crossEntropy");
    assert_eq!(
        pg.train_x().len(),
        48 * 2,
        "plot coordinates of 48 training rows"
    );
    assert!(
        pg.train_y()
            .iter()
            .all(|&c| c == 0.0 || c == 1.0 || c == 2.0)
    );
    let r = pg.advance_async(20).await.unwrap();
    let confusion: Vec<f64> = js_sys::Array::from(&get(&r, "confusion"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(confusion.len(), 9);
    assert_eq!(confusion.iter().sum::<f64>(), 12.0, "the 12 test rows");
    let spec = pg.grid_spec().unwrap();
    let g = pg.predict_grid_async().await.unwrap();
    assert_eq!(g.len() as f64, num(&spec, "size").powi(2) * 3.0);
    // The caller's table is still good after handing a share over.
    assert_eq!(num(&by_name.summary().unwrap(), "rows"), 60.0);
}

/// The message of a thrown `Error`.
fn thrown(err: JsValue) -> String {
    js_sys::Error::from(err).message().into()
}

#[wasm_bindgen_test]
fn weak_labels_live_run_reports_bag_loss_and_instance_accuracy() {
    use descent::api::weak_labels::{WeakLabels, weak_labels_defaults};
    let d = weak_labels_defaults().unwrap();
    assert_eq!(get(&d, "data").as_string().unwrap(), "digits");
    assert_eq!(get(&d, "learner").as_string().unwrap(), "dllp");
    assert_eq!(num(&get(&d, "limits"), "maxBag"), 512.0);
    let spec = scene_spec("weak-labels").unwrap();
    assert_eq!(get(&spec, "scene").as_string().unwrap(), "weak-labels");
    // The cell populations need no file; bags of 8, 64 of them.
    let mut run = WeakLabels::new(config(&[
        ("data", "cells".into()),
        ("instances", 512.into()),
        ("bag", 8.into()),
        ("width", 32.into()),
    ]))
    .unwrap();
    let r0 = run.evaluate().unwrap();
    let r = run.advance(100).unwrap();
    assert_eq!(num(&r, "step"), 100.0);
    assert!(num(&r, "bagLoss") < num(&r0, "bagLoss"));
    assert!(num(&r, "bagLoss") >= num(&r, "bagLossFloor") - 1e-6);
    assert!(num(&r, "testAccuracy") > 0.5, "{}", num(&r, "testAccuracy"));
    assert!((0.0..=1.0).contains(&num(&r, "trainAccuracy")));
    assert!(get(&r, "diverged").is_null());
    let p = run.proportions().unwrap();
    assert_eq!(num(&p, "bags"), 64.0);
    assert_eq!(num(&p, "classes"), 3.0);
    let reported: js_sys::Array = get(&p, "reported").dyn_into().unwrap();
    assert_eq!(reported.length(), 64 * 3);
    assert!(num(&p, "condition") >= 1.0);
    let c = run.confusion().unwrap();
    let counts: js_sys::Array = get(&c, "counts").dyn_into().unwrap();
    let total: f64 = counts.iter().map(|v| v.as_f64().unwrap()).sum();
    assert_eq!(total, 512.0);
    let spec = run.grid_spec().unwrap();
    let grid = run.predict_grid().expect("the cells have decision regions");
    assert_eq!(grid.len() as f64, num(&spec, "size").powi(2) * 3.0);
    assert!(
        grid.iter()
            .all(|v| v.is_finite() && (0.0..=1.0).contains(v))
    );
    let pts = run.points().unwrap();
    let train_x: Float32Array = get(&pts, "trainX").dyn_into().unwrap();
    assert_eq!(train_x.length(), 512 * 2);
    let mm = run.mean_map().unwrap();
    assert!(num(&mm, "accuracy") > 0.5);
    let w = run.export_weights().unwrap();
    assert!(w.contains("\"scene\": \"weak-labels\"") || w.contains("\"scene\":\"weak-labels\""));
    let back = run.rewind().unwrap();
    assert_eq!(num(&back, "step"), 0.0);
    assert_eq!(num(&back, "bagLoss"), num(&r0, "bagLoss"));
    // A step size far too large: the run says where it diverged, never a NaN.
    let mut run =
        WeakLabels::new(config(&[("data", "cells".into()), ("lr", 1000.0.into())])).unwrap();
    let r = run.advance(200).unwrap();
    let text = get(&r, "diverged").as_string().expect("it diverges");
    assert!(text.starts_with("diverged at step "), "{text}");
    assert!(num(&r, "bagLoss").is_finite());
    // Bad settings throw an Error naming the setting.
    let e = thrown(
        WeakLabels::new(config(&[("bag", 1000.into())]))
            .err()
            .unwrap(),
    );
    assert!(e.contains("`bag`"), "{e}");
    let e = thrown(
        WeakLabels::new(config(&[("learner", "svm".into())]))
            .err()
            .unwrap(),
    );
    assert!(e.contains("svm"), "{e}");
}

#[wasm_bindgen_test]
fn weak_labels_sweep_functions_fill_the_figure() {
    use descent::api::playground::set_digits;
    use descent::api::weak_labels::{
        weak_bag_sizes, weak_cell, weak_mean_map_curve, weak_reference,
    };
    let cells = config(&[
        ("data", "cells".into()),
        ("instances", 256.into()),
        ("steps", 50.into()),
        ("width", 16.into()),
        ("seeds", 2.into()),
    ]);
    let sizes = weak_bag_sizes(cells.clone()).unwrap();
    assert_eq!(sizes, vec![1, 2, 4, 8, 16, 32, 64, 128, 256]);
    let cell = weak_cell(cells.clone(), 4, 7.0).unwrap();
    assert_eq!(num(&cell, "bag"), 4.0);
    assert_eq!(num(&cell, "seed"), 7.0);
    for key in ["dllp", "easyllp", "meanMap"] {
        assert!((0.0..=1.0).contains(&num(&cell, key)), "{key}");
    }
    // Again, in any order: a pure function.
    let again = weak_cell(cells.clone(), 4, 7.0).unwrap();
    assert_eq!(num(&again, "dllp"), num(&cell, "dllp"));
    let reference = weak_reference(cells.clone(), 7.0).unwrap();
    assert!(num(&reference, "ceiling") > num(&reference, "floor"));
    let curve: js_sys::Array = weak_mean_map_curve(cells.clone())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(curve.length(), 9);
    // 256 instances in one bag: fewer bags than classes, and the mean map says so.
    let last = curve.get(8);
    assert!(get(&last, "mean").is_null());
    assert!(get(&last, "refused").as_string().is_some());
    let e = thrown(weak_cell(cells, 1024, 7.0).err().unwrap());
    assert!(e.contains("`bag`"), "{e}");
    // The digits once the engine holds them.
    set_digits(include_str!("../data/digits.csv")).unwrap();
    let digits = config(&[("instances", 256.into()), ("steps", 20.into())]);
    let cell = weak_cell(digits, 16, 1.0).unwrap();
    assert!((0.0..=1.0).contains(&num(&cell, "dllp")));
}

#[wasm_bindgen_test]
fn weak_labels_trains_on_a_readers_table() {
    let on_table = || {
        config(&[
            ("data", "table".into()),
            ("bag", 8.into()),
            ("lr", 4.into()),
            ("width", 32.into()),
            ("steps", 100.into()),
        ])
    };
    use descent::api::weak_labels::{
        WeakLabels, clear_weak_table, has_weak_table, set_weak_table, weak_bag_sizes, weak_cell,
    };
    // No table held yet: refused, naming the data.
    clear_weak_table();
    let e = thrown(WeakLabels::new(on_table()).err().unwrap());
    assert!(e.contains("`data`"), "{e}");
    // 600 rows of 3 classes, 3 inputs: 480 training rows (the pool), 120 test rows.
    let text = tables::classes_csv(600, 3, 3, 7);
    let table = DataTable::parse(&text, JsValue::NULL).unwrap();
    set_weak_table(table.share());
    assert!(has_weak_table());
    let mut run = WeakLabels::new(on_table()).unwrap();
    let r = run.advance(200).unwrap();
    assert!(get(&r, "diverged").is_null());
    assert!(
        num(&r, "testAccuracy") >= 0.9,
        "{}",
        num(&r, "testAccuracy")
    );
    let p = run.proportions().unwrap();
    assert_eq!((num(&p, "bags"), num(&p, "classes")), (60.0, 3.0));
    assert!(
        run.grid_spec().unwrap().is_null(),
        "three inputs: no regions"
    );
    assert!(run.predict_grid().is_none());
    let sizes = weak_bag_sizes(on_table()).unwrap();
    assert_eq!(sizes, vec![1, 2, 4, 8, 16, 32, 64, 128, 256]);
    let cell = weak_cell(on_table(), 8, 1.0).unwrap();
    for key in ["dllp", "easyllp", "meanMap"] {
        assert!(num(&cell, key) >= 0.8, "{key}: {}", num(&cell, key));
    }
    // The caller's table stays good; a regression table is refused.
    assert_eq!(num(&table.summary().unwrap(), "classes"), 3.0);
    let values: String = (0..50)
        .map(|i| format!("{i},{},{}.25\n", i % 7, i * 3))
        .collect();
    let regression = DataTable::parse(&format!("a,b,y\n{values}"), JsValue::NULL).unwrap();
    assert_eq!(
        get(&regression.summary().unwrap(), "task")
            .as_string()
            .unwrap(),
        "regression"
    );
    set_weak_table(regression);
    let e = thrown(WeakLabels::new(on_table()).err().unwrap());
    assert!(e.contains("`data`") && e.contains("regression"), "{e}");
    clear_weak_table();
    assert!(!has_weak_table());
}
