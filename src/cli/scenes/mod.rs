//! One headless driver per scene and panel, and their registry (in the order of
//! [`crate::scenes::SCENES`], then the panels).

pub mod double_descent;
pub mod lazy;
pub mod phase;
pub mod playground;
pub mod step;
pub mod trained;
pub mod weak_labels;

use super::Headless;

/// Every scene and panel the command line runs.
pub fn all() -> Vec<&'static dyn Headless> {
    vec![
        &playground::Playground,
        &lazy::Lazy,
        &double_descent::DoubleDescent,
        &step::Step,
        &weak_labels::WeakLabels,
        &trained::Trained,
        &phase::Phase,
    ]
}

/// The driver of scene `id`.
pub fn get(id: &str) -> Option<&'static dyn Headless> {
    all().into_iter().find(|h| h.id() == id)
}
