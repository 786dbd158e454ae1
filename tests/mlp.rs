//! The MLP against an independent f64 implementation of the formulas in `nn::mlp`:
//! forward values, and back-propagated gradients against central finite differences.

use descent::backend::cpu::Cpu;
use descent::nn::mlp::{LayerShape, Mlp, MlpSpec, Parametrization, Workspace};
use descent::nn::{Activation, Loss, Trainer};
use descent::rng::Rng;

/// f(x) for every row of `x` (`n × d`) in f64, from flat parameters W¹, b¹, W², b², …
fn forward_f64(
    layers: &[LayerShape],
    act: Activation,
    theta: &[f64],
    x: &[f64],
    n: usize,
) -> Vec<f64> {
    let d = layers[0].fan_in;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut h: Vec<f64> = x[i * d..(i + 1) * d].to_vec();
        let mut at = 0;
        for (l, s) in layers.iter().enumerate() {
            let w = &theta[at..at + s.fan_in * s.fan_out];
            at += s.fan_in * s.fan_out;
            let b = &theta[at..at + s.fan_out];
            at += s.fan_out;
            let z: Vec<f64> = (0..s.fan_out)
                .map(|j| {
                    let dot: f64 = (0..s.fan_in).map(|p| h[p] * w[p * s.fan_out + j]).sum();
                    s.w_mult as f64 * dot + s.b_mult as f64 * b[j]
                })
                .collect();
            h = if l + 1 < layers.len() {
                z.iter().map(|&v| act.apply_f64(v)).collect()
            } else {
                z
            };
        }
        out.push(h[0]);
    }
    out
}

fn loss_f64(
    layers: &[LayerShape],
    act: Activation,
    theta: &[f64],
    x: &[f64],
    y: &[f64],
    f0: Option<&[f64]>,
) -> f64 {
    let n = y.len();
    let f = forward_f64(layers, act, theta, x, n);
    (0..n)
        .map(|i| (f[i] - f0.map_or(0.0, |f0| f0[i]) - y[i]).powi(2))
        .sum::<f64>()
        / (2.0 * n as f64)
}

fn spec(act: Activation, par: Parametrization, hidden: Vec<usize>, init_scale: f64) -> MlpSpec {
    MlpSpec {
        input_dim: 3,
        hidden,
        activation: act,
        parametrization: par,
        sigma_w: 1.3,
        sigma_b: 0.4,
        init_scale,
        outputs: 1,
    }
}

fn random_data(n: usize, d: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut r = Rng::new(seed);
    let x = (0..n * d).map(|_| r.normal() as f32).collect();
    let y = (0..n).map(|_| r.normal() as f32).collect();
    (x, y)
}

#[test]
fn forward_matches_the_f64_formulas() {
    // f32 against f64 on O(1) values through three layers: a few ulp per operation, summed
    // over fan-ins ≤ 6; 1e-4 relative to the output scale is ample and still catches any
    // wrong multiplier (those change outputs by O(1)).
    for par in Parametrization::ALL {
        for act in Activation::ALL {
            let mut be = Cpu::new();
            let sp = spec(act, par, vec![6, 5], 1.0);
            let mlp = Mlp::new(&mut be, sp.clone(), &mut Rng::new(11)).unwrap();
            let (x, _) = random_data(9, 3, 5);
            let mut ws = Workspace::new(&mut be, &sp, 9);
            let xb = x.clone();
            mlp.forward(&mut be, &xb, &mut ws);
            let theta: Vec<f64> = mlp.params(&mut be).iter().map(|&v| v as f64).collect();
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let want = forward_f64(&mlp.layers, act, &theta, &x64, 9);
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for i in 0..9 {
                assert!(
                    (ws.out[i] as f64 - want[i]).abs() <= 1e-4 * scale,
                    "{par:?} {act:?} row {i}: {} vs {}",
                    ws.out[i],
                    want[i]
                );
            }
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    // Central differences of the f64 loss with h = 1e-6 have truncation error O(h²) ≈ 1e-12
    // and rounding error ≈ 1e-16/h ≈ 1e-10, so they are exact to ~1e-9 here. The
    // back-propagated gradient is f32: its error is a few f32 ulps (6e-8) times the sizes of
    // the sums involved, so every component must agree within 1e-4 of the largest
    // component plus 1e-3 relative. A wrong factor (1/n, a multiplier, a transposition)
    // shifts components by O(1) relative and fails this.
    let (n, d) = (7, 3);
    for par in Parametrization::ALL {
        for act in Activation::ALL {
            for centred in [false, true] {
                let mut be = Cpu::new();
                let sp = spec(act, par, vec![5, 4], 1.0);
                let mut mlp = Mlp::new(&mut be, sp.clone(), &mut Rng::new(3)).unwrap();
                // Move away from the initialisation so centring has an effect.
                let mut theta32 = mlp.params(&mut be);
                let mut r = Rng::new(99);
                for v in theta32.iter_mut() {
                    *v += 0.3 * r.normal() as f32;
                }
                mlp.set_params(&mut be, &theta32).unwrap();
                let (x, y) = random_data(n, d, 8);
                let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
                let y64: Vec<f64> = y.iter().map(|&v| v as f64).collect();
                let f0: Option<Vec<f32>> =
                    centred.then(|| (0..n).map(|i| 0.1 * i as f32 - 0.2).collect());
                let f0_64: Option<Vec<f64>> =
                    f0.as_ref().map(|f| f.iter().map(|&v| v as f64).collect());
                let mut ws = Workspace::new(&mut be, &sp, n);
                let (loss, grad) =
                    mlp.gradient(&mut be, Loss::Squared, &x, &y, f0.as_ref(), &mut ws);

                let theta: Vec<f64> = theta32.iter().map(|&v| v as f64).collect();
                let want_loss = loss_f64(&mlp.layers, act, &theta, &x64, &y64, f0_64.as_deref());
                assert!(
                    (loss as f64 - want_loss).abs() <= 1e-4 * want_loss.max(1.0),
                    "{par:?} {act:?} loss"
                );

                let h = 1e-6;
                let fd: Vec<f64> = (0..theta.len())
                    .map(|k| {
                        let mut tp = theta.clone();
                        tp[k] += h;
                        let lp = loss_f64(&mlp.layers, act, &tp, &x64, &y64, f0_64.as_deref());
                        tp[k] -= 2.0 * h;
                        let lm = loss_f64(&mlp.layers, act, &tp, &x64, &y64, f0_64.as_deref());
                        (lp - lm) / (2.0 * h)
                    })
                    .collect();
                let gmax = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(gmax > 1e-3, "{par:?} {act:?}: a degenerate check");
                for (k, (&g, &want)) in grad.iter().zip(&fd).enumerate() {
                    assert!(
                        (g as f64 - want).abs() <= 1e-4 * gmax + 1e-3 * want.abs(),
                        "{par:?} {act:?} centred={centred} param {k}: backprop {g} vs finite difference {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn ntk_and_standard_parametrisations_agree_at_initialisation() {
    // The same normal draws give the same function: (σ_w/√n)·(s·ε) = (s·σ_w/√n)·ε.
    // The gradients differ: in the standard parametrisation the hidden weights' gradients
    // are larger by √fan_in, which the first GD step shows.
    let mut be = Cpu::new();
    let (x, y) = random_data(10, 3, 1);
    let mut out = Vec::new();
    for par in [Parametrization::Ntk, Parametrization::Standard] {
        let sp = spec(Activation::Tanh, par, vec![16, 16], 0.7);
        let mlp = Mlp::new(&mut be, sp.clone(), &mut Rng::new(4)).unwrap();
        let mut ws = Workspace::new(&mut be, &sp, 10);
        mlp.forward(&mut be, &x, &mut ws);
        out.push(ws.out.clone());
    }
    for (a, b) in out[0].iter().zip(&out[1]) {
        assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
    }
    let mut after = Vec::new();
    for par in [Parametrization::Ntk, Parametrization::Standard] {
        let sp = spec(Activation::Tanh, par, vec![16, 16], 0.7);
        let mlp = Mlp::new(&mut be, sp, &mut Rng::new(4)).unwrap();
        let mut t = Trainer::new(Cpu::new(), mlp, &x, &y, false, 0.1, 0, 1).unwrap();
        t.advance(1).unwrap();
        after.push(t.predict(&x));
    }
    let diff: f32 = after[0]
        .iter()
        .zip(&after[1])
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(diff > 1e-3, "one step must differ between parametrisations");
}

#[test]
fn mean_field_output_is_scaled_by_one_over_root_width() {
    // Mean-field differs from NTK only in the output layer, divided by √n_L (weights and bias).
    let mut be = Cpu::new();
    let (x, _) = random_data(6, 3, 2);
    let mut outs = Vec::new();
    for par in [Parametrization::Ntk, Parametrization::MeanField] {
        let sp = spec(Activation::Relu, par, vec![64], 1.0);
        let mlp = Mlp::new(&mut be, sp.clone(), &mut Rng::new(6)).unwrap();
        let mut ws = Workspace::new(&mut be, &sp, 6);
        mlp.forward(&mut be, &x, &mut ws);
        outs.push(ws.out.clone());
    }
    for (ntk, mf) in outs[0].iter().zip(&outs[1]) {
        assert!((ntk / 8.0 - mf).abs() < 1e-5, "{ntk}/8 vs {mf}");
    }
}

#[test]
fn a_gradient_step_moves_along_the_negative_gradient() {
    // θ₁ = θ₀ − η_eff ∇L exactly (up to f32 rounding of the fused update), η_eff including
    // the mean-field factor n_L.
    for par in Parametrization::ALL {
        let mut be = Cpu::new();
        let sp = spec(Activation::Erf, par, vec![8, 6], 1.0);
        let mut mlp = Mlp::new(&mut be, sp.clone(), &mut Rng::new(5)).unwrap();
        let (x, y) = random_data(11, 3, 9);
        let mut ws = Workspace::new(&mut be, &sp, 11);
        let (_, grad) = mlp.gradient(&mut be, Loss::Squared, &x, &y, None, &mut ws);
        let theta0 = mlp.params(&mut be);
        let lr = 0.05;
        let eff = mlp.effective_lr(lr) as f32;
        let mut t = Trainer::new(Cpu::new(), mlp, &x, &y, false, lr, 0, 1).unwrap();
        t.advance(1).unwrap();
        let theta1 = t.mlp.params(&mut t.backend);
        for k in 0..theta0.len() {
            let want = theta0[k] - eff * grad[k];
            assert!(
                (theta1[k] - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "{par:?} param {k}"
            );
        }
    }
}
