//! Explicit, seeded randomness. There is no global RNG anywhere in Descent: every generator,
//! initialiser and split takes an [`Rng`] (or a seed) from its caller.

use rand::{RngExt as _, SeedableRng, rngs::StdRng};

/// A seeded random number generator with the few distributions Descent needs.
pub struct Rng {
    inner: StdRng,
    /// A cached second normal deviate from the polar method.
    spare: Option<f64>,
}

impl Rng {
    /// A generator determined entirely by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: StdRng::seed_from_u64(seed),
            spare: None,
        }
    }

    /// An independent generator for a named sub-stream, so that e.g. the data and the weights
    /// of a run can be re-drawn separately while staying reproducible from one seed.
    pub fn stream(seed: u64, stream: u64) -> Self {
        // SplitMix64 finaliser mixes the stream id into the seed.
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self::new(z)
    }

    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.inner.random::<f64>()
    }

    /// Uniform on [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// A uniform index in 0..n (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.inner.random_range(0..n)
    }

    /// A standard normal deviate (Marsaglia's polar method).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// Fills `out` with N(0, std²) deviates.
    pub fn fill_normal_f32(&mut self, out: &mut [f32], std: f64) {
        for o in out {
            *o = (self.normal() * std) as f32;
        }
    }

    /// The logarithm of a Gamma(shape, 1) deviate, shape > 0 (Marsaglia & Tsang 2000, "A simple
    /// method for generating gamma variables": for shape ≥ 1 a squeezed rejection from the
    /// cube of a normal deviate, accepting ≥ 95 % of tries; for shape < 1 the boost
    /// G(a) = G(a + 1)·U^{1/a}). Kept as a logarithm because for small shapes the deviate
    /// itself underflows: at shape 10⁻³, U^{1000} is 0 in f64 for most U.
    pub fn log_gamma(&mut self, shape: f64) -> f64 {
        debug_assert!(shape > 0.0 && shape.is_finite(), "gamma shape {shape}");
        if shape < 1.0 {
            // U in (0, 1], so that ln U is finite.
            let u = 1.0 - self.uniform();
            return self.log_gamma(shape + 1.0) + u.ln() / shape;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let t = 1.0 + c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            let u = 1.0 - self.uniform();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d.ln() + v.ln();
            }
        }
    }

    /// A Gamma(shape, 1) deviate, shape > 0 (see [`Rng::log_gamma`]).
    pub fn gamma(&mut self, shape: f64) -> f64 {
        self.log_gamma(shape).exp()
    }

    /// A Dirichlet(α) deviate: independent Gamma(α_c, 1) deviates normalised to sum 1,
    /// normalised in log space so that tiny α (nearly pure proportions) neither underflow nor
    /// divide by zero. A component with α_c = 0 is 0; at least one α_c must be positive, all
    /// finite.
    pub fn dirichlet(&mut self, alpha: &[f64]) -> Vec<f64> {
        assert!(
            alpha.iter().all(|a| a.is_finite() && *a >= 0.0) && alpha.iter().any(|&a| a > 0.0),
            "Dirichlet parameters must be finite, ≥ 0 and not all 0: {alpha:?}"
        );
        let logs: Vec<f64> = alpha
            .iter()
            .map(|&a| {
                if a > 0.0 {
                    self.log_gamma(a)
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
        let total: f64 = w.iter().sum();
        w.iter().map(|v| v / total).collect()
    }

    /// A uniformly random permutation of 0..n (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.index(i + 1);
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.normal().to_bits(), b.normal().to_bits());
        }
        let (mut c, mut d) = (Rng::stream(7, 1), Rng::stream(7, 2));
        assert_ne!(c.uniform().to_bits(), d.uniform().to_bits());
    }

    #[test]
    fn normal_moments() {
        // 200k deviates: the standard error of the mean is 1/sqrt(2e5) ≈ 0.0022 and of the
        // variance ≈ sqrt(2/2e5) ≈ 0.0032; the bounds are about 5 standard errors.
        let mut r = Rng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.011, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "var {var}");
    }

    #[test]
    fn gamma_moments() {
        // Gamma(a, 1) has mean a and variance a; over 10⁵ deviates the standard error of the
        // mean is √(a/10⁵) and of the variance about a·√(2(1 + 3/a)/10⁵) (the fourth central
        // moment is 3a² + 6a); the bounds are 5 standard errors.
        let mut r = Rng::new(11);
        let n = 100_000;
        for a in [0.05, 0.5, 1.0, 3.7, 40.0] {
            let xs: Vec<f64> = (0..n).map(|_| r.gamma(a)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let se_mean = (a / n as f64).sqrt();
            let se_var = a * (2.0 * (1.0 + 3.0 / a) / n as f64).sqrt();
            assert!((mean - a).abs() < 5.0 * se_mean, "a = {a}: mean {mean}");
            assert!((var - a).abs() < 5.0 * se_var, "a = {a}: var {var}");
        }
        // Tiny shapes stay finite in log space.
        assert!(r.log_gamma(1e-4).is_finite());
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut r = Rng::new(3);
        let mut p = r.permutation(50);
        p.sort();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }
}
