//! One width of a phase diagram: the networks at θ₀ its cells start from, and their training
//! on the CPU (in cache-sized batches) or on the GPU (one batch), in time slices.

use nalgebra::DMatrix;

use super::StepSizeConfig;
use super::live::{Initial, Warm, measure};
use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::error::{Error, Result};
use crate::nn::Loss;
use crate::nn::batched::{BatchedTrainer, NetConfig};
use crate::nn::hessian::Objective;
use crate::nn::mlp::MlpSpec;
use crate::session::run::Run;

/// A cell's network at θ₀, measured on the CPU in f64: what its training starts from and
/// what its final state is compared with. The cells of a step-size column share one.
pub(super) struct Start {
    /// The run at θ₀ on the column's data (its trainer holds the CPU copy used to measure the
    /// trained parameters).
    pub(super) run: Run,
    pub(super) objective: Objective,
    pub(super) theta_0: Vec<f32>,
    /// f(x_train; θ₀) when the output is centred.
    pub(super) f0: Option<Vec<f32>>,
    pub(super) k0: DMatrix<f64>,
    /// The stability bound 2n/λ_max(Θ₀), slider units.
    pub(super) bound: f64,
    /// The loss at θ₀, f64 (as [`StepSize`](super::StepSize) measures it).
    pub(super) initial_loss: f64,
    /// The top-k Ritz vectors at θ₀ (NTK, Hessian): each cell's final measurement starts its
    /// Lanczos runs from them, as a [`StepSize`](super::StepSize) run tracked at step 0 does.
    pub(super) warm: Warm,
}

/// The networks of one column, trained on one backend: on the GPU as one batch; on the CPU as
/// consecutive batches of at most [`CPU_BATCH_ELEMS`] activations each (network order kept).
pub(super) enum ColumnTrainer {
    Cpu(Vec<BatchedTrainer<Cpu>>),
    Gpu(Vec<BatchedTrainer<Gpu>>),
}

/// Activation elements (networks × points × width) of one CPU batch at most: 128 Ki f32, so a
/// batch's activations stay in the L2 cache, as one network's do. One batch of 13 networks of
/// width 4096 on 32 points (6.8 MB per activation buffer) trained 4.7× slower natively than the
/// 13 networks one after another; a batch within this bound is as fast or faster.
pub(super) const CPU_BATCH_ELEMS: usize = 1 << 17;

/// Runs one async method of every batch a [`ColumnTrainer`] holds.
macro_rules! on_trainer {
    ($trainer:expr, $ts:ident => $call:expr) => {
        match $trainer {
            ColumnTrainer::Cpu($ts) => $call,
            ColumnTrainer::Gpu($ts) => $call,
        }
    };
}
pub(super) use on_trainer;

/// `k` steps of every batch; per network, its losses (as [`BatchedTrainer::advance_async`]).
pub(super) async fn advance_all<B: Backend>(
    ts: &mut [BatchedTrainer<B>],
    k: u64,
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::new();
    for t in ts {
        out.extend(t.advance_async(k).await?);
    }
    Ok(out)
}

/// Per network: its training loss now, whether it diverged, its outputs at `x` and its
/// parameters.
pub(super) async fn finals_all<B: Backend>(
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
pub(super) fn batches<B: Backend>(
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
pub(super) struct Column {
    pub(super) ix: usize,
    /// Per cell (index iy): its start (an index into `starts`), or none when the network
    /// overflowed at θ₀ (a divergent cell that needs no training).
    pub(super) start_of: Vec<Option<usize>>,
    pub(super) starts: Vec<Start>,
    /// The cells in training, in batch order (their iy), with their slider step sizes.
    pub(super) trained: Vec<usize>,
    pub(super) lrs: Vec<f64>,
    /// The batch while it trains (dropped once its final state is read).
    pub(super) trainer: Option<ColumnTrainer>,
    pub(super) steps_done: u64,
    /// Per batch entry: the largest loss over steps 1 … `steps_done` so far.
    pub(super) peak: Vec<f32>,
    /// After training: per batch entry, the final parameters and the f64 loss there (None when
    /// diverged; taken when measured).
    pub(super) finals: Vec<Option<(Vec<f32>, f64)>>,
    /// Cells of this column measured and stored so far (in batch order).
    pub(super) measured: usize,
}

/// Floating-point work of one slice of a column's training ([`PhaseDiagram::advance_async`](super::PhaseDiagram::advance_async)
/// returns after each): about 20 ms on the CPU.
pub(super) const TRAIN_SLICE_FLOPS: f64 = 2e8;

/// Steps of one slice on the GPU at most: one submission and one readback of their losses, a
/// few milliseconds on a real GPU, so the page sees progress even where the GPU is emulated.
pub(super) const GPU_SLICE_STEPS: u64 = 64;

impl Start {
    /// The network of `config` at θ₀ and its measurements; `Ok(None)` when its outputs
    /// overflow at θ₀ (a divergent cell).
    pub(super) fn new(config: &StepSizeConfig) -> Result<Option<Start>> {
        let mut run = match Run::new(config.run()) {
            Ok(run) => run,
            Err(Error::Diverged { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let y = run.data.y_train.clone();
        let Initial {
            theta_0,
            lr_factor,
            f_init,
            k0,
            lambda0,
            objective,
            ..
        } = Initial::of(&mut run, config)?;
        let f0 = config.net.init.center_output.then(|| f_init.clone());
        let initial_loss = Loss::Squared.eval(&f_init, f0.as_deref(), 1.0, &y, 1).loss;
        // What a StepSize run measures at step 0: it warm-starts the final measurement.
        let mut warm = Warm::default();
        measure(
            &objective,
            (&theta_0, &k0),
            (&theta_0, &k0),
            &mut warm,
            (config.top_k as usize, config.hessian_iters),
        );
        Ok(Some(Start {
            run,
            objective,
            theta_0,
            f0,
            k0,
            bound: 2.0 * y.len() as f64 / lambda0 / lr_factor,
            initial_loss,
            warm,
        }))
    }

    /// The empirical NTK of the network with parameters `theta` on the training inputs.
    pub(super) fn kernel_at(&mut self, theta: &[f32]) -> Result<DMatrix<f64>> {
        let x = self.run.data.x_train.clone();
        let t = self.run.trainer_mut();
        t.mlp.set_params(&mut t.backend, theta)?;
        self.run.ntk(&x, None)
    }
}
