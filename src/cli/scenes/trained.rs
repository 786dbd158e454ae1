//! `descent run double-descent/trained` headless.

use crate::cli::{Headless, Progress, RunOptions, SceneOutput, Settings};
use crate::error::{Error, Result};

/// The double-descent/trained scene without a page.
pub struct Trained;

impl Headless for Trained {
    fn id(&self) -> &'static str {
        "double-descent/trained"
    }

    fn about(&self) -> &'static str {
        "not built yet"
    }

    fn run(&self, _: &Settings, _: &RunOptions, _: &dyn Progress) -> Result<SceneOutput> {
        Err(Error::Usage {
            message: "double-descent/trained: not built yet".into(),
        })
    }
}
