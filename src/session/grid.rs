//! A run drawn on a plotting grid: a [`Run`] plus the grid of inputs the page draws the
//! network on (a line for 1-D regression, a square for 2-D classification, the plane of the
//! two principal axes for more inputs: [`crate::data::Dataset::grid`], whose points
//! [`crate::data::Pca2::lift`] maps to inputs), f(x; θ₀) there when the output is centred, and
//! the last finite predictions (what a diverged run shows), K values per grid point. The
//! Playground and Lazy or rich stand on it.

use std::ops::{Deref, DerefMut};

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::data::GridSpec;
use crate::error::Result;
use crate::exec::block_on;
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::net::backend_setting;
use crate::session::run::{self, DataSource, Run, RunConfig, Snapshot};
use crate::session::settings::Setting;

/// The settings rows of a run shown on a grid and trained live: a run's rows, then the device
/// the page's worker trains on.
pub fn table() -> Vec<Setting> {
    let mut rows = run::table();
    rows.push(backend_setting());
    rows
}

/// [`table`] on every set, with the class count, the test share, the standardisation and the
/// loss ([`run::full_table`]): the Playground's rows.
pub fn full_table() -> Vec<Setting> {
    let mut rows = run::full_table();
    rows.push(backend_setting());
    rows
}

/// A run with the plotting grid the page draws its network on, on the CPU by default or on
/// any other [`Backend`]: a [`Run`] (reached through `Deref`) and its grid.
pub struct GridRun<B: Backend = Cpu> {
    run: Run<B>,
    pub grid: GridSpec,
    /// The grid in plot coordinates, `grid.len() × grid.dim`.
    grid_points: Vec<f32>,
    /// The grid as network inputs (lifted from the principal plane for d > 2).
    grid_inputs: Vec<f32>,
    /// f(x; θ₀) on the grid when the output is centred.
    f0_grid: Option<Vec<f32>>,
    /// The last finite predictions on the grid.
    last_grid: Vec<f32>,
}

impl<B: Backend> Deref for GridRun<B> {
    type Target = Run<B>;
    fn deref(&self) -> &Run<B> {
        &self.run
    }
}

impl<B: Backend> DerefMut for GridRun<B> {
    fn deref_mut(&mut self) -> &mut Run<B> {
        &mut self.run
    }
}

impl GridRun<Cpu> {
    pub fn new(config: RunConfig) -> Result<Self> {
        Self::with_memory_limit(config, PLAYGROUND_MEMORY)
    }

    /// As [`GridRun::new`] with another memory limit (for tests of the refusal).
    pub fn with_memory_limit(config: RunConfig, memory_limit: u64) -> Result<Self> {
        block_on(Self::build_async(config, Cpu::new(), memory_limit))
    }

    /// A CPU run on the data of `source` (the digits, a reader's table).
    pub fn with_source(config: RunConfig, source: &DataSource) -> Result<Self> {
        block_on(Self::build_with_async(
            config,
            Cpu::new(),
            PLAYGROUND_MEMORY,
            source,
        ))
    }

    /// A run on the CPU continued from `snapshot` (taken on any backend) with the same
    /// settings: the same data, parameters, step count and divergence reference.
    pub fn resume(config: RunConfig, snapshot: &Snapshot) -> Result<Self> {
        Self::resume_with(config, &DataSource::default(), snapshot)
    }

    /// [`GridRun::resume`] on the data of `source`.
    pub fn resume_with(
        config: RunConfig,
        source: &DataSource,
        snapshot: &Snapshot,
    ) -> Result<Self> {
        let mut pg = Self::with_source(config, source)?;
        pg.run.restore(snapshot)?;
        Ok(pg)
    }

    /// The network's predictions on [`GridRun::grid`]. After a divergence: the last
    /// finite predictions. Never contains a non-finite value.
    pub fn predict_grid(&mut self) -> Vec<f32> {
        block_on(self.predict_grid_async()).unwrap_or_else(|_| self.last_grid.clone())
    }
}

impl<B: Backend> GridRun<B> {
    /// A run on `backend` with its grid, built without blocking (see [`Run::build_async`]).
    pub async fn build_async(config: RunConfig, backend: B, memory_limit: u64) -> Result<Self> {
        Self::build_with_async(config, backend, memory_limit, &DataSource::default()).await
    }

    /// [`GridRun::build_async`] on the data of `source` (the digits, a reader's table).
    pub async fn build_with_async(
        config: RunConfig,
        backend: B,
        memory_limit: u64,
        source: &DataSource,
    ) -> Result<Self> {
        let mut run = Run::build_with_async(config, backend, memory_limit, source).await?;
        let grid = run.data.grid(run.config.spec().forward_flops_per_point());
        let grid_points = grid.points();
        let grid_inputs = match &run.data.projection {
            Some(p) => p.lift(&grid_points),
            None => grid_points.clone(),
        };
        let f0_grid = if run.config.net.init.center_output {
            Some(run.trainer_mut().predict_async(&grid_inputs).await?)
        } else {
            None
        };
        Ok(GridRun {
            run,
            grid,
            grid_points,
            grid_inputs,
            f0_grid,
            last_grid: Vec::new(),
        })
    }

    /// The run under the grid.
    pub fn run(&self) -> &Run<B> {
        &self.run
    }

    /// The network's predictions on [`GridRun::grid`] (`grid.len() × K`, row-major), without
    /// blocking. After a divergence: the last finite predictions. Never contains a non-finite
    /// value.
    pub async fn predict_grid_async(&mut self) -> Result<Vec<f32>> {
        if self.run.diverged().is_none() {
            let mut g = self
                .run
                .trainer_mut()
                .predict_async(&self.grid_inputs)
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
            self.last_grid = vec![0.0; self.grid.len() * self.run.config.outputs()];
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

    /// The grid points in plot coordinates, row-major `grid.len() × grid.dim`.
    pub fn grid_points(&self) -> &[f32] {
        &self.grid_points
    }

    /// The grid points as network inputs, row-major `grid.len() × d` (the plot coordinates
    /// for d ≤ 2, lifted from the principal plane for d > 2).
    pub fn grid_inputs(&self) -> &[f32] {
        &self.grid_inputs
    }
}
