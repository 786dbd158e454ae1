//! The Playground scene: one MLP training live on a 1-D regression or 2-D classification set.
//!
//! A [`Playground`] is a [`GridRun`]: a [`Run`](crate::session::run::Run) (data, network and
//! trainer; it dereferences to it) plus the plotting grid the page draws the network on. The
//! page calls `advance` in small batches of steps and reads back a [`Report`] after each, and
//! now and then the network's predictions on the grid ([`GridRun::predict_grid`]).

pub mod live;

use crate::backend::cpu::Cpu;
use crate::session::grid::{self, GridRun};
use crate::session::run::RunConfig;
use crate::session::settings::SceneSpec;

pub use crate::session::run::{N_TEST, Report, Snapshot};

/// Every setting of the Playground: those of a [`Run`](crate::session::run::Run), under the name the page and its
/// links know (the same fields, defaults and URL keys).
pub type PlaygroundConfig = RunConfig;

/// The Playground's settings table (see [`crate::session::settings`]): a live run's rows.
pub fn settings() -> SceneSpec {
    SceneSpec::new("playground", grid::table(), &PlaygroundConfig::default())
}

/// One live Playground run, on the CPU by default or on any other backend: a run and its
/// plotting grid ([`GridRun`]).
pub type Playground<B = Cpu> = GridRun<B>;
