//! `descent run lazy` headless: the live network beside its linearisation, the infinite-width
//! NTK predictor and NTK kernel regression for a fixed number of steps, and the page's width
//! sweep.
//!
//! The live run takes `--steps` steps ([`DEFAULT_STEPS`] when not given), reporting the four
//! models, the relative weight change and the kernel distance after every step up to
//! [`EARLY_STEPS`], then after each of at most [`LATE_CHUNKS`] equal chunks (the page's chunks
//! follow its clock; the numbers at a step do not depend on them). The width sweep is the one
//! the page's "Sweep width" button runs: widths [`SWEEP_MIN_WIDTH`], 2·[`SWEEP_MIN_WIDTH`], …
//! up to the page's `sweepMax` menu, `sweepSeeds` seeds each, trained `sweepSteps` steps (the
//! page's view options, read from a link or given as key=value; defaults 4096, 3 and 300),
//! with the slopes of the two measures against width beside the ones theory expects. The
//! sweep's networks are independent and train on `--threads` threads.

use serde_json::json;

use crate::cli::output::Columns;
use crate::cli::scenes::{cpu_only_note, fit, report_steps, train_in_chunks};
use crate::cli::{
    Cell, Figure, Headless, HeatPlot, LinePlot, Progress, RunOptions, SceneOutput, Series,
    Settings, Style, Table, par,
};
use crate::data::{DatasetKind, Task};
use crate::error::Result;
use crate::scenes::lazy::{
    self, Fit, GridPredictions, LazyConfig, LazyReport, LazyRich, SLOPE_MIN_WIDTH, SweepRun,
    WidthSweep, sweep_run,
};

/// Steps the live run takes when `--steps` is not given.
pub const DEFAULT_STEPS: u64 = 1000;

/// The live run reports after every step up to this one.
pub const EARLY_STEPS: u64 = 100;

/// After the early steps, the live run reports after each of at most this many equal chunks.
pub const LATE_CHUNKS: u64 = 200;

/// The narrowest width of the sweep (`SWEEP_MIN_WIDTH` in the scene's page.js).
pub const SWEEP_MIN_WIDTH: usize = 16;

/// The widths of a sweep up to `max`: [`SWEEP_MIN_WIDTH`] doubled while at most `max`.
pub fn sweep_widths(max: usize) -> Vec<usize> {
    std::iter::successors(Some(SWEEP_MIN_WIDTH), |w| Some(w * 2))
        .take_while(|&w| w <= max)
        .collect()
}

/// The width sweep that `settings` asks for: (widths, seeds, steps) from the view options
/// `sweepMax`, `sweepSeeds` and `sweepSteps`.
pub fn sweep_plan(settings: &Settings) -> (Vec<usize>, usize, u64) {
    // The view options take only their menus' values (`link::VIEW_READ`), all numbers.
    let number = |name: &str| -> u64 {
        settings
            .view(name)
            .parse()
            .expect("a view option's menu holds numbers")
    };
    (
        sweep_widths(number("sweepMax") as usize),
        number("sweepSeeds") as usize,
        number("sweepSteps"),
    )
}

/// The Lazy-or-rich scene without a page.
pub struct Lazy;

impl Headless for Lazy {
    fn id(&self) -> &'static str {
        "lazy"
    }

    fn about(&self) -> &'static str {
        "Trains the network for --steps steps (default 1000) beside its linearisation, the NTK \
         predictor and kernel regression (losses, weight change and kernel distance over steps, \
         the four fits, the NTK Gram matrix and spectra), then the page's width sweep (widths \
         16 to sweepMax = 4096, sweepSeeds = 3 seeds, sweepSteps = 300 steps) with its slopes \
         against the expected ones"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let config: LazyConfig = settings.config()?;
        let steps = options.steps.unwrap_or(DEFAULT_STEPS);
        if config.run.data.dataset == DatasetKind::Table {
            return Err(crate::cli::scenes::playground::table_refused(
                "dataset",
                "another dataset",
            ));
        }
        let mut notes = Vec::new();
        notes.extend(cpu_only_note(
            options,
            "Lazy or rich has no GPU path: it runs on the CPU.",
        ));
        // The memory estimate against the command line's limit (the scene checks its own too).
        config
            .run
            .validate_in_scene(options.memory_limit, &lazy::scene_defaults())?;
        let mut live = LazyRich::new(config.run.clone(), config.ridge)?;
        let (history, report) = train(&mut live, steps, options, progress)?;
        let grid = live.predict_grid()?;
        let gram = live.gram()?;

        let (widths, seeds, sweep_steps) = sweep_plan(settings);
        let mut sweep = WidthSweep::with_seeds(config.run.clone(), widths, seeds, sweep_steps)?;
        for &w in sweep.widths() {
            let mut c = config.run.clone();
            c.net.width = w;
            c.validate_in_scene(options.memory_limit, &lazy::scene_defaults())?;
        }
        sweep.runs = sweep_runs(&sweep, options, progress)?;

        let mut out = output(&live, &report, &history, &grid, &gram, &sweep);
        out.notes.splice(0..0, notes);
        Ok(out)
    }
}

/// Trains `live` for `steps` steps, reporting as the module notes say: the reports (the first
/// at step 0) and the last one (the step of a divergence).
pub fn train(
    live: &mut LazyRich,
    steps: u64,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<(Vec<LazyReport>, LazyReport)> {
    let first = live.evaluate()?;
    train_in_chunks(
        first,
        &report_steps(EARLY_STEPS, LATE_CHUNKS, steps),
        options,
        progress,
        |k| live.advance(k),
        |r| r.diverged.is_some(),
    )
}

/// Every network of `sweep` (in its order), on `options.threads` threads: each is
/// [`sweep_run`] of [`WidthSweep::run_config`], so the thread count changes no number.
pub fn sweep_runs(
    sweep: &WidthSweep,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<Vec<SweepRun>> {
    let total = sweep.total();
    progress.start("width sweep", total as u64);
    par::map(total, options.threads, |at| {
        options.check_cancel()?;
        let r = sweep_run(sweep.run_config(at), sweep.steps());
        progress.inc(1);
        r
    })
    .into_iter()
    .collect()
}

const MODELS: [&str; 4] = ["network", "linearized", "ntk", "krr"];

fn model<'a>(r: &'a LazyReport, m: &str) -> &'a Fit {
    match m {
        "network" => &r.network,
        "linearized" => &r.linearized,
        "ntk" => &r.ntk,
        _ => &r.krr,
    }
}

fn nan_or(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

fn label(m: &str) -> &'static str {
    match m {
        "network" => "network",
        "linearized" => "linearised network",
        "ntk" => "NTK predictor (infinite width)",
        _ => "NTK kernel regression",
    }
}

fn output(
    live: &LazyRich,
    report: &LazyReport,
    history: &[LazyReport],
    grid: &GridPredictions,
    gram: &lazy::Gram,
    sweep: &WidthSweep,
) -> SceneOutput {
    let pg = live.playground();
    let data = &pg.data;
    let classification = live.task() == Task::Classification;
    let nan = f64::NAN;

    // The report the page exports.
    let mut history_json = serde_json::Map::new();
    history_json.insert(
        "step".into(),
        json!(history.iter().map(|r| r.step).collect::<Vec<_>>()),
    );
    history_json.insert(
        "weightChange".into(),
        json!(history.iter().map(|r| r.weight_change).collect::<Vec<_>>()),
    );
    history_json.insert(
        "kernelDistance".into(),
        json!(
            history
                .iter()
                .map(|r| r.kernel_distance)
                .collect::<Vec<_>>()
        ),
    );
    for m in MODELS {
        history_json.insert(
            format!("{m}Train"),
            json!(
                history
                    .iter()
                    .map(|r| model(r, m).train_loss)
                    .collect::<Vec<_>>()
            ),
        );
        history_json.insert(
            format!("{m}Test"),
            json!(
                history
                    .iter()
                    .map(|r| model(r, m).test_loss)
                    .collect::<Vec<_>>()
            ),
        );
    }
    let summary_by_width = sweep.summary();
    let points: Vec<serde_json::Value> = summary_by_width
        .iter()
        .map(|w| {
            let spread =
                |s: &Option<lazy::Spread>| (s.map(|s| s.mean), s.map(|s| s.min), s.map(|s| s.max));
            let (wc, wc_min, wc_max) = spread(&w.weight_change);
            let (kd, kd_min, kd_max) = spread(&w.kernel_distance);
            json!({
                "width": w.width, "runs": w.runs, "diverged": w.diverged,
                "weightChange": wc, "weightChangeMin": wc_min, "weightChangeMax": wc_max,
                "kernelDistance": kd, "kernelDistanceMin": kd_min, "kernelDistanceMax": kd_max,
            })
        })
        .collect();
    let slopes = sweep.slopes();
    let expected = sweep.expected_slopes();
    let report_json = json!({
        "setup": { "task": if classification { "classification" } else { "regression" },
                   "inputDim": data.dim, "paramCount": live.param_count() },
        "report": report,
        "history": history_json,
        "sweep": {
            "widths": sweep.widths(),
            "seeds": sweep.seeds(),
            "points": points,
            "runs": sweep.runs,
            "slopes": slopes,
            "expectedSlopes": expected,
            "steps": sweep.steps(),
        },
        "spectra": { "eigInit": gram.eig_init, "eigNow": gram.eig_now, "eigAnalytic": gram.eig_analytic },
    });

    let summary = vec![
        ("trainLoss".to_string(), nan_or(report.network.train_loss)),
        ("testLoss".to_string(), nan_or(report.network.test_loss)),
        (
            "trainAccuracy".to_string(),
            nan_or(report.network.train_acc),
        ),
        ("testAccuracy".to_string(), nan_or(report.network.test_acc)),
        (
            "linearizedTestLoss".to_string(),
            nan_or(report.linearized.test_loss),
        ),
        ("ntkTestLoss".to_string(), nan_or(report.ntk.test_loss)),
        ("krrTestLoss".to_string(), nan_or(report.krr.test_loss)),
        ("weightChange".to_string(), report.weight_change),
        ("kernelDistance".to_string(), report.kernel_distance),
        (
            "divergedAt".to_string(),
            report.diverged.map_or(nan, |s| s as f64),
        ),
        (
            "weightChangeSlope".to_string(),
            nan_or(slopes.weight_change),
        ),
        (
            "kernelDistanceSlope".to_string(),
            nan_or(slopes.kernel_distance),
        ),
    ];

    let mut notes = Vec::new();
    if let Some(step) = report.diverged {
        notes.push(format!(
            "Training diverged at step {step}: the numbers are those of the last finite step. \
             Lower the step size."
        ));
    }
    let diverged_sweep: usize = summary_by_width.iter().map(|w| w.diverged).sum();
    if diverged_sweep > 0 {
        notes.push(format!(
            "{diverged_sweep} of the sweep's {} networks diverged; their measures are left out.",
            sweep.total()
        ));
    }

    let steps: Vec<f64> = history.iter().map(|r| r.step as f64).collect();
    let mut tables = Vec::new();
    let mut figures = Vec::new();

    // Losses of the four models over steps.
    let mut losses = Columns::new("step", steps.clone());
    for m in MODELS {
        let over_steps = |loss: fn(&Fit) -> Option<f64>| -> Vec<f64> {
            history.iter().map(|r| nan_or(loss(model(r, m)))).collect()
        };
        losses = losses
            .with(format!("{m}TrainLoss"), over_steps(|f| f.train_loss))
            .with(format!("{m}TestLoss"), over_steps(|f| f.test_loss));
    }
    tables.push(losses.table("losses"));
    let test_losses: Vec<String> = MODELS.iter().map(|m| format!("{m}TestLoss")).collect();
    let series: Vec<(&str, &str, Style)> = MODELS
        .iter()
        .zip(&test_losses)
        .map(|(&m, column)| {
            let style = if m == "network" {
                Style::Line
            } else {
                Style::Dashed
            };
            (column.as_str(), label(m), style)
        })
        .collect();
    figures.push(losses.lines(
        LinePlot {
            name: "losses".into(),
            title: "Test loss of the four models".into(),
            x_label: "step".into(),
            y_label: "test loss".into(),
            y_log: true,
            ..LinePlot::default()
        },
        &series,
    ));

    // How far the weights and the kernel move.
    let (table, figure) = Columns::new("step", steps)
        .with(
            "weightChange",
            history.iter().map(|r| r.weight_change).collect(),
        )
        .with(
            "kernelDistance",
            history.iter().map(|r| r.kernel_distance).collect(),
        )
        .table_and_lines(
            LinePlot {
                name: "lazy".into(),
                title: "How far training moves".into(),
                x_label: "step".into(),
                y_label: "relative change".into(),
                ..LinePlot::default()
            },
            &[
                ("weight change ‖θ_t − θ₀‖/‖θ₀‖", Style::Line),
                ("kernel distance ‖Θ_t − Θ₀‖/‖Θ₀‖", Style::Line),
            ],
        );
    tables.push(table);
    figures.push(figure);

    // The four models on the grid, with the training points.
    let spec = &pg.grid;
    let by_model = |m: &str| -> &[f32] {
        match m {
            "network" => &grid.network,
            "linearized" => &grid.linearized,
            "ntk" => &grid.ntk,
            _ => &grid.krr,
        }
    };
    if spec.dim == 1 {
        let xs: Vec<f64> = (0..spec.size).map(|i| spec.coord(0, i) as f64).collect();
        let (table, figure) = fit(
            "The four fits",
            xs,
            MODELS
                .iter()
                .map(|&m| (m, label(m), by_model(m).iter().map(|&v| v as f64).collect()))
                .collect(),
            pg.target_grid()
                .map(|t| t.iter().map(|&v| v as f64).collect()),
            (
                data.x_train.iter().map(|&v| v as f64).collect(),
                data.y_train.iter().map(|&v| v as f64).collect(),
            ),
        );
        tables.push(table);
        figures.push(figure);
    } else {
        let xs: Vec<f64> = (0..spec.size).map(|i| spec.coord(0, i) as f64).collect();
        let ys: Vec<f64> = (0..spec.size).map(|i| spec.coord(1, i) as f64).collect();
        let mut columns = vec!["x".to_string(), "y".to_string()];
        columns.extend(MODELS.iter().map(|m| m.to_string()));
        tables.push(Table {
            name: "regions".into(),
            columns,
            rows: (0..spec.len())
                .map(|p| {
                    let mut row =
                        vec![Cell::from(xs[p % spec.size]), Cell::from(ys[p / spec.size])];
                    row.extend(MODELS.iter().map(|&m| Cell::from(by_model(m)[p])));
                    row
                })
                .collect(),
        });
        let points: Vec<(f64, f64, f64)> = (0..data.n_train())
            .map(|i| {
                (
                    data.x_train[2 * i] as f64,
                    data.x_train[2 * i + 1] as f64,
                    data.y_train[i] as f64,
                )
            })
            .collect();
        for m in MODELS {
            figures.push(Figure::Heatmap(HeatPlot {
                name: format!("regions-{m}"),
                title: format!("f(x) of the {}", label(m)),
                x_label: "x₁".into(),
                y_label: "x₂".into(),
                xs: xs.clone(),
                ys: ys.clone(),
                values: by_model(m).iter().map(|&v| v as f64).collect(),
                value_label: "f(x)".into(),
                points: points.clone(),
                ..HeatPlot::default()
            }));
        }
    }

    // The NTK Gram matrix on the sorted Gram points, now and at θ₀.
    let size = gram.size;
    tables.push(Table {
        name: "gram".into(),
        columns: ["row", "column", "now", "init"].map(String::from).to_vec(),
        rows: (0..size * size)
            .map(|i| {
                vec![
                    Cell::from((i / size) as f64),
                    Cell::from((i % size) as f64),
                    Cell::from(gram.now[i]),
                    Cell::from(gram.init[i]),
                ]
            })
            .collect(),
    });
    let idx: Vec<f64> = (0..size).map(|i| i as f64).collect();
    for (name, title, values) in [
        ("gram-now", "Empirical NTK Θ_t", &gram.now),
        ("gram-init", "Empirical NTK Θ₀", &gram.init),
    ] {
        figures.push(Figure::Heatmap(HeatPlot {
            name: name.into(),
            title: title.into(),
            x_label: "training point".into(),
            y_label: "training point".into(),
            xs: idx.clone(),
            ys: idx.clone(),
            values: values.iter().map(|&v| v as f64).collect(),
            value_label: "Θ(x, x′)".into(),
            ..HeatPlot::default()
        }));
    }

    // The spectra of Θ/n (the empirical ones above their f32 floor).
    let n_eig = gram
        .eig_init
        .len()
        .max(gram.eig_now.len())
        .max(gram.eig_analytic.len());
    let above = |e: &[f64], i: usize| -> f64 {
        match e.get(i) {
            Some(&v) if e[0] > 0.0 && v > gram.eig_floor * e[0] => v,
            _ => nan,
        }
    };
    tables.push(Table {
        name: "spectra".into(),
        columns: ["rank", "eigInit", "eigNow", "eigAnalytic"]
            .map(String::from)
            .to_vec(),
        rows: (0..n_eig)
            .map(|i| {
                vec![
                    Cell::from((i + 1) as f64),
                    Cell::Num(gram.eig_init.get(i).copied().unwrap_or(nan)),
                    Cell::Num(gram.eig_now.get(i).copied().unwrap_or(nan)),
                    Cell::Num(gram.eig_analytic.get(i).copied().unwrap_or(nan)),
                ]
            })
            .collect(),
    });
    let ranks: Vec<f64> = (1..=n_eig).map(|i| i as f64).collect();
    figures.push(Figure::Lines(LinePlot {
        name: "spectra".into(),
        title: "Spectrum of Θ/n".into(),
        x_label: "rank".into(),
        y_label: "eigenvalue of Θ/n".into(),
        x_log: true,
        y_log: true,
        series: vec![
            Series {
                label: "Θ₀ (empirical)".into(),
                x: ranks.clone(),
                y: (0..n_eig).map(|i| above(&gram.eig_init, i)).collect(),
                ..Series::default()
            },
            Series {
                label: "Θ_t (empirical)".into(),
                x: ranks.clone(),
                y: (0..n_eig).map(|i| above(&gram.eig_now, i)).collect(),
                ..Series::default()
            },
            Series {
                label: "Θ∞ (analytic)".into(),
                x: ranks,
                // Positive eigenvalues only, on a log axis.
                y: gram
                    .eig_analytic
                    .iter()
                    .map(|&v| if v > 0.0 { v } else { nan })
                    .collect(),
                style: Style::Dashed,
                ..Series::default()
            },
        ],
        ..LinePlot::default()
    }));

    // The width sweep: every network, and per width the geometric mean over its seeds.
    tables.push(Table {
        name: "sweep".into(),
        columns: ["width", "seed", "weightChange", "kernelDistance"]
            .map(String::from)
            .to_vec(),
        rows: sweep
            .runs
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.width as f64),
                    Cell::from(r.seed as f64),
                    Cell::Num(nan_or(r.weight_change)),
                    Cell::Num(nan_or(r.kernel_distance)),
                ]
            })
            .collect(),
    });
    let widths: Vec<f64> = summary_by_width.iter().map(|w| w.width as f64).collect();
    let mean = |pick: fn(&lazy::WidthSummary) -> Option<lazy::Spread>| -> Vec<f64> {
        summary_by_width
            .iter()
            .map(|w| pick(w).map_or(nan, |s| s.mean))
            .collect()
    };
    let wc = mean(|w| w.weight_change);
    let kd = mean(|w| w.kernel_distance);
    // Reference lines of slope −½ and −1 through the geometric mean of the points of width ≥
    // SLOPE_MIN_WIDTH (as the page draws them, between the two measures).
    let (mut log_c, mut log_w, mut count) = (0.0, 0.0, 0usize);
    for (i, &w) in widths.iter().enumerate() {
        if w < SLOPE_MIN_WIDTH as f64 {
            continue;
        }
        for v in [wc[i], kd[i]] {
            if v.is_finite() && v > 0.0 {
                log_c += v.ln();
                log_w += w.ln();
                count += 1;
            }
        }
    }
    let line = |slope: f64| -> Vec<f64> {
        widths
            .iter()
            .map(|&w| {
                if count > 0 {
                    (log_c / count as f64 + slope * (w.ln() - log_w / count as f64)).exp()
                } else {
                    nan
                }
            })
            .collect()
    };
    let fmt = |s: Option<f64>| s.map_or("none".to_string(), |s| format!("{s:.2}"));
    figures.push(Figure::Lines(LinePlot {
        name: "sweep".into(),
        title: format!(
            "Against width ({} seed{}, {} steps): slopes {} (weights, expected {}), {} (kernel, expected {})",
            sweep.seeds(),
            if sweep.seeds() == 1 { "" } else { "s" },
            sweep.steps(),
            fmt(slopes.weight_change),
            fmt(expected.weight_change),
            fmt(slopes.kernel_distance),
            fmt(expected.kernel_distance),
        ),
        x_label: "width".into(),
        y_label: "relative change after training".into(),
        x_log: true,
        y_log: true,
        series: vec![
            Series {
                label: "weight change".into(),
                x: widths.clone(),
                y: wc,
                ..Series::default()
            },
            Series {
                label: "kernel distance".into(),
                x: widths.clone(),
                y: kd,
                ..Series::default()
            },
            Series {
                label: "slope −½ (1/√width)".into(),
                x: widths.clone(),
                y: line(-0.5),
                style: Style::Dashed,
                ..Series::default()
            },
            Series {
                label: "slope −1".into(),
                x: widths.clone(),
                y: line(-1.0),
                style: Style::Dashed,
                ..Series::default()
            },
        ],
        ..LinePlot::default()
    }));

    SceneOutput {
        report: report_json,
        summary,
        tables,
        figures,
        notes,
        backend: "cpu".into(),
    }
}
