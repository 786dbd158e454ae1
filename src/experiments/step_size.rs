//! The Step-size scene and its phase diagrams: what happens when the third NTK assumption,
//! an infinitesimal step, is relaxed.
//!
//! **Bounds.** Full-batch GD on L = (1/2n)Σ(f − y)² moves the linearised network in function
//! space as discrete kernel GD with the empirical NTK at θ₀, g ← g − (η/n)Θ₀(g − y), which
//! multiplies the residual's component along each eigenvector of Θ₀ by (1 − ηλᵢ/n). It is
//! stable iff η < η₀ = 2n/λ_max(Θ₀), the *stability bound*. (All step sizes here are the
//! effective ones the update uses, [`crate::nn::Mlp::effective_lr`]; for mean-field that is
//! the slider value times n_L. Reports give bounds in slider units and multiples of η₀.)
//!
//! **Catapult bound.** Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari (2020) show that for
//! η₀ < η < η_max the loss first grows (the linear instability), the growth drives λ_max(Θ_t)
//! down until it is below 2n/η, and training then converges ("catapult"); above η_max it
//! diverges. For the two-layer linear network η_max = 4n/λ₀ = 2·η₀ exactly (their λ₀ is our
//! λ_max(Θ₀)/n); for wide ReLU networks they report η_max ≈ 12n/λ₀ = 6·η₀. (The factors "4"
//! and "12" are in units of 1/λ₀, i.e. 2× and 6× the stability bound.) The scene shows these
//! as [`catapult_multiple`] when measuring is too expensive; otherwise [`StepSize::new`]
//! measures it by bisection with short runs from θ₀, and the phase diagram measures it per
//! width ([`PhaseReport::empirical_catapult_bound`]). Measured on the defaults (ReLU, σ_b =
//! 0.1, 1-D sine, n = 32, widths 16–4096) it is 1.4–2× rather than 6×: with biases and few
//! low-dimensional points the literature's ReLU value does not carry over; for the linear
//! activation the measurement gives 1.96×, matching the exact 2×.
//!
//! **Sharpness.** The top eigenvalue of the Hessian of the objective GD descends
//! ([`crate::nn::hessian`]), by power iteration warm-started from the last eigenvector, next to
//! λ_max(Θ_t)/n (the Gauss–Newton part; equal to the sharpness near interpolation), both
//! against 2/η (Cohen, Kaur, Li, Kolter & Talwalkar 2021: under full-batch GD the sharpness
//! rises to about 2/η and hovers there).

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::live::{
    AUTO_GPU_MIN_FLOPS, BackendChoice, flops_per_step, software_notice, software_warning,
    unavailable_notice,
};
use super::playground::{Playground, PlaygroundConfig};
use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::data::DatasetKind;
use crate::error::{Error, Result, blame, in_range, lower};
use crate::exec::block_on;
use crate::kernels::KernelMachine;
use crate::nn::Loss;
use crate::nn::batched::{BatchedTrainer, NetConfig, is_divergent};
use crate::nn::hessian::{self, Objective, top_eigenvalue_sym, widen};
use crate::nn::mlp::MlpSpec;
use crate::nn::ntk::{empirical_kernels, kernel_distance, relative_change};
use crate::nn::train::{DIVERGENCE_FACTOR, LOSS_FLOOR};
use crate::nn::{Activation, Parametrization};

/// The most training points the scene takes (n × n kernels every few steps).
pub const MAX_TRAIN: usize = 256;

/// The most hidden layers.
pub const MAX_DEPTH: usize = 3;

/// The most floating-point work one tracking point (empirical NTK plus Hessian power
/// iterations) may take: about 0.5 s at the assumed throughput.
pub const TRACK_FLOP_BUDGET: f64 = 5e9;

/// Assumed CPU throughput for time estimates, FLOP/s (native, measured on this workload's
/// skinny matrices with `cargo bench --bench step_size`; wasm is 2–3× slower).
pub const ASSUMED_FLOPS: f64 = 1e10;

/// Settings of the Step-size scene. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StepSizeConfig {
    pub dataset: DatasetKind,
    /// Training points (≤ [`MAX_TRAIN`]).
    pub n_train: usize,
    pub noise: f64,
    pub label_noise: f64,
    /// Seed of the data and the initial weights.
    pub seed: u64,
    pub width: usize,
    /// Hidden layers, 1 to [`MAX_DEPTH`].
    pub depth: usize,
    pub activation: Activation,
    pub parametrization: Parametrization,
    pub sigma_w: f64,
    pub sigma_b: f64,
    /// Initialisation scale s.
    pub init_scale: f64,
    /// Train f(x;θ) − f(x;θ₀).
    pub center_output: bool,
    /// The step size as a multiple of the stability bound 2n/λ_max(Θ₀) (used unless `lr` is set).
    pub lr_multiple: f64,
    /// The step size in slider units (as the Playground's `lr`); overrides `lrMultiple`.
    pub lr: Option<f64>,
    /// Steps between sharpness measurements (Hessian and NTK top eigenvalues).
    pub track_every: u32,
    /// Power iterations per Hessian measurement (warm-started; stops early when converged).
    pub hessian_iters: u32,
    /// Measure the catapult bound by bisection with short runs from θ₀ (when cheap enough,
    /// see [`CATAPULT_FLOP_BUDGET`]); otherwise the literature value is shown.
    pub measure_catapult: bool,
}

impl Default for StepSizeConfig {
    fn default() -> Self {
        StepSizeConfig {
            dataset: DatasetKind::Sine,
            n_train: 32,
            noise: 0.1,
            label_noise: 0.0,
            seed: 1,
            width: 1024,
            depth: 1,
            activation: Activation::Relu,
            parametrization: Parametrization::Ntk,
            sigma_w: std::f64::consts::SQRT_2,
            sigma_b: 0.1,
            init_scale: 1.0,
            center_output: false,
            lr_multiple: 1.5,
            lr: None,
            track_every: 2,
            hessian_iters: 20,
            measure_catapult: true,
        }
    }
}

impl StepSizeConfig {
    /// The Playground settings of the same network (full batch; `lr` a placeholder).
    pub fn playground(&self) -> PlaygroundConfig {
        PlaygroundConfig {
            dataset: self.dataset,
            n_train: self.n_train,
            noise: self.noise,
            label_noise: self.label_noise,
            seed: self.seed,
            width: self.width,
            depth: self.depth,
            activation: self.activation,
            parametrization: self.parametrization,
            sigma_w: self.sigma_w,
            sigma_b: self.sigma_b,
            init_scale: self.init_scale,
            center_output: self.center_output,
            lr: 1e-3,
            batch_size: 0,
            alpha: 1.0,
        }
    }

    /// Checks the settings, the memory and the cost of one sharpness measurement of the live
    /// run (see [`Self::hessian_iters_per_point`]).
    pub fn validate(&self) -> Result<()> {
        self.validate_settings()?;
        let defaults = StepSizeConfig::default().playground();
        let flops = track_flops_with(self, self.hessian_iters_per_point());
        if flops > TRACK_FLOP_BUDGET {
            let fixes = self.playground().size_settings(&defaults);
            return Err(Error::config(
                fixes[0],
                format!(
                    "measuring the sharpness of {} hidden layer{} of width {} on {} points would take about {:.1} s each time \
                     here, more than the scene allows (about {:.1} s); {}",
                    self.depth,
                    if self.depth == 1 { "" } else { "s" },
                    self.width,
                    self.n_train,
                    flops / ASSUMED_FLOPS,
                    TRACK_FLOP_BUDGET / ASSUMED_FLOPS,
                    lower(&fixes)
                ),
            ));
        }
        Ok(())
    }

    /// Every setting in its range and the network within the memory limit (a phase diagram's
    /// cells measure only twice each: their cost is the diagram's, [`PhaseConfig::flops`]).
    pub fn validate_settings(&self) -> Result<()> {
        in_range("nTrain", self.n_train as f64, [4.0, MAX_TRAIN as f64])?;
        in_range("depth", self.depth as f64, [1.0, MAX_DEPTH as f64])?;
        in_range("lrMultiple", self.lr_multiple, [1e-3, 100.0])?;
        if let Some(lr) = self.lr {
            in_range("lr", lr, super::playground::LIMITS.lr)?;
        }
        in_range("trackEvery", self.track_every as f64, [1.0, 10_000.0])?;
        in_range("hessianIters", self.hessian_iters as f64, [1.0, 500.0])?;
        let defaults = StepSizeConfig::default().playground();
        self.playground()
            .validate_in_scene(super::playground::MEMORY_LIMIT, &defaults)
    }

    /// Hessian power iterations per sharpness measurement of the live run: `hessian_iters`, or
    /// fewer where that many would take one measurement past [`TRACK_FLOP_BUDGET`] (deep and
    /// wide networks), but at least [`MIN_HESSIAN_ITERS`]. Every measurement is warm-started
    /// from the previous eigenvector, so with fewer per point the power iteration goes on
    /// across the points, `track_every` steps apart; the first one, from a cold start, takes
    /// all `hessian_iters` once.
    pub fn hessian_iters_per_point(&self) -> u32 {
        let (kernel, per_iter) = track_costs(self);
        let fit = ((TRACK_FLOP_BUDGET - kernel) / per_iter).floor();
        let fit = if fit.is_finite() && fit > 0.0 {
            fit.min(u32::MAX as f64) as u32
        } else {
            0
        };
        self.hessian_iters.min(fit.max(MIN_HESSIAN_ITERS))
    }
}

/// The fewest Hessian power iterations one sharpness measurement of the live run takes (see
/// [`StepSizeConfig::hessian_iters_per_point`]).
pub const MIN_HESSIAN_ITERS: u32 = 4;

/// Estimated FLOPs of one sharpness measurement: the n × n empirical NTK (two Gram products
/// per layer) and `hessian_iters` Hessian-vector products (about 8 forward-pass equivalents
/// each, in f64).
pub fn track_flops(c: &StepSizeConfig) -> f64 {
    track_flops_with(c, c.hessian_iters)
}

/// [`track_flops`] with `iters` Hessian iterations.
pub fn track_flops_with(c: &StepSizeConfig, iters: u32) -> f64 {
    let (kernel, per_iter) = track_costs(c);
    kernel + iters as f64 * per_iter
}

/// (FLOPs of the n × n empirical NTK, FLOPs of one Hessian-vector product) of one measurement.
fn track_costs(c: &StepSizeConfig) -> (f64, f64) {
    let spec = c.playground().spec();
    let n = c.n_train as f64;
    let p = spec.param_count() as f64;
    let widths: f64 = spec
        .layers()
        .iter()
        .map(|l| (l.fan_in + l.fan_out) as f64)
        .sum();
    (2.0 * n * n * widths, 16.0 * n * p)
}

/// The catapult bound as a multiple of the stability bound, with its source. Linear:
/// 2 (Lewkowycz et al. 2020, exact for the two-layer linear network: η_max = 4/λ₀); ReLU: 6
/// (their empirical η_max ≈ 12/λ₀ for wide ReLU networks); erf and tanh: no published value,
/// the linear network's 2 is shown (the phase diagram measures it).
pub fn catapult_multiple(act: Activation) -> (f64, &'static str) {
    match act {
        Activation::Linear => (
            2.0,
            "two-layer linear network, exact: η_max = 4n/λ_max(Θ₀) (Lewkowycz et al. 2020)",
        ),
        Activation::Relu => (
            6.0,
            "wide ReLU networks, empirical: η_max ≈ 12n/λ_max(Θ₀) (Lewkowycz et al. 2020)",
        ),
        Activation::Erf | Activation::Tanh => (
            2.0,
            "no published value for this activation; the two-layer linear value 4n/λ_max(Θ₀) is shown (the phase diagram measures it)",
        ),
    }
}

/// Steps of each trial run when measuring the catapult bound.
pub const CATAPULT_TRIAL_STEPS: u64 = 200;

/// Bisection steps when measuring the catapult bound (between 1× and [`CATAPULT_MAX`]×;
/// 7 halvings of the log-interval resolve it to about 2%).
pub const CATAPULT_BISECTIONS: usize = 7;

/// The largest multiple of the stability bound the measurement tries.
pub const CATAPULT_MAX: f64 = 16.0;

/// The most floating-point work the measurement may take (about 0.2 s natively).
pub const CATAPULT_FLOP_BUDGET: f64 = 4e9;

/// Estimated FLOPs of measuring the catapult bound (each trial ≈ 8·n·P per step).
pub fn catapult_flops(c: &StepSizeConfig) -> f64 {
    let p = c.playground().spec().param_count() as f64;
    (CATAPULT_BISECTIONS + 1) as f64 * CATAPULT_TRIAL_STEPS as f64 * 8.0 * c.n_train as f64 * p
}

/// The three regimes of the scene, plus a run that has not resolved yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Regime {
    /// η below the stability bound: the network trains like its linearisation.
    Stable,
    /// Above the stability bound, below the catapult bound: spike, flatten, converge.
    Catapult,
    /// The loss grows without limit.
    Divergent,
    /// (Phase diagrams) neither diverged nor back below the starting loss when the run ended.
    Unsettled,
}

impl Regime {
    /// The code a phase-diagram heatmap uses: 0 stable, 1 catapult, 2 divergent, 3 unsettled.
    pub fn code(self) -> u8 {
        match self {
            Regime::Stable => 0,
            Regime::Catapult => 1,
            Regime::Divergent => 2,
            Regime::Unsettled => 3,
        }
    }

    fn predicted(multiple: f64, catapult: f64) -> Regime {
        if multiple <= 1.0 {
            Regime::Stable
        } else if multiple < catapult {
            Regime::Catapult
        } else {
            Regime::Divergent
        }
    }
}

/// The linearised network's loss under discrete kernel GD with Θ₀, from the eigenpairs.
#[derive(Clone, Debug)]
struct Linearized {
    /// (λᵢ, cᵢ²) with cᵢ the residual's component along eigenvector i at step 0.
    modes: Vec<(f64, f64)>,
    n: f64,
}

impl Linearized {
    fn new(machine: &KernelMachine, residual0: &[f64]) -> Self {
        let v = machine.eigenvectors();
        let r = nalgebra::DVector::from_column_slice(residual0);
        let c = v.tr_mul(&r);
        let modes = machine
            .eigenvalues()
            .iter()
            .zip(c.iter())
            .map(|(&l, &c)| (l, c * c))
            .collect();
        Linearized {
            modes,
            n: residual0.len() as f64,
        }
    }

    /// (1/2n) Σᵢ cᵢ² (1 − ηλᵢ/n)^{2k}; may be infinite.
    fn loss(&self, lr: f64, k: u64) -> f64 {
        let k = k as f64;
        self.modes
            .iter()
            .map(|&(l, c2)| {
                let f = (1.0 - lr * l / self.n).abs();
                if c2 == 0.0 {
                    0.0
                } else if f == 0.0 {
                    if k == 0.0 { c2 } else { 0.0 }
                } else {
                    (c2.ln() + 2.0 * k * f.ln()).exp()
                }
            })
            .sum::<f64>()
            / (2.0 * self.n)
    }
}

/// What the Step-size scene shows. Arrays are plain; the loss arrays are indexed by step
/// (entry k is the loss after k steps); the tracked arrays share `trackSteps`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepSizeReport {
    /// Steps taken.
    pub step: u64,
    pub n_train: usize,
    pub param_count: usize,
    /// η in slider units.
    pub lr: f64,
    /// η_eff, the step the update uses (= lr except mean-field: lr·n_L).
    pub effective_lr: f64,
    /// η as a multiple of the stability bound.
    pub lr_multiple: f64,
    /// The stability bound 2n/λ_max(Θ₀), slider units.
    pub stability_bound: f64,
    /// The catapult bound, slider units, and as a multiple of the stability bound.
    pub catapult_bound: f64,
    pub catapult_multiple: f64,
    /// Where the catapult bound comes from.
    pub catapult_source: String,
    /// 2/η_eff: the line sharpness and λ_max(Θ_t)/n are compared with.
    pub two_over_lr: f64,
    /// λ_max(Θ₀)/n.
    pub ntk_top_init: f64,
    /// Training loss (1/2n)Σ(f − y)² after 0, 1, …, step steps.
    pub loss: Vec<f64>,
    /// The linearised network (kernel GD with Θ₀, same η) after 0, 1, … steps; null from the
    /// step it passes the divergence bound.
    pub linearized_loss: Vec<Option<f64>>,
    /// The step at which the linearised model passed the divergence bound.
    pub linearized_diverged: Option<u64>,
    /// Steps at which the sharpness and the lazy measures were measured.
    pub track_steps: Vec<u64>,
    /// Top eigenvalue of the Hessian of the training objective.
    pub sharpness: Vec<f64>,
    /// λ_max(Θ_t)/n.
    pub ntk_top: Vec<f64>,
    /// ‖θ_t − θ₀‖/‖θ₀‖.
    pub weight_change: Vec<f64>,
    /// ‖Θ_t − Θ₀‖_F/‖Θ₀‖_F on the training points.
    pub kernel_distance: Vec<f64>,
    pub initial_loss: f64,
    /// The largest loss after step 0, and its step (the catapult's peak).
    pub peak_loss: f64,
    pub peak_step: u64,
    /// The regime: from what happened where it has resolved, else from η against the bounds.
    pub regime: Regime,
    /// The regime η against the bounds predicts.
    pub predicted_regime: Regime,
    /// Whether `regime` comes from what happened (true) or from the prediction (false).
    pub settled: bool,
    /// One sentence for the reader.
    pub explanation: String,
    /// The step at which the network diverged; the arrays then end at the last finite values.
    pub diverged: Option<u64>,
}

/// A Step-size network at θ₀ and what every measurement of it starts from.
struct Initial {
    theta_0: Vec<f32>,
    /// η_eff per slider unit.
    lr_factor: f64,
    /// f(x_train; θ₀).
    f_init: Vec<f32>,
    /// Θ₀ on the training inputs, its eigendecomposition and top eigenvalue (> 0).
    k0: DMatrix<f64>,
    machine: KernelMachine,
    lambda0: f64,
    /// The f64 objective the Hessian is taken of (centred on f(·; θ₀) when the run is).
    objective: Objective,
}

impl Initial {
    /// Of `pg`, just built from `config` (an NTK that is zero or not finite is refused).
    fn of(pg: &mut Playground, config: &StepSizeConfig) -> Result<Self> {
        let x = pg.data.x_train.clone();
        let y = pg.data.y_train.clone();
        let t = pg.trainer_mut();
        let theta_0 = t.mlp.params(&mut t.backend);
        let lr_factor = t.mlp.effective_lr(1.0);
        let f_init = t.predict(&x);
        let k0 = empirical_kernels(&mut t.backend, &t.mlp, &x, None)?.ntk;
        let machine = KernelMachine::new(&k0)?;
        let lambda0 = machine.lambda_max();
        if !(lambda0.is_finite() && lambda0 > 0.0) {
            return Err(Error::config(
                "initScale",
                "the network's NTK at initialisation is zero or not finite; raise or lower the initialisation scale",
            ));
        }
        let f0 = config.center_output.then_some(f_init.as_slice());
        let objective = Objective::new(&config.playground().spec(), &x, &y, f0, 1.0)?;
        Ok(Initial {
            theta_0,
            lr_factor,
            f_init,
            k0,
            machine,
            lambda0,
            objective,
        })
    }
}

/// The measurements of a tracking point.
#[derive(Clone, Copy, Debug)]
struct Tracked {
    /// λ_max(Θ)/n.
    ntk_top: f64,
    /// The top Hessian eigenvalue.
    sharpness: f64,
    weight_change: f64,
    kernel_distance: f64,
}

/// The NTK and Hessian top eigenvalues and the lazy measures at parameters `theta` with NTK `k`
/// (against θ₀ and Θ₀), the power iterations warm-started from `(ntk_vec, hess_vec)`;
/// None when anything is not finite.
fn measure(
    objective: &Objective,
    (theta_0, k0): (&[f32], &DMatrix<f64>),
    (theta, k): (&[f32], &DMatrix<f64>),
    (ntk_vec, hess_vec): (&mut Vec<f64>, &mut Vec<f64>),
    hessian_iters: u32,
) -> Option<Tracked> {
    if k.iter().any(|v| !v.is_finite()) || theta.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = objective.n() as f64;
    let ntk_top = top_eigenvalue_sym(k, ntk_vec, 200, 1e-6).value / n;
    let point = objective.at(&widen(theta)).ok()?;
    let sharpness = hessian::hessian_top(&point, hess_vec, hessian_iters as usize, 1e-3).value;
    (ntk_top.is_finite() && sharpness.is_finite()).then(|| Tracked {
        ntk_top,
        sharpness,
        weight_change: relative_change(theta, theta_0),
        kernel_distance: kernel_distance(k, k0),
    })
}

/// One live Step-size run.
pub struct StepSize {
    pub config: StepSizeConfig,
    pg: Playground,
    objective: Objective,
    x_train: Vec<f32>,
    theta_0: Vec<f32>,
    k0: DMatrix<f64>,
    lambda0: f64,
    lin: Linearized,
    /// η_eff per slider unit.
    lr_factor: f64,
    lr: f64,
    /// The catapult bound as a multiple of the stability bound, and its source.
    catapult: (f64, String),
    hess_vec: Vec<f64>,
    ntk_vec: Vec<f64>,
    /// (ntk_vec, hess_vec) after the measurement at θ₀.
    start_vecs: Option<(Vec<f64>, Vec<f64>)>,
    loss: Vec<f64>,
    lin_loss: Vec<Option<f64>>,
    lin_diverged: Option<u64>,
    track_steps: Vec<u64>,
    sharpness: Vec<f64>,
    ntk_top: Vec<f64>,
    weight_change: Vec<f64>,
    kernel_distance: Vec<f64>,
    diverged: Option<u64>,
}

impl StepSize {
    /// Builds data and network, the empirical NTK at θ₀, its eigendecomposition and the bounds.
    pub fn new(config: StepSizeConfig) -> Result<Self> {
        config.validate()?;
        let mut pg = Playground::new(config.playground())?;
        let x_train = pg.data.x_train.clone();
        let y_train = pg.data.y_train.clone();
        let Initial {
            theta_0,
            lr_factor,
            f_init: f0,
            k0,
            machine,
            lambda0,
            objective,
        } = Initial::of(&mut pg, &config)?;
        let n = y_train.len();
        let centred = config.center_output;
        let residual0: Vec<f64> = (0..n)
            .map(|i| (if centred { 0.0 } else { f0[i] as f64 }) - y_train[i] as f64)
            .collect();
        let lin = Linearized::new(&machine, &residual0);
        let mut s = StepSize {
            config,
            pg,
            objective,
            x_train,
            theta_0,
            k0,
            lambda0,
            lin,
            lr_factor,
            lr: 0.0,
            catapult: (0.0, String::new()),
            hess_vec: Vec::new(),
            start_vecs: None,
            ntk_vec: Vec::new(),
            loss: Vec::new(),
            lin_loss: Vec::new(),
            lin_diverged: None,
            track_steps: Vec::new(),
            sharpness: Vec::new(),
            ntk_top: Vec::new(),
            weight_change: Vec::new(),
            kernel_distance: Vec::new(),
            diverged: None,
        };
        let (lit, source) = catapult_multiple(s.config.activation);
        s.catapult = (lit, source.into());
        if s.config.measure_catapult && catapult_flops(&s.config) <= CATAPULT_FLOP_BUDGET {
            let m = s.measure_catapult_multiple()?;
            s.catapult = (
                m,
                format!(
                    "measured: the largest multiple (bisection between 1× and {CATAPULT_MAX}×) at which {CATAPULT_TRIAL_STEPS} steps from θ₀ neither diverge nor end above the starting loss{}",
                    if m >= CATAPULT_MAX {
                        "; every multiple tried converged"
                    } else {
                        ""
                    }
                ),
            );
        }
        let lr = match s.config.lr {
            Some(lr) => lr,
            None => s.config.lr_multiple * s.stability_bound(),
        };
        s.restart(lr)?;
        Ok(s)
    }

    /// The stability bound 2n/λ_max(Θ₀) in slider units.
    pub fn stability_bound(&self) -> f64 {
        2.0 * self.objective.n() as f64 / self.lambda0 / self.lr_factor
    }

    /// Whether a run of [`CATAPULT_TRIAL_STEPS`] steps from θ₀ at `multiple` × the stability
    /// bound ends finite and below its starting loss.
    pub fn trial_converges(&self, multiple: f64) -> Result<bool> {
        let mut pg = Playground::new(self.config.playground())?;
        let t = pg.trainer_mut();
        t.set_lr(multiple * self.stability_bound())?;
        let start = t.evaluate_train().loss;
        if t.advance(CATAPULT_TRIAL_STEPS).is_err() {
            return Ok(false);
        }
        let end = t.evaluate_train().loss;
        Ok(end.is_finite() && end < start)
    }

    /// The catapult bound as a multiple of the stability bound, measured by bisection on a
    /// log scale between 1 and [`CATAPULT_MAX`] with [`Self::trial_converges`] (which assumes
    /// the convergent multiples form an interval, as they do in Lewkowycz et al.'s phase
    /// diagrams). Returns [`CATAPULT_MAX`] when even that converges.
    pub fn measure_catapult_multiple(&self) -> Result<f64> {
        if self.trial_converges(CATAPULT_MAX)? {
            return Ok(CATAPULT_MAX);
        }
        let (mut lo, mut hi) = (1.0f64, CATAPULT_MAX);
        for _ in 0..CATAPULT_BISECTIONS {
            let mid = (lo * hi).sqrt();
            if self.trial_converges(mid)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The catapult bound in use, as a multiple of the stability bound.
    pub fn catapult_multiple(&self) -> f64 {
        self.catapult.0
    }

    /// λ_max(Θ₀).
    pub fn lambda_max_init(&self) -> f64 {
        self.lambda0
    }

    pub fn step(&self) -> u64 {
        self.loss.len().saturating_sub(1) as u64
    }

    pub fn param_count(&self) -> usize {
        self.objective.param_count()
    }

    pub fn playground(&self) -> &Playground {
        &self.pg
    }

    /// The current slider step size.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    fn effective_lr(&self) -> f64 {
        self.lr * self.lr_factor
    }

    /// Restarts from θ₀ with a new step size in slider units (Θ₀ and the bounds are kept).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::config(
                "lr",
                format!("must be a finite number > 0, got {lr}"),
            ));
        }
        self.restart(lr)
    }

    /// Restarts from θ₀ with the step size `multiple` × the stability bound.
    pub fn set_lr_multiple(&mut self, multiple: f64) -> Result<()> {
        in_range("lrMultiple", multiple, [1e-3, 100.0])?;
        self.restart(multiple * self.stability_bound())
    }

    fn restart(&mut self, lr: f64) -> Result<()> {
        if self.lr != 0.0 {
            // Same seed, same data and θ₀: only the trainer's state is new.
            self.pg = Playground::new(self.config.playground())?;
        }
        self.lr = lr;
        self.config.lr = Some(lr);
        self.config.lr_multiple = lr / self.stability_bound();
        self.pg.trainer_mut().set_lr(lr)?;
        for v in [
            &mut self.loss,
            &mut self.sharpness,
            &mut self.ntk_top,
            &mut self.weight_change,
            &mut self.kernel_distance,
        ] {
            v.clear();
        }
        self.lin_loss.clear();
        self.track_steps.clear();
        self.lin_diverged = None;
        self.diverged = None;
        match &self.start_vecs {
            // A capped run restarts its power iterations from θ₀'s eigenvectors (the restart is
            // at θ₀), so that its first measurement needs no cold start.
            Some((ntk, hess))
                if self.config.hessian_iters_per_point() < self.config.hessian_iters =>
            {
                self.ntk_vec = ntk.clone();
                self.hess_vec = hess.clone();
            }
            _ => {
                self.hess_vec.clear();
                self.ntk_vec.clear();
            }
        }
        let l0 = self.pg.trainer_mut().evaluate_train().loss;
        self.loss.push(l0);
        self.lin_loss
            .push(Some(self.lin.loss(self.effective_lr(), 0)));
        self.track();
        Ok(())
    }

    /// Runs up to `steps` full-batch GD steps (fewer when the run diverges) and reports.
    pub fn advance(&mut self, steps: u64) -> StepSizeReport {
        let every = self.config.track_every.max(1) as u64;
        for _ in 0..steps {
            if self.diverged.is_some() {
                break;
            }
            let t = self.pg.trainer_mut();
            if let Err(e) = t.advance(1) {
                self.diverged = Some(match e {
                    Error::Diverged { step } => step,
                    _ => t.step(),
                });
                break;
            }
            let loss = t.evaluate_train().loss;
            let first = self.loss[0] as f32;
            if !loss.is_finite() || loss > (DIVERGENCE_FACTOR * first.max(LOSS_FLOOR)) as f64 {
                self.diverged = Some(match t.mark_diverged() {
                    Error::Diverged { step } => step,
                    _ => t.step(),
                });
                break;
            }
            self.loss.push(loss);
            self.push_linearized();
            if self.step().is_multiple_of(every) {
                self.track();
            }
        }
        self.report()
    }

    fn push_linearized(&mut self) {
        let k = self.step();
        let value = if self.lin_diverged.is_some() {
            None
        } else {
            let l = self.lin.loss(self.effective_lr(), k);
            let bound = DIVERGENCE_FACTOR as f64 * self.loss[0].max(LOSS_FLOOR as f64);
            if l.is_finite() && l <= bound {
                Some(l)
            } else {
                self.lin_diverged = Some(k);
                None
            }
        };
        self.lin_loss.push(value);
    }

    /// Measures the Hessian and NTK top eigenvalues and the lazy measures at the current θ.
    fn track(&mut self) {
        let t = self.pg.trainer_mut();
        let theta = t.mlp.params(&mut t.backend);
        let Ok(k) = empirical_kernels(&mut t.backend, &t.mlp, &self.x_train, None) else {
            return;
        };
        // The first measurement starts cold and takes every iteration (once, in the set-up);
        // later ones continue from the last eigenvector within the per-point budget.
        let iters = if self.hess_vec.is_empty() {
            self.config.hessian_iters
        } else {
            self.config.hessian_iters_per_point()
        };
        let Some(m) = measure(
            &self.objective,
            (&self.theta_0, &self.k0),
            (&theta, &k.ntk),
            (&mut self.ntk_vec, &mut self.hess_vec),
            iters,
        ) else {
            return;
        };
        if self.start_vecs.is_none() {
            self.start_vecs = Some((self.ntk_vec.clone(), self.hess_vec.clone()));
        }
        self.track_steps.push(self.step());
        self.sharpness.push(m.sharpness);
        self.ntk_top.push(m.ntk_top);
        self.weight_change.push(m.weight_change);
        self.kernel_distance.push(m.kernel_distance);
    }

    /// The report at the current step, without stepping.
    pub fn report(&self) -> StepSizeReport {
        let bound = self.stability_bound();
        let multiple = self.lr / bound;
        let (cat, source) = (self.catapult.0, self.catapult.1.as_str());
        let initial = self.loss[0];
        let (peak_step, peak_loss) =
            self.loss
                .iter()
                .enumerate()
                .skip(1)
                .fold(
                    (0usize, initial),
                    |acc, (i, &l)| {
                        if l > acc.1 { (i, l) } else { acc }
                    },
                );
        let current = *self.loss.last().expect("loss at step 0");
        let predicted = Regime::predicted(multiple, cat);
        let eta = self.effective_lr();
        let flat_now = self.ntk_top.last().is_some_and(|&top| eta * top < 2.0);
        let (regime, settled) = if self.diverged.is_some() {
            (Regime::Divergent, true)
        } else if multiple <= 1.0 {
            (Regime::Stable, true)
        } else if flat_now && current < initial && self.step() > 0 {
            (Regime::Catapult, true)
        } else {
            (predicted, false)
        };
        let explanation = explain(
            regime,
            settled,
            multiple,
            cat,
            peak_loss / initial,
            self.diverged,
        );
        StepSizeReport {
            step: self.step(),
            n_train: self.objective.n(),
            param_count: self.param_count(),
            lr: self.lr,
            effective_lr: eta,
            lr_multiple: multiple,
            stability_bound: bound,
            catapult_bound: cat * bound,
            catapult_multiple: cat,
            catapult_source: source.into(),
            two_over_lr: 2.0 / eta,
            ntk_top_init: self.lambda0 / self.objective.n() as f64,
            loss: self.loss.clone(),
            linearized_loss: self.lin_loss.clone(),
            linearized_diverged: self.lin_diverged,
            track_steps: self.track_steps.clone(),
            sharpness: self.sharpness.clone(),
            ntk_top: self.ntk_top.clone(),
            weight_change: self.weight_change.clone(),
            kernel_distance: self.kernel_distance.clone(),
            initial_loss: initial,
            peak_loss,
            peak_step: peak_step as u64,
            regime,
            predicted_regime: predicted,
            settled,
            explanation,
            diverged: self.diverged,
        }
    }
}

/// `x` to three significant figures, without trailing zeros (54.242 → "54.2", 3 → "3").
fn three_figures(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn explain(
    regime: Regime,
    settled: bool,
    m: f64,
    cat: f64,
    peak_ratio: f64,
    diverged: Option<u64>,
) -> String {
    match (regime, settled) {
        (Regime::Stable, _) => format!(
            "η is {m:.2}× the stability bound 2n/λ_max(Θ₀): every mode of the linearised model shrinks at each step, \
             so the network trains like its linearisation."
        ),
        (Regime::Catapult, true) => format!(
            "η is {m:.2}× the stability bound, so the linearised model diverges; the network instead catapulted: its loss \
             rose to {}× the start while its NTK's top eigenvalue fell below 2n/η, and it converged to a flatter point.",
            three_figures(peak_ratio)
        ),
        (Regime::Catapult, false) => format!(
            "η is {m:.2}× the stability bound, between it and the catapult bound (about {cat:.1}×): the linearised model \
             diverges, while the network's loss should spike until its NTK's top eigenvalue falls below 2n/η, then converge."
        ),
        (Regime::Divergent, true) => format!(
            "η is {m:.2}× the stability bound and the loss grew without limit (step {}): beyond the catapult bound \
             (about {cat:.1}×) the network cannot flatten itself fast enough.",
            diverged.unwrap_or(0)
        ),
        (Regime::Divergent, false) | (Regime::Unsettled, _) => format!(
            "η is {m:.2}× the stability bound, beyond the catapult bound (about {cat:.1}×): expect the loss to grow without limit."
        ),
    }
}

// ------------------------------------------------------------------------------------------
// Phase diagrams
// ------------------------------------------------------------------------------------------

/// The vertical axis of a phase diagram (the horizontal one is always width).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PhaseAxis {
    /// Step size as a multiple of each width's own stability bound.
    StepSize,
    /// Initialisation scale s (step size `lrMultiple` × each cell's stability bound).
    InitScale,
}

/// Settings of a phase diagram. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PhaseConfig {
    /// The network and data of every cell (its `width`, `lrMultiple` or `initScale` and `lr`
    /// are overridden per cell).
    pub base: StepSizeConfig,
    pub axis: PhaseAxis,
    /// Widths, log-spaced from `widthMin` to `widthMax` (rounded), `widthCount` of them.
    pub width_min: usize,
    pub width_max: usize,
    pub width_count: usize,
    /// The vertical axis, log-spaced: step-size multiples or initialisation scales.
    pub y_min: f64,
    pub y_max: f64,
    pub y_count: usize,
    /// Step size as a multiple of the stability bound, for the init-scale axis.
    pub lr_multiple: f64,
    /// Gradient steps per cell.
    pub steps: u64,
    /// Power iterations for the final sharpness of a cell.
    pub hessian_iters: u32,
}

impl Default for PhaseConfig {
    fn default() -> Self {
        PhaseConfig {
            base: StepSizeConfig {
                n_train: 32,
                ..StepSizeConfig::default()
            },
            axis: PhaseAxis::StepSize,
            width_min: 16,
            width_max: 4096,
            width_count: 9,
            y_min: 0.25,
            y_max: 16.0,
            y_count: 13,
            lr_multiple: 0.5,
            steps: 300,
            hessian_iters: 30,
        }
    }
}

/// The most floating-point work a phase diagram may take: about 15 s natively at the
/// assumed throughput (30–45 s in the browser).
pub const PHASE_FLOP_BUDGET: f64 = 1.5e11;

fn log_space(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if count <= 1 {
        return vec![lo];
    }
    (0..count)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (count - 1) as f64).exp())
        .collect()
}

impl PhaseConfig {
    pub fn widths(&self) -> Vec<usize> {
        log_space(
            self.width_min as f64,
            self.width_max as f64,
            self.width_count,
        )
        .into_iter()
        .map(|w| w.round().max(1.0) as usize)
        .collect()
    }

    pub fn ys(&self) -> Vec<f64> {
        log_space(self.y_min, self.y_max, self.y_count)
    }

    /// Estimated FLOPs of the whole diagram (every cell run to the end: an upper bound, since
    /// divergent cells stop early).
    pub fn flops(&self) -> f64 {
        let n = self.base.n_train as f64;
        self.widths()
            .iter()
            .map(|&w| {
                let c = StepSizeConfig {
                    width: w,
                    hessian_iters: self.hessian_iters,
                    ..self.base.clone()
                };
                let p = c.playground().spec().param_count() as f64;
                // Per step: forward, backward and evaluation ≈ 8·n·P; per cell the NTK twice
                // and the final Hessian iterations.
                let per_cell = self.steps as f64 * 8.0 * n * p + 2.0 * track_flops(&c);
                per_cell * self.y_count as f64
            })
            .sum()
    }

    pub fn validate(&self) -> Result<()> {
        in_range("widthMin", self.width_min as f64, [1.0, 4096.0])?;
        in_range(
            "widthMax",
            self.width_max as f64,
            [self.width_min as f64, 4096.0],
        )?;
        in_range("widthCount", self.width_count as f64, [1.0, 64.0])?;
        in_range("yCount", self.y_count as f64, [1.0, 64.0])?;
        in_range("steps", self.steps as f64, [1.0, 100_000.0])?;
        in_range("hessianIters", self.hessian_iters as f64, [1.0, 500.0])?;
        in_range("lrMultiple", self.lr_multiple, [1e-3, 100.0])?;
        let range = match self.axis {
            PhaseAxis::StepSize => [1e-3, 100.0],
            PhaseAxis::InitScale => super::playground::LIMITS.init_scale,
        };
        in_range("yMin", self.y_min, range)?;
        in_range("yMax", self.y_max, [self.y_min, range[1]])?;
        for &w in &self.widths() {
            StepSizeConfig {
                width: w,
                ..self.base.clone()
            }
            .validate_settings()?;
        }
        let flops = self.flops();
        if flops > PHASE_FLOP_BUDGET {
            let d = PhaseConfig::default();
            let fixes = blame(&[
                ("widthMax", self.width_max as f64, d.width_max as f64),
                ("depth", self.base.depth as f64, d.base.depth as f64),
                ("nTrain", self.base.n_train as f64, d.base.n_train as f64),
                ("widthCount", self.width_count as f64, d.width_count as f64),
                ("yCount", self.y_count as f64, d.y_count as f64),
                ("steps", self.steps as f64, d.steps as f64),
            ]);
            return Err(Error::config(
                fixes[0],
                format!(
                    "this {} × {} diagram would take about {:.0} s here (up to {:.1e} floating-point operations), more than \
                     a diagram may take (about {:.0} s); {}",
                    self.y_count,
                    self.width_count,
                    flops / ASSUMED_FLOPS,
                    flops,
                    PHASE_FLOP_BUDGET / ASSUMED_FLOPS,
                    lower(&fixes)
                ),
            ));
        }
        Ok(())
    }
}

/// One finished cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseCell {
    pub regime: Regime,
    /// Training loss at the end (None when diverged).
    pub final_loss: Option<f64>,
    /// Top Hessian eigenvalue at the end times η_eff (2 is the edge of stability).
    pub sharpness_lr: Option<f64>,
    /// λ_max(Θ_T)·η_eff/n at the end (below 2: the linearised dynamics are stable there).
    pub ntk_lr: Option<f64>,
    pub weight_change: Option<f64>,
    pub kernel_distance: Option<f64>,
    /// The largest loss over the run divided by the starting loss.
    pub peak_ratio: Option<f64>,
}

/// Progress of a phase diagram.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseProgress {
    /// Finished cells.
    pub done: usize,
    pub total: usize,
    /// Of the whole diagram's work, counting the column in training (0 to 1).
    pub fraction: f64,
    pub finished: bool,
    /// What is being computed now, in words ("width 1024: 13 networks training together, step
    /// 150 of 300").
    pub activity: String,
    /// The backend of the width under way (between widths: of the next one; when finished: of
    /// the last one): "cpu" or "webgpu".
    pub backend: &'static str,
    /// Why the diagram trains on the CPU although a GPU was asked for, or that it moved there.
    pub notice: Option<String>,
    /// The technical account behind `notice` (an adapter or device error), for the console.
    pub notice_detail: Option<String>,
}

/// Everything a heatmap needs; cell arrays are row-major over (y, width): index
/// `iy·widths.length + ix`, null where not computed yet or undefined (diverged).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseReport {
    pub axis: PhaseAxis,
    pub widths: Vec<usize>,
    /// Step-size multiples (stepSize axis) or initialisation scales (initScale axis).
    pub ys: Vec<f64>,
    /// 0 stable, 1 catapult, 2 divergent, 3 unsettled.
    pub regime: Vec<Option<u8>>,
    pub final_loss: Vec<Option<f64>>,
    pub sharpness_lr: Vec<Option<f64>>,
    pub ntk_lr: Vec<Option<f64>>,
    pub weight_change: Vec<Option<f64>>,
    pub kernel_distance: Vec<Option<f64>>,
    pub peak_ratio: Vec<Option<f64>>,
    /// Per width (stepSize axis): the largest multiple whose cell, and every smaller one's,
    /// did not diverge, once that width's column is complete.
    pub empirical_catapult_bound: Vec<Option<f64>>,
    /// Per width: the stability bound 2n/λ_max(Θ₀) in slider units (at the base init scale;
    /// the initScale axis has one per cell, not listed).
    pub stability_bound: Vec<Option<f64>>,
    pub progress: PhaseProgress,
}

/// A cell's network at θ₀, measured on the CPU in f64: what its training starts from and
/// what its final state is compared with. The cells of a step-size column share one.
struct Start {
    /// The network at θ₀ on the column's data (its trainer holds the CPU copy used to
    /// measure the trained parameters).
    pg: Playground,
    objective: Objective,
    theta_0: Vec<f32>,
    /// f(x_train; θ₀) when the output is centred.
    f0: Option<Vec<f32>>,
    k0: DMatrix<f64>,
    /// The stability bound 2n/λ_max(Θ₀), slider units.
    bound: f64,
    /// The loss at θ₀, f64 (as [`StepSize`] measures it).
    initial_loss: f64,
    /// The top eigenvectors at θ₀ (NTK, Hessian): each cell's final measurement starts its
    /// power iteration from them, as a [`StepSize`] run tracked at step 0 does.
    ntk_vec: Vec<f64>,
    hess_vec: Vec<f64>,
}

/// The networks of one column, trained on one backend: on the GPU as one batch; on the CPU as
/// consecutive batches of at most [`CPU_BATCH_ELEMS`] activations each (network order kept).
enum ColumnTrainer {
    Cpu(Vec<BatchedTrainer<Cpu>>),
    Gpu(Vec<BatchedTrainer<Gpu>>),
}

/// Activation elements (networks × points × width) of one CPU batch at most: 128 Ki f32, so a
/// batch's activations stay in the L2 cache, as one network's do. One batch of 13 networks of
/// width 4096 on 32 points (6.8 MB per activation buffer) trained 4.7× slower natively than the
/// 13 networks one after another; a batch within this bound is as fast or faster.
const CPU_BATCH_ELEMS: usize = 1 << 17;

/// Runs one async method of every batch a [`ColumnTrainer`] holds.
macro_rules! on_trainer {
    ($trainer:expr, $ts:ident => $call:expr) => {
        match $trainer {
            ColumnTrainer::Cpu($ts) => $call,
            ColumnTrainer::Gpu($ts) => $call,
        }
    };
}

/// `k` steps of every batch; per network, its losses (as [`BatchedTrainer::advance_async`]).
async fn advance_all<B: Backend>(ts: &mut [BatchedTrainer<B>], k: u64) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::new();
    for t in ts {
        out.extend(t.advance_async(k).await?);
    }
    Ok(out)
}

/// Per network: its training loss now, whether it diverged, its outputs at `x` and its
/// parameters.
async fn finals_all<B: Backend>(
    ts: &mut [BatchedTrainer<B>],
    x: &[f32],
) -> Result<Vec<(f32, bool, Vec<f32>, Vec<f32>)>> {
    let mut out = Vec::new();
    for t in ts {
        let losses = t.train_losses_async().await?;
        let outputs = t.predict_async(x).await?;
        let params = t.all_params_async().await?;
        for (b, ((l, f), p)) in losses.into_iter().zip(outputs).zip(params).enumerate() {
            out.push((l, t.diverged(b).is_some(), f, p));
        }
    }
    Ok(out)
}

/// The networks `nets` of one architecture in batches of `per_batch`, each centred when asked.
fn batches<B: Backend>(
    mut backend: impl FnMut() -> Option<B>,
    spec: &MlpSpec,
    x: &[f32],
    y: &[f32],
    nets: &[NetConfig],
    per_batch: usize,
    centred: bool,
) -> Result<Vec<BatchedTrainer<B>>> {
    let mut out = Vec::new();
    for chunk in nets.chunks(per_batch.max(1)) {
        let Some(b) = backend() else {
            break;
        };
        let mut t = BatchedTrainer::new(b, spec.clone(), x, y, chunk)?;
        if centred {
            t.center_output()?;
        }
        out.push(t);
    }
    Ok(out)
}

/// One width's cells: their starts, the batch training them and its measurements so far.
struct Column {
    ix: usize,
    /// Per cell (index iy): its start (an index into `starts`), or none when the network
    /// overflowed at θ₀ (a divergent cell that needs no training).
    start_of: Vec<Option<usize>>,
    starts: Vec<Start>,
    /// The cells in training, in batch order (their iy), with their slider step sizes.
    trained: Vec<usize>,
    lrs: Vec<f64>,
    /// The batch while it trains (dropped once its final state is read).
    trainer: Option<ColumnTrainer>,
    steps_done: u64,
    /// Per batch entry: the largest loss over steps 1 … `steps_done` so far.
    peak: Vec<f32>,
    /// After training: per batch entry, the final parameters and the f64 loss there (None when
    /// diverged; taken when measured).
    finals: Vec<Option<(Vec<f32>, f64)>>,
    /// Cells of this column measured and stored so far (in batch order).
    measured: usize,
}

/// Floating-point work of one slice of a column's training ([`PhaseDiagram::advance_async`]
/// returns after each): about 20 ms on the CPU.
const TRAIN_SLICE_FLOPS: f64 = 2e8;

/// Steps of one slice on the GPU at most: one submission and one readback of their losses, a
/// few milliseconds on a real GPU, so the page sees progress even where the GPU is emulated.
const GPU_SLICE_STEPS: u64 = 64;

/// A phase diagram, one width (column) at a time: the column's cells — one network each,
/// every cell of a step-size column starting from the same θ₀ on the same data — are trained
/// together as one [`BatchedTrainer`] batch, on the CPU or on the GPU (see [`PhaseDiagram::create`]),
/// then each trained network is measured on the CPU in f64 (empirical NTK, Hessian power
/// iteration) exactly as a [`StepSize`] run would be. Deterministic from the seed; on the CPU
/// every cell equals the [`StepSize`] run of the same settings (tests/step_size.rs).
pub struct PhaseDiagram {
    pub config: PhaseConfig,
    widths: Vec<usize>,
    ys: Vec<f64>,
    /// Row-major over (iy, ix), as the report.
    cells: Vec<Option<PhaseCell>>,
    bounds: Vec<Option<f64>>,
    next_column: usize,
    column: Option<Column>,
    choice: BackendChoice,
    /// The GPU while it is usable and not lent to a column.
    gpu: Option<Gpu>,
    backend: &'static str,
    notice: Option<String>,
    notice_detail: Option<String>,
}

/// Training and measuring of the cells from their networks' numbers (see [`PhaseDiagram`]).
fn classify(
    lr_multiple: f64,
    initial_loss: f64,
    final_loss: Option<f64>,
    peak_loss: f64,
    tracked: Option<Tracked>,
    eta: f64,
) -> PhaseCell {
    let Some(final_loss) = final_loss else {
        return PhaseCell {
            regime: Regime::Divergent,
            final_loss: None,
            sharpness_lr: None,
            ntk_lr: None,
            weight_change: None,
            kernel_distance: None,
            peak_ratio: Some(peak_loss / initial_loss).filter(|v| v.is_finite()),
        };
    };
    let ntk_lr = tracked.map(|t| t.ntk_top * eta);
    let regime =
        if final_loss >= initial_loss || ntk_lr.is_none_or(|v| v >= 2.0 && lr_multiple > 1.0) {
            Regime::Unsettled
        } else if lr_multiple > 1.0 {
            Regime::Catapult
        } else {
            Regime::Stable
        };
    PhaseCell {
        regime,
        final_loss: Some(final_loss),
        sharpness_lr: tracked.map(|t| t.sharpness * eta),
        ntk_lr,
        weight_change: tracked.map(|t| t.weight_change),
        kernel_distance: tracked.map(|t| t.kernel_distance),
        peak_ratio: Some(peak_loss / initial_loss).filter(|v| v.is_finite()),
    }
}

impl Start {
    /// The network of `config` at θ₀ and its measurements; `Ok(None)` when its outputs
    /// overflow at θ₀ (a divergent cell).
    fn new(config: &StepSizeConfig) -> Result<Option<Start>> {
        let mut pg = match Playground::new(config.playground()) {
            Ok(pg) => pg,
            Err(Error::Diverged { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let y = pg.data.y_train.clone();
        let Initial {
            theta_0,
            lr_factor,
            f_init,
            k0,
            lambda0,
            objective,
            ..
        } = Initial::of(&mut pg, config)?;
        let f0 = config.center_output.then(|| f_init.clone());
        let initial_loss = Loss::Squared.eval(&f_init, f0.as_deref(), 1.0, &y).loss;
        // What a StepSize run measures at step 0: it warm-starts the final measurement.
        let (mut ntk_vec, mut hess_vec) = (Vec::new(), Vec::new());
        measure(
            &objective,
            (&theta_0, &k0),
            (&theta_0, &k0),
            (&mut ntk_vec, &mut hess_vec),
            config.hessian_iters,
        );
        Ok(Some(Start {
            pg,
            objective,
            theta_0,
            f0,
            k0,
            bound: 2.0 * y.len() as f64 / lambda0 / lr_factor,
            initial_loss,
            ntk_vec,
            hess_vec,
        }))
    }

    /// The empirical NTK of the network with parameters `theta` on the training inputs.
    fn kernel_at(&mut self, theta: &[f32]) -> Result<DMatrix<f64>> {
        let x = self.pg.data.x_train.clone();
        let t = self.pg.trainer_mut();
        t.mlp.set_params(&mut t.backend, theta)?;
        Ok(empirical_kernels(&mut t.backend, &t.mlp, &x, None)?.ntk)
    }
}

impl PhaseDiagram {
    /// A diagram trained on the CPU.
    pub fn new(config: PhaseConfig) -> Result<Self> {
        config.validate()?;
        let widths = config.widths();
        let ys = config.ys();
        Ok(PhaseDiagram {
            cells: vec![None; widths.len() * ys.len()],
            bounds: vec![None; widths.len()],
            config,
            widths,
            ys,
            next_column: 0,
            column: None,
            choice: BackendChoice::Cpu,
            gpu: None,
            backend: "cpu",
            notice: None,
            notice_detail: None,
        })
    }

    /// A diagram whose columns train on the chosen backend: [`BackendChoice::Auto`] gives a
    /// column the GPU when WebGPU is there and one batched step costs at least
    /// [`AUTO_GPU_MIN_FLOPS`] (the same rule as the Playground's, for the whole batch);
    /// [`BackendChoice::Gpu`] every column. A GPU that cannot be had is not an error: the
    /// diagram trains on the CPU and [`PhaseProgress::notice`] says why.
    pub async fn create(config: PhaseConfig, choice: BackendChoice) -> Result<Self> {
        let mut d = Self::new(config)?;
        d.choice = choice;
        let wanted = match choice {
            BackendChoice::Cpu => false,
            BackendChoice::Gpu => true,
            BackendChoice::Auto => (0..d.widths.len()).any(|ix| d.column_prefers_gpu(ix)),
        };
        if wanted {
            match Gpu::new().await {
                Ok(gpu) if gpu.is_software() && choice == BackendChoice::Auto => {
                    d.notice = Some(software_notice(
                        gpu.adapter(),
                        "the phase diagram trains on the CPU",
                    ));
                }
                Ok(gpu) => {
                    if gpu.is_software() {
                        d.notice = Some(software_warning(gpu.adapter()));
                    }
                    d.gpu = Some(gpu);
                }
                Err(e) if choice == BackendChoice::Gpu => {
                    let (text, detail) =
                        unavailable_notice(&e, "the phase diagram trains on the CPU");
                    d.notice = Some(text);
                    d.notice_detail = Some(detail);
                }
                Err(_) => {}
            }
        }
        Ok(d)
    }

    /// Gives the diagram a GPU (a test's device) and the choice its columns follow.
    pub fn set_gpu(&mut self, gpu: Gpu, choice: BackendChoice) {
        self.gpu = Some(gpu);
        self.choice = choice;
    }

    /// Takes the diagram's GPU back when no width is training on it (later widths train on
    /// the CPU).
    pub fn take_gpu(&mut self) -> Option<Gpu> {
        self.gpu.take()
    }

    /// Destroys the GPU device, held or lent to the column in training (a simulated device
    /// loss: the next operation on it fails and the diagram continues on the CPU).
    pub fn lose_device(&mut self) {
        if let Some(gpu) = self.gpu.as_mut() {
            gpu.lose_device();
        }
        if let Some(Column {
            trainer: Some(ColumnTrainer::Gpu(ts)),
            ..
        }) = self.column.as_mut()
        {
            for t in ts {
                t.backend.lose_device();
            }
        }
    }

    pub fn total(&self) -> usize {
        self.widths.len() * self.ys.len()
    }

    pub fn is_done(&self) -> bool {
        self.next_column == self.widths.len() && self.column.is_none()
    }

    fn done(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count()
    }

    /// The step-size configuration of cell (ix, iy), before its step size is known.
    fn cell_config(&self, ix: usize, iy: usize) -> StepSizeConfig {
        let c = &self.config;
        let mut base = StepSizeConfig {
            width: self.widths[ix],
            hessian_iters: c.hessian_iters,
            lr: None,
            measure_catapult: false,
            ..c.base.clone()
        };
        match c.axis {
            PhaseAxis::StepSize => base.lr_multiple = self.ys[iy],
            PhaseAxis::InitScale => {
                base.init_scale = self.ys[iy];
                base.lr_multiple = c.lr_multiple;
            }
        }
        base
    }

    /// Floating-point operations of one batched training step of column `ix`.
    fn column_step_flops(&self, ix: usize) -> f64 {
        let pc = self.cell_config(ix, 0).playground();
        flops_per_step(&pc) * self.ys.len() as f64
    }

    fn column_prefers_gpu(&self, ix: usize) -> bool {
        match self.choice {
            BackendChoice::Cpu => false,
            BackendChoice::Gpu => true,
            BackendChoice::Auto => self.column_step_flops(ix) >= AUTO_GPU_MIN_FLOPS,
        }
    }

    pub fn progress(&self) -> PhaseProgress {
        let (done, total) = (self.done(), self.total());
        // A column in training counts ¾ of a cell per network by its steps; measuring the
        // network completes the cell.
        let partial = self.column.as_ref().map_or(0.0, |c| {
            let left = c.trained.len() - c.measured;
            let trained = if c.trainer.is_none() {
                1.0
            } else {
                c.steps_done as f64 / self.config.steps.max(1) as f64
            };
            0.75 * trained * left as f64
        });
        let activity = match &self.column {
            _ if self.is_done() => "done".to_string(),
            None => format!("width {}: starting", self.widths[self.next_column]),
            Some(c) if c.trainer.is_some() => {
                let batches = c
                    .trainer
                    .as_ref()
                    .map_or(1, |t| on_trainer!(t, ts => ts.len()));
                let nets = c.trained.len();
                let how = match (nets, batches) {
                    (1, _) => String::new(),
                    (_, 1) => " together".to_string(),
                    (_, b) if b == nets => " one after another".to_string(),
                    (_, b) => format!(" in {b} batches"),
                };
                format!(
                    "width {}: {nets} network{} training{how}, step {} of {}",
                    self.widths[c.ix],
                    if nets == 1 { "" } else { "s" },
                    c.steps_done,
                    self.config.steps
                )
            }
            Some(c) => format!(
                "width {}: measuring network {} of {} (NTK and sharpness)",
                self.widths[c.ix],
                c.measured + 1,
                c.trained.len()
            ),
        };
        // Between widths: the backend the next one will train on.
        let backend = match &self.column {
            None if !self.is_done() => {
                if self.gpu.is_some() && self.column_prefers_gpu(self.next_column) {
                    "webgpu"
                } else {
                    "cpu"
                }
            }
            _ => self.backend,
        };
        PhaseProgress {
            done,
            total,
            fraction: ((done as f64 + partial) / total as f64).min(1.0),
            finished: self.is_done(),
            activity,
            backend,
            notice: self.notice.clone(),
            notice_detail: self.notice_detail.clone(),
        }
    }

    /// Computes until `cells` more cells are finished (or the diagram is); returns the
    /// progress. Blocks on the GPU's readbacks natively; on the web use
    /// [`PhaseDiagram::advance_async`].
    pub fn advance(&mut self, cells: usize) -> Result<PhaseProgress> {
        let target = (self.done() + cells).min(self.total());
        while self.done() < target && !self.is_done() {
            block_on(self.advance_async())?;
        }
        Ok(self.progress())
    }

    /// One slice of work (setting up a column, about [`TRAIN_SLICE_FLOPS`] of its training,
    /// or measuring one of its networks); returns the progress. A GPU that fails hands the
    /// column under way to the CPU, which restarts it from θ₀ (cells already finished are
    /// kept), and the notice says so.
    pub async fn advance_async(&mut self) -> Result<PhaseProgress> {
        if self.is_done() {
            return Ok(self.progress());
        }
        match self.work().await {
            Ok(()) => {}
            Err(Error::Gpu { op, message }) => {
                let ix = self.column.as_ref().map_or(self.next_column, |c| c.ix);
                self.column = None;
                self.gpu = None;
                self.next_column = ix;
                self.choice = BackendChoice::Cpu;
                self.backend = "cpu";
                self.notice = Some(format!(
                    "The GPU stopped working ({}); the phase diagram continues on the CPU from width {}.",
                    Error::Gpu { op, message },
                    self.widths[ix]
                ));
                self.notice_detail = None;
            }
            Err(e) => return Err(e),
        }
        Ok(self.progress())
    }

    async fn work(&mut self) -> Result<()> {
        let Some(ix) = self.column.as_ref().map(|c| c.ix) else {
            let ix = self.next_column;
            self.next_column += 1;
            return self.start_column(ix).await;
        };
        let per_step = self.column_step_flops(ix).max(1.0);
        let steps = self.config.steps;
        let Some(column) = self.column.as_mut() else {
            return Ok(());
        };
        match column.trainer.as_mut() {
            Some(trainer) if column.steps_done < steps => {
                let most = match trainer {
                    ColumnTrainer::Cpu(_) => steps,
                    ColumnTrainer::Gpu(_) => GPU_SLICE_STEPS,
                };
                let k = ((TRAIN_SLICE_FLOPS / per_step) as u64)
                    .min(most)
                    .clamp(1, steps - column.steps_done);
                // Losses at the parameters before each step: step 0's is the starting loss.
                let skip = usize::from(column.steps_done == 0);
                let losses = on_trainer!(trainer, ts => advance_all(ts, k).await)?;
                for (peak, l) in column.peak.iter_mut().zip(&losses) {
                    for &v in l.iter().skip(skip) {
                        *peak = peak.max(v);
                    }
                }
                column.steps_done += k;
                Ok(())
            }
            Some(_) => self.finish_training().await,
            None => {
                self.measure_next();
                Ok(())
            }
        }
    }

    /// Sets up column `ix`: the θ₀ measurements of its cells and the batch that trains them.
    async fn start_column(&mut self, ix: usize) -> Result<()> {
        let ny = self.ys.len();
        let mut starts = Vec::new();
        let mut start_of = vec![None; ny];
        match self.config.axis {
            PhaseAxis::StepSize => {
                if let Some(s) = Start::new(&self.cell_config(ix, 0))? {
                    starts.push(s);
                    start_of.fill(Some(0));
                }
            }
            PhaseAxis::InitScale => {
                for (iy, at) in start_of.iter_mut().enumerate() {
                    if let Some(s) = Start::new(&self.cell_config(ix, iy))? {
                        *at = Some(starts.len());
                        starts.push(s);
                    }
                }
            }
        }
        if self.config.axis == PhaseAxis::StepSize || self.bounds[ix].is_none() {
            self.bounds[ix] = starts.first().map(|s| s.bound);
        }
        let mut trained = Vec::new();
        let mut lrs = Vec::new();
        let mut nets = Vec::new();
        for iy in 0..ny {
            let cfg = self.cell_config(ix, iy);
            match start_of[iy] {
                None => self.store(ix, iy, classify(1.0, 1.0, None, f64::NAN, None, 0.0)),
                Some(s) => {
                    let lr = cfg.lr_multiple * starts[s].bound;
                    trained.push(iy);
                    lrs.push(lr);
                    nets.push(NetConfig {
                        seed: cfg.seed,
                        init_scale: cfg.init_scale,
                        lr,
                    });
                }
            }
        }
        if nets.is_empty() {
            return Ok(());
        }
        let base = self.cell_config(ix, 0);
        let spec = base.playground().spec();
        let (x, y) = {
            let data = &starts[0].pg.data;
            (data.x_train.clone(), data.y_train.clone())
        };
        let use_gpu = self.column_prefers_gpu(ix) && self.gpu.is_some();
        let centred = base.center_output;
        let trainer = match self.gpu.take() {
            Some(gpu) if use_gpu => {
                self.backend = "webgpu";
                let mut gpu = Some(gpu);
                let all = nets.len();
                ColumnTrainer::Gpu(batches(|| gpu.take(), &spec, &x, &y, &nets, all, centred)?)
            }
            other => {
                self.gpu = other;
                self.backend = "cpu";
                let per_batch = CPU_BATCH_ELEMS / (x.len() / spec.input_dim * spec.max_width());
                let cpu = || Some(Cpu::new());
                ColumnTrainer::Cpu(batches(cpu, &spec, &x, &y, &nets, per_batch, centred)?)
            }
        };
        let peak = vec![f32::NEG_INFINITY; nets.len()];
        self.column = Some(Column {
            ix,
            start_of,
            starts,
            trained,
            lrs,
            trainer: Some(trainer),
            steps_done: 0,
            peak,
            finals: Vec::new(),
            measured: 0,
        });
        Ok(())
    }

    /// After the column's last step: the final losses (f64, from one forward pass) and
    /// parameters of its networks; the trainer is dropped and a GPU returns to the diagram.
    async fn finish_training(&mut self) -> Result<()> {
        let Some(column) = self.column.as_mut() else {
            return Ok(());
        };
        let Some(mut trainer) = column.trainer.take() else {
            return Ok(());
        };
        let x = column.starts[0].pg.data.x_train.clone();
        let y = column.starts[0].pg.data.y_train.clone();
        let states = on_trainer!(&mut trainer, ts => finals_all(ts, &x).await)?;
        let mut finals = Vec::with_capacity(column.trained.len());
        for (b, (train_loss, diverged, outputs, theta)) in states.into_iter().enumerate() {
            let start = &column.starts[column.start_of[column.trained[b]].unwrap_or(0)];
            let first = start.initial_loss as f32;
            let loss = Loss::Squared
                .eval(&outputs, start.f0.as_deref(), 1.0, &y)
                .loss;
            if diverged || is_divergent(train_loss, first) || is_divergent(loss as f32, first) {
                finals.push(None);
            } else {
                column.peak[b] = column.peak[b].max(loss as f32);
                finals.push(Some((theta, loss)));
            }
        }
        column.finals = finals;
        if let ColumnTrainer::Gpu(ts) = trainer {
            self.gpu = ts.into_iter().next().map(|t| t.backend);
        }
        Ok(())
    }

    /// Measures the next trained network of the column and stores its cell; closes the column
    /// after the last.
    fn measure_next(&mut self) {
        let hessian_iters = self.config.hessian_iters;
        let Some((ix, b, iy)) = self
            .column
            .as_ref()
            .map(|c| (c.ix, c.measured, c.trained[c.measured]))
        else {
            return;
        };
        let lr_multiple = self.cell_config(ix, iy).lr_multiple;
        let Some(column) = self.column.as_mut() else {
            return;
        };
        let final_state = column.finals[b].take();
        let start = &mut column.starts[column.start_of[iy].unwrap_or(0)];
        let eta = column.lrs[b] * start.pg.trainer_mut().mlp.effective_lr(1.0);
        let peak = (column.peak[b] as f64).max(start.initial_loss);
        let cell = match final_state {
            None => classify(lr_multiple, start.initial_loss, None, peak, None, eta),
            Some((theta, loss)) => {
                let tracked = start.kernel_at(&theta).ok().and_then(|k| {
                    let (mut ntk_vec, mut hess_vec) =
                        (start.ntk_vec.clone(), start.hess_vec.clone());
                    measure(
                        &start.objective,
                        (&start.theta_0, &start.k0),
                        (&theta, &k),
                        (&mut ntk_vec, &mut hess_vec),
                        hessian_iters,
                    )
                });
                classify(
                    lr_multiple,
                    start.initial_loss,
                    Some(loss),
                    peak,
                    tracked,
                    eta,
                )
            }
        };
        column.measured += 1;
        if column.measured == column.trained.len() {
            self.column = None;
        }
        self.store(ix, iy, cell);
    }

    fn store(&mut self, ix: usize, iy: usize, cell: PhaseCell) {
        let nx = self.widths.len();
        self.cells[iy * nx + ix] = Some(cell);
    }

    /// The cell at (ix, iy) if computed.
    pub fn cell(&self, ix: usize, iy: usize) -> Option<&PhaseCell> {
        self.cells
            .get(iy * self.widths.len() + ix)
            .and_then(Option::as_ref)
    }

    pub fn report(&self) -> PhaseReport {
        let total = self.total();
        let pick = |f: fn(&PhaseCell) -> Option<f64>| -> Vec<Option<f64>> {
            (0..total)
                .map(|i| self.cells[i].as_ref().and_then(f))
                .collect()
        };
        let nx = self.widths.len();
        let empirical = (0..nx)
            .map(|ix| {
                if self.config.axis != PhaseAxis::StepSize {
                    return None;
                }
                let column: Vec<&PhaseCell> = (0..self.ys.len())
                    .filter_map(|iy| self.cell(ix, iy))
                    .collect();
                if column.len() < self.ys.len() {
                    return None;
                }
                let mut best = None;
                for (iy, cell) in column.iter().enumerate() {
                    if cell.regime == Regime::Divergent {
                        break;
                    }
                    best = Some(self.ys[iy]);
                }
                best
            })
            .collect();
        PhaseReport {
            axis: self.config.axis,
            widths: self.widths.clone(),
            ys: self.ys.clone(),
            regime: (0..total)
                .map(|i| self.cells[i].as_ref().map(|c| c.regime.code()))
                .collect(),
            final_loss: pick(|c| c.final_loss),
            sharpness_lr: pick(|c| c.sharpness_lr),
            ntk_lr: pick(|c| c.ntk_lr),
            weight_change: pick(|c| c.weight_change),
            kernel_distance: pick(|c| c.kernel_distance),
            peak_ratio: pick(|c| c.peak_ratio),
            empirical_catapult_bound: empirical,
            stability_bound: self.bounds.clone(),
            progress: self.progress(),
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::three_figures;

    #[test]
    fn three_significant_figures() {
        assert_eq!(three_figures(54.242), "54.2");
        assert_eq!(three_figures(143.4), "143");
        assert_eq!(three_figures(3.0), "3");
        assert_eq!(three_figures(1.96), "1.96");
        assert_eq!(three_figures(0.012345), "0.0123");
    }
}
