//! One test body per property of [`BatchedTrainer`] (many networks of one architecture
//! trained at once), generic over its backend and checked against single [`Trainer`] runs with
//! the same settings on the CPU backend (the reference that steps synchronously everywhere,
//! the browser included). tests/batched.rs runs them natively (CPU and lavapipe),
//! tests/web_gpu.rs in headless Chromium (CPU compiled to wasm and SwiftShader).

#![allow(dead_code)]

use descent::backend::Backend;
use descent::backend::cpu::Cpu;
use descent::data::stream;
use descent::error::Error;
use descent::nn::batched::{BatchedTrainer, NetConfig};
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::train::Trainer;
use descent::nn::{Activation, Loss};
use descent::rng::Rng;

/// How closely a batched network must follow its single run: `None` is bit for bit (the CPU
/// backend does the same arithmetic in the same order); otherwise losses to `loss_rtol`
/// relative and parameters and predictions to `param_tol · (1 + |value|)`.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub loss_rtol: f64,
    pub param_tol: f64,
}

/// A batch to train: one architecture, one data set, per-network settings.
pub struct Case {
    pub name: &'static str,
    pub spec: MlpSpec,
    pub configs: Vec<NetConfig>,
    /// Training points.
    pub n: usize,
    /// The sizes of the successive `advance_async` calls.
    pub calls: Vec<u64>,
    /// The training loss (on `spec.outputs` outputs; see [`targets`]).
    pub loss: Loss,
}

/// `n` points in `d` dimensions and a smooth target of them, from `seed`.
pub fn data(n: usize, d: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let x: Vec<f32> = (0..n * d).map(|_| rng.normal() as f32).collect();
    let y = (0..n)
        .map(|i| {
            let row = &x[i * d..(i + 1) * d];
            (1.3 * row[0]).sin() * (0.7 * row[d - 1]).cos() + 0.3 * row.iter().sum::<f32>()
        })
        .collect();
    (x, y)
}

/// The training set of `case`: [`data`] for one output; for K > 1 outputs the same inputs
/// with one-hot targets, the class of a point the sector of K of its smooth target's value
/// (squashed by tanh into (−1, 1)).
pub fn targets(case: &Case) -> (Vec<f32>, Vec<f32>) {
    let (d, k) = (case.spec.input_dim, case.spec.outputs);
    let (x, y) = data(case.n, d, 7);
    if k == 1 {
        return (x, y);
    }
    let mut onehot = vec![0.0f32; case.n * k];
    for (i, &v) in y.iter().enumerate() {
        let class = (((v.tanh() + 1.0) / 2.0 * k as f32) as usize).min(k - 1);
        onehot[i * k + class] = 1.0;
    }
    (x, onehot)
}

/// Points to predict at (inside and outside the training cloud).
pub fn grid(d: usize) -> Vec<f32> {
    (0..37 * d).map(|i| (i as f32 * 0.37).sin() * 2.0).collect()
}

fn nets(seeds: [u64; 5], scales: [f64; 5], lrs: [f64; 5]) -> Vec<NetConfig> {
    (0..5)
        .map(|i| NetConfig {
            seed: seeds[i],
            init_scale: scales[i],
            lr: lrs[i],
        })
        .collect()
}

fn spec(d: usize, hidden: Vec<usize>, act: Activation, par: Parametrization) -> MlpSpec {
    MlpSpec {
        input_dim: d,
        hidden,
        activation: act,
        parametrization: par,
        sigma_w: 1.4,
        sigma_b: 0.2,
        // Unused: every network sets its own.
        init_scale: 1.0,
        outputs: 1,
    }
}

/// Three batches of five networks with different seeds, initialisation scales and step sizes
/// (all stable), 120 steps in calls of 1, 7, 0, 50 and 62 steps (`short`: 12 steps in calls
/// of 1, 4, 0 and 7, for the browser's software GPU, which takes ~0.3 s a step here): ReLU in
/// the NTK
/// parametrisation at depth 1 and width 257, erf in the standard parametrisation at depth 2
/// (widths 64 and 97), tanh in the mean-field parametrisation (whose step size is scaled by
/// the width) at depth 1 and width 100.
pub fn cases(short: bool) -> Vec<Case> {
    let calls = if short {
        vec![1, 4, 0, 7]
    } else {
        vec![1, 7, 0, 50, 62]
    };
    vec![
        Case {
            name: "ReLU, NTK, 3 → 257 → 1",
            spec: spec(3, vec![257], Activation::Relu, Parametrization::Ntk),
            configs: nets(
                [1, 2, 3, 4, 5],
                [1.0, 0.5, 2.0, 1.0, 1.5],
                [0.5, 1.0, 0.1, 0.25, 0.3],
            ),
            n: 64,
            calls: calls.clone(),
            loss: Loss::Squared,
        },
        Case {
            name: "erf, standard, 3 → 64 → 97 → 1",
            spec: spec(3, vec![64, 97], Activation::Erf, Parametrization::Standard),
            configs: nets(
                [11, 12, 13, 14, 15],
                [1.0, 0.7, 1.3, 1.0, 0.4],
                [0.07, 0.08, 0.06, 0.05, 0.12],
            ),
            n: 53,
            calls: calls.clone(),
            loss: Loss::Squared,
        },
        Case {
            name: "tanh, mean-field, 2 → 100 → 1",
            spec: spec(2, vec![100], Activation::Tanh, Parametrization::MeanField),
            configs: nets(
                [21, 22, 23, 24, 25],
                [1.0, 2.0, 0.5, 1.0, 1.0],
                [0.5, 0.2, 1.0, 0.1, 1.2],
            ),
            n: 40,
            calls,
            loss: Loss::Squared,
        },
    ]
}

/// Batches on K > 1 outputs, calls as in [`cases`]: cross-entropy on 2 classes (ReLU, NTK,
/// 3 → 65 → 2) and on 5 classes (erf, standard, 3 → 64 → 37 → 5), and the squared loss on
/// 5 one-hot classes (tanh, mean-field, 2 → 100 → 5).
pub fn multi_output_cases(short: bool) -> Vec<Case> {
    let calls = if short {
        vec![1, 4, 0, 7]
    } else {
        vec![1, 7, 0, 50, 62]
    };
    let with_k = |mut spec: MlpSpec, k: usize| {
        spec.outputs = k;
        spec
    };
    vec![
        Case {
            name: "ReLU, NTK, 3 → 65 → 2, cross-entropy",
            spec: with_k(spec(3, vec![65], Activation::Relu, Parametrization::Ntk), 2),
            configs: nets(
                [31, 32, 33, 34, 35],
                [1.0, 0.5, 2.0, 1.0, 1.5],
                [0.5, 1.0, 0.1, 0.25, 0.3],
            ),
            n: 64,
            calls: calls.clone(),
            loss: Loss::CrossEntropy,
        },
        Case {
            name: "erf, standard, 3 → 64 → 37 → 5, cross-entropy",
            spec: with_k(
                spec(3, vec![64, 37], Activation::Erf, Parametrization::Standard),
                5,
            ),
            configs: nets(
                [41, 42, 43, 44, 45],
                [1.0, 0.7, 1.3, 1.0, 0.4],
                [0.07, 0.08, 0.06, 0.05, 0.12],
            ),
            n: 53,
            calls: calls.clone(),
            loss: Loss::CrossEntropy,
        },
        Case {
            name: "tanh, mean-field, 2 → 100 → 5, squared",
            spec: with_k(
                spec(2, vec![100], Activation::Tanh, Parametrization::MeanField),
                5,
            ),
            configs: nets(
                [51, 52, 53, 54, 55],
                [1.0, 2.0, 0.5, 1.0, 1.0],
                [0.3, 0.2, 0.4, 0.1, 0.5],
            ),
            n: 40,
            calls,
            loss: Loss::Squared,
        },
    ]
}

/// What a single run leaves: the loss of every step (at its starting parameters), the
/// parameters, the predictions on [`grid`] and the training loss (`evaluate_train`) at the
/// end, and where it diverged.
pub struct Single {
    pub losses: Vec<f32>,
    pub params: Vec<f32>,
    pub predictions: Vec<f32>,
    pub final_loss: f64,
    pub diverged: Option<u64>,
}

/// A single [`Trainer`] on the CPU with network `cfg`'s settings, stepped `steps` times one
/// step at a time (stopping at divergence).
pub fn single(spec: &MlpSpec, cfg: NetConfig, x: &[f32], y: &[f32], steps: u64) -> Single {
    single_with_loss(spec, cfg, x, y, steps, Loss::Squared)
}

/// [`single`] on the loss `loss`.
pub fn single_with_loss(
    spec: &MlpSpec,
    cfg: NetConfig,
    x: &[f32],
    y: &[f32],
    steps: u64,
    loss: Loss,
) -> Single {
    let mut backend = Cpu::new();
    let spec = MlpSpec {
        init_scale: cfg.init_scale,
        ..spec.clone()
    };
    let d = spec.input_dim;
    let mut rng = Rng::stream(cfg.seed, stream::WEIGHTS);
    let mlp = Mlp::new(&mut backend, spec, &mut rng).expect("valid spec");
    let mut t = Trainer::new(backend, mlp, x, y, false, cfg.lr, 0, cfg.seed)
        .and_then(|t| t.with_loss(loss))
        .expect("trainer");
    let mut losses = Vec::new();
    let mut diverged = None;
    for _ in 0..steps {
        match t.advance(1) {
            Ok(()) => losses.push(t.last_loss().expect("a step was taken")),
            Err(Error::Diverged { step }) => {
                losses.push(t.last_loss().expect("the bad step's loss"));
                diverged = Some(step);
                break;
            }
            Err(e) => panic!("single run: {e}"),
        }
    }
    let predictions = t.predict(&grid(d));
    let params = t.mlp.params(&mut t.backend);
    let final_loss = t.evaluate_train().loss;
    Single {
        losses,
        params,
        predictions,
        final_loss,
        diverged,
    }
}

fn close(got: f32, want: f32, rel_to: f64, tol: Option<f64>) -> bool {
    match tol {
        None => got.to_bits() == want.to_bits(),
        Some(t) => (got as f64 - want as f64).abs() <= t * rel_to,
    }
}

/// Asserts that `got` follows `want` (losses: relative; values: relative to 1 + |value|) and
/// returns the worst difference in those units.
fn compare(what: &str, got: &[f32], want: &[f32], loss: bool, tol: Option<f64>) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let rel_to = if loss {
            (w as f64).abs()
        } else {
            1.0 + (w as f64).abs()
        };
        worst = worst.max((g as f64 - w as f64).abs() / rel_to);
        assert!(
            close(g, w, rel_to, tol),
            "{what}: element {i} is {g} batched, {w} in the single run"
        );
    }
    worst
}

/// Every network of the batch `case`, trained by one [`BatchedTrainer`] on `backend`, gives
/// the losses of every step, the parameters and the predictions of its single run (and the
/// training loss at the end, which both compute in their own ways: to 1e-6 relative, an f32
/// rounding of the sum, even for `tol` None). Hands the backend back for the next case.
pub async fn batch_matches_single<B: Backend>(backend: B, case: &Case, tol: Option<Tol>) -> B {
    let d = case.spec.input_dim;
    let (x, y) = targets(case);
    let steps: u64 = case.calls.iter().sum();
    let what = format!("{} on {}", case.name, backend.name());
    let mut t = BatchedTrainer::new(backend, case.spec.clone(), &x, &y, &case.configs)
        .and_then(|t| t.with_loss(case.loss))
        .expect("batched trainer");
    assert_eq!(t.batch(), case.configs.len());
    let mut losses = vec![Vec::new(); t.batch()];
    for &k in &case.calls {
        let got = t.advance_async(k).await.expect("readback");
        for (all, mine) in losses.iter_mut().zip(got) {
            assert_eq!(mine.len() as u64, k, "{what}: one loss per step");
            all.extend(mine);
        }
    }
    assert_eq!(t.step(), steps, "{what}: steps");
    let params = t.all_params_async().await.expect("parameters");
    let predictions = t.predict_async(&grid(d)).await.expect("predictions");
    let now = t.train_losses_async().await.expect("training losses");
    let (loss_tol, param_tol) = (tol.map(|t| t.loss_rtol), tol.map(|t| t.param_tol));
    let (mut worst_loss, mut worst_param) = (0.0f64, 0.0f64);
    for (net, cfg) in case.configs.iter().enumerate() {
        let s = single_with_loss(&case.spec, *cfg, &x, &y, steps, case.loss);
        let w = format!("{what}, network {net} ({cfg:?})");
        assert_eq!(s.diverged, None, "{w}: the single run diverged");
        assert_eq!(t.diverged(net), None, "{w}");
        assert_eq!(t.steps(net), steps, "{w}");
        assert_eq!(
            t.last_loss(net),
            losses[net].last().copied(),
            "{w}: last loss"
        );
        assert!(
            s.losses[steps as usize - 1] < s.losses[0],
            "{w}: training lowers the loss: {:?}",
            s.losses
        );
        worst_loss = worst_loss.max(compare(
            &format!("{w}: losses"),
            &losses[net],
            &s.losses,
            true,
            loss_tol,
        ));
        let p = t
            .params_async(net)
            .await
            .expect("parameters of one network");
        assert_eq!(p, params[net], "{w}: params_async and all_params_async");
        worst_param = worst_param.max(compare(
            &format!("{w}: parameters"),
            &params[net],
            &s.params,
            false,
            param_tol,
        ));
        worst_param = worst_param.max(compare(
            &format!("{w}: predictions"),
            &predictions[net],
            &s.predictions,
            false,
            param_tol,
        ));
        // The loss after the last step, against the single run's evaluation (an f64 sum over
        // the same outputs, where the batched loss is rounded to f32).
        let eval = s.final_loss;
        let rtol = loss_tol.unwrap_or(0.0).max(1e-6);
        assert!(
            (now[net] as f64 - eval).abs() <= rtol * eval,
            "{w}: training loss {} batched, {eval} single",
            now[net]
        );
    }
    eprintln!(
        "{what}: worst relative loss difference {worst_loss:.2e}, worst parameter/prediction \
         difference {worst_param:.2e}"
    );
    t.backend
}

/// A batch of four ReLU networks (2 → 48 → 31 → 1, NTK) in which the second has a step size
/// that diverges after a few steps, its loss growing by orders of magnitude a step (so its
/// parameters are no longer finite by the end of a call of 20 steps).
pub fn divergent_case() -> Case {
    Case {
        name: "ReLU, NTK, 2 → 48 → 31 → 1, one divergent step size",
        spec: spec(2, vec![48, 31], Activation::Relu, Parametrization::Ntk),
        configs: [
            (1, 1.0, 0.3),
            (2, 1.0, DIVERGENT_LR),
            (3, 1.5, 0.2),
            (4, 0.8, 0.5),
        ]
        .into_iter()
        .map(|(seed, init_scale, lr)| NetConfig {
            seed,
            init_scale,
            lr,
        })
        .collect(),
        n: 50,
        calls: Vec::new(),
        loss: Loss::Squared,
    }
}

/// The step size of the second network of [`divergent_case`].
pub const DIVERGENT_LR: f64 = 3.0;

/// A batch with one divergent step size, advanced in calls of `k` steps: the bad network is
/// reported diverged at the step its single run reports, with that run's losses up to there
/// (`exact_divergent`: bit for bit; otherwise only the step, since in the steps before
/// divergence two backends' roundings grow ~10-100× a step), is left alone afterwards (empty
/// losses, parameters that stay as they were), and the other networks' losses and parameters
/// over at least `after` steps past the divergence equal their single runs' to `tol` (None:
/// bit for bit) — no NaN of the diverged network reaches them. Hands the backend back.
pub async fn divergence_is_per_network<B: Backend>(
    backend: B,
    k: u64,
    after: u64,
    exact_divergent: bool,
    tol: Option<Tol>,
) -> B {
    let case = divergent_case();
    let bad = 1;
    let d = case.spec.input_dim;
    let (x, y) = data(case.n, d, 7);
    let s_bad = single(&case.spec, case.configs[bad], &x, &y, 200);
    let step = s_bad
        .diverged
        .unwrap_or_else(|| panic!("the step size {DIVERGENT_LR} should diverge"));
    assert!(
        step >= 2 && !step.is_multiple_of(k),
        "the test wants the divergence inside a call of {k} steps, not at step {step}"
    );
    let what = format!("{} on {}, calls of {k}", case.name, backend.name());
    let mut t = BatchedTrainer::new(backend, case.spec.clone(), &x, &y, &case.configs)
        .expect("batched trainer");
    let mut losses = vec![Vec::new(); t.batch()];
    let mut calls_after = 0;
    let mut frozen = None;
    while calls_after * k < after {
        let got = t.advance_async(k).await.expect("readback");
        if t.diverged(bad).is_some() {
            calls_after += 1;
            if frozen.is_none() {
                frozen = Some(t.params_async(bad).await.expect("parameters"));
            }
        }
        if calls_after > 1 {
            assert!(got[bad].is_empty(), "{what}: losses after divergence");
        }
        for (all, mine) in losses.iter_mut().zip(got) {
            all.extend(mine);
        }
        assert!(t.step() <= 200 + after + k, "{what}: no divergence");
    }
    assert_eq!(t.diverged(bad), Some(step), "{what}: divergence step");
    assert_eq!(t.steps(bad), step, "{what}: steps of the diverged network");
    assert_eq!(
        losses[bad].len() as u64,
        step + 1,
        "{what}: losses up to the bad step"
    );
    let last = t.last_loss(bad).expect("the bad step's loss");
    assert!(
        !last.is_finite() || last > 1e4,
        "{what}: the loss that diverged is {last}"
    );
    if exact_divergent {
        compare(
            &format!("{what}: the diverging network's losses"),
            &losses[bad],
            &s_bad.losses,
            true,
            None,
        );
    }
    let steps = t.step();
    let params = t.all_params_async().await.expect("parameters");
    // Frozen: later steps leave the diverged network's parameters as they were (even where
    // they are no longer finite; a zero may change sign).
    let frozen = frozen.expect("diverged");
    let non_finite = frozen.iter().filter(|v| !v.is_finite()).count();
    for (i, (&now, &then)) in params[bad].iter().zip(&frozen).enumerate() {
        assert!(
            now == then || (now.is_nan() && then.is_nan()),
            "{what}: parameter {i} of the frozen network moved from {then} to {now}"
        );
    }
    let predictions = t.predict_async(&grid(d)).await.expect("predictions");
    for (net, cfg) in case.configs.iter().enumerate() {
        if net == bad {
            continue;
        }
        let w = format!("{what}, network {net}");
        let s = single(&case.spec, *cfg, &x, &y, steps);
        assert_eq!(s.diverged, None, "{w}: the single run diverged");
        assert_eq!(t.diverged(net), None, "{w}");
        let (lt, pt) = (tol.map(|t| t.loss_rtol), tol.map(|t| t.param_tol));
        compare(&format!("{w}: losses"), &losses[net], &s.losses, true, lt);
        compare(
            &format!("{w}: parameters"),
            &params[net],
            &s.params,
            false,
            pt,
        );
        compare(
            &format!("{w}: predictions"),
            &predictions[net],
            &s.predictions,
            false,
            pt,
        );
    }
    eprintln!(
        "{what}: network {bad} diverged at step {step}, as in its single run ({non_finite} of \
         its {} parameters not finite when frozen)",
        frozen.len()
    );
    t.backend
}
