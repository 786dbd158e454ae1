//! Running a plan's cells on threads: each finished cell appended to the partial file, which
//! `--resume` continues from; the results file once every cell of the shard has finished.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::figure::figure;
use super::plan::{Plan, difference, manifest_text};
use super::{FIGURE, MANIFEST, PARTIAL, RESULTS};
use crate::cli::output::{self, csv_text, io_error, number};
use crate::cli::{Headless, NoProgress, Progress, RunOptions};
use crate::error::{Error, Result};

/// A cell whose run failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub cell: usize,
    /// The cell's settings in words (`width=64 seed=3`).
    pub settings: String,
    pub error: String,
}

/// How a sweep (or one shard of it) ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every cell finished: `results.csv` is written. `ran` cells ran in this process, the
    /// others were kept from the partial file.
    Done { cells: usize, ran: usize },
    /// Ctrl-C: `finished` of `cells` are kept in the partial file.
    Interrupted { finished: usize, cells: usize },
    /// Some cells failed; the others are kept in the partial file.
    Failed {
        failures: Vec<Failure>,
        finished: usize,
        cells: usize,
    },
}

/// Runs `plan` (its shard) with `driver` into `dir`, continuing the partial file there when
/// `resume`. Cells run on `options.threads` threads, each driver run with an equal part of
/// the threads and of the memory limit; the results never depend on the thread count.
pub fn run_plan(
    plan: &Plan,
    driver: &dyn Headless,
    dir: &Path,
    resume: bool,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<Outcome> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let manifest = manifest_text(plan);
    let manifest_path = dir.join(MANIFEST);
    let partial_path = dir.join(PARTIAL);
    let results_path = dir.join(RESULTS);
    let slice = plan.slice();
    let mine: Vec<usize> = slice.cells(plan.total()).collect();
    let old_manifest = fs::read_to_string(&manifest_path).ok();
    let mut rows = Rows::default();
    if resume {
        if let Some(old) = &old_manifest
            && *old != manifest
        {
            let (key, there, here) = difference(old, &manifest);
            return Err(Error::Usage {
                message: format!(
                    "{} holds another sweep (its {key} are {there}, this one's {here}); resume \
                     it with the arguments it was started with, or choose another --out",
                    dir.display(),
                ),
            });
        }
        if old_manifest.is_some() && results_path.exists() {
            let done = read_rows(plan, &results_path)?;
            if done.lines.len() == mine.len() {
                return Ok(Outcome::Done {
                    cells: mine.len(),
                    ran: 0,
                });
            }
        }
        if partial_path.exists() {
            if old_manifest.is_none() {
                return Err(Error::Usage {
                    message: format!(
                        "{} holds {PARTIAL} but no {MANIFEST}: it is not a sweep this command \
                         can resume",
                        dir.display()
                    ),
                });
            }
            rows = read_rows(plan, &partial_path)?;
        }
    } else if partial_path.exists() {
        return Err(Error::Usage {
            message: format!(
                "{} holds an unfinished sweep ({PARTIAL}); continue it with --resume, or remove \
                 the file or choose another --out to start afresh",
                dir.display()
            ),
        });
    }
    // The results of an earlier run must not stand beside this run's manifest.
    for stale in [&results_path, &dir.join(FIGURE)] {
        match fs::remove_file(stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(stale, e)),
        }
    }
    write_atomic(&manifest_path, manifest.as_bytes())?;
    // The kept rows, rewritten whole so that a row cut short is gone before more are appended.
    if resume && partial_path.exists() {
        let kept = if rows.lines.is_empty() {
            String::new()
        } else {
            results_text(plan, &rows)
        };
        write_atomic(&partial_path, kept.as_bytes())?;
    }
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|c| !rows.lines.contains_key(c))
        .collect();
    let kept = rows.lines.len();
    progress.start("cells", mine.len() as u64);
    progress.inc(kept as u64);

    let workers = options.threads.clamp(1, todo.len().max(1));
    let cell_options = RunOptions {
        steps: plan.steps,
        backend: plan.backend,
        threads: (options.threads / workers).max(1),
        memory_limit: options.memory_limit / workers as u64,
        cancel: Arc::clone(&options.cancel),
    };
    let next = AtomicUsize::new(0);
    let state = Mutex::new((
        rows,
        Partial {
            path: partial_path,
            file: None,
        },
        Vec::<Failure>::new(),
    ));
    let work = || {
        loop {
            if options.cancelled() {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&cell) = todo.get(i) else { break };
            let result = run_cell(plan, driver, cell, &cell_options);
            let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
            let (rows, partial, failures) = &mut *guard;
            let failure = |error: String| Failure {
                cell,
                settings: plan.describe(cell),
                error,
            };
            match result {
                Ok((names, line)) => {
                    let summary = rows.summary.get_or_insert_with(|| names.clone());
                    if *summary != names {
                        failures.push(failure(format!(
                            "its summary's columns are {}, the sweep's {}",
                            names.join(","),
                            summary.join(",")
                        )));
                        continue;
                    }
                    let mut header = plan.prefix_columns();
                    header.extend(names);
                    if let Err(e) = partial.append(&header, &line) {
                        failures.push(failure(e.to_string()));
                        continue;
                    }
                    rows.lines.insert(cell, line);
                    progress.inc(1);
                }
                Err(Error::Interrupted) if options.cancelled() => break,
                Err(e) => failures.push(failure(e.to_string())),
            }
        }
    };
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    }
    let (rows, _, mut failures) = state.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by_key(|f| f.cell);
    let finished = rows.lines.len();
    if !failures.is_empty() {
        return Ok(Outcome::Failed {
            failures,
            finished,
            cells: mine.len(),
        });
    }
    if finished < mine.len() {
        return Ok(Outcome::Interrupted {
            finished,
            cells: mine.len(),
        });
    }
    finish(plan, dir, &rows)?;
    Ok(Outcome::Done {
        cells: mine.len(),
        ran: finished - kept,
    })
}

/// Runs one cell: its summary's names and its CSV line.
fn run_cell(
    plan: &Plan,
    driver: &dyn Headless,
    cell: usize,
    options: &RunOptions,
) -> Result<(Vec<String>, String)> {
    let settings = plan.cell_settings(cell)?;
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        driver.run(&settings, options, &NoProgress)
    }))
    .map_err(|p| Error::Usage {
        message: format!(
            "the run panicked: {}",
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        ),
    })??;
    let names: Vec<String> = out.summary.iter().map(|(k, _)| k.clone()).collect();
    let mut fields = plan.row_prefix(cell)?;
    fields.extend(out.summary.iter().map(|&(_, v)| number(v)));
    Ok((names, csv_line(&fields)))
}

/// The appender of finished cells: `results.partial.csv`, its header written with the
/// first row.
struct Partial {
    path: PathBuf,
    file: Option<fs::File>,
}

impl Partial {
    fn append(&mut self, header: &[String], line: &str) -> Result<()> {
        if self.file.is_none() {
            let fresh = fs::metadata(&self.path).map_or(true, |m| m.len() == 0);
            let mut f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| io_error(&self.path, e))?;
            if fresh {
                writeln!(f, "{}", csv_line(header)).map_err(|e| io_error(&self.path, e))?;
            }
            self.file = Some(f);
        }
        let f = self.file.as_mut().expect("opened above");
        writeln!(f, "{line}")
            .and_then(|()| f.flush())
            .map_err(|e| io_error(&self.path, e))
    }
}

/// Rows of finished cells: each cell's CSV line by index, and the summary's column names.
#[derive(Default)]
pub(super) struct Rows {
    pub(super) lines: BTreeMap<usize, String>,
    pub(super) summary: Option<Vec<String>>,
}

/// Reads `results.partial.csv` (or `results.csv`) of `plan`: the rows of its shard's cells,
/// each checked against the cell's index, grid values and seed. A last line cut short (a
/// process killed while writing it) is dropped.
pub(super) fn read_rows(plan: &Plan, path: &Path) -> Result<Rows> {
    let text = fs::read_to_string(path).map_err(|e| read_error(path, e))?;
    let foreign = |why: String| Error::Usage {
        message: format!(
            "{} does not belong to this sweep ({why}); run it with the arguments it was started \
             with, or choose another --out",
            path.display()
        ),
    };
    let mut rows = Rows::default();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len() - usize::from(!complete && !lines.is_empty());
    let Some(header) = lines.first().filter(|_| n > 0) else {
        return Ok(rows);
    };
    let header = csv_split(header);
    let prefix = plan.prefix_columns();
    if header.len() < prefix.len() || header[..prefix.len()] != prefix[..] {
        return Err(foreign(format!(
            "its columns begin {}, this sweep's {}",
            header.join(","),
            prefix.join(",")
        )));
    }
    let summary = header[prefix.len()..].to_vec();
    for line in &lines[1..n] {
        let fields = csv_split(line);
        let cell: usize = fields[0]
            .parse()
            .map_err(|_| foreign(format!("a row begins {:?}", fields[0])))?;
        if cell >= plan.total() || !plan.slice().holds(cell) {
            return Err(foreign(format!(
                "cell {cell} is not one of shard {}",
                plan.slice()
            )));
        }
        if fields.len() != header.len() {
            return Err(foreign(format!(
                "cell {cell}'s row has {} fields",
                fields.len()
            )));
        }
        if fields[..prefix.len()] != plan.row_prefix(cell)?[..] {
            return Err(foreign(format!(
                "cell {cell} is {} here, {} in this sweep",
                fields[..prefix.len()].join(","),
                plan.row_prefix(cell)?.join(",")
            )));
        }
        rows.lines.entry(cell).or_insert_with(|| line.to_string());
    }
    if !rows.lines.is_empty() {
        rows.summary = Some(summary);
    }
    Ok(rows)
}

/// The complete results file of `plan`'s shard: the header, then each row in cell order.
fn results_text(plan: &Plan, rows: &Rows) -> String {
    let mut header = plan.prefix_columns();
    header.extend(rows.summary.iter().flatten().cloned());
    let mut out = csv_line(&header);
    out.push('\n');
    for line in rows.lines.values() {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Writes the final files of a complete shard (or sweep): `results.csv`, and for a whole
/// sweep over a 1-D or 2-D grid its figure; then removes the partial file.
pub(super) fn finish(plan: &Plan, dir: &Path, rows: &Rows) -> Result<()> {
    // A shard holds a slice of the grid: only the whole sweep (run at once or merged) is drawn.
    if plan.slice().count == 1
        && let Some(fig) = figure(plan, rows)
    {
        write_atomic(&dir.join(FIGURE), crate::cli::plot::svg(&fig)?.as_bytes())?;
    }
    write_atomic(&dir.join(RESULTS), results_text(plan, rows).as_bytes())?;
    match fs::remove_file(dir.join(PARTIAL)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&dir.join(PARTIAL), e)),
    }
}

/// One CSV line (without its line break).
pub(super) fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    fields
        .iter()
        .map(|f| csv_text(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The fields of one CSV line written by [`csv_line`].
pub(super) fn csv_split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

pub(super) fn read_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        message: format!("cannot read {}: {e}", path.display()),
    }
}

/// Writes `bytes` to `path` under a temporary name, then renames it.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().expect("a file name").to_string_lossy();
    output::write_atomic(dir, &name, bytes).map(|_| ())
}
