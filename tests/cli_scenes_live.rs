//! The headless drivers of the live scenes (Playground, Lazy or rich, Weak labels) against the
//! library run the same way: on the CPU the numbers are equal exactly (the same code runs the
//! same operations in the same order), threads do not change them, a divergence is reported
//! as a step, a reader's table is refused, and an oversize run is refused with its estimate.

#![cfg(not(target_arch = "wasm32"))]

#[path = "common/native_gpu.rs"]
mod native_gpu;

use descent::cli::scenes;
use descent::cli::{NoProgress, RunOptions, SceneOutput, Settings};
use descent::error::Error;
use descent::scenes::playground::{Playground, PlaygroundConfig};
use descent::session::device::BackendChoice;
use descent::session::fields::Field;

fn settings(scene: &str, values: &[(&str, Field)]) -> Settings {
    let mut s = Settings::defaults(scene).expect("a scene");
    for (k, v) in values {
        s.set(k, v.clone()).expect("a valid setting");
    }
    s
}

fn num(x: f64) -> Field {
    Field::Num(x)
}

fn text(s: &str) -> Field {
    Field::Str(s.to_string())
}

fn run(scene: &str, s: &Settings, options: &RunOptions) -> descent::error::Result<SceneOutput> {
    scenes::get(scene)
        .expect("a driver")
        .run(s, options, &NoProgress)
}

fn steps(n: u64) -> RunOptions {
    RunOptions {
        steps: Some(n),
        ..RunOptions::default()
    }
}

/// Whether two outputs are the same, NaN for NaN (Debug writes every f64 so that it reads back
/// exactly, and NaN as `NaN`).
fn same(a: &SceneOutput, b: &SceneOutput) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn summary(out: &SceneOutput, name: &str) -> f64 {
    out.summary
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no summary `{name}`"))
        .1
}

// ---------------------------------------------------------------------------------------------
// Playground

#[test]
fn playground_equals_the_library_run_exactly() {
    for (values, n) in [
        (vec![], 300),
        (vec![("dataset", text("sine")), ("width", num(64.0))], 1200),
        (
            vec![
                ("dataset", text("blobs")),
                ("classes", num(4.0)),
                ("loss", text("crossEntropy")),
                ("width", num(32.0)),
            ],
            150,
        ),
    ] {
        let s = settings("playground", &values);
        let out = run("playground", &s, &steps(n)).unwrap();
        let config: PlaygroundConfig = s.config().unwrap();
        let mut lib = Playground::new(config).unwrap();
        let r = lib.advance(n);
        assert_eq!(r.step, n);
        assert_eq!(summary(&out, "trainLoss"), r.train_loss, "{values:?}");
        assert_eq!(summary(&out, "testLoss"), r.test_loss, "{values:?}");
        let acc = |a: Option<f64>| a.unwrap_or(f64::NAN);
        assert_eq!(
            summary(&out, "testAccuracy").to_bits(),
            acc(r.test_acc).to_bits()
        );
        assert!(summary(&out, "divergedAt").is_nan());
        assert_eq!(out.report["report"]["step"], n);
        assert_eq!(out.report["report"]["testLoss"], r.test_loss);
        // The grid picture is the library's prediction there.
        let grid = lib.predict_grid();
        let name = if lib.grid.dim == 1 { "fit" } else { "regions" };
        let table = out.tables.iter().find(|t| t.name == name).unwrap();
        assert_eq!(table.rows.len(), lib.grid.len());
        let f_col = table
            .columns
            .iter()
            .position(|c| c.starts_with('f'))
            .unwrap();
        let k = grid.len() / lib.grid.len();
        assert_eq!(
            table.rows[7][f_col],
            descent::cli::Cell::Num(grid[7 * k] as f64)
        );
        // The history: every step up to the page's early steps.
        let history = &out.report["history"]["step"];
        assert_eq!(history[0], 0);
        assert_eq!(history[1], 1);
        assert_eq!(history.as_array().unwrap().last().unwrap(), n);
        assert_eq!(out.backend, "cpu");
    }
}

#[test]
fn playground_reports_a_divergence_as_a_step() {
    let s = settings("playground", &[("lr", num(1000.0))]);
    let out = run("playground", &s, &steps(200)).unwrap();
    let at = summary(&out, "divergedAt");
    assert!((1.0..=200.0).contains(&at), "diverged at {at}");
    assert!(summary(&out, "trainLoss").is_finite());
    assert_eq!(out.report["report"]["diverged"], at as u64);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains(&format!("diverged at step {at}")))
    );
    let config: PlaygroundConfig = s.config().unwrap();
    let mut lib = Playground::new(config).unwrap();
    assert_eq!(lib.advance(200).diverged, Some(at as u64));
}

#[test]
fn playground_digits_list_confusion_and_mistakes() {
    let s = settings(
        "playground",
        &[
            ("dataset", text("digits")),
            ("loss", text("crossEntropy")),
            ("width", num(32.0)),
            ("nTrain", num(256.0)),
        ],
    );
    let out = run("playground", &s, &steps(20)).unwrap();
    let confusion = out.tables.iter().find(|t| t.name == "confusion").unwrap();
    assert_eq!(confusion.rows.len(), 10);
    assert_eq!(confusion.columns.len(), 11);
    let mistakes = out
        .tables
        .iter()
        .find(|t| t.name == "misclassified")
        .unwrap();
    let count = out.report["report"]["misclassifiedCount"].as_u64().unwrap();
    assert_eq!(mistakes.rows.len() as u64, count.min(24));
    let acc = summary(&out, "testAccuracy");
    assert_eq!(count, ((1.0 - acc) * 512.0).round() as u64);
}

#[test]
fn playground_refuses_a_readers_table() {
    let s = settings("playground", &[("dataset", text("table"))]);
    let e = run("playground", &s, &steps(10)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidConfig {
                field: "dataset",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("does not read"), "{e}");
}

#[test]
fn playground_refuses_an_oversize_run_with_its_estimate() {
    let s = settings("playground", &[("width", num(4096.0)), ("depth", num(4.0))]);
    let options = RunOptions {
        memory_limit: 16 << 20,
        ..steps(1)
    };
    let e = run("playground", &s, &options).unwrap_err();
    let config: PlaygroundConfig = s.config().unwrap();
    match &e {
        Error::TooLarge { bytes, limit, .. } => {
            assert_eq!(*bytes, config.memory_bytes());
            assert_eq!(*limit, 16 << 20);
        }
        other => panic!("expected a memory refusal, got {other}"),
    }
    assert!(e.to_string().contains("would need about"), "{e}");
}

#[test]
fn playground_threads_change_nothing() {
    let s = settings("playground", &[("dataset", text("xor"))]);
    let one = run("playground", &s, &steps(50)).unwrap();
    let two = run(
        "playground",
        &s,
        &RunOptions {
            threads: 2,
            ..steps(50)
        },
    )
    .unwrap();
    assert!(same(&one, &two), "threads changed the output");
}

#[test]
fn playground_stops_when_cancelled() {
    let options = steps(100);
    options
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let e = run(
        "playground",
        &Settings::defaults("playground").unwrap(),
        &options,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Interrupted));
}

#[test]
fn playground_on_the_gpu_matches_the_cpu() {
    // Needs a Vulkan adapter (lavapipe will do), as tests/gpu_backend.rs.
    let Some(gpu) = native_gpu::gpu() else { return };
    let software = gpu.is_software();
    drop(gpu);
    let s = settings("playground", &[("width", num(64.0))]);
    let options = |backend| RunOptions {
        backend,
        ..steps(150)
    };
    let on_gpu = run("playground", &s, &options(BackendChoice::Gpu)).unwrap();
    assert_eq!(on_gpu.backend, "gpu");
    assert_eq!(on_gpu.report["report"]["backend"], "webgpu");
    if software {
        assert!(
            on_gpu
                .notes
                .iter()
                .any(|n| n.contains("software emulation"))
        );
    }
    let on_cpu = run("playground", &s, &options(BackendChoice::Cpu)).unwrap();
    // Tolerance: 150 steps in f32 on the GPU differ from the CPU's by rounding and summation
    // order only (tests/gpu_backend.rs bounds a 300-step run at 6e-7 relative); 1e-4
    // relative, as tests/live.rs.
    for name in ["trainLoss", "testLoss"] {
        let (g, c) = (summary(&on_gpu, name), summary(&on_cpu, name));
        assert!(
            (g - c).abs() / c < 1e-4,
            "{name}: {g} on the GPU, {c} on the CPU"
        );
    }
    // The GPU takes its first 100 steps one at a time (the page's GPU_EARLY_STEPS).
    assert_eq!(on_gpu.report["history"]["step"][100], 100);
    // Auto takes a hardware GPU only: a software adapter leaves the run on the CPU, with a note.
    let auto = run("playground", &s, &options(BackendChoice::Auto)).unwrap();
    if software {
        assert_eq!(auto.backend, "cpu");
        assert!(auto.notes.iter().any(|n| n.contains("software emulation")));
    }
}

#[test]
fn playground_mini_batch_runs_on_the_cpu_with_a_note_when_the_gpu_is_asked() {
    let s = settings("playground", &[("batchSize", num(32.0))]);
    let out = run(
        "playground",
        &s,
        &RunOptions {
            backend: BackendChoice::Gpu,
            ..steps(5)
        },
    )
    .unwrap();
    assert_eq!(out.backend, "cpu");
    assert!(out.notes[0].contains("full batch only"), "{:?}", out.notes);
}

// ---------------------------------------------------------------------------------------------
// Lazy or rich

use descent::cli::scenes::lazy::{sweep_plan, sweep_runs, sweep_widths};
use descent::scenes::lazy::{LazyConfig, LazyRich, WidthSweep};

/// The page's sweep menus, read from a link (as the page reads them: a value off the menu keeps
/// the default, with a note) or given as key=value, choose the sweep; the link back keeps them.
#[test]
fn lazy_sweep_takes_the_pages_sweep_menus() {
    use descent::cli::link;
    let l =
        link::read("lazy.html?width=64&sweepMax=256&sweepSteps=100&sweepSeeds=1&seed=4").unwrap();
    assert!(l.notes.is_empty(), "{:?}", l.notes);
    assert_eq!(
        sweep_plan(&l.settings),
        (vec![16, 32, 64, 128, 256], 1, 100)
    );
    assert_eq!(
        link::link_of(&l.settings),
        "lazy.html?seed=4&width=64&sweepMax=256&sweepSteps=100&sweepSeeds=1"
    );
    let out = run("lazy", &l.settings, &steps(20)).unwrap();
    let sweep = &out.report["sweep"];
    assert_eq!(sweep["widths"], serde_json::json!([16, 32, 64, 128, 256]));
    assert_eq!(
        (sweep["seeds"].as_u64(), sweep["steps"].as_u64()),
        (Some(1), Some(100))
    );
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5);
    // The library's sweep with the same plan gives the same networks.
    let config: LazyConfig = l.settings.config().unwrap();
    let mut lib = WidthSweep::with_seeds(config.run, sweep_widths(256), 1, 100).unwrap();
    for run in &runs[..2] {
        let p = lib.next_point().unwrap();
        assert_eq!(run["width"], p.width);
        assert_eq!(run["weightChange"], serde_json::json!(p.weight_change));
    }

    // Off the menu: the default, with a note; the link back leaves it out.
    let l = link::read("lazy.html?sweepMax=999&SWEEPSEEDS=5").unwrap();
    assert_eq!(
        l.notes,
        vec![r#"sweepMax: ignored "999" (not a valid value)"#.to_string()]
    );
    assert_eq!(sweep_plan(&l.settings).0.last(), Some(&4096));
    assert_eq!(sweep_plan(&l.settings).1, 5);
    assert!(!link::link_of(&l.settings).contains("sweepMax"));

    // As key=value: a menu value, or a usage error naming the menu.
    let mut s = Settings::defaults("lazy").unwrap();
    descent::cli::apply_pairs(&mut s, &["sweepSteps=1000".to_string()]).unwrap();
    assert_eq!(sweep_plan(&s).2, 1000);
    let err = descent::cli::apply_pairs(&mut s, &["sweepSeeds=2".to_string()]).unwrap_err();
    assert!(
        matches!(&err, Error::Usage { message } if message == "sweepSeeds: 2 is not one of its values (1, 3, 5, 10)"),
        "{err}"
    );
}

#[test]
fn lazy_equals_the_library_run_exactly() {
    let s = settings("lazy", &[("width", num(128.0))]);
    let out = run("lazy", &s, &steps(150)).unwrap();
    let config: LazyConfig = s.config().unwrap();
    let mut lib = LazyRich::new(config.run.clone(), config.ridge).unwrap();
    let r = lib.advance(150).unwrap();
    assert_eq!(out.report["report"], serde_json::to_value(&r).unwrap());
    assert_eq!(summary(&out, "testLoss"), r.network.test_loss.unwrap());
    assert_eq!(summary(&out, "kernelDistance"), r.kernel_distance);
    assert_eq!(
        summary(&out, "linearizedTestLoss"),
        r.linearized.test_loss.unwrap()
    );
    // Every step up to the early steps, then chunks up to the last.
    let history = out.report["history"]["step"].as_array().unwrap();
    assert_eq!(history[100], 100);
    assert_eq!(history.last().unwrap(), 150);
    // The sweep: the page's widths and seeds, one network after another as the library's sweep
    // trains them (the narrowest two widths compared here; the rest are the same function of
    // their settings, see the next test), and its slopes over every network.
    let runs = out.report["sweep"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), sweep_widths(4096).len() * 3);
    assert_eq!(
        out.report["sweep"]["widths"],
        serde_json::json!(sweep_widths(4096))
    );
    let mut sweep = WidthSweep::with_seeds(config.run, sweep_widths(4096), 3, 300).unwrap();
    for run in &runs[..6] {
        let p = sweep.next_point().unwrap();
        assert_eq!(run["width"], p.width);
        assert_eq!(run["seed"], p.seed);
        assert_eq!(run["weightChange"], serde_json::json!(p.weight_change));
        assert_eq!(run["kernelDistance"], serde_json::json!(p.kernel_distance));
    }
    let expected = &out.report["sweep"]["expectedSlopes"];
    assert_eq!(expected["weightChange"], -0.5);
    assert_eq!(expected["kernelDistance"], -1.0);
    let slope = summary(&out, "kernelDistanceSlope");
    assert!(slope.is_finite() && slope < 0.0, "slope {slope}");
}

#[test]
fn lazy_sweep_is_the_librarys_whatever_the_threads() {
    let config = LazyConfig::default().run;
    let mut sweep = WidthSweep::with_seeds(config, vec![16, 32, 64], 2, 50).unwrap();
    let one = sweep_runs(&sweep, &RunOptions::default(), &NoProgress).unwrap();
    while !sweep.is_done() {
        sweep.next_point().unwrap();
    }
    assert_eq!(
        one, sweep.runs,
        "the library's sweep, one network at a time"
    );
    for threads in [2, 3] {
        let many = sweep_runs(
            &sweep,
            &RunOptions {
                threads,
                ..RunOptions::default()
            },
            &NoProgress,
        )
        .unwrap();
        assert_eq!(one, many, "{threads} threads");
    }
}

#[test]
fn lazy_refuses_an_oversize_run_with_its_estimate() {
    let s = settings("lazy", &[("width", num(4096.0)), ("depth", num(3.0))]);
    let options = RunOptions {
        memory_limit: 8 << 20,
        ..steps(1)
    };
    let e = run("lazy", &s, &options).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("would need about"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Weak labels

use descent::scenes::weak_labels::{self as weak, WeakConfig};
use descent::session::run::DataSource;

/// A small run on the cell populations: 256 instances, 2 seeds, 40 steps, width 32.
fn small_weak(extra: &[(&str, Field)]) -> Settings {
    let mut values = vec![
        ("data", text("cells")),
        ("instances", num(256.0)),
        ("seeds", num(2.0)),
        ("steps", num(40.0)),
        ("width", num(32.0)),
    ];
    values.extend(extra.iter().cloned());
    settings("weak-labels", &values)
}

#[test]
fn weak_labels_equals_the_library_run_exactly() {
    let s = small_weak(&[]);
    let out = run("weak-labels", &s, &RunOptions::default()).unwrap();
    let config: WeakConfig = s.config().unwrap();
    let source = DataSource::default();
    // The live run: the scene's `steps` steps by default.
    let mut lib = weak::WeakLabels::new(config.clone(), &source).unwrap();
    let r = lib.advance(40);
    assert_eq!(out.report["report"]["step"], 40);
    assert_eq!(summary(&out, "testAccuracy"), r.test_accuracy);
    assert_eq!(summary(&out, "bagLoss"), r.bag_loss);
    assert_eq!(out.report["report"]["bagLoss"], r.bag_loss);
    assert!(summary(&out, "divergedAt").is_nan());
    assert_eq!(
        out.report["confusion"],
        serde_json::to_value(lib.confusion()).unwrap()
    );
    // The sweep: every cell and reference is the library's for its bag size and seed.
    let bags = weak::bag_sizes(&config);
    assert_eq!(out.report["sweep"]["bags"], serde_json::json!(bags));
    assert_eq!(out.report["sweep"]["seeds"], serde_json::json!([1, 2]));
    for (b, &bag) in bags.iter().enumerate() {
        for (i, seed) in [1u64, 2].into_iter().enumerate() {
            let cell = weak::weak_cell(&config, bag, seed, &source).unwrap();
            let got = &out.report["sweep"]["cells"][b][i];
            assert_eq!(
                got["dllp"],
                serde_json::json!(cell.dllp),
                "bag {bag} seed {seed}"
            );
            assert_eq!(got["easyllp"], serde_json::json!(cell.easyllp));
            assert_eq!(got["meanMap"], serde_json::json!(cell.mean_map));
        }
    }
    for (i, seed) in [1u64, 2].into_iter().enumerate() {
        let r = weak::weak_reference(&config, seed, &source).unwrap();
        assert_eq!(
            out.report["sweep"]["references"][i]["ceiling"],
            serde_json::json!(r.ceiling)
        );
        assert_eq!(out.report["sweep"]["references"][i]["floor"], r.floor);
    }
    let curve = weak::weak_mean_map_curve(&config, &source).unwrap();
    for (got, want) in out.report["curve"].as_array().unwrap().iter().zip(&curve) {
        assert_eq!(got["mean"], serde_json::json!(want.mean));
    }
    assert!(out.figures.iter().any(|f| f.name() == "regions"));
}

#[test]
fn weak_labels_threads_change_nothing() {
    let s = small_weak(&[]);
    let one = run("weak-labels", &s, &RunOptions::default()).unwrap();
    let two = run(
        "weak-labels",
        &s,
        &RunOptions {
            threads: 2,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert!(same(&one, &two), "threads changed the output");
}

#[test]
fn weak_labels_reports_a_divergence_as_a_step() {
    let s = small_weak(&[
        ("lr", num(1000.0)),
        ("learner", text("easyllp")),
        ("seeds", num(1.0)),
    ]);
    let out = run("weak-labels", &s, &steps(100)).unwrap();
    let at = summary(&out, "divergedAt");
    assert!((0.0..=100.0).contains(&at), "diverged at {at}");
    assert_eq!(
        out.report["report"]["diverged"],
        format!("diverged at step {at}")
    );
    assert!(summary(&out, "testAccuracy").is_finite());
}

#[test]
fn weak_labels_refuses_a_readers_table_and_an_oversize_run() {
    let s = settings("weak-labels", &[("data", text("table"))]);
    let e = run("weak-labels", &s, &steps(1)).unwrap_err();
    assert!(
        matches!(e, Error::InvalidConfig { field: "data", .. }),
        "{e}"
    );
    assert!(e.to_string().contains("does not read"), "{e}");

    let s = settings(
        "weak-labels",
        &[("width", num(1024.0)), ("steps", num(2000.0))],
    );
    let e = run("weak-labels", &s, &steps(1)).unwrap_err();
    let config: WeakConfig = s.config().unwrap();
    let estimate = format!("{:.1e}", config.network_flops());
    assert!(e.to_string().contains(&estimate), "{e} names {estimate}");
}

#[test]
fn lazy_and_weak_labels_stop_when_cancelled() {
    for (scene, s) in [
        ("lazy", Settings::defaults("lazy").unwrap()),
        ("weak-labels", small_weak(&[])),
    ] {
        let options = steps(100);
        options
            .cancel
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let e = run(scene, &s, &options).unwrap_err();
        assert!(matches!(e, Error::Interrupted), "{scene}: {e}");
    }
}
