//! The plane of the two principal axes of a point cloud, for drawing inputs of more than two
//! dimensions: [`Pca2::fit`] finds it (in f64), [`Pca2::project`] maps inputs to plane
//! coordinates, and [`Pca2::lift`] maps plane coordinates back to the input points on the plane
//! (the mean plus a combination of the two axes), so that a network can be evaluated on a grid
//! drawn over the plane.
//!
//! The axes are the top two eigenvectors of the covariance matrix C = (1/n) Σ (x − μ)(x − μ)ᵀ,
//! found by subspace iteration with a Rayleigh–Ritz step on the 2 × 2 projected matrix (C is
//! d × d with d the input dimension, at most a few hundred here, so each iteration costs
//! O(d²)). Each axis is signed so that its largest-magnitude coordinate is positive, which
//! fixes the picture for a given data set.

use crate::error::{Error, Result};

/// The top-two principal plane of a point cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca2 {
    /// Input dimension d.
    pub dim: usize,
    /// The mean μ of the fitted points (d values).
    pub mean: Vec<f64>,
    /// The two unit axes, orthogonal, each d values; `axes[0]` has the larger variance.
    pub axes: [Vec<f64>; 2],
    /// The variance of the fitted points along each axis (the top two eigenvalues of C).
    pub variances: [f64; 2],
    /// The total variance tr C, so `variances / total_variance` is the share each axis
    /// explains.
    pub total_variance: f64,
}

/// Iterations of the subspace iteration at most; it stops earlier once the plane moves by less
/// than [`TOLERANCE`] (a plane still moving after this many has nearly equal second and third
/// variances, so any plane near it draws the data as well).
const MAX_ITERATIONS: usize = 1000;
/// The most points the covariance is computed from: more are thinned to every k-th point
/// (k = ⌈n / MAX_FIT_POINTS⌉), so fitting a large table's plane costs at most
/// MAX_FIT_POINTS · d² / 2 multiply-adds. The mean is always that of every point.
pub const MAX_FIT_POINTS: usize = 8192;
/// Convergence: the largest change of an axis coordinate between iterations.
const TOLERANCE: f64 = 1e-13;

impl Pca2 {
    /// Fits the plane to `n × dim` row-major points (n ≥ 1, dim ≥ 2); the covariance of
    /// more than [`MAX_FIT_POINTS`] points is estimated from every k-th one.
    pub fn fit(points: &[f32], dim: usize) -> Result<Self> {
        if dim < 2 {
            return Err(Error::config(
                "dim",
                format!("a 2-D projection needs at least two input dimensions, got {dim}"),
            ));
        }
        if points.is_empty() || !points.len().is_multiple_of(dim) {
            return Err(Error::ShapeMismatch {
                op: "Pca2::fit",
                expected: format!("a non-empty multiple of {dim} values"),
                got: format!("{}", points.len()),
            });
        }
        let n = points.len() / dim;
        let mut mean = vec![0.0f64; dim];
        for row in points.chunks_exact(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        // C, row-major, upper triangle accumulated then mirrored.
        let stride = n.div_ceil(MAX_FIT_POINTS);
        let used = n.div_ceil(stride);
        let mut cov = vec![0.0f64; dim * dim];
        let mut centred = vec![0.0f64; dim];
        for row in points.chunks_exact(dim).step_by(stride) {
            for ((c, &v), &m) in centred.iter_mut().zip(row).zip(&mean) {
                *c = v as f64 - m;
            }
            for i in 0..dim {
                let ci = centred[i];
                if ci == 0.0 {
                    continue;
                }
                let out = &mut cov[i * dim + i..(i + 1) * dim];
                for (o, &cj) in out.iter_mut().zip(&centred[i..]) {
                    *o += ci * cj;
                }
            }
        }
        for i in 0..dim {
            for j in i..dim {
                let v = cov[i * dim + j] / used as f64;
                cov[i * dim + j] = v;
                cov[j * dim + i] = v;
            }
        }
        let total_variance: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
        let (axes, variances) = top_two(&cov, dim);
        Ok(Pca2 {
            dim,
            mean,
            axes,
            variances,
            total_variance,
        })
    }

    /// Plane coordinates ((x − μ)·u₁, (x − μ)·u₂) of `n × dim` points: `n × 2`, row-major.
    pub fn project(&self, points: &[f32]) -> Vec<f32> {
        let d = self.dim;
        let mut out = Vec::with_capacity(points.len() / d * 2);
        for row in points.chunks_exact(d) {
            for axis in &self.axes {
                let s: f64 = row
                    .iter()
                    .zip(&self.mean)
                    .zip(axis)
                    .map(|((&x, &m), &u)| (x as f64 - m) * u)
                    .sum();
                out.push(s as f32);
            }
        }
        out
    }

    /// The input points μ + a·u₁ + b·u₂ of `n × 2` plane coordinates (a, b): `n × dim`,
    /// row-major. `project(lift(p)) = p` up to rounding.
    pub fn lift(&self, plane: &[f32]) -> Vec<f32> {
        let d = self.dim;
        let mut out = Vec::with_capacity(plane.len() / 2 * d);
        for ab in plane.chunks_exact(2) {
            let (a, b) = (ab[0] as f64, ab[1] as f64);
            for j in 0..d {
                out.push((self.mean[j] + a * self.axes[0][j] + b * self.axes[1][j]) as f32);
            }
        }
        out
    }

    /// The share of the total variance the plane explains, in [0, 1] (1 when the data has no
    /// variance at all).
    pub fn explained(&self) -> f64 {
        if self.total_variance > 0.0 {
            ((self.variances[0] + self.variances[1]) / self.total_variance).min(1.0)
        } else {
            1.0
        }
    }
}

fn mat_vec(a: &[f64], d: usize, x: &[f64], out: &mut [f64]) {
    for (o, row) in out.iter_mut().zip(a.chunks_exact(d)) {
        *o = crate::linalg::dot(row, x);
    }
}

fn normalise(v: &mut [f64]) -> f64 {
    let norm = crate::linalg::dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

/// Makes `v` a unit vector orthogonal to the unit vector `u` (Gram–Schmidt, twice for accuracy);
/// if nothing is left, the coordinate axis least aligned with `u`, orthogonalised.
fn orthonormalise(v: &mut [f64], u: &[f64]) {
    for _ in 0..2 {
        let p = crate::linalg::dot(v, u);
        v.iter_mut().zip(u).for_each(|(x, &y)| *x -= p * y);
    }
    if normalise(v) == 0.0 {
        let k = (0..u.len())
            .min_by(|&a, &b| u[a].abs().total_cmp(&u[b].abs()))
            .unwrap_or(0);
        v.iter_mut().for_each(|x| *x = 0.0);
        v[k] = 1.0;
        orthonormalise(v, u);
    }
}

/// Sign convention: the largest-magnitude coordinate is positive.
fn fix_sign(v: &mut [f64]) {
    let k = (0..v.len())
        .max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()))
        .unwrap_or(0);
    if v[k] < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

/// The top two eigenpairs of the symmetric `d × d` matrix `a` (d ≥ 2): subspace iteration on
/// a two-column block, each step followed by the Rayleigh–Ritz rotation that diagonalises the
/// projected 2 × 2 matrix.
fn top_two(a: &[f64], d: usize) -> ([Vec<f64>; 2], [f64; 2]) {
    // A deterministic start that is not orthogonal to the top plane in practice: the two
    // columns of A with the largest diagonal, plus a small spread over all coordinates.
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| a[j * d + j].total_cmp(&a[i * d + i]));
    let mut q0: Vec<f64> = (0..d).map(|j| 1e-3 * (1.0 + j as f64 / d as f64)).collect();
    let mut q1: Vec<f64> = (0..d)
        .map(|j| 1e-3 * if j % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    q0[order[0]] += 1.0;
    q1[order[1]] += 1.0;
    normalise(&mut q0);
    orthonormalise(&mut q1, &q0);
    let (mut z0, mut z1) = (vec![0.0; d], vec![0.0; d]);
    let mut lambda = [0.0f64; 2];
    for _ in 0..MAX_ITERATIONS {
        mat_vec(a, d, &q0, &mut z0);
        mat_vec(a, d, &q1, &mut z1);
        // Orthonormal basis of span{z0, z1}.
        let mut b0 = z0.clone();
        if normalise(&mut b0) == 0.0 {
            // A = 0 on the block: every direction is an eigenvector with eigenvalue 0.
            lambda = [0.0, 0.0];
            break;
        }
        let mut b1 = z1.clone();
        orthonormalise(&mut b1, &b0);
        // Rayleigh–Ritz on the 2 × 2 matrix Bᵀ A B.
        let (mut ab0, mut ab1) = (vec![0.0; d], vec![0.0; d]);
        mat_vec(a, d, &b0, &mut ab0);
        mat_vec(a, d, &b1, &mut ab1);
        let h00 = crate::linalg::dot(&b0, &ab0);
        let h01 = crate::linalg::dot(&b0, &ab1);
        let h11 = crate::linalg::dot(&b1, &ab1);
        let theta = 0.5 * (2.0 * h01).atan2(h00 - h11);
        let (c, s) = (theta.cos(), theta.sin());
        let mut n0: Vec<f64> = b0.iter().zip(&b1).map(|(x, y)| c * x + s * y).collect();
        let mut n1: Vec<f64> = b0.iter().zip(&b1).map(|(x, y)| -s * x + c * y).collect();
        let l0 = c * c * h00 + 2.0 * c * s * h01 + s * s * h11;
        let l1 = s * s * h00 - 2.0 * c * s * h01 + c * c * h11;
        if l1 > l0 {
            std::mem::swap(&mut n0, &mut n1);
            lambda = [l1, l0];
        } else {
            lambda = [l0, l1];
        }
        fix_sign(&mut n0);
        fix_sign(&mut n1);
        let change = n0
            .iter()
            .zip(&q0)
            .chain(n1.iter().zip(&q1))
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f64, f64::max);
        q0 = n0;
        q1 = n1;
        if change < TOLERANCE {
            break;
        }
    }
    ([q0, q1], [lambda[0].max(0.0), lambda[1].max(0.0)])
}
