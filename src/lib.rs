//! Descent: an in-browser explorer of why deep learning works and where its theory stops.
//!
//! The core is a plain Rust library that builds natively and for `wasm32-unknown-unknown`.
//! Every `#[wasm_bindgen]` export lives in [`api`] (wasm only); nothing else sees `JsValue`.
//!
//! Modules:
//! - [`math`]: activations, special functions and quadrature (imports nothing above it).
//! - [`data`]: seeded datasets, splits and plotting grids.
//! - [`backend`]: the matrix operations the engine needs (the seam a GPU backend takes over).
//! - [`nn`]: the MLP — parametrisations, forward/backward, gradient descent, divergence.
//! - [`linalg`]: Householder tridiagonalisation and shifted solves (one reduction, every ridge).
//! - [`kernels`]: analytic infinite-width kernels, classical kernels, kernel machines.
//! - [`session`]: what every scene stands on (the CPU/GPU choice and its fallback notices).
//! - [`scenes`]: one module per scene (the numbers each panel shows) and their registry.
//! - [`theory`]: closed-form theory curves (Hastie et al., Mei & Montanari) the scenes overlay.
//! - [`rng`]: explicit seeded randomness (there is no global RNG).
//! - [`exec`]: the one way synchronous callers wait for the engine's futures.
//! - `cli` (native only): the `descent` command line, every scene headless.

pub mod backend;
pub mod data;
pub mod error;
pub mod exec;
pub mod kernels;
pub mod linalg;
pub mod math;
pub mod nn;
pub mod rng;
pub mod scenes;
pub mod session;
pub mod theory;

#[cfg(target_arch = "wasm32")]
pub mod api;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;

pub use error::{Error, Result};
