//! The multilayer perceptron: parametrisations, forward and backward passes, gradient descent.

pub mod activation;

pub use activation::Activation;
