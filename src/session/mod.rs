//! What every scene stands on: the CPU/GPU choice and its fallback notices.

pub mod device;
