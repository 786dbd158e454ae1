//! Kernels: analytic infinite-width NNGP/NTK, classical kernels, and kernel machines.
//!
//! - [`analytic`]: the NNGP and NTK of the MLP family of [`crate::nn`] (closed forms for
//!   ReLU, erf and linear, quadrature for tanh), in the NTK, standard and mean-field
//!   parametrisations, with the per-layer split of the NTK; on a backend (a GPU) in f32 for
//!   ReLU, erf and linear ([`analytic::nngp_ntk_on`]).
//! - [`classical`]: RBF and Laplace kernels.
//! - [`ensemble`]: the mean and covariance over initialisations of infinitely wide networks
//!   trained by gradient descent (any time or step size), and the NNGP posterior covariance.
//! - [`machine`]: kernel ridge regression, kernel gradient flow and discrete kernel gradient
//!   descent from one cached eigendecomposition of `k_train_train`.
//! - [`mean_map`]: class means recovered from bag means and label proportions by least
//!   squares (learning from label proportions), with the proportions' condition number.
//! - [`random_features`]: Gram matrices of random ReLU features on a backend (GPU or CPU).
//! - [`series`]: Hermite-series kernels of odd activations without a closed form (tanh).
//!
//! Kernel matrices are f64 [`nalgebra::DMatrix`] with rows indexing the first argument
//! (`k_test_train` is n_test × n_train); inputs are row-major `n × d` slices of f64.

pub mod analytic;
pub mod classical;
pub mod ensemble;
pub mod machine;
pub mod mean_map;
pub mod random_features;
pub mod series;

pub use analytic::{KernelSpec, NtkTerms, nngp_ntk, nngp_ntk_into, ntk_into, ntk_terms};
pub use ensemble::{EnsembleCovariance, NngpPosterior};
pub use machine::{Filter, KernelMachine};
