//! `descent run playground` headless: the Playground's live run for a fixed number of steps.
//!
//! The page trains until paused, taking the first [`EARLY_STEPS`] steps one at a time (the
//! first [`GPU_EARLY_STEPS`] on the GPU) and reporting after each, then chunks of steps sized
//! by the clock. Headless, the run takes `--steps` steps ([`DEFAULT_STEPS`] when not given):
//! one at a time up to the same step as the page, then [`LATE_CHUNKS`] equal chunks at most,
//! reporting after each. The parameters a step reaches do not depend on how the steps are
//! chunked, so the numbers at a step are the page's at that step.
//!
//! Output: the report the page's "Export → report" writes (`setup`, `report`, `history`), the
//! loss and accuracy over steps, the fitted function (1-D regression) or the decision regions
//! (2-D, and the digits on their principal plane) with the training points, the confusion
//! matrix for three classes or more and the misclassified test digits.

use std::sync::{Arc, OnceLock};

use serde_json::json;

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::cli::output::{self, Columns, diverged_mark};
use crate::cli::scenes::{fit, report_steps, train_in_chunks};
use crate::cli::{
    Cell, Figure, Headless, HeatPlot, LinePlot, Progress, RunOptions, SceneOutput, Settings, Style,
    Table,
};
use crate::data::digits::Digits;
use crate::data::{DatasetKind, Task};
use crate::error::{Error, Result};
use crate::exec::block_on;
use crate::scenes::playground::{DataSource, Playground as Run, PlaygroundConfig, Report};
use crate::session::device::{BackendChoice, software_notice, software_warning};

/// Steps a headless run takes when `--steps` is not given.
pub const DEFAULT_STEPS: u64 = 1000;

/// The steps the page takes one at a time on the CPU, reporting after each (its history keeps
/// every one of them: `EARLY_STEPS` in www/js/core/history.js).
pub const EARLY_STEPS: u64 = 1000;

/// The steps the page takes one at a time on the GPU (`GPU_EARLY_STEPS` in the scene's
/// worker.js).
pub const GPU_EARLY_STEPS: u64 = 100;

/// After the early steps, the run reports after each of at most this many equal chunks.
pub const LATE_CHUNKS: u64 = 1000;

/// The refusal of a reader's table headless: `field` is the setting that chose it, `others`
/// the choices the command line takes instead.
pub fn table_refused(field: &'static str, others: &str) -> Error {
    Error::config(
        field,
        format!(
            "`table` trains on a file of the reader's own, which the command line does not \
             read: choose {others}"
        ),
    )
}

/// The 8×8 digits the binary holds ([`digits_data`](crate::cli::scenes::double_descent::digits_data)),
/// shared as the runs' data sources take them.
pub fn digits() -> Result<Arc<Digits>> {
    static DIGITS: OnceLock<Arc<Digits>> = OnceLock::new();
    if let Some(d) = DIGITS.get() {
        return Ok(Arc::clone(d));
    }
    let held = Arc::new(crate::cli::scenes::double_descent::digits_data()?.clone());
    Ok(Arc::clone(DIGITS.get_or_init(|| held)))
}

/// The data a run of `config` needs beyond its settings: the digits for the digits, none
/// otherwise; `table` is refused (`field` names the setting).
pub fn source_for(dataset: DatasetKind, field: &'static str) -> Result<DataSource> {
    match dataset {
        DatasetKind::Table => Err(table_refused(
            field,
            "another dataset (sine, circles, xor, gaussians, spirals, blobs, arms or digits)",
        )),
        DatasetKind::Digits => Ok(DataSource {
            digits: Some(digits()?),
            table: None,
        }),
        _ => Ok(DataSource::default()),
    }
}

/// The GPU a run asked for with `options.backend`, if it gets one, and the notes saying why
/// not. `Gpu`: a GPU (a software adapter too, with a warning) or the error; `Auto`: a hardware
/// GPU when wgpu finds one and `suits` (the workload is one the GPU path runs), else the CPU
/// with a note; `Cpu`: none. `unsuited` says why a workload that does not suit runs on the CPU.
pub fn gpu_for(
    options: &RunOptions,
    suits: bool,
    unsuited: &str,
    notes: &mut Vec<String>,
) -> Result<Option<Gpu>> {
    match options.backend {
        BackendChoice::Cpu => Ok(None),
        BackendChoice::Gpu | BackendChoice::Auto if !suits => {
            notes.push(unsuited.to_string());
            Ok(None)
        }
        BackendChoice::Gpu => {
            let gpu = Gpu::new_blocking()?;
            if gpu.is_software() {
                notes.push(software_warning(gpu.adapter()));
            }
            Ok(Some(gpu))
        }
        BackendChoice::Auto => match Gpu::new_blocking() {
            Ok(gpu) if gpu.is_software() => {
                notes.push(software_notice(gpu.adapter(), "the run is on the CPU"));
                Ok(None)
            }
            Ok(gpu) => Ok(Some(gpu)),
            Err(e) => {
                notes.push(format!(
                    "No GPU could be had ({e}), so the run is on the CPU."
                ));
                Ok(None)
            }
        },
    }
}

/// The Playground scene without a page.
pub struct Playground;

impl Headless for Playground {
    fn id(&self) -> &'static str {
        "playground"
    }

    fn about(&self) -> &'static str {
        "Trains the Playground's network for --steps steps (default 1000): train and test loss \
         and accuracy over steps, the fitted function or decision regions with the training \
         points, the confusion matrix and the misclassified digits"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let config: PlaygroundConfig = settings.config()?;
        let steps = options.steps.unwrap_or(DEFAULT_STEPS);
        let mut notes = Vec::new();
        let gpu = gpu_for(
            options,
            config.full_batch(),
            "The GPU backend trains full batch only; this mini-batch run is on the CPU.",
            &mut notes,
        )?;
        let mut out = match gpu {
            Some(gpu) => train(config, gpu, GPU_EARLY_STEPS, steps, options, progress)?,
            None => train(config, Cpu::new(), EARLY_STEPS, steps, options, progress)?,
        };
        // The page's report carries the backend's notice beside the numbers.
        if let Some(n) = notes.first() {
            out.report["report"]["notice"] = serde_json::Value::String(n.clone());
        }
        out.notes.splice(0..0, notes);
        Ok(out)
    }
}

/// One point of the history: the report after a step.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub step: u64,
    pub train_loss: f64,
    pub test_loss: f64,
    pub train_acc: Option<f64>,
    pub test_acc: Option<f64>,
}

impl Point {
    fn of(r: &Report) -> Point {
        Point {
            step: r.step,
            train_loss: r.train_loss,
            test_loss: r.test_loss,
            train_acc: r.train_acc,
            test_acc: r.test_acc,
        }
    }
}

/// Builds the run on `backend`, trains it as the page does for `steps` steps and reads the
/// grid, on any backend.
fn train<B: Backend>(
    config: PlaygroundConfig,
    backend: B,
    early: u64,
    steps: u64,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<SceneOutput> {
    let source = source_for(config.data.dataset, "dataset")?;
    let mut run = block_on(Run::build_with_async(
        config,
        backend,
        options.memory_limit,
        &source,
    ))?;
    let backend_name = if run.backend_name() == "cpu" {
        "cpu"
    } else {
        "gpu"
    };
    let first = block_on(run.evaluate_async())?;
    let (reports, report) = train_in_chunks(
        first,
        &report_steps(early, LATE_CHUNKS, steps),
        options,
        progress,
        |k| block_on(run.advance_async(k)),
        |r| r.diverged.is_some(),
    )?;
    let history: Vec<Point> = reports.iter().map(Point::of).collect();
    let grid = block_on(run.predict_grid_async())?;
    Ok(output(&run, &report, &history, &grid, backend_name))
}

/// The page's name of a class: the data's name, or its index.
fn class_name(names: &[String], c: usize) -> String {
    names.get(c).cloned().unwrap_or_else(|| c.to_string())
}

/// The [`SceneOutput`] of a finished run: its final report, its history and the network's
/// predictions on its grid.
fn output<B: Backend>(
    run: &Run<B>,
    report: &Report,
    history: &[Point],
    grid: &[f32],
    backend: &str,
) -> SceneOutput {
    let data = &run.data;
    let config = &run.config;
    let k = config.outputs();
    let classification = data.task == Task::Classification;
    let spec = &run.grid;
    let setup = json!({
        "task": if classification { "classification" } else { "regression" },
        "inputDim": data.dim,
        "outputs": k,
        "classes": data.classes,
        "classNames": if data.class_names.is_empty() { json!(null) } else { json!(data.class_names) },
        "loss": if config.loss == crate::nn::loss::Loss::CrossEntropy { "crossEntropy" } else { "squared" },
        "paramCount": run.param_count(),
        "memoryBytes": config.memory_bytes(),
        "gridSpec": { "dim": spec.dim, "size": spec.size, "lo": spec.lo, "hi": spec.hi },
    });
    let finite = |x: f64| if x.is_finite() { json!(x) } else { json!(null) };
    let opt = |x: Option<f64>| x.map_or(json!(null), finite);
    let report_json = json!({
        "step": report.step,
        "diverged": report.diverged,
        "message": report.message,
        "trainLoss": finite(report.train_loss),
        "testLoss": finite(report.test_loss),
        "trainAcc": opt(report.train_acc),
        "testAcc": opt(report.test_acc),
        "backend": if backend == "gpu" { "webgpu" } else { "cpu" },
        "notice": null,
        "confusion": report.confusion,
        "misclassified": report.misclassified,
        "misclassifiedCount": report.misclassified_count,
    });
    let history_json = json!({
        "step": history.iter().map(|p| p.step).collect::<Vec<_>>(),
        "train": history.iter().map(|p| finite(p.train_loss)).collect::<Vec<_>>(),
        "test": history.iter().map(|p| finite(p.test_loss)).collect::<Vec<_>>(),
    });

    let nan = f64::NAN;
    let summary = vec![
        ("trainLoss".to_string(), report.train_loss),
        ("testLoss".to_string(), report.test_loss),
        ("trainAccuracy".to_string(), report.train_acc.unwrap_or(nan)),
        ("testAccuracy".to_string(), report.test_acc.unwrap_or(nan)),
        (
            "divergedAt".to_string(),
            report.diverged.map_or(nan, |s| s as f64),
        ),
    ];

    let mut notes = Vec::new();
    if let Some(step) = report.diverged {
        notes.push(format!(
            "Training diverged at step {step}: the numbers are those of the last finite step. \
             Lower the step size or the initialisation scale."
        ));
    }

    // The losses (and accuracies) over steps.
    let losses = Columns::new("step", history.iter().map(|p| p.step as f64).collect())
        .with("trainLoss", history.iter().map(|p| p.train_loss).collect())
        .with("testLoss", history.iter().map(|p| p.test_loss).collect())
        .with(
            "trainAccuracy",
            history.iter().map(|p| p.train_acc.unwrap_or(nan)).collect(),
        )
        .with(
            "testAccuracy",
            history.iter().map(|p| p.test_acc.unwrap_or(nan)).collect(),
        );
    let diverged_mark = diverged_mark(report.diverged);
    let loss_label = match config.loss {
        crate::nn::loss::Loss::CrossEntropy => "cross-entropy loss",
        _ => "squared loss",
    };
    let mut figures = vec![losses.lines(
        LinePlot {
            name: "losses".into(),
            title: "Loss".into(),
            x_label: "step".into(),
            y_label: loss_label.into(),
            y_log: true,
            x_marks: diverged_mark.clone(),
            ..LinePlot::default()
        },
        &[
            ("trainLoss", "train", Style::Line),
            ("testLoss", "test", Style::Line),
        ],
    )];
    let mut tables = vec![losses.table("losses")];
    if classification {
        figures.push(losses.lines(
            LinePlot {
                name: "accuracy".into(),
                title: "Accuracy".into(),
                x_label: "step".into(),
                y_label: "accuracy".into(),
                y_range: Some([0.0, 1.0]),
                x_marks: diverged_mark,
                ..LinePlot::default()
            },
            &[
                ("trainAccuracy", "train", Style::Line),
                ("testAccuracy", "test", Style::Line),
            ],
        ));
    }

    // The network on its grid, with the training points.
    let coords = data.plot_coords(&data.x_train);
    let train_value = |i: usize| -> f64 {
        if classification {
            data.labels_train[i] as f64
        } else {
            data.y_train[i] as f64
        }
    };
    if spec.dim == 1 {
        let xs: Vec<f64> = (0..spec.size).map(|i| spec.coord(0, i) as f64).collect();
        let (table, figure) = fit(
            "Fitted function",
            xs,
            vec![(
                "f",
                "network f(x)",
                grid.iter().map(|&v| v as f64).collect(),
            )],
            run.target_grid()
                .map(|t| t.iter().map(|&v| v as f64).collect()),
            (
                coords.iter().map(|&v| v as f64).collect(),
                (0..data.n_train()).map(train_value).collect(),
            ),
        );
        tables.push(table);
        figures.push(figure);
    } else {
        let xs: Vec<f64> = (0..spec.size).map(|i| spec.coord(0, i) as f64).collect();
        let ys: Vec<f64> = (0..spec.size).map(|i| spec.coord(1, i) as f64).collect();
        let points = spec.len();
        // A class per grid point: the argmax of K outputs, the sign of one (classes −1, +1).
        let class_at = |p: usize| -> f64 {
            let f = &grid[p * k..(p + 1) * k];
            if k == 1 {
                if f[0] >= 0.0 { 1.0 } else { 0.0 }
            } else {
                crate::nn::loss::argmax(f.iter().map(|&v| v as f64)) as f64
            }
        };
        let values: Vec<f64> = (0..points)
            .map(|p| {
                if classification {
                    class_at(p)
                } else {
                    grid[p] as f64
                }
            })
            .collect();
        let mut columns = vec!["x".to_string(), "y".to_string()];
        if k == 1 {
            columns.push("f".into());
        } else {
            columns.extend((0..k).map(|c| format!("f_{}", class_name(&data.class_names, c))));
        }
        if classification {
            columns.push("class".into());
        }
        tables.push(Table {
            name: "regions".into(),
            columns,
            rows: (0..points)
                .map(|p| {
                    let mut row =
                        vec![Cell::from(xs[p % spec.size]), Cell::from(ys[p / spec.size])];
                    row.extend(grid[p * k..(p + 1) * k].iter().map(|&v| Cell::from(v)));
                    if classification {
                        row.push(Cell::Text(class_name(
                            &data.class_names,
                            class_at(p) as usize,
                        )));
                    }
                    row
                })
                .collect(),
        });
        let (x_label, y_label) = if data.projection.is_some() {
            ("principal axis 1", "principal axis 2")
        } else {
            ("x₁", "x₂")
        };
        figures.push(Figure::Heatmap(HeatPlot {
            name: "regions".into(),
            title: if classification {
                "Decision regions".into()
            } else {
                "Prediction over the plane".into()
            },
            x_label: x_label.into(),
            y_label: y_label.into(),
            xs,
            ys,
            values,
            value_label: if classification {
                "predicted class".into()
            } else {
                "f(x)".into()
            },
            classes: classification,
            points: (0..data.n_train())
                .map(|i| {
                    (
                        coords[2 * i] as f64,
                        coords[2 * i + 1] as f64,
                        train_value(i),
                    )
                })
                .collect(),
            ..HeatPlot::default()
        }));
    }

    // The confusion matrix for three classes or more, the misclassified digits.
    if let Some(confusion) = report.confusion.as_ref().filter(|_| data.classes >= 3) {
        let kc = (confusion.len() as f64).sqrt().round() as usize;
        let names: Vec<String> = (0..kc).map(|c| class_name(&data.class_names, c)).collect();
        let counts: Vec<f64> = confusion.iter().map(|&c| c as f64).collect();
        let (table, figure) = output::confusion(
            &names,
            &counts,
            "Confusion matrix (test set)",
            "test points",
        );
        tables.push(table);
        figures.push(figure);
    }
    if config.data.dataset == DatasetKind::Digits {
        tables.push(Table {
            name: "misclassified".into(),
            columns: ["testIndex", "truth", "predicted"]
                .map(String::from)
                .to_vec(),
            rows: report
                .misclassified
                .iter()
                .map(|m| {
                    vec![
                        Cell::from(m.index as f64),
                        Cell::Text(class_name(&data.class_names, m.truth as usize)),
                        Cell::Text(class_name(&data.class_names, m.predicted as usize)),
                    ]
                })
                .collect(),
        });
        if report.misclassified_count as usize > report.misclassified.len() {
            notes.push(format!(
                "{} test digits are misclassified; misclassified.csv lists the first {}.",
                report.misclassified_count,
                report.misclassified.len()
            ));
        }
    }

    SceneOutput {
        report: json!({ "setup": setup, "report": report_json, "history": history_json }),
        summary,
        tables,
        figures,
        notes,
        backend: backend.to_string(),
    }
}
