//! Activation functions φ and their derivatives φ', in f32 for the network and f64 for theory.

use serde::{Deserialize, Serialize};

/// The activations of the MLP family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x)
    Relu,
    /// The error function erf(x) (a sigmoid with closed-form infinite-width kernels).
    Erf,
    /// tanh(x)
    Tanh,
    /// The identity: a deep linear network.
    Linear,
}

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Erf,
        Activation::Tanh,
        Activation::Linear,
    ];

    /// φ(x)
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Erf => erf_f32(x),
            Activation::Tanh => x.tanh(),
            Activation::Linear => x,
        }
    }

    /// φ'(x). For ReLU the derivative at 0 is taken to be 0.
    #[inline]
    pub fn derivative(self, x: f32) -> f32 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Erf => std::f32::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
            Activation::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Activation::Linear => 1.0,
        }
    }

    /// φ(x) in f64.
    pub fn apply_f64(self, x: f64) -> f64 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Erf => erf(x),
            Activation::Tanh => x.tanh(),
            Activation::Linear => x,
        }
    }

    /// φ'(x) in f64.
    pub fn derivative_f64(self, x: f64) -> f64 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Erf => std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
            Activation::Tanh => 1.0 - x.tanh().powi(2),
            Activation::Linear => 1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Erf => "erf",
            Activation::Tanh => "tanh",
            Activation::Linear => "linear",
        }
    }
}

/// erf(x) for the network's f32 activations. For |x| < 0.5 the Maclaurin series to x¹¹
/// (truncation below 2e-9); beyond, Abramowitz & Stegun 7.1.26 evaluated in f64 (absolute
/// error below 1.5e-7, about two f32 ulps near ±1). Much cheaper than [`erf`]'s series.
#[inline]
pub fn erf_f32(x: f32) -> f32 {
    let ax = x.abs();
    if ax < 0.5 {
        // 2/√π (x − x³/3 + x⁵/10 − x⁷/42 + x⁹/216 − x¹¹/1320)
        let x2 = x * x;
        let poly = 1.0
            + x2 * (-1.0 / 3.0
                + x2 * (0.1 + x2 * (-1.0 / 42.0 + x2 * (1.0 / 216.0 - x2 / 1320.0))));
        return std::f32::consts::FRAC_2_SQRT_PI * x * poly;
    }
    const P: f64 = 0.327_591_1;
    const A: [f64; 5] = [
        0.254_829_592,
        -0.284_496_736,
        1.421_413_741,
        -1.453_152_027,
        1.061_405_429,
    ];
    let ax = ax as f64;
    let t = 1.0 / (1.0 + P * ax);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let y = 1.0 - poly * (-ax * ax).exp();
    (y as f32).copysign(x)
}

/// The error function, accurate to about 1e-15 relative: a Taylor series for |x| < 2.5 and a
/// continued fraction for erfc beyond (Abramowitz & Stegun 7.1.5 and 7.1.14).
pub fn erf(x: f64) -> f64 {
    let ax = x.abs();
    if ax < 2.5 {
        // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let t = term / (2.0 * n + 1.0);
            sum += t;
            if t.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        std::f64::consts::FRAC_2_SQRT_PI * sum
    } else if ax > 6.0 {
        x.signum()
    } else {
        // erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated bottom-up.
        let mut f = ax;
        for k in (1..60).rev() {
            f = ax + (k as f64 / 2.0) / f;
        }
        let erfc = (-ax * ax).exp() / (std::f64::consts::PI.sqrt() * f);
        x.signum() * (1.0 - erfc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_known_values() {
        // Reference values of erf to 15 digits (A&S table 7.1).
        let cases = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.5, 0.999_593_047_982_555),
            (3.0, 0.999_977_909_503_001_4),
        ];
        for (x, want) in cases {
            assert!(
                (erf(x) - want).abs() < 1e-14,
                "erf({x}) = {} want {want}",
                erf(x)
            );
            assert!((erf(-x) + want).abs() < 1e-14);
        }
    }

    #[test]
    fn fast_f32_erf_is_within_its_stated_error() {
        // A&S 7.1.26 guarantees |error| < 1.5e-7 and the final rounding to f32 adds at most
        // half an ulp (3e-8 near ±1); the short series is exact to f32 rounding (a few 1e-8).
        // So 2e-7 bounds the difference from the f64 series everywhere.
        let mut worst = 0.0f64;
        for i in -4000..=4000 {
            let x = i as f64 * 1e-3;
            worst = worst.max((erf_f32(x as f32) as f64 - erf(x)).abs());
        }
        assert!(worst < 2e-7, "worst error {worst}");
        assert_eq!(erf_f32(0.0), 0.0);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        // Central differences in f64 with h = 1e-6 have O(h²) truncation error: 1e-6 is ample.
        for act in Activation::ALL {
            for &x in &[-2.3, -0.7, 0.31, 1.9] {
                let h = 1e-6;
                let fd = (act.apply_f64(x + h) - act.apply_f64(x - h)) / (2.0 * h);
                assert!((fd - act.derivative_f64(x)).abs() < 1e-6, "{act:?} at {x}");
                assert!((act.derivative(x as f32) as f64 - act.derivative_f64(x)).abs() < 1e-6);
            }
        }
    }
}
