//! One test body per property of [`Trainer::advance_async`] (k steps queued, their k losses
//! read back once), generic over the backends: the synchronous reference `advance` runs on one
//! backend, the batched path on another (the same kind natively; on the web the reference is
//! the CPU backend, since a synchronous GPU readback cannot wait in a browser).
//! tests/gpu_backend.rs runs them natively, tests/web_gpu.rs in headless Chromium.

#![allow(dead_code)]

use descent::backend::Backend;
use descent::error::Error;
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::train::Trainer;
use descent::nn::{Activation, Loss};
use descent::rng::Rng;

/// How closely the batched run must follow the synchronous one: `None` is bit for bit (the
/// same backend does the same arithmetic in the same order); otherwise losses to `loss_rtol`
/// relative and parameters to `param_tol · (1 + |value|)`.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub loss_rtol: f64,
    pub param_tol: f64,
}

/// The network and data of tests/gpu_backend.rs's training comparison: 97 points of a smooth
/// 2-D target, a 2 → 33 → 17 → 1 NTK network, full batch.
pub fn trainer<B: Backend>(
    backend: B,
    activation: Activation,
    center: bool,
    lr: f64,
) -> Trainer<B> {
    trainer_with(backend, activation, center, lr, 1, Loss::Squared)
}

/// [`trainer`] with `k` outputs and the loss `loss`: for k = 1 the same network and targets;
/// for k > 1 one-hot targets of k classes, the class of a point its angle's sector of k. The
/// bag loss ([`Loss::Proportions`]) takes the largest multiple of its bag size up to 97
/// points, and every target row holds its bag's class proportions (the mean of its one-hot
/// rows; bags of one keep them one-hot).
pub fn trainer_with<B: Backend>(
    mut backend: B,
    activation: Activation,
    center: bool,
    lr: f64,
    k: usize,
    loss: Loss,
) -> Trainer<B> {
    let n = match loss {
        Loss::Proportions { bag } => 97 - 97 % bag,
        _ => 97,
    };
    let mut rng = Rng::new(5);
    let x: Vec<f32> = (0..2 * n).map(|_| rng.normal() as f32).collect();
    let y: Vec<f32> = if k == 1 {
        (0..n)
            .map(|i| (1.3 * x[2 * i]).sin() * (0.7 * x[2 * i + 1]).cos())
            .collect()
    } else {
        let mut y = vec![0.0f32; n * k];
        for i in 0..n {
            let angle = (x[2 * i + 1] as f64).atan2(x[2 * i] as f64) + std::f64::consts::PI;
            let class = ((angle / std::f64::consts::TAU * k as f64) as usize).min(k - 1);
            y[i * k + class] = 1.0;
        }
        if let Loss::Proportions { bag } = loss {
            for rows in y.chunks_exact_mut(bag * k) {
                let mut p = vec![0.0f32; k];
                for row in rows.chunks_exact(k) {
                    for (pc, &v) in p.iter_mut().zip(row) {
                        *pc += v / bag as f32;
                    }
                }
                for row in rows.chunks_exact_mut(k) {
                    row.copy_from_slice(&p);
                }
            }
        }
        y
    };
    let spec = MlpSpec {
        input_dim: 2,
        hidden: vec![33, 17],
        activation,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.5,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: k,
    };
    let mut wrng = Rng::new(9);
    let mlp = Mlp::new(&mut backend, spec, &mut wrng).expect("valid spec");
    Trainer::new(backend, mlp, &x, &y, center, lr, 0, 3)
        .and_then(|t| t.with_loss(loss))
        .expect("trainer")
}

/// All parameters (the order of `Mlp::params`), through the readback that works on the web.
pub async fn params<B: Backend>(t: &mut Trainer<B>) -> Vec<f32> {
    let mut out = Vec::new();
    for l in 0..t.mlp.layers.len() {
        let shape = t.mlp.layers[l];
        for (buf, len) in [
            (&t.mlp.weights[l], shape.fan_in * shape.fan_out),
            (&t.mlp.biases[l], shape.fan_out),
        ] {
            let v = t.backend.read_async(buf, len).await;
            out.extend(v.expect("parameter readback"));
        }
    }
    out
}

fn compare_losses(what: &str, sync: &[f32], batched: &[f32], tol: Option<Tol>) {
    assert_eq!(sync.len(), batched.len(), "{what}: number of losses");
    for (i, (&s, &b)) in sync.iter().zip(batched).enumerate() {
        let ok = match tol {
            None => s.to_bits() == b.to_bits(),
            Some(t) => ((s as f64 - b as f64).abs() / (s as f64).abs()) <= t.loss_rtol,
        };
        assert!(
            ok,
            "{what}: loss of step {i} is {b} batched, {s} step by step\nsync {sync:?}\nbatched {batched:?}"
        );
    }
}

fn compare_params(what: &str, sync: &[f32], batched: &[f32], tol: Option<Tol>) {
    assert_eq!(sync.len(), batched.len(), "{what}: number of parameters");
    for (i, (&s, &b)) in sync.iter().zip(batched).enumerate() {
        let ok = match tol {
            None => s.to_bits() == b.to_bits(),
            Some(t) => (s as f64 - b as f64).abs() / (1.0 + (s as f64).abs()) <= t.param_tol,
        };
        assert!(ok, "{what}: parameter {i} is {b} batched, {s} step by step");
    }
}

/// `advance_async` in batches of 1, 4 and 7 steps (and 0) gives the losses (at each step's starting
/// parameters) and the parameters of 12 single `advance(1)` steps. With `eval_between` both
/// runs evaluate the training loss after step 5 (a synchronous readback: native only), which
/// leaves a cached forward pass that the next step reuses.
pub async fn advance_async_matches_sync<S: Backend, A: Backend>(
    sync_backend: S,
    async_backend: A,
    activation: Activation,
    center: bool,
    eval_between: bool,
    tol: Option<Tol>,
) {
    loss_async_matches_sync(
        sync_backend,
        async_backend,
        activation,
        center,
        eval_between,
        1,
        Loss::Squared,
        tol,
    )
    .await;
}

/// [`advance_async_matches_sync`] for the network of [`trainer_with`]: `k` outputs trained
/// on `loss`.
pub async fn loss_async_matches_sync<S: Backend, A: Backend>(
    sync_backend: S,
    async_backend: A,
    activation: Activation,
    center: bool,
    eval_between: bool,
    k: usize,
    loss: Loss,
    tol: Option<Tol>,
) {
    let what = format!(
        "{activation:?} centred={center}, {k} outputs, {loss:?} on {} (batched) against {} (step \
         by step)",
        async_backend.name(),
        sync_backend.name()
    );
    let mut s = trainer_with(sync_backend, activation, center, 0.3, k, loss);
    let mut sync_losses = Vec::new();
    for step in 0..12 {
        if step == 5 && eval_between {
            s.evaluate_train();
        }
        s.advance(1).expect("no divergence");
        sync_losses.push(s.last_loss().expect("a step was taken"));
    }
    let mut a = trainer_with(async_backend, activation, center, 0.3, k, loss);
    let mut losses = Vec::new();
    for k in [1, 4, 0, 7] {
        if a.step() == 5 && eval_between {
            a.evaluate_train();
        }
        let got = a.advance_async(k).await.expect("no divergence");
        assert_eq!(got.len() as u64, k, "{what}: one loss per step");
        losses.extend(got);
    }
    assert_eq!(a.step(), 12, "{what}: steps taken");
    assert_eq!(a.last_loss(), losses.last().copied(), "{what}: last loss");
    assert!(
        losses[11] < losses[0],
        "{what}: training lowers the loss: {losses:?}"
    );
    compare_losses(&what, &sync_losses, &losses, tol);
    let (ps, pa) = (params(&mut s).await, params(&mut a).await);
    compare_params(&what, &ps, &pa, tol);
}

/// The step size at which the 2 → 33 → 17 → 1 network of [`trainer`] diverges after a few
/// steps (the divergence step is printed by the test).
pub const DIVERGENT_LR: f64 = 6.0;

/// A run that diverges: `advance_async` reports the same step as `advance`, whether the bad
/// step falls inside a batch of 3 or of 20 steps, stops there (the step count and, with
/// `param_tol`, the parameters are those `advance` leaves: the good steps of the batch only),
/// and refuses further steps. `param_tol`: `None` skips the parameter comparison (right across
/// backends: in the steps before divergence their roundings grow ~10-100× a step),
/// `Some(tol)` compares as [`advance_async_matches_sync`] does.
pub async fn advance_async_reports_divergence<S: Backend, A: Backend>(
    sync_backend: S,
    async_backend: A,
    param_tol: Option<Option<Tol>>,
) {
    let mut s = trainer(sync_backend, Activation::Tanh, false, DIVERGENT_LR);
    let step = match s.advance(200) {
        Err(Error::Diverged { step }) => step,
        other => panic!("the step size {DIVERGENT_LR} should diverge, got {other:?}"),
    };
    assert_eq!(s.step(), step);
    assert!(
        step >= 2 && step % 3 != 0,
        "the test wants the divergence inside a batch of 3, not at step {step}"
    );
    let ps = params(&mut s).await;
    // One backend for both runs (a device is slow to create in a browser): the first
    // trainer hands it on.
    let mut backend = Some(async_backend);
    for k in [3, 20] {
        let b = backend.take().expect("handed on");
        let mut a = trainer(b, Activation::Tanh, false, DIVERGENT_LR);
        let what = format!("batches of {k} on {}", a.backend.name());
        let mut taken = 0u64;
        let got = loop {
            match a.advance_async(k).await {
                Ok(losses) => {
                    assert!(losses.iter().all(|l| l.is_finite()), "{what}: {losses:?}");
                    taken += k;
                    assert!(taken <= 200, "{what}: no divergence in {taken} steps");
                }
                Err(e) => break e,
            }
        };
        assert!(
            matches!(got, Error::Diverged { step: d } if d == step),
            "{what}: {got:?}, step by step it diverged at {step}"
        );
        assert_eq!(a.step(), step, "{what}: steps taken");
        assert_eq!(a.diverged(), Some(step), "{what}");
        let last = a.last_loss().expect("the bad step's loss");
        assert!(
            !last.is_finite() || last > 1e4,
            "{what}: the loss that diverged is {last}"
        );
        assert!(matches!(
            a.advance_async(1).await,
            Err(Error::Diverged { step: d }) if d == step
        ));
        assert!(matches!(a.advance(1), Err(Error::Diverged { step: d }) if d == step));
        if let Some(tol) = param_tol {
            compare_params(&what, &ps, &params(&mut a).await, tol);
        }
        backend = Some(a.backend);
    }
    eprintln!("diverged at step {step}, reported there by both batch sizes");
}
