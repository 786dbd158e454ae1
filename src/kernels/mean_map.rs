//! The mean map of learning from label proportions (Quadrianto, Smola, Caetano & Le 2009,
//! "Estimating labels from label proportions", JMLR 10), with the identity feature map φ(x) = x.
//!
//! Bag j's mean input M_j = (1/k) Σ_{i∈B_j} x_i has expectation Σ_c P_jc μ_c, with P the m × K
//! matrix of the bags' class proportions and μ_c the mean input of class c: M ≈ P·μ. Least
//! squares recovers the class means, μ̂ = (PᵀP)⁻¹PᵀM, solved here through the singular value
//! decomposition of P (never by forming PᵀP, which squares the condition number); a new point
//! is then assigned to the nearest recovered class mean.
//!
//! This needs P of full column rank: K bags at least, and proportions that differ between
//! bags. When bags are alike P is ill-conditioned and the solve amplifies the bag means'
//! sampling error by up to its condition number σ_max/σ_min ([`spectrum`]); above
//! [`MAX_CONDITION`] [`MeanMap::fit`] refuses, with an explanation.

use nalgebra::DMatrix;

use crate::error::{Error, Result};

/// The largest condition number of P at which [`MeanMap::fit`] still solves. The inputs are
/// f32, whose relative precision is 2⁻²⁴ ≈ 6·10⁻⁸, and the bag means inherit that rounding;
/// least squares multiplies a relative error in M by up to the condition number, so at 10⁶
/// the rounding of the inputs alone moves the recovered means by about 6 % of their size.
/// Beyond it what the solve returns is set by rounding, not by the data: P is singular to the
/// precision the data carry. (Well below it the page still shows how the condition number
/// amplifies the far larger sampling error of the bag means.)
pub const MAX_CONDITION: f64 = 1e6;

/// The singular values of the m × K proportion matrix P and its condition number.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    /// The min(m, K) singular values, descending.
    pub singular_values: Vec<f64>,
    /// σ_max / σ_min over the K columns; ∞ when P is rank-deficient: fewer bags than classes
    /// (m < K), or σ_min ≤ max(m, K)·ε·σ_max (the usual numerical rank tolerance, ε the f64
    /// machine epsilon).
    pub condition: f64,
}

/// The singular values of an m × K matrix below which they count as zero: max(m, K)·ε·σ_max.
fn rank_tolerance(singular_values: &[f64], m: usize, k: usize) -> f64 {
    m.max(k) as f64 * f64::EPSILON * singular_values.first().copied().unwrap_or(0.0)
}

/// The singular values and condition number of the row-major m × K matrix `p`.
pub fn spectrum(p: &[f64], m: usize, k: usize) -> Spectrum {
    assert_eq!(p.len(), m * k, "spectrum: P must be m × K");
    if m == 0 || k == 0 {
        return Spectrum {
            singular_values: Vec::new(),
            condition: f64::INFINITY,
        };
    }
    let mut singular_values: Vec<f64> = DMatrix::from_row_slice(m, k, p)
        .singular_values()
        .iter()
        .copied()
        .collect();
    singular_values.sort_by(|a, b| b.total_cmp(a));
    let top = singular_values[0];
    let low = *singular_values.last().unwrap_or(&0.0);
    let tol = rank_tolerance(&singular_values, m, k);
    let condition = if m < k || top <= 0.0 || low <= tol {
        f64::INFINITY
    } else {
        top / low
    };
    Spectrum {
        singular_values,
        condition,
    }
}

/// The class means recovered from bag means, and the spectrum of the proportions they came
/// from.
#[derive(Clone, Debug, PartialEq)]
pub struct MeanMap {
    /// K × d recovered class means μ̂, row-major.
    pub means: Vec<f64>,
    /// The spectrum of P.
    pub spectrum: Spectrum,
}

impl MeanMap {
    /// Recovers the K class means from the m × d bag means `bag_means` and the m × K bag
    /// proportions `p` (both row-major) by least squares. Refuses (`Error::config("bags", …)`,
    /// a sentence a reader understands) when there are fewer bags than classes, when a class
    /// is absent from every bag, or when P's condition number exceeds [`MAX_CONDITION`].
    pub fn fit(bag_means: &[f64], p: &[f64], m: usize, k: usize, d: usize) -> Result<MeanMap> {
        if p.len() != m * k || bag_means.len() != m * d {
            return Err(Error::ShapeMismatch {
                op: "mean map",
                expected: format!("{m} × {k} proportions and {m} × {d} bag means"),
                got: format!("{} proportions and {} bag means", p.len(), bag_means.len()),
            });
        }
        if k == 0 {
            return Err(Error::config(
                "bags",
                "the mean map needs at least one class",
            ));
        }
        if let Some(i) = p.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::config(
                "bags",
                format!(
                    "bag {}'s proportion of class {} is {}, not a number ≥ 0",
                    i / k,
                    i % k,
                    p[i]
                ),
            ));
        }
        if let Some(i) = bag_means.iter().position(|v| !v.is_finite()) {
            return Err(Error::config(
                "bags",
                format!("bag {}'s mean input is not finite", i / d.max(1)),
            ));
        }
        if m < k {
            let bags = if m == 1 {
                "is 1 bag".to_string()
            } else {
                format!("are {m} bags")
            };
            return Err(Error::config(
                "bags",
                format!(
                    "there {bags} but {k} classes: the mean map solves for {k} class means \
                     from the bag means and needs at least {k} bags whose proportions differ \
                     (smaller bags or more instances give more bags)"
                ),
            ));
        }
        if let Some(c) = (0..k).find(|&c| (0..m).all(|j| p[j * k + c] == 0.0)) {
            return Err(Error::config(
                "bags",
                format!(
                    "class {c} has proportion 0 in all {m} bags: nothing in the bag means \
                     tells where its examples lie, so its mean cannot be recovered"
                ),
            ));
        }
        let spectrum = spectrum(p, m, k);
        if spectrum.condition.is_nan() || spectrum.condition > MAX_CONDITION {
            // The directions the proportions vary in, at the precision the threshold allows.
            let top = spectrum.singular_values[0];
            let varied = spectrum
                .singular_values
                .iter()
                .filter(|&&s| s * MAX_CONDITION > top)
                .count();
            let why = if p.chunks_exact(k).all(|row| row == &p[..k]) {
                format!(
                    "all {m} bags have the same proportions, so every bag mean is the same \
                     blend of the class means"
                )
            } else if varied <= 1 {
                format!(
                    "all {m} bags have nearly the same proportions, so every bag mean is nearly \
                     the same blend of the class means"
                )
            } else {
                format!(
                    "the proportions of the {m} bags vary in only {varied} of {k} independent \
                     directions (some mix of classes has nearly the same share in every bag)"
                )
            };
            let cond = if spectrum.condition.is_infinite() {
                "infinite".to_string()
            } else {
                format!("{:.2e}", spectrum.condition)
            };
            return Err(Error::config(
                "bags",
                format!(
                    "{why}. The proportion matrix has condition number {cond} (the mean map \
                     solves up to {MAX_CONDITION:.0e}): the bag means cannot be unmixed into \
                     {k} class means. Bags whose proportions differ (smaller bags, a lower \
                     concentration, purified bags) make it solvable"
                ),
            ));
        }
        let pm = DMatrix::from_row_slice(m, k, p);
        let bm = DMatrix::from_row_slice(m, d, bag_means);
        let svd = pm.svd(true, true);
        let mu = svd
            .solve(&bm, 0.0)
            .map_err(|e| Error::config("bags", format!("the least-squares solve failed: {e}")))?;
        let mut means = Vec::with_capacity(k * d);
        for c in 0..k {
            for t in 0..d {
                means.push(mu[(c, t)]);
            }
        }
        Ok(MeanMap { means, spectrum })
    }

    /// The number of classes K.
    pub fn classes(&self) -> usize {
        self.spectrum.singular_values.len()
    }

    /// The class of the nearest recovered mean (squared Euclidean distance; the lowest index on
    /// a tie) of each row of `x` (`n × d`, row-major).
    pub fn predict(&self, x: &[f32], d: usize) -> Vec<usize> {
        let k = self.classes();
        debug_assert_eq!(
            self.means.len(),
            k * d,
            "predict: inputs of another dimension"
        );
        x.chunks_exact(d.max(1))
            .map(|row| {
                let mut best = 0;
                let mut best_dist = f64::INFINITY;
                for c in 0..k {
                    let mean = &self.means[c * d..(c + 1) * d];
                    let dist: f64 = row
                        .iter()
                        .zip(mean)
                        .map(|(&v, &mu)| (v as f64 - mu).powi(2))
                        .sum();
                    if dist < best_dist {
                        best_dist = dist;
                        best = c;
                    }
                }
                best
            })
            .collect()
    }
}
