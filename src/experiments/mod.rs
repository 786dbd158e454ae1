//! One module per scene: the numbers each panel shows.

pub mod lazy;
pub mod playground;
