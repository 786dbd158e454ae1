//! The accuracy-against-bag-size figure as pure functions the page's worker pool calls in any
//! worker and any order: one cell per (bag size, seed) with the three learners trained on the
//! same bags ([`weak_cell`]), the references of a seed ([`weak_reference`]), and the mean
//! map's whole curve, which needs no network and is drawn first ([`weak_mean_map_curve`]).
//!
//! Seed s of a sweep draws the data split, the bags and θ₀ from `seed + s`; every learner of
//! a cell starts from the same θ₀ and sees the same bags, and the ceiling trains the same
//! network on the true labels of the first `instances` pool rows (a random sample of the pool:
//! the split is a seeded permutation). Accuracies are instance test accuracies on the seed's
//! test set; a network that diverges has none and says "diverged at step k".

use serde::Serialize;

use super::live::pending;
use super::{MAX_BAG, WeakConfig};
use crate::data::digits::Digits;
use crate::error::Result;

/// One cell of the sweep: the learners' instance test accuracies on one seed's bags of one
/// size (`None` where a learner diverged or the mean map refused, with the reason).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellResult {
    pub bag: usize,
    pub seed: u64,
    /// m, the number of bags.
    pub bags: usize,
    pub dllp: Option<f64>,
    pub easyllp: Option<f64>,
    pub mean_map: Option<f64>,
    /// Why the mean map refused (its proportion matrix is singular or nearly so).
    pub mean_map_refused: Option<String>,
    /// "diverged at step k" for a network that diverged.
    pub dllp_diverged: Option<String>,
    pub easyllp_diverged: Option<String>,
}

/// The references of one seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub seed: u64,
    /// The supervised network's instance test accuracy (all labels), `None` if it diverged.
    pub ceiling: Option<f64>,
    pub ceiling_diverged: Option<String>,
    /// Always predicting the training majority class.
    pub floor: f64,
}

/// One point of the mean map's curve: mean and standard error over the seeds it did not
/// refuse.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BagPoint {
    pub bag: usize,
    pub mean: Option<f64>,
    /// sd/√count; 0 with one seed.
    pub se: Option<f64>,
    /// Seeds that gave an accuracy.
    pub count: usize,
    /// The refusal of the first seed refused, when one was.
    pub refused: Option<String>,
}

/// The sweep's bag sizes: the powers of two from 1 to [`MAX_BAG`] that leave at least one bag
/// of the capped instances. The mean map needs at least K bags; at sizes with fewer it
/// refuses, with the reason.
pub fn bag_sizes(config: &WeakConfig) -> Vec<usize> {
    let n = config.instances();
    (0..)
        .map(|e| 1usize << e)
        .take_while(|&k| k <= MAX_BAG && k <= n)
        .collect()
}

pub fn weak_cell(
    config: &WeakConfig,
    _bag: usize,
    _seed: u64,
    _digits: Option<&Digits>,
) -> Result<CellResult> {
    config.validate()?;
    Err(pending())
}

pub fn weak_reference(
    config: &WeakConfig,
    _seed: u64,
    _digits: Option<&Digits>,
) -> Result<Reference> {
    config.validate()?;
    Err(pending())
}

pub fn weak_mean_map_curve(config: &WeakConfig, _digits: Option<&Digits>) -> Result<Vec<BagPoint>> {
    config.validate()?;
    Err(pending())
}
