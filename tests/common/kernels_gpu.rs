//! Kernel matrices on a backend, one generic body each: the empirical NTK and NNGP of a live
//! network (`nn::ntk::empirical_kernels_async`), the analytic NNGP and NTK
//! (`kernels::analytic::nngp_ntk_on`) and the random-feature Grams
//! (`kernels::random_features::relu_feature_grams_on`), each against an f64 oracle with the
//! tolerance stated beside it. tests/gpu_backend.rs runs them natively on the CPU and the GPU
//! backend, tests/web_gpu.rs on the browser's WebGPU (small sizes: SwiftShader is slow).

#![allow(dead_code)]

use crate::ops;
use descent::backend::Backend;
use descent::backend::cpu::Cpu;
use descent::kernels::analytic::{
    DEVICE_BLOCK_ENTRIES, KernelSpec, nngp_ntk, nngp_ntk_on, nngp_ntk_on_blocks,
};
use descent::kernels::random_features::relu_feature_grams_on;
use descent::nn::Activation;
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::ntk::empirical_kernels_async;
use descent::rng::Rng;
use nalgebra::DMatrix;

/// n points in d dimensions, each scaled to ‖x‖² = d.
fn sphere_points(rng: &mut Rng, n: usize, d: usize) -> Vec<f32> {
    let mut x = Vec::with_capacity(n * d);
    for _ in 0..n {
        let v: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        x.extend(v.iter().map(|a| (a / norm * (d as f64).sqrt()) as f32));
    }
    x
}

/// One input's layer inputs X^l (l = 0..=L) and signals D^l (l = 1..=L+1), in f64.
struct Sample {
    inputs: Vec<Vec<f64>>,
    deltas: Vec<Vec<f64>>,
}

/// Per row of `x` (n × d, row-major), in f64 from the f32 parameters of `net` (the same draws
/// as the network under test): the layer inputs X^l (l = 0..=L) and the signals D^l = ∂f/∂z^l
/// (l = 1..=L+1).
fn per_sample(net: &Mlp<Cpu>, x: &[f32]) -> Vec<Sample> {
    let d = net.spec.input_dim;
    let act = net.spec.activation;
    let layers = &net.layers;
    x.chunks_exact(d)
        .map(|xi| {
            let mut inputs = vec![xi.iter().map(|&v| v as f64).collect::<Vec<f64>>()];
            let mut zs = Vec::new();
            for (l, sh) in layers.iter().enumerate() {
                let (w, b) = (&net.weights[l], &net.biases[l]);
                let h = &inputs[l];
                let z: Vec<f64> = (0..sh.fan_out)
                    .map(|j| {
                        let dot: f64 = (0..sh.fan_in)
                            .map(|p| h[p] * w[p * sh.fan_out + j] as f64)
                            .sum();
                        sh.w_mult as f64 * dot + sh.b_mult as f64 * b[j] as f64
                    })
                    .collect();
                if l + 1 < layers.len() {
                    inputs.push(z.iter().map(|&v| act.apply_f64(v)).collect());
                }
                zs.push(z);
            }
            // D^{L+1} = 1; D^l = (w_mult^{l+1} D^{l+1} W^{l+1}ᵀ) ∘ φ'(z^l).
            let mut deltas = vec![vec![1.0f64]];
            for l in (0..layers.len() - 1).rev() {
                let next = &layers[l + 1];
                let up = deltas.last().expect("the output signal");
                let w = &net.weights[l + 1];
                let dl: Vec<f64> = (0..next.fan_in)
                    .map(|p| {
                        let s: f64 = (0..next.fan_out)
                            .map(|j| up[j] * w[p * next.fan_out + j] as f64)
                            .sum();
                        next.w_mult as f64 * s * act.derivative_f64(zs[l][p])
                    })
                    .collect();
                deltas.push(dl);
            }
            deltas.reverse();
            Sample { inputs, deltas }
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Empirical NTK and NNGP on the backend against the layer-wise formula evaluated in f64 from
/// the same parameters: Θ = Σ_l (D^l·D'^l)(w_mult² X^{l−1}·X'^{l−1} + b_mult²) and
/// Σ̂ = w_std²w_mult² X^L·X'^L + b_std²b_mult². The network computes in f32 (forward and
/// backward passes, Grams of length ≤ 33 summed over 3 layers on the device): a few dozen
/// roundings of 2⁻²⁴ in each entry, measured ≤ 2.5e-7 of the largest entry on both backends;
/// bound 2e-6. A wrong multiplier, a missing layer or a bias term dropped changes entries at
/// O(1); the cross kernel (x1 against x2) catches a transposed layout.
pub async fn empirical_kernels<B: Backend>(b: &mut B, seed: u64) {
    let name = b.name();
    let mut rng = Rng::new(seed);
    let d = 3;
    let x1 = sphere_points(&mut rng, 23, d);
    let x2 = sphere_points(&mut rng, 11, d);
    for par in Parametrization::ALL {
        for act in [Activation::Relu, Activation::Tanh] {
            let spec = MlpSpec {
                input_dim: d,
                hidden: vec![33, 17],
                activation: act,
                parametrization: par,
                sigma_w: 1.3,
                sigma_b: 0.4,
                init_scale: 1.2,
                outputs: 1,
            };
            let net = Mlp::new(b, spec.clone(), &mut Rng::new(seed + 1)).expect("valid spec");
            let mut cpu = Cpu::new();
            let oracle_net = Mlp::new(&mut cpu, spec, &mut Rng::new(seed + 1)).expect("spec");
            let s1 = per_sample(&oracle_net, &x1);
            let s2 = per_sample(&oracle_net, &x2);
            let out = oracle_net.layers.len() - 1;
            let readout = oracle_net.layers[out];
            let want = |sa: &[Sample], sb: &[Sample]| {
                let ntk = DMatrix::from_fn(sa.len(), sb.len(), |i, j| {
                    let mut t = 0.0;
                    for (l, sh) in oracle_net.layers.iter().enumerate() {
                        let (wm, bm) = (sh.w_mult as f64, sh.b_mult as f64);
                        let gx = dot(&sa[i].inputs[l], &sb[j].inputs[l]);
                        let gd = dot(&sa[i].deltas[l], &sb[j].deltas[l]);
                        t += gd * (wm * wm * gx + bm * bm);
                    }
                    t
                });
                let nngp = DMatrix::from_fn(sa.len(), sb.len(), |i, j| {
                    let (wm, bm) = (readout.w_mult as f64, readout.b_mult as f64);
                    let gx = dot(&sa[i].inputs[out], &sb[j].inputs[out]);
                    readout.w_std.powi(2) * wm * wm * gx + readout.b_std.powi(2) * bm * bm
                });
                (ntk, nngp)
            };
            for (label, got, (ntk, nngp)) in [
                (
                    "x1·x1",
                    empirical_kernels_async(b, &net, &x1, None).await,
                    want(&s1, &s1),
                ),
                (
                    "x1·x2",
                    empirical_kernels_async(b, &net, &x1, Some(&x2)).await,
                    want(&s1, &s2),
                ),
            ] {
                let got = got.unwrap_or_else(|e| panic!("{name} empirical kernels: {e}"));
                assert_eq!(got.ntk.shape(), ntk.shape(), "{name} {label}: shape");
                for (what, g, w) in [("ntk", &got.ntk, &ntk), ("nngp", &got.nngp, &nngp)] {
                    let err = (g - w).amax() / w.amax();
                    assert!(
                        err < 2e-6,
                        "{name} empirical {what} {par:?} {act:?} {label}: error {err:e} of the largest entry"
                    );
                }
            }
        }
    }
}

/// Σ^l (l = 1..=depth) between the rows of x1 (n1 × d) and x2 (n2 × d) in f64 (n1 × n2), and
/// the diagonals of each set with itself: the NNGP of
/// the NTK-parametrisation network with l − 1 hidden layers (the same in every
/// parametrisation).
fn layer_nngps(
    spec: &KernelSpec,
    x1: &[f64],
    x2: &[f64],
    d: usize,
) -> Vec<(DMatrix<f64>, Vec<f64>, Vec<f64>)> {
    (1..=spec.depth)
        .map(|l| {
            let sp = KernelSpec {
                depth: l - 1,
                parametrization: Parametrization::Ntk,
                widths: Vec::new(),
                ..spec.clone()
            };
            let (cross, _) = nngp_ntk(&sp, x1, Some(x2), d).expect("valid");
            let (k1, _) = nngp_ntk(&sp, x1, None, d).expect("valid");
            let (k2, _) = nngp_ntk(&sp, x2, None, d).expect("valid");
            (
                cross,
                k1.diagonal().iter().copied().collect(),
                k2.diagonal().iter().copied().collect(),
            )
        })
        .collect()
}

/// `nngp_ntk_on` against the f64 `nngp_ntk` for ReLU, erf and linear, depths 1–3, every
/// parametrisation, symmetric and cross, on sphere points with exact duplicates (which must
/// come out exactly: the host gives them the f64 diagonal values, as `nngp_ntk` does) and near
/// duplicates (x + 3e-4·noise, correlation ≈ 1 − 1e-8, where ReLU's NTK is ill-conditioned in
/// f32). Tolerances, relative to √(K(x,x)K(x',x')): [`ops::RECURSION_RTOL`] (the f32
/// recursion) plus, for the ReLU NTK, [`ops::relu_rho_slack`] of the pair's f64 layer
/// correlations; the f32 first-layer Gram x·x'/d adds d roundings of ‖x‖‖x'‖/d (≈ 3e-7 here),
/// within that budget.
pub async fn analytic_kernels<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let name = b.name();
    let mut rng = Rng::new(seed);
    let d = 5;
    let (n1, n2) = if big { (150, 97) } else { (29, 13) };
    let mut x1 = sphere_points(&mut rng, n1, d);
    // Rows 1 and 2 repeat row 0; rows 3 and 4 are near duplicates of row 5.
    let row0 = x1[..d].to_vec();
    x1[d..2 * d].copy_from_slice(&row0);
    x1[2 * d..3 * d].copy_from_slice(&row0);
    for r in 3..5 {
        for k in 0..d {
            x1[r * d + k] = x1[5 * d + k] + 3e-4 * rng.normal() as f32;
        }
    }
    let mut x2 = sphere_points(&mut rng, n2, d);
    // x2 shares a row with x1 and has a near duplicate of another.
    x2[..d].copy_from_slice(&row0);
    for k in 0..d {
        x2[d + k] = x1[7 * d + k] + 3e-4 * rng.normal() as f32;
    }
    let wide = |x: &[f32]| x.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    let (x1_64, x2_64) = (wide(&x1), wide(&x2));
    for act in [Activation::Relu, Activation::Erf, Activation::Linear] {
        // depth 2 natively only: the browser run stays short on SwiftShader.
        let depths: &[usize] = if big { &[1, 2, 3] } else { &[1, 3] };
        for &depth in depths {
            for par in Parametrization::ALL {
                let spec = KernelSpec {
                    depth,
                    activation: act,
                    sigma_w: 1.3,
                    sigma_b: 0.4,
                    init_scale: 1.1,
                    parametrization: par,
                    widths: (0..depth).map(|l| 64 >> l).collect(),
                };
                for cross in [false, true] {
                    let xb64 = if cross { &x2_64 } else { &x1_64 };
                    let (want_nngp, want_ntk) =
                        nngp_ntk(&spec, &x1_64, cross.then_some(&x2_64[..]), d).expect("valid");
                    let (diag1_nngp, diag1_ntk) = nngp_ntk(&spec, &x1_64, None, d).expect("valid");
                    let (diag2_nngp, diag2_ntk) = nngp_ntk(&spec, xb64, None, d).expect("valid");
                    let layers = layer_nngps(&spec, &x1_64, xb64, d);
                    // The whole matrix in one block, and (depth 3, NTK parametrisation) in
                    // blocks of one column (a one-row gemm) and of a few columns, the last
                    // one short.
                    let blocks: &[usize] = if depth == 3 && par == Parametrization::Ntk {
                        &[DEVICE_BLOCK_ENTRIES, 1, 3 * n1 + 1]
                    } else {
                        &[DEVICE_BLOCK_ENTRIES]
                    };
                    for &block in blocks {
                        let got =
                            nngp_ntk_on_blocks(b, &spec, &x1, cross.then_some(&x2[..]), d, block)
                                .await
                                .unwrap_or_else(|e| panic!("{name} nngp_ntk_on: {e}"));
                        let what = format!(
                            "{name} nngp_ntk_on {act:?} depth {depth} {par:?} cross={cross} block={block}"
                        );
                        assert_eq!(got.0.shape(), want_nngp.shape(), "{what}: shape");
                        for i in 0..want_nngp.nrows() {
                            for j in 0..want_nngp.ncols() {
                                let identical =
                                    x1_64[i * d..(i + 1) * d] == xb64[j * d..(j + 1) * d];
                                let rhos: Vec<f64> = layers
                                    .iter()
                                    .map(|(c, a, bb)| {
                                        (c[(i, j)] / (a[i] * bb[j]).sqrt()).clamp(-1.0, 1.0)
                                    })
                                    .collect();
                                let slack = if act == Activation::Relu {
                                    ops::relu_rho_slack(&rhos)
                                } else {
                                    0.0
                                };
                                for (kind, g, w, scale, extra) in [
                                    (
                                        "nngp",
                                        &got.0,
                                        &want_nngp,
                                        (diag1_nngp[(i, i)] * diag2_nngp[(j, j)]).sqrt(),
                                        0.0,
                                    ),
                                    (
                                        "ntk",
                                        &got.1,
                                        &want_ntk,
                                        (diag1_ntk[(i, i)] * diag2_ntk[(j, j)]).sqrt(),
                                        slack,
                                    ),
                                ] {
                                    // Identical inputs: the f64 diagonal value itself.
                                    let rtol = if identical {
                                        1e-15
                                    } else {
                                        ops::RECURSION_RTOL + extra
                                    };
                                    let err = (g[(i, j)] - w[(i, j)]).abs();
                                    assert!(
                                        err <= rtol * scale,
                                        "{what} {kind} ({i}, {j}){}: {} but should be {} (error {err:e}, tolerance {:e})",
                                        if identical { " (identical inputs)" } else { "" },
                                        g[(i, j)],
                                        w[(i, j)],
                                        rtol * scale
                                    );
                                }
                            }
                        }
                        if !cross {
                            assert_eq!(got.0, got.0.transpose(), "{what}: the NNGP is symmetric");
                            assert_eq!(got.1, got.1.transpose(), "{what}: the NTK is symmetric");
                        }
                    }
                }
            }
        }
    }
    // tanh has no closed form on the device: an error, not a wrong matrix.
    let tanh = KernelSpec::ntk(2, Activation::Tanh, 1.3, 0.4);
    assert!(
        nngp_ntk_on(b, &tanh, &x1, None, d).await.is_err(),
        "{name}: tanh is refused"
    );
}

/// `relu_feature_grams_on` against the f64 Gram of f64 features from the same f32 inputs and
/// weights, at prefixes that fall inside, on and between feature blocks (block 50: several
/// blocks per prefix; and the default block), including p = 0 (a zero Gram) and p = n.
/// Tolerance per entry: the backend GEMM's bound [`ops::GEMM_RTOL`]·Σ_p |φ_ip φ_jp| for the
/// f32 product of length p, plus the features' own f32 rounding, |Δφ_ip| ≤ d·2⁻²⁴·s_ip with
/// s_ip = Σ_k |x_ik w_kp| (a dot of length d), through the product: 2⁻²⁴·d·Σ_p (s_ip|φ_jp| +
/// |φ_ip| s_jp). One feature of p missing or doubled changes an entry by ~1/p ≫ that.
pub async fn random_feature_grams<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let name = b.name();
    let mut rng = Rng::new(seed);
    let (n, d, p_max) = if big { (67, 13, 700) } else { (19, 7, 130) };
    let x = sphere_points(&mut rng, n, d);
    let mut weights = vec![0.0f32; d * p_max];
    rng.fill_normal_f32(&mut weights, 1.0 / (d as f64).sqrt());
    let prefixes: Vec<usize> = if big {
        vec![0, 1, 49, 50, 67, 200, 333, 700]
    } else {
        vec![0, 1, 19, 50, 77, 130]
    };
    // f64 features and their magnitudes s_ip.
    let mut phi = vec![0.0f64; n * p_max];
    let mut mag = vec![0.0f64; n * p_max];
    for i in 0..n {
        for p in 0..p_max {
            let (mut z, mut s) = (0.0f64, 0.0f64);
            for k in 0..d {
                let t = x[i * d + k] as f64 * weights[k * p_max + p] as f64;
                z += t;
                s += t.abs();
            }
            phi[i * p_max + p] = z.max(0.0);
            mag[i * p_max + p] = s;
        }
    }
    let feat_rtol = d as f64 * f32::EPSILON as f64 / 2.0;
    for block in [50, 0] {
        let grams = relu_feature_grams_on(b, &x, d, &weights, p_max, &prefixes, block)
            .await
            .unwrap_or_else(|e| panic!("{name} relu_feature_grams_on: {e}"));
        assert_eq!(grams.len(), prefixes.len(), "{name}: one Gram per prefix");
        for (gram, &p) in grams.iter().zip(&prefixes) {
            assert_eq!(gram.len(), n * n, "{name}: n × n");
            for i in 0..n {
                for j in 0..n {
                    let (mut want, mut abs, mut feat) = (0.0f64, 0.0f64, 0.0f64);
                    for q in 0..p {
                        let (a, c) = (phi[i * p_max + q], phi[j * p_max + q]);
                        want += a * c;
                        abs += (a * c).abs();
                        feat += mag[i * p_max + q] * c + a * mag[j * p_max + q];
                    }
                    let tol = ops::GEMM_RTOL * abs + feat_rtol * feat;
                    let got = gram[i * n + j] as f64;
                    assert!(
                        (got - want).abs() <= tol,
                        "{name} random-feature Gram p={p} block={block} ({i}, {j}): {got} but \
                         should be {want} (tolerance {tol:e})"
                    );
                }
            }
        }
    }
    // Prefixes out of order or past p_max are errors.
    assert!(
        relu_feature_grams_on(b, &x, d, &weights, p_max, &[5, 3], 0)
            .await
            .is_err()
    );
    assert!(
        relu_feature_grams_on(b, &x, d, &weights, p_max, &[p_max + 1], 0)
            .await
            .is_err()
    );
}
