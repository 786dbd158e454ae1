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
    fn permutation_is_a_permutation() {
        let mut r = Rng::new(3);
        let mut p = r.permutation(50);
        p.sort();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }
}
