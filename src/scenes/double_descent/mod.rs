//! The double-descent scene: random-features regression (a two-layer network whose first layer
//! is frozen) swept over model size (p/n) or sample size (n/p), with train and test error, the
//! norm of the fitted weights, mean and standard error over seeds, and the Mei–Montanari
//! asymptotic curve overlaid.
//!
//! # Conventions
//!
//! The synthetic data follow Mei & Montanari (see [`crate::theory::mei_montanari`]) so that
//! the theory overlays the simulation without rescaling:
//!
//! - inputs x ~ Unif(S^{d−1}(√d)), the sphere of radius √d (coordinates of order one);
//! - ReLU features φ_j(x) = max(0, ⟨w_j, x⟩) with w_j ~ Unif(S^{d−1}) (unit vectors), i.e. their
//!   σ(⟨θ_j, x⟩/√d) with θ_j = √d·w_j; random Fourier features φ_j(x) = √2 cos(⟨w_j, x⟩ + b_j)
//!   with w_j ~ N(0, I_d/d) and b_j ~ Unif[0, 2π) (E φ_j(x)φ_j(x') = exp(−‖x − x'‖²/2d));
//! - teacher f(x) = ⟨β, x⟩ with ‖β‖² = `signal` (F₁²), plus, for the nonlinear teacher,
//!   √`nonlinear` · He₂(⟨u, x⟩)/c_d with a unit vector u, He₂(t) = t² − 1 and
//!   c_d² = 2(d − 1)/(d + 2), the exact variance of He₂(⟨u, x⟩) on the sphere (so F⋆² =
//!   `nonlinear`, and the part is orthogonal to constants and linear functions);
//! - labels y = f(x) + σε, ε ~ N(0, 1), σ = `noise` (τ² = σ²);
//! - the fit minimises (1/n)‖y − Φa‖² + (pλ/d)‖a‖² (their penalty, λ = `ridge`): on the raw
//!   Gram the ridge is ρ = n·p·λ/d;
//! - test error is the mean squared distance to the *noiseless* target on `n_test` fresh points
//!   (their R, and the excess risk of [`crate::theory::hastie`]); train error is against the
//!   noisy training labels. With K outputs both sum the squared errors over outputs.
//!
//! The digits variant uses 64 pixel inputs (divided by 16, centred by the training mean and
//! scaled so that the mean ‖x‖² over the training set is d = 64), one-hot targets with K = 10
//! outputs (label noise, if any, is Gaussian noise of standard deviation σ on the one-hot
//! training targets), a seeded train/test split, and reports the test classification error
//! (arg-max) too. Every output is its own regression on the same p features, so the
//! interpolation threshold is p = n features, which is n·K second-layer parameters.
//!
//! # Algorithm
//!
//! Per seed, one feature matrix Φ (n_max × p_max, f32) holds every model: the size (n, p) uses
//! its first n rows and p columns. Per size, whichever of the dual Gram K = Φ_pΦ_pᵀ (n × n,
//! when p ≥ n) or the primal Gram G = Φ_pᵀΦ_p (p × p, when p < n) is smaller is formed in f64:
//! along the swept dimension the Gram *accumulates* block by block (model-wise: K += Φ_ΔΦ_Δᵀ as
//! feature columns are added, so all dual sizes together cost one n × n × p_max product);
//! along the fixed dimension every size is a *leading block* of one Gram. f64 matters: at
//! p = n the smallest eigenvalue of K sits ~n² below the largest, far under f32 rounding.
//!
//! Each Gram is reduced once to tridiagonal form, A = Q T Qᵀ ([`crate::linalg::Tridiagonal`]:
//! Householder, 4/3·m³ flops for m = min(n, p); about a quarter of a full eigendecomposition
//! with eigenvectors). Since
//! (A + ρI)⁻¹ = Q (T + ρI)⁻¹ Qᵀ, every ridge value then costs an O(m) tridiagonal solve plus
//! one pass of the m reflectors (O(m²)), and the train error and weight norm come out of the
//! tridiagonal coordinates in O(m):
//!
//! ```text
//! dual   (A = K,  c = Qᵀy):      z = (T + ρ)⁻¹c,  α = Qz,  a = Φ_pᵀα,
//!                                train SSE = ρ²‖z‖²,        ‖a‖² = zᵀTz
//! primal (A = G,  c = QᵀΦ_pᵀy):  z = (T + ρ)⁻¹c,  a = Qz,
//!                                train SSE = ‖y‖² − 2zᵀc + zᵀTz,   ‖a‖² = ‖z‖²
//! ```
//!
//! **Test predictions.** A ridge change must not touch the features again: every size predicts
//! through its second-layer weights, f_test = Φ_test,p·a_p, with a_p = Φ_pᵀα for the dual
//! sizes, in blocked f32 GEMMs that skip the zero rows past each size's prefix
//! (`gram::gemm_inner_prefix`, `gram::gemm_outer_prefix`). Model-wise that is
//! (n + n_test)·Σp multiply-adds per re-fit (about 3.6e7 per seed at the defaults below, a few
//! milliseconds), where keeping the n_test × n cross Grams Φ_test,pΦ_pᵀ of the dual sizes
//! would make each re-fit cheaper (n_test·n per size) but cost n_test·n·p_max ≈ 9e8
//! multiply-adds and 25 MB per seed before the first curve. A re-fit therefore costs, per
//! size, O(m) for the solve, O(m²) for Q, and O((n + n_test)·p) for the predictions. Labels are kept as separate components (linear part,
//! nonlinear part, noise) projected once, so the noise and teacher settings re-fit as cheaply
//! as the ridge.
//!
//! **Ridgeless fits.** λ = 0 is computed as the ridge ρ = τ = m·ε·‖A‖_F (ε the f64 machine
//! epsilon), the rounding level of the reduction: it equals the pseudo-inverse (minimum-norm)
//! solution to relative accuracy τ/λ_i in every direction whose eigenvalue λ_i is above the
//! rounding level, and bounds the solution where there is none. Any ρ below τ is raised to τ.
//!
//! **Cost** per seed at n = 300, d = 100, 41 sizes up to p = 10n, 1,000 test points: features
//! (n + n_test)·d·p_max ≈ 3.9e8 f32 multiply-adds; the f64 Gram accumulation n²·p_max ≈ 2.7e8
//! (on the upper triangle only, 58 % of that); 21 dual reductions of 300 × 300 (4/3·m³ flops
//! each) and the smaller primal ones, 8.8e8 flops in all — the reductions dominate; the
//! re-fit's predictions 3.6e7. Memory ≈ 20 MB per seed
//! ([`DoubleDescentConfig::memory_bytes`]). Timings: `benches/double_descent.rs`.

mod features;
mod gram;
mod isotropic;
mod replicate;
mod sweep;
#[cfg(test)]
mod tests;
pub mod trained;

pub use isotropic::{
    Estimate, IsotropicConfig, IsotropicReport, isotropic_curves, isotropic_monte_carlo,
};
pub use replicate::ReplicateWork;
pub use sweep::DoubleDescent;

use serde::{Deserialize, Serialize};

use crate::data::digits::{self};
use crate::error::{Error, Result, blame};
use crate::session::net::ridge_setting;
use crate::session::settings::{SceneSpec, Setting, options};
use crate::theory;

/// Where the data come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DataSource {
    /// Inputs uniform on the sphere of radius √d with a linear or nonlinear teacher.
    Sphere,
    /// The 8×8 digits, one-hot targets (needs the parsed data set).
    Digits,
}

/// The frozen first layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FeatureMap {
    /// max(0, ⟨w, x⟩), w uniform on the unit sphere.
    Relu,
    /// √2 cos(⟨w, x⟩ + b), w ~ N(0, I/d), b ~ Unif[0, 2π).
    Fourier,
}

/// The target function of the sphere data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Teacher {
    /// f(x) = ⟨β, x⟩.
    Linear,
    /// ⟨β, x⟩ plus a He₂ part of variance `nonlinear`.
    Nonlinear,
}

/// What is swept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Sweep {
    /// Model-wise: n = `n_train` fixed, p = ratio·n.
    Features,
    /// Sample-wise: p = `n_features` fixed, n = ratio·p.
    Samples,
}

/// Every setting of the scene. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DoubleDescentConfig {
    pub data: DataSource,
    pub sweep: Sweep,
    pub features: FeatureMap,
    /// Training points n (model-wise sweep).
    pub n_train: usize,
    /// Features p (sample-wise sweep).
    pub n_features: usize,
    /// Input dimension d (sphere data; the digits have 64).
    pub dim: usize,
    /// Test points.
    pub n_test: usize,
    pub teacher: Teacher,
    /// F₁² = ‖β‖², the power of the linear part of the target.
    pub signal: f64,
    /// F⋆², the power of the He₂ part (nonlinear teacher only).
    pub nonlinear: f64,
    /// Label-noise standard deviation σ.
    pub noise: f64,
    /// Ridge λ in the penalty (pλ/d)‖a‖²; 0 is the minimum-norm fit.
    pub ridge: f64,
    /// Number of sizes on the log grid.
    pub sizes: usize,
    /// Smallest ratio on the grid (p/n model-wise, n/p sample-wise).
    pub ratio_min: f64,
    /// Largest ratio on the grid.
    pub ratio_max: f64,
    /// Number of independent replicates (data, teacher, features), for mean and spread.
    pub seeds: usize,
    /// Replicate s uses seed `seed + s`, so adding seeds keeps the earlier ones.
    pub seed: u64,
}

impl Default for DoubleDescentConfig {
    fn default() -> Self {
        DoubleDescentConfig {
            data: DataSource::Sphere,
            sweep: Sweep::Features,
            features: FeatureMap::Relu,
            n_train: 300,
            n_features: 300,
            dim: 100,
            n_test: 1000,
            teacher: Teacher::Linear,
            signal: 1.0,
            nonlinear: 0.5,
            noise: 0.5,
            ridge: 0.0,
            sizes: 41,
            ratio_min: 0.1,
            ratio_max: 10.0,
            seeds: 5,
            seed: 1,
        }
    }
}

/// The largest Gram side min(n, p) any size may have (the O(m³) reduction per size).
pub const MAX_FACTOR_DIM: usize = 1000;

impl Sweep {
    pub const ALL: [Sweep; 2] = [Sweep::Features, Sweep::Samples];
    pub fn label(self) -> &'static str {
        match self {
            Sweep::Features => "model-wise: p = 0.1n … 10n",
            Sweep::Samples => "sample-wise: n = 0.1p … 10p",
        }
    }
}

impl DataSource {
    pub const ALL: [DataSource; 2] = [DataSource::Sphere, DataSource::Digits];
    pub fn label(self) -> &'static str {
        match self {
            DataSource::Sphere => "synthetic: sphere and teacher",
            DataSource::Digits => "digits: 8×8 images, 10 classes",
        }
    }
}

impl FeatureMap {
    pub const ALL: [FeatureMap; 2] = [FeatureMap::Relu, FeatureMap::Fourier];
    pub fn label(self) -> &'static str {
        match self {
            FeatureMap::Relu => "ReLU: max(0, w·x)",
            FeatureMap::Fourier => "Fourier: √2 cos(w·x + b)",
        }
    }
}

impl Teacher {
    pub const ALL: [Teacher; 2] = [Teacher::Linear, Teacher::Nonlinear];
    pub fn label(self) -> &'static str {
        match self {
            Teacher::Linear => "linear ⟨β, x⟩",
            Teacher::Nonlinear => "nonlinear: linear + He₂ part",
        }
    }
}

/// The scene's settings table (see [`crate::session::settings`]). The sliders span less than
/// the engine takes where the whole sweep must fit the memory budget at the other defaults:
/// with 5 seeds and sizes up to 10 n it does up to n ≈ 790 (p ≈ 950 sample-wise), so the
/// sliders stop at 750 and 900 and a link may ask for up to 1000 with fewer seeds; 10 seeds
/// and label noise up to 2 are where the curves stop changing visibly.
pub fn settings() -> SceneSpec {
    let rows = vec![
        Setting::choice("sweep", "Sweep", options(&Sweep::ALL, Sweep::label))
            .doc("Grow the model at fixed data, or the data at fixed model. Both peak where p = n."),
        Setting::choice("data", "Data", options(&DataSource::ALL, DataSource::label)).doc(
            "Synthetic inputs on the sphere of radius √d with a known teacher, or real handwritten \
             digits with one output per class.",
        ),
        Setting::choice("features", "Random features", options(&FeatureMap::ALL, FeatureMap::label))
            .doc("The frozen first layer. The theory curve exists for ReLU features on the synthetic data."),
        Setting::int("nTrain", "Training points n", [4.0, 1000.0])
            .log()
            .slider([20.0, 750.0])
            .doc("Fixed in the model-wise sweep; the peak sits at p = n."),
        Setting::int("nFeatures", "Features p", [4.0, 1000.0])
            .log()
            .slider([20.0, 900.0])
            .doc("Fixed in the sample-wise sweep; the peak sits at n = p."),
        Setting::int("dim", "Input dimension d", [2.0, 1000.0])
            .log()
            .doc("Dimension of the synthetic inputs (the digits have 64 pixels)."),
        Setting::int("nTest", "Test points", [10.0, 5000.0]).log(),
        Setting::choice("teacher", "Teacher", options(&Teacher::ALL, Teacher::label)).doc(
            "The target function of the synthetic data; the nonlinear part acts like extra noise \
             for small models.",
        ),
        Setting::float("signal", "Signal power F₁²", [0.0, 100.0]),
        Setting::float("nonlinear", "Nonlinear power F⋆²", [0.0, 100.0]),
        Setting::float("noise", "Label noise σ", [0.0, 10.0]).slider([0.0, 2.0]).doc(
            "Standard deviation of the Gaussian noise on the training labels. Noise is what the \
             interpolating fit blows up at the threshold.",
        ),
        ridge_setting().doc(
            "Penalty (pλ/d)‖a‖² on the second layer. 0 is the minimum-norm interpolating fit; a \
             ridge near the optimum removes the peak.",
        ),
        Setting::int("sizes", "Sizes", [3.0, 101.0]),
        Setting::float("ratioMin", "Smallest ratio", [0.01, 1.0]).log(),
        Setting::float("ratioMax", "Largest ratio", [1.0, 20.0]).log(),
        Setting::int("seeds", "Seeds", [1.0, 20.0]).slider([1.0, 10.0]).doc(
            "Independent draws of data, teacher and features; the error bars are ± one standard \
             error over them.",
        ),
        Setting::int("seed", "Seed", [0.0, u32::MAX as f64]).doc(
            "Seeds data, teacher and features: seed s, s + 1, … for the replicates. The same seed \
             gives the same curves.",
        ),
    ];
    SceneSpec::new("double-descent", rows, &DoubleDescentConfig::default())
}

/// One model size of the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Size {
    /// Training points.
    pub n: usize,
    /// Features.
    pub p: usize,
}

impl Size {
    /// The dual (n × n) Gram is used when p ≥ n, the primal (p × p) otherwise.
    pub fn is_dual(&self) -> bool {
        self.p >= self.n
    }
    /// The side of the factorised Gram, min(n, p).
    pub fn factor_dim(&self) -> usize {
        self.n.min(self.p)
    }
}

impl DoubleDescentConfig {
    /// Input dimension actually used.
    pub fn input_dim(&self) -> usize {
        match self.data {
            DataSource::Sphere => self.dim,
            DataSource::Digits => digits::PIXELS,
        }
    }

    /// Outputs K (1, or 10 for the digits).
    pub fn outputs(&self) -> usize {
        match self.data {
            DataSource::Sphere => 1,
            DataSource::Digits => digits::CLASSES,
        }
    }

    /// The sizes of the sweep, ascending and distinct: the log grid of ratios times n (or p),
    /// rounded, at least 1, and always including the interpolation threshold p = n itself
    /// (exactly on the grid when `ratio_min · ratio_max = 1` and `sizes` is odd).
    pub fn grid(&self) -> Vec<Size> {
        let base = match self.sweep {
            Sweep::Features => self.n_train,
            Sweep::Samples => self.n_features,
        };
        let mut values: Vec<usize> = theory::log_grid(self.ratio_min, self.ratio_max, self.sizes)
            .into_iter()
            .map(|r| ((r * base as f64).round() as usize).max(1))
            .collect();
        if self.ratio_min <= 1.0 && self.ratio_max >= 1.0 {
            values.push(base);
        }
        values.sort_unstable();
        values.dedup();
        values
            .into_iter()
            .map(|v| match self.sweep {
                Sweep::Features => Size {
                    n: self.n_train,
                    p: v,
                },
                Sweep::Samples => Size {
                    n: v,
                    p: self.n_features,
                },
            })
            .collect()
    }

    /// (largest n, largest p) of the grid.
    fn extent(&self) -> (usize, usize) {
        let g = self.grid();
        (
            g.iter().map(|s| s.n).max().unwrap_or(0),
            g.iter().map(|s| s.p).max().unwrap_or(0),
        )
    }

    /// Estimated bytes: per seed the train and test features, the targets, the reflectors
    /// and projections of every size; once the prediction buffers.
    pub fn memory_bytes(&self) -> u64 {
        let grid = self.grid();
        let (n_max, p_max) = self.extent();
        let k = self.outputs() as u64;
        let (n_max, p_max, n_test) = (n_max as u64, p_max as u64, self.n_test as u64);
        let features = 4 * (n_max + n_test) * p_max;
        let targets = 8 * 4 * (n_max + n_test) * k;
        let fits: u64 = grid
            .iter()
            .map(|s| {
                let m = s.factor_dim() as u64;
                8 * (m * (m + 1) / 2 + 3 * m + 4 * m * k)
            })
            .sum();
        let per_seed = features + targets + fits;
        let s = grid.len() as u64;
        let scratch = 4 * (p_max + n_test + n_max) * s * k + 8 * (n_max * n_max.min(p_max) * 2);
        per_seed * self.seeds as u64 + scratch
    }

    /// Checks every setting against [`settings`], the work per size and the memory estimate.
    pub fn validate(&self, memory_limit: u64) -> Result<()> {
        let mut table = settings();
        if self.data == DataSource::Digits {
            // The digits have their own dimension; `dim` is not used.
            table.settings.retain(|s| s.name != "dim");
        }
        table.validate(self)?;
        let grid = self.grid();
        let biggest = grid.iter().map(Size::factor_dim).max().unwrap_or(0);
        if biggest > MAX_FACTOR_DIM {
            return Err(Error::config(
                "nTrain",
                format!(
                    "the largest Gram matrix would be {biggest} × {biggest}, more than {} × {}; lower n or p",
                    MAX_FACTOR_DIM, MAX_FACTOR_DIM
                ),
            ));
        }
        if self.data == DataSource::Digits {
            let (n_max, _) = self.extent();
            if n_max + self.n_test > digits::ROWS {
                return Err(Error::config(
                    "nTest",
                    format!(
                        "{n_max} training and {} test images need more than the {} digits there are",
                        self.n_test,
                        digits::ROWS
                    ),
                ));
            }
        }
        let bytes = self.memory_bytes();
        if bytes > memory_limit {
            return Err(Error::TooLarge {
                what: format!(
                    "a sweep of {} sizes up to {} × {} features with {} test points and {} seeds",
                    grid.len(),
                    self.extent().0,
                    self.extent().1,
                    self.n_test,
                    self.seeds
                ),
                bytes,
                limit: memory_limit,
                fixes: self.size_settings(),
            });
        }
        Ok(())
    }

    /// The settings the sweep's memory and work grow with: the fixed side of the sweep (`nTrain`
    /// model-wise, `nFeatures` sample-wise), `seeds`, `nTest`, `ratioMax` and `sizes`, the one
    /// raised the most above its default first (see [`crate::error::blame`]).
    pub fn size_settings(&self) -> Vec<&'static str> {
        let d = DoubleDescentConfig::default();
        let base = match self.sweep {
            Sweep::Features => ("nTrain", self.n_train as f64, d.n_train as f64),
            Sweep::Samples => ("nFeatures", self.n_features as f64, d.n_features as f64),
        };
        blame(&[
            base,
            ("seeds", self.seeds as f64, d.seeds as f64),
            ("nTest", self.n_test as f64, d.n_test as f64),
            ("ratioMax", self.ratio_max, d.ratio_max),
            ("sizes", self.sizes as f64, d.sizes as f64),
        ])
    }

    /// The ridge on the raw Gram for a size: ρ = n·p·λ/d.
    pub fn raw_ridge(&self, size: Size, ridge: f64) -> f64 {
        size.n as f64 * size.p as f64 * ridge / self.input_dim() as f64
    }

    /// Weights of the label components (see [`Components`](features::Components)) for the current settings.
    fn component_weights(&self) -> Vec<f64> {
        match self.data {
            DataSource::Sphere => vec![
                self.signal.sqrt(),
                if self.teacher == Teacher::Nonlinear {
                    self.nonlinear.sqrt()
                } else {
                    0.0
                },
                self.noise,
            ],
            DataSource::Digits => vec![1.0, self.noise],
        }
    }
}

/// Mean and standard error (sd/√seeds; 0 with one seed) per size.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stat {
    pub mean: Vec<f64>,
    pub se: Vec<f64>,
}

impl Stat {
    fn of(rows: &[&[f64]]) -> Stat {
        let s = rows.first().map_or(0, |r| r.len());
        let m = rows.len() as f64;
        let mut stat = Stat {
            mean: vec![0.0; s],
            se: vec![0.0; s],
        };
        for i in 0..s {
            let mean = rows.iter().map(|r| r[i]).sum::<f64>() / m;
            let var = if rows.len() > 1 {
                rows.iter().map(|r| (r[i] - mean).powi(2)).sum::<f64>() / (m - 1.0)
            } else {
                0.0
            };
            stat.mean[i] = mean;
            stat.se[i] = (var / m).sqrt();
        }
        stat
    }
}

/// One replicate's curves, one value per size.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedCurves {
    /// The replicate's seed (`seed + s` for replicate s).
    pub seed: u64,
    pub train_mse: Vec<f64>,
    pub test_mse: Vec<f64>,
    pub norm: Vec<f64>,
    /// Digits only.
    pub test_error: Option<Vec<f64>>,
}

/// What the page shows: one curve point per size.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub sweep: Sweep,
    /// The sizes, ascending along the swept dimension.
    pub sizes: Vec<Size>,
    /// The x-axis: p/n (model-wise) or n/p (sample-wise).
    pub ratio: Vec<f64>,
    /// Second-layer parameters p·K.
    pub params: Vec<usize>,
    /// Outputs K.
    pub outputs: usize,
    /// The interpolation threshold on the x-axis (ratio 1: p = n), in parameters n·K
    /// (model-wise) or p·K (sample-wise), and the index of the grid point nearest to it.
    pub threshold_ratio: f64,
    pub threshold_params: usize,
    pub threshold_index: usize,
    /// Mean squared error on the noisy training labels.
    pub train_mse: Stat,
    /// Mean squared error against the noiseless test targets.
    pub test_mse: Stat,
    /// ‖a‖ (Frobenius norm over outputs) of the fitted second-layer weights.
    pub norm: Stat,
    /// Test classification error (digits), else None.
    pub test_error: Option<Stat>,
    /// Every finished replicate's own curves, in the order they were computed (so that
    /// reports of sessions holding different seeds can be pooled).
    pub per_seed: Vec<SeedCurves>,
    pub seeds_done: usize,
    pub seeds: usize,
    pub ridge: f64,
    /// Mei–Montanari's asymptotic test error at each size (ReLU features on the sphere data),
    /// else None.
    pub theory: Option<Vec<f64>>,
    /// Its ψ₁ → ∞ (kernel) limit at this n (model-wise), else None.
    pub theory_kernel_limit: Option<f64>,
    /// The λ minimising the asymptotic risk at the threshold p = n, else None.
    pub theory_optimal_ridge: Option<f64>,
}
