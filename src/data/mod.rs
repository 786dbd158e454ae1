//! Seeded datasets: a 1-D regression set and four 2-D classification sets (this module),
//! high-dimensional sphere data with linear and nonlinear teachers ([`sphere`]) and the 8×8
//! digits ([`digits`]).
//!
//! Every generator draws from an explicit seed, so a seed reproduces the same points.
//! Conventions:
//! - inputs are row-major `n × d` f32 matrices with coordinates of order one;
//! - classification labels are ±1 and are fitted with the squared loss;
//! - `noise` is the standard deviation of Gaussian noise: on the training targets for
//!   regression (test targets are the noiseless function, so test loss measures distance to
//!   the truth), on the inputs of both splits for classification (it is part of the
//!   distribution);
//! - `label_noise` flips exactly `round(label_noise · n_train)` training labels chosen at
//!   random (classification only); test labels are never flipped.

pub mod digits;
pub mod sphere;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Sub-stream ids of the seed, so that data, label flips and weights are drawn independently.
pub mod stream {
    pub const DATA: u64 = 1;
    pub const LABEL_FLIPS: u64 = 2;
    pub const WEIGHTS: u64 = 3;
    pub const BATCHES: u64 = 4;
}

/// The datasets of the Playground.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DatasetKind {
    /// 1-D regression of y = sin(2x) on x ∈ [−2, 2].
    Sine,
    /// A disc of +1 inside a ring of −1.
    Circles,
    /// The sign of x₁·x₂ on the square [−1, 1]².
    Xor,
    /// Two Gaussian blobs centred at ±(0.5, 0.5).
    Gaussians,
    /// Two interleaved spirals.
    Spirals,
}

/// What the labels are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Task {
    Regression,
    Classification,
}

impl DatasetKind {
    pub const ALL: [DatasetKind; 5] = [
        DatasetKind::Sine,
        DatasetKind::Circles,
        DatasetKind::Xor,
        DatasetKind::Gaussians,
        DatasetKind::Spirals,
    ];

    /// The name a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            DatasetKind::Sine => "sine (1-D regression)",
            DatasetKind::Circles => "circles",
            DatasetKind::Xor => "xor",
            DatasetKind::Gaussians => "two gaussians",
            DatasetKind::Spirals => "spirals",
        }
    }

    /// Input dimension d.
    pub fn dim(self) -> usize {
        match self {
            DatasetKind::Sine => 1,
            _ => 2,
        }
    }

    pub fn task(self) -> Task {
        match self {
            DatasetKind::Sine => Task::Regression,
            _ => Task::Classification,
        }
    }

    /// The box drawn in plots (per coordinate: low, high); it contains the data with a margin.
    pub fn domain(self) -> ([f32; 2], [f32; 2]) {
        match self {
            DatasetKind::Sine => ([-2.5, 0.0], [2.5, 0.0]),
            _ => ([-1.5, -1.5], [1.5, 1.5]),
        }
    }

    /// The noiseless regression target f*(x) (1-D regression only).
    pub fn target(self, x: f64) -> Option<f64> {
        match self {
            DatasetKind::Sine => Some((2.0 * x).sin()),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Sine => "sine",
            DatasetKind::Circles => "circles",
            DatasetKind::Xor => "xor",
            DatasetKind::Gaussians => "gaussians",
            DatasetKind::Spirals => "spirals",
        }
    }
}

/// A train/test split of one dataset.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub kind: DatasetKind,
    /// Input dimension d.
    pub dim: usize,
    /// `n_train × d`, row-major.
    pub x_train: Vec<f32>,
    /// `n_train` targets (±1 for classification).
    pub y_train: Vec<f32>,
    /// `n_test × d`, row-major.
    pub x_test: Vec<f32>,
    /// `n_test` targets.
    pub y_test: Vec<f32>,
}

impl Dataset {
    pub fn n_train(&self) -> usize {
        self.y_train.len()
    }
    pub fn n_test(&self) -> usize {
        self.y_test.len()
    }
    pub fn task(&self) -> Task {
        self.kind.task()
    }
}

/// Draws a dataset. `noise` ≥ 0, `label_noise` ∈ [0, 0.5], `n_train` ≥ 1.
pub fn generate(
    kind: DatasetKind,
    n_train: usize,
    n_test: usize,
    noise: f64,
    label_noise: f64,
    seed: u64,
) -> Result<Dataset> {
    if n_train == 0 {
        return Err(Error::config("nTrain", "needs at least one training point"));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::config(
            "noise",
            format!("must be a finite number ≥ 0, got {noise}"),
        ));
    }
    if !(0.0..=0.5).contains(&label_noise) {
        return Err(Error::config(
            "labelNoise",
            format!("must lie in [0, 0.5], got {label_noise}"),
        ));
    }
    let mut rng = Rng::stream(seed, stream::DATA);
    let d = kind.dim();
    let mut x_train = vec![0.0f32; n_train * d];
    let mut y_train = vec![0.0f32; n_train];
    let mut x_test = vec![0.0f32; n_test * d];
    let mut y_test = vec![0.0f32; n_test];
    // Training points first, then test points, from one stream: the test set does not depend
    // on anything but the seed and n_train.
    for (x, y, is_train) in [
        (&mut x_train, &mut y_train, true),
        (&mut x_test, &mut y_test, false),
    ] {
        for (xi, yi) in x.chunks_exact_mut(d).zip(y.iter_mut()) {
            *yi = sample(kind, noise, is_train, &mut rng, xi);
        }
    }
    if kind.task() == Task::Classification && label_noise > 0.0 {
        let flips = (label_noise * n_train as f64).round() as usize;
        let mut r = Rng::stream(seed, stream::LABEL_FLIPS);
        for &i in r.permutation(n_train).iter().take(flips) {
            y_train[i] = -y_train[i];
        }
    }
    Ok(Dataset {
        kind,
        dim: d,
        x_train,
        y_train,
        x_test,
        y_test,
    })
}

/// Draws one example into `x` and returns its label.
fn sample(kind: DatasetKind, noise: f64, is_train: bool, rng: &mut Rng, x: &mut [f32]) -> f32 {
    use std::f64::consts::PI;
    let label_of = |positive: bool| if positive { 1.0 } else { -1.0 };
    match kind {
        DatasetKind::Sine => {
            let xv = rng.uniform_in(-2.0, 2.0);
            x[0] = xv as f32;
            let eps = rng.normal();
            let y = kind.target(xv).unwrap_or(0.0) + if is_train { noise * eps } else { 0.0 };
            y as f32
        }
        DatasetKind::Circles => {
            let positive = rng.uniform() < 0.5;
            let r = if positive {
                rng.uniform_in(0.0, 0.5)
            } else {
                rng.uniform_in(0.7, 1.0)
            };
            let a = rng.uniform_in(0.0, 2.0 * PI);
            x[0] = (r * a.cos() + noise * rng.normal()) as f32;
            x[1] = (r * a.sin() + noise * rng.normal()) as f32;
            label_of(positive)
        }
        DatasetKind::Xor => {
            // Keep a small gap around the axes so the clean labels are unambiguous.
            let mut coord = || {
                let v = rng.uniform_in(0.05, 1.0);
                if rng.uniform() < 0.5 { -v } else { v }
            };
            let (a, b) = (coord(), coord());
            let positive = a * b > 0.0;
            x[0] = (a + noise * rng.normal()) as f32;
            x[1] = (b + noise * rng.normal()) as f32;
            label_of(positive)
        }
        DatasetKind::Gaussians => {
            let positive = rng.uniform() < 0.5;
            let c = if positive { 0.5 } else { -0.5 };
            let s = 0.3 + noise;
            x[0] = (c + s * rng.normal()) as f32;
            x[1] = (c + s * rng.normal()) as f32;
            label_of(positive)
        }
        DatasetKind::Spirals => {
            let positive = rng.uniform() < 0.5;
            let t = rng.uniform();
            let r = 0.1 + 0.9 * t;
            let a = 3.5 * PI * t + if positive { 0.0 } else { PI };
            x[0] = (r * a.cos() + noise * rng.normal()) as f32;
            x[1] = (r * a.sin() + noise * rng.normal()) as f32;
            label_of(positive)
        }
    }
}

/// The floating-point operations one evaluation of a plotting grid may take (see
/// [`GridSpec::for_model`]).
pub const GRID_FLOP_BUDGET: f64 = 4e9;

/// A regular evaluation grid over a dataset's domain: `size` points (1-D) or `size × size`
/// points (2-D, row-major with the second coordinate as the row: index `iy · size + ix`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridSpec {
    pub dim: usize,
    pub size: usize,
    pub lo: Vec<f32>,
    pub hi: Vec<f32>,
}

impl GridSpec {
    /// The grid Descent draws a dataset's fitted function or decision boundary on, at full
    /// resolution: 256 points in 1-D, 64 × 64 in 2-D.
    pub fn for_dataset(kind: DatasetKind) -> Self {
        Self::for_model(kind, 0.0)
    }

    /// The grid for a model costing `flops_per_point` to evaluate at one point: as fine as
    /// [`GridSpec::for_dataset`] while one evaluation of the whole grid stays within
    /// [`GRID_FLOP_BUDGET`], coarser (down to 64 points in 1-D, 16 × 16 in 2-D) for
    /// very large networks, so redrawing never costs more than a few training steps.
    pub fn for_model(kind: DatasetKind, flops_per_point: f64) -> Self {
        let (lo, hi) = kind.domain();
        let dim = kind.dim();
        let points_in_budget = if flops_per_point > 0.0 {
            GRID_FLOP_BUDGET / flops_per_point
        } else {
            f64::INFINITY
        };
        let size = if dim == 1 {
            points_in_budget.clamp(64.0, 256.0) as usize
        } else {
            points_in_budget.sqrt().clamp(16.0, 64.0) as usize
        };
        GridSpec {
            dim,
            size,
            lo: lo[..dim].to_vec(),
            hi: hi[..dim].to_vec(),
        }
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.size.pow(self.dim as u32)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Coordinate `i` along axis `axis`.
    pub fn coord(&self, axis: usize, i: usize) -> f32 {
        let t = if self.size > 1 {
            i as f32 / (self.size - 1) as f32
        } else {
            0.5
        };
        self.lo[axis] + t * (self.hi[axis] - self.lo[axis])
    }

    /// The grid points as a row-major `len × dim` matrix.
    pub fn points(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.len() * self.dim);
        if self.dim == 1 {
            out.extend((0..self.size).map(|i| self.coord(0, i)));
        } else {
            for iy in 0..self.size {
                for ix in 0..self.size {
                    out.push(self.coord(0, ix));
                    out.push(self.coord(1, iy));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_shapes() {
        for kind in DatasetKind::ALL {
            let a = generate(kind, 50, 30, 0.1, 0.1, 9).unwrap();
            let b = generate(kind, 50, 30, 0.1, 0.1, 9).unwrap();
            let c = generate(kind, 50, 30, 0.1, 0.1, 10).unwrap();
            assert_eq!(a.x_train, b.x_train);
            assert_eq!(a.y_test, b.y_test);
            assert_ne!(
                a.x_train, c.x_train,
                "{kind:?}: another seed gives other data"
            );
            assert_eq!(a.x_train.len(), 50 * kind.dim());
            assert_eq!(a.x_test.len(), 30 * kind.dim());
            assert!(a.x_train.iter().chain(&a.y_train).all(|v| v.is_finite()));
        }
    }

    #[test]
    fn label_noise_flips_exactly_that_fraction_of_training_labels() {
        for kind in [DatasetKind::Circles, DatasetKind::Xor, DatasetKind::Spirals] {
            let clean = generate(kind, 200, 50, 0.0, 0.0, 4).unwrap();
            let noisy = generate(kind, 200, 50, 0.0, 0.25, 4).unwrap();
            assert_eq!(clean.x_train, noisy.x_train);
            let flipped = clean
                .y_train
                .iter()
                .zip(&noisy.y_train)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(flipped, 50);
            assert_eq!(clean.y_test, noisy.y_test, "test labels are never flipped");
        }
    }

    #[test]
    fn clean_labels_follow_the_rule() {
        let xor = generate(DatasetKind::Xor, 300, 0, 0.0, 0.0, 2).unwrap();
        for (x, &y) in xor.x_train.chunks(2).zip(&xor.y_train) {
            assert_eq!(y, if x[0] * x[1] > 0.0 { 1.0 } else { -1.0 });
        }
        let circles = generate(DatasetKind::Circles, 300, 0, 0.0, 0.0, 2).unwrap();
        for (x, &y) in circles.x_train.chunks(2).zip(&circles.y_train) {
            let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
            assert_eq!(y, if r <= 0.5 { 1.0 } else { -1.0 }, "r = {r}");
        }
        // Both classes appear in roughly equal numbers (binomial, n = 300: 5 sd ≈ 43).
        let pos = circles.y_train.iter().filter(|&&y| y > 0.0).count();
        assert!((pos as i64 - 150).abs() < 43, "{pos} positives");
    }

    #[test]
    fn regression_noise_is_on_training_targets_only() {
        let d = generate(DatasetKind::Sine, 100, 100, 0.3, 0.0, 5).unwrap();
        for (x, y) in d.x_test.iter().zip(&d.y_test) {
            assert!((y - (2.0 * x).sin()).abs() < 1e-6);
        }
        let resid: f64 = d
            .x_train
            .iter()
            .zip(&d.y_train)
            .map(|(x, y)| (*y as f64 - (2.0 * *x as f64).sin()).powi(2))
            .sum::<f64>()
            / 100.0;
        // The mean of 100 squared N(0, 0.09) deviates has sd 0.09·√(2/100) ≈ 0.013.
        assert!((resid - 0.09).abs() < 0.05, "residual variance {resid}");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(generate(DatasetKind::Sine, 0, 10, 0.1, 0.0, 1).is_err());
        assert!(generate(DatasetKind::Xor, 10, 10, f64::NAN, 0.0, 1).is_err());
        assert!(generate(DatasetKind::Xor, 10, 10, 0.1, 0.7, 1).is_err());
    }

    #[test]
    fn grids_coarsen_for_costly_models_within_bounds() {
        assert_eq!(GridSpec::for_model(DatasetKind::Xor, 1e4).size, 64);
        // 4e9 / 1e8 = 40 points: 6 × 6 would do, but the grid never drops below 16 × 16.
        assert_eq!(GridSpec::for_model(DatasetKind::Xor, 1e8).size, 16);
        assert_eq!(GridSpec::for_model(DatasetKind::Xor, 4e6).size, 31);
        assert_eq!(GridSpec::for_model(DatasetKind::Sine, 4e7).size, 100);
        assert_eq!(GridSpec::for_model(DatasetKind::Sine, 1e9).size, 64);
    }

    #[test]
    fn grid_points_cover_the_domain() {
        let g = GridSpec::for_dataset(DatasetKind::Circles);
        let p = g.points();
        assert_eq!(p.len(), 64 * 64 * 2);
        assert_eq!(&p[..2], &[-1.5, -1.5]);
        assert_eq!(&p[p.len() - 2..], &[1.5, 1.5]);
        // Index iy·size + ix holds (x_ix, y_iy).
        assert_eq!(p[2 * (64 + 3)], g.coord(0, 3));
        assert_eq!(p[2 * (64 + 3) + 1], g.coord(1, 1));
    }
}
