//! `descent run double-descent/trained`: the Double descent scene's trained-networks panel, a
//! width sweep of two-layer networks with every layer trained by gradient descent
//! ([`crate::scenes::double_descent::trained`]).
//!
//! The page trains the (width, seed) cells one after another in a worker; here the cells run
//! on `--threads` threads, each computed on its own by [`TrainedSweep::compute_cell`] (the same
//! numbers as the page's sweep gives that cell) and recorded in one sweep, whose report is the
//! page's. Ctrl-C stops between chunks of [`CHUNK_STEPS`] steps.

use crate::cli::scenes::cpu_only_note;
use crate::cli::{
    Cell, Figure, Headless, LinePlot, Progress, RunOptions, SceneOutput, Series, Settings, Style,
    Table, par,
};
use crate::error::Result;
use crate::scenes::double_descent::trained::{Report, TrainedSweep, TrainedSweepConfig};
use crate::session::budget::TRAINED_SWEEP_WORK;

/// Steps between two checks for Ctrl-C within a cell.
pub const CHUNK_STEPS: u64 = 250;

/// The sweep of `config` with every cell trained, cells on `options.threads` threads. Refused
/// over `options.memory_limit` or the engine's work limit, with the estimate.
pub fn run_sweep(
    config: TrainedSweepConfig,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<TrainedSweep> {
    let mut sweep = TrainedSweep::with_limits(config, options.memory_limit, TRAINED_SWEEP_WORK)?;
    let nw = sweep.widths().len();
    let total = sweep.cells_total();
    progress.start("networks", total as u64);
    let config = sweep.config().clone();
    let cells = par::map(total, options.threads, |c| {
        let result = TrainedSweep::compute_cell(&config, c / nw, c % nw, CHUNK_STEPS, || {
            options.check_cancel()
        });
        progress.inc(1);
        result
    });
    for (c, result) in cells.into_iter().enumerate() {
        sweep.set_cell(c / nw, c % nw, result?);
    }
    Ok(sweep)
}

/// The trained-networks panel without a page.
pub struct Trained;

impl Headless for Trained {
    fn id(&self) -> &'static str {
        "double-descent/trained"
    }

    fn about(&self) -> &'static str {
        "The trained-networks panel of Double descent: two-layer networks of growing width, \
         every layer trained by gradient descent for `steps` steps, train and test error \
         against p/n, mean ± standard error over the seeds; networks on --threads threads; CPU \
         only"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let config: TrainedSweepConfig = settings.config()?;
        let sweep = run_sweep(config, options, progress)?;
        let report = sweep.report();
        let mut notes = Vec::new();
        let diverged: usize = report.diverged.iter().sum();
        if diverged > 0 {
            notes.push(format!(
                "{diverged} of {} networks diverged; they are left out of the means.",
                sweep.cells_total()
            ));
        }
        notes.extend(cpu_only_note(
            options,
            "The trained-networks sweep runs on the CPU (it has no GPU path).",
        ));
        Ok(SceneOutput {
            report: serde_json::to_value(&report).expect("a report serialises"),
            summary: summary(&report),
            tables: vec![table(&report)],
            figures: vec![figure(&report)],
            notes,
            backend: "cpu".into(),
        })
    }
}

fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// The peak of the mean test error and where it is, the errors at the threshold and at the
/// widest network, the zero predictor's error and the networks that diverged.
pub fn summary(r: &Report) -> Vec<(String, f64)> {
    let nw = r.widths.len();
    let peak = (0..nw)
        .filter(|&i| r.test_mse.mean[i].is_some_and(f64::is_finite))
        .max_by(|&a, &b| nan(r.test_mse.mean[a]).total_cmp(&nan(r.test_mse.mean[b])));
    let last = nw.checked_sub(1);
    let at = |v: &[Option<f64>], i: Option<usize>| i.map_or(f64::NAN, |i| nan(v[i]));
    let rows = [
        ("peakTestMse", at(&r.test_mse.mean, peak)),
        ("peakTestMseSe", at(&r.test_mse.se, peak)),
        ("peakRatio", peak.map_or(f64::NAN, |i| r.ratio[i])),
        ("peakWidth", peak.map_or(f64::NAN, |i| r.widths[i] as f64)),
        (
            "thresholdTestMse",
            at(&r.test_mse.mean, Some(r.threshold_index)),
        ),
        ("maxRatio", last.map_or(f64::NAN, |i| r.ratio[i])),
        ("testMseAtMaxRatio", at(&r.test_mse.mean, last)),
        ("trainMseAtMaxRatio", at(&r.train_mse.mean, last)),
        ("nullMse", r.null_mse),
        ("diverged", r.diverged.iter().sum::<usize>() as f64),
    ];
    rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The `trained` table: one row per width.
pub fn table(r: &Report) -> Table {
    Table {
        name: "trained".into(),
        columns: [
            "width",
            "params",
            "ratio",
            "testMean",
            "testSe",
            "trainMean",
            "trainSe",
            "seedsDone",
            "diverged",
        ]
        .map(String::from)
        .to_vec(),
        rows: (0..r.widths.len())
            .map(|i| -> Vec<Cell> {
                vec![
                    r.widths[i].into(),
                    r.params[i].into(),
                    r.ratio[i].into(),
                    nan(r.test_mse.mean[i]).into(),
                    nan(r.test_mse.se[i]).into(),
                    nan(r.train_mse.mean[i]).into(),
                    nan(r.train_mse.se[i]).into(),
                    r.seeds_done[i].into(),
                    r.diverged[i].into(),
                ]
            })
            .collect(),
    }
}

/// The `trained` figure: test and train error against p/n (log), the error on a linear axis
/// from 0 as the page draws it, with p = n and the zero predictor's error marked.
pub fn figure(r: &Report) -> Figure {
    let col = |v: &[Option<f64>]| v.iter().map(|&x| nan(x)).collect::<Vec<f64>>();
    let top = r
        .test_mse
        .mean
        .iter()
        .chain(&r.train_mse.mean)
        .filter_map(|&v| v)
        .chain([r.null_mse])
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    Figure::Lines(LinePlot {
        name: "trained".into(),
        title: "Trained networks: test and train error".into(),
        x_label: "p/n".into(),
        y_label: "mean squared error".into(),
        x_log: true,
        y_range: (top > 0.0).then_some([0.0, top * 1.05]),
        x_marks: vec![(1.0, "p = n".into())],
        y_marks: vec![(r.null_mse, "predicting 0".into())],
        series: vec![
            Series {
                label: "test (mean ± s.e.)".into(),
                x: r.ratio.clone(),
                y: col(&r.test_mse.mean),
                err: Some(col(&r.test_mse.se)),
                style: Style::Line,
            },
            Series {
                label: "train".into(),
                x: r.ratio.clone(),
                y: col(&r.train_mse.mean),
                err: None,
                style: Style::Dashed,
            },
        ],
        ..LinePlot::default()
    })
}
