//! One headless driver per scene, and their registry (in the order of
//! [`crate::scenes::SCENES`]).

use super::Headless;

/// Every scene the command line runs.
pub fn all() -> Vec<&'static dyn Headless> {
    Vec::new()
}

/// The driver of scene `id`.
pub fn get(id: &str) -> Option<&'static dyn Headless> {
    all().into_iter().find(|h| h.id() == id)
}
