//! `descent run step` headless.

use crate::cli::{Headless, Progress, RunOptions, SceneOutput, Settings};
use crate::error::{Error, Result};

/// The step scene without a page.
pub struct Step;

impl Headless for Step {
    fn id(&self) -> &'static str {
        "step"
    }

    fn about(&self) -> &'static str {
        "not built yet"
    }

    fn run(&self, _: &Settings, _: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        Err(Error::Usage {
            message: "step: not built yet".into(),
        })
    }
}
