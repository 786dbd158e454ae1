//! `descent figures`: the README's figures drawn headless.

use std::process::Command;

fn descent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_descent"))
}

/// Two panels of one double-descent run are drawn into DIR/figures/ as SVG documents with
/// their titles and axis labels; an unknown figure is a usage error naming the figures.
#[test]
fn figures_are_drawn_into_the_figures_folder() {
    let dir = std::env::temp_dir().join(format!("descent-figures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = descent()
        .args([
            "figures",
            "--quiet",
            "--only",
            "double-descent,isotropic",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let curve = std::fs::read_to_string(dir.join("figures/double-descent.svg")).unwrap();
    assert!(
        curve.starts_with("<svg") || curve.starts_with("<?xml"),
        "{}",
        &curve[..60]
    );
    assert!(curve.trim_end().ends_with("</svg>"));
    assert!(curve.contains("p/n") && curve.contains("Mei"), "labels");
    let iso = std::fs::read_to_string(dir.join("figures/isotropic.svg")).unwrap();
    assert!(iso.contains("isotropic"), "title");
    let names: Vec<_> = std::fs::read_dir(dir.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "only the figures asked for, no temporary files: {names:?}"
    );

    let out = descent()
        .args(["figures", "--only", "no-such-figure", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-figure") && err.contains("weak-labels"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
