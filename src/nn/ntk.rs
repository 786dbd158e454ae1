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
//! **Precision.** Everything is f32, the network's precision: the Gram matrices and their sum
//! over layers, accumulated on the device. The sum adds three or four roundings per layer,
//! each ≤ 2⁻²⁴ of that layer's |term| (a few 1e-7 of the largest entry after a handful of
//! layers), below the Grams' own error of order √width·2⁻²⁴ (about 1e-6 at width 256): an f64
//! sum of the same f32 Grams would differ by less than their rounding. The returned matrices
//! are the f32 values widened to f64.
//!
//! The empirical NNGP is the covariance of the output over a fresh draw of the output layer
//! given the last hidden features: w_std²·w_mult²·X^L X'^Lᵀ + b_std²·b_mult² (its mean over
//! networks is the NNGP of [`crate::kernels::analytic`] in every parametrisation).

use nalgebra::DMatrix;

use super::mlp::{Mlp, Workspace};
use crate::backend::{Backend, Trans};
use crate::error::{Error, Result};
use crate::exec::block_on;

/// The empirical kernels of one network between two sets of inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct EmpiricalKernels {
    /// Θ(x1_i, x2_j), n1 × n2.
    pub ntk: DMatrix<f64>,
    /// The NNGP of the readout given the last hidden features, n1 × n2.
    pub nngp: DMatrix<f64>,
}

/// The forward activations and back-propagated signals of one input set.
struct Side<B: Backend> {
    rows: usize,
    x: B::Buf,
    ws: Workspace<B>,
    /// D^{L+1} = 1, `rows × 1`.
    ones: B::Buf,
    /// Ping-pong signal buffers, `rows × max width` each.
    delta: [B::Buf; 2],
}

impl<B: Backend> Side<B> {
    fn new(backend: &mut B, mlp: &Mlp<B>, x: &[f32]) -> Self {
        let d = mlp.spec.input_dim;
        let rows = x.len() / d;
        let xb = backend.upload(x);
        let mut ws = Workspace::new(backend, &mlp.spec, rows);
        mlp.forward(backend, &xb, &mut ws);
        let mw = mlp.spec.max_width();
        Side {
            rows,
            x: xb,
            ws,
            ones: backend.upload(&vec![1.0; rows]),
            delta: [backend.zeros(rows * mw), backend.zeros(rows * mw)],
        }
    }

    /// X^k, the input of layer k (0-based), `rows × fan_in`.
    fn input(&self, k: usize) -> &B::Buf {
        if k == 0 { &self.x } else { &self.ws.h[k - 1] }
    }

    /// Overwrites `delta[0]` with D_k = (w_mult_{k+1} · D_{k+1} W_{k+1}ᵀ) ∘ φ'(z_k) for the
    /// hidden layer k (0-based), D_{k+1} being `ones` (k + 1 = output) or `delta[0]`.
    fn back(&mut self, backend: &mut B, mlp: &Mlp<B>, k: usize) {
        let next = mlp.layers[k + 1];
        let (width, next_width) = (next.fan_in, next.fan_out);
        let is_output = k + 1 == mlp.layers.len() - 1;
        let [cur, tmp] = &mut self.delta;
        let upstream: &B::Buf = if is_output { &self.ones } else { &*cur };
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
/// of `x2` (n2 × d), or of `x1` with itself when `x2` is `None`; n1 × n2 each. A blocking
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
/// precision). x1 is n1 × d and x2 n2 × d, row-major f32; the kernels are n1 × n2.
pub async fn empirical_kernels_async<B: Backend>(
    backend: &mut B,
    mlp: &Mlp<B>,
    x1: &[f32],
    x2: Option<&[f32]>,
) -> Result<EmpiricalKernels> {
    let d = mlp.spec.input_dim;
    if mlp.spec.outputs != 1 {
        return Err(Error::config(
            "outputs",
            format!(
                "the empirical NTK is of the scalar network, not of {} outputs",
                mlp.spec.outputs
            ),
        ));
    }
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
    // The layer Grams of the signals and of the inputs, and the kernels: NTK then NNGP.
    let (mut g_d, mut g_x) = (backend.zeros(len), backend.zeros(len));
    let mut kernels = backend.zeros(2 * len);
    let out = mlp.layers.len() - 1;

    // Output layer: D = 1, so its NTK term is w_mult²·X^L X'^Lᵀ + b_mult², and the NNGP is
    // the same Gram with the readout's variances: w_std²·w_mult²·X^L X'^Lᵀ + b_std²·b_mult².
    let shape = mlp.layers[out];
    {
        let a2 = s2.as_ref().unwrap_or(&s1).input(out);
        gram(backend, n1, n2, shape.fan_in, s1.input(out), a2, &mut g_x);
    }
    let (wm2, bm2) = (shape.w_mult * shape.w_mult, shape.b_mult * shape.b_mult);
    let (w_var, b_var) = (shape.w_std * shape.w_std, shape.b_std * shape.b_std);
    backend.ntk_accumulate(len, None, &g_x, wm2, bm2, 0.0, &mut kernels, 0);
    backend.ntk_accumulate(
        len,
        None,
        &g_x,
        (w_var * wm2 as f64) as f32,
        (b_var * bm2 as f64) as f32,
        0.0,
        &mut kernels,
        len,
    );

    // Hidden layers, from the last down: (D D'ᵀ) ∘ (w_mult² X X'ᵀ + b_mult²).
    for k in (0..out).rev() {
        s1.back(backend, mlp, k);
        if let Some(s2) = s2.as_mut() {
            s2.back(backend, mlp, k);
        }
        let shape = mlp.layers[k];
        let other = s2.as_ref().unwrap_or(&s1);
        gram(
            backend,
            n1,
            n2,
            shape.fan_out,
            &s1.delta[0],
            &other.delta[0],
            &mut g_d,
        );
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
        backend.ntk_accumulate(len, Some(&g_d), &g_x, wm2, bm2, 1.0, &mut kernels, 0);
    }
    let values = backend.read_async(&kernels, 2 * len).await?;
    let widen = |v: &[f32]| DMatrix::from_iterator(n1, n2, v.iter().map(|&x| x as f64));
    Ok(EmpiricalKernels {
        ntk: widen(&values[..len]),
        nngp: widen(&values[len..]),
    })
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
