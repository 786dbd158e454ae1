//! The live run of the Weak-labels scene: one network (DLLP or EasyLLP, [`Learner`]) trained
//! step by step on the bags of the settings, reporting after every batch of steps the DLLP bag
//! loss of the network now (whichever learner trains it) beside its instance accuracies on the
//! training instances and the test set. The point of the panel: the bag loss can reach about
//! zero while the instance accuracy stays poor (large bags whose proportions any labelling
//! with the right counts matches).
//!
//! The run is on the CPU (at width 256 on 1,024 digits a step costs about 0.1 GFLOP, which the
//! wasm path takes well over 150 times a second). A step that diverges stops the run: the
//! report keeps the last finite numbers and says "diverged at step k".

use serde::Serialize;

use super::WeakConfig;
use crate::data::GridSpec;
use crate::data::digits::Digits;
use crate::error::{Error, Result};
use crate::session::weights::Weights;

/// Where the live run stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeakReport {
    /// Steps taken.
    pub step: u64,
    /// The DLLP bag loss −(1/m) Σⱼ Σ_c pⱼc log p̄ⱼc of the network now on the bags' reported
    /// proportions (for either learner).
    pub bag_loss: f64,
    /// Fraction of the training instances (those in bags) whose predicted class is their true
    /// class.
    pub train_accuracy: f64,
    /// The same on the test set.
    pub test_accuracy: f64,
    /// "diverged at step k" once a step diverged (the numbers are then the last finite ones).
    pub diverged: Option<String>,
}

/// The test-set confusion of the network now.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Confusion {
    pub classes: usize,
    pub names: Vec<String>,
    /// `classes × classes`, row-major: row the true class, column the predicted one.
    pub counts: Vec<u32>,
}

/// The bags as the learners see them, and what they hide.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proportions {
    /// m, the number of bags, and their size k.
    pub bags: usize,
    pub size: usize,
    pub classes: usize,
    pub names: Vec<String>,
    /// `m × K`, row-major: the reported proportions (truth plus noise, renormalised).
    pub reported: Vec<f64>,
    /// `m × K`: the true proportions.
    pub truth: Vec<f64>,
    /// Per bag: whether it was purified (one class only).
    pub purified: Vec<bool>,
    /// π, the class prior of the pool.
    pub prior: Vec<f64>,
    /// The singular values of the reported `m × K` proportion matrix P, descending.
    pub singular: Vec<f64>,
    /// σ_max / σ_min of P; `None` when P is singular (σ_min = 0).
    pub condition: Option<f64>,
}

/// The mean map on the live run's bags: its instance test accuracy, or why it refuses.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeanMapResult {
    pub accuracy: Option<f64>,
    pub refused: Option<String>,
}

/// The live run.
pub struct WeakLabels {
    config: WeakConfig,
}

/// The refusal of the engine while its learners are being built.
pub(super) fn pending() -> Error {
    Error::config("data", "the weak-labels engine is not built yet")
}

impl WeakLabels {
    pub fn new(config: WeakConfig, _digits: Option<&Digits>) -> Result<Self> {
        config.validate()?;
        Err(pending())
    }
    pub fn config(&self) -> &WeakConfig {
        &self.config
    }
    pub fn step(&self) -> u64 {
        0
    }
    pub fn advance(&mut self, _steps: u64) -> WeakReport {
        self.evaluate()
    }
    pub fn evaluate(&mut self) -> WeakReport {
        WeakReport {
            step: 0,
            bag_loss: 0.0,
            train_accuracy: 0.0,
            test_accuracy: 0.0,
            diverged: None,
        }
    }
    pub fn set_lr(&mut self, _lr: f64) -> Result<()> {
        Err(pending())
    }
    pub fn rewind(&mut self) -> Result<WeakReport> {
        Err(pending())
    }
    pub fn confusion(&mut self) -> Confusion {
        Confusion {
            classes: 0,
            names: Vec::new(),
            counts: Vec::new(),
        }
    }
    pub fn proportions(&self) -> Proportions {
        Proportions {
            bags: 0,
            size: 0,
            classes: 0,
            names: Vec::new(),
            reported: Vec::new(),
            truth: Vec::new(),
            purified: Vec::new(),
            prior: Vec::new(),
            singular: Vec::new(),
            condition: None,
        }
    }
    pub fn mean_map(&self) -> MeanMapResult {
        MeanMapResult {
            accuracy: None,
            refused: Some(pending().to_string()),
        }
    }
    pub fn grid_spec(&self) -> Option<&GridSpec> {
        None
    }
    pub fn predict_grid(&mut self) -> Option<Vec<f32>> {
        None
    }
    pub fn export_weights(&mut self) -> Result<Weights> {
        Err(pending())
    }
}
