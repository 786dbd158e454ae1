//! The data, labels and random features of one replicate.

use super::{DoubleDescentConfig, FeatureMap};
use crate::backend::Trans;
use crate::backend::cpu::gemm::Gemm;
use crate::data::digits::{self, Digits};
use crate::data::sphere;
use crate::error::Result;
use crate::linalg::dot;
use crate::rng::Rng;

/// Sub-stream ids of a replicate's seed beyond the sphere data's
/// ([`crate::data::sphere::stream`], which the trained-network sweep draws from too).
mod stream {
    /// The digits' label noise draws from the stream of the sphere data's noise.
    pub use crate::data::sphere::stream::NOISE;
    pub const FEATURES: u64 = 14;
    pub const SPLIT: u64 = 16;
}

/// The labels as a weighted sum of fixed components, so that the noise and teacher settings
/// re-fit without redrawing anything. Sphere data: [linear part, He₂ part, noise]; digits:
/// [one-hot, noise]. Weights: [`DoubleDescentConfig::component_weights`].
#[derive(Clone, Debug)]
pub(super) struct Components {
    /// Per component: `n_max × outputs` training values, row-major.
    pub(super) train: Vec<Vec<f64>>,
    /// Per component: `n_test × outputs` values on the test set (the noise component is 0).
    pub(super) test: Vec<Vec<f64>>,
}

impl Components {
    pub(super) fn combine(parts: &[Vec<f64>], weights: &[f64], len: usize) -> Vec<f64> {
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
pub(super) struct DrawnData {
    /// `n_max × d`.
    pub(super) x_train: Vec<f32>,
    /// `n_test × d`.
    pub(super) x_test: Vec<f32>,
    pub(super) components: Components,
    /// Classes of the test points (digits).
    pub(super) test_labels: Option<Vec<u8>>,
}

pub(super) fn draw_sphere(cfg: &DoubleDescentConfig, seed: u64, n_max: usize) -> DrawnData {
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

pub(super) fn draw_digits(
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
pub(super) struct FirstLayer {
    weights: Vec<f32>,
    phase: Vec<f32>,
}

pub(super) fn draw_first_layer(kind: FeatureMap, d: usize, p_max: usize, seed: u64) -> FirstLayer {
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
pub(super) fn features(
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
