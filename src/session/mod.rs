//! What every scene stands on: the settings tables and the shared data and network settings,
//! a training run (data + network + trainer), the CPU/GPU choice and its fallback notices, and
//! the memory and time budgets, and the weights file of a trained network.

pub mod budget;
pub mod device;
pub mod fields;
pub mod grid;
pub mod net;
pub mod run;
pub mod settings;
pub mod weights;
