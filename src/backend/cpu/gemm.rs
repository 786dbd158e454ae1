//! f32 matrix multiplication on the CPU: `C = alpha · op(A) · op(B) + beta · C`.
//!
//! This is the straightforward reference; every faster kernel is tested against it.

use crate::backend::Trans;

/// Reusable scratch space for [`Gemm::run`] (packing buffers), so the step loop allocates nothing.
#[derive(Default)]
pub struct Gemm {}

impl Gemm {
    pub fn new() -> Self {
        Self {}
    }

    /// `C (m×n, leading dim ldc) = alpha · op(A) · op(B) + beta · C`.
    /// A is stored m×k (lda) if `ta == N`, k×m (lda) if `T`; B is k×n (ldb) if `N`, n×k (ldb) if `T`.
    pub fn run(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

/// The plain triple loop, accumulating in f64: the oracle for faster kernels.
pub fn reference(
    ta: Trans,
    tb: Trans,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f64;
            for p in 0..k {
                let av = match ta {
                    Trans::N => a[i * lda + p],
                    Trans::T => a[p * lda + i],
                };
                let bv = match tb {
                    Trans::N => b[p * ldb + j],
                    Trans::T => b[j * ldb + p],
                };
                acc += av as f64 * bv as f64;
            }
            let cij = &mut c[i * ldc + j];
            let prev = if beta == 0.0 { 0.0 } else { beta * *cij };
            *cij = alpha * acc as f32 + prev;
        }
    }
}
