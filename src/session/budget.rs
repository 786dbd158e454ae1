//! The memory and time budgets of every scene, in one place with their reasons.
//!
//! A scene refuses settings over its budget before it allocates or computes anything, and the
//! refusal names the estimate (see [`crate::error::Error::TooLarge`]). Memory budgets are in
//! bytes: a browser tab has a few GiB at most, and a worker's wasm memory cannot shrink once
//! grown. Time budgets are floating-point work in FLOPs, turned into seconds for the reader at
//! an assumed throughput measured on that scene's workload (its matrices differ in shape, so
//! the throughputs differ: skinny products run slower than square ones).
//!
//! Two budgets live below this module because the layers that apply them sit under `session`:
//! the batched trainer's memory ([`crate::nn::batched::MEMORY_LIMIT`]) and the plotting grid's
//! work ([`crate::data::GRID_FLOP_BUDGET`]).

const MIB: u64 = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/// The most memory one training run may use, in bytes ([`crate::session::run::Run`]: data,
/// network, trainer and the plotting grid; the Playground, Lazy-or-rich and Step-size runs
/// share it).
pub const PLAYGROUND_MEMORY: u64 = 512 * MIB;

/// The most memory one double-descent session may use, in bytes: more than a Playground's,
/// since every seed's feature matrix and factorised Grams stay cached for cheap re-fits.
pub const DOUBLE_DESCENT_MEMORY: u64 = 768 * MIB;

/// The most memory one trained-networks sweep may use, in bytes.
pub const TRAINED_SWEEP_MEMORY: u64 = 512 * MIB;

// ---------------------------------------------------------------------------------------------
// Throughput assumed for time estimates
// ---------------------------------------------------------------------------------------------

/// The Lazy-or-rich scene's CPU-path throughput for the time estimate in refusals, FLOP/s.
pub const LAZY_ASSUMED_FLOPS: f64 = 2e10;

/// The Step-size scene's CPU throughput for time estimates, FLOP/s (native, measured on this
/// workload's skinny matrices with `cargo bench --bench step_size`; wasm is 2–3× slower).
pub const STEP_SIZE_ASSUMED_FLOPS: f64 = 1e10;

/// The trained-networks sweep's training-loop throughput in the browser, FLOP/s, for the time
/// estimates (measured natively: about 1.5e10 FLOP/s on these small networks; wasm is 2–3×
/// slower).
pub const TRAINED_SWEEP_ASSUMED_FLOPS: f64 = 5e9;

// ---------------------------------------------------------------------------------------------
// Work
// ---------------------------------------------------------------------------------------------

/// The most floating-point work the Lazy-or-rich set-up may take (the empirical NTK at θ₀ on
/// the training, test and grid points): about 5 s on the CPU path at [`LAZY_ASSUMED_FLOPS`].
pub const LAZY_SETUP_FLOPS: f64 = 1e11;

/// The most floating-point work one Step-size tracking point (empirical NTK plus the Hessian's
/// Lanczos products) may take: about 0.5 s at [`STEP_SIZE_ASSUMED_FLOPS`].
pub const STEP_SIZE_TRACK_FLOPS: f64 = 5e9;

/// The most floating-point work measuring the catapult bound may take (about 0.2 s natively).
pub const CATAPULT_FLOPS: f64 = 4e9;

/// The most floating-point work a phase diagram may take: about 15 s natively at
/// [`STEP_SIZE_ASSUMED_FLOPS`] (30–45 s in the browser).
pub const PHASE_FLOPS: f64 = 1.5e11;

/// The most floating-point work one trained-networks sweep may take (training and evaluation
/// of every cell): about five minutes in the browser at [`TRAINED_SWEEP_ASSUMED_FLOPS`].
pub const TRAINED_SWEEP_WORK: f64 = 1.5e12;
