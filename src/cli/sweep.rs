//! `descent sweep` and `descent merge`: a grid of settings over seeds, in shards that any
//! scheduler can run, joined into exactly the result of one process.

use std::path::PathBuf;

use super::Common;
use crate::error::{Error, Result};

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

/// Runs `descent sweep`.
pub fn sweep(_args: &SweepArgs) -> Result<()> {
    Err(Error::Usage {
        message: "descent sweep is not built yet".into(),
    })
}

/// Runs `descent merge`.
pub fn merge(_args: &MergeArgs) -> Result<()> {
    Err(Error::Usage {
        message: "descent merge is not built yet".into(),
    })
}
