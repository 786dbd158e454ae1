//! Gauss–Hermite quadrature for Gaussian expectations in one and two dimensions: the
//! infinite-width kernels of activations without a closed form (tanh), and the reference the
//! closed forms are tested against.
//!
//! An N-point rule integrates p(z)·e^{−z²} exactly for polynomials p of degree < 2N. Nodes are
//! the eigenvalues of the Jacobi matrix of the Hermite recurrence (Golub & Welsch 1969),
//! polished by Newton's method on the orthonormal Hermite polynomial ψ_N; the weights are the
//! Christoffel numbers w_i = 1/Σ_{k<N} ψ_k(x_i)², evaluated with the Gaussian factor folded
//! into the recurrence so that no intermediate overflows for large N.

use nalgebra::{DMatrix, SymmetricEigen};

/// A Gauss–Hermite rule rescaled to the standard normal: E[f(z)] ≈ Σ_i w_i·f(z_i), with the
/// nodes z_i in `nodes` and the weights w_i in `weights`.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussHermite {
    /// Nodes in units of the standard normal (√2 × the Hermite roots), ascending.
    pub nodes: Vec<f64>,
    /// Probability weights (summing to 1).
    pub weights: Vec<f64>,
}

impl GaussHermite {
    /// The N-point rule (N ≥ 1).
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        // Jacobi matrix of x·ψ_k = √((k+1)/2)·ψ_{k+1} + √(k/2)·ψ_{k−1}.
        let jacobi = DMatrix::from_fn(n, n, |i, j| {
            if i + 1 == j || j + 1 == i {
                (i.max(j) as f64 / 2.0).sqrt()
            } else {
                0.0
            }
        });
        let mut roots: Vec<f64> = SymmetricEigen::new(jacobi)
            .eigenvalues
            .iter()
            .copied()
            .collect();
        roots.sort_by(f64::total_cmp);
        let mut nodes = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        for &root in &roots {
            let mut x = root;
            for _ in 0..3 {
                let (h_n, h_nm1, _) = hermite_functions(n, x);
                // ψ_N' = √(2N)·ψ_{N−1}; the Gaussian factor of h cancels in the ratio.
                let denom = (2.0 * n as f64).sqrt() * h_nm1;
                if denom != 0.0 {
                    x -= h_n / denom;
                }
            }
            let (_, _, sum_sq) = hermite_functions(n, x);
            // w = 1/Σψ_k² = e^{−x²}/Σh_k², then divided by √π (the mass of e^{−x²}) for the
            // standard normal.
            nodes.push(std::f64::consts::SQRT_2 * x);
            weights.push((-x * x).exp() / (sum_sq * std::f64::consts::PI.sqrt()));
        }
        GaussHermite { nodes, weights }
    }

    /// E[f(z)] for z ~ N(0, 1).
    pub fn expect(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&z, &w)| w * f(z))
            .sum()
    }

    /// (E[f(u)f(v)], E[g(u)g(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]), by the tensor rule on
    /// u = √a·z₁, v = (c/√a)·z₁ + √(b − c²/a)·z₂ (N² evaluations of f and of g).
    pub fn expect2(
        &self,
        f: impl Fn(f64) -> f64,
        g: impl Fn(f64) -> f64,
        a: f64,
        c: f64,
        b: f64,
    ) -> (f64, f64) {
        let l11 = a.max(0.0).sqrt();
        let l21 = if l11 > 0.0 { c / l11 } else { 0.0 };
        let l22 = (b - l21 * l21).max(0.0).sqrt();
        let (mut ff, mut gg) = (0.0, 0.0);
        for (&z1, &w1) in self.nodes.iter().zip(&self.weights) {
            let u = l11 * z1;
            let (fu, gu) = (f(u), g(u));
            let (mut inner_f, mut inner_g) = (0.0, 0.0);
            for (&z2, &w2) in self.nodes.iter().zip(&self.weights) {
                let v = l21 * z1 + l22 * z2;
                inner_f += w2 * f(v);
                inner_g += w2 * g(v);
            }
            ff += w1 * fu * inner_f;
            gg += w1 * gu * inner_g;
        }
        (ff, gg)
    }
}

/// (h_N(x), h_{N−1}(x), Σ_{k<N} h_k(x)²) for the orthonormal Hermite functions
/// h_k(x) = ψ_k(x)·e^{−x²/2}, from h_0 = π^{−1/4}e^{−x²/2} and
/// h_{k+1} = √(2/(k+1))·x·h_k − √(k/(k+1))·h_{k−1}.
fn hermite_functions(n: usize, x: f64) -> (f64, f64, f64) {
    let mut prev = 0.0;
    let mut cur = std::f64::consts::PI.powf(-0.25) * (-0.5 * x * x).exp();
    let mut sum_sq = 0.0;
    for k in 0..n {
        sum_sq += cur * cur;
        let next =
            (2.0 / (k as f64 + 1.0)).sqrt() * x * cur - (k as f64 / (k as f64 + 1.0)).sqrt() * prev;
        prev = cur;
        cur = next;
    }
    (cur, prev, sum_sq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_integrates_gaussian_moments() {
        // E[z^{2k}] = (2k − 1)!! exactly for 2k < 2N; rounding of sums of O(N) terms of size
        // up to (2k−1)!! leaves ~1e-13 relative.
        for n in [5, 20, 64, 150] {
            let rule = GaussHermite::new(n);
            assert!((rule.weights.iter().sum::<f64>() - 1.0).abs() < 1e-13);
            let mut double_fact = 1.0;
            for k in 1..6.min(n) {
                double_fact *= (2 * k - 1) as f64;
                let m = rule.expect(|z| z.powi(2 * k as i32));
                assert!((m / double_fact - 1.0).abs() < 1e-12, "n {n} k {k}: {m}");
                assert!(rule.expect(|z| z.powi(2 * k as i32 - 1)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn two_dimensional_rule_reproduces_the_covariance() {
        // E[uv] = c and E[u²v²] = ab + 2c² are polynomial: exact up to rounding (1e-13).
        let rule = GaussHermite::new(8);
        let (a, c, b) = (1.7, -0.6, 0.9);
        let (uv, _) = rule.expect2(|u| u, |u| u, a, c, b);
        assert!((uv - c).abs() < 1e-13);
        let (u2v2, _) = rule.expect2(|u| u * u, |u| u, a, c, b);
        assert!((u2v2 - (a * b + 2.0 * c * c)).abs() < 1e-13);
    }
}
