//! The matrix operations the engine needs, behind one seam.
//!
//! The MLP trainer ([`crate::nn`]) is written once against [`Backend`]; the CPU implementation
//! ([`cpu::Cpu`]) is the reference, and the GPU implementation ([`gpu::Gpu`], WebGPU compute
//! shaders through wgpu, each the twin of the CPU function of the same name) keeps its buffers
//! on the device and encodes many operations per submission. Reductions write into buffers
//! rather than returning numbers, so a GPU backend can defer every readback to the end of a
//! batch of steps and fetch it with [`Backend::read_async`], the readback that works on the web.
//!
//! The `*_batched` operations run one operation for `batch` independent networks of the same
//! shape at once (one GPU dispatch for all of them): network b's operand starts at element
//! `b · stride` of its buffer, and a stride of 0 shares one operand among all networks (the
//! training inputs). An optional per-network coefficient buffer scales each network's product
//! or sum; a coefficient of 0 skips the network's operand entirely, so a network frozen by a
//! zero step size keeps its parameters even when its gradient is not finite, and nothing of
//! one network ever reaches another.
//!
//! Layout: every matrix is row-major and dense. A batch of activations is `rows × cols` with
//! one example per row. A weight matrix of a layer with `n_in` inputs and `n_out` outputs is
//! stored `n_in × n_out`, so the forward pass is `Z = X · W` and the backward pass needs
//! `Xᵀ · dZ` (weight gradient) and `dZ · Wᵀ` (input gradient).

pub mod cpu;
pub mod gpu;

use std::future::Future;

use crate::error::Result;
pub use crate::math::Activation;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    /// As stored.
    N,
    /// Transposed.
    T,
}

/// Hidden layers [`Backend::nngp_ntk_recursion`] runs at most: one GPU invocation loops over
/// them (a few dozen operations each; far below llvmpipe's 65535 loop iterations, and far
/// deeper than any scene).
pub const MAX_RECURSION_DEPTH: usize = 1024;

/// The scalars of [`Backend::nngp_ntk_recursion`] (see [`crate::kernels::analytic`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelRecursion {
    /// L, the number of hidden layers.
    pub depth: usize,
    /// φ: ReLU, erf or linear.
    pub activation: Activation,
    /// s², the variance multiplier of the initialisation scale.
    pub s2: f32,
    /// σ_w².
    pub sw2: f32,
    /// σ_b².
    pub sb2: f32,
}

/// The operations of a training step and of the kernel matrices (empirical and analytic). All
/// lengths are in f32 elements.
pub trait Backend {
    /// A device buffer of f32.
    type Buf;

    /// A short name shown to the reader ("cpu", "webgpu").
    fn name(&self) -> &'static str;

    /// A zero-filled buffer of `len` elements.
    fn zeros(&mut self, len: usize) -> Self::Buf;
    /// A buffer holding a copy of `data`.
    fn upload(&mut self, data: &[f32]) -> Self::Buf;
    /// Overwrites `buf[..data.len()]` with `data`.
    fn write(&mut self, buf: &mut Self::Buf, data: &[f32]);
    /// Copies `buf[..out.len()]` into `out` (a readback on a GPU, which blocks natively and
    /// is unavailable on the web: there use [`Backend::read_async`]).
    fn read(&mut self, buf: &Self::Buf, out: &mut [f32]);
    /// `buf[..len]`, once every operation queued before this call has run: the readback that
    /// also works on the web. The future borrows nothing, so more work can be queued before
    /// it is awaited ("advance k steps, then await one readback of their k losses").
    fn read_async(
        &mut self,
        buf: &Self::Buf,
        len: usize,
    ) -> impl Future<Output = Result<Vec<f32>>> + use<Self>;
    /// Starts the work queued so far (a GPU submits its command buffer; a no-op on the CPU).
    fn flush(&mut self) {}
    /// `dst[..len] = src[..len]`.
    fn copy(&mut self, src: &Self::Buf, dst: &mut Self::Buf, len: usize);

    /// `C = alpha · op(A) · op(B) + beta · C` with `op(A)` of shape m×k, `op(B)` k×n, C m×n,
    /// all row-major and packed (leading dimension = row length as stored).
    /// A is stored m×k if `ta == N`, k×m if `T`; B is stored k×n if `tb == N`, n×k if `T`.
    fn gemm(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &Self::Buf,
        b: &Self::Buf,
        beta: f32,
        c: &mut Self::Buf,
    );

    /// Forward through bias and activation, in place on a `rows × cols` pre-activation:
    /// `z[i,j] += bias_scale · bias[j]`, then `h[i,j] = φ(z[i,j])`.
    fn bias_act(
        &mut self,
        rows: usize,
        cols: usize,
        z: &mut Self::Buf,
        bias: &Self::Buf,
        bias_scale: f32,
        act: Activation,
        h: &mut Self::Buf,
    );

    /// Backward through the activation: `dz[i] = dh[i] · φ'(z[i])` for `i < len`.
    fn act_backward(
        &mut self,
        len: usize,
        z: &Self::Buf,
        dh: &Self::Buf,
        act: Activation,
        dz: &mut Self::Buf,
    );

    /// Column sums of a `rows × cols` matrix: `out[j] = alpha · Σ_i a[i,j] + beta · out[j]`
    /// (with `beta == 0`, `out` is overwritten and never read).
    fn col_sum(
        &mut self,
        rows: usize,
        cols: usize,
        alpha: f32,
        a: &Self::Buf,
        beta: f32,
        out: &mut Self::Buf,
    );

    /// `y[i] += alpha · x[i]` for `i < len`.
    fn axpy(&mut self, len: usize, alpha: f32, x: &Self::Buf, y: &mut Self::Buf);

    /// Squared-error residual and loss for `rows × cols` outputs (`len = rows · cols`):
    /// `r[i] = scale · (f[i] − f0[i]) − y[i]` (with `f0` absent: `scale · f[i] − y[i]`) for
    /// `i < len`, and `loss[slot] = Σ r[i]² / (2·rows)` (per row, not per output). Returns
    /// nothing so a GPU can defer the readback.
    fn residual_loss(
        &mut self,
        rows: usize,
        cols: usize,
        f: &Self::Buf,
        f0: Option<&Self::Buf>,
        scale: f32,
        y: &Self::Buf,
        r: &mut Self::Buf,
        loss: &mut Self::Buf,
        slot: usize,
    );

    /// Softmax cross-entropy signal and loss for `rows × cols` outputs (one row of `cols`
    /// logits per example): with `g = scale · (f − f0)` (`f0` absent: `scale · f`) and `y`
    /// `rows × cols` target probabilities,
    /// `r[i,c] = softmax(g_i)_c − y[i,c]` and
    /// `loss[slot] = (1/rows) Σ_i Σ_c y[i,c] · (logsumexp(g_i) − g[i,c])`, computed stably
    /// (the row maximum subtracted before exponentiating). Returns nothing, as
    /// [`Backend::residual_loss`].
    fn cross_entropy(
        &mut self,
        rows: usize,
        cols: usize,
        f: &Self::Buf,
        f0: Option<&Self::Buf>,
        scale: f32,
        y: &Self::Buf,
        r: &mut Self::Buf,
        loss: &mut Self::Buf,
        slot: usize,
    );

    /// The DLLP bag loss's signal and value (see [`crate::nn::Loss::Proportions`]) for
    /// `rows × cols` logits in consecutive bags of `bag` rows: with `g = scale · (f − f0)`
    /// (`f0` absent: `scale · f`), s_i = softmax(g_i), bag j's proportions
    /// `p_jc = (1/bag) Σ_{i∈B_j} y[i,c]` (the mean of its target rows) and its predicted ones
    /// p̄_jc = (1/bag) Σ_{i∈B_j} s_ic,
    /// `r[i,c] = s_ic · U_i − u_ic` with u_ic = p_jc · s_ic / p̄_jc and U_i = Σ_c u_ic (that is
    /// rows · ∂L/∂g), and `loss[slot] = −(1/m) Σ_j Σ_c p_jc log p̄_jc`, m = rows / bag.
    ///
    /// Stable: with a_ic = log s_ic = (g_ic − max_c g_i) − ln Σ_c e^{g_ic − max} and i* the bag's
    /// row of the largest a_ic, −log p̄_jc = (max g_{i*} − g_{i*c}) + ln S_{i*} − ln T_jc + ln bag,
    /// T_jc = Σ_{i∈B_j} e^{a_ic − a_{i*c}} ∈ [1, bag] (the log-sum-exp over the bag), and
    /// s_ic / p̄_jc = bag · e^{a_ic − a_{i*c}} / T_jc. With `bag == 1` every extra term is exactly
    /// 0 or 1, so the arithmetic is [`Backend::cross_entropy`]'s (bit for bit on the CPU when
    /// each target row sums to 1 in f32, as one-hot rows do). `bag` must be at least 1 and
    /// divide `rows` (the caller checks, [`crate::nn::Loss::check_rows`]): otherwise the CPU
    /// writes NaN into `loss[slot]` and the GPU records a device error (as it does for bags
    /// longer than [`gpu::MAX_BAG`]). Returns nothing, as [`Backend::residual_loss`].
    fn bag_cross_entropy(
        &mut self,
        rows: usize,
        cols: usize,
        bag: usize,
        f: &Self::Buf,
        f0: Option<&Self::Buf>,
        scale: f32,
        y: &Self::Buf,
        r: &mut Self::Buf,
        loss: &mut Self::Buf,
        slot: usize,
    );

    /// One layer's term of the empirical NTK ([`crate::nn::ntk`]), accumulated element-wise:
    /// `out[offset + i] = beta · out[offset + i] + g_d[i] · (w_coef · g_x[i] + b_coef)` for
    /// `i < len`, with `g_d[i] = 1` when `g_d` is `None` (the output layer, whose signal is 1).
    /// `g_d` and `g_x` are the layer's signal and input Grams (`len` = n1·n2 elements each, any
    /// layout, the same for both and for `out`); with `beta == 0`, `out` is overwritten and
    /// never read. The offset lets the NTK and the NNGP share one buffer and one readback.
    fn ntk_accumulate(
        &mut self,
        len: usize,
        g_d: Option<&Self::Buf>,
        g_x: &Self::Buf,
        w_coef: f32,
        b_coef: f32,
        beta: f32,
        out: &mut Self::Buf,
        offset: usize,
    );

    /// The layer recursion of the analytic NNGP and NTK ([`crate::kernels::analytic`]) in f32,
    /// for every element of a `rows × cols` kernel matrix (row-major) at once. Element (r, c)
    /// pairs the input r of one set with the input c of the other:
    ///
    /// ```text
    /// g = a1[r,c] (= x_r·x_c/d),   Σ = s²(σ_w² g + σ_b²),   Θ = α_w[0] g + α_b[0]
    /// for l in 0..depth:  (E, Ė) = (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, Σ], [Σ, b]])
    ///                     with a = var_rows[l·rows + r], b = var_cols[l·cols + c],
    ///                     Θ ← Θ · s²σ_w² Ė + α_w[l+1] E + α_b[l+1],   Σ ← s²(σ_w² E + σ_b²)
    /// out[r·cols + c] = Σ (the NNGP),   out[rows·cols + r·cols + c] = Θ (the NTK)
    /// ```
    ///
    /// `var_rows` (`depth × rows`) and `var_cols` (`depth × cols`) hold the variances
    /// Σ^{l+1}(x, x) of each input at the input of hidden layer l + 1, `layer_coefs` the
    /// `2·(depth + 1)` coefficients α_w[0..=depth] then α_b[0..=depth]; `out` holds
    /// `2·rows·cols`. The moments are the closed forms of ReLU (arc-cosine), erf (arcsine) and
    /// the identity (`Activation::Linear`); tanh has none (its kernels are a Hermite series on
    /// the CPU) and gives NaN. The output factor of the mean-field parametrisation and the exact
    /// diagonal are applied by the caller ([`crate::kernels::analytic::nngp_ntk_on`]).
    fn nngp_ntk_recursion(
        &mut self,
        rows: usize,
        cols: usize,
        rec: KernelRecursion,
        a1: &Self::Buf,
        var_rows: &Self::Buf,
        var_cols: &Self::Buf,
        layer_coefs: &Self::Buf,
        out: &mut Self::Buf,
    );

    /// [`Backend::gemm`] for `batch` networks at once: for every b < `batch`,
    /// `C_b = alpha · s_b · op(A_b) · op(B_b) + beta · C_b`, where A_b starts at element
    /// `b · stride_a` of `a` (likewise B_b, C_b), each packed as in [`Backend::gemm`], and
    /// `s_b = scales[b]` (1 when `scales` is `None`). A stride of 0 shares one operand among
    /// all networks (never C: `stride_c ≥ m·n`). When `alpha · s_b == 0`, A_b and B_b are not
    /// read and `C_b = beta · C_b`; with `beta == 0`, C is overwritten and never read.
    fn gemm_batched(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        batch: usize,
        alpha: f32,
        scales: Option<&Self::Buf>,
        a: &Self::Buf,
        stride_a: usize,
        b: &Self::Buf,
        stride_b: usize,
        beta: f32,
        c: &mut Self::Buf,
        stride_c: usize,
    );

    /// [`Backend::bias_act`] for `batch` networks: `z` and `h` hold `batch` packed
    /// `rows × cols` matrices one after another, `bias` holds `batch` rows of `cols` (network
    /// b's bias starts at `b · cols`).
    fn bias_act_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        z: &mut Self::Buf,
        bias: &Self::Buf,
        bias_scale: f32,
        act: Activation,
        h: &mut Self::Buf,
    );

    /// [`Backend::col_sum`] for `batch` networks: `a` holds `batch` packed `rows × cols`
    /// matrices, and `out[b·cols + j] = alpha · s_b · Σ_i a_b[i,j] + beta · out[b·cols + j]`
    /// with `s_b = scales[b]` (1 when `None`). When `alpha · s_b == 0`, a_b is not read.
    fn col_sum_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        alpha: f32,
        scales: Option<&Self::Buf>,
        a: &Self::Buf,
        beta: f32,
        out: &mut Self::Buf,
    );

    /// [`Backend::residual_loss`] for `batch` networks on shared targets: `f`, `r` and `f0`
    /// (when present: each network's outputs at its θ₀, for a centred run) hold `batch` runs of
    /// `len = rows · cols` outputs, `y` one run of `len` targets;
    /// `r[b·len + i] = scale · (f[b·len + i] − f0[b·len + i]) − y[i]` (without f0:
    /// `scale · f[b·len + i] − y[i]`) and `loss[slot·batch + b] = Σ_i r[b·len + i]² / (2·rows)`
    /// (so step j of a run of steps writes row j of a `steps × batch` loss matrix).
    fn residual_loss_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        f: &Self::Buf,
        f0: Option<&Self::Buf>,
        scale: f32,
        y: &Self::Buf,
        r: &mut Self::Buf,
        loss: &mut Self::Buf,
        slot: usize,
    );

    /// [`Backend::cross_entropy`] for `batch` networks on shared targets, laid out as in
    /// [`Backend::residual_loss_batched`]: network b's logits (and f0, r) start at
    /// `b · rows · cols`, `y` is one `rows × cols` matrix of target probabilities, and network
    /// b's loss goes into `loss[slot·batch + b]`.
    fn cross_entropy_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        f: &Self::Buf,
        f0: Option<&Self::Buf>,
        scale: f32,
        y: &Self::Buf,
        r: &mut Self::Buf,
        loss: &mut Self::Buf,
        slot: usize,
    );

    /// One heavy-ball step with L2 weight decay over `len` parameters, in place:
    /// `v[i] = beta · v[i] + g[i] + wd · theta[i]`, then `theta[i] −= lr · v[i]` (the new v),
    /// for `i < len` ([`crate::nn::Momentum`]). `g` is the gradient of the loss; elements past
    /// `len` are not touched.
    fn momentum_step(
        &mut self,
        len: usize,
        lr: f32,
        beta: f32,
        wd: f32,
        g: &Self::Buf,
        v: &mut Self::Buf,
        theta: &mut Self::Buf,
    );
}
