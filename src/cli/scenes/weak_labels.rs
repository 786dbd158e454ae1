//! `descent run weak-labels` headless.

use crate::cli::{Headless, Progress, RunOptions, SceneOutput, Settings};
use crate::error::{Error, Result};

/// The weak-labels scene without a page.
pub struct WeakLabels;

impl Headless for WeakLabels {
    fn id(&self) -> &'static str {
        "weak-labels"
    }

    fn about(&self) -> &'static str {
        "not built yet"
    }

    fn run(&self, _: &Settings, _: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        Err(Error::Usage {
            message: "weak-labels: not built yet".into(),
        })
    }
}
