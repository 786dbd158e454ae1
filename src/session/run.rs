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

use std::sync::Arc;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::data::digits::{self, Digits};
use crate::data::{
    self, Dataset, DatasetKind, Encoding, GridSpec, Part, SplitOptions, Table, Task, stream,
};
use crate::error::{Error, Result, blame, in_range};
use crate::exec::block_on;
use crate::nn::loss::{Loss, argmax};
use crate::nn::mlp::{Mlp, MlpSpec, Workspace};
use crate::nn::momentum::Momentum;
use crate::nn::ntk::empirical_kernels;
use crate::nn::train::{EVAL_CHUNK, Trainer};
use crate::rng::Rng;
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::net::{
    DataSettings, NetSettings, all_datasets_setting, data_table, lr_setting, many_class_rows,
    momentum_setting, net_table, weight_decay_setting,
};
use crate::session::settings::{SceneSpec, Setting};
use crate::session::weights::Weights;

/// Number of test points (fixed, so test losses compare across training-set sizes; a
/// reader's table holds out its [`RunConfig::test_share`] instead).
pub const N_TEST: usize = 512;

/// The most training points of a run on the digits: the file's images less the [`N_TEST`]
/// held out (1797 − 512 = 1285).
pub const MAX_DIGITS_TRAIN: usize = digits::ROWS - N_TEST;

/// The refusal of a run on a reader's table when no table was given (a link carries the
/// settings, never the file).
pub const TABLE_MISSING: &str = "This run trains on a file of the reader's own, which is not in \
     the link: choose the file under “Your own data”.";

/// The refusal of cross-entropy on a regression set.
pub const CROSS_ENTROPY_NEEDS_CLASSES: &str =
    "cross-entropy needs classes: choose a classification set or the squared loss";

/// The most misclassified test points a [`Report`] lists.
pub const MAX_MISCLASSIFIED: usize = 24;

/// The data a run may need beyond its settings: the parsed digits file
/// ([`DatasetKind::Digits`]) and a reader's table ([`DatasetKind::Table`]). Neither is in a
/// link: the page loads the one and the reader chooses the other.
#[derive(Clone, Debug, Default)]
pub struct DataSource {
    pub digits: Option<Arc<Digits>>,
    pub table: Option<Arc<Table>>,
}

/// The size of a reader's table as the run's estimates need it (set from the table by
/// [`RunConfig::with_source`]; not a setting, never in a link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableShape {
    pub rows: usize,
    /// Input columns.
    pub dim: usize,
    /// K (0 for regression).
    pub classes: usize,
}

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
    /// K of the K-class 2-D sets (blobs, arms; ignored by the others).
    pub classes: usize,
    /// The training loss: squared (one ±1 output for two classes, one-hot targets for more)
    /// or cross-entropy (one output per class; classification only).
    pub loss: Loss,
    /// The share of a reader's table held out for testing (tables only).
    pub test_share: f64,
    /// Standardise a reader's table's inputs with the training rows' statistics (tables only).
    pub standardize: bool,
    /// The size of the reader's table the run is built on (see [`RunConfig::with_source`]).
    #[serde(skip)]
    pub table: Option<TableShape>,
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
            classes: data::DEFAULT_CLASSES,
            loss: Loss::Squared,
            test_share: data::table::DEFAULT_TEST_FRACTION,
            standardize: true,
            table: None,
        }
    }
}

/// The training loss's row.
pub fn loss_setting() -> Setting {
    Setting::choice(
        "loss",
        "Loss",
        crate::session::settings::options(&Loss::ALL, Loss::label),
    )
    .doc(
        "Squared: one ±1 output for two classes, one output per class (one-hot targets) for \
         more. Cross-entropy: softmax over one output per class (classification only).",
    )
}

/// The rows of a run on every set (the Playground's): [`table`] with every dataset, then the
/// class count, the test share, the standardisation and the loss.
pub fn full_table() -> Vec<Setting> {
    let mut rows = table();
    let at = rows
        .iter()
        .position(|s| s.name == "dataset")
        .expect("a run's table has a dataset row");
    rows[at] = all_datasets_setting();
    for (i, row) in many_class_rows().into_iter().enumerate() {
        rows.insert(at + 1 + i, row);
    }
    rows.push(loss_setting());
    rows
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
            settings: full_table(),
        }
        .validate(self)?;
        match self.data.dataset {
            DatasetKind::Table if self.table.is_none() => {
                return Err(Error::config("dataset", TABLE_MISSING));
            }
            DatasetKind::Digits if self.data.n_train > MAX_DIGITS_TRAIN => {
                return Err(Error::config(
                    "nTrain",
                    format!(
                        "the 8×8 digits hold {} images and {N_TEST} of them are held out for \
                         testing, so nTrain must lie in [4, {MAX_DIGITS_TRAIN}] on them, got {}",
                        digits::ROWS,
                        self.data.n_train
                    ),
                ));
            }
            _ => {}
        }
        if let Loss::Proportions { .. } = self.loss {
            return Err(Error::config(
                "loss",
                "the bag loss (DLLP) needs bags of examples: it trains in the Weak labels scene",
            ));
        }
        if self.loss == Loss::CrossEntropy && self.class_count() == 0 {
            return Err(Error::config("loss", CROSS_ENTROPY_NEEDS_CLASSES));
        }
        let bytes = self.memory_bytes();
        if bytes > memory_limit {
            return Err(Error::TooLarge {
                what: format!(
                    "a network of {} hidden layer{} of width {} on {} points",
                    self.net.depth,
                    if self.net.depth == 1 { "" } else { "s" },
                    self.net.width,
                    self.train_rows()
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

    /// The network: the net settings on [`RunConfig::input_dim`] inputs with
    /// [`RunConfig::outputs`] outputs.
    pub fn spec(&self) -> MlpSpec {
        let mut spec = self.net.spec(self.input_dim());
        spec.outputs = self.outputs();
        spec
    }

    /// These settings on the data of `source`: a reader's table's size is recorded (see
    /// [`TableShape`]), or forgotten when the source holds none.
    pub fn with_source(mut self, source: &DataSource) -> Self {
        self.table = source.table.as_ref().map(|t| TableShape {
            rows: t.rows,
            dim: t.dim,
            classes: t.classes,
        });
        self
    }

    /// Input dimension d (a table's from its [`TableShape`], 0 while there is none).
    pub fn input_dim(&self) -> usize {
        match self.data.dataset {
            DatasetKind::Table => self.table.map_or(0, |t| t.dim),
            kind => kind.dim(),
        }
    }

    /// K, the number of classes (0 for regression; a table's from its [`TableShape`]).
    pub fn class_count(&self) -> usize {
        match self.data.dataset {
            DatasetKind::Table => self.table.map_or(0, |t| t.classes),
            kind => kind.classes(self.classes),
        }
    }

    /// How the labels become targets: one output ([`Encoding::Signed`], the value or ±1) for
    /// the squared loss on regression or two classes, one-hot on K outputs otherwise
    /// (cross-entropy on two classes included).
    pub fn encoding(&self) -> Encoding {
        if self.loss == Loss::Squared && self.class_count() <= 2 {
            Encoding::Signed
        } else {
            Encoding::OneHot
        }
    }

    /// The network's outputs: 1 or K (see [`RunConfig::encoding`]).
    pub fn outputs(&self) -> usize {
        self.encoding().outputs(self.class_count())
    }

    /// The coordinates the main plot draws: 1 for 1-D inputs, else 2 (the principal plane
    /// for d > 2).
    pub fn plot_dim(&self) -> usize {
        self.input_dim().clamp(1, 2)
    }

    /// The test rows of a table split at [`RunConfig::test_share`], if the run is on one.
    fn table_test_rows(&self) -> Option<usize> {
        match (self.data.dataset, self.table) {
            (DatasetKind::Table, Some(t)) => Some(
                ((self.test_share * t.rows as f64).round() as usize).min(t.rows.saturating_sub(1)),
            ),
            _ => None,
        }
    }

    /// Training points: nTrain, or a table's rows less its test rows.
    pub fn train_rows(&self) -> usize {
        match (self.table_test_rows(), self.table) {
            (Some(test), Some(t)) => t.rows - test,
            _ => self.data.n_train,
        }
    }

    /// Test points: [`N_TEST`], or a table's share of its rows.
    pub fn test_rows(&self) -> usize {
        self.table_test_rows().unwrap_or(N_TEST)
    }

    /// Whether every step uses the whole training set (batch size 0, or at least n).
    pub fn full_batch(&self) -> bool {
        self.batch_size == 0 || self.batch_size >= self.train_rows()
    }

    /// Rows of the training workspace (the batch size, or n for full batch).
    fn batch_rows(&self) -> usize {
        if self.full_batch() {
            self.train_rows()
        } else {
            self.batch_size
        }
    }

    /// Floating-point operations of one full-batch gradient step: forward, and a backward pass
    /// of about twice its cost.
    pub fn flops_per_step(&self) -> f64 {
        3.0 * self.spec().forward_flops_per_point() * self.train_rows() as f64
    }

    /// Estimated bytes: parameters, the training and evaluation workspaces, the data (inputs,
    /// K targets and a label per point), the plotting grid the scenes draw the network on,
    /// and a reader's table as parsed.
    pub fn memory_bytes(&self) -> u64 {
        let spec = self.spec();
        let per_point = (self.input_dim() + self.outputs() + 1) as u64;
        let params = 4 * spec.param_count() as u64;
        let train_ws = Workspace::<Cpu>::bytes(&spec, self.batch_rows());
        let eval_ws = Workspace::<Cpu>::bytes(&spec, EVAL_CHUNK);
        let grid = GridSpec::for_box(
            self.plot_dim(),
            ([0.0; 2], [0.0; 2]),
            spec.forward_flops_per_point(),
        )
        .len() as u64;
        let points = (self.train_rows() + self.test_rows()) as u64;
        let data = 4 * (points * per_point + grid * per_point);
        let table = match (self.data.dataset, self.table) {
            (DatasetKind::Table, Some(t)) => 4 * (t.rows as u64) * (t.dim as u64 + 1),
            _ => 0,
        };
        params + train_ws + eval_ws + data + table
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
    /// Classification: the K × K test-set counts, row-major, rows the true class and columns
    /// the predicted one (one output: the sign, classes in the order −1, +1); its trace over
    /// the test points is `test_acc`. `None` for regression.
    pub confusion: Option<Vec<u32>>,
    /// The first [`MAX_MISCLASSIFIED`] misclassified test points, in test order.
    pub misclassified: Vec<Misclassified>,
    /// How many test points are misclassified (0 for regression).
    pub misclassified_count: u32,
}

/// A misclassified test point: its row in the test set, its class and the predicted one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Misclassified {
    pub index: u32,
    pub truth: u32,
    pub predicted: u32,
}

/// The test-set confusion of outputs `f` (`rows × k`) against class indices `labels` of
/// `classes` classes, with g = α(f − f₀) as in [`Loss::eval`]: predicted class the sign of g
/// for k = 1 (class 1 is +1), its largest output's index for k > 1. Returns the `classes ×
/// classes` counts (row = truth), the first [`MAX_MISCLASSIFIED`] misses and their number.
pub fn confusion(
    f: &[f32],
    f0: Option<&[f32]>,
    alpha: f64,
    k: usize,
    labels: &[u32],
    classes: usize,
) -> (Vec<u32>, Vec<Misclassified>, u32) {
    let k = k.max(1);
    let mut counts = vec![0u32; classes * classes];
    let mut missed = Vec::new();
    let mut count = 0u32;
    let g = |i: usize| alpha * (f[i] as f64 - f0.map_or(0.0, |f0| f0[i] as f64));
    for (row, &truth) in labels.iter().enumerate() {
        let at = row * k;
        let predicted = if k == 1 {
            u32::from(g(at) > 0.0)
        } else {
            argmax((at..at + k).map(g)) as u32
        };
        if (truth as usize) < classes && (predicted as usize) < classes {
            counts[truth as usize * classes + predicted as usize] += 1;
        }
        if predicted != truth {
            count += 1;
            if missed.len() < MAX_MISCLASSIFIED {
                missed.push(Misclassified {
                    index: row as u32,
                    truth,
                    predicted,
                });
            }
        }
    }
    (counts, missed, count)
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
    /// The heavy-ball velocity in the order of `params` (runs with momentum that have
    /// stepped), so that a run carried to another backend goes on exactly.
    pub velocity: Option<Vec<f32>>,
}

/// One training run: data, network and trainer, on the CPU by default or on any other
/// [`Backend`].
pub struct Run<B: Backend = Cpu> {
    pub config: RunConfig,
    pub data: Dataset,
    trainer: Trainer<B>,
    /// The test targets in the run's encoding (`n_test × K`).
    y_test: Vec<f32>,
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

    /// A CPU run on the data of `source` (the digits, a reader's table) within
    /// [`PLAYGROUND_MEMORY`].
    pub fn with_source(config: RunConfig, source: &DataSource) -> Result<Self> {
        block_on(Self::build_with_async(
            config,
            Cpu::new(),
            PLAYGROUND_MEMORY,
            source,
        ))
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
        if self.last_report.diverged.is_none()
            && let Err(Error::Diverged { step }) = self.trainer.advance(steps)
        {
            self.record_divergence(step);
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
    pub async fn build_async(config: RunConfig, backend: B, memory_limit: u64) -> Result<Self> {
        Self::build_with_async(config, backend, memory_limit, &DataSource::default()).await
    }

    /// [`Run::build_async`] on the data of `source` (the digits, a reader's table).
    pub async fn build_with_async(
        config: RunConfig,
        mut backend: B,
        memory_limit: u64,
        source: &DataSource,
    ) -> Result<Self> {
        let config = config.with_source(source);
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
        let data = match (config.data.dataset, &source.table) {
            (DatasetKind::Table, Some(table)) => table.dataset(&SplitOptions {
                test_fraction: config.test_share,
                standardize: config.standardize,
                seed: config.data.seed,
            })?,
            (DatasetKind::Table, None) => return Err(Error::config("dataset", TABLE_MISSING)),
            (kind, _) => data::generate_with(
                kind,
                config.data.n_train,
                N_TEST,
                config.data.noise,
                config.data.label_noise,
                config.data.seed,
                config.classes,
                source.digits.as_deref(),
            )?,
        };
        let encoding = config.encoding();
        let y_train = data.targets(Part::Train, encoding)?;
        let y_test = data.targets(Part::Test, encoding)?;
        let mut rng = Rng::stream(config.data.seed, stream::WEIGHTS);
        let mlp = Mlp::new(&mut backend, config.spec(), &mut rng)?;
        let mut trainer = Trainer::new_async(
            backend,
            mlp,
            &data.x_train,
            &y_train,
            config.net.init.center_output,
            config.lr,
            config.batch_size,
            config.data.seed,
        )
        .await?
        .with_alpha(config.alpha)?
        .with_momentum(config.optimizer())?
        .with_loss(config.loss)?;
        let f0_test = if config.net.init.center_output {
            Some(trainer.predict_async(&data.x_test).await?)
        } else {
            None
        };
        let mut run = Run {
            config,
            data,
            trainer,
            y_test,
            f0_test,
            last_report: Report {
                step: 0,
                train_loss: 0.0,
                test_loss: 0.0,
                train_acc: None,
                test_acc: None,
                diverged: None,
                message: None,
                confusion: None,
                misclassified: Vec::new(),
                misclassified_count: 0,
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

    /// The task of the data (a table's from its file).
    pub fn task(&self) -> Task {
        self.data.task
    }

    /// The test targets in the run's encoding (`n_test ×` [`RunConfig::outputs`]).
    pub fn test_targets(&self) -> &[f32] {
        &self.y_test
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
            &self.y_test,
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
        let (confusion, misclassified, misclassified_count) = if classification {
            let (c, m, n) = confusion(
                &f_test,
                self.f0_test.as_deref(),
                self.config.alpha,
                self.trainer.outputs(),
                &self.data.labels_test,
                self.data.classes,
            );
            (Some(c), m, n)
        } else {
            (None, Vec::new(), 0)
        };
        let report = Report {
            step: self.trainer.step(),
            train_loss: train.loss,
            test_loss: test.loss,
            train_acc: classification.then_some(train.accuracy),
            test_acc: classification.then_some(test.accuracy),
            diverged: None,
            message: None,
            confusion,
            misclassified,
            misclassified_count,
        };
        self.last_report = report.clone();
        Ok(report)
    }

    /// Where the run stands: parameters, step count and divergence reference, read back
    /// without blocking.
    pub async fn snapshot_async(&mut self) -> Result<Snapshot> {
        let velocity = if self.config.momentum > 0.0 {
            self.trainer.velocity_async().await?
        } else {
            None
        };
        Ok(Snapshot {
            step: self.trainer.step(),
            params: self.trainer.params_async().await?,
            initial_loss: self.trainer.initial_loss(),
            velocity,
        })
    }

    /// Puts the run where `snapshot` (taken on any backend, with the same settings) left it:
    /// parameters, step count, divergence reference, heavy-ball velocity and mini-batch order;
    /// a divergence is forgotten. Then evaluates there, without blocking.
    pub async fn restore_async(&mut self, snapshot: &Snapshot) -> Result<Report> {
        self.trainer
            .restore(&snapshot.params, snapshot.step, snapshot.initial_loss)?;
        self.trainer.set_velocity(snapshot.velocity.as_deref())?;
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
            velocity: None,
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
        let velocity = if self.config.momentum > 0.0 {
            match self.trainer.velocity_async().await? {
                Some(v) => Some(Weights::layers_of(&self.config.spec(), &v)?),
                None => None,
            }
        } else {
            None
        };
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
            velocity,
            data_hash: self.data.source_hash.clone(),
        })
    }

    /// Continues from the weights file `weights`, written by a run of these settings (see
    /// [`Weights::check`]): its parameters, step count, divergence reference and heavy-ball
    /// velocity (v = 0 when the file has none) replace the run's (see
    /// [`Run::restore_async`]). Returns the report there.
    pub async fn restore_weights_async(&mut self, weights: &Weights) -> Result<Report> {
        weights.check(&self.config)?;
        let report = self
            .restore_async(&Snapshot {
                step: weights.step,
                params: weights.params(),
                initial_loss: weights.initial_loss,
                velocity: weights.velocity_params(),
            })
            .await?;
        Ok(report)
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
