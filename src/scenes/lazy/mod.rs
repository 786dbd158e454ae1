//! The Lazy-or-rich scene: a live network beside its linearisation around θ₀, the
//! infinite-width NTK predictor at the same step, and NTK kernel ridge regression.
//!
//! For full-batch gradient descent on the squared loss, the linearised network
//! f_lin(x;θ) = f(x;θ₀) + ∇f(x;θ₀)·(θ − θ₀) moves in function space exactly as discrete
//! kernel gradient descent with the empirical NTK at θ₀:
//! g_{t+1}(X) = g_t(X) − (η/n) Θ₀ (g_t(X) − y), and on any x with Θ₀(x, X) in place of Θ₀
//! (Lee et al. 2019). The lazy scale α cancels from these dynamics (the model α(f − f₀) on the
//! loss over α² has the same function-space step), so one eigendecomposition of Θ₀ on the
//! training points gives the linearised network at every step and step size. The
//! infinite-width predictor is the same recursion with the analytic NTK, started from the
//! mean initial function 0.

mod ensemble;
mod sweep;

pub use ensemble::{
    Band, Distance, Ensemble, EnsemblePicture, EnsembleSweep, MAX_NETWORKS, MIN_NETWORKS,
    SweepPoint as EnsembleSweepPoint, SweepProgress as EnsembleSweepProgress, compare,
};
pub use sweep::{
    ExpectedSlopes, MAX_SWEEP_SEEDS, SLOPE_MIN_WIDTH, Slopes, Spread, SweepPoint, SweepRun,
    WidthSummary, WidthSweep, expected_slopes, log_log_slope, sweep_run,
};

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, GridSpec, Task};
use crate::error::{Error, Result, in_range, lower};
use crate::kernels::{Filter, KernelMachine, KernelSpec, nngp_ntk};
use crate::nn::Loss;
use crate::nn::ntk::kernel_distance;
use crate::session::budget::{LAZY_ASSUMED_FLOPS, LAZY_SETUP_FLOPS};
use crate::session::grid::{self, GridRun};
use crate::session::net::{
    DataSettings, InitSettings, NetSettings, many_class_rows, ridge_setting,
};
use crate::session::run::{N_TEST, Report, RunConfig, loss_setting};
use crate::session::settings::{SceneSpec, Setting};
use crate::session::weights::Weights;

/// The scene's id in weights files and links.
pub const SCENE: &str = "lazy";

/// The most training points this scene takes (one n × n eigendecomposition per kernel).
pub const MAX_TRAIN: usize = 512;

/// Training points whose empirical NTK is tracked for the kernel distance and the Gram plot.
pub const GRAM_POINTS: usize = 64;

/// Estimated FLOPs of [`LazyRich::new`]: forward and backward passes of every training, test
/// and grid point (≈ 6 per parameter) and the per-layer Gram products against the training set.
pub fn setup_flops(config: &RunConfig) -> f64 {
    let spec = config.spec();
    let n = config.data.n_train as f64;
    let grid =
        GridSpec::for_model(config.data.dataset, spec.forward_flops_per_point()).len() as f64;
    let rows = n + N_TEST as f64 + grid;
    let hidden: f64 = spec.hidden.iter().map(|&w| w as f64).sum();
    rows * (6.0 * spec.param_count() as f64 + 4.0 * n * hidden)
}

/// The scene's default settings (its page and `lazyDefaults()` start from them).
pub fn scene_defaults() -> RunConfig {
    RunConfig {
        data: DataSettings {
            dataset: crate::data::DatasetKind::Sine,
            n_train: 64,
            ..RunConfig::default().data
        },
        net: NetSettings {
            width: 256,
            init: InitSettings {
                activation: crate::nn::Activation::Erf,
                center_output: true,
                ..RunConfig::default().net.init
            },
            ..RunConfig::default().net
        },
        lr: 0.1,
        ..RunConfig::default()
    }
}

/// The default ridge of the scene's kernel regression: small against the NTK's diagonal
/// (order one), enough to tame the ill-conditioned smallest eigenvalues.
pub const DEFAULT_RIDGE: f64 = 1e-3;

/// Every setting of the scene: the Playground's (with [`scene_defaults`]) and the ridge of its
/// kernel regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LazyConfig {
    #[serde(flatten)]
    pub run: RunConfig,
    pub ridge: f64,
    /// Networks of the ensemble mode (see [`Ensemble`]): 0 turns it off.
    pub ensemble: usize,
}

impl Default for LazyConfig {
    fn default() -> Self {
        LazyConfig {
            run: scene_defaults(),
            ridge: DEFAULT_RIDGE,
            ensemble: 0,
        }
    }
}

/// The scene's settings table: a run's (as the Playground's, with the device, on the one- and
/// two-class sets), at most [`MAX_TRAIN`] points, and the ridge. The rows of the many-class
/// sets are there because the configuration holds their fields (they have no effect on these
/// sets); the loss row too, though the scene trains the squared loss only (see
/// [`LazyRich::new`]).
pub fn settings() -> SceneSpec {
    let mut rows = grid::table();
    rows.extend(many_class_rows());
    rows.push(loss_setting().doc(
        "The squared loss only here: the NTK's kernel regression that the network is compared with is its gradient flow.",
    ));
    rows.push(ridge_setting().doc(
        "Ridge of the kernel regression k(x, X)(K + λI)⁻¹y; 0 interpolates. Only the grey line moves.",
    ));
    rows.push(
        Setting::int("ensemble", "Ensemble", [0.0, MAX_NETWORKS as f64]).doc(
            "Finite networks from seeds s, s + 1, … trained beside the infinite-width band μ ± 2σ (not centred, α = 1, 1-D data); 0 turns it off.",
        ),
    );
    SceneSpec::new("lazy", rows, &LazyConfig::default())
        .with("nTrain", |s| s.range([4.0, MAX_TRAIN as f64]))
        .with("lr", |s| {
            s.doc(
                "Gradient-descent step size; applies to the running network and its linearisation.",
            )
        })
}

/// Refuses configurations whose set-up would take far longer than an interactive scene allows;
/// the refusal names first the setting raised the most above [`scene_defaults`].
fn check_setup_cost(config: &RunConfig) -> Result<()> {
    let flops = setup_flops(config);
    if flops > LAZY_SETUP_FLOPS {
        let fixes = config.size_settings(&scene_defaults());
        return Err(Error::config(
            fixes[0],
            format!(
                "{} hidden layer{} of width {} on {} points would take about {:.0} s to set up here (the empirical NTK on \
                 every training, test and plotting point), more than the scene allows (about {:.0} s); {}",
                config.net.depth,
                if config.net.depth == 1 { "" } else { "s" },
                config.net.width,
                config.data.n_train,
                flops / LAZY_ASSUMED_FLOPS,
                LAZY_SETUP_FLOPS / LAZY_ASSUMED_FLOPS,
                lower(&fixes)
            ),
        ));
    }
    Ok(())
}

/// Rows per chunk when computing empirical kernels against the training points.
const KERNEL_CHUNK: usize = 512;

/// Train and test loss (and accuracy for classification) of one predictor; `None` where its
/// values are not finite (a kernel recursion above its stability bound).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fit {
    pub train_loss: Option<f64>,
    pub test_loss: Option<f64>,
    pub train_acc: Option<f64>,
    pub test_acc: Option<f64>,
}

/// What the scene shows after each batch of steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LazyReport {
    pub step: u64,
    pub network: Fit,
    pub linearized: Fit,
    pub ntk: Fit,
    pub krr: Fit,
    /// ‖θ_t − θ₀‖ / ‖θ₀‖
    pub weight_change: f64,
    /// ‖Θ_t − Θ₀‖_F / ‖Θ₀‖_F on the first [`GRAM_POINTS`] training points.
    pub kernel_distance: f64,
    pub diverged: Option<u64>,
    pub message: Option<String>,
}

/// Predictions of the four models on the plotting grid.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPredictions {
    pub network: Vec<f32>,
    pub linearized: Vec<f32>,
    pub ntk: Vec<f32>,
    pub krr: Vec<f32>,
}

/// The NTK Gram matrix on the sorted Gram points, now and at θ₀, and spectra of K/n.
#[derive(Clone, Debug, PartialEq)]
pub struct Gram {
    pub size: usize,
    /// Θ_t on the Gram points, row-major `size × size`, rows in display order.
    pub now: Vec<f32>,
    /// Θ₀ on the same points.
    pub init: Vec<f32>,
    /// Eigenvalues of Θ_t/n, Θ₀/n and Θ∞/n on all training points, descending.
    pub eig_now: Vec<f64>,
    pub eig_init: Vec<f64>,
    pub eig_analytic: Vec<f64>,
    /// Eigenvalues of the empirical spectra below this fraction of their largest are f32
    /// rounding noise ([`f32_spectrum_floor`] of the number of training points).
    pub eig_floor: f64,
}

/// The fraction of the largest eigenvalue below which the eigenvalues of an n × n kernel matrix
/// computed in f32 carry no information: n · ε_f32 (ε_f32 = 2⁻²³ ≈ 1.2e-7).
///
/// Each entry of the empirical NTK is accumulated in f32, so the matrix is K + E with
/// |E_ij| ≈ ε_f32 · max|K| at best (rounding of the entries alone; the sums over parameters
/// add more). By Weyl's inequality every eigenvalue can move by ‖E‖₂ ≤ ‖E‖_F ≤ n · max|E_ij|,
/// and max|K_ij| ≤ max K_ii ≤ λ_max for a positive semi-definite K: eigenvalues below
/// n · ε_f32 · λ_max are not resolved. (The analytic NTK is computed in f64 and resolved
/// far further down.)
pub fn f32_spectrum_floor(n: usize) -> f64 {
    n as f64 * f32::EPSILON as f64
}

/// One kernel on the scene's points, with its decomposition on the training points.
struct KernelSide {
    machine: KernelMachine,
    k_test_train: DMatrix<f64>,
    k_grid_train: DMatrix<f64>,
}

/// One live Lazy-or-rich run: a [`GridRun`] (the network's run and its plotting grid, on
/// which the scene also draws the three kernel models) and the kernels at θ₀.
pub struct LazyRich {
    pg: GridRun,
    ridge: f64,
    theta_0: Vec<f32>,
    y_train: Vec<f64>,
    y_test: Vec<f64>,
    /// The linearised model's start g₀ = α(f(θ₀) − f₀): zero when centred, else α f(θ₀).
    g0_train: Vec<f64>,
    g0_test: Vec<f64>,
    g0_grid: Vec<f64>,
    empirical: KernelSide,
    analytic: KernelSide,
    /// Indices of the Gram points in display order, their inputs, and Θ₀ on them.
    gram_order: Vec<usize>,
    x_gram: Vec<f32>,
    k0_gram: DMatrix<f64>,
    krr: (Fit, Vec<f32>),
    weight_change: f64,
    kernel_distance: f64,
    /// The latest finite Θ_t on the Gram points and spectrum of Θ_t/n (descending), shown
    /// again once Θ_t stops being finite (a diverged run); Θ₀'s until the first [`LazyRich::gram`].
    last_gram: (DMatrix<f64>, Vec<f64>),
    /// The ensemble mode's networks and band, trained step for step with the network.
    ensemble: Option<Ensemble>,
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn fit_of(pred: &[f64], y: &[f64], classification: bool) -> (Option<f64>, Option<f64>) {
    if pred.iter().any(|v| !v.is_finite()) {
        return (None, None);
    }
    let n = y.len().max(1) as f64;
    let loss = pred
        .iter()
        .zip(y)
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / (2.0 * n);
    let acc = classification.then(|| {
        pred.iter()
            .zip(y)
            .filter(|(p, y)| (**p > 0.0) == (**y > 0.0))
            .count() as f64
            / n
    });
    (loss.is_finite().then_some(loss), acc)
}

fn fit(train: &[f64], y_train: &[f64], test: &[f64], y_test: &[f64], classification: bool) -> Fit {
    let (train_loss, train_acc) = fit_of(train, y_train, classification);
    let (test_loss, test_acc) = fit_of(test, y_test, classification);
    Fit {
        train_loss,
        test_loss,
        train_acc,
        test_acc,
    }
}

/// Finite predictions as f32 for drawing; values that are not finite in f32 (non-finite, or
/// beyond f32's range, as a ridge far below the kernel's rounding level gives) become 0, never
/// drawn as NaN or ±∞.
fn drawable(v: &[f64]) -> Vec<f32> {
    v.iter()
        .map(|&x| match x as f32 {
            y if y.is_finite() => y,
            _ => 0.0,
        })
        .collect()
}

impl LazyRich {
    /// Builds the network (as the Playground does), its empirical NTK at θ₀ and the analytic
    /// NTK on the training, test and grid points, and decomposes both on the training points.
    pub fn new(config: RunConfig, ridge: f64) -> Result<Self> {
        Self::with_ensemble(config, ridge, 0)
    }

    /// As [`LazyRich::new`], with an [`Ensemble`] of `networks` networks (0: none) trained
    /// step for step with the network.
    pub fn with_ensemble(config: RunConfig, ridge: f64, networks: usize) -> Result<Self> {
        if config.data.n_train > MAX_TRAIN {
            return Err(Error::config(
                "nTrain",
                format!("this scene takes at most {MAX_TRAIN} training points"),
            ));
        }
        // Every setting in its range before anything is sized from it: the set-up estimate
        // builds the network's shape (a vector of `depth` widths).
        settings().validate(&LazyConfig {
            run: config.clone(),
            ridge,
            ensemble: networks,
        })?;
        if networks > 0 {
            ensemble::check(&config, networks)?;
        }
        if config.loss != Loss::Squared {
            return Err(Error::config(
                "loss",
                "this scene compares the network with the NTK's kernel regression, the gradient flow of the squared loss: choose the squared loss",
            ));
        }
        if config.batch_size != 0 && config.batch_size < config.data.n_train {
            return Err(Error::config(
                "batchSize",
                "this scene trains with full-batch gradient descent, for which the linearised network is exact kernel GD",
            ));
        }
        check_setup_cost(&config)?;
        let mut pg = GridRun::new(config)?;
        let ensemble = if networks > 0 {
            let x_grid = pg.grid_points().to_vec();
            Some(Ensemble::new(
                &pg.config,
                networks,
                &pg.data.x_train,
                &pg.data.y_train,
                &x_grid,
            )?)
        } else {
            None
        };
        let d = pg.data.dim;
        let alpha = pg.config.alpha;
        let x_train = pg.data.x_train.clone();
        let x_test = pg.data.x_test.clone();
        let x_grid = pg.grid_points().to_vec();
        let y_train = to_f64(&pg.data.y_train);
        let y_test = to_f64(&pg.data.y_test);
        let centred = pg.config.net.init.center_output;

        let theta_0 = pg.params();
        let start = |pg: &mut GridRun, x: &[f32]| -> Vec<f64> {
            if centred {
                vec![0.0; x.len() / d]
            } else {
                let f = pg.trainer_mut().predict(x);
                f.iter().map(|&f| alpha * f as f64).collect()
            }
        };
        let g0_train = start(&mut pg, &x_train);
        let g0_test = start(&mut pg, &x_test);
        let g0_grid = start(&mut pg, &x_grid);

        // Empirical NTK at θ₀: train × train, then test and grid rows against the training set.
        let k_train_train = pg.ntk(&x_train, None)?;
        let mut against_train = |x: &[f32]| -> Result<DMatrix<f64>> {
            let rows = x.len() / d;
            let mut k = DMatrix::zeros(rows, y_train.len());
            for start in (0..rows).step_by(KERNEL_CHUNK) {
                let m = KERNEL_CHUNK.min(rows - start);
                let block = pg.ntk(&x[start * d..(start + m) * d], Some(&x_train))?;
                k.rows_mut(start, m).copy_from(&block);
            }
            Ok(k)
        };
        let empirical = KernelSide {
            k_test_train: against_train(&x_test)?,
            k_grid_train: against_train(&x_grid)?,
            machine: KernelMachine::new(&k_train_train)?,
        };

        // The analytic NTK of the same architecture (for the standard parametrisation, the
        // expected finite-width kernel; for mean-field, the NTK one over n_L).
        let spec = KernelSpec::from_mlp(&pg.config.spec());
        let (xt, xs, xg) = (to_f64(&x_train), to_f64(&x_test), to_f64(&x_grid));
        let (_, a_train) = nngp_ntk(&spec, &xt, None, d)?;
        let (_, a_test) = nngp_ntk(&spec, &xs, Some(&xt), d)?;
        let (_, a_grid) = nngp_ntk(&spec, &xg, Some(&xt), d)?;
        let analytic = KernelSide {
            machine: KernelMachine::new(&a_train)?,
            k_test_train: a_test,
            k_grid_train: a_grid,
        };

        let gram_order = display_order(&pg.data, GRAM_POINTS);
        let x_gram: Vec<f32> = gram_order
            .iter()
            .flat_map(|&i| x_train[i * d..(i + 1) * d].iter().copied())
            .collect();
        let k0_gram = DMatrix::from_fn(gram_order.len(), gram_order.len(), |i, j| {
            k_train_train[(gram_order[i], gram_order[j])]
        });

        let n = y_train.len() as f64;
        let last_gram = (k0_gram.clone(), descending(&empirical.machine, n));
        let mut lazy = LazyRich {
            pg,
            ridge,
            theta_0,
            y_train,
            y_test,
            g0_train,
            g0_test,
            g0_grid,
            empirical,
            analytic,
            gram_order,
            x_gram,
            k0_gram,
            krr: (
                Fit {
                    train_loss: None,
                    test_loss: None,
                    train_acc: None,
                    test_acc: None,
                },
                Vec::new(),
            ),
            weight_change: 0.0,
            kernel_distance: 0.0,
            last_gram,
            ensemble,
        };
        lazy.krr = lazy.krr_fit()?;
        Ok(lazy)
    }

    /// A run continued from the scene's weights file `text` (see [`crate::session::weights`]):
    /// the file's settings (returned beside the run), its parameters, step count and
    /// divergence reference; the kernels are those at the seed's θ₀, as in the run that wrote
    /// the file.
    pub fn import(text: &str) -> Result<(LazyConfig, Self)> {
        let weights = Weights::parse(text)?;
        let config = weights.config(&settings(), &LazyConfig::default(), |c| c.run.clone())?;
        let mut lazy = LazyRich::with_ensemble(config.run.clone(), config.ridge, config.ensemble)?;
        crate::exec::block_on(lazy.pg.restore_weights_async(&weights))?;
        let step = lazy.step();
        if let Some(e) = lazy.ensemble.as_mut() {
            e.advance_to(step)?;
        }
        Ok((config, lazy))
    }

    /// The scene's settings now (the step size as changed live, the ridge).
    pub fn config(&self) -> LazyConfig {
        LazyConfig {
            run: self.pg.config.clone(),
            ridge: self.ridge,
            ensemble: self.ensemble.as_ref().map_or(0, Ensemble::networks),
        }
    }

    /// The weights file of the network now (refused for a diverged run).
    pub fn export_weights(&mut self) -> Result<Weights> {
        let config = self.config();
        self.pg.export_weights(SCENE, &config)
    }

    /// Back to θ₀ at step 0 (the run then equals a fresh one of [`LazyRich::config`]); the
    /// report there.
    pub fn rewind(&mut self) -> Result<LazyReport> {
        let r = self.pg.rewind();
        if let Some(e) = self.ensemble.as_mut() {
            e.rewind()?;
        }
        self.report_from(r)
    }

    pub fn playground(&self) -> &GridRun {
        &self.pg
    }

    pub fn task(&self) -> Task {
        self.pg.task()
    }

    pub fn step(&self) -> u64 {
        self.pg.step()
    }

    pub fn param_count(&self) -> usize {
        self.pg.param_count()
    }

    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.pg.set_lr(lr)?;
        match self.ensemble.as_mut() {
            Some(e) => e.set_lr(lr),
            None => Ok(()),
        }
    }

    /// The ensemble mode's networks, band and distance on the grid at the step reached; `None`
    /// with the ensemble off.
    pub fn ensemble_picture(&mut self) -> Result<Option<EnsemblePicture>> {
        self.ensemble.as_mut().map(Ensemble::picture).transpose()
    }

    /// A new ridge for kernel regression; nothing else changes.
    pub fn set_ridge(&mut self, ridge: f64) -> Result<()> {
        in_range("ridge", ridge, ridge_setting().bounds())?;
        self.ridge = ridge;
        self.krr = self.krr_fit()?;
        Ok(())
    }

    fn classification(&self) -> bool {
        self.task() == Task::Classification
    }

    fn krr_fit(&self) -> Result<(Fit, Vec<f32>)> {
        let filter = Filter::Ridge { ridge: self.ridge };
        let m = &self.analytic;
        let train = m.machine.predict_train(filter, &self.y_train, None)?;
        let test = m
            .machine
            .predict_test(filter, &m.k_test_train, &self.y_train, None, None)?;
        let grid = m
            .machine
            .predict_test(filter, &m.k_grid_train, &self.y_train, None, None)?;
        let f = fit(
            train.as_slice(),
            &self.y_train,
            test.as_slice(),
            &self.y_test,
            self.classification(),
        );
        Ok((f, drawable(grid.as_slice())))
    }

    /// The step size of the function-space recursion: the network's effective step.
    fn kernel_lr(&self) -> f64 {
        self.pg.trainer().mlp.effective_lr(self.pg.config.lr)
    }

    /// Kernel GD after `steps` steps on the training points (`linearized`: from the network's
    /// start g₀, else from the zero function).
    fn kernel_gd_train(
        &self,
        side: &KernelSide,
        lr: f64,
        steps: u64,
        linearized: bool,
    ) -> Result<DVector<f64>> {
        let g0 = linearized.then_some(self.g0_train.as_slice());
        side.machine
            .predict_train(Filter::Steps { lr, steps }, &self.y_train, g0)
    }

    /// Kernel GD after `steps` steps on the points whose kernel against the training set is
    /// `k_x_train` and whose start is `g0_x` (`None`: the zero function, as for the NTK predictor).
    fn kernel_gd_at(
        &self,
        side: &KernelSide,
        k_x_train: &DMatrix<f64>,
        g0_x: Option<&[f64]>,
        lr: f64,
        steps: u64,
    ) -> Result<DVector<f64>> {
        let g0_train = g0_x.map(|_| self.g0_train.as_slice());
        side.machine.predict_test(
            Filter::Steps { lr, steps },
            k_x_train,
            &self.y_train,
            g0_train,
            g0_x,
        )
    }

    /// Runs up to `steps` steps of the network and reports all four models at the step reached.
    pub fn advance(&mut self, steps: u64) -> Result<LazyReport> {
        let report = self.pg.advance(steps);
        if let Some(e) = self.ensemble.as_mut() {
            e.advance_to(report.step)?;
        }
        self.report_from(report)
    }

    /// The report at the current step, without stepping.
    pub fn evaluate(&mut self) -> Result<LazyReport> {
        let report = self.pg.evaluate();
        self.report_from(report)
    }

    fn report_from(&mut self, r: Report) -> Result<LazyReport> {
        let classification = self.classification();
        if r.diverged.is_none() {
            self.update_lazy_measures()?;
        }
        let lr = self.kernel_lr();
        let step = r.step;
        let (emp, ana) = (&self.empirical, &self.analytic);
        let lin_train = self.kernel_gd_train(emp, lr, step, true)?;
        let lin_test = self.kernel_gd_at(emp, &emp.k_test_train, Some(&self.g0_test), lr, step)?;
        let ntk_train = self.kernel_gd_train(ana, lr, step, false)?;
        let ntk_test = self.kernel_gd_at(ana, &ana.k_test_train, None, lr, step)?;
        Ok(LazyReport {
            step,
            network: Fit {
                train_loss: Some(r.train_loss),
                test_loss: Some(r.test_loss),
                train_acc: r.train_acc,
                test_acc: r.test_acc,
            },
            linearized: fit(
                lin_train.as_slice(),
                &self.y_train,
                lin_test.as_slice(),
                &self.y_test,
                classification,
            ),
            ntk: fit(
                ntk_train.as_slice(),
                &self.y_train,
                ntk_test.as_slice(),
                &self.y_test,
                classification,
            ),
            krr: self.krr.0.clone(),
            weight_change: self.weight_change,
            kernel_distance: self.kernel_distance,
            diverged: r.diverged,
            message: r.message,
        })
    }

    /// ‖θ_t − θ₀‖/‖θ₀‖ read straight from the parameter buffers, and the kernel distance on
    /// the Gram points.
    fn update_lazy_measures(&mut self) -> Result<()> {
        let t = self.pg.trainer();
        let (mut diff, mut base, mut at) = (0.0f64, 0.0f64, 0usize);
        for (w, b) in t.mlp.weights.iter().zip(&t.mlp.biases) {
            for &v in w.iter().chain(b.iter()) {
                let v0 = self.theta_0[at] as f64;
                diff += (v as f64 - v0).powi(2);
                base += v0 * v0;
                at += 1;
            }
        }
        let change = if base > 0.0 {
            (diff / base).sqrt()
        } else {
            diff.sqrt()
        };
        let k_now = self.pg.ntk(&self.x_gram, None)?;
        let dist = kernel_distance(&k_now, &self.k0_gram);
        if change.is_finite() && dist.is_finite() {
            self.weight_change = change;
            self.kernel_distance = dist;
        }
        Ok(())
    }

    /// The four models' predictions on the Playground's grid at the current step.
    pub fn predict_grid(&mut self) -> Result<GridPredictions> {
        let network = self.pg.predict_grid();
        let lr = self.kernel_lr();
        let step = self.pg.last_report().step;
        let (emp, ana) = (&self.empirical, &self.analytic);
        let lin = self.kernel_gd_at(emp, &emp.k_grid_train, Some(&self.g0_grid), lr, step)?;
        let ntk = self.kernel_gd_at(ana, &ana.k_grid_train, None, lr, step)?;
        Ok(GridPredictions {
            network,
            linearized: drawable(lin.as_slice()),
            ntk: drawable(ntk.as_slice()),
            krr: self.krr.1.clone(),
        })
    }

    /// The empirical NTK on the Gram points now and at θ₀, and the spectra of Θ_t/n, Θ₀/n and
    /// Θ∞/n on all training points (Θ_t costs one n × n kernel and eigendecomposition). Where
    /// Θ_t is not finite (parameters that overflowed in a diverged run), the latest finite Θ_t
    /// and its spectrum are shown again, as the grid keeps the last finite predictions.
    pub fn gram(&mut self) -> Result<Gram> {
        let n = self.y_train.len() as f64;
        let x_train = self.pg.data.x_train.clone();
        let k_now_gram = self.pg.ntk(&self.x_gram, None)?;
        let k_now = self.pg.ntk(&x_train, None)?;
        // Θ_t on the Gram points is shown in f32: finite there too.
        if k_now_gram.iter().all(|&v| (v as f32).is_finite()) && k_now.iter().all(|v| v.is_finite())
        {
            let mut e: Vec<f64> = k_now
                .symmetric_eigenvalues()
                .iter()
                .map(|v| v / n)
                .collect();
            e.sort_by(|a, b| b.total_cmp(a));
            self.last_gram = (k_now_gram, e);
        }
        let row_major = |k: &DMatrix<f64>| -> Vec<f32> {
            let s = k.nrows();
            (0..s * s).map(|i| k[(i / s, i % s)] as f32).collect()
        };
        Ok(Gram {
            size: self.gram_order.len(),
            now: row_major(&self.last_gram.0),
            init: row_major(&self.k0_gram),
            eig_now: self.last_gram.1.clone(),
            eig_init: descending(&self.empirical.machine, n),
            eig_analytic: descending(&self.analytic.machine, n),
            eig_floor: f32_spectrum_floor(self.y_train.len()),
        })
    }
}

/// The eigenvalues of a kernel machine's matrix over `n`, descending.
fn descending(m: &KernelMachine, n: f64) -> Vec<f64> {
    let mut e: Vec<f64> = m.eigenvalues().iter().map(|v| v / n).collect();
    e.sort_by(|a, b| b.total_cmp(a));
    e
}

/// Up to `count` training points in an order that makes a Gram matrix readable: by x in 1-D;
/// by label, then by angle around the origin, in 2-D.
fn display_order(data: &Dataset, count: usize) -> Vec<usize> {
    let (d, x, y) = (data.dim, &data.x_train, &data.y_train);
    let mut idx: Vec<usize> = (0..data.n_train().min(count)).collect();
    let key = |i: usize| -> (f32, f32) {
        if d == 1 {
            (0.0, x[i])
        } else {
            (-y[i], x[i * d + 1].atan2(x[i * d]))
        }
    };
    idx.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    idx
}
