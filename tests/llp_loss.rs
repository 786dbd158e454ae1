//! The DLLP bag loss (`Loss::Proportions`, src/nn/loss.rs) on the CPU: bags of one are
//! supervised cross-entropy bit for bit (the backend op and whole training runs), training on
//! bags of several lowers the bag loss and learns the instances, `Loss::eval`'s bag loss and
//! bag accuracy, and the settings the bag loss refuses. The gradient against finite
//! differences is in tests/loss.rs; GPU against CPU in tests/gpu_backend.rs and tests/web_gpu.rs.

use descent::backend::Backend;
use descent::backend::cpu::Cpu;
use descent::error::Error;
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::{Activation, BatchedTrainer, Loss, NetConfig, Trainer};
use descent::rng::Rng;

/// `n` points of three overlapping 2-D Gaussian clusters (unit spread around centres 2.5
/// apart) in bags of `bag`: each bag has a dominant class (bag j: j mod 3) that each of its
/// instances takes with probability 0.6, else a uniform class. Returns the inputs (`n × 2`),
/// the true labels, and the targets (`n × 3`, every row its bag's proportions).
fn bagged_clusters(n: usize, bag: usize, seed: u64) -> (Vec<f32>, Vec<usize>, Vec<f32>) {
    let centres = [(0.0, 2.5), (2.2, -1.25), (-2.2, -1.25)];
    let mut rng = Rng::new(seed);
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let dominant = (i / bag) % 3;
        let c = if rng.uniform() < 0.6 {
            dominant
        } else {
            rng.index(3)
        };
        x.push((centres[c].0 + rng.normal()) as f32);
        x.push((centres[c].1 + rng.normal()) as f32);
        labels.push(c);
    }
    let mut y = vec![0.0f32; n * 3];
    for j in 0..n / bag {
        let mut counts = [0usize; 3];
        for &c in &labels[j * bag..(j + 1) * bag] {
            counts[c] += 1;
        }
        for i in j * bag..(j + 1) * bag {
            for c in 0..3 {
                y[i * 3 + c] = counts[c] as f32 / bag as f32;
            }
        }
    }
    (x, labels, y)
}

fn one_hot(labels: &[usize], k: usize) -> Vec<f32> {
    let mut y = vec![0.0f32; labels.len() * k];
    for (i, &c) in labels.iter().enumerate() {
        y[i * k + c] = 1.0;
    }
    y
}

fn spec(k: usize) -> MlpSpec {
    MlpSpec {
        input_dim: 2,
        hidden: vec![33, 17],
        activation: Activation::Tanh,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.5,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: k,
    }
}

fn trainer(x: &[f32], y: &[f32], k: usize, center: bool, lr: f64, loss: Loss) -> Trainer<Cpu> {
    let mut be = Cpu::new();
    let mlp = Mlp::new(&mut be, spec(k), &mut Rng::new(9)).expect("valid spec");
    Trainer::new(be, mlp, x, y, center, lr, 0, 3)
        .and_then(|t| t.with_loss(loss))
        .expect("trainer")
}

#[test]
fn bags_of_one_are_cross_entropy_bit_for_bit_in_the_op() {
    // One-hot targets, centred or not, ordinary and large logits (±80: the stable paths):
    // the signal and the loss of bag_cross_entropy with bags of one are cross_entropy's bits.
    let mut be = Cpu::new();
    let mut rng = Rng::new(4);
    for (rows, cols) in [(1, 2), (7, 3), (64, 10), (257, 5), (3, 1024)] {
        for (centred, large) in [(false, false), (true, false), (false, true)] {
            let len = rows * cols;
            let f: Vec<f32> = (0..len)
                .map(|_| {
                    let v = 2.0 * rng.normal();
                    (if large { 80.0 * v.tanh() } else { v }) as f32
                })
                .collect();
            let f0: Vec<f32> = (0..len).map(|_| 0.5 * rng.normal() as f32).collect();
            let labels: Vec<usize> = (0..rows).map(|_| rng.index(cols)).collect();
            let y = one_hot(&labels, cols);
            let f0 = centred.then_some(&f0);
            let (mut r_ce, mut r_bag) = (vec![f32::NAN; len], vec![f32::NAN; len]);
            let (mut l_ce, mut l_bag) = (vec![0.0f32; 2], vec![0.0f32; 2]);
            be.cross_entropy(rows, cols, &f, f0, 1.3, &y, &mut r_ce, &mut l_ce, 1);
            be.bag_cross_entropy(rows, cols, 1, &f, f0, 1.3, &y, &mut r_bag, &mut l_bag, 1);
            let what = format!("{rows} × {cols} centred {centred} large {large}");
            assert_eq!(l_ce[1].to_bits(), l_bag[1].to_bits(), "{what}: loss");
            assert_eq!(l_bag[0], 0.0, "{what}: the other slot");
            for (i, (a, b)) in r_ce.iter().zip(&r_bag).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{what}: r[{i}] {a} against {b}");
            }
        }
    }
}

#[test]
fn bags_of_one_train_as_cross_entropy_bit_for_bit() {
    // 97 points of three classes, a 2 → 33 → 17 → 3 network: 60 full-batch steps, plain and
    // centred at a lazy scale, step by step (advance) and batched (advance_async): every
    // step's loss and every parameter after the run are the same bits.
    let (x, labels, _) = bagged_clusters(97, 1, 21);
    let y = one_hot(&labels, 3);
    for (center, alpha) in [(false, 1.0), (true, 2.0)] {
        let runs: Vec<(Vec<f32>, Vec<f32>)> = [Loss::CrossEntropy, Loss::Proportions { bag: 1 }]
            .into_iter()
            .map(|loss| {
                let mut t = trainer(&x, &y, 3, center, 0.5, loss)
                    .with_alpha(alpha)
                    .expect("alpha");
                let mut losses = Vec::new();
                for _ in 0..30 {
                    t.advance(1).expect("no divergence");
                    losses.push(t.last_loss().expect("a step"));
                }
                losses.extend(descent::exec::block_on(t.advance_async(30)).expect("no divergence"));
                let params = descent::exec::block_on(t.params_async()).expect("params");
                (losses, params)
            })
            .collect();
        let ((l_ce, p_ce), (l_bag, p_bag)) = (&runs[0], &runs[1]);
        assert!(l_ce[59] < 0.5 * l_ce[0], "training works: {l_ce:?}");
        for (s, (a, b)) in l_ce.iter().zip(l_bag).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "centred {center}: loss of step {s}"
            );
        }
        for (i, (a, b)) in p_ce.iter().zip(p_bag).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "centred {center}: parameter {i}");
        }
    }
}

#[test]
fn eval_gives_the_bag_loss_and_the_bag_accuracy() {
    // Two bags of two rows, K = 2. Bag 0: logits (0, 0) and (ln 3, 0), so softmax (1/2, 1/2)
    // and (3/4, 1/4), p̄ = (5/8, 3/8), reported p = (1/2, 1/2) (argmax 0 both: right). Bag 1:
    // logits (0, ln 3) twice, p̄ = (1/4, 3/4), reported (1, 0) (wrong).
    let l3 = 3f32.ln();
    let f = [0.0, 0.0, l3, 0.0, 0.0, l3, 0.0, l3];
    let y = [0.5, 0.5, 0.5, 0.5, 1.0, 0.0, 1.0, 0.0];
    let e = Loss::Proportions { bag: 2 }.eval(&f, None, 1.0, &y, 2);
    let bag0 = -(0.5 * (5.0f64 / 8.0).ln() + 0.5 * (3.0f64 / 8.0).ln());
    let bag1 = -(0.25f64).ln();
    let want = (bag0 + bag1) / 2.0;
    // f32 logits (ln 3 rounded: relative 3e-8) and f64 arithmetic.
    assert!((e.loss - want).abs() < 1e-7, "{e:?} against {want}");
    assert_eq!(e.accuracy, 0.5);
    // Bags of one: cross-entropy's value and accuracy (f64 sums in another order: 1e-12).
    let mut rng = Rng::new(2);
    let f: Vec<f32> = (0..40 * 4).map(|_| 3.0 * rng.normal() as f32).collect();
    let labels: Vec<usize> = (0..40).map(|_| rng.index(4)).collect();
    let y = one_hot(&labels, 4);
    let a = Loss::CrossEntropy.eval(&f, None, 1.5, &y, 4);
    let b = Loss::Proportions { bag: 1 }.eval(&f, None, 1.5, &y, 4);
    assert!((a.loss - b.loss).abs() <= 1e-12 * a.loss, "{a:?} {b:?}");
    assert_eq!(a.accuracy, b.accuracy);
    // Rows that do not split into whole bags: NaN, not a number on screen.
    let e = Loss::Proportions { bag: 3 }.eval(&f, None, 1.0, &y, 4);
    assert!(e.loss.is_nan() && e.accuracy.is_nan(), "{e:?}");
}

#[test]
fn training_on_bags_lowers_the_bag_loss_and_learns_the_instances() {
    // 480 points in 60 bags of 8 (each bag 60 % one class): full-batch DLLP. The bag loss
    // falls at every checkpoint, and the network classifies the instances, which it never saw
    // labelled, far above chance (1/3).
    let (x, labels, y) = bagged_clusters(480, 8, 5);
    let mut t = trainer(&x, &y, 3, false, 1.0, Loss::Proportions { bag: 8 });
    let mut losses = vec![t.evaluate_train().loss];
    for _ in 0..6 {
        t.advance(50).expect("no divergence");
        let e = t.evaluate_train();
        assert!(
            e.loss.is_finite() && (0.0..=1.0).contains(&e.accuracy),
            "{e:?}"
        );
        losses.push(e.loss);
    }
    assert!(
        losses.windows(2).all(|w| w[1] < w[0]),
        "the bag loss falls: {losses:?}"
    );
    let f = t.predict(&x);
    let instances = Loss::CrossEntropy.eval(&f, None, 1.0, &one_hot(&labels, 3), 3);
    eprintln!(
        "bag losses {losses:?}, instance accuracy {}",
        instances.accuracy
    );
    assert!(
        instances.accuracy >= 0.8,
        "instance accuracy {} (bag losses {losses:?})",
        instances.accuracy
    );
}

fn config_error<T>(r: Result<T, Error>) -> (&'static str, String) {
    match r {
        Err(Error::InvalidConfig { field, message }) => (field, message),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("must be refused"),
    }
}

#[test]
fn the_bag_loss_refuses_what_it_cannot_train() {
    let (x, labels, _) = bagged_clusters(12, 1, 1);
    let y = one_hot(&labels, 3);
    let new = |k: usize, y: &[f32], batch: usize| {
        let mut be = Cpu::new();
        let mlp = Mlp::new(&mut be, spec(k), &mut Rng::new(1)).unwrap();
        Trainer::new(be, mlp, &x, y, false, 0.1, batch, 1).unwrap()
    };
    // Rows that are not whole bags, named by the bag size.
    let (field, message) = config_error(new(3, &y, 0).with_loss(Loss::Proportions { bag: 5 }));
    assert_eq!(field, "bag");
    assert!(message.contains("12") && message.contains('5'), "{message}");
    let (field, _) = config_error(new(3, &y, 0).with_loss(Loss::Proportions { bag: 0 }));
    assert_eq!(field, "bag");
    // One output has no proportions.
    let (field, _) = config_error(new(1, &[1.0; 12], 0).with_loss(Loss::Proportions { bag: 4 }));
    assert_eq!(field, "loss");
    // Mini-batches would cut bags apart.
    let (field, message) = config_error(new(3, &y, 4).with_loss(Loss::Proportions { bag: 4 }));
    assert_eq!(field, "batchSize", "{message}");
    assert!(
        new(3, &y, 0)
            .with_loss(Loss::Proportions { bag: 4 })
            .is_ok()
    );
    // The batched trainer trains the run configurations' losses only.
    let nets = [NetConfig {
        seed: 1,
        init_scale: 1.0,
        lr: 0.1,
    }];
    let batched = BatchedTrainer::new(Cpu::new(), spec(3), &x, &y, &nets).unwrap();
    let (field, message) = config_error(batched.with_loss(Loss::Proportions { bag: 4 }));
    assert_eq!(field, "loss", "{message}");
    // The curvature tools have no bag loss.
    let obj = descent::nn::hessian::Objective::new(&spec(3), &x, &y, None, 1.0).unwrap();
    assert_eq!(
        config_error(obj.with_loss(Loss::Proportions { bag: 4 })).0,
        "loss"
    );
    // Not a run configuration's loss: not offered, never serialised.
    assert!(!Loss::ALL.contains(&Loss::Proportions { bag: 1 }));
    assert!(serde_json::to_string(&Loss::Proportions { bag: 4 }).is_err());
    assert!(!Loss::Proportions { bag: 4 }.label().is_empty());
}
