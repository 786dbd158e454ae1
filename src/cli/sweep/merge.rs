//! `descent merge`: the shards `0..N` of one sweep, each complete, joined into what the
//! unsharded run writes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::plan::{Plan, difference, manifest_text};
use super::run::{Rows, finish, read_error, read_rows, write_atomic};
use super::{FIGURE, MANIFEST, MergeArgs, PARTIAL, RESULTS};
use crate::cli::output::io_error;
use crate::error::{Error, Result};

/// One shard's directory as `merge` reads it.
struct ShardDir {
    dir: PathBuf,
    plan: Plan,
    manifest: Value,
}

/// Runs `descent merge`: checks that `args.shards` are the shards `0..N` of one sweep, each
/// present once and complete, and writes what the unsharded sweep writes into `args.out`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    if args.shards.is_empty() {
        return Err(Error::Usage {
            message:
                "descent merge needs the shards' directories: descent merge out/0 out/1 … --out DIR"
                    .into(),
        });
    }
    let mut shards: Vec<ShardDir> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for dir in &args.shards {
        if same_dir(dir, &args.out) {
            return Err(Error::Usage {
                message: format!(
                    "--out {} is one of the shards; merge into another directory",
                    args.out.display()
                ),
            });
        }
        let path = dir.join(MANIFEST);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!(
                    "{} holds no {MANIFEST}: its shard has not started",
                    dir.display()
                ));
                continue;
            }
            Err(e) => return Err(read_error(&path, e)),
        };
        let manifest: Value = serde_json::from_str(&text).map_err(|e| Error::Usage {
            message: format!("{} is not a sweep's manifest: {e}", path.display()),
        })?;
        let plan = Plan::from_manifest(&manifest, &path)?;
        shards.push(ShardDir {
            dir: dir.clone(),
            plan,
            manifest,
        });
    }
    // Every shard of one sweep: the same manifest apart from the shard.
    if let Some(first) = shards.first() {
        let strip = |m: &Value| {
            let mut m = m.clone();
            m["shard"] = Value::Null;
            m
        };
        let reference = strip(&first.manifest);
        for s in &shards[1..] {
            if strip(&s.manifest) != reference {
                let (key, a, b) =
                    difference(&reference.to_string(), &strip(&s.manifest).to_string());
                return Err(Error::Usage {
                    message: format!(
                        "{} and {} are shards of different sweeps: their {key} are {a} and {b}",
                        first.dir.display(),
                        s.dir.display(),
                    ),
                });
            }
        }
        let count = first.plan.slice().count;
        for s in &shards[1..] {
            if s.plan.slice().count != count {
                return Err(Error::Usage {
                    message: format!(
                        "{} is shard {} but {} is shard {}: a sweep is cut into one number of shards",
                        first.dir.display(),
                        first.plan.slice(),
                        s.dir.display(),
                        s.plan.slice()
                    ),
                });
            }
        }
        let mut by_index: BTreeMap<usize, &ShardDir> = BTreeMap::new();
        for s in &shards {
            if let Some(other) = by_index.insert(s.plan.slice().index, s) {
                return Err(Error::Usage {
                    message: format!(
                        "shard {} is given twice: {} and {}",
                        s.plan.slice(),
                        other.dir.display(),
                        s.dir.display()
                    ),
                });
            }
        }
        for i in 0..count {
            if !by_index.contains_key(&i) {
                problems.push(format!("shard {i}/{count} is missing"));
            }
        }
    }
    // Every shard complete.
    let mut all = Rows::default();
    for s in &shards {
        let plan = &s.plan;
        let want = plan.slice().len(plan.total());
        let results = s.dir.join(RESULTS);
        let rows = if results.exists() {
            read_rows(plan, &results)?
        } else {
            Rows::default()
        };
        if !results.exists() || rows.lines.len() != want {
            let partial = s.dir.join(PARTIAL);
            let done = if results.exists() {
                rows.lines.len()
            } else if partial.exists() {
                read_rows(plan, &partial)?.lines.len()
            } else {
                0
            };
            problems.push(format!(
                "shard {} is incomplete: {done} of {want} cells; rerun it with --resume (its output: {})",
                plan.slice(),
                s.dir.display()
            ));
            continue;
        }
        if let Some(names) = &rows.summary {
            match &all.summary {
                Some(have) if have != names => {
                    return Err(Error::Usage {
                        message: format!(
                            "{}'s summary columns are {}, the other shards' {}",
                            s.dir.display(),
                            names.join(","),
                            have.join(",")
                        ),
                    });
                }
                _ => all.summary = Some(names.clone()),
            }
        }
        all.lines.extend(rows.lines);
    }
    if !problems.is_empty() {
        return Err(Error::Incomplete {
            message: format!("cannot merge: {}", problems.join("; ")),
        });
    }
    let first = shards.first().expect("a merge without problems has shards");
    let mut whole = first.plan.clone();
    whole.shard = None;
    fs::create_dir_all(&args.out).map_err(|e| io_error(&args.out, e))?;
    for stale in [PARTIAL, RESULTS, FIGURE] {
        let _ = fs::remove_file(args.out.join(stale));
    }
    write_atomic(&args.out.join(MANIFEST), manifest_text(&whole).as_bytes())?;
    finish(&whole, &args.out, &all)?;
    eprintln!(
        "descent: {} shards, {} cells merged: {}",
        shards.len(),
        whole.total(),
        args.out.join(RESULTS).display()
    );
    Ok(())
}

/// Whether `a` and `b` name the same directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
