//! Heavy-ball momentum and L2 weight decay for [`Trainer`](super::Trainer).
//!
//! With β the momentum and λ_wd the weight decay, one step from the gradient g = ∇L(θ) of
//! the training loss is
//!
//! ```text
//! v ← β v + g + λ_wd θ,    θ ← θ − η v        (v starts at 0)
//! ```
//!
//! which is the form v' ← β v' − η ∇(L + λ_wd‖θ‖²/2), θ ← θ + v' with v' = −η v. Weight
//! decay is L2 on the loss and covers every parameter, weights and biases alike, so the
//! objective stays L + λ_wd‖θ‖²/2 and λ_wd adds to every eigenvalue of its Hessian. η is the
//! step size the update uses ([`Mlp::effective_lr`](super::Mlp::effective_lr), divided by the
//! lazy-training scale α as in the plain step), and g the gradient the plain step descends.
//!
//! **Stability.** On a quadratic whose Hessian has top eigenvalue h, the mode along its
//! eigenvector obeys e' = (1 + β − ηh) e − β e_prev, whose roots stay inside the unit circle
//! iff 0 < ηh < 2(1 + β) (for 0 ≤ β < 1): heavy ball is stable iff η < 2(1 + β)/h. For the
//! loss L = (1/2n)Σ(f − y)² of a linearised network h = λ_max(Θ)/n, so the step-size bound
//! 2n/λ_max(Θ) becomes 2(1 + β)/(λ_max(Θ)/n + λ_wd) ([`stability_bound`]).
//!
//! With β = 0 and λ_wd = 0 the trainer keeps the direct step θ ← θ − η∇L (no gradient or
//! velocity buffers), bit for bit the plain gradient descent.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest momentum accepted: β → 1 makes the velocity's memory infinite.
pub const MAX_MOMENTUM: f64 = 0.99;

/// The largest weight decay accepted.
pub const MAX_WEIGHT_DECAY: f64 = 1.0;

/// Heavy-ball momentum β and L2 weight decay λ_wd (see the module docs). The default, 0 and
/// 0, is plain gradient descent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Momentum {
    /// β in [0, [`MAX_MOMENTUM`]].
    pub beta: f64,
    /// λ_wd in [0, [`MAX_WEIGHT_DECAY`]].
    pub weight_decay: f64,
}

impl Momentum {
    /// Plain gradient descent: no momentum, no weight decay.
    pub const NONE: Momentum = Momentum {
        beta: 0.0,
        weight_decay: 0.0,
    };

    /// True for plain gradient descent (β = 0 and λ_wd = 0), which takes the direct step.
    pub fn is_plain(&self) -> bool {
        self.beta == 0.0 && self.weight_decay == 0.0
    }

    /// Refuses β outside [0, [`MAX_MOMENTUM`]] (setting `momentum`) and λ_wd outside
    /// [0, [`MAX_WEIGHT_DECAY`]] (setting `weightDecay`).
    pub fn validate(&self) -> Result<()> {
        if !(self.beta.is_finite() && (0.0..=MAX_MOMENTUM).contains(&self.beta)) {
            return Err(Error::config(
                "momentum",
                format!(
                    "the momentum β must be a number in [0, {MAX_MOMENTUM}], got {}",
                    self.beta
                ),
            ));
        }
        if !(self.weight_decay.is_finite() && (0.0..=MAX_WEIGHT_DECAY).contains(&self.weight_decay))
        {
            return Err(Error::config(
                "weightDecay",
                format!(
                    "the weight decay must be a number in [0, {MAX_WEIGHT_DECAY}], got {}",
                    self.weight_decay
                ),
            ));
        }
        Ok(())
    }

    /// The factor 1 + β by which momentum moves the quadratic stability bound.
    pub fn bound_factor(&self) -> f64 {
        1.0 + self.beta
    }

    /// The largest stable step size on a quadratic loss whose Hessian has top eigenvalue
    /// `curvature` (before weight decay): 2(1 + β)/(curvature + λ_wd).
    pub fn stability_bound(&self, curvature: f64) -> f64 {
        2.0 * self.bound_factor() / (curvature + self.weight_decay)
    }
}

/// [`Momentum::stability_bound`]: the largest stable heavy-ball step size on a quadratic with
/// top Hessian eigenvalue `curvature`, momentum `beta` and weight decay `weight_decay`.
pub fn stability_bound(curvature: f64, beta: f64, weight_decay: f64) -> f64 {
    Momentum { beta, weight_decay }.stability_bound(curvature)
}
