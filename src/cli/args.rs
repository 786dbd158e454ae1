//! The command line's arguments (clap): `descent run | sweep | merge | figures | scenes |
//! settings`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::Common;
use super::figures::FiguresArgs;
use super::sweep::{MergeArgs, SweepArgs};

/// The exit codes, as `--help` and docs/cli.md state them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    done (a run that diverged is done: the divergence is in its report)
  1    the run failed or was refused (a value out of its range, a run larger than --memory-mib,
       no GPU for --backend gpu, a file that could not be written)
  2    usage: an unknown command, scene or setting, a malformed argument
  3    a sweep or merge that is incomplete (a missing or failed shard)
  130  interrupted by Ctrl-C (finished work is kept; no report.json for an unfinished run)";

const ABOUT: &str =
    "Descent's scenes without a browser: the same settings, numbers and figures as the page";

const LONG_ABOUT: &str = "\
Descent's scenes without a browser: the same settings (names, ranges, defaults) as the page's
links, the numbers behind every panel as JSON and CSV, and every panel as an SVG figure.

Examples:
  descent scenes
  descent settings double-descent
  descent run double-descent nTrain=300 noise=0.5 --out dd
  descent run 'https://example.org/descent/double-descent.html?nTrain=300&seed=4' --out dd
  descent sweep double-descent --grid noise=0,0.25,0.5 --seeds 5 --out sweep
  descent figures --out docs";

const RUN_HELP: &str = "\
Examples:
  descent run double-descent --out dd
      the page's defaults; writes dd/report.json, dd/<panel>.csv, dd/<panel>.svg
  descent run step lrMultiple=1.5 width=256 --steps 2000 --out catapult
  descent run 'https://example.org/descent/lazy.html?alpha=100&seed=3' --out lazy
      a share link: read as the page reads it (out-of-range values clamped, unknown keys
      ignored, each with a note on stderr)
  descent run 'https://example.org/descent/lazy.html?alpha=100' alpha=10 --out lazy
      key=value after a link overrides it
  descent run playground width=4096 --backend auto --quiet

`descent settings <scene>` lists every setting with its range and default.";

/// `descent`: every scene headless.
#[derive(Debug, Parser)]
#[command(
    name = "descent",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What `descent` does.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scene (or a share link) and write its report, tables and figures.
    #[command(after_long_help = RUN_HELP)]
    Run(RunArgs),
    /// Run a grid of settings over seeds, in shards any scheduler can run (docs/sweeps.md).
    #[command(after_long_help = "Examples:
  descent sweep double-descent --grid noise=0,0.5 --grid ridge=0,0.1 --seeds 5 --out sweep
  descent sweep double-descent --grid noise=0,0.5 --seeds 5 --shard 0/4 --out shard-0
  descent sweep double-descent --grid noise=0,0.5 --seeds 5 --resume --out sweep")]
    Sweep(SweepArgs),
    /// Join the shards of one sweep into the result of an unsharded run.
    #[command(after_long_help = "Example:
  descent merge shard-0 shard-1 shard-2 shard-3 --out sweep")]
    Merge(MergeArgs),
    /// Draw the README's figures headless.
    #[command(after_long_help = "Example:
  descent figures --out docs")]
    Figures(FiguresArgs),
    /// List the scenes and panels `descent run` knows, with what each run does.
    Scenes,
    /// List a scene's settings: name, kind, accepted range, default and what it does.
    #[command(after_long_help = "Example:
  descent settings double-descent")]
    Settings(SettingsArgs),
}

/// `descent run <scene|link> [key=value …]`.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// A scene or panel id (`descent scenes`), or a share link copied from the page.
    pub scene: String,
    /// Settings as key=value (`descent settings <scene>` lists them); they override a link's.
    pub settings: Vec<String>,
    /// The directory the report, tables and figures go to (made if missing) [default:
    /// descent-<scene>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// `descent settings <scene>`.
#[derive(Clone, Debug, clap::Args)]
pub struct SettingsArgs {
    /// A scene or panel id (`descent scenes`).
    pub scene: String,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_arguments_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
