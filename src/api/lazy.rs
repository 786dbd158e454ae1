//! The Lazy-or-rich scene's exports: its defaults, the live run beside its linearisation,
//! and the width sweep.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{config_from, js_err, task_name, to_js};
use crate::scenes::lazy;

/// The Lazy-or-rich scene's defaults (the Playground's settings for a 1-D fit with centred
/// output, and `ridge` for kernel regression) and its `maxTrain`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LazyDefaults {
    #[serde(flatten)]
    config: lazy::LazyConfig,
    max_train: usize,
}

/// The Lazy-or-rich scene's default settings (`ridge` included) and its `maxTrain`.
#[wasm_bindgen(js_name = lazyDefaults)]
pub fn lazy_defaults() -> Result<JsValue, JsValue> {
    to_js(&LazyDefaults {
        config: lazy::LazyConfig::default(),
        max_train: lazy::MAX_TRAIN,
    })
}

/// What a Lazy-or-rich weights file holds, checked as `LazyRich.importWeights` checks it:
/// `{ config, step }`. Throws an `Error` that says what is wrong with the file.
#[wasm_bindgen(js_name = readLazyWeights)]
pub fn read_lazy_weights(text: &str) -> Result<JsValue, JsValue> {
    let weights = crate::session::weights::Weights::parse(text).map_err(js_err)?;
    let config = weights
        .config(
            &lazy::settings(),
            &lazy::LazyConfig::default(),
            |c: &lazy::LazyConfig| c.run.clone(),
        )
        .map_err(js_err)?;
    #[derive(Serialize)]
    struct Read {
        config: lazy::LazyConfig,
        step: f64,
    }
    to_js(&Read {
        config,
        step: weights.step as f64,
    })
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
        let config = config_from(config, lazy::LazyConfig::default())?;
        Ok(LazyRich {
            inner: lazy::LazyRich::with_ensemble(config.run, config.ridge, config.ensemble)
                .map_err(js_err)?,
        })
    }

    /// A run continued from a Lazy-or-rich weights file (its JSON text): the file's settings,
    /// parameters and step (see `session::weights`). Throws an `Error` that says what is wrong
    /// with the file.
    #[wasm_bindgen(js_name = importWeights)]
    pub fn import_weights(text: &str) -> Result<LazyRich, JsValue> {
        let (_, inner) = lazy::LazyRich::import(text).map_err(js_err)?;
        Ok(LazyRich { inner })
    }

    /// The weights file of the network now (JSON text); throws for a diverged run.
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&mut self) -> Result<String, JsValue> {
        Ok(self.inner.export_weights().map_err(js_err)?.to_json())
    }

    /// Back to θ₀ at step 0; the report there.
    pub fn rewind(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.rewind().map_err(js_err)?)
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

    /// Networks of the ensemble mode (0: off).
    #[wasm_bindgen(getter, js_name = ensembleNetworks)]
    pub fn ensemble_networks(&self) -> u32 {
        self.inner.config().ensemble as u32
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

    /// The ensemble mode's picture on the grid, or null with the ensemble off: `{ step, live,
    /// members, mean, sd, bandMean, bandSd, distance, diverged, firstDiverged }` — `members` the
    /// `live` networks' outputs one after another (Float32Array, live × grid), `mean` and `sd`
    /// their mean and standard deviation, `bandMean` and `bandSd` μ_t and σ_t at infinite width,
    /// `distance` `{ spread, mean, spreadFloor, meanFloor, networks }` (see
    /// `scenes::lazy::ensemble`).
    #[wasm_bindgen(js_name = ensembleGrid)]
    pub fn ensemble_grid(&mut self) -> Result<JsValue, JsValue> {
        match self.inner.ensemble_picture().map_err(js_err)? {
            None => Ok(JsValue::NULL),
            Some(p) => ensemble_object(&p),
        }
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

/// Run `at` of the width sweep `WidthSweep.withSeeds(config, widths, steps, seeds)` trained
/// on its own (the numbers the sweep gives it, bit for bit), for a worker of a pool:
/// `{ width, seed, weightChange, kernelDistance }`. Record it with `WidthSweep.setRun`.
#[wasm_bindgen(js_name = lazySweepRun)]
pub fn lazy_sweep_run(
    config: JsValue,
    widths: Vec<u32>,
    steps: u32,
    seeds: u32,
    at: u32,
) -> Result<JsValue, JsValue> {
    let sweep = WidthSweep::with_seeds(config, widths, steps, seeds)?;
    to_js(&sweep.inner.compute_run(at as usize).map_err(js_err)?)
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

    /// Records run `at` as trained by `lazySweepRun` with this sweep's settings, in any order
    /// (`summary()` and `slopes()` count every recorded run); returns how many are recorded.
    #[wasm_bindgen(js_name = setRun)]
    pub fn set_run(&mut self, at: u32, run: JsValue) -> Result<u32, JsValue> {
        let run: lazy::SweepRun = serde_wasm_bindgen::from_value(run)
            .map_err(|e| js_sys::Error::new(&format!("not a width-sweep run: {e}")))?;
        if at as usize >= self.inner.total() {
            return Err(js_sys::Error::new(&format!("the sweep has no run {at}")).into());
        }
        self.inner.set_run(at as usize, run);
        Ok(self.inner.recorded() as u32)
    }

    /// Runs in the whole sweep: widths × seeds.
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> u32 {
        self.inner.total() as u32
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

fn ensemble_object(p: &lazy::EnsemblePicture) -> Result<JsValue, JsValue> {
    let obj = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), v);
    set("step", &JsValue::from(p.step as f64))?;
    set("live", &JsValue::from(p.live as f64))?;
    for (key, values) in [
        ("members", &p.members),
        ("mean", &p.mean),
        ("sd", &p.sd),
        ("bandMean", &p.band_mean),
        ("bandSd", &p.band_sd),
    ] {
        set(key, &js_sys::Float32Array::from(values.as_slice()))?;
    }
    set("distance", &to_js(&p.distance)?)?;
    set("diverged", &JsValue::from(p.diverged as f64))?;
    set(
        "firstDiverged",
        &p.first_diverged
            .map_or(JsValue::NULL, |s| JsValue::from(s as f64)),
    )?;
    Ok(obj.into())
}

/// The distance between an ensemble and the infinite-width band across widths (see
/// `scenes::lazy::EnsembleSweep`): one width after another, a few steps per `next(budget)`.
#[wasm_bindgen]
pub struct EnsembleSweep {
    inner: lazy::EnsembleSweep,
}

#[wasm_bindgen]
impl EnsembleSweep {
    /// `config` as for `LazyRich` (its data and architecture; its width is replaced by each of
    /// `widths`); `networks` per width; `steps` per ensemble. Throws a readable `Error`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        networks: u32,
        widths: Vec<u32>,
        steps: u32,
    ) -> Result<EnsembleSweep, JsValue> {
        let config = config_from(config, lazy::LazyConfig::default())?;
        let widths = widths.into_iter().map(|w| w as usize).collect();
        Ok(EnsembleSweep {
            inner: lazy::EnsembleSweep::for_scene(
                config.run,
                networks as usize,
                widths,
                steps as u64,
            )
            .map_err(js_err)?,
        })
    }

    /// Up to `budget` more steps of the width in training: `{ width, index, total, stepsDone,
    /// steps, point, done }`, `point` `{ width, distance, diverged }` when a width finished.
    pub fn next(&mut self, budget: u32) -> Result<JsValue, JsValue> {
        to_js(&self.inner.next(budget as u64).map_err(js_err)?)
    }

    /// Every finished width: `[{ width, distance, diverged }]`.
    pub fn points(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.points())
    }
}
