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

use super::playground::{Playground, PlaygroundConfig};
use crate::data::DatasetKind;
use crate::error::{Error, Result, in_range};
use crate::kernels::KernelMachine;
use crate::nn::hessian::{self, Objective, top_eigenvalue_sym, widen};
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

    pub fn validate(&self) -> Result<()> {
        in_range("nTrain", self.n_train as f64, [4.0, MAX_TRAIN as f64])?;
        in_range("depth", self.depth as f64, [1.0, MAX_DEPTH as f64])?;
        in_range("lrMultiple", self.lr_multiple, [1e-3, 100.0])?;
        if let Some(lr) = self.lr {
            in_range("lr", lr, super::playground::LIMITS.lr)?;
        }
        in_range("trackEvery", self.track_every as f64, [1.0, 10_000.0])?;
        in_range("hessianIters", self.hessian_iters as f64, [1.0, 500.0])?;
        self.playground()
            .validate(super::playground::MEMORY_LIMIT)?;
        let flops = track_flops(self);
        if flops > TRACK_FLOP_BUDGET {
            return Err(Error::config(
                "width",
                format!(
                    "measuring the sharpness of {} hidden layer{} of width {} on {} points would take about {:.1} s each time \
                     here, more than the scene allows (about {:.1} s); choose a smaller width, depth or number of points",
                    self.depth,
                    if self.depth == 1 { "" } else { "s" },
                    self.width,
                    self.n_train,
                    flops / ASSUMED_FLOPS,
                    TRACK_FLOP_BUDGET / ASSUMED_FLOPS
                ),
            ));
        }
        Ok(())
    }
}

/// Estimated FLOPs of one sharpness measurement: the n × n empirical NTK (two Gram products
/// per layer) and `hessian_iters` Hessian-vector products (about 8 forward-pass equivalents
/// each, in f64).
pub fn track_flops(c: &StepSizeConfig) -> f64 {
    let spec = c.playground().spec();
    let n = c.n_train as f64;
    let p = spec.param_count() as f64;
    let widths: f64 = spec
        .layers()
        .iter()
        .map(|l| (l.fan_in + l.fan_out) as f64)
        .sum();
    2.0 * n * n * widths + c.hessian_iters as f64 * 16.0 * n * p
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
        let t = pg.trainer_mut();
        let theta_0 = t.mlp.params(&mut t.backend);
        let lr_factor = t.mlp.effective_lr(1.0);
        let f0 = t.predict(&x_train);
        let k0 = empirical_kernels(&mut t.backend, &t.mlp, &x_train, None)?.ntk;
        let machine = KernelMachine::new(&k0)?;
        let lambda0 = machine.lambda_max();
        if !(lambda0.is_finite() && lambda0 > 0.0) {
            return Err(Error::config(
                "initScale",
                "the network's NTK at initialisation is zero or not finite; raise or lower the initialisation scale",
            ));
        }
        let n = y_train.len();
        let centred = config.center_output;
        let residual0: Vec<f64> = (0..n)
            .map(|i| (if centred { 0.0 } else { f0[i] as f64 }) - y_train[i] as f64)
            .collect();
        let lin = Linearized::new(&machine, &residual0);
        let objective = Objective::new(
            &config.playground().spec(),
            &x_train,
            &y_train,
            centred.then_some(f0.as_slice()),
            1.0,
        )?;
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
        self.hess_vec.clear();
        self.ntk_vec.clear();
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
        let k = k.ntk;
        if k.iter().any(|v| !v.is_finite()) || theta.iter().any(|v| !v.is_finite()) {
            return;
        }
        let n = self.objective.n() as f64;
        let ntk = top_eigenvalue_sym(&k, &mut self.ntk_vec, 200, 1e-6).value / n;
        let Ok(point) = self.objective.at(&widen(&theta)) else {
            return;
        };
        let iters = self.config.hessian_iters as usize;
        let hess = hessian::hessian_top(&point, &mut self.hess_vec, iters, 1e-3).value;
        if !(ntk.is_finite() && hess.is_finite()) {
            return;
        }
        self.track_steps.push(self.step());
        self.sharpness.push(hess);
        self.ntk_top.push(ntk);
        self.weight_change
            .push(relative_change(&theta, &self.theta_0));
        self.kernel_distance.push(kernel_distance(&k, &self.k0));
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
            .validate()?;
        }
        let flops = self.flops();
        if flops > PHASE_FLOP_BUDGET {
            return Err(Error::config(
                "widthMax",
                format!(
                    "this {} × {} diagram would take about {:.0} s here (up to {:.1e} floating-point operations), more than \
                     a diagram may take (about {:.0} s); use fewer or smaller widths, fewer steps or fewer training points",
                    self.y_count,
                    self.width_count,
                    flops / ASSUMED_FLOPS,
                    flops,
                    PHASE_FLOP_BUDGET / ASSUMED_FLOPS
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
    pub done: usize,
    pub total: usize,
    pub fraction: f64,
    pub finished: bool,
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

/// A phase diagram computed cell by cell, in index order; deterministic from the seed (every
/// cell of a width starts from the same θ₀ on the same data).
pub struct PhaseDiagram {
    pub config: PhaseConfig,
    widths: Vec<usize>,
    ys: Vec<f64>,
    cells: Vec<PhaseCell>,
    bounds: Vec<Option<f64>>,
}

impl PhaseDiagram {
    pub fn new(config: PhaseConfig) -> Result<Self> {
        config.validate()?;
        let widths = config.widths();
        let ys = config.ys();
        let bounds = vec![None; widths.len()];
        Ok(PhaseDiagram {
            config,
            widths,
            ys,
            cells: Vec::new(),
            bounds,
        })
    }

    pub fn total(&self) -> usize {
        self.widths.len() * self.ys.len()
    }

    pub fn is_done(&self) -> bool {
        self.cells.len() == self.total()
    }

    pub fn progress(&self) -> PhaseProgress {
        let (done, total) = (self.cells.len(), self.total());
        PhaseProgress {
            done,
            total,
            fraction: done as f64 / total as f64,
            finished: done == total,
        }
    }

    /// Computes up to `cells` more cells; returns the progress.
    pub fn advance(&mut self, cells: usize) -> Result<PhaseProgress> {
        for _ in 0..cells {
            if self.is_done() {
                break;
            }
            let i = self.cells.len();
            let (iy, ix) = (i / self.widths.len(), i % self.widths.len());
            let cell = self.run_cell(ix, iy)?;
            self.cells.push(cell);
        }
        Ok(self.progress())
    }

    fn run_cell(&mut self, ix: usize, iy: usize) -> Result<PhaseCell> {
        let c = &self.config;
        let mut base = StepSizeConfig {
            width: self.widths[ix],
            hessian_iters: c.hessian_iters,
            // Measure only at the end (and at the start, which `StepSize` always does).
            track_every: 10_000,
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
        let mut run = match StepSize::new(base) {
            Ok(run) => run,
            // A network whose very first outputs overflow (huge init scale) diverged at step 0.
            Err(Error::Diverged { .. }) => {
                return Ok(PhaseCell {
                    regime: Regime::Divergent,
                    final_loss: None,
                    sharpness_lr: None,
                    ntk_lr: None,
                    weight_change: None,
                    kernel_distance: None,
                    peak_ratio: None,
                });
            }
            Err(e) => return Err(e),
        };
        if c.axis == PhaseAxis::StepSize || self.bounds[ix].is_none() {
            self.bounds[ix] = Some(run.stability_bound());
        }
        let steps = c.steps;
        run.advance(steps);
        if run.diverged.is_none() && run.track_steps.last() != Some(&run.step()) {
            run.track();
        }
        let r = run.report();
        let finished = r.diverged.is_none() && r.track_steps.last() == Some(&r.step);
        let eta = r.effective_lr;
        let last = |v: &Vec<f64>| if finished { v.last().copied() } else { None };
        let ntk_lr = last(&r.ntk_top).map(|v| v * eta);
        let regime = if r.diverged.is_some() {
            Regime::Divergent
        } else if r.loss.last().copied().unwrap_or(f64::INFINITY) >= r.initial_loss
            || ntk_lr.is_none_or(|v| v >= 2.0 && r.lr_multiple > 1.0)
        {
            Regime::Unsettled
        } else if r.lr_multiple > 1.0 {
            Regime::Catapult
        } else {
            Regime::Stable
        };
        Ok(PhaseCell {
            regime,
            final_loss: (r.diverged.is_none()).then(|| *r.loss.last().expect("loss")),
            sharpness_lr: last(&r.sharpness).map(|v| v * eta),
            ntk_lr,
            weight_change: last(&r.weight_change),
            kernel_distance: last(&r.kernel_distance),
            peak_ratio: Some(r.peak_loss / r.initial_loss).filter(|v| v.is_finite()),
        })
    }

    /// The cell at (ix, iy) if computed.
    pub fn cell(&self, ix: usize, iy: usize) -> Option<&PhaseCell> {
        self.cells.get(iy * self.widths.len() + ix)
    }

    pub fn report(&self) -> PhaseReport {
        let total = self.total();
        let pick = |f: fn(&PhaseCell) -> Option<f64>| -> Vec<Option<f64>> {
            (0..total).map(|i| self.cells.get(i).and_then(f)).collect()
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
                .map(|i| self.cells.get(i).map(|c| c.regime.code()))
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
