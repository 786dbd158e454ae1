//! The `descent` binary from the outside: its error messages and exit codes (docs/cli.md),
//! share links read as the page reads them, and what a run writes (or, when it fails or is
//! interrupted, does not write).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_descent");

/// A small double-descent run (three sizes, one seed, few test points): well under a second.
const SMALL: &[&str] = &["sizes=3", "seeds=1", "nTest=10", "ratioMax=2"];

fn descent(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the descent binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh directory for one test's output (not created).
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("descent-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json is written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// Every line of stderr is the binary's own, `descent: …` (clap's usage lines aside).
fn assert_prefixed(o: &Output) {
    let e = stderr(o);
    let first = e.lines().next().unwrap_or("");
    assert!(first.starts_with("descent: "), "stderr: {e}");
}

#[test]
fn an_unknown_key_names_the_valid_ones_and_the_closest() {
    let o = descent(&["run", "playground", "widht=64"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_prefixed(&o);
    let e = stderr(&o);
    assert!(e.contains("no setting `widht`"), "{e}");
    assert!(e.contains("Did you mean `width`?"), "{e}");
    assert!(
        e.contains("nTrain") && e.contains("initScale") && e.contains("seed"),
        "{e}"
    );
}

#[test]
fn a_value_out_of_its_range_states_the_range() {
    let o = descent(&["run", "playground", "width=99999"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_prefixed(&o);
    let e = stderr(&o);
    assert!(
        e.contains("`width`") && e.contains("[1, 4096]") && e.contains("99999"),
        "{e}"
    );
    // A value that is not a number at all names the setting and the text.
    let o = descent(&["run", "double-descent", "noise=lots"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("`noise`") && e.contains("\"lots\""), "{e}");
}

#[test]
fn an_argument_without_equals_is_a_usage_error() {
    let o = descent(&["run", "playground", "width"]);
    assert_eq!(o.status.code(), Some(2));
    assert_prefixed(&o);
    let e = stderr(&o);
    assert!(e.contains("`width`") && e.contains("key=value"), "{e}");
}

#[test]
fn an_unknown_scene_names_the_scenes_and_the_closest() {
    let o = descent(&["run", "double-decent"]);
    assert_eq!(o.status.code(), Some(2));
    assert_prefixed(&o);
    let e = stderr(&o);
    assert!(e.contains("no scene `double-decent`"), "{e}");
    assert!(e.contains("Did you mean `double-descent`?"), "{e}");
    assert!(e.contains("playground") && e.contains("weak-labels"), "{e}");
    let o = descent(&["settings", "lazzy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Did you mean `lazy`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn clap_errors_exit_with_2_and_help_with_0() {
    let o = descent(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert_prefixed(&o);
    let o = descent(&["run", "playground", "--threads", "many"]);
    assert_eq!(o.status.code(), Some(2));
    let o = descent(&["run", "playground", "--backend", "tpu"]);
    assert_eq!(o.status.code(), Some(2));
    let o = descent(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    assert!(
        help.contains("Exit codes") && help.contains("130"),
        "{help}"
    );
    let o = descent(&["run", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("descent run double-descent --out dd"));
}

#[test]
fn scenes_and_settings_list_the_tables() {
    let o = descent(&["scenes"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    for id in [
        "playground",
        "lazy",
        "double-descent",
        "step",
        "weak-labels",
        "double-descent/trained",
    ] {
        assert!(
            s.lines().any(|l| l.starts_with(id)),
            "{id} missing from\n{s}"
        );
    }
    let o = descent(&["settings", "double-descent"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    let row = s
        .lines()
        .find(|l| l.trim_start().starts_with("nTrain "))
        .expect("an nTrain row");
    assert!(
        row.contains("int") && row.contains("4 to 1000") && row.contains("300"),
        "{row}"
    );
    let row = s
        .lines()
        .find(|l| l.trim_start().starts_with("sweep "))
        .unwrap();
    assert!(row.contains("features | samples"), "{row}");
}

#[test]
fn an_oversize_run_is_refused_with_its_memory_estimate() {
    let dir = scratch("oversize");
    let o = descent(&[
        "run",
        "double-descent",
        "--memory-mib",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_prefixed(&o);
    let e = stderr(&o);
    assert!(e.contains("would need about") && e.contains("MB"), "{e}");
    assert!(e.contains("more than the 1.0 MB limit"), "{e}");
    assert!(
        !dir.join("report.json").exists(),
        "a refused run writes nothing"
    );
}

#[test]
fn a_run_writes_its_report_tables_and_figures() {
    let dir = scratch("run");
    let mut args = vec![
        "run",
        "double-descent",
        "noise=0.25",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let o = descent(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&dir);
    assert_eq!(r["scene"], "double-descent");
    assert_eq!(r["backend"], "cpu");
    assert_eq!(r["settings"]["noise"], 0.25);
    assert_eq!(r["settings"]["sizes"], 3);
    assert!(r["summary"].is_object() && r["report"].is_object());
    let link = r["link"].as_str().unwrap();
    assert!(link.starts_with("double-descent.html?"), "{link}");
    assert!(link.contains("noise=0.25"), "{link}");
    // The page has no control for `sizes`, so the link leaves it out and says so.
    assert!(!link.contains("sizes="), "{link}");
    assert!(
        r["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("no control for `nTest`, `sizes`")),
        "{}",
        r["notes"]
    );
    assert!(
        !link.contains("nTrain="),
        "defaults stay out of the link: {link}"
    );
    // Every table and figure the summary names is there, and nothing temporary is left.
    let out = stdout(&o);
    assert!(out.contains("double-descent on the CPU"), "{out}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".csv")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".svg")), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with('.')),
        "a temporary file remains: {names:?}"
    );
    for n in &names {
        assert!(
            out.contains(n.as_str()),
            "{n} is not in the summary:\n{out}"
        );
    }
    let svg = names.iter().find(|n| n.ends_with(".svg")).unwrap();
    let svg = std::fs::read_to_string(dir.join(svg)).unwrap();
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    // The link back opens the same run when every setting has a control on the page: read as
    // a share link it gives the same settings and the same numbers.
    let dir1 = scratch("run-there");
    let d1 = dir1.to_str().unwrap();
    let there = [
        "run",
        "double-descent",
        "noise=0.25",
        "nTrain=40",
        "nFeatures=40",
        "dim=10",
        "seeds=1",
        "--out",
        d1,
    ];
    let o = descent(&there);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r1 = report(&dir1);
    let link = r1["link"].as_str().unwrap();
    let dir2 = scratch("run-back");
    let back = format!("https://example.org/descent/{link}");
    let o = descent(&["run", &back, "--out", dir2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).is_empty(),
        "no notes for the page's own link: {}",
        stderr(&o)
    );
    assert_eq!(report(&dir2)["settings"], r1["settings"]);
    assert_eq!(report(&dir2)["summary"], r1["summary"]);
    // A link that sets what the page has no control for is read as the page reads it: that
    // setting keeps its default, with a note.
    let dir3 = scratch("run-uncontrolled");
    let o = descent(&[
        "run",
        &format!("{back}&nTest=10"),
        "--out",
        dir3.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nTest: the page has no control for it and keeps its default, 1000"),
        "{}",
        stderr(&o)
    );
    assert_eq!(report(&dir3)["summary"], r1["summary"]);
    for d in [&dir, &dir1, &dir2, &dir3] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn a_link_is_read_as_the_page_reads_it_and_key_value_overrides_it() {
    let dir = scratch("link");
    let link = "https://example.org/descent/double-descent.html?nTrain=2&NOISE=0.75&sizes=3&seeds=1&nTest=10&ratioMax=2&bogus=1&embed=1#fig-curve";
    let o = descent(&["run", link, "sizes=4", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("descent: note: nTrain: \"2\" is out of range, using 4"),
        "{e}"
    );
    assert!(
        e.contains("\"bogus\" is not a setting of double-descent"),
        "{e}"
    );
    assert!(
        !e.contains("embed"),
        "the page's display keys pass in silence: {e}"
    );
    let r = report(&dir);
    assert_eq!(r["settings"]["nTrain"], 4, "clamped into [4, 1000]");
    assert_eq!(
        r["settings"]["noise"], 0.75,
        "keys match without regard to case"
    );
    assert_eq!(
        r["settings"]["sizes"], 4,
        "key=value after the link overrides it"
    );
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(notes.iter().any(|n| n.contains("nTrain")), "{notes:?}");
    // After a link, key=value is as strict as ever.
    let o = descent(&["run", link, "sizes=1000", "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("`sizes`"), "{}", stderr(&o));
    // A page that is not one of Descent's names the pages.
    let o = descent(&["run", "https://example.org/other.html?x=1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("double-descent.html"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_run_leaves_no_report_and_keeps_a_complete_earlier_one() {
    let dir = scratch("failed");
    let d = dir.to_str().unwrap();
    let o = descent(&["run", "double-descent", "--memory-mib", "1", "--out", d]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.join("report.json").exists());
    // A complete run, then a failed one into the same directory: the first stays whole.
    let mut args = vec!["run", "double-descent", "--out", d];
    args.extend(SMALL);
    assert_eq!(descent(&args).status.code(), Some(0));
    let before = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let o = descent(&["run", "double-descent", "--memory-mib", "1", "--out", d]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("report.json")).unwrap(),
        before
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_exits_with_130_and_writes_no_report() {
    // Ctrl-C from a terminal, SIGTERM from a scheduler stopping the job: the same stop.
    for signal in ["-INT", "-TERM"] {
        let dir = scratch("interrupted");
        // The Lazy-or-rich scene trains and then sweeps widths: many seconds, checked for
        // Ctrl-C between chunks of steps and between widths.
        let child = Command::new(BIN)
            .args(["run", "lazy", "--out", dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(800));
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{signal}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("descent: interrupted (Ctrl-C or a stop signal)"),
            "{e}"
        );
        assert!(
            !dir.join("report.json").exists(),
            "an interrupted run writes no report"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
