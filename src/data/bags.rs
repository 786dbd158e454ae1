//! Bags of label proportions over a classification set (the Weak labels scene; conventions in
//! DESIGN.md "Weak labels"): the training instances come in bags of `size`, and of each bag
//! the learner sees only its class proportions.
//!
//! How a draw works ([`Bags::draw`], all from `seed`):
//! 1. The pool is every training row; π is its class prior (class counts / pool size). The
//!    bags use `n = min(instances, pool)` instances: m = ⌊n / size⌋ bags.
//! 2. Each bag draws proportions q_j ~ Dirichlet(c·π) with c the `concentration` (c large:
//!    every bag looks like the prior; c small: nearly pure bags; c = ∞: q_j = π exactly, so
//!    the bags are drawn i.i.d. from the prior). A fraction ρ = `purified` of the bags —
//!    round(ρ·m) of them, the first of a seeded order of the bags, so raising ρ only adds
//!    purified bags — holds one class only, drawn from π.
//! 3. Each of a bag's `size` slots draws its class from q_j (so the class counts are
//!    multinomial); the slot takes the next unused row of that class from a seeded shuffle of
//!    the class's rows. Rows are drawn without replacement while the class lasts; a class asked
//!    for more rows than the pool holds starts a fresh shuffle of its rows, so a row can then
//!    sit in two bags. The true proportions are the counts / size.
//! 4. The reported proportions are the truth plus N(0, noise²) on every entry, clipped at 0
//!    and renormalised (should every entry clip to 0 the noise is drawn again).
//!
//! Proportions, members and noise come from separate sub-streams of the seed
//! ([`super::stream`]): the noise setting leaves the bags and their truth unchanged, and ρ
//! leaves the proportions of the bags that stay unpurified unchanged.

use crate::error::{Error, Result};
use crate::rng::Rng;

use super::stream;

/// How to draw bags (see the module documentation). Names follow the scene's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct BagOptions {
    /// Instances per bag k ≥ 1.
    pub size: usize,
    /// Instances in all bags together (capped at the pool size); m = ⌊instances / size⌋.
    pub instances: usize,
    /// The Dirichlet concentration c > 0 (`f64::INFINITY`: every bag's proportions are π).
    pub concentration: f64,
    /// The fraction ρ ∈ [0, 1] of purified (single-class) bags.
    pub purified: f64,
    /// The standard deviation ≥ 0 of the Gaussian noise on each reported proportion.
    pub noise: f64,
    pub seed: u64,
}

/// Bags drawn over a pool of labelled training rows; only `reported` is meant for the learner.
#[derive(Clone, Debug, PartialEq)]
pub struct Bags {
    /// Instances per bag k.
    pub size: usize,
    /// Classes K.
    pub classes: usize,
    /// The training-row index of each instance: bag j is `rows[j*size..(j+1)*size]`.
    pub rows: Vec<usize>,
    /// m × K true proportions (class counts / size), row-major.
    pub truth: Vec<f64>,
    /// m × K proportions the learner sees (truth + noise, clipped at 0, renormalised).
    pub reported: Vec<f64>,
    /// Per bag: whether it was purified to one class.
    pub purified: Vec<bool>,
    /// π, the class prior of the pool the bags are drawn from (K entries).
    pub prior: Vec<f64>,
}

/// The most noise draws for one bag before its reported proportions fall back to uniform (at
/// any noise at least one entry of the truth is ≥ 1/K, so each draw keeps a positive entry
/// with probability > 1/2 and 64 failures in a row do not happen in practice).
const NOISE_TRIES: usize = 64;

/// A class index drawn from the probabilities `p` (summing to 1); rounding never selects a
/// class of probability 0.
fn categorical(rng: &mut Rng, p: &[f64]) -> usize {
    let u = rng.uniform();
    let mut acc = 0.0;
    let mut last = 0;
    for (c, &pc) in p.iter().enumerate() {
        if pc > 0.0 {
            acc += pc;
            last = c;
            if u < acc {
                return c;
            }
        }
    }
    last
}

fn validate(opts: &BagOptions) -> Result<()> {
    if opts.size == 0 {
        return Err(Error::config(
            "bag",
            "the bag size must be at least 1, got 0",
        ));
    }
    if opts.concentration.is_nan() || opts.concentration <= 0.0 {
        return Err(Error::config(
            "concentration",
            format!(
                "the Dirichlet concentration must be a number > 0, got {}",
                opts.concentration
            ),
        ));
    }
    if !(0.0..=1.0).contains(&opts.purified) {
        return Err(Error::config(
            "purified",
            format!(
                "the purified fraction must lie in [0, 1], got {}",
                opts.purified
            ),
        ));
    }
    if !(opts.noise.is_finite() && opts.noise >= 0.0) {
        return Err(Error::config(
            "noise",
            format!(
                "the proportion noise must be a finite number ≥ 0, got {}",
                opts.noise
            ),
        ));
    }
    Ok(())
}

impl Bags {
    /// Draws bags over the training rows whose classes are `labels` (each below `classes`);
    /// see the module documentation. Errors name the setting: a bag size of 0, c ≤ 0, ρ
    /// outside [0, 1], negative noise, or too few instances for one bag.
    pub fn draw(labels: &[usize], classes: usize, opts: &BagOptions) -> Result<Bags> {
        validate(opts)?;
        if classes == 0 {
            return Err(Error::config("classes", "bags need at least one class"));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
            return Err(Error::config(
                "labels",
                format!("label {bad} is outside 0..{classes}"),
            ));
        }
        let k = opts.size;
        let n = opts.instances.min(labels.len());
        let m = n / k;
        if m == 0 {
            return Err(Error::config(
                "bag",
                format!("bag size {k} needs at least {k} instances, there are {n}"),
            ));
        }
        // The pool: each class's rows, and the prior.
        let mut pools: Vec<Vec<usize>> = vec![Vec::new(); classes];
        for (row, &l) in labels.iter().enumerate() {
            pools[l].push(row);
        }
        let prior: Vec<f64> = pools
            .iter()
            .map(|p| p.len() as f64 / labels.len() as f64)
            .collect();

        // Proportions and purification.
        let mut rng = Rng::stream(opts.seed, stream::BAG_PROPORTIONS);
        let order = rng.permutation(m);
        let pure_count = ((opts.purified * m as f64).round() as usize).min(m);
        let mut purified = vec![false; m];
        for &j in &order[..pure_count] {
            purified[j] = true;
        }
        let alpha: Vec<f64> = prior.iter().map(|p| opts.concentration * p).collect();
        let mut proportions = Vec::with_capacity(m * classes);
        for &pure in &purified {
            // Both draws for every bag, so that ρ leaves the other bags' proportions alone.
            let pure_class = categorical(&mut rng, &prior);
            let q = if opts.concentration.is_finite() {
                rng.dirichlet(&alpha)
            } else {
                prior.clone()
            };
            if pure {
                let mut one = vec![0.0; classes];
                one[pure_class] = 1.0;
                proportions.extend(one);
            } else {
                proportions.extend(q);
            }
        }

        // Members: a class for each slot, the next row of that class.
        let mut rng = Rng::stream(opts.seed, stream::BAG_MEMBERS);
        let mut shuffled: Vec<Vec<usize>> = pools
            .iter()
            .map(|p| rng.permutation(p.len()).into_iter().map(|i| p[i]).collect())
            .collect();
        let mut next = vec![0usize; classes];
        let mut rows = Vec::with_capacity(m * k);
        let mut truth = vec![0.0; m * classes];
        for j in 0..m {
            let q = &proportions[j * classes..(j + 1) * classes];
            for _ in 0..k {
                let c = categorical(&mut rng, q);
                if next[c] == shuffled[c].len() {
                    let fresh = rng.permutation(pools[c].len());
                    shuffled[c] = fresh.into_iter().map(|i| pools[c][i]).collect();
                    next[c] = 0;
                }
                rows.push(shuffled[c][next[c]]);
                next[c] += 1;
                truth[j * classes + c] += 1.0;
            }
        }
        for t in &mut truth {
            *t /= k as f64;
        }

        // What is reported.
        let reported = if opts.noise == 0.0 {
            truth.clone()
        } else {
            let mut rng = Rng::stream(opts.seed, stream::BAG_NOISE);
            let mut out = Vec::with_capacity(truth.len());
            for t in truth.chunks_exact(classes) {
                let mut row = vec![1.0 / classes as f64; classes];
                for _ in 0..NOISE_TRIES {
                    let noisy: Vec<f64> = t
                        .iter()
                        .map(|&v| (v + opts.noise * rng.normal()).max(0.0))
                        .collect();
                    let total: f64 = noisy.iter().sum();
                    if total > 0.0 {
                        row = noisy.iter().map(|v| v / total).collect();
                        break;
                    }
                }
                out.extend(row);
            }
            out
        };
        Ok(Bags {
            size: k,
            classes,
            rows,
            truth,
            reported,
            purified,
            prior,
        })
    }

    /// The number of bags m.
    pub fn count(&self) -> usize {
        self.purified.len()
    }

    /// The number of instances in all bags, m·k.
    pub fn instances(&self) -> usize {
        self.rows.len()
    }

    /// The instances' inputs in bag order (`m·k × dim`, row-major) from the training inputs
    /// `x` (`n_train × dim`).
    pub fn gather_x(&self, x: &[f32], dim: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows.len() * dim);
        for &r in &self.rows {
            out.extend_from_slice(&x[r * dim..(r + 1) * dim]);
        }
        out
    }

    /// The instances' true classes in bag order, for scoring only (the learner never sees them).
    pub fn labels(&self, labels: &[usize]) -> Vec<usize> {
        self.rows.iter().map(|&r| labels[r]).collect()
    }

    /// `m·k × K` targets: row i holds the reported proportions of instance i's bag (the DLLP
    /// loss's targets, [`crate::nn::Loss`]'s `Proportions`).
    pub fn proportion_targets(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows.len() * self.classes);
        for p in self.reported.chunks_exact(self.classes) {
            for _ in 0..self.size {
                out.extend(p.iter().map(|&v| v as f32));
            }
        }
        out
    }

    /// `m·k × K` debiased instance labels of EasyLLP (Busa-Fekete, Choi, Dick, Gentile &
    /// Muñoz Medina 2023, "Easy Learning from Label Proportions", NeurIPS 2023,
    /// arXiv:2302.03115): instance i of bag j gets
    ///
    ///   ỹ_i = k·(p_j − π) + π,
    ///
    /// with p_j the bag's reported proportions, k the bag size and π the prior. The paper states
    /// it for two classes (p_j the fraction of positives, π = P(y = 1)) as the soft label that
    /// makes ỹ·ℓ(h(x), 1) + (1 − ỹ)·ℓ(h(x), 0) an unbiased estimate of the instance loss; for K
    /// classes it is the same per class. Descent trains on ỹ with the squared loss on K outputs.
    ///
    /// Unbiasedness, E[ỹ_i | x_i, y_i] = e_{y_i}, assumes the bags are drawn i.i.d. from the
    /// prior: the other k − 1 labels of the bag are independent of instance i with mean π,
    /// so E[k·p_j | y_i] = e_{y_i} + (k − 1)·π. Here that is c = ∞ and ρ = 0 with no noise
    /// (Dirichlet proportions, purified bags and clipped noise all break it: the bags then
    /// carry more information per bag, but ỹ is no longer centred on the label). Each ỹ_i
    /// has variance of order k, so it lies far outside [0, 1] for large bags.
    pub fn debiased_targets(&self) -> Vec<f32> {
        let k = self.size as f64;
        let mut out = Vec::with_capacity(self.rows.len() * self.classes);
        for p in self.reported.chunks_exact(self.classes) {
            let row: Vec<f32> = p
                .iter()
                .zip(&self.prior)
                .map(|(&pc, &pi)| (k * (pc - pi) + pi) as f32)
                .collect();
            for _ in 0..self.size {
                out.extend_from_slice(&row);
            }
        }
        out
    }

    /// `m × dim` bag means of the training inputs `x` (`n_train × dim`), in f64: the M of the
    /// mean map ([`crate::kernels::mean_map`]).
    pub fn bag_means(&self, x: &[f32], dim: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.count() * dim];
        for (j, bag) in self.rows.chunks_exact(self.size).enumerate() {
            let mean = &mut out[j * dim..(j + 1) * dim];
            for &r in bag {
                for (m, &v) in mean.iter_mut().zip(&x[r * dim..(r + 1) * dim]) {
                    *m += v as f64;
                }
            }
            for m in mean.iter_mut() {
                *m /= self.size as f64;
            }
        }
        out
    }
}

/// The prior-only floor: the test accuracy of always predicting the most frequent training
/// class (the lowest index on a tie); 0 when there are no test labels.
pub fn prior_floor(train_labels: &[u32], test_labels: &[u32], classes: usize) -> f64 {
    if test_labels.is_empty() || classes == 0 {
        return 0.0;
    }
    let mut counts = vec![0usize; classes];
    for &l in train_labels {
        if (l as usize) < classes {
            counts[l as usize] += 1;
        }
    }
    let mut majority = 0;
    for c in 1..classes {
        if counts[c] > counts[majority] {
            majority = c;
        }
    }
    let hits = test_labels
        .iter()
        .filter(|&&l| l as usize == majority)
        .count();
    hits as f64 / test_labels.len() as f64
}
