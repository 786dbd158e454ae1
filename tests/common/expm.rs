//! e^A by scaling and squaring of the Taylor series: a reference independent of any
//! eigendecomposition, for the tests of the kernel machinery's spectral filters.

use nalgebra::DMatrix;

/// e^A: A scaled by 2^-s so that its Frobenius norm is at most 1/2, the series summed to the
/// 24th term (below 0.5²⁴/24! ≈ 1e-31), then squared s times.
pub fn expm(a: &DMatrix<f64>) -> DMatrix<f64> {
    let norm = a.norm();
    let s = if norm > 0.5 {
        (norm / 0.5).log2().ceil() as i32
    } else {
        0
    };
    let a = a / 2f64.powi(s);
    let n = a.nrows();
    let mut term = DMatrix::identity(n, n);
    let mut sum = DMatrix::identity(n, n);
    for k in 1..25 {
        term = &term * &a / k as f64;
        sum += &term;
    }
    for _ in 0..s {
        sum = &sum * &sum;
    }
    sum
}
