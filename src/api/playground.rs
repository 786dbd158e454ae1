//! The Playground's exports: its defaults, the live run on either backend, and the
//! backend advice.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{config_from, js_err, task_name, to_js};
use crate::exec::block_on;
use crate::scenes::playground::live::{self, Live};
use crate::scenes::playground::{self, PlaygroundConfig};
use crate::session::device::{AUTO_GPU_MIN_FLOPS, BackendChoice};

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
    /// `notice` says why; settings errors reject the promise.
    pub async fn create(config: JsValue, backend: String) -> Result<Playground, JsValue> {
        let config = config_from(config, PlaygroundConfig::default())?;
        let choice = BackendChoice::parse(&backend).map_err(js_err)?;
        let inner = Live::create(config, choice, now_ms())
            .await
            .map_err(js_err)?;
        Ok(Playground { inner })
    }

    /// A run continued from a Playground weights file (its JSON text) on the chosen backend:
    /// the file's settings, parameters, step count and divergence reference (see
    /// `session::weights`). Rejects with an `Error` that says what is wrong with the file.
    #[wasm_bindgen(js_name = importWeights)]
    pub async fn import_weights(text: String, backend: String) -> Result<Playground, JsValue> {
        let choice = BackendChoice::parse(&backend).map_err(js_err)?;
        let inner = Live::import(&text, choice, now_ms())
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

    /// "regression" or "classification".
    #[wasm_bindgen(getter)]
    pub fn task(&self) -> String {
        task_name(self.inner.config().data.dataset.task()).into()
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

/// What a Playground weights file holds, checked as `Playground.importWeights` checks it:
/// `{ config, step }` (the settings every field present, the step it was taken at). Throws an
/// `Error` that says what is wrong with the file.
#[wasm_bindgen(js_name = readPlaygroundWeights)]
pub fn read_playground_weights(text: &str) -> Result<JsValue, JsValue> {
    let (config, weights) = playground::read_weights(text).map_err(js_err)?;
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
