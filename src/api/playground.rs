//! The Playground's exports: its defaults, the live run on either backend, the backend
//! advice, the digits the worker holds ([`set_digits`]) and a reader's table ([`DataTable`]).

use std::cell::RefCell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{config_from, js_err, task_name, to_js};
use crate::data::digits::{self, Digits};
use crate::data::{ColumnRef, DatasetKind, Table, TableOptions, Task, parse_table};
use crate::error::Error;
use crate::exec::block_on;
use crate::scenes::playground::live::{self, Live};
use crate::scenes::playground::{self, DataSource, PlaygroundConfig};
use crate::session::device::{AUTO_GPU_MIN_FLOPS, BackendChoice};

thread_local! {
    /// The parsed digits file this instance holds (see [`set_digits`]).
    static DIGITS: RefCell<Option<Arc<Digits>>> = const { RefCell::new(None) };
}

/// Parses the text of `data/digits.csv` and keeps it for the runs on the digits
/// (`dataset: 'digits'`) this engine instance builds. Throws an `Error` naming what is wrong
/// with the file.
#[wasm_bindgen(js_name = setDigits)]
pub fn set_digits(text: &str) -> Result<(), JsValue> {
    let parsed = digits::parse(text).map_err(js_err)?;
    DIGITS.with(|d| *d.borrow_mut() = Some(Arc::new(parsed)));
    Ok(())
}

/// Whether [`set_digits`] has given this instance the digits.
#[wasm_bindgen(js_name = hasDigits)]
pub fn has_digits() -> bool {
    DIGITS.with(|d| d.borrow().is_some())
}

/// The digits [`set_digits`] gave this instance, if it has.
pub(super) fn held_digits() -> Option<Arc<Digits>> {
    DIGITS.with(|d| d.borrow().clone())
}

/// The data a run of `config` needs beyond its settings: the digits held, and `table`.
fn source(table: Option<DataTable>) -> DataSource {
    DataSource {
        digits: DIGITS.with(|d| d.borrow().clone()),
        table: table.map(|t| t.table),
    }
}

/// A table the reader brought (CSV or TSV text, `data::table`), parsed and kept for the runs
/// on it (`dataset: 'table'`).
#[wasm_bindgen]
pub struct DataTable {
    table: Arc<Table>,
}

/// The options of [`DataTable::parse`] as the page writes them.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ReadOptions {
    /// The target column: a name, a 0-based index, or null (the last column).
    target: Option<serde_json::Value>,
    /// "auto" (inferred), "classification" or "regression".
    task: Option<String>,
    /// One character (",", "\t", ";"), or null to sniff.
    delimiter: Option<String>,
    /// Whether the first row names the columns, or null to detect.
    header: Option<bool>,
}

impl ReadOptions {
    fn table_options(self) -> Result<TableOptions, Error> {
        let target = match self.target {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(name)) => Some(ColumnRef::Name(name)),
            Some(serde_json::Value::Number(n)) => match n.as_f64() {
                Some(i) if i >= 0.0 && i.fract() == 0.0 => Some(ColumnRef::Index(i as usize)),
                _ => {
                    return Err(Error::config(
                        "target",
                        format!("a column index is a whole number ≥ 0, got {n}"),
                    ));
                }
            },
            Some(other) => {
                return Err(Error::config(
                    "target",
                    format!("expected a column name or index, got {other}"),
                ));
            }
        };
        let task = match self.task.as_deref() {
            None | Some("auto") | Some("") => None,
            Some("classification") => Some(Task::Classification),
            Some("regression") => Some(Task::Regression),
            Some(other) => {
                return Err(Error::config(
                    "task",
                    format!(
                        "expected \"auto\", \"classification\" or \"regression\", got {other:?}"
                    ),
                ));
            }
        };
        let delimiter = match self.delimiter.as_deref() {
            None | Some("") => None,
            Some(d) => {
                let mut chars = d.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => {
                        return Err(Error::config(
                            "delimiter",
                            format!("expected one character, got {d:?}"),
                        ));
                    }
                }
            }
        };
        Ok(TableOptions {
            delimiter,
            header: self.header,
            target,
            task,
            ..TableOptions::default()
        })
    }
}

/// What [`DataTable::summary`] returns.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TableSummary<'a> {
    rows: usize,
    dim: usize,
    columns: &'a [String],
    target: &'a str,
    task: &'static str,
    inferred_task: &'static str,
    classes: usize,
    class_names: &'a [String],
    class_counts: &'a [usize],
    dropped: usize,
    hash: &'a str,
    has_header: bool,
    delimiter: String,
}

impl DataTable {
    /// The parsed table (shared, not copied).
    pub(super) fn table(&self) -> Arc<Table> {
        Arc::clone(&self.table)
    }
}

#[wasm_bindgen]
impl DataTable {
    /// Parses `text` with `options` = `{target: name | 0-based index | null (the last
    /// column), task: 'auto' | 'classification' | 'regression', delimiter?: one character,
    /// header?: bool}`. Throws an `Error` with the reader's message on a bad file.
    pub fn parse(text: &str, options: JsValue) -> Result<DataTable, JsValue> {
        let read: ReadOptions = if options.is_undefined() || options.is_null() {
            ReadOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| js_sys::Error::new(&format!("invalid table options: {e}")))?
        };
        let options = read.table_options().map_err(js_err)?;
        let table = parse_table(text, &options).map_err(js_err)?;
        Ok(DataTable {
            table: Arc::new(table),
        })
    }

    /// `{rows, dim, columns, target, task, inferredTask, classes, classNames, classCounts,
    /// dropped, hash, hasHeader, delimiter}`: `dim` counts the inputs, `columns` names every
    /// column, `target` the target's name, the tasks are "classification" or "regression".
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        let t = &self.table;
        to_js(&TableSummary {
            rows: t.rows,
            dim: t.dim,
            columns: &t.columns,
            target: &t.target_name,
            task: task_name(t.task),
            inferred_task: task_name(t.inferred_task),
            classes: t.classes,
            class_names: &t.class_names,
            class_counts: &t.class_counts,
            dropped: t.dropped,
            hash: &t.hash,
            has_header: t.has_header,
            delimiter: t.delimiter.to_string(),
        })
    }

    /// Another handle on the same parsed table (no copy): `Playground.create` and
    /// `importWeights` take the handle they are given, so a worker that keeps its table hands
    /// them a share.
    pub fn share(&self) -> DataTable {
        DataTable {
            table: Arc::clone(&self.table),
        }
    }
}

/// The default settings of the Playground, every field present.
#[wasm_bindgen(js_name = defaultConfig)]
pub fn default_config() -> Result<JsValue, JsValue> {
    to_js(&PlaygroundConfig::default())
}

/// A live Playground run (see `scenes::playground`), on the CPU or on WebGPU (see
/// `scenes::playground::live` and `session::device`: the backend choice, the fallback and the
/// notice).
///
/// `new Playground(config)` builds a CPU run whose methods are synchronous.
/// `await Playground.create(config, backend)` picks the backend ("auto", "cpu" or "gpu"); a
/// GPU run is driven through the `…Async` methods, which also work on the CPU.
#[wasm_bindgen]
pub struct Playground {
    inner: Live,
}

/// Milliseconds on the page's clock.
fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen]
impl Playground {
    /// Builds the data and the network from a settings object, on the CPU; missing fields
    /// take their defaults. Throws an `Error` naming the setting that is out of range, or the
    /// memory a too-large configuration would need.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<Playground, JsValue> {
        let config = config_from(config, PlaygroundConfig::default())?;
        let inner = block_on(Live::create(config, BackendChoice::Cpu, now_ms())).map_err(js_err)?;
        Ok(Playground { inner })
    }

    /// Builds a run on the chosen backend: "auto" (WebGPU for large full-batch networks when
    /// the browser has it), "cpu" or "gpu". A GPU that cannot be had gives a CPU run whose
    /// `notice` says why; settings errors reject the promise. `table` (a `DataTable`, taken:
    /// pass `table.share()` to keep yours) is the data of `dataset: 'table'`; the digits are
    /// those `setDigits` gave.
    pub async fn create(
        config: JsValue,
        backend: String,
        table: Option<DataTable>,
    ) -> Result<Playground, JsValue> {
        let config = config_from(config, PlaygroundConfig::default())?;
        let choice = BackendChoice::parse(&backend).map_err(js_err)?;
        let inner = Live::create_with(config, choice, source(table), now_ms())
            .await
            .map_err(js_err)?;
        Ok(Playground { inner })
    }

    /// A run continued from a Playground weights file (its JSON text) on the chosen backend:
    /// the file's settings, parameters, step count and divergence reference (see
    /// `session::weights`). Rejects with an `Error` that says what is wrong with the file.
    /// `table` as in `create`, for a file written on a reader's table.
    #[wasm_bindgen(js_name = importWeights)]
    pub async fn import_weights(
        text: String,
        backend: String,
        table: Option<DataTable>,
    ) -> Result<Playground, JsValue> {
        let choice = BackendChoice::parse(&backend).map_err(js_err)?;
        let inner = Live::import_with(&text, choice, source(table), now_ms())
            .await
            .map_err(js_err)?;
        Ok(Playground { inner })
    }

    /// The weights file of the network now (JSON text, `session::weights`); rejects for a
    /// diverged run.
    #[wasm_bindgen(js_name = exportWeights)]
    pub async fn export_weights(&mut self) -> Result<String, JsValue> {
        self.inner.export_weights().await.map_err(js_err)
    }

    /// Back to θ₀, the seed's initial weights, at step 0 (the run then equals a fresh one of
    /// its settings); returns the report there, with `backend` and `notice`.
    pub async fn rewind(&mut self) -> Result<JsValue, JsValue> {
        let r = self.inner.rewind().await.map_err(js_err)?;
        to_js(&r)
    }

    /// The backend running now: "cpu" or "webgpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.backend().into()
    }

    /// The GPU adapter's name while on the GPU, else `undefined`.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Option<String> {
        self.inner.adapter().map(str::to_string)
    }

    /// Why the run is on the CPU though a GPU was wanted, or that it moved there; else
    /// `undefined`.
    #[wasm_bindgen(getter)]
    pub fn notice(&self) -> Option<String> {
        self.inner.notice().map(str::to_string)
    }

    /// The technical account behind `notice` (for the console), else `undefined`.
    #[wasm_bindgen(getter, js_name = noticeDetail)]
    pub fn notice_detail(&self) -> Option<String> {
        self.inner.notice_detail().map(str::to_string)
    }

    /// "regression" or "classification" (a table's from its file).
    #[wasm_bindgen(getter)]
    pub fn task(&self) -> String {
        task_name(self.inner.data().task).into()
    }

    /// The true input dimension d (64 for the digits, a table's input columns).
    #[wasm_bindgen(getter, js_name = inputDim)]
    pub fn input_dim(&self) -> usize {
        self.inner.data().dim
    }

    /// K, the network's outputs: 1 (one value, or ±1 for two classes under the squared
    /// loss) or the number of classes.
    #[wasm_bindgen(getter)]
    pub fn outputs(&self) -> usize {
        self.inner.config().outputs()
    }

    /// The number of classes (0 for regression).
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> usize {
        self.inner.data().classes
    }

    /// The class names, in class order (empty for regression).
    #[wasm_bindgen(js_name = classNames)]
    pub fn class_names(&self) -> Vec<String> {
        self.inner.data().class_names.clone()
    }

    /// "squared" or "crossEntropy".
    #[wasm_bindgen(getter)]
    pub fn loss(&self) -> String {
        match self.inner.config().loss {
            crate::nn::loss::Loss::Squared => "squared".into(),
            crate::nn::loss::Loss::CrossEntropy => "crossEntropy".into(),
            crate::nn::loss::Loss::Proportions { .. } => "proportions".into(),
        }
    }

    /// The coordinates the main plot draws: 1 or 2.
    #[wasm_bindgen(getter, js_name = plotDim)]
    pub fn plot_dim(&self) -> usize {
        self.inner.grid().dim
    }

    /// Whether the inputs (more than two) are drawn on their first two principal axes.
    #[wasm_bindgen(getter)]
    pub fn projected(&self) -> bool {
        self.inner.data().projection.is_some()
    }

    /// The share of the training inputs' variance the two principal axes hold (projected
    /// data), else `undefined`.
    #[wasm_bindgen(getter)]
    pub fn explained(&self) -> Option<f64> {
        self.inner.data().projection.as_ref().map(|p| p.explained())
    }

    /// A table's content hash ("fnv1a64:…"), else `undefined`.
    #[wasm_bindgen(getter, js_name = dataHash)]
    pub fn data_hash(&self) -> Option<String> {
        self.inner.data().source_hash.clone()
    }

    #[wasm_bindgen(getter, js_name = paramCount)]
    pub fn param_count(&self) -> f64 {
        self.inner.param_count() as f64
    }

    #[wasm_bindgen(getter, js_name = memoryBytes)]
    pub fn memory_bytes(&self) -> f64 {
        self.inner.memory_bytes() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> f64 {
        self.inner.step() as f64
    }

    /// The settings in force (with defaults filled in).
    pub fn config(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.config())
    }

    /// The CPU run behind the synchronous methods.
    fn cpu(&mut self) -> Result<&mut playground::Playground, JsValue> {
        self.inner.cpu().ok_or_else(|| {
            js_sys::Error::new("this run is on the GPU: use the async methods (advanceAsync, …)")
                .into()
        })
    }

    /// Runs up to `steps` gradient steps and returns the report at the parameters reached
    /// (CPU runs).
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsValue> {
        let r = self.cpu()?.advance(steps as u64);
        to_js(&r)
    }

    /// Runs up to `steps` steps on either backend and returns the report, with `backend` and
    /// `notice` fields. A failing GPU moves the run to the CPU (see `notice`).
    #[wasm_bindgen(js_name = advanceAsync)]
    pub async fn advance_async(&mut self, steps: u32) -> Result<JsValue, JsValue> {
        let r = self
            .inner
            .advance(steps as u64, now_ms())
            .await
            .map_err(js_err)?;
        to_js(&r)
    }

    /// Runs up to `steps` steps without evaluating losses (for benchmarks; CPU runs);
    /// returns the number of steps taken.
    #[wasm_bindgen(js_name = trainSteps)]
    pub fn train_steps(&mut self, steps: u32) -> Result<u32, JsValue> {
        Ok(self.cpu()?.train_only(steps as u64) as u32)
    }

    /// The report at the current parameters, without stepping (CPU runs).
    pub fn evaluate(&mut self) -> Result<JsValue, JsValue> {
        let r = self.cpu()?.evaluate();
        to_js(&r)
    }

    /// The report at the current parameters on either backend, with `backend` and `notice`.
    #[wasm_bindgen(js_name = evaluateAsync)]
    pub async fn evaluate_async(&mut self) -> Result<JsValue, JsValue> {
        let r = self.inner.evaluate().await.map_err(js_err)?;
        to_js(&r)
    }

    /// Changes the step size from the next step on.
    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f64) -> Result<(), JsValue> {
        self.inner.set_lr(lr).map_err(js_err)
    }

    /// The training inputs in plot coordinates (`n × plotDim`: the inputs themselves for
    /// d ≤ 2, their projection on the principal plane for d > 2).
    #[wasm_bindgen(js_name = trainX)]
    pub fn train_x(&self) -> Vec<f32> {
        let d = self.inner.data();
        d.plot_coords(&d.x_train)
    }
    /// The training targets as drawn: the value or ±1 for one output, the class index (as a
    /// number) for K outputs.
    #[wasm_bindgen(js_name = trainY)]
    pub fn train_y(&self) -> Vec<f32> {
        let d = self.inner.data();
        if self.inner.config().outputs() > 1 {
            d.labels_train.iter().map(|&l| l as f32).collect()
        } else {
            d.y_train.clone()
        }
    }
    /// The test inputs in plot coordinates (as `trainX`).
    #[wasm_bindgen(js_name = testX)]
    pub fn test_x(&self) -> Vec<f32> {
        let d = self.inner.data();
        d.plot_coords(&d.x_test)
    }
    /// The test targets as drawn (as `trainY`).
    #[wasm_bindgen(js_name = testY)]
    pub fn test_y(&self) -> Vec<f32> {
        let d = self.inner.data();
        if self.inner.config().outputs() > 1 {
            d.labels_test.iter().map(|&l| l as f32).collect()
        } else {
            d.y_test.clone()
        }
    }
    /// The test inputs as the network sees them (`n_test × inputDim`; for the digits the
    /// pixels in [0, 1], row-major 8 × 8).
    #[wasm_bindgen(js_name = testInputs)]
    pub fn test_inputs(&self) -> Vec<f32> {
        self.inner.data().x_test.clone()
    }
    /// Whether the run is on the digits.
    #[wasm_bindgen(getter, js_name = isDigits)]
    pub fn is_digits(&self) -> bool {
        self.inner.config().data.dataset == DatasetKind::Digits
    }

    /// `{ dim, size, lo, hi }` of the plotting grid.
    #[wasm_bindgen(js_name = gridSpec)]
    pub fn grid_spec(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.grid())
    }

    /// Predictions on the grid, K values per point (1-D: `size` points; 2-D: `size²`, point
    /// `iy·size + ix`; CPU runs).
    #[wasm_bindgen(js_name = predictGrid)]
    pub fn predict_grid(&mut self) -> Result<Vec<f32>, JsValue> {
        Ok(self.cpu()?.predict_grid())
    }

    /// Predictions on the grid on either backend (`size^dim × K`, as `predictGrid`).
    #[wasm_bindgen(js_name = predictGridAsync)]
    pub async fn predict_grid_async(&mut self) -> Result<Vec<f32>, JsValue> {
        self.inner.predict_grid().await.map_err(js_err)
    }

    /// The noiseless target on the grid (1-D regression), else `undefined`.
    #[wasm_bindgen(js_name = targetGrid)]
    pub fn target_grid(&self) -> Option<Vec<f32>> {
        self.inner.target_grid()
    }

    /// Makes the GPU fail as a lost device would; the next call continues on the CPU. For
    /// tests and for readers who want to see the fallback. No effect on a CPU run.
    #[wasm_bindgen(js_name = loseDevice)]
    pub fn lose_device(&mut self) {
        self.inner.lose_device();
    }
}

/// What a Playground weights file holds, checked as `Playground.importWeights` checks it:
/// `{ config, step }` (the settings every field present, the step it was taken at). Throws an
/// `Error` that says what is wrong with the file.
/// `table` as in `Playground.create`, for a file written on a reader's table.
#[wasm_bindgen(js_name = readPlaygroundWeights)]
pub fn read_playground_weights(text: &str, table: Option<DataTable>) -> Result<JsValue, JsValue> {
    let (config, weights) = playground::read_weights_with(text, &source(table)).map_err(js_err)?;
    #[derive(Serialize)]
    struct Read {
        config: PlaygroundConfig,
        step: f64,
    }
    to_js(&Read {
        config,
        step: weights.step as f64,
    })
}

/// Floating-point operations per step from which "auto" prefers the GPU, and the figure for
/// a settings object: `{ minFlops, flops, prefersGpu }`.
#[wasm_bindgen(js_name = backendAdvice)]
pub fn backend_advice(config: JsValue) -> Result<JsValue, JsValue> {
    let config = config_from(config, PlaygroundConfig::default())?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Advice {
        min_flops: f64,
        flops: f64,
        prefers_gpu: bool,
    }
    to_js(&Advice {
        min_flops: AUTO_GPU_MIN_FLOPS,
        flops: config.flops_per_step(),
        prefers_gpu: live::auto_prefers_gpu(&config),
    })
}
