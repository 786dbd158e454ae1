//! `descent run lazy` headless.

use crate::cli::{Headless, Progress, RunOptions, SceneOutput, Settings};
use crate::error::{Error, Result};

/// The lazy scene without a page.
pub struct Lazy;

impl Headless for Lazy {
    fn id(&self) -> &'static str {
        "lazy"
    }

    fn about(&self) -> &'static str {
        "not built yet"
    }

    fn run(&self, _: &Settings, _: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        Err(Error::Usage {
            message: "lazy: not built yet".into(),
        })
    }
}
