//! The isotropic linear model of Hastie, Montanari, Rosset & Tibshirani, "Surprises in
//! high-dimensional ridgeless least squares interpolation" (Ann. Statist. 50(2), 2022;
//! arXiv:1903.08560).
//!
//! **Model.** n samples x ~ N(0, I_p), y = xᵀβ + ε with ‖β‖² = r² and Var ε = σ²; γ = p/n.
//! The risk of an estimate β̂ is the excess test risk E_x (xᵀ(β̂ − β))² = ‖β̂ − β‖², averaged
//! over the training data (add σ² for the error on a noisy test label).
//!
//! **Minimum-norm least squares** (β̂ = X⁺y), as n, p → ∞ with p/n → γ (their result for
//! isotropic features):
//!
//! ```text
//! γ < 1:  R = σ² γ / (1 − γ)                       (bias 0)
//! γ > 1:  R = r² (1 − 1/γ) + σ² / (γ − 1)
//! ```
//!
//! For Gaussian X the expectation is also exact at finite n and p ([`min_norm_risk_finite`]):
//! for p ≤ n − 2, X⁺y − β = (XᵀX)⁻¹Xᵀε and E (XᵀX)⁻¹ = I/(n − p − 1) (inverse-Wishart mean), so
//! R = σ² p/(n − p − 1); for p ≥ n + 2 the row space of X is a uniformly random n-dimensional
//! subspace, so the bias is r²(1 − n/p) exactly, and E (XXᵀ)⁻¹ = I/(p − n − 1) gives the
//! variance σ² n/(p − n − 1). At p ∈ {n − 1, n, n + 1} the variance is infinite.
//!
//! **Ridge regression** β̂_λ = argmin (1/n)‖y − Xβ‖² + λ‖β‖² = (XᵀX/n + λI)⁻¹Xᵀy/n, with β drawn
//! uniformly on the sphere of radius r (Hastie et al., ridge regression with isotropic features;
//! the same limit is in Dobriban & Wager, "High-dimensional asymptotics of prediction: ridge
//! regression and classification", Ann. Statist. 46(1), 2018):
//!
//! ```text
//! R(λ) = r² λ² m'(−λ)  +  σ² γ [ m(−λ) − λ m'(−λ) ]
//!        (bias)            (variance)
//! ```
//!
//! where m(z) = ∫ dμ_γ(s)/(s − z) is the Stieltjes transform of the Marchenko–Pastur law μ_γ
//! (ratio γ, unit variance: the limiting spectrum of XᵀX/n). It solves the quadratic
//! γzm² − (1 − γ − z)m + 1 = 0, so at z = −λ < 0
//!
//! ```text
//! m(−λ)  = [ −(1 − γ + λ) + √((1 − γ + λ)² + 4γλ) ] / (2γλ)
//! m'(−λ) = (γ m² + m) / √((1 − γ + λ)² + 4γλ)
//! ```
//!
//! The risk is minimised at λ* = σ²γ/r² (in this normalisation of the penalty), where
//! R(λ*) = σ²γ m(−λ*). As λ → 0 the ridge risk tends to the minimum-norm risk on both sides
//! of γ = 1.

use super::RiskParts;

/// Asymptotic risk of minimum-norm least squares at γ = p/n (γ > 0). At γ = 1 the variance
/// is +∞ (0 when σ² = 0).
pub fn min_norm_risk(gamma: f64, r2: f64, sigma2: f64) -> RiskParts {
    let infinite_variance = if sigma2 > 0.0 { f64::INFINITY } else { 0.0 };
    if gamma < 1.0 {
        RiskParts {
            bias: 0.0,
            variance: sigma2 * gamma / (1.0 - gamma),
        }
    } else if gamma > 1.0 {
        RiskParts {
            bias: r2 * (1.0 - 1.0 / gamma),
            variance: sigma2 / (gamma - 1.0),
        }
    } else {
        RiskParts {
            bias: 0.0,
            variance: infinite_variance,
        }
    }
}

/// The exact expected risk of minimum-norm least squares with n Gaussian samples of
/// dimension p, where it is finite: p ≤ n − 2 or p ≥ n + 2 (None otherwise, or for n = 0).
pub fn min_norm_risk_finite(n: usize, p: usize, r2: f64, sigma2: f64) -> Option<RiskParts> {
    let (nf, pf) = (n as f64, p as f64);
    if n == 0 || p == 0 {
        return None;
    }
    if p + 2 <= n {
        Some(RiskParts {
            bias: 0.0,
            variance: sigma2 * pf / (nf - pf - 1.0),
        })
    } else if p >= n + 2 {
        Some(RiskParts {
            bias: r2 * (1.0 - nf / pf),
            variance: sigma2 * nf / (pf - nf - 1.0),
        })
    } else {
        None
    }
}

/// (m(−λ), m'(−λ)): the Marchenko–Pastur Stieltjes transform at z = −λ and its derivative
/// in z, for γ > 0 and λ > 0.
pub fn marchenko_pastur_stieltjes(gamma: f64, lambda: f64) -> (f64, f64) {
    let b = 1.0 - gamma + lambda;
    let root = (b * b + 4.0 * gamma * lambda).sqrt();
    // The two algebraically equal forms, each free of cancellation on its side of b = 0.
    let m = if b >= 0.0 {
        2.0 / (b + root)
    } else {
        (root - b) / (2.0 * gamma * lambda)
    };
    let dm = (gamma * m * m + m) / root;
    (m, dm)
}

/// Asymptotic risk of ridge regression with penalty λ ≥ 0 (λ = 0: [`min_norm_risk`]).
pub fn ridge_risk(gamma: f64, lambda: f64, r2: f64, sigma2: f64) -> RiskParts {
    if lambda <= 0.0 {
        return min_norm_risk(gamma, r2, sigma2);
    }
    let (m, dm) = marchenko_pastur_stieltjes(gamma, lambda);
    RiskParts {
        bias: r2 * lambda * lambda * dm,
        variance: sigma2 * gamma * (m - lambda * dm),
    }
}

/// The risk-minimising ridge λ* = σ²γ/r² (+∞ when r² = 0; 0 when σ² = 0).
pub fn optimal_ridge(gamma: f64, r2: f64, sigma2: f64) -> f64 {
    if r2 <= 0.0 {
        f64::INFINITY
    } else {
        sigma2 * gamma / r2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stieltjes_solves_its_quadratic_and_matches_the_density_integral() {
        for &gamma in &[0.2, 0.9, 1.0, 1.7, 5.0] {
            for &lambda in &[1e-6, 1e-2, 0.3, 4.0] {
                let (m, dm) = marchenko_pastur_stieltjes(gamma, lambda);
                let z = -lambda;
                let q = gamma * z * m * m - (1.0 - gamma - z) * m + 1.0;
                assert!(q.abs() < 1e-9 * (1.0 + m * m), "γ {gamma} λ {lambda}: {q}");
                // m' against a central difference of m.
                let h = 1e-3 * lambda;
                let fd = (marchenko_pastur_stieltjes(gamma, lambda - h).0
                    - marchenko_pastur_stieltjes(gamma, lambda + h).0)
                    / (2.0 * h);
                assert!(
                    (dm - fd).abs() < 1e-5 * dm,
                    "γ {gamma} λ {lambda}: {dm} vs {fd}"
                );
            }
        }
        // Against ∫ dμ(s)/(s + λ) by quadrature of the MP density (γ < 1: no atom at 0).
        let (gamma, lambda) = (0.5f64, 0.2);
        let (a, b) = ((1.0 - gamma.sqrt()).powi(2), (1.0 + gamma.sqrt()).powi(2));
        let steps = 200_000;
        let mut integral = 0.0;
        for i in 0..steps {
            // The substitution s = a + (b − a)(1 − cos θ)/2 removes the edge singularities.
            let th = std::f64::consts::PI * (i as f64 + 0.5) / steps as f64;
            let s = a + (b - a) * (1.0 - th.cos()) / 2.0;
            let ds = (b - a) * th.sin() / 2.0 * std::f64::consts::PI / steps as f64;
            let density = ((b - s) * (s - a)).sqrt() / (2.0 * std::f64::consts::PI * gamma * s);
            integral += density / (s + lambda) * ds;
        }
        let (m, _) = marchenko_pastur_stieltjes(gamma, lambda);
        assert!((m - integral).abs() < 1e-6, "{m} vs {integral}");
    }

    #[test]
    fn ridge_tends_to_min_norm_as_the_penalty_vanishes() {
        for &gamma in &[0.25, 0.5, 0.8, 1.25, 2.0, 4.0] {
            let exact = min_norm_risk(gamma, 1.0, 0.5).total();
            let ridge = ridge_risk(gamma, 1e-9, 1.0, 0.5).total();
            assert!(
                (ridge - exact).abs() < 1e-6 * exact,
                "γ {gamma}: {ridge} vs {exact}"
            );
        }
    }

    #[test]
    fn the_optimal_ridge_is_the_minimum_with_the_closed_form_value() {
        for &gamma in &[0.3, 1.0, 2.5] {
            let (r2, s2) = (1.0, 0.4);
            let opt = optimal_ridge(gamma, r2, s2);
            let best = ridge_risk(gamma, opt, r2, s2).total();
            let (m, _) = marchenko_pastur_stieltjes(gamma, opt);
            assert!((best - s2 * gamma * m).abs() < 1e-12);
            for f in [0.5, 0.9, 1.1, 2.0] {
                assert!(ridge_risk(gamma, f * opt, r2, s2).total() > best);
            }
            // Optimal ridge removes the peak: finite at γ = 1, below the null risk r².
            assert!(best.is_finite() && best < r2);
        }
    }

    #[test]
    fn finite_n_expectation_approaches_the_limit() {
        for &(p, n) in &[(50usize, 100usize), (200, 100)] {
            let exact = min_norm_risk_finite(n, p, 1.0, 1.0).unwrap().total();
            let gamma = p as f64 / n as f64;
            let asym = min_norm_risk(gamma, 1.0, 1.0).total();
            // The two differ by O(1/|n − p|).
            assert!((exact - asym).abs() < 2.0 / (n as f64 - p as f64).abs() * asym.max(1.0));
            let exact10 = min_norm_risk_finite(10 * n, 10 * p, 1.0, 1.0)
                .unwrap()
                .total();
            assert!((exact10 - asym).abs() < (exact - asym).abs() / 5.0);
        }
        assert!(min_norm_risk_finite(100, 99, 1.0, 1.0).is_none());
        assert!(min_norm_risk_finite(100, 101, 1.0, 1.0).is_none());
        assert!(min_norm_risk(1.0, 1.0, 1.0).variance.is_infinite());
    }
}
