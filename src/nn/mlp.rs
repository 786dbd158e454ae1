//! A fully connected network with K outputs (K = 1: a scalar output), in the three
//! parametrisations of Descent.
//!
//! Layer l (1-based, l = 1..L+1, with x⁰ = x the input and n₀ = d) computes
//!
//! ```text
//! z^l = w_mult^l · x^{l−1} W^l + b_mult^l · b^l,    x^l = φ(z^l) (hidden),    f = z^{L+1}
//! W^l ~ N(0, w_std²) of shape n_{l−1} × n_l,        b^l ~ N(0, b_std²)
//! ```
//!
//! with n_{L+1} = K, the number of outputs, and the parametrisation fixes the four numbers
//! (s is the initialisation scale):
//!
//! | parametrisation | w_mult | b_mult | w_std | b_std |
//! |---|---|---|---|---|
//! | NTK | σ_w/√n_{l−1} | σ_b | s | s |
//! | standard | 1 | 1 | s·σ_w/√n_{l−1} | s·σ_b |
//! | mean-field, hidden layers | as NTK | | | |
//! | mean-field, output layer | σ_w/n_L | σ_b/√n_L | s | s |
//!
//! Mean-field is the NTK parametrisation with the whole output layer divided by a further
//! √n_L, trained with the step size multiplied by n_L ([`Mlp::effective_lr`]) so that one
//! step-size setting means comparable speed at every width.
//!
//! The loss on a batch of n rows is a [`Loss`] of g = f, or, with the centred-output option,
//! g(x) = f(x;θ) − f(x;θ₀); for the squared loss L(θ) = (1/2n) Σᵢ ‖g(xᵢ) − yᵢ‖².
//!
//! Backward pass, with r = n·∂L/∂g the output signal (n × K; the residual g − y for the
//! squared loss) and δ^{L+1} = r/n:
//!
//! ```text
//! ∂L/∂W^l = w_mult^l · (x^{l−1})ᵀ δ^l        ∂L/∂b^l = b_mult^l · Σ_rows δ^l
//! δ^{l−1} = (w_mult^l · δ^l (W^l)ᵀ) ∘ φ'(z^{l−1})
//! ```
//!
//! A gradient step writes the update straight into W and b (`gemm` with β = 1), so training
//! needs no gradient buffers; [`Mlp::gradient`] writes into separate ones for checks.

use serde::{Deserialize, Serialize};

use super::{Activation, Loss};
use crate::backend::{Backend, Trans};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// How weights are scaled in the forward pass and at initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Parametrization {
    Ntk,
    Standard,
    MeanField,
}

impl Parametrization {
    pub const ALL: [Parametrization; 3] = [
        Parametrization::Ntk,
        Parametrization::Standard,
        Parametrization::MeanField,
    ];

    /// The name a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            Parametrization::Ntk => "NTK",
            Parametrization::Standard => "standard",
            Parametrization::MeanField => "mean-field (µP-style)",
        }
    }
}

/// The architecture and initialisation of an MLP.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpSpec {
    /// Input dimension d.
    pub input_dim: usize,
    /// Hidden widths n_1..n_L (L ≥ 1).
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub parametrization: Parametrization,
    /// σ_w: the weight scale.
    pub sigma_w: f64,
    /// σ_b: the bias scale.
    pub sigma_b: f64,
    /// s: the initialisation scale multiplying every initial weight and bias.
    pub init_scale: f64,
    /// K: the number of outputs (1: the scalar network of ±1 labels; the number of classes
    /// for one-hot targets). At most [`MAX_OUTPUTS`].
    pub outputs: usize,
}

/// The most outputs a network may have (a GPU invocation loops over one row's outputs).
pub const MAX_OUTPUTS: usize = 1024;

/// The per-layer constants derived from an [`MlpSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerShape {
    pub fan_in: usize,
    pub fan_out: usize,
    pub w_mult: f32,
    pub b_mult: f32,
    pub w_std: f64,
    pub b_std: f64,
}

impl MlpSpec {
    /// The constants of every layer, hidden layers first, the output layer last.
    pub fn layers(&self) -> Vec<LayerShape> {
        let mut dims = vec![self.input_dim];
        dims.extend(&self.hidden);
        dims.push(self.outputs);
        let last = dims.len() - 2;
        let s = self.init_scale;
        (0..dims.len() - 1)
            .map(|l| {
                let (fan_in, fan_out) = (dims[l], dims[l + 1]);
                let root = (fan_in as f64).sqrt();
                let (w_mult, b_mult, w_std, b_std) = match self.parametrization {
                    Parametrization::Ntk => (self.sigma_w / root, self.sigma_b, s, s),
                    Parametrization::Standard => {
                        (1.0, 1.0, s * self.sigma_w / root, s * self.sigma_b)
                    }
                    Parametrization::MeanField if l == last => {
                        (self.sigma_w / fan_in as f64, self.sigma_b / root, s, s)
                    }
                    Parametrization::MeanField => (self.sigma_w / root, self.sigma_b, s, s),
                };
                LayerShape {
                    fan_in,
                    fan_out,
                    w_mult: w_mult as f32,
                    b_mult: b_mult as f32,
                    w_std,
                    b_std,
                }
            })
            .collect()
    }

    /// Number of trained parameters (weights and biases).
    pub fn param_count(&self) -> usize {
        self.layers()
            .iter()
            .map(|l| l.fan_in * l.fan_out + l.fan_out)
            .sum()
    }

    /// Floating-point operations of one forward pass at one input point (multiply-adds × 2).
    pub fn forward_flops_per_point(&self) -> f64 {
        self.layers()
            .iter()
            .map(|l| 2.0 * (l.fan_in * l.fan_out) as f64)
            .sum()
    }

    /// Largest layer width (for workspace sizes).
    pub fn max_width(&self) -> usize {
        self.hidden.iter().copied().max().unwrap_or(1).max(1)
    }

    pub fn validate(&self) -> Result<()> {
        if self.input_dim == 0 {
            return Err(Error::config("inputDim", "must be at least 1"));
        }
        if self.outputs == 0 || self.outputs > MAX_OUTPUTS {
            return Err(Error::config(
                "outputs",
                format!(
                    "a network has 1 to {MAX_OUTPUTS} outputs, got {}",
                    self.outputs
                ),
            ));
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(Error::config(
                "width",
                "every hidden layer needs at least one unit",
            ));
        }
        for (field, v) in [
            ("sigmaW", self.sigma_w),
            ("sigmaB", self.sigma_b),
            ("initScale", self.init_scale),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(
                    field,
                    format!("must be a finite number ≥ 0, got {v}"),
                ));
            }
        }
        Ok(())
    }
}

/// Where a backward pass writes: a gradient step into the parameters, or the gradient itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backward {
    /// θ ← θ − lr · ∇L (lr already includes any parametrisation factor).
    Step { lr: f32 },
    /// ∇L into the gradient buffers (see [`Mlp::gradient`]).
    Gradient,
}

/// Activations of one forward pass over `rows` examples, and the backward scratch.
pub struct Workspace<B: Backend> {
    /// Rows this workspace holds.
    pub rows: usize,
    /// Pre-activations z^l of the hidden layers, each `rows × n_l`.
    pub(crate) z: Vec<B::Buf>,
    /// Activations x^l = φ(z^l), each `rows × n_l`.
    pub(crate) h: Vec<B::Buf>,
    /// Output pre-activation before the bias, `rows × K`.
    out_pre: B::Buf,
    /// Output f, `rows × K`.
    pub out: B::Buf,
    /// Output signal r (the residual for the squared loss), `rows × K`.
    r: B::Buf,
    /// Back-propagated signals (ping-pong), each `rows × max width`.
    delta: [B::Buf; 2],
    /// The loss of the last [`Mlp::loss_and_residual`], one element.
    loss: B::Buf,
}

impl<B: Backend> Workspace<B> {
    pub fn new(backend: &mut B, spec: &MlpSpec, rows: usize) -> Self {
        let z = spec
            .hidden
            .iter()
            .map(|&w| backend.zeros(rows * w))
            .collect();
        let h = spec
            .hidden
            .iter()
            .map(|&w| backend.zeros(rows * w))
            .collect();
        let mw = spec.max_width();
        let k = spec.outputs;
        Workspace {
            rows,
            z,
            h,
            out_pre: backend.zeros(rows * k),
            out: backend.zeros(rows * k),
            r: backend.zeros(rows * k),
            delta: [backend.zeros(rows * mw), backend.zeros(rows * mw)],
            loss: backend.zeros(1),
        }
    }

    /// Bytes of f32 storage a workspace of `rows` rows needs for `spec`.
    pub fn bytes(spec: &MlpSpec, rows: usize) -> u64 {
        let hidden: usize = spec.hidden.iter().sum();
        4 * (rows * (2 * hidden + 2 * spec.max_width() + 3 * spec.outputs) + 1) as u64
    }
}

/// Buffers shaped like every layer's parameters (gradients, velocities): weights, then biases.
pub type Grads<B> = (Vec<<B as Backend>::Buf>, Vec<<B as Backend>::Buf>);

/// An MLP whose parameters live in backend buffers.
pub struct Mlp<B: Backend> {
    pub spec: MlpSpec,
    pub layers: Vec<LayerShape>,
    /// W^l, `fan_in × fan_out` row-major, one per layer.
    pub weights: Vec<B::Buf>,
    /// b^l, `fan_out`, one per layer.
    pub biases: Vec<B::Buf>,
    /// Gradient buffers, allocated on the first [`Mlp::gradient`] call.
    grads: Option<Grads<B>>,
}

impl<B: Backend> Mlp<B> {
    /// Draws the initial parameters from `rng` (weights layer by layer, then that layer's biases).
    pub fn new(backend: &mut B, spec: MlpSpec, rng: &mut Rng) -> Result<Self> {
        spec.validate()?;
        let layers = spec.layers();
        let mut weights = Vec::with_capacity(layers.len());
        let mut biases = Vec::with_capacity(layers.len());
        for l in &layers {
            let mut w = vec![0.0f32; l.fan_in * l.fan_out];
            rng.fill_normal_f32(&mut w, l.w_std);
            let mut b = vec![0.0f32; l.fan_out];
            rng.fill_normal_f32(&mut b, l.b_std);
            weights.push(backend.upload(&w));
            biases.push(backend.upload(&b));
        }
        Ok(Mlp {
            spec,
            layers,
            weights,
            biases,
            grads: None,
        })
    }

    pub fn param_count(&self) -> usize {
        self.spec.param_count()
    }

    /// The step size the update uses for a slider value `lr` (mean-field multiplies by n_L).
    pub fn effective_lr(&self, lr: f64) -> f64 {
        match self.spec.parametrization {
            Parametrization::MeanField => lr * *self.spec.hidden.last().unwrap_or(&1) as f64,
            _ => lr,
        }
    }

    /// Forward pass of `x` (`ws.rows × d`) into `ws.out`.
    pub fn forward(&self, backend: &mut B, x: &B::Buf, ws: &mut Workspace<B>) {
        let rows = ws.rows;
        let act = self.spec.activation;
        let n_hidden = self.spec.hidden.len();
        for (l, shape) in self.layers.iter().enumerate() {
            let (w, b) = (&self.weights[l], &self.biases[l]);
            if l < n_hidden {
                // z^l = w_mult · x^{l−1} W^l  (rows × fan_in)·(fan_in × fan_out)
                let (before, rest) = ws.h.split_at_mut(l);
                let input = if l == 0 { x } else { &before[l - 1] };
                backend.gemm(
                    Trans::N,
                    Trans::N,
                    rows,
                    shape.fan_out,
                    shape.fan_in,
                    shape.w_mult,
                    input,
                    w,
                    0.0,
                    &mut ws.z[l],
                );
                backend.bias_act(
                    rows,
                    shape.fan_out,
                    &mut ws.z[l],
                    b,
                    shape.b_mult,
                    act,
                    &mut rest[0],
                );
            } else {
                let input = if l == 0 { x } else { &ws.h[l - 1] };
                backend.gemm(
                    Trans::N,
                    Trans::N,
                    rows,
                    shape.fan_out,
                    shape.fan_in,
                    shape.w_mult,
                    input,
                    w,
                    0.0,
                    &mut ws.out_pre,
                );
                backend.bias_act(
                    rows,
                    shape.fan_out,
                    &mut ws.out_pre,
                    b,
                    shape.b_mult,
                    Activation::Linear,
                    &mut ws.out,
                );
            }
        }
    }

    /// After [`Mlp::forward`]: the output signal of `loss` (for the squared loss the residual
    /// r = α(f − f0) − y) into the workspace and the loss into its loss slot; returns the loss
    /// (a readback of one number). α is the output scale (1 for the plain network).
    pub fn loss_and_residual(
        &self,
        backend: &mut B,
        loss: Loss,
        y: &B::Buf,
        f0: Option<&B::Buf>,
        alpha: f32,
        ws: &mut Workspace<B>,
    ) -> f32 {
        let Workspace {
            rows,
            out,
            r,
            loss: slot,
            ..
        } = ws;
        let k = self.spec.outputs;
        loss.signal_into(backend, *rows, k, out, f0, alpha, y, r, slot, 0);
        let mut l = [0.0f32];
        backend.read(&ws.loss, &mut l);
        l[0]
    }

    /// After [`Mlp::forward`]: the output signal into the workspace, as in
    /// [`Mlp::loss_and_residual`], and the loss into `slots[slot]`, with no readback (a batch
    /// of steps writes its losses into the slots of one buffer and reads them back once).
    pub fn residual_loss_into(
        &self,
        backend: &mut B,
        loss: Loss,
        y: &B::Buf,
        f0: Option<&B::Buf>,
        alpha: f32,
        ws: &mut Workspace<B>,
        slots: &mut B::Buf,
        slot: usize,
    ) {
        loss.signal_into(
            backend,
            ws.rows,
            self.spec.outputs,
            &ws.out,
            f0,
            alpha,
            y,
            &mut ws.r,
            slots,
            slot,
        );
    }

    /// Back-propagates the residual left in `ws` by [`Mlp::loss_and_residual`] through the
    /// activations left by [`Mlp::forward`] on the same `x`, and applies `mode`.
    pub fn backward(&mut self, backend: &mut B, x: &B::Buf, ws: &mut Workspace<B>, mode: Backward) {
        let rows = ws.rows;
        let act = self.spec.activation;
        let inv_n = 1.0 / rows as f32;
        let (coef, beta) = match mode {
            Backward::Step { lr } => (-lr, 1.0),
            Backward::Gradient => (1.0, 0.0),
        };
        if mode == Backward::Gradient && self.grads.is_none() {
            let gw = self
                .layers
                .iter()
                .map(|l| backend.zeros(l.fan_in * l.fan_out))
                .collect();
            let gb = self
                .layers
                .iter()
                .map(|l| backend.zeros(l.fan_out))
                .collect();
            self.grads = Some((gw, gb));
        }
        let Workspace { z, h, r, delta, .. } = ws;
        let [d_cur, d_next] = delta;
        // δ^{L+1} = r / n is folded into the multipliers below rather than materialised.
        let mut cur_is_residual = true;
        for l in (0..self.layers.len()).rev() {
            let shape = self.layers[l];
            let (fan_in, fan_out) = (shape.fan_in, shape.fan_out);
            let scale = if cur_is_residual { inv_n } else { 1.0 };
            let delta_l: &B::Buf = if cur_is_residual { r } else { d_cur };
            let input = if l == 0 { x } else { &h[l - 1] };
            // The signal for the layer below needs W^l before it is updated.
            if l > 0 {
                // δ^{l−1} = (w_mult · δ^l W^lᵀ) ∘ φ'(z^{l−1})   (rows × fan_out)·(fan_out × fan_in)
                backend.gemm(
                    Trans::N,
                    Trans::T,
                    rows,
                    fan_in,
                    fan_out,
                    shape.w_mult * scale,
                    delta_l,
                    &self.weights[l],
                    0.0,
                    d_next,
                );
            }
            let (wdst, bdst) = match (&mode, &mut self.grads) {
                (Backward::Gradient, Some((gw, gb))) => (&mut gw[l], &mut gb[l]),
                _ => (&mut self.weights[l], &mut self.biases[l]),
            };
            // ∂L/∂W^l = w_mult · x^{l−1}ᵀ δ^l   (fan_in × rows)·(rows × fan_out)
            backend.gemm(
                Trans::T,
                Trans::N,
                fan_in,
                fan_out,
                rows,
                coef * shape.w_mult * scale,
                input,
                delta_l,
                beta,
                wdst,
            );
            // ∂L/∂b^l = b_mult · Σ_rows δ^l
            backend.col_sum(
                rows,
                fan_out,
                coef * shape.b_mult * scale,
                delta_l,
                beta,
                bdst,
            );
            if l > 0 {
                let len = rows * fan_in;
                // In place: δ ← δ ∘ φ'(z) reads and writes d_next; the backend op takes two
                // buffers, so the result goes to d_cur, which is free now.
                backend.act_backward(len, &z[l - 1], d_next, act, d_cur);
                cur_is_residual = false;
            }
        }
    }

    /// The full-batch gradient of `loss` on (x, y) as flat vectors, layer by layer: W¹, b¹,
    /// W², b², … (the order of [`Mlp::params`]). Returns (loss, gradient).
    pub fn gradient(
        &mut self,
        backend: &mut B,
        loss: Loss,
        x: &B::Buf,
        y: &B::Buf,
        f0: Option<&B::Buf>,
        ws: &mut Workspace<B>,
    ) -> (f32, Vec<f32>) {
        self.forward(backend, x, ws);
        let loss = self.loss_and_residual(backend, loss, y, f0, 1.0, ws);
        self.backward(backend, x, ws, Backward::Gradient);
        let (gw, gb) = self.grads.as_ref().expect("allocated by backward");
        let mut out = Vec::with_capacity(self.param_count());
        for (l, shape) in self.layers.iter().enumerate() {
            let mut w = vec![0.0; shape.fan_in * shape.fan_out];
            backend.read(&gw[l], &mut w);
            let mut b = vec![0.0; shape.fan_out];
            backend.read(&gb[l], &mut b);
            out.extend(w);
            out.extend(b);
        }
        (loss, out)
    }

    /// All parameters as one flat vector: W¹, b¹, W², b², …
    pub fn params(&self, backend: &mut B) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.param_count());
        for (l, shape) in self.layers.iter().enumerate() {
            let mut w = vec![0.0; shape.fan_in * shape.fan_out];
            backend.read(&self.weights[l], &mut w);
            let mut b = vec![0.0; shape.fan_out];
            backend.read(&self.biases[l], &mut b);
            out.extend(w);
            out.extend(b);
        }
        out
    }

    /// Overwrites all parameters from a flat vector in the order of [`Mlp::params`].
    pub fn set_params(&mut self, backend: &mut B, flat: &[f32]) -> Result<()> {
        if flat.len() != self.param_count() {
            return Err(Error::ShapeMismatch {
                op: "set_params",
                expected: self.param_count().to_string(),
                got: flat.len().to_string(),
            });
        }
        let mut at = 0;
        for (l, shape) in self.layers.iter().enumerate() {
            let nw = shape.fan_in * shape.fan_out;
            backend.write(&mut self.weights[l], &flat[at..at + nw]);
            at += nw;
            backend.write(&mut self.biases[l], &flat[at..at + shape.fan_out]);
            at += shape.fan_out;
        }
        Ok(())
    }

    /// A heavy-ball step ([`super::momentum`]) from the gradient the latest
    /// `backward(…, Backward::Gradient)` left in the gradient buffers: per layer, for the
    /// weights and for the biases, `v = beta · v + g + wd · θ; θ −= lr · v`. `velocity` holds
    /// one buffer per layer's weights and one per layer's biases, shaped like the parameters.
    /// Does nothing before any gradient has been computed.
    pub fn momentum_step(
        &mut self,
        backend: &mut B,
        velocity: &mut Grads<B>,
        lr: f32,
        beta: f32,
        wd: f32,
    ) {
        let Some((gw, gb)) = &self.grads else {
            return;
        };
        let (vw, vb) = velocity;
        for (l, shape) in self.layers.iter().enumerate() {
            let nw = shape.fan_in * shape.fan_out;
            backend.momentum_step(nw, lr, beta, wd, &gw[l], &mut vw[l], &mut self.weights[l]);
            backend.momentum_step(
                shape.fan_out,
                lr,
                beta,
                wd,
                &gb[l],
                &mut vb[l],
                &mut self.biases[l],
            );
        }
    }
}
