//! The Step-size scene: exact Hessian-vector products and power iteration, the linear
//! stability bound 2n/λ_max(Θ₀), the catapult, the edge of stability, and phase diagrams.

use descent::backend::cpu::Cpu;
use descent::data::DatasetKind;
use descent::kernels::KernelMachine;
use descent::nn::hessian::{Objective, random_unit, top_eigenvalue, top_eigenvalue_sym, widen};
use descent::nn::ntk::empirical_kernels;
use descent::nn::{Activation, Loss, Mlp, MlpSpec, Parametrization, Trainer};
use descent::rng::Rng;
use descent::scenes::playground::{Playground, PlaygroundConfig};
use descent::scenes::step_size::*;
use descent::session::net::{DataSettings, InitSettings, NetSettings};
use descent::session::run::Run;
use nalgebra::{DMatrix, DVector, SymmetricEigen};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    norm(&d) / norm(b).max(1e-300)
}

/// A small network, random data and a random θ (f64), for the derivative checks.
fn small_problem(
    act: Activation,
    par: Parametrization,
    seed: u64,
) -> (MlpSpec, Vec<f32>, Vec<f32>, Vec<f64>) {
    let spec = MlpSpec {
        input_dim: 2,
        hidden: vec![6, 5],
        activation: act,
        parametrization: par,
        sigma_w: 1.3,
        sigma_b: 0.4,
        init_scale: 1.0,
        outputs: 1,
    };
    let mut rng = Rng::new(seed);
    let n = 7;
    let x: Vec<f32> = (0..n * 2).map(|_| rng.normal() as f32).collect();
    let y: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    let theta: Vec<f64> = (0..spec.param_count())
        .map(|_| 0.8 * rng.normal())
        .collect();
    (spec, x, y, theta)
}

/// Exact H·v (forward-over-reverse) against central differences of the exact f64 gradient,
/// (∇L(θ + hv) − ∇L(θ − hv))/2h with h = 1e-5 (truncation ~h²‖∇³L‖ ≈ 1e-10, rounding
/// ~ε‖∇L‖/h ≈ 1e-11): agreement to 1e-6 relative leaves a wide margin. Every activation
/// (ReLU and linear: the Hessian on the current activation pattern; h is far too small to
/// cross a kink at these random points), parametrisation, centring and lazy scale α.
/// J·v against differences of the outputs, and uᵀ(Jv) = (Jᵀu)ᵀv.
#[test]
fn hessian_vector_products_match_finite_differences() {
    let h = 1e-5;
    for (k, act) in Activation::ALL.into_iter().enumerate() {
        for (j, par) in Parametrization::ALL.into_iter().enumerate() {
            for (centred, alpha) in [(false, 1.0), (true, 2.5)] {
                let seed = (10 * k + j) as u64;
                let (spec, x, y, theta) = small_problem(act, par, seed);
                let f0: Option<Vec<f32>> =
                    centred.then(|| (0..7).map(|i| 0.1 * i as f32 - 0.3).collect());
                let obj = Objective::new(&spec, &x, &y, f0.as_deref(), alpha).unwrap();
                let p = obj.at(&theta).unwrap();
                let v = random_unit(theta.len(), seed + 100);
                let hv = p.hvp(&v).unwrap();
                let shifted =
                    |s: f64| -> Vec<f64> { theta.iter().zip(&v).map(|(t, d)| t + s * d).collect() };
                let gp = obj.at(&shifted(h)).unwrap().gradient().to_vec();
                let gm = obj.at(&shifted(-h)).unwrap().gradient().to_vec();
                let fd: Vec<f64> = gp
                    .iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect();
                let e = rel_err(&hv, &fd);
                assert!(
                    e < 1e-6,
                    "{act:?} {par:?} centred {centred}: H·v off by {e:e}"
                );

                // The gradient itself against differences of the loss (checks the 1/α², 1/n).
                let gv: f64 = p.gradient().iter().zip(&v).map(|(a, b)| a * b).sum();
                let lp = obj.at(&shifted(h)).unwrap().objective();
                let lm = obj.at(&shifted(-h)).unwrap().objective();
                let fd_g = (lp - lm) / (2.0 * h);
                assert!(
                    (gv - fd_g).abs() < 1e-6 * gv.abs().max(1e-3),
                    "{act:?} {par:?}: ∇L·v {gv} vs {fd_g}"
                );

                let jv = p.jvp(&v).unwrap();
                let fp = obj.at(&shifted(h)).unwrap().outputs().clone();
                let fm = obj.at(&shifted(-h)).unwrap().outputs().clone();
                let fd_j = (fp - fm) / (2.0 * h);
                assert!(rel_err(jv.as_slice(), fd_j.as_slice()) < 1e-6);
                let u: Vec<f64> = (0..7).map(|i| (i as f64 * 0.7).sin()).collect();
                let jtu = p.vjp(&u).unwrap();
                let lhs: f64 = u.iter().zip(jv.iter()).map(|(a, b)| a * b).sum();
                let rhs: f64 = jtu.iter().zip(&v).map(|(a, b)| a * b).sum();
                assert!((lhs - rhs).abs() < 1e-10 * lhs.abs().max(1.0));
            }
        }
    }
}

/// The f64 objective is the one the trainer descends: its gradient matches the network's own
/// f32 gradient (1e-4: f32 rounding), and one trainer step (mean-field, centred, α = 2) moves
/// θ by −η_eff ∇L_obj (1e-3: the f32 difference of two nearby parameter vectors).
#[test]
fn objective_matches_the_network_and_the_trainer() {
    for par in Parametrization::ALL {
        let (spec, x, y, theta) = small_problem(Activation::Tanh, par, 3);
        let mut backend = Cpu::new();
        let mut mlp = Mlp::new(&mut backend, spec.clone(), &mut Rng::new(1)).unwrap();
        let theta32: Vec<f32> = theta.iter().map(|&t| t as f32).collect();
        mlp.set_params(&mut backend, &theta32).unwrap();
        let (xb, yb) = (backend.upload_f32(&x), backend.upload_f32(&y));
        let mut ws = descent::nn::mlp::Workspace::new(&mut backend, &spec, 7);
        let (_, g32) = mlp.gradient(&mut backend, Loss::Squared, &xb, &yb, None, &mut ws);
        let obj = Objective::new(&spec, &x, &y, None, 1.0).unwrap();
        let g = obj.at(&widen(&theta32)).unwrap().gradient().to_vec();
        let e = rel_err(&widen(&g32), &g);
        assert!(e < 1e-4, "{par:?}: gradient off by {e:e}");

        let mut trainer = Trainer::new(backend, mlp, &x, &y, true, 0.01, 0, 1)
            .unwrap()
            .with_alpha(2.0)
            .unwrap();
        let f0 = trainer.predict(&x);
        let eta = trainer.mlp.effective_lr(0.01);
        trainer.advance(1).unwrap();
        let after = trainer.mlp.params(&mut trainer.backend);
        let obj = Objective::new(&spec, &x, &y, Some(&f0), 2.0).unwrap();
        let g = obj.at(&widen(&theta32)).unwrap().gradient().to_vec();
        let moved: Vec<f64> = after
            .iter()
            .zip(&theta32)
            .map(|(a, b)| *a as f64 - *b as f64)
            .collect();
        let want: Vec<f64> = g.iter().map(|g| -eta * g).collect();
        let e = rel_err(&moved, &want);
        assert!(e < 1e-3, "{par:?}: step off by {e:e}");
    }
}

trait UploadF32 {
    fn upload_f32(&mut self, v: &[f32]) -> <Cpu as descent::backend::Backend>::Buf;
}
impl UploadF32 for Cpu {
    fn upload_f32(&mut self, v: &[f32]) -> <Cpu as descent::backend::Backend>::Buf {
        descent::backend::Backend::upload(self, v)
    }
}

/// Power iteration against nalgebra's dense symmetric eigensolver: on the dense Hessian of
/// small networks (built column by column from H·eᵢ; also checks H is symmetric), on an
/// empirical NTK Gram matrix, and on an indefinite matrix whose dominant eigenvalue is
/// negative (the shifted second phase). Tolerance 1e-6 relative at a residual tolerance of
/// 1e-10 (the Rayleigh quotient's error is ~ residual²/gap).
#[test]
fn power_iteration_matches_a_dense_eigensolver() {
    for (act, par, seed) in [
        (Activation::Tanh, Parametrization::Ntk, 1),
        (Activation::Erf, Parametrization::Standard, 2),
        (Activation::Relu, Parametrization::MeanField, 3),
    ] {
        let (spec, x, y, theta) = small_problem(act, par, seed);
        let obj = Objective::new(&spec, &x, &y, None, 1.0).unwrap();
        let p = obj.at(&theta).unwrap();
        let np = theta.len();
        let mut h = DMatrix::zeros(np, np);
        for i in 0..np {
            let mut e = vec![0.0; np];
            e[i] = 1.0;
            h.set_column(i, &DVector::from_vec(p.hvp(&e).unwrap()));
        }
        let asym = (&h - h.transpose()).norm() / h.norm();
        assert!(asym < 1e-12, "Hessian not symmetric: {asym:e}");
        let dense = SymmetricEigen::new(h).eigenvalues.max();
        let mut v = Vec::new();
        let top = descent::nn::hessian::hessian_top(&p, &mut v, 20_000, 1e-10);
        assert!(
            top.converged,
            "{act:?}: not converged in {}",
            top.iterations
        );
        assert!(
            (top.value - dense).abs() < 1e-6 * dense.abs(),
            "{act:?}: power {} vs dense {dense}",
            top.value
        );
        // A warm start from the eigenvector converges at once.
        let again = descent::nn::hessian::hessian_top(&p, &mut v, 20_000, 1e-8);
        assert!(
            again.iterations <= 3,
            "warm start took {}",
            again.iterations
        );
    }

    let pg = Playground::new(PlaygroundConfig {
        data: DataSettings {
            n_train: 40,
            ..PlaygroundConfig::default().data
        },
        net: NetSettings {
            width: 64,
            ..PlaygroundConfig::default().net
        },
        ..PlaygroundConfig::default()
    })
    .unwrap();
    let x = pg.data.x_train.clone();
    let mut pg = pg;
    let t = pg.trainer_mut();
    let k = empirical_kernels(&mut t.backend, &t.mlp, &x, None)
        .unwrap()
        .ntk;
    let dense = k.clone().symmetric_eigenvalues().max();
    let top = top_eigenvalue_sym(&k, &mut Vec::new(), 20_000, 1e-10);
    assert!((top.value - dense).abs() < 1e-6 * dense);

    // Indefinite: eigenvalues −5, 3, 1, 0.5, −1 in a random basis; the top is 3.
    let q = DMatrix::from_fn(5, 5, |i, j| ((i * 7 + j * 3) as f64).sin())
        .qr()
        .q();
    let d = DMatrix::from_diagonal(&DVector::from_vec(vec![-5.0, 3.0, 1.0, 0.5, -1.0]));
    let a = &q * d * q.transpose();
    let top = top_eigenvalue(
        |v| (&a * DVector::from_column_slice(v)).as_slice().to_vec(),
        &mut vec![1.0; 5],
        20_000,
        1e-10,
    );
    assert!((top.value - 3.0).abs() < 1e-6, "indefinite: {}", top.value);
}

/// Diverged: the loss passed a million times its start (the trainer's criterion).
fn diverges(losses: &[f64]) -> bool {
    losses
        .iter()
        .any(|&l| !l.is_finite() || l > 1e6 * losses[0])
}

/// Converges: the loss never rises (each mode of a quadratic below the bound shrinks, so
/// the loss is monotone up to rounding: 1e-12 relative, and 1e-20 of the start absolute once
/// an interpolating model's loss reaches the rounding floor) and ends below its start.
fn converges(losses: &[f64]) -> bool {
    let floor = 1e-20 * losses[0];
    losses
        .windows(2)
        .all(|w| w[1] <= w[0] * (1.0 + 1e-12) + floor)
        && losses.last() < losses.first()
}

/// A linear model f(x) = φ(x)·w on fixed random features, full-batch GD on (1/2n)Σ(f − y)²:
/// the bound 2n/λ_max(ΦΦᵀ) is exact. At 0.99× the loss decreases monotonically; at 1.01× the
/// top mode grows by |1 − 2·1.01| = 1.02 per step and passes 10⁶× the start within 3000
/// steps.
#[test]
fn linear_model_diverges_exactly_above_the_bound() {
    let (n, p) = (20, 30);
    let mut rng = Rng::new(7);
    let phi = DMatrix::from_fn(n, p, |_, _| rng.normal());
    let y = DVector::from_fn(n, |_, _| rng.normal());
    let bound = KernelMachine::new(&(&phi * phi.transpose()))
        .unwrap()
        .max_stable_lr();
    for (m, want_div) in [(0.99, false), (1.01, true)] {
        let lr = m * bound;
        let mut w = DVector::zeros(p);
        let mut losses = Vec::new();
        for _ in 0..3000 {
            let r = &phi * &w - &y;
            losses.push(r.norm_squared() / (2.0 * n as f64));
            w -= phi.tr_mul(&r) * (lr / n as f64);
        }
        assert_eq!(
            diverges(&losses),
            want_div,
            "linear model at {m}× the bound"
        );
        assert_eq!(
            converges(&losses),
            !want_div,
            "linear model at {m}× the bound"
        );
    }
}

/// The linearised network f(θ₀) + J₀(θ − θ₀), trained by GD in parameter space (J₀v and J₀ᵀu
/// exact in f64), against the bound 2n/λ_max(Θ₀) the scene computes from the empirical NTK
/// (f32 Grams, accurate to ~1e-6, far inside the ±1% margin). The scene's own linearised
/// curve (kernel GD from Θ₀'s eigendecomposition) must agree: no divergence at 0.99×,
/// divergence at 1.01×.
#[test]
fn linearised_network_diverges_exactly_above_the_bound() {
    let config = StepSizeConfig {
        data: DataSettings {
            n_train: 16,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            width: 64,
            ..StepSizeConfig::default().net
        },
        track_every: 10_000,
        measure_catapult: false,
        lr_multiple: 0.99,
        ..StepSizeConfig::default()
    };
    let s = StepSize::new(config.clone()).unwrap();
    let bound = s.stability_bound();
    let mut pg = Run::new(config.run()).unwrap();
    let (x, y) = (pg.data.x_train.clone(), pg.data.y_train.clone());
    let t = pg.trainer_mut();
    let theta0 = widen(&t.mlp.params(&mut t.backend));
    let f0 = t.predict(&x);
    let k0 = empirical_kernels(&mut t.backend, &t.mlp, &x, None)
        .unwrap()
        .ntk;
    let n = y.len() as f64;
    assert!((KernelMachine::new(&k0).unwrap().max_stable_lr() - bound).abs() < 1e-12 * bound);
    let obj = Objective::new(&config.run().spec(), &x, &y, None, 1.0).unwrap();
    let p0 = obj.at(&theta0).unwrap();
    for (m, want_div) in [(0.99, false), (1.01, true)] {
        let lr = m * bound;
        let mut delta = vec![0.0; theta0.len()];
        let mut losses = Vec::new();
        for _ in 0..3000 {
            let jd = p0.jvp(&delta).unwrap();
            let r: Vec<f64> = (0..y.len())
                .map(|i| f0[i] as f64 + jd[i] - y[i] as f64)
                .collect();
            losses.push(norm(&r).powi(2) / (2.0 * n));
            if diverges(&losses) {
                break;
            }
            let g = p0.vjp(&r).unwrap();
            delta.iter_mut().zip(&g).for_each(|(d, g)| *d -= lr * g / n);
        }
        assert_eq!(diverges(&losses), want_div, "linearised network at {m}×");
        if !want_div {
            assert!(
                converges(&losses),
                "linearised network at {m}×: not monotone"
            );
        }

        let mut scene = StepSize::new(StepSizeConfig {
            lr_multiple: m,
            ..config.clone()
        })
        .unwrap();
        let r = scene.advance(3000);
        assert_eq!(r.linearized_diverged.is_some(), want_div, "scene at {m}×");
        assert!(
            r.diverged.is_none(),
            "the network itself should not diverge at {m}×"
        );
    }
}

/// Heavy ball on the linearised network f(θ₀) + J₀(θ − θ₀) with weight decay on θ (J₀v and
/// J₀ᵀu exact in f64): the quadratic whose Hessian is J₀ᵀJ₀/n + λ_wd, top eigenvalue
/// λ_max(Θ₀)/n + λ_wd, against the bound 2(1 + β)/(λ_max(Θ₀)/n + λ_wd) the scene computes
/// (λ_max from f32 Grams, ~1e-6, inside the ±1% margin): no divergence at 0.99× (and the loss
/// ends below its start without rising above it in the last 1000 steps), divergence
/// (10⁶× the start) at 1.01× within 3000 steps, for β ∈ {0, 0.5, 0.9} and λ_wd ∈ {0,
/// λ_max(Θ₀)/(2n)}. The bound is 2n/λ_max(Θ₀) to the bit at β = λ_wd = 0 and (1 + β) times it
/// without weight decay; the scene's own linearised curve (heavy ball on Θ₀'s modes, without
/// the weight decay) diverges exactly above it when λ_wd = 0, and its regime sentence names
/// the bound.
#[test]
fn heavy_ball_on_the_linearised_network_diverges_exactly_above_its_bound() {
    let config = StepSizeConfig {
        data: DataSettings {
            n_train: 16,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            width: 64,
            ..StepSizeConfig::default().net
        },
        track_every: 10_000,
        measure_catapult: false,
        lr_multiple: 0.99,
        ..StepSizeConfig::default()
    };
    let plain = StepSize::new(config.clone()).unwrap();
    let plain_bound = plain.stability_bound();
    let lambda = plain.lambda_max_init();
    let mut pg = Run::new(config.run()).unwrap();
    let (x, y) = (pg.data.x_train.clone(), pg.data.y_train.clone());
    let n = y.len() as f64;
    assert_eq!(plain_bound, 2.0 * n / lambda);
    let t = pg.trainer_mut();
    let theta0 = widen(&t.mlp.params(&mut t.backend));
    let f0 = t.predict(&x);
    let obj = Objective::new(&config.run().spec(), &x, &y, None, 1.0).unwrap();
    let p0 = obj.at(&theta0).unwrap();
    let mut compared = 0;
    for beta in [0.0, 0.5, 0.9] {
        for wd in [0.0, lambda / (2.0 * n)] {
            let with = StepSizeConfig {
                momentum: beta,
                weight_decay: wd,
                ..config.clone()
            };
            let bound = StepSize::new(with.clone()).unwrap().stability_bound();
            assert!(
                (bound - 2.0 * (1.0 + beta) / (lambda / n + wd)).abs() < 1e-12 * bound,
                "β = {beta}, λ_wd = {wd}: bound {bound}"
            );
            if wd == 0.0 {
                assert!((bound - (1.0 + beta) * plain_bound).abs() < 1e-12 * bound);
            }
            for (m, want_div) in [(0.99, false), (1.01, true)] {
                let lr = m * bound;
                let what = format!("β = {beta}, λ_wd = {wd}, {m}×");
                let mut delta = vec![0.0; theta0.len()];
                let mut v = vec![0.0; theta0.len()];
                let mut losses = Vec::new();
                for _ in 0..3000 {
                    let jd = p0.jvp(&delta).unwrap();
                    let r: Vec<f64> = (0..y.len())
                        .map(|i| f0[i] as f64 + jd[i] - y[i] as f64)
                        .collect();
                    losses.push(norm(&r).powi(2) / (2.0 * n));
                    if diverges(&losses) {
                        break;
                    }
                    let g = p0.vjp(&r).unwrap();
                    for i in 0..delta.len() {
                        v[i] = beta * v[i] + g[i] / n + wd * (theta0[i] + delta[i]);
                        delta[i] -= lr * v[i];
                    }
                }
                assert_eq!(diverges(&losses), want_div, "linearised network, {what}");
                if !want_div {
                    let start = losses[0];
                    let tail = &losses[losses.len() - 1000..];
                    assert!(
                        tail.iter().all(|&l| l <= start) && losses.last() < losses.first(),
                        "linearised network, {what}: does not settle"
                    );
                }
                if wd == 0.0 {
                    let mut scene = StepSize::new(StepSizeConfig {
                        lr_multiple: m,
                        ..with.clone()
                    })
                    .unwrap();
                    let r = scene.advance(3000);
                    // The scene stops with the network: where that diverges first (at β = 0.9
                    // even at 0.99×: the first heavy-ball step is plain GD at 1.9× the plain
                    // bound, and its transient lifts this width-64 network out of the linear
                    // regime), the curve is cut there and not compared.
                    if r.diverged.is_none() {
                        assert_eq!(r.linearized_diverged.is_some(), want_div, "scene, {what}");
                        compared += 1;
                    }
                    if beta > 0.0 {
                        assert!(
                            r.explanation.contains(&format!(
                                "With momentum β = {beta} the stability bound is 2(1+β)n/λ_max(Θ₀)"
                            )),
                            "{}",
                            r.explanation
                        );
                    }
                }
            }
        }
    }
    assert!(compared >= 4, "only {compared} scene curves compared");
    // The phase diagram trains plain gradient descent and refuses both by name.
    for (beta, wd, name) in [(0.9, 0.0, "momentum"), (0.0, 1e-3, "weightDecay")] {
        let err = PhaseDiagram::new(PhaseConfig {
            base: StepSizeConfig {
                momentum: beta,
                weight_decay: wd,
                ..PhaseConfig::default().base
            },
            ..PhaseConfig::default()
        })
        .err()
        .expect("refused");
        let descent::error::Error::InvalidConfig { field, .. } = err else {
            panic!("{err}");
        };
        assert_eq!(field, name);
    }
}

/// The catapult (Lewkowycz et al. 2020) in a wide two-layer ReLU network (width 1024, NTK
/// parametrisation, 32 points of the 1-D sine task, three seeds) at 1.5× the stability
/// bound: the linearised model diverges, while the network's loss rises above its start (by
/// far more than the 2× asked here: 50–140× in these runs), λ_max(Θ_t) falls from 1.5·2n/η
/// to below 2n/η, and training converges: after 500 steps the loss is below half its start
/// (0.03–0.22× in these runs) and has decreased at every one of the last 100 steps.
#[test]
fn wide_relu_network_catapults_at_one_and_a_half_times_the_bound() {
    for seed in 1..=3 {
        let mut s = StepSize::new(StepSizeConfig {
            data: DataSettings {
                seed,
                ..StepSizeConfig::default().data
            },
            lr_multiple: 1.5,
            measure_catapult: false,
            track_every: 5,
            ..StepSizeConfig::default()
        })
        .unwrap();
        let r = s.advance(500);
        let eta = r.effective_lr;
        assert!(r.diverged.is_none(), "seed {seed}: diverged");
        assert!(
            r.linearized_diverged.is_some(),
            "seed {seed}: linear model converged"
        );
        assert!(
            r.peak_loss > 2.0 * r.initial_loss,
            "seed {seed}: no spike ({} vs {})",
            r.peak_loss,
            r.initial_loss
        );
        assert!(
            (r.ntk_top[0] * eta - 3.0).abs() < 1e-3,
            "starts at 1.5× the bound"
        );
        let last = *r.ntk_top.last().unwrap();
        assert!(
            last * eta < 2.0,
            "seed {seed}: λ_max(Θ)/n = {last} still above 2/η = {}",
            2.0 / eta
        );
        let final_loss = *r.loss.last().unwrap();
        let settling = r.loss[400..].windows(2).all(|w| w[1] <= w[0]);
        assert!(
            final_loss < 0.5 * r.initial_loss && settling,
            "seed {seed}: final {final_loss} vs start {}",
            r.initial_loss
        );
        assert_eq!((r.regime, r.settled), (Regime::Catapult, true));
        println!(
            "seed {seed}: start {:.3} peak {:.2} at step {}, final {:.4}; λ_max(Θ)/n {:.3} → {:.3}, 2/η {:.3}",
            r.initial_loss,
            r.peak_loss,
            r.peak_step,
            final_loss,
            r.ntk_top[0],
            last,
            2.0 / eta
        );
    }
}

/// The edge of stability (Cohen et al. 2021) under full-batch GD with fixed η. Setting: two
/// tanh hidden layers of width 32, NTK parametrisation, centred output, 64 spiral points,
/// η = 0.5× the stability bound, so the sharpness starts at ≈ 0.5·2/η. Progressive
/// sharpening carries it to 0.9·2/η within 1,500 steps; from then to step 3,000 it stays in
/// [0.8, 1.25]·2/η (the runs measured hover in [0.89, 1.18]), and its mean over the last
/// 1,000 steps is within 10% of 2/η.
#[test]
fn sharpness_rises_to_two_over_eta_and_stays() {
    for seed in 1..=2 {
        let mut s = StepSize::new(StepSizeConfig {
            data: DataSettings {
                dataset: DatasetKind::Spirals,
                n_train: 64,
                seed,
                ..StepSizeConfig::default().data
            },
            net: NetSettings {
                width: 32,
                depth: 2,
                init: InitSettings {
                    activation: Activation::Tanh,
                    parametrization: Parametrization::Ntk,
                    center_output: true,
                    ..StepSizeConfig::default().net.init
                },
            },
            lr_multiple: 0.5,
            track_every: 10,
            measure_catapult: false,
            ..StepSizeConfig::default()
        })
        .unwrap();
        let r = s.advance(3000);
        assert!(r.diverged.is_none());
        let two = r.two_over_lr;
        let ratio: Vec<f64> = r.sharpness.iter().map(|v| v / two).collect();
        assert!(ratio[0] < 0.6, "seed {seed}: starts at {}", ratio[0]);
        let first = ratio
            .iter()
            .position(|&v| v >= 0.9)
            .expect("sharpness never reached 0.9·2/η");
        assert!(
            r.track_steps[first] <= 1500,
            "reached at {}",
            r.track_steps[first]
        );
        let after = &ratio[first..];
        let (lo, hi) = after
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(lo > 0.8 && hi < 1.25, "seed {seed}: range [{lo}, {hi}]");
        let tail: Vec<f64> = r
            .track_steps
            .iter()
            .zip(&ratio)
            .filter(|(t, _)| **t >= 2000)
            .map(|(_, v)| *v)
            .collect();
        let mean = tail.iter().sum::<f64>() / tail.len() as f64;
        assert!((mean - 1.0).abs() < 0.1, "seed {seed}: mean {mean}");
        println!(
            "seed {seed}: sharpness·η/2 from {:.3}, ≥ 0.9 at step {}, then in [{lo:.3}, {hi:.3}], mean after 2000 {mean:.3}",
            ratio[0], r.track_steps[first]
        );
    }
}

/// A small phase diagram: deterministic from the seed, stable below the bound, divergent far
/// above it, reports without NaN; too-expensive grids are refused with an estimate.
#[test]
fn phase_diagram_is_reproducible_and_refuses_expensive_grids() {
    let config = PhaseConfig {
        base: StepSizeConfig {
            data: DataSettings {
                n_train: 16,
                ..StepSizeConfig::default().data
            },
            ..StepSizeConfig::default()
        },
        width_min: 16,
        width_max: 256,
        width_count: 3,
        y_min: 0.5,
        y_max: 16.0,
        y_count: 3,
        steps: 100,
        ..PhaseConfig::default()
    };
    let mut a = PhaseDiagram::new(config.clone()).unwrap();
    let mut b = PhaseDiagram::new(config).unwrap();
    while !a.advance(2).unwrap().finished {}
    b.advance(100).unwrap();
    let (ra, rb) = (a.report(), b.report());
    assert_eq!(ra, rb);
    assert_eq!(ra.regime.len(), 9);
    // Row 0 (0.5×): stable; row 2 (16×): divergent.
    for ix in 0..3 {
        assert_eq!(ra.regime[ix], Some(0), "{ra:?}");
        assert_eq!(ra.regime[6 + ix], Some(2), "{ra:?}");
        assert!(ra.empirical_catapult_bound[ix].is_some_and(|m| m < 16.0));
    }
    let json = serde_json::to_string(&ra).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"));

    let err = PhaseDiagram::new(PhaseConfig {
        base: StepSizeConfig {
            data: DataSettings {
                n_train: 256,
                ..StepSizeConfig::default().data
            },
            ..StepSizeConfig::default()
        },
        width_max: 4096,
        width_count: 16,
        y_count: 16,
        steps: 5000,
        ..PhaseConfig::default()
    })
    .err()
    .expect("refused");
    assert!(err.to_string().contains("would take about"), "{err}");
}

/// A diagram whose vertical axis spans a setting's whole range ends exactly at its ends, so
/// that every cell is built: exp(ln 100) rounds to 100.00000000000013, past the largest
/// initialisation scale.
#[test]
fn a_phase_diagram_over_the_whole_range_of_its_axis_computes_every_cell() {
    for (axis, [lo, hi]) in [
        (PhaseAxis::InitScale, settings().bounds("initScale")),
        (PhaseAxis::StepSize, settings().bounds("lrMultiple")),
    ] {
        let config = PhaseConfig {
            base: StepSizeConfig {
                data: DataSettings {
                    n_train: 8,
                    ..StepSizeConfig::default().data
                },
                ..StepSizeConfig::default()
            },
            axis,
            width_min: 8,
            width_max: 8,
            width_count: 1,
            y_min: lo,
            y_max: hi,
            y_count: 3,
            steps: 5,
            ..PhaseConfig::default()
        };
        let ys = config.ys();
        assert_eq!((ys[0], ys[2]), (lo, hi), "{axis:?}");
        let mut d = PhaseDiagram::new(config).unwrap();
        let p = d.advance(3).unwrap();
        assert!(p.finished, "{axis:?}: {p:?}");
        assert!(d.report().regime.iter().all(Option::is_some));
    }
}

/// Past the catapult bound the network diverges; the report stays finite and says so.
#[test]
fn divergence_is_reported_without_nan() {
    let mut s = StepSize::new(StepSizeConfig {
        net: NetSettings {
            width: 256,
            ..StepSizeConfig::default().net
        },
        lr_multiple: 8.0,
        ..StepSizeConfig::default()
    })
    .unwrap();
    let r = s.advance(200);
    assert!(r.diverged.is_some());
    assert_eq!(r.regime, Regime::Divergent);
    assert!(
        r.catapult_multiple < 8.0,
        "measured {}",
        r.catapult_multiple
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    assert!(r.loss.iter().all(|v| v.is_finite()));
}

/// A step size set live is held to the `lr` setting's range, as every other scene's: one past
/// it is refused naming `lr` and the run is left as it was.
#[test]
fn a_live_step_size_outside_the_settings_range_is_refused_by_name() {
    let mut s = StepSize::new(StepSizeConfig {
        data: DataSettings {
            n_train: 8,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            width: 16,
            ..StepSizeConfig::default().net
        },
        measure_catapult: false,
        ..StepSizeConfig::default()
    })
    .unwrap();
    let [lo, hi] = descent::session::net::lr_setting().bounds();
    let before = s.advance(3);
    for lr in [hi * 1.001, 0.5 * lo, f64::NAN, f64::INFINITY, -1.0] {
        let e = s.set_lr(lr).unwrap_err().to_string();
        assert!(e.starts_with("invalid setting `lr`"), "{lr}: {e}");
    }
    assert_eq!(
        s.report(),
        before,
        "a refused step size leaves the run alone"
    );
    s.set_lr(hi).unwrap();
    assert_eq!(s.report().lr, hi);
    s.set_lr(lo).unwrap();
    assert_eq!(s.advance(2).step, 2);
}

/// What a phase-diagram cell must hold, from a single [`StepSize`] run of the cell's settings
/// (tracked at step 0 and at the end only), by the rule the diagram documents: divergent if
/// the run diverged; unsettled if it ended at or above its starting loss, or above the
/// stability bound with λ_max(Θ_T)·η/n still ≥ 2 (or unmeasurable); else catapult above the
/// bound and stable below it.
fn single_run_cell(config: &PhaseConfig, width: usize, y: f64) -> Option<(Regime, StepSizeReport)> {
    let mut cfg = StepSizeConfig {
        net: NetSettings {
            width,
            ..config.base.net.clone()
        },
        hessian_iters: config.hessian_iters,
        track_every: config.steps as u32,
        lr: None,
        measure_catapult: false,
        ..config.base.clone()
    };
    match config.axis {
        PhaseAxis::StepSize => cfg.lr_multiple = y,
        PhaseAxis::InitScale => {
            cfg.net.init.init_scale = y;
            cfg.lr_multiple = config.lr_multiple;
        }
    }
    let mut run = match StepSize::new(cfg) {
        Ok(run) => run,
        Err(descent::error::Error::Diverged { .. }) => return None,
        Err(e) => panic!("{e}"),
    };
    let r = run.advance(config.steps);
    let tracked_at_end = r.diverged.is_none() && r.track_steps.last() == Some(&r.step);
    let ntk_lr = tracked_at_end.then(|| r.ntk_top.last().unwrap() * r.effective_lr);
    let regime = if r.diverged.is_some() {
        Regime::Divergent
    } else if *r.loss.last().unwrap() >= r.initial_loss
        || ntk_lr.is_none_or(|v| v >= 2.0 && r.lr_multiple > 1.0)
    {
        Regime::Unsettled
    } else if r.lr_multiple > 1.0 {
        Regime::Catapult
    } else {
        Regime::Stable
    };
    Some((regime, r))
}

/// |a − b| ≤ rtol·|b| for two optional numbers that must both be present or both absent.
fn close(what: &str, a: Option<f64>, b: Option<f64>, rtol: f64) {
    match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= rtol * b.abs(),
            "{what}: {a} against {b} (rtol {rtol:e})"
        ),
        (None, None) => {}
        _ => panic!("{what}: {a:?} against {b:?}"),
    }
}

/// The diagram trains each width's cells together as one batch; on the CPU every cell must be
/// what a single Step-size run with the same settings gives. The batch's parameters equal the
/// single runs' bit for bit (tests/batched.rs), and the measurements (NTK and Hessian
/// Lanczos runs from the same warm start) run on the same numbers, so those agree to 1e-9. The
/// peak loss is tracked in the f32 losses of the training steps here and in f64 evaluations
/// there: 1e-5 relative covers an f32 sum of 16 squares (about 16 · 2⁻²⁴ ≈ 1e-6).
#[test]
fn phase_diagram_cells_equal_single_step_size_runs() {
    let small = |base: StepSizeConfig| PhaseConfig {
        base: StepSizeConfig {
            data: DataSettings {
                n_train: 16,
                ..base.data
            },
            ..base
        },
        width_min: 16,
        width_max: 256,
        width_count: 3,
        y_min: 0.5,
        y_max: 16.0,
        y_count: 5,
        steps: 80,
        ..PhaseConfig::default()
    };
    let configs = [
        small(StepSizeConfig::default()),
        small(StepSizeConfig {
            net: NetSettings {
                init: InitSettings {
                    center_output: true,
                    init_scale: 2.0,
                    activation: Activation::Tanh,
                    ..StepSizeConfig::default().net.init
                },
                ..StepSizeConfig::default().net
            },
            ..StepSizeConfig::default()
        }),
        small(StepSizeConfig {
            net: NetSettings {
                depth: 2,
                init: InitSettings {
                    parametrization: Parametrization::MeanField,
                    ..StepSizeConfig::default().net.init
                },
                ..StepSizeConfig::default().net
            },
            ..StepSizeConfig::default()
        }),
        PhaseConfig {
            axis: PhaseAxis::InitScale,
            y_min: 0.25,
            y_max: 4.0,
            lr_multiple: 0.9,
            ..small(StepSizeConfig::default())
        },
    ];
    for config in configs {
        let mut d = PhaseDiagram::new(config.clone()).unwrap();
        while !d.advance(3).unwrap().finished {}
        let r = d.report();
        let mut seen = [0usize; 4];
        for (iy, &y) in r.ys.iter().enumerate() {
            for (ix, &w) in r.widths.iter().enumerate() {
                let i = iy * r.widths.len() + ix;
                let what = format!("{:?} width {w}, y {y:.3}", config.axis);
                let Some((regime, s)) = single_run_cell(&config, w, y) else {
                    assert_eq!(r.regime[i], Some(Regime::Divergent.code()), "{what}");
                    continue;
                };
                assert_eq!(r.regime[i], Some(regime.code()), "{what}: {s:?}");
                seen[regime.code() as usize] += 1;
                if regime == Regime::Divergent {
                    assert_eq!(r.final_loss[i], None, "{what}");
                    continue;
                }
                let eta = s.effective_lr;
                close(&what, r.final_loss[i], s.loss.last().copied(), 1e-9);
                close(
                    &what,
                    r.peak_ratio[i],
                    Some(s.peak_loss / s.initial_loss),
                    1e-5,
                );
                close(
                    &what,
                    r.sharpness_lr[i],
                    s.sharpness.last().map(|v| v * eta),
                    1e-9,
                );
                close(&what, r.ntk_lr[i], s.ntk_top.last().map(|v| v * eta), 1e-9);
                close(
                    &what,
                    r.weight_change[i],
                    s.weight_change.last().copied(),
                    1e-9,
                );
                close(
                    &what,
                    r.kernel_distance[i],
                    s.kernel_distance.last().copied(),
                    1e-9,
                );
            }
        }
        // Each configuration exercises trained cells, not only divergent ones.
        assert!(
            seen[0] + seen[1] >= 3,
            "{:?}: regimes {seen:?}",
            config.axis
        );
        let p = r.progress;
        assert!(p.finished && p.done == p.total && p.fraction == 1.0 && p.backend == "cpu");
    }
}

/// A small network of `k` outputs, random data with targets for `loss` (one-hot labels for
/// cross-entropy, standard normal values for the squared loss), and a random θ (f64).
fn small_k_problem(
    act: Activation,
    par: Parametrization,
    k: usize,
    loss: Loss,
    seed: u64,
) -> (MlpSpec, Vec<f32>, Vec<f32>, Vec<f64>) {
    let (mut spec, x, _, _) = small_problem(act, par, seed);
    spec.outputs = k;
    let mut rng = Rng::new(seed + 50);
    let n = x.len() / 2;
    let y: Vec<f32> = match loss {
        Loss::Squared => (0..n * k).map(|_| rng.normal() as f32).collect(),
        Loss::CrossEntropy => (0..n)
            .flat_map(|i| (0..k).map(move |c| if c == (i * 7 + 3) % k { 1.0 } else { 0.0 }))
            .collect(),
        Loss::Proportions { .. } => unreachable!("the curvature tools refuse the bag loss"),
    };
    let theta: Vec<f64> = (0..spec.param_count())
        .map(|_| 0.8 * rng.normal())
        .collect();
    (spec, x, y, theta)
}

/// H·v of K outputs and both losses against central differences of the exact f64 gradient
/// (h = 1e-5, 1e-6 relative as for one output: truncation ~h²‖∇³L‖, rounding ~ε‖∇L‖/h, both
/// far below), and the gradient against differences of the objective. K = 1, 2, 5 for the
/// squared loss and K = 2, 5 for cross-entropy (which needs two outputs: K = 1 is refused),
/// centred and lazy (α = 2.5) as well; every activation (ReLU: the Hessian on the current
/// activation pattern). J·v against differences of the outputs, and the loss against the
/// trainer's f64 evaluation of the same outputs rounded to f32 (1e-5 relative: the rounding
/// moves the loss by ~1e-7 of the outputs' scale).
#[test]
fn k_output_hessian_vector_products_match_finite_differences() {
    let h = 1e-5;
    let cases = [
        (Loss::Squared, 1),
        (Loss::Squared, 2),
        (Loss::Squared, 5),
        (Loss::CrossEntropy, 2),
        (Loss::CrossEntropy, 5),
    ];
    for (ci, (loss, k)) in cases.into_iter().enumerate() {
        for (ai, act) in Activation::ALL.into_iter().enumerate() {
            for (centred, alpha) in [(false, 1.0), (true, 2.5)] {
                let seed = (10 * ci + ai) as u64;
                let par = Parametrization::ALL[ai % Parametrization::ALL.len()];
                let (spec, x, y, theta) = small_k_problem(act, par, k, loss, seed);
                let n = x.len() / 2;
                let f0: Option<Vec<f32>> =
                    centred.then(|| (0..n * k).map(|i| 0.1 * (i % 7) as f32 - 0.3).collect());
                let obj = Objective::new(&spec, &x, &y, f0.as_deref(), alpha)
                    .unwrap()
                    .with_loss(loss)
                    .unwrap();
                assert_eq!((obj.loss(), obj.outputs()), (loss, k));
                let p = obj.at(&theta).unwrap();
                let v = random_unit(theta.len(), seed + 100);
                let hv = p.hvp(&v).unwrap();
                let shifted =
                    |s: f64| -> Vec<f64> { theta.iter().zip(&v).map(|(t, d)| t + s * d).collect() };
                let (pp, pm) = (obj.at(&shifted(h)).unwrap(), obj.at(&shifted(-h)).unwrap());
                let fd: Vec<f64> = (pp.gradient().iter())
                    .zip(pm.gradient())
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect();
                let e = rel_err(&hv, &fd);
                assert!(
                    e < 1e-6,
                    "{loss:?} K = {k} {act:?} centred {centred}: H·v off by {e:e}"
                );

                let gv: f64 = p.gradient().iter().zip(&v).map(|(a, b)| a * b).sum();
                let fd_g = (pp.objective() - pm.objective()) / (2.0 * h);
                assert!(
                    (gv - fd_g).abs() < 1e-6 * gv.abs().max(1e-3),
                    "{loss:?} K = {k} {act:?}: ∇L·v {gv} vs {fd_g}"
                );
                let jv = p.jvp(&v).unwrap();
                let fd_j = (pp.outputs() - pm.outputs()) / (2.0 * h);
                assert!(rel_err(jv.as_slice(), fd_j.as_slice()) < 1e-6);
                assert_eq!(jv.len(), n * k);

                // The loss is the one the trainer evaluates (f as f32: evaluate both on it).
                let f32s: Vec<f32> = p.outputs().iter().map(|&a| a as f32).collect();
                let want = loss.eval(&f32s, f0.as_deref(), alpha, &y, k).loss;
                let got = p.loss();
                assert!(
                    (got - want).abs() < 1e-5 * want.abs().max(1.0),
                    "{loss:?} K = {k}: loss {got} vs the evaluation's {want}"
                );
            }
        }
    }
}

/// Under cross-entropy the f64 objective is the one the trainer descends: its gradient matches
/// the network's f32 gradient (1e-4: f32 rounding, as for the squared loss), K = 2 and 5.
#[test]
fn cross_entropy_objective_matches_the_network_gradient() {
    for k in [2, 5] {
        for par in Parametrization::ALL {
            let (spec, x, y, theta) =
                small_k_problem(Activation::Tanh, par, k, Loss::CrossEntropy, 4);
            let n = x.len() / 2;
            let mut backend = Cpu::new();
            let mut mlp = Mlp::new(&mut backend, spec.clone(), &mut Rng::new(1)).unwrap();
            let theta32: Vec<f32> = theta.iter().map(|&t| t as f32).collect();
            mlp.set_params(&mut backend, &theta32).unwrap();
            let (xb, yb) = (backend.upload_f32(&x), backend.upload_f32(&y));
            let mut ws = descent::nn::mlp::Workspace::new(&mut backend, &spec, n);
            let (_, g32) = mlp.gradient(&mut backend, Loss::CrossEntropy, &xb, &yb, None, &mut ws);
            let obj = Objective::new(&spec, &x, &y, None, 1.0)
                .unwrap()
                .with_loss(Loss::CrossEntropy)
                .unwrap();
            let g = obj.at(&widen(&theta32)).unwrap().gradient().to_vec();
            let e = rel_err(&widen(&g32), &g);
            assert!(e < 1e-4, "K = {k} {par:?}: gradient off by {e:e}");
        }
    }
}

/// The dense Hessian of K outputs (columns H·eᵢ; symmetric to 1e-12) against power
/// iteration: the top eigenvalue to 1e-6 relative at a residual tolerance of 1e-10, as for
/// one output. Under cross-entropy the Gauss–Newton part is J ᵀ(diag p − ppᵀ)J/n, whose top
/// eigenvalue is at most λ_max(Θ)/(2n) (‖diag p − ppᵀ‖ ≤ ½); checked on the dense matrix
/// built the same way from the curvature of a θ where the residual term is switched off
/// (targets equal to the softmax make p − y = 0).
#[test]
fn k_output_power_iteration_matches_a_dense_hessian() {
    for (loss, k, act, par, seed) in [
        (Loss::Squared, 2, Activation::Tanh, Parametrization::Ntk, 1),
        (
            Loss::Squared,
            5,
            Activation::Relu,
            Parametrization::Standard,
            2,
        ),
        (
            Loss::CrossEntropy,
            2,
            Activation::Tanh,
            Parametrization::Ntk,
            3,
        ),
        (
            Loss::CrossEntropy,
            5,
            Activation::Erf,
            Parametrization::MeanField,
            4,
        ),
    ] {
        let (spec, x, y, theta) = small_k_problem(act, par, k, loss, seed);
        let obj = Objective::new(&spec, &x, &y, None, 1.0)
            .unwrap()
            .with_loss(loss)
            .unwrap();
        let p = obj.at(&theta).unwrap();
        let dense = dense_top(&p, theta.len());
        let mut v = Vec::new();
        let top = descent::nn::hessian::hessian_top(&p, &mut v, 20_000, 1e-10);
        assert!(
            top.converged,
            "{loss:?} K = {k}: not converged in {}",
            top.iterations
        );
        assert!(
            (top.value - dense).abs() < 1e-6 * dense.abs(),
            "{loss:?} K = {k}: power {} vs dense {dense}",
            top.value
        );
        if loss == Loss::CrossEntropy {
            // Soft targets equal to the predictions: the Hessian is the Gauss–Newton part.
            let n = x.len() / 2;
            let soft: Vec<f32> = {
                let f = p.outputs();
                (0..n)
                    .flat_map(|i| {
                        let row: Vec<f64> = (0..k).map(|c| f[i * k + c]).collect();
                        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                        let z: f64 = row.iter().map(|g| (g - m).exp()).sum();
                        row.into_iter().map(move |g| ((g - m).exp() / z) as f32)
                    })
                    .collect()
            };
            let gn_obj = Objective::new(&spec, &x, &soft, None, 1.0)
                .unwrap()
                .with_loss(Loss::CrossEntropy)
                .unwrap();
            let gn = gn_obj.at(&theta).unwrap();
            let gn_top = dense_top(&gn, theta.len());
            let mut be = Cpu::new();
            let mut mlp = Mlp::new(&mut be, spec.clone(), &mut Rng::new(1)).unwrap();
            let t32: Vec<f32> = theta.iter().map(|&t| t as f32).collect();
            mlp.set_params(&mut be, &t32).unwrap();
            let ntk = empirical_kernels(&mut be, &mlp, &x, None).unwrap().ntk;
            let lam = SymmetricEigen::new(ntk).eigenvalues.max();
            assert!(
                gn_top > 0.0 && gn_top <= lam / (2.0 * n as f64) * (1.0 + 1e-4),
                "K = {k}: Gauss–Newton top {gn_top} vs λ_max(Θ)/2n = {}",
                lam / (2.0 * n as f64)
            );
        }
    }
}

/// The top eigenvalue of the dense Hessian at `p` (P × P from H·eᵢ), asserting symmetry.
fn dense_top(p: &descent::nn::hessian::Point<'_>, np: usize) -> f64 {
    let mut h = DMatrix::zeros(np, np);
    for i in 0..np {
        let mut e = vec![0.0; np];
        e[i] = 1.0;
        h.set_column(i, &DVector::from_vec(p.hvp(&e).unwrap()));
    }
    let asym = (&h - h.transpose()).norm() / h.norm();
    assert!(asym < 1e-12, "Hessian not symmetric: {asym:e}");
    SymmetricEigen::new(h).eigenvalues.max()
}

/// A cross-entropy live run on a small network (two gaussians, n = 12, one hidden layer of
/// width 16: P = 82, so the dense Hessian is cheap).
fn cross_entropy_config() -> StepSizeConfig {
    StepSizeConfig {
        data: DataSettings {
            dataset: DatasetKind::Gaussians,
            n_train: 12,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            width: 16,
            ..StepSizeConfig::default().net
        },
        track_every: 10,
        hessian_iters: 300,
        measure_catapult: false,
        lr_multiple: 0.9,
        loss: Loss::CrossEntropy,
        ..StepSizeConfig::default()
    }
}

/// The dense cross-entropy Hessian of the scene's network at the flat f32 parameters `theta`.
fn dense_cross_entropy_top(config: &StepSizeConfig, scene: &StepSize, theta: &[f32]) -> f64 {
    let x = scene.run().data.x_train.clone();
    let y = config.targets(&scene.run().data.y_train);
    let obj = Objective::new(&config.spec(), &x, &y, None, 1.0)
        .unwrap()
        .with_loss(Loss::CrossEntropy)
        .unwrap();
    let p = obj.at(&widen(theta)).unwrap();
    dense_top(&p, theta.len())
}

/// Under cross-entropy the scene trains K = 2 outputs on one-hot targets and tracks a finite
/// sharpness: S₀ (the stability bound's curvature, 2/S₀ = the bound in effective units) and the
/// sharpness after 60 steps match the top eigenvalue of the dense Hessian (columns H·eᵢ) at
/// the same parameters to 1e-3 relative: the scene's block Lanczos run stops at residuals of
/// 1e-3·λ₁, whose Ritz values are then far closer (error ~ residual²/gap), and 300 products
/// suffice here (tests/step_topk.rs checks the top k at 1e-3·√k·λ₁, the guaranteed bound). The linearised curve (GD on the loss in
/// function space with Θ₀) is finite and falls at 0.9× the bound, and the sentence
/// names the Hessian's bound and the edge of stability.
#[test]
fn cross_entropy_run_tracks_a_sharpness_that_matches_a_dense_hessian() {
    let config = cross_entropy_config();
    let mut scene = StepSize::new(config.clone()).unwrap();
    assert_eq!(config.spec().outputs, 2);
    let w0 = scene.export_weights().unwrap();
    assert_eq!(w0.architecture.outputs, 2);
    let theta0 = w0.params();
    assert_eq!(theta0.len(), 2 * 16 + 16 + 16 * 2 + 2);
    let s0 = scene.sharpness_init().expect("cross-entropy has S₀");
    let dense0 = dense_cross_entropy_top(&config, &scene, &theta0);
    assert!(
        (s0 - dense0).abs() < 1e-3 * dense0,
        "S₀ {s0} vs dense {dense0}"
    );
    let r0 = scene.report();
    let eta_per_lr = r0.effective_lr / r0.lr;
    assert!((r0.stability_bound * eta_per_lr - 2.0 / s0).abs() < 1e-12 * (2.0 / s0));
    assert_eq!(r0.loss_kind, Loss::CrossEntropy);
    assert_eq!(r0.sharpness_init, Some(s0));
    assert_eq!(r0.sharpness[0], s0);
    assert!(r0.loss[0].is_finite() && r0.loss[0] > 0.0);
    // The NTK is 2n × 2n; its guide λ_max(Θ₀)/2n bounds the Gauss–Newton part of S₀.
    assert!(r0.ntk_top_init.is_finite() && r0.ntk_top_init > 0.0);

    let r = scene.advance(60);
    assert_eq!(r.step, 60);
    assert!(r.diverged.is_none());
    assert!(
        r.sharpness.iter().all(|s| s.is_finite() && *s > 0.0),
        "{:?}",
        r.sharpness
    );
    assert_eq!(*r.track_steps.last().unwrap(), 60);
    let theta = scene.export_weights().unwrap().params();
    let dense = dense_cross_entropy_top(&config, &scene, &theta);
    let last = *r.sharpness.last().unwrap();
    assert!(
        (last - dense).abs() < 1e-3 * dense,
        "sharpness at step 60 {last} vs dense {dense} (S₀ {s0} vs dense {dense0})"
    );
    let lin: Vec<f64> = r.linearized_loss.iter().map(|v| v.unwrap()).collect();
    assert!(
        lin.iter().all(|v| v.is_finite()) && lin[60] < lin[0],
        "{lin:?}"
    );
    assert!(r.loss[60] < r.loss[0]);
    assert!(
        r.explanation.contains("2/S₀") && r.explanation.contains("edge of stability"),
        "{}",
        r.explanation
    );
}

/// The loss setting: absent from a link it is the squared loss (the scalar network, the kernel
/// bound, no S₀); cross-entropy on regression data, and in the phase diagram, is refused
/// naming `loss`; an unknown loss is refused by the settings.
#[test]
fn the_loss_setting_defaults_to_squared_and_refuses_by_name() {
    let c: StepSizeConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c.loss, Loss::Squared);
    assert_eq!(c.spec().outputs, 1);
    let c: StepSizeConfig = serde_json::from_str(r#"{"loss":"crossEntropy"}"#).unwrap();
    assert_eq!(c.loss, Loss::CrossEntropy);
    assert!(serde_json::from_str::<StepSizeConfig>(r#"{"loss":"hinge"}"#).is_err());

    let squared = StepSize::new(StepSizeConfig {
        loss: Loss::Squared,
        ..cross_entropy_config()
    })
    .unwrap();
    let r = squared.report();
    assert_eq!((r.loss_kind, r.sharpness_init), (Loss::Squared, None));
    assert!(!r.explanation.contains("S₀"));

    let field = |e: descent::error::Error| match e {
        descent::error::Error::InvalidConfig { field, .. } => field,
        other => panic!("wrong error: {other}"),
    };
    let on_sine = StepSizeConfig {
        data: DataSettings {
            dataset: DatasetKind::Sine,
            ..cross_entropy_config().data
        },
        ..cross_entropy_config()
    };
    let e = StepSize::new(on_sine)
        .err()
        .expect("cross-entropy on the sine is refused");
    let msg = e.to_string();
    assert_eq!(field(e), "loss", "{msg}");
    assert!(msg.contains("regression"), "{msg}");

    let e = PhaseDiagram::new(PhaseConfig {
        base: cross_entropy_config(),
        ..PhaseConfig::default()
    })
    .err()
    .expect("the phase diagram refuses cross-entropy");
    let msg = e.to_string();
    assert_eq!(field(e), "loss", "{msg}");
}

/// Above its bound the cross-entropy run takes one of two courses, each named for what
/// happened: circles at 3× (defaults otherwise) spikes (the loss rises above its start at
/// step 1) and settles as a catapult once the sharpness is below 2/η and the loss below its
/// start; two gaussians at 1.5× never rise above the start (the sharpness collapses as the
/// easy classes grow confident) and are called stable, with the sentence saying why.
#[test]
fn cross_entropy_above_its_bound_is_a_catapult_only_when_the_loss_spikes() {
    let base = StepSizeConfig {
        measure_catapult: false,
        loss: Loss::CrossEntropy,
        ..StepSizeConfig::default()
    };
    let with = |dataset, m| StepSizeConfig {
        data: DataSettings {
            dataset,
            ..base.data.clone()
        },
        lr_multiple: m,
        ..base.clone()
    };
    let mut spike = StepSize::new(with(DatasetKind::Circles, 3.0)).unwrap();
    let r = spike.advance(300);
    assert!(
        r.peak_loss > r.initial_loss,
        "{} vs {}",
        r.peak_loss,
        r.initial_loss
    );
    assert!(*r.sharpness.last().unwrap() < r.two_over_lr);
    assert_eq!(
        (r.regime, r.settled),
        (Regime::Catapult, true),
        "{}",
        r.explanation
    );
    assert!(r.explanation.contains("catapulted"), "{}", r.explanation);

    let mut calm = StepSize::new(with(DatasetKind::Gaussians, 1.5)).unwrap();
    let r = calm.advance(300);
    assert_eq!(r.peak_loss, r.initial_loss);
    assert!(r.loss[300] < r.initial_loss);
    assert_eq!(
        (r.regime, r.settled),
        (Regime::Stable, true),
        "{}",
        r.explanation
    );
    assert!(
        r.explanation.contains("without a catapult"),
        "{}",
        r.explanation
    );
}
