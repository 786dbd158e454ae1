//! The isotropic linear model (Hastie et al.): its closed-form curves on a γ grid and a
//! Monte Carlo check of them.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, in_range};
use crate::rng::Rng;
use crate::theory::{self, hastie};

/// Settings of the isotropic-model panel: γ = p/n swept on a log grid at fixed n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IsotropicConfig {
    /// Samples n (for the finite-n curve).
    pub n: usize,
    /// r² = ‖β‖².
    pub signal: f64,
    /// Noise standard deviation σ.
    pub noise: f64,
    /// Ridge λ in (1/n)‖y − Xβ‖² + λ‖β‖².
    pub ridge: f64,
    pub gamma_min: f64,
    pub gamma_max: f64,
    pub points: usize,
}

impl Default for IsotropicConfig {
    fn default() -> Self {
        IsotropicConfig {
            n: 200,
            signal: 1.0,
            noise: 0.5,
            ridge: 0.0,
            gamma_min: 0.1,
            gamma_max: 10.0,
            points: 201,
        }
    }
}

/// The isotropic-model curves (excess risk, i.e. against the noiseless target).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IsotropicReport {
    pub gamma: Vec<f64>,
    /// Asymptotic minimum-norm risk (+∞ at γ = 1 is reported as None).
    pub min_norm: Vec<Option<f64>>,
    /// Exact expectation at this n with p = round(γn), where finite.
    pub min_norm_finite_n: Vec<Option<f64>>,
    /// Asymptotic ridge risk at the configured λ.
    pub ridge: Vec<Option<f64>>,
    /// Asymptotic risk at the optimal ridge λ*(γ) = σ²γ/r².
    pub optimal_ridge: Vec<Option<f64>>,
    /// The null risk r² (predicting 0), for reference.
    pub null_risk: f64,
}

/// The closed-form curves of [`crate::theory::hastie`] on a γ grid.
pub fn isotropic_curves(cfg: &IsotropicConfig) -> Result<IsotropicReport> {
    in_range("n", cfg.n as f64, [4.0, 1e6])?;
    in_range("signal", cfg.signal, [0.0, 100.0])?;
    in_range("noise", cfg.noise, [0.0, 10.0])?;
    in_range("ridge", cfg.ridge, [0.0, 1e6])?;
    in_range("gammaMin", cfg.gamma_min, [1e-3, 1.0])?;
    in_range("gammaMax", cfg.gamma_max, [1.0, 1e3])?;
    in_range("points", cfg.points as f64, [2.0, 10_000.0])?;
    let (r2, s2) = (cfg.signal, cfg.noise * cfg.noise);
    let finite = |v: f64| v.is_finite().then_some(v);
    let gamma = theory::log_grid(cfg.gamma_min, cfg.gamma_max, cfg.points);
    Ok(IsotropicReport {
        min_norm: gamma
            .iter()
            .map(|&g| finite(hastie::min_norm_risk(g, r2, s2).total()))
            .collect(),
        min_norm_finite_n: gamma
            .iter()
            .map(|&g| {
                let p = (g * cfg.n as f64).round() as usize;
                hastie::min_norm_risk_finite(cfg.n, p, r2, s2).map(|r| r.total())
            })
            .collect(),
        ridge: gamma
            .iter()
            .map(|&g| finite(hastie::ridge_risk(g, cfg.ridge, r2, s2).total()))
            .collect(),
        optimal_ridge: gamma
            .iter()
            .map(|&g| {
                finite(hastie::ridge_risk(g, hastie::optimal_ridge(g, r2, s2), r2, s2).total())
            })
            .collect(),
        null_risk: r2,
        gamma,
    })
}

/// A Monte-Carlo mean with its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
}

/// Monte-Carlo risk ‖β̂ − β‖² of the isotropic model over `reps` independent draws of X ~
/// N(0, 1)^{n×p}, β uniform on the sphere of radius r = √`signal`, and ε ~ N(0, σ²): ridge
/// β̂ = (XᵀX + nλI)⁻¹Xᵀy, or the minimum-norm X⁺y when λ = 0 (solved in the smaller of the
/// primal and dual spaces, by Cholesky).
pub fn isotropic_monte_carlo(
    n: usize,
    p: usize,
    signal: f64,
    noise: f64,
    ridge: f64,
    reps: usize,
    seed: u64,
) -> Result<Estimate> {
    in_range("n", n as f64, [1.0, 4000.0])?;
    in_range("p", p as f64, [1.0, 4000.0])?;
    in_range("reps", reps as f64, [2.0, 10_000.0])?;
    if n == 0 || p == 0 || reps < 2 {
        return Err(Error::config(
            "reps",
            "needs n, p ≥ 1 and at least two repetitions",
        ));
    }
    let mut rng = Rng::new(seed);
    let mut risks = Vec::with_capacity(reps);
    for _ in 0..reps {
        let x = DMatrix::from_fn(n, p, |_, _| rng.normal());
        let mut beta = nalgebra::DVector::from_fn(p, |_, _| rng.normal());
        beta *= signal.sqrt() / beta.norm();
        let y = &x * &beta + nalgebra::DVector::from_fn(n, |_, _| noise * rng.normal());
        let shift = n as f64 * ridge;
        let beta_hat = if p <= n && (ridge > 0.0 || p < n) {
            let g = x.transpose() * &x + DMatrix::identity(p, p) * shift;
            let chol = nalgebra::Cholesky::new(g).ok_or(Error::NotPositiveDefinite {
                what: "XᵀX + nλI",
            })?;
            chol.solve(&(x.transpose() * &y))
        } else {
            let k = &x * x.transpose() + DMatrix::identity(n, n) * shift;
            let chol = nalgebra::Cholesky::new(k).ok_or(Error::NotPositiveDefinite {
                what: "XXᵀ + nλI",
            })?;
            x.transpose() * chol.solve(&y)
        };
        risks.push((beta_hat - beta).norm_squared());
    }
    let m = reps as f64;
    let mean = risks.iter().sum::<f64>() / m;
    let var = risks.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (m - 1.0);
    Ok(Estimate {
        mean,
        se: (var / m).sqrt(),
    })
}
