//! Gradient descent on an [`Mlp`]: full batch by default, mini-batch as an option, with
//! divergence detection and evaluation in fixed-size chunks.
//!
//! Two ways to step: [`Trainer::advance`] reads each step's loss back before the update (a
//! blocking readback on a GPU, unavailable in a browser), and [`Trainer::advance_async`]
//! queues k full-batch steps that write their losses into the k slots of one device buffer,
//! then awaits a single [`Backend::read_async`] of them: the path that trains on the web GPU.
//!
//! Either way a step is plain gradient descent, or heavy ball with L2 weight decay when a
//! [`Momentum`] is set ([`Trainer::with_momentum`]; the update is in [`super::momentum`]).

use super::loss::{Eval, Loss};
use super::mlp::{Backward, Mlp, Workspace};
use super::momentum::Momentum;
use crate::backend::Backend;
use crate::data::stream;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Rows per chunk when evaluating on test points or a plotting grid.
pub const EVAL_CHUNK: usize = 512;

/// A run stops as diverged once the training loss exceeds this multiple of its first value
/// (floored at [`LOSS_FLOOR`]), or becomes non-finite.
pub const DIVERGENCE_FACTOR: f32 = 1e6;

/// The smallest starting loss the divergence bound is measured from.
pub const LOSS_FLOOR: f32 = 1e-2;

/// Mini-batch state: a shuffled order of the training rows, consumed batch by batch.
struct Batches<B: Backend> {
    /// The run's seed: the order is drawn from its [`stream::BATCHES`] stream.
    seed: u64,
    size: usize,
    order: Vec<usize>,
    pos: usize,
    rng: Rng,
    host_x: Vec<f32>,
    host_y: Vec<f32>,
    host_f0: Vec<f32>,
    x: B::Buf,
    y: B::Buf,
    f0: B::Buf,
}

impl<B: Backend> Batches<B> {
    /// The order and position after `step` steps from the seed: the rows are consumed `size`
    /// at a time and a new order is drawn each time one is used up, so `step · size` rows in,
    /// ⌊(step · size − 1)/n⌋ orders have followed the first.
    fn seek(&mut self, step: u64) {
        let n = self.order.len() as u128;
        self.rng = Rng::stream(self.seed, stream::BATCHES);
        self.order = self.rng.permutation(n as usize);
        let taken = step as u128 * self.size as u128;
        let redrawn = if taken == 0 { 0 } else { (taken - 1) / n };
        for _ in 0..redrawn {
            self.order = self.rng.permutation(n as usize);
        }
        self.pos = (taken - redrawn * n) as usize;
    }
}

/// Device copies of every layer's weights and biases.
type ParamBufs<B> = (Vec<<B as Backend>::Buf>, Vec<<B as Backend>::Buf>);

/// Trains one network on one training set.
pub struct Trainer<B: Backend> {
    pub backend: B,
    pub mlp: Mlp<B>,
    dim: usize,
    /// K, the outputs per row (the width of a target row).
    k: usize,
    n_train: usize,
    host_x: Vec<f32>,
    host_y: Vec<f32>,
    /// f(x_i; θ₀) on the training rows when the output is centred.
    host_f0: Option<Vec<f32>>,
    x: B::Buf,
    y: B::Buf,
    f0: Option<B::Buf>,
    ws: Workspace<B>,
    /// True while `ws` holds the full-batch forward pass at the current parameters.
    forward_cached: bool,
    eval_ws: Option<Workspace<B>>,
    batches: Option<Batches<B>>,
    /// The training loss ([`Loss::Squared`] unless [`Trainer::with_loss`] sets another).
    loss: Loss,
    lr: f64,
    /// The lazy-training scale α: the trained model is α·(f − f₀) (or α·f uncentred), on the
    /// loss divided by α² (Chizat, Oyallon & Bach 2019). 1 is the plain network.
    alpha: f64,
    step: u64,
    initial_loss: Option<f32>,
    diverged: Option<u64>,
    /// The training loss at the start of the latest step taken or refused.
    last_loss: Option<f32>,
    /// The k-slot loss buffer of [`Trainer::advance_async`] (grown to the largest k asked).
    loss_slots: Option<(B::Buf, usize)>,
    /// The parameters at the start of the latest [`Trainer::advance_async`] batch (weights,
    /// biases), restored when a step inside it diverges.
    batch_start: Option<ParamBufs<B>>,
    /// Heavy-ball momentum and weight decay; plain gradient descent by default.
    momentum: Momentum,
    /// The heavy-ball velocity, shaped like the parameters; allocated (zero) on the first
    /// step that uses it.
    velocity: Option<ParamBufs<B>>,
    /// The velocity at the start of the latest [`Trainer::advance_async`] batch.
    batch_start_velocity: Option<ParamBufs<B>>,
}

impl<B: Backend> Trainer<B> {
    /// `x` is `n × dim` row-major, `y` is `n × K` (K = `mlp.spec.outputs`: n targets for a
    /// scalar network). `batch_size` 0 (or ≥ n) means full batch. With `center_output`, the
    /// trained function is f(x;θ) − f(x;θ₀).
    pub fn new(
        mut backend: B,
        mlp: Mlp<B>,
        x: &[f32],
        y: &[f32],
        center_output: bool,
        lr: f64,
        batch_size: usize,
        seed: u64,
    ) -> Result<Self> {
        let dim = mlp.spec.input_dim;
        let k = mlp.spec.outputs.max(1);
        let n = y.len() / k;
        if n == 0 || y.len() != n * k {
            return Err(Error::ShapeMismatch {
                op: "Trainer::new",
                expected: format!("targets in rows of {k}"),
                got: format!("{} values", y.len()),
            });
        }
        if x.len() != n * dim {
            return Err(Error::ShapeMismatch {
                op: "Trainer::new",
                expected: format!("x of {n} × {dim}"),
                got: format!("{} values", x.len()),
            });
        }
        check_lr(lr)?;
        let rows = if batch_size == 0 || batch_size >= n {
            n
        } else {
            batch_size
        };
        let ws = Workspace::new(&mut backend, &mlp.spec, rows);
        let xb = backend.upload(x);
        let yb = backend.upload(y);
        let mut t = Trainer {
            dim,
            k,
            n_train: n,
            host_x: x.to_vec(),
            host_y: y.to_vec(),
            host_f0: None,
            x: xb,
            y: yb,
            f0: None,
            ws,
            forward_cached: false,
            eval_ws: None,
            batches: None,
            loss: Loss::default(),
            lr,
            alpha: 1.0,
            step: 0,
            initial_loss: None,
            diverged: None,
            last_loss: None,
            loss_slots: None,
            batch_start: None,
            momentum: Momentum::NONE,
            velocity: None,
            batch_start_velocity: None,
            backend,
            mlp,
        };
        if rows < n {
            let mut rng = Rng::stream(seed, stream::BATCHES);
            let order = rng.permutation(n);
            t.batches = Some(Batches {
                seed,
                size: rows,
                order,
                pos: 0,
                rng,
                host_x: vec![0.0; rows * dim],
                host_y: vec![0.0; rows * k],
                host_f0: vec![0.0; rows * k],
                x: t.backend.zeros(rows * dim),
                y: t.backend.zeros(rows * k),
                f0: t.backend.zeros(rows * k),
            });
        }
        if center_output {
            crate::exec::block_on(t.center_output_async())?;
        }
        Ok(t)
    }

    /// [`Trainer::new`] without blocking: the centring forward pass (when `center_output`) is
    /// read back with [`Backend::read_async`], so this works on the web GPU too.
    pub async fn new_async(
        backend: B,
        mlp: Mlp<B>,
        x: &[f32],
        y: &[f32],
        center_output: bool,
        lr: f64,
        batch_size: usize,
        seed: u64,
    ) -> Result<Self> {
        let mut t = Self::new(backend, mlp, x, y, false, lr, batch_size, seed)?;
        if center_output {
            t.center_output_async().await?;
        }
        Ok(t)
    }

    /// Records f(x_i; θ₀) on the training rows: from now on the trained function is f − f₀.
    async fn center_output_async(&mut self) -> Result<()> {
        let x = std::mem::take(&mut self.host_x);
        let f0 = self.predict_async(&x).await;
        self.host_x = x;
        let f0 = f0?;
        self.f0 = Some(self.backend.upload(&f0));
        self.host_f0 = Some(f0);
        Ok(())
    }

    /// Sets the lazy-training scale α (see the field); before any step.
    pub fn with_alpha(mut self, alpha: f64) -> Result<Self> {
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::config(
                "alpha",
                format!("must be a finite number > 0, got {alpha}"),
            ));
        }
        self.alpha = alpha;
        Ok(self)
    }

    /// Sets heavy-ball momentum and weight decay (see [`super::momentum`]); before any step.
    /// [`Momentum::NONE`] (the default) is plain gradient descent, bit for bit.
    pub fn with_momentum(mut self, momentum: Momentum) -> Result<Self> {
        momentum.validate()?;
        self.momentum = momentum;
        Ok(self)
    }

    /// The momentum and weight decay.
    pub fn momentum(&self) -> Momentum {
        self.momentum
    }

    /// Sets the training loss (the default is [`Loss::Squared`]); before any step. Refuses a
    /// loss the network's number of outputs does not allow (see [`Loss::check_outputs`]), and
    /// the bag loss when the training rows do not split into whole bags
    /// ([`Loss::check_rows`]) or the run takes mini-batches (they would cut bags apart).
    pub fn with_loss(mut self, loss: Loss) -> Result<Self> {
        if self.step > 0 {
            return Err(Error::config(
                "loss",
                "a run's loss is set before its first step",
            ));
        }
        loss.check_outputs(self.k)?;
        loss.check_rows(self.n_train)?;
        if let (Loss::Proportions { bag }, Some(b)) = (loss, &self.batches) {
            return Err(Error::config(
                "batchSize",
                format!(
                    "the bag loss trains full batch: mini-batches of {} rows would cut the bags of \
                     {bag} apart",
                    b.size
                ),
            ));
        }
        self.loss = loss;
        Ok(self)
    }

    /// K, the number of outputs per row of [`Trainer::predict`] and of the targets.
    pub fn outputs(&self) -> usize {
        self.k
    }

    /// The lazy-training scale α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_lr(lr)?;
        self.lr = lr;
        Ok(())
    }

    /// The step at which the run diverged, if it has.
    pub fn diverged(&self) -> Option<u64> {
        self.diverged
    }

    /// The training loss (on the step's batch, at the parameters before its update) of the
    /// latest step taken, or of the step that diverged.
    pub fn last_loss(&self) -> Option<f32> {
        self.last_loss
    }

    /// f(x_i; θ₀) on the training rows, when the output is centred.
    pub fn centred(&self) -> bool {
        self.host_f0.is_some()
    }

    /// Runs up to `k` gradient steps; stops early (returning `Err(Diverged)`) when the loss
    /// at the current parameters is non-finite or past the divergence bound.
    pub fn advance(&mut self, k: u64) -> Result<()> {
        for _ in 0..k {
            self.one_step()?;
        }
        Ok(())
    }

    fn one_step(&mut self) -> Result<()> {
        if let Some(step) = self.diverged {
            return Err(Error::Diverged { step });
        }
        // The objective is the loss divided by α², whose gradient is the plain one over α.
        let lr = (self.mlp.effective_lr(self.lr) / self.alpha) as f32;
        let loss = match self.batches.as_mut() {
            None => {
                if !self.forward_cached {
                    self.mlp.forward(&mut self.backend, &self.x, &mut self.ws);
                }
                self.forward_cached = false;
                self.mlp.loss_and_residual(
                    &mut self.backend,
                    self.loss,
                    &self.y,
                    self.f0.as_ref(),
                    self.alpha as f32,
                    &mut self.ws,
                )
            }
            Some(b) => {
                let (dim, k) = (self.dim, self.k);
                for i in 0..b.size {
                    if b.pos == b.order.len() {
                        b.pos = 0;
                        let n = b.order.len();
                        b.order = b.rng.permutation(n);
                    }
                    let j = b.order[b.pos];
                    b.pos += 1;
                    b.host_x[i * dim..(i + 1) * dim]
                        .copy_from_slice(&self.host_x[j * dim..(j + 1) * dim]);
                    b.host_y[i * k..(i + 1) * k].copy_from_slice(&self.host_y[j * k..(j + 1) * k]);
                    if let Some(f0) = &self.host_f0 {
                        b.host_f0[i * k..(i + 1) * k].copy_from_slice(&f0[j * k..(j + 1) * k]);
                    }
                }
                self.backend.write(&mut b.x, &b.host_x);
                self.backend.write(&mut b.y, &b.host_y);
                if self.host_f0.is_some() {
                    self.backend.write(&mut b.f0, &b.host_f0);
                }
                self.mlp.forward(&mut self.backend, &b.x, &mut self.ws);
                let f0 = self.host_f0.as_ref().map(|_| &b.f0);
                self.mlp.loss_and_residual(
                    &mut self.backend,
                    self.loss,
                    &b.y,
                    f0,
                    self.alpha as f32,
                    &mut self.ws,
                )
            }
        };
        self.last_loss = Some(loss);
        let first = *self.initial_loss.get_or_insert(loss);
        if is_divergent(loss, first) {
            self.diverged = Some(self.step);
            return Err(Error::Diverged { step: self.step });
        }
        let x = match &self.batches {
            None => &self.x,
            Some(b) => &b.x,
        };
        descend(
            &mut self.mlp,
            &mut self.backend,
            x,
            &mut self.ws,
            lr,
            self.momentum,
            &mut self.velocity,
        );
        self.step += 1;
        Ok(())
    }

    /// Runs up to `k` full-batch gradient steps with one readback: the k steps are queued, each
    /// writing the loss at its starting parameters into slot j of a k-slot device buffer, and
    /// the k losses are fetched by a single [`Backend::read_async`] at the end, so nothing
    /// blocks (this is the training path on the web GPU). Returns those k losses.
    ///
    /// The divergence rule of [`Trainer::advance`] is then applied to the losses in order. When
    /// step j of the batch is bad, the run is marked diverged at that step and the result is
    /// exactly what `advance(k)` would have left: the parameters are restored from a device
    /// copy taken at the batch start and the j good steps are queued again (no readback), so
    /// [`Trainer::step`] and the parameters are those after the j good updates, and
    /// `Err(Diverged { step })` names the bad step. Full batch only (a configured mini-batch
    /// is refused). A failed readback (a device error) restores the batch-start parameters,
    /// marks the run diverged at the batch start, and returns the readback's error.
    pub async fn advance_async(&mut self, k: u64) -> Result<Vec<f32>> {
        if let Some(step) = self.diverged {
            return Err(Error::Diverged { step });
        }
        if self.batches.is_some() {
            return Err(Error::config(
                "batchSize",
                "batched readback-free steps (advance_async) are full-batch only",
            ));
        }
        let Ok(k) = usize::try_from(k) else {
            return Err(Error::config("steps", format!("{k} steps is too many")));
        };
        if k == 0 {
            return Ok(Vec::new());
        }
        let (mut slots, cap) = match self.loss_slots.take() {
            Some((buf, cap)) if cap >= k => (buf, cap),
            _ => (self.backend.zeros(k), k),
        };
        self.save_batch_start();
        for j in 0..k {
            self.queue_full_step(&mut slots, j);
        }
        let readback = self.backend.read_async(&slots, k);
        let fetched = readback.await;
        let losses = match fetched {
            Ok(losses) if losses.len() == k => losses,
            other => {
                let e = match other {
                    Err(e) => e,
                    Ok(v) => Error::ShapeMismatch {
                        op: "advance_async",
                        expected: format!("{k} losses"),
                        got: format!("{}", v.len()),
                    },
                };
                self.restore_batch_start();
                self.loss_slots = Some((slots, cap));
                self.diverged = Some(self.step);
                return Err(e);
            }
        };
        let mut bad = None;
        for (j, &loss) in losses.iter().enumerate() {
            let first = *self.initial_loss.get_or_insert(loss);
            if is_divergent(loss, first) {
                bad = Some(j);
                break;
            }
        }
        match bad {
            None => {
                self.step += k as u64;
                self.last_loss = losses.last().copied();
                self.loss_slots = Some((slots, cap));
                Ok(losses)
            }
            Some(j) => {
                // Back to the batch start, then the j good steps again.
                self.restore_batch_start();
                for i in 0..j {
                    self.queue_full_step(&mut slots, i);
                }
                self.backend.flush();
                self.loss_slots = Some((slots, cap));
                self.step += j as u64;
                self.last_loss = Some(losses[j]);
                self.diverged = Some(self.step);
                Err(Error::Diverged { step: self.step })
            }
        }
    }

    /// Queues one full-batch step whose starting loss goes into `slots[slot]`: the arithmetic
    /// of [`Trainer::advance`]'s step, without the readback and the check.
    fn queue_full_step(&mut self, slots: &mut B::Buf, slot: usize) {
        let lr = (self.mlp.effective_lr(self.lr) / self.alpha) as f32;
        if !self.forward_cached {
            self.mlp.forward(&mut self.backend, &self.x, &mut self.ws);
        }
        self.forward_cached = false;
        self.mlp.residual_loss_into(
            &mut self.backend,
            self.loss,
            &self.y,
            self.f0.as_ref(),
            self.alpha as f32,
            &mut self.ws,
            slots,
            slot,
        );
        descend(
            &mut self.mlp,
            &mut self.backend,
            &self.x,
            &mut self.ws,
            lr,
            self.momentum,
            &mut self.velocity,
        );
    }

    /// Queues a device copy of the parameters into `batch_start` (and of the velocity into
    /// `batch_start_velocity`, when momentum or weight decay is on).
    fn save_batch_start(&mut self) {
        if !self.momentum.is_plain() {
            let velocity = self
                .velocity
                .get_or_insert_with(|| param_zeros(&mut self.backend, &self.mlp));
            let saved = self
                .batch_start_velocity
                .get_or_insert_with(|| param_zeros(&mut self.backend, &self.mlp));
            copy_params(&mut self.backend, &self.mlp, velocity, saved);
        }
        let (ws, bs) = self.batch_start.get_or_insert_with(|| {
            let layers = &self.mlp.layers;
            (
                layers
                    .iter()
                    .map(|l| self.backend.zeros(l.fan_in * l.fan_out))
                    .collect(),
                layers
                    .iter()
                    .map(|l| self.backend.zeros(l.fan_out))
                    .collect(),
            )
        });
        for (l, shape) in self.mlp.layers.iter().enumerate() {
            let nw = shape.fan_in * shape.fan_out;
            self.backend.copy(&self.mlp.weights[l], &mut ws[l], nw);
            self.backend
                .copy(&self.mlp.biases[l], &mut bs[l], shape.fan_out);
        }
    }

    /// Queues the copy of `batch_start` back into the parameters (and of
    /// `batch_start_velocity` into the velocity).
    fn restore_batch_start(&mut self) {
        self.forward_cached = false;
        if let (Some(saved), Some(velocity)) = (&self.batch_start_velocity, &mut self.velocity) {
            copy_params(&mut self.backend, &self.mlp, saved, velocity);
        }
        let Some((ws, bs)) = &self.batch_start else {
            return;
        };
        for (l, shape) in self.mlp.layers.iter().enumerate() {
            let nw = shape.fan_in * shape.fan_out;
            self.backend.copy(&ws[l], &mut self.mlp.weights[l], nw);
            self.backend
                .copy(&bs[l], &mut self.mlp.biases[l], shape.fan_out);
        }
    }

    /// Marks the run diverged at the current step (e.g. when an evaluation is non-finite).
    pub fn mark_diverged(&mut self) -> Error {
        let step = *self.diverged.get_or_insert(self.step);
        Error::Diverged { step }
    }

    /// The network's outputs f(x; θ) at `x` (`rows × dim`), `rows × K` row-major, evaluated
    /// in chunks. A blocking
    /// readback: on the web GPU use [`Trainer::predict_async`] (here a failed readback gives
    /// NaN, which the divergence checks catch).
    pub fn predict(&mut self, x: &[f32]) -> Vec<f32> {
        let rows = x.len() / self.dim;
        crate::exec::block_on(self.predict_async(x))
            .unwrap_or_else(|_| vec![f32::NAN; rows * self.k])
    }

    /// [`Trainer::predict`] through [`Backend::read_async`]: one readback per chunk of
    /// [`EVAL_CHUNK`] rows; works on the web GPU.
    pub async fn predict_async(&mut self, x: &[f32]) -> Result<Vec<f32>> {
        let (dim, k) = (self.dim, self.k);
        let rows = x.len() / dim;
        let mut out = vec![0.0f32; rows * k];
        let chunk = EVAL_CHUNK.min(rows.max(1));
        let needs_new = self.eval_ws.as_ref().is_none_or(|w| w.rows != chunk);
        if needs_new {
            self.eval_ws = Some(Workspace::new(&mut self.backend, &self.mlp.spec, chunk));
        }
        let mut xbuf = self.backend.zeros(chunk * dim);
        let mut padded = vec![0.0f32; chunk * dim];
        for start in (0..rows).step_by(chunk) {
            let m = chunk.min(rows - start);
            padded[..m * dim].copy_from_slice(&x[start * dim..(start + m) * dim]);
            padded[m * dim..].fill(0.0);
            self.backend.write(&mut xbuf, &padded);
            let ws = self.eval_ws.as_mut().expect("created above");
            self.mlp.forward(&mut self.backend, &xbuf, ws);
            let values = self.backend.read_async(&ws.out, m * k).await?;
            out[start * k..(start + m) * k].copy_from_slice(&values);
        }
        Ok(out)
    }

    /// Loss and accuracy on the training set at the current parameters (a blocking readback;
    /// see [`Trainer::evaluate_train_async`]). A failed readback gives a NaN loss.
    pub fn evaluate_train(&mut self) -> Eval {
        crate::exec::block_on(self.evaluate_train_async()).unwrap_or(Eval {
            loss: f64::NAN,
            accuracy: f64::NAN,
        })
    }

    /// [`Trainer::evaluate_train`] through [`Backend::read_async`]; works on the web GPU.
    pub async fn evaluate_train_async(&mut self) -> Result<Eval> {
        let f = if self.batches.is_none() {
            // One full-batch forward pass, kept for the next step.
            self.mlp.forward(&mut self.backend, &self.x, &mut self.ws);
            self.forward_cached = true;
            self.backend
                .read_async(&self.ws.out, self.n_train * self.k)
                .await?
        } else {
            let x = std::mem::take(&mut self.host_x);
            let f = self.predict_async(&x).await;
            self.host_x = x;
            f?
        };
        Ok(self.loss.eval(
            &f,
            self.host_f0.as_deref(),
            self.alpha,
            &self.host_y,
            self.k,
        ))
    }

    /// All parameters as one flat vector (the order of [`Mlp::params`]), read back without
    /// blocking.
    pub async fn params_async(&mut self) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(self.mlp.param_count());
        for l in 0..self.mlp.layers.len() {
            let shape = self.mlp.layers[l];
            let w = self
                .backend
                .read_async(&self.mlp.weights[l], shape.fan_in * shape.fan_out)
                .await?;
            out.extend(w);
            let b = self
                .backend
                .read_async(&self.mlp.biases[l], shape.fan_out)
                .await?;
            out.extend(b);
        }
        Ok(out)
    }

    /// The heavy-ball velocity as one flat vector (the order of [`Mlp::params`]), read back
    /// without blocking; `None` while there is none (before the first step that uses it: v = 0).
    pub async fn velocity_async(&mut self) -> Result<Option<Vec<f32>>> {
        let Some(v) = &self.velocity else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(self.mlp.param_count());
        for (l, shape) in self.mlp.layers.iter().enumerate() {
            let w = self
                .backend
                .read_async(&v.0[l], shape.fan_in * shape.fan_out)
                .await?;
            out.extend(w);
            out.extend(self.backend.read_async(&v.1[l], shape.fan_out).await?);
        }
        Ok(Some(out))
    }

    /// Sets the heavy-ball velocity to a [`Trainer::velocity_async`] vector (`None`: v = 0),
    /// after a [`Trainer::restore`], so that a run continues with the velocity it had.
    pub fn set_velocity(&mut self, velocity: Option<&[f32]>) -> Result<()> {
        let Some(v) = velocity else {
            self.velocity = None;
            return Ok(());
        };
        if v.len() != self.mlp.param_count() {
            return Err(Error::ShapeMismatch {
                op: "Trainer::set_velocity",
                expected: self.mlp.param_count().to_string(),
                got: v.len().to_string(),
            });
        }
        let (mut w, mut b) = (Vec::new(), Vec::new());
        let mut at = 0;
        for shape in &self.mlp.layers {
            let nw = shape.fan_in * shape.fan_out;
            w.push(self.backend.upload(&v[at..at + nw]));
            b.push(self.backend.upload(&v[at + nw..at + nw + shape.fan_out]));
            at += nw + shape.fan_out;
        }
        self.velocity = Some((w, b));
        Ok(())
    }

    /// The training loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The first training loss of the run (the divergence bound is measured from it).
    pub fn initial_loss(&self) -> Option<f32> {
        self.initial_loss
    }

    /// Puts a run back where a [`Trainer::params_async`] snapshot left it: the parameters,
    /// the step count and the first loss (so the divergence rule continues unchanged), and, for
    /// mini-batches, the batch order where `step` steps from the seed leave it (the order is
    /// drawn from the seed alone, so it is replayed without training). Used to carry a run from
    /// one backend to another, to continue a run from a weights file and to rewind to θ₀. The
    /// velocity restarts from v = 0 ([`Trainer::set_velocity`] puts one back).
    pub fn restore(&mut self, params: &[f32], step: u64, initial_loss: Option<f32>) -> Result<()> {
        self.mlp.set_params(&mut self.backend, params)?;
        self.velocity = None;
        if let Some(b) = self.batches.as_mut() {
            b.seek(step);
        }
        self.step = step;
        self.initial_loss = initial_loss;
        self.diverged = None;
        self.last_loss = None;
        self.forward_cached = false;
        Ok(())
    }
}

/// Back-propagates the residual in `ws` and updates the parameters: the direct step
/// θ −= lr · ∇L when `momentum` is plain, else the gradient into the gradient buffers and a
/// heavy-ball step with the velocity (allocated, zero, on first use).
fn descend<B: Backend>(
    mlp: &mut Mlp<B>,
    backend: &mut B,
    x: &B::Buf,
    ws: &mut Workspace<B>,
    lr: f32,
    momentum: Momentum,
    velocity: &mut Option<ParamBufs<B>>,
) {
    if momentum.is_plain() {
        mlp.backward(backend, x, ws, Backward::Step { lr });
        return;
    }
    mlp.backward(backend, x, ws, Backward::Gradient);
    let v = velocity.get_or_insert_with(|| param_zeros(backend, mlp));
    mlp.momentum_step(
        backend,
        v,
        lr,
        momentum.beta as f32,
        momentum.weight_decay as f32,
    );
}

/// Zero buffers shaped like the parameters of `mlp`.
fn param_zeros<B: Backend>(backend: &mut B, mlp: &Mlp<B>) -> ParamBufs<B> {
    (
        mlp.layers
            .iter()
            .map(|l| backend.zeros(l.fan_in * l.fan_out))
            .collect(),
        mlp.layers
            .iter()
            .map(|l| backend.zeros(l.fan_out))
            .collect(),
    )
}

/// Queues `dst = src` for two sets of parameter-shaped buffers of `mlp`.
fn copy_params<B: Backend>(
    backend: &mut B,
    mlp: &Mlp<B>,
    src: &ParamBufs<B>,
    dst: &mut ParamBufs<B>,
) {
    for (l, shape) in mlp.layers.iter().enumerate() {
        backend.copy(&src.0[l], &mut dst.0[l], shape.fan_in * shape.fan_out);
        backend.copy(&src.1[l], &mut dst.1[l], shape.fan_out);
    }
}

/// The divergence rule: `loss` is non-finite or past [`DIVERGENCE_FACTOR`] times the first
/// loss of the run (floored at [`LOSS_FLOOR`]).
fn is_divergent(loss: f32, first: f32) -> bool {
    !loss.is_finite() || loss > DIVERGENCE_FACTOR * first.max(LOSS_FLOOR)
}

fn check_lr(lr: f64) -> Result<()> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            "lr",
            format!("the step size must be a finite number > 0, got {lr}"),
        ))
    }
}
