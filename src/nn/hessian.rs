//! Curvature of the training objective: exact Hessian-vector products, Jacobian-vector and
//! vector-Jacobian products, and top eigenvalues by power iteration with a warm start.
//!
//! **The objective.** [`super::train::Trainer`] descends, with the effective step size
//! η_eff = [`super::Mlp::effective_lr`](η), the objective
//!
//! ```text
//! L_obj(θ) = ℓ(g)/α²,      gᵢ = α·(f(xᵢ;θ) − f₀ᵢ)
//! ```
//!
//! over n points of K outputs each (f₀ = f(·;θ₀) with the centred-output option, else 0; α the
//! lazy scale, 1 for the plain network; ℓ the [`Loss`]), so θ ← θ − η_eff ∇L_obj. With the
//! *output signal* rᵢ = n·∂ℓ/∂gᵢ (K values per point) the loss is either
//!
//! - [`Loss::Squared`]: ℓ = (1/2n) Σᵢ ‖rᵢ‖², rᵢ = gᵢ − yᵢ (±1 labels for K = 1, one-hot
//!   targets for K > 1), or
//! - [`Loss::CrossEntropy`]: ℓ = −(1/n) Σᵢ Σ_c y_ic log p_ic, pᵢ = softmax(gᵢ), rᵢ = pᵢ − yᵢ
//!   (K ≥ 2, each target row a probability vector).
//!
//! Its Hessian is the matrix whose top eigenvalue, the *sharpness*, GD compares with 2/η_eff:
//!
//! ```text
//! ∇²L_obj = (1/n) Σᵢ Jᵢᵀ Mᵢ Jᵢ + (1/nα) Σᵢ Σ_c r_ic ∇²f_ic,      Jᵢ = ∂f(xᵢ)/∂θ  (K × P)
//! ```
//!
//! with Mᵢ = ∂²ℓᵢ/∂gᵢ² the output curvature: I_K for the squared loss and the softmax
//! Hessian diag(pᵢ) − pᵢpᵢᵀ for cross-entropy (positive semi-definite either way, so the
//! Gauss–Newton part is). For the squared loss the Gauss–Newton part (1/n)JᵀJ has the non-zero
//! eigenvalues of Θ/n (Θ = J Jᵀ, the nK × nK empirical NTK), independently of α: near
//! interpolation (r → 0) the sharpness is λ_max(Θ)/n. For cross-entropy it is Θ weighted by
//! the softmax curvature, which vanishes as the predictions grow confident: the sharpness then
//! falls however large Θ is, and λ_max(Θ)/n bounds it only from above (‖Mᵢ‖ ≤ 1/2).
//!
//! **Exact products (Pearlmutter 1994).** Everything is computed on the host in f64 from a
//! snapshot of the parameters (the network trains in f32). With the layer conventions of
//! [`super::mlp`] (Z_l = w_mult·X_l W_l + b_mult·b_l, X_{l+1} = φ(Z_l), f = Z_L) and a
//! direction v = (V_l, c_l), the forward R-pass is
//!
//! ```text
//! R(Z_l) = w_mult·(R(X_l) W_l + X_l V_l) + b_mult·c_l,     R(X_{l+1}) = φ'(Z_l) ∘ R(Z_l),  R(X_0) = 0
//! ```
//!
//! so J·v = R(f) (n × K). The backward pass of the gradient, with D_L = r/(nα),
//! ∂L/∂W_l = w_mult·X_lᵀ D_l, ∂L/∂b_l = b_mult·Σ_rows D_l, P_{l−1} = w_mult·D_l W_lᵀ,
//! D_{l−1} = P_{l−1} ∘ φ'(Z_{l−1}), differentiated along v gives H·v:
//!
//! ```text
//! R(D_L) = R(f)/n                                   (squared)
//! R(D_L)ᵢ = (pᵢ ∘ R(f)ᵢ − pᵢ (pᵢ·R(f)ᵢ))/n            (cross-entropy, per row i)
//! R(∂L/∂W_l) = w_mult·(R(X_l)ᵀ D_l + X_lᵀ R(D_l)),        R(∂L/∂b_l) = b_mult·Σ_rows R(D_l)
//! R(D_{l−1}) = w_mult·(R(D_l) W_lᵀ + D_l V_lᵀ) ∘ φ'(Z_{l−1}) + P_{l−1} ∘ φ''(Z_{l−1}) ∘ R(Z_{l−1})
//! ```
//!
//! One H·v costs about three forward-backward passes. For ReLU (and linear) φ'' = 0 almost
//! everywhere and the second term vanishes; the product is then the Hessian of the piecewise
//! smooth objective on the current activation pattern.
//!
//! Parameter vectors are flat, in the order of [`super::Mlp::params`]: W¹ row-major
//! (fan_in × fan_out), b¹, W², b², … Per-point quantities of K outputs (targets, outputs,
//! signals, J·v) are flat n × K row-major: entry i·K + c is output c of point i.
//!
//! **Top eigenvalues.** [`top_eigenvalue`] runs power iteration on a symmetric operator from a
//! caller-held start vector (the previous eigenvector, so tracking during training needs a
//! few products per call). Power iteration finds the eigenvalue of largest magnitude; when
//! that is negative (an indefinite Hessian far from a minimum), it is run again on A − μI with
//! μ the negative eigenvalue found, whose spectrum lies in [0, λ_max − μ], so that the most
//! positive eigenvalue dominates.

use nalgebra::{DMatrix, DVector};

use super::Activation;
use super::loss::Loss;
use super::mlp::{LayerShape, MlpSpec};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// The training objective of a network on fixed data, in f64 (see the module notes).
#[derive(Clone, Debug)]
pub struct Objective {
    shapes: Vec<LayerShape>,
    activation: Activation,
    /// n × d inputs.
    x: DMatrix<f64>,
    /// n × K targets.
    y: DMatrix<f64>,
    /// n × K outputs at θ₀ (centred runs).
    f0: Option<DMatrix<f64>>,
    alpha: f64,
    loss: Loss,
}

/// One layer's weights (fan_in × fan_out) and biases.
type LayerParams = (DMatrix<f64>, DVector<f64>);

impl Objective {
    /// `x` (n × d row-major), `y` (n × K row-major, K = `spec.outputs`), `f0` (n × K: f(x;θ₀)
    /// for a centred output, else `None`), `alpha` the lazy scale (1 for the plain network).
    /// The loss is [`Loss::Squared`]; see [`Objective::with_loss`].
    pub fn new(
        spec: &MlpSpec,
        x: &[f32],
        y: &[f32],
        f0: Option<&[f32]>,
        alpha: f64,
    ) -> Result<Self> {
        spec.validate()?;
        let (d, k) = (spec.input_dim, spec.outputs);
        let n = y.len() / k;
        if n == 0 || y.len() != n * k || x.len() != n * d || f0.is_some_and(|f| f.len() != n * k) {
            return Err(Error::ShapeMismatch {
                op: "Objective::new",
                expected: format!("x of n × {d}, y and f0 of n × {k} (n > 0)"),
                got: format!("{} inputs, {} targets", x.len(), y.len()),
            });
        }
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::config(
                "alpha",
                format!("must be a finite number > 0, got {alpha}"),
            ));
        }
        let rows = |v: &[f32]| DMatrix::from_row_iterator(n, k, v.iter().map(|&a| a as f64));
        Ok(Objective {
            shapes: spec.layers(),
            activation: spec.activation,
            x: DMatrix::from_row_iterator(n, d, x.iter().map(|&a| a as f64)),
            y: rows(y),
            f0: f0.map(rows),
            alpha,
            loss: Loss::Squared,
        })
    }

    /// The same objective under `loss` (refused, naming `loss`, where the network's number of
    /// outputs does not allow it: see [`Loss::check_outputs`]; and for the bag loss, which has
    /// no curvature tools).
    pub fn with_loss(mut self, loss: Loss) -> Result<Self> {
        if let Loss::Proportions { .. } = loss {
            return Err(Error::config(
                "loss",
                "the curvature tools take the squared loss or cross-entropy, not the bag loss",
            ));
        }
        loss.check_outputs(self.outputs())?;
        self.loss = loss;
        Ok(self)
    }

    /// The loss whose Hessian this is.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// K, the number of outputs per point.
    pub fn outputs(&self) -> usize {
        self.y.ncols()
    }

    /// n, the number of training points.
    pub fn n(&self) -> usize {
        self.y.nrows()
    }

    /// P, the number of parameters.
    pub fn param_count(&self) -> usize {
        self.shapes
            .iter()
            .map(|s| s.fan_in * s.fan_out + s.fan_out)
            .sum()
    }

    /// Floating-point work of one forward pass over the n points (2 per multiply-add).
    pub fn forward_flops(&self) -> f64 {
        2.0 * self.n() as f64 * self.param_count() as f64
    }

    fn unflatten(&self, theta: &[f64]) -> Result<Vec<LayerParams>> {
        if theta.len() != self.param_count() {
            return Err(Error::ShapeMismatch {
                op: "Objective: parameter vector",
                expected: self.param_count().to_string(),
                got: theta.len().to_string(),
            });
        }
        let mut at = 0;
        Ok(self
            .shapes
            .iter()
            .map(|s| {
                let nw = s.fan_in * s.fan_out;
                let w = DMatrix::from_row_slice(s.fan_in, s.fan_out, &theta[at..at + nw]);
                let b = DVector::from_column_slice(&theta[at + nw..at + nw + s.fan_out]);
                at += nw + s.fan_out;
                (w, b)
            })
            .collect())
    }

    /// Forward and backward pass at θ (flat, f64): everything later products need.
    pub fn at(&self, theta: &[f64]) -> Result<Point<'_>> {
        let params = self.unflatten(theta)?;
        let act = self.activation;
        let last = self.shapes.len() - 1;
        let n = self.n();
        let (mut h, mut dphi, mut ddphi) = (vec![], vec![], vec![]);
        let mut f = DMatrix::zeros(n, self.outputs());
        for (l, (s, (w, b))) in self.shapes.iter().zip(&params).enumerate() {
            let input = if l == 0 { &self.x } else { &h[l - 1] };
            let mut zl = input * w;
            affine(&mut zl, s.w_mult as f64, s.b_mult as f64, b.as_slice());
            if l < last {
                h.push(zl.map(|v| act.apply_f64(v)));
                dphi.push(zl.map(|v| act.derivative_f64(v)));
                if !act.is_piecewise_linear() {
                    ddphi.push(zl.map(|v| act.second_derivative_f64(v)));
                }
            } else {
                f = zl;
            }
        }
        let g = match &self.f0 {
            Some(f0) => (&f - f0) * self.alpha,
            None => &f * self.alpha,
        };
        let (r, softmax, loss) = match self.loss {
            Loss::Squared => {
                let r = g - &self.y;
                let loss = r.norm_squared() / (2.0 * n as f64);
                (r, None, loss)
            }
            Loss::CrossEntropy => {
                let (p, loss) = softmax_cross_entropy(&g, &self.y);
                (&p - &self.y, Some(p), loss)
            }
            Loss::Proportions { .. } => unreachable!("Objective::with_loss refuses the bag loss"),
        };
        let mut pt = Point {
            obj: self,
            params,
            h,
            dphi,
            ddphi,
            f,
            r,
            softmax,
            loss,
            d: vec![],
            p: vec![],
            grad: vec![],
        };
        let d_out = &pt.r / (n as f64 * self.alpha);
        let (grad, d, p) = pt.backprop(d_out);
        pt.grad = grad;
        pt.d = d;
        pt.p = p;
        Ok(pt)
    }
}

/// Row-wise softmax p of `g` (n × K) and the mean cross-entropy −(1/n) Σᵢ Σ_c y_ic log p_ic,
/// both through the row maximum (log p_ic = g_ic − m − log Σ_j e^{g_ij − m}), so no
/// exponential overflows.
fn softmax_cross_entropy(g: &DMatrix<f64>, y: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
    let (n, k) = g.shape();
    let mut p = DMatrix::zeros(n, k);
    let mut total = 0.0;
    for i in 0..n {
        let m = g.row(i).max();
        let z: f64 = g.row(i).iter().map(|&v| (v - m).exp()).sum();
        let log_z = z.ln();
        for c in 0..k {
            let log_p = g[(i, c)] - m - log_z;
            p[(i, c)] = log_p.exp();
            total -= y[(i, c)] * log_p;
        }
    }
    (p, total / n.max(1) as f64)
}

/// Row-major flat copy of an n × K matrix (entry i·K + c).
fn flat_rows(m: &DMatrix<f64>) -> DVector<f64> {
    DVector::from_iterator(m.len(), m.transpose().iter().copied())
}

/// `z = w_mult·z + b_mult·b` (b added to every row).
fn affine(z: &mut DMatrix<f64>, w_mult: f64, b_mult: f64, b: &[f64]) {
    for (j, mut col) in z.column_iter_mut().enumerate() {
        let add = b_mult * b[j];
        col.iter_mut().for_each(|v| *v = w_mult * *v + add);
    }
}

/// Appends W (row-major) and b of one layer's gradient to `out`.
fn push_flat(out: &mut Vec<f64>, gw: &DMatrix<f64>, gb: impl Iterator<Item = f64>) {
    for p in 0..gw.nrows() {
        out.extend(gw.row(p).iter());
    }
    out.extend(gb);
}

fn col_sums(m: &DMatrix<f64>, scale: f64) -> impl Iterator<Item = f64> + '_ {
    m.column_iter().map(move |c| scale * c.sum())
}

/// The objective and its first-order quantities at one θ; Hessian-vector, Jacobian-vector
/// and vector-Jacobian products at that θ.
pub struct Point<'a> {
    obj: &'a Objective,
    params: Vec<LayerParams>,
    /// Hidden activations X_{l+1} = φ(Z_l), n × n_l.
    h: Vec<DMatrix<f64>>,
    dphi: Vec<DMatrix<f64>>,
    /// φ''(Z_l), only for activations with a non-zero second derivative.
    ddphi: Vec<DMatrix<f64>>,
    /// n × K outputs.
    f: DMatrix<f64>,
    /// n × K output signal: the residual (squared), softmax − targets (cross-entropy).
    r: DMatrix<f64>,
    /// n × K softmax probabilities (cross-entropy only).
    softmax: Option<DMatrix<f64>>,
    loss: f64,
    /// D_l = ∂L_obj/∂Z_l (n × fan_out), every layer, output last.
    d: Vec<DMatrix<f64>>,
    /// P_l = w_mult_{l+1}·D_{l+1} W_{l+1}ᵀ for the hidden layers.
    p: Vec<DMatrix<f64>>,
    grad: Vec<f64>,
}

impl Point<'_> {
    /// The plain loss ℓ (what the scenes plot): (1/2n)Σ‖rᵢ‖² for the squared loss, the mean
    /// cross-entropy for cross-entropy; L_obj = ℓ/α².
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// L_obj = ℓ/α², the objective whose Hessian this is.
    pub fn objective(&self) -> f64 {
        self.loss / (self.obj.alpha * self.obj.alpha)
    }

    /// f(xᵢ; θ) on the training points, flat n × K row-major.
    pub fn outputs(&self) -> DVector<f64> {
        flat_rows(&self.f)
    }

    /// The output signal rᵢ = n·∂ℓ/∂gᵢ, flat n × K row-major: the residuals α(fᵢ − f₀ᵢ) − yᵢ
    /// for the squared loss, softmax(gᵢ) − yᵢ for cross-entropy.
    pub fn residual(&self) -> DVector<f64> {
        flat_rows(&self.r)
    }

    /// ∇L_obj, flat.
    pub fn gradient(&self) -> &[f64] {
        &self.grad
    }

    fn input(&self, l: usize) -> &DMatrix<f64> {
        if l == 0 { &self.obj.x } else { &self.h[l - 1] }
    }

    /// Back-propagates an output signal (n × K) to the flat gradient Σᵢ Σ_c signal_ic ∂f_ic/∂θ,
    /// returning the per-layer signals D_l and the products P_l as well.
    fn backprop(&self, d_out: DMatrix<f64>) -> (Vec<f64>, Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        let shapes = &self.obj.shapes;
        let layers = shapes.len();
        let mut d: Vec<DMatrix<f64>> = vec![DMatrix::zeros(0, 0); layers];
        let mut p: Vec<DMatrix<f64>> = vec![DMatrix::zeros(0, 0); layers - 1];
        let mut grads: Vec<(DMatrix<f64>, Vec<f64>)> = Vec::with_capacity(layers);
        d[layers - 1] = d_out;
        for l in (0..layers).rev() {
            let s = shapes[l];
            let (wm, bm) = (s.w_mult as f64, s.b_mult as f64);
            let gw = self.input(l).tr_mul(&d[l]) * wm;
            let gb: Vec<f64> = col_sums(&d[l], bm).collect();
            grads.push((gw, gb));
            if l > 0 {
                let pl = (&d[l] * self.params[l].0.transpose()) * wm;
                d[l - 1] = pl.component_mul(&self.dphi[l - 1]);
                p[l - 1] = pl;
            }
        }
        let mut flat = Vec::with_capacity(self.obj.param_count());
        for (gw, gb) in grads.iter().rev() {
            push_flat(&mut flat, gw, gb.iter().copied());
        }
        (flat, d, p)
    }

    /// J·v = ∂f/∂θ · v on the training points (n × K), with R(Z_l) for the hidden layers.
    fn r_forward(&self, v: &[LayerParams]) -> (DMatrix<f64>, Vec<DMatrix<f64>>, Vec<DMatrix<f64>>) {
        let shapes = &self.obj.shapes;
        let last = shapes.len() - 1;
        let (mut rz, mut rx) = (Vec::with_capacity(last), Vec::with_capacity(last));
        let mut rf = DMatrix::zeros(0, 0);
        for (l, s) in shapes.iter().enumerate() {
            let (vw, vb) = &v[l];
            let mut m = self.input(l) * vw;
            if l > 0 {
                m += &rx[l - 1] * &self.params[l].0;
            }
            affine(&mut m, s.w_mult as f64, s.b_mult as f64, vb.as_slice());
            if l < last {
                rx.push(m.component_mul(&self.dphi[l]));
                rz.push(m);
            } else {
                rf = m;
            }
        }
        (rf, rz, rx)
    }

    /// J·v: the change of the outputs f(xᵢ) along the flat direction v (flat n × K row-major).
    pub fn jvp(&self, v: &[f64]) -> Result<DVector<f64>> {
        let v = self.obj.unflatten(v)?;
        Ok(flat_rows(&self.r_forward(&v).0))
    }

    /// Jᵀ·u = Σᵢ Σ_c u_ic ∂f_ic/∂θ (flat, P) for a signal u on the training points (flat
    /// n × K row-major).
    pub fn vjp(&self, u: &[f64]) -> Result<Vec<f64>> {
        let (n, k) = (self.obj.n(), self.obj.outputs());
        if u.len() != n * k {
            return Err(Error::ShapeMismatch {
                op: "Point::vjp",
                expected: format!("{n} × {k}"),
                got: u.len().to_string(),
            });
        }
        Ok(self.backprop(DMatrix::from_row_slice(n, k, u)).0)
    }

    /// R(D_L) = ∂²ℓ/∂g² R(f) / n, the output curvature applied to J·v (see the module notes).
    fn output_curvature(&self, rf: DMatrix<f64>) -> DMatrix<f64> {
        let n = self.obj.n() as f64;
        match &self.softmax {
            None => rf / n,
            Some(p) => {
                let mut out = rf.component_mul(p);
                for (i, mut row) in out.row_iter_mut().enumerate() {
                    let pr = p.row(i).dot(&rf.row(i));
                    row.iter_mut()
                        .zip(p.row(i).iter())
                        .for_each(|(o, &pc)| *o = (*o - pc * pr) / n);
                }
                out
            }
        }
    }

    /// H·v, the exact Hessian of L_obj at this θ times the flat direction v (P).
    pub fn hvp(&self, v: &[f64]) -> Result<Vec<f64>> {
        let vl = self.obj.unflatten(v)?;
        let shapes = &self.obj.shapes;
        let layers = shapes.len();
        let (rf, rz, rx) = self.r_forward(&vl);
        let mut rd = self.output_curvature(rf);
        let mut out: Vec<(DMatrix<f64>, Vec<f64>)> = Vec::with_capacity(layers);
        for l in (0..layers).rev() {
            let s = shapes[l];
            let (wm, bm) = (s.w_mult as f64, s.b_mult as f64);
            let mut gw = self.input(l).tr_mul(&rd);
            if l > 0 {
                gw += rx[l - 1].tr_mul(&self.d[l]);
            }
            gw *= wm;
            let gb: Vec<f64> = col_sums(&rd, bm).collect();
            out.push((gw, gb));
            if l > 0 {
                let w = &self.params[l].0;
                let mut m = &rd * w.transpose();
                m += &self.d[l] * vl[l].0.transpose();
                m *= wm;
                let mut next = m.component_mul(&self.dphi[l - 1]);
                if let Some(dd) = self.ddphi.get(l - 1) {
                    next += self.p[l - 1].component_mul(dd).component_mul(&rz[l - 1]);
                }
                rd = next;
            }
        }
        let mut flat = Vec::with_capacity(v.len());
        for (gw, gb) in out.iter().rev() {
            push_flat(&mut flat, gw, gb.iter().copied());
        }
        Ok(flat)
    }
}

/// The result of a power iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopEigen {
    /// The estimate of the most positive eigenvalue (the Rayleigh quotient).
    pub value: f64,
    /// Operator applications used.
    pub iterations: usize,
    /// Whether the residual ‖Av − λv‖ fell below `tol`·|λ| (scaled by the spectral spread).
    pub converged: bool,
}

fn normalise(v: &mut [f64]) -> f64 {
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|a| *a /= norm);
    }
    norm
}

/// A deterministic unit start vector of length `p` (a fixed seed, so results reproduce).
pub fn random_unit(p: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed ^ 0x5eed_e16e);
    let mut v: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    normalise(&mut v);
    v
}

/// The most positive eigenvalue of the symmetric operator `apply` (v ↦ A v) on vectors of
/// length `v.len()`, by power iteration from `v` (left holding the eigenvector estimate: pass
/// it back next time for a warm start; a zero or non-finite `v` is replaced by a fixed random
/// vector). Stops after `max_iter` products per phase, or when ‖Av − λv‖ ≤ `tol`·|λ|.
pub fn top_eigenvalue(
    mut apply: impl FnMut(&[f64]) -> Vec<f64>,
    v: &mut Vec<f64>,
    max_iter: usize,
    tol: f64,
) -> TopEigen {
    let p = v.len();
    let fresh = |v: &mut Vec<f64>, salt: u64| *v = random_unit(p, salt);
    let norm = normalise(v);
    if !(norm > 0.0 && norm.is_finite()) {
        fresh(v, 1);
    }
    let mut shift = 0.0;
    let mut iterations = 0;
    let mut lambda = 0.0;
    let mut converged = false;
    for phase in 0..2 {
        converged = false;
        for _ in 0..max_iter.max(1) {
            let mut w = apply(v);
            iterations += 1;
            if shift != 0.0 {
                w.iter_mut()
                    .zip(v.iter())
                    .for_each(|(a, b)| *a -= shift * b);
            }
            lambda = w.iter().zip(v.iter()).map(|(a, b)| a * b).sum::<f64>();
            let res = w
                .iter()
                .zip(v.iter())
                .map(|(a, b)| (a - lambda * b).powi(2))
                .sum::<f64>()
                .sqrt();
            let wn = normalise(&mut w);
            if !(wn > 0.0 && wn.is_finite()) {
                // A v = shift·v exactly (or overflow): v is an eigenvector with eigenvalue shift.
                converged = wn == 0.0;
                break;
            }
            *v = w;
            if res <= tol * (lambda.abs() + shift.abs()) {
                converged = true;
                break;
            }
        }
        if phase == 0 && lambda < 0.0 {
            // The dominant eigenvalue is negative: shift it to 0 and look for the top again.
            shift = lambda;
            fresh(v, 2);
        } else {
            break;
        }
    }
    TopEigen {
        value: lambda + shift,
        iterations,
        converged,
    }
}

/// The top eigenvalue of a symmetric matrix by [`top_eigenvalue`] (warm start in `v`).
pub fn top_eigenvalue_sym(
    m: &DMatrix<f64>,
    v: &mut Vec<f64>,
    max_iter: usize,
    tol: f64,
) -> TopEigen {
    if v.len() != m.nrows() {
        *v = vec![0.0; m.nrows()];
    }
    top_eigenvalue(
        |x| (m * DVector::from_column_slice(x)).as_slice().to_vec(),
        v,
        max_iter,
        tol,
    )
}

/// The top eigenvalue of the Hessian of the objective at θ (warm start in `v`, resized when needed).
pub fn hessian_top(point: &Point<'_>, v: &mut Vec<f64>, max_iter: usize, tol: f64) -> TopEigen {
    if v.len() != point.obj.param_count() {
        *v = vec![0.0; point.obj.param_count()];
    }
    top_eigenvalue(
        |x| point.hvp(x).expect("direction of the parameter count"),
        v,
        max_iter,
        tol,
    )
}

/// f32 parameters as f64.
pub fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&a| a as f64).collect()
}
