//! `descent run step`: the Step size scene's live run, headless: the network beside its
//! linearisation under the same finite step, the sharpness against 2/η, the stability ruler
//! (η₀, the catapult bound, the regime and its sentence) and, when it happens, the step at
//! which the network diverged. The page trains until paused (at most 4,000 steps); here the run
//! takes `--steps` steps ([`DEFAULT_STEPS`] when not given), fewer when the network diverges.
//! The phase diagram is the `step/phase` table's driver ([`super::phase`]).

use crate::cli::scenes::cpu_only_note;
use crate::cli::{
    Cell, Figure, Headless, LinePlot, Progress, RunOptions, SceneOutput, Series, Settings, Style,
    Table,
};
use crate::error::Result;
use crate::scenes::step_size::{Regime, StepSize, StepSizeConfig, StepSizeReport};

/// Steps of a run when `--steps` is not given: past the catapult's spike and settling at the
/// defaults (η = 1.5 η₀), and enough for the sharpness to reach 2/η.
pub const DEFAULT_STEPS: u64 = 400;

/// Steps between two checks for Ctrl-C.
const CHUNK: u64 = 25;

/// Runs `config` for `steps` steps (fewer if it diverges), checking for Ctrl-C between chunks.
pub fn run_steps(
    config: StepSizeConfig,
    steps: u64,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<StepSizeReport> {
    let mut run = StepSize::new(config)?;
    progress.start("steps", steps);
    let mut report = run.report();
    while report.step < steps && report.diverged.is_none() {
        options.check_cancel()?;
        let k = CHUNK.min(steps - report.step);
        let before = report.step;
        report = run.advance(k);
        progress.inc(report.step - before);
    }
    Ok(report)
}

/// The Step size scene without a page.
pub struct Step;

impl Headless for Step {
    fn id(&self) -> &'static str {
        "step"
    }

    fn about(&self) -> &'static str {
        "The Step size scene's live run for --steps steps (default 400): the loss of the network \
         and of its linearisation, the sharpness against 2/η, the stability bound η₀, the \
         catapult bound and the regime, and the step at which the network diverged; CPU only \
         (the phase diagram is `step/phase`)"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let config: StepSizeConfig = settings.config()?;
        let steps = options.steps.unwrap_or(DEFAULT_STEPS);
        let r = run_steps(config, steps, options, progress)?;
        let mut notes = vec![format!("{}: {}", regime_name(r.regime), r.explanation)];
        if let Some(k) = r.diverged {
            notes.push(format!("The network diverged at step {k}."));
        }
        notes.extend(cpu_only_note(
            options,
            "The step-size live run runs on the CPU (it has no GPU path).",
        ));
        Ok(SceneOutput {
            report: serde_json::json!({ "report": r }),
            summary: summary(&r),
            tables: tables(&r),
            figures: figures(&r),
            notes,
            backend: "cpu".into(),
        })
    }
}

/// The regime as the page names it.
pub fn regime_name(r: Regime) -> &'static str {
    match r {
        Regime::Stable => "stable",
        Regime::Catapult => "catapult",
        Regime::Divergent => "divergent",
        Regime::Unsettled => "not settled",
    }
}

fn last(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(f64::NAN)
}

fn nan<T: Into<f64>>(v: Option<T>) -> f64 {
    v.map_or(f64::NAN, Into::into)
}

/// The run's last values, its bounds and regime (as its code: 0 stable, 1 catapult,
/// 2 divergent, 3 not settled), and where it diverged (NaN when it did not).
pub fn summary(r: &StepSizeReport) -> Vec<(String, f64)> {
    let rows = [
        ("steps", r.step as f64),
        ("trainLoss", last(&r.loss)),
        (
            "linearizedLoss",
            nan(r.linearized_loss.last().copied().flatten()),
        ),
        ("initialLoss", r.initial_loss),
        ("peakLoss", r.peak_loss),
        ("peakStep", r.peak_step as f64),
        ("lr", r.lr),
        ("lrMultiple", r.lr_multiple),
        ("stabilityBound", r.stability_bound),
        ("catapultMultiple", r.catapult_multiple),
        ("catapultBound", r.catapult_bound),
        ("twoOverLr", r.two_over_lr),
        ("sharpness", last(&r.sharpness)),
        ("ntkTop", last(&r.ntk_top)),
        ("weightChange", last(&r.weight_change)),
        ("kernelDistance", last(&r.kernel_distance)),
        ("regime", r.regime.code() as f64),
        ("settled", if r.settled { 1.0 } else { 0.0 }),
        ("divergedAt", nan(r.diverged.map(|k| k as f64))),
        (
            "linearizedDivergedAt",
            nan(r.linearized_diverged.map(|k| k as f64)),
        ),
    ];
    rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn table(name: &str, columns: &[&str], rows: Vec<Vec<Cell>>) -> Table {
    Table {
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// `loss` (per step: the network and its linearisation), `sharpness` and `lazy` (per
/// measurement) and `ruler` (the bounds, the regime and its sentence).
pub fn tables(r: &StepSizeReport) -> Vec<Table> {
    let tracked = |i: usize, v: &[f64]| -> Cell { v.get(i).copied().unwrap_or(f64::NAN).into() };
    let ruler: Vec<(&str, Cell)> = vec![
        ("lr", r.lr.into()),
        ("effectiveLr", r.effective_lr.into()),
        ("lrMultiple", r.lr_multiple.into()),
        ("stabilityBound", r.stability_bound.into()),
        ("sharpnessInit", nan(r.sharpness_init).into()),
        ("ntkTopInit", r.ntk_top_init.into()),
        ("catapultMultiple", r.catapult_multiple.into()),
        ("catapultBound", r.catapult_bound.into()),
        ("catapultSource", r.catapult_source.clone().into()),
        ("twoOverLr", r.two_over_lr.into()),
        ("regime", regime_name(r.regime).into()),
        ("predictedRegime", regime_name(r.predicted_regime).into()),
        ("settled", r.settled.to_string().into()),
        ("explanation", r.explanation.clone().into()),
        (
            "diverged",
            r.diverged
                .map_or("no".to_string(), |k| format!("diverged at step {k}"))
                .into(),
        ),
    ];
    vec![
        table(
            "loss",
            &["step", "loss", "linearized"],
            (0..r.loss.len())
                .map(|k| {
                    vec![
                        k.into(),
                        r.loss[k].into(),
                        nan(r.linearized_loss.get(k).copied().flatten()).into(),
                    ]
                })
                .collect(),
        ),
        table(
            "sharpness",
            &["step", "hessian", "ntkTop", "twoOverLr"],
            (0..r.track_steps.len())
                .map(|i| {
                    vec![
                        (r.track_steps[i] as f64).into(),
                        tracked(i, &r.sharpness),
                        tracked(i, &r.ntk_top),
                        r.two_over_lr.into(),
                    ]
                })
                .collect(),
        ),
        table(
            "lazy",
            &["step", "weightChange", "kernelDistance"],
            (0..r.track_steps.len())
                .map(|i| {
                    vec![
                        (r.track_steps[i] as f64).into(),
                        tracked(i, &r.weight_change),
                        tracked(i, &r.kernel_distance),
                    ]
                })
                .collect(),
        ),
        table(
            "ruler",
            &["quantity", "value"],
            ruler.into_iter().map(|(k, v)| vec![k.into(), v]).collect(),
        ),
    ]
}

/// The loss, sharpness and lazy panels against the step on a log axis (from step 1), as the
/// page draws them by default; the linearisation's blow-up cut at 10⁴ × the starting loss.
pub fn figures(r: &StepSizeReport) -> Vec<Figure> {
    let steps: Vec<f64> = (1..r.loss.len()).map(|k| k as f64).collect();
    let cap = 1e4 * r.initial_loss.max(1e-6);
    let lin: Vec<f64> = r
        .linearized_loss
        .iter()
        .skip(1)
        .map(|v| v.filter(|&x| x <= cap).unwrap_or(f64::NAN))
        .collect();
    let mut loss_marks = Vec::new();
    if let Some(k) = r.linearized_diverged {
        loss_marks.push((k as f64, format!("linearised diverges (step {k})")));
    }
    if let Some(k) = r.diverged {
        loss_marks.push((k as f64, format!("network diverged at step {k}")));
    }
    // Step 0 has no place on the log axis (its values are in the tables).
    let track_x: Vec<f64> = r
        .track_steps
        .iter()
        .map(|&k| if k == 0 { f64::NAN } else { k as f64 })
        .collect();
    let series = |label: &str, y: &[f64], style| Series {
        label: label.into(),
        x: track_x.clone(),
        y: y.to_vec(),
        err: None,
        style,
    };
    vec![
        Figure::Lines(LinePlot {
            name: "loss".into(),
            title: "Training loss: the network and its linearisation".into(),
            x_label: "step".into(),
            y_label: "training loss".into(),
            x_log: true,
            y_log: true,
            x_marks: loss_marks,
            series: vec![
                Series {
                    label: "network".into(),
                    x: steps.clone(),
                    y: r.loss[1..].to_vec(),
                    err: None,
                    style: Style::Line,
                },
                Series {
                    label: "linearised (same η)".into(),
                    x: steps,
                    y: lin,
                    err: None,
                    style: Style::Dashed,
                },
            ],
            ..LinePlot::default()
        }),
        Figure::Lines(LinePlot {
            name: "sharpness".into(),
            title: "Sharpness against 2/η".into(),
            x_label: "step".into(),
            y_label: "top eigenvalue".into(),
            x_log: true,
            y_log: true,
            y_marks: vec![(r.two_over_lr, "2/η".into())],
            series: vec![
                series("Hessian λ_max", &r.sharpness, Style::Line),
                series("NTK λ_max(Θ)/n", &r.ntk_top, Style::Dashed),
            ],
            ..LinePlot::default()
        }),
        Figure::Lines(LinePlot {
            name: "lazy".into(),
            title: "How far the network moves".into(),
            x_label: "step".into(),
            y_label: "relative change".into(),
            x_log: true,
            y_log: true,
            series: vec![
                series("‖θ − θ₀‖/‖θ₀‖", &r.weight_change, Style::Line),
                series("‖Θ − Θ₀‖/‖Θ₀‖", &r.kernel_distance, Style::Dashed),
            ],
            ..LinePlot::default()
        }),
    ]
}
