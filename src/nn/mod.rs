//! The multilayer perceptron: parametrisations, forward and backward passes, gradient descent.

pub mod batched;
pub mod hessian;
pub mod loss;
pub mod mlp;
pub mod momentum;
pub mod ntk;
pub mod train;

pub use crate::math::Activation;
pub use batched::{BatchedTrainer, NetConfig};
pub use loss::Loss;
pub use mlp::{Mlp, MlpSpec, Parametrization};
pub use momentum::Momentum;
pub use train::Trainer;
