//! The double-descent scene's exports: the random-features sweep, its checks and limits, the
//! isotropic model, and the trained-networks sweep.

use wasm_bindgen::prelude::*;

use super::{config_from, js_err, to_js};
use crate::error::Error;

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
    use crate::scenes::double_descent::DoubleDescentConfig;
    use crate::session::budget::DOUBLE_DESCENT_MEMORY;
    let config: DoubleDescentConfig = config_from(config, DoubleDescentConfig::default())?;
    config.validate(DOUBLE_DESCENT_MEMORY).map_err(js_err)?;
    Ok(config.memory_bytes() as f64)
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

/// Cell (`seedIndex`, `widthIndex`) of the trained-networks sweep of `config`, trained from
/// start to end on its own (the numbers the whole sweep gives it, bit for bit), for a worker of
/// a pool: `{trainMse, testMse}`, or null when the network diverged. Record it with
/// `TrainedSweep.setCell`. Throws a readable `Error` for settings out of range.
#[wasm_bindgen(js_name = trainedCell)]
pub fn trained_cell(
    config: JsValue,
    seed_index: u32,
    width_index: u32,
) -> Result<JsValue, JsValue> {
    use crate::scenes::double_descent::trained::{self as ts, TrainedSweepConfig};
    let config = config_from(config, TrainedSweepConfig::default())?;
    // Refuses what the whole sweep refuses (settings out of range, a sweep too large).
    ts::TrainedSweep::new(config.clone()).map_err(js_err)?;
    let (s, w) = (seed_index as usize, width_index as usize);
    if s >= config.seeds || w >= config.widths().len() {
        return Err(
            js_sys::Error::new(&format!("the sweep has no cell (seed {s}, width {w})")).into(),
        );
    }
    let cell =
        ts::TrainedSweep::compute_cell(&config, s, w, u64::MAX, || Ok(())).map_err(js_err)?;
    to_js(&cell)
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

    /// Records cell (`seedIndex`, `widthIndex`) as trained by `trainedCell` with this sweep's
    /// settings: its `{trainMse, testMse}`, or null when it diverged (in any order).
    #[wasm_bindgen(js_name = setCell)]
    pub fn set_cell(
        &mut self,
        seed_index: u32,
        width_index: u32,
        result: JsValue,
    ) -> Result<(), JsValue> {
        let result: Option<crate::scenes::double_descent::trained::CellResult> =
            serde_wasm_bindgen::from_value(result)
                .map_err(|e| js_sys::Error::new(&format!("not a trained cell: {e}")))?;
        let (s, w) = (seed_index as usize, width_index as usize);
        if s >= self.inner.config().seeds || w >= self.inner.widths().len() {
            return Err(js_sys::Error::new(&format!(
                "the sweep has no cell (seed {s}, width {w})"
            ))
            .into());
        }
        self.inner.set_cell(s, w, result);
        Ok(())
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
