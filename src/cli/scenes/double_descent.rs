//! `descent run double-descent` headless.

use crate::cli::{Headless, Progress, RunOptions, SceneOutput, Settings};
use crate::error::{Error, Result};

/// The double-descent scene without a page.
pub struct DoubleDescent;

impl Headless for DoubleDescent {
    fn id(&self) -> &'static str {
        "double-descent"
    }

    fn about(&self) -> &'static str {
        "not built yet"
    }

    fn run(&self, _: &Settings, _: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        Err(Error::Usage {
            message: "double-descent: not built yet".into(),
        })
    }
}
