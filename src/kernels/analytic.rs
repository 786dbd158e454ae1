//! Infinite-width NNGP and NTK of Descent's MLP family, in f64, for any depth, σ_w, σ_b,
//! initialisation scale s, parametrisation, and activation (closed forms for ReLU, erf and
//! linear; 2-D Gauss–Hermite quadrature for tanh or any activation). For large matrices,
//! [`nngp_ntk_on`] runs the closed-form recursion in f32 on a [`Backend`] (a GPU's compute
//! shader, or its CPU twin), with the precision it documents.
//!
//! # Conventions (those of [`crate::nn::mlp`])
//!
//! Layer l = 1..L+1 computes z^l = w_mult·x^{l−1}W^l + b_mult·b^l, with W, b drawn with standard
//! deviations w_std, b_std. In the NTK parametrisation w_mult = σ_w/√n_{l−1}, b_mult = σ_b and
//! w_std = b_std = s. Write E_φ(Λ) = E[φ(u)φ(v)] and E_φ'(Λ) = E[φ'(u)φ'(v)] for
//! (u, v) ~ N(0, Λ), Λ the 2×2 covariance of a pair of inputs at one layer.
//!
//! **NNGP** (the covariance of z^l over initialisations, as every width → ∞):
//!
//! ```text
//! Σ¹(x,x') = s²(σ_w² x·x'/d + σ_b²),      Σ^{l+1} = s²(σ_w² E_φ(Σ^l) + σ_b²)
//! ```
//!
//! The output's prior covariance is Σ^{L+1}. s enters once per layer, as the variance of that
//! layer's weights and biases.
//!
//! **NTK** (Jacot et al. 2018), Θ = Σ_params ∂f/∂θ·∂f/∂θ'. The parameters of layer l contribute
//! (x^{l−1}·x'^{l−1}·w_mult² + b_mult²)·(δ^l·δ'^l) with δ^l = ∂f/∂z^l. At infinite width
//! (σ_w²/n_{l−1}) x^{l−1}·x'^{l−1} → σ_w² A^l with A¹ = x·x'/d and A^{l} = E_φ(Σ^{l−1}), and
//! δ^l·δ'^l → P^l = Π_{m=l}^{L} Σ̇^m with Σ̇^m = s²σ_w² E_φ'(Σ^m) (the s² is the variance of the
//! next layer's weights, through which δ flows back). So Θ = Σ_l (α_w^l A^l + α_b^l) P^l, or
//! layer by layer
//!
//! ```text
//! Θ¹ = α_w¹ A¹ + α_b¹,      Θ^{l+1} = Θ^l · Σ̇^l + α_w^{l+1} A^{l+1} + α_b^{l+1}
//! ```
//!
//! with the per-layer coefficients of each parametrisation:
//!
//! | parametrisation | α_w^l | α_b^l | output factor |
//! |---|---|---|---|
//! | NTK | σ_w² | σ_b² | 1 |
//! | standard (finite widths n_l) | n_{l−1} (n₀ = d) | 1 | 1 |
//! | mean-field (finite n_L) | σ_w² | σ_b² | 1/n_L (NNGP too) |
//!
//! At s = 1 the NTK recursion is the textbook Θ^{l+1} = Θ^l Σ̇^{l+1} + Σ^{l+1}; in general
//! α_w A + α_b = Σ/s², so the NTK of the NTK parametrisation is Σ_l (Σ^l/s²)·P^l. For ReLU
//! (homogeneous of degree 1) and σ_b = 0, Σ^l ∝ s^{2l}, Σ̇ ∝ s², and Θ ∝ s^{2L}.
//!
//! *Standard parametrisation.* W_std = (σ_w/√n_{l−1})·W with W ~ N(0, s²) and b_std = σ_b·b
//! describe the same random function, so A, Σ̇ and P are unchanged, while ∂f/∂W_std =
//! (√n_{l−1}/σ_w)·∂f/∂W and ∂f/∂b_std = ∂f/∂b/σ_b: each layer's weight term is multiplied by
//! n_{l−1}/σ_w² and its bias term by 1/σ_b² (the table's α). The result is the expected
//! empirical NTK at those widths (exact in expectation for one hidden layer); it grows linearly
//! with width, which is why the standard parametrisation has no finite NTK limit.
//!
//! *Mean-field.* The whole output layer is divided by a further √n_L, so f and every gradient
//! shrink by √n_L: NNGP and NTK are the NTK-parametrisation ones divided by n_L (and the n_L×
//! step size of [`crate::nn::Mlp::effective_lr`] restores the NTK-parametrisation dynamics with
//! f₀ → 0).
//!
//! # Activations
//!
//! With ρ = Λ₁₂/√(Λ₁₁Λ₂₂) and ϑ = arccos ρ (ReLU, the degree-1 arc-cosine kernel of
//! Cho & Saul 2009):
//!
//! ```text
//! E[φ(u)φ(v)] = √(Λ₁₁Λ₂₂)·(sin ϑ + (π − ϑ) cos ϑ)/(2π),      E[φ'(u)φ'(v)] = (π − ϑ)/(2π)
//! ```
//!
//! erf (Williams 1997), with q_i = 1/√(1 + 2Λ_ii):
//!
//! ```text
//! E[erf(u)erf(v)] = (2/π)·asin(2Λ₁₂ q₁ q₂),
//! E[erf'(u)erf'(v)] = (4/π)/√((1 + 2Λ₁₁)(1 + 2Λ₂₂) − 4Λ₁₂²) = (4/π)·q₁q₂/√(1 − (2Λ₁₂q₁q₂)²)
//! ```
//!
//! linear: (Λ₁₂, 1); tanh: its Hermite (Mehler) series ([`super::series`]), accurate to
//! ~1e-13 for variances up to ~7. Any activation: 2-D Gauss–Hermite quadrature
//! ([`nngp_ntk_quadrature`], the reference for the others). The closed forms live with their
//! activations, in the [`Dual`] of each activation's block in [`crate::math::activation`]; an
//! activation without one ([`Phi::DUAL`] = `None`) takes the Hermite series.
//!
//! # Cost
//!
//! Per layer, the quantities of a single point (Λ₁₁, its square root, …) are computed once per
//! point; each matrix entry then costs one arccosine (ReLU) or arcsine and one square root
//! (erf), evaluated by branch-free polynomials (`crate::math::special`) in loops over a column
//! that the compiler vectorises, or one Horner pass of ≤ 128 terms (tanh). The symmetric case
//! (x1 = x2) fills one triangle.
//!
//! Identical inputs get exactly the diagonal value (not the off-diagonal formula at ρ rounded
//! near 1, whose √ε sensitivity would leave them ~1e-8 apart), so duplicated training points
//! give an exactly singular kernel whose null space the kernel machines recognise.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::series;
use crate::backend::{Backend, KernelRecursion, MAX_RECURSION_DEPTH, Trans};
use crate::error::{Error, Result};
use crate::math::activation::{Dual, Phi, with_activation};
use crate::math::quadrature::GaussHermite;
use crate::nn::{Activation, MlpSpec, Parametrization};

/// The network whose infinite-width (or, for the standard parametrisation, expected
/// finite-width) kernels are computed. The input dimension d is given with the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KernelSpec {
    /// L: the number of hidden layers (0 is the linear model of the output layer alone).
    pub depth: usize,
    pub activation: Activation,
    /// σ_w: the weight scale.
    pub sigma_w: f64,
    /// σ_b: the bias scale.
    pub sigma_b: f64,
    /// s: the initialisation scale (standard deviation multiplier of every weight and bias).
    pub init_scale: f64,
    pub parametrization: Parametrization,
    /// Hidden widths n_1..n_L. Read only by the standard parametrisation (all of them) and
    /// the mean-field one (n_L); may be empty for the NTK parametrisation.
    pub widths: Vec<usize>,
}

impl KernelSpec {
    /// The NTK-parametrisation kernel with s = 1.
    pub fn ntk(depth: usize, activation: Activation, sigma_w: f64, sigma_b: f64) -> Self {
        KernelSpec {
            depth,
            activation,
            sigma_w,
            sigma_b,
            init_scale: 1.0,
            parametrization: Parametrization::Ntk,
            widths: Vec::new(),
        }
    }

    /// The kernel of the networks [`crate::nn::Mlp::new`] draws for `spec`.
    pub fn from_mlp(spec: &MlpSpec) -> Self {
        KernelSpec {
            depth: spec.hidden.len(),
            activation: spec.activation,
            sigma_w: spec.sigma_w,
            sigma_b: spec.sigma_b,
            init_scale: spec.init_scale,
            parametrization: spec.parametrization,
            widths: spec.hidden.clone(),
        }
    }

    pub fn validate(&self) -> Result<()> {
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
        let needs_widths = match self.parametrization {
            Parametrization::Ntk => false,
            Parametrization::Standard => true,
            Parametrization::MeanField => self.depth > 0,
        };
        if needs_widths && (self.widths.len() != self.depth || self.widths.contains(&0)) {
            return Err(Error::config(
                "width",
                format!(
                    "the {:?} parametrisation needs {} positive hidden widths, got {:?}",
                    self.parametrization, self.depth, self.widths
                ),
            ));
        }
        Ok(())
    }

    /// The per-layer coefficients of the recursion for inputs of dimension `d`.
    fn coefs(&self, d: usize) -> Coefs {
        let (sw2, sb2) = (self.sigma_w * self.sigma_w, self.sigma_b * self.sigma_b);
        let layers = self.depth + 1;
        let (alpha_w, alpha_b) = match self.parametrization {
            Parametrization::Ntk | Parametrization::MeanField => {
                (vec![sw2; layers], vec![sb2; layers])
            }
            Parametrization::Standard => {
                let mut fan_in = vec![d as f64];
                fan_in.extend(self.widths.iter().map(|&n| n as f64));
                (fan_in, vec![1.0; layers])
            }
        };
        let out_scale = match self.parametrization {
            Parametrization::MeanField => 1.0 / self.widths.last().copied().unwrap_or(d) as f64,
            _ => 1.0,
        };
        Coefs {
            s2: self.init_scale * self.init_scale,
            sw2,
            sb2,
            inv_d: 1.0 / d as f64,
            alpha_w,
            alpha_b,
            out_scale,
        }
    }
}

/// The numbers of the layer recursion (see the module documentation).
struct Coefs {
    s2: f64,
    sw2: f64,
    sb2: f64,
    inv_d: f64,
    /// α_w^l for l = 1..L+1 (index l − 1).
    alpha_w: Vec<f64>,
    /// α_b^l for l = 1..L+1.
    alpha_b: Vec<f64>,
    /// Multiplies both kernels at the end (1/n_L for mean-field).
    out_scale: f64,
}

/// The per-layer split of the NTK: Θ = Σ_l (`weights[l]` + `biases[l]`).
#[derive(Clone, Debug, PartialEq)]
pub struct NtkTerms {
    /// Contribution of W^{l+1} (index l = 0..L; the last is the output layer), each n1 × n2.
    pub weights: Vec<DMatrix<f64>>,
    /// Contribution of b^{l+1}, each n1 × n2.
    pub biases: Vec<DMatrix<f64>>,
    /// The NNGP Σ^{L+1}, n1 × n2.
    pub nngp: DMatrix<f64>,
}

impl NtkTerms {
    /// Θ, the sum of all terms (n1 × n2).
    pub fn ntk(&self) -> DMatrix<f64> {
        let mut out = DMatrix::zeros(self.nngp.nrows(), self.nngp.ncols());
        for m in self.weights.iter().chain(&self.biases) {
            out += m;
        }
        out
    }
}

/// Any activation by a 2-D Gauss–Hermite rule: aux = (a, unused).
struct Quadrature<'a> {
    rule: &'a GaussHermite,
    act: Activation,
}

impl Dual for Quadrature<'_> {
    fn aux(&self, a: f64) -> (f64, f64) {
        (a, 0.0)
    }

    fn pair(&self, c: f64, p: (f64, f64), q: (f64, f64)) -> (f64, f64) {
        let act = self.act;
        self.rule
            .expect2(|u| act.apply_f64(u), |u| act.derivative_f64(u), p.0, c, q.0)
    }

    fn diag(&self, a: f64) -> (f64, f64) {
        let (act, r) = (self.act, a.max(0.0).sqrt());
        (
            self.rule.expect(|z| act.apply_f64(r * z).powi(2)),
            self.rule.expect(|z| act.derivative_f64(r * z).powi(2)),
        )
    }
}

/// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) of an odd activation by its Hermite series (all terms).
fn series_moments(act: Activation, a: f64, c: f64, b: f64) -> (f64, f64) {
    let (mut ca, mut cb) = (vec![0.0; series::TERMS], vec![0.0; series::TERMS]);
    series::coefficients(act, a, &mut ca);
    series::coefficients(act, b, &mut cb);
    let inv = |v: f64| if v > 0.0 { 1.0 / v } else { 0.0 };
    let rho2 = (c * c * inv(a) * inv(b)).min(1.0);
    series::moments(&ca, &cb, c, rho2, series::TERMS)
}

/// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]): the activation's closed
/// form ([`Activation::closed_moments`]: ReLU, erf, linear), or its Hermite series
/// ([`super::series`]: tanh). These are the functions the kernel matrices use.
pub fn moments(act: Activation, a: f64, c: f64, b: f64) -> (f64, f64) {
    act.closed_moments(a, c, b)
        .unwrap_or_else(|| series_moments(act, a, c, b))
}

/// [`moments`] of an odd activation (tanh, erf, linear) through its Hermite series, whatever
/// closed form it has: the cross-check of the series against the closed forms.
pub fn hermite_moments(act: Activation, a: f64, c: f64, b: f64) -> Result<(f64, f64)> {
    if !act.is_odd() {
        return Err(Error::config(
            "activation",
            "the Hermite series is implemented for odd activations only",
        ));
    }
    Ok(series_moments(act, a, c, b))
}

/// [`moments`] of a single variance: (E[φ(u)²], E[φ'(u)²]) for u ~ N(0, a), by the diagonal
/// forms (ReLU: (a/2, 1/2); erf: ((2/π)asin(2a/(1+2a)), (4/π)/√(1+4a))).
pub fn diag_moments(act: Activation, a: f64) -> (f64, f64) {
    act.closed_diag_moments(a)
        .unwrap_or_else(|| series_moments(act, a, a, a))
}

/// The NNGP and NTK between the rows of `x1` (n1 × d, row-major) and of `x2` (n2 × d), or
/// between the rows of `x1` and themselves when `x2` is `None` (symmetric fill of one triangle,
/// diagonal from the exact diagonal forms). Returns (nngp, ntk), each n1 × n2.
pub fn nngp_ntk(
    spec: &KernelSpec,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let (mut nngp, mut ntk) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    nngp_ntk_into(spec, x1, x2, d, &mut nngp, &mut ntk)?;
    Ok((nngp, ntk))
}

/// [`nngp_ntk`] on a [`Backend`]: the element-wise layer recursion runs in f32 as one
/// operation over the whole matrix ([`Backend::nngp_ntk_recursion`], a WGSL compute shader on
/// the GPU and its CPU twin), after a `gemm` of the inputs for the first layer, with one
/// asynchronous readback, so it also runs on the web GPU. ReLU, erf and linear only (tanh has
/// no closed form; use [`nngp_ntk`]). Inputs are f32 (n1 × d and n2 × d, row-major); the
/// kernels come back as f64 matrices (n1 × n2).
///
/// Treated exactly as [`nngp_ntk`] does, in f64 on the host: the per-point quantities (the
/// variances Σ^l(x, x) of every layer, an O(n·L) pass), the diagonal of the symmetric case,
/// the entries of bitwise identical inputs (given the exact diagonal values), the mirrored
/// upper triangle, and the mean-field output factor.
///
/// **Precision.** Every other entry is an f32 recursion: relative to the diagonal scale
/// √(K(x,x)K(x',x')), a few f32 roundings per layer (≈ 1e-6 after three layers), except where
/// a correlation ρ between two inputs is near 1 in some layer. There ReLU's
/// Σ̇ = s²σ_w²(π − arccos ρ)/2π has derivative ∝ 1/√(1 − ρ²): an f32 error δ ≈ 1e-6 in ρ moves
/// arccos ρ by up to min(δ/√(1 − ρ²), √(2δ)) ≈ 1.4e-3 rad, so the NTK of nearly identical
/// (not identical) inputs is good to about 5e-4 relative per layer. The NNGP is not affected
/// (its derivative in ρ is bounded), nor is erf (its arcsine argument stays below
/// 2a/(1 + 2a) < 1). Use [`nngp_ntk`] where that matters (ill-conditioned kernel solves).
///
/// **Size.** The matrix is computed in blocks of columns of at most [`DEVICE_BLOCK_ENTRIES`]
/// entries ([`nngp_ntk_on_blocks`]), so device memory stays within WebGPU's default binding
/// limits whatever n1 and n2 (a single column of more than 2²³ entries excepted).
pub async fn nngp_ntk_on<B: Backend>(
    backend: &mut B,
    spec: &KernelSpec,
    x1: &[f32],
    x2: Option<&[f32]>,
    d: usize,
) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    nngp_ntk_on_blocks(backend, spec, x1, x2, d, DEVICE_BLOCK_ENTRIES).await
}

/// Kernel entries [`nngp_ntk_on`] computes per device operation at most (rounded to whole
/// columns of the result): 2²³, so that the block's output (both kernels) takes 64 MiB, half
/// WebGPU's default limit for one storage binding.
pub const DEVICE_BLOCK_ENTRIES: usize = 1 << 23;

/// [`nngp_ntk_on`] in blocks of at most `block_entries` entries (at least one column of the
/// n1 × n2 result, x2_j against every x1_i, per block): each block a `gemm` and one
/// `nngp_ntk_recursion` into reused device buffers, and its own asynchronous readback, all
/// queued before the first is awaited.
pub async fn nngp_ntk_on_blocks<B: Backend>(
    backend: &mut B,
    spec: &KernelSpec,
    x1: &[f32],
    x2: Option<&[f32]>,
    d: usize,
    block_entries: usize,
) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let x1_64: Vec<f64> = x1.iter().map(|&v| v as f64).collect();
    let x2_64: Option<Vec<f64>> = x2.map(|x| x.iter().map(|&v| v as f64).collect());
    check_inputs(spec, &x1_64, x2_64.as_deref(), d)?;
    if spec.depth > MAX_RECURSION_DEPTH {
        return Err(Error::config(
            "depth",
            format!("the device recursion runs at most {MAX_RECURSION_DEPTH} layers"),
        ));
    }
    let co = spec.coefs(d);
    let depth = spec.depth;
    let points = with_activation!(spec.activation, A => A::DUAL.map(|dual| {
        device_points(&dual, &co, depth, &x1_64, x2_64.as_deref(), d)
    }));
    let Some((p1, p2)) = points else {
        return Err(Error::config(
            "activation",
            format!(
                "the device recursion needs closed-form kernels; {}'s Hermite series runs on \
                 the CPU (nngp_ntk)",
                spec.activation.name()
            ),
        ));
    };
    let xb = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len() / d, xb.len() / d);
    if n1 == 0 || n2 == 0 {
        return Ok((DMatrix::zeros(n1, n2), DMatrix::zeros(n1, n2)));
    }
    let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    // Rows of the device matrix are the inputs x2_j, columns the x1_i: the row-major n2 × n1
    // matrix is the column-major n1 × n2 one of nalgebra, and a block of device rows j0..j1
    // is the contiguous block of columns j0..j1.
    let rows_per_block = (block_entries / n1).clamp(1, n2);
    let x1_buf = backend.upload(x1);
    let var_cols = backend.upload(&to_f32(&p1.var));
    let mut coefs = to_f32(&co.alpha_w);
    coefs.extend(to_f32(&co.alpha_b));
    let coefs = backend.upload(&coefs);
    let rec = KernelRecursion {
        depth,
        activation: spec.activation,
        s2: co.s2 as f32,
        sw2: co.sw2 as f32,
        sb2: co.sb2 as f32,
    };
    let var_all = &p2.as_ref().unwrap_or(&p1).var;
    let mut x_rows = backend.zeros(rows_per_block * d);
    let mut var_rows = backend.zeros(depth * rows_per_block);
    let mut a1 = backend.zeros(rows_per_block * n1);
    let mut out = backend.zeros(2 * rows_per_block * n1);
    let mut host_var = vec![0.0f32; depth * rows_per_block];
    let mut readbacks = Vec::with_capacity(n2.div_ceil(rows_per_block));
    for j0 in (0..n2).step_by(rows_per_block) {
        let m = rows_per_block.min(n2 - j0);
        backend.write(&mut x_rows, &xb[j0 * d..(j0 + m) * d]);
        for l in 0..depth {
            for (h, &v) in host_var[l * m..(l + 1) * m]
                .iter_mut()
                .zip(&var_all[l * n2 + j0..l * n2 + j0 + m])
            {
                *h = v as f32;
            }
        }
        backend.write(&mut var_rows, &host_var[..depth * m]);
        // a1 = x2[j0..j0+m]·x1ᵀ/d: (m × d)·(d × n1).
        backend.gemm(
            Trans::N,
            Trans::T,
            m,
            n1,
            d,
            co.inv_d as f32,
            &x_rows,
            &x1_buf,
            0.0,
            &mut a1,
        );
        backend.nngp_ntk_recursion(m, n1, rec, &a1, &var_rows, &var_cols, &coefs, &mut out);
        readbacks.push((j0, m, backend.read_async(&out, 2 * m * n1)));
    }
    let (mut nngp, mut ntk) = (DMatrix::zeros(n1, n2), DMatrix::zeros(n1, n2));
    for (j0, m, readback) in readbacks {
        let values = readback.await?;
        let len = m * n1;
        let cols = j0 * n1..(j0 + m) * n1;
        for (dst, src) in [(&mut nngp, &values[..len]), (&mut ntk, &values[len..])] {
            for (o, &v) in dst.as_mut_slice()[cols.clone()].iter_mut().zip(src) {
                *o = v as f64;
            }
        }
    }
    if x2.is_none() {
        for i in 0..n1 {
            nngp[(i, i)] = p1.diag_nngp[i];
            ntk[(i, i)] = p1.diag_ntk[i];
        }
    }
    finish(
        &co,
        &x1_64,
        x2_64.as_deref(),
        d,
        (&p1.diag_nngp, &p1.diag_ntk),
        (Some(&mut nngp), &mut ntk),
    );
    Ok((nngp, ntk))
}

/// The per-point quantities of both input sets for [`nngp_ntk_on`]: `x1` is n1 × d and `x2`
/// n2 × d, row-major (the second result is `None` in the symmetric case, `x2` = `None`).
fn device_points<D: Dual>(
    dual: &D,
    co: &Coefs,
    depth: usize,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
) -> (Points, Option<Points>) {
    (
        points(dual, co, depth, x1, d),
        x2.map(|x2| points(dual, co, depth, x2, d)),
    )
}

/// [`nngp_ntk`] into existing matrices (reshaped to n1 × n2 when their shape differs), so that
/// recomputing a kernel of the same size allocates nothing.
pub fn nngp_ntk_into(
    spec: &KernelSpec,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    nngp: &mut DMatrix<f64>,
    ntk: &mut DMatrix<f64>,
) -> Result<()> {
    check_inputs(spec, x1, x2, d)?;
    dispatch(spec, x1, x2, d, (Some(nngp), ntk));
    Ok(())
}

/// The fill of `spec`'s activation: its closed forms, or its Hermite series (tanh).
fn dispatch(
    spec: &KernelSpec,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    out: (Option<&mut DMatrix<f64>>, &mut DMatrix<f64>),
) {
    let co = spec.coefs(d);
    with_activation!(spec.activation, A => match A::DUAL {
        Some(dual) => fill(&dual, &co, spec.depth, x1, x2, d, out),
        None => fill_series(spec.activation, &co, spec.depth, x1, x2, d, out),
    })
}

/// The NTK alone, into an existing matrix (reshaped to n1 × n2 when its shape differs): half
/// the memory traffic of [`nngp_ntk_into`] (the NNGP recursion runs in one scratch column).
pub fn ntk_into(
    spec: &KernelSpec,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    ntk: &mut DMatrix<f64>,
) -> Result<()> {
    check_inputs(spec, x1, x2, d)?;
    dispatch(spec, x1, x2, d, (None, ntk));
    Ok(())
}

/// [`nngp_ntk`] with every activation (closed form or not) evaluated by an `nodes`-point
/// Gauss–Hermite rule per axis: the reference the closed forms are tested against, and the way
/// to get kernels of activations with no closed form. Costs nodes² evaluations per entry.
pub fn nngp_ntk_quadrature(
    spec: &KernelSpec,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    nodes: usize,
) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    check_inputs(spec, x1, x2, d)?;
    let rule = GaussHermite::new(nodes);
    let q = Quadrature {
        rule: &rule,
        act: spec.activation,
    };
    let (mut nngp, mut ntk) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    fill(
        &q,
        &spec.coefs(d),
        spec.depth,
        x1,
        x2,
        d,
        (Some(&mut nngp), &mut ntk),
    );
    Ok((nngp, ntk))
}

/// The NTK split into the contribution of each layer's weights and biases (n1 × n2 each), in
/// the parametrisation of `spec`, with the NNGP. Slower than [`nngp_ntk`] (one pass per entry
/// with no vectorisation, L + 2 output matrices); meant for analysis and for deriving other
/// parametrisations' kernels from the NTK-parametrisation one.
pub fn ntk_terms(spec: &KernelSpec, x1: &[f64], x2: Option<&[f64]>, d: usize) -> Result<NtkTerms> {
    check_inputs(spec, x1, x2, d)?;
    let co = spec.coefs(d);
    let depth = spec.depth;
    let act = spec.activation;
    let xb = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len() / d, xb.len() / d);
    // Per point and layer l = 1..L: the variance Σ^l(x, x) and, without closed forms (tanh),
    // its series coefficients (computed once here rather than per entry).
    let series = !act.has_closed_form();
    let per_point = |x: &[f64]| -> Vec<Vec<(f64, Vec<f64>)>> {
        x.chunks_exact(d)
            .map(|xi| {
                let mut a = co.s2 * (co.sw2 * dot(xi, xi) * co.inv_d + co.sb2);
                let mut out = Vec::with_capacity(depth);
                for _ in 0..depth {
                    let (e, coef) = if series {
                        let mut coef = vec![0.0; series::TERMS];
                        series::coefficients(act, a, &mut coef);
                        let w = if a > 0.0 { 1.0 } else { 0.0 };
                        (series::moments(&coef, &coef, a, w, series::TERMS).0, coef)
                    } else {
                        (diag_moments(act, a).0, Vec::new())
                    };
                    out.push((a, coef));
                    a = co.s2 * (co.sw2 * e + co.sb2);
                }
                out
            })
            .collect()
    };
    let pts1 = per_point(x1);
    let pts2_own = x2.map(per_point);
    let pts2 = pts2_own.as_ref().unwrap_or(&pts1);
    let pair_moments = |p: &(f64, Vec<f64>), q: &(f64, Vec<f64>), c: f64| {
        if series {
            let inv = |v: f64| if v > 0.0 { 1.0 / v } else { 0.0 };
            let w = (c * c * inv(p.0) * inv(q.0)).min(1.0);
            series::moments(&p.1, &q.1, c, w, series::TERMS)
        } else {
            moments(act, p.0, c, q.0)
        }
    };
    let mut weights = vec![DMatrix::zeros(n1, n2); depth + 1];
    let mut biases = vec![DMatrix::zeros(n1, n2); depth + 1];
    let mut nngp = DMatrix::zeros(n1, n2);
    let mut inputs = vec![0.0; depth + 1];
    let mut sdot = vec![0.0; depth];
    for j in 0..n2 {
        let xj = &xb[j * d..(j + 1) * d];
        for i in 0..n1 {
            let xi = &x1[i * d..(i + 1) * d];
            // Identical inputs take the exact diagonal forms, as in [`nngp_ntk`].
            let same = xi.iter().zip(xj).all(|(a, b)| a.to_bits() == b.to_bits());
            inputs[0] = dot(xi, xj) * co.inv_d;
            let mut c = co.s2 * (co.sw2 * inputs[0] + co.sb2);
            for l in 0..depth {
                let (p, q) = (&pts1[i][l], &pts2[j][l]);
                let (e, ed) = if same && !series {
                    diag_moments(act, p.0)
                } else {
                    pair_moments(p, q, if same { p.0 } else { c })
                };
                sdot[l] = co.s2 * co.sw2 * ed;
                inputs[l + 1] = e;
                c = co.s2 * (co.sw2 * e + co.sb2);
            }
            nngp[(i, j)] = co.out_scale * c;
            // P^l = Π_{m ≥ l} Σ̇^m, built from the output layer down.
            let mut p = co.out_scale;
            for l in (0..=depth).rev() {
                weights[l][(i, j)] = co.alpha_w[l] * inputs[l] * p;
                biases[l][(i, j)] = co.alpha_b[l] * p;
                if l > 0 {
                    p *= sdot[l - 1];
                }
            }
        }
    }
    Ok(NtkTerms {
        weights,
        biases,
        nngp,
    })
}

fn check_inputs(spec: &KernelSpec, x1: &[f64], x2: Option<&[f64]>, d: usize) -> Result<()> {
    spec.validate()?;
    if d == 0 {
        return Err(Error::config("inputDim", "must be at least 1"));
    }
    for x in std::iter::once(x1).chain(x2) {
        if x.len() % d != 0 {
            return Err(Error::ShapeMismatch {
                op: "nngp_ntk",
                expected: format!("rows of {d} inputs"),
                got: format!("{} values", x.len()),
            });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::config("x", "inputs must be finite"));
        }
    }
    Ok(())
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Per-point quantities of one input set: the aux of every layer, layer-major
/// (`aux0[l·n + p]`), and the diagonal NNGP and NTK.
struct Points {
    /// Σ^{l+1}(x, x), the variance at the input of hidden layer l + 1 (layer-major).
    var: Vec<f64>,
    aux0: Vec<f64>,
    aux1: Vec<f64>,
    diag_nngp: Vec<f64>,
    diag_ntk: Vec<f64>,
}

fn points<D: Dual>(dual: &D, co: &Coefs, depth: usize, x: &[f64], d: usize) -> Points {
    let n = x.len() / d;
    let mut pts = Points {
        var: vec![0.0; depth * n],
        aux0: vec![0.0; depth * n],
        aux1: vec![0.0; depth * n],
        diag_nngp: vec![0.0; n],
        diag_ntk: vec![0.0; n],
    };
    for (p, xp) in x.chunks_exact(d).enumerate() {
        let sq = dot(xp, xp) * co.inv_d;
        let mut a = co.s2 * (co.sw2 * sq + co.sb2);
        let mut th = co.alpha_w[0] * sq + co.alpha_b[0];
        for l in 0..depth {
            let (a0, a1) = dual.aux(a);
            pts.var[l * n + p] = a;
            pts.aux0[l * n + p] = a0;
            pts.aux1[l * n + p] = a1;
            let (e, ed) = dual.diag(a);
            th = th * co.s2 * co.sw2 * ed + co.alpha_w[l + 1] * e + co.alpha_b[l + 1];
            a = co.s2 * (co.sw2 * e + co.sb2);
        }
        pts.diag_nngp[p] = a;
        pts.diag_ntk[p] = th;
    }
    pts
}

/// The kernel matrices by the layer recursion, column by column: column j of the outputs is
/// the working storage of the recursion for the pairs (x1_i, x2_j) (the NNGP's in a scratch
/// column when it is not wanted).
fn fill<D: Dual>(
    dual: &D,
    co: &Coefs,
    depth: usize,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    (mut nngp, ntk): (Option<&mut DMatrix<f64>>, &mut DMatrix<f64>),
) {
    let sym = x2.is_none();
    let xb = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len() / d, xb.len() / d);
    let p1 = points(dual, co, depth, x1, d);
    let p2_own = (!sym).then(|| points(dual, co, depth, xb, d));
    let p2 = p2_own.as_ref().unwrap_or(&p1);
    for m in nngp.iter_mut().map(|m| &mut **m).chain([&mut *ntk]) {
        if m.shape() != (n1, n2) {
            *m = DMatrix::zeros(n1, n2);
        }
    }
    let mut scratch = if nngp.is_none() {
        vec![0.0; n1]
    } else {
        Vec::new()
    };
    let (s2, sw2, sb2, s2sw2) = (co.s2, co.sw2, co.sb2, co.s2 * co.sw2);
    {
        let mut ns = nngp.as_deref_mut().map(|m| m.as_mut_slice());
        let nt = ntk.as_mut_slice();
        for j in 0..n2 {
            // The symmetric case computes rows i ≥ j only (the lower triangle).
            let i0 = if sym { j } else { 0 };
            let xj = &xb[j * d..(j + 1) * d];
            let cs = match ns.as_deref_mut() {
                Some(ns) => &mut ns[j * n1 + i0..(j + 1) * n1],
                None => &mut scratch[i0..],
            };
            let ct = &mut nt[j * n1 + i0..(j + 1) * n1];
            first_layer_column(co, &x1[i0 * d..], xj, cs, ct);
            for l in 0..depth {
                let q = (p2.aux0[l * n2 + j], p2.aux1[l * n2 + j]);
                let len = cs.len();
                let a0 = &p1.aux0[l * n1 + i0..(l + 1) * n1];
                let a1 = &p1.aux1[l * n1 + i0..(l + 1) * n1];
                let (ct, a0, a1) = (&mut ct[..len], &a0[..len], &a1[..len]);
                let (aw, ab) = (co.alpha_w[l + 1], co.alpha_b[l + 1]);
                for i in 0..len {
                    let (e, ed) = dual.pair(cs[i], (a0[i], a1[i]), q);
                    ct[i] = ct[i] * (s2sw2 * ed) + aw * e + ab;
                    cs[i] = s2 * (sw2 * e + sb2);
                }
            }
            if sym {
                cs[0] = p1.diag_nngp[j];
                ct[0] = p1.diag_ntk[j];
            }
        }
    }
    finish(co, x1, x2, d, (&p1.diag_nngp, &p1.diag_ntk), (nngp, ntk));
}

/// The last steps of every fill: identical inputs get the exact diagonal values, the upper
/// triangle of a symmetric fill is mirrored, and the output factor applied.
fn finish(
    co: &Coefs,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    diag: (&[f64], &[f64]),
    (nngp, ntk): (Option<&mut DMatrix<f64>>, &mut DMatrix<f64>),
) {
    let pairs = identical_rows(x1, x2, d);
    for m in nngp.into_iter().map(|m| (m, diag.0)).chain([(ntk, diag.1)]) {
        let (m, diag) = m;
        for &(i, j) in &pairs {
            m[(i, j)] = diag[i];
        }
        if x2.is_none() {
            mirror_lower(m);
        }
        if co.out_scale != 1.0 {
            *m *= co.out_scale;
        }
    }
}

/// The pairs (i, j) of bitwise identical rows x1_i = x2_j (with i > j in the symmetric case,
/// x2 = x1, where the diagonal is already exact).
fn identical_rows(x1: &[f64], x2: Option<&[f64]>, d: usize) -> Vec<(usize, usize)> {
    use std::collections::HashMap;
    let key = |row: &[f64]| row.iter().map(|v| v.to_bits()).collect::<Vec<u64>>();
    let mut rows: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
    for (j, row) in x2.unwrap_or(x1).chunks_exact(d).enumerate() {
        rows.entry(key(row)).or_default().push(j);
    }
    let mut pairs = Vec::new();
    for (i, row) in x1.chunks_exact(d).enumerate() {
        if let Some(js) = rows.get(&key(row)) {
            let lower = js.iter().filter(|&&j| x2.is_some() || j < i);
            pairs.extend(lower.map(|&j| (i, j)));
        }
    }
    pairs
}

/// tanh (an odd activation) through its Hermite series: the coefficients of every point and
/// layer once, then one Horner pass per entry and layer. Same column scheme as [`fill`].
fn fill_series(
    act: Activation,
    co: &Coefs,
    depth: usize,
    x1: &[f64],
    x2: Option<&[f64]>,
    d: usize,
    (mut nngp, ntk): (Option<&mut DMatrix<f64>>, &mut DMatrix<f64>),
) {
    let sym = x2.is_none();
    let xb = x2.unwrap_or(x1);
    let (n1, n2) = (x1.len() / d, xb.len() / d);
    let mut terms = 1;
    let p1 = series_points(act, co, depth, x1, d, &mut terms);
    let p2_own = (!sym).then(|| series_points(act, co, depth, xb, d, &mut terms));
    let p2 = p2_own.as_ref().unwrap_or(&p1);
    for m in nngp.iter_mut().map(|m| &mut **m).chain([&mut *ntk]) {
        if m.shape() != (n1, n2) {
            *m = DMatrix::zeros(n1, n2);
        }
    }
    let mut scratch = if nngp.is_none() {
        vec![0.0; n1]
    } else {
        Vec::new()
    };
    let (s2, sw2, sb2, s2sw2) = (co.s2, co.sw2, co.sb2, co.s2 * co.sw2);
    const T: usize = series::TERMS;
    {
        let mut ns = nngp.as_deref_mut().map(|m| m.as_mut_slice());
        let nt = ntk.as_mut_slice();
        for j in 0..n2 {
            let i0 = if sym { j } else { 0 };
            let cs = match ns.as_deref_mut() {
                Some(ns) => &mut ns[j * n1 + i0..(j + 1) * n1],
                None => &mut scratch[i0..],
            };
            let ct = &mut nt[j * n1 + i0..(j + 1) * n1];
            first_layer_column(co, &x1[i0 * d..], &xb[j * d..(j + 1) * d], cs, ct);
            for l in 0..depth {
                let q_inv = p2.inv_sqrt[l * n2 + j];
                let cb = &p2.coef[(l * n2 + j) * T..(l * n2 + j + 1) * T];
                let (aw, ab) = (co.alpha_w[l + 1], co.alpha_b[l + 1]);
                for (i, (s, t)) in cs.iter_mut().zip(ct.iter_mut()).enumerate() {
                    let p = l * n1 + i0 + i;
                    let rho = *s * (p1.inv_sqrt[p] * q_inv);
                    let w = (rho * rho).min(1.0);
                    let ca = &p1.coef[p * T..(p + 1) * T];
                    let (e, ed) = series::moments(ca, cb, *s, w, terms);
                    *t = *t * (s2sw2 * ed) + aw * e + ab;
                    *s = s2 * (sw2 * e + sb2);
                }
            }
            if sym {
                cs[0] = p1.diag_nngp[j];
                ct[0] = p1.diag_ntk[j];
            }
        }
    }
    finish(co, x1, x2, d, (&p1.diag_nngp, &p1.diag_ntk), (nngp, ntk));
}

/// Per-point quantities for [`fill_series`]: 1/√Σ^l(x,x) (0 for a zero variance) and the
/// series coefficients, layer-major, with the diagonal kernels; raises `terms` to what these
/// points need.
struct SeriesPoints {
    inv_sqrt: Vec<f64>,
    coef: Vec<f64>,
    diag_nngp: Vec<f64>,
    diag_ntk: Vec<f64>,
}

fn series_points(
    act: Activation,
    co: &Coefs,
    depth: usize,
    x: &[f64],
    d: usize,
    terms: &mut usize,
) -> SeriesPoints {
    const T: usize = series::TERMS;
    let n = x.len() / d;
    let mut pts = SeriesPoints {
        inv_sqrt: vec![0.0; depth * n],
        coef: vec![0.0; depth * n * T],
        diag_nngp: vec![0.0; n],
        diag_ntk: vec![0.0; n],
    };
    for (p, xp) in x.chunks_exact(d).enumerate() {
        let sq = dot(xp, xp) * co.inv_d;
        let mut a = co.s2 * (co.sw2 * sq + co.sb2);
        let mut th = co.alpha_w[0] * sq + co.alpha_b[0];
        for l in 0..depth {
            let at = l * n + p;
            pts.inv_sqrt[at] = if a > 0.0 { 1.0 / a.sqrt() } else { 0.0 };
            let c = &mut pts.coef[at * T..(at + 1) * T];
            series::coefficients(act, a, c);
            *terms = (*terms).max(series::terms_needed(c));
            let w = if a > 0.0 { 1.0 } else { 0.0 };
            let (e, ed) = series::moments(c, c, a, w, T);
            th = th * co.s2 * co.sw2 * ed + co.alpha_w[l + 1] * e + co.alpha_b[l + 1];
            a = co.s2 * (co.sw2 * e + co.sb2);
        }
        pts.diag_nngp[p] = a;
        pts.diag_ntk[p] = th;
    }
    pts
}

/// Layer 1 for one column (see [`first_layer`]), unrolled for small input dimensions.
fn first_layer_column(co: &Coefs, x1: &[f64], xj: &[f64], cs: &mut [f64], ct: &mut [f64]) {
    match xj.len() {
        1 => first_layer::<1>(co, x1, xj, cs, ct),
        2 => first_layer::<2>(co, x1, xj, cs, ct),
        3 => first_layer::<3>(co, x1, xj, cs, ct),
        _ => first_layer_any(co, x1, xj, cs, ct),
    }
}

/// Layer 1 for one column: Σ¹ = s²(σ_w² x·x'/d + σ_b²) and Θ¹ = α_w¹ x·x'/d + α_b¹ against
/// the rows of `x1` (`cs.len()` × D).
#[inline(always)]
fn first_layer<const D: usize>(co: &Coefs, x1: &[f64], xj: &[f64], cs: &mut [f64], ct: &mut [f64]) {
    let xj: &[f64; D] = xj.try_into().expect("a row of D inputs");
    let (s2, sw2, sb2, aw, ab) = (co.s2, co.sw2, co.sb2, co.alpha_w[0], co.alpha_b[0]);
    for ((s, t), xi) in cs.iter_mut().zip(ct.iter_mut()).zip(x1.chunks_exact(D)) {
        let mut c = 0.0;
        for k in 0..D {
            c += xi[k] * xj[k];
        }
        let c = c * co.inv_d;
        *s = s2 * (sw2 * c + sb2);
        *t = aw * c + ab;
    }
}

/// [`first_layer`] for any input dimension.
fn first_layer_any(co: &Coefs, x1: &[f64], xj: &[f64], cs: &mut [f64], ct: &mut [f64]) {
    let d = xj.len();
    let (s2, sw2, sb2, aw, ab) = (co.s2, co.sw2, co.sb2, co.alpha_w[0], co.alpha_b[0]);
    for ((s, t), xi) in cs.iter_mut().zip(ct.iter_mut()).zip(x1.chunks_exact(d)) {
        let c = dot(xi, xj) * co.inv_d;
        *s = s2 * (sw2 * c + sb2);
        *t = aw * c + ab;
    }
}

/// Copies the strict lower triangle of a square matrix onto the upper one, in tiles so that
/// the strided reads stay in cache.
pub(crate) fn mirror_lower(m: &mut DMatrix<f64>) {
    const TILE: usize = 64;
    let n = m.nrows();
    let s = m.as_mut_slice();
    for jb in (0..n).step_by(TILE) {
        for ib in (0..=jb).step_by(TILE) {
            // Upper tile rows ib.., columns jb.. (i < j) from lower entries (j, i).
            for j in jb..(jb + TILE).min(n) {
                for i in ib..(ib + TILE).min(j) {
                    s[j * n + i] = s[i * n + j];
                }
            }
        }
    }
}
