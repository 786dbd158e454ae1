//! Many networks of one architecture trained at once on one training set: the engine behind
//! sweeps over seeds, step sizes and initialisation scales, and behind phase diagrams.
//!
//! A [`BatchedTrainer`] holds `batch` networks that share an [`MlpSpec`] (input dimension,
//! hidden widths, activation, parametrisation, σ_w, σ_b) and the training set, and differ in
//! what a [`NetConfig`] sets: the seed of the initial weights, the initialisation scale s and
//! the step size η. Every operation of a step runs once for the whole batch through the
//! `*_batched` operations of [`Backend`] (one GPU dispatch each), so a batch of 64 networks
//! costs the dispatches of one.
//!
//! Each network does exactly what a full-batch [`Trainer`](super::Trainer) with the same
//! settings does (α = 1, the same [`Loss`] — squared unless [`BatchedTrainer::with_loss`]
//! sets another — on the same K outputs, centred or not: see
//! [`BatchedTrainer::center_output`]): the same initial weights
//! (drawn as [`Mlp::new`](super::Mlp::new) draws them from `Rng::stream(seed,
//! stream::WEIGHTS)`), the same products with the same scalars, so on the CPU backend every
//! loss and parameter equals the single run's bit for bit.
//!
//! Layout on the device, network b's block at b × its size: the weights of layer l are
//! `batch × fan_in × fan_out`, its biases `batch × fan_out`, the activations
//! `batch × rows × width`, the outputs and output signals `batch × rows × K`; the training
//! inputs (`n × d`) and targets (`n × K`) are shared (batch stride 0).
//!
//! **Memory.** [`BatchedTrainer::memory_bytes`] estimates what a batch keeps on its backend;
//! [`BatchedTrainer::new`] refuses a batch over [`MEMORY_LIMIT`] in all, or with one buffer
//! over [`MAX_BUFFER_BYTES`] (WebGPU's default largest storage binding, which every adapter
//! offers), with its estimate in the message.
//!
//! **Divergence.** [`BatchedTrainer::advance_async`] queues k steps whose losses fill a
//! `k × batch` device buffer read back once. Each network's losses then go through the rule of
//! the single trainer ([`is_divergent`]); a network whose loss at step j is bad is marked
//! diverged at step j (the step a single trainer reports) and frozen: its update coefficients
//! become 0, which the batched operations treat as "no update" even for a non-finite gradient,
//! and its later losses are ignored. Its parameters after the bad step are not meaningful (the
//! rest of that batch of steps was applied before the readback showed the bad loss). The other
//! networks are unaffected: no operation mixes networks.

use super::mlp::{LayerShape, MlpSpec, Parametrization};
use super::train::{DIVERGENCE_FACTOR, EVAL_CHUNK, LOSS_FLOOR};
use super::{Activation, Loss};
use crate::backend::{Backend, Trans};
use crate::data::stream;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// The most memory a batch may keep on its backend (parameters, training workspace, data).
pub const MEMORY_LIMIT: u64 = 512 * 1024 * 1024;

/// The largest single buffer a batch may use: 128 MiB, WebGPU's default (and guaranteed)
/// `maxStorageBufferBindingSize`.
pub const MAX_BUFFER_BYTES: u64 = 128 * 1024 * 1024;

/// Activation elements (batch × rows × width) of one evaluation chunk at most, so that
/// [`BatchedTrainer::predict_async`] on many wide networks keeps its buffers at 64 MB.
const EVAL_ELEMS: usize = 1 << 24;

/// The divergence rule of [`Trainer`](super::Trainer): `loss` is non-finite or past
/// [`DIVERGENCE_FACTOR`] times the first loss of the run (floored at [`LOSS_FLOOR`]).
pub fn is_divergent(loss: f32, first: f32) -> bool {
    !loss.is_finite() || loss > DIVERGENCE_FACTOR * first.max(LOSS_FLOOR)
}

/// What one network of a batch sets for itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetConfig {
    /// Seed of the initial weights, drawn from `Rng::stream(seed, stream::WEIGHTS)`.
    pub seed: u64,
    /// s: the initialisation scale (in place of the shared spec's `init_scale`).
    pub init_scale: f64,
    /// η: the step size as a slider value (mean-field multiplies it by n_L, as
    /// [`Mlp::effective_lr`](super::Mlp::effective_lr) does).
    pub lr: f64,
}

/// Activations of one forward pass of every network over `rows` shared input rows, and the
/// backward scratch (each buffer `batch` blocks, network-major).
struct Workspace<B: Backend> {
    rows: usize,
    /// Pre-activations z^l of the hidden layers, each `batch × rows × n_l`.
    z: Vec<B::Buf>,
    /// Activations x^l = φ(z^l), each `batch × rows × n_l`.
    h: Vec<B::Buf>,
    /// Output pre-activation before the bias, `batch × rows × K`.
    out_pre: B::Buf,
    /// Outputs f, `batch × rows × K`.
    out: B::Buf,
    /// Output signals (for the squared loss the residuals f − f0 − y), `batch × rows × K`.
    r: B::Buf,
    /// Back-propagated signals (ping-pong), each `batch × rows × max width`.
    delta: [B::Buf; 2],
}

impl<B: Backend> Workspace<B> {
    fn new(backend: &mut B, spec: &MlpSpec, batch: usize, rows: usize) -> Self {
        let mut zeros = |len: usize| backend.zeros(batch * rows * len);
        Workspace {
            rows,
            z: spec.hidden.iter().map(|&w| zeros(w)).collect(),
            h: spec.hidden.iter().map(|&w| zeros(w)).collect(),
            out_pre: zeros(spec.outputs),
            out: zeros(spec.outputs),
            r: zeros(spec.outputs),
            delta: [zeros(spec.max_width()), zeros(spec.max_width())],
        }
    }
}

/// The parameters of every network and their per-network update coefficients.
struct Nets<B: Backend> {
    batch: usize,
    activation: Activation,
    /// Shapes and multipliers, shared by all networks (they do not depend on s).
    layers: Vec<LayerShape>,
    /// W^l of every network, `batch × fan_in × fan_out`.
    weights: Vec<B::Buf>,
    /// b^l of every network, `batch × fan_out`.
    biases: Vec<B::Buf>,
    /// The α of each network's weight update of layer l, `batch` values: −η·w_mult·(1/n at
    /// the output layer), in the order and f32 rounding of [`Mlp::backward`](super::Mlp::backward);
    /// 0 for a frozen network.
    w_coef: Vec<B::Buf>,
    /// The same for the bias update (b_mult in place of w_mult).
    b_coef: Vec<B::Buf>,
}

impl<B: Backend> Nets<B> {
    /// Forward pass of every network on the shared rows `x` (`ws.rows × d`) into `ws.out`:
    /// [`Mlp::forward`](super::Mlp::forward), batched.
    fn forward(&self, backend: &mut B, x: &B::Buf, ws: &mut Workspace<B>) {
        let (rows, batch) = (ws.rows, self.batch);
        let n_hidden = self.layers.len() - 1;
        for (l, shape) in self.layers.iter().enumerate() {
            let (fan_in, fan_out) = (shape.fan_in, shape.fan_out);
            let (w, b) = (&self.weights[l], &self.biases[l]);
            // The input is shared on the first layer (stride 0), per network above it.
            let (before, rest) = ws.h.split_at_mut(l.min(n_hidden));
            let (input, stride_in) = if l == 0 {
                (x, 0)
            } else {
                (&before[l - 1], rows * fan_in)
            };
            if l < n_hidden {
                // z^l = w_mult · x^{l−1} W^l   batch × (rows × fan_in)·(fan_in × fan_out)
                backend.gemm_batched(
                    Trans::N,
                    Trans::N,
                    rows,
                    fan_out,
                    fan_in,
                    batch,
                    shape.w_mult,
                    None,
                    input,
                    stride_in,
                    w,
                    fan_in * fan_out,
                    0.0,
                    &mut ws.z[l],
                    rows * fan_out,
                );
                backend.bias_act_batched(
                    batch,
                    rows,
                    fan_out,
                    &mut ws.z[l],
                    b,
                    shape.b_mult,
                    self.activation,
                    &mut rest[0],
                );
            } else {
                // f = w_mult · x^L W^{L+1} + b_mult · b^{L+1}   batch × (rows × n_L)·(n_L × K)
                backend.gemm_batched(
                    Trans::N,
                    Trans::N,
                    rows,
                    fan_out,
                    fan_in,
                    batch,
                    shape.w_mult,
                    None,
                    input,
                    stride_in,
                    w,
                    fan_in * fan_out,
                    0.0,
                    &mut ws.out_pre,
                    rows * fan_out,
                );
                backend.bias_act_batched(
                    batch,
                    rows,
                    fan_out,
                    &mut ws.out_pre,
                    b,
                    shape.b_mult,
                    Activation::Linear,
                    &mut ws.out,
                );
            }
        }
    }

    /// One gradient step of every network from the residuals in `ws` (after
    /// [`Nets::forward`] on the same `x` and the residual): [`Mlp::backward`](super::Mlp::backward)
    /// in step mode, batched, with each network's own coefficients.
    fn backward_step(&mut self, backend: &mut B, x: &B::Buf, ws: &mut Workspace<B>) {
        let (rows, batch) = (ws.rows, self.batch);
        let inv_n = 1.0 / rows as f32;
        let Workspace { z, h, r, delta, .. } = ws;
        let [d_cur, d_next] = delta;
        // δ^{L+1} = r / n is folded into the multipliers rather than materialised.
        let mut cur_is_residual = true;
        for l in (0..self.layers.len()).rev() {
            let shape = self.layers[l];
            let (fan_in, fan_out) = (shape.fan_in, shape.fan_out);
            let scale = if cur_is_residual { inv_n } else { 1.0 };
            let delta_l: &B::Buf = if cur_is_residual { r } else { d_cur };
            let (input, stride_in) = if l == 0 {
                (x, 0)
            } else {
                (&h[l - 1], rows * fan_in)
            };
            // The signal for the layer below needs W^l before it is updated.
            if l > 0 {
                // δ^{l−1} = (w_mult · δ^l W^lᵀ) ∘ φ'(z^{l−1})   batch × (rows × fan_out)·(fan_out × fan_in)
                backend.gemm_batched(
                    Trans::N,
                    Trans::T,
                    rows,
                    fan_in,
                    fan_out,
                    batch,
                    shape.w_mult * scale,
                    None,
                    delta_l,
                    rows * fan_out,
                    &self.weights[l],
                    fan_in * fan_out,
                    0.0,
                    d_next,
                    rows * fan_in,
                );
            }
            // W^l −= η · w_mult · x^{l−1}ᵀ δ^l   batch × (fan_in × rows)·(rows × fan_out)
            backend.gemm_batched(
                Trans::T,
                Trans::N,
                fan_in,
                fan_out,
                rows,
                batch,
                1.0,
                Some(&self.w_coef[l]),
                input,
                stride_in,
                delta_l,
                rows * fan_out,
                1.0,
                &mut self.weights[l],
                fan_in * fan_out,
            );
            // b^l −= η · b_mult · Σ_rows δ^l
            backend.col_sum_batched(
                batch,
                rows,
                fan_out,
                1.0,
                Some(&self.b_coef[l]),
                delta_l,
                1.0,
                &mut self.biases[l],
            );
            if l > 0 {
                // δ ← δ ∘ φ'(z) from d_next into d_cur, which is free now.
                backend.act_backward(
                    batch * rows * fan_in,
                    &z[l - 1],
                    d_next,
                    self.activation,
                    d_cur,
                );
                cur_is_residual = false;
            }
        }
    }
}

/// Trains `batch` networks of one architecture, full batch, on one training set (see the
/// module documentation).
pub struct BatchedTrainer<B: Backend> {
    pub backend: B,
    spec: MlpSpec,
    configs: Vec<NetConfig>,
    nets: Nets<B>,
    /// Host copies of the coefficient buffers (frozen networks get zeros).
    host_w_coef: Vec<Vec<f32>>,
    host_b_coef: Vec<Vec<f32>>,
    n_train: usize,
    /// K, the outputs of each network per row.
    k: usize,
    /// The training loss of every network ([`Loss::Squared`] unless
    /// [`BatchedTrainer::with_loss`] sets another).
    loss: Loss,
    /// Training inputs `n × d` and targets `n × K`, shared by every network.
    x: B::Buf,
    y: B::Buf,
    /// Each network's outputs at θ₀ on the training inputs, `batch × n × K`, for a centred
    /// batch.
    f0: Option<B::Buf>,
    ws: Workspace<B>,
    /// Workspace, input chunk and its host staging for [`BatchedTrainer::predict_async`].
    eval: Option<(Workspace<B>, B::Buf, Vec<f32>)>,
    /// The `k × batch` loss buffer of [`BatchedTrainer::advance_async`], with its k (grown
    /// to the largest k asked).
    loss_slots: Option<(B::Buf, usize)>,
    /// One loss per network for [`BatchedTrainer::train_losses_async`].
    loss_now: Option<B::Buf>,
    step: u64,
    initial_loss: Vec<Option<f32>>,
    last_loss: Vec<Option<f32>>,
    diverged: Vec<Option<u64>>,
}

impl<B: Backend> BatchedTrainer<B> {
    /// One network per entry of `configs`, all of the architecture `spec` (whose `init_scale`
    /// each config replaces), on the training set `x` (`n × spec.input_dim`, row-major) and
    /// `y` (`n × spec.outputs` targets, row-major).
    pub fn new(
        mut backend: B,
        spec: MlpSpec,
        x: &[f32],
        y: &[f32],
        configs: &[NetConfig],
    ) -> Result<Self> {
        let batch = configs.len();
        if batch == 0 {
            return Err(Error::config(
                "networks",
                "a batch needs at least one network",
            ));
        }
        let dim = spec.input_dim;
        let k = spec.outputs.max(1);
        let n = y.len() / k;
        if n == 0 || y.len() != n * k {
            return Err(Error::ShapeMismatch {
                op: "BatchedTrainer::new",
                expected: format!("targets in rows of {k}"),
                got: format!("{} values", y.len()),
            });
        }
        if x.len() != n * dim {
            return Err(Error::ShapeMismatch {
                op: "BatchedTrainer::new",
                expected: format!("x of {n} × {dim}"),
                got: format!("{} values", x.len()),
            });
        }
        let (bytes, largest) = Self::memory_bytes(&spec, n, batch);
        if bytes > MEMORY_LIMIT || largest > MAX_BUFFER_BYTES {
            let what = format!(
                "a batch of {batch} network{} of {} hidden layer{} (widest {}) on {n} points",
                if batch == 1 { "" } else { "s" },
                spec.hidden.len(),
                if spec.hidden.len() == 1 { "" } else { "s" },
                spec.max_width(),
            );
            let (what, bytes, limit) = if bytes > MEMORY_LIMIT {
                (what, bytes, MEMORY_LIMIT)
            } else {
                (format!("one buffer of {what}"), largest, MAX_BUFFER_BYTES)
            };
            return Err(Error::TooLarge {
                what,
                bytes,
                limit,
                fixes: vec!["width", "depth", "nTrain"],
            });
        }
        let layers = spec.layers();
        let last = layers.len() - 1;
        let mut host_w: Vec<Vec<f32>> = layers
            .iter()
            .map(|l| Vec::with_capacity(batch * l.fan_in * l.fan_out))
            .collect();
        let mut host_b: Vec<Vec<f32>> = layers
            .iter()
            .map(|l| Vec::with_capacity(batch * l.fan_out))
            .collect();
        let mut host_w_coef = vec![Vec::with_capacity(batch); layers.len()];
        let mut host_b_coef = vec![Vec::with_capacity(batch); layers.len()];
        for cfg in configs {
            if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
                return Err(Error::config(
                    "lr",
                    format!("the step size must be a finite number > 0, got {}", cfg.lr),
                ));
            }
            let net_spec = MlpSpec {
                init_scale: cfg.init_scale,
                ..spec.clone()
            };
            net_spec.validate()?;
            // The draws of `Mlp::new`: each layer's weights, then its biases.
            let mut rng = Rng::stream(cfg.seed, stream::WEIGHTS);
            for (l, shape) in net_spec.layers().iter().enumerate() {
                let at = host_w[l].len();
                host_w[l].resize(at + shape.fan_in * shape.fan_out, 0.0);
                rng.fill_normal_f32(&mut host_w[l][at..], shape.w_std);
                let at = host_b[l].len();
                host_b[l].resize(at + shape.fan_out, 0.0);
                rng.fill_normal_f32(&mut host_b[l][at..], shape.b_std);
            }
            // The step of `Trainer`: −(effective lr / α) as f32 times the layer's multiplier
            // and 1/n at the output layer, multiplied in `Mlp::backward`'s order (α = 1).
            let coef = -(effective_lr(&spec, cfg.lr) as f32);
            let inv_n = 1.0 / n as f32;
            for (l, shape) in layers.iter().enumerate() {
                let scale = if l == last { inv_n } else { 1.0 };
                host_w_coef[l].push(coef * shape.w_mult * scale);
                host_b_coef[l].push(coef * shape.b_mult * scale);
            }
        }
        let nets = Nets {
            batch,
            activation: spec.activation,
            weights: host_w.iter().map(|w| backend.upload(w)).collect(),
            biases: host_b.iter().map(|b| backend.upload(b)).collect(),
            w_coef: host_w_coef.iter().map(|c| backend.upload(c)).collect(),
            b_coef: host_b_coef.iter().map(|c| backend.upload(c)).collect(),
            layers,
        };
        let ws = Workspace::new(&mut backend, &spec, batch, n);
        let xb = backend.upload(x);
        let yb = backend.upload(y);
        Ok(BatchedTrainer {
            spec,
            configs: configs.to_vec(),
            nets,
            host_w_coef,
            host_b_coef,
            n_train: n,
            k,
            loss: Loss::default(),
            x: xb,
            y: yb,
            f0: None,
            ws,
            eval: None,
            loss_slots: None,
            loss_now: None,
            step: 0,
            initial_loss: vec![None; batch],
            last_loss: vec![None; batch],
            diverged: vec![None; batch],
            backend,
        })
    }

    /// Estimated bytes a batch of `batch` networks of `spec` on `n` training points keeps on
    /// its backend (parameters, training workspace, data, centring outputs; not the chunked
    /// workspace of [`BatchedTrainer::predict_async`], at most a few times 64 MB), and the
    /// largest single buffer among them.
    pub fn memory_bytes(spec: &MlpSpec, n: usize, batch: usize) -> (u64, u64) {
        // Per network, the single trainer's workspace (z and h per hidden layer, two signal
        // buffers, out_pre, out, r) and the centring outputs f0.
        let k = spec.outputs as u64;
        let workspace =
            batch as u64 * (super::mlp::Workspace::<B>::bytes(spec, n) + 4 * n as u64 * k);
        let (b, n, d) = (batch as u64, n as u64, spec.input_dim as u64);
        let widest = spec.max_width() as u64;
        let layers = spec.layers();
        let params: u64 = layers
            .iter()
            .map(|l| (l.fan_in * l.fan_out + l.fan_out) as u64)
            .sum();
        let largest_weights = layers
            .iter()
            .map(|l| (l.fan_in * l.fan_out) as u64)
            .max()
            .unwrap_or(0);
        let coefs = 2 * b * layers.len() as u64;
        let total = 4 * (b * params + coefs + n * (d + k)) + workspace;
        let largest = 4 * b * largest_weights.max(n * widest.max(k));
        (total, largest)
    }

    /// Trains every network's f(x;θ) − f(x;θ₀) from now on (as a [`Trainer`](super::Trainer)
    /// built with `center_output` does): the batch's outputs at its current parameters are
    /// kept on the device (no readback) and subtracted in every loss. Before any step.
    pub fn center_output(&mut self) -> Result<()> {
        if self.step > 0 {
            return Err(Error::config(
                "centerOutput",
                "a batch is centred at θ₀, before its first step",
            ));
        }
        let len = self.batch() * self.n_train * self.k;
        let mut f0 = self.backend.zeros(len);
        self.nets.forward(&mut self.backend, &self.x, &mut self.ws);
        self.backend.copy(&self.ws.out, &mut f0, len);
        self.f0 = Some(f0);
        Ok(())
    }

    /// Sets the training loss of every network (the default is [`Loss::Squared`]); before
    /// any step. Refuses a loss the networks' number of outputs does not allow (see
    /// [`Loss::check_outputs`]), and the bag loss, which trains one network at a time
    /// ([`crate::nn::Trainer`]).
    pub fn with_loss(mut self, loss: Loss) -> Result<Self> {
        if self.step > 0 {
            return Err(Error::config(
                "loss",
                "a batch's loss is set before its first step",
            ));
        }
        if let Loss::Proportions { .. } = loss {
            return Err(Error::config(
                "loss",
                "the bag loss trains one network at a time (Trainer), not a batch of networks",
            ));
        }
        loss.check_outputs(self.k)?;
        self.loss = loss;
        Ok(self)
    }

    /// The training loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// K, the outputs of each network per row (of the targets, and of
    /// [`BatchedTrainer::predict_async`]).
    pub fn outputs(&self) -> usize {
        self.k
    }

    /// The number of networks.
    pub fn batch(&self) -> usize {
        self.nets.batch
    }

    /// The shared architecture (its `init_scale` is unused: see [`NetConfig::init_scale`]).
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// What each network sets for itself, in order.
    pub fn configs(&self) -> &[NetConfig] {
        &self.configs
    }

    /// Steps queued for the batch so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Steps network `net` has taken: [`BatchedTrainer::step`], or the step at which it
    /// diverged (as [`Trainer::step`](super::Trainer::step) after divergence).
    pub fn steps(&self, net: usize) -> u64 {
        self.diverged[net].unwrap_or(self.step)
    }

    /// The step at which network `net` diverged, if it has.
    pub fn diverged(&self, net: usize) -> Option<u64> {
        self.diverged[net]
    }

    /// Whether every network has diverged (nothing is left to train).
    pub fn all_diverged(&self) -> bool {
        self.diverged.iter().all(Option::is_some)
    }

    /// The training loss (at the parameters before the update) of network `net`'s latest
    /// step, or of the step at which it diverged.
    pub fn last_loss(&self, net: usize) -> Option<f32> {
        self.last_loss[net]
    }

    /// Queues `k` full-batch gradient steps of every network (their losses, at each step's
    /// starting parameters, into a `k × batch` device buffer), reads the losses back once, and
    /// applies the divergence rule per network (see the module documentation). Returns, per
    /// network, the losses of the steps it took in this call, up to and including the one at
    /// which it diverged (empty for a network that had diverged before). With every network
    /// diverged, nothing is queued and the step count stays.
    ///
    /// A failed readback (a device error) marks every network still training as diverged at
    /// the step this call started from and returns the error.
    pub async fn advance_async(&mut self, k: u64) -> Result<Vec<Vec<f32>>> {
        let batch = self.batch();
        let Ok(k) = usize::try_from(k) else {
            return Err(Error::config("steps", format!("{k} steps is too many")));
        };
        if k == 0 || self.all_diverged() {
            return Ok(vec![Vec::new(); batch]);
        }
        let (mut slots, cap) = match self.loss_slots.take() {
            Some((buf, cap)) if cap >= k => (buf, cap),
            _ => (self.backend.zeros(k * batch), k),
        };
        for j in 0..k {
            self.queue_step(&mut slots, j);
        }
        let fetched = self.backend.read_async(&slots, k * batch).await;
        self.loss_slots = Some((slots, cap));
        let losses = match fetched {
            Ok(v) if v.len() == k * batch => v,
            other => {
                let e = match other {
                    Err(e) => e,
                    Ok(v) => Error::ShapeMismatch {
                        op: "BatchedTrainer::advance_async",
                        expected: format!("{} losses", k * batch),
                        got: format!("{}", v.len()),
                    },
                };
                for d in self.diverged.iter_mut() {
                    d.get_or_insert(self.step);
                }
                return Err(e);
            }
        };
        let start = self.step;
        self.step += k as u64;
        let mut newly_diverged = false;
        let mut out = Vec::with_capacity(batch);
        for net in 0..batch {
            if self.diverged[net].is_some() {
                out.push(Vec::new());
                continue;
            }
            let mut mine = Vec::with_capacity(k);
            for j in 0..k {
                let loss = losses[j * batch + net];
                mine.push(loss);
                self.last_loss[net] = Some(loss);
                let first = *self.initial_loss[net].get_or_insert(loss);
                if is_divergent(loss, first) {
                    self.diverged[net] = Some(start + j as u64);
                    newly_diverged = true;
                    break;
                }
            }
            out.push(mine);
        }
        if newly_diverged {
            self.freeze_diverged();
        }
        Ok(out)
    }

    /// Queues one full-batch step of every network whose losses go into row `slot` of `slots`.
    fn queue_step(&mut self, slots: &mut B::Buf, slot: usize) {
        let batch = self.batch();
        self.nets.forward(&mut self.backend, &self.x, &mut self.ws);
        self.loss.signal_batched_into(
            &mut self.backend,
            batch,
            self.n_train,
            self.k,
            &self.ws.out,
            self.f0.as_ref(),
            1.0,
            &self.y,
            &mut self.ws.r,
            slots,
            slot,
        );
        self.nets
            .backward_step(&mut self.backend, &self.x, &mut self.ws);
    }

    /// A new step size η (a slider value, as [`NetConfig::lr`]) for every network that has not
    /// diverged, from the next step on: its update coefficients are those [`BatchedTrainer::new`]
    /// computes for η, so the steps after the change equal those of a batch built with η.
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::config(
                "lr",
                format!("the step size must be a finite number > 0, got {lr}"),
            ));
        }
        let coef = -(effective_lr(&self.spec, lr) as f32);
        let inv_n = 1.0 / self.n_train as f32;
        let last = self.nets.layers.len() - 1;
        for (net, cfg) in self.configs.iter_mut().enumerate() {
            cfg.lr = lr;
            if self.diverged[net].is_some() {
                continue;
            }
            for (l, shape) in self.nets.layers.iter().enumerate() {
                let scale = if l == last { inv_n } else { 1.0 };
                self.host_w_coef[l][net] = coef * shape.w_mult * scale;
                self.host_b_coef[l][net] = coef * shape.b_mult * scale;
            }
        }
        self.freeze_diverged();
        Ok(())
    }

    /// Zeroes the update coefficients of every diverged network, so that later steps leave
    /// its parameters as they are.
    fn freeze_diverged(&mut self) {
        for (net, d) in self.diverged.iter().enumerate() {
            if d.is_some() {
                for coefs in self.host_w_coef.iter_mut().chain(&mut self.host_b_coef) {
                    coefs[net] = 0.0;
                }
            }
        }
        let bufs = self.nets.w_coef.iter_mut().chain(&mut self.nets.b_coef);
        let hosts = self.host_w_coef.iter().chain(&self.host_b_coef);
        for (buf, host) in bufs.zip(hosts) {
            self.backend.write(buf, host);
        }
    }

    /// The training loss (squared: (1/2n) Σ ‖f − f0 − y‖², uncentred (1/2n) Σ ‖f − y‖²) of
    /// every network at its current parameters (one forward pass of the batch, one
    /// readback). A diverged network's value is not meaningful.
    pub async fn train_losses_async(&mut self) -> Result<Vec<f32>> {
        let batch = self.batch();
        let mut loss = match self.loss_now.take() {
            Some(buf) => buf,
            None => self.backend.zeros(batch),
        };
        self.nets.forward(&mut self.backend, &self.x, &mut self.ws);
        self.loss.signal_batched_into(
            &mut self.backend,
            batch,
            self.n_train,
            self.k,
            &self.ws.out,
            self.f0.as_ref(),
            1.0,
            &self.y,
            &mut self.ws.r,
            &mut loss,
            0,
        );
        let fetched = self.backend.read_async(&loss, batch).await;
        self.loss_now = Some(loss);
        fetched
    }

    /// The outputs f(x; θ_b) of every network at `x` (`rows × d`, row-major): one vector of
    /// `rows × K` (row-major) per network, evaluated in chunks with one readback each; never centred (f0 is
    /// known on the training inputs only). A diverged network's outputs are not meaningful.
    pub async fn predict_async(&mut self, x: &[f32]) -> Result<Vec<Vec<f32>>> {
        let (batch, dim, k) = (self.batch(), self.spec.input_dim, self.k);
        if !x.len().is_multiple_of(dim) {
            return Err(Error::ShapeMismatch {
                op: "BatchedTrainer::predict_async",
                expected: format!("rows of {dim} inputs"),
                got: format!("{} values", x.len()),
            });
        }
        let rows = x.len() / dim;
        let mut out = vec![vec![0.0f32; rows * k]; batch];
        if rows == 0 {
            return Ok(out);
        }
        let chunk = (EVAL_ELEMS / (batch * self.spec.max_width().max(k)))
            .clamp(1, EVAL_CHUNK)
            .min(rows);
        if self.eval.as_ref().is_none_or(|(ws, _, _)| ws.rows != chunk) {
            let ws = Workspace::new(&mut self.backend, &self.spec, batch, chunk);
            let xb = self.backend.zeros(chunk * dim);
            self.eval = Some((ws, xb, vec![0.0; chunk * dim]));
        }
        let (ws, xb, padded) = self.eval.as_mut().expect("created above");
        for start in (0..rows).step_by(chunk) {
            let m = chunk.min(rows - start);
            padded[..m * dim].copy_from_slice(&x[start * dim..(start + m) * dim]);
            padded[m * dim..].fill(0.0);
            self.backend.write(xb, padded);
            self.nets.forward(&mut self.backend, xb, ws);
            let f = self.backend.read_async(&ws.out, batch * chunk * k).await?;
            for (net, o) in out.iter_mut().enumerate() {
                let at = net * chunk * k;
                o[start * k..(start + m) * k].copy_from_slice(&f[at..at + m * k]);
            }
        }
        Ok(out)
    }

    /// The parameters of network `net` as one flat vector in the order of
    /// [`Mlp::params`](super::Mlp::params): W¹, b¹, W², b², … (one readback per buffer, of the
    /// networks up to `net`).
    pub async fn params_async(&mut self, net: usize) -> Result<Vec<f32>> {
        if net >= self.batch() {
            return Err(Error::config(
                "network",
                format!("network {net} of a batch of {}", self.batch()),
            ));
        }
        let mut out = Vec::with_capacity(self.spec.param_count());
        for (l, shape) in self.nets.layers.iter().enumerate() {
            for (buf, size) in [
                (&self.nets.weights[l], shape.fan_in * shape.fan_out),
                (&self.nets.biases[l], shape.fan_out),
            ] {
                let v = self.backend.read_async(buf, (net + 1) * size).await?;
                out.extend_from_slice(&v[net * size..]);
            }
        }
        Ok(out)
    }

    /// The parameters of every network, each as [`BatchedTrainer::params_async`] gives it
    /// (one readback per buffer).
    pub async fn all_params_async(&mut self) -> Result<Vec<Vec<f32>>> {
        let batch = self.batch();
        let mut out = vec![Vec::with_capacity(self.spec.param_count()); batch];
        for (l, shape) in self.nets.layers.iter().enumerate() {
            for (buf, size) in [
                (&self.nets.weights[l], shape.fan_in * shape.fan_out),
                (&self.nets.biases[l], shape.fan_out),
            ] {
                let v = self.backend.read_async(buf, batch * size).await?;
                for (o, block) in out.iter_mut().zip(v.chunks_exact(size.max(1))) {
                    o.extend_from_slice(block);
                }
            }
        }
        Ok(out)
    }
}

/// Blocking forms of the asynchronous methods, for native code (a GPU readback waits for the
/// device; on the CPU nothing waits).
#[cfg(not(target_arch = "wasm32"))]
impl<B: Backend> BatchedTrainer<B> {
    /// [`BatchedTrainer::advance_async`], blocking.
    pub fn advance(&mut self, k: u64) -> Result<Vec<Vec<f32>>> {
        crate::exec::block_on(self.advance_async(k))
    }

    /// [`BatchedTrainer::train_losses_async`], blocking.
    pub fn train_losses(&mut self) -> Result<Vec<f32>> {
        crate::exec::block_on(self.train_losses_async())
    }

    /// [`BatchedTrainer::predict_async`], blocking.
    pub fn predict(&mut self, x: &[f32]) -> Result<Vec<Vec<f32>>> {
        crate::exec::block_on(self.predict_async(x))
    }

    /// [`BatchedTrainer::params_async`], blocking.
    pub fn params(&mut self, net: usize) -> Result<Vec<f32>> {
        crate::exec::block_on(self.params_async(net))
    }

    /// [`BatchedTrainer::all_params_async`], blocking.
    pub fn all_params(&mut self) -> Result<Vec<Vec<f32>>> {
        crate::exec::block_on(self.all_params_async())
    }
}

/// The step size of the update for a slider value `lr`: [`Mlp::effective_lr`](super::Mlp::effective_lr)
/// (mean-field multiplies by n_L) for the architecture `spec`.
pub(crate) fn effective_lr(spec: &MlpSpec, lr: f64) -> f64 {
    match spec.parametrization {
        Parametrization::MeanField => lr * *spec.hidden.last().unwrap_or(&1) as f64,
        _ => lr,
    }
}
