//! Dense linear algebra the scenes need beyond nalgebra's.
//!
//! - [`dot`]: the f64 dot product in four independent sums (vectorises; one rounding order
//!   for every caller).
//! - [`lanczos`]: the few largest (or smallest) eigenvalues of a symmetric operator from
//!   matrix-vector products (block Lanczos with full reorthogonalisation).
//! - [`tridiagonal`]: Householder reduction of a symmetric matrix to tridiagonal form and the
//!   O(m) shifted solves that make a ridge slider free.

pub mod lanczos;
pub mod tridiagonal;

pub use lanczos::{
    Eigenpairs, LanczosOptions, lanczos_bottom_k, lanczos_top_k, lanczos_top_k_from,
    lanczos_top_k_with,
};
pub use tridiagonal::Tridiagonal;

/// Σ a_j b_j (four independent sums, so that it vectorises).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut a4 = a.chunks_exact(4);
    let mut b4 = b.chunks_exact(4);
    for (a, b) in (&mut a4).zip(&mut b4) {
        for l in 0..4 {
            acc[l] += a[l] * b[l];
        }
    }
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
