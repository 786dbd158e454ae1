//! The distribution of infinitely wide networks trained by gradient descent from random
//! initialisation, and the NNGP posterior: predictive means and covariances for ±2σ bands.
//!
//! **The ensemble (Lee et al. 2019, "Wide neural networks of any depth evolve as linear models
//! under gradient descent", §2.3: the Gaussian process of the gradient-descent-trained
//! ensemble).** In the infinite-width limit of the NTK parametrisation the network trains as
//! its linearisation with a fixed kernel, the NTK Θ, and its initial function f₀ is a centred
//! Gaussian process whose covariance is the NNGP kernel K, independent of Θ. On DESIGN.md's
//! loss (1/2n)Σ(f − y)² with step size η, time t in steps, [`crate::kernels::machine`] gives
//!
//! ```text
//! f_t(x) = f₀(x) + T_t(x)·(y − f₀(X)),      T_t(x) = Θ(x,X) V diag(h(λ)) Vᵀ      (1 × n)
//! ```
//!
//! with Θ(X,X) = V diag(λ) Vᵀ and h the [`Filter`]'s spectral filter: gradient flow
//! h(λ) = (1 − e^{−ηλt/n})/λ ([`Filter::Flow`]), k discrete steps h(λ) = (1 − (1 − ηλ/n)^k)/λ
//! ([`Filter::Steps`]), and t = ∞, the pseudo-inverse h(λ) = 1/λ ([`Filter::Ridge`] with
//! ridge 0). So f_t(x) = T_t(x)·y + [f₀(x) − T_t(x)·f₀(X)] is an affine map of the Gaussian
//! f₀ and is itself Gaussian over initialisations, with
//!
//! ```text
//! μ_t(x)     = E f_t(x) = T_t(x)·y
//! Σ_t(x, x') = Cov(f₀(x) − T_t(x) f₀(X), f₀(x') − T_t(x') f₀(X))
//!            = K(x,x') − T_t(x) K(X,x') − K(x,X) T_t(x')ᵀ + T_t(x) K(X,X) T_t(x')ᵀ
//! ```
//!
//! (Lee et al.'s mean and covariance in this loss's time scale ηt/n; neural-tangents'
//! `gradient_descent_mse_ensemble` with `compute_cov` computes the same). Checks: at t = 0
//! (h = 0) the covariance is the prior K(x,x'); if Θ = K (only the readout layer trained, the
//! NNGP-trained network) then at t = ∞ T = K(x,X)K⁺ and Σ_∞ = K(x,x') − K(x,X)K⁺K(X,x'), the
//! noise-free GP posterior. Any other filter (a ridge ρ > 0) is also a linear predictor
//! f₀ + T(y − f₀) and the same formula gives its covariance over f₀.
//!
//! **Cost.** With A = Θ(x,X)V (n_test × n), B = VᵀK(X,x) (n × n_test), C = VᵀK(X,X)V (n × n)
//! and D = K(x,x), cached once per test set by [`EnsembleCovariance::new`], and H = diag(h):
//!
//! ```text
//! μ_t = (A H)(Vᵀy)                                                     O(n_test·n + n²)
//! Σ_t = D − (A H) B − ((A H) B)ᵀ + (A H) C (A H)ᵀ                      O(n_test·n² + n_test²·n)
//! Σ_t(x_i, x_i) = D_ii − 2 (AH)_i·B_{·i} + ‖(AH)_i R‖²                  O(n_test·n·r) for all i
//! ```
//!
//! with C ≈ R Rᵀ of C's numerical rank r (see [`EnsembleCovariance::variance`]), so a time,
//! step-size or ridge slider never touches the kernels again.
//!
//! **The NNGP posterior.** [`NngpPosterior`] gives the GP posterior of the NNGP with
//! observation noise σ² ≥ 0, Σ = K(x,x') − K(x,X)(K + σ²I)⁻¹K(X,x') (Rasmussen & Williams
//! 2006, Eq. 2.24), from a [`KernelMachine`] of K: with B = VᵀK(X,x) cached,
//! Σ = D − Bᵀ diag(1/(λ + σ²)) B, σ² = 0 the pseudo-inverse over the numerical null space.
//!
//! **Rounding.** Σ is a difference of terms that can be much larger than Σ itself (the
//! posterior variance near a training point is small), so its absolute error is about ε times
//! the largest term, ‖D‖ + 2‖AHB‖ + ‖AHCHAᵀ‖: at t = ∞ with an ill-conditioned Θ that is
//! ε·κ(Θ)² relative. A finite t (h ≤ ηt/n) or a ridge bounds it. Full covariances are
//! returned symmetrised ((Σ + Σᵀ)/2) and variances as computed, so tiny negative values of the
//! size of that error are possible; clamp at 0 before a square root.

use nalgebra::{DMatrix, DVector};

use super::machine::{Filter, KernelMachine};
use crate::error::{Error, Result};

fn check_shape(
    op: &'static str,
    what: &str,
    m: &DMatrix<f64>,
    rows: usize,
    cols: usize,
) -> Result<()> {
    if m.nrows() != rows || m.ncols() != cols {
        return Err(Error::ShapeMismatch {
            op,
            expected: format!("{what} of {rows} × {cols}"),
            got: format!("{} × {}", m.nrows(), m.ncols()),
        });
    }
    if m.iter().any(|v| !v.is_finite()) {
        return Err(Error::config(
            "kernel",
            format!("{what} has non-finite entries"),
        ));
    }
    Ok(())
}

fn check_y(op: &'static str, y: &[f64], n: usize) -> Result<()> {
    if y.len() != n {
        return Err(Error::ShapeMismatch {
            op,
            expected: format!("y_train of {n}"),
            got: y.len().to_string(),
        });
    }
    Ok(())
}

/// The filter values h(λ_j) of a machine's eigenvalues.
fn filter_values(filter: Filter, eigenvalues: &DVector<f64>) -> Result<DVector<f64>> {
    filter.validate()?;
    let n = eigenvalues.len() as f64;
    Ok(eigenvalues.map(|l| filter.values(l, n).0))
}

/// M diag(h): each column j of M times h_j.
fn scale_columns(m: &DMatrix<f64>, h: &DVector<f64>) -> DMatrix<f64> {
    let mut out = m.clone();
    for (j, mut col) in out.column_iter_mut().enumerate() {
        col *= h[j];
    }
    out
}

/// R (n × r) with R Rᵀ = M up to the eigenvalues of the symmetric positive semi-definite M at
/// or below n·ε times its largest: its eigenvectors scaled by the roots of the eigenvalues kept.
fn psd_root(m: &DMatrix<f64>) -> DMatrix<f64> {
    let n = m.nrows();
    if n == 0 {
        return DMatrix::zeros(0, 0);
    }
    let eig = m.clone().symmetric_eigen();
    let top = eig.eigenvalues.iter().copied().fold(0.0f64, f64::max);
    let floor = n as f64 * f64::EPSILON * top;
    let keep: Vec<usize> = (0..n)
        .filter(|&j| eig.eigenvalues[j] > floor && top > 0.0)
        .collect();
    DMatrix::from_fn(n, keep.len(), |i, k| {
        let j = keep[k];
        eig.eigenvectors[(i, j)] * eig.eigenvalues[j].sqrt()
    })
}

/// (M + Mᵀ)/2 in place.
fn symmetrise(m: &mut DMatrix<f64>) {
    let n = m.nrows();
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (m[(i, j)] + m[(j, i)]);
            m[(i, j)] = v;
            m[(j, i)] = v;
        }
    }
}

/// The mean and covariance over random initialisations of infinitely wide networks trained
/// by gradient descent (see the module notes), for one training set and one test set, at any
/// [`Filter`] (time, step size, steps).
#[derive(Clone, Debug)]
pub struct EnsembleCovariance {
    /// λ_j of Θ(X,X) (numerical null space 0).
    eigenvalues: DVector<f64>,
    /// V, the eigenvectors of Θ(X,X) (n × n).
    eigenvectors: DMatrix<f64>,
    /// A = Θ(x,X) V (n_test × n).
    a: DMatrix<f64>,
    /// B = Vᵀ K(X,x) (n × n_test).
    b: DMatrix<f64>,
    /// C = Vᵀ K(X,X) V (n × n).
    c: DMatrix<f64>,
    /// R with C ≈ R Rᵀ (n × r): C's eigenvectors times the roots of its eigenvalues, those above
    /// n·ε times the largest (see [`EnsembleCovariance::variance`]).
    c_root: DMatrix<f64>,
    /// D = K(x,x) (n_test × n_test).
    d: DMatrix<f64>,
}

impl EnsembleCovariance {
    /// `ntk` decomposes Θ(X,X) (n × n, the NTK on the training inputs); `ntk_test_train`
    /// Θ(x,X) (n_test × n); `nngp_train_train` K(X,X) (n × n); `nngp_test_train` K(x,X)
    /// (n_test × n); `nngp_test_test` K(x,x) (n_test × n_test). Costs O(n³ + n_test·n²) once.
    pub fn new(
        ntk: &KernelMachine,
        ntk_test_train: &DMatrix<f64>,
        nngp_train_train: &DMatrix<f64>,
        nngp_test_train: &DMatrix<f64>,
        nngp_test_test: &DMatrix<f64>,
    ) -> Result<Self> {
        const OP: &str = "EnsembleCovariance::new";
        let n = ntk.n_train();
        let n_test = ntk_test_train.nrows();
        check_shape(OP, "ntk_test_train", ntk_test_train, n_test, n)?;
        check_shape(OP, "nngp_train_train", nngp_train_train, n, n)?;
        check_shape(OP, "nngp_test_train", nngp_test_train, n_test, n)?;
        check_shape(OP, "nngp_test_test", nngp_test_test, n_test, n_test)?;
        let v = ntk.eigenvectors();
        let mut c = v.tr_mul(&(nngp_train_train * v));
        symmetrise(&mut c);
        Ok(EnsembleCovariance {
            eigenvalues: ntk.eigenvalues().clone(),
            eigenvectors: v.clone(),
            a: ntk_test_train * v,
            b: v.tr_mul(&nngp_test_train.transpose()),
            c_root: psd_root(&c),
            c,
            d: nngp_test_test.clone(),
        })
    }

    /// n, the number of training points.
    pub fn n_train(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The number of test points.
    pub fn n_test(&self) -> usize {
        self.d.nrows()
    }

    /// μ_t(x) = T_t(x)·y on the test points (n_test). `y_train` (n).
    pub fn mean(&self, filter: Filter, y_train: &[f64]) -> Result<DVector<f64>> {
        check_y("EnsembleCovariance::mean", y_train, self.n_train())?;
        let h = filter_values(filter, &self.eigenvalues)?;
        let proj = self
            .eigenvectors
            .tr_mul(&DVector::from_column_slice(y_train));
        Ok(&self.a * proj.component_mul(&h))
    }

    /// Σ_t(x, x') on the test points (n_test × n_test, symmetrised).
    pub fn covariance(&self, filter: Filter) -> Result<DMatrix<f64>> {
        let h = filter_values(filter, &self.eigenvalues)?;
        let ah = scale_columns(&self.a, &h);
        let cross = &ah * &self.b;
        let mut sigma = &self.d - &cross - cross.transpose() + &ah * (&self.c * ah.transpose());
        symmetrise(&mut sigma);
        Ok(sigma)
    }

    /// diag Σ_t on the test points (n_test): the variance over initialisations of each test
    /// output, for a μ ± 2σ band.
    ///
    /// The last term (AH)_i C (AH)_iᵀ is ‖(AH)_i R‖² with C ≈ R Rᵀ of rank r, C's eigenpairs
    /// above n·ε·λ_max(C) (ε = 2⁻⁵²): O(n_test·n·r) per filter rather than O(n_test·n²). The
    /// eigenvalues left out change the term by at most n·ε·λ_max(C)‖(AH)_i‖², the size of the
    /// rounding error of the full product. A smooth kernel's C has a small numerical rank (on
    /// 1-D inputs a few dozen at any n), so a new step size or time redraws the band at once.
    pub fn variance(&self, filter: Filter) -> Result<DVector<f64>> {
        let h = filter_values(filter, &self.eigenvalues)?;
        let ah = scale_columns(&self.a, &h);
        let q = &ah * &self.c_root;
        Ok(DVector::from_fn(self.n_test(), |i, _| {
            let row = ah.row(i);
            self.d[(i, i)] - 2.0 * row.dot(&self.b.column(i).transpose()) + q.row(i).norm_squared()
        }))
    }
}

/// The NNGP posterior with observation noise σ² ≥ 0 on one test set, from one
/// eigendecomposition of K(X,X): mean, covariance and variance at any σ² without refactoring.
#[derive(Clone, Debug)]
pub struct NngpPosterior {
    /// λ_j of K(X,X) (numerical null space 0).
    eigenvalues: DVector<f64>,
    /// V, the eigenvectors of K(X,X).
    eigenvectors: DMatrix<f64>,
    /// B = Vᵀ K(X,x) (n × n_test).
    b: DMatrix<f64>,
    /// D = K(x,x) (n_test × n_test).
    d: DMatrix<f64>,
}

impl NngpPosterior {
    /// `nngp` decomposes K(X,X) (n × n); `nngp_test_train` K(x,X) (n_test × n);
    /// `nngp_test_test` K(x,x) (n_test × n_test).
    pub fn new(
        nngp: &KernelMachine,
        nngp_test_train: &DMatrix<f64>,
        nngp_test_test: &DMatrix<f64>,
    ) -> Result<Self> {
        const OP: &str = "NngpPosterior::new";
        let n = nngp.n_train();
        let n_test = nngp_test_train.nrows();
        check_shape(OP, "nngp_test_train", nngp_test_train, n_test, n)?;
        check_shape(OP, "nngp_test_test", nngp_test_test, n_test, n_test)?;
        let v = nngp.eigenvectors();
        Ok(NngpPosterior {
            eigenvalues: nngp.eigenvalues().clone(),
            eigenvectors: v.clone(),
            b: v.tr_mul(&nngp_test_train.transpose()),
            d: nngp_test_test.clone(),
        })
    }

    /// The number of test points.
    pub fn n_test(&self) -> usize {
        self.d.nrows()
    }

    /// H^{1/2} B with H = diag(1/(λ + σ²)) (0 on the null space when σ² = 0).
    fn whitened(&self, noise_var: f64) -> Result<DMatrix<f64>> {
        let h = filter_values(Filter::Ridge { ridge: noise_var }, &self.eigenvalues)?;
        let mut w = self.b.clone();
        for (j, mut row) in w.row_iter_mut().enumerate() {
            row *= h[j].sqrt();
        }
        Ok(w)
    }

    /// K(x,X)(K + σ²I)⁻¹y (n_test), the posterior mean. `y_train` (n).
    pub fn mean(&self, noise_var: f64, y_train: &[f64]) -> Result<DVector<f64>> {
        check_y("NngpPosterior::mean", y_train, self.eigenvalues.len())?;
        let h = filter_values(Filter::Ridge { ridge: noise_var }, &self.eigenvalues)?;
        let proj = self
            .eigenvectors
            .tr_mul(&DVector::from_column_slice(y_train));
        Ok(self.b.tr_mul(&proj.component_mul(&h)))
    }

    /// K(x,x') − K(x,X)(K + σ²I)⁻¹K(X,x') (n_test × n_test, symmetric by construction).
    pub fn covariance(&self, noise_var: f64) -> Result<DMatrix<f64>> {
        let w = self.whitened(noise_var)?;
        let mut sigma = &self.d - w.tr_mul(&w);
        symmetrise(&mut sigma);
        Ok(sigma)
    }

    /// The diagonal of [`NngpPosterior::covariance`] (n_test), in O(n·n_test).
    pub fn variance(&self, noise_var: f64) -> Result<DVector<f64>> {
        let w = self.whitened(noise_var)?;
        Ok(DVector::from_fn(self.n_test(), |i, _| {
            self.d[(i, i)] - w.column(i).norm_squared()
        }))
    }
}
