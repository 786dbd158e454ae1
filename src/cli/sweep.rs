//! `descent sweep` and `descent merge`: a grid of settings over seeds, in shards that any
//! scheduler can run, joined into exactly the result of one process.
//!
//! A sweep's cells are the product of its `--grid` lists, in the order given with the last
//! varying fastest, each run at `--seeds` consecutive seeds (seed, seed + 1, …): cell
//! `k = point · seeds + s` is grid point `point` at seed offset `s`. Shard `i/N` runs the
//! cells `k ≡ i (mod N)`. Each cell runs the scene's driver ([`Headless::run`]) and keeps its
//! `summary` only.
//!
//! An output directory holds:
//! - `sweep.json`: the manifest (scene, fixed settings, grids, seeds, cells, shard, steps,
//!   backend, version, and every setting's base value), written before the first cell runs;
//! - `results.partial.csv`: one row per finished cell, appended and flushed as each cell
//!   finishes (in any order, each row carrying its cell index): what `--resume` continues
//!   from;
//! - `results.csv`: columns `cell`, the grid keys, `seed` (when the scene has one), then the
//!   summary scalars in the driver's order; rows in cell order; numbers in the shortest form
//!   that reads back exactly, NaN as an empty field. Written only once every cell of the
//!   shard has finished (under a temporary name, then renamed), after which the partial file
//!   is removed;
//! - `sweep.svg`, for a whole sweep (not a shard: `merge` draws it) over one or two grids:
//!   each summary scalar against the grid (mean ± standard error over seeds), or a heatmap of
//!   the first scalar over the two grids.
//!
//! `descent merge` checks that its directories are the shards `0..N` of one sweep, each
//! complete, and writes what the unsharded run writes, byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::output::{self, csv_text, io_error, number};
use super::settings::{parse_value, setting};
use super::{
    Common, Figure, Headless, HeatPlot, LinePlot, NoProgress, Progress, RunOptions, Series,
    Settings, Style, json_of,
};
use crate::error::{Error, Result};
use crate::session::device::BackendChoice;
use crate::session::fields::Field;

/// `descent sweep <scene> --grid key=v1,v2,… [--grid …] --seeds N [--shard i/N] --out DIR`.
#[derive(Clone, Debug, clap::Args)]
pub struct SweepArgs {
    /// The scene (or panel) to sweep.
    pub scene: String,
    /// Settings that stay fixed, as `key=value`.
    pub settings: Vec<String>,
    /// A setting and its values, `key=v1,v2,…`; several `--grid`s make a product.
    #[arg(long = "grid")]
    pub grids: Vec<String>,
    /// Seeds per cell: seed, seed + 1, …
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// Run only slice i of N (0-based), e.g. `--shard $SLURM_ARRAY_TASK_ID/16`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Continue an interrupted sweep in `--out`, keeping the cells it finished.
    #[arg(long)]
    pub resume: bool,
    /// Where the results go.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

/// `descent merge SHARD_DIR… --out DIR`.
#[derive(Clone, Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' output directories.
    pub shards: Vec<PathBuf>,
    /// Where the merged result goes.
    #[arg(long)]
    pub out: PathBuf,
}

/// The manifest's file name.
pub const MANIFEST: &str = "sweep.json";
/// The complete results' file name.
pub const RESULTS: &str = "results.csv";
/// The file finished cells are appended to while a sweep runs.
pub const PARTIAL: &str = "results.partial.csv";
/// The figure of a 1-D or 2-D sweep.
pub const FIGURE: &str = "sweep.svg";

/// One slice of a sweep: the cells whose index is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Reads `i/N` (0 ≤ i < N).
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || Error::Usage {
            message: format!(
                "--shard must be i/N with 0 ≤ i < N (slice i of N, counted from 0), e.g. \
                 --shard 3/8; got {text:?}"
            ),
        };
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// How many of `total` cells this shard holds.
    pub fn len(&self, total: usize) -> usize {
        (total + self.count - 1 - self.index) / self.count
    }

    /// Whether the shard holds no cell of `total`.
    pub fn is_empty(&self, total: usize) -> bool {
        self.len(total) == 0
    }

    /// The shard's cells of `total`, in order.
    pub fn cells(self, total: usize) -> impl Iterator<Item = usize> {
        (self.index..total).step_by(self.count)
    }

    fn holds(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A sweep: its scene, base settings, grids, seeds and shard, checked against the scene's
/// settings table.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Every setting at its default, with the fixed `key=value`s applied.
    base: Settings,
    /// The fixed settings, in the order given.
    fixed: Vec<(String, Field)>,
    /// Each swept setting and its values, in the order given.
    grids: Vec<(String, Vec<Field>)>,
    /// Runs per grid point (seed, seed + 1, …).
    seeds: usize,
    /// Whether each grid point runs at seeds counted from its `seed` setting (the scene has
    /// one, and no grid lists the seeds): the rows then carry a `seed` column.
    seeded: bool,
    /// The slice this process runs; `None` for the whole sweep.
    pub shard: Option<Shard>,
    /// Each cell's steps (`--steps`; `None` for the driver's default).
    pub steps: Option<u64>,
    /// Where each cell's matrix work runs (`--backend`).
    pub backend: BackendChoice,
}

impl Plan {
    /// The sweep of `scene` with `settings` (`key=value`) fixed, `grids` (`key=v1,v2,…`)
    /// swept, `seeds` seeds per grid point and, when given, only `shard` (`i/N`) run.
    pub fn new(
        scene: &str,
        settings: &[String],
        grids: &[String],
        seeds: u64,
        shard: Option<&str>,
    ) -> Result<Plan> {
        let mut base = Settings::defaults(scene).ok_or_else(|| Error::Usage {
            message: format!(
                "there is no scene `{scene}`; the scenes are: {}",
                crate::scenes::specs()
                    .iter()
                    .map(|s| s.scene)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        let spec = base.spec.clone();
        let mut fixed: Vec<(String, Field)> = Vec::new();
        for arg in settings {
            let (key, value) = arg.split_once('=').ok_or_else(|| Error::Usage {
                message: format!(
                    "a setting is written key=value, e.g. seed=3; got {arg:?} (the values of a \
                     swept setting go in --grid key=v1,v2,…)"
                ),
            })?;
            let s = setting(&spec, key.trim())?;
            let v = parse_value(s, value)?;
            if fixed.iter().any(|(k, _)| k == s.name) {
                return Err(Error::Usage {
                    message: format!("`{}` is given twice", s.name),
                });
            }
            base.set(s.name, v.clone())?;
            fixed.push((s.name.to_string(), v));
        }
        let mut swept: Vec<(String, Vec<Field>)> = Vec::new();
        for arg in grids {
            let (key, values) = arg.split_once('=').ok_or_else(|| Error::Usage {
                message: format!(
                    "--grid is written key=v1,v2,…, e.g. --grid width=8,16,32; got {arg:?}"
                ),
            })?;
            let s = setting(&spec, key.trim())?;
            if fixed.iter().any(|(k, _)| k == s.name) {
                return Err(Error::Usage {
                    message: format!(
                        "`{}` is both fixed ({}={}) and swept (--grid {arg}); give one of them",
                        s.name,
                        s.name,
                        text_of(&fixed.iter().find(|(k, _)| k == s.name).unwrap().1)
                    ),
                });
            }
            if swept.iter().any(|(k, _)| k == s.name) {
                return Err(Error::Usage {
                    message: format!(
                        "`{}` is swept twice; put all its values in one --grid {}=v1,v2,…",
                        s.name, s.name
                    ),
                });
            }
            let values = values
                .split(',')
                .map(|v| parse_value(s, v))
                .collect::<Result<Vec<Field>>>()?;
            swept.push((s.name.to_string(), values));
        }
        if seeds == 0 {
            return Err(Error::Usage {
                message: "--seeds must be at least 1".into(),
            });
        }
        if spec.get("seed").is_none() && seeds > 1 {
            return Err(Error::Usage {
                message: format!(
                    "{} has no `seed` setting, so each cell runs once: --seeds must be 1 (got {seeds})",
                    spec.scene
                ),
            });
        }
        let seed_swept = swept.iter().any(|(k, _)| k == "seed");
        if seed_swept && seeds > 1 {
            return Err(Error::Usage {
                message: format!(
                    "the seeds are swept twice (--grid seed=… and --seeds {seeds}): list them in \
                     the grid, or give the first as seed=… and their number as --seeds"
                ),
            });
        }
        // The seed column and the seed offsets, unless the grid lists the seeds itself.
        let seeded = spec.get("seed").is_some() && !seed_swept;
        let seeds = usize::try_from(seeds).map_err(|_| Error::Usage {
            message: format!("--seeds {seeds} is too many"),
        })?;
        let shard = shard.map(Shard::parse).transpose()?;
        let plan = Plan {
            base,
            fixed,
            grids: swept,
            seeds,
            seeded,
            shard,
            steps: None,
            backend: BackendChoice::Cpu,
        };
        plan.check_seeds()?;
        Ok(plan)
    }

    /// The scene's id.
    pub fn scene(&self) -> &'static str {
        self.base.scene()
    }

    /// The number of cells of the whole sweep.
    pub fn total(&self) -> usize {
        self.points() * self.seeds
    }

    fn points(&self) -> usize {
        self.grids.iter().map(|(_, v)| v.len()).product()
    }

    /// The slice this process runs (the whole sweep when unsharded).
    pub fn slice(&self) -> Shard {
        self.shard.unwrap_or(Shard::ALL)
    }

    /// Each grid's value index at grid point `point` (the last grid varying fastest).
    fn coordinates(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut out = vec![0; self.grids.len()];
        for (g, (_, values)) in self.grids.iter().enumerate().rev() {
            out[g] = rest % values.len();
            rest /= values.len();
        }
        out
    }

    /// The settings of grid point `point`, before the seed offset.
    fn point_settings(&self, point: usize) -> Result<Settings> {
        let mut s = self.base.clone();
        for ((key, values), i) in self.grids.iter().zip(self.coordinates(point)) {
            s.set(key, values[i].clone())?;
        }
        Ok(s)
    }

    /// The seed of a point's first run.
    fn first_seed(s: &Settings) -> u64 {
        s.num("seed") as u64
    }

    /// Refuses a sweep whose last seed lies past the `seed` setting's range.
    fn check_seeds(&self) -> Result<()> {
        if !self.seeded {
            return Ok(());
        }
        let max = self.base.spec.bounds("seed")[1];
        for point in 0..self.points() {
            let s = self.point_settings(point)?;
            let last = Self::first_seed(&s) as f64 + (self.seeds - 1) as f64;
            if last > max {
                return Err(Error::config(
                    "seed",
                    format!(
                        "must lie in [0, {max}]: seed {} with --seeds {} runs up to seed {last}",
                        Self::first_seed(&s),
                        self.seeds
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The settings cell `cell` runs with.
    pub fn cell_settings(&self, cell: usize) -> Result<Settings> {
        let mut s = self.point_settings(cell / self.seeds)?;
        if self.seeded {
            let seed = Self::first_seed(&s) + (cell % self.seeds) as u64;
            s.set("seed", Field::Num(seed as f64))?;
        }
        Ok(s)
    }

    /// The leading fields of cell `cell`'s row: its index, its grid values and its seed.
    fn row_prefix(&self, cell: usize) -> Result<Vec<String>> {
        let s = self.cell_settings(cell)?;
        let mut out = vec![cell.to_string()];
        for (key, _) in &self.grids {
            out.push(text_of(s.get(key)));
        }
        if self.seeded {
            out.push(text_of(s.get("seed")));
        }
        Ok(out)
    }

    /// The leading column names: `cell`, the grid keys and `seed`.
    fn prefix_columns(&self) -> Vec<String> {
        let mut out = vec!["cell".to_string()];
        out.extend(self.grids.iter().map(|(k, _)| k.clone()));
        if self.seeded {
            out.push("seed".into());
        }
        out
    }

    /// The cell's settings in words: `width=64 lr=0.5 seed=3`.
    fn describe(&self, cell: usize) -> String {
        match self.cell_settings(cell) {
            Ok(s) => {
                let mut keys: Vec<&str> = self.grids.iter().map(|(k, _)| k.as_str()).collect();
                if self.seeded {
                    keys.push("seed");
                }
                keys.iter()
                    .map(|k| format!("{k}={}", text_of(s.get(k))))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Err(e) => e.to_string(),
        }
    }

    /// The manifest, `sweep.json`'s content.
    pub fn manifest(&self) -> Value {
        let fixed: serde_json::Map<String, Value> = self
            .fixed
            .iter()
            .map(|(k, v)| (k.clone(), json_of(v)))
            .collect();
        let grids: Vec<Value> = self
            .grids
            .iter()
            .map(|(k, v)| json!({ "key": k, "values": v.iter().map(json_of).collect::<Vec<_>>() }))
            .collect();
        json!({
            "scene": self.scene(),
            "version": env!("CARGO_PKG_VERSION"),
            "fixed": fixed,
            "grids": grids,
            "seeds": self.seeds,
            "cells": self.total(),
            "shard": self.shard.map(|s| json!({ "index": s.index, "count": s.count })),
            "steps": self.steps,
            "backend": self.backend,
            "settings": self.base.to_json(),
        })
    }

    /// The plan a manifest describes (a shard's, read back by `merge`).
    fn from_manifest(m: &Value, file: &Path) -> Result<Plan> {
        let bad = |what: &str| Error::Usage {
            message: format!("{} is not a sweep's manifest: {what}", file.display()),
        };
        let scene = m["scene"].as_str().ok_or_else(|| bad("no scene"))?;
        let fixed: Vec<String> = m["fixed"]
            .as_object()
            .ok_or_else(|| bad("no fixed settings"))?
            .iter()
            .map(|(k, v)| format!("{k}={}", json_text(v)))
            .collect();
        let grids: Vec<String> = m["grids"]
            .as_array()
            .ok_or_else(|| bad("no grids"))?
            .iter()
            .map(|g| {
                let key = g["key"]
                    .as_str()
                    .ok_or_else(|| bad("a grid without a key"))?;
                let values: Vec<String> = g["values"]
                    .as_array()
                    .ok_or_else(|| bad("a grid without values"))?
                    .iter()
                    .map(json_text)
                    .collect();
                Ok(format!("{key}={}", values.join(",")))
            })
            .collect::<Result<_>>()?;
        let seeds = m["seeds"].as_u64().ok_or_else(|| bad("no seeds"))?;
        let shard = match &m["shard"] {
            Value::Null => None,
            s => Some(format!(
                "{}/{}",
                s["index"]
                    .as_u64()
                    .ok_or_else(|| bad("a shard without index"))?,
                s["count"]
                    .as_u64()
                    .ok_or_else(|| bad("a shard without count"))?
            )),
        };
        let mut plan = Plan::new(scene, &fixed, &grids, seeds, shard.as_deref())?;
        plan.steps = match &m["steps"] {
            Value::Null => None,
            s => Some(
                s.as_u64()
                    .ok_or_else(|| bad("steps that are not a count"))?,
            ),
        };
        plan.backend =
            serde_json::from_value(m["backend"].clone()).map_err(|_| bad("no backend"))?;
        Ok(plan)
    }
}

/// A setting's value as a CSV field and on a command line.
fn text_of(v: &Field) -> String {
    match v {
        Field::Null => String::new(),
        Field::Bool(b) => b.to_string(),
        Field::Num(x) => number(*x),
        Field::Str(s) => s.clone(),
    }
}

/// A manifest's JSON value as `parse_value` reads it.
fn json_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One CSV line (without its line break).
fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    fields
        .iter()
        .map(|f| csv_text(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The fields of one CSV line written by [`csv_line`].
fn csv_split(line: &str) -> Vec<String> {
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

fn read_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        message: format!("cannot read {}: {e}", path.display()),
    }
}

/// Writes `bytes` to `path` under a temporary name, then renames it.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().expect("a file name").to_string_lossy();
    output::write_atomic(dir, &name, bytes).map(|_| ())
}

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

/// Rows of finished cells: each cell's CSV line by index, and the summary's column names.
#[derive(Default)]
struct Rows {
    lines: BTreeMap<usize, String>,
    summary: Option<Vec<String>>,
}

/// Reads `results.partial.csv` (or `results.csv`) of `plan`: the rows of its shard's cells,
/// each checked against the cell's index, grid values and seed. A last line cut short (a
/// process killed while writing it) is dropped.
fn read_rows(plan: &Plan, path: &Path) -> Result<Rows> {
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

/// The figure of a 1-D or 2-D sweep, from its complete rows: for one grid, each summary
/// scalar's mean over seeds (± its standard error when there are several seeds) against the
/// grid's values; for two grids, a heatmap of the first summary scalar's mean over seeds, the
/// first grid along y and the second along x. `None` for other sweeps.
///
/// A grid of names or flags is drawn at positions 0, 1, … named in the axis label. A mean over
/// seeds is NaN (not drawn) when any seed's value is missing (e.g. `divergedAt` of a run that
/// did not diverge).
fn figure(plan: &Plan, rows: &Rows) -> Option<Figure> {
    let names = rows.summary.as_ref()?;
    if names.is_empty() || !(1..=2).contains(&plan.grids.len()) {
        return None;
    }
    let offset = plan.prefix_columns().len();
    // Each grid point's values over its seeds, per summary scalar.
    let mut by_point: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); names.len()]; plan.points()];
    for (&cell, line) in &rows.lines {
        let fields = csv_split(line);
        for (j, f) in fields[offset..].iter().enumerate() {
            by_point[cell / plan.seeds][j].push(f.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let stderr = |v: &[f64]| {
        if v.len() < 2 {
            return f64::NAN;
        }
        let m = mean(v);
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
        (var / v.len() as f64).sqrt()
    };
    let axis = |g: usize| {
        let (key, values) = &plan.grids[g];
        let numeric = values.iter().all(|v| matches!(v, Field::Num(_)));
        let xs: Vec<f64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Field::Num(x) if numeric => *x,
                _ => i as f64,
            })
            .collect();
        let setting = plan.base.spec.get(key).expect("a grid key is a setting");
        let log = numeric
            && setting.scale == crate::session::settings::Scale::Log
            && xs.iter().all(|&x| x > 0.0);
        let label = if numeric {
            key.clone()
        } else {
            let named: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{i}: {}", text_of(v)))
                .collect();
            format!("{key} ({})", named.join(", "))
        };
        (xs, log, label)
    };
    let scene = plan.scene();
    if plan.grids.len() == 1 {
        let (xs, x_log, x_label) = axis(0);
        let series: Vec<Series> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let y: Vec<f64> = by_point.iter().map(|p| mean(&p[j])).collect();
                let err =
                    (plan.seeds > 1).then(|| by_point.iter().map(|p| stderr(&p[j])).collect());
                Series {
                    label: name.clone(),
                    x: xs.clone(),
                    y,
                    err,
                    style: Style::Line,
                }
            })
            .filter(|s| s.y.iter().any(|y| y.is_finite()))
            .collect();
        let seeds = if plan.seeds > 1 {
            format!(", mean ± standard error over {} seeds", plan.seeds)
        } else {
            String::new()
        };
        // Scalars of different sizes share the axis: a log one when every value is positive
        // and they span more than two decades (a test error beside a train error near zero).
        let values = || {
            series
                .iter()
                .flat_map(|s: &Series| s.y.iter().copied())
                .filter(|y| y.is_finite())
        };
        let (lo, hi) = values().fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        let y_log = values().all(|y| y > 0.0) && hi > 100.0 * lo;
        Some(Figure::Lines(LinePlot {
            name: "sweep".into(),
            title: format!("{scene}: summary against {}{seeds}", plan.grids[0].0),
            x_label,
            y_label: "value".into(),
            x_log,
            y_log,
            series,
            ..LinePlot::default()
        }))
    } else {
        let (ys, y_log, y_label) = axis(0);
        let (xs, x_log, x_label) = axis(1);
        let values = by_point.iter().map(|p| mean(&p[0])).collect();
        let seeds = if plan.seeds > 1 {
            format!(" (mean over {} seeds)", plan.seeds)
        } else {
            String::new()
        };
        Some(Figure::Heatmap(HeatPlot {
            name: "sweep".into(),
            title: format!("{scene}: {}{seeds}", names[0]),
            x_label,
            y_label,
            x_log,
            y_log,
            xs,
            ys,
            values,
            value_label: names[0].clone(),
            ..HeatPlot::default()
        }))
    }
}

/// Writes the final files of a complete shard (or sweep): `results.csv`, and for a whole
/// sweep over a 1-D or 2-D grid its figure; then removes the partial file.
fn finish(plan: &Plan, dir: &Path, rows: &Rows) -> Result<()> {
    // A shard holds a slice of the grid: only the whole sweep (run at once or merged) is drawn.
    if plan.slice().count == 1
        && let Some(fig) = figure(plan, rows)
    {
        write_atomic(&dir.join(FIGURE), super::plot::svg(&fig)?.as_bytes())?;
    }
    write_atomic(&dir.join(RESULTS), results_text(plan, rows).as_bytes())?;
    match fs::remove_file(dir.join(PARTIAL)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(&dir.join(PARTIAL), e)),
    }
}

/// The manifest as written to `sweep.json`.
fn manifest_text(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(&plan.manifest()).expect("a manifest serialises");
    s.push('\n');
    s
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

/// The first top-level field in which two manifests differ, with `a`'s value and `b`'s, in
/// words: `("grids", "[…]", "[…]")`.
fn difference(a: &str, b: &str) -> (String, String, String) {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) else {
        return ("manifest".into(), a.into(), b.into());
    };
    for key in [
        "scene", "version", "fixed", "grids", "seeds", "cells", "shard", "steps", "backend",
        "settings",
    ] {
        if a[key] != b[key] {
            return (key.into(), a[key].to_string(), b[key].to_string());
        }
    }
    ("manifest".into(), a.to_string(), b.to_string())
}

/// The command that continues this sweep: the same arguments with `--resume`.
pub fn resume_command(args: &SweepArgs) -> String {
    let quote = |s: &str| {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut words = vec!["descent".to_string(), "sweep".into(), quote(&args.scene)];
    words.extend(args.settings.iter().map(|s| quote(s)));
    for g in &args.grids {
        words.push("--grid".into());
        words.push(quote(g));
    }
    if args.seeds != 1 {
        words.push(format!("--seeds {}", args.seeds));
    }
    if let Some(s) = &args.shard {
        words.push(format!("--shard {}", quote(s)));
    }
    let c = &args.common;
    if let Some(steps) = c.steps {
        words.push(format!("--steps {steps}"));
    }
    if c.backend != super::BackendArg::Cpu {
        use clap::ValueEnum;
        if let Some(v) = c.backend.to_possible_value() {
            words.push(format!("--backend {}", v.get_name()));
        }
    }
    if let Some(threads) = c.threads {
        words.push(format!("--threads {threads}"));
    }
    if c.memory_mib != super::DEFAULT_MEMORY_LIMIT >> 20 {
        words.push(format!("--memory-mib {}", c.memory_mib));
    }
    if c.quiet {
        words.push("--quiet".into());
    }
    words.push(format!("--out {}", quote(&args.out.to_string_lossy())));
    words.push("--resume".into());
    words.join(" ")
}

/// Runs `descent sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let bar = super::progress::Bar::new(args.common.quiet);
    let result = sweep_with(args, &args.common.options(), &bar);
    bar.finish();
    result
}

/// Runs `descent sweep` with `options` (their `cancel` flag set by Ctrl-C) and `progress`:
/// the outcome in words on stderr, and an error that maps to the exit code.
pub fn sweep_with(args: &SweepArgs, options: &RunOptions, progress: &dyn Progress) -> Result<()> {
    let mut plan = Plan::new(
        &args.scene,
        &args.settings,
        &args.grids,
        args.seeds,
        args.shard.as_deref(),
    )?;
    plan.steps = options.steps;
    plan.backend = options.backend;
    let driver = super::scenes::get(plan.scene()).ok_or_else(|| Error::Usage {
        message: format!("{} cannot be run headless", plan.scene()),
    })?;
    let shard = plan
        .shard
        .map(|s| format!("shard {s}: "))
        .unwrap_or_default();
    match run_plan(&plan, driver, &args.out, args.resume, options, progress)? {
        Outcome::Done { cells, ran } => {
            if !args.common.quiet {
                eprintln!(
                    "descent: {shard}{cells} cells done ({ran} run now): {}",
                    args.out.join(RESULTS).display()
                );
            }
            Ok(())
        }
        Outcome::Interrupted { finished, cells } => {
            eprintln!(
                "descent: {shard}{finished} of {cells} cells finished and kept in {}; continue \
                 with:\n  {}",
                args.out.join(PARTIAL).display(),
                resume_command(args)
            );
            Err(Error::Interrupted)
        }
        Outcome::Failed {
            failures,
            finished,
            cells,
        } => {
            let mut m = format!(
                "{shard}{} of {cells} cells failed ({finished} finished, kept in {}):",
                failures.len(),
                args.out.join(PARTIAL).display()
            );
            for f in &failures {
                let _ = write!(m, "\n  cell {} ({}): {}", f.cell, f.settings, f.error);
            }
            let _ = write!(
                m,
                "\nfix the cause and continue with:\n  {}",
                resume_command(args)
            );
            Err(Error::Incomplete { message: m })
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::SceneOutput;

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
}
