//! The Playground scene: one MLP training live on a 1-D regression set, a two-class or K-class
//! 2-D set, the 8×8 digits, or a table the reader brings (the last two drawn on the plane of
//! their two principal axes), with the squared or the cross-entropy loss.
//!
//! A [`Playground`] is a [`GridRun`]: a [`Run`](crate::session::run::Run) (data, network and
//! trainer; it dereferences to it) plus the plotting grid the page draws the network on. The
//! page calls `advance` in small batches of steps and reads back a [`Report`] after each, and
//! now and then the network's predictions on the grid ([`GridRun::predict_grid`]).

pub mod live;

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::error::Result;
use crate::session::grid::{self, GridRun};
use crate::session::run::RunConfig;
use crate::session::settings::SceneSpec;
use crate::session::weights::Weights;

pub use crate::session::run::{DataSource, Misclassified, N_TEST, Report, Snapshot};

/// Every setting of the Playground: those of a [`Run`](crate::session::run::Run), under the name the page and its
/// links know (the same fields, defaults and URL keys).
pub type PlaygroundConfig = RunConfig;

/// The Playground's settings table (see [`crate::session::settings`]): a live run's rows.
pub fn settings() -> SceneSpec {
    SceneSpec::new(
        "playground",
        grid::full_table(),
        &PlaygroundConfig::default(),
    )
}

/// One live Playground run, on the CPU by default or on any other backend: a run and its
/// plotting grid ([`GridRun`]).
pub type Playground<B = Cpu> = GridRun<B>;

/// The scene's id in weights files and links.
pub const SCENE: &str = "playground";

/// The weights file of a Playground run now (see [`crate::session::weights`]), read back
/// without blocking.
pub async fn export_weights<B: Backend>(pg: &mut Playground<B>) -> Result<Weights> {
    let config = pg.config.clone();
    pg.export_weights_async(SCENE, &config).await
}

/// Reads a Playground weights file: the settings it holds (checked against the scene's table
/// and against its architecture and layers) and the file.
pub fn read_weights(text: &str) -> Result<(PlaygroundConfig, Weights)> {
    read_weights_with(text, &DataSource::default())
}

/// [`read_weights`] for runs on the data of `source`: a file written on a reader's table is
/// checked against the table held (and refused when none is).
pub fn read_weights_with(text: &str, source: &DataSource) -> Result<(PlaygroundConfig, Weights)> {
    let weights = Weights::parse(text)?;
    let config = weights.config(&settings(), &PlaygroundConfig::default(), |c| {
        c.clone().with_source(source)
    });
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            // A table run's file read without its table: say so rather than name a shape.
            let settings: PlaygroundConfig =
                serde_json::from_value(weights.settings.clone()).unwrap_or_default();
            if settings.data.dataset == crate::data::DatasetKind::Table && source.table.is_none() {
                return Err(crate::error::Error::config(
                    "dataset",
                    crate::session::run::TABLE_MISSING,
                ));
            }
            return Err(e);
        }
    };
    // A run on a reader's file continues only on that file: the same content, by its hash.
    if let (Some(want), Some(table)) = (&weights.data_hash, &source.table)
        && *want != table.hash
    {
        return Err(crate::error::Error::weights(format!(
            "it was trained on a file with hash {want}, and the file chosen now has hash {}; \
                 choose the file it was trained on",
            table.hash
        )));
    }
    Ok((config, weights))
}
