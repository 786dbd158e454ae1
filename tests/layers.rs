//! The crate's imports run only downward: math → linalg → backend → data → nn → kernels and
//! theory → session → scenes → api and cli (error, rng and exec are shared by all). Every `crate::x`
//! path in a module's source must name a module of its own layer or one below it, and within
//! `scenes` no scene imports another scene.

use std::fs;
use std::path::Path;

/// The layers from the bottom up; modules on one row are peers.
const LAYERS: &[&[&str]] = &[
    &["error", "rng", "exec"],
    &["math"],
    &["linalg"],
    &["backend"],
    &["data"],
    &["nn"],
    &["kernels", "theory"],
    &["session"],
    &["scenes"],
    &["api", "cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a source file below a folder belongs to: its first path component, without `.rs`.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The modules a source names as `crate::<name>` (in `use` lines and in paths), with the line.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name = ident(after);
            if !name.is_empty() {
                found.push((i + 1, name));
            }
            rest = after;
        }
        // `use crate::{a, b::c}` groups
        if let Some(at) = code.find("crate::{") {
            let group = &code[at + "crate::{".len()..];
            for part in group.split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    found.push((i + 1, name));
                }
            }
        }
    }
    found
}

#[test]
fn imports_run_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = module_of(rel);
        let Some(own) = layer_of(&top) else {
            continue; // lib.rs declares the modules
        };
        let text = fs::read_to_string(file).unwrap();
        for (line, name) in crate_paths(&text) {
            checked += 1;
            match layer_of(&name) {
                Some(l) if l <= own => {}
                Some(_) => upward.push(format!("{}:{line}: crate::{name}", rel.display())),
                None => {} // a re-export at the crate root (crate::Error)
            }
        }
    }
    assert!(
        checked > 200,
        "only {checked} crate paths found: the scan is broken"
    );
    assert!(
        upward.is_empty(),
        "imports that run upward:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_scene_imports_another() {
    let scenes = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scenes");
    let mut files = Vec::new();
    sources(&scenes, &mut files);
    let mut sideways = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&scenes).unwrap();
        let own = module_of(rel);
        if own == "mod" {
            continue; // the registry names every scene
        }
        let text = fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(at) = code.find("crate::scenes::") {
                let other = ident(&code[at + "crate::scenes::".len()..]);
                if other != own {
                    sideways.push(format!(
                        "scenes/{}:{}: {}",
                        rel.display(),
                        i + 1,
                        code.trim()
                    ));
                }
            }
        }
    }
    assert!(
        sideways.is_empty(),
        "scenes importing other scenes:\n{}",
        sideways.join("\n")
    );
}
