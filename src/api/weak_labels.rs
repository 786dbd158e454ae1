//! The Weak-labels scene's exports: its defaults, the live run ([`WeakLabels`]) and the pure
//! functions of the accuracy-against-bag-size sweep ([`weak_bag_sizes`], [`weak_cell`],
//! [`weak_reference`], [`weak_mean_map_curve`]), which a pool of workers calls in any order.
//!
//! A run on the digits uses the digits `setDigits(text)` gave this engine instance, a run on
//! the reader's own data (`data: 'table'`) the table `setWeakTable(table)` gave it (each worker
//! of the pool sets them once; the file is read in the browser and never in a link). Every error is a JavaScript `Error` naming the setting; a
//! network that diverges reports "diverged at step k", never a NaN.

use std::cell::RefCell;
use std::sync::Arc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::playground::{DataTable, held_digits};
use super::{config_from, js_err, to_js};
use crate::data::Table;
use crate::scenes::weak_labels::{self as weak, WeakConfig};
use crate::session::run::DataSource;

thread_local! {
    /// The reader's table this instance's Weak-labels runs use (see [`set_weak_table`]).
    static TABLE: RefCell<Option<Arc<Table>>> = const { RefCell::new(None) };
}

/// Keeps `table` (a `DataTable`, taken: pass `table.share()` to keep yours) for this engine
/// instance's Weak-labels runs on the reader's own data (`data: 'table'`); replaces the one
/// held.
#[wasm_bindgen(js_name = setWeakTable)]
pub fn set_weak_table(table: DataTable) {
    TABLE.with(|t| *t.borrow_mut() = Some(table.table()));
}

/// Forgets the table [`set_weak_table`] gave (a run on `data: 'table'` is then refused).
#[wasm_bindgen(js_name = clearWeakTable)]
pub fn clear_weak_table() {
    TABLE.with(|t| *t.borrow_mut() = None);
}

/// Whether [`set_weak_table`] has given this instance a table.
#[wasm_bindgen(js_name = hasWeakTable)]
pub fn has_weak_table() -> bool {
    TABLE.with(|t| t.borrow().is_some())
}

/// The digits and the table this instance holds.
pub(super) fn source() -> DataSource {
    DataSource {
        digits: held_digits(),
        table: TABLE.with(|t| t.borrow().clone()),
    }
}

/// The limits the page shows beside the defaults.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Limits {
    /// The most bags' instances per data set (the pools).
    digits_pool: usize,
    cells_pool: usize,
    max_bag: usize,
    n_test: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Defaults {
    #[serde(flatten)]
    config: WeakConfig,
    limits: Limits,
}

/// The scene's default settings, every field present, and `limits`
/// (`{ digitsPool, cellsPool, maxBag, nTest }`).
#[wasm_bindgen(js_name = weakLabelsDefaults)]
pub fn weak_labels_defaults() -> Result<JsValue, JsValue> {
    to_js(&Defaults {
        config: WeakConfig::default(),
        limits: Limits {
            digits_pool: weak::DIGITS_POOL,
            cells_pool: weak::CELLS_POOL,
            max_bag: weak::MAX_BAG,
            n_test: weak::N_TEST,
        },
    })
}

/// Reads and validates a settings object over the defaults, on the data this instance holds.
fn read(config: JsValue) -> Result<WeakConfig, JsValue> {
    let config: WeakConfig = config_from(config, WeakConfig::default())?;
    let config = config.with_source(&source());
    config.validate().map_err(js_err)?;
    Ok(config)
}

/// The sweep's bag sizes for `config`: powers of two from 1 to 512 that leave at least one
/// bag (the mean map refuses, with its reason, where there are fewer than K).
#[wasm_bindgen(js_name = weakBagSizes)]
pub fn weak_bag_sizes(config: JsValue) -> Result<Vec<u32>, JsValue> {
    let config = read(config)?;
    Ok(weak::bag_sizes(&config)
        .into_iter()
        .map(|k| k as u32)
        .collect())
}

/// The sweep's seeds for `config`: `seed`, `seed + 1`, … (`seeds` of them).
#[wasm_bindgen(js_name = weakSweepSeeds)]
pub fn weak_sweep_seeds(config: JsValue) -> Result<Vec<f64>, JsValue> {
    let config = read(config)?;
    Ok((0..config.seeds)
        .map(|s| config.seed.wrapping_add(s as u64) as f64)
        .collect())
}

/// One cell of the sweep: `{ bag, seed, bags, dllp, easyllp, meanMap, meanMapRefused,
/// dllpDiverged, easyllpDiverged }`, the instance test accuracies of the three learners on
/// the bags of size `bag` drawn from `seed` (null where a network diverged or the mean map
/// refused, with the reason beside it).
#[wasm_bindgen(js_name = weakCell)]
pub fn weak_cell(config: JsValue, bag: u32, seed: f64) -> Result<JsValue, JsValue> {
    let config = read(config)?;
    let seed = seed_arg(seed)?;
    to_js(&weak::weak_cell(&config, bag as usize, seed, &source()).map_err(js_err)?)
}

/// The references of `seed`: `{ seed, ceiling, ceilingDiverged, floor }`.
#[wasm_bindgen(js_name = weakReference)]
pub fn weak_reference(config: JsValue, seed: f64) -> Result<JsValue, JsValue> {
    let config = read(config)?;
    let seed = seed_arg(seed)?;
    to_js(&weak::weak_reference(&config, seed, &source()).map_err(js_err)?)
}

/// The mean map's curve: `[{ bag, mean, se, count, refused }]` over every bag size, mean ±
/// standard error over the sweep's seeds (no network: fast).
#[wasm_bindgen(js_name = weakMeanMapCurve)]
pub fn weak_mean_map_curve(config: JsValue) -> Result<JsValue, JsValue> {
    let config = read(config)?;
    to_js(&weak::weak_mean_map_curve(&config, &source()).map_err(js_err)?)
}

fn seed_arg(seed: f64) -> Result<u64, JsValue> {
    if seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= u32::MAX as f64 * 2.0 {
        Ok(seed as u64)
    } else {
        Err(js_sys::Error::new(&format!(
            "invalid setting `seed`: must be a whole number ≥ 0, got {seed}"
        ))
        .into())
    }
}

/// The live run (see `scenes::weak_labels::live`).
#[wasm_bindgen]
pub struct WeakLabels {
    inner: weak::WeakLabels,
}

#[wasm_bindgen]
impl WeakLabels {
    /// Draws the data and the bags of a settings object and builds the live learner's network;
    /// throws a readable `Error` naming a bad setting.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<WeakLabels, JsValue> {
        let config = read(config)?;
        Ok(WeakLabels {
            inner: weak::WeakLabels::new(config, &source()).map_err(js_err)?,
        })
    }

    /// Runs up to `steps` steps: `{ step, bagLoss, trainAccuracy, testAccuracy, diverged }`.
    pub fn advance(&mut self, steps: u32) -> Result<JsValue, JsValue> {
        to_js(&self.inner.advance(steps as u64))
    }

    /// The report at the current parameters.
    pub fn evaluate(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.evaluate())
    }

    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f64) -> Result<(), JsValue> {
        self.inner.set_lr(lr).map_err(js_err)
    }

    #[wasm_bindgen(getter)]
    pub fn step(&self) -> f64 {
        self.inner.step() as f64
    }

    /// The weights file of the network now (JSON text); throws after a divergence.
    #[wasm_bindgen(js_name = exportWeights)]
    pub fn export_weights(&mut self) -> Result<String, JsValue> {
        Ok(self.inner.export_weights().map_err(js_err)?.to_json())
    }

    /// Back to θ₀ at step 0; the report there.
    pub fn rewind(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.rewind().map_err(js_err)?)
    }

    /// `{ classes, names, counts }`: the test-set confusion (counts K × K, row the true class).
    pub fn confusion(&mut self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.confusion())
    }

    /// `{ bags, size, classes, names, reported (m × K), truth (m × K), purified (m), prior,
    /// singular, condition }`: the bags and the spectrum of the reported proportion matrix
    /// (`condition` null when it is singular).
    pub fn proportions(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.proportions())
    }

    /// The plotting grid `{ dim, size, lo, hi, … }` of a 2-D set (the cell populations, a
    /// table of two inputs), else null.
    #[wasm_bindgen(js_name = gridSpec)]
    pub fn grid_spec(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.grid_spec())
    }

    /// The class probabilities on the grid (`grid.len() × K`, row-major), null without a grid.
    #[wasm_bindgen(js_name = predictGrid)]
    pub fn predict_grid(&mut self) -> Option<Vec<f32>> {
        self.inner.predict_grid()
    }

    /// `{ trainX, trainY, testX, testY }` (Float32Arrays) for a 2-D set: the instances in bags
    /// (`n × 2`, bag order) and the test points, each with its true class as a number; else
    /// null.
    pub fn points(&self) -> Result<JsValue, JsValue> {
        let Some(p) = self.inner.points() else {
            return Ok(JsValue::NULL);
        };
        let obj = js_sys::Object::new();
        for (key, values) in [
            ("trainX", p.train_x),
            ("trainY", p.train_y),
            ("testX", p.test_x),
            ("testY", p.test_y),
        ] {
            js_sys::Reflect::set(
                &obj,
                &JsValue::from_str(key),
                &js_sys::Float32Array::from(values.as_slice()),
            )?;
        }
        Ok(obj.into())
    }

    /// The mean map on the live run's bags: `{ accuracy, refused }`, one of them null.
    #[wasm_bindgen(js_name = meanMap)]
    pub fn mean_map(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.mean_map())
    }
}
