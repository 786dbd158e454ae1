//! Scalar mathematics every layer above stands on; imports nothing from the rest of the crate.
//!
//! - [`activation`]: the activations φ of the MLP family, one block each: φ, φ′, φ″ in f32 for
//!   the network and f64 for theory, the GPU code, and the closed-form dual kernels (or none);
//!   and their branch-free f32 special functions (erf, tanh, exp).
//! - [`special`]: branch-free arcsine and arccosine in f64 and f32 for the kernel inner loops.
//! - [`quadrature`]: Gauss–Hermite rules for Gaussian expectations.

pub mod activation;
pub mod quadrature;
pub mod special;

pub use activation::Activation;
