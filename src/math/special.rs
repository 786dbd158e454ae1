//! Branch-free arcsine and arccosine in f64 for the kernel inner loops.
//!
//! Both reduce to asin(t) on 0 ≤ t ≤ ½ with the half-angle identity
//! acos(x) = 2·asin(√((1 − x)/2)) for x ≥ ½, and there asin(t) = t + t³·P(t²) with P a
//! polynomial of degree 11 in u = t² ∈ [0, ¼]: the interpolant of (asin(√u)/√u − 1)/u at the
//! 12 Chebyshev points of [0, ¼], whose relative error in asin is below 6e-17 before rounding.
//! Every step is a multiply, add, square root or select, so a loop of calls vectorises
//! (SSE2/AVX natively, SIMD128 in wasm), unlike the libm calls. Accuracy: within 2.5ε (acos)
//! and 4ε (asin) relative of `f64::acos` / `f64::asin` on [−1, 1] (`tests` below).

use std::f64::consts::{FRAC_PI_2, PI};

/// Coefficients of P(u), constant term first.
const ASIN_P: [f64; 12] = [
    0.166_666_666_666_666_5,
    0.075_000_000_000_207_64,
    0.044_642_857_103_423_646,
    0.030_381_947_367_098_48,
    0.022_372_047_631_744_51,
    0.017_355_259_955_786_323,
    0.013_929_652_902_326_633,
    0.011_875_494_382_636_922,
    0.007_802_949_477_353_317_5,
    0.016_035_514_349_148_82,
    -0.010_749_050_339_697_808,
    0.028_169_218_060_881_414,
];

/// asin(t) for 0 ≤ t ≤ ½.
#[inline(always)]
fn asin_reduced(t: f64) -> f64 {
    // Estrin's scheme: a dependency chain of depth 6 instead of Horner's 22, so that a
    // vectorised loop is limited by throughput rather than by latency.
    let c = &ASIN_P;
    let u = t * t;
    let u2 = u * u;
    let u4 = u2 * u2;
    let u8 = u4 * u4;
    let q0 = c[0] + c[1] * u;
    let q1 = c[2] + c[3] * u;
    let q2 = c[4] + c[5] * u;
    let q3 = c[6] + c[7] * u;
    let q4 = c[8] + c[9] * u;
    let q5 = c[10] + c[11] * u;
    let r0 = q0 + q1 * u2;
    let r1 = q2 + q3 * u2;
    let r2 = q4 + q5 * u2;
    let p = (r0 + r1 * u4) + r2 * u8;
    t + t * u * p
}

/// `if cond { a } else { b }` through bit masks. Written as a branch, the optimiser turns the
/// selects of [`acos`] into jumps around the polynomial, which defeats vectorisation and
/// mispredicts on data-dependent conditions.
#[inline(always)]
pub fn select(cond: bool, a: f64, b: f64) -> f64 {
    let mask = (cond as u64).wrapping_neg();
    f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

/// acos(x) for x ∈ [−1, 1] (the caller clamps).
#[inline(always)]
pub fn acos(x: f64) -> f64 {
    let ax = x.abs();
    let big = ax > 0.5;
    // (1 − |x|) is exact for |x| ≥ ½ (Sterbenz), so the half-angle branch keeps full accuracy
    // near |x| = 1, where acos is steep.
    let half = ((1.0 - ax) * 0.5).max(0.0).sqrt();
    let p = asin_reduced(select(big, half, ax));
    let r = select(big, 2.0 * p, FRAC_PI_2 - p);
    select(x < 0.0, PI - r, r)
}

/// asin(x) for x ∈ [−1, 1] (the caller clamps).
#[inline(always)]
pub fn asin(x: f64) -> f64 {
    let ax = x.abs();
    let big = ax > 0.5;
    let half = ((1.0 - ax) * 0.5).max(0.0).sqrt();
    let p = asin_reduced(select(big, half, ax));
    select(big, FRAC_PI_2 - 2.0 * p, p).copysign(x)
}

/// asin(t) for 0 ≤ t ≤ ½ in f32: the same polynomial as [`asin_reduced`], by Horner's scheme.
/// The twin of `asin_reduced` in src/backend/gpu/nngp_ntk_recursion.wgsl (keep in sync).
#[inline(always)]
fn asin_reduced_f32(t: f32) -> f32 {
    let u = t * t;
    let mut p = ASIN_P[11] as f32;
    for &c in ASIN_P[..11].iter().rev() {
        p = p * u + c as f32;
    }
    t + t * u * p
}

/// acos(x) in f32 for x ∈ [−1, 1] (the caller clamps), by the reduction of [`acos`]: within a
/// few f32 ulps of the true value (`tests` below). The CPU twin of `acos_f32` in the analytic
/// kernel shader, where the WGSL builtin's accuracy is not specified tightly enough near ±1.
#[inline(always)]
pub fn acos_f32(x: f32) -> f32 {
    let ax = x.abs();
    let big = ax > 0.5;
    let half = ((1.0 - ax) * 0.5).max(0.0).sqrt();
    let p = asin_reduced_f32(if big { half } else { ax });
    let r = if big {
        2.0 * p
    } else {
        std::f32::consts::FRAC_PI_2 - p
    };
    if x < 0.0 { std::f32::consts::PI - r } else { r }
}

/// asin(x) in f32 for x ∈ [−1, 1] (the caller clamps); see [`acos_f32`].
#[inline(always)]
pub fn asin_f32(x: f32) -> f32 {
    let ax = x.abs();
    let big = ax > 0.5;
    let half = ((1.0 - ax) * 0.5).max(0.0).sqrt();
    let p = asin_reduced_f32(if big { half } else { ax });
    let r = if big {
        std::f32::consts::FRAC_PI_2 - 2.0 * p
    } else {
        p
    };
    if x < 0.0 { -r } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acos_and_asin_match_libm() {
        // libm is within 1 ulp; the polynomial's own relative error is below 6e-17 and the
        // evaluation adds a few roundings: errors, in units of ε·|value| (one ulp is ½ to 1 of
        // that unit), must stay below 2.5 for acos, and below 4 for asin, which just above ½
        // is π/2 − 2·asin(t) with a cancellation of about 3×.
        let ulps =
            |got: f64, want: f64| (got - want).abs() / (f64::EPSILON * want.abs().max(1e-300));
        let mut worst = (0.0f64, 0.0f64);
        let n = 200_000;
        let xs = (0..=n)
            .map(|i| -1.0 + 2.0 * i as f64 / n as f64)
            // Near ±1 and 0, where the branches meet or the function is steep.
            .chain([
                1.0,
                -1.0,
                0.5,
                -0.5,
                0.0,
                1.0 - 1e-12,
                -1.0 + 1e-15,
                1e-300,
                -3e-9,
            ]);
        for x in xs {
            worst.0 = worst.0.max(ulps(acos(x), x.acos()));
            if x != 0.0 {
                worst.1 = worst.1.max(ulps(asin(x), x.asin()));
            }
        }
        assert!(
            worst.0 < 2.5 && worst.1 < 4.0,
            "worst (acos, asin) in ε·|value|: {worst:?}"
        );
        assert_eq!(acos(1.0), 0.0);
        assert_eq!(asin(0.0), 0.0);
    }
    #[test]
    fn f32_acos_and_asin_are_within_a_few_ulps() {
        // Against the f64 functions at the same f32 argument, in units of f32 ε·max(|value|,
        // 2⁻²⁰): the polynomial is exact to f64 precision, so what is left is the f32 rounding
        // of a dozen operations (≤ 4 units) and, just above ½, asin's cancellation π/2 − 2p
        // (about 3×): bound 6 for asin, 4 for acos.
        let ulps = |got: f32, want: f64| {
            (got as f64 - want).abs() / (f32::EPSILON as f64 * want.abs().max(1e-6))
        };
        let mut worst = (0.0f64, 0.0f64);
        let n = 100_000;
        let xs = (0..=n)
            .map(|i| (-1.0 + 2.0 * i as f64 / n as f64) as f32)
            .chain([
                1.0,
                -1.0,
                0.5,
                -0.5,
                0.0,
                1.0 - f32::EPSILON,
                -1.0 + f32::EPSILON,
                1e-30,
            ]);
        for x in xs {
            let xd = x as f64;
            worst.0 = worst.0.max(ulps(acos_f32(x), xd.acos()));
            worst.1 = worst.1.max(ulps(asin_f32(x), xd.asin()));
        }
        assert!(
            worst.0 < 4.0 && worst.1 < 6.0,
            "worst (acos, asin) in f32 ε·|value|: {worst:?}"
        );
        assert_eq!(acos_f32(1.0), 0.0);
        assert_eq!(asin_f32(0.0), 0.0);
    }
}
