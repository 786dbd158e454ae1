//! The empirical neural tangent kernel of a live network, its NNGP, and the two distances the
//! lazy-or-rich scene plots against training time and width.
//!
//! Θ(x, x') = Σ_params ∂f(x)/∂θ·∂f(x')/∂θ (Jacot et al. 2018) needs no per-sample Jacobian for
//! an MLP. With the conventions of [`super::mlp`], the parameters of layer l contribute
//!
//! ```text
//! ∂f/∂W^l_{pj} = w_mult^l · x^{l−1}_p · D^l_j,     ∂f/∂b^l_j = b_mult^l · D^l_j,
//! Θ = Σ_l (D^l D'^lᵀ) ∘ (w_mult^l² · X^{l−1} X'^{l−1}ᵀ + b_mult^l²)
//! ```
//!
//! where D^l = ∂f/∂z^l per sample (n × n_l) comes from one backward pass with the output
//! signal set to 1 on every row (D^{L+1} = 1, no 1/n):
//! D^{l−1} = (w_mult^l · D^l W^lᵀ) ∘ φ'(z^{l−1}). Each layer costs two Gram matrices,
//! O(n₁·n₂·width), through the backend's `gemm`, combined on the device by
//! [`Backend::ntk_accumulate`]; the kernels are read back once, at the end, so the same code
//! runs on the CPU, natively on a GPU and on the web's WebGPU, where nothing may block.
//!
//! **K outputs.** Θ_ab(x, x') = Σ_params ∂f_a(x)/∂θ·∂f_b(x')/∂θ pairs output a at x with output
//! b at x'. The readout's own parameters give δ_ab (w_mult^L² X^L X'^Lᵀ + b_mult^L²) (output a
//! depends only on column a of W^L and on b^L_a); each hidden layer gives
//! (D^l_a D'^l_bᵀ) ∘ (w_mult^l² X X'ᵀ + b_mult^l²), with D^l_a back-propagated from the signal
//! e_a (1 on output a, 0 on the others). So a network of K outputs takes K backward passes
//! per side and K² signal Grams per hidden layer; the input Grams are shared. The kernel is
//! returned as the nK₁ × nK₂ matrix whose entry (i·K + a, j·K + b) is Θ_ab(x_i, x'_j), the
//! row-major order of the outputs everywhere else ([`output_block`] takes one (a, b) block
//! out). Diagonal block a is exactly the NTK of the scalar network that keeps the hidden layers
//! and readout column a; off-diagonal blocks sum Σ_j W^L_ja W^L_jb (…) over the last hidden
//! units, whose terms have mean zero at initialisation, so in the NTK parametrisation they
//! shrink like 1/√width against the diagonal: Θ → Θ_scalar ⊗ I_K at infinite width. For K = 1
//! the computation is the scalar one, operation for operation.
//!
//! **Precision.** Everything is f32, the network's precision: the Gram matrices and their sum
//! over layers, accumulated on the device. The sum adds three or four roundings per layer,
//! each ≤ 2⁻²⁴ of that layer's |term| (a few 1e-7 of the largest entry after a handful of
//! layers), below the Grams' own error of order √width·2⁻²⁴ (about 1e-6 at width 256): an f64
//! sum of the same f32 Grams would differ by less than their rounding. The returned matrices
//! are the f32 values widened to f64.
//!
//! The empirical NNGP is the covariance of the output over a fresh draw of the output layer
//! given the last hidden features: w_std²·w_mult²·X^L X'^Lᵀ + b_std²·b_mult² (its mean over
//! networks is the NNGP of [`crate::kernels::analytic`] in every parametrisation). The K
//! outputs of a fresh readout are independent, so for K outputs it is that kernel ⊗ I_K, in
//! the same nK₁ × nK₂ layout as the NTK.

use nalgebra::DMatrix;

use super::mlp::{Mlp, Workspace};
use crate::backend::{Backend, Trans};
use crate::error::{Error, Result};
use crate::exec::block_on;

/// The empirical kernels of one network of K outputs between two sets of inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct EmpiricalKernels {
    /// Θ_ab(x1_i, x2_j) at (i·K + a, j·K + b), n1K × n2K (n1 × n2 for one output).
    pub ntk: DMatrix<f64>,
    /// The NNGP of the readout given the last hidden features, n1K × n2K (zero off the
    /// output-diagonal blocks).
    pub nngp: DMatrix<f64>,
}

/// Block (a, b) of a kernel of `k` outputs laid out as [`EmpiricalKernels::ntk`]: the n1 × n2
/// matrix Θ_ab(x1_i, x2_j).
pub fn output_block(m: &DMatrix<f64>, k: usize, a: usize, b: usize) -> DMatrix<f64> {
    let (n1, n2) = (m.nrows() / k, m.ncols() / k);
    DMatrix::from_fn(n1, n2, |i, j| m[(i * k + a, j * k + b)])
}

/// The forward activations and back-propagated signals of one input set.
struct Side<B: Backend> {
    rows: usize,
    x: B::Buf,
    ws: Workspace<B>,
    /// D^{L+1} = e_a for each output a: `rows × K`, 1 in column a and 0 elsewhere.
    ones: Vec<B::Buf>,
    /// Ping-pong signal buffers, `rows × max width` each, one pair per output.
    delta: Vec<[B::Buf; 2]>,
}

impl<B: Backend> Side<B> {
    fn new(backend: &mut B, mlp: &Mlp<B>, x: &[f32]) -> Self {
        let d = mlp.spec.input_dim;
        let rows = x.len() / d;
        let xb = backend.upload(x);
        let mut ws = Workspace::new(backend, &mlp.spec, rows);
        mlp.forward(backend, &xb, &mut ws);
        let mw = mlp.spec.max_width();
        let k = mlp.spec.outputs;
        let ones = (0..k)
            .map(|a| {
                let e: Vec<f32> = (0..rows * k)
                    .map(|i| if i % k == a { 1.0 } else { 0.0 })
                    .collect();
                backend.upload(&e)
            })
            .collect();
        let delta = (0..k)
            .map(|_| [backend.zeros(rows * mw), backend.zeros(rows * mw)])
            .collect();
        Side {
            rows,
            x: xb,
            ws,
            ones,
            delta,
        }
    }

    /// X^k, the input of layer k (0-based), `rows × fan_in`.
    fn input(&self, k: usize) -> &B::Buf {
        if k == 0 { &self.x } else { &self.ws.h[k - 1] }
    }

    /// Overwrites `delta[a][0]` with D_k = (w_mult_{k+1} · D_{k+1} W_{k+1}ᵀ) ∘ φ'(z_k) for the
    /// hidden layer k (0-based) and output a, D_{k+1} being `ones[a]` (k + 1 = output) or
    /// `delta[a][0]`.
    fn back(&mut self, backend: &mut B, mlp: &Mlp<B>, k: usize, a: usize) {
        let next = mlp.layers[k + 1];
        let (width, next_width) = (next.fan_in, next.fan_out);
        let is_output = k + 1 == mlp.layers.len() - 1;
        let [cur, tmp] = &mut self.delta[a];
        let upstream: &B::Buf = if is_output { &self.ones[a] } else { &*cur };
        // (rows × next_width)·(next_width × width)
        backend.gemm(
            Trans::N,
            Trans::T,
            self.rows,
            width,
            next_width,
            next.w_mult,
            upstream,
            &mlp.weights[k + 1],
            0.0,
            tmp,
        );
        backend.act_backward(
            self.rows * width,
            &self.ws.z[k],
            tmp,
            mlp.spec.activation,
            cur,
        );
    }
}

/// `gram` (n1 × n2, column-major) = A₁ A₂ᵀ for A₁ (n1 × k) and A₂ (n2 × k) row-major: the
/// row-major product A₂ A₁ᵀ (n2 × n1) has the same memory layout.
fn gram<B: Backend>(
    backend: &mut B,
    n1: usize,
    n2: usize,
    k: usize,
    a1: &B::Buf,
    a2: &B::Buf,
    gram: &mut B::Buf,
) {
    backend.gemm(Trans::N, Trans::T, n2, n1, k, 1.0, a2, a1, 0.0, gram);
}

/// The empirical NTK and NNGP of `mlp` between the rows of `x1` (n1 × d, row-major f32) and
/// of `x2` (n2 × d), or of `x1` with itself when `x2` is `None`; n1K × n2K each for K outputs
/// (see [`EmpiricalKernels`]). A blocking
/// wrapper of [`empirical_kernels_async`] (the one code path): it works on the CPU backend
/// and natively on a GPU, whose readbacks finish before they return; on the web GPU use the
/// async function.
pub fn empirical_kernels<B: Backend>(
    backend: &mut B,
    mlp: &Mlp<B>,
    x1: &[f32],
    x2: Option<&[f32]>,
) -> Result<EmpiricalKernels> {
    block_on(empirical_kernels_async(backend, mlp, x1, x2))
}

/// [`empirical_kernels`] with one asynchronous readback at the end: every layer's Grams and
/// their sum stay on the device (f32 throughout; see the module documentation for the
/// precision). x1 is n1 × d and x2 n2 × d, row-major f32; the kernels are n1K × n2K.
pub async fn empirical_kernels_async<B: Backend>(
    backend: &mut B,
    mlp: &Mlp<B>,
    x1: &[f32],
    x2: Option<&[f32]>,
) -> Result<EmpiricalKernels> {
    let (d, kk) = (mlp.spec.input_dim, mlp.spec.outputs);
    for x in std::iter::once(x1).chain(x2) {
        if x.is_empty() || x.len() % d != 0 {
            return Err(Error::ShapeMismatch {
                op: "empirical_kernels",
                expected: format!("a non-empty n × {d} input"),
                got: format!("{} values", x.len()),
            });
        }
    }
    let mut s1 = Side::new(backend, mlp, x1);
    let mut s2 = x2.map(|x2| Side::new(backend, mlp, x2));
    let (n1, n2) = (s1.rows, s2.as_ref().map_or(s1.rows, |s| s.rows));
    let len = n1 * n2;
    // The layer Grams of the signals and of the inputs, and the kernels: the K² NTK blocks
    // (a, b) at offset (a·K + b)·len, then the NNGP (one block: the outputs are independent).
    let (mut g_d, mut g_x) = (backend.zeros(len), backend.zeros(len));
    let blocks = kk * kk;
    let mut kernels = backend.zeros((blocks + 1) * len);
    let out = mlp.layers.len() - 1;

    // Output layer: D = e_a, so its NTK term is w_mult²·X^L X'^Lᵀ + b_mult² on the diagonal
    // blocks (zero off them), and the NNGP is the same Gram with the readout's variances:
    // w_std²·w_mult²·X^L X'^Lᵀ + b_std²·b_mult².
    let shape = mlp.layers[out];
    {
        let a2 = s2.as_ref().unwrap_or(&s1).input(out);
        gram(backend, n1, n2, shape.fan_in, s1.input(out), a2, &mut g_x);
    }
    let (wm2, bm2) = (shape.w_mult * shape.w_mult, shape.b_mult * shape.b_mult);
    let (w_var, b_var) = (shape.w_std * shape.w_std, shape.b_std * shape.b_std);
    for a in 0..kk {
        let at = (a * kk + a) * len;
        backend.ntk_accumulate(len, None, &g_x, wm2, bm2, 0.0, &mut kernels, at);
    }
    backend.ntk_accumulate(
        len,
        None,
        &g_x,
        (w_var * wm2 as f64) as f32,
        (b_var * bm2 as f64) as f32,
        0.0,
        &mut kernels,
        blocks * len,
    );

    // Hidden layers, from the last down: (D_a D'_bᵀ) ∘ (w_mult² X X'ᵀ + b_mult²).
    for k in (0..out).rev() {
        for a in 0..kk {
            s1.back(backend, mlp, k, a);
            if let Some(s2) = s2.as_mut() {
                s2.back(backend, mlp, k, a);
            }
        }
        let shape = mlp.layers[k];
        let other = s2.as_ref().unwrap_or(&s1);
        gram(
            backend,
            n1,
            n2,
            shape.fan_in,
            s1.input(k),
            other.input(k),
            &mut g_x,
        );
        let (wm2, bm2) = (shape.w_mult * shape.w_mult, shape.b_mult * shape.b_mult);
        for a in 0..kk {
            for b in 0..kk {
                gram(
                    backend,
                    n1,
                    n2,
                    shape.fan_out,
                    &s1.delta[a][0],
                    &other.delta[b][0],
                    &mut g_d,
                );
                let at = (a * kk + b) * len;
                backend.ntk_accumulate(len, Some(&g_d), &g_x, wm2, bm2, 1.0, &mut kernels, at);
            }
        }
    }
    let values = backend.read_async(&kernels, (blocks + 1) * len).await?;
    // Block (a, b) is n1 × n2 column-major: entry (i, j) at j·n1 + i.
    let ntk = DMatrix::from_fn(n1 * kk, n2 * kk, |r, c| {
        let (i, a, j, b) = (r / kk, r % kk, c / kk, c % kk);
        values[(a * kk + b) * len + j * n1 + i] as f64
    });
    let nngp_values = &values[blocks * len..];
    let nngp = DMatrix::from_fn(n1 * kk, n2 * kk, |r, c| {
        let (i, a, j, b) = (r / kk, r % kk, c / kk, c % kk);
        if a == b {
            nngp_values[j * n1 + i] as f64
        } else {
            0.0
        }
    });
    Ok(EmpiricalKernels { ntk, nngp })
}

/// ‖K_t − K_0‖_F / ‖K_0‖_F for two kernel matrices of the same shape: how far a kernel has
/// moved (→ 0 in the lazy regime).
pub fn kernel_distance(k_t: &DMatrix<f64>, k_0: &DMatrix<f64>) -> f64 {
    (k_t - k_0).norm() / k_0.norm()
}

/// ‖θ_t − θ_0‖ / ‖θ_0‖ over flat parameter vectors (as [`Mlp::params`] returns them),
/// accumulated in f64.
pub fn relative_change(theta_t: &[f32], theta_0: &[f32]) -> f64 {
    let (mut diff, mut base) = (0.0f64, 0.0f64);
    for (&a, &b) in theta_t.iter().zip(theta_0) {
        let (a, b) = (a as f64, b as f64);
        diff += (a - b) * (a - b);
        base += b * b;
    }
    (diff / base).sqrt()
}
