//! `descent run playground` headless.

use crate::cli::{Headless, Progress, RunOptions, SceneOutput, Settings};
use crate::error::{Error, Result};

/// The playground scene without a page.
pub struct Playground;

impl Headless for Playground {
    fn id(&self) -> &'static str {
        "playground"
    }

    fn about(&self) -> &'static str {
        "not built yet"
    }

    fn run(&self, _: &Settings, _: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        Err(Error::Usage {
            message: "playground: not built yet".into(),
        })
    }
}
