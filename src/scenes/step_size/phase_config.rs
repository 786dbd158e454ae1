//! A phase diagram's settings: its axes, grid and training budget, their checks and the
//! diagram's cost.

use serde::{Deserialize, Serialize};

use super::{StepSizeConfig, track_flops};
use crate::error::{Error, Result, blame, in_range, lower};
use crate::session::budget::{PHASE_FLOPS, STEP_SIZE_ASSUMED_FLOPS};
use crate::session::net::{DataSettings, NetSettings};

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
