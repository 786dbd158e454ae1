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

use super::live::{
    bag_instances, draw_bags, learner_trainer, mean_map_accuracy, refusal_text, trainer,
};
use super::{Learner, MAX_BAG, Pool, WeakConfig, accuracy, argmax_rows};
use crate::data::{Encoding, encode, prior_floor};
use crate::error::{Error, Result};
use crate::nn::loss::Loss;
use crate::session::run::DataSource;

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
/// of the capped instances (on a table, of `config`'s recorded table:
/// [`WeakConfig::with_source`]). The mean map needs at least K bags; at sizes with fewer it
/// refuses, with the reason.
pub fn bag_sizes(config: &WeakConfig) -> Vec<usize> {
    let n = config.instances();
    (0..)
        .map(|e| 1usize << e)
        .take_while(|&k| k <= MAX_BAG && k <= n)
        .collect()
}

/// The seed of replicate `s`.
fn seed_of(config: &WeakConfig, s: usize) -> u64 {
    config.seed.wrapping_add(s as u64)
}

/// Checks a cell's bag size.
fn check_bag(bag: usize) -> Result<()> {
    crate::error::in_range("bag", bag as f64, [1.0, MAX_BAG as f64])
}

/// Trains `trainer` for the sweep's steps and scores it on the test set.
fn train_and_score(
    config: &WeakConfig,
    mut t: crate::nn::train::Trainer<crate::backend::cpu::Cpu>,
    pool: &Pool,
) -> (Option<f64>, Option<String>) {
    match t.advance(config.steps) {
        Ok(()) => {
            let f = t.predict(&pool.data.x_test);
            if f.iter().any(|v| !v.is_finite()) {
                let step = t.step();
                return (None, Some(Error::Diverged { step }.to_string()));
            }
            let predicted = argmax_rows(&f, config.classes());
            (Some(accuracy(&predicted, &pool.test_labels)), None)
        }
        Err(e) => (None, Some(e.to_string())),
    }
}

/// One cell: DLLP, EasyLLP and the mean map on the bags of size `bag` drawn from `seed`
/// (`source`: the parsed digits file for `data = digits`, the reader's table for
/// `data = table`). Pure: the same arguments give the same result in any worker.
pub fn weak_cell(
    config: &WeakConfig,
    bag: usize,
    seed: u64,
    source: &DataSource,
) -> Result<CellResult> {
    let config = &config.clone().with_source(source);
    config.validate()?;
    check_bag(bag)?;
    let pool = Pool::draw(config, seed, source)?;
    let bags = draw_bags(config, &pool, bag, seed)?;
    let (x, _) = bag_instances(&bags, &pool);
    let (dllp, dllp_diverged) = train_and_score(
        config,
        learner_trainer(config, Learner::Dllp, &bags, &x, seed)?,
        &pool,
    );
    let (easyllp, easyllp_diverged) = train_and_score(
        config,
        learner_trainer(config, Learner::Easyllp, &bags, &x, seed)?,
        &pool,
    );
    let (mean_map, mean_map_refused) = match mean_map_accuracy(&bags, &pool) {
        Ok(a) => (Some(a), None),
        Err(e) => (None, Some(refusal_text(&e))),
    };
    Ok(CellResult {
        bag,
        seed,
        bags: bags.count(),
        dllp,
        easyllp,
        mean_map,
        mean_map_refused,
        dllp_diverged,
        easyllp_diverged,
    })
}

/// The references of `seed`: the supervised ceiling (the same network, cross-entropy on the
/// true labels of the first `instances` pool rows, the sweep's steps) and the prior floor.
pub fn weak_reference(config: &WeakConfig, seed: u64, source: &DataSource) -> Result<Reference> {
    let config = &config.clone().with_source(source);
    config.validate()?;
    let pool = Pool::draw(config, seed, source)?;
    let n = config.instances();
    let d = pool.dim();
    let labels: Vec<u32> = pool.labels[..n].iter().map(|&c| c as u32).collect();
    let y = encode(&labels, pool.classes(), Encoding::OneHot)?;
    let t = trainer(
        config,
        &pool.data.x_train[..n * d],
        &y,
        Loss::CrossEntropy,
        seed,
    )?;
    let (ceiling, ceiling_diverged) = train_and_score(config, t, &pool);
    Ok(Reference {
        seed,
        ceiling,
        ceiling_diverged,
        floor: prior_floor(
            &pool.data.labels_train[..n],
            &pool.data.labels_test,
            pool.classes(),
        ),
    })
}

/// The mean map's accuracy at every bag size of [`bag_sizes`], mean ± standard error over the
/// sweep's seeds.
pub fn weak_mean_map_curve(config: &WeakConfig, source: &DataSource) -> Result<Vec<BagPoint>> {
    let config = &config.clone().with_source(source);
    config.validate()?;
    let sizes = bag_sizes(config);
    let mut acc: Vec<Vec<f64>> = vec![Vec::new(); sizes.len()];
    let mut refused: Vec<Option<String>> = vec![None; sizes.len()];
    for s in 0..config.seeds {
        let seed = seed_of(config, s);
        let pool = Pool::draw(config, seed, source)?;
        for (i, &k) in sizes.iter().enumerate() {
            let bags = draw_bags(config, &pool, k, seed)?;
            match mean_map_accuracy(&bags, &pool) {
                Ok(a) => acc[i].push(a),
                Err(e) => {
                    refused[i].get_or_insert_with(|| refusal_text(&e));
                }
            }
        }
    }
    Ok(sizes
        .iter()
        .zip(acc.iter().zip(refused))
        .map(|(&bag, (v, refused))| {
            let (mean, se) = mean_se(v);
            BagPoint {
                bag,
                mean,
                se,
                count: v.len(),
                refused,
            }
        })
        .collect())
}

/// Mean and standard error (sd/√count, 0 for one value) of `v`; `None` when empty.
pub fn mean_se(v: &[f64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    let m = v.len() as f64;
    let mean = v.iter().sum::<f64>() / m;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0)
    } else {
        0.0
    };
    (Some(mean), Some((var / m).sqrt()))
}

/// The mean map's curve with the labels known, the benchmark's peer of
/// [`weak_mean_map_curve`]: per sweep seed the same pool, and at every bag size the class means
/// of the same instances from their true labels with the mean map's nearest-mean prediction.
/// Test accuracies, seed by seed and size by size.
pub fn labelled_mean_curve(config: &WeakConfig, source: &DataSource) -> Result<Vec<f64>> {
    use crate::kernels::mean_map::{MeanMap, Spectrum};
    let sizes = bag_sizes(config);
    let mut out = Vec::with_capacity(config.seeds * sizes.len());
    for s in 0..config.seeds {
        let pool = Pool::draw(config, config.seed.wrapping_add(s as u64), source)?;
        let (n, d, k) = (config.instances(), pool.dim(), pool.classes());
        for _ in &sizes {
            let mut means = vec![0.0f64; k * d];
            let mut counts = vec![0usize; k];
            for (row, &c) in pool.data.x_train[..n * d].chunks_exact(d).zip(&pool.labels) {
                counts[c] += 1;
                for (m, &v) in means[c * d..(c + 1) * d].iter_mut().zip(row) {
                    *m += v as f64;
                }
            }
            for (c, &count) in counts.iter().enumerate() {
                for m in &mut means[c * d..(c + 1) * d] {
                    *m /= count.max(1) as f64;
                }
            }
            let map = MeanMap {
                means,
                spectrum: Spectrum {
                    singular_values: vec![1.0; k],
                    condition: 1.0,
                },
            };
            out.push(accuracy(
                &map.predict(&pool.data.x_test, d),
                &pool.test_labels,
            ));
        }
    }
    Ok(out)
}
