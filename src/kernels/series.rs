//! Infinite-width kernels of odd activations with no closed form (tanh) through their Hermite
//! expansion: fast, accurate, and positive semi-definite by construction.
//!
//! Write φ(√a·z) = Σ_k α_k(a)·h_k(z) with h_k = He_k/√k! the orthonormal (probabilists')
//! Hermite polynomials and z ~ N(0, 1). For (u, v) ~ N(0, [[a, c], [c, b]]) Mehler's formula
//! E[h_k(z)h_m(z')] = δ_km·ρ^k (ρ = c/√(ab)) gives the dual activation (Daniely et al. 2016)
//!
//! ```text
//! E[φ(u)φ(v)] = Σ_k α_k(a) α_k(b) ρ^k,      E[φ'(u)φ'(v)] = (1/√(ab))·d/dρ Σ_k α_k(a) α_k(b) ρ^k
//! ```
//!
//! (the second because d/dz φ(√a z) = √a·φ'(√a z) and h_k' = √k·h_{k−1}). For odd φ only odd k
//! appear. With ĉ_j(a) = α_{2j+1}(a)/√a (whose a → 0 limit is φ'(0)·δ_j0) and w = ρ²:
//!
//! ```text
//! Q(w) = Σ_j ĉ_j(a) ĉ_j(b) w^j,     E[φ(u)φ(v)] = c·Q(w),     E[φ'(u)φ'(v)] = Q(w) + 2w·Q'(w)
//! ```
//!
//! so each matrix entry costs one Horner pass over J terms, after O(J·N) work per point and
//! layer for its coefficients. Every truncation Σ_{j<J} is a sum of Schur products of PSD
//! matrices, so kernel matrices stay PSD whatever J is.
//!
//! The coefficients come from a fixed Gauss–Hermite rule ([`NODES`] nodes, exact for the
//! products of polynomials up to degree 2·NODES − 1); J is chosen per kernel computation as
//! the smallest that leaves a relative tail below 1e-14 in the derivative series at ρ = 1, up
//! to [`TERMS`]. The Hermite coefficients of tanh(√a·z) decay like exp(−π·√(k/(2a))), so the
//! series is accurate to ~1e-13 for variances a ≲ 7 and loses accuracy gradually beyond
//! (≈ 1e-7 at a = 20).

use std::sync::OnceLock;

use crate::math::quadrature::GaussHermite;
use crate::nn::Activation;

/// Odd Hermite terms kept at most (degree 2·TERMS − 1 in z).
pub const TERMS: usize = 128;

/// Nodes of the rule that computes the coefficients.
pub const NODES: usize = 320;

/// ĉ_j at the rule's nodes: `table[i·TERMS + j]` = 2·w_i·h_{2j+1}(z_i) for the positive nodes
/// z_i (an odd φ times an odd h is even in z, so the negative half doubles the positive one).
struct Table {
    nodes: Vec<f64>,
    table: Vec<f64>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rule = GaussHermite::new(NODES);
        let mut nodes = Vec::new();
        let mut table = Vec::new();
        for (&z, &w) in rule.nodes.iter().zip(&rule.weights) {
            if z <= 0.0 {
                continue;
            }
            nodes.push(z);
            // g_k = w·h_k(z) by h_{k+1} = (z·h_k − √k·h_{k−1})/√(k+1), the weight folded in
            // so that neither factor overflows or underflows on its own.
            let (mut prev, mut cur) = (0.0, w);
            for k in 0..2 * TERMS {
                let next = (z * cur - (k as f64).sqrt() * prev) / ((k + 1) as f64).sqrt();
                prev = cur;
                cur = next;
                if k % 2 == 0 {
                    // cur is now g_{k+1}, an odd index.
                    table.push(2.0 * cur);
                }
            }
        }
        Table { nodes, table }
    })
}

/// ĉ_j(a) = α_{2j+1}(a)/√a for j < TERMS into `out`, for an odd activation and a ≥ 0.
pub fn coefficients(act: Activation, a: f64, out: &mut [f64]) {
    let out = &mut out[..TERMS];
    if a <= 0.0 {
        out.fill(0.0);
        out[0] = act.derivative_f64(0.0);
        return;
    }
    let t = table();
    let r = a.sqrt();
    out.fill(0.0);
    for (i, &z) in t.nodes.iter().enumerate() {
        let f = act.apply_f64(r * z) / r;
        for (o, &g) in out.iter_mut().zip(&t.table[i * TERMS..(i + 1) * TERMS]) {
            *o += f * g;
        }
    }
}

/// The number of terms J that leaves Σ_{j≥J} (2j+1)ĉ_j² below 1e-14 of the whole sum.
pub fn terms_needed(c: &[f64]) -> usize {
    let total: f64 = c
        .iter()
        .enumerate()
        .map(|(j, v)| (2 * j + 1) as f64 * v * v)
        .sum();
    let mut tail = 0.0;
    for j in (0..c.len()).rev() {
        tail += (2 * j + 1) as f64 * c[j] * c[j];
        if tail > 1e-14 * total {
            return j + 1;
        }
    }
    1
}

/// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) from the coefficients of both points, their covariance c and
/// w = ρ² (0 when either variance is 0), over the first `terms` coefficients.
#[inline]
pub fn moments(ca: &[f64], cb: &[f64], c: f64, w: f64, terms: usize) -> (f64, f64) {
    let (ca, cb) = (&ca[..terms], &cb[..terms]);
    let (mut q, mut dq) = (0.0, 0.0);
    for j in (0..terms).rev() {
        dq = dq * w + q;
        q = q * w + ca[j] * cb[j];
    }
    (c * q, q + 2.0 * w * dq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_derivative_limits() {
        // φ = identity: ĉ = (1, 0, 0, …) for every a, so E[uv] = c and E[1] = 1 (1e-13: the
        // rule integrates z² exactly, up to rounding of 160-term sums).
        let mut c = vec![0.0; TERMS];
        coefficients(Activation::Linear, 2.5, &mut c);
        assert!((c[0] - 1.0).abs() < 1e-13 && c[1..].iter().all(|v| v.abs() < 1e-13));
        let (m0, m1) = moments(&c, &c, 0.7, 0.1, terms_needed(&c));
        assert!((m0 - 0.7).abs() < 1e-13 && (m1 - 1.0).abs() < 1e-13);
        // a = 0 is the limit: ĉ_0 = φ'(0).
        coefficients(Activation::Tanh, 0.0, &mut c);
        assert_eq!((c[0], c[1]), (1.0, 0.0));
    }
}
