//! `descent sweep` and `descent merge`: a grid of settings over seeds, in shards that any
//! scheduler can run, joined into exactly the result of one process.
//!
//! A sweep's cells are the product of its `--grid` lists, in the order given with the last
//! varying fastest, each run at `--seeds` consecutive seeds (seed, seed + 1, …): cell
//! `k = point · seeds + s` is grid point `point` at seed offset `s`. Shard `i/N` runs the
//! cells `k ≡ i (mod N)`. Each cell runs the scene's driver
//! ([`Headless::run`](super::Headless::run)) and keeps its `summary` only.
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

mod figure;
mod merge;
mod plan;
mod run;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Common, Progress, RunOptions};
use crate::error::{Error, Result};

pub use merge::merge;
pub use plan::{Plan, Shard};
pub use run::{Failure, Outcome, run_plan};

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
