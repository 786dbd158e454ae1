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
//! **Momentum and weight decay.** Heavy ball with momentum β ([`crate::nn::momentum`]) moves
//! the mode recurrence to e' = (1 + β − ηλᵢ/n) e − β e_prev, stable iff η < 2(1 + β)n/λ_max(Θ₀);
//! weight decay λ_wd adds λ_wd to every Hessian eigenvalue, so η₀ = 2(1 + β)/(λ_max(Θ₀)/n + λ_wd)
//! ([`StepSize::stability_bound`]). The live run, its linearisation (heavy ball on the modes of
//! Θ₀; without the weight decay, which acts in parameter space) and the catapult measurement
//! all step with them; the phase diagram trains plain gradient descent.
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
//! **Cross-entropy.** With `loss` = cross-entropy the network has K = 2 outputs trained on
//! one-hot targets of the binary labels (classification data only) by softmax cross-entropy.
//! No fixed kernel bounds its step: along the linearisation the loss's curvature in function
//! space is Θ₀ weighted by the softmax Hessian diag(p) − ppᵀ, which shrinks as the predictions
//! grow confident. The stability bound is then the quadratic one at θ₀ on the Hessian itself,
//! η₀ = 2(1 + β)/(S₀ + λ_wd) with S₀ the sharpness (top Hessian eigenvalue) at θ₀, and during
//! training the sharpness is compared with 2/η (Cohen et al. 2021 observe the edge of
//! stability under cross-entropy as well). λ_max(Θ₀)/n of the 2n × 2n NTK is reported as a
//! guide at initialisation only: λ_max(Θ₀)/2n bounds S₀'s Gauss–Newton part there
//! (‖diag p − ppᵀ‖ ≤ ½). The linearised network is GD on the same loss in function space,
//! g ← g − (η/n)Θ₀(softmax(g) − y) (heavy ball with momentum), stepped numerically.
//!
//! **Sharpness and the top-k spectra.** The top eigenvalue of the Hessian of the objective GD
//! descends ([`crate::nn::hessian`]) next to λ_max(Θ_t)/n (the Gauss–Newton part; equal to the
//! sharpness near interpolation), both against 2/η (Cohen, Kaur, Li, Kolter & Talwalkar 2021:
//! under full-batch GD the sharpness rises to about 2/η and hovers there). Every measurement
//! takes the top `topK` (default 3) eigenvalues of both by block Lanczos
//! ([`crate::linalg::lanczos`]; Golub & Van Loan §10.3; for Hessian spectra of networks,
//! Ghorbani, Krishnan & Xiao 2019): on Hessian-vector products, warm-started from the last
//! measurement's Ritz vectors and stopped at a relative residual of 1e-3 (at most
//! `hessianIters` products, at least k + 1), and on products with the formed nK × nK
//! NTK (cheaper than its dense eigendecomposition for the larger kernels), converged to
//! rounding. The first of each is the reported sharpness and λ_max(Θ_t)/n. With k = 3 a
//! measurement takes about three times the products the power iteration it replaced did (6.5
//! against 2.0 warm-started on average over the defaults' first 200 steps; 14.7 against 3.1
//! under cross-entropy, whose λ₂ and λ₃ lie close together), since a block of k vectors costs
//! k products per step; with k = 1 it takes what the power iteration took.

mod column;
mod explain;
mod live;
mod phase;
mod phase_config;

pub use live::{StepSize, StepSizeReport};
pub use phase::{
    PhaseAxis, PhaseCell, PhaseColumn, PhaseConfig, PhaseDiagram, PhaseProgress, PhaseReport,
};
pub use phase_config::{PhaseSettings, phase_settings};

use serde::{Deserialize, Serialize};

use crate::data::{DatasetKind, Task};
use crate::error::{Error, Result, lower};
use crate::nn::{Activation, Loss, MlpSpec};
use crate::session::budget::{PLAYGROUND_MEMORY, STEP_SIZE_ASSUMED_FLOPS, STEP_SIZE_TRACK_FLOPS};
use crate::session::net::{
    DataSettings, NetSettings, data_table, lr_setting, momentum_setting, net_table,
    weight_decay_setting,
};
use crate::session::run::{Run, RunConfig};
use crate::session::settings::{SceneSpec, Setting, options};

/// The most training points the scene takes (n × n kernels every few steps).
pub const MAX_TRAIN: usize = 256;

/// The most hidden layers.
pub const MAX_DEPTH: usize = 3;

/// Settings of the Step-size scene. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StepSizeConfig {
    /// The data (`nTrain` ≤ [`MAX_TRAIN`]).
    #[serde(flatten)]
    pub data: DataSettings,
    /// The network (`depth` ≤ [`MAX_DEPTH`]).
    #[serde(flatten)]
    pub net: NetSettings,
    /// The step size as a multiple of the stability bound 2n/λ_max(Θ₀) (used unless `lr` is set).
    pub lr_multiple: f64,
    /// The step size in slider units (as the Playground's `lr`); overrides `lrMultiple`.
    pub lr: Option<f64>,
    /// Steps between sharpness measurements (Hessian and NTK top eigenvalues).
    pub track_every: u32,
    /// How many of the top eigenvalues of the Hessian and of Θ/n each measurement takes (1–8).
    pub top_k: u32,
    /// Hessian-vector products per Hessian measurement (block Lanczos, warm-started; stops
    /// early when converged; at least `top_k` + 1).
    pub hessian_iters: u32,
    /// Measure the catapult bound by bisection with short runs from θ₀ (when cheap enough,
    /// see [`CATAPULT_FLOPS`](crate::session::budget::CATAPULT_FLOPS)); otherwise the
    /// literature value is shown.
    pub measure_catapult: bool,
    /// Heavy-ball momentum β (0: plain gradient descent): the stability bound becomes
    /// 2(1 + β)n/λ_max(Θ₀).
    pub momentum: f64,
    /// L2 weight decay λ_wd on every parameter (0: none): it adds to every curvature, so the
    /// stability bound becomes 2(1 + β)/(λ_max(Θ₀)/n + λ_wd).
    pub weight_decay: f64,
    /// The training loss: the squared loss on the scalar ±1 output, or softmax cross-entropy
    /// on K = 2 outputs with one-hot targets (classification data only; see the module notes).
    pub loss: Loss,
}

impl Default for StepSizeConfig {
    fn default() -> Self {
        StepSizeConfig {
            data: DataSettings {
                dataset: DatasetKind::Sine,
                n_train: 32,
                ..DataSettings::default()
            },
            net: NetSettings {
                width: 1024,
                ..NetSettings::default()
            },
            lr_multiple: 1.5,
            lr: None,
            track_every: 2,
            top_k: 3,
            hessian_iters: 20,
            measure_catapult: true,
            momentum: 0.0,
            weight_decay: 0.0,
            loss: Loss::Squared,
        }
    }
}

/// The scene's loss choice.
pub fn loss_setting() -> Setting {
    Setting::choice("loss", "Loss", options(&Loss::ALL, Loss::label)).doc(
        "Squared: the scalar ±1 output, bound 2n/λ_max(Θ₀). Cross-entropy: two outputs on one-hot \
         labels (classification sets), bound 2/S₀ from the Hessian's top eigenvalue S₀ at θ₀.",
    )
}

/// The step size as a multiple of the stability bound η₀: the engine takes 1e-3 to 100; the
/// slider spans 0.1 to 20, from deep in the stable regime to well past every catapult bound
/// measured here (1.4–6×).
pub fn lr_multiple_setting() -> Setting {
    Setting::float("lrMultiple", "Step size η / η₀", [1e-3, 100.0])
        .log()
        .slider([0.1, 20.0])
        .doc(
            "The step size as a multiple of the linear stability bound η₀ = 2n/λ_max(Θ₀) \
             (2(1 + β)n/λ_max(Θ₀) with momentum β, 2(1 + β)/(λ_max(Θ₀)/n + λ_wd) with weight \
             decay); with the cross-entropy loss 2(1 + β)/(S₀ + λ_wd), S₀ the Hessian's top \
             eigenvalue at θ₀. Moving it restarts training from the same θ₀.",
        )
}

/// The scene's settings table. The shared rows narrow where the scene costs more per step:
/// at most [`MAX_TRAIN`] points and [`MAX_DEPTH`] layers (n × n kernels and Hessian power
/// iterations every few steps). The sliders span widths from 16 (below it λ_max(Θ₀) swings
/// from seed to seed, and the bounds with it), 8 points or more, and initial scales 0.1–10
/// (beyond them the run is lazy or rich throughout, as the Lazy-or-rich scene shows better).
pub fn settings() -> SceneSpec {
    let mut rows = data_table();
    rows.extend(net_table());
    rows.extend([
        lr_multiple_setting(),
        lr_setting()
            .optional()
            .doc("The step size itself, in the Playground's units; overrides `lrMultiple`."),
        Setting::int("trackEvery", "Steps between measurements", [1.0, 10_000.0])
            .doc("Steps between sharpness measurements (Hessian and NTK top eigenvalues)."),
        Setting::int("topK", "Top eigenvalues tracked", [1.0, 8.0]).doc(
            "How many of the largest eigenvalues of the Hessian and of the NTK Θ/n each \
             measurement finds (block Lanczos); the first of each is the sharpness and λ_max(Θ)/n.",
        ),
        Setting::int("hessianIters", "Hessian iterations", [1.0, 500.0]).doc(
            "Hessian-vector products per Hessian measurement (block Lanczos, warm-started from the \
             last measurement; stops early when converged; at least one more than the top eigenvalues tracked).",
        ),
        Setting::flag("measureCatapult", "Measure the catapult bound").doc(
            "Measure the catapult bound by bisection with short runs from θ₀ when cheap enough; \
             otherwise the literature value is shown.",
        ),
        momentum_setting(),
        weight_decay_setting(),
        loss_setting(),
    ]);
    SceneSpec::new("step", rows, &StepSizeConfig::default())
        .with("nTrain", |s| {
            s.range([4.0, MAX_TRAIN as f64])
                .slider([8.0, MAX_TRAIN as f64])
        })
        .with("width", |s| s.slider([16.0, 4096.0]))
        .with("depth", |s| s.range([1.0, MAX_DEPTH as f64]))
        .with("initScale", |s| s.slider([0.1, 10.0]))
}

impl StepSizeConfig {
    /// The run of the same data and network (full batch; `lr` a placeholder: the scene sets
    /// its step size on the trainer).
    pub fn run(&self) -> RunConfig {
        RunConfig {
            data: self.data.clone(),
            net: self.net.clone(),
            lr: 1e-3,
            batch_size: 0,
            alpha: 1.0,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            loss: self.loss,
            ..RunConfig::default()
        }
    }

    /// K, the network's outputs: 1 under the squared loss, 2 (one per class) under
    /// cross-entropy.
    pub fn outputs(&self) -> usize {
        match self.loss {
            Loss::Squared => 1,
            // RunConfig::validate refuses the bag loss here.
            Loss::CrossEntropy | Loss::Proportions { .. } => 2,
        }
    }

    /// The network (K = [`Self::outputs`] outputs).
    pub fn spec(&self) -> MlpSpec {
        MlpSpec {
            outputs: self.outputs(),
            ..self.run().spec()
        }
    }

    /// The training targets of the data's labels `y` (±1): as they are (squared loss), or
    /// one-hot rows over the classes (−1, +1) for cross-entropy.
    pub fn targets(&self, y: &[f32]) -> Vec<f32> {
        match self.loss {
            Loss::Squared => y.to_vec(),
            Loss::CrossEntropy | Loss::Proportions { .. } => y
                .iter()
                .flat_map(|&v| if v > 0.0 { [0.0, 1.0] } else { [1.0, 0.0] })
                .collect(),
        }
    }

    /// Checks the settings, the memory and the cost of one sharpness measurement of the live
    /// run (see [`Self::hessian_iters_per_point`]).
    pub fn validate(&self) -> Result<()> {
        self.validate_settings()?;
        let defaults = StepSizeConfig::default().run();
        let products = live::hessian_products(self.top_k as usize, self.hessian_iters_per_point());
        let flops = track_flops_with(self, products as u32);
        if flops > STEP_SIZE_TRACK_FLOPS {
            let fixes = self.run().size_settings(&defaults);
            return Err(Error::config(
                fixes[0],
                format!(
                    "measuring the sharpness of {} hidden layer{} of width {} on {} points would take about {:.1} s each time \
                     here, more than the scene allows (about {:.1} s); {}",
                    self.net.depth,
                    if self.net.depth == 1 { "" } else { "s" },
                    self.net.width,
                    self.data.n_train,
                    flops / STEP_SIZE_ASSUMED_FLOPS,
                    STEP_SIZE_TRACK_FLOPS / STEP_SIZE_ASSUMED_FLOPS,
                    lower(&fixes)
                ),
            ));
        }
        Ok(())
    }

    /// Every setting in its range and the network within the memory limit (a phase diagram's
    /// cells measure only twice each: their cost is the diagram's, [`PhaseConfig::flops`]).
    pub fn validate_settings(&self) -> Result<()> {
        settings().validate(self)?;
        if self.loss == Loss::CrossEntropy && self.data.dataset.task() != Task::Classification {
            return Err(Error::config(
                "loss",
                format!(
                    "cross-entropy needs classes, and {} is a regression set; pick a classification \
                     set or the squared loss",
                    self.data.dataset.label()
                ),
            ));
        }
        let defaults = StepSizeConfig::default().run();
        self.run().validate_in_scene(PLAYGROUND_MEMORY, &defaults)
    }

    /// Hessian-vector products per sharpness measurement of the live run: `hessian_iters`, or
    /// fewer where that many would take one measurement past [`STEP_SIZE_TRACK_FLOPS`] (deep and
    /// wide networks), but at least [`MIN_HESSIAN_ITERS`] (and `top_k` + 1, one Lanczos block
    /// and one product beyond it, whatever this says). Every measurement is warm-started from the previous Ritz vectors,
    /// so with fewer per point the Lanczos runs go on refining across the points, `track_every`
    /// steps apart; the first one, from a cold start, takes all `hessian_iters` once.
    pub fn hessian_iters_per_point(&self) -> u32 {
        let (kernel, per_iter) = track_costs(self);
        let fit = ((STEP_SIZE_TRACK_FLOPS - kernel) / per_iter).floor();
        let fit = if fit.is_finite() && fit > 0.0 {
            fit.min(u32::MAX as f64) as u32
        } else {
            0
        };
        self.hessian_iters.min(fit.max(MIN_HESSIAN_ITERS))
    }
}

/// The fewest Hessian-vector products one sharpness measurement of the live run takes (see
/// [`StepSizeConfig::hessian_iters_per_point`]).
pub const MIN_HESSIAN_ITERS: u32 = 4;

/// Estimated FLOPs of one sharpness measurement: the n × n empirical NTK (two Gram products
/// per layer) and `hessian_iters` Hessian-vector products (about 8 forward-pass equivalents
/// each, in f64; the Lanczos orthogonalisation, O(P) per product and basis vector, and the
/// NTK's Lanczos run, O((nK)²) per product, are small beside them).
pub fn track_flops(c: &StepSizeConfig) -> f64 {
    track_flops_with(c, c.hessian_iters)
}

/// [`track_flops`] with `iters` Hessian iterations.
pub fn track_flops_with(c: &StepSizeConfig, iters: u32) -> f64 {
    let (kernel, per_iter) = track_costs(c);
    kernel + iters as f64 * per_iter
}

/// (FLOPs of the nK × nK empirical NTK, FLOPs of one Hessian-vector product) of one
/// measurement (K backward passes and K² signal Grams per layer for K outputs).
fn track_costs(c: &StepSizeConfig) -> (f64, f64) {
    let spec = c.spec();
    let n = c.data.n_train as f64 * spec.outputs as f64;
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
/// (their empirical η_max ≈ 12/λ₀ for wide ReLU networks); every other activation (erf, tanh):
/// no published value, the linear network's 2 is shown (the phase diagram measures it).
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
        _ => (
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

/// Estimated FLOPs of measuring the catapult bound (each trial ≈ 8·n·P per step).
pub fn catapult_flops(c: &StepSizeConfig) -> f64 {
    let p = c.spec().param_count() as f64;
    (CATAPULT_BISECTIONS + 1) as f64 * CATAPULT_TRIAL_STEPS as f64 * 8.0 * c.data.n_train as f64 * p
}

/// The scene's run of `config`: [`Run::new`] of its data, network, loss, momentum and weight
/// decay (under cross-entropy K = 2 outputs on the one-hot targets of the binary labels, with
/// +1 as class 1, as [`StepSizeConfig::targets`] writes them).
pub(crate) fn build_run(config: &StepSizeConfig) -> Result<Run> {
    let run = Run::new(config.run())?;
    debug_assert_eq!(run.trainer().outputs(), config.outputs());
    Ok(run)
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
