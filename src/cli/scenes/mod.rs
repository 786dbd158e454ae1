//! One headless driver per scene and panel, and their registry (in the order of
//! [`crate::scenes::SCENES`], then the panels).

pub mod double_descent;
pub mod lazy;
pub mod phase;
pub mod playground;
pub mod step;
pub mod trained;
pub mod weak_labels;

use super::{Headless, Progress, RunOptions};
use crate::error::Result;

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
