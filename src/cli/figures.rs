//! `descent figures --out docs/`: the README's figures, drawn headless.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// `descent figures --out DIR`.
#[derive(Clone, Debug, clap::Args)]
pub struct FiguresArgs {
    /// Where the figures go.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
}

/// Runs `descent figures`.
pub fn figures(_args: &FiguresArgs) -> Result<()> {
    Err(Error::Usage {
        message: "descent figures is not built yet".into(),
    })
}
