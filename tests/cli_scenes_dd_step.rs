//! The command line's drivers of the Double descent scene (its curve and its trained-networks
//! panel) and of the Step size scene (its live run and its phase diagram) against the library
//! called directly: the same numbers exactly (the driver calls the same engine functions in
//! the same order per seed or cell; only which thread runs a piece changes), the same output
//! whatever the thread count, and oversize runs refused with the engine's estimate.
#![cfg(not(target_arch = "wasm32"))]

use descent::cli::scenes::double_descent as dd_cli;
use descent::cli::{self, Headless, NoProgress, RunOptions, SceneOutput, Settings};
use descent::error::Error;
use descent::scenes::double_descent::{
    DoubleDescent, DoubleDescentConfig, IsotropicConfig, isotropic_curves, isotropic_monte_carlo,
};

fn settings(scene: &str, pairs: &[(&str, &str)]) -> Settings {
    let mut s = Settings::defaults(scene).unwrap_or_else(|| panic!("no table {scene}"));
    for (k, v) in pairs {
        let setting = cli::settings::setting(&s.spec, k).unwrap().clone();
        s.set(k, cli::settings::parse_value(&setting, v).unwrap())
            .unwrap();
    }
    s
}

/// Two outputs are the same, NaN for NaN (`SceneOutput`'s `==` is false on any NaN): their
/// debug forms, which print every f64 exactly, are equal.
fn assert_same(a: &SceneOutput, b: &SceneOutput) {
    assert!(format!("{a:?}") == format!("{b:?}"), "the outputs differ");
}

fn run(scene: &str, s: &Settings, threads: usize) -> SceneOutput {
    let driver = cli::scenes::get(scene).unwrap();
    let options = RunOptions {
        threads,
        ..RunOptions::default()
    };
    driver.run(s, &options, &NoProgress).unwrap()
}

/// A model-wise sweep small enough for a test: n = 60, d = 30, 21 sizes, 3 seeds, 200 test
/// points.
const DD_SMALL: &[(&str, &str)] = &[
    ("nTrain", "60"),
    ("dim", "30"),
    ("nTest", "200"),
    ("sizes", "21"),
    ("seeds", "3"),
    ("seed", "7"),
    ("ridge", "0.01"),
];

#[test]
fn double_descent_report_is_the_librarys_pooled_over_seeds() {
    let s = settings("double-descent", DD_SMALL);
    let out = run("double-descent", &s, 1);
    // The library: one session holding every seed, as the page with one worker.
    let cfg: DoubleDescentConfig = s.config().unwrap();
    let mut session = DoubleDescent::new(cfg.clone(), None).unwrap();
    session.run().unwrap();
    let lib = session.report();
    let r = &out.report["pooled"];
    let nums = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    assert_eq!(nums(&r["base"]["ratio"]), lib.ratio);
    assert_eq!(nums(&r["test"]["mean"]), lib.test_mse.mean);
    assert_eq!(nums(&r["test"]["se"]), lib.test_mse.se);
    assert_eq!(nums(&r["train"]["mean"]), lib.train_mse.mean);
    assert_eq!(nums(&r["norm"]["se"]), lib.norm.se);
    assert_eq!(nums(&r["base"]["theory"]), lib.theory.clone().unwrap());
    assert_eq!(r["seedsDone"], 3);
    let per_seed = r["base"]["perSeed"].as_array().unwrap();
    for (row, want) in per_seed.iter().zip(&lib.per_seed) {
        assert_eq!(row["seed"].as_u64().unwrap(), want.seed);
        assert_eq!(nums(&row["testMse"]), want.test_mse);
    }
    // The isotropic panel: the closed forms and each Monte-Carlo point as the page asks them.
    let iso = isotropic_curves(&IsotropicConfig {
        n: 100,
        signal: 1.0,
        noise: cfg.noise,
        ridge: cfg.ridge,
        gamma_min: 0.1,
        gamma_max: 10.0,
        points: 241,
    })
    .unwrap();
    assert_eq!(
        out.report["isotropic"]["curves"],
        serde_json::to_value(&iso).unwrap()
    );
    let points = out.report["isotropic"]["points"].as_array().unwrap();
    // With a ridge, γ = 1 is the eighth of 15 points.
    assert_eq!(points.len(), 15);
    let e = isotropic_monte_carlo(100, 100, 1.0, cfg.noise, cfg.ridge, 40, 7 + 7).unwrap();
    assert_eq!(points[7]["gamma"], 1.0);
    assert_eq!(points[7]["mean"].as_f64().unwrap(), e.mean);
    assert_eq!(points[7]["se"].as_f64().unwrap(), e.se);
    // The summary's peak is the pooled curve's.
    let peak = lib
        .test_mse
        .mean
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(out.summary[0], ("peakTestMse".to_string(), peak));
    let names: Vec<&str> = out.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["curve", "norm", "seeds", "iso", "iso-mc"]);
    let figs: Vec<&str> = out.figures.iter().map(|f| f.name()).collect();
    assert_eq!(figs, ["curve", "norm", "iso"]);
}

#[test]
fn double_descent_threads_do_not_change_the_output() {
    let s = settings("double-descent", DD_SMALL);
    assert_same(&run("double-descent", &s, 1), &run("double-descent", &s, 2));
}

#[test]
fn double_descent_digits_report_their_classification_error() {
    let s = settings(
        "double-descent",
        &[
            ("data", "digits"),
            ("nTrain", "50"),
            ("sizes", "9"),
            ("seeds", "2"),
        ],
    );
    let out = run("double-descent", &s, 2);
    assert!(out.report["pooled"]["testError"]["mean"].is_array());
    assert!(out.tables.iter().any(|t| t.name == "class"));
    assert!(out.figures.iter().any(|f| f.name() == "class"));
    // No theory for real data: NaN in the summary (an empty CSV field), null in the report.
    assert!(out.report["pooled"]["base"]["theory"].is_null());
    let theory = out
        .summary
        .iter()
        .find(|(k, _)| k == "theoryAtPeak")
        .unwrap();
    assert!(theory.1.is_nan());
}

#[test]
fn an_oversize_double_descent_sweep_is_refused_with_its_estimate() {
    let s = settings(
        "double-descent",
        &[("nTrain", "1000"), ("nFeatures", "1000"), ("sizes", "101")],
    );
    let cfg: DoubleDescentConfig = s.config().unwrap();
    let options = RunOptions {
        memory_limit: 64 << 20,
        ..RunOptions::default()
    };
    let e = dd_cli::DoubleDescent
        .run(&s, &options, &NoProgress)
        .unwrap_err();
    match &e {
        Error::TooLarge { bytes, limit, .. } => {
            assert_eq!(*bytes, cfg.memory_bytes());
            assert_eq!(*limit, 64 << 20);
        }
        other => panic!("expected a refusal with the estimate, got {other}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("MB") || text.contains("GB") || text.contains("MiB"),
        "{text}"
    );
}

/// A trained-networks sweep small enough for a test: n = 30, d = 5, 6 ratios, 2 seeds, 400
/// steps.
const TRAINED_SMALL: &[(&str, &str)] = &[
    ("nTrain", "30"),
    ("dim", "5"),
    ("nTest", "100"),
    ("sizes", "6"),
    ("seeds", "2"),
    ("steps", "400"),
    ("seed", "3"),
];

#[test]
fn trained_report_is_the_librarys_sweep() {
    use descent::scenes::double_descent::trained::{TrainedSweep, TrainedSweepConfig};
    let s = settings("double-descent/trained", TRAINED_SMALL);
    let out = run("double-descent/trained", &s, 2);
    // The library: the page's sweep, every cell one after another in small chunks of work.
    let cfg: TrainedSweepConfig = s.config().unwrap();
    let mut sweep = TrainedSweep::new(cfg).unwrap();
    while !sweep.advance(2e5).unwrap().done {}
    assert_eq!(out.report, serde_json::to_value(sweep.report()).unwrap());
    assert_eq!(out.tables[0].name, "trained");
    assert_eq!(out.figures[0].name(), "trained");
    assert_same(&out, &run("double-descent/trained", &s, 1));
}

#[test]
fn an_interrupted_trained_sweep_stops_with_interrupted() {
    let s = settings("double-descent/trained", TRAINED_SMALL);
    let options = RunOptions {
        threads: 2,
        ..RunOptions::default()
    };
    options
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let e = cli::scenes::get("double-descent/trained")
        .unwrap()
        .run(&s, &options, &NoProgress)
        .unwrap_err();
    assert!(matches!(e, Error::Interrupted), "{e}");
}

/// A live run small enough for a test: width 64 on 16 points.
const STEP_SMALL: &[(&str, &str)] = &[("width", "64"), ("nTrain", "16"), ("seed", "5")];

fn run_steps(s: &Settings, steps: u64, threads: usize) -> SceneOutput {
    let options = RunOptions {
        threads,
        steps: Some(steps),
        ..RunOptions::default()
    };
    cli::scenes::get("step")
        .unwrap()
        .run(s, &options, &NoProgress)
        .unwrap()
}

#[test]
fn step_report_is_the_librarys_live_run() {
    use descent::scenes::step_size::{StepSize, StepSizeConfig};
    let s = settings("step", STEP_SMALL);
    let out = run_steps(&s, 80, 1);
    let cfg: StepSizeConfig = s.config().unwrap();
    let mut lib = StepSize::new(cfg).unwrap();
    let want = lib.advance(80);
    assert_eq!(out.report["report"], serde_json::to_value(&want).unwrap());
    assert_eq!(want.step, 80);
    let get = |k: &str| out.summary.iter().find(|(n, _)| n == k).unwrap().1;
    assert_eq!(get("trainLoss"), *want.loss.last().unwrap());
    assert_eq!(get("stabilityBound"), want.stability_bound);
    assert!(get("divergedAt").is_nan());
    let tables: Vec<&str> = out.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["loss", "sharpness", "lazy", "ruler"]);
    assert_eq!(out.tables[0].rows.len(), 81);
    assert_same(&out, &run_steps(&s, 80, 2));
}

#[test]
fn a_diverging_step_run_says_where() {
    let mut pairs = STEP_SMALL.to_vec();
    pairs.push(("lrMultiple", "30"));
    pairs.push(("measureCatapult", "false"));
    let s = settings("step", &pairs);
    let out = run_steps(&s, 200, 1);
    let at = out
        .summary
        .iter()
        .find(|(n, _)| n == "divergedAt")
        .unwrap()
        .1;
    assert!(at.is_finite() && at >= 1.0, "{at}");
    let k = at as u64;
    assert_eq!(out.report["report"]["diverged"], k);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains(&format!("diverged at step {k}"))),
        "{:?}",
        out.notes
    );
    // The run stops there: fewer steps than asked, and no NaN in the losses.
    assert!(out.report["report"]["step"].as_u64().unwrap() < 200);
    for row in &out.tables[0].rows {
        match &row[1] {
            cli::Cell::Num(x) => assert!(x.is_finite()),
            other => panic!("{other:?}"),
        }
    }
}

/// A phase diagram small enough for a test: 3 widths (16 to 64) × 4 step sizes on 16 points,
/// 60 steps per cell.
const PHASE_SMALL: &[(&str, &str)] = &[
    ("widthMin", "16"),
    ("widthMax", "64"),
    ("widthCount", "3"),
    ("yCount", "4"),
    ("yMax", "8"),
    ("steps", "60"),
    ("nTrain", "16"),
    ("hessianIters", "10"),
];

#[test]
fn phase_report_is_the_librarys_diagram_whatever_the_thread_count() {
    use descent::scenes::step_size::{PhaseConfig, PhaseDiagram, PhaseSettings};
    let s = settings("step/phase", PHASE_SMALL);
    let out = run("step/phase", &s, 2);
    let flat: PhaseSettings = s.config().unwrap();
    let cfg = PhaseConfig::from(&flat);
    assert_eq!((cfg.width_count, cfg.y_count, cfg.steps), (3, 4, 60));
    // The library: the page's diagram, one slice after another, column by column.
    let mut lib = PhaseDiagram::new(cfg.clone()).unwrap();
    while !lib.advance(1).unwrap().finished {}
    let want = lib.report();
    assert_eq!(out.report["report"], serde_json::to_value(&want).unwrap());
    assert_eq!(out.report["config"], serde_json::to_value(&cfg).unwrap());
    let cells = out.summary[0].1;
    assert_eq!(cells, 12.0);
    let fractions: f64 = out.summary[1..5].iter().map(|(_, v)| v).sum();
    assert!((fractions - 1.0).abs() < 1e-12, "{fractions}");
    assert_eq!(out.tables[0].rows.len(), 12);
    assert_eq!(out.figures[0].name(), "phase");
    assert_same(&out, &run("step/phase", &s, 1));
    assert_same(&out, &run("step/phase", &s, 3));
}

#[test]
fn an_oversize_phase_diagram_is_refused_with_its_estimate() {
    let s = settings(
        "step/phase",
        &[("widthCount", "64"), ("yCount", "64"), ("steps", "20000")],
    );
    let e = cli::scenes::get("step/phase")
        .unwrap()
        .run(&s, &RunOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("would take about") && e.contains("64 × 64"),
        "{e}"
    );
}

#[test]
fn phase_on_auto_says_where_it_ran() {
    use descent::session::device::BackendChoice;
    let s = settings("step/phase", PHASE_SMALL);
    let options = RunOptions {
        backend: BackendChoice::Auto,
        threads: 2,
        ..RunOptions::default()
    };
    let out = cli::scenes::get("step/phase")
        .unwrap()
        .run(&s, &options, &NoProgress)
        .unwrap();
    match out.backend.as_str() {
        // Without a hardware GPU the columns run on the CPU threads, and a note says why.
        "cpu" => assert!(!out.notes.is_empty(), "no note on the fallback"),
        "gpu" => {}
        other => panic!("backend {other}"),
    }
    assert_eq!(out.summary[0].1, 12.0);
}

#[test]
fn the_ridgeless_theorys_infinite_peak_is_no_number_in_the_summary() {
    let s = settings(
        "double-descent",
        &[
            ("nTrain", "40"),
            ("dim", "20"),
            ("nTest", "100"),
            ("sizes", "11"),
            ("seeds", "1"),
        ],
    );
    let out = run("double-descent", &s, 1);
    // The asymptotic risk is infinite at p = n: the report holds null there, the summary NaN.
    let theory = &out.report["pooled"]["base"]["theory"];
    assert!(theory.as_array().unwrap().iter().any(|v| v.is_null()));
    assert!(
        out.summary.iter().all(|(_, v)| !v.is_infinite()),
        "{:?}",
        out.summary
    );
}
