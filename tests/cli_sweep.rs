//! `descent sweep` and `descent merge` through the real binary: shards run as separate
//! processes and merged equal one process byte for byte; the thread count changes nothing;
//! a sweep interrupted by SIGINT and resumed equals an uninterrupted one; bad input is named
//! with the documented exit codes.
//!
//! The scene is the Playground at a small size and a few dozen steps per cell, so a cell
//! takes milliseconds.

#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_descent");

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("descent-cli-sweep-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// The sweep's arguments before `--out`: 3 widths × 2 step sizes × 2 seeds = 12 cells.
const SWEEP: &[&str] = &[
    "sweep",
    "playground",
    "dataset=circles",
    "nTrain=32",
    "seed=7",
    "--grid",
    "width=4,8,16",
    "--grid",
    "lr=0.05,0.2",
    "--seeds",
    "2",
    "--steps",
    "40",
    "--quiet",
];

fn descent(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `SWEEP` with `extra` arguments into `out`, expecting success.
fn sweep(out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = SWEEP.to_vec();
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = descent(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    o
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn shards_run_as_separate_processes_merge_to_the_one_process_result() {
    let root = scratch("shards");
    let whole = root.join("whole");
    sweep(&whole, &["--threads", "1"]);
    let results = fs::read_to_string(whole.join("results.csv")).unwrap();
    let mut lines = results.lines();
    assert_eq!(
        lines.next().unwrap(),
        "cell,width,lr,seed,trainLoss,testLoss,trainAccuracy,testAccuracy,divergedAt"
    );
    assert_eq!(lines.clone().count(), 12);
    assert!(lines.next().unwrap().starts_with("0,4,0.05,7,"));
    assert!(results.lines().nth(12).unwrap().starts_with("11,16,0.2,8,"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&whole.join("sweep.json"))).unwrap();
    assert_eq!(manifest["cells"], 12);
    assert_eq!(manifest["shard"], serde_json::Value::Null);
    assert!(!whole.join("results.partial.csv").exists());

    // Five shards (the last two hold two cells each), all running at once.
    let n = 5;
    let children: Vec<_> = (0..n)
        .map(|i| {
            let mut args: Vec<String> = SWEEP.iter().map(|s| s.to_string()).collect();
            let out = root.join(format!("shard{i}"));
            args.extend([
                "--threads".into(),
                "1".into(),
                "--shard".into(),
                format!("{i}/{n}"),
                "--out".into(),
                out.to_str().unwrap().into(),
            ]);
            Command::new(BIN)
                .args(&args)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let shard2: serde_json::Value =
        serde_json::from_slice(&read(&root.join("shard2/sweep.json"))).unwrap();
    assert_eq!(
        shard2["shard"],
        serde_json::json!({ "index": 2, "count": 5 })
    );
    assert!(
        !root.join("shard2/sweep.svg").exists(),
        "a shard draws no figure"
    );
    let merged = root.join("merged");
    let mut args = vec!["merge".to_string()];
    // In any order.
    args.extend(
        (0..n)
            .rev()
            .map(|i| root.join(format!("shard{i}")).display().to_string()),
    );
    args.extend(["--out".into(), merged.display().to_string()]);
    let o = Command::new(BIN).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read(&merged.join("results.csv")), results.as_bytes());
    assert_eq!(
        read(&merged.join("sweep.json")),
        read(&whole.join("sweep.json"))
    );

    // The same with GNU parallel, when the system has it.
    let has_parallel = Command::new("sh")
        .args(["-c", "command -v parallel"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_parallel {
        let par = root.join("parallel");
        let mut cmd = format!("parallel --halt now,fail=1 --jobs {n} '{BIN}'");
        for a in SWEEP {
            cmd.push_str(&format!(" '{a}'"));
        }
        cmd.push_str(&format!(
            " --threads 1 --shard {{}}/{n} --out '{}/{{}}' ::: $(seq 0 {})",
            par.display(),
            n - 1
        ));
        let o = Command::new("sh").args(["-c", &cmd]).output().unwrap();
        assert!(o.status.success(), "{cmd}: {}", stderr(&o));
        let mut args = vec!["merge".to_string()];
        args.extend((0..n).map(|i| par.join(i.to_string()).display().to_string()));
        args.extend(["--out".into(), par.join("all").display().to_string()]);
        let o = Command::new(BIN).args(&args).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(read(&par.join("all/results.csv")), results.as_bytes());
        assert_eq!(
            read(&par.join("all/sweep.json")),
            read(&whole.join("sweep.json"))
        );
    } else {
        println!("GNU parallel is not installed here: its variant of this test is skipped");
    }

    // A missing shard and an incomplete one are named, with exit code 3.
    let mut args = vec!["merge".to_string()];
    args.extend([0, 1, 2, 4].map(|i| root.join(format!("shard{i}")).display().to_string()));
    args.extend(["--out".into(), root.join("bad").display().to_string()]);
    let o = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shard 3/5 is missing"),
        "{}",
        stderr(&o)
    );
    let s1 = root.join("shard1");
    let full = fs::read_to_string(s1.join("results.csv")).unwrap();
    fs::remove_file(s1.join("results.csv")).unwrap();
    let first_row: String = full.lines().take(2).map(|l| format!("{l}\n")).collect();
    fs::write(s1.join("results.partial.csv"), first_row).unwrap();
    let mut args = vec!["merge".to_string()];
    args.extend((0..n).map(|i| root.join(format!("shard{i}")).display().to_string()));
    args.extend(["--out".into(), root.join("bad").display().to_string()]);
    let o = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shard 1/5 is incomplete: 1 of 3 cells; rerun it with --resume"),
        "{}",
        stderr(&o)
    );
    assert!(!root.join("bad/results.csv").exists());
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn the_thread_count_changes_nothing() {
    let root = scratch("threads");
    sweep(&root.join("one"), &["--threads", "1"]);
    sweep(&root.join("two"), &["--threads", "2"]);
    assert_eq!(
        read(&root.join("one/results.csv")),
        read(&root.join("two/results.csv"))
    );
    let _ = fs::remove_dir_all(&root);
}

#[cfg(unix)]
#[test]
fn a_sweep_interrupted_by_sigint_resumes_to_the_uninterrupted_result() {
    let root = scratch("sigint");
    // 48 cells of a few hundred steps each: long enough to interrupt after the first rows.
    let args: Vec<String> = [
        "sweep",
        "playground",
        "dataset=circles",
        "nTrain=64",
        "--grid",
        "width=16,32,64,128",
        "--grid",
        "lr=0.05,0.1,0.2",
        "--seeds",
        "4",
        "--steps",
        "1000",
        "--threads",
        "1",
        "--quiet",
    ]
    .map(String::from)
    .to_vec();
    let with_out = |dir: &Path| {
        let mut a = args.clone();
        a.extend(["--out".into(), dir.display().to_string()]);
        a
    };
    let whole = root.join("whole");
    let o = Command::new(BIN).args(with_out(&whole)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    let dir = root.join("interrupted");
    let child = Command::new(BIN)
        .args(with_out(&dir))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first finished rows, then press Ctrl-C.
    let partial = dir.join("results.partial.csv");
    let start = Instant::now();
    while fs::read_to_string(&partial).map_or(0, |t| t.lines().count()) < 3 {
        assert!(start.elapsed() < Duration::from_secs(60), "no row appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("of 48 cells finished"), "{err}");
    assert!(
        err.contains("--steps 1000 --threads 1 --quiet --out") && err.contains("--resume"),
        "{err}"
    );
    assert!(!dir.join("results.csv").exists());
    let kept = fs::read_to_string(&partial).unwrap().lines().count() - 1;
    assert!((2..48).contains(&kept), "{kept} cells kept");

    let mut again = with_out(&dir);
    again.push("--resume".into());
    again.retain(|a| a != "--quiet");
    let o = Command::new(BIN).args(&again).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("({} run now)", 48 - kept)),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read(&dir.join("results.csv")),
        read(&whole.join("results.csv"))
    );
    assert!(!partial.exists());
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn bad_input_is_named_with_its_exit_code() {
    let root = scratch("errors");
    let out = root.join("out");
    let out = out.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["sweep", "playground", "--steps", "5", "--out", out];
        a.extend(extra);
        descent(&a)
    };
    let o = run(&["--grid", "widht=4,8"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Did you mean `width`?"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--grid", "width=4,5000"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`width`") && stderr(&o).contains("[1, 4096]"),
        "{}",
        stderr(&o)
    );
    for shard in ["3", "4/4", "a/2"] {
        let o = run(&["--grid", "width=4,8", "--shard", shard]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--shard must be i/N"), "{}", stderr(&o));
    }
    // Shards of two different sweeps.
    let a = root.join("a");
    let b = root.join("b");
    for (dir, widths, i) in [(&a, "width=4,8", "0/2"), (&b, "width=4,16", "1/2")] {
        let o = descent(&[
            "sweep",
            "playground",
            "nTrain=16",
            "--steps",
            "5",
            "--quiet",
            "--grid",
            widths,
            "--shard",
            i,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = descent(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        root.join("m").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shards of different sweeps") && stderr(&o).contains("grids"),
        "{}",
        stderr(&o)
    );
    // A cell refused by its memory estimate: the others run, the failed one is named, exit 3.
    let f = root.join("failed");
    let o = descent(&[
        "sweep",
        "playground",
        "nTrain=16",
        "--steps",
        "5",
        "--grid",
        "width=4,4096",
        "--memory-mib",
        "1",
        "--threads",
        "1",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 of 2 cells failed") && stderr(&o).contains("cell 1 (width=4096"),
        "{}",
        stderr(&o)
    );
    assert!(!f.join("results.csv").exists());
    assert_eq!(
        fs::read_to_string(f.join("results.partial.csv"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    let _ = fs::remove_dir_all(&root);
}
