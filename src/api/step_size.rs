//! The Step-size scene's exports: the live run and the phase diagrams.

use wasm_bindgen::prelude::*;

use super::{config_from, js_err, to_js};
use crate::exec::block_on;
use crate::session::device::BackendChoice;

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

    /// The weights file of the live run now (JSON text, `session::weights`); throws once the
    /// run diverged.
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&mut self) -> Result<String, JsValue> {
        Ok(self.inner.export_weights().map_err(js_err)?.to_json())
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
        self.inner.run().data.x_train.clone()
    }

    #[wasm_bindgen(js_name = trainY)]
    pub fn train_y(&self) -> Vec<f32> {
        self.inner.run().data.y_train.clone()
    }
}

/// Column `ix` of the phase diagram of `config`, computed on the CPU on its own (the cells the
/// whole diagram computes for it, bit for bit), for a worker of a pool; record it with
/// `PhaseDiagram.setColumn`. Throws a readable `Error` for settings out of range.
#[wasm_bindgen(js_name = phaseColumn)]
pub fn phase_column(config: JsValue, ix: u32) -> Result<JsValue, JsValue> {
    use crate::scenes::step_size::{self as ss, PhaseConfig};
    let config = config_from(config, PhaseConfig::default())?;
    let column =
        ss::PhaseDiagram::compute_column(&config, ix as usize, || Ok(())).map_err(js_err)?;
    to_js(&column)
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

    /// Whether every column trains on the CPU, so that its columns may be computed apart in a
    /// pool of workers (`phaseColumn`) and recorded here (`setColumn`).
    #[wasm_bindgen(getter, js_name = cpuOnly)]
    pub fn cpu_only(&self) -> bool {
        self.inner.cpu_only()
    }

    /// How many columns (widths) the diagram has.
    #[wasm_bindgen(getter, js_name = columnCount)]
    pub fn column_count(&self) -> u32 {
        self.inner.column_count() as u32
    }

    /// Records column `ix` as computed by `phaseColumn(config, ix)` with this diagram's
    /// settings (in any order; the diagram is finished once every column is recorded).
    #[wasm_bindgen(js_name = setColumn)]
    pub fn set_column(&mut self, ix: u32, column: JsValue) -> Result<(), JsValue> {
        let column: crate::scenes::step_size::PhaseColumn = serde_wasm_bindgen::from_value(column)
            .map_err(|e| js_sys::Error::new(&format!("not a phase-diagram column: {e}")))?;
        let (ix, nx) = (ix as usize, self.inner.column_count());
        if ix >= nx || column.cells.len() != self.inner.row_count() {
            return Err(js_sys::Error::new(&format!(
                "column {ix} does not fit a diagram of {nx} columns"
            ))
            .into());
        }
        self.inner.set_column(ix, column);
        Ok(())
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
        self.inner.config.flops() / crate::session::budget::STEP_SIZE_ASSUMED_FLOPS
    }

    /// Axes and every cell so far (see `PhaseReport`), null where not computed or undefined.
    pub fn report(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.report())
    }
}
