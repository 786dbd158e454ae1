//! `descent figures --out docs/`: the README's figures, drawn headless.
//!
//! Each figure is one panel of one scene's run at fixed settings ([`FIGURES`]): the same run
//! `descent run` makes (and so the same numbers as the page for the link each figure names),
//! written as `<out>/figures/<file>.svg`. Regenerating them after a change to the engine shows
//! in the README what the change did.

use std::path::PathBuf;

use super::output::write_atomic;
use super::{Common, NoProgress, SceneOutput, apply_pairs, driver, plot, scene_settings};
use crate::error::{Error, Result};

/// `descent figures [--out DIR] [--only NAME,…]`.
#[derive(Clone, Debug, clap::Args)]
pub struct FiguresArgs {
    /// The figures go to DIR/figures/.
    #[arg(long, default_value = "docs")]
    pub out: PathBuf,
    /// Draw only these figures (file names without `.svg`, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

/// One figure of the README: a panel of a scene's run at fixed settings.
#[derive(Clone, Copy, Debug)]
pub struct ReadmeFigure {
    /// The file name under `figures/` (without `.svg`).
    pub file: &'static str,
    /// The scene (or panel) that runs.
    pub scene: &'static str,
    /// Its settings, as `key=value` (the rest at their defaults).
    pub settings: &'static [&'static str],
    /// Gradient steps for a live scene (`--steps`).
    pub steps: Option<u64>,
    /// The panel of the run's output drawn ([`super::Figure::name`]).
    pub panel: &'static str,
}

/// Every figure the README shows, in its order.
pub const FIGURES: &[ReadmeFigure] = &[
    ReadmeFigure {
        file: "playground-arms",
        scene: "playground",
        settings: &[
            "dataset=arms",
            "classes=5",
            "loss=crossEntropy",
            "width=128",
            "depth=2",
            "lr=0.5",
            "momentum=0.9",
            "nTrain=512",
            "noise=0.05",
        ],
        steps: Some(2000),
        panel: "regions",
    },
    ReadmeFigure {
        file: "lazy-width",
        scene: "lazy",
        settings: &[],
        steps: Some(300),
        panel: "sweep",
    },
    ReadmeFigure {
        file: "double-descent",
        scene: "double-descent",
        settings: &[],
        steps: None,
        panel: "curve",
    },
    ReadmeFigure {
        file: "isotropic",
        scene: "double-descent",
        settings: &[],
        steps: None,
        panel: "iso",
    },
    ReadmeFigure {
        file: "step-catapult",
        scene: "step",
        settings: &[],
        steps: Some(400),
        panel: "loss",
    },
    ReadmeFigure {
        file: "step-phase",
        scene: "step/phase",
        settings: &[],
        steps: None,
        panel: "phase",
    },
    ReadmeFigure {
        file: "weak-labels",
        scene: "weak-labels",
        settings: &[],
        steps: None,
        panel: "sweep",
    },
];

/// Runs `descent figures`.
pub fn figures(args: &FiguresArgs) -> Result<()> {
    for name in &args.only {
        if !FIGURES.iter().any(|f| f.file == name) {
            let names: Vec<&str> = FIGURES.iter().map(|f| f.file).collect();
            return Err(Error::Usage {
                message: format!(
                    "there is no figure `{name}`; the figures are: {}",
                    names.join(", ")
                ),
            });
        }
    }
    let dir = args.out.join("figures");
    std::fs::create_dir_all(&dir).map_err(|e| super::output::io_error(&dir, e))?;
    let chosen: Vec<&ReadmeFigure> = FIGURES
        .iter()
        .filter(|f| args.only.is_empty() || args.only.iter().any(|n| n == f.file))
        .collect();
    // Figures of the same run (two panels of one scene at the same settings) share it.
    let mut last: Option<(RunKey, SceneOutput)> = None;
    for (i, fig) in chosen.iter().enumerate() {
        if !args.common.quiet {
            eprintln!(
                "descent: figure {} of {}: {}",
                i + 1,
                chosen.len(),
                fig.file
            );
        }
        let key = (fig.scene, fig.settings, fig.steps);
        let out = match last.take() {
            Some((k, out)) if k == key => out,
            _ => run(fig, &args.common)?,
        };
        let svg = panel_svg(fig, &out)?;
        let path = write_atomic(&dir, &format!("{}.svg", fig.file), svg.as_bytes())?;
        println!("wrote {}", path.display());
        last = Some((key, out));
    }
    Ok(())
}

/// What makes two figures the same run.
type RunKey = (&'static str, &'static [&'static str], Option<u64>);

/// The run behind a README figure.
pub fn run(fig: &ReadmeFigure, common: &Common) -> Result<SceneOutput> {
    let mut settings = scene_settings(fig.scene)?;
    let pairs: Vec<String> = fig.settings.iter().map(|s| s.to_string()).collect();
    apply_pairs(&mut settings, &pairs)?;
    let mut options = common.options();
    if options.steps.is_none() {
        options.steps = fig.steps;
    }
    driver(fig.scene)?.run(&settings, &options, &NoProgress)
}

/// The SVG of a README figure's panel of `out`.
pub fn panel_svg(fig: &ReadmeFigure, out: &SceneOutput) -> Result<String> {
    let panel = out
        .figures
        .iter()
        .find(|f| f.name() == fig.panel)
        .ok_or_else(|| Error::Usage {
            message: format!("{}: the run drew no panel `{}`", fig.scene, fig.panel),
        })?;
    plot::svg(panel)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every README figure names a scene, settings its table takes and a unique file.
    #[test]
    fn every_figure_is_a_valid_run() {
        let mut files: Vec<&str> = FIGURES.iter().map(|f| f.file).collect();
        files.sort_unstable();
        files.dedup();
        assert_eq!(files.len(), FIGURES.len(), "a file name is used twice");
        for fig in FIGURES {
            let mut settings = scene_settings(fig.scene).unwrap();
            let pairs: Vec<String> = fig.settings.iter().map(|s| s.to_string()).collect();
            apply_pairs(&mut settings, &pairs).unwrap_or_else(|e| panic!("{}: {e}", fig.file));
        }
    }

    /// The README shows each figure from `docs/figures/`, and the repository holds each one.
    #[test]
    fn the_readme_shows_every_figure() {
        let readme = include_str!("../../README.md");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for fig in FIGURES {
            let path = format!("docs/figures/{}.svg", fig.file);
            assert!(readme.contains(&path), "README does not show {path}");
            assert!(
                root.join(&path).is_file(),
                "{path} is missing: run descent figures"
            );
        }
    }
}
