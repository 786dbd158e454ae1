//! The figure of a whole 1-D or 2-D sweep (`sweep.svg`): each summary scalar against the
//! grid, or a heatmap of the first over the two grids.

use super::plan::{Plan, text_of};
use super::run::{Rows, csv_split};
use crate::cli::{Figure, HeatPlot, LinePlot, Series, Style};
use crate::session::fields::Field;

/// The figure of a 1-D or 2-D sweep, from its complete rows: for one grid, each summary
/// scalar's mean over seeds (± its standard error when there are several seeds) against the
/// grid's values; for two grids, a heatmap of the first summary scalar's mean over seeds, the
/// first grid along y and the second along x. `None` for other sweeps.
///
/// A grid of names or flags is drawn at positions 0, 1, … named in the axis label. A mean over
/// seeds is NaN (not drawn) when any seed's value is missing (e.g. `divergedAt` of a run that
/// did not diverge).
pub(super) fn figure(plan: &Plan, rows: &Rows) -> Option<Figure> {
    let names = rows.summary.as_ref()?;
    if names.is_empty() || !(1..=2).contains(&plan.grids.len()) {
        return None;
    }
    let offset = plan.prefix_columns().len();
    // Each grid point's values over its seeds, per summary scalar.
    let mut by_point: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); names.len()]; plan.points()];
    for (&cell, line) in &rows.lines {
        let fields = csv_split(line);
        for (j, f) in fields[offset..].iter().enumerate() {
            by_point[cell / plan.seeds][j].push(f.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let stderr = |v: &[f64]| {
        if v.len() < 2 {
            return f64::NAN;
        }
        let m = mean(v);
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
        (var / v.len() as f64).sqrt()
    };
    let axis = |g: usize| {
        let (key, values) = &plan.grids[g];
        let numeric = values.iter().all(|v| matches!(v, Field::Num(_)));
        let xs: Vec<f64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Field::Num(x) if numeric => *x,
                _ => i as f64,
            })
            .collect();
        let setting = plan.base.spec.get(key).expect("a grid key is a setting");
        let log = numeric
            && setting.scale == crate::session::settings::Scale::Log
            && xs.iter().all(|&x| x > 0.0);
        let label = if numeric {
            key.clone()
        } else {
            let named: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{i}: {}", text_of(v)))
                .collect();
            format!("{key} ({})", named.join(", "))
        };
        (xs, log, label)
    };
    let scene = plan.scene();
    if plan.grids.len() == 1 {
        let (xs, x_log, x_label) = axis(0);
        let series: Vec<Series> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let y: Vec<f64> = by_point.iter().map(|p| mean(&p[j])).collect();
                let err =
                    (plan.seeds > 1).then(|| by_point.iter().map(|p| stderr(&p[j])).collect());
                Series {
                    label: name.clone(),
                    x: xs.clone(),
                    y,
                    err,
                    style: Style::Line,
                }
            })
            .filter(|s| s.y.iter().any(|y| y.is_finite()))
            .collect();
        let seeds = if plan.seeds > 1 {
            format!(", mean ± standard error over {} seeds", plan.seeds)
        } else {
            String::new()
        };
        // Scalars of different sizes share the axis: a log one when every value is positive
        // and they span more than two decades (a test error beside a train error near zero).
        let values = || {
            series
                .iter()
                .flat_map(|s: &Series| s.y.iter().copied())
                .filter(|y| y.is_finite())
        };
        let (lo, hi) = values().fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        let y_log = values().all(|y| y > 0.0) && hi > 100.0 * lo;
        Some(Figure::Lines(LinePlot {
            name: "sweep".into(),
            title: format!("{scene}: summary against {}{seeds}", plan.grids[0].0),
            x_label,
            y_label: "value".into(),
            x_log,
            y_log,
            series,
            ..LinePlot::default()
        }))
    } else {
        let (ys, y_log, y_label) = axis(0);
        let (xs, x_log, x_label) = axis(1);
        let values = by_point.iter().map(|p| mean(&p[0])).collect();
        let seeds = if plan.seeds > 1 {
            format!(" (mean over {} seeds)", plan.seeds)
        } else {
            String::new()
        };
        Some(Figure::Heatmap(HeatPlot {
            name: "sweep".into(),
            title: format!("{scene}: {}{seeds}", names[0]),
            x_label,
            y_label,
            x_log,
            y_log,
            xs,
            ys,
            values,
            value_label: names[0].clone(),
            ..HeatPlot::default()
        }))
    }
}
