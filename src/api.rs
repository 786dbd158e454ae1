//! Every `#[wasm_bindgen]` export of Descent. Nothing else in the crate sees `JsValue`:
//! settings arrive as plain objects (deserialised with serde), reports leave as plain
//! objects, arrays leave as owned `Float32Array` copies, and every [`Error`] becomes a
//! JavaScript `Error` with the same message.

use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::data::Task;
use crate::error::Error;
use crate::exec::block_on;
use crate::scenes::lazy;
use crate::scenes::playground::live::{self, Live};
use crate::scenes::playground::{self, PlaygroundConfig};
use crate::session::device::{AUTO_GPU_MIN_FLOPS, BackendChoice};

fn js_err(e: Error) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

/// Serialises to a plain JS object; `None` becomes `null`, maps become objects.
fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let s = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    v.serialize(&s).map_err(|e| {
        js_sys::Error::new(&format!("could not convert a result for JavaScript: {e}")).into()
    })
}

/// The default settings of the Playground, every field present.
#[wasm_bindgen(js_name = defaultConfig)]
pub fn default_config() -> Result<JsValue, JsValue> {
    to_js(&PlaygroundConfig::default())
}

/// The allowed range of every numeric setting, and the memory limit in bytes.
#[wasm_bindgen]
pub fn limits() -> Result<JsValue, JsValue> {
    to_js(&playground::LIMITS)
}

#[derive(Serialize)]
struct BuildInfo {
    version: &'static str,
    simd: bool,
    backend: &'static str,
}

/// The crate version, whether wasm SIMD is compiled in, and the backend in use.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> Result<JsValue, JsValue> {
    to_js(&BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        simd: cfg!(target_feature = "simd128"),
        backend: "cpu",
    })
}

/// Reads a settings object over the scene's `defaults`: fields given replace defaults.
fn config_from<T: Serialize + serde::de::DeserializeOwned>(
    config: JsValue,
    defaults: T,
) -> Result<T, JsValue> {
    let merged: js_sys::Object = to_js(&defaults)?.unchecked_into();
    if !(config.is_undefined() || config.is_null()) {
        if !config.is_object() {
            return Err(js_sys::Error::new("invalid settings: expected an object").into());
        }
        js_sys::Object::assign(&merged, &config.unchecked_into());
    }
    serde_wasm_bindgen::from_value(merged.into())
        .map_err(|e| js_sys::Error::new(&format!("invalid settings: {e}")).into())
}

/// The page's name of a task.
fn task_name(task: Task) -> &'static str {
    match task {
        Task::Regression => "regression",
        Task::Classification => "classification",
    }
}

/// A live Playground run (see `scenes::playground`), on the CPU or on WebGPU (see
/// `scenes::playground::live` and `session::device`: the backend choice, the fallback and the notice).
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
    /// `notice` says why; settings errors reject the promise.
    pub async fn create(config: JsValue, backend: String) -> Result<Playground, JsValue> {
        let config = config_from(config, PlaygroundConfig::default())?;
        let choice = BackendChoice::parse(&backend).map_err(js_err)?;
        let inner = Live::create(config, choice, now_ms())
            .await
            .map_err(js_err)?;
        Ok(Playground { inner })
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

    /// "regression" or "classification".
    #[wasm_bindgen(getter)]
    pub fn task(&self) -> String {
        task_name(self.inner.config().dataset.task()).into()
    }

    #[wasm_bindgen(getter, js_name = inputDim)]
    pub fn input_dim(&self) -> usize {
        self.inner.data().dim
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

    #[wasm_bindgen(js_name = trainX)]
    pub fn train_x(&self) -> Vec<f32> {
        self.inner.data().x_train.clone()
    }
    #[wasm_bindgen(js_name = trainY)]
    pub fn train_y(&self) -> Vec<f32> {
        self.inner.data().y_train.clone()
    }
    #[wasm_bindgen(js_name = testX)]
    pub fn test_x(&self) -> Vec<f32> {
        self.inner.data().x_test.clone()
    }
    #[wasm_bindgen(js_name = testY)]
    pub fn test_y(&self) -> Vec<f32> {
        self.inner.data().y_test.clone()
    }

    /// `{ dim, size, lo, hi }` of the plotting grid.
    #[wasm_bindgen(js_name = gridSpec)]
    pub fn grid_spec(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.grid())
    }

    /// Predictions on the grid (1-D: `size` values; 2-D: `size²`, index `iy·size + ix`;
    /// CPU runs).
    #[wasm_bindgen(js_name = predictGrid)]
    pub fn predict_grid(&mut self) -> Result<Vec<f32>, JsValue> {
        Ok(self.cpu()?.predict_grid())
    }

    /// Predictions on the grid on either backend.
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
        flops: live::flops_per_step(&config),
        prefers_gpu: live::auto_prefers_gpu(&config),
    })
}

/// The Lazy-or-rich scene's defaults: the Playground's settings for a 1-D fit with centred
/// output, plus `ridge` for kernel regression.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LazyDefaults {
    #[serde(flatten)]
    config: PlaygroundConfig,
    ridge: f64,
    max_train: usize,
}

/// The Lazy-or-rich scene's default settings (`ridge` included) and its `maxTrain`.
#[wasm_bindgen(js_name = lazyDefaults)]
pub fn lazy_defaults() -> Result<JsValue, JsValue> {
    to_js(&LazyDefaults {
        config: lazy::scene_defaults(),
        ridge: DEFAULT_RIDGE,
        max_train: lazy::MAX_TRAIN,
    })
}

/// The default ridge of the scene's kernel regression: small against the NTK's diagonal
/// (order one), enough to tame the ill-conditioned smallest eigenvalues.
const DEFAULT_RIDGE: f64 = 1e-3;

fn ridge_of(config: &JsValue) -> Result<f64, JsValue> {
    if config.is_undefined() || config.is_null() {
        return Ok(DEFAULT_RIDGE);
    }
    let v = js_sys::Reflect::get(config, &JsValue::from_str("ridge"))?;
    if v.is_undefined() || v.is_null() {
        return Ok(DEFAULT_RIDGE);
    }
    v.as_f64()
        .ok_or_else(|| js_sys::Error::new("invalid settings: ridge must be a number").into())
}

/// A live Lazy-or-rich run (see `scenes::lazy`).
#[wasm_bindgen]
pub struct LazyRich {
    inner: lazy::LazyRich,
}

#[wasm_bindgen]
impl LazyRich {
    /// Builds the network, its empirical NTK at initialisation and the analytic NTK from a
    /// settings object (the Playground's fields and `ridge`); throws a readable `Error`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<LazyRich, JsValue> {
        let ridge = ridge_of(&config)?;
        let config = config_from(config, lazy::scene_defaults())?;
        Ok(LazyRich {
            inner: lazy::LazyRich::new(config, ridge).map_err(js_err)?,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn task(&self) -> String {
        task_name(self.inner.task()).into()
    }

    #[wasm_bindgen(getter, js_name = inputDim)]
    pub fn input_dim(&self) -> usize {
        self.inner.playground().data.dim
    }

    #[wasm_bindgen(getter, js_name = paramCount)]
    pub fn param_count(&self) -> f64 {
        self.inner.param_count() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> f64 {
        self.inner.step() as f64
    }

    /// Runs up to `steps` steps; reports network, linearisation, NTK predictor and kernel
    /// regression at the step reached, with the weight change and kernel distance.
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsValue> {
        to_js(&self.inner.advance(steps as u64).map_err(js_err)?)
    }

    pub fn evaluate(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.evaluate().map_err(js_err)?)
    }

    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f64) -> Result<(), JsValue> {
        self.inner.set_lr(lr).map_err(js_err)
    }

    /// `{ weightChange, kernelDistance }`: the slopes against width that theory predicts for
    /// this run's settings (null where it predicts none).
    #[wasm_bindgen(js_name = expectedSlopes)]
    pub fn expected_slopes(&self) -> Result<JsValue, JsValue> {
        to_js(&lazy::expected_slopes(&self.inner.playground().config))
    }

    #[wasm_bindgen(js_name = setRidge)]
    pub fn set_ridge(&mut self, ridge: f64) -> Result<(), JsValue> {
        self.inner.set_ridge(ridge).map_err(js_err)
    }

    #[wasm_bindgen(js_name = trainX)]
    pub fn train_x(&self) -> Vec<f32> {
        self.inner.playground().data.x_train.clone()
    }
    #[wasm_bindgen(js_name = trainY)]
    pub fn train_y(&self) -> Vec<f32> {
        self.inner.playground().data.y_train.clone()
    }
    #[wasm_bindgen(js_name = testX)]
    pub fn test_x(&self) -> Vec<f32> {
        self.inner.playground().data.x_test.clone()
    }
    #[wasm_bindgen(js_name = testY)]
    pub fn test_y(&self) -> Vec<f32> {
        self.inner.playground().data.y_test.clone()
    }

    #[wasm_bindgen(js_name = gridSpec)]
    pub fn grid_spec(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.playground().grid)
    }

    #[wasm_bindgen(js_name = targetGrid)]
    pub fn target_grid(&self) -> Option<Vec<f32>> {
        self.inner.playground().target_grid()
    }

    /// `{ network, linearized, ntk, krr }`: Float32Arrays on the grid.
    #[wasm_bindgen(js_name = predictGrid)]
    pub fn predict_grid(&mut self) -> Result<JsValue, JsValue> {
        let g = self.inner.predict_grid().map_err(js_err)?;
        let obj = js_sys::Object::new();
        for (key, values) in [
            ("network", g.network),
            ("linearized", g.linearized),
            ("ntk", g.ntk),
            ("krr", g.krr),
        ] {
            js_sys::Reflect::set(
                &obj,
                &JsValue::from_str(key),
                &js_sys::Float32Array::from(values.as_slice()),
            )?;
        }
        Ok(obj.into())
    }

    /// `{ size, now, init, eigNow, eigInit, eigAnalytic, eigFloor }`: the NTK Gram matrix on up
    /// to 64 sorted training points now and at initialisation, the spectra of K/n, descending,
    /// and the fraction of the largest eigenvalue below which the empirical (f32) spectra are
    /// rounding noise.
    #[wasm_bindgen(js_name = ntkGram)]
    pub fn ntk_gram(&mut self) -> Result<JsValue, JsValue> {
        let g = self.inner.gram().map_err(js_err)?;
        let obj = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), v);
        set("size", &JsValue::from(g.size as f64))?;
        set("now", &js_sys::Float32Array::from(g.now.as_slice()))?;
        set("init", &js_sys::Float32Array::from(g.init.as_slice()))?;
        set("eigNow", &js_sys::Float64Array::from(g.eig_now.as_slice()))?;
        set(
            "eigInit",
            &js_sys::Float64Array::from(g.eig_init.as_slice()),
        )?;
        set(
            "eigAnalytic",
            &js_sys::Float64Array::from(g.eig_analytic.as_slice()),
        )?;
        set("eigFloor", &JsValue::from(g.eig_floor))?;
        Ok(obj.into())
    }
}

/// The width sweep of the Lazy-or-rich scene: one width trained per `next()` call.
#[wasm_bindgen]
pub struct WidthSweep {
    inner: lazy::WidthSweep,
}

#[wasm_bindgen]
impl WidthSweep {
    /// `config` as for `LazyRich`; `widths` the widths in order; `steps` the training budget;
    /// one seed per width.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, widths: Vec<u32>, steps: u32) -> Result<WidthSweep, JsValue> {
        Self::with_seeds(config, widths, steps, 1)
    }

    /// As `new`, with `seeds` networks per width (seed, seed + 1, …).
    #[wasm_bindgen(js_name = withSeeds)]
    pub fn with_seeds(
        config: JsValue,
        widths: Vec<u32>,
        steps: u32,
        seeds: u32,
    ) -> Result<WidthSweep, JsValue> {
        let config = config_from(config, lazy::scene_defaults())?;
        let widths = widths.into_iter().map(|w| w as usize).collect();
        Ok(WidthSweep {
            inner: lazy::WidthSweep::with_seeds(config, widths, seeds as usize, steps as u64)
                .map_err(js_err)?,
        })
    }

    /// Trains the next (width, seed):
    /// `{ width, seed, weightChange, kernelDistance, index, total, done }`.
    #[wasm_bindgen(js_name = next)]
    pub fn next_point(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.next_point().map_err(js_err)?)
    }

    /// `{ weightChange, kernelDistance }`: slopes of log(measure) against log(width) over
    /// the finished runs of width ≥ 64 (null with fewer than two widths).
    pub fn slopes(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.slopes())
    }

    /// `{ weightChange, kernelDistance }`: the slopes theory predicts for this sweep's settings
    /// (null where it predicts none).
    #[wasm_bindgen(js_name = expectedSlopes)]
    pub fn expected_slopes(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.expected_slopes())
    }

    /// The finished runs by width: `[{ width, runs, diverged, weightChange, kernelDistance }]`,
    /// each measure `{ mean, min, max, count }` over the seeds (mean: geometric) or null.
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.summary())
    }
}

/// Analytic-NTK kernel regression on the circles data, in phases the benchmark page times:
/// `kernels()` (k_train_train and k_test_train), then `solve()` (Cholesky of K + ridge·I,
/// solve, prediction).
#[wasm_bindgen]
pub struct KernelRegressionBench {
    spec: crate::kernels::KernelSpec,
    x_train: Vec<f64>,
    x_test: Vec<f64>,
    y_train: Vec<f64>,
    k_train_train: nalgebra::DMatrix<f64>,
    k_test_train: nalgebra::DMatrix<f64>,
}

#[wasm_bindgen]
impl KernelRegressionBench {
    #[wasm_bindgen(constructor)]
    pub fn new(
        n_train: usize,
        n_test: usize,
        depth: usize,
    ) -> Result<KernelRegressionBench, JsValue> {
        let data = crate::data::generate(
            crate::data::DatasetKind::Circles,
            n_train,
            n_test,
            0.1,
            0.0,
            1,
        )
        .map_err(js_err)?;
        let f = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let spec = crate::kernels::KernelSpec::ntk(
            depth,
            crate::nn::Activation::Relu,
            std::f64::consts::SQRT_2,
            0.1,
        );
        Ok(KernelRegressionBench {
            spec,
            x_train: f(&data.x_train),
            x_test: f(&data.x_test),
            y_train: f(&data.y_train),
            k_train_train: nalgebra::DMatrix::zeros(0, 0),
            k_test_train: nalgebra::DMatrix::zeros(0, 0),
        })
    }

    /// Computes the analytic NTK on train × train and test × train.
    pub fn kernels(&mut self) -> Result<(), JsValue> {
        let mut nngp = nalgebra::DMatrix::zeros(0, 0);
        crate::kernels::nngp_ntk_into(
            &self.spec,
            &self.x_train,
            None,
            2,
            &mut nngp,
            &mut self.k_train_train,
        )
        .map_err(js_err)?;
        crate::kernels::nngp_ntk_into(
            &self.spec,
            &self.x_test,
            Some(&self.x_train),
            2,
            &mut nngp,
            &mut self.k_test_train,
        )
        .map_err(js_err)?;
        Ok(())
    }

    /// Factorises, solves and predicts; returns the test predictions' mean (a checksum).
    pub fn solve(&self, ridge: f64) -> Result<f64, JsValue> {
        let f = crate::kernels::machine::kernel_ridge(
            &self.k_train_train,
            &self.k_test_train,
            &self.y_train,
            ridge,
        )
        .map_err(js_err)?;
        Ok(f.iter().sum::<f64>() / f.len().max(1) as f64)
    }
}

/// The empirical NTK of a one-hidden-layer ReLU network on the circles data, for timing.
#[wasm_bindgen]
pub struct EmpiricalNtkBench {
    pg: playground::Playground,
}

#[wasm_bindgen]
impl EmpiricalNtkBench {
    #[wasm_bindgen(constructor)]
    pub fn new(width: usize, n: usize) -> Result<EmpiricalNtkBench, JsValue> {
        let config = PlaygroundConfig {
            n_train: n,
            width,
            ..PlaygroundConfig::default()
        };
        Ok(EmpiricalNtkBench {
            pg: playground::Playground::new(config).map_err(js_err)?,
        })
    }

    /// Computes the n × n empirical NTK; returns its trace (a checksum).
    pub fn run(&mut self) -> Result<f64, JsValue> {
        let x = self.pg.data.x_train.clone();
        let t = self.pg.trainer_mut();
        let k = crate::nn::ntk::empirical_kernels(&mut t.backend, &t.mlp, &x, None)
            .map_err(js_err)?
            .ntk;
        Ok(k.trace())
    }
}

/// A double-descent sweep on random features (see `scenes::double_descent`): one seed
/// per `advance()` call so a page can draw progressively; the ridge, the label noise and the
/// teacher re-fit from the cached factorisations.
#[wasm_bindgen]
pub struct DoubleDescent {
    inner: crate::scenes::double_descent::DoubleDescent,
}

#[wasm_bindgen]
impl DoubleDescent {
    /// Settings object with the fields of `DoubleDescentConfig` (missing ones defaulted).
    /// `digits_csv` is the text of `data/digits.csv`, needed when `data` is `"digits"` (pass
    /// `undefined` otherwise).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, digits_csv: Option<String>) -> Result<DoubleDescent, JsValue> {
        use crate::scenes::double_descent::{self as dd, DataSource, DoubleDescentConfig};
        let config: DoubleDescentConfig = config_from(config, DoubleDescentConfig::default())?;
        let digits = match (config.data, digits_csv) {
            (DataSource::Digits, Some(text)) => {
                Some(crate::data::digits::parse(&text).map_err(js_err)?)
            }
            _ => None,
        };
        Ok(DoubleDescent {
            inner: dd::DoubleDescent::new(config, digits.as_ref()).map_err(js_err)?,
        })
    }

    /// Computes the next seed; returns true once every seed is done.
    pub fn advance(&mut self) -> Result<bool, JsValue> {
        self.inner.advance().map_err(js_err)
    }

    /// Seeds finished so far.
    #[wasm_bindgen(getter, js_name = seedsDone)]
    pub fn seeds_done(&self) -> usize {
        self.inner.seeds_done()
    }

    /// Re-fits every size and seed at a new ridge from the cached factorisations.
    #[wasm_bindgen(js_name = setRidge)]
    pub fn set_ridge(&mut self, ridge: f64) -> Result<(), JsValue> {
        self.inner.set_ridge(ridge).map_err(js_err)
    }

    /// Re-fits at a new label-noise standard deviation (the same noise draws, rescaled).
    #[wasm_bindgen(js_name = setNoise)]
    pub fn set_noise(&mut self, noise: f64) -> Result<(), JsValue> {
        self.inner.set_noise(noise).map_err(js_err)
    }

    /// Re-fits with the teacher `"linear"` or `"nonlinear"`.
    #[wasm_bindgen(js_name = setTeacher)]
    pub fn set_teacher(&mut self, teacher: JsValue) -> Result<(), JsValue> {
        let teacher = serde_wasm_bindgen::from_value(teacher).map_err(|e| {
            js_err(Error::config(
                "teacher",
                format!("expected \"linear\" or \"nonlinear\": {e}"),
            ))
        })?;
        self.inner.set_teacher(teacher).map_err(js_err)
    }

    /// Per size: train/test error and weight norm (mean and standard error over the seeds
    /// done, and each seed's own curves), the interpolation threshold and the theory curves.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.report())
    }
}

/// The default settings of the double-descent scene, every field present.
#[wasm_bindgen(js_name = doubleDescentDefaults)]
pub fn double_descent_defaults() -> Result<JsValue, JsValue> {
    to_js(&crate::scenes::double_descent::DoubleDescentConfig::default())
}

/// Checks a whole double-descent configuration (every seed) against the limits and the memory
/// limit, as one session would; returns the estimated bytes. A page that splits the seeds over
/// several sessions checks the whole first, so the split never admits more than one session would.
#[wasm_bindgen(js_name = checkDoubleDescent)]
pub fn check_double_descent(config: JsValue) -> Result<f64, JsValue> {
    use crate::scenes::double_descent::{DoubleDescentConfig, MEMORY_LIMIT};
    let config: DoubleDescentConfig = config_from(config, DoubleDescentConfig::default())?;
    config.validate(MEMORY_LIMIT).map_err(js_err)?;
    Ok(config.memory_bytes() as f64)
}

/// The allowed range of every numeric double-descent setting and its memory limit.
#[wasm_bindgen(js_name = doubleDescentLimits)]
pub fn double_descent_limits() -> Result<JsValue, JsValue> {
    to_js(&crate::scenes::double_descent::LIMITS)
}

/// The isotropic linear model's closed-form curves (Hastie et al.) on a γ grid; settings as
/// `IsotropicConfig`.
#[wasm_bindgen(js_name = isotropicCurves)]
pub fn isotropic_curves(config: JsValue) -> Result<JsValue, JsValue> {
    use crate::scenes::double_descent::{self as dd, IsotropicConfig};
    let config: IsotropicConfig = config_from(config, IsotropicConfig::default())?;
    to_js(&dd::isotropic_curves(&config).map_err(js_err)?)
}

/// Monte-Carlo excess risk {mean, se} of the isotropic model at (n, p) over `reps` draws.
#[wasm_bindgen(js_name = isotropicMonteCarlo)]
pub fn isotropic_monte_carlo(
    n: usize,
    p: usize,
    signal: f64,
    noise: f64,
    ridge: f64,
    reps: usize,
    seed: u32,
) -> Result<JsValue, JsValue> {
    use crate::scenes::double_descent as dd;
    let est = dd::isotropic_monte_carlo(n, p, signal, noise, ridge, reps, u64::from(seed))
        .map_err(js_err)?;
    to_js(&est)
}

// ---------------------------------------------------------------------------------------------
// Double descent, trained networks: a width sweep of two-layer networks, every layer trained
// by GD for a fixed budget (see `scenes::double_descent::trained`).
// ---------------------------------------------------------------------------------------------

/// Estimated work per engine call inside `TrainedSweep.advance`: a few milliseconds, so the
/// time budget is kept to within about that much.
const TRAINED_SWEEP_CHUNK_FLOPS: f64 = 1e7;

/// The default settings of the trained-networks sweep, every field present.
#[wasm_bindgen(js_name = trainedSweepDefaults)]
pub fn trained_sweep_defaults() -> Result<JsValue, JsValue> {
    to_js(&crate::scenes::double_descent::trained::TrainedSweepConfig::default())
}

/// The allowed range of every numeric setting of the trained-networks sweep, its work limit
/// (FLOPs), the throughput its time estimates assume (FLOP/s) and its memory limit (bytes).
#[wasm_bindgen(js_name = trainedSweepLimits)]
pub fn trained_sweep_limits() -> Result<JsValue, JsValue> {
    to_js(&crate::scenes::double_descent::trained::LIMITS)
}

/// A trained-networks double-descent sweep: (width, seed) cells trained one after another,
/// seed-major, in time-boxed `advance(budgetMs)` calls, so a page (or its worker) can draw
/// the curve as it fills in and stop at any time.
#[wasm_bindgen]
pub struct TrainedSweep {
    inner: crate::scenes::double_descent::trained::TrainedSweep,
}

#[wasm_bindgen]
impl TrainedSweep {
    /// Settings object with the fields of `trainedSweepDefaults()` (missing ones defaulted).
    /// Throws an `Error` naming a setting out of range, or the estimated work (and time) or
    /// memory of a sweep too large to run here.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<TrainedSweep, JsValue> {
        use crate::scenes::double_descent::trained::{self as ts, TrainedSweepConfig};
        let config = config_from(config, TrainedSweepConfig::default())?;
        Ok(TrainedSweep {
            inner: ts::TrainedSweep::new(config).map_err(js_err)?,
        })
    }

    /// Trains for about `budgetMs` milliseconds (at least one step unless done or cancelled)
    /// and returns the progress: `{ cellsDone, cellsTotal, fraction, width, seedIndex, step,
    /// done, cancelled }`. The numbers do not depend on how the work is split into calls.
    pub fn advance(&mut self, budget_ms: f64) -> Result<JsValue, JsValue> {
        let start = js_sys::Date::now();
        let progress = loop {
            let p = self
                .inner
                .advance(TRAINED_SWEEP_CHUNK_FLOPS)
                .map_err(js_err)?;
            if p.done || p.cancelled || js_sys::Date::now() - start >= budget_ms {
                break p;
            }
        };
        to_js(&progress)
    }

    /// The progress without training.
    pub fn progress(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.progress())
    }

    /// Stops the sweep: the cell in training is dropped, finished cells stay in the report.
    pub fn cancel(&mut self) {
        self.inner.cancel();
    }

    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    #[wasm_bindgen(getter, js_name = cellsDone)]
    pub fn cells_done(&self) -> usize {
        self.inner.cells_done()
    }

    #[wasm_bindgen(getter, js_name = cellsTotal)]
    pub fn cells_total(&self) -> usize {
        self.inner.cells_total()
    }

    /// Estimated floating-point work of the whole sweep.
    #[wasm_bindgen(getter, js_name = totalFlops)]
    pub fn total_flops(&self) -> f64 {
        self.inner.total_flops()
    }

    /// The settings in force (with defaults filled in).
    pub fn config(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.config())
    }

    /// Per width: train/test MSE (mean and standard error over the seeds done, null where
    /// none is), per-seed values, #parameters and p/n, the interpolation threshold, and the
    /// progress.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.report())
    }
}

// ------------------------------------------------------------------------------------------
// The Step-size scene and its phase diagrams (see `scenes::step_size`).
// ------------------------------------------------------------------------------------------

/// The Step-size scene's default settings, every field present (`lr: null` means "use
/// `lrMultiple` × the stability bound").
#[wasm_bindgen(js_name = stepSizeDefaults)]
pub fn step_size_defaults() -> Result<JsValue, JsValue> {
    to_js(&crate::scenes::step_size::StepSizeConfig::default())
}

/// The phase diagrams' default settings (`base` holds the network and data of every cell).
#[wasm_bindgen(js_name = phaseDefaults)]
pub fn phase_defaults() -> Result<JsValue, JsValue> {
    to_js(&crate::scenes::step_size::PhaseConfig::default())
}

/// A live Step-size run: the network beside its linearisation under the same finite step,
/// with the sharpness (top Hessian and NTK eigenvalues) against 2/η and the regime.
#[wasm_bindgen]
pub struct StepSize {
    inner: crate::scenes::step_size::StepSize,
}

#[wasm_bindgen]
impl StepSize {
    /// Builds data, network, the empirical NTK at θ₀, the bounds (and measures the catapult
    /// bound when cheap) from a settings object; missing fields take their defaults. Throws a
    /// readable `Error` for settings out of range or too expensive.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<StepSize, JsValue> {
        use crate::scenes::step_size::{self as ss, StepSizeConfig};
        let config = config_from(config, StepSizeConfig::default())?;
        Ok(StepSize {
            inner: ss::StepSize::new(config).map_err(js_err)?,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> f64 {
        self.inner.step() as f64
    }

    #[wasm_bindgen(getter, js_name = paramCount)]
    pub fn param_count(&self) -> f64 {
        self.inner.param_count() as f64
    }

    /// The stability bound 2n/λ_max(Θ₀) in slider units.
    #[wasm_bindgen(getter, js_name = stabilityBound)]
    pub fn stability_bound(&self) -> f64 {
        self.inner.stability_bound()
    }

    /// The catapult bound as a multiple of the stability bound.
    #[wasm_bindgen(getter, js_name = catapultMultiple)]
    pub fn catapult_multiple(&self) -> f64 {
        self.inner.catapult_multiple()
    }

    /// The settings in force (with `lr` and `lrMultiple` both filled in).
    pub fn config(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.config)
    }

    /// Runs up to `steps` full-batch GD steps and returns the report (see `StepSizeReport`:
    /// loss and linearised loss per step, sharpness, NTK top eigenvalue and lazy measures per
    /// tracked step, bounds, regime and its one-sentence explanation).
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsValue> {
        to_js(&self.inner.advance(steps as u64))
    }

    /// The report at the current step, without stepping.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.report())
    }

    /// Restarts from θ₀ with a new step size in slider units (Θ₀ and the bounds are kept).
    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f64) -> Result<(), JsValue> {
        self.inner.set_lr(lr).map_err(js_err)
    }

    /// Restarts from θ₀ with the step size `multiple` × the stability bound.
    #[wasm_bindgen(js_name = setLrMultiple)]
    pub fn set_lr_multiple(&mut self, multiple: f64) -> Result<(), JsValue> {
        self.inner.set_lr_multiple(multiple).map_err(js_err)
    }

    #[wasm_bindgen(js_name = trainX)]
    pub fn train_x(&self) -> Vec<f32> {
        self.inner.playground().data.x_train.clone()
    }

    #[wasm_bindgen(js_name = trainY)]
    pub fn train_y(&self) -> Vec<f32> {
        self.inner.playground().data.y_train.clone()
    }
}

/// A phase diagram (step size × width or init scale × width), filled in width by width (each
/// width's networks train together; see `scenes::step_size::PhaseDiagram`):
/// `new PhaseDiagram(config)` trains on the CPU and `advance(budgetMs)` computes
/// synchronously; `await PhaseDiagram.create(config, backend)` ("auto", "cpu" or "gpu") may
/// train on WebGPU and is driven with `await advanceAsync(budgetMs)`. Call repeatedly (from a
/// worker) until `finished`; stop calling (and `free()`) to cancel. Deterministic from the seed.
#[wasm_bindgen]
pub struct PhaseDiagram {
    inner: crate::scenes::step_size::PhaseDiagram,
}

#[wasm_bindgen]
impl PhaseDiagram {
    /// Throws a readable `Error` (with the time estimate) for grids too expensive to run.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<PhaseDiagram, JsValue> {
        use crate::scenes::step_size::{self as ss, PhaseConfig};
        let config = config_from(config, PhaseConfig::default())?;
        Ok(PhaseDiagram {
            inner: ss::PhaseDiagram::new(config).map_err(js_err)?,
        })
    }

    /// A diagram on the chosen backend ("auto": WebGPU for the widths whose batched step is
    /// large enough, when the browser has it). A GPU that cannot be had gives a CPU diagram
    /// whose progress `notice` says why; settings errors reject the promise.
    pub async fn create(config: JsValue, backend: String) -> Result<PhaseDiagram, JsValue> {
        use crate::scenes::step_size::{self as ss, PhaseConfig};
        let config = config_from(config, PhaseConfig::default())?;
        let choice = BackendChoice::parse(&backend).map_err(js_err)?;
        Ok(PhaseDiagram {
            inner: ss::PhaseDiagram::create(config, choice)
                .await
                .map_err(js_err)?,
        })
    }

    /// Computes until `budgetMs` milliseconds have passed (at least one slice of work) on a
    /// CPU diagram; returns `{ done, total, fraction, finished, activity, backend, notice }`.
    pub fn advance(&mut self, budget_ms: f64) -> Result<JsValue, JsValue> {
        let start = js_sys::Date::now();
        loop {
            let progress = block_on(self.inner.advance_async()).map_err(js_err)?;
            if progress.finished || js_sys::Date::now() - start >= budget_ms {
                return to_js(&progress);
            }
        }
    }

    /// [`PhaseDiagram::advance`] on either backend, without blocking.
    #[wasm_bindgen(js_name = advanceAsync)]
    pub async fn advance_async(&mut self, budget_ms: f64) -> Result<JsValue, JsValue> {
        let start = js_sys::Date::now();
        loop {
            let progress = self.inner.advance_async().await.map_err(js_err)?;
            if progress.finished || js_sys::Date::now() - start >= budget_ms {
                return to_js(&progress);
            }
        }
    }

    /// Computes exactly `cells` more cells (or fewer at the end) on a CPU diagram; returns the
    /// progress.
    #[wasm_bindgen(js_name = advanceCells)]
    pub fn advance_cells(&mut self, cells: u32) -> Result<JsValue, JsValue> {
        to_js(&self.inner.advance(cells as usize).map_err(js_err)?)
    }

    /// Destroys the GPU device of a diagram training on it (a simulated device loss: the
    /// diagram continues on the CPU).
    #[wasm_bindgen(js_name = loseDevice)]
    pub fn lose_device(&mut self) {
        self.inner.lose_device();
    }

    pub fn progress(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.progress())
    }

    /// The estimated upper bound of the whole diagram's native run time, seconds.
    #[wasm_bindgen(getter, js_name = estimateSeconds)]
    pub fn estimate_seconds(&self) -> f64 {
        self.inner.config.flops() / crate::scenes::step_size::ASSUMED_FLOPS
    }

    /// Axes and every cell so far (see `PhaseReport`), null where not computed or undefined.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.report())
    }
}

// ---------------------------------------------------------------------------------------------
// Benchmark entry points (issue #7): used only by the benchmark page (www/bench.html,
// www/js/bench-worker.js); the scenes never call them.

/// One dense f32 product `C = op(A) · op(B)` (m×k · k×n) with the engine's GEMM, on fixed
/// pseudo-random operands, for timing from JavaScript: `new GemmBench("NT", m, n, k)`, then
/// `run(reps)` computes the product `reps` times back to back.
#[wasm_bindgen]
pub struct GemmBench {
    gemm: crate::backend::cpu::gemm::Gemm,
    ta: crate::backend::Trans,
    tb: crate::backend::Trans,
    m: usize,
    n: usize,
    k: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

#[wasm_bindgen]
impl GemmBench {
    /// `trans` is "NN", "NT", "TN" or "TT": whether A, then B, is used transposed.
    #[wasm_bindgen(constructor)]
    pub fn new(trans: &str, m: u32, n: u32, k: u32) -> Result<GemmBench, JsValue> {
        use crate::backend::Trans;
        let t = |c: u8| match c {
            b'N' => Ok(Trans::N),
            b'T' => Ok(Trans::T),
            _ => Err(JsValue::from(js_sys::Error::new(
                "GemmBench: trans must be NN, NT, TN or TT",
            ))),
        };
        let bytes = trans.as_bytes();
        if bytes.len() != 2 {
            return Err(js_sys::Error::new("GemmBench: trans must be NN, NT, TN or TT").into());
        }
        let (m, n, k) = (m as usize, n as usize, k as usize);
        if m == 0 || n == 0 || k == 0 || m * k > 1 << 24 || k * n > 1 << 24 || m * n > 1 << 24 {
            return Err(js_sys::Error::new("GemmBench: sizes must be in 1..=4096²").into());
        }
        Ok(GemmBench {
            gemm: crate::backend::cpu::gemm::Gemm::new(),
            ta: t(bytes[0])?,
            tb: t(bytes[1])?,
            m,
            n,
            k,
            a: (0..m * k)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect(),
            b: (0..k * n)
                .map(|i| ((i * 104_729) % 997) as f32 / 997.0 - 0.5)
                .collect(),
            c: vec![0.0; m * n],
        })
    }

    /// Floating-point operations of one product, 2·m·n·k.
    #[wasm_bindgen(getter)]
    pub fn flops(&self) -> f64 {
        2.0 * (self.m * self.n * self.k) as f64
    }

    /// Computes the product `reps` times; returns one entry of C (so the work is observable).
    pub fn run(&mut self, reps: u32) -> f32 {
        use crate::backend::Trans;
        let lda = if self.ta == Trans::N { self.k } else { self.m };
        let ldb = if self.tb == Trans::N { self.n } else { self.k };
        for _ in 0..reps {
            self.gemm.run(
                self.ta,
                self.tb,
                self.m,
                self.n,
                self.k,
                1.0,
                &self.a,
                lda,
                &self.b,
                ldb,
                0.0,
                &mut self.c,
                self.n,
            );
        }
        self.c[(self.m * self.n) / 2]
    }
}
