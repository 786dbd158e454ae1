//! A phase diagram's settings: its axes, grid and training budget, their checks and the
//! diagram's cost.

use serde::{Deserialize, Serialize};

use super::{StepSizeConfig, track_flops};
use crate::error::{Error, Result, blame, in_range, lower};
use crate::session::budget::{PHASE_FLOPS, STEP_SIZE_ASSUMED_FLOPS};
use crate::session::fields::fields_of;
use crate::session::net::{DataSettings, NetSettings};
use crate::session::settings::{SceneSpec, Setting, options};

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
    /// Hessian-vector products for the final sharpness of a cell (block Lanczos of the base's
    /// `top_k`, as the live run measures; at least `top_k` + 1).
    pub hessian_iters: u32,
}

impl Default for PhaseConfig {
    fn default() -> Self {
        PhaseConfig {
            base: StepSizeConfig {
                data: DataSettings {
                    n_train: 32,
                    ..StepSizeConfig::default().data
                },
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

/// `count` values log-spaced from `lo` to `hi`, both included exactly: exp(ln hi) may round
/// past `hi` (exp(ln 100) = 100.00000000000013), and a value past the end of a setting's range
/// would be refused when the cell is built.
fn log_space(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if count <= 1 {
        return vec![lo];
    }
    (0..count)
        .map(|i| match i {
            0 => lo,
            i if i == count - 1 => hi,
            i => (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (count - 1) as f64)
                .exp()
                .clamp(lo, hi),
        })
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
        let n = self.base.data.n_train as f64;
        self.widths()
            .iter()
            .map(|&w| {
                let c = StepSizeConfig {
                    net: NetSettings {
                        width: w,
                        ..self.base.net.clone()
                    },
                    hessian_iters: self.hessian_iters,
                    ..self.base.clone()
                };
                let p = c.run().spec().param_count() as f64;
                // Per step: forward, backward and evaluation ≈ 8·n·P; per cell the NTK twice
                // and the final Hessian iterations.
                let per_cell = self.steps as f64 * 8.0 * n * p + 2.0 * track_flops(&c);
                per_cell * self.y_count as f64
            })
            .sum()
    }

    pub fn validate(&self) -> Result<()> {
        // The batched trainer steps plain gradient descent, and the cells' bound is 2n/λ_max(Θ₀).
        if self.base.momentum != 0.0 {
            return Err(Error::config(
                "momentum",
                "the phase diagram trains plain gradient descent; set the momentum to 0",
            ));
        }
        if self.base.weight_decay != 0.0 {
            return Err(Error::config(
                "weightDecay",
                "the phase diagram trains plain gradient descent; set the weight decay to 0",
            ));
        }
        if self.base.loss != crate::nn::Loss::Squared {
            return Err(Error::config(
                "loss",
                "the phase diagram trains the squared loss on one output, with the bound \
                 2n/λ_max(Θ₀) per cell; set the loss to squared (the live run tracks \
                 cross-entropy)",
            ));
        }
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
        in_range(
            "lrMultiple",
            self.lr_multiple,
            super::lr_multiple_setting().bounds(),
        )?;
        let range = match self.axis {
            PhaseAxis::StepSize => super::lr_multiple_setting().bounds(),
            PhaseAxis::InitScale => super::settings().bounds("initScale"),
        };
        in_range("yMin", self.y_min, range)?;
        in_range("yMax", self.y_max, [self.y_min, range[1]])?;
        for &w in &self.widths() {
            StepSizeConfig {
                net: NetSettings {
                    width: w,
                    ..self.base.net.clone()
                },
                ..self.base.clone()
            }
            .validate_settings()?;
        }
        let flops = self.flops();
        if flops > PHASE_FLOPS {
            let d = PhaseConfig::default();
            let fixes = blame(&[
                ("widthMax", self.width_max as f64, d.width_max as f64),
                ("depth", self.base.net.depth as f64, d.base.net.depth as f64),
                (
                    "nTrain",
                    self.base.data.n_train as f64,
                    d.base.data.n_train as f64,
                ),
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
                    flops / STEP_SIZE_ASSUMED_FLOPS,
                    flops,
                    PHASE_FLOPS / STEP_SIZE_ASSUMED_FLOPS,
                    lower(&fixes)
                ),
            ));
        }
        Ok(())
    }
}

impl PhaseAxis {
    pub const ALL: [PhaseAxis; 2] = [PhaseAxis::StepSize, PhaseAxis::InitScale];
    pub fn label(self) -> &'static str {
        match self {
            PhaseAxis::StepSize => "step size η/η₀ against width",
            PhaseAxis::InitScale => "initialisation scale against width",
        }
    }
}

/// A phase diagram's settings as one flat table (`step/phase`, for the command line and links):
/// the data and network of every cell, the axes, the grid and the training budget. The cells'
/// step size, width and (on the init-scale axis) initialisation scale come from the grid; the
/// diagram trains plain gradient descent on the squared loss. Converts to [`PhaseConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PhaseSettings {
    #[serde(flatten)]
    pub data: DataSettings,
    #[serde(flatten)]
    pub net: NetSettings,
    pub axis: PhaseAxis,
    pub width_min: usize,
    pub width_max: usize,
    pub width_count: usize,
    pub y_min: f64,
    pub y_max: f64,
    pub y_count: usize,
    pub lr_multiple: f64,
    pub steps: u64,
    pub hessian_iters: u32,
}

impl From<&PhaseConfig> for PhaseSettings {
    fn from(c: &PhaseConfig) -> Self {
        PhaseSettings {
            data: c.base.data.clone(),
            net: c.base.net.clone(),
            axis: c.axis,
            width_min: c.width_min,
            width_max: c.width_max,
            width_count: c.width_count,
            y_min: c.y_min,
            y_max: c.y_max,
            y_count: c.y_count,
            lr_multiple: c.lr_multiple,
            steps: c.steps,
            hessian_iters: c.hessian_iters,
        }
    }
}

impl From<&PhaseSettings> for PhaseConfig {
    fn from(s: &PhaseSettings) -> Self {
        PhaseConfig {
            base: StepSizeConfig {
                data: s.data.clone(),
                net: s.net.clone(),
                ..PhaseConfig::default().base
            },
            axis: s.axis,
            width_min: s.width_min,
            width_max: s.width_max,
            width_count: s.width_count,
            y_min: s.y_min,
            y_max: s.y_max,
            y_count: s.y_count,
            lr_multiple: s.lr_multiple,
            steps: s.steps,
            hessian_iters: s.hessian_iters,
        }
    }
}

impl Default for PhaseSettings {
    fn default() -> Self {
        PhaseSettings::from(&PhaseConfig::default())
    }
}

/// The phase diagram's flat settings table (`step/phase`): the Step-size scene's data and
/// network rows (its narrowing included: at most 256 points and 3 hidden layers), then the
/// diagram's axes, grid and budget. `yMin` and `yMax` take the union of both axes' ranges
/// here; [`PhaseConfig::validate`] checks them against the chosen axis.
pub fn phase_settings() -> SceneSpec {
    let names: Vec<String> = fields_of(&PhaseSettings::default())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let mut rows: Vec<Setting> = super::settings()
        .settings
        .into_iter()
        .filter(|s| names.iter().any(|n| n == s.name) && !PHASE_ROWS.contains(&s.name))
        .map(|s| match s.name {
            "width" => s.doc("Not used: each column of the diagram has its own width (widthMin … widthMax)."),
            "initScale" => s.doc("The initialisation scale of every cell on the step-size axis (the init-scale axis sets its own)."),
            _ => s,
        })
        .collect();
    let step = super::lr_multiple_setting().bounds();
    let init = super::settings().bounds("initScale");
    let y_range = [step[0].min(init[0]), step[1].max(init[1])];
    rows.extend([
        Setting::choice("axis", "Vertical axis", options(&PhaseAxis::ALL, PhaseAxis::label)).doc(
            "Step size as a multiple of each width's stability bound η₀, or the initialisation \
             scale (at step size lrMultiple × η₀); the horizontal axis is the width.",
        ),
        Setting::int("widthMin", "Smallest width", [1.0, 4096.0]).log(),
        Setting::int("widthMax", "Largest width", [1.0, 4096.0]).log(),
        Setting::int("widthCount", "Widths", [1.0, 64.0])
            .doc("Columns: widths log-spaced from widthMin to widthMax."),
        Setting::float("yMin", "Smallest y", y_range).log().doc(
            "The bottom of the vertical axis: a step-size multiple (1e-3 to 100) or an \
             initialisation scale.",
        ),
        Setting::float("yMax", "Largest y", y_range).log(),
        Setting::int("yCount", "Rows", [1.0, 64.0]).doc("Rows: y values log-spaced from yMin to yMax."),
        super::lr_multiple_setting()
            .doc("The step size as a multiple of η₀ on the init-scale axis (the step-size axis sets its own)."),
        Setting::int("steps", "Steps per cell", [1.0, 100_000.0]).log(),
        Setting::int("hessianIters", "Hessian iterations", [1.0, 500.0])
            .doc("Hessian-vector products (block Lanczos) for each cell's final sharpness."),
    ]);
    SceneSpec::new("step/phase", rows, &PhaseSettings::default())
}

/// The rows of the table that are the diagram's own, not its base's.
const PHASE_ROWS: [&str; 10] = [
    "axis",
    "widthMin",
    "widthMax",
    "widthCount",
    "yMin",
    "yMax",
    "yCount",
    "lrMultiple",
    "steps",
    "hessianIters",
];
