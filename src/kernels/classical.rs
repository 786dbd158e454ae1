//! Classical kernels, for comparison with the neural ones.
//!
//! - RBF (squared exponential): k(x, x') = exp(−‖x − x'‖²/(2ℓ²)).
//! - Laplace: k(x, x') = exp(−‖x − x'‖/ℓ).

use nalgebra::DMatrix;

use super::analytic::mirror_lower;
use crate::error::{Error, Result};

/// The RBF kernel between the rows of `x1` (n1 × d) and of `x2` (n2 × d), or of `x1` with
/// itself when `x2` is `None`; n1 × n2. `length_scale` ℓ > 0.
pub fn rbf(x1: &[f64], x2: Option<&[f64]>, d: usize, length_scale: f64) -> Result<DMatrix<f64>> {
    check(x1, x2, d, length_scale)?;
    let g = -0.5 / (length_scale * length_scale);
    Ok(pairwise(x1, x2, d, |sq| (g * sq).exp()))
}

/// The Laplace kernel between the rows of `x1` (n1 × d) and of `x2` (n2 × d), or of `x1` with
/// itself when `x2` is `None`; n1 × n2. `length_scale` ℓ > 0.
pub fn laplace(
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    length_scale: f64,
) -> Result<DMatrix<f64>> {
    check(x1, x2, d, length_scale)?;
    let g = -1.0 / length_scale;
    Ok(pairwise(x1, x2, d, |sq| (g * sq.sqrt()).exp()))
}

fn check(x1: &[f64], x2: Option<&[f64]>, d: usize, length_scale: f64) -> Result<()> {
    if !(length_scale.is_finite() && length_scale > 0.0) {
        return Err(Error::config(
            "lengthScale",
            format!("must be a finite number > 0, got {length_scale}"),
        ));
    }
    if d == 0 {
        return Err(Error::config("inputDim", "must be at least 1"));
    }
    for x in std::iter::once(x1).chain(x2) {
        if x.len() % d != 0 {
            return Err(Error::ShapeMismatch {
                op: "classical kernel",
                expected: format!("rows of {d} inputs"),
                got: format!("{} values", x.len()),
            });
        }
    }
    Ok(())
}

/// k_ij = f(‖x1_i − x2_j‖²), column by column; symmetric fill when `x2` is `None`.
fn pairwise(x1: &[f64], x2: Option<&[f64]>, d: usize, f: impl Fn(f64) -> f64) -> DMatrix<f64> {
    let xb = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len() / d, xb.len() / d);
    let mut k = DMatrix::<f64>::zeros(n1, n2);
    let ks = k.as_mut_slice();
    for j in 0..n2 {
        let xj = &xb[j * d..(j + 1) * d];
        let i0 = if x2.is_none() { j } else { 0 };
        for (kij, xi) in ks[j * n1 + i0..(j + 1) * n1]
            .iter_mut()
            .zip(x1[i0 * d..].chunks_exact(d))
        {
            let sq: f64 = xi.iter().zip(xj).map(|(a, b)| (a - b) * (a - b)).sum();
            *kij = f(sq);
        }
    }
    if x2.is_none() {
        mirror_lower(&mut k);
    }
    k
}
