//! The Playground scene: one MLP training live on a 1-D regression or 2-D classification set.
//!
//! A [`Playground`] is a [`Run`] (data, network and trainer; it dereferences to it) plus the
//! plotting grid the page draws the network on. The page calls [`Run::advance`] in small
//! batches of steps and reads back a [`Report`] after each, and now and then the network's
//! predictions on the grid ([`Playground::predict_grid`]).

pub mod live;

use std::ops::{Deref, DerefMut};

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::data::GridSpec;
use crate::error::Result;
use crate::exec::block_on;
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::net::backend_setting;
use crate::session::run::{self, Run, RunConfig};
use crate::session::settings::SceneSpec;

pub use crate::session::run::{N_TEST, Report, Snapshot, alpha_setting};

/// Every setting of the Playground: those of a [`Run`], under the name the page and its
/// links know (the same fields, defaults and URL keys).
pub type PlaygroundConfig = RunConfig;

/// The Playground's settings table (see [`crate::session::settings`]).
pub fn settings() -> SceneSpec {
    settings_with(&PlaygroundConfig::default())
}

/// The Playground's table with the defaults of another scene that runs a Playground: a run's
/// rows, then the device the page's worker trains on.
pub fn settings_with(defaults: &PlaygroundConfig) -> SceneSpec {
    let mut rows = run::table();
    rows.push(backend_setting());
    SceneSpec::new("playground", rows, defaults)
}

/// One live Playground run, on the CPU by default or on any other [`Backend`]: a [`Run`]
/// (reached through `Deref`) and its plotting grid.
pub struct Playground<B: Backend = Cpu> {
    run: Run<B>,
    pub grid: GridSpec,
    grid_points: Vec<f32>,
    /// f(x; θ₀) on the grid when the output is centred.
    f0_grid: Option<Vec<f32>>,
    /// The last finite predictions on the grid.
    last_grid: Vec<f32>,
}

impl<B: Backend> Deref for Playground<B> {
    type Target = Run<B>;
    fn deref(&self) -> &Run<B> {
        &self.run
    }
}

impl<B: Backend> DerefMut for Playground<B> {
    fn deref_mut(&mut self) -> &mut Run<B> {
        &mut self.run
    }
}

impl Playground<Cpu> {
    pub fn new(config: PlaygroundConfig) -> Result<Self> {
        Self::with_memory_limit(config, PLAYGROUND_MEMORY)
    }

    /// As [`Playground::new`] with another memory limit (for tests of the refusal).
    pub fn with_memory_limit(config: PlaygroundConfig, memory_limit: u64) -> Result<Self> {
        block_on(Self::build_async(config, Cpu::new(), memory_limit))
    }

    /// A run on the CPU continued from `snapshot` (taken on any backend) with the same
    /// settings: the same data, parameters, step count and divergence reference.
    pub fn resume(config: PlaygroundConfig, snapshot: &Snapshot) -> Result<Self> {
        let mut pg = Self::new(config)?;
        pg.run.restore(snapshot)?;
        Ok(pg)
    }

    /// The network's predictions on [`Playground::grid`]. After a divergence: the last
    /// finite predictions. Never contains a non-finite value.
    pub fn predict_grid(&mut self) -> Vec<f32> {
        block_on(self.predict_grid_async()).unwrap_or_else(|_| self.last_grid.clone())
    }
}

impl<B: Backend> Playground<B> {
    /// A run on `backend` with its grid, built without blocking (see [`Run::build_async`]).
    pub async fn build_async(
        config: PlaygroundConfig,
        backend: B,
        memory_limit: u64,
    ) -> Result<Self> {
        let mut run = Run::build_async(config, backend, memory_limit).await?;
        let grid = GridSpec::for_model(
            run.config.data.dataset,
            run.config.spec().forward_flops_per_point(),
        );
        let grid_points = grid.points();
        let f0_grid = if run.config.net.center_output {
            Some(run.trainer_mut().predict_async(&grid_points).await?)
        } else {
            None
        };
        Ok(Playground {
            run,
            grid,
            grid_points,
            f0_grid,
            last_grid: Vec::new(),
        })
    }

    /// The run under the grid.
    pub fn run(&self) -> &Run<B> {
        &self.run
    }

    /// The network's predictions on [`Playground::grid`], without blocking. After a
    /// divergence: the last finite predictions. Never contains a non-finite value.
    pub async fn predict_grid_async(&mut self) -> Result<Vec<f32>> {
        if self.run.diverged().is_none() {
            let mut g = self
                .run
                .trainer_mut()
                .predict_async(&self.grid_points)
                .await?;
            let alpha = self.run.config.alpha as f32;
            match &self.f0_grid {
                Some(f0) => g
                    .iter_mut()
                    .zip(f0)
                    .for_each(|(v, f0)| *v = alpha * (*v - f0)),
                None => g.iter_mut().for_each(|v| *v *= alpha),
            }
            if g.iter().all(|v| v.is_finite()) {
                self.last_grid = g;
            }
        }
        if self.last_grid.is_empty() {
            self.last_grid = vec![0.0; self.grid.len()];
        }
        Ok(self.last_grid.clone())
    }

    /// The noiseless regression target on the grid (1-D regression), else None.
    pub fn target_grid(&self) -> Option<Vec<f32>> {
        let kind = self.run.config.data.dataset;
        kind.target(0.0)?;
        Some(
            self.grid_points
                .iter()
                .map(|&x| kind.target(x as f64).unwrap_or(0.0) as f32)
                .collect(),
        )
    }

    /// The grid points, row-major `grid.len() × d`.
    pub fn grid_points(&self) -> &[f32] {
        &self.grid_points
    }
}
