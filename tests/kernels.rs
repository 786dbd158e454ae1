//! The analytic kernels against quadrature, hand-derived values and their own algebra, and the
//! kernel machines against direct matrix solves and explicit iteration.
//!
//! Tolerances are stated beside each test; those that compare two f64 evaluations of the same
//! quantity sit a few orders above rounding (1e-16 per operation, grown by the depth of the
//! computation or by a matrix's condition number), and far below the size of any mistake in a
//! formula (which changes values at O(1) relative).

#[path = "common/expm.rs"]
mod expm;
use descent::kernels::analytic::{
    KernelSpec, diag_moments, hermite_moments, moments, nngp_ntk_quadrature, ntk_terms,
};
use descent::kernels::classical::{laplace, rbf};
use descent::kernels::machine::kernel_ridge;
use descent::kernels::{Filter, KernelMachine, nngp_ntk, ntk_into};
use descent::math::activation::erf;
use descent::math::quadrature::GaussHermite;
use descent::nn::{Activation, Parametrization};
use descent::rng::Rng;
use expm::expm;
use nalgebra::{DMatrix, DVector};

fn points(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::new(seed);
    (0..n * d).map(|_| r.normal()).collect()
}

/// n points in d dimensions scaled to ‖x‖² = d, so that layer variances stay O(1).
fn sphere_points(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let x = points(n, d, seed);
    x.chunks_exact(d)
        .flat_map(|p| {
            let norm = p.iter().map(|v| v * v).sum::<f64>().sqrt();
            p.iter()
                .map(move |v| v / norm * (d as f64).sqrt())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn rel_err(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).norm() / b.norm()
}

fn spec(depth: usize, act: Activation, s: f64) -> KernelSpec {
    KernelSpec {
        init_scale: s,
        ..KernelSpec::ntk(depth, act, 1.3, 0.4)
    }
}

#[test]
fn closed_forms_match_quadrature() {
    // Covariances from nearly opposite to nearly identical inputs, small and large variances.
    let cases = [
        (1.0, 0.3, 2.0),
        (0.2, -0.19, 0.2),
        (3.0, 2.99, 3.0),
        (2.5, -2.0, 2.0),
        (0.7, 0.0, 1.4),
        (2.0, 2.0 * 0.999_999, 2.0),
    ];
    let erf = |u: f64| Activation::Erf.apply_f64(u);
    let derf = |u: f64| Activation::Erf.derivative_f64(u);
    // erf is entire and Gauss–Hermite converges geometrically, but slowly for steep
    // integrands: at these variances (≤ 3, ρ up to 0.997) 200 nodes per axis are within
    // ~1e-13; 1e-11 absolute.
    let rule = GaussHermite::new(200);
    for &(a, c, b) in &cases {
        let want = rule.expect2(erf, derf, a, c, b);
        let got = moments(Activation::Erf, a, c, b);
        assert!(
            (got.0 - want.0).abs() < 1e-11 && (got.1 - want.1).abs() < 1e-11,
            "erf at {:?}: {got:?} vs {want:?}",
            (a, c, b)
        );
    }
    // ReLU's kink defeats Gauss–Hermite (algebraic convergence, ~3e-4 at 300 nodes), so the
    // reference is a 1-D integral over u > 0 of the closed-form conditional expectations of
    // v given u, by composite Simpson (error ~1e-11): 1e-9 relative to √(ab) and absolute.
    for &(a, c, b) in &cases {
        let want = relu_reference(a, c, b);
        let got = moments(Activation::Relu, a, c, b);
        let scale = (a * b).sqrt();
        assert!(
            (got.0 - want.0).abs() < 1e-9 * scale && (got.1 - want.1).abs() < 1e-9,
            "relu at {:?}: {got:?} vs {want:?}",
            (a, c, b)
        );
    }
    // Diagonal forms against the off-diagonal ones at c = a (ρ = 1 up to rounding, which
    // arccos amplifies to √ε ≈ 1e-8 in E[φ'φ']): 1e-12 and 1e-7.
    for act in Activation::ALL {
        for a in [0.1, 1.0, 7.0] {
            let (d0, d1) = diag_moments(act, a);
            let (m0, m1) = moments(act, a, a, a);
            assert!(
                (d0 - m0).abs() < 1e-12 * (1.0 + d0) && (d1 - m1).abs() < 1e-7 * (1.0 + d1),
                "{act:?} a {a}"
            );
        }
    }
}

/// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for ReLU as 1-D integrals over z₁ > 0 with u = √a·z₁ and
/// v | z₁ ~ N(μ, σ²), μ = (c/√a)·z₁, σ² = b − c²/a:
/// E[φ(v) | z₁] = μΦ(μ/σ) + σϕ(μ/σ) and P(v > 0 | z₁) = Φ(μ/σ), by composite Simpson on
/// [0, 0.05] and [0.05, 12] (the Gaussian tail beyond is < 1e-30).
fn relu_reference(a: f64, c: f64, b: f64) -> (f64, f64) {
    let cdf = |t: f64| 0.5 * (1.0 + erf(t / std::f64::consts::SQRT_2));
    let pdf = |t: f64| (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let (ra, l21) = (a.sqrt(), c / a.sqrt());
    let sigma = (b - l21 * l21).max(0.0).sqrt();
    let integrand = |z: f64| {
        let mu = l21 * z;
        let (m1, p) = if sigma > 0.0 {
            let t = mu / sigma;
            (mu * cdf(t) + sigma * pdf(t), cdf(t))
        } else {
            (mu.max(0.0), if mu > 0.0 { 1.0 } else { 0.0 })
        };
        ((ra * z) * m1 * pdf(z), p * pdf(z))
    };
    // Fine steps near 0, where P(v > 0 | z₁) steps from ½ over a width σ/|μ'| that is tiny
    // for nearly collinear inputs.
    let mut total = (0.0, 0.0);
    for (lo, hi, m) in [(0.0, 0.05, 6000), (0.05, 12.0, 6000)] {
        let h = (hi - lo) / m as f64;
        for k in 0..=m {
            let w = if k == 0 || k == m {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            let (f0, f1) = integrand(lo + k as f64 * h);
            total.0 += w * f0 * h / 3.0;
            total.1 += w * f1 * h / 3.0;
        }
    }
    total
}

#[test]
fn hermite_series_match_closed_forms_and_quadrature() {
    // erf through its Hermite series against the arcsine closed forms, including variances
    // up to 5 and ρ near ±1: the series is truncated where its tail is < 1e-14 and its
    // coefficients come from a 320-node rule, so 1e-12 absolute.
    let cases = [
        (1.0, 0.3, 2.0),
        (0.2, -0.19, 0.2),
        (3.0, 2.99, 3.0),
        (5.0, -4.0, 4.0),
        (0.7, 0.0, 1.4),
        (4.5, 4.5 * 0.999_999, 4.5),
        (0.0, 0.0, 2.0),
    ];
    for &(a, c, b) in &cases {
        let got = hermite_moments(Activation::Erf, a, c, b).unwrap();
        let want = moments(Activation::Erf, a, c, b);
        assert!(
            (got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12,
            "erf series at {:?}: {got:?} vs {want:?}",
            (a, c, b)
        );
    }
    // tanh (series) against 2-D quadrature with 400 nodes at variances ≤ 3, where the
    // quadrature has converged to ~1e-12 (tanh's poles at ±iπ/2 limit its convergence to
    // about exp(−π√(N/2a))): 1e-10.
    let rule = GaussHermite::new(400);
    for &(a, c, b) in &cases[..3] {
        let want = rule.expect2(|u: f64| u.tanh(), |u: f64| 1.0 - u.tanh().powi(2), a, c, b);
        let got = moments(Activation::Tanh, a, c, b);
        assert!(
            (got.0 - want.0).abs() < 1e-10 && (got.1 - want.1).abs() < 1e-10,
            "tanh at {:?}: {got:?} vs {want:?}",
            (a, c, b)
        );
    }
    assert!(hermite_moments(Activation::Relu, 1.0, 0.0, 1.0).is_err());
}

#[test]
fn kernel_matrices_match_quadrature_kernels() {
    // The full recursion (depth 2, s ≠ 1, σ_b > 0, variances ≲ 3) through closed forms or
    // the series against the same recursion through a 2-D quadrature rule, whose own error
    // sets the tolerances: erf with 200 nodes ~1e-13 (1e-11 allowed), tanh with 300 nodes
    // ~1e-10 (1e-9), ReLU with 200 nodes ~1e-3 (its kink; 5e-3, a coarse check of the
    // recursion only: the scalar forms are checked tightly above).
    let (d, x) = (3, sphere_points(7, 3, 1));
    for (act, nodes, tol) in [
        (Activation::Erf, 200, 1e-11),
        (Activation::Tanh, 300, 1e-9),
        (Activation::Relu, 200, 5e-3),
    ] {
        let sp = spec(2, act, 1.2);
        let (nngp, ntk) = nngp_ntk(&sp, &x, None, d).unwrap();
        let (nngp_q, ntk_q) = nngp_ntk_quadrature(&sp, &x, None, d, nodes).unwrap();
        assert!(
            rel_err(&nngp, &nngp_q) < tol,
            "{act:?} nngp {}",
            rel_err(&nngp, &nngp_q)
        );
        assert!(
            rel_err(&ntk, &ntk_q) < tol,
            "{act:?} ntk {}",
            rel_err(&ntk, &ntk_q)
        );
    }
}

#[test]
fn depth_one_relu_kernel_by_hand() {
    // x = (1, 0), x' = (0, 1), d = 2, σ_w = 1, σ_b = 0: Σ¹ = s²·diag(½, ½) with Σ¹(x,x') = 0,
    // so ϑ = π/2 and E[φφ'] = √(Σ¹₁₁Σ¹₂₂)/2π, E[φ'φ'] = ¼ off the diagonal; ½·Σ¹ and ½ on it.
    // Θ¹ = x·x'/2 carries no s. With s = 1: Σ²(x,x') = 1/(4π), Θ² = 0·¼ + 1/(4π);
    // Σ²(x,x) = ¼, Θ²(x,x) = ½·½ + ¼ = ½. With s = 2 (ReLU is homogeneous): Σ² × 2⁴, Θ² × 2².
    let x = [1.0, 0.0, 0.0, 1.0];
    for (s, nngp_scale, ntk_scale) in [(1.0, 1.0, 1.0), (2.0, 16.0, 4.0)] {
        let sp = KernelSpec {
            init_scale: s,
            ..KernelSpec::ntk(1, Activation::Relu, 1.0, 0.0)
        };
        let (nngp, ntk) = nngp_ntk(&sp, &x, None, 2).unwrap();
        let quarter_pi = 1.0 / (4.0 * std::f64::consts::PI);
        let want_nngp =
            DMatrix::from_row_slice(2, 2, &[0.25, quarter_pi, quarter_pi, 0.25]) * nngp_scale;
        let want_ntk =
            DMatrix::from_row_slice(2, 2, &[0.5, quarter_pi, quarter_pi, 0.5]) * ntk_scale;
        // Exact arithmetic on a few operations: 1e-15 relative.
        assert!(rel_err(&nngp, &want_nngp) < 1e-15, "s {s}: {nngp}");
        assert!(rel_err(&ntk, &want_ntk) < 1e-15, "s {s}: {ntk}");
    }
}

#[test]
fn deep_linear_kernel_by_hand() {
    // φ = identity: Σ^{l+1} = s²(σ_w²Σ^l + σ_b²) and Θ^{l+1} = s²σ_w²·Θ^l + σ_w²Σ^l + σ_b², from
    // Σ¹ = s²(σ_w² x·x'/d + σ_b²), Θ¹ = σ_w² x·x'/d + σ_b². Unrolled by hand for depth 2.
    let (sw, sb, s) = (1.3f64, 0.4f64, 0.7f64);
    let (sw2, sb2, s2) = (sw * sw, sb * sb, s * s);
    let x = [0.5, -1.0, 2.0, 1.5, 0.3, -0.2];
    let d = 3;
    let sp = KernelSpec {
        init_scale: s,
        ..KernelSpec::ntk(2, Activation::Linear, sw, sb)
    };
    let (nngp, ntk) = nngp_ntk(&sp, &x, None, d).unwrap();
    let g =
        |i: usize, j: usize| (0..d).map(|k| x[i * d + k] * x[j * d + k]).sum::<f64>() / d as f64;
    for i in 0..2 {
        for j in 0..2 {
            let sig1 = s2 * (sw2 * g(i, j) + sb2);
            let th1 = sw2 * g(i, j) + sb2;
            let sig2 = s2 * (sw2 * sig1 + sb2);
            let th2 = s2 * sw2 * th1 + sw2 * sig1 + sb2;
            let sig3 = s2 * (sw2 * sig2 + sb2);
            let th3 = s2 * sw2 * th2 + sw2 * sig2 + sb2;
            // A dozen roundings: 1e-14 relative.
            assert!((nngp[(i, j)] / sig3 - 1.0).abs() < 1e-14);
            assert!((ntk[(i, j)] / th3 - 1.0).abs() < 1e-14);
        }
    }
}

#[test]
fn relu_kernels_scale_as_powers_of_the_init_scale() {
    // With σ_b = 0, ReLU's homogeneity gives NNGP ∝ s^{2(L+1)} and NTK ∝ s^{2L}; relative
    // 1e-13 allows the rounding of a few dozen operations.
    let (d, x) = (2, points(6, 2, 2));
    for depth in 1..=3 {
        let base = KernelSpec::ntk(depth, Activation::Relu, 1.4, 0.0);
        let (nngp1, ntk1) = nngp_ntk(&base, &x, None, d).unwrap();
        let s = 1.7f64;
        let sp = KernelSpec {
            init_scale: s,
            ..base
        };
        let (nngp_s, ntk_s) = nngp_ntk(&sp, &x, None, d).unwrap();
        assert!(rel_err(&nngp_s, &(nngp1 * s.powi(2 * depth as i32 + 2))) < 1e-13);
        assert!(rel_err(&ntk_s, &(ntk1 * s.powi(2 * depth as i32))) < 1e-13);
    }
}

#[test]
fn gram_matrices_are_symmetric_psd_and_match_the_cross_path() {
    // Symmetric exactly (one triangle is mirrored); the smallest eigenvalue of a PSD matrix
    // computed in f64 is ≥ −n·ε·λ_max up to the eigensolver's backward error: −1e-12·λ_max.
    // The cross path (x2 = x1) evaluates the same symmetric formulas in the same order and
    // gives identical inputs the diagonal values: bit for bit the same matrices.
    let (d, x) = (2, points(40, 2, 3));
    for act in Activation::ALL {
        for depth in 0..=3 {
            let sp = spec(depth, act, 0.9);
            let (nngp, ntk) = nngp_ntk(&sp, &x, None, d).unwrap();
            for (name, k) in [("nngp", &nngp), ("ntk", &ntk)] {
                assert!(k == &k.transpose(), "{act:?} depth {depth} {name}");
                let eig = k.clone().symmetric_eigenvalues();
                assert!(
                    eig.min() >= -1e-12 * eig.max(),
                    "{act:?} {depth} {name}: {}",
                    eig.min()
                );
            }
            let (nngp_x, ntk_x) = nngp_ntk(&sp, &x, Some(&x), d).unwrap();
            assert!(
                nngp_x == nngp && ntk_x == ntk,
                "{act:?} {depth}: {:e}",
                rel_err(&ntk_x, &ntk)
            );
            let mut only = DMatrix::zeros(1, 1);
            ntk_into(&sp, &x, None, d, &mut only).unwrap();
            assert!(only == ntk, "{act:?} {depth}: ntk_into");
        }
    }
}

#[test]
fn per_layer_terms_give_every_parametrisation() {
    // ntk_terms sums to the fast path's NTK, and the standard and mean-field kernels follow
    // from the NTK-parametrisation terms: ×n_{l−1}/σ_w² on weight terms and ×1/σ_b² on bias
    // terms; ×1/n_L on everything. Same formulas in a different order: 1e-12 relative.
    let (d, x1, x2) = (3, points(5, 3, 4), points(4, 3, 5));
    let widths = vec![300, 70];
    for act in [Activation::Relu, Activation::Erf, Activation::Tanh] {
        let ntk_spec = KernelSpec {
            init_scale: 1.1,
            widths: widths.clone(),
            ..KernelSpec::ntk(2, act, 1.3, 0.4)
        };
        let terms = ntk_terms(&ntk_spec, &x1, Some(&x2), d).unwrap();
        let (nngp, ntk) = nngp_ntk(&ntk_spec, &x1, Some(&x2), d).unwrap();
        assert!(rel_err(&terms.ntk(), &ntk) < 1e-12);
        assert!(rel_err(&terms.nngp, &nngp) < 1e-12);

        let mut want_std = DMatrix::zeros(5, 4);
        let fan_in = [d, widths[0], widths[1]];
        for l in 0..3 {
            want_std += &terms.weights[l] * (fan_in[l] as f64 / (1.3 * 1.3));
            want_std += &terms.biases[l] / (0.4 * 0.4);
        }
        let std_spec = KernelSpec {
            parametrization: Parametrization::Standard,
            ..ntk_spec.clone()
        };
        let (nngp_std, ntk_std) = nngp_ntk(&std_spec, &x1, Some(&x2), d).unwrap();
        assert!(rel_err(&ntk_std, &want_std) < 1e-12, "{act:?} standard");
        assert!(rel_err(&nngp_std, &nngp) < 1e-12, "{act:?} standard nngp");

        let mf_spec = KernelSpec {
            parametrization: Parametrization::MeanField,
            ..ntk_spec.clone()
        };
        let (nngp_mf, ntk_mf) = nngp_ntk(&mf_spec, &x1, Some(&x2), d).unwrap();
        assert!(
            rel_err(&ntk_mf, &(&ntk / 70.0)) < 1e-12,
            "{act:?} mean-field"
        );
        assert!(
            rel_err(&nngp_mf, &(&nngp / 70.0)) < 1e-12,
            "{act:?} mean-field nngp"
        );
    }
}

#[test]
fn invalid_specs_and_shapes_are_errors() {
    let x = points(3, 2, 6);
    let mut sp = KernelSpec::ntk(2, Activation::Relu, 1.0, 0.0);
    sp.parametrization = Parametrization::Standard;
    assert!(nngp_ntk(&sp, &x, None, 2).is_err(), "standard needs widths");
    sp.widths = vec![10, 10];
    assert!(nngp_ntk(&sp, &x, None, 2).is_ok());
    assert!(
        nngp_ntk(&sp, &x, None, 4).is_err(),
        "6 values are not rows of 4"
    );
    sp.sigma_w = f64::NAN;
    assert!(nngp_ntk(&sp, &x, None, 2).is_err());
    assert!(rbf(&x, None, 2, 0.0).is_err());
}

#[test]
fn classical_kernels_by_hand() {
    // Two points at distance 5 (a 3-4-5 triangle): exp(−25/(2ℓ²)) and exp(−5/ℓ); 1e-15.
    let x = [0.0, 0.0, 3.0, 4.0];
    let k = rbf(&x, None, 2, 2.0).unwrap();
    assert!((k[(0, 1)] - (-25.0f64 / 8.0).exp()).abs() < 1e-15);
    assert_eq!(k[(0, 0)], 1.0);
    assert_eq!(k, k.transpose());
    let k = laplace(&x, Some(&x[2..]), 2, 2.0).unwrap();
    assert_eq!(k.shape(), (2, 1));
    assert!((k[(0, 0)] - (-2.5f64).exp()).abs() < 1e-15);
    assert_eq!(k[(1, 0)], 1.0);
}

/// A small regression problem: the ReLU NTK (σ_b > 0, so K is positive definite) on n
/// training and m test points in d = 2, with targets and initial outputs.
struct Problem {
    k_train_train: DMatrix<f64>,
    k_test_train: DMatrix<f64>,
    y: Vec<f64>,
    f_train_0: Vec<f64>,
    f_test_0: Vec<f64>,
}

fn problem(n: usize, m: usize, seed: u64) -> Problem {
    let d = 2;
    let x_train = points(n, d, seed);
    let x_test = points(m, d, seed + 100);
    let sp = KernelSpec::ntk(2, Activation::Relu, 1.4, 0.3);
    let (_, k_train_train) = nngp_ntk(&sp, &x_train, None, d).unwrap();
    let (_, k_test_train) = nngp_ntk(&sp, &x_test, Some(&x_train), d).unwrap();
    let mut r = Rng::new(seed + 7);
    Problem {
        k_train_train,
        k_test_train,
        y: (0..n).map(|_| r.normal()).collect(),
        f_train_0: (0..n).map(|_| 0.3 * r.normal()).collect(),
        f_test_0: (0..m).map(|_| 0.3 * r.normal()).collect(),
    }
}

fn max_abs_diff(a: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (a - b).amax()
}

#[test]
fn ridge_regression_matches_direct_solves() {
    // (K + λI)⁻¹y by LU against the eigenbasis, and the Cholesky one-shot: K + λI has
    // condition number ≲ 1e4 here, so both agree to 1e-16 × 1e4 × O(n): 1e-9 relative.
    let p = problem(30, 12, 1);
    let machine = KernelMachine::new(&p.k_train_train).unwrap();
    for ridge in [1e-3, 0.1, 10.0] {
        let a = &p.k_train_train + DMatrix::identity(30, 30) * ridge;
        let alpha = a.lu().solve(&DVector::from_vec(p.y.clone())).unwrap();
        let want = &p.k_test_train * alpha;
        let got = machine.krr(&p.k_test_train, &p.y, ridge).unwrap();
        let chol = kernel_ridge(&p.k_train_train, &p.k_test_train, &p.y, ridge).unwrap();
        let scale = want.amax();
        assert!(max_abs_diff(&got, &want) < 1e-9 * scale, "ridge {ridge}");
        assert!(max_abs_diff(&chol, &want) < 1e-9 * scale, "ridge {ridge}");
        let post = machine
            .nngp_posterior_mean(&p.k_test_train, &p.y, ridge)
            .unwrap();
        assert_eq!(post, got);
    }
    // Ridge 0 with a positive definite K interpolates: f_train = y (1e-8: cond(K) ~ 1e5).
    let f_train = machine
        .predict_train(Filter::Ridge { ridge: 0.0 }, &p.y, None)
        .unwrap();
    assert!(max_abs_diff(&f_train, &DVector::from_vec(p.y.clone())) < 1e-8);
}

#[test]
fn gradient_flow_matches_the_matrix_exponential_and_tends_to_interpolation() {
    // f_t on train points: f₀ + (I − e^{−ηKt/n}) r₀; on test points k(x,X) K⁻¹ (I − e^{…}) r₀
    // with K⁻¹ by LU. The exponential by scaling and squaring is accurate to ~1e-13; the
    // comparison allows 1e-9 relative (K⁻¹ has condition ~1e5).
    let (n, m) = (20, 9);
    let p = problem(n, m, 2);
    let machine = KernelMachine::new(&p.k_train_train).unwrap();
    let lr = 0.5 * machine.max_stable_lr();
    let y = DVector::from_vec(p.y.clone());
    let f0 = DVector::from_vec(p.f_train_0.clone());
    let r0 = &y - &f0;
    let k_inv = p.k_train_train.clone().lu().try_inverse().unwrap();
    for t in [0.0, 0.3, 5.0, 40.0] {
        let decay = expm(&(&p.k_train_train * (-lr * t / n as f64)));
        let moved = (DMatrix::identity(n, n) - decay) * &r0;
        let want_train = &f0 + &moved;
        let want_test = DVector::from_vec(p.f_test_0.clone()) + &p.k_test_train * (&k_inv * &moved);
        let filter = Filter::Flow { lr, t };
        let got_train = machine
            .predict_train(filter, &p.y, Some(&p.f_train_0))
            .unwrap();
        let got_test = machine
            .predict_test(
                filter,
                &p.k_test_train,
                &p.y,
                Some(&p.f_train_0),
                Some(&p.f_test_0),
            )
            .unwrap();
        assert!(
            max_abs_diff(&got_train, &want_train) < 1e-9 * y.amax(),
            "t {t}"
        );
        assert!(
            max_abs_diff(&got_test, &want_test) < 1e-9 * want_test.amax(),
            "t {t}"
        );
    }
    // t → ∞: the flow interpolates the training targets and its test predictions become the
    // ridge-free KRR ones (plus f₀ − k K⁻¹ f₀(X), zero here with f₀ = 0); 1e-8 (cond 1e5).
    let t = 1e12;
    let filter = Filter::Flow { lr, t };
    let f_train = machine.predict_train(filter, &p.y, None).unwrap();
    assert!(max_abs_diff(&f_train, &y) < 1e-8);
    let f_test = machine
        .predict_test(filter, &p.k_test_train, &p.y, None, None)
        .unwrap();
    let krr = machine.krr(&p.k_test_train, &p.y, 0.0).unwrap();
    assert!(max_abs_diff(&f_test, &krr) < 1e-8 * krr.amax());
}

/// k steps of f ← f − (η/n) K (f − y) on train and test points, explicitly.
fn iterate_gd(p: &Problem, lr: f64, steps: u64) -> (DVector<f64>, DVector<f64>) {
    let n = p.y.len() as f64;
    let y = DVector::from_vec(p.y.clone());
    let mut f_train = DVector::from_vec(p.f_train_0.clone());
    let mut f_test = DVector::from_vec(p.f_test_0.clone());
    for _ in 0..steps {
        let r = &f_train - &y;
        f_test -= &p.k_test_train * &r * (lr / n);
        f_train -= &p.k_train_train * &r * (lr / n);
    }
    (f_train, f_test)
}

#[test]
fn discrete_gradient_descent_matches_explicit_iteration() {
    // The eigenbasis closed form against k explicit steps. Each explicit step rounds at 1e-16
    // relative and the errors add up over k ≤ 300 steps without growing (the iteration is a
    // contraction at these step sizes): 1e-10 relative.
    let p = problem(25, 10, 3);
    let machine = KernelMachine::new(&p.k_train_train).unwrap();
    for frac in [0.3, 0.95] {
        let lr = frac * machine.max_stable_lr();
        for steps in [0u64, 1, 7, 300] {
            let (want_train, want_test) = iterate_gd(&p, lr, steps);
            let filter = Filter::Steps { lr, steps };
            let got_train = machine
                .predict_train(filter, &p.y, Some(&p.f_train_0))
                .unwrap();
            let got_test = machine
                .predict_test(
                    filter,
                    &p.k_test_train,
                    &p.y,
                    Some(&p.f_train_0),
                    Some(&p.f_test_0),
                )
                .unwrap();
            let scale = want_train.amax().max(want_test.amax());
            assert!(
                max_abs_diff(&got_train, &want_train) < 1e-10 * scale,
                "{frac} {steps}"
            );
            assert!(
                max_abs_diff(&got_test, &want_test) < 1e-10 * scale,
                "{frac} {steps}"
            );
        }
    }
}

#[test]
fn singular_kernels_use_the_zero_eigenvalue_limits() {
    // Two identical training points make K exactly singular; the null-space direction is
    // dropped by the pseudo-inverse and follows the ηk/n limit in GD. GD against explicit
    // iteration (1e-10 as above), and ridge-free KRR equals the KRR of the de-duplicated set
    // with the duplicated target averaged (the minimum-norm interpolant): 1e-8.
    let d = 2;
    let mut x = points(12, d, 9);
    x[2] = x[0];
    x[3] = x[1];
    let x_test = points(5, d, 10);
    let sp = KernelSpec::ntk(1, Activation::Relu, 1.4, 0.3);
    let (_, k_train_train) = nngp_ntk(&sp, &x, None, d).unwrap();
    let (_, k_test_train) = nngp_ntk(&sp, &x_test, Some(&x), d).unwrap();
    let mut r = Rng::new(11);
    let y: Vec<f64> = (0..12).map(|_| r.normal()).collect();
    let p = Problem {
        k_train_train,
        k_test_train,
        f_train_0: vec![0.0; 12],
        f_test_0: vec![0.0; 5],
        y: y.clone(),
    };
    let machine = KernelMachine::new(&p.k_train_train).unwrap();
    assert!(machine.eigenvalues().iter().filter(|&&l| l == 0.0).count() >= 1);
    let lr = 0.9 * machine.max_stable_lr();
    let (want_train, want_test) = iterate_gd(&p, lr, 50);
    let filter = Filter::Steps { lr, steps: 50 };
    let got_train = machine.predict_train(filter, &y, None).unwrap();
    let got_test = machine
        .predict_test(filter, &p.k_test_train, &y, None, None)
        .unwrap();
    assert!(max_abs_diff(&got_train, &want_train) < 1e-10 * want_train.amax());
    assert!(max_abs_diff(&got_test, &want_test) < 1e-10 * want_test.amax());

    let keep: Vec<usize> = (0..12).filter(|&i| i != 1).collect();
    let x_dedup: Vec<f64> = keep
        .iter()
        .flat_map(|&i| x[i * d..(i + 1) * d].to_vec())
        .collect();
    let mut y_dedup: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
    y_dedup[0] = 0.5 * (y[0] + y[1]);
    let (_, k_dd) = nngp_ntk(&sp, &x_dedup, None, d).unwrap();
    let (_, k_td) = nngp_ntk(&sp, &x_test, Some(&x_dedup), d).unwrap();
    let want = k_ridge_lu(&k_dd, &k_td, &y_dedup);
    let got = machine.krr(&p.k_test_train, &y, 0.0).unwrap();
    assert!(
        max_abs_diff(&got, &want) < 1e-8 * want.amax(),
        "{got} vs {want}"
    );
}

fn k_ridge_lu(
    k_train_train: &DMatrix<f64>,
    k_test_train: &DMatrix<f64>,
    y: &[f64],
) -> DVector<f64> {
    let alpha = k_train_train
        .clone()
        .lu()
        .solve(&DVector::from_column_slice(y))
        .unwrap();
    k_test_train * alpha
}

#[test]
fn max_stable_lr_separates_convergence_from_divergence() {
    // Below 2n/λ_max every mode contracts; 1% above it the top mode grows by ≥ 1.02 per step,
    // i.e. by > 1e8 over 1,000 steps, while below it the residual must not grow at all.
    let p = problem(20, 3, 4);
    let machine = KernelMachine::new(&p.k_train_train).unwrap();
    let lr_max = machine.max_stable_lr();
    let y = DVector::from_vec(p.y.clone());
    let r0 = (DVector::from_vec(p.f_train_0.clone()) - &y).norm();
    let (below, _) = iterate_gd(&p, 0.99 * lr_max, 1000);
    let (above, _) = iterate_gd(&p, 1.01 * lr_max, 1000);
    assert!(
        (below - &y).norm() < r0,
        "just below the bound the residual shrinks"
    );
    assert!(
        (above - &y).norm() > 1e6 * r0,
        "just above the bound it blows up"
    );
    // The closed form agrees about the bound.
    let closed = |lr: f64| {
        machine
            .predict_train(Filter::Steps { lr, steps: 1000 }, &p.y, Some(&p.f_train_0))
            .unwrap()
    };
    assert!((closed(0.99 * lr_max) - &y).norm() < r0);
    assert!((closed(1.01 * lr_max) - &y).norm() > 1e6 * r0);
    // And λ_max is the largest eigenvalue of K (power iteration, 1e-8 relative).
    let mut v = DVector::from_element(20, 1.0);
    for _ in 0..500 {
        v = &p.k_train_train * &v;
        v /= v.norm();
    }
    let rayleigh = v.dot(&(&p.k_train_train * &v));
    assert!((rayleigh / machine.lambda_max() - 1.0).abs() < 1e-8);
}

#[test]
fn machine_rejects_bad_shapes_and_settings() {
    let p = problem(6, 2, 5);
    let machine = KernelMachine::new(&p.k_train_train).unwrap();
    assert!(machine.krr(&p.k_test_train, &p.y[..5], 0.1).is_err());
    assert!(
        machine
            .krr(&p.k_train_train.columns(0, 5).into_owned(), &p.y, 0.1)
            .is_err()
    );
    assert!(machine.krr(&p.k_test_train, &p.y, -1.0).is_err());
    assert!(
        machine
            .predict_train(
                Filter::Flow {
                    lr: f64::NAN,
                    t: 1.0
                },
                &p.y,
                None
            )
            .is_err()
    );
    assert!(KernelMachine::new(&DMatrix::zeros(3, 2)).is_err());
    let negative = -DMatrix::<f64>::identity(3, 3);
    assert!(kernel_ridge(&negative, &negative, &[1.0; 3], 0.0).is_err());
}
