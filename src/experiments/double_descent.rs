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
//! **Test predictions.** A ridge change must not touch the features again. Model-wise, the
//! dual sizes keep the test–train cross Gram K_test,p = Φ_test,pΦ_pᵀ (n_test × n, f32),
//! accumulated across sizes like K (n_test·n·p_max multiply-adds once per seed), so that their
//! test predictions are K_test,p·α: O(n_test·n) per size instead of O(n_test·p). The primal
//! sizes (p < n) use the first columns of Φ_test directly, in blocked GEMMs that skip the zero
//! rows of a_p. Sample-wise, every size predicts with Φ_test·a_p (all p features), a_p = Φ_nᵀα
//! for the dual ones. A re-fit therefore costs, per size, O(m) for the solve, O(m²) for Q, and
//! O(n_test·m) for the predictions. Labels are kept as separate components (linear part,
//! nonlinear part, noise) projected once, so the noise and teacher settings re-fit as cheaply
//! as the ridge.
//!
//! **Ridgeless fits.** λ = 0 is computed as the ridge ρ = τ = m·ε·‖A‖_F (ε the f64 machine
//! epsilon), the rounding level of the reduction: it equals the pseudo-inverse (minimum-norm)
//! solution to relative accuracy τ/λ_i in every direction whose eigenvalue λ_i is above the
//! rounding level, and bounds the solution where there is none. Any ρ below τ is raised to τ.
//!
//! **Cost** per seed at n = 300, d = 100, 41 sizes up to p = 10n, 1,000 test points: features
//! (n + n_test)·d·p_max ≈ 3.9e8 f32 multiply-adds; the f64 Gram accumulation n²·p_max ≈ 2.7e8;
//! the cross Grams n_test·n·p_max ≈ 9e8 (f32); 21 dual reductions of 300 × 300 (4/3·m³ flops
//! each) and the smaller primal ones — the reductions dominate. Memory ≈ 40 MB per seed
//! ([`DoubleDescentConfig::memory_bytes`]). Timings: `benches/double_descent.rs`.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::backend::Trans;
use crate::backend::cpu::gemm::Gemm;
use crate::data::digits::{self, Digits};
use crate::data::sphere;
use crate::error::{Error, Result, blame, in_range};
use crate::linalg::Tridiagonal;
use crate::linalg::dot;
use crate::rng::Rng;
use crate::theory::mei_montanari::{self, ActivationCoefficients, RfSetting};
use crate::theory::{self, hastie};

/// The most memory one session may use, in bytes.
pub const MEMORY_LIMIT: u64 = 768 * 1024 * 1024;

/// Sub-stream ids of a replicate's seed beyond the sphere data's
/// ([`crate::data::sphere::stream`], which the trained-network sweep draws from too).
mod stream {
    /// The digits' label noise draws from the stream of the sphere data's noise.
    pub use crate::data::sphere::stream::NOISE;
    pub const FEATURES: u64 = 14;
    pub const SPLIT: u64 = 16;
}

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

/// The allowed range of each numeric setting, inclusive.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub n_train: [f64; 2],
    pub n_features: [f64; 2],
    pub dim: [f64; 2],
    pub n_test: [f64; 2],
    pub signal: [f64; 2],
    pub nonlinear: [f64; 2],
    pub noise: [f64; 2],
    pub ridge: [f64; 2],
    pub sizes: [f64; 2],
    pub ratio_min: [f64; 2],
    pub ratio_max: [f64; 2],
    pub seeds: [f64; 2],
    /// The largest Gram side min(n, p) any size may have (the O(m³) reduction per size).
    pub max_factor_dim: usize,
    pub memory_limit_bytes: u64,
}

pub const LIMITS: Limits = Limits {
    n_train: [4.0, 1000.0],
    n_features: [4.0, 1000.0],
    dim: [2.0, 1000.0],
    n_test: [10.0, 5000.0],
    signal: [0.0, 100.0],
    nonlinear: [0.0, 100.0],
    noise: [0.0, 10.0],
    ridge: [0.0, 1e6],
    sizes: [3.0, 101.0],
    ratio_min: [0.01, 1.0],
    ratio_max: [1.0, 20.0],
    seeds: [1.0, 20.0],
    max_factor_dim: 1000,
    memory_limit_bytes: MEMORY_LIMIT,
};

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
        let test_side = match self.sweep {
            Sweep::Samples => n_test * p_max,
            Sweep::Features => {
                let dual = grid.iter().filter(|s| s.is_dual()).count() as u64;
                let p_primal = grid
                    .iter()
                    .filter(|s| !s.is_dual())
                    .map(|s| s.p as u64)
                    .max()
                    .unwrap_or(0);
                n_test * (p_primal + n_max * dual)
            }
        };
        let features = 4 * (n_max * p_max + test_side);
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

    /// Checks every setting against [`LIMITS`], the work per size and the memory estimate.
    pub fn validate(&self, memory_limit: u64) -> Result<()> {
        let l = &LIMITS;
        in_range("nTrain", self.n_train as f64, l.n_train)?;
        in_range("nFeatures", self.n_features as f64, l.n_features)?;
        if self.data == DataSource::Sphere {
            in_range("dim", self.dim as f64, l.dim)?;
        }
        in_range("nTest", self.n_test as f64, l.n_test)?;
        in_range("signal", self.signal, l.signal)?;
        in_range("nonlinear", self.nonlinear, l.nonlinear)?;
        in_range("noise", self.noise, l.noise)?;
        in_range("ridge", self.ridge, l.ridge)?;
        in_range("sizes", self.sizes as f64, l.sizes)?;
        in_range("ratioMin", self.ratio_min, l.ratio_min)?;
        in_range("ratioMax", self.ratio_max, l.ratio_max)?;
        in_range("seeds", self.seeds as f64, l.seeds)?;
        let grid = self.grid();
        let biggest = grid.iter().map(Size::factor_dim).max().unwrap_or(0);
        if biggest > l.max_factor_dim {
            return Err(Error::config(
                "nTrain",
                format!(
                    "the largest Gram matrix would be {biggest} × {biggest}, more than {} × {}; lower n or p",
                    l.max_factor_dim, l.max_factor_dim
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

    /// Weights of the label components (see [`Components`]) for the current settings.
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

// ---------------------------------------------------------------------------------------------
// Data, labels and features of one replicate
// ---------------------------------------------------------------------------------------------

/// The labels as a weighted sum of fixed components, so that the noise and teacher settings
/// re-fit without redrawing anything. Sphere data: [linear part, He₂ part, noise]; digits:
/// [one-hot, noise]. Weights: [`DoubleDescentConfig::component_weights`].
#[derive(Clone, Debug)]
struct Components {
    /// Per component: `n_max × outputs` training values, row-major.
    train: Vec<Vec<f64>>,
    /// Per component: `n_test × outputs` values on the test set (the noise component is 0).
    test: Vec<Vec<f64>>,
}

impl Components {
    fn combine(parts: &[Vec<f64>], weights: &[f64], len: usize) -> Vec<f64> {
        let mut out = vec![0.0; len];
        for (part, &w) in parts.iter().zip(weights) {
            if w != 0.0 {
                out.iter_mut()
                    .zip(&part[..len])
                    .for_each(|(o, &v)| *o += w * v);
            }
        }
        out
    }
}

/// The inputs and label components of one replicate.
struct DrawnData {
    /// `n_max × d`.
    x_train: Vec<f32>,
    /// `n_test × d`.
    x_test: Vec<f32>,
    components: Components,
    /// Classes of the test points (digits).
    test_labels: Option<Vec<u8>>,
}

fn draw_sphere(cfg: &DoubleDescentConfig, seed: u64, n_max: usize) -> DrawnData {
    let draw = sphere::draw(seed, cfg.dim, n_max, cfg.n_test);
    DrawnData {
        x_train: draw.x_train,
        x_test: draw.x_test,
        components: Components {
            train: vec![draw.train.linear, draw.train.he2, draw.noise],
            test: vec![draw.test.linear, draw.test.he2, vec![0.0; cfg.n_test]],
        },
        test_labels: None,
    }
}

fn draw_digits(
    cfg: &DoubleDescentConfig,
    seed: u64,
    n_max: usize,
    data: &Digits,
) -> Result<DrawnData> {
    let d = digits::PIXELS;
    let k = digits::CLASSES;
    let split = data.split(n_max, cfg.n_test, &mut Rng::stream(seed, stream::SPLIT))?;
    let raw = |idx: &[usize]| -> Vec<f64> {
        idx.iter()
            .flat_map(|&i| data.image(i).iter().map(|&v| v as f64 / 16.0))
            .collect()
    };
    let (train, test) = (raw(&split.train), raw(&split.test));
    let mut mean = vec![0.0; d];
    for row in train.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= n_max as f64);
    let mean_sq: f64 = train
        .chunks_exact(d)
        .map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(v, m)| (v - m).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n_max as f64;
    // Scale so that the mean ‖x‖² over the training set is d, as for the sphere data.
    let scale = (d as f64 / mean_sq.max(f64::MIN_POSITIVE)).sqrt();
    let prep = |x: &[f64]| -> Vec<f32> {
        x.chunks_exact(d)
            .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| ((v - m) * scale) as f32))
            .collect()
    };
    let one_hot = |idx: &[usize]| -> Vec<f64> {
        let mut y = vec![0.0; idx.len() * k];
        for (r, &i) in idx.iter().enumerate() {
            y[r * k + data.labels[i] as usize] = 1.0;
        }
        y
    };
    let mut noise_rng = Rng::stream(seed, stream::NOISE);
    let noise: Vec<f64> = (0..n_max * k).map(|_| noise_rng.normal()).collect();
    Ok(DrawnData {
        x_train: prep(&train),
        x_test: prep(&test),
        components: Components {
            train: vec![one_hot(&split.train), noise],
            test: vec![one_hot(&split.test), vec![0.0; cfg.n_test * k]],
        },
        test_labels: Some(split.test.iter().map(|&i| data.labels[i]).collect()),
    })
}

/// The frozen first layer: `weights` is `d × p_max` (column j is w_j), `phase` the Fourier
/// phases.
struct FirstLayer {
    weights: Vec<f32>,
    phase: Vec<f32>,
}

fn draw_first_layer(kind: FeatureMap, d: usize, p_max: usize, seed: u64) -> FirstLayer {
    let mut rng = Rng::stream(seed, stream::FEATURES);
    let mut weights = vec![0.0f32; d * p_max];
    let mut phase = Vec::new();
    let mut w = vec![0.0f64; d];
    for j in 0..p_max {
        w.iter_mut().for_each(|v| *v = rng.normal());
        let scale = match kind {
            FeatureMap::Relu => 1.0 / dot(&w, &w).sqrt(),
            FeatureMap::Fourier => 1.0 / (d as f64).sqrt(),
        };
        for (k, &v) in w.iter().enumerate() {
            weights[k * p_max + j] = (v * scale) as f32;
        }
        if kind == FeatureMap::Fourier {
            phase.push(rng.uniform_in(0.0, 2.0 * std::f64::consts::PI) as f32);
        }
    }
    FirstLayer { weights, phase }
}

/// φ(xW) for `x` of shape `rows × d`: `rows × p_max`, row-major.
fn features(
    gemm: &mut Gemm,
    kind: FeatureMap,
    x: &[f32],
    rows: usize,
    d: usize,
    layer: &FirstLayer,
    p_max: usize,
) -> Vec<f32> {
    let mut z = vec![0.0f32; rows * p_max];
    gemm.run(
        Trans::N,
        Trans::N,
        rows,
        p_max,
        d,
        1.0,
        x,
        d,
        &layer.weights,
        p_max,
        0.0,
        &mut z,
        p_max,
    );
    match kind {
        FeatureMap::Relu => z.iter_mut().for_each(|v| *v = v.max(0.0)),
        FeatureMap::Fourier => {
            let s = std::f32::consts::SQRT_2;
            for row in z.chunks_exact_mut(p_max) {
                row.iter_mut()
                    .zip(&layer.phase)
                    .for_each(|(v, &b)| *v = s * (*v + b).cos());
            }
        }
    }
    z
}

// ---------------------------------------------------------------------------------------------
// Gram matrices and the per-size factorisations
// ---------------------------------------------------------------------------------------------

/// `phi[rows, cols]` (row-major f32 with row length `ld`) as an f64 matrix.
fn block_f64(
    phi: &[f32],
    ld: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> DMatrix<f64> {
    let (r0, c0) = (rows.start, cols.start);
    DMatrix::from_fn(rows.len(), cols.len(), |i, j| {
        phi[(r0 + i) * ld + c0 + j] as f64
    })
}

/// Rows `rows` of a row-major `· × k` f64 array as a matrix.
fn rows_f64(y: &[f64], k: usize, rows: std::ops::Range<usize>) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), k, |i, c| y[(rows.start + i) * k + c])
}

/// The leading m × m block of a symmetric matrix, as a row-major Vec.
fn leading_block(a: &DMatrix<f64>, m: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(m * m);
    for i in 0..m {
        // Column i of a symmetric matrix is its row i.
        out.extend_from_slice(&a.column(i).as_slice()[..m]);
    }
    out
}

/// A matrix (column-major) as a row-major Vec.
fn row_major(a: &DMatrix<f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.nrows() {
        out.extend(a.row(i).iter());
    }
    out
}

/// `c += a·aᵀ` on the upper triangle only (rows ≤ columns; the rest of `c` is left as it is):
/// `a` is `m × r` and `a_t` its transpose. The rows go in `UPPER_BLOCKS` bands, each multiplied
/// against the columns from its own first row on, which does (B + 1)/2B of the full product's
/// work (58 % for B = 6). Readers of `c` take the upper triangle ([`symmetric_row_major`]).
fn accumulate_upper(c: &mut DMatrix<f64>, a: &DMatrix<f64>, a_t: &DMatrix<f64>) {
    const UPPER_BLOCKS: usize = 6;
    let m = c.nrows();
    let band = m.div_ceil(UPPER_BLOCKS).max(1);
    for i0 in (0..m).step_by(band) {
        let rows = band.min(m - i0);
        let mut view = c.view_mut((i0, i0), (rows, m - i0));
        view.gemm(1.0, &a.rows(i0, rows), &a_t.columns(i0, m - i0), 1.0);
    }
}

/// A symmetric matrix given by its upper triangle (column-major) as a full row-major Vec.
fn symmetric_row_major(a: &DMatrix<f64>) -> Vec<f64> {
    let m = a.nrows();
    let mut out = vec![0.0; m * m];
    for j in 0..m {
        let col = a.column(j);
        for i in 0..=j {
            let v = col[i];
            out[i * m + j] = v;
            out[j * m + i] = v;
        }
    }
    out
}

/// One size's factorisation and projected labels.
#[derive(Clone, Debug)]
struct SizeFit {
    size: Size,
    tri: Tridiagonal,
    /// Per label component: Qᵀb (`m × outputs`), b = y (dual) or Φ_pᵀy (primal).
    proj: Vec<Vec<f64>>,
    /// ⟨y_i, y_j⟩ over the size's n training rows, components i, j (`J × J`).
    y_gram: Vec<f64>,
    /// The smallest ridge used: m·ε·‖A‖_F.
    cutoff: f64,
}

fn make_fit(
    size: Size,
    a: Vec<f64>,
    mut b: Vec<Vec<f64>>,
    y_gram: Vec<f64>,
    outputs: usize,
) -> SizeFit {
    let m = size.factor_dim();
    let fro = dot(&a, &a).sqrt();
    let cutoff = m as f64 * f64::EPSILON * fro;
    let tri = Tridiagonal::new(a, m);
    for part in &mut b {
        tri.apply_qt(part, outputs);
    }
    SizeFit {
        size,
        tri,
        proj: b,
        y_gram,
        cutoff,
    }
}

/// ⟨y_i[rows], y_j[rows]⟩ for all component pairs.
fn component_gram(train: &[Vec<f64>], k: usize, rows: usize) -> Vec<f64> {
    let j = train.len();
    let mut g = vec![0.0; j * j];
    for a in 0..j {
        for b in 0..j {
            g[a * j + b] = dot(&train[a][..rows * k], &train[b][..rows * k]);
        }
    }
    g
}

/// Factorises every size of the grid for one replicate (see the module documentation).
fn fit_sizes(
    grid: &[Size],
    phi: &[f32],
    p_max: usize,
    comps: &Components,
    k: usize,
    sweep: Sweep,
) -> Vec<SizeFit> {
    let mut fits: Vec<Option<SizeFit>> = vec![None; grid.len()];
    match sweep {
        Sweep::Features => {
            let n = grid[0].n;
            let ys: Vec<DMatrix<f64>> = comps.train.iter().map(|y| rows_f64(y, k, 0..n)).collect();
            let y_gram = component_gram(&comps.train, k, n);
            // Primal sizes (p < n): leading blocks of one p × p Gram.
            if let Some(p_pm) = grid.iter().filter(|s| !s.is_dual()).map(|s| s.p).max() {
                let phi_pm = block_f64(phi, p_max, 0..n, 0..p_pm);
                let phi_pm_t = phi_pm.transpose();
                let g = &phi_pm_t * &phi_pm;
                let b: Vec<DMatrix<f64>> = ys.iter().map(|y| &phi_pm_t * y).collect();
                for (i, s) in grid.iter().enumerate().filter(|(_, s)| !s.is_dual()) {
                    let parts = b
                        .iter()
                        .map(|bj| row_major(&bj.rows(0, s.p).into_owned()))
                        .collect();
                    fits[i] = Some(make_fit(
                        *s,
                        leading_block(&g, s.p),
                        parts,
                        y_gram.clone(),
                        k,
                    ));
                }
            }
            // Dual sizes (p ≥ n): K accumulates as feature columns are added.
            let mut gram = DMatrix::<f64>::zeros(n, n);
            let mut p_done = 0;
            let y_parts: Vec<Vec<f64>> = ys.iter().map(row_major).collect();
            for (i, s) in grid.iter().enumerate().filter(|(_, s)| s.is_dual()) {
                if s.p > p_done {
                    let blk = block_f64(phi, p_max, 0..n, p_done..s.p);
                    accumulate_upper(&mut gram, &blk, &blk.transpose());
                    p_done = s.p;
                }
                fits[i] = Some(make_fit(
                    *s,
                    symmetric_row_major(&gram),
                    y_parts.clone(),
                    y_gram.clone(),
                    k,
                ));
            }
        }
        Sweep::Samples => {
            let p = grid[0].p;
            // Dual sizes (n ≤ p): leading blocks of one n × n Gram.
            if let Some(n_dm) = grid.iter().filter(|s| s.is_dual()).map(|s| s.n).max() {
                let phi_dm = block_f64(phi, p_max, 0..n_dm, 0..p);
                let kmat = &phi_dm * phi_dm.transpose();
                for (i, s) in grid.iter().enumerate().filter(|(_, s)| s.is_dual()) {
                    let parts = comps.train.iter().map(|y| y[..s.n * k].to_vec()).collect();
                    let y_gram = component_gram(&comps.train, k, s.n);
                    fits[i] = Some(make_fit(*s, leading_block(&kmat, s.n), parts, y_gram, k));
                }
            }
            // Primal sizes (n > p): G and Φᵀy accumulate as training rows are added.
            let mut gram = DMatrix::<f64>::zeros(p, p);
            let mut b: Vec<DMatrix<f64>> =
                comps.train.iter().map(|_| DMatrix::zeros(p, k)).collect();
            let mut n_done = 0;
            for (i, s) in grid.iter().enumerate().filter(|(_, s)| !s.is_dual()) {
                if s.n > n_done {
                    let blk = block_f64(phi, p_max, n_done..s.n, 0..p);
                    let blk_t = blk.transpose();
                    accumulate_upper(&mut gram, &blk_t, &blk);
                    for (bj, y) in b.iter_mut().zip(&comps.train) {
                        bj.gemm(1.0, &blk_t, &rows_f64(y, k, n_done..s.n), 1.0);
                    }
                    n_done = s.n;
                }
                let parts = b.iter().map(row_major).collect();
                let y_gram = component_gram(&comps.train, k, s.n);
                fits[i] = Some(make_fit(*s, symmetric_row_major(&gram), parts, y_gram, k));
            }
        }
    }
    fits.into_iter()
        .map(|f| f.expect("every size is dual or primal"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Batched predictions
// ---------------------------------------------------------------------------------------------

/// The shortest span of the inner dimension one product of the batched predictions covers:
/// neighbouring sizes are merged into segments at least this long, so that a sweep takes a
/// few large products instead of one small one per size (the zero rows a merged segment
/// includes cost a little arithmetic, far less than re-reading the output per size).
const MIN_SEGMENT: usize = 64;

/// Splits [0, ℓ_last) at the ascending prefixes ℓ_b into segments of at least `min_len`
/// (except possibly the last), as (start, end, first block b with ℓ_b > start).
fn segments(prefixes: &[usize], min_len: usize) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let last = prefixes.last().copied().unwrap_or(0);
    for &p in prefixes {
        if p >= start + min_len || (p == last && p > start) {
            let first = prefixes
                .iter()
                .position(|&l| l > start)
                .unwrap_or(prefixes.len());
            out.push((start, p, first));
            start = p;
        }
    }
    out
}

/// For blocks b = 0.. of `k` columns with ascending prefixes ℓ_b:
/// `out[:, b·k..(b+1)·k] = op(M)[:, :ℓ_b] · B[:ℓ_b, b·k..(b+1)·k]`, skipping most of the zero
/// parts. B must hold zeros in rows ℓ_b.. of block b. op(M) is `rows × L`: M stored `rows × L`
/// (`Trans::N`) or `L × rows` (`Trans::T`), leading dimension `ld_m`; B is `L × blocks·k`
/// (leading dimension `ld_b`); out is `rows × blocks·k` (leading dimension `ld_out`).
fn gemm_inner_prefix(
    gemm: &mut Gemm,
    m: &[f32],
    ld_m: usize,
    trans: Trans,
    rows: usize,
    prefixes: &[usize],
    k: usize,
    b: &[f32],
    ld_b: usize,
    out: &mut [f32],
    ld_out: usize,
) {
    for (i, (start, end, first)) in segments(prefixes, MIN_SEGMENT).into_iter().enumerate() {
        let a_off = match trans {
            Trans::N => start,
            Trans::T => start * ld_m,
        };
        gemm.run(
            trans,
            Trans::N,
            rows,
            (prefixes.len() - first) * k,
            end - start,
            1.0,
            &m[a_off..],
            ld_m,
            &b[start * ld_b + first * k..],
            ld_b,
            if i == 0 { 0.0 } else { 1.0 },
            &mut out[first * k..],
            ld_out,
        );
    }
}

/// Zeroes rows ℓ_b.. (of `total`) of every block b of `k` columns in a row-major array with
/// leading dimension `ld`, blocks starting at column `col`.
fn zero_past_prefixes(
    buf: &mut [f32],
    ld: usize,
    total: usize,
    prefixes: &[usize],
    k: usize,
    col: usize,
) {
    for (b, &l) in prefixes.iter().enumerate() {
        for row in l..total {
            buf[row * ld + col + b * k..row * ld + col + (b + 1) * k].fill(0.0);
        }
    }
}

/// The model-wise test side of a replicate: (the first p_primal columns of Φ_test, p_primal,
/// the cross Grams Φ_test[:, :p_b]Φ[:, :p_b]ᵀ of the dual sizes b, accumulated in f32 as the
/// feature columns are added: n_test·n·p_max multiply-adds in all).
fn test_cross_grams(
    gemm: &mut Gemm,
    grid: &[Size],
    phi: &[f32],
    phi_test: &[f32],
    n_test: usize,
    p_max: usize,
) -> (Vec<f32>, usize, Vec<f32>) {
    let n = grid.first().map_or(0, |s| s.n);
    let dual_p: Vec<usize> = grid.iter().filter(|s| s.is_dual()).map(|s| s.p).collect();
    let p_primal = grid
        .iter()
        .filter(|s| !s.is_dual())
        .map(|s| s.p)
        .max()
        .unwrap_or(0);
    let block = n_test * n;
    let mut k_test = vec![0.0f32; dual_p.len() * block];
    let mut done = 0;
    for (b, &p) in dual_p.iter().enumerate() {
        let (before, rest) = k_test.split_at_mut(b * block);
        let out = &mut rest[..block];
        let beta = if b == 0 {
            0.0
        } else {
            out.copy_from_slice(&before[(b - 1) * block..]);
            1.0
        };
        gemm.run(
            Trans::N,
            Trans::T,
            n_test,
            n,
            p - done,
            1.0,
            &phi_test[done..],
            p_max,
            &phi[done..],
            p_max,
            beta,
            out,
            n,
        );
        done = p;
    }
    let compact = phi_test
        .chunks_exact(p_max)
        .flat_map(|row| row[..p_primal].iter().copied())
        .collect();
    (compact, p_primal, k_test)
}

/// Reusable buffers for a re-fit.
#[derive(Default)]
struct Workspace {
    gemm: Gemm,
    /// Fitted second-layer weights of every size, `p_max × sizes·k` (f32).
    a: Vec<f32>,
    /// Dual coefficients α of the dual sizes, `n_max × dual sizes·k` (f32).
    alpha: Vec<f32>,
    /// Test predictions of every size, `n_test × sizes·k` (f32).
    f_test: Vec<f32>,
}

// ---------------------------------------------------------------------------------------------
// One replicate
// ---------------------------------------------------------------------------------------------

/// Train and test errors of every size for one replicate.
#[derive(Clone, Debug, Default, PartialEq)]
struct Errors {
    train_mse: Vec<f64>,
    test_mse: Vec<f64>,
    norm: Vec<f64>,
    test_error: Vec<f64>,
}

struct Replicate {
    seed: u64,
    /// `n_max × p_max` training features.
    phi: Vec<f32>,
    /// Test features, `n_test × ld_test`: all p_max columns (sample-wise), or the first
    /// columns that the primal sizes use (model-wise).
    phi_test: Vec<f32>,
    ld_test: usize,
    /// Model-wise: for each dual size b (ascending), the test–train cross Gram
    /// Φ_test[:, :p_b]·Φ[:, :p_b]ᵀ (`n_test × n`, f32), accumulated like K, so that the test
    /// predictions of a dual size are one product K_test,b·α_b.
    k_test: Vec<f32>,
    components: Components,
    test_labels: Option<Vec<u8>>,
    fits: Vec<SizeFit>,
    errors: Errors,
}

/// The label-independent part of a re-fit for one size: z = (T + ρ)⁻¹c and its train SSE and
/// squared weight norm.
struct Solved {
    z: Vec<f64>,
    train_sse: f64,
    norm_sq: f64,
}

impl SizeFit {
    fn solve(&self, weights: &[f64], rho: f64, k: usize) -> Solved {
        let m = self.size.factor_dim();
        let c = Components::combine(&self.proj, weights, m * k);
        let rho = rho.max(self.cutoff);
        let mut z = c.clone();
        self.tri.solve_shifted(rho, &mut z, k, self.cutoff);
        let z_t_z = self.tri.quadratic_form(&z, k);
        let (train_sse, norm_sq) = if self.size.is_dual() {
            // y − Kα = ρα, so the residual is ρ·Qz.
            (rho * rho * dot(&z, &z), z_t_z)
        } else {
            let j = weights.len();
            let mut y_sq = 0.0;
            for a in 0..j {
                for b in 0..j {
                    y_sq += weights[a] * weights[b] * self.y_gram[a * j + b];
                }
            }
            ((y_sq - 2.0 * dot(&z, &c) + z_t_z).max(0.0), dot(&z, &z))
        };
        Solved {
            z,
            train_sse,
            norm_sq,
        }
    }
}

impl Replicate {
    fn new(
        cfg: &DoubleDescentConfig,
        grid: &[Size],
        index: usize,
        digits_data: Option<&Digits>,
        gemm: &mut Gemm,
    ) -> Result<Self> {
        let seed = cfg.seed.wrapping_add(index as u64);
        let (n_max, p_max) = cfg.extent();
        let drawn = match cfg.data {
            DataSource::Sphere => draw_sphere(cfg, seed, n_max),
            DataSource::Digits => {
                let data = digits_data.ok_or_else(|| {
                    Error::config("data", "the digits data set has not been loaded")
                })?;
                draw_digits(cfg, seed, n_max, data)?
            }
        };
        let d = cfg.input_dim();
        let layer = draw_first_layer(cfg.features, d, p_max, seed);
        let phi = features(gemm, cfg.features, &drawn.x_train, n_max, d, &layer, p_max);
        let phi_test = features(
            gemm,
            cfg.features,
            &drawn.x_test,
            cfg.n_test,
            d,
            &layer,
            p_max,
        );
        let fits = fit_sizes(
            grid,
            &phi,
            p_max,
            &drawn.components,
            cfg.outputs(),
            cfg.sweep,
        );
        let (phi_test, ld_test, k_test) = match cfg.sweep {
            Sweep::Samples => (phi_test, p_max, Vec::new()),
            Sweep::Features => test_cross_grams(gemm, grid, &phi, &phi_test, cfg.n_test, p_max),
        };
        Ok(Replicate {
            seed,
            phi,
            phi_test,
            ld_test,
            k_test,
            components: drawn.components,
            test_labels: drawn.test_labels,
            fits,
            errors: Errors::default(),
        })
    }

    /// Re-computes every size's errors from the cached factorisations.
    fn refit(&mut self, cfg: &DoubleDescentConfig, grid: &[Size], ws: &mut Workspace) {
        let k = cfg.outputs();
        let weights = cfg.component_weights();
        let (n_max, p_max) = cfg.extent();
        let s = grid.len();
        let dual: Vec<usize> = (0..s).filter(|&i| grid[i].is_dual()).collect();
        let first_dual = dual.first().copied().unwrap_or(s);
        let (ld_a, ld_alpha) = (s * k, dual.len().max(1) * k);
        ws.a.resize(p_max * ld_a, 0.0);
        ws.alpha.resize(n_max * ld_alpha, 0.0);
        ws.f_test.resize(cfg.n_test * ld_a, 0.0);
        let mut errors = Errors {
            train_mse: vec![0.0; s],
            test_mse: vec![0.0; s],
            norm: vec![0.0; s],
            test_error: Vec::new(),
        };
        for (i, fit) in self.fits.iter().enumerate() {
            let size = fit.size;
            let solved = fit.solve(&weights, cfg.raw_ridge(size, cfg.ridge), k);
            errors.train_mse[i] = solved.train_sse / size.n as f64;
            errors.norm[i] = solved.norm_sq.max(0.0).sqrt();
            let mut x = solved.z;
            fit.tri.apply_q(&mut x, k);
            let (buf, ld, col) = if size.is_dual() {
                (&mut ws.alpha, ld_alpha, (i - first_dual) * k)
            } else {
                (&mut ws.a, ld_a, i * k)
            };
            for (r, row) in x.chunks_exact(k).enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    buf[r * ld + col + c] = v as f32;
                }
            }
        }
        match cfg.sweep {
            Sweep::Features => {
                // Primal sizes: Φ_test[:, :p]·a (a is zero past row p).
                let primal: Vec<usize> = grid[..first_dual].iter().map(|s| s.p).collect();
                if !primal.is_empty() {
                    zero_past_prefixes(&mut ws.a, ld_a, self.ld_test, &primal, k, 0);
                    gemm_inner_prefix(
                        &mut ws.gemm,
                        &self.phi_test,
                        self.ld_test,
                        Trans::N,
                        cfg.n_test,
                        &primal,
                        k,
                        &ws.a,
                        ld_a,
                        &mut ws.f_test,
                        ld_a,
                    );
                }
                // Dual sizes: K_test,b·α_b.
                let block = cfg.n_test * n_max;
                for b in 0..dual.len() {
                    ws.gemm.run(
                        Trans::N,
                        Trans::N,
                        cfg.n_test,
                        k,
                        n_max,
                        1.0,
                        &self.k_test[b * block..(b + 1) * block],
                        n_max,
                        &ws.alpha[b * k..],
                        ld_alpha,
                        0.0,
                        &mut ws.f_test[(first_dual + b) * k..],
                        ld_a,
                    );
                }
            }
            Sweep::Samples => {
                // Second-layer weights of the dual sizes: a = Φ[:n, :]ᵀα (α zero past row n).
                if !dual.is_empty() {
                    let prefixes: Vec<usize> = dual.iter().map(|&i| grid[i].n).collect();
                    zero_past_prefixes(&mut ws.alpha, ld_alpha, n_max, &prefixes, k, 0);
                    gemm_inner_prefix(
                        &mut ws.gemm,
                        &self.phi,
                        p_max,
                        Trans::T,
                        p_max,
                        &prefixes,
                        k,
                        &ws.alpha,
                        ld_alpha,
                        &mut ws.a[first_dual * k..],
                        ld_a,
                    );
                }
                // Test predictions: every size uses all p features.
                let all_p: Vec<usize> = grid.iter().map(|s| s.p).collect();
                gemm_inner_prefix(
                    &mut ws.gemm,
                    &self.phi_test,
                    p_max,
                    Trans::N,
                    cfg.n_test,
                    &all_p,
                    k,
                    &ws.a,
                    ld_a,
                    &mut ws.f_test,
                    ld_a,
                );
            }
        }
        let y_test = Components::combine(&self.components.test, &weights, cfg.n_test * k);
        for (i, mse) in errors.test_mse.iter_mut().enumerate() {
            let mut sse = 0.0;
            for (row, y) in ws.f_test.chunks_exact(ld_a).zip(y_test.chunks_exact(k)) {
                sse += row[i * k..(i + 1) * k]
                    .iter()
                    .zip(y)
                    .map(|(&f, &y)| (f as f64 - y).powi(2))
                    .sum::<f64>();
            }
            *mse = sse / cfg.n_test as f64;
        }
        if let Some(labels) = &self.test_labels {
            errors.test_error = (0..s)
                .map(|i| {
                    let wrong = ws
                        .f_test
                        .chunks_exact(ld_a)
                        .zip(labels)
                        .filter(|(row, label)| {
                            let out = &row[i * k..(i + 1) * k];
                            let best = (0..k).fold(0, |b, c| if out[c] > out[b] { c } else { b });
                            best != **label as usize
                        })
                        .count();
                    wrong as f64 / labels.len() as f64
                })
                .collect();
        }
        self.errors = errors;
    }
}

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

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

/// One double-descent session: replicates are computed one at a time ([`DoubleDescent::advance`]),
/// and the ridge, noise and teacher settings re-fit from the cached factorisations.
pub struct DoubleDescent {
    config: DoubleDescentConfig,
    grid: Vec<Size>,
    digits: Option<Digits>,
    replicates: Vec<Replicate>,
    ws: Workspace,
}

impl DoubleDescent {
    /// A session; nothing is computed until [`DoubleDescent::advance`]. `digits` is needed for
    /// [`DataSource::Digits`].
    pub fn new(config: DoubleDescentConfig, digits: Option<&Digits>) -> Result<Self> {
        Self::with_memory_limit(config, digits, MEMORY_LIMIT)
    }

    /// As [`DoubleDescent::new`] with another memory limit.
    pub fn with_memory_limit(
        config: DoubleDescentConfig,
        digits: Option<&Digits>,
        memory_limit: u64,
    ) -> Result<Self> {
        config.validate(memory_limit)?;
        if config.data == DataSource::Digits && digits.is_none() {
            return Err(Error::config(
                "data",
                "the digits data set has not been loaded",
            ));
        }
        Ok(DoubleDescent {
            grid: config.grid(),
            config,
            digits: digits.cloned(),
            replicates: Vec::new(),
            ws: Workspace::default(),
        })
    }

    pub fn config(&self) -> &DoubleDescentConfig {
        &self.config
    }

    pub fn grid(&self) -> &[Size] {
        &self.grid
    }

    pub fn seeds_done(&self) -> usize {
        self.replicates.len()
    }

    pub fn is_done(&self) -> bool {
        self.replicates.len() >= self.config.seeds
    }

    /// Computes the next replicate (features, factorisations, errors). Returns whether all
    /// seeds are done.
    pub fn advance(&mut self) -> Result<bool> {
        if !self.is_done() {
            let index = self.replicates.len();
            let mut rep = Replicate::new(
                &self.config,
                &self.grid,
                index,
                self.digits.as_ref(),
                &mut self.ws.gemm,
            )?;
            rep.refit(&self.config, &self.grid, &mut self.ws);
            self.replicates.push(rep);
        }
        Ok(self.is_done())
    }

    /// Computes every remaining replicate.
    pub fn run(&mut self) -> Result<()> {
        while !self.advance()? {}
        Ok(())
    }

    fn refit_all(&mut self) {
        for rep in &mut self.replicates {
            rep.refit(&self.config, &self.grid, &mut self.ws);
        }
    }

    /// Re-fits every size of every finished replicate at ridge λ (no refactorisation).
    pub fn set_ridge(&mut self, ridge: f64) -> Result<()> {
        in_range("ridge", ridge, LIMITS.ridge)?;
        self.config.ridge = ridge;
        self.refit_all();
        Ok(())
    }

    /// Re-fits at label-noise standard deviation σ (the same noise draws, rescaled).
    pub fn set_noise(&mut self, noise: f64) -> Result<()> {
        in_range("noise", noise, LIMITS.noise)?;
        self.config.noise = noise;
        self.refit_all();
        Ok(())
    }

    /// Re-fits with another teacher (sphere data).
    pub fn set_teacher(&mut self, teacher: Teacher) -> Result<()> {
        self.config.teacher = teacher;
        self.refit_all();
        Ok(())
    }

    /// Changes the number of seeds: fewer drops the last replicates, more leaves the finished
    /// ones as they are (replicate s always uses seed `seed + s`) for
    /// [`DoubleDescent::advance`] to add.
    pub fn set_seeds(&mut self, seeds: usize) -> Result<()> {
        let mut next = self.config.clone();
        next.seeds = seeds;
        next.validate(MEMORY_LIMIT)?;
        self.config.seeds = seeds;
        self.replicates.truncate(seeds);
        Ok(())
    }

    /// The numbers of every panel for the finished replicates.
    pub fn report(&self) -> Report {
        let cfg = &self.config;
        let k = cfg.outputs();
        let rows = |f: fn(&Errors) -> &Vec<f64>| -> Vec<&[f64]> {
            self.replicates
                .iter()
                .map(|r| f(&r.errors).as_slice())
                .collect()
        };
        let ratio: Vec<f64> = self
            .grid
            .iter()
            .map(|s| match cfg.sweep {
                Sweep::Features => s.p as f64 / s.n as f64,
                Sweep::Samples => s.n as f64 / s.p as f64,
            })
            .collect();
        let threshold_index = (0..ratio.len())
            .min_by(|&a, &b| ratio[a].ln().abs().total_cmp(&ratio[b].ln().abs()))
            .unwrap_or(0);
        let threshold_params = match cfg.sweep {
            Sweep::Features => cfg.n_train * k,
            Sweep::Samples => cfg.n_features * k,
        };
        let (theory, kernel_limit, optimal) = self.theory();
        Report {
            sweep: cfg.sweep,
            sizes: self.grid.clone(),
            params: self.grid.iter().map(|s| s.p * k).collect(),
            ratio,
            outputs: k,
            threshold_ratio: 1.0,
            threshold_params,
            threshold_index,
            train_mse: Stat::of(&rows(|e| &e.train_mse)),
            test_mse: Stat::of(&rows(|e| &e.test_mse)),
            norm: Stat::of(&rows(|e| &e.norm)),
            test_error: (cfg.data == DataSource::Digits)
                .then(|| Stat::of(&rows(|e| &e.test_error))),
            per_seed: self
                .replicates
                .iter()
                .map(|r| SeedCurves {
                    seed: r.seed,
                    train_mse: r.errors.train_mse.clone(),
                    test_mse: r.errors.test_mse.clone(),
                    norm: r.errors.norm.clone(),
                    test_error: (cfg.data == DataSource::Digits)
                        .then(|| r.errors.test_error.clone()),
                })
                .collect(),
            seeds_done: self.replicates.len(),
            seeds: cfg.seeds,
            ridge: cfg.ridge,
            theory,
            theory_kernel_limit: kernel_limit,
            theory_optimal_ridge: optimal,
        }
    }

    /// The Mei–Montanari setting of a size (ReLU features on the sphere data only).
    pub fn theory_setting(&self, size: Size) -> Option<RfSetting> {
        let cfg = &self.config;
        if cfg.data != DataSource::Sphere || cfg.features != FeatureMap::Relu {
            return None;
        }
        let d = cfg.dim as f64;
        Some(RfSetting {
            psi1: size.p as f64 / d,
            psi2: size.n as f64 / d,
            lambda: cfg.ridge,
            coefficients: ActivationCoefficients::relu(),
            signal: cfg.signal,
            nonlinear: if cfg.teacher == Teacher::Nonlinear {
                cfg.nonlinear
            } else {
                0.0
            },
            noise: cfg.noise * cfg.noise,
        })
    }

    /// (asymptotic risk per size, kernel limit, optimal ridge at the threshold).
    fn theory(&self) -> (Option<Vec<f64>>, Option<f64>, Option<f64>) {
        let Some(first) = self.grid.first().and_then(|&s| self.theory_setting(s)) else {
            return (None, None, None);
        };
        let curve = self
            .grid
            .iter()
            .filter_map(|&s| self.theory_setting(s))
            .map(|s| mei_montanari::risk(&s).risk)
            .collect();
        // The threshold p = n of this sweep.
        let threshold = match self.config.sweep {
            Sweep::Features => RfSetting {
                psi1: first.psi2,
                ..first
            },
            Sweep::Samples => RfSetting {
                psi2: first.psi1,
                ..first
            },
        };
        let kernel =
            (self.config.sweep == Sweep::Features).then(|| mei_montanari::kernel_limit(&first));
        (
            Some(curve),
            kernel,
            Some(mei_montanari::optimal_lambda(&threshold)),
        )
    }

    /// Replicate `index`'s training features: (`n_max × p_max` row-major f32, n_max, p_max).
    pub fn features_train(&self, index: usize) -> Option<(&[f32], usize, usize)> {
        let (n_max, p_max) = self.config.extent();
        self.replicates
            .get(index)
            .map(|r| (r.phi.as_slice(), n_max, p_max))
    }

    /// Replicate `index`'s training labels at the current settings (`n_max × K`, row-major).
    pub fn train_targets(&self, index: usize) -> Option<Vec<f64>> {
        let (n_max, _) = self.config.extent();
        let w = self.config.component_weights();
        self.replicates
            .get(index)
            .map(|r| Components::combine(&r.components.train, &w, n_max * self.config.outputs()))
    }

    /// The seed replicate `index` was drawn from.
    pub fn replicate_seed(&self, index: usize) -> Option<u64> {
        self.replicates.get(index).map(|r| r.seed)
    }

    /// The fitted second-layer weights a (`p × K`, row-major, f64) of size `size` in replicate
    /// `index` at the current ridge, from the cached factorisation, accumulated in f64.
    pub fn coefficients(&self, index: usize, size: usize) -> Option<Vec<f64>> {
        let cfg = &self.config;
        let rep = self.replicates.get(index)?;
        let fit = rep.fits.get(size)?;
        let k = cfg.outputs();
        let solved = fit.solve(
            &cfg.component_weights(),
            cfg.raw_ridge(fit.size, cfg.ridge),
            k,
        );
        let mut x = solved.z;
        fit.tri.apply_q(&mut x, k);
        if !fit.size.is_dual() {
            return Some(x);
        }
        let (_, p_max) = cfg.extent();
        let mut a = vec![0.0; fit.size.p * k];
        for (i, alpha) in x.chunks_exact(k).enumerate() {
            let row = &rep.phi[i * p_max..i * p_max + fit.size.p];
            for (j, &phi) in row.iter().enumerate() {
                for c in 0..k {
                    a[j * k + c] += phi as f64 * alpha[c];
                }
            }
        }
        Some(a)
    }
}

// ---------------------------------------------------------------------------------------------
// The isotropic linear model (Hastie et al.)
// ---------------------------------------------------------------------------------------------

/// Settings of the isotropic-model panel: γ = p/n swept on a log grid at fixed n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IsotropicConfig {
    /// Samples n (for the finite-n curve).
    pub n: usize,
    /// r² = ‖β‖².
    pub signal: f64,
    /// Noise standard deviation σ.
    pub noise: f64,
    /// Ridge λ in (1/n)‖y − Xβ‖² + λ‖β‖².
    pub ridge: f64,
    pub gamma_min: f64,
    pub gamma_max: f64,
    pub points: usize,
}

impl Default for IsotropicConfig {
    fn default() -> Self {
        IsotropicConfig {
            n: 200,
            signal: 1.0,
            noise: 0.5,
            ridge: 0.0,
            gamma_min: 0.1,
            gamma_max: 10.0,
            points: 201,
        }
    }
}

/// The isotropic-model curves (excess risk, i.e. against the noiseless target).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IsotropicReport {
    pub gamma: Vec<f64>,
    /// Asymptotic minimum-norm risk (+∞ at γ = 1 is reported as None).
    pub min_norm: Vec<Option<f64>>,
    /// Exact expectation at this n with p = round(γn), where finite.
    pub min_norm_finite_n: Vec<Option<f64>>,
    /// Asymptotic ridge risk at the configured λ.
    pub ridge: Vec<Option<f64>>,
    /// Asymptotic risk at the optimal ridge λ*(γ) = σ²γ/r².
    pub optimal_ridge: Vec<Option<f64>>,
    /// The null risk r² (predicting 0), for reference.
    pub null_risk: f64,
}

/// The closed-form curves of [`crate::theory::hastie`] on a γ grid.
pub fn isotropic_curves(cfg: &IsotropicConfig) -> Result<IsotropicReport> {
    in_range("n", cfg.n as f64, [4.0, 1e6])?;
    in_range("signal", cfg.signal, [0.0, 100.0])?;
    in_range("noise", cfg.noise, [0.0, 10.0])?;
    in_range("ridge", cfg.ridge, [0.0, 1e6])?;
    in_range("gammaMin", cfg.gamma_min, [1e-3, 1.0])?;
    in_range("gammaMax", cfg.gamma_max, [1.0, 1e3])?;
    in_range("points", cfg.points as f64, [2.0, 10_000.0])?;
    let (r2, s2) = (cfg.signal, cfg.noise * cfg.noise);
    let finite = |v: f64| v.is_finite().then_some(v);
    let gamma = theory::log_grid(cfg.gamma_min, cfg.gamma_max, cfg.points);
    Ok(IsotropicReport {
        min_norm: gamma
            .iter()
            .map(|&g| finite(hastie::min_norm_risk(g, r2, s2).total()))
            .collect(),
        min_norm_finite_n: gamma
            .iter()
            .map(|&g| {
                let p = (g * cfg.n as f64).round() as usize;
                hastie::min_norm_risk_finite(cfg.n, p, r2, s2).map(|r| r.total())
            })
            .collect(),
        ridge: gamma
            .iter()
            .map(|&g| finite(hastie::ridge_risk(g, cfg.ridge, r2, s2).total()))
            .collect(),
        optimal_ridge: gamma
            .iter()
            .map(|&g| {
                finite(hastie::ridge_risk(g, hastie::optimal_ridge(g, r2, s2), r2, s2).total())
            })
            .collect(),
        null_risk: r2,
        gamma,
    })
}

/// A Monte-Carlo mean with its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
}

/// Monte-Carlo risk ‖β̂ − β‖² of the isotropic model over `reps` independent draws of X ~
/// N(0, 1)^{n×p}, β uniform on the sphere of radius r = √`signal`, and ε ~ N(0, σ²): ridge
/// β̂ = (XᵀX + nλI)⁻¹Xᵀy, or the minimum-norm X⁺y when λ = 0 (solved in the smaller of the
/// primal and dual spaces, by Cholesky).
pub fn isotropic_monte_carlo(
    n: usize,
    p: usize,
    signal: f64,
    noise: f64,
    ridge: f64,
    reps: usize,
    seed: u64,
) -> Result<Estimate> {
    in_range("n", n as f64, [1.0, 4000.0])?;
    in_range("p", p as f64, [1.0, 4000.0])?;
    in_range("reps", reps as f64, [2.0, 10_000.0])?;
    if n == 0 || p == 0 || reps < 2 {
        return Err(Error::config(
            "reps",
            "needs n, p ≥ 1 and at least two repetitions",
        ));
    }
    let mut rng = Rng::new(seed);
    let mut risks = Vec::with_capacity(reps);
    for _ in 0..reps {
        let x = DMatrix::from_fn(n, p, |_, _| rng.normal());
        let mut beta = nalgebra::DVector::from_fn(p, |_, _| rng.normal());
        beta *= signal.sqrt() / beta.norm();
        let y = &x * &beta + nalgebra::DVector::from_fn(n, |_, _| noise * rng.normal());
        let shift = n as f64 * ridge;
        let beta_hat = if p <= n && (ridge > 0.0 || p < n) {
            let g = x.transpose() * &x + DMatrix::identity(p, p) * shift;
            let chol = nalgebra::Cholesky::new(g).ok_or(Error::NotPositiveDefinite {
                what: "XᵀX + nλI",
            })?;
            chol.solve(&(x.transpose() * &y))
        } else {
            let k = &x * x.transpose() + DMatrix::identity(n, n) * shift;
            let chol = nalgebra::Cholesky::new(k).ok_or(Error::NotPositiveDefinite {
                what: "XXᵀ + nλI",
            })?;
            x.transpose() * chol.solve(&y)
        };
        risks.push((beta_hat - beta).norm_squared());
    }
    let m = reps as f64;
    let mean = risks.iter().sum::<f64>() / m;
    let var = risks.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (m - 1.0);
    Ok(Estimate {
        mean,
        se: (var / m).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::tridiagonal::recompose;

    fn small(sweep: Sweep, features: FeatureMap) -> DoubleDescentConfig {
        DoubleDescentConfig {
            sweep,
            features,
            n_train: 40,
            n_features: 40,
            dim: 10,
            n_test: 60,
            sizes: 13,
            seeds: 2,
            teacher: Teacher::Nonlinear,
            ..DoubleDescentConfig::default()
        }
    }

    #[test]
    fn every_gram_is_the_direct_product_of_its_features() {
        // The accumulated (swept side) and leading-block (fixed side) Grams, through the
        // reduction, equal Φ_pΦ_pᵀ or Φ_pᵀΦ_p computed directly for that size.
        for sweep in [Sweep::Features, Sweep::Samples] {
            let cfg = small(sweep, FeatureMap::Relu);
            let mut s = DoubleDescent::new(cfg, None).unwrap();
            s.advance().unwrap();
            let (phi, _, p_max) = s.features_train(0).unwrap();
            for fit in &s.replicates[0].fits {
                let Size { n, p } = fit.size;
                let block = block_f64(phi, p_max, 0..n, 0..p);
                let direct = if fit.size.is_dual() {
                    &block * block.transpose()
                } else {
                    block.transpose() * &block
                };
                let err = (recompose(&fit.tri) - &direct).norm() / direct.norm();
                assert!(err < 1e-13, "{sweep:?} n {n} p {p}: {err}");
            }
        }
    }

    #[test]
    fn refit_errors_equal_direct_evaluation() {
        // Train error and norm from the tridiagonal coordinates, and test error from the
        // batched f32 products, against a direct f64 evaluation of the fitted weights.
        for sweep in [Sweep::Features, Sweep::Samples] {
            for features in [FeatureMap::Relu, FeatureMap::Fourier] {
                let mut cfg = small(sweep, features);
                cfg.ridge = 1e-3;
                let mut s = DoubleDescent::new(cfg.clone(), None).unwrap();
                s.run().unwrap();
                let (n_max, p_max) = cfg.extent();
                for r in 0..cfg.seeds {
                    let rep = &s.replicates[r];
                    let y = s.train_targets(r).unwrap();
                    let w = cfg.component_weights();
                    let y_test = Components::combine(&rep.components.test, &w, cfg.n_test);
                    let drawn = draw_sphere(&cfg, rep.seed, n_max);
                    let layer = draw_first_layer(cfg.features, cfg.dim, p_max, rep.seed);
                    let phi_test = super::features(
                        &mut Gemm::new(),
                        cfg.features,
                        &drawn.x_test,
                        cfg.n_test,
                        cfg.dim,
                        &layer,
                        p_max,
                    );
                    for (i, size) in s.grid().iter().enumerate() {
                        let a = s.coefficients(r, i).unwrap();
                        let predict = |phi: &[f32], row: usize| -> f64 {
                            (0..size.p)
                                .map(|j| phi[row * p_max + j] as f64 * a[j])
                                .sum()
                        };
                        let train: f64 = (0..size.n)
                            .map(|row| (predict(&rep.phi, row) - y[row]).powi(2))
                            .sum::<f64>()
                            / size.n as f64;
                        let test: f64 = (0..cfg.n_test)
                            .map(|row| (predict(&phi_test, row) - y_test[row]).powi(2))
                            .sum::<f64>()
                            / cfg.n_test as f64;
                        let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                        let e = &rep.errors;
                        let tag = format!("{sweep:?} {features:?} seed {r} size {size:?}");
                        assert!(
                            (e.train_mse[i] - train).abs() < 1e-9 * (1.0 + train),
                            "{tag}: train {} vs {train}",
                            e.train_mse[i]
                        );
                        assert!(
                            (e.norm[i] - norm).abs() < 1e-9 * norm,
                            "{tag}: norm {} vs {norm}",
                            e.norm[i]
                        );
                        // f32 products: relative 1e-4.
                        assert!(
                            (e.test_mse[i] - test).abs() < 1e-4 * test,
                            "{tag}: test {} vs {test}",
                            e.test_mse[i]
                        );
                    }
                    assert!(n_max >= cfg.n_train);
                }
            }
        }
    }

    #[test]
    fn configurations_are_validated() {
        let ok = DoubleDescentConfig::default();
        assert!(ok.validate(MEMORY_LIMIT).is_ok());
        let e = DoubleDescentConfig {
            ridge: -1.0,
            ..ok.clone()
        }
        .validate(MEMORY_LIMIT);
        assert!(e.unwrap_err().to_string().contains("ridge"));
        let big = DoubleDescentConfig {
            n_train: 1000,
            ratio_max: 20.0,
            seeds: 20,
            n_test: 5000,
            ..ok.clone()
        };
        assert!(matches!(
            big.validate(MEMORY_LIMIT),
            Err(Error::TooLarge { .. })
        ));
        let samples = DoubleDescentConfig {
            sweep: Sweep::Samples,
            n_features: 1000,
            ratio_max: 2.0,
            ..ok.clone()
        };
        assert!(samples.validate(MEMORY_LIMIT).is_ok());
        let digits = DoubleDescentConfig {
            data: DataSource::Digits,
            n_train: 300,
            n_test: 1000,
            sweep: Sweep::Samples,
            n_features: 200,
            ..ok.clone()
        };
        assert!(
            digits
                .validate(MEMORY_LIMIT)
                .unwrap_err()
                .to_string()
                .contains("digits")
        );
        let no_data = DoubleDescent::new(
            DoubleDescentConfig {
                data: DataSource::Digits,
                n_test: 500,
                ..ok
            },
            None,
        );
        assert!(no_data.is_err());
    }
}
