//! Top-k eigenvalues by block Lanczos (`linalg::lanczos`) against nalgebra's dense symmetric
//! eigensolver: random symmetric matrices with known spectra (repeated top eigenvalue,
//! negative eigenvalues), an analytic NTK Gram matrix, and the Hessians of small networks
//! built from Hessian-vector products.
//!
//! Tolerance: the run stops when every wanted Ritz residual is ≤ 1e-10·‖A‖, which bounds each
//! eigenvalue error by that residual (symmetric A); the dense solver is accurate to ~1e-15·‖A‖.
//! The checks allow 1e-8·‖A‖ (the residual bound with a factor 100 of margin); a missed
//! eigenvalue or a wrong multiplicity is an O(gap) error, here ≥ 1e-2·‖A‖.

use descent::backend::cpu::Cpu;
use descent::error::Error;
use descent::kernels::{KernelSpec, nngp_ntk};
use descent::linalg::{
    LanczosOptions, lanczos_bottom_k, lanczos_top_k, lanczos_top_k_from, lanczos_top_k_with,
};
use descent::nn::Activation;
use descent::nn::hessian::{Objective, top_eigenvalue_sym, widen};
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::rng::Rng;
use nalgebra::{DMatrix, DVector, SymmetricEigen};

fn matvec(a: &DMatrix<f64>) -> impl FnMut(&[f64]) -> Vec<f64> + '_ {
    move |v| (a * DVector::from_column_slice(v)).as_slice().to_vec()
}

/// Q diag(spectrum) Qᵀ with Q a random orthogonal matrix (QR of a Gaussian matrix).
fn with_spectrum(spectrum: &[f64], seed: u64) -> DMatrix<f64> {
    let n = spectrum.len();
    let mut r = Rng::new(seed);
    let g = DMatrix::from_fn(n, n, |_, _| r.normal());
    let q = g.qr().q();
    &q * DMatrix::from_diagonal(&DVector::from_column_slice(spectrum)) * q.transpose()
}

/// The dense eigenvalues, descending.
fn dense_descending(a: &DMatrix<f64>) -> Vec<f64> {
    let mut e: Vec<f64> = SymmetricEigen::new(a.clone())
        .eigenvalues
        .iter()
        .copied()
        .collect();
    e.sort_by(|a, b| b.total_cmp(a));
    e
}

fn assert_close(got: &[f64], want: &[f64], scale: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-8 * scale, "{what}: {got:?} vs {want:?}");
    }
}

#[test]
fn known_spectra_with_a_repeated_top_and_negative_eigenvalues() {
    // dim 120: the top eigenvalue 5 three times, then 4.2, 3, a bulk in [−1, 2], and the most
    // negative −6 (largest in magnitude: power iteration would find it first) and −5.5.
    let dim = 120;
    let mut spectrum = vec![5.0, 5.0, 5.0, 4.2, 3.0, -6.0, -5.5];
    let mut r = Rng::new(1);
    while spectrum.len() < dim {
        spectrum.push(r.uniform_in(-1.0, 2.0));
    }
    let a = with_spectrum(&spectrum, 2);
    for k in [1, 3, 4, 5] {
        let top = lanczos_top_k(dim, k, matvec(&a), 7).unwrap();
        assert!(top.converged, "k {k}: {top:?}");
        let want = &[5.0, 5.0, 5.0, 4.2, 3.0][..k];
        assert_close(&top.values, want, 6.0, &format!("top {k}"));
        // Every Ritz vector is a unit eigenvector: ‖Au − θu‖ small and ‖u‖ = 1.
        for (u, th) in top.vectors.iter().zip(&top.values) {
            let u = DVector::from_column_slice(u);
            assert!((u.norm() - 1.0).abs() < 1e-12);
            assert!((&a * &u - &u * *th).norm() < 1e-8 * 6.0);
        }
        assert!(top.matvecs < dim, "k {k}: {} products", top.matvecs);
    }
    let bottom = lanczos_bottom_k(dim, 2, matvec(&a), 7).unwrap();
    assert!(bottom.converged);
    assert_close(&bottom.values, &[-6.0, -5.5], 6.0, "bottom 2");
}

#[test]
fn random_symmetric_matrices_match_the_dense_solver() {
    // Gaussian symmetric matrices (semicircle spectra, small gaps at the edge), dim 60 and
    // 150, top 8 and bottom 3.
    for (dim, seed) in [(60, 3), (150, 4)] {
        let mut r = Rng::new(seed);
        let g = DMatrix::from_fn(dim, dim, |_, _| r.normal());
        let a = (&g + g.transpose()) / (2.0 * dim as f64).sqrt();
        let want = dense_descending(&a);
        let scale = want[0].abs().max(want[dim - 1].abs());
        let top = lanczos_top_k(dim, 8, matvec(&a), 9).unwrap();
        assert!(top.converged);
        assert_close(&top.values, &want[..8], scale, &format!("dim {dim} top 8"));
        let bottom = lanczos_bottom_k(dim, 3, matvec(&a), 9).unwrap();
        let mut low: Vec<f64> = want[dim - 3..].to_vec();
        low.reverse();
        assert_close(&bottom.values, &low, scale, &format!("dim {dim} bottom 3"));
    }
}

#[test]
fn analytic_ntk_gram_matrix() {
    // The ReLU NTK (depth 2) on 80 points in d = 5: positive semi-definite with a dominant
    // top eigenvalue and a fast-decaying tail; top 6 against the dense solver, and the top
    // one against power iteration (`top_eigenvalue_sym`, the Step-size scene's method).
    let (n, d) = (80, 5);
    let mut r = Rng::new(5);
    let x: Vec<f64> = (0..n * d).map(|_| r.normal()).collect();
    let spec = KernelSpec {
        depth: 2,
        ..KernelSpec::from_mlp(&spec(d, 8, Activation::Relu))
    };
    let (_, ntk) = nngp_ntk(&spec, &x, None, d).unwrap();
    let want = dense_descending(&ntk);
    let top = lanczos_top_k(n, 6, matvec(&ntk), 1).unwrap();
    assert!(top.converged && top.matvecs < n, "{} products", top.matvecs);
    assert_close(&top.values, &want[..6], want[0], "NTK top 6");
    let mut v = vec![0.0; n];
    let power = top_eigenvalue_sym(&ntk, &mut v, 10_000, 1e-12);
    assert!((power.value - top.values[0]).abs() < 1e-8 * want[0]);
}

fn spec(d: usize, width: usize, act: Activation) -> MlpSpec {
    MlpSpec {
        input_dim: d,
        hidden: vec![width],
        activation: act,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.4,
        sigma_b: 0.3,
        init_scale: 1.0,
        outputs: 1,
    }
}

#[test]
fn hessians_of_small_networks() {
    // The Hessian of the training loss of small networks (tanh, depth 1 and 2; ReLU depth 1)
    // at their random initialisation, where it is indefinite (the residual term), from exact
    // Hessian-vector products; dense reference: H e_j for every basis vector, symmetrised.
    // Top 4 and bottom 2 against the dense solver.
    // (Random symmetric matrices' edges have small gaps, so there the basis grows to the whole
    // space; the known spectra, the NTK and this widest network test early convergence.)
    let d = 3;
    let n = 12;
    let mut r = Rng::new(6);
    let x: Vec<f32> = (0..n * d).map(|_| r.normal() as f32).collect();
    let y: Vec<f32> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    for (hidden, act) in [
        (vec![10], Activation::Tanh),
        (vec![6, 5], Activation::Tanh),
        (vec![12], Activation::Relu),
        (vec![60], Activation::Tanh),
    ] {
        let sp = MlpSpec {
            hidden: hidden.clone(),
            ..spec(d, 1, act)
        };
        let mut be = Cpu::new();
        let mlp = Mlp::new(&mut be, sp.clone(), &mut Rng::new(3)).unwrap();
        let theta = widen(&mlp.params(&mut be));
        let obj = Objective::new(&sp, &x, &y, None, 1.0).unwrap();
        let point = obj.at(&theta).unwrap();
        let p = obj.param_count();
        let mut h = DMatrix::zeros(p, p);
        for j in 0..p {
            let mut e = vec![0.0; p];
            e[j] = 1.0;
            h.set_column(j, &DVector::from_vec(point.hvp(&e).unwrap()));
        }
        let h = (&h + h.transpose()) / 2.0;
        let want = dense_descending(&h);
        let scale = want[0].abs().max(want[p - 1].abs());
        assert!(
            want[p - 1] < 0.0,
            "{hidden:?}: expected an indefinite Hessian"
        );
        let top = lanczos_top_k(p, 4, |v| point.hvp(v).unwrap(), 2).unwrap();
        assert!(top.converged, "{hidden:?}: {:?}", top.residuals);
        if p > 300 {
            // The small networks need nearly their whole space for 1e-10 residuals; the
            // width-60 one (301 parameters) converges in a Krylov space of about 110, well
            // short of the dimension (measured 112).
            assert!(top.matvecs < p / 2, "{hidden:?}: {} products", top.matvecs);
        }
        assert_close(&top.values, &want[..4], scale, &format!("{hidden:?} top 4"));
        let bottom = lanczos_bottom_k(p, 2, |v| point.hvp(v).unwrap(), 2).unwrap();
        assert_close(
            &bottom.values,
            &[want[p - 1], want[p - 2]],
            scale,
            &format!("{hidden:?} bottom 2"),
        );
    }
}

#[test]
fn small_and_degenerate_operators() {
    // k = dim: the whole spectrum; the zero operator: all zeros, converged at once; a
    // budget too small to converge says so.
    let a = with_spectrum(&[3.0, -1.0, 2.0, 0.5], 8);
    let all = lanczos_top_k(4, 4, matvec(&a), 0).unwrap();
    assert!(all.converged);
    assert_close(&all.values, &[3.0, 2.0, 0.5, -1.0], 3.0, "k = dim");
    let zero = DMatrix::<f64>::zeros(10, 10);
    let z = lanczos_top_k(10, 2, matvec(&zero), 0).unwrap();
    assert!(z.converged && z.values == [0.0, 0.0]);
    let mut r = Rng::new(4);
    let g = DMatrix::from_fn(200, 200, |_, _| r.normal());
    let big = &g + g.transpose();
    let opts = LanczosOptions {
        max_matvecs: 6,
        ..LanczosOptions::default()
    };
    let short = lanczos_top_k_with(200, 2, matvec(&big), 0, &opts).unwrap();
    assert!(!short.converged && short.matvecs == 6);
}

#[test]
fn bad_requests_are_errors() {
    let a = DMatrix::<f64>::identity(5, 5);
    assert!(matches!(
        lanczos_top_k(5, 0, matvec(&a), 0),
        Err(Error::InvalidConfig { field: "k", .. })
    ));
    assert!(matches!(
        lanczos_top_k(5, 6, matvec(&a), 0),
        Err(Error::InvalidConfig { field: "k", .. })
    ));
    assert!(matches!(
        lanczos_top_k(5, 2, |_| vec![0.0; 4], 0),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        lanczos_top_k(5, 2, |_| vec![f64::NAN; 5], 0),
        Err(Error::InvalidConfig {
            field: "operator",
            ..
        })
    ));
    let bad_tol = LanczosOptions {
        tol: -1.0,
        ..LanczosOptions::default()
    };
    assert!(lanczos_top_k_with(5, 1, matvec(&a), 0, &bad_tol).is_err());
}

#[test]
fn a_warm_start_block_converges_sooner() {
    // The Step-size scene starts each measurement from the last one's Ritz vectors. From A's
    // own top-3 eigenvectors the first block's Rayleigh–Ritz step is exact: 3 products. From
    // those of a nearby matrix (A plus a 1e-3 symmetric perturbation, as between two tracked
    // steps) it converges to the same 1e-8·‖A‖ in fewer products than from a random block;
    // start vectors of the wrong length are passed over (a cold start).
    let dim = 150;
    let mut spectrum = vec![6.0, 5.0, 4.5];
    let mut r = Rng::new(11);
    while spectrum.len() < dim {
        spectrum.push(r.uniform_in(-1.0, 3.0));
    }
    let a = with_spectrum(&spectrum, 12);
    let g = DMatrix::from_fn(dim, dim, |_, _| r.normal());
    let b = &a + (&g + g.transpose()) * (1e-3 / (2.0 * dim as f64).sqrt());
    let opts = LanczosOptions::default();
    let cold = lanczos_top_k_with(dim, 3, matvec(&a), 5, &opts).unwrap();
    assert_close(&cold.values, &[6.0, 5.0, 4.5], 6.0, "cold");
    let exact = lanczos_top_k_from(dim, 3, matvec(&a), &cold.vectors, 5, &opts).unwrap();
    assert!(
        exact.converged && exact.matvecs == 3,
        "{} products",
        exact.matvecs
    );
    assert_close(
        &exact.values,
        &[6.0, 5.0, 4.5],
        6.0,
        "from the eigenvectors",
    );
    let near = lanczos_top_k_with(dim, 3, matvec(&b), 5, &opts).unwrap();
    let warm = lanczos_top_k_from(dim, 3, matvec(&b), &cold.vectors, 5, &opts).unwrap();
    assert!(warm.converged);
    assert_close(&warm.values, &near.values, 6.0, "warm against cold");
    assert!(
        warm.matvecs < near.matvecs,
        "warm {} products, cold {}",
        warm.matvecs,
        near.matvecs
    );
    let wrong = vec![vec![1.0; dim - 1]];
    let passed_over = lanczos_top_k_from(dim, 3, matvec(&b), &wrong, 5, &opts).unwrap();
    assert_eq!(passed_over, near);
}
