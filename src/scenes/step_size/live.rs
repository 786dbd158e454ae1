//! The live Step-size run: one network trained with its linearisation, stability and catapult
//! bounds, the sharpness and the NTK tracked as it trains, and the regime it ends in.

use nalgebra::DMatrix;
use serde::Serialize;

use super::explain::explain;
use super::{
    CATAPULT_BISECTIONS, CATAPULT_MAX, CATAPULT_TRIAL_STEPS, Regime, StepSizeConfig, build_run,
    catapult_flops, catapult_multiple,
};
use crate::error::{Error, Result, in_range};
use crate::kernels::KernelMachine;
use crate::linalg::{LanczosOptions, lanczos_top_k_from};
use crate::nn::Loss;
use crate::nn::hessian::{Objective, Point, widen};
use crate::nn::ntk::{kernel_distance, relative_change};
use crate::nn::train::{DIVERGENCE_FACTOR, LOSS_FLOOR};
use crate::session::budget::CATAPULT_FLOPS;
use crate::session::run::Run;
use crate::session::weights::{Architecture, Weights};

/// The scene's id in weights files and links.
pub const SCENE: &str = "step";

/// The linearised network's loss under discrete kernel GD with Θ₀, from the eigenpairs; with
/// momentum β, heavy ball on the same modes.
#[derive(Clone, Debug)]
struct Linearized {
    /// (λᵢ, cᵢ²) with cᵢ the residual's component along eigenvector i at step 0.
    modes: Vec<(f64, f64)>,
    n: f64,
    /// The momentum β.
    beta: f64,
    /// With β > 0: the step size, the step k and each mode's amplitude eᵢ at steps k − 1 and
    /// k (relative to step 0) of the latest [`Linearized::loss`], continued by the next.
    heavy: Option<(f64, u64, Vec<f64>, Vec<f64>)>,
    /// Under cross-entropy, the function-space run instead of the modes.
    ce: Option<CrossEntropyLinear>,
}

/// The linearised network under softmax cross-entropy: GD (heavy ball with momentum β) on the
/// loss in function space with the fixed kernel Θ₀, g ← g + v, v ← βv − (η/n)Θ₀(softmax(g) − y),
/// on the nK outputs (row-major, K per point); no closed form, so it is stepped.
#[derive(Clone, Debug)]
struct CrossEntropyLinear {
    k0: DMatrix<f64>,
    k: usize,
    /// One-hot targets, nK.
    y: Vec<f64>,
    /// g at step 0 (0 for a centred run, else f(x; θ₀)).
    g0: Vec<f64>,
    /// The step size, the step reached, g and v there.
    state: Option<(f64, u64, nalgebra::DVector<f64>, nalgebra::DVector<f64>)>,
}

impl CrossEntropyLinear {
    /// softmax(g) − y and the mean cross-entropy at g.
    fn signal(&self, g: &nalgebra::DVector<f64>) -> (nalgebra::DVector<f64>, f64) {
        let k = self.k;
        let n = g.len() / k;
        let mut r = nalgebra::DVector::zeros(g.len());
        let mut total = 0.0;
        for i in 0..n {
            let row = &g.as_slice()[i * k..(i + 1) * k];
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let log_z = row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            for c in 0..k {
                let log_p = row[c] - m - log_z;
                r[i * k + c] = log_p.exp() - self.y[i * k + c];
                total -= self.y[i * k + c] * log_p;
            }
        }
        (r, total / n as f64)
    }

    /// The loss after `steps` steps of size `lr` with momentum `beta`.
    fn loss(&mut self, lr: f64, steps: u64, beta: f64) -> f64 {
        let continues = matches!(&self.state, Some((l, at, _, _)) if *l == lr && *at <= steps);
        if !continues {
            let g = nalgebra::DVector::from_column_slice(&self.g0);
            let v = nalgebra::DVector::zeros(g.len());
            self.state = Some((lr, 0, g, v));
        }
        let n = (self.g0.len() / self.k) as f64;
        let (_, at, g, v) = self.state.take().expect("set above");
        let (mut at, mut g, mut v) = (at, g, v);
        while at < steps {
            let (r, _) = self.signal(&g);
            v = &v * beta - (&self.k0 * r) * (lr / n);
            g += &v;
            at += 1;
            if !g.iter().all(|x| x.is_finite()) {
                break;
            }
        }
        let loss = if g.iter().all(|x| x.is_finite()) {
            self.signal(&g).1
        } else {
            f64::INFINITY
        };
        self.state = Some((lr, at, g, v));
        loss
    }
}

impl Linearized {
    fn new(machine: &KernelMachine, residual0: &[f64], beta: f64) -> Self {
        let v = machine.eigenvectors();
        let r = nalgebra::DVector::from_column_slice(residual0);
        let c = v.tr_mul(&r);
        let modes = machine
            .eigenvalues()
            .iter()
            .zip(c.iter())
            .map(|(&l, &c)| (l, c * c))
            .collect();
        Linearized {
            modes,
            n: residual0.len() as f64,
            beta,
            heavy: None,
            ce: None,
        }
    }

    /// Under cross-entropy: GD in function space with the kernel `k0` (nK × nK) from `g0` to
    /// the one-hot targets `y` (both nK, K per point).
    fn cross_entropy(k0: &DMatrix<f64>, k: usize, g0: Vec<f64>, y: Vec<f64>, beta: f64) -> Self {
        Linearized {
            modes: Vec::new(),
            n: (g0.len() / k) as f64,
            beta,
            heavy: None,
            ce: Some(CrossEntropyLinear {
                k0: k0.clone(),
                k,
                y,
                g0,
                state: None,
            }),
        }
    }

    /// The loss after k steps: (1/2n) Σᵢ cᵢ² (1 − ηλᵢ/n)^{2k} for plain GD, and with momentum
    /// (1/2n) Σᵢ cᵢ² eᵢ(k)² with eᵢ(0) = 1, eᵢ(1) = 1 − ηλᵢ/n (v starts at 0) and
    /// eᵢ(k+1) = (1 + β − ηλᵢ/n) eᵢ(k) − β eᵢ(k−1). May be infinite or NaN past overflow.
    fn loss(&mut self, lr: f64, k: u64) -> f64 {
        if let Some(ce) = self.ce.as_mut() {
            return ce.loss(lr, k, self.beta);
        }
        if self.beta == 0.0 {
            return self.plain_loss(lr, k);
        }
        let (n, beta) = (self.n, self.beta);
        let continues = matches!(&self.heavy, Some((l, at, _, _)) if *l == lr && *at <= k);
        if !continues {
            let ones = vec![1.0; self.modes.len()];
            self.heavy = Some((lr, 0, ones.clone(), ones));
        }
        let (_, at, prev, cur) = self.heavy.as_mut().expect("set above");
        while *at < k {
            for (i, &(l, _)) in self.modes.iter().enumerate() {
                let a = 1.0 - lr * l / n;
                let next = if *at == 0 {
                    a * cur[i]
                } else {
                    (a + beta) * cur[i] - beta * prev[i]
                };
                prev[i] = cur[i];
                cur[i] = next;
            }
            *at += 1;
        }
        self.modes
            .iter()
            .zip(cur.iter())
            .map(|(&(_, c2), &e)| if c2 == 0.0 { 0.0 } else { c2 * e * e })
            .sum::<f64>()
            / (2.0 * n)
    }

    /// (1/2n) Σᵢ cᵢ² (1 − ηλᵢ/n)^{2k}; may be infinite.
    fn plain_loss(&self, lr: f64, k: u64) -> f64 {
        let k = k as f64;
        self.modes
            .iter()
            .map(|&(l, c2)| {
                let f = (1.0 - lr * l / self.n).abs();
                if c2 == 0.0 {
                    0.0
                } else if f == 0.0 {
                    if k == 0.0 { c2 } else { 0.0 }
                } else {
                    (c2.ln() + 2.0 * k * f.ln()).exp()
                }
            })
            .sum::<f64>()
            / (2.0 * self.n)
    }
}

/// What the Step-size scene shows. Arrays are plain; the loss arrays are indexed by step
/// (entry k is the loss after k steps); the tracked arrays share `trackSteps`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepSizeReport {
    /// Steps taken.
    pub step: u64,
    pub n_train: usize,
    pub param_count: usize,
    /// η in slider units.
    pub lr: f64,
    /// η_eff, the step the update uses (= lr except mean-field: lr·n_L).
    pub effective_lr: f64,
    /// η as a multiple of the stability bound.
    pub lr_multiple: f64,
    /// The training loss (squared, or cross-entropy on two outputs).
    pub loss_kind: Loss,
    /// The stability bound 2n/λ_max(Θ₀) (with momentum β and weight decay λ_wd,
    /// 2(1 + β)/(λ_max(Θ₀)/n + λ_wd)); under cross-entropy 2(1 + β)/(S₀ + λ_wd) with S₀ the
    /// sharpness at θ₀. Slider units.
    pub stability_bound: f64,
    /// S₀, the top Hessian eigenvalue at θ₀ the cross-entropy bound uses (None for squared).
    pub sharpness_init: Option<f64>,
    /// The catapult bound, slider units, and as a multiple of the stability bound.
    pub catapult_bound: f64,
    pub catapult_multiple: f64,
    /// Where the catapult bound comes from.
    pub catapult_source: String,
    /// 2/η_eff: the line sharpness and λ_max(Θ_t)/n are compared with; with momentum β and
    /// weight decay λ_wd, the edge of stability 2(1 + β)/η_eff − λ_wd of the loss's curvature.
    pub two_over_lr: f64,
    /// λ_max(Θ₀)/n (Θ₀ of nK × nK for K outputs).
    pub ntk_top_init: f64,
    /// Training loss ((1/2n)Σ(f − y)², or the mean cross-entropy) after 0, 1, …, step steps.
    pub loss: Vec<f64>,
    /// The linearised network (kernel GD with Θ₀, same η) after 0, 1, … steps; null from the
    /// step it passes the divergence bound.
    pub linearized_loss: Vec<Option<f64>>,
    /// The step at which the linearised model passed the divergence bound.
    pub linearized_diverged: Option<u64>,
    /// Steps at which the sharpness and the lazy measures were measured.
    pub track_steps: Vec<u64>,
    /// Top eigenvalue of the Hessian of the training objective (= `hessian_top[i][0]`).
    pub sharpness: Vec<f64>,
    /// λ_max(Θ_t)/n (= `ntk_spectrum[i][0]`).
    pub ntk_top: Vec<f64>,
    /// The top `topK` eigenvalues of the Hessian at each tracked step, descending (block
    /// Lanczos on Hessian-vector products, warm-started from the last Ritz vectors).
    pub hessian_top: Vec<Vec<f64>>,
    /// The top `topK` eigenvalues of Θ_t/n at each tracked step, descending.
    pub ntk_spectrum: Vec<Vec<f64>>,
    /// ‖θ_t − θ₀‖/‖θ₀‖.
    pub weight_change: Vec<f64>,
    /// ‖Θ_t − Θ₀‖_F/‖Θ₀‖_F on the training points.
    pub kernel_distance: Vec<f64>,
    pub initial_loss: f64,
    /// The largest loss after step 0, and its step (the catapult's peak).
    pub peak_loss: f64,
    pub peak_step: u64,
    /// The regime: from what happened where it has resolved, else from η against the bounds.
    pub regime: Regime,
    /// The regime η against the bounds predicts.
    pub predicted_regime: Regime,
    /// Whether `regime` comes from what happened (true) or from the prediction (false).
    pub settled: bool,
    /// One sentence for the reader.
    pub explanation: String,
    /// The step at which the network diverged; the arrays then end at the last finite values.
    pub diverged: Option<u64>,
}

/// A Step-size network at θ₀ and what every measurement of it starts from.
pub(super) struct Initial {
    pub(super) theta_0: Vec<f32>,
    /// η_eff per slider unit.
    pub(super) lr_factor: f64,
    /// f(x_train; θ₀).
    pub(super) f_init: Vec<f32>,
    /// Θ₀ on the training inputs, its eigendecomposition and top eigenvalue (> 0).
    pub(super) k0: DMatrix<f64>,
    machine: KernelMachine,
    pub(super) lambda0: f64,
    /// The f64 objective the Hessian is taken of (centred on f(·; θ₀) when the run is).
    pub(super) objective: Objective,
    /// The training targets (nK: ±1 labels, or one-hot rows under cross-entropy).
    pub(super) targets: Vec<f32>,
}

impl Initial {
    /// Of `run`, just built from `config` (an NTK that is zero or not finite is refused).
    pub(super) fn of(run: &mut Run, config: &StepSizeConfig) -> Result<Self> {
        let x = run.data.x_train.clone();
        let y = config.targets(&run.data.y_train);
        let theta_0 = run.params();
        let lr_factor = run.trainer().mlp.effective_lr(1.0);
        let f_init = run.trainer_mut().predict(&x);
        let k0 = run.ntk(&x, None)?;
        let machine = KernelMachine::new(&k0)?;
        let lambda0 = machine.lambda_max();
        if !(lambda0.is_finite() && lambda0 > 0.0) {
            return Err(Error::config(
                "initScale",
                "the network's NTK at initialisation is zero or not finite; raise or lower the initialisation scale",
            ));
        }
        let f0 = config.net.init.center_output.then_some(f_init.as_slice());
        let objective = Objective::new(&config.spec(), &x, &y, f0, 1.0)?.with_loss(config.loss)?;
        Ok(Initial {
            theta_0,
            lr_factor,
            f_init,
            k0,
            machine,
            lambda0,
            objective,
            targets: y,
        })
    }
}

/// Relative residual ‖Hu − θu‖ ≤ tol·|θ₁| at which the Hessian's top-k Ritz pairs count as
/// converged (the power iteration this replaced stopped at the same 1e-3). Each Ritz value is
/// then within its residual of an eigenvalue, and within residual²/gap once the gap to the rest
/// of the spectrum exceeds it: about 1e-6·θ₁ for a well-separated top. Where λ₂…λ_k lie in a
/// cluster of eigenvalues closer together than the tolerance (ReLU Hessians' small eigenvalues,
/// whose activation patterns change from step to step), the reported one is a member of it.
pub(super) const HESSIAN_TOL: f64 = 1e-3;

/// The same for the NTK, whose products are those of the formed nK × nK matrix (O((nK)²)
/// each, cheap beside forming it): converged to rounding.
pub(super) const NTK_TOL: f64 = 1e-10;

/// The seed of the random vectors that start (or fill up) a Lanczos block: fixed, so that every
/// measurement reproduces.
const LANCZOS_SEED: u64 = 0x5eed_1a2c;

/// Hessian-vector products of one measurement of the top `k`: `products`, but at least k + 1
/// (the warm-started block's Rayleigh–Ritz step and one Krylov vector beyond it; so at most
/// [`super::MIN_HESSIAN_ITERS`] for k ≤ 3, and the scene's cost cap holds as before).
pub(super) fn hessian_products(k: usize, products: u32) -> usize {
    (products as usize).max(k + 1)
}

/// The Lanczos start blocks of the next measurement: the Ritz vectors of the last one (empty
/// before the first: a cold start from [`LANCZOS_SEED`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Warm {
    pub(super) ntk: Vec<Vec<f64>>,
    pub(super) hessian: Vec<Vec<f64>>,
}

impl Warm {
    /// Whether no measurement has been taken yet.
    pub(super) fn is_cold(&self) -> bool {
        self.hessian.is_empty()
    }
}

/// The top `k` eigenvalues (descending) of the Hessian of the objective at `point` by block
/// Lanczos on Hessian-vector products ([`crate::linalg::lanczos`]), from the block in `warm`
/// (replaced by the new Ritz vectors), at most [`hessian_products`]`(k, products)` products,
/// stopping at [`HESSIAN_TOL`]. None when a product is not finite.
pub(super) fn hessian_top_k(
    point: &Point<'_>,
    k: usize,
    warm: &mut Vec<Vec<f64>>,
    products: u32,
) -> Option<Vec<f64>> {
    let dim = point.gradient().len();
    let k = k.clamp(1, dim);
    let options = LanczosOptions {
        max_matvecs: hessian_products(k, products),
        tol: HESSIAN_TOL,
        ..LanczosOptions::default()
    };
    let hvp = |v: &[f64]| point.hvp(v).expect("direction of the parameter count");
    let e = lanczos_top_k_from(dim, k, hvp, warm, LANCZOS_SEED, &options).ok()?;
    *warm = e.vectors;
    Some(e.values)
}

/// The top `k` eigenvalues (descending) of Θ/n for the formed kernel `kernel` (nK × nK) on n
/// points, by block Lanczos on its products from the block in `warm` (replaced), stopping at
/// [`NTK_TOL`]. Lanczos rather than a dense eigensolve: O(m·(nK)²) for a Krylov basis of m
/// vectors (a few dozen) against O((nK)³), which at the scene's largest kernel (512 × 512 under
/// cross-entropy) would cost more than forming the kernel. None when anything is not finite.
pub(super) fn ntk_top_k(
    kernel: &DMatrix<f64>,
    n: usize,
    k: usize,
    warm: &mut Vec<Vec<f64>>,
) -> Option<Vec<f64>> {
    let dim = kernel.nrows();
    let k = k.clamp(1, dim);
    let options = LanczosOptions {
        tol: NTK_TOL,
        ..LanczosOptions::default()
    };
    let matvec = |v: &[f64]| {
        (kernel * nalgebra::DVector::from_column_slice(v))
            .as_slice()
            .to_vec()
    };
    let e = lanczos_top_k_from(dim, k, matvec, warm, LANCZOS_SEED, &options).ok()?;
    *warm = e.vectors;
    Some(e.values.iter().map(|v| v / n as f64).collect())
}

/// The measurements of a tracking point.
#[derive(Clone, Debug)]
pub(super) struct Tracked {
    /// The top k eigenvalues of Θ/n, descending (λ_max(Θ)/n first).
    pub(super) ntk: Vec<f64>,
    /// The top k eigenvalues of the Hessian, descending (the sharpness first).
    pub(super) hessian: Vec<f64>,
    pub(super) weight_change: f64,
    pub(super) kernel_distance: f64,
}

impl Tracked {
    /// λ_max(Θ)/n.
    pub(super) fn ntk_top(&self) -> f64 {
        self.ntk[0]
    }

    /// The sharpness, the top Hessian eigenvalue.
    pub(super) fn sharpness(&self) -> f64 {
        self.hessian[0]
    }
}

/// The top `k` eigenvalues of the NTK (over n) and of the Hessian, and the lazy measures, at
/// parameters `theta` with NTK `kernel` (against θ₀ and Θ₀), the Lanczos runs warm-started from
/// `warm` (at most [`hessian_products`]`(k, hessian_iters)` Hessian-vector products); None when
/// anything is not finite.
pub(super) fn measure(
    objective: &Objective,
    (theta_0, k0): (&[f32], &DMatrix<f64>),
    (theta, kernel): (&[f32], &DMatrix<f64>),
    warm: &mut Warm,
    (k, hessian_iters): (usize, u32),
) -> Option<Tracked> {
    if kernel.iter().any(|v| !v.is_finite()) || theta.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let ntk = ntk_top_k(kernel, objective.n(), k, &mut warm.ntk)?;
    let point = objective.at(&widen(theta)).ok()?;
    let hessian = hessian_top_k(&point, k, &mut warm.hessian, hessian_iters)?;
    let finite = |v: &[f64]| v.iter().all(|a| a.is_finite());
    (finite(&ntk) && finite(&hessian)).then(|| Tracked {
        ntk,
        hessian,
        weight_change: relative_change(theta, theta_0),
        kernel_distance: kernel_distance(kernel, k0),
    })
}

/// One live Step-size run.
pub struct StepSize {
    pub config: StepSizeConfig,
    run: Run,
    objective: Objective,
    x_train: Vec<f32>,
    theta_0: Vec<f32>,
    k0: DMatrix<f64>,
    lambda0: f64,
    /// S₀, the sharpness at θ₀ (cross-entropy only: its stability bound).
    sharpness0: Option<f64>,
    lin: Linearized,
    /// η_eff per slider unit.
    lr_factor: f64,
    lr: f64,
    /// The catapult bound as a multiple of the stability bound, and its source.
    catapult: (f64, String),
    /// The Lanczos start blocks of the next measurement.
    warm: Warm,
    /// `warm` after the measurement at θ₀.
    start_warm: Option<Warm>,
    loss: Vec<f64>,
    lin_loss: Vec<Option<f64>>,
    lin_diverged: Option<u64>,
    track_steps: Vec<u64>,
    sharpness: Vec<f64>,
    ntk_top: Vec<f64>,
    hessian_top: Vec<Vec<f64>>,
    ntk_spectrum: Vec<Vec<f64>>,
    weight_change: Vec<f64>,
    kernel_distance: Vec<f64>,
    diverged: Option<u64>,
}

impl StepSize {
    /// Builds data and network, the empirical NTK at θ₀, its eigendecomposition and the bounds.
    pub fn new(config: StepSizeConfig) -> Result<Self> {
        config.validate()?;
        let mut run = build_run(&config)?;
        let x_train = run.data.x_train.clone();
        let Initial {
            theta_0,
            lr_factor,
            f_init: f0,
            k0,
            machine,
            lambda0,
            objective,
            targets: y_train,
        } = Initial::of(&mut run, &config)?;
        let n = y_train.len();
        let centred = config.net.init.center_output;
        let g0: Vec<f64> = (0..n)
            .map(|i| if centred { 0.0 } else { f0[i] as f64 })
            .collect();
        let (lin, sharpness0) = match config.loss {
            Loss::Squared => {
                let residual0: Vec<f64> = (0..n).map(|i| g0[i] - y_train[i] as f64).collect();
                (Linearized::new(&machine, &residual0, config.momentum), None)
            }
            Loss::CrossEntropy | Loss::Proportions { .. } => {
                let y = widen(&y_train);
                let lin = Linearized::cross_entropy(&k0, 2, g0, y, config.momentum);
                // The sharpness at θ₀ as the first tracked measurement takes it (a cold start,
                // the same block and `hessian_iters` products), so that the ruler and the plot
                // agree.
                let point = objective.at(&widen(&theta_0))?;
                let top = hessian_top_k(
                    &point,
                    config.top_k as usize,
                    &mut Vec::new(),
                    config.hessian_iters,
                );
                let s0 = top.map_or(f64::NAN, |v| v[0]);
                if !(s0.is_finite() && s0 > 0.0) {
                    return Err(Error::config(
                        "initScale",
                        format!(
                            "the cross-entropy Hessian's top eigenvalue at initialisation is {s0}, \
                             not a positive number, so it gives no step-size bound; change the \
                             initialisation scale"
                        ),
                    ));
                }
                (lin, Some(s0))
            }
        };
        let mut s = StepSize {
            config,
            run,
            objective,
            x_train,
            theta_0,
            k0,
            lambda0,
            sharpness0,
            lin,
            lr_factor,
            lr: 0.0,
            catapult: (0.0, String::new()),
            warm: Warm::default(),
            start_warm: None,
            loss: Vec::new(),
            lin_loss: Vec::new(),
            lin_diverged: None,
            track_steps: Vec::new(),
            sharpness: Vec::new(),
            ntk_top: Vec::new(),
            hessian_top: Vec::new(),
            ntk_spectrum: Vec::new(),
            weight_change: Vec::new(),
            kernel_distance: Vec::new(),
            diverged: None,
        };
        let (lit, source) = catapult_multiple(s.config.net.init.activation);
        s.catapult = (lit, source.into());
        if s.config.measure_catapult && catapult_flops(&s.config) <= CATAPULT_FLOPS {
            let m = s.measure_catapult_multiple()?;
            s.catapult = (
                m,
                format!(
                    "measured: the largest multiple (bisection between 1× and {CATAPULT_MAX}×) at which {CATAPULT_TRIAL_STEPS} steps from θ₀ neither diverge nor end above the starting loss{}",
                    if m >= CATAPULT_MAX {
                        "; every multiple tried converged"
                    } else {
                        ""
                    }
                ),
            );
        }
        let lr = match s.config.lr {
            Some(lr) => lr,
            None => s.config.lr_multiple * s.stability_bound(),
        };
        s.restart(lr)?;
        Ok(s)
    }

    /// The stability bound in slider units: 2n/λ_max(Θ₀), with momentum β and weight decay
    /// λ_wd 2(1 + β)/(λ_max(Θ₀)/n + λ_wd) (written 2(1 + β)n/(λ_max(Θ₀) + nλ_wd), which is
    /// 2n/λ_max(Θ₀) to the bit when β = λ_wd = 0).
    /// Under cross-entropy, 2(1 + β)/(S₀ + λ_wd) with S₀ the sharpness at θ₀.
    pub fn stability_bound(&self) -> f64 {
        let n = self.objective.n() as f64;
        let (beta, wd) = (self.config.momentum, self.config.weight_decay);
        match self.sharpness0 {
            None => 2.0 * (1.0 + beta) * n / (self.lambda0 + wd * n) / self.lr_factor,
            Some(s0) => 2.0 * (1.0 + beta) / (s0 + wd) / self.lr_factor,
        }
    }

    /// S₀, the sharpness at θ₀ (cross-entropy runs).
    pub fn sharpness_init(&self) -> Option<f64> {
        self.sharpness0
    }

    /// Whether a run of [`CATAPULT_TRIAL_STEPS`] steps from θ₀ at `multiple` × the stability
    /// bound ends finite and below its starting loss.
    pub fn trial_converges(&self, multiple: f64) -> Result<bool> {
        let mut run = build_run(&self.config)?;
        let t = run.trainer_mut();
        t.set_lr(multiple * self.stability_bound())?;
        let start = t.evaluate_train().loss;
        if t.advance(CATAPULT_TRIAL_STEPS).is_err() {
            return Ok(false);
        }
        let end = t.evaluate_train().loss;
        Ok(end.is_finite() && end < start)
    }

    /// The catapult bound as a multiple of the stability bound, measured by bisection on a
    /// log scale between 1 and [`CATAPULT_MAX`] with [`Self::trial_converges`] (which assumes
    /// the convergent multiples form an interval, as they do in Lewkowycz et al.'s phase
    /// diagrams). Returns [`CATAPULT_MAX`] when even that converges.
    pub fn measure_catapult_multiple(&self) -> Result<f64> {
        if self.trial_converges(CATAPULT_MAX)? {
            return Ok(CATAPULT_MAX);
        }
        let (mut lo, mut hi) = (1.0f64, CATAPULT_MAX);
        for _ in 0..CATAPULT_BISECTIONS {
            let mid = (lo * hi).sqrt();
            if self.trial_converges(mid)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The catapult bound in use, as a multiple of the stability bound.
    pub fn catapult_multiple(&self) -> f64 {
        self.catapult.0
    }

    /// λ_max(Θ₀).
    pub fn lambda_max_init(&self) -> f64 {
        self.lambda0
    }

    pub fn step(&self) -> u64 {
        self.loss.len().saturating_sub(1) as u64
    }

    pub fn param_count(&self) -> usize {
        self.objective.param_count()
    }

    /// The run under the scene: its data, network and trainer.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The current slider step size.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    fn effective_lr(&self) -> f64 {
        self.lr * self.lr_factor
    }

    /// Restarts from θ₀ with a new step size in slider units (Θ₀ and the bounds are kept),
    /// within the range of the scene's `lr` setting.
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        in_range("lr", lr, crate::session::net::lr_setting().bounds())?;
        self.restart(lr)
    }

    /// The weights file of the live run now (see [`crate::session::weights`]), its settings
    /// with the step size in force; refused once the run diverged. The scene reads none back:
    /// its curves follow one run from θ₀ over a fixed step budget, which a run continued from
    /// a later step would show without their start (its restart is the rewind to θ₀).
    pub fn export_weights(&mut self) -> Result<Weights> {
        if let Some(step) = self.diverged {
            return Err(Error::weights(format!(
                "the run diverged at step {step}, so there are no trained weights to export; lower the step size first"
            )));
        }
        let config = self.config.clone();
        if config.loss == Loss::Squared {
            return self.run.export_weights(SCENE, &config);
        }
        // Two outputs: the file's architecture and layers are those of the trainer's network.
        let params = self.run.params();
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::weights(format!(
                "parameter {i} is not a finite number, so the weights are not exported"
            )));
        }
        let settings = serde_json::to_value(&config)
            .map_err(|e| Error::weights(format!("the settings could not be written: {e}")))?;
        let mut architecture = Architecture::of(&config.run());
        architecture.outputs = config.outputs();
        let t = self.run.trainer();
        Ok(Weights {
            scene: SCENE.to_string(),
            settings,
            architecture,
            seed: config.data.seed,
            step: t.step(),
            initial_loss: t.initial_loss(),
            layers: Weights::layers_of(&config.spec(), &params)?,
            velocity: None,
            data_hash: None,
        })
    }

    /// Restarts from θ₀ with the step size `multiple` × the stability bound.
    pub fn set_lr_multiple(&mut self, multiple: f64) -> Result<()> {
        in_range(
            "lrMultiple",
            multiple,
            super::lr_multiple_setting().bounds(),
        )?;
        self.restart(multiple * self.stability_bound())
    }

    fn restart(&mut self, lr: f64) -> Result<()> {
        if self.lr != 0.0 {
            // Same seed, same data and θ₀: only the trainer's state is new.
            self.run = build_run(&self.config)?;
        }
        self.lr = lr;
        self.config.lr = Some(lr);
        self.config.lr_multiple = lr / self.stability_bound();
        self.run.trainer_mut().set_lr(lr)?;
        for v in [
            &mut self.loss,
            &mut self.sharpness,
            &mut self.ntk_top,
            &mut self.weight_change,
            &mut self.kernel_distance,
        ] {
            v.clear();
        }
        self.hessian_top.clear();
        self.ntk_spectrum.clear();
        self.lin_loss.clear();
        self.track_steps.clear();
        self.lin_diverged = None;
        self.diverged = None;
        self.warm = match &self.start_warm {
            // A capped run restarts its Lanczos runs from θ₀'s Ritz vectors (the restart is at
            // θ₀), so that its first measurement needs no cold start.
            Some(warm) if self.config.hessian_iters_per_point() < self.config.hessian_iters => {
                warm.clone()
            }
            _ => Warm::default(),
        };
        let l0 = self.run.trainer_mut().evaluate_train().loss;
        self.loss.push(l0);
        self.lin_loss
            .push(Some(self.lin.loss(self.effective_lr(), 0)));
        self.track();
        Ok(())
    }

    /// Runs up to `steps` full-batch GD steps (fewer when the run diverges) and reports.
    pub fn advance(&mut self, steps: u64) -> StepSizeReport {
        let every = self.config.track_every.max(1) as u64;
        for _ in 0..steps {
            if self.diverged.is_some() {
                break;
            }
            let t = self.run.trainer_mut();
            if let Err(e) = t.advance(1) {
                self.diverged = Some(match e {
                    Error::Diverged { step } => step,
                    _ => t.step(),
                });
                break;
            }
            let loss = t.evaluate_train().loss;
            let first = self.loss[0] as f32;
            if !loss.is_finite() || loss > (DIVERGENCE_FACTOR * first.max(LOSS_FLOOR)) as f64 {
                self.diverged = Some(match t.mark_diverged() {
                    Error::Diverged { step } => step,
                    _ => t.step(),
                });
                break;
            }
            self.loss.push(loss);
            self.push_linearized();
            if self.step().is_multiple_of(every) {
                self.track();
            }
        }
        self.report()
    }

    fn push_linearized(&mut self) {
        let k = self.step();
        let value = if self.lin_diverged.is_some() {
            None
        } else {
            let l = self.lin.loss(self.effective_lr(), k);
            let bound = DIVERGENCE_FACTOR as f64 * self.loss[0].max(LOSS_FLOOR as f64);
            if l.is_finite() && l <= bound {
                Some(l)
            } else {
                self.lin_diverged = Some(k);
                None
            }
        };
        self.lin_loss.push(value);
    }

    /// Measures the top-k Hessian and NTK eigenvalues and the lazy measures at the current θ
    /// (nothing when any is not finite: the curves stop at the last finite values).
    fn track(&mut self) {
        let theta = self.run.params();
        let Ok(kernel) = self.run.ntk(&self.x_train, None) else {
            return;
        };
        // The first measurement starts cold and takes every product (once, in the set-up);
        // later ones continue from the last Ritz vectors within the per-point budget.
        let iters = if self.warm.is_cold() {
            self.config.hessian_iters
        } else {
            self.config.hessian_iters_per_point()
        };
        // A measurement that fails leaves the start blocks as they were.
        let mut warm = self.warm.clone();
        let Some(m) = measure(
            &self.objective,
            (&self.theta_0, &self.k0),
            (&theta, &kernel),
            &mut warm,
            (self.config.top_k as usize, iters),
        ) else {
            return;
        };
        self.warm = warm;
        if self.start_warm.is_none() {
            self.start_warm = Some(self.warm.clone());
        }
        self.track_steps.push(self.step());
        self.sharpness.push(m.sharpness());
        self.ntk_top.push(m.ntk_top());
        self.weight_change.push(m.weight_change);
        self.kernel_distance.push(m.kernel_distance);
        self.hessian_top.push(m.hessian);
        self.ntk_spectrum.push(m.ntk);
    }

    /// The report at the current step, without stepping.
    pub fn report(&self) -> StepSizeReport {
        let bound = self.stability_bound();
        let multiple = self.lr / bound;
        let (cat, source) = (self.catapult.0, self.catapult.1.as_str());
        let initial = self.loss[0];
        let (peak_step, peak_loss) =
            self.loss
                .iter()
                .enumerate()
                .skip(1)
                .fold(
                    (0usize, initial),
                    |acc, (i, &l)| {
                        if l > acc.1 { (i, l) } else { acc }
                    },
                );
        let current = *self.loss.last().expect("loss at step 0");
        let predicted = Regime::predicted(multiple, cat);
        let eta = self.effective_lr();
        let (beta, wd) = (self.config.momentum, self.config.weight_decay);
        // Flat enough to converge: the kernel's curvature (squared loss), the sharpness itself
        // (cross-entropy, whose curvature is not the kernel's).
        let curvature = match self.config.loss {
            Loss::Squared => &self.ntk_top,
            Loss::CrossEntropy | Loss::Proportions { .. } => &self.sharpness,
        };
        let flat_now = curvature
            .last()
            .is_some_and(|&top| eta * (top + wd) < 2.0 * (1.0 + beta));
        let (regime, settled) = if self.diverged.is_some() {
            (Regime::Divergent, true)
        } else if multiple <= 1.0 {
            (Regime::Stable, true)
        } else if flat_now && current < initial && self.step() > 0 {
            (Regime::Catapult, true)
        } else {
            (predicted, false)
        };
        // Under cross-entropy the bound is local to θ₀: a run above it whose loss never rose
        // above its start (the curvature fell as the predictions grew confident) trained
        // stably, with no catapult.
        let (regime, settled) = if self.sharpness0.is_some()
            && regime == Regime::Catapult
            && settled
            && peak_loss <= initial
        {
            (Regime::Stable, true)
        } else {
            (regime, settled)
        };
        let explanation = explain(
            regime,
            settled,
            multiple,
            cat,
            peak_loss / initial,
            self.diverged,
            (beta, wd, bound),
            self.sharpness0
                .map(|s0| (s0, self.lambda0 / self.objective.n() as f64)),
        );
        StepSizeReport {
            step: self.step(),
            n_train: self.objective.n(),
            param_count: self.param_count(),
            lr: self.lr,
            effective_lr: eta,
            lr_multiple: multiple,
            loss_kind: self.config.loss,
            stability_bound: bound,
            sharpness_init: self.sharpness0,
            catapult_bound: cat * bound,
            catapult_multiple: cat,
            catapult_source: source.into(),
            two_over_lr: 2.0 * (1.0 + beta) / eta - wd,
            ntk_top_init: self.lambda0 / self.objective.n() as f64,
            loss: self.loss.clone(),
            linearized_loss: self.lin_loss.clone(),
            linearized_diverged: self.lin_diverged,
            track_steps: self.track_steps.clone(),
            sharpness: self.sharpness.clone(),
            ntk_top: self.ntk_top.clone(),
            hessian_top: self.hessian_top.clone(),
            ntk_spectrum: self.ntk_spectrum.clone(),
            weight_change: self.weight_change.clone(),
            kernel_distance: self.kernel_distance.clone(),
            initial_loss: initial,
            peak_loss,
            peak_step: peak_step as u64,
            regime,
            predicted_regime: predicted,
            settled,
            explanation,
            diverged: self.diverged,
        }
    }
}
