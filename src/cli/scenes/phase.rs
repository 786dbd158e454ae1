//! `descent run step/phase`: the Step size scene's phase diagram, the regime (stable, catapult,
//! divergent, not settled), final loss, sharpness and loss spike of a grid of step sizes (or
//! initialisation scales) against widths.
//!
//! The page computes the diagram one width (column) at a time, the column's networks trained
//! together as one batch. On the CPU the columns here run on `--threads` threads, each computed
//! on its own by [`PhaseDiagram::compute_column`] (the same slices the page's diagram computes
//! for it, so the same numbers) and recorded in one diagram whose report is the page's; the
//! widest columns start first, so that the threads finish together. `--backend gpu|auto` trains
//! the columns on the GPU one after another, as the page does on WebGPU.

use crate::cli::{
    Cell, Figure, Headless, HeatPlot, Progress, RunOptions, SceneOutput, Settings, Table, par,
};
use crate::error::{Error, Result};
use crate::exec::block_on;
use crate::scenes::step_size::{PhaseAxis, PhaseConfig, PhaseDiagram, PhaseReport, PhaseSettings};
use crate::session::device::BackendChoice;

use super::step::regime_name;
use crate::scenes::step_size::Regime;

/// The diagram of `config` with its columns on `options.threads` threads, on the CPU.
pub fn run_cpu(
    config: &PhaseConfig,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<PhaseDiagram> {
    let mut diagram = PhaseDiagram::new(config.clone())?;
    let widths = config.widths();
    let nx = widths.len();
    progress.start("cells", diagram.total() as u64);
    let ny = config.ys().len() as u64;
    // Widest first: column k computes width index nx − 1 − k.
    let columns = par::map(nx, options.threads, |k| {
        let column = PhaseDiagram::compute_column(config, nx - 1 - k, || options.check_cancel());
        progress.inc(ny);
        column
    });
    for (k, column) in columns.into_iter().enumerate() {
        diagram.set_column(nx - 1 - k, column?);
    }
    Ok(diagram)
}

/// The diagram of `config` with its columns on the GPU (under `Auto`, the columns whose
/// batched step is large enough; the others on the CPU), one after another as the page trains
/// them. `Ok(None)` under `Auto` when there is no hardware GPU (with the reason, for a note);
/// refused under `Gpu` when there is none.
pub fn run_gpu(
    config: &PhaseConfig,
    choice: BackendChoice,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(Option<PhaseDiagram>, Option<String>)> {
    let mut diagram = block_on(PhaseDiagram::create(config.clone(), choice))?;
    let first = diagram.progress();
    let Some(gpu) = diagram.take_gpu() else {
        if choice == BackendChoice::Gpu {
            return Err(Error::GpuUnavailable {
                reason: first
                    .notice
                    .unwrap_or_else(|| "no GPU adapter was found".into()),
                detail: first.notice_detail.unwrap_or_default(),
            });
        }
        let why = first.notice.unwrap_or_else(|| {
            "No hardware GPU was found: the phase diagram runs on the CPU.".into()
        });
        return Ok((None, Some(why)));
    };
    diagram.set_gpu(gpu, choice);
    progress.start("cells", diagram.total() as u64);
    let mut done = 0;
    loop {
        options.check_cancel()?;
        let p = block_on(diagram.advance_async())?;
        progress.inc((p.done - done) as u64);
        done = p.done;
        if p.finished {
            return Ok((Some(diagram), first.notice));
        }
    }
}

/// The phase diagram without a page.
pub struct Phase;

impl Headless for Phase {
    fn id(&self) -> &'static str {
        "step/phase"
    }

    fn about(&self) -> &'static str {
        "The Step size scene's phase diagram: the regime, final loss and sharpness of networks \
         over step size (or initialisation scale) against width; widths on --threads threads on \
         the CPU, or columns on the GPU one after another"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let flat: PhaseSettings = settings.config()?;
        let config = PhaseConfig::from(&flat);
        config.validate()?;
        let mut notes = Vec::new();
        let diagram = match options.backend {
            BackendChoice::Cpu => run_cpu(&config, options, progress)?,
            choice => {
                let (diagram, note) = run_gpu(&config, choice, options, progress)?;
                notes.extend(note);
                match diagram {
                    Some(d) => d,
                    None => run_cpu(&config, options, progress)?,
                }
            }
        };
        let report = diagram.report();
        if let Some(n) = &report.progress.notice
            && !notes.contains(n)
        {
            notes.push(n.clone());
        }
        let backend = if report.progress.backend == "webgpu" {
            "gpu"
        } else {
            "cpu"
        };
        Ok(SceneOutput {
            report: serde_json::json!({ "config": config, "report": report }),
            summary: summary(&report),
            tables: tables(&report),
            figures: vec![figure(&report)],
            notes,
            backend: backend.into(),
        })
    }
}

/// The fraction of cells in each regime, and the range of the measured catapult bounds over
/// the widths (NaN on the init-scale axis or where no width has one).
pub fn summary(r: &PhaseReport) -> Vec<(String, f64)> {
    let total = r.regime.len().max(1) as f64;
    let share = |code: u8| r.regime.iter().filter(|&&c| c == Some(code)).count() as f64 / total;
    let bounds: Vec<f64> = r
        .empirical_catapult_bound
        .iter()
        .flatten()
        .copied()
        .collect();
    let (lo, hi) = if bounds.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (
            bounds.iter().copied().fold(f64::INFINITY, f64::min),
            bounds.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let rows = [
        ("cells", r.regime.len() as f64),
        ("stableFraction", share(Regime::Stable.code())),
        ("catapultFraction", share(Regime::Catapult.code())),
        ("divergedFraction", share(Regime::Divergent.code())),
        ("unsettledFraction", share(Regime::Unsettled.code())),
        ("catapultBoundMin", lo),
        ("catapultBoundMax", hi),
    ];
    rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn regime_of(code: u8) -> &'static str {
    match code {
        0 => regime_name(Regime::Stable),
        1 => regime_name(Regime::Catapult),
        2 => regime_name(Regime::Divergent),
        _ => regime_name(Regime::Unsettled),
    }
}

fn y_name(axis: PhaseAxis) -> &'static str {
    match axis {
        PhaseAxis::StepSize => "lrMultiple",
        PhaseAxis::InitScale => "initScale",
    }
}

/// `phase` (one row per cell) and `widths` (per width: the stability bound and the measured
/// catapult bound).
pub fn tables(r: &PhaseReport) -> Vec<Table> {
    let nx = r.widths.len();
    let nan = |v: Option<f64>| -> Cell { v.unwrap_or(f64::NAN).into() };
    let cells = (0..r.regime.len())
        .map(|i| {
            let (iy, ix) = (i / nx, i % nx);
            vec![
                r.widths[ix].into(),
                r.ys[iy].into(),
                nan(r.regime[i].map(f64::from)),
                r.regime[i].map_or("", regime_of).into(),
                nan(r.final_loss[i]),
                nan(r.sharpness_lr[i]),
                nan(r.ntk_lr[i]),
                nan(r.weight_change[i]),
                nan(r.kernel_distance[i]),
                nan(r.peak_ratio[i]),
            ]
        })
        .collect();
    vec![
        Table {
            name: "phase".into(),
            columns: [
                "width",
                y_name(r.axis),
                "regimeCode",
                "regime",
                "finalLoss",
                "sharpnessLr",
                "ntkLr",
                "weightChange",
                "kernelDistance",
                "peakRatio",
            ]
            .map(String::from)
            .to_vec(),
            rows: cells,
        },
        Table {
            name: "widths".into(),
            columns: ["width", "stabilityBound", "empiricalCatapultBound"]
                .map(String::from)
                .to_vec(),
            rows: (0..nx)
                .map(|ix| {
                    vec![
                        r.widths[ix].into(),
                        nan(r.stability_bound[ix]),
                        nan(r.empirical_catapult_bound[ix]),
                    ]
                })
                .collect(),
        },
    ]
}

/// The regimes over width (log) and the y axis (log), one colour per regime.
pub fn figure(r: &PhaseReport) -> Figure {
    Figure::Heatmap(HeatPlot {
        name: "phase".into(),
        title: match r.axis {
            PhaseAxis::StepSize => "Phase diagram: step size against width".into(),
            PhaseAxis::InitScale => "Phase diagram: initialisation scale against width".into(),
        },
        x_label: "width".into(),
        y_label: match r.axis {
            PhaseAxis::StepSize => "η / η₀".into(),
            PhaseAxis::InitScale => "initialisation scale s".into(),
        },
        x_log: true,
        y_log: true,
        xs: r.widths.iter().map(|&w| w as f64).collect(),
        ys: r.ys.clone(),
        values: r
            .regime
            .iter()
            .map(|c| c.map_or(f64::NAN, f64::from))
            .collect(),
        value_label: "regime: 0 stable, 1 catapult, 2 divergent, 3 not settled".into(),
        classes: true,
        points: Vec::new(),
    })
}
