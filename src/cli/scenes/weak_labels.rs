//! `descent run weak-labels` headless: the live run (one network learning from the bags'
//! proportions, scored on instance labels) and the page's accuracy-against-bag-size sweep.
//!
//! The live run takes `--steps` steps, by default the scene's own `steps` setting (the steps
//! of every network of the sweep), reporting after every step up to [`EARLY_STEPS`], then
//! after each of at most [`LATE_CHUNKS`] equal chunks (the page's chunks follow its clock;
//! the numbers at a step do not depend on them). The sweep is the page's "Train the sweep":
//! for each of its `seeds` seeds the references ([`weak_reference`]: the supervised ceiling and
//! the prior floor) and one cell per bag size of [`bag_sizes`] ([`weak_cell`]: DLLP, EasyLLP
//! and the mean map on the same bags), in the page's order, on `--threads` threads (each job a
//! pure function of its settings: the thread count changes no number), and the mean map's
//! curve over every size ([`weak_mean_map_curve`]).

use serde_json::json;

use crate::cli::output::{Columns, confusion, diverged_mark};
use crate::cli::scenes::playground::{digits, table_refused};
use crate::cli::scenes::{cpu_only_note, report_steps, train_in_chunks};
use crate::cli::{
    Cell, Figure, Headless, HeatPlot, LinePlot, Progress, RunOptions, SceneOutput, Series,
    Settings, Style, Table, par,
};
use crate::error::Result;
use crate::scenes::weak_labels::live::{Confusion, MeanMapResult, Proportions};
use crate::scenes::weak_labels::sweep::mean_se;
use crate::scenes::weak_labels::{
    self as scene, BagPoint, CellResult, Reference, WeakConfig, WeakData, WeakReport, argmax_rows,
    bag_sizes, weak_cell, weak_mean_map_curve, weak_reference,
};
use crate::session::run::DataSource;

/// The live run reports after every step up to this one.
pub const EARLY_STEPS: u64 = 100;

/// After the early steps, the live run reports after each of at most this many equal chunks.
pub const LATE_CHUNKS: u64 = 200;

/// The data of `config` beyond its settings: the digits for the digits; a reader's table is
/// refused.
pub fn source_for(config: &WeakConfig) -> Result<DataSource> {
    match config.data {
        WeakData::Table => Err(table_refused("data", "the digits or the cell populations")),
        WeakData::Digits => Ok(DataSource {
            digits: Some(digits()?),
            table: None,
        }),
        WeakData::Cells => Ok(DataSource::default()),
    }
}

/// One job of the sweep, in the page's order: per seed its references, then its cells by bag
/// size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Reference { seed: usize },
    Cell { bag: usize, seed: usize },
}

/// The sweep's jobs: for each seed index, its references then a cell per bag-size index.
pub fn jobs(bags: usize, seeds: usize) -> Vec<Job> {
    (0..seeds)
        .flat_map(|seed| {
            std::iter::once(Job::Reference { seed })
                .chain((0..bags).map(move |bag| Job::Cell { bag, seed }))
        })
        .collect()
}

/// The bag-size sweep of `config`: its bag sizes, seeds, cells (`[bag][seed]`) and references
/// (per seed), computed on `options.threads` threads.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub bags: Vec<usize>,
    pub seeds: Vec<u64>,
    pub cells: Vec<Vec<CellResult>>,
    pub references: Vec<Reference>,
}

/// Runs the sweep of `config` on the data of `source`.
pub fn sweep(
    config: &WeakConfig,
    source: &DataSource,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<Sweep> {
    let sizes = bag_sizes(&config.clone().with_source(source));
    let seeds: Vec<u64> = (0..config.seeds)
        .map(|s| config.seed.wrapping_add(s as u64))
        .collect();
    let jobs = jobs(sizes.len(), seeds.len());
    progress.start("bag-size sweep", jobs.len() as u64);
    enum Done {
        Reference(Reference),
        Cell(CellResult),
    }
    let done = par::map(jobs.len(), options.threads, |i| -> Result<Done> {
        options.check_cancel()?;
        let r = match jobs[i] {
            Job::Reference { seed } => {
                Done::Reference(weak_reference(config, seeds[seed], source)?)
            }
            Job::Cell { bag, seed } => {
                Done::Cell(weak_cell(config, sizes[bag], seeds[seed], source)?)
            }
        };
        progress.inc(1);
        Ok(r)
    });
    let mut cells: Vec<Vec<Option<CellResult>>> = vec![vec![None; seeds.len()]; sizes.len()];
    let mut references: Vec<Option<Reference>> = vec![None; seeds.len()];
    for (job, r) in jobs.iter().zip(done) {
        match (job, r?) {
            (Job::Reference { seed }, Done::Reference(r)) => references[*seed] = Some(r),
            (Job::Cell { bag, seed }, Done::Cell(c)) => cells[*bag][*seed] = Some(c),
            _ => unreachable!("a job gives its own kind of result"),
        }
    }
    Ok(Sweep {
        bags: sizes,
        seeds,
        cells: cells
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|c| c.expect("every cell ran"))
                    .collect()
            })
            .collect(),
        references: references
            .into_iter()
            .map(|r| r.expect("every reference ran"))
            .collect(),
    })
}

/// Mean and standard error over seeds as the page's sweep table gives them: `None` for no
/// value, no standard error for one.
fn page_mean_se(values: &[f64]) -> (Option<f64>, Option<f64>, usize) {
    let (mean, se) = mean_se(values);
    (mean, se.filter(|_| values.len() > 1), values.len())
}

/// The Weak-labels scene without a page.
pub struct WeakLabels;

impl Headless for WeakLabels {
    fn id(&self) -> &'static str {
        "weak-labels"
    }

    fn about(&self) -> &'static str {
        "Trains the live learner on the bags for --steps steps (default: the scene's `steps` \
         setting): bag loss and instance accuracy over steps, the bags' proportions, the \
         confusion matrix and the cells' decision regions; then the page's sweep of instance \
         accuracy against bag size (DLLP, EasyLLP, mean map, over `seeds` seeds, with the \
         supervised ceiling and the prior floor)"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let config: WeakConfig = settings.config()?;
        let source = source_for(&config)?;
        let mut notes = Vec::new();
        notes.extend(cpu_only_note(
            options,
            "Weak labels has no GPU path: it runs on the CPU.",
        ));
        let steps = options.steps.unwrap_or(config.steps);
        let mut live = scene::WeakLabels::new(config.clone(), &source)?;
        let (history, report, diverged_at) = train(&mut live, steps, options, progress)?;
        let confusion = live.confusion();
        let grid = live.predict_grid();
        let curve = weak_mean_map_curve(&config, &source)?;
        let sweep = sweep(&config, &source, options, progress)?;
        let mut out = output(
            &config,
            &mut live,
            Live {
                history: &history,
                report: &report,
                diverged_at,
                confusion: &confusion,
                grid: grid.as_deref(),
            },
            &curve,
            &sweep,
        );
        out.notes.splice(0..0, notes);
        Ok(out)
    }
}

/// Trains `live` for `steps` steps, reporting as the module notes say: the reports (the first
/// at step 0), the last one and the step of a divergence.
pub fn train(
    live: &mut scene::WeakLabels,
    steps: u64,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(Vec<WeakReport>, WeakReport, Option<u64>)> {
    let first = live.evaluate();
    let (history, report) = train_in_chunks(
        first,
        &report_steps(EARLY_STEPS, LATE_CHUNKS, steps),
        options,
        progress,
        |k| Ok(live.advance(k)),
        |r| r.diverged.is_some(),
    )?;
    // A diverged trainer stands at the step whose loss diverged.
    let diverged_at = report.diverged.is_some().then(|| live.step());
    Ok((history, report, diverged_at))
}

/// The live run's pieces for [`output`].
struct Live<'a> {
    history: &'a [WeakReport],
    report: &'a WeakReport,
    diverged_at: Option<u64>,
    confusion: &'a Confusion,
    grid: Option<&'a [f32]>,
}

fn nan_or(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

fn output(
    config: &WeakConfig,
    run: &mut scene::WeakLabels,
    live: Live,
    curve: &[BagPoint],
    sweep: &Sweep,
) -> SceneOutput {
    let nan = f64::NAN;
    let report = live.report;
    let proportions: Proportions = run.proportions();
    let mean_map: MeanMapResult = run.mean_map();
    let k = proportions.classes;
    let names = &proportions.names;
    let name = |c: usize| names.get(c).cloned().unwrap_or_else(|| c.to_string());

    // The sweep's table: per bag size, each learner's mean and standard error over the seeds.
    let table_rows: Vec<serde_json::Value> = sweep
        .bags
        .iter()
        .enumerate()
        .map(|(b, &bag)| {
            let of = |pick: fn(&CellResult) -> Option<f64>| {
                let v: Vec<f64> = sweep.cells[b].iter().filter_map(pick).collect();
                let (mean, se, n) = page_mean_se(&v);
                json!({ "mean": mean, "se": se, "n": n })
            };
            let mm = curve.iter().find(|p| p.bag == bag);
            json!({
                "bag": bag,
                "dllp": of(|c| c.dllp),
                "easyllp": of(|c| c.easyllp),
                "meanMap": {
                    "mean": mm.and_then(|p| p.mean),
                    "se": mm.and_then(|p| p.se),
                    "refused": mm.and_then(|p| p.refused.clone()),
                },
            })
        })
        .collect();
    let mean_of = |v: Vec<f64>| mean_se(&v).0;
    let ceiling = mean_of(sweep.references.iter().filter_map(|r| r.ceiling).collect());
    let floor = mean_of(sweep.references.iter().map(|r| r.floor).collect());

    let report_json = json!({
        "report": {
            "step": report.step,
            "bagLoss": report.bag_loss,
            "bagLossFloor": report.bag_loss_floor,
            "trainAccuracy": report.train_accuracy,
            "testAccuracy": report.test_accuracy,
            "diverged": report.diverged,
            "message": report.diverged,
        },
        "proportions": {
            "bags": proportions.bags,
            "classes": proportions.classes,
            "names": proportions.names,
            "reported": proportions.reported,
            "truth": proportions.truth,
            "purified": proportions.purified,
            "singular": proportions.singular,
            "condition": proportions.condition,
        },
        "meanMap": match &mean_map.refused {
            Some(r) => json!({ "refused": r }),
            None => json!({ "accuracy": mean_map.accuracy }),
        },
        "confusion": live.confusion,
        "curve": curve.iter().map(|p| json!({
            "bag": p.bag, "mean": p.mean, "se": p.se, "refused": p.refused,
        })).collect::<Vec<_>>(),
        "sweep": {
            "config": config,
            "bags": sweep.bags,
            "seeds": sweep.seeds,
            "cells": sweep.cells.iter().map(|row| row.iter().map(|c| json!({
                "bag": c.bag, "seed": c.seed, "dllp": c.dllp, "easyllp": c.easyllp,
                "meanMap": c.mean_map, "meanMapRefused": c.mean_map_refused,
            })).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "references": sweep.references.iter().map(|r| json!({
                "seed": r.seed, "ceiling": r.ceiling, "floor": r.floor,
            })).collect::<Vec<_>>(),
            "table": table_rows,
        },
    });

    let summary = vec![
        ("trainAccuracy".to_string(), report.train_accuracy),
        ("testAccuracy".to_string(), report.test_accuracy),
        ("bagLoss".to_string(), report.bag_loss),
        ("bagLossFloor".to_string(), report.bag_loss_floor),
        (
            "divergedAt".to_string(),
            live.diverged_at.map_or(nan, |s| s as f64),
        ),
        ("meanMapAccuracy".to_string(), nan_or(mean_map.accuracy)),
        ("ceilingAccuracy".to_string(), nan_or(ceiling)),
        ("floorAccuracy".to_string(), nan_or(floor)),
    ];

    let mut notes = Vec::new();
    if let Some(d) = &report.diverged {
        notes.push(format!(
            "The live run {d}: the numbers are those of the last finite step. Lower the step size."
        ));
    }
    if let Some(r) = &mean_map.refused {
        notes.push(format!("The mean map on the live run's bags: {r}"));
    }
    let diverged_cells = sweep
        .cells
        .iter()
        .flatten()
        .filter(|c| c.dllp_diverged.is_some() || c.easyllp_diverged.is_some())
        .count();
    if diverged_cells > 0 {
        notes.push(format!(
            "In {diverged_cells} of the sweep's cells a network diverged; sweep-cells.csv says \
             which and at which step."
        ));
    }

    let mut tables = Vec::new();
    let mut figures = Vec::new();

    // The sweep: accuracy against bag size.
    tables.push(Table {
        name: "sweep".into(),
        columns: [
            "bag",
            "dllpMean",
            "dllpSe",
            "easyllpMean",
            "easyllpSe",
            "meanMapMean",
            "meanMapSe",
            "meanMapRefused",
        ]
        .map(String::from)
        .to_vec(),
        rows: table_rows
            .iter()
            .map(|r| {
                let n = |v: &serde_json::Value| Cell::Num(v.as_f64().unwrap_or(nan));
                vec![
                    n(&r["bag"]),
                    n(&r["dllp"]["mean"]),
                    n(&r["dllp"]["se"]),
                    n(&r["easyllp"]["mean"]),
                    n(&r["easyllp"]["se"]),
                    n(&r["meanMap"]["mean"]),
                    n(&r["meanMap"]["se"]),
                    Cell::Text(r["meanMap"]["refused"].as_str().unwrap_or("").to_string()),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        name: "sweep-cells".into(),
        columns: [
            "bag",
            "seed",
            "bags",
            "dllp",
            "easyllp",
            "meanMap",
            "meanMapRefused",
            "dllpDiverged",
            "easyllpDiverged",
        ]
        .map(String::from)
        .to_vec(),
        rows: sweep
            .cells
            .iter()
            .flatten()
            .map(|c| {
                let text = |t: &Option<String>| Cell::Text(t.clone().unwrap_or_default());
                vec![
                    Cell::from(c.bag as f64),
                    Cell::from(c.seed as f64),
                    Cell::from(c.bags as f64),
                    Cell::Num(nan_or(c.dllp)),
                    Cell::Num(nan_or(c.easyllp)),
                    Cell::Num(nan_or(c.mean_map)),
                    text(&c.mean_map_refused),
                    text(&c.dllp_diverged),
                    text(&c.easyllp_diverged),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        name: "references".into(),
        columns: ["seed", "ceiling", "floor"].map(String::from).to_vec(),
        rows: sweep
            .references
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.seed as f64),
                    Cell::Num(nan_or(r.ceiling)),
                    Cell::from(r.floor),
                ]
            })
            .collect(),
    });
    let xs: Vec<f64> = sweep.bags.iter().map(|&b| b as f64).collect();
    let column = |learner: &str, what: &str| -> Vec<f64> {
        table_rows
            .iter()
            .map(|r| r[learner][what].as_f64().unwrap_or(nan))
            .collect()
    };
    let with_err = |label: &str, learner: &str, style: Style| Series {
        label: label.into(),
        x: xs.clone(),
        y: column(learner, "mean"),
        err: Some(
            column(learner, "se")
                .into_iter()
                .map(|v| if v.is_finite() { v } else { 0.0 })
                .collect(),
        ),
        style,
    };
    let mut marks = Vec::new();
    if let Some(c) = ceiling {
        marks.push((c, "supervised ceiling".to_string()));
    }
    if let Some(f) = floor {
        marks.push((f, "prior floor".to_string()));
    }
    figures.push(Figure::Lines(LinePlot {
        name: "sweep".into(),
        title: format!(
            "Instance accuracy against bag size ({} seed{}, {} steps)",
            sweep.seeds.len(),
            if sweep.seeds.len() == 1 { "" } else { "s" },
            config.steps
        ),
        x_label: "bag size k".into(),
        y_label: "test accuracy".into(),
        x_log: true,
        y_range: Some([0.0, 1.0]),
        y_marks: marks,
        series: vec![
            with_err("DLLP (bag loss)", "dllp", Style::Line),
            with_err("EasyLLP (debiased labels)", "easyllp", Style::Line),
            with_err("mean map", "meanMap", Style::Dashed),
        ],
        ..LinePlot::default()
    }));

    // The live run over steps.
    let steps: Vec<f64> = live.history.iter().map(|r| r.step as f64).collect();
    let diverged_mark = diverged_mark(live.diverged_at);
    let (table, figure) = Columns::new("step", steps.clone())
        .with("bagLoss", live.history.iter().map(|r| r.bag_loss).collect())
        .with(
            "bagLossFloor",
            live.history.iter().map(|r| r.bag_loss_floor).collect(),
        )
        .table_and_lines(
            LinePlot {
                name: "bag-loss".into(),
                title: "The live run: bag loss".into(),
                x_label: "step".into(),
                y_label: "bag loss".into(),
                x_marks: diverged_mark.clone(),
                ..LinePlot::default()
            },
            &[
                ("bag loss", Style::Line),
                (
                    "least reachable (mean entropy of the proportions)",
                    Style::Dashed,
                ),
            ],
        );
    tables.push(table);
    figures.push(figure);
    let (table, figure) = Columns::new("step", steps)
        .with(
            "trainAccuracy",
            live.history.iter().map(|r| r.train_accuracy).collect(),
        )
        .with(
            "testAccuracy",
            live.history.iter().map(|r| r.test_accuracy).collect(),
        )
        .table_and_lines(
            LinePlot {
                name: "accuracy".into(),
                title: "The live run: instance accuracy".into(),
                x_label: "step".into(),
                y_label: "accuracy".into(),
                y_range: Some([0.0, 1.0]),
                x_marks: diverged_mark,
                ..LinePlot::default()
            },
            &[("training instances", Style::Line), ("test", Style::Line)],
        );
    tables.push(table);
    figures.push(figure);

    // The bags: reported and true proportions.
    let m = proportions.bags;
    let mut columns = vec!["bag".to_string(), "purified".to_string()];
    columns.extend((0..k).map(|c| format!("reported {}", name(c))));
    columns.extend((0..k).map(|c| format!("true {}", name(c))));
    tables.push(Table {
        name: "bags".into(),
        columns,
        rows: (0..m)
            .map(|j| {
                let mut row = vec![
                    Cell::from(j as f64),
                    Cell::Text(proportions.purified[j].to_string()),
                ];
                row.extend((0..k).map(|c| Cell::from(proportions.reported[j * k + c])));
                row.extend((0..k).map(|c| Cell::from(proportions.truth[j * k + c])));
                row
            })
            .collect(),
    });
    figures.push(Figure::Heatmap(HeatPlot {
        name: "bags".into(),
        title: format!(
            "The bags' reported class proportions ({m} bags of {})",
            proportions.size
        ),
        x_label: "class".into(),
        y_label: "bag".into(),
        xs: (0..k).map(|c| c as f64).collect(),
        ys: (0..m).map(|j| j as f64).collect(),
        values: proportions.reported.clone(),
        value_label: "reported proportion".into(),
        ..HeatPlot::default()
    }));

    // The confusion matrix of the test instances.
    let names: Vec<String> = (0..live.confusion.classes).map(name).collect();
    let counts: Vec<f64> = live.confusion.counts.iter().map(|&c| c as f64).collect();
    let (table, figure) = confusion(
        &names,
        &counts,
        "Confusion matrix (test instances)",
        "test instances",
    );
    tables.push(table);
    figures.push(figure);

    // The decision regions of a 2-D set, with the instances in bags and their true classes.
    if let (Some(spec), Some(grid), Some(points)) =
        (run.grid_spec().cloned(), live.grid, run.points())
    {
        let xs: Vec<f64> = (0..spec.size).map(|i| spec.coord(0, i) as f64).collect();
        let ys: Vec<f64> = (0..spec.size).map(|i| spec.coord(1, i) as f64).collect();
        let classes = argmax_rows(grid, k);
        let mut columns = vec!["x".to_string(), "y".to_string()];
        columns.extend((0..k).map(|c| format!("p {}", name(c))));
        columns.push("class".into());
        tables.push(Table {
            name: "regions".into(),
            columns,
            rows: (0..spec.len())
                .map(|p| {
                    let mut row =
                        vec![Cell::from(xs[p % spec.size]), Cell::from(ys[p / spec.size])];
                    row.extend(grid[p * k..(p + 1) * k].iter().map(|&v| Cell::from(v)));
                    row.push(Cell::Text(name(classes[p])));
                    row
                })
                .collect(),
        });
        figures.push(Figure::Heatmap(HeatPlot {
            name: "regions".into(),
            title: "Decision regions".into(),
            x_label: "x₁".into(),
            y_label: "x₂".into(),
            xs,
            ys,
            values: classes.iter().map(|&c| c as f64).collect(),
            value_label: "predicted class".into(),
            classes: true,
            points: points
                .train_y
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    (
                        points.train_x[2 * i] as f64,
                        points.train_x[2 * i + 1] as f64,
                        c as f64,
                    )
                })
                .collect(),
            ..HeatPlot::default()
        }));
    }

    SceneOutput {
        report: report_json,
        summary,
        tables,
        figures,
        notes,
        backend: "cpu".into(),
    }
}
