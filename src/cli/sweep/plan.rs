//! A sweep's plan: its cells (the product of the grids, over seeds), the shard a process
//! runs, and the manifest (`sweep.json`) that describes them.

use std::path::Path;

use serde_json::{Value, json};

use crate::cli::output::number;
use crate::cli::settings::{parse_value, setting};
use crate::cli::{Settings, json_of};
use crate::error::{Error, Result};
use crate::session::device::BackendChoice;
use crate::session::fields::Field;

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

    pub(super) fn holds(&self, cell: usize) -> bool {
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
    pub(super) base: Settings,
    /// The fixed settings, in the order given.
    fixed: Vec<(String, Field)>,
    /// Each swept setting and its values, in the order given.
    pub(super) grids: Vec<(String, Vec<Field>)>,
    /// Runs per grid point (seed, seed + 1, …).
    pub(super) seeds: usize,
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
            if let Some(o) = crate::cli::link::view_option(scene, key.trim()) {
                return Err(Error::Usage {
                    message: format!(
                        "{} is a view option of the page, which `descent run` reads; a sweep's \
                         runs take its default ({})",
                        o.name, o.default
                    ),
                });
            }
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

    pub(super) fn points(&self) -> usize {
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
    pub(super) fn row_prefix(&self, cell: usize) -> Result<Vec<String>> {
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
    pub(super) fn prefix_columns(&self) -> Vec<String> {
        let mut out = vec!["cell".to_string()];
        out.extend(self.grids.iter().map(|(k, _)| k.clone()));
        if self.seeded {
            out.push("seed".into());
        }
        out
    }

    /// The cell's settings in words: `width=64 lr=0.5 seed=3`.
    pub(super) fn describe(&self, cell: usize) -> String {
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
    pub(super) fn from_manifest(m: &Value, file: &Path) -> Result<Plan> {
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

/// The manifest as written to `sweep.json`.
pub(super) fn manifest_text(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(&plan.manifest()).expect("a manifest serialises");
    s.push('\n');
    s
}

/// The first top-level field in which two manifests differ, with `a`'s value and `b`'s, in
/// words: `("grids", "[…]", "[…]")`.
pub(super) fn difference(a: &str, b: &str) -> (String, String, String) {
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

/// A setting's value as a CSV field and on a command line.
pub(super) fn text_of(v: &Field) -> String {
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
