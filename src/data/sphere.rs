//! High-dimensional regression data on the sphere, the inputs and teachers of the double-descent
//! scene's random-features and trained sweeps (the setting of Mei & Montanari 2019, so that
//! their asymptotic curve overlays the simulation without rescaling):
//!
//! - inputs x ~ Unif(S^{d−1}(√d)), the sphere of radius √d (coordinates of order one);
//! - the linear teacher part ⟨β, x⟩ with β uniform on the unit sphere;
//! - the nonlinear teacher part He₂(⟨u, x⟩)/c_d with u uniform on the unit sphere,
//!   He₂(t) = t² − 1 and c_d² = 2(d − 1)/(d + 2), the exact variance of He₂(⟨u, x⟩) on that
//!   sphere, so the part has unit variance and is orthogonal to constants and linear functions;
//! - standard normal label noise, one value per training point.
//!
//! Every part draws from its own sub-stream of the seed ([`stream`]), so changing the number of
//! test points does not move the training set, and a teacher weight of zero changes nothing else.

use crate::linalg::dot;
use crate::rng::Rng;

/// Sub-stream ids of a seed.
pub mod stream {
    /// β, then u.
    pub const TEACHER: u64 = 11;
    pub const TRAIN: u64 = 12;
    pub const TEST: u64 = 13;
    pub const NOISE: u64 = 15;
}

/// `rows` points uniform on the sphere of radius `radius` in R^d, row-major `rows × d`.
pub fn sphere_points(rng: &mut Rng, rows: usize, d: usize, radius: f64) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * d];
    let mut g = vec![0.0f64; d];
    for row in out.chunks_exact_mut(d) {
        g.iter_mut().for_each(|v| *v = rng.normal());
        let norm = dot(&g, &g).sqrt();
        row.iter_mut()
            .zip(&g)
            .for_each(|(o, &v)| *o = (radius * v / norm) as f32);
    }
    out
}

/// The teacher's two parts at some points: `linear[i]` = ⟨β, x_i⟩ and `he2[i]` =
/// He₂(⟨u, x_i⟩)/c_d.
#[derive(Clone, Debug, PartialEq)]
pub struct TeacherParts {
    pub linear: Vec<f64>,
    pub he2: Vec<f64>,
}

/// One seed's draw: the inputs of both splits, the teacher's parts on each and the training
/// points' label noise.
#[derive(Clone, Debug, PartialEq)]
pub struct SphereDraw {
    /// `n_train × d`.
    pub x_train: Vec<f32>,
    /// `n_test × d`.
    pub x_test: Vec<f32>,
    pub train: TeacherParts,
    pub test: TeacherParts,
    /// `n_train` standard normal values.
    pub noise: Vec<f64>,
}

/// Draws `n_train` training and `n_test` test points in dimension `d` from `seed`, with the
/// teacher's parts on both and the training noise. For d = 1, c_d = 0 and the He₂ part is not
/// finite: give it weight zero (the scenes leave it out there).
pub fn draw(seed: u64, d: usize, n_train: usize, n_test: usize) -> SphereDraw {
    let radius = (d as f64).sqrt();
    let mut teacher = Rng::stream(seed, stream::TEACHER);
    let beta = sphere_points(&mut teacher, 1, d, 1.0);
    let u = sphere_points(&mut teacher, 1, d, 1.0);
    let x_train = sphere_points(&mut Rng::stream(seed, stream::TRAIN), n_train, d, radius);
    let x_test = sphere_points(&mut Rng::stream(seed, stream::TEST), n_test, d, radius);
    // Var He₂(⟨u, x⟩) on the sphere of radius √d: E t⁴ − 1 = 3d/(d + 2) − 1.
    let he2_sd = he2_sd(d);
    let parts = |x: &[f32]| -> TeacherParts {
        let (linear, he2) = x
            .chunks_exact(d)
            .map(|xi| {
                let lin: f64 = xi
                    .iter()
                    .zip(&beta)
                    .map(|(&a, &b)| a as f64 * b as f64)
                    .sum();
                let t: f64 = xi.iter().zip(&u).map(|(&a, &b)| a as f64 * b as f64).sum();
                (lin, (t * t - 1.0) / he2_sd)
            })
            .unzip();
        TeacherParts { linear, he2 }
    };
    let train = parts(&x_train);
    let test = parts(&x_test);
    let mut noise_rng = Rng::stream(seed, stream::NOISE);
    let noise = (0..n_train).map(|_| noise_rng.normal()).collect();
    SphereDraw {
        x_train,
        x_test,
        train,
        test,
        noise,
    }
}

/// c_d, the standard deviation of He₂(⟨u, x⟩) for x uniform on the sphere of radius √d in
/// R^d and a unit vector u: √(2(d − 1)/(d + 2)) (0 for d = 1).
pub fn he2_sd(d: usize) -> f64 {
    (2.0 * (d as f64 - 1.0) / (d as f64 + 2.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points lie on the sphere of radius √d to f32 rounding (1e-6 relative on the norm), and
    /// the He₂ part has mean ≈ 0 and variance ≈ 1 over many points: 20,000 points give a
    /// standard error of about 0.01 on the mean and 0.02 on the variance (its fourth moment is
    /// a few), so 5 standard errors are 0.05 and 0.1.
    #[test]
    fn points_lie_on_the_sphere_and_the_he2_part_is_standardised() {
        let d = 10;
        let draw = draw(3, d, 20_000, 5);
        for x in draw.x_train.chunks_exact(d) {
            let r = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
            assert!((r / (d as f64).sqrt() - 1.0).abs() < 1e-6, "radius {r}");
        }
        let n = draw.train.he2.len() as f64;
        let mean = draw.train.he2.iter().sum::<f64>() / n;
        let var = draw
            .train
            .he2
            .iter()
            .map(|v| (v - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.1, "variance {var}");
        assert_eq!(draw.noise.len(), 20_000);
        assert_eq!(draw.x_test.len(), 5 * d);
    }

    /// The number of test points does not move the training set, the teacher or the noise.
    #[test]
    fn splits_draw_from_their_own_streams() {
        let a = draw(9, 4, 30, 5);
        let b = draw(9, 4, 30, 50);
        assert_eq!(a.x_train, b.x_train);
        assert_eq!(a.train, b.train);
        assert_eq!(a.noise, b.noise);
        assert_eq!(a.x_test[..], b.x_test[..5 * 4]);
    }
}
