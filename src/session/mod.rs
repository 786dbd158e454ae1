//! What every scene stands on: the CPU/GPU choice and its fallback notices, and the memory and
//! time budgets.

pub mod budget;
pub mod device;
