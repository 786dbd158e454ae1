//! The CPU/GPU choice every scene that can train on the GPU makes, and the words it uses when the
//! GPU cannot be had or is emulated in software.
//!
//! [`BackendChoice::Auto`] puts a run on the GPU only when WebGPU is there and the run's step costs
//! at least [`AUTO_GPU_MIN_FLOPS`]; the scenes that choose a backend (the Playground's live run,
//! the step-size phase diagram) share these rules and notices.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The reader's choice of backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// The GPU for large full-batch runs when WebGPU is there, else the CPU.
    #[default]
    Auto,
    Cpu,
    Gpu,
}

impl BackendChoice {
    pub const ALL: [BackendChoice; 3] =
        [BackendChoice::Auto, BackendChoice::Cpu, BackendChoice::Gpu];

    /// The name a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Cpu => "CPU (wasm)",
            BackendChoice::Gpu => "GPU (WebGPU)",
        }
    }

    /// Parses "auto", "cpu" or "gpu".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "auto" | "" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" | "webgpu" => Ok(Self::Gpu),
            other => Err(Error::config(
                "backend",
                format!("expected \"auto\", \"cpu\" or \"gpu\", got {other:?}"),
            )),
        }
    }
}

/// Floating-point operations per full-batch step from which [`BackendChoice::Auto`] prefers
/// the GPU: 15 MFLOP, about one hidden layer of width 3,000 or three of width 256 on 256
/// points. Below it the CPU path takes a step in about a millisecond, not much more than a
/// GPU's dispatches and readback cost in a browser, and a small GPU does not pay back.
pub const AUTO_GPU_MIN_FLOPS: f64 = 1.5e7;

/// The notice for [`BackendChoice::Auto`] when the only WebGPU adapter emulates a GPU in
/// software: `what` says where the work runs instead.
pub fn software_notice(adapter: &str, what: &str) -> String {
    format!(
        "The GPU here is a software emulation on the CPU ({adapter}), slower than the CPU path, so {what}; \
         choose the GPU backend to use it anyway."
    )
}

/// The notice for a run the reader put on a software WebGPU adapter.
pub fn software_warning(adapter: &str) -> String {
    format!(
        "The GPU here is a software emulation on the CPU ({adapter}): the GPU backend runs, but much slower than the CPU path would."
    )
}

/// The notice when no GPU can be had, in plain words (what happened, then `what` runs where
/// instead: "training runs on the CPU"), and the technical detail for a developer's console.
pub fn unavailable_notice(e: &Error, what: &str) -> (String, String) {
    match e {
        Error::GpuUnavailable { reason, detail } => (
            format!("{}, so {what}.", capitalised(reason)),
            detail.clone(),
        ),
        Error::Gpu { .. } => (
            format!("The GPU failed while setting up, so {what}."),
            e.to_string(),
        ),
        other => (
            format!("The GPU could not be used, so {what}."),
            other.to_string(),
        ),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
