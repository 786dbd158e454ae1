//! Unit tests of the sweep: cells and shards, resume, merge, failures and the figure, run
//! with a cheap stand-in driver.

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::figure::figure;
use super::run::{csv_line, csv_split, read_rows};
use super::*;
use crate::cli::output::number;
use crate::cli::{Figure, Headless, NoProgress, SceneOutput, Settings};

/// A cheap stand-in for a scene's driver on the Playground's settings table: its summary
/// is a function of width, lr and seed; it fails at width 13 and, when `stop_after` is
/// set, presses Ctrl-C once that many cells have run.
struct Fake {
    runs: AtomicUsize,
    stop_after: Option<usize>,
}

impl Fake {
    fn new() -> Self {
        Fake {
            runs: AtomicUsize::new(0),
            stop_after: None,
        }
    }
}

impl Headless for Fake {
    fn id(&self) -> &'static str {
        "playground"
    }
    fn about(&self) -> &'static str {
        "a stand-in"
    }
    fn run(&self, s: &Settings, o: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        o.check_cancel()?;
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        if self.stop_after.is_some_and(|k| n >= k) {
            o.cancel.store(true, Ordering::SeqCst);
        }
        let (w, lr, seed) = (s.num("width"), s.num("lr"), s.num("seed"));
        if w == 13.0 {
            return Err(Error::config("width", "thirteen is unlucky"));
        }
        Ok(SceneOutput {
            summary: vec![
                ("testLoss".into(), 1.0 / w + lr * 0.1 + seed * 1e-7),
                ("divergedAt".into(), if lr > 1.0 { 7.0 } else { f64::NAN }),
            ],
            ..SceneOutput::default()
        })
    }
}

fn plan(grids: &[&str], seeds: u64, shard: Option<&str>) -> Plan {
    let grids: Vec<String> = grids.iter().map(|g| g.to_string()).collect();
    Plan::new("playground", &["seed=5".into()], &grids, seeds, shard).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("descent-sweep-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

fn opts(threads: usize) -> RunOptions {
    RunOptions {
        threads,
        ..RunOptions::default()
    }
}

#[test]
fn cells_are_the_product_of_the_grids_last_fastest_then_seeds() {
    let p = plan(&["width=8,16", "lr=0.1,0.5,2"], 2, None);
    assert_eq!(p.total(), 12);
    let cell = |k| {
        let s = p.cell_settings(k).unwrap();
        (s.num("width"), s.num("lr"), s.num("seed"))
    };
    assert_eq!(cell(0), (8.0, 0.1, 5.0));
    assert_eq!(cell(1), (8.0, 0.1, 6.0));
    assert_eq!(cell(2), (8.0, 0.5, 5.0));
    assert_eq!(cell(7), (16.0, 0.1, 6.0));
    assert_eq!(cell(11), (16.0, 2.0, 6.0));
    assert_eq!(p.row_prefix(11).unwrap(), ["11", "16", "2", "6"]);
    assert_eq!(p.prefix_columns(), ["cell", "width", "lr", "seed"]);
    let s = Shard::parse("2/5").unwrap();
    assert_eq!(s.cells(12).collect::<Vec<_>>(), [2, 7]);
    assert_eq!(s.len(12), 2);
    assert_eq!(Shard::parse("4/5").unwrap().len(3), 0);
    // Every cell in exactly one shard.
    let mut seen: Vec<usize> = (0..5)
        .flat_map(|i| Shard { index: i, count: 5 }.cells(12))
        .collect();
    seen.sort();
    assert_eq!(seen, (0..12).collect::<Vec<_>>());
}

#[test]
fn numbers_are_written_in_their_shortest_exact_form() {
    assert_eq!(number(64.0), "64");
    assert_eq!(number(0.1), "0.1");
    assert_eq!(number(1.5e-7), "1.5e-7");
    assert_eq!(number(-2.5), "-2.5");
    assert_eq!(number(1e16), "1e16");
    assert_eq!(number(f64::NAN), "");
    for x in [0.1 + 0.2, 1.0 / 3.0, 6.02e23, 5e-324, f64::MAX] {
        assert_eq!(number(x).parse::<f64>().unwrap(), x);
    }
    assert_eq!(
        csv_split(&csv_line(&["a,b", "c\"d", ""])),
        ["a,b", "c\"d", ""]
    );
}

#[test]
fn bad_arguments_are_named() {
    let e = |settings: &[&str], grids: &[&str], seeds, shard: Option<&str>| {
        let settings: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
        let grids: Vec<String> = grids.iter().map(|s| s.to_string()).collect();
        Plan::new("playground", &settings, &grids, seeds, shard)
            .unwrap_err()
            .to_string()
    };
    let m = e(&[], &["widht=1,2"], 1, None);
    assert!(m.contains("Did you mean `width`?"), "{m}");
    let m = e(&[], &["width=8,5000"], 1, None);
    assert!(m.contains("`width`") && m.contains("[1, 4096]"), "{m}");
    let m = e(&["width=8"], &["width=8,16"], 1, None);
    assert!(m.contains("both fixed"), "{m}");
    let m = e(&[], &["width"], 1, None);
    assert!(m.contains("key=v1,v2"), "{m}");
    for bad in ["3", "8/8", "-1/4", "a/b", "1/0"] {
        let m = e(&[], &["width=8"], 1, Some(bad));
        assert!(m.contains("--shard must be i/N"), "{m}");
    }
    let m = e(&["seed=4294967295"], &[], 2, None);
    assert!(m.contains("`seed`"), "{m}");
    let m = e(&[], &["seed=1,5"], 2, None);
    assert!(m.contains("the seeds are swept twice"), "{m}");
    let p = Plan::new("playground", &[], &["seed=1,5".into()], 1, None).unwrap();
    assert_eq!(p.prefix_columns(), ["cell", "seed"]);
    assert_eq!(p.row_prefix(1).unwrap(), ["1", "5"]);
    let m = e(&[], &[], 0, None);
    assert!(m.contains("--seeds"), "{m}");
}

#[test]
fn shards_merged_equal_one_process_and_threads_change_nothing() {
    let grids = ["width=8,16,32", "lr=0.1,2"];
    let whole = tmp("whole");
    let out = run_plan(
        &plan(&grids, 2, None),
        &Fake::new(),
        &whole,
        false,
        &opts(1),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(out, Outcome::Done { cells: 12, ran: 12 });
    let results = fs::read_to_string(whole.join(RESULTS)).unwrap();
    assert_eq!(results.lines().count(), 13);
    assert_eq!(
        results.lines().next().unwrap(),
        "cell,width,lr,seed,testLoss,divergedAt"
    );
    assert_eq!(results.lines().nth(2).unwrap(), "1,8,0.1,6,0.1350006,");
    assert_eq!(
        results.lines().nth(4).unwrap(),
        format!("3,8,2,6,{},7", number(1.0 / 8.0 + 2.0 * 0.1 + 6.0 * 1e-7))
    );
    assert!(!whole.join(PARTIAL).exists());

    let threaded = tmp("threaded");
    run_plan(
        &plan(&grids, 2, None),
        &Fake::new(),
        &threaded,
        false,
        &opts(3),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(fs::read_to_string(threaded.join(RESULTS)).unwrap(), results);

    let dirs: Vec<PathBuf> = (0..5).map(|i| tmp(&format!("shard{i}"))).collect();
    for (i, d) in dirs.iter().enumerate() {
        let p = plan(&grids, 2, Some(&format!("{i}/5")));
        run_plan(&p, &Fake::new(), d, false, &opts(2), &NoProgress).unwrap();
    }
    let merged = tmp("merged");
    // In any order of the directories.
    let mut shards = dirs.clone();
    shards.reverse();
    merge(&MergeArgs {
        shards: shards.clone(),
        out: merged.clone(),
    })
    .unwrap();
    assert_eq!(fs::read_to_string(merged.join(RESULTS)).unwrap(), results);
    assert_eq!(
        fs::read(merged.join(MANIFEST)).unwrap(),
        fs::read(whole.join(MANIFEST)).unwrap()
    );
    assert!(!dirs[0].join(FIGURE).exists(), "a shard draws no figure");
    let svg = fs::read(whole.join(FIGURE)).unwrap();
    assert!(svg.starts_with(b"<svg"));
    assert_eq!(fs::read(merged.join(FIGURE)).unwrap(), svg);

    // A missing shard, a shard given twice, an incomplete shard.
    let e = merge(&MergeArgs {
        shards: shards[1..].to_vec(),
        out: merged.clone(),
    })
    .unwrap_err();
    assert!(matches!(e, Error::Incomplete { .. }));
    assert!(e.to_string().contains("shard 4/5 is missing"), "{e}");
    let mut twice = shards.clone();
    twice.push(dirs[3].clone());
    let e = merge(&MergeArgs {
        shards: twice,
        out: merged.clone(),
    })
    .unwrap_err();
    assert!(e.to_string().contains("shard 3/5 is given twice"), "{e}");
    let results2 = fs::read_to_string(dirs[2].join(RESULTS)).unwrap();
    fs::remove_file(dirs[2].join(RESULTS)).unwrap();
    let partial: String = results2.lines().take(2).map(|l| format!("{l}\n")).collect();
    fs::write(dirs[2].join(PARTIAL), partial).unwrap();
    let e = merge(&MergeArgs {
        shards: shards.clone(),
        out: merged.clone(),
    })
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("shard 2/5 is incomplete: 1 of 2 cells; rerun it with --resume"),
        "{e}"
    );
    // Resuming the shard completes it: the merge then succeeds.
    let p = plan(&grids, 2, Some("2/5"));
    let out = run_plan(&p, &Fake::new(), &dirs[2], true, &opts(1), &NoProgress).unwrap();
    assert_eq!(out, Outcome::Done { cells: 2, ran: 1 });
    assert_eq!(fs::read_to_string(dirs[2].join(RESULTS)).unwrap(), results2);

    // A shard of another sweep.
    let other = tmp("other");
    run_plan(
        &plan(&["width=8,16,64", "lr=0.1,2"], 2, Some("1/5")),
        &Fake::new(),
        &other,
        false,
        &opts(1),
        &NoProgress,
    )
    .unwrap();
    let mut mixed = dirs.clone();
    mixed[1] = other.clone();
    let e = merge(&MergeArgs {
        shards: mixed,
        out: merged.clone(),
    })
    .unwrap_err();
    assert!(e.to_string().contains("shards of different sweeps"), "{e}");
    assert!(e.to_string().contains("their grids are"), "{e}");
    for d in dirs.iter().chain([&whole, &threaded, &merged, &other]) {
        let _ = fs::remove_dir_all(d);
    }
}

#[test]
fn an_interrupted_sweep_resumes_to_the_uninterrupted_result() {
    let grids = ["width=8,16,32,64", "lr=0.1,0.5,2"];
    let whole = tmp("resume-whole");
    run_plan(
        &plan(&grids, 2, None),
        &Fake::new(),
        &whole,
        false,
        &opts(2),
        &NoProgress,
    )
    .unwrap();
    let dir = tmp("resume");
    let stopping = Fake {
        stop_after: Some(5),
        ..Fake::new()
    };
    let o = opts(2);
    let out = run_plan(
        &plan(&grids, 2, None),
        &stopping,
        &dir,
        false,
        &o,
        &NoProgress,
    )
    .unwrap();
    let Outcome::Interrupted { finished, cells } = out else {
        panic!("{out:?}")
    };
    assert_eq!(cells, 24);
    assert!((4..=6).contains(&finished), "{finished}");
    assert!(!dir.join(RESULTS).exists());
    // A row cut short by a killed process is dropped.
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(dir.join(PARTIAL))
        .unwrap();
    write!(f, "23,64,2,").unwrap();
    drop(f);
    // A fresh run refuses to overwrite the partial file; another sweep cannot resume it.
    let e = run_plan(
        &plan(&grids, 2, None),
        &Fake::new(),
        &dir,
        false,
        &opts(1),
        &NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("--resume"), "{e}");
    let mut longer = plan(&grids, 2, None);
    longer.steps = Some(10);
    let e = run_plan(&longer, &Fake::new(), &dir, true, &opts(1), &NoProgress).unwrap_err();
    assert!(
        e.to_string().contains("its steps are null, this one's 10"),
        "{e}"
    );
    let e = run_plan(
        &plan(&grids, 3, None),
        &Fake::new(),
        &dir,
        true,
        &opts(1),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("its seeds are 2, this one's 3"),
        "{e}"
    );
    let out = run_plan(
        &plan(&grids, 2, None),
        &Fake::new(),
        &dir,
        true,
        &opts(2),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        out,
        Outcome::Done {
            cells: 24,
            ran: 24 - finished
        }
    );
    assert_eq!(
        fs::read(dir.join(RESULTS)).unwrap(),
        fs::read(whole.join(RESULTS)).unwrap()
    );
    assert!(!dir.join(PARTIAL).exists());
    let _ = fs::remove_dir_all(&whole);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn failed_cells_are_reported_and_the_others_kept() {
    let dir = tmp("failed");
    let out = run_plan(
        &plan(&["width=8,13,16"], 1, None),
        &Fake::new(),
        &dir,
        false,
        &opts(2),
        &NoProgress,
    )
    .unwrap();
    let Outcome::Failed {
        failures,
        finished,
        cells,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!((finished, cells), (2, 3));
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].cell, 1);
    assert_eq!(failures[0].settings, "width=13 seed=5");
    assert!(failures[0].error.contains("unlucky"));
    assert!(!dir.join(RESULTS).exists());
    assert_eq!(
        fs::read_to_string(dir.join(PARTIAL))
            .unwrap()
            .lines()
            .count(),
        3
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_one_or_two_dimensional_sweep_has_its_figure() {
    let dir = tmp("figure");
    let p = plan(&["width=8,16,32"], 2, None);
    run_plan(&p, &Fake::new(), &dir, false, &opts(1), &NoProgress).unwrap();
    let rows = read_rows(&p, &dir.join(RESULTS)).unwrap();
    let Some(Figure::Lines(f)) = figure(&p, &rows) else {
        panic!("a 1-D sweep draws lines")
    };
    assert_eq!(f.x_label, "width");
    assert!(f.x_log, "width is a log-scaled setting");
    // divergedAt is never set at lr = 0.5: only testLoss is drawn.
    assert_eq!(f.series.len(), 1);
    assert!(!f.y_log, "one scalar within a decade: a linear axis");
    let s = &f.series[0];
    assert_eq!(s.x, [8.0, 16.0, 32.0]);
    // Seeds 5 and 6 (at the default lr 0.5) give 1/w + 0.05 + 5.5e-7 on average; their
    // standard deviation is 1e-7/√2, so the standard error over 2 seeds is 0.5e-7.
    let tol = 1e-15; // the mean differs from the closed form by rounding only (ulps of 0.11)
    assert!(
        (s.y[1] - (1.0 / 16.0 + 0.05 + 5.5e-7)).abs() < tol,
        "{:?}",
        s.y
    );
    let err = s.err.as_ref().unwrap();
    assert!((err[0] - 0.5e-7).abs() < 1e-12, "{err:?}");

    let dir2 = tmp("figure2");
    let p = plan(&["lr=0.1,2", "activation=relu,tanh,erf"], 1, None);
    run_plan(&p, &Fake::new(), &dir2, false, &opts(1), &NoProgress).unwrap();
    let rows = read_rows(&p, &dir2.join(RESULTS)).unwrap();
    let Some(Figure::Heatmap(h)) = figure(&p, &rows) else {
        panic!("a 2-D sweep draws a heatmap")
    };
    assert_eq!(h.ys, [0.1, 2.0]);
    assert_eq!(h.xs, [0.0, 1.0, 2.0]);
    assert_eq!(h.x_label, "activation (0: relu, 1: tanh, 2: erf)");
    assert_eq!(h.values.len(), 6);
    // lr = 2 at the default width 128.
    assert_eq!(h.values[3], 1.0 / 128.0 + 0.2 + 5e-7);
    assert!(figure(&plan(&["width=8", "lr=1", "depth=1"], 1, None), &rows).is_none());
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&dir2);
}

#[test]
fn the_resume_command_repeats_the_sweep_with_resume() {
    let args = SweepArgs {
        scene: "playground".into(),
        settings: vec!["nTrain=64".into(), "dataset=two gaussians".into()],
        grids: vec!["width=4,8".into()],
        seeds: 3,
        shard: Some("2/8".into()),
        resume: false,
        out: PathBuf::from("out/2"),
        common: Common {
            backend: crate::cli::BackendArg::Auto,
            threads: Some(4),
            memory_mib: 512,
            steps: Some(200),
            quiet: true,
        },
    };
    assert_eq!(
        resume_command(&args),
        "descent sweep playground nTrain=64 'dataset=two gaussians' --grid width=4,8 \
         --seeds 3 --shard 2/8 --steps 200 --backend auto --threads 4 --memory-mib 512 \
         --quiet --out out/2 --resume"
    );
}
