//! The training loss as a seam: its value, and its gradient with respect to the network's
//! outputs, which is all that back-propagation needs from it.
//!
//! With g = α(f − f₀) the trained outputs (f₀ = 0 unless the output is centred, α the lazy
//! scale) on n points, a loss writes the *output signal* r = n·∂L/∂g (one value per output;
//! the trainer folds the 1/n into its first backward product) and its value L, on the device
//! and without a readback, so that a GPU can defer the readback to the end of a batch of
//! steps. [`Loss::eval`] is the same loss in f64 on the host, for evaluation.
//!
//! - [`Loss::Squared`]: L = (1/2n) Σᵢ (gᵢ − yᵢ)², r = g − y (the backend's `residual_loss`).

use crate::backend::Backend;

/// Loss and accuracy of predictions against targets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// The loss's value.
    pub loss: f64,
    /// Fraction of rows with sign(g) = y (meaningful for ±1 labels).
    pub accuracy: f64,
}

/// A training loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Loss {
    /// The squared loss (1/2n) Σᵢ (gᵢ − yᵢ)² on scalar outputs (±1 labels for
    /// classification).
    #[default]
    Squared,
}

impl Loss {
    /// After a forward pass that left one network's `rows` outputs in `f`: the output signal
    /// into `r` and the loss into `loss[slot]`. `f0` (`rows`, or absent) is the network's
    /// output at θ₀ for a centred run, `scale` the lazy scale α, `y` the `rows` targets.
    pub fn signal_into<B: Backend>(
        self,
        backend: &mut B,
        rows: usize,
        f: &B::Buf,
        f0: Option<&B::Buf>,
        scale: f32,
        y: &B::Buf,
        r: &mut B::Buf,
        loss: &mut B::Buf,
        slot: usize,
    ) {
        match self {
            Loss::Squared => backend.residual_loss(rows, f, f0, scale, y, r, loss, slot),
        }
    }

    /// [`Loss::signal_into`] for `batch` networks on shared targets: `f`, `r` and `f0` hold
    /// `batch` runs of `rows` outputs, `y` one run of `rows` targets, and network b's loss goes
    /// into `loss[slot · batch + b]` (step j of a run of steps writes row j of a
    /// `steps × batch` loss matrix).
    pub fn signal_batched_into<B: Backend>(
        self,
        backend: &mut B,
        batch: usize,
        rows: usize,
        f: &B::Buf,
        f0: Option<&B::Buf>,
        scale: f32,
        y: &B::Buf,
        r: &mut B::Buf,
        loss: &mut B::Buf,
        slot: usize,
    ) {
        match self {
            Loss::Squared => {
                backend.residual_loss_batched(batch, rows, f, f0, scale, y, r, loss, slot)
            }
        }
    }

    /// The loss, and the accuracy, of outputs `f` against targets `y` (`rows` each) in f64 on
    /// the host, with g = α(f − f₀) as in training. Accuracy is sign agreement (±1 labels).
    pub fn eval(self, f: &[f32], f0: Option<&[f32]>, alpha: f64, y: &[f32]) -> Eval {
        match self {
            Loss::Squared => {
                let n = y.len().max(1) as f64;
                let (mut sq, mut correct) = (0.0f64, 0usize);
                for i in 0..y.len() {
                    let g = alpha * (f[i] as f64 - f0.map_or(0.0, |f0| f0[i] as f64));
                    sq += (g - y[i] as f64).powi(2);
                    if (g > 0.0) == (y[i] > 0.0) {
                        correct += 1;
                    }
                }
                Eval {
                    loss: sq / (2.0 * n),
                    accuracy: correct as f64 / n,
                }
            }
        }
    }
}
