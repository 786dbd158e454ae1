//! The Playground scene: one MLP training live on a 1-D regression or 2-D classification set.
//!
//! [`Playground`] owns the data, the network and its trainer. The page calls
//! [`Playground::advance`] in small batches of steps and reads back a [`Report`] after each,
//! and now and then the network's predictions on a plotting grid.

pub mod live;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::data::{self, GridSpec, Task, stream};
use crate::error::{Error, Result, blame, human_bytes, in_range};
use crate::exec::block_on;
use crate::nn::mlp::{Mlp, MlpSpec, Workspace};
use crate::nn::train::{EVAL_CHUNK, Trainer};
use crate::rng::Rng;
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::net::{
    DataSettings, NetSettings, backend_setting, data_table, lr_setting, net_table,
};
use crate::session::settings::{SceneSpec, Setting};

/// Number of test points (fixed, so test losses compare across training-set sizes).
pub const N_TEST: usize = 512;

/// Every setting of the Playground. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlaygroundConfig {
    /// The data: set, size, noise and seed.
    #[serde(flatten)]
    pub data: DataSettings,
    /// The network: shape, activation, parametrisation, initialisation.
    #[serde(flatten)]
    pub net: NetSettings,
    /// Step size η (mean-field multiplies it by the last hidden width).
    pub lr: f64,
    /// Mini-batch size; 0 means full batch.
    pub batch_size: usize,
    /// The lazy-training scale α: train α(f − f₀) (α·f uncentred) on the loss divided by α².
    pub alpha: f64,
}

impl Default for PlaygroundConfig {
    fn default() -> Self {
        PlaygroundConfig {
            data: DataSettings::default(),
            net: NetSettings::default(),
            lr: 0.5,
            batch_size: 0,
            alpha: 1.0,
        }
    }
}

/// The lazy scale α's row.
pub fn alpha_setting() -> Setting {
    Setting::float("alpha", "Lazy scale α", [0.01, 100.0])
        .log()
        .doc("Trains α(f − f₀) on the loss divided by α². Large α: lazy, small α: rich.")
}

/// The rows of the Playground's own settings after the data and the network: the step size,
/// the batch size, α and the device.
fn training_table() -> Vec<Setting> {
    vec![
        lr_setting(),
        Setting::int("batchSize", "Batch size", [0.0, 2048.0])
            .doc("Full-batch gradient descent is the theory’s setting; mini-batches add noise."),
        alpha_setting(),
        backend_setting(),
    ]
}

/// The Playground's settings table (see [`crate::session::settings`]).
pub fn settings() -> SceneSpec {
    settings_with(&PlaygroundConfig::default())
}

/// The Playground's table with the defaults of another scene that runs a Playground.
pub fn settings_with(defaults: &PlaygroundConfig) -> SceneSpec {
    let mut rows = data_table();
    rows.extend(net_table());
    rows.extend(training_table());
    SceneSpec::new("playground", rows, defaults)
}

impl PlaygroundConfig {
    /// Checks every setting against [`settings`] and the memory estimate against `memory_limit`.
    pub fn validate(&self, memory_limit: u64) -> Result<()> {
        self.validate_in_scene(memory_limit, &Self::default())
    }

    /// [`validate`](Self::validate) for a scene whose defaults are `defaults`: a refusal names
    /// first the setting raised the most above them.
    pub fn validate_in_scene(&self, memory_limit: u64, defaults: &PlaygroundConfig) -> Result<()> {
        settings().validate(self)?;
        let bytes = self.memory_bytes();
        if bytes > memory_limit {
            return Err(Error::TooLarge {
                what: format!(
                    "a network of {} hidden layer{} of width {} on {} points",
                    self.net.depth,
                    if self.net.depth == 1 { "" } else { "s" },
                    self.net.width,
                    self.data.n_train
                ),
                bytes,
                limit: memory_limit,
                fixes: self.size_settings(defaults),
            });
        }
        Ok(())
    }

    /// The settings the network's size and cost grow with (width, depth, nTrain), the one raised
    /// the most above `defaults` first (see [`crate::error::blame`]).
    pub fn size_settings(&self, defaults: &PlaygroundConfig) -> Vec<&'static str> {
        blame(&[
            ("width", self.net.width as f64, defaults.net.width as f64),
            ("depth", self.net.depth as f64, defaults.net.depth as f64),
            (
                "nTrain",
                self.data.n_train as f64,
                defaults.data.n_train as f64,
            ),
        ])
    }

    pub fn spec(&self) -> MlpSpec {
        self.net.spec(self.data.dataset.dim())
    }

    /// Rows of the training workspace (the batch size, or n for full batch).
    fn batch_rows(&self) -> usize {
        if self.batch_size == 0 || self.batch_size >= self.data.n_train {
            self.data.n_train
        } else {
            self.batch_size
        }
    }

    /// Estimated bytes: parameters, the training and evaluation workspaces, data and grid.
    pub fn memory_bytes(&self) -> u64 {
        let spec = self.spec();
        let d = self.data.dataset.dim() as u64;
        let params = 4 * spec.param_count() as u64;
        let train_ws = Workspace::<Cpu>::bytes(&spec, self.batch_rows());
        let eval_ws = Workspace::<Cpu>::bytes(&spec, EVAL_CHUNK);
        let grid =
            GridSpec::for_model(self.data.dataset, spec.forward_flops_per_point()).len() as u64;
        let data = 4 * ((self.data.n_train as u64 + N_TEST as u64) * (d + 2) + grid * (d + 2));
        params + train_ws + eval_ws + data
    }
}

/// What the page shows after every batch of steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Steps taken.
    pub step: u64,
    /// Training loss (1/2n)Σ(f − y)² at the current parameters.
    pub train_loss: f64,
    /// Test loss at the current parameters.
    pub test_loss: f64,
    /// Fraction of correctly classified training points (classification), else None.
    pub train_acc: Option<f64>,
    pub test_acc: Option<f64>,
    /// The step at which training diverged, if it did. Losses are then the last finite ones.
    pub diverged: Option<u64>,
    /// A sentence for the reader when something went wrong.
    pub message: Option<String>,
}

/// Where a run stands, enough to continue it on another backend (see
/// [`Playground::snapshot_async`] and [`Playground::resume`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Steps taken.
    pub step: u64,
    /// Every parameter, in the order of [`Mlp::params`].
    pub params: Vec<f32>,
    /// The first training loss (the divergence bound's reference).
    pub initial_loss: Option<f32>,
}

/// One live Playground run, on the CPU by default or on any other [`Backend`].
pub struct Playground<B: Backend = Cpu> {
    pub config: PlaygroundConfig,
    pub data: data::Dataset,
    pub grid: GridSpec,
    trainer: Trainer<B>,
    grid_points: Vec<f32>,
    /// f(x; θ₀) on the test points and the grid when the output is centred.
    f0_test: Option<Vec<f32>>,
    f0_grid: Option<Vec<f32>>,
    last_report: Report,
    last_grid: Vec<f32>,
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
        pg.trainer
            .restore(&snapshot.params, snapshot.step, snapshot.initial_loss)?;
        pg.evaluate();
        Ok(pg)
    }

    /// Runs up to `steps` steps and reports at the parameters reached. A divergence stops
    /// the run for good: later calls return the same report.
    pub fn advance(&mut self, steps: u64) -> Report {
        block_on(self.advance_async(steps)).unwrap_or_else(|e| self.report_error(e))
    }

    /// The report at the current parameters, without stepping.
    pub fn evaluate(&mut self) -> Report {
        block_on(self.evaluate_async()).unwrap_or_else(|e| self.report_error(e))
    }

    /// The network's predictions on [`Playground::grid`]. After a divergence: the last
    /// finite predictions. Never contains a non-finite value.
    pub fn predict_grid(&mut self) -> Vec<f32> {
        block_on(self.predict_grid_async()).unwrap_or_else(|_| self.last_grid.clone())
    }

    /// Runs up to `steps` steps without evaluating (for benchmarks); returns the steps
    /// taken, fewer than asked when the run diverges.
    pub fn train_only(&mut self, steps: u64) -> u64 {
        let before = self.trainer.step();
        if self.last_report.diverged.is_none() {
            if let Err(Error::Diverged { step }) = self.trainer.advance(steps) {
                self.record_divergence(step);
            }
        }
        self.trainer.step() - before
    }
}

impl<B: Backend> Playground<B> {
    /// A run on `backend`, built without blocking (the centring pass and the first
    /// evaluation are read back asynchronously), so it works on the web GPU. Backends that
    /// cannot wait for a readback inside a step (the GPU ones) train full batch only; their
    /// mini-batch configurations are refused here.
    pub async fn build_async(
        config: PlaygroundConfig,
        mut backend: B,
        memory_limit: u64,
    ) -> Result<Self> {
        config.validate(memory_limit)?;
        if config.batch_size > 0
            && config.batch_size < config.data.n_train
            && backend.name() != "cpu"
        {
            // A mini-batch step reads its loss back before updating, which a GPU cannot do
            // without blocking.
            return Err(Error::config(
                "batchSize",
                format!(
                    "the {} backend trains full batch only; set the batch size to 0 or train on the CPU",
                    backend.name()
                ),
            ));
        }
        let data = data::generate(
            config.data.dataset,
            config.data.n_train,
            N_TEST,
            config.data.noise,
            config.data.label_noise,
            config.data.seed,
        )?;
        let mut rng = Rng::stream(config.data.seed, stream::WEIGHTS);
        let mlp = Mlp::new(&mut backend, config.spec(), &mut rng)?;
        let mut trainer = Trainer::new_async(
            backend,
            mlp,
            &data.x_train,
            &data.y_train,
            config.net.center_output,
            config.lr,
            config.batch_size,
            config.data.seed,
        )
        .await?
        .with_alpha(config.alpha)?;
        let grid =
            GridSpec::for_model(config.data.dataset, config.spec().forward_flops_per_point());
        let grid_points = grid.points();
        let (f0_test, f0_grid) = if config.net.center_output {
            (
                Some(trainer.predict_async(&data.x_test).await?),
                Some(trainer.predict_async(&grid_points).await?),
            )
        } else {
            (None, None)
        };
        let empty = Report {
            step: 0,
            train_loss: 0.0,
            test_loss: 0.0,
            train_acc: None,
            test_acc: None,
            diverged: None,
            message: None,
        };
        let mut pg = Playground {
            config,
            data,
            grid,
            trainer,
            grid_points,
            f0_test,
            f0_grid,
            last_report: empty,
            last_grid: Vec::new(),
        };
        pg.evaluate_async().await?;
        if let Some(step) = pg.last_report.diverged {
            // A configuration whose very first outputs overflow is refused outright.
            return Err(Error::Diverged { step });
        }
        Ok(pg)
    }

    /// The backend's name ("cpu", "webgpu").
    pub fn backend_name(&self) -> &'static str {
        self.trainer.backend.name()
    }

    pub fn task(&self) -> Task {
        self.config.data.dataset.task()
    }

    pub fn step(&self) -> u64 {
        self.trainer.step()
    }

    pub fn param_count(&self) -> usize {
        self.trainer.mlp.param_count()
    }

    pub fn memory_bytes(&self) -> u64 {
        self.config.memory_bytes()
    }

    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        in_range("lr", lr, lr_setting().bounds())?;
        self.trainer.set_lr(lr)?;
        self.config.lr = lr;
        Ok(())
    }

    /// Runs up to `steps` steps and reports at the parameters reached, without blocking: full
    /// batch queues the steps and reads their losses back once ([`Trainer::advance_async`]).
    /// A divergence stops the run for good: later calls return the same report. An error is
    /// returned only when the backend failed (a lost GPU, say); the run is then unusable on it.
    pub async fn advance_async(&mut self, steps: u64) -> Result<Report> {
        if self.last_report.diverged.is_some() {
            return Ok(self.last_report.clone());
        }
        let stepped =
            if self.config.batch_size == 0 || self.config.batch_size >= self.config.data.n_train {
                self.trainer.advance_async(steps).await.map(|_| ())
            } else {
                self.trainer.advance(steps)
            };
        match stepped {
            Ok(()) => self.evaluate_async().await,
            Err(Error::Diverged { step }) => Ok(self.record_divergence(step)),
            Err(e) => Err(e),
        }
    }

    /// The last report with `e` as its message (the run is kept).
    fn report_error(&self, e: Error) -> Report {
        let mut r = self.last_report.clone();
        r.message = Some(e.to_string());
        r
    }

    /// Where the run stands: parameters, step count and divergence reference, read back
    /// without blocking.
    pub async fn snapshot_async(&mut self) -> Result<Snapshot> {
        Ok(Snapshot {
            step: self.trainer.step(),
            params: self.trainer.params_async().await?,
            initial_loss: self.trainer.initial_loss(),
        })
    }

    fn record_divergence(&mut self, step: u64) -> Report {
        let mut r = self.last_report.clone();
        r.diverged = Some(step);
        let shown = if r.step < step {
            format!(
                " The losses shown are the last finite ones, from step {}.",
                r.step
            )
        } else {
            String::new()
        };
        r.message = Some(format!(
            "diverged at step {step}: the training loss grew past a million times its starting value or stopped being a number. \
             Lower the step size or the initialisation scale, then reset.{shown}"
        ));
        self.last_report = r.clone();
        r
    }

    /// The report at the current parameters, without stepping or blocking.
    pub async fn evaluate_async(&mut self) -> Result<Report> {
        if self.last_report.diverged.is_some() {
            return Ok(self.last_report.clone());
        }
        let train = self.trainer.evaluate_train_async().await?;
        let f_test = self.trainer.predict_async(&self.data.x_test).await?;
        let test = self.trainer.loss().eval(
            &f_test,
            self.f0_test.as_deref(),
            self.config.alpha,
            &self.data.y_test,
        );
        if !(train.loss.is_finite() && test.loss.is_finite()) {
            let step = match self.trainer.mark_diverged() {
                Error::Diverged { step } => step,
                _ => self.trainer.step(),
            };
            return Ok(self.record_divergence(step));
        }
        let classification = self.task() == Task::Classification;
        let report = Report {
            step: self.trainer.step(),
            train_loss: train.loss,
            test_loss: test.loss,
            train_acc: classification.then_some(train.accuracy),
            test_acc: classification.then_some(test.accuracy),
            diverged: None,
            message: None,
        };
        self.last_report = report.clone();
        Ok(report)
    }

    /// The network's predictions on [`Playground::grid`], without blocking. After a
    /// divergence: the last finite predictions. Never contains a non-finite value.
    pub async fn predict_grid_async(&mut self) -> Result<Vec<f32>> {
        if self.last_report.diverged.is_none() {
            let mut g = self.trainer.predict_async(&self.grid_points).await?;
            let alpha = self.config.alpha as f32;
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
        let kind = self.config.data.dataset;
        kind.target(0.0)?;
        Some(
            self.grid_points
                .iter()
                .map(|&x| kind.target(x as f64).unwrap_or(0.0) as f32)
                .collect(),
        )
    }

    /// The trainer (network, backend, step count) for scenes built on the Playground.
    pub fn trainer_mut(&mut self) -> &mut Trainer<B> {
        &mut self.trainer
    }

    /// The grid points, row-major `grid.len() × d`.
    pub fn grid_points(&self) -> &[f32] {
        &self.grid_points
    }

    /// The last report (without evaluating).
    pub fn last_report(&self) -> &Report {
        &self.last_report
    }

    /// Human-readable size for messages.
    pub fn memory_human(&self) -> String {
        human_bytes(self.memory_bytes())
    }
}
