//! One module per scene: the numbers each panel shows.

pub mod double_descent;
pub mod lazy;
pub mod live;
pub mod playground;
pub mod step_size;
pub mod trained_sweep;
