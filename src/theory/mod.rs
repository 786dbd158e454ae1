//! Closed-form theory curves that the scenes overlay on their simulations.
//!
//! - [`hastie`]: the isotropic linear model of Hastie, Montanari, Rosset & Tibshirani —
//!   minimum-norm least squares (asymptotic and exact finite-n) and ridge regression.
//! - [`mei_montanari`]: the asymptotic test error of random-features ridge(less) regression
//!   (Mei & Montanari), from their fixed-point equations.
//!
//! Every risk here is the *excess* test risk E_x (f̂(x) − f*(x))², i.e. the test error against
//! the noiseless target; adding the label-noise variance gives the error on noisy test labels.

pub mod hastie;
pub mod mei_montanari;

/// A risk split into its bias and variance parts (both ≥ 0, possibly +∞).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskParts {
    /// The error of the noiseless fit (what remains with no label noise).
    pub bias: f64,
    /// The part caused by the label noise.
    pub variance: f64,
}

impl RiskParts {
    /// bias + variance.
    pub fn total(&self) -> f64 {
        self.bias + self.variance
    }
}

/// `count` points spaced evenly in log scale from `lo` to `hi` inclusive (`lo`, `hi` > 0).
/// With an odd count and `lo · hi = 1` the middle point is exactly 1.
pub fn log_grid(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    match count {
        0 => Vec::new(),
        1 => vec![(lo * hi).sqrt()],
        _ => {
            let (a, b) = (lo.ln(), hi.ln());
            (0..count)
                .map(|i| {
                    let t = i as f64 / (count - 1) as f64;
                    // Exact endpoints and, for a symmetric grid, an exact midpoint.
                    if 2 * i == count - 1 && (lo * hi - 1.0).abs() < 1e-12 {
                        1.0
                    } else if i == 0 {
                        lo
                    } else if i == count - 1 {
                        hi
                    } else {
                        (a + t * (b - a)).exp()
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_grid_hits_its_ends_and_one() {
        let g = log_grid(0.1, 10.0, 41);
        assert_eq!(g.len(), 41);
        assert_eq!(g[0], 0.1);
        assert_eq!(g[40], 10.0);
        assert_eq!(g[20], 1.0);
        for w in g.windows(2) {
            assert!((w[1] / w[0] - 100f64.powf(1.0 / 40.0)).abs() < 1e-12);
        }
        assert_eq!(log_grid(2.0, 8.0, 1), vec![4.0]);
    }
}
