//! One headless driver per scene and panel, and their registry (in the order of
//! [`crate::scenes::SCENES`], then the panels).

pub mod double_descent;
pub mod lazy;
pub mod phase;
pub mod playground;
pub mod step;
pub mod trained;
pub mod weak_labels;

use super::output::Columns;
use super::{Figure, Headless, LinePlot, Progress, RunOptions, Series, Style, Table};
use crate::error::Result;
use crate::session::device::BackendChoice;

/// Every scene and panel the command line runs.
pub fn all() -> Vec<&'static dyn Headless> {
    vec![
        &playground::Playground,
        &lazy::Lazy,
        &double_descent::DoubleDescent,
        &step::Step,
        &weak_labels::WeakLabels,
        &trained::Trained,
        &phase::Phase,
    ]
}

/// The driver of scene `id`.
pub fn get(id: &str) -> Option<&'static dyn Headless> {
    all().into_iter().find(|h| h.id() == id)
}

/// The steps after which a run of `steps` steps reports: every step up to `early`, then at
/// most `late_chunks` equal chunks (the last one shorter) up to `steps`.
pub fn report_steps(early: u64, late_chunks: u64, steps: u64) -> Vec<u64> {
    let mut at: Vec<u64> = (1..=early.min(steps)).collect();
    if steps > early {
        let chunk = (steps - early).div_ceil(late_chunks.max(1));
        let mut s = early;
        while s < steps {
            s = (s + chunk).min(steps);
            at.push(s);
        }
    }
    at
}

/// Trains a live run up to each step of `at` (from [`report_steps`]) in turn, checking for
/// Ctrl-C before each chunk and counting its steps on `progress` ("training"). `first` is the
/// report at step 0 and `advance(k)` trains `k` more steps and reports. Returns the reports
/// kept (`first`, then one per chunk) and the last report: the first one that `diverged`
/// marks ends training and is not kept.
pub fn train_in_chunks<R: Clone>(
    first: R,
    at: &[u64],
    options: &RunOptions,
    progress: &dyn Progress,
    mut advance: impl FnMut(u64) -> Result<R>,
    diverged: impl Fn(&R) -> bool,
) -> Result<(Vec<R>, R)> {
    let mut history = vec![first.clone()];
    let mut report = first;
    progress.start("training", at.last().copied().unwrap_or(0));
    let mut done = 0;
    for &at in at {
        options.check_cancel()?;
        report = advance(at - done)?;
        progress.inc(at - done);
        done = at;
        if diverged(&report) {
            break;
        }
        history.push(report.clone());
    }
    Ok((history, report))
}

/// The note of a driver with no GPU path when `--backend gpu` asked for one, else none.
pub fn cpu_only_note(options: &RunOptions, note: &str) -> Option<String> {
    (options.backend == BackendChoice::Gpu).then(|| note.to_string())
}

/// The table and the figure `fit` of a 1-D fit over the grid `xs`: each curve (column, label,
/// values), the target (dashed) when there is one, then the training points `(x, y)`.
pub fn fit(
    title: &str,
    xs: Vec<f64>,
    curves: Vec<(&str, &str, Vec<f64>)>,
    target: Option<Vec<f64>>,
    points: (Vec<f64>, Vec<f64>),
) -> (Table, Figure) {
    let mut fit = Columns::new("x", xs);
    let mut drawn = Vec::new();
    for (column, label, y) in curves {
        fit = fit.with(column, y);
        drawn.push((column, label, Style::Line));
    }
    if let Some(t) = target {
        fit = fit.with("target", t);
        drawn.push(("target", "target", Style::Dashed));
    }
    let mut series: Vec<Series> = drawn
        .iter()
        .map(|&(column, label, style)| fit.series(column, label, style))
        .collect();
    series.push(Series {
        label: "training points".into(),
        x: points.0,
        y: points.1,
        style: Style::Points,
        ..Series::default()
    });
    let figure = Figure::Lines(LinePlot {
        name: "fit".into(),
        title: title.into(),
        x_label: "x".into(),
        y_label: "f(x)".into(),
        series,
        ..LinePlot::default()
    });
    (fit.table("fit"), figure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::NoProgress;

    #[test]
    fn chunked_training_keeps_the_reports_before_a_divergence() {
        assert_eq!(report_steps(2, 2, 7), [1, 2, 5, 7]);
        let options = RunOptions::default();
        // A report is the step reached; it "diverges" from step 5 on.
        let mut step = 0;
        let (history, last) = train_in_chunks(
            0u64,
            &report_steps(2, 2, 7),
            &options,
            &NoProgress,
            |k| {
                step += k;
                Ok(step)
            },
            |&s| s >= 5,
        )
        .unwrap();
        assert_eq!(history, [0, 1, 2]);
        assert_eq!(last, 5);
        let (history, last) = train_in_chunks(
            0u64,
            &report_steps(2, 2, 0),
            &options,
            &NoProgress,
            |_| unreachable!("no steps to train"),
            |_| false,
        )
        .unwrap();
        assert_eq!((history, last), (vec![0], 0));
    }
}
