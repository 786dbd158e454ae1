//! Every `#[wasm_bindgen]` export of Descent. Nothing else in the crate sees `JsValue`:
//! settings arrive as plain objects (deserialised with serde), reports leave as plain
//! objects, arrays leave as owned `Float32Array` copies, and every [`Error`] becomes a
//! JavaScript `Error` with the same message.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::data::Task;
use crate::error::Error;
use crate::experiments::playground::{self, PlaygroundConfig};

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

/// A live Playground run (see `experiments::playground`).
#[wasm_bindgen]
pub struct Playground {
    inner: playground::Playground,
}

#[wasm_bindgen]
impl Playground {
    /// Builds the data and the network from a settings object; missing fields take their
    /// defaults. Throws an `Error` naming the setting that is out of range, or the memory a
    /// too-large configuration would need.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<Playground, JsValue> {
        let config: PlaygroundConfig = if config.is_undefined() || config.is_null() {
            PlaygroundConfig::default()
        } else {
            serde_wasm_bindgen::from_value(config)
                .map_err(|e| js_sys::Error::new(&format!("invalid settings: {e}")))?
        };
        let inner = playground::Playground::new(config).map_err(js_err)?;
        Ok(Playground { inner })
    }

    /// "regression" or "classification".
    #[wasm_bindgen(getter)]
    pub fn task(&self) -> String {
        match self.inner.task() {
            Task::Regression => "regression".into(),
            Task::Classification => "classification".into(),
        }
    }

    #[wasm_bindgen(getter, js_name = inputDim)]
    pub fn input_dim(&self) -> usize {
        self.inner.data.dim
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
        to_js(&self.inner.config)
    }

    /// Runs up to `steps` gradient steps and returns the report at the parameters reached.
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsValue> {
        to_js(&self.inner.advance(steps as u64))
    }

    /// Runs up to `steps` steps without evaluating losses (for benchmarks); returns the
    /// number of steps taken.
    #[wasm_bindgen(js_name = trainSteps)]
    pub fn train_steps(&mut self, steps: u32) -> u32 {
        self.inner.train_only(steps as u64) as u32
    }

    /// The report at the current parameters, without stepping.
    pub fn evaluate(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.evaluate())
    }

    /// Changes the step size from the next step on.
    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f64) -> Result<(), JsValue> {
        self.inner.set_lr(lr).map_err(js_err)
    }

    #[wasm_bindgen(js_name = trainX)]
    pub fn train_x(&self) -> Vec<f32> {
        self.inner.data.x_train.clone()
    }
    #[wasm_bindgen(js_name = trainY)]
    pub fn train_y(&self) -> Vec<f32> {
        self.inner.data.y_train.clone()
    }
    #[wasm_bindgen(js_name = testX)]
    pub fn test_x(&self) -> Vec<f32> {
        self.inner.data.x_test.clone()
    }
    #[wasm_bindgen(js_name = testY)]
    pub fn test_y(&self) -> Vec<f32> {
        self.inner.data.y_test.clone()
    }

    /// `{ dim, size, lo, hi }` of the plotting grid.
    #[wasm_bindgen(js_name = gridSpec)]
    pub fn grid_spec(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.grid)
    }

    /// Predictions on the grid (1-D: `size` values; 2-D: `size²`, index `iy·size + ix`).
    #[wasm_bindgen(js_name = predictGrid)]
    pub fn predict_grid(&mut self) -> Vec<f32> {
        self.inner.predict_grid()
    }

    /// The noiseless target on the grid (1-D regression), else `undefined`.
    #[wasm_bindgen(js_name = targetGrid)]
    pub fn target_grid(&self) -> Option<Vec<f32>> {
        self.inner.target_grid()
    }
}
