//! The training loss as a seam: its value, and its gradient with respect to the network's
//! outputs, which is all that back-propagation needs from it.
//!
//! With g = α(f − f₀) the trained outputs (f₀ = 0 unless the output is centred, α the lazy
//! scale) on n points of K outputs each (`n × K`, row-major), a loss writes the *output
//! signal* r = n·∂L/∂g (one value per output; the trainer folds the 1/n into its first
//! backward product) and its value L, on the device and without a readback, so that a GPU can
//! defer the readback to the end of a batch of steps. [`Loss::eval`] is the same loss in f64
//! on the host, for evaluation.
//!
//! - [`Loss::Squared`]: L = (1/2n) Σᵢ ‖gᵢ − yᵢ‖², r = g − y (the backend's `residual_loss`).
//!   The sum runs over the K outputs of a row and the mean over rows: K = 1 with ±1 labels
//!   is the scalar regression of the binary tasks, K > 1 with one-hot targets regresses on
//!   the classes.
//! - [`Loss::CrossEntropy`]: L = −(1/n) Σᵢ Σ_c y_ic log softmax(gᵢ)_c with each target row a
//!   probability vector (one-hot for labels, or soft), r = softmax(g) − y (the backend's
//!   `cross_entropy`, stable through the row maximum). Needs K ≥ 2.
//! - [`Loss::Proportions`]: the DLLP bag loss (Ardehaly & Culotta 2017) for learning from
//!   label proportions. The rows come in consecutive bags of k; bag j's reported class
//!   proportions p_j are the mean of its k target rows (every row of a bag holds p_j), its
//!   predicted proportions p̄_j = (1/k) Σ_{i∈B_j} softmax(gᵢ), and
//!   L = −(1/m) Σ_j Σ_c p_jc log p̄_jc over the m = n/k bags, r = n·∂L/∂g (the backend's
//!   `bag_cross_entropy`, stable through a log-sum-exp over the bag). Bags of one are
//!   cross-entropy, bit for bit. Needs K ≥ 2, n a multiple of k, and full-batch training of a
//!   single network (a mini-batch would cut bags apart).

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::error::{Error, Result};

/// Loss and accuracy of predictions against targets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// The loss's value.
    pub loss: f64,
    /// Fraction of rows classified right: sign(g) = y for K = 1 (±1 labels), and for K > 1
    /// the largest output's index equals the largest target's (the label of a one-hot row).
    /// Under [`Loss::Proportions`] the fraction of BAGS whose predicted proportions p̄_j have
    /// their largest entry at the class of the largest reported proportion (the only accuracy
    /// the proportions allow; instance accuracy needs the true labels).
    pub accuracy: f64,
}

/// A training loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Loss {
    /// The squared loss (1/2n) Σᵢ ‖gᵢ − yᵢ‖² (±1 labels for K = 1, one-hot for K > 1).
    #[default]
    Squared,
    /// Softmax cross-entropy −(1/n) Σᵢ Σ_c y_ic log softmax(gᵢ)_c on K ≥ 2 outputs, the
    /// targets probability vectors (one-hot for labels).
    CrossEntropy,
    /// The DLLP bag loss −(1/m) Σ_j Σ_c p_jc log p̄_jc on bags of `bag` consecutive rows (see
    /// the module documentation), K ≥ 2. Trained by one network full batch in the Weak labels
    /// scene: not among [`Loss::ALL`], and never serialised (a run configuration cannot hold
    /// it).
    #[serde(skip)]
    Proportions {
        /// k, the rows per bag.
        bag: usize,
    },
}

impl Loss {
    /// The losses a run configuration offers.
    pub const ALL: [Loss; 2] = [Loss::Squared, Loss::CrossEntropy];

    /// The name a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            Loss::Squared => "squared",
            Loss::CrossEntropy => "cross-entropy",
            Loss::Proportions { .. } => "bag proportions (DLLP)",
        }
    }

    /// Whether this loss applies to a network of `outputs` outputs: cross-entropy needs at
    /// least two (a softmax over one output is constant).
    pub fn check_outputs(self, outputs: usize) -> Result<()> {
        match self {
            Loss::CrossEntropy if outputs < 2 => Err(Error::config(
                "loss",
                format!(
                    "cross-entropy needs at least two outputs (one per class), the network has \
                     {outputs}"
                ),
            )),
            Loss::Proportions { .. } if outputs < 2 => Err(Error::config(
                "loss",
                format!(
                    "the bag loss compares predicted class proportions, so it needs at least two \
                     outputs (one per class), the network has {outputs}"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether this loss applies to `rows` training rows: the bag loss needs a bag size of at
    /// least one that divides them (whole bags only). Every other loss takes any number.
    pub fn check_rows(self, rows: usize) -> Result<()> {
        match self {
            Loss::Proportions { bag: 0 } => Err(Error::config(
                "bag",
                "the bag size must be at least 1, got 0",
            )),
            Loss::Proportions { bag } if !rows.is_multiple_of(bag) => Err(Error::config(
                "bag",
                format!(
                    "{rows} training rows do not split into whole bags of {bag} (the bag loss \
                     needs a multiple of {bag} rows, one bag after another)"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// After a forward pass that left one network's `rows × k` outputs in `f`: the output
    /// signal into `r` and the loss into `loss[slot]`. `f0` (`rows × k`, or absent) is the
    /// network's output at θ₀ for a centred run, `scale` the lazy scale α, `y` the `rows × k`
    /// targets.
    pub fn signal_into<B: Backend>(
        self,
        backend: &mut B,
        rows: usize,
        k: usize,
        f: &B::Buf,
        f0: Option<&B::Buf>,
        scale: f32,
        y: &B::Buf,
        r: &mut B::Buf,
        loss: &mut B::Buf,
        slot: usize,
    ) {
        match self {
            Loss::Squared => backend.residual_loss(rows, k, f, f0, scale, y, r, loss, slot),
            Loss::CrossEntropy => backend.cross_entropy(rows, k, f, f0, scale, y, r, loss, slot),
            Loss::Proportions { bag } => {
                backend.bag_cross_entropy(rows, k, bag, f, f0, scale, y, r, loss, slot)
            }
        }
    }

    /// [`Loss::signal_into`] for `batch` networks on shared targets: `f`, `r` and `f0` hold
    /// `batch` blocks of `rows × k` outputs, `y` one block of `rows × k` targets, and network
    /// b's loss goes into `loss[slot · batch + b]` (step j of a run of steps writes row j of a
    /// `steps × batch` loss matrix). Not for [`Loss::Proportions`], which trains one network
    /// ([`crate::nn::BatchedTrainer::with_loss`] refuses it).
    pub fn signal_batched_into<B: Backend>(
        self,
        backend: &mut B,
        batch: usize,
        rows: usize,
        k: usize,
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
                backend.residual_loss_batched(batch, rows, k, f, f0, scale, y, r, loss, slot)
            }
            Loss::CrossEntropy => {
                backend.cross_entropy_batched(batch, rows, k, f, f0, scale, y, r, loss, slot)
            }
            Loss::Proportions { .. } => {
                unreachable!("the batched trainer refuses the bag loss (BatchedTrainer::with_loss)")
            }
        }
    }

    /// The loss, and the accuracy, of outputs `f` against targets `y` (`rows × k` each,
    /// row-major) in f64 on the host, with g = α(f − f₀) as in training. Accuracy is sign
    /// agreement for k = 1 (±1 labels) and argmax agreement for k > 1 (see [`Eval`]); under
    /// [`Loss::Proportions`] the bag loss and the bags' argmax agreement, NaN for both when the
    /// rows do not split into whole bags (see [`Loss::check_rows`]).
    pub fn eval(self, f: &[f32], f0: Option<&[f32]>, alpha: f64, y: &[f32], k: usize) -> Eval {
        if let Loss::Proportions { bag } = self {
            return eval_bags(f, f0, alpha, y, k, bag);
        }
        let k = k.max(1);
        let rows = y.len() / k;
        let n = rows.max(1) as f64;
        let g = |i: usize| alpha * (f[i] as f64 - f0.map_or(0.0, |f0| f0[i] as f64));
        let mut correct = 0usize;
        let mut total = 0.0f64;
        let mut row = vec![0.0f64; k];
        for i in 0..rows {
            let at = i * k;
            for (c, gc) in row.iter_mut().enumerate() {
                *gc = g(at + c);
            }
            let yi = &y[at..at + k];
            total += match self {
                Loss::Squared => row
                    .iter()
                    .zip(yi)
                    .map(|(&gc, &yc)| (gc - yc as f64).powi(2))
                    .sum::<f64>(),
                Loss::CrossEntropy | Loss::Proportions { .. } => {
                    // logsumexp(g) − g_c = (m − g_c) + ln(1 + Σ_{j ≠ top} e^{g_j − m}), with
                    // ln_1p exact for a confident row (whose loss is tiny).
                    let top = argmax(row.iter().copied());
                    let m = row[top];
                    let rest: f64 = (row.iter().enumerate())
                        .filter(|&(j, _)| j != top)
                        .map(|(_, &gj)| (gj - m).exp())
                        .sum();
                    let log_s = rest.ln_1p();
                    row.iter()
                        .zip(yi)
                        .map(|(&gc, &yc)| yc as f64 * ((m - gc) + log_s))
                        .sum::<f64>()
                }
            };
            let right = if k == 1 {
                (row[0] > 0.0) == (yi[0] > 0.0)
            } else {
                argmax(row.iter().copied()) == argmax(yi.iter().map(|&v| v as f64))
            };
            if right {
                correct += 1;
            }
        }
        let loss = match self {
            Loss::Squared => total / (2.0 * n),
            Loss::CrossEntropy | Loss::Proportions { .. } => total / n,
        };
        Eval {
            loss,
            accuracy: correct as f64 / n,
        }
    }
}

/// [`Loss::eval`] of [`Loss::Proportions`] in f64: per row log softmax(gᵢ) through the row
/// maximum, per bag and class log p̄_jc = logsumexp_{i∈B_j}(log softmax(gᵢ)_c) − ln k through
/// the bag's maximum, p_j the mean of the bag's target rows; the loss
/// −(1/m) Σ_j Σ_c p_jc log p̄_jc and the fraction of bags with argmax p̄_j = argmax p_j.
fn eval_bags(f: &[f32], f0: Option<&[f32]>, alpha: f64, y: &[f32], k: usize, bag: usize) -> Eval {
    let k = k.max(1);
    let rows = y.len() / k;
    if bag == 0 || !rows.is_multiple_of(bag) || rows == 0 {
        return Eval {
            loss: f64::NAN,
            accuracy: f64::NAN,
        };
    }
    let m = rows / bag;
    let g = |i: usize| alpha * (f[i] as f64 - f0.map_or(0.0, |f0| f0[i] as f64));
    // log softmax of every row of the bag, `bag × k`.
    let mut logp = vec![0.0f64; bag * k];
    let (mut p, mut log_pbar) = (vec![0.0f64; k], vec![0.0f64; k]);
    let (mut total, mut correct) = (0.0f64, 0usize);
    let ln_bag = (bag as f64).ln();
    for j in 0..m {
        for (r, out) in logp.chunks_exact_mut(k).enumerate() {
            let at = (j * bag + r) * k;
            for (c, o) in out.iter_mut().enumerate() {
                *o = g(at + c);
            }
            let top = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = top + out.iter().map(|&v| (v - top).exp()).sum::<f64>().ln();
            for o in out.iter_mut() {
                *o -= lse;
            }
        }
        for c in 0..k {
            let top = (0..bag)
                .map(|r| logp[r * k + c])
                .fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = (0..bag).map(|r| (logp[r * k + c] - top).exp()).sum();
            log_pbar[c] = top + s.ln() - ln_bag;
            p[c] = (0..bag)
                .map(|r| y[(j * bag + r) * k + c] as f64)
                .sum::<f64>()
                / bag as f64;
        }
        total -= p.iter().zip(&log_pbar).map(|(&pc, &l)| pc * l).sum::<f64>();
        if argmax(log_pbar.iter().copied()) == argmax(p.iter().copied()) {
            correct += 1;
        }
    }
    Eval {
        loss: total / m as f64,
        accuracy: correct as f64 / m as f64,
    }
}

/// The index of the first largest value (NaN never wins).
pub fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}
