//! Kernel machines from one eigendecomposition of the training kernel.
//!
//! With k_train_train = K = V diag(λ) Vᵀ (n × n), residual r₀ = y − f₀(X) and DESIGN.md's loss
//! (1/2n)Σ(f − y)², every method here is a spectral filter h applied to r₀:
//!
//! ```text
//! f_test  = f₀(x) + k(x, X)·V diag(h(λ)) Vᵀ r₀          (n_test)
//! f_train = f₀(X) + V diag(λ·h(λ)) Vᵀ r₀                 (n)
//! ```
//!
//! | method | h(λ) | λ·h(λ) | λ → 0 |
//! |---|---|---|---|
//! | kernel ridge regression, ridge ρ > 0 | 1/(λ + ρ) | λ/(λ + ρ) | |
//! | ridge ρ = 0 (minimum-norm interpolant) | 1/λ | 1 | h = 0 (pseudo-inverse) |
//! | gradient flow for time t, step size η | (1 − e^{−ηλt/n})/λ | 1 − e^{−ηλt/n} | h → ηt/n |
//! | k steps of gradient descent | (1 − (1 − ηλ/n)^k)/λ | 1 − (1 − ηλ/n)^k | h → ηk/n |
//!
//! The flow solves ḟ = −(η/n)K(f − y) on the training points and f_t = f₀ + k(x,X)K⁻¹(I −
//! e^{−ηKt/n})r₀ elsewhere: the dynamics of the linearised network (Jacot et al. 2018;
//! Lee et al. 2019), with the NTK as K. Discrete gradient descent f ← f − (η/n)K(f − y)
//! multiplies the training residual by (I − ηK/n) per step, and sums the geometric series for
//! the test points. KRR with the NNGP kernel and ridge σ² is the NNGP posterior mean.
//!
//! **Numerical null space.** Eigenvalues below `cutoff` = n·ε·λ_max (ε the f64 machine
//! epsilon; including the small negative ones rounding produces for a PSD kernel) are set to
//! exactly 0: they are below the accuracy of the decomposition. The ridge-free KRR is then the
//! pseudo-inverse solution, and the flow and GD keep their λ → 0 limits above, so that on the
//! training points the flow tends to the ridge-free KRR as t → ∞.
//!
//! Cost: the decomposition is O(n³) once (nalgebra's `SymmetricEigen`, the dominant cost at
//! n = 1,000; for one ridge value the Cholesky of [`kernel_ridge`] is ~15× cheaper); each
//! prediction after it is O(n²) for the filter plus O(n_test·n) for k_test_train times a
//! vector, so time, step size and ridge sliders never refactor.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::error::{Error, Result};

/// Which kernel machine, with its settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Filter {
    /// Kernel ridge regression f = k(x,X)(K + ridge·I)⁻¹y (ridge ≥ 0; 0 is the pseudo-inverse).
    Ridge { ridge: f64 },
    /// Kernel gradient flow for time `t` (in units of steps) at step size `lr`.
    Flow { lr: f64, t: f64 },
    /// `steps` steps of discrete kernel gradient descent at step size `lr`.
    Steps { lr: f64, steps: u64 },
}

impl Filter {
    pub(crate) fn validate(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        match *self {
            Filter::Ridge { ridge } if !ok(ridge) => Err(Error::config(
                "ridge",
                format!("must be a finite number ≥ 0, got {ridge}"),
            )),
            Filter::Flow { lr, t } if !ok(lr) || !ok(t) => Err(Error::config(
                "lr",
                format!("step size and time must be finite and ≥ 0, got lr {lr}, t {t}"),
            )),
            Filter::Steps { lr, .. } if !ok(lr) => Err(Error::config(
                "lr",
                format!("must be a finite number ≥ 0, got {lr}"),
            )),
            _ => Ok(()),
        }
    }

    /// (h(λ), λ·h(λ)) for an eigenvalue λ ≥ 0 of K on n training points (λ = 0 exactly means
    /// the numerical null space).
    #[inline]
    pub(crate) fn values(&self, lambda: f64, n: f64) -> (f64, f64) {
        match *self {
            Filter::Ridge { ridge } => {
                let denom = lambda + ridge;
                if denom > 0.0 {
                    (1.0 / denom, lambda / denom)
                } else {
                    (0.0, 0.0)
                }
            }
            Filter::Flow { lr, t } => {
                let x = lr * lambda * t / n;
                let g = -(-x).exp_m1();
                (if lambda > 0.0 { g / lambda } else { lr * t / n }, g)
            }
            Filter::Steps { lr, steps } => {
                let x = lr * lambda / n;
                let k = steps as f64;
                let g = if steps == 0 {
                    0.0
                } else if x < 1.0 {
                    // 1 − (1 − x)^k without cancellation for small x.
                    -(k * (-x).ln_1p()).exp_m1()
                } else {
                    // (1 − x) ≤ 0: an integral power of a non-positive base keeps its sign.
                    1.0 - (1.0 - x).powf(k)
                };
                (if lambda > 0.0 { g / lambda } else { lr * k / n }, g)
            }
        }
    }
}

/// One symmetric eigendecomposition of k_train_train, serving every t, step size and ridge.
#[derive(Clone, Debug)]
pub struct KernelMachine {
    /// λ_i, as the decomposition returns them (unsorted), numerical null space set to 0.
    eigenvalues: DVector<f64>,
    /// V: orthonormal eigenvectors in the columns, n × n.
    eigenvectors: DMatrix<f64>,
    /// The eigenvalue below which λ counts as 0.
    cutoff: f64,
}

impl KernelMachine {
    /// Decomposes `k_train_train` (n × n, symmetric positive semi-definite).
    pub fn new(k_train_train: &DMatrix<f64>) -> Result<Self> {
        let n = k_train_train.nrows();
        if n == 0 || k_train_train.ncols() != n {
            return Err(Error::ShapeMismatch {
                op: "KernelMachine::new",
                expected: "a square, non-empty k_train_train".into(),
                got: format!("{} × {}", n, k_train_train.ncols()),
            });
        }
        if k_train_train.iter().any(|v| !v.is_finite()) {
            return Err(Error::config(
                "kernel",
                "k_train_train has non-finite entries",
            ));
        }
        let eig = SymmetricEigen::new(k_train_train.clone());
        let lambda_max = eig.eigenvalues.max().max(0.0);
        let cutoff = n as f64 * f64::EPSILON * lambda_max;
        let eigenvalues = eig.eigenvalues.map(|l| if l > cutoff { l } else { 0.0 });
        Ok(KernelMachine {
            eigenvalues,
            eigenvectors: eig.eigenvectors,
            cutoff,
        })
    }

    /// n, the number of training points.
    pub fn n_train(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The eigenvalues λ_i of k_train_train (unsorted; the numerical null space is 0).
    pub fn eigenvalues(&self) -> &DVector<f64> {
        &self.eigenvalues
    }

    /// V (n × n), the eigenvector of λ_i in column i.
    pub fn eigenvectors(&self) -> &DMatrix<f64> {
        &self.eigenvectors
    }

    /// Eigenvalues at or below this count as 0 (n·ε·λ_max).
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// λ_max(K).
    pub fn lambda_max(&self) -> f64 {
        self.eigenvalues.max()
    }

    /// The largest step size for which discrete kernel gradient descent on (1/2n)Σ(f − y)²
    /// converges: 2n/λ_max (every factor |1 − ηλ/n| < 1). Infinite for K = 0.
    pub fn max_stable_lr(&self) -> f64 {
        2.0 * self.n_train() as f64 / self.lambda_max()
    }

    /// Vᵀ·v (n).
    fn project(&self, v: &DVector<f64>) -> DVector<f64> {
        self.eigenvectors.tr_mul(v)
    }

    /// α = V diag(h(λ)) Vᵀ r₀ (n), so that f_test = f₀(x) + k_test_train·α.
    /// `residual_0` = y − f₀(X) (n).
    pub fn dual_coefficients(&self, filter: Filter, residual_0: &[f64]) -> Result<DVector<f64>> {
        filter.validate()?;
        let r0 = self.vector("residual_0", residual_0)?;
        let n = self.n_train() as f64;
        let mut c = self.project(&r0);
        for (ci, &l) in c.iter_mut().zip(self.eigenvalues.iter()) {
            *ci *= filter.values(l, n).0;
        }
        Ok(&self.eigenvectors * c)
    }

    /// f on the training points: f₀(X) + V diag(λh(λ)) Vᵀ (y − f₀(X)) (n).
    /// `y_train` (n); `f_train_0` (n) or `None` for f₀ = 0.
    pub fn predict_train(
        &self,
        filter: Filter,
        y_train: &[f64],
        f_train_0: Option<&[f64]>,
    ) -> Result<DVector<f64>> {
        filter.validate()?;
        let f0 = self.initial("f_train_0", f_train_0)?;
        let r0 = self.vector("y_train", y_train)? - &f0;
        let n = self.n_train() as f64;
        let mut c = self.project(&r0);
        for (ci, &l) in c.iter_mut().zip(self.eigenvalues.iter()) {
            *ci *= filter.values(l, n).1;
        }
        Ok(f0 + &self.eigenvectors * c)
    }

    /// f on test points: f₀(x) + k_test_train·α (n_test). `k_test_train` (n_test × n);
    /// `y_train`, `f_train_0` (n); `f_test_0` (n_test); `None` means f₀ = 0.
    pub fn predict_test(
        &self,
        filter: Filter,
        k_test_train: &DMatrix<f64>,
        y_train: &[f64],
        f_train_0: Option<&[f64]>,
        f_test_0: Option<&[f64]>,
    ) -> Result<DVector<f64>> {
        if k_test_train.ncols() != self.n_train() {
            return Err(Error::ShapeMismatch {
                op: "KernelMachine::predict_test",
                expected: format!("k_test_train with {} columns", self.n_train()),
                got: format!("{} × {}", k_test_train.nrows(), k_test_train.ncols()),
            });
        }
        let f0 = self.initial("f_train_0", f_train_0)?;
        let r0 = self.vector("y_train", y_train)? - f0;
        let alpha = self.dual_coefficients(filter, r0.as_slice())?;
        let mut f = k_test_train * alpha;
        if let Some(f_test_0) = f_test_0 {
            if f_test_0.len() != f.len() {
                return Err(Error::ShapeMismatch {
                    op: "KernelMachine::predict_test",
                    expected: format!("f_test_0 of {}", f.len()),
                    got: f_test_0.len().to_string(),
                });
            }
            for (fi, &f0i) in f.iter_mut().zip(f_test_0) {
                *fi += f0i;
            }
        }
        Ok(f)
    }

    /// Kernel ridge regression k_test_train (K + ridge·I)⁻¹ y_train (n_test), ridge ≥ 0.
    /// `k_test_train` (n_test × n), `y_train` (n).
    pub fn krr(
        &self,
        k_test_train: &DMatrix<f64>,
        y_train: &[f64],
        ridge: f64,
    ) -> Result<DVector<f64>> {
        self.predict_test(Filter::Ridge { ridge }, k_test_train, y_train, None, None)
    }

    /// The NNGP posterior mean (n_test): KRR with the NNGP kernel (this machine must decompose
    /// the NNGP's k_train_train) and ridge = the observation noise variance σ².
    /// `k_test_train` (n_test × n, NNGP), `y_train` (n).
    pub fn nngp_posterior_mean(
        &self,
        k_test_train: &DMatrix<f64>,
        y_train: &[f64],
        noise_var: f64,
    ) -> Result<DVector<f64>> {
        self.krr(k_test_train, y_train, noise_var)
    }

    fn vector(&self, what: &'static str, v: &[f64]) -> Result<DVector<f64>> {
        if v.len() != self.n_train() {
            return Err(Error::ShapeMismatch {
                op: what,
                expected: self.n_train().to_string(),
                got: v.len().to_string(),
            });
        }
        Ok(DVector::from_column_slice(v))
    }

    fn initial(&self, what: &'static str, v: Option<&[f64]>) -> Result<DVector<f64>> {
        match v {
            Some(v) => self.vector(what, v),
            None => Ok(DVector::zeros(self.n_train())),
        }
    }
}

/// One-shot kernel ridge regression by a Cholesky factorisation of k_train_train + ridge·I,
/// for a single ridge value (about 15× cheaper than [`KernelMachine::new`] at n = 1,000).
/// `k_train_train` (n × n, symmetric; its lower triangle is read), `k_test_train`
/// (n_test × n), `y_train` (n); returns f_test (n_test). Fails with
/// [`Error::NotPositiveDefinite`] when K + ridge·I is not numerically positive definite
/// (e.g. ridge = 0 and a singular K: use [`KernelMachine::krr`] then).
pub fn kernel_ridge(
    k_train_train: &DMatrix<f64>,
    k_test_train: &DMatrix<f64>,
    y_train: &[f64],
    ridge: f64,
) -> Result<DVector<f64>> {
    let n = k_train_train.nrows();
    if k_train_train.ncols() != n || k_test_train.ncols() != n || y_train.len() != n {
        return Err(Error::ShapeMismatch {
            op: "kernel_ridge",
            expected: format!("k_train_train {n} × {n}, k_test_train · × {n}, y of {n}"),
            got: format!(
                "{} × {}, {} × {}, {}",
                k_train_train.nrows(),
                k_train_train.ncols(),
                k_test_train.nrows(),
                k_test_train.ncols(),
                y_train.len()
            ),
        });
    }
    Filter::Ridge { ridge }.validate()?;
    let mut a = k_train_train.clone();
    for i in 0..n {
        a[(i, i)] += ridge;
    }
    let chol = a.cholesky().ok_or(Error::NotPositiveDefinite {
        what: "k_train_train + ridge·I",
    })?;
    let alpha = chol.solve(&DVector::from_column_slice(y_train));
    Ok(k_test_train * alpha)
}
