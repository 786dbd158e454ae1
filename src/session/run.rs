//! One training run, the thing every network scene stands on: a data set, a network and its
//! trainer, built from a [`RunConfig`] (the shared data and network settings plus the step
//! size, the batch size, the lazy scale α, the momentum and the weight decay).
//!
//! [`Run::new`] checks the settings and the memory estimate, draws the data and the initial
//! weights from the seed, and evaluates once (a configuration whose first outputs overflow is
//! refused). [`Run::advance`] steps with the divergence rule of [`crate::nn::train`] and reports
//! the training and test loss (and accuracy for classification); after a divergence the run
//! stands still and keeps reporting its last finite losses. The trainer and the data stay
//! reachable for what a scene measures beside them (kernels, Hessians, parameters).
//!
//! A new scene that needs data, a network and its trainer writes:
//!
//! ```
//! use descent::session::run::{Run, RunConfig};
//! let mut run = Run::new(RunConfig::default()).unwrap();
//! let report = run.advance(10);
//! assert_eq!(report.step, 10);
//! let x = run.data.x_train.clone();
//! let ntk = run.ntk(&x, None).unwrap();
//! assert_eq!(ntk.nrows(), run.data.n_train());
//! ```
//!
//! The Playground is a run plus its plotting grid
//! ([`crate::scenes::playground::Playground`]); the Lazy-or-rich and Step-size scenes build
//! on runs too.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::data::{self, Dataset, GridSpec, Task, stream};
use crate::error::{Error, Result, blame, in_range};
use crate::exec::block_on;
use crate::nn::mlp::{Mlp, MlpSpec, Workspace};
use crate::nn::momentum::Momentum;
use crate::nn::ntk::empirical_kernels;
use crate::nn::train::{EVAL_CHUNK, Trainer};
use crate::rng::Rng;
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::net::{
    DataSettings, NetSettings, data_table, lr_setting, momentum_setting, net_table,
    weight_decay_setting,
};
use crate::session::settings::{SceneSpec, Setting};
use crate::session::weights::Weights;

/// Number of test points (fixed, so test losses compare across training-set sizes).
pub const N_TEST: usize = 512;

/// Every setting of a run. Missing fields take their defaults (the Playground's: its
/// configuration is this one, [`crate::scenes::playground::PlaygroundConfig`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RunConfig {
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
    /// Heavy-ball momentum β (0: plain gradient descent; see [`crate::nn::momentum`]).
    pub momentum: f64,
    /// L2 weight decay λ_wd on every parameter (0: none).
    pub weight_decay: f64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            data: DataSettings::default(),
            net: NetSettings::default(),
            lr: 0.5,
            batch_size: 0,
            alpha: 1.0,
            momentum: 0.0,
            weight_decay: 0.0,
        }
    }
}

/// The lazy scale α's row.
pub fn alpha_setting() -> Setting {
    Setting::float("alpha", "Lazy scale α", [0.01, 100.0])
        .log()
        .doc("Trains α(f − f₀) on the loss divided by α². Large α: lazy, small α: rich.")
}

/// The rows of a run's settings: the data, the network, the step size, the batch size, α,
/// the momentum and the weight decay.
pub fn table() -> Vec<Setting> {
    let mut rows = data_table();
    rows.extend(net_table());
    rows.extend([
        lr_setting(),
        Setting::int("batchSize", "Batch size", [0.0, 2048.0])
            .doc("Full-batch gradient descent is the theory’s setting; mini-batches add noise."),
        alpha_setting(),
        momentum_setting(),
        weight_decay_setting(),
    ]);
    rows
}

impl RunConfig {
    /// Checks every setting against [`table`] and the memory estimate against `memory_limit`.
    pub fn validate(&self, memory_limit: u64) -> Result<()> {
        self.validate_in_scene(memory_limit, &Self::default())
    }

    /// [`validate`](Self::validate) for a scene whose defaults are `defaults`: a refusal names
    /// first the setting raised the most above them.
    pub fn validate_in_scene(&self, memory_limit: u64, defaults: &RunConfig) -> Result<()> {
        SceneSpec {
            scene: "run",
            settings: table(),
        }
        .validate(self)?;
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
    pub fn size_settings(&self, defaults: &RunConfig) -> Vec<&'static str> {
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

    /// The momentum and weight decay the trainer steps with.
    pub fn optimizer(&self) -> Momentum {
        Momentum {
            beta: self.momentum,
            weight_decay: self.weight_decay,
        }
    }

    pub fn spec(&self) -> MlpSpec {
        self.net.spec(self.data.dataset.dim())
    }

    /// Whether every step uses the whole training set (batch size 0, or at least n).
    pub fn full_batch(&self) -> bool {
        self.batch_size == 0 || self.batch_size >= self.data.n_train
    }

    /// Rows of the training workspace (the batch size, or n for full batch).
    fn batch_rows(&self) -> usize {
        if self.full_batch() {
            self.data.n_train
        } else {
            self.batch_size
        }
    }

    /// Floating-point operations of one full-batch gradient step: forward, and a backward pass
    /// of about twice its cost.
    pub fn flops_per_step(&self) -> f64 {
        3.0 * self.spec().forward_flops_per_point() * self.data.n_train as f64
    }

    /// Estimated bytes: parameters, the training and evaluation workspaces, the data and the
    /// plotting grid the scenes draw the network on.
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

/// Where a run stands after a batch of steps.
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

/// Where a run stands, enough to continue it on another backend (see [`Run::snapshot_async`]
/// and [`Run::restore`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Steps taken.
    pub step: u64,
    /// Every parameter, in the order of [`Mlp::params`].
    pub params: Vec<f32>,
    /// The first training loss (the divergence bound's reference).
    pub initial_loss: Option<f32>,
}

/// One training run: data, network and trainer, on the CPU by default or on any other
/// [`Backend`].
pub struct Run<B: Backend = Cpu> {
    pub config: RunConfig,
    pub data: Dataset,
    trainer: Trainer<B>,
    /// f(x; θ₀) on the test points when the output is centred.
    f0_test: Option<Vec<f32>>,
    last_report: Report,
}

impl Run<Cpu> {
    /// A run on the CPU within [`PLAYGROUND_MEMORY`].
    pub fn new(config: RunConfig) -> Result<Self> {
        Self::with_memory_limit(config, PLAYGROUND_MEMORY)
    }

    /// As [`Run::new`] with another memory limit.
    pub fn with_memory_limit(config: RunConfig, memory_limit: u64) -> Result<Self> {
        block_on(Self::build_async(config, Cpu::new(), memory_limit))
    }

    /// Puts the run where `snapshot` (taken on any backend, with the same settings) left it:
    /// parameters, step count and divergence reference; then evaluates there.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        block_on(self.restore_async(snapshot)).map(|_| ())
    }

    /// The weights file of the run now ([`Run::export_weights_async`]).
    pub fn export_weights(&mut self, scene: &str, settings: &impl Serialize) -> Result<Weights> {
        block_on(self.export_weights_async(scene, settings))
    }

    /// A CPU run of `config` continued from the weights file `weights` (whose settings made
    /// `config`: see [`Weights::config`]): the same data and θ₀ as the run that wrote it, its
    /// parameters, step count and divergence reference. Trained on, it takes the steps the
    /// run that wrote the file would have taken, bit for bit (see [`crate::session::weights`]).
    pub fn import_weights(config: RunConfig, weights: &Weights) -> Result<Self> {
        weights.check(&config)?;
        let mut run = Run::new(config)?;
        block_on(run.restore_weights_async(weights))?;
        Ok(run)
    }

    /// Back to θ₀ ([`Run::rewind_async`]): the run then equals a fresh one of its settings.
    pub fn rewind(&mut self) -> Report {
        block_on(self.rewind_async()).unwrap_or_else(|e| self.report_error(e))
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

    /// Runs up to `steps` steps without evaluating; returns the steps taken, fewer than asked
    /// when the run diverges.
    pub fn train_only(&mut self, steps: u64) -> u64 {
        let before = self.trainer.step();
        if self.last_report.diverged.is_none() {
            if let Err(Error::Diverged { step }) = self.trainer.advance(steps) {
                self.record_divergence(step);
            }
        }
        self.trainer.step() - before
    }

    /// Every parameter, in the order of [`Mlp::params`].
    pub fn params(&mut self) -> Vec<f32> {
        let t = &mut self.trainer;
        t.mlp.params(&mut t.backend)
    }

    /// The empirical NTK of the network at its current parameters between the rows of `x1` and
    /// those of `x2` (of `x1` itself when `None`).
    pub fn ntk(&mut self, x1: &[f32], x2: Option<&[f32]>) -> Result<DMatrix<f64>> {
        let t = &mut self.trainer;
        Ok(empirical_kernels(&mut t.backend, &t.mlp, x1, x2)?.ntk)
    }
}

impl<B: Backend> Run<B> {
    /// A run on `backend`, built without blocking (the centring pass and the first evaluation
    /// are read back asynchronously), so it works on the web GPU. Backends that cannot wait
    /// for a readback inside a step (the GPU ones) train full batch only; their mini-batch
    /// configurations are refused here.
    pub async fn build_async(config: RunConfig, mut backend: B, memory_limit: u64) -> Result<Self> {
        config.validate(memory_limit)?;
        if !config.full_batch() && backend.name() != "cpu" {
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
            config.net.init.center_output,
            config.lr,
            config.batch_size,
            config.data.seed,
        )
        .await?
        .with_alpha(config.alpha)?
        .with_momentum(config.optimizer())?;
        let f0_test = if config.net.init.center_output {
            Some(trainer.predict_async(&data.x_test).await?)
        } else {
            None
        };
        let mut run = Run {
            config,
            data,
            trainer,
            f0_test,
            last_report: Report {
                step: 0,
                train_loss: 0.0,
                test_loss: 0.0,
                train_acc: None,
                test_acc: None,
                diverged: None,
                message: None,
            },
        };
        run.evaluate_async().await?;
        if let Some(step) = run.last_report.diverged {
            // A configuration whose very first outputs overflow is refused outright.
            return Err(Error::Diverged { step });
        }
        Ok(run)
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

    /// A new step size from the next step on (within the table's range).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        in_range("lr", lr, lr_setting().bounds())?;
        self.trainer.set_lr(lr)?;
        self.config.lr = lr;
        Ok(())
    }

    /// The trainer (network, backend, step count).
    pub fn trainer(&self) -> &Trainer<B> {
        &self.trainer
    }

    pub fn trainer_mut(&mut self) -> &mut Trainer<B> {
        &mut self.trainer
    }

    /// The last report (without evaluating).
    pub fn last_report(&self) -> &Report {
        &self.last_report
    }

    /// The step at which the run diverged, if it has.
    pub fn diverged(&self) -> Option<u64> {
        self.last_report.diverged
    }

    /// Runs up to `steps` steps and reports at the parameters reached, without blocking: full
    /// batch queues the steps and reads their losses back once ([`Trainer::advance_async`]).
    /// A divergence stops the run for good: later calls return the same report. An error is
    /// returned only when the backend failed (a lost GPU, say); the run is then unusable on it.
    pub async fn advance_async(&mut self, steps: u64) -> Result<Report> {
        if self.last_report.diverged.is_some() {
            return Ok(self.last_report.clone());
        }
        let stepped = if self.config.full_batch() {
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
            self.trainer.outputs(),
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

    /// Where the run stands: parameters, step count and divergence reference, read back
    /// without blocking.
    pub async fn snapshot_async(&mut self) -> Result<Snapshot> {
        Ok(Snapshot {
            step: self.trainer.step(),
            params: self.trainer.params_async().await?,
            initial_loss: self.trainer.initial_loss(),
        })
    }

    /// Puts the run where `snapshot` (taken on any backend, with the same settings) left it:
    /// parameters, step count, divergence reference and mini-batch order; a divergence is
    /// forgotten. Then evaluates there, without blocking.
    pub async fn restore_async(&mut self, snapshot: &Snapshot) -> Result<Report> {
        self.trainer
            .restore(&snapshot.params, snapshot.step, snapshot.initial_loss)?;
        self.last_report.diverged = None;
        self.last_report.message = None;
        self.evaluate_async().await
    }

    /// θ₀: the initial parameters the seed draws (those of a fresh run of these settings), in
    /// the order of [`Mlp::params`].
    pub fn initial_params(&self) -> Result<Vec<f32>> {
        let mut cpu = Cpu::new();
        let mut rng = Rng::stream(self.config.data.seed, stream::WEIGHTS);
        let mlp = Mlp::new(&mut cpu, self.config.spec(), &mut rng)?;
        Ok(mlp.params(&mut cpu))
    }

    /// Back to θ₀ without blocking: the seed's initial parameters, step 0, the divergence
    /// reference and any divergence forgotten, the mini-batch order at its start; the data and
    /// the settings in force (a step size changed live included) are kept, so the run equals a
    /// fresh run of [`Run::config`] bit for bit. Returns the report at θ₀.
    pub async fn rewind_async(&mut self) -> Result<Report> {
        let params = self.initial_params()?;
        self.restore_async(&Snapshot {
            step: 0,
            params,
            initial_loss: None,
        })
        .await
    }

    /// The weights file of the run now, as scene `scene` with its configuration `settings`
    /// (which must hold this run's settings under their URL names), read back without
    /// blocking. A diverged run has no weights worth keeping and is refused.
    pub async fn export_weights_async(
        &mut self,
        scene: &str,
        settings: &impl Serialize,
    ) -> Result<Weights> {
        if let Some(step) = self.last_report.diverged {
            return Err(Error::weights(format!(
                "the run diverged at step {step}, so there are no trained weights to export; rewind to θ₀ or lower the step size first"
            )));
        }
        let params = self.trainer.params_async().await?;
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::weights(format!(
                "parameter {i} is not a finite number, so the weights are not exported"
            )));
        }
        let settings = serde_json::to_value(settings)
            .map_err(|e| Error::weights(format!("the settings could not be written: {e}")))?;
        Ok(Weights {
            scene: scene.to_string(),
            settings,
            architecture: crate::session::weights::Architecture::of(&self.config),
            seed: self.config.data.seed,
            step: self.trainer.step(),
            initial_loss: self.trainer.initial_loss(),
            layers: Weights::layers_of(&self.config.spec(), &params)?,
        })
    }

    /// Continues from the weights file `weights`, written by a run of these settings (see
    /// [`Weights::check`]): its parameters, step count and divergence reference replace the
    /// run's (see [`Run::restore_async`]). Returns the report there.
    pub async fn restore_weights_async(&mut self, weights: &Weights) -> Result<Report> {
        weights.check(&self.config)?;
        self.restore_async(&Snapshot {
            step: weights.step,
            params: weights.params(),
            initial_loss: weights.initial_loss,
        })
        .await
    }

    /// The last report with `e` as its message (the run is kept).
    fn report_error(&self, e: Error) -> Report {
        let mut r = self.last_report.clone();
        r.message = Some(e.to_string());
        r
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
}
