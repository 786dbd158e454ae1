//! The multilayer perceptron: parametrisations, forward and backward passes, gradient descent.

pub mod activation;
pub mod batched;
pub mod hessian;
pub mod mlp;
pub mod ntk;
pub mod train;

pub use activation::Activation;
pub use batched::{BatchedTrainer, NetConfig};
pub use mlp::{Mlp, MlpSpec, Parametrization};
pub use train::Trainer;
