//! Heavy-ball momentum and weight decay in the trainer ([`descent::nn::momentum`]): plain
//! gradient descent is unchanged to the bit, the heavy-ball trainer is the update of the
//! module docs to the bit, the readback-free path and its divergence rollback agree with the
//! stepping one, the quadratic stability bound 2(1 + β)/(h + λ_wd) is sharp, and bad settings
//! are refused by name.
// `advance_async` is awaited with pollster, a native dev-dependency.
#![cfg(not(target_arch = "wasm32"))]

use descent::backend::Backend;
use descent::backend::cpu::Cpu;
use descent::error::Error;
use descent::nn::momentum::{Momentum, stability_bound};
use descent::nn::{Activation, Mlp, MlpSpec, Parametrization, Trainer};
use descent::rng::Rng;
use descent::session::run::{Run, RunConfig};

fn spec() -> MlpSpec {
    MlpSpec {
        input_dim: 3,
        hidden: vec![16, 8],
        activation: Activation::Tanh,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.3,
        sigma_b: 0.4,
        init_scale: 1.0,
        outputs: 1,
    }
}

fn data(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut r = Rng::new(seed);
    let x = (0..n * 3).map(|_| r.normal() as f32).collect();
    let y = (0..n).map(|_| r.normal() as f32).collect();
    (x, y)
}

fn trainer(lr: f64, momentum: Option<Momentum>) -> Trainer<Cpu> {
    let mut b = Cpu::new();
    let mlp = Mlp::new(&mut b, spec(), &mut Rng::new(7)).unwrap();
    let (x, y) = data(20, 3);
    let t = Trainer::new(b, mlp, &x, &y, false, lr, 0, 1).unwrap();
    match momentum {
        Some(m) => t.with_momentum(m).unwrap(),
        None => t,
    }
}

fn params(t: &mut Trainer<Cpu>) -> Vec<f32> {
    t.mlp.params(&mut t.backend)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// β = 0 and λ_wd = 0 set explicitly take the direct step: the parameters after 25 steps, by
/// `advance` and by `advance_async`, are those of a trainer never told about momentum, to the
/// bit (the default is plain gradient descent).
#[test]
fn zero_momentum_and_decay_is_plain_gradient_descent_to_the_bit() {
    assert_eq!(Momentum::default(), Momentum::NONE);
    let mut plain = trainer(0.3, None);
    let mut zero = trainer(0.3, Some(Momentum::NONE));
    plain.advance(25).unwrap();
    zero.advance(25).unwrap();
    assert_eq!(bits(&params(&mut plain)), bits(&params(&mut zero)));
    let mut plain = trainer(0.3, None);
    let mut zero = trainer(0.3, Some(Momentum::NONE));
    let a = pollster::block_on(plain.advance_async(25)).unwrap();
    let b = pollster::block_on(zero.advance_async(25)).unwrap();
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(bits(&params(&mut plain)), bits(&params(&mut zero)));
}

/// The heavy-ball trainer against the update written out on the host from the gradients of
/// [`Mlp::gradient`] (the same backward pass): v = βv + g + λ_wd θ, θ −= η v in f32, in the
/// order of the CPU op, so the parameters agree to the bit after 12 steps.
#[test]
fn heavy_ball_trainer_is_the_documented_update() {
    let m = Momentum {
        beta: 0.9,
        weight_decay: 0.05,
    };
    let lr = 0.2f32;
    let mut t = trainer(lr as f64, Some(m));
    t.advance(12).unwrap();

    let mut b = Cpu::new();
    let mut mlp = Mlp::new(&mut b, spec(), &mut Rng::new(7)).unwrap();
    let (x, y) = data(20, 3);
    let xb = b.upload(&x);
    let yb = b.upload(&y);
    let mut ws = descent::nn::mlp::Workspace::new(&mut b, &mlp.spec, 20);
    let mut theta = mlp.params(&mut b);
    let mut v = vec![0.0f32; theta.len()];
    let (beta, wd) = (m.beta as f32, m.weight_decay as f32);
    for _ in 0..12 {
        let (_, g) = mlp.gradient(&mut b, t.loss(), &xb, &yb, None, &mut ws);
        for i in 0..theta.len() {
            v[i] = beta * v[i] + g[i] + wd * theta[i];
            theta[i] -= lr * v[i];
        }
        mlp.set_params(&mut b, &theta).unwrap();
    }
    assert_eq!(bits(&params(&mut t)), bits(&theta));
}

/// `advance_async` with momentum keeps the velocity across its batches and, when a step inside
/// a batch diverges, restores the velocity with the parameters: at a step size that diverges
/// after a few dozen steps, batches of 7 end exactly where `advance` one step at a time
/// ends (same step, same parameters, same error).
#[test]
fn readback_free_steps_and_their_rollback_keep_the_velocity() {
    let m = Momentum {
        beta: 0.9,
        weight_decay: 1e-3,
    };
    // Stable: three batches against 21 single steps.
    let mut a = trainer(0.1, Some(m));
    let mut b = trainer(0.1, Some(m));
    a.advance(21).unwrap();
    for _ in 0..3 {
        pollster::block_on(b.advance_async(7)).unwrap();
    }
    assert_eq!(bits(&params(&mut a)), bits(&params(&mut b)));
    // Divergent: the run stops at the same step with the same parameters. The step size is
    // the largest of a few whose divergence falls inside a batch after the first.
    let mut checked = false;
    for lr in [12.0, 8.0, 6.0, 4.0, 3.0, 2.5, 2.0, 1.5] {
        let mut a = trainer(lr, Some(m));
        let Err(Error::Diverged { step: sa }) = a.advance(500) else {
            continue;
        };
        if sa <= 7 || sa % 7 == 0 {
            continue;
        }
        let mut b = trainer(lr, Some(m));
        let mut eb = None;
        for _ in 0..100 {
            if let Err(e) = pollster::block_on(b.advance_async(7)) {
                eb = Some(e);
                break;
            }
        }
        let Some(Error::Diverged { step: sb }) = eb else {
            panic!("η = {lr}: the readback-free run should diverge");
        };
        assert_eq!(sa, sb, "η = {lr}");
        assert_eq!(a.step(), b.step());
        assert_eq!(bits(&params(&mut a)), bits(&params(&mut b)));
        checked = true;
        break;
    }
    assert!(checked, "no step size diverged inside a later batch");
}

/// `restore` starts the velocity again from 0: a trainer restored to another's parameters
/// then steps exactly like a fresh trainer put at those parameters.
#[test]
fn restore_resets_the_velocity() {
    let m = Momentum {
        beta: 0.5,
        weight_decay: 0.0,
    };
    let mut a = trainer(0.2, Some(m));
    a.advance(5).unwrap();
    let snapshot = params(&mut a);
    let first = a.initial_loss();
    a.restore(&snapshot, 5, first).unwrap();
    a.advance(4).unwrap();
    let mut b = trainer(0.2, Some(m));
    b.restore(&snapshot, 5, first).unwrap();
    b.advance(4).unwrap();
    assert_eq!(bits(&params(&mut a)), bits(&params(&mut b)));
    assert_eq!(a.step(), 9);
}

/// Heavy ball on the quadratic L(θ) = ½ θᵀAθ + ½λ_wd‖θ‖² through the backend op
/// (`momentum_step`, the trainer's update; g = Aθ), A = Q diag(h·[1, 0.7, 0.4, 0.2, 0.1,
/// 0.05]) Qᵀ with Q a Householder reflection (θ and the products in f32, so A's eigenvalues
/// hold to ~1e-7 relative, far inside the 1% margin). At 0.99× the bound 2(1 + β)/(h + λ_wd)
/// the top mode shrinks by |root| ≤ 0.98 a step and ‖θ‖ falls below 10⁻⁶ of its start within
/// 4000 steps; at 1.01× it grows by ≥ 1.02 a step (for β = 0: |1 − 2.02|; larger with
/// momentum) and passes 10⁶× its start. For β ∈ {0, 0.5, 0.9} and λ_wd ∈ {0, 0.3h}.
#[test]
fn the_heavy_ball_bound_is_sharp_on_a_quadratic() {
    let p = 6;
    let h = 2.0f64;
    let spectrum = [1.0, 0.7, 0.4, 0.2, 0.1, 0.05].map(|s| s * h);
    let mut rng = Rng::new(5);
    let u: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
    let uu: f64 = u.iter().map(|a| a * a).sum();
    let q = |i: usize, j: usize| (if i == j { 1.0 } else { 0.0 }) - 2.0 * u[i] * u[j] / uu;
    let a: Vec<f32> = (0..p * p)
        .map(|ij| {
            let (i, j) = (ij / p, ij % p);
            (0..p).map(|k| q(i, k) * spectrum[k] * q(j, k)).sum::<f64>() as f32
        })
        .collect();
    let theta0: Vec<f32> = (0..p).map(|_| rng.normal() as f32).collect();
    let norm = |v: &[f32]| v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let n0 = norm(&theta0);
    let mut b = Cpu::new();
    for beta in [0.0, 0.5, 0.9] {
        for wd in [0.0, 0.3 * h] {
            let bound = stability_bound(h, beta, wd);
            assert_eq!(
                bound,
                Momentum {
                    beta,
                    weight_decay: wd
                }
                .stability_bound(h)
            );
            for (m, diverge) in [(0.99, false), (1.01, true)] {
                let lr = (m * bound) as f32;
                let mut theta = theta0.clone();
                let mut v = vec![0.0f32; p];
                let mut g = vec![0.0f32; p];
                let mut grew = false;
                for _ in 0..4000 {
                    for i in 0..p {
                        g[i] = (0..p).map(|j| a[i * p + j] * theta[j]).sum();
                    }
                    b.momentum_step(p, lr, beta as f32, wd as f32, &g, &mut v, &mut theta);
                    let nt = norm(&theta);
                    if !nt.is_finite() || nt > 1e6 * n0 {
                        grew = true;
                        break;
                    }
                }
                let end = norm(&theta);
                let what = format!("β = {beta}, λ_wd = {wd}, {m}× the bound");
                if diverge {
                    assert!(grew, "{what}: ‖θ‖ = {end}, from {n0}");
                } else {
                    assert!(!grew && end < 1e-6 * n0, "{what}: ‖θ‖ = {end}, from {n0}");
                }
            }
        }
    }
}

/// Momentum and weight decay outside their ranges are refused by the run, naming the setting;
/// the defaults are 0 (so a link without them means plain gradient descent).
#[test]
fn bad_momentum_and_weight_decay_are_refused_by_name() {
    let d = RunConfig::default();
    assert_eq!((d.momentum, d.weight_decay), (0.0, 0.0));
    for (beta, wd, name) in [
        (1.0, 0.0, "momentum"),
        (-0.1, 0.0, "momentum"),
        (f64::NAN, 0.0, "momentum"),
        (0.0, 2.0, "weightDecay"),
        (0.0, -1e-3, "weightDecay"),
    ] {
        let e = Run::new(RunConfig {
            momentum: beta,
            weight_decay: wd,
            ..RunConfig::default()
        })
        .err()
        .unwrap_or_else(|| panic!("β = {beta}, λ_wd = {wd} accepted"));
        let Error::InvalidConfig { field, .. } = &e else {
            panic!("β = {beta}, λ_wd = {wd}: {e}");
        };
        assert_eq!(*field, name, "{e}");
    }
    let run = Run::new(RunConfig {
        momentum: 0.9,
        weight_decay: 1e-4,
        ..RunConfig::default()
    })
    .unwrap();
    assert_eq!(
        run.trainer().momentum(),
        Momentum {
            beta: 0.9,
            weight_decay: 1e-4
        }
    );
}

/// A snapshot of a heavy-ball run carries its velocity: a run restored from it (as a lost GPU's
/// run continues on the CPU) takes the uninterrupted run's steps to the bit.
#[test]
fn a_snapshot_carries_the_velocity_so_a_restored_run_goes_on_exactly() {
    let config = RunConfig {
        momentum: 0.9,
        weight_decay: 1e-3,
        lr: 0.2,
        ..RunConfig::default()
    };
    let mut whole = Run::new(config.clone()).unwrap();
    whole.advance(40);
    let mut first = Run::new(config.clone()).unwrap();
    first.advance(25);
    let snapshot = pollster::block_on(first.snapshot_async()).unwrap();
    assert!(
        snapshot.velocity.is_some(),
        "a heavy-ball run's snapshot holds its velocity"
    );
    let mut resumed = Run::new(config).unwrap();
    resumed.restore(&snapshot).unwrap();
    let a = resumed.advance(15);
    let b = whole.last_report().clone();
    assert_eq!(bits(&resumed.params()), bits(&whole.params()));
    assert_eq!(a.train_loss.to_bits(), b.train_loss.to_bits());
    // Without momentum a snapshot holds none.
    let mut plain = Run::new(RunConfig::default()).unwrap();
    plain.advance(3);
    assert!(
        pollster::block_on(plain.snapshot_async())
            .unwrap()
            .velocity
            .is_none()
    );
}
