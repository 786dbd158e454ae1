//! The trained-networks part of the double-descent scene: a width sweep of two-layer networks
//! whose layers are *all* trained by full-batch gradient descent for a fixed budget of steps,
//! filled in one (width, seed) cell at a time so that a page can draw the curve progressively.
//!
//! # Conventions
//!
//! - Data: [`crate::data::sphere`], as for the random-features sweep (same sub-streams, so a seed
//!   and n give the same training set as the random-features sweep): x ~ Unif(S^{d−1}(√d)),
//!   teacher ⟨β, x⟩ with ‖β‖² = `signal` plus, for the nonlinear teacher, a He₂ part of
//!   variance `nonlinear`; labels y = f(x) + σε with σ = `noise`.
//! - Model: one hidden layer of width h, d → h → 1, biases on both layers, trained on
//!   L(θ) = (1/2n) Σ (g(xᵢ) − yᵢ)² by `steps` full-batch GD steps of size `lr`, g = f or, with
//!   `center_output`, g = f(·; θ) − f(·; θ₀). Parameters: p(h) = h(d + 2) + 1.
//! - Model size on the x-axis: p/n. The interpolation threshold is p = n (one output), at the
//!   fractional width h⋆ = (n − 1)/(d + 2).
//! - Errors: train MSE (1/n)Σ(g − y)² against the noisy training labels; test MSE against the
//!   *noiseless* target on `n_test` fresh points (the excess risk, as in the random-features
//!   sweep). Mean and standard error (sd/√count) over the seeds done at each width.
//!
//! # Why the peak shows (and where it does not)
//!
//! GD from initialisation for t steps at step size η fits the training labels along the
//! eigendirections of the (tangent) kernel whose eigenvalues are above about n/(ηt): a finite
//! budget acts like a ridge of order n/(ηt). Near p = n the network has just enough parameters
//! to fit the n noisy labels, the fit is ill-conditioned, and fitting the noise along those
//! small directions is what makes the peak; the budget must be long enough to reach them.
//! Smaller networks cannot fit the noise (train MSE near σ²); much wider ones interpolate it
//! cheaply, in the near-kernel (NTK) regime, and their test error falls again.
//!
//! Measured (5 seeds, defaults unless named; test MSE at the small end / peak / p = 10n):
//!
//! | setting | small end | peak (at p/n) | p ≈ 10n |
//! |---|---|---|---|
//! | defaults: n 100, d 20, σ 0.5, NTK, η 0.5, 8000 steps | 0.21 | 1.05 (1.1) | 0.26 |
//! | 4000 steps | 0.25 | 0.89 (1.1) | 0.26 |
//! | 2000 steps | 0.30 | 0.74 (0.9), broad to p/n 2 | 0.26 |
//! | σ = 1 | 0.56 | 3.96 (1.1) | 0.87 |
//! | no label noise (σ = 0) | 0.15 | none: 0.15–0.27, falling to 0.06 | 0.06 |
//! | d = 10 (n/d = 10) | 0.25 | 0.67 (1.1), broader | 0.27 |
//! | nonlinear teacher | 1.01 | 3.28 (0.9) | 0.79 |
//! | output not centred | 0.12 | 1.0 (1.1–1.3) | 0.52 (the initial function's variance) |
//!
//! So: the peak needs label noise and η·t ≳ 2000 (in these units); it is sharpest for n/d
//! around 5 with a linear teacher. The standard parametrisation at the same η diverges at
//! the wide end (its tangent kernel grows with the width: η must scale like 1/h there), and
//! η = 1 already diverges for some seeds at width 1; the NTK parametrisation at η = 0.5 is
//! stable at every width of the default grid. The defaults ([`TrainedSweepConfig::default`])
//! take about 9.5e10 FLOPs (65 cells): 4.0 s natively (release build), 6–9 s in the test profile.
//!
//! # Cost
//!
//! One GD step of width h on n points costs about 6·n·p(h) floating-point operations (forward
//! 2np, backward 4np); a cell costs `steps` of those plus the evaluation. The sweep refuses
//! configurations whose total work exceeds [`TRAINED_SWEEP_WORK`], naming the estimate.

use serde::{Deserialize, Serialize};

use super::Teacher;
use crate::backend::cpu::Cpu;
use crate::data::sphere;
use crate::error::{Error, Result, blame};
use crate::nn::mlp::{Mlp, MlpSpec, Workspace};
use crate::nn::train::{EVAL_CHUNK, Trainer};
use crate::rng::Rng;
use crate::session::budget::{
    TRAINED_SWEEP_ASSUMED_FLOPS, TRAINED_SWEEP_MEMORY, TRAINED_SWEEP_WORK,
};
use crate::session::net::{InitSettings, init_table, lr_setting};
use crate::session::settings::{SceneSpec, Setting, options};
use crate::theory;

/// Sub-stream ids of a replicate's seed beyond the data's ([`crate::data::sphere::stream`]).
mod stream {
    /// The initial weights of width h use stream `WEIGHTS + h`.
    pub const WEIGHTS: u64 = 1 << 32;
}

/// Every setting of the sweep. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrainedSweepConfig {
    /// Training points n.
    pub n_train: usize,
    /// Input dimension d.
    pub dim: usize,
    /// Test points.
    pub n_test: usize,
    pub teacher: Teacher,
    /// F₁² = ‖β‖², the power of the linear part of the target.
    pub signal: f64,
    /// F⋆², the power of the He₂ part (nonlinear teacher only).
    pub nonlinear: f64,
    /// Label-noise standard deviation σ.
    pub noise: f64,
    /// Number of points on the log grid of p/n (widths that round to the same value merge).
    pub sizes: usize,
    /// Smallest p/n on the grid.
    pub ratio_min: f64,
    /// Largest p/n on the grid.
    pub ratio_max: f64,
    /// Independent replicates (data, teacher, noise and initial weights).
    pub seeds: usize,
    /// Replicate s uses seed `seed + s`.
    pub seed: u64,
    /// Activation, parametrisation and initialisation of every network; centring the output
    /// (f(x;θ) − f(x;θ₀)) removes the random initial function from every prediction.
    #[serde(flatten)]
    pub init: InitSettings,
    /// Step size η (mean-field multiplies it by the width).
    pub lr: f64,
    /// Full-batch GD steps per cell (the fixed budget).
    pub steps: u64,
}

impl Default for TrainedSweepConfig {
    fn default() -> Self {
        TrainedSweepConfig {
            n_train: 100,
            dim: 20,
            n_test: 1000,
            teacher: Teacher::Linear,
            signal: 1.0,
            nonlinear: 0.5,
            noise: 0.5,
            sizes: 15,
            ratio_min: 0.2,
            ratio_max: 10.0,
            seeds: 5,
            seed: 1,
            init: InitSettings {
                center_output: true,
                ..InitSettings::default()
            },
            lr: 0.5,
            steps: 8000,
        }
    }
}

/// The sweep's settings table (see [`crate::session::settings`]): the network rows are the
/// shared initialisation rows (one hidden layer, its width swept), the data rows those of the scene, with the
/// ranges of a sweep that trains one network per size and seed.
pub fn settings() -> SceneSpec {
    let mut rows = vec![
        Setting::int("nTrain", "Training points n", [4.0, 2000.0]).log(),
        Setting::int("dim", "Input dimension d", [1.0, 500.0]).log(),
        Setting::int("nTest", "Test points", [10.0, 5000.0]).log(),
        Setting::choice("teacher", "Teacher", options(&Teacher::ALL, Teacher::label)),
        Setting::float("signal", "Signal power F₁²", [0.0, 100.0]),
        Setting::float("nonlinear", "Nonlinear power F⋆²", [0.0, 100.0]),
        Setting::float("noise", "Label noise σ", [0.0, 10.0]),
        Setting::int("sizes", "Sizes", [3.0, 41.0]),
        Setting::float("ratioMin", "Smallest ratio", [0.01, 1.0]).log(),
        Setting::float("ratioMax", "Largest ratio", [1.0, 20.0]).log(),
        Setting::int("seeds", "Seeds", [1.0, 20.0]),
        Setting::int("seed", "Seed", [0.0, u32::MAX as f64]),
    ];
    rows.extend(init_table());
    rows.extend([
        lr_setting(),
        Setting::int("steps", "Steps", [1.0, 1e6]).log(),
    ]);
    SceneSpec::new(
        "double-descent/trained",
        rows,
        &TrainedSweepConfig::default(),
    )
}

impl TrainedSweepConfig {
    /// Parameters of a two-layer network of width h: h·d + h + h + 1.
    pub fn params_of(&self, width: usize) -> usize {
        width * (self.dim + 2) + 1
    }

    /// The fractional width at which p = n: (n − 1)/(d + 2).
    pub fn threshold_width(&self) -> f64 {
        (self.n_train as f64 - 1.0) / (self.dim as f64 + 2.0)
    }

    /// The widths of the sweep, ascending and distinct: the log grid of p/n from `ratio_min`
    /// to `ratio_max`, each rounded to the nearest width (at least 1); when the grid spans the
    /// threshold, the widths just below and above h⋆ are included too.
    pub fn widths(&self) -> Vec<usize> {
        let n = self.n_train as f64;
        let per = (self.dim + 2) as f64;
        let mut w: Vec<usize> = theory::log_grid(self.ratio_min, self.ratio_max, self.sizes)
            .into_iter()
            .map(|r| (((r * n - 1.0) / per).round() as usize).max(1))
            .collect();
        if self.ratio_min <= 1.0 && self.ratio_max >= 1.0 {
            let h = self.threshold_width();
            w.push((h.floor() as usize).max(1));
            w.push((h.ceil() as usize).max(1));
        }
        w.sort_unstable();
        w.dedup();
        w
    }

    pub fn spec(&self, width: usize) -> MlpSpec {
        self.init.spec(self.dim, vec![width])
    }

    /// Estimated floating-point work of one cell of width h: `steps` forward and backward
    /// passes on n points (≈ 6·n·p) and the evaluation on the train and test points (≈ 2·p
    /// per point, three passes when the output is centred).
    pub fn cell_flops(&self, width: usize) -> f64 {
        let p = self.params_of(width) as f64;
        let n = self.n_train as f64;
        let evals = if self.init.center_output { 3.0 } else { 2.0 };
        self.steps as f64 * 6.0 * n * p + evals * 2.0 * p * (n + self.n_test as f64)
    }

    /// Estimated work of the whole sweep.
    pub fn total_flops(&self) -> f64 {
        let per_seed: f64 = self.widths().iter().map(|&w| self.cell_flops(w)).sum();
        per_seed * self.seeds as f64
    }

    /// Estimated bytes: the data of every seed, and one live network with its training and
    /// evaluation workspaces (cells are trained one at a time).
    pub fn memory_bytes(&self) -> u64 {
        let widest = self.widths().last().copied().unwrap_or(1);
        let spec = self.spec(widest);
        let (n, t, d) = (self.n_train as u64, self.n_test as u64, self.dim as u64);
        let data = 4 * (n + t) * (d + 2) * self.seeds as u64;
        let net = 4 * spec.param_count() as u64
            + Workspace::<Cpu>::bytes(&spec, self.n_train)
            + Workspace::<Cpu>::bytes(&spec, EVAL_CHUNK.min(self.n_test.max(self.n_train)))
            + 4 * (n + t) * (d + 3);
        data + net
    }

    /// Checks every setting against [`settings`], the memory estimate and the work estimate.
    pub fn validate(&self, memory_limit: u64, work_limit: f64) -> Result<()> {
        settings().validate(self)?;
        let d = TrainedSweepConfig::default();
        let bytes = self.memory_bytes();
        if bytes > memory_limit {
            return Err(Error::TooLarge {
                what: format!(
                    "a sweep up to width {} on {} points with {} test points",
                    self.widths().last().copied().unwrap_or(1),
                    self.n_train,
                    self.n_test
                ),
                bytes,
                limit: memory_limit,
                fixes: blame(&[
                    ("nTrain", self.n_train as f64, d.n_train as f64),
                    ("ratioMax", self.ratio_max, d.ratio_max),
                    ("nTest", self.n_test as f64, d.n_test as f64),
                ]),
            });
        }
        let flops = self.total_flops();
        if flops > work_limit {
            return Err(Error::config(
                "steps",
                format!(
                    "{} widths × {} seeds × {} steps on {} points (up to {} parameters) is about {:.1e} floating-point \
                     operations, about {:.0} s here, more than the sweep allows ({:.0e}, about {:.0} s); lower the \
                     steps, seeds, n, the number of sizes or the largest p/n",
                    self.widths().len(),
                    self.seeds,
                    self.steps,
                    self.n_train,
                    self.params_of(self.widths().last().copied().unwrap_or(1)),
                    flops,
                    flops / TRAINED_SWEEP_ASSUMED_FLOPS,
                    work_limit,
                    work_limit / TRAINED_SWEEP_ASSUMED_FLOPS
                ),
            ));
        }
        Ok(())
    }
}

/// The data of one replicate.
#[derive(Clone, Debug)]
struct SeedData {
    x_train: Vec<f32>,
    /// Noisy training labels.
    y_train: Vec<f32>,
    x_test: Vec<f32>,
    /// The noiseless target on the test points.
    f_test: Vec<f64>,
}

fn draw_data(cfg: &TrainedSweepConfig, seed: u64) -> SeedData {
    let draw = sphere::draw(seed, cfg.dim, cfg.n_train, cfg.n_test);
    // For d = 1 the He₂ part is constant, not finite after standardising, and left out.
    let w_lin = cfg.signal.sqrt();
    let w_nl = if cfg.teacher == Teacher::Nonlinear && sphere::he2_sd(cfg.dim) > 0.0 {
        cfg.nonlinear.sqrt()
    } else {
        0.0
    };
    let target = |parts: &sphere::TeacherParts| -> Vec<f64> {
        parts
            .linear
            .iter()
            .zip(&parts.he2)
            .map(|(&lin, &he2)| {
                let nl = if w_nl > 0.0 { he2 } else { 0.0 };
                w_lin * lin + w_nl * nl
            })
            .collect()
    };
    let f_train = target(&draw.train);
    let f_test = target(&draw.test);
    let y_train = f_train
        .iter()
        .zip(&draw.noise)
        .map(|(&f, &e)| (f + cfg.noise * e) as f32)
        .collect();
    SeedData {
        x_train: draw.x_train,
        y_train,
        x_test: draw.x_test,
        f_test,
    }
}

/// The result of one trained cell (deserialisable, so that a page can train cells in a pool of
/// workers and record them in one sweep; every number crosses exactly).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellResult {
    pub train_mse: f64,
    pub test_mse: f64,
}

/// The cell being trained.
struct Live {
    trainer: Trainer<Cpu>,
    /// g's offset on the test points: f(x; θ₀) when the output is centred.
    f0_test: Option<Vec<f32>>,
}

impl Live {
    /// The network of width `width` of replicate `seed` at θ₀, ready to train on `data`.
    fn start(
        config: &TrainedSweepConfig,
        data: &SeedData,
        seed: u64,
        width: usize,
    ) -> Result<Live> {
        let mut backend = Cpu::new();
        let mut rng = Rng::stream(seed, stream::WEIGHTS + width as u64);
        let mlp = Mlp::new(&mut backend, config.spec(width), &mut rng)?;
        let mut trainer = Trainer::new(
            backend,
            mlp,
            &data.x_train,
            &data.y_train,
            config.init.center_output,
            config.lr,
            0,
            seed,
        )?;
        let f0_test = config
            .init
            .center_output
            .then(|| trainer.predict(&data.x_test));
        Ok(Live { trainer, f0_test })
    }

    /// The trained network's train and test errors (None when not finite).
    fn finish(mut self, data: &SeedData) -> Option<CellResult> {
        let train = self.trainer.evaluate_train();
        let f = self.trainer.predict(&data.x_test);
        let sq: f64 = f
            .iter()
            .enumerate()
            .map(|(j, &fj)| {
                let g = fj as f64 - self.f0_test.as_ref().map_or(0.0, |f0| f0[j] as f64);
                (g - data.f_test[j]).powi(2)
            })
            .sum();
        let r = CellResult {
            train_mse: 2.0 * train.loss,
            test_mse: sq / data.f_test.len().max(1) as f64,
        };
        (r.train_mse.is_finite() && r.test_mse.is_finite()).then_some(r)
    }
}

/// Where a sweep stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Finished (width, seed) cells, and all of them.
    pub cells_done: usize,
    pub cells_total: usize,
    /// Fraction of the estimated work done, in [0, 1] (steps of the live cell included).
    pub fraction: f64,
    /// Width, seed index and step of the cell in training (None when none is).
    pub width: Option<usize>,
    pub seed_index: Option<usize>,
    pub step: Option<u64>,
    /// Every cell is trained.
    pub done: bool,
    /// [`TrainedSweep::cancel`] was called: nothing more will be trained.
    pub cancelled: bool,
}

/// Mean and standard error over the seeds done at each width (None where none is).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WidthStat {
    pub mean: Vec<Option<f64>>,
    /// sd/√count; 0 with one seed.
    pub se: Vec<Option<f64>>,
}

impl WidthStat {
    fn of(cells: &[Vec<Option<f64>>], widths: usize) -> WidthStat {
        let mut stat = WidthStat {
            mean: vec![None; widths],
            se: vec![None; widths],
        };
        for i in 0..widths {
            let v: Vec<f64> = cells.iter().filter_map(|row| row[i]).collect();
            if v.is_empty() {
                continue;
            }
            let m = v.len() as f64;
            let mean = v.iter().sum::<f64>() / m;
            let var = if v.len() > 1 {
                v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0)
            } else {
                0.0
            };
            stat.mean[i] = Some(mean);
            stat.se[i] = Some((var / m).sqrt());
        }
        stat
    }
}

/// What the page shows: one curve point per width.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Hidden widths h, ascending.
    pub widths: Vec<usize>,
    /// Trained parameters p(h) = h(d + 2) + 1.
    pub params: Vec<usize>,
    /// The x-axis: p/n.
    pub ratio: Vec<f64>,
    /// The interpolation threshold: p = n, i.e. p/n = 1, at the fractional width (n − 1)/(d + 2);
    /// and the index of the width whose p/n is nearest to 1 (in log scale).
    pub threshold_params: usize,
    pub threshold_ratio: f64,
    pub threshold_width: f64,
    pub threshold_index: usize,
    /// Mean squared error on the noisy training labels.
    pub train_mse: WidthStat,
    /// Mean squared error against the noiseless test target.
    pub test_mse: WidthStat,
    /// Per seed (rows) and width (columns): None where not trained yet or diverged.
    pub train_mse_per_seed: Vec<Vec<Option<f64>>>,
    pub test_mse_per_seed: Vec<Vec<Option<f64>>>,
    /// Seeds finished at each width (diverged ones included), and diverged ones.
    pub seeds_done: Vec<usize>,
    pub diverged: Vec<usize>,
    /// References for the axes: σ² (the train MSE of the true function) and E f⋆(x)² (the
    /// test MSE of the zero predictor).
    pub noise_variance: f64,
    pub null_mse: f64,
    pub steps: u64,
    pub lr: f64,
    pub progress: Progress,
}

/// One trained-networks sweep; cells (width, seed) are trained one at a time, seed-major (the
/// whole curve for seed 0 first, then seed 1, …), in chunks of steps ([`TrainedSweep::advance`]).
pub struct TrainedSweep {
    config: TrainedSweepConfig,
    widths: Vec<usize>,
    /// Estimated work of each width's cell.
    cell_flops: Vec<f64>,
    total_flops: f64,
    data: Vec<SeedData>,
    /// `seeds × widths`: None until trained; Some(None) if the cell diverged.
    results: Vec<Vec<Option<Option<CellResult>>>>,
    /// Cells finished (seed-major index of the next cell).
    next: usize,
    live: Option<Live>,
    flops_done: f64,
    cancelled: bool,
}

impl TrainedSweep {
    pub fn new(config: TrainedSweepConfig) -> Result<Self> {
        Self::with_limits(config, TRAINED_SWEEP_MEMORY, TRAINED_SWEEP_WORK)
    }

    /// As [`TrainedSweep::new`] with other memory and work limits.
    pub fn with_limits(
        config: TrainedSweepConfig,
        memory_limit: u64,
        work_limit: f64,
    ) -> Result<Self> {
        config.validate(memory_limit, work_limit)?;
        let widths = config.widths();
        let cell_flops: Vec<f64> = widths.iter().map(|&w| config.cell_flops(w)).collect();
        let total_flops = cell_flops.iter().sum::<f64>() * config.seeds as f64;
        Ok(TrainedSweep {
            results: vec![vec![None; widths.len()]; config.seeds],
            widths,
            cell_flops,
            total_flops,
            data: Vec::new(),
            next: 0,
            live: None,
            flops_done: 0.0,
            cancelled: false,
            config,
        })
    }

    pub fn config(&self) -> &TrainedSweepConfig {
        &self.config
    }

    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    pub fn cells_total(&self) -> usize {
        self.widths.len() * self.config.seeds
    }

    pub fn cells_done(&self) -> usize {
        self.next
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.cells_total()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Estimated work of the whole sweep, FLOPs.
    pub fn total_flops(&self) -> f64 {
        self.total_flops
    }

    /// The estimated work of one GD step of the cell to be trained next (0 when done).
    pub fn step_flops(&self) -> f64 {
        if self.is_done() || self.cancelled {
            return 0.0;
        }
        let w = self.widths[self.next % self.widths.len()];
        6.0 * self.config.n_train as f64 * self.config.params_of(w) as f64
    }

    /// Stops the sweep: the cell in training is dropped, finished cells stay in the report,
    /// and [`TrainedSweep::advance`] does nothing from now on.
    pub fn cancel(&mut self) {
        self.cancelled = true;
        self.live = None;
    }

    /// The seed of replicate `s`.
    pub fn replicate_seed(&self, s: usize) -> u64 {
        self.config.seed.wrapping_add(s as u64)
    }

    fn start_cell(&mut self) -> Result<Live> {
        let s = self.next / self.widths.len();
        let width = self.widths[self.next % self.widths.len()];
        let seed = self.replicate_seed(s);
        while self.data.len() <= s {
            let seed = self.replicate_seed(self.data.len());
            self.data.push(draw_data(&self.config, seed));
        }
        Live::start(&self.config, &self.data[s], seed, width)
    }

    /// Evaluates the live cell and records it.
    fn finish_cell(&mut self, live: Option<Live>) {
        let s = self.next / self.widths.len();
        let i = self.next % self.widths.len();
        let result = live.and_then(|live| live.finish(&self.data[s]));
        self.results[s][i] = Some(result);
        self.flops_done = self.cell_flops[..=i].iter().sum::<f64>()
            + self.cell_flops.iter().sum::<f64>() * s as f64;
        self.next += 1;
    }

    /// The work of the cells finished in order (the first `next`, seed-major).
    fn count_flops(&mut self) {
        let nw = self.widths.len();
        let (s, i) = (self.next / nw, self.next % nw);
        self.flops_done = self.cell_flops[..i].iter().sum::<f64>()
            + self.cell_flops.iter().sum::<f64>() * s as f64;
    }

    /// Trains cell (`seed_index`, `width_index`) of `config` from start to end on its own: the
    /// numbers [`TrainedSweep::advance`] gives the same cell (it draws the replicate's data,
    /// initialises and trains the network, and evaluates it in the same way), so that cells may
    /// be computed on several threads and recorded with [`TrainedSweep::set_cell`]. `between`
    /// is called between chunks of at most `chunk` steps; an error from it stops the cell.
    /// None when the cell diverged.
    pub fn compute_cell(
        config: &TrainedSweepConfig,
        seed_index: usize,
        width_index: usize,
        chunk: u64,
        mut between: impl FnMut() -> Result<()>,
    ) -> Result<Option<CellResult>> {
        let width = config.widths()[width_index];
        let seed = config.seed.wrapping_add(seed_index as u64);
        let data = draw_data(config, seed);
        let mut live = Live::start(config, &data, seed, width)?;
        while live.trainer.step() < config.steps {
            between()?;
            let k = chunk.max(1).min(config.steps - live.trainer.step());
            if live.trainer.advance(k).is_err() {
                return Ok(None);
            }
        }
        Ok(live.finish(&data))
    }

    /// Records a cell computed by [`TrainedSweep::compute_cell`] (in any order; the progress
    /// counts the cells finished in seed-major order from the first).
    pub fn set_cell(&mut self, seed_index: usize, width_index: usize, result: Option<CellResult>) {
        let nw = self.widths.len();
        self.results[seed_index][width_index] = Some(result);
        if self.live.is_some() {
            return;
        }
        while self.next < self.cells_total()
            && self.results[self.next / nw][self.next % nw].is_some()
        {
            self.next += 1;
        }
        self.count_flops();
    }

    /// Trains for about `flops` floating-point operations of work (at least one step, unless
    /// done or cancelled), across cells: a cell that reaches its budget is evaluated and
    /// recorded, and the next one starts. The result does not depend on how the work is
    /// split into calls. Returns the progress.
    pub fn advance(&mut self, flops: f64) -> Result<Progress> {
        let mut spent = 0.0;
        while !self.is_done() && !self.cancelled {
            if self.live.is_none() {
                self.live = Some(self.start_cell()?);
            }
            let step_flops = self.step_flops();
            let live = self.live.as_mut().expect("started above");
            let left = self.config.steps - live.trainer.step();
            let affordable = (((flops - spent) / step_flops).ceil().max(1.0) as u64).min(left);
            let outcome = live.trainer.advance(affordable);
            spent += affordable as f64 * step_flops;
            self.flops_done += affordable as f64 * step_flops;
            let finished = outcome.is_err() || live.trainer.step() >= self.config.steps;
            if finished {
                let live = self.live.take();
                self.finish_cell(if outcome.is_ok() { live } else { None });
            }
            if spent >= flops {
                break;
            }
        }
        Ok(self.progress())
    }

    /// Trains every remaining cell.
    pub fn run(&mut self) -> Result<Progress> {
        self.advance(f64::INFINITY)
    }

    pub fn progress(&self) -> Progress {
        let live = self.live.as_ref();
        Progress {
            cells_done: self.next,
            cells_total: self.cells_total(),
            fraction: if self.is_done() {
                1.0
            } else {
                (self.flops_done / self.total_flops.max(1.0)).clamp(0.0, 1.0)
            },
            width: live.map(|_| self.widths[self.next % self.widths.len()]),
            seed_index: live.map(|_| self.next / self.widths.len()),
            step: live.map(|l| l.trainer.step()),
            done: self.is_done(),
            cancelled: self.cancelled,
        }
    }

    /// The result of a cell: None until trained, Some(None) if it diverged.
    pub fn cell(&self, seed_index: usize, width_index: usize) -> Option<Option<CellResult>> {
        *self.results.get(seed_index)?.get(width_index)?
    }

    /// The numbers of the panel for the cells done so far.
    pub fn report(&self) -> Report {
        let cfg = &self.config;
        let nw = self.widths.len();
        let n = cfg.n_train as f64;
        let params: Vec<usize> = self.widths.iter().map(|&w| cfg.params_of(w)).collect();
        let ratio: Vec<f64> = params.iter().map(|&p| p as f64 / n).collect();
        let threshold_index = (0..nw)
            .min_by(|&a, &b| ratio[a].ln().abs().total_cmp(&ratio[b].ln().abs()))
            .unwrap_or(0);
        let pick = |f: fn(&CellResult) -> f64| -> Vec<Vec<Option<f64>>> {
            self.results
                .iter()
                .map(|row| row.iter().map(|c| c.flatten().map(|r| f(&r))).collect())
                .collect()
        };
        let train = pick(|r| r.train_mse);
        let test = pick(|r| r.test_mse);
        let count = |f: fn(&Option<Option<CellResult>>) -> bool| -> Vec<usize> {
            (0..nw)
                .map(|i| self.results.iter().filter(|row| f(&row[i])).count())
                .collect()
        };
        let nonlinear = if cfg.teacher == Teacher::Nonlinear && cfg.dim > 1 {
            cfg.nonlinear
        } else {
            0.0
        };
        Report {
            widths: self.widths.clone(),
            params,
            ratio,
            threshold_params: cfg.n_train,
            threshold_ratio: 1.0,
            threshold_width: cfg.threshold_width(),
            threshold_index,
            train_mse: WidthStat::of(&train, nw),
            test_mse: WidthStat::of(&test, nw),
            train_mse_per_seed: train,
            test_mse_per_seed: test,
            seeds_done: count(|c| c.is_some()),
            diverged: count(|c| matches!(c, Some(None))),
            noise_variance: cfg.noise * cfg.noise,
            null_mse: cfg.signal + nonlinear,
            steps: cfg.steps,
            lr: cfg.lr,
            progress: self.progress(),
        }
    }
}
