//! The asymptotic test error of random-features ridge regression: Mei & Montanari, "The
//! generalization error of random features regression: precise asymptotics and double descent
//! curve" (Comm. Pure Appl. Math. 75(4), 2022; arXiv:1908.05355).
//!
//! **Parametrisation (theirs, used verbatim).** Inputs x_i ~ Unif(S^{d−1}(√d)) (the sphere of
//! radius √d), first-layer weights θ_a ~ Unif(S^{d−1}(√d)), N features σ(⟨θ_a, x⟩/√d), n
//! samples, in the limit N, n, d → ∞ with
//!
//! ```text
//! ψ₁ = N/d,   ψ₂ = n/d.
//! ```
//!
//! The target is f(x) = β₀ + ⟨β₁, x⟩ + f_NL(x) with ‖β₁‖² → F₁² (the linear signal), f_NL of
//! degree ≥ 2 with E f_NL² → F⋆² (the nonlinear part), and labels y = f(x) + ε, Var ε = τ².
//! The fit is
//!
//! ```text
//! â = argmin_a (1/n) Σ_i (y_i − Σ_a a_a σ(⟨θ_a, x_i⟩/√d))² + (Nλ/d) ‖a‖²,
//! ```
//!
//! and the risk is R = E_x (f(x) − f̂(x))² (noise excluded). The activation enters through
//! its Hermite coefficients under G ~ N(0, 1):
//!
//! ```text
//! μ₀ = E σ(G),  μ₁ = E G σ(G),  μ⋆² = E σ(G)² − μ₀² − μ₁²,  ζ = μ₁/μ⋆,  λ̄ = λ/μ⋆².
//! ```
//!
//! (μ₀ does not enter the limit.) ReLU: μ₀ = 1/√(2π), μ₁ = 1/2, μ⋆² = 1/4 − 1/(2π), ζ ≈ 1.659.
//!
//! **Fixed point (their Definition 1).** ν₁, ν₂ : C₊ → C₊ are the analytic solutions of
//!
//! ```text
//! ν₁ = ψ₁ ( −ξ − ν₂ − ζ² ν₂ / (1 − ζ² ν₁ ν₂) )⁻¹,
//! ν₂ = ψ₂ ( −ξ − ν₁ − ζ² ν₁ / (1 − ζ² ν₁ ν₂) )⁻¹,
//! ```
//!
//! with |ν_i(ξ)| ≤ ψ_i/Im ξ, and χ = ν₁(ξ)ν₂(ξ) at ξ = i√(ψ₁ψ₂λ̄). Then
//!
//! ```text
//! E₀ = −χ⁵ζ⁶ + 3χ⁴ζ⁴ + (ψ₁ψ₂ − ψ₂ − ψ₁ + 1)χ³ζ⁶ − 2χ³ζ⁴ − 3χ³ζ²
//!      + (ψ₁ + ψ₂ − 3ψ₁ψ₂ + 1)χ²ζ⁴ + 2χ²ζ² + χ² + 3ψ₁ψ₂χζ² − ψ₁ψ₂,
//! E₁ = ψ₂χ³ζ⁴ − ψ₂χ²ζ² + ψ₁ψ₂χζ² − ψ₁ψ₂,
//! E₂ = χ⁵ζ⁶ − 3χ⁴ζ⁴ + (ψ₁ − 1)χ³ζ⁶ + 2χ³ζ⁴ + 3χ³ζ² + (−ψ₁ − 1)χ²ζ⁴ − 2χ²ζ² − χ²,
//! B = E₁/E₀,  V = E₂/E₀,  R = F₁² B + (τ² + F⋆²) V + F⋆²      (their Theorem 1).
//! ```
//!
//! **Solving it.** On the imaginary axis ξ = iη (η > 0) the solution is purely imaginary,
//! ν₁ = i·a, ν₂ = i·b with a, b > 0, and the equations become
//! a(η + b(1 + ζ²/(1 + ζ²ab))) = ψ₁ and b(η + a(1 + ζ²/(1 + ζ²ab))) = ψ₂. With u = ab and
//! g(u) = u(1 + ζ²/(1 + ζ²u)) they read aη = ψ₁ − g(u), bη = ψ₂ − g(u), hence one scalar
//! equation
//!
//! ```text
//! H(u) = η² u − (ψ₁ − g(u)) (ψ₂ − g(u)) = 0,     0 < u < u₀,  g(u₀) = min(ψ₁, ψ₂).
//! ```
//!
//! g is increasing (g' = 1 + ζ²/(1 + ζ²u)² > 0), so H rises from −ψ₁ψ₂ at 0 to η²u₀ > 0 at u₀:
//! exactly one root, which bisection finds to machine precision. It gives a, b > 0 (so ν₁, ν₂
//! lie in C₊ and obey the bound |ν_i| ≤ ψ_i/η), and χ = −u. No complex arithmetic is needed.
//!
//! **Ridgeless limit.** As λ → 0 (η → 0), H(u) = 0 forces g(u) → min(ψ₁, ψ₂), so
//! χ → −u₀ with ζ²u₀² + (1 + ζ² − ψζ²)u₀ − ψ = 0, ψ = min(ψ₁, ψ₂):
//! χ = −[(ψζ² − ζ² − 1) + √((ψζ² − ζ² − 1)² + 4ζ²ψ)]/(2ζ²), the closed form of their ridgeless
//! theorem; the risk is the formula above at that χ. It diverges at ψ₁ = ψ₂ (N = n), where
//! E₀ = 0.
//!
//! **Kernel limit.** As ψ₁ → ∞ the features span the kernel K(x, x') = E_θ σσ', which in this
//! regime acts as μ₀² + μ₁²⟨x, x'⟩/d + μ⋆² δ(x, x'): ridge regression on the linear part with
//! the μ⋆² part as extra ridge. In the normalisation of [`super::hastie`] that is γ = 1/ψ₂,
//! λ_H = 1/(ψ₂ζ²) + λ/μ₁², signal F₁², noise τ² + F⋆², plus the unlearnable F⋆²
//! ([`kernel_limit`]).

use serde::Serialize;

use super::RiskParts;
use super::hastie;
use crate::math::quadrature::GaussHermite;
use crate::nn::Activation;

/// The Hermite coefficients of an activation under G ~ N(0, 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationCoefficients {
    /// μ₀ = E σ(G)
    pub mu0: f64,
    /// μ₁ = E G σ(G)
    pub mu1: f64,
    /// μ⋆ = √(E σ(G)² − μ₀² − μ₁²)
    pub mu_star: f64,
}

impl ActivationCoefficients {
    /// ReLU, in closed form.
    pub fn relu() -> Self {
        let two_pi = 2.0 * std::f64::consts::PI;
        ActivationCoefficients {
            mu0: 1.0 / two_pi.sqrt(),
            mu1: 0.5,
            mu_star: (0.25 - 1.0 / two_pi).sqrt(),
        }
    }

    /// Any activation of the MLP family: ReLU in closed form, the others by 200-point
    /// Gauss–Hermite quadrature (exact to rounding for the smooth ones). The linear
    /// activation has μ⋆ = 0, for which the random-features limit degenerates (ζ = ∞).
    pub fn of(activation: Activation) -> Self {
        if activation == Activation::Relu {
            return Self::relu();
        }
        let rule = GaussHermite::new(200);
        let mu0 = rule.expect(|z| activation.apply_f64(z));
        let mu1 = rule.expect(|z| z * activation.apply_f64(z));
        let second = rule.expect(|z| activation.apply_f64(z).powi(2));
        ActivationCoefficients {
            mu0,
            mu1,
            mu_star: (second - mu0 * mu0 - mu1 * mu1).max(0.0).sqrt(),
        }
    }

    /// ζ = μ₁/μ⋆.
    pub fn zeta(&self) -> f64 {
        self.mu1 / self.mu_star
    }
}

/// One point of the Mei–Montanari limit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RfSetting {
    /// ψ₁ = N/d (features per input dimension), > 0.
    pub psi1: f64,
    /// ψ₂ = n/d (samples per input dimension), > 0.
    pub psi2: f64,
    /// λ ≥ 0 in the penalty (Nλ/d)‖a‖²; 0 is the ridgeless limit.
    pub lambda: f64,
    pub coefficients: ActivationCoefficients,
    /// F₁²: the squared norm of the linear part of the target.
    pub signal: f64,
    /// F⋆²: the variance of the nonlinear part of the target.
    pub nonlinear: f64,
    /// τ²: the label-noise variance.
    pub noise: f64,
}

/// The asymptotic risk with its parts: R = F₁²·B + (τ² + F⋆²)·V + F⋆².
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RfRisk {
    /// B = E₁/E₀ (the risk per unit of linear signal).
    pub b: f64,
    /// V = E₂/E₀ (the risk per unit of noise and nonlinear power).
    pub v: f64,
    /// χ = ν₁ν₂ at ξ = i√(ψ₁ψ₂λ̄).
    pub chi: f64,
    /// R (+∞ at the ridgeless divergence ψ₁ = ψ₂ with τ² + F⋆² > 0).
    pub risk: f64,
}

impl RfRisk {
    /// The risk split into the part that remains without label noise and the part the noise
    /// adds.
    pub fn parts(&self, setting: &RfSetting) -> RiskParts {
        RiskParts {
            bias: setting.signal * self.b + setting.nonlinear * self.v + setting.nonlinear,
            variance: setting.noise * self.v,
        }
    }
}

fn g(u: f64, z2: f64) -> f64 {
    u * (1.0 + z2 / (1.0 + z2 * u))
}

/// u₀ > 0 with g(u₀) = ψ: the positive root of ζ²u² + (1 + ζ² − ψζ²)u − ψ = 0.
fn ridgeless_u(z2: f64, psi: f64) -> f64 {
    let b = 1.0 + z2 - psi * z2;
    let root = (b * b + 4.0 * z2 * psi).sqrt();
    // Cancellation-free on both signs of b.
    if b >= 0.0 {
        2.0 * psi / (b + root)
    } else {
        (root - b) / (2.0 * z2)
    }
}

/// The fixed point on the imaginary axis: (a, b) with ν₁(iη) = i·a, ν₂(iη) = i·b, for η > 0.
pub fn fixed_point(zeta: f64, psi1: f64, psi2: f64, eta: f64) -> (f64, f64) {
    let z2 = zeta * zeta;
    let u = solve_u(z2, psi1, psi2, eta * eta);
    // The factor of the larger ψ is well conditioned; the other one, which can be tiny, comes
    // from the product η²u rather than from a cancelling difference.
    let big = psi1.max(psi2) - g(u, z2);
    let small = eta * eta * u / big;
    if psi1 >= psi2 {
        (big / eta, small / eta)
    } else {
        (small / eta, big / eta)
    }
}

/// The root u ∈ (0, u₀) of H(u) = η²u − (ψ₁ − g(u))(ψ₂ − g(u)), by bisection.
fn solve_u(z2: f64, psi1: f64, psi2: f64, eta2: f64) -> f64 {
    let u0 = ridgeless_u(z2, psi1.min(psi2));
    if eta2 <= 0.0 {
        return u0;
    }
    let h = |u: f64| {
        let gu = g(u, z2);
        eta2 * u - (psi1 - gu) * (psi2 - gu)
    };
    let (mut lo, mut hi) = (0.0, u0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if h(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// χ = ν₁ν₂ at ξ = i√(ψ₁ψ₂λ̄) (λ̄ ≥ 0; 0 gives the ridgeless closed form).
pub fn chi(zeta: f64, psi1: f64, psi2: f64, lambda_bar: f64) -> f64 {
    -solve_u(zeta * zeta, psi1, psi2, psi1 * psi2 * lambda_bar.max(0.0))
}

/// The asymptotic risk of Mei & Montanari (λ = 0: the ridgeless limit).
pub fn risk(s: &RfSetting) -> RfRisk {
    let zeta = s.coefficients.zeta();
    let lambda_bar = s.lambda / (s.coefficients.mu_star * s.coefficients.mu_star);
    let (psi1, psi2) = (s.psi1, s.psi2);
    let c = chi(zeta, psi1, psi2, lambda_bar);
    let z2 = zeta * zeta;
    let (z4, z6) = (z2 * z2, z2 * z2 * z2);
    let (c2, c3) = (c * c, c * c * c);
    let (c4, c5) = (c3 * c, c3 * c2);
    let pp = psi1 * psi2;
    let e0 = -c5 * z6 + 3.0 * c4 * z4 + (pp - psi2 - psi1 + 1.0) * c3 * z6
        - 2.0 * c3 * z4
        - 3.0 * c3 * z2
        + (psi1 + psi2 - 3.0 * pp + 1.0) * c2 * z4
        + 2.0 * c2 * z2
        + c2
        + 3.0 * pp * c * z2
        - pp;
    let e1 = psi2 * c3 * z4 - psi2 * c2 * z2 + pp * c * z2 - pp;
    let e2 = c5 * z6 - 3.0 * c4 * z4 + (psi1 - 1.0) * c3 * z6 + 2.0 * c3 * z4 + 3.0 * c3 * z2
        - (psi1 + 1.0) * c2 * z4
        - 2.0 * c2 * z2
        - c2;
    let (b, v) = if s.lambda <= 0.0 && psi1 == psi2 {
        // E₀ = 0 exactly at the interpolation threshold.
        (f64::INFINITY, f64::INFINITY)
    } else {
        (e1 / e0, e2 / e0)
    };
    let noise_like = s.noise + s.nonlinear;
    let risk = if v.is_infinite() {
        if noise_like > 0.0 || s.signal > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    } else {
        s.signal * b + noise_like * v + s.nonlinear
    };
    RfRisk { b, v, chi: c, risk }
}

/// The ψ₁ → ∞ limit of [`risk`] (kernel ridge regression with the random-features kernel).
pub fn kernel_limit(s: &RfSetting) -> f64 {
    let c = &s.coefficients;
    let gamma = 1.0 / s.psi2;
    let lambda_h = 1.0 / (s.psi2 * c.zeta() * c.zeta()) + s.lambda / (c.mu1 * c.mu1);
    hastie::ridge_risk(gamma, lambda_h, s.signal, s.noise + s.nonlinear).total() + s.nonlinear
}

/// The λ ≥ 0 minimising [`risk`] at this (ψ₁, ψ₂), searched over λ ∈ {0} ∪ [1e-8, 1e3]:
/// a scan of 111 log-spaced values, then golden-section refinement in log λ.
pub fn optimal_lambda(s: &RfSetting) -> f64 {
    let at = |lambda: f64| risk(&RfSetting { lambda, ..*s }).risk;
    let grid = super::log_grid(1e-8, 1e3, 111);
    let (mut best_i, mut best) = (0, f64::INFINITY);
    for (i, &l) in grid.iter().enumerate() {
        let r = at(l);
        if r < best {
            best = r;
            best_i = i;
        }
    }
    let lo = grid[best_i.saturating_sub(1)].ln();
    let hi = grid[(best_i + 1).min(grid.len() - 1)].ln();
    let phi = 0.5 * (5f64.sqrt() - 1.0);
    let (mut a, mut b) = (lo, hi);
    for _ in 0..60 {
        let x1 = b - phi * (b - a);
        let x2 = a + phi * (b - a);
        if at(x1.exp()) < at(x2.exp()) {
            b = x2;
        } else {
            a = x1;
        }
    }
    let refined = (0.5 * (a + b)).exp();
    if at(0.0) < at(refined) { 0.0 } else { refined }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal complex number for checking the solution against the complex equations.
    #[derive(Clone, Copy)]
    struct C(f64, f64);
    impl C {
        fn add(self, o: C) -> C {
            C(self.0 + o.0, self.1 + o.1)
        }
        fn mul(self, o: C) -> C {
            C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
        }
        fn inv(self) -> C {
            let d = self.0 * self.0 + self.1 * self.1;
            C(self.0 / d, -self.1 / d)
        }
        fn scale(self, s: f64) -> C {
            C(self.0 * s, self.1 * s)
        }
    }

    fn setting(psi1: f64, psi2: f64, lambda: f64) -> RfSetting {
        RfSetting {
            psi1,
            psi2,
            lambda,
            coefficients: ActivationCoefficients::relu(),
            signal: 1.0,
            nonlinear: 0.0,
            noise: 0.25,
        }
    }

    #[test]
    fn relu_coefficients_match_quadrature() {
        let exact = ActivationCoefficients::relu();
        // Midpoint rule on [0, 12] for E[G^k max(G, 0)], k = 0, 1, 2 (the kink defeats
        // Gauss–Hermite); the rule's error is below 1e-10 at this step.
        let steps = 200_000;
        let h = 12.0 / steps as f64;
        let mut m = [0.0f64; 3];
        for i in 0..steps {
            let z = (i as f64 + 0.5) * h;
            let w = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt() * h;
            m[0] += z * w;
            m[1] += z * z * w;
            m[2] += z * z * w;
        }
        let mu_star = (m[2] - m[0] * m[0] - m[1] * m[1]).sqrt();
        assert!((m[0] - exact.mu0).abs() < 1e-9, "{} vs {}", m[0], exact.mu0);
        assert!((m[1] - exact.mu1).abs() < 1e-9);
        assert!((mu_star - exact.mu_star).abs() < 1e-8);
        assert!((exact.zeta() - 1.6589).abs() < 1e-3);
        let erf = ActivationCoefficients::of(Activation::Erf);
        // erf: μ₀ = 0 (odd), μ₁ = E[G erf(G)] = 2/√(3π).
        assert!(erf.mu0.abs() < 1e-12);
        assert!((erf.mu1 - 2.0 / (3.0 * std::f64::consts::PI).sqrt()).abs() < 1e-10);
    }

    #[test]
    fn the_solution_satisfies_the_complex_fixed_point_equations() {
        for &(psi1, psi2) in &[(0.5, 3.0), (3.0, 3.0), (10.0, 2.0), (100.0, 0.3)] {
            for &eta in &[1e-3, 0.1, 1.0, 10.0] {
                let zeta = ActivationCoefficients::relu().zeta();
                let (a, b) = fixed_point(zeta, psi1, psi2, eta);
                assert!(a > 0.0 && b > 0.0);
                assert!(a <= psi1 / eta && b <= psi2 / eta, "the bound |ν| ≤ ψ/Im ξ");
                let (n1, n2, xi) = (C(0.0, a), C(0.0, b), C(0.0, eta));
                let z2 = zeta * zeta;
                let denom = C(1.0, 0.0).add(n1.mul(n2).scale(-z2)).inv();
                let rhs1 = xi
                    .add(n2)
                    .add(n2.mul(denom).scale(z2))
                    .scale(-1.0)
                    .inv()
                    .scale(psi1);
                let rhs2 = xi
                    .add(n1)
                    .add(n1.mul(denom).scale(z2))
                    .scale(-1.0)
                    .inv()
                    .scale(psi2);
                for (lhs, rhs) in [(n1, rhs1), (n2, rhs2)] {
                    let err = ((lhs.0 - rhs.0).powi(2) + (lhs.1 - rhs.1).powi(2)).sqrt();
                    assert!(
                        err < 1e-12 * (1.0 + lhs.1.abs()),
                        "ψ {psi1},{psi2} η {eta}: {err}"
                    );
                }
            }
        }
    }

    #[test]
    fn small_ridge_tends_to_the_ridgeless_closed_form() {
        for &(psi1, psi2) in &[(0.6, 3.0), (2.4, 3.0), (6.0, 3.0), (30.0, 3.0)] {
            let r0 = risk(&setting(psi1, psi2, 0.0)).risk;
            let r_small = risk(&setting(psi1, psi2, 1e-10)).risk;
            assert!(
                (r0 - r_small).abs() < 1e-5 * r0,
                "ψ₁ {psi1}: {r0} vs {r_small}"
            );
        }
    }

    #[test]
    fn ridgeless_risk_diverges_at_the_interpolation_threshold() {
        let psi2 = 3.0;
        assert!(risk(&setting(psi2, psi2, 0.0)).risk.is_infinite());
        let mut last = 0.0;
        for eps in [1e-1, 1e-2, 1e-3, 1e-4] {
            let left = risk(&setting(psi2 * (1.0 - eps), psi2, 0.0)).risk;
            let right = risk(&setting(psi2 * (1.0 + eps), psi2, 0.0)).risk;
            assert!(left > last && right > last, "grows towards ψ₁ = ψ₂");
            // The variance blows up like 1/|ψ₁ − ψ₂|.
            assert!(left * eps > 0.01 && right * eps > 0.01);
            last = left.min(right);
        }
        // Any ridge keeps it finite.
        assert!(risk(&setting(psi2, psi2, 1e-3)).risk.is_finite());
    }

    #[test]
    fn overparametrised_ridgeless_risk_decreases_to_the_kernel_limit() {
        let psi2 = 3.0;
        let limit = kernel_limit(&setting(1.0, psi2, 0.0));
        let mut prev = f64::INFINITY;
        for &psi1 in &[3.3, 4.0, 6.0, 10.0, 30.0, 100.0, 1e3, 1e4] {
            let r = risk(&setting(psi1, psi2, 0.0)).risk;
            assert!(r < prev, "ψ₁ {psi1}: {r} ≥ {prev}");
            assert!(r > limit);
            prev = r;
        }
        let far = risk(&setting(1e7, psi2, 0.0)).risk;
        assert!((far - limit).abs() < 1e-5 * limit, "{far} vs {limit}");
        // With a ridge, and with a nonlinear target, the limit holds too.
        let s = RfSetting {
            nonlinear: 0.5,
            ..setting(1e7, psi2, 0.05)
        };
        let (r, k) = (risk(&s).risk, kernel_limit(&s));
        assert!((r - k).abs() < 1e-5 * k, "{r} vs {k}");
    }

    #[test]
    fn the_optimal_ridge_is_a_minimum_and_removes_the_peak() {
        let s = setting(3.0, 3.0, 0.0);
        let opt = optimal_lambda(&s);
        assert!(opt > 0.0);
        let best = risk(&RfSetting { lambda: opt, ..s }).risk;
        for f in [0.5, 0.8, 1.25, 2.0] {
            assert!(
                risk(&RfSetting {
                    lambda: f * opt,
                    ..s
                })
                .risk
                    >= best
            );
        }
        // At the optimal ridge the risk decreases in ψ₁ (no peak).
        let mut prev = f64::INFINITY;
        for &psi1 in &[0.3, 1.0, 2.0, 3.0, 4.0, 10.0, 30.0] {
            let sp = setting(psi1, 3.0, 0.0);
            let r = risk(&RfSetting {
                lambda: optimal_lambda(&sp),
                ..sp
            })
            .risk;
            assert!(r <= prev + 1e-9, "ψ₁ {psi1}: {r} > {prev}");
            prev = r;
        }
    }
}
