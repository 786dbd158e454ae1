//! One test body per [`Backend`] operation, generic over the backend: `tests/gpu_backend.rs`
//! runs each on the CPU and on the GPU natively (Vulkan, lavapipe in CI), `tests/web_gpu.rs`
//! on the browser's WebGPU (SwiftShader in headless Chromium). Every body checks the backend
//! against an f64 oracle of the operation's formula with the tolerance stated beside it, on
//! seeded random data over awkward shapes: 1, primes, non-multiples of the 64-wide GEMM tile
//! and the 256-wide element-wise workgroups, and a large one.
//!
//! Bodies are `async` only for the readback (`read_async`), which is the one that also works
//! on the web; natively they run under `pollster::block_on`.

#![allow(dead_code)]

use descent::backend::{Activation, Backend, Trans};
use descent::rng::Rng;

/// GEMM: |got − want| ≤ GEMM_RTOL · (|α| Σ_p |a_ip b_pj| + |β c_ij|): f32 accumulation in any
/// order (typical error √k · 2⁻²⁴ of that scale: 1.4e-6 at k = 513, 1.2e-5 at k = 40000).
pub const GEMM_RTOL: f64 = 5e-5;
/// Activations forward and backward: |got − want| ≤ ACT_TOL · (1 + |want|). The f32 erf
/// approximation (Abramowitz & Stegun 7.1.26) is within 2e-7 of erf; exp and tanh in f32
/// add a few ulps.
pub const ACT_TOL: f64 = 2e-6;
/// Column sums: |got − want| ≤ SUM_RTOL · (|α| Σ_i |a_ij| + |β out_j|), rows up to 40000.
pub const SUM_RTOL: f64 = 2e-5;
/// Element-wise updates (axpy, residual): one or two roundings, ≤ 1e-6 of the operands' size.
pub const EW_RTOL: f64 = 1e-6;
/// The loss Σ r² / 2n against the f64 sum of the f64 residuals: relative.
pub const LOSS_RTOL: f64 = 2e-5;

/// Sizes for the element-wise and reduction bodies. `big` adds one past 65535 workgroups of
/// 256 (the 2-D fold of the dispatch).
pub fn lengths(big: bool) -> Vec<usize> {
    let mut v = vec![1, 2, 7, 255, 256, 257, 1031, 65_537];
    if big {
        v.push(65_535 * 256 + 3);
    }
    v
}

fn random(rng: &mut Rng, len: usize, std: f64) -> Vec<f32> {
    let mut v = vec![0.0f32; len];
    rng.fill_normal_f32(&mut v, std);
    v
}

async fn fetch<B: Backend>(b: &mut B, buf: &B::Buf, len: usize) -> Vec<f32> {
    b.read_async(buf, len)
        .await
        .unwrap_or_else(|e| panic!("{}: readback failed: {e}", b.name()))
}

/// Asserts |got − want| ≤ tol_i for all i; names the worst element.
fn assert_close(what: &str, got: &[f32], want: &[f64], tol: impl Fn(usize) -> f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let (mut worst, mut bad, mut first) = (None::<(usize, f64)>, 0usize, None::<usize>);
    for i in 0..got.len() {
        let err = (got[i] as f64 - want[i]).abs();
        // NaN in got fails here too.
        if err.is_nan() || err > tol(i) {
            bad += 1;
            first.get_or_insert(i);
            if worst.is_none_or(|(_, w)| err > w || err.is_nan()) {
                worst = Some((i, err));
            }
        }
    }
    if let Some((i, err)) = worst {
        panic!(
            "{what}: {bad} of {} elements out of tolerance, the first at {first:?}; the worst: \
             element {i} is {} but should be {} (error {err:e}, tolerance {:e})",
            got.len(),
            got[i],
            want[i],
            tol(i)
        );
    }
}

/// GEMM shapes (m, n, k): ones, primes, tile edges (63, 64, 65), skinny (n = 1 as in the
/// output layer, k = 1), random ones, and a large one.
pub fn gemm_shapes(rng: &mut Rng, big: bool) -> Vec<(usize, usize, usize)> {
    let mut s = vec![
        (1, 1, 1),
        (1, 7, 3),
        (5, 1, 13),
        (13, 17, 1),
        (63, 65, 64),
        (64, 64, 16),
        (67, 31, 129),
        (97, 1, 53),
        (1, 71, 97),
    ];
    for _ in 0..4 {
        s.push((1 + rng.index(150), 1 + rng.index(150), 1 + rng.index(150)));
    }
    if big {
        // A large product, and a long inner dimension (the GPU splits it into three slices).
        s.push((300, 257, 513));
        s.push((5, 3, 40_000));
    }
    s
}

/// `gemm` for all four transposition variants and three (α, β) pairs, including β = 0 over a
/// C full of NaN (which must be overwritten, never read).
pub async fn gemm<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (m, n, k) in gemm_shapes(&mut rng, big) {
        for ta in [Trans::N, Trans::T] {
            for tb in [Trans::N, Trans::T] {
                for (alpha, beta) in [(1.0f32, 0.0f32), (-0.7, 1.0), (0.5, -1.3)] {
                    let a = random(&mut rng, m * k, 1.0);
                    let bm = random(&mut rng, k * n, 1.0);
                    let c0 = if beta == 0.0 {
                        vec![f32::NAN; m * n]
                    } else {
                        random(&mut rng, m * n, 1.0)
                    };
                    // op(A)[i,p] and op(B)[p,j] from their storage order.
                    let a_at = |i: usize, p: usize| match ta {
                        Trans::N => a[i * k + p],
                        Trans::T => a[p * m + i],
                    } as f64;
                    let b_at = |p: usize, j: usize| match tb {
                        Trans::N => bm[p * n + j],
                        Trans::T => bm[j * k + p],
                    } as f64;
                    let mut want = vec![0.0f64; m * n];
                    let mut scale = vec![0.0f64; m * n];
                    for i in 0..m {
                        for j in 0..n {
                            let (mut s, mut s_abs) = (0.0f64, 0.0f64);
                            for p in 0..k {
                                let t = a_at(i, p) * b_at(p, j);
                                s += t;
                                s_abs += t.abs();
                            }
                            let c_old = if beta == 0.0 {
                                0.0
                            } else {
                                c0[i * n + j] as f64
                            };
                            want[i * n + j] = alpha as f64 * s + beta as f64 * c_old;
                            scale[i * n + j] =
                                (alpha as f64).abs() * s_abs + (beta as f64 * c_old).abs();
                        }
                    }
                    let ab = b.upload(&a);
                    let bb = b.upload(&bm);
                    let mut cb = b.upload(&c0);
                    b.gemm(ta, tb, m, n, k, alpha, &ab, &bb, beta, &mut cb);
                    let got = fetch(b, &cb, m * n).await;
                    assert_close(
                        &format!(
                            "{name} gemm {ta:?}{tb:?} m={m} n={n} k={k} alpha={alpha} beta={beta}"
                        ),
                        &got,
                        &want,
                        |i| GEMM_RTOL * scale[i] + 1e-30,
                    );
                }
            }
        }
    }
}

/// Row × column shapes for the per-row and per-column operations.
pub fn matrix_shapes(big: bool) -> Vec<(usize, usize)> {
    let mut s = vec![
        (1, 1),
        (1, 17),
        (13, 1),
        (7, 16),
        (31, 33),
        (256, 3),
        (97, 257),
    ];
    if big {
        s.push((10_007, 1));
        s.push((4_099, 129));
        // More rows than one GPU dispatch sums (three slices).
        s.push((40_000, 3));
    }
    s
}

/// `bias_act` for every activation: z ← z + s·bias (per column), h = φ(z).
pub async fn bias_act<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (rows, cols) in matrix_shapes(big) {
        for act in Activation::ALL {
            let bias_scale = 0.8f32;
            // Spread wide enough to reach erf's and tanh's flat tails and both series branches.
            let z = random(&mut rng, rows * cols, 2.0);
            let bias = random(&mut rng, cols, 1.0);
            let mut z_want = vec![0.0f64; rows * cols];
            let mut h_want = vec![0.0f64; rows * cols];
            for i in 0..rows {
                for j in 0..cols {
                    // The sum is rounded to f32 on both sides before φ.
                    let v = z[i * cols + j] + bias_scale * bias[j];
                    z_want[i * cols + j] = v as f64;
                    h_want[i * cols + j] = act.apply_f64(v as f64);
                }
            }
            let mut zb = b.upload(&z);
            let bb = b.upload(&bias);
            let mut hb = b.upload(&vec![f32::NAN; rows * cols]);
            b.bias_act(rows, cols, &mut zb, &bb, bias_scale, act, &mut hb);
            let what = format!("{name} bias_act {act:?} {rows}×{cols}");
            let z_got = fetch(b, &zb, rows * cols).await;
            assert_close(&format!("{what} (z)"), &z_got, &z_want, |i| {
                EW_RTOL * (1.0 + z_want[i].abs())
            });
            let h_got = fetch(b, &hb, rows * cols).await;
            assert_close(&format!("{what} (h)"), &h_got, &h_want, |i| {
                // A rounding of z moves φ(z) by at most |φ'| · ulp(z).
                ACT_TOL * (1.0 + h_want[i].abs()) + 1.2e-7 * z_want[i].abs()
            });
        }
    }
}

/// `act_backward` for every activation: dz = dh · φ'(z).
pub async fn act_backward<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for len in lengths(big) {
        for act in Activation::ALL {
            let z = random(&mut rng, len, 2.0);
            let dh = random(&mut rng, len, 1.0);
            let want: Vec<f64> = (0..len)
                .map(|i| dh[i] as f64 * act.derivative_f64(z[i] as f64))
                .collect();
            let zb = b.upload(&z);
            let dhb = b.upload(&dh);
            let mut dzb = b.upload(&vec![f32::NAN; len]);
            b.act_backward(len, &zb, &dhb, act, &mut dzb);
            let got = fetch(b, &dzb, len).await;
            assert_close(
                &format!("{name} act_backward {act:?} len={len}"),
                &got,
                &want,
                |i| ACT_TOL * (1.0 + want[i].abs()),
            );
        }
    }
}

/// `col_sum` with β = 0 (over NaN), β = 1 and a general β.
pub async fn col_sum<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (rows, cols) in matrix_shapes(big) {
        for (alpha, beta) in [(1.0f32, 0.0f32), (-0.3, 1.0), (2.5, -0.5)] {
            let a = random(&mut rng, rows * cols, 1.0);
            let out0 = if beta == 0.0 {
                vec![f32::NAN; cols]
            } else {
                random(&mut rng, cols, 1.0)
            };
            let mut want = vec![0.0f64; cols];
            let mut scale = vec![0.0f64; cols];
            for j in 0..cols {
                let (mut s, mut s_abs) = (0.0f64, 0.0f64);
                for i in 0..rows {
                    s += a[i * cols + j] as f64;
                    s_abs += (a[i * cols + j] as f64).abs();
                }
                let old = if beta == 0.0 { 0.0 } else { out0[j] as f64 };
                want[j] = alpha as f64 * s + beta as f64 * old;
                scale[j] = (alpha as f64).abs() * s_abs + (beta as f64 * old).abs();
            }
            let ab = b.upload(&a);
            let mut ob = b.upload(&out0);
            b.col_sum(rows, cols, alpha, &ab, beta, &mut ob);
            let got = fetch(b, &ob, cols).await;
            assert_close(
                &format!("{name} col_sum {rows}×{cols} alpha={alpha} beta={beta}"),
                &got,
                &want,
                |j| SUM_RTOL * scale[j] + 1e-30,
            );
        }
    }
}

/// `momentum_step`: v = βv + g + wd·θ, θ −= η v over the first `len` elements, against the
/// same update in f64 from the same f32 inputs. Each output is two or three f32 roundings of
/// the operands, so both are held to EW_RTOL of the sum of the magnitudes entering them (θ's
/// bound adds η times v's). The element past `len` must stay as it is in both buffers; one
/// case with β = wd = 0 checks the plain step θ −= η g.
pub async fn momentum_step<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (case, len) in lengths(big).into_iter().enumerate() {
        let (lr, beta, wd) = if case == 0 {
            (0.3f32, 0.0f32, 0.0f32)
        } else {
            (0.37f32, 0.9f32, 1e-2f32)
        };
        let g = random(&mut rng, len, 1.0);
        let v = random(&mut rng, len + 1, 1.0);
        let theta = random(&mut rng, len + 1, 1.0);
        let (lr64, beta64, wd64) = (lr as f64, beta as f64, wd as f64);
        let mut want_v = Vec::with_capacity(len + 1);
        let mut want_t = Vec::with_capacity(len + 1);
        let mut size_v = Vec::with_capacity(len + 1);
        for i in 0..len {
            let (vi, gi, ti) = (v[i] as f64, g[i] as f64, theta[i] as f64);
            let nv = beta64 * vi + gi + wd64 * ti;
            want_v.push(nv);
            want_t.push(ti - lr64 * nv);
            size_v.push((beta64 * vi).abs() + gi.abs() + (wd64 * ti).abs());
        }
        want_v.push(v[len] as f64);
        want_t.push(theta[len] as f64);
        size_v.push(0.0);
        let gb = b.upload(&g);
        let mut vb = b.upload(&v);
        let mut tb = b.upload(&theta);
        b.momentum_step(len, lr, beta, wd, &gb, &mut vb, &mut tb);
        let got_v = fetch(b, &vb, len + 1).await;
        let got_t = fetch(b, &tb, len + 1).await;
        let what = format!("{name} momentum_step len={len} β={beta} wd={wd}");
        assert_close(&format!("{what}: v"), &got_v, &want_v, |i| {
            EW_RTOL * size_v[i] + 1e-30
        });
        assert_close(&format!("{what}: θ"), &got_t, &want_t, |i| {
            EW_RTOL * ((theta[i] as f64).abs() + 2.0 * lr64 * size_v[i]) + 1e-30
        });
    }
}

/// `axpy`: y += α x, touching only the first `len` elements.
pub async fn axpy<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for len in lengths(big) {
        let alpha = -1.7f32;
        let x = random(&mut rng, len, 1.0);
        // One element past len that must stay as it is.
        let y = random(&mut rng, len + 1, 1.0);
        let mut want: Vec<f64> = (0..len)
            .map(|i| y[i] as f64 + alpha as f64 * x[i] as f64)
            .collect();
        want.push(y[len] as f64);
        let xb = b.upload(&x);
        let mut yb = b.upload(&y);
        b.axpy(len, alpha, &xb, &mut yb);
        let got = fetch(b, &yb, len + 1).await;
        assert_close(&format!("{name} axpy len={len}"), &got, &want, |i| {
            let xi = if i < len { x[i] as f64 } else { 0.0 };
            EW_RTOL * ((y[i] as f64).abs() + (alpha as f64 * xi).abs()) + 1e-30
        });
    }
}

/// Output counts K beside the scalar output: (rows, K) shapes of the losses on many outputs.
pub fn multi_output_shapes() -> Vec<(usize, usize)> {
    vec![(1, 5), (7, 2), (257, 10), (1031, 5), (300, 2), (3, 1024)]
}

/// `residual_loss` with and without f0, into a middle slot of a 3-slot loss buffer (the
/// other slots must keep their values), on scalar outputs (`lengths`) and then on rows of K
/// outputs, whose loss is averaged over rows: Σ r² / (2·rows).
pub async fn residual_loss<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    let shapes = lengths(big)
        .into_iter()
        .map(|len| (len, 1))
        .chain(multi_output_shapes());
    for (rows, cols) in shapes {
        let len = rows * cols;
        for centred in [false, true] {
            let scale = 1.3f32;
            let f = random(&mut rng, len, 1.0);
            let f0 = random(&mut rng, len, 0.5);
            let y = random(&mut rng, len, 1.0);
            let mut r_want = vec![0.0f64; len];
            let mut r_scale = vec![0.0f64; len];
            let mut sq = 0.0f64;
            for i in 0..len {
                let fi = if centred {
                    f[i] as f64 - f0[i] as f64
                } else {
                    f[i] as f64
                };
                r_want[i] = scale as f64 * fi - y[i] as f64;
                r_scale[i] = (scale as f64 * f[i] as f64).abs()
                    + if centred {
                        (scale as f64 * f0[i] as f64).abs()
                    } else {
                        0.0
                    }
                    + (y[i] as f64).abs();
                sq += r_want[i] * r_want[i];
            }
            let loss_want = [7.0, sq / (2.0 * rows as f64), -3.0];
            let fb = b.upload(&f);
            let f0b = b.upload(&f0);
            let yb = b.upload(&y);
            let mut rb = b.upload(&vec![f32::NAN; len]);
            let mut lb = b.upload(&[7.0, f32::NAN, -3.0]);
            b.residual_loss(
                rows,
                cols,
                &fb,
                centred.then_some(&f0b),
                scale,
                &yb,
                &mut rb,
                &mut lb,
                1,
            );
            let what = if cols == 1 {
                format!("{name} residual_loss len={len} centred={centred}")
            } else {
                format!("{name} residual_loss {rows} × {cols} centred={centred}")
            };
            let r_got = fetch(b, &rb, len).await;
            assert_close(&format!("{what} (r)"), &r_got, &r_want, |i| {
                EW_RTOL * r_scale[i] + 1e-30
            });
            let l_got = fetch(b, &lb, 3).await;
            assert_close(&format!("{what} (loss)"), &l_got, &loss_want, |i| {
                LOSS_RTOL * loss_want[i].abs()
            });
        }
    }
}

/// `upload`, `zeros`, `write` (also while operations that read the old contents are still
/// queued), `copy` and `read_async` of a prefix.
pub async fn buffers<B: Backend>(b: &mut B, seed: u64) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for len in [1usize, 5, 257, 4099] {
        let data = random(&mut rng, len, 1.0);
        let ub = b.upload(&data);
        assert_eq!(fetch(b, &ub, len).await, data, "{name} upload len={len}");
        let zb = b.zeros(len);
        assert_eq!(fetch(b, &zb, len).await, vec![0.0; len], "{name} zeros");
        let mut dst = b.zeros(len);
        b.copy(&ub, &mut dst, len.div_ceil(2));
        let mut want = data.clone();
        want[len.div_ceil(2)..].fill(0.0);
        assert_eq!(fetch(b, &dst, len).await, want, "{name} copy len={len}");
        // y = x + x, then x is overwritten, then y += x: the write must land between.
        let mut x = b.upload(&data);
        let mut y = b.zeros(len);
        b.axpy(len, 1.0, &x, &mut y);
        b.axpy(len, 1.0, &ub, &mut y);
        let ones = vec![1.0f32; len];
        b.write(&mut x, &ones);
        b.axpy(len, 1.0, &x, &mut y);
        let want: Vec<f32> = data.iter().map(|v| (v + v) + 1.0).collect();
        assert_eq!(
            fetch(b, &y, len).await,
            want,
            "{name} write ordering len={len}"
        );
        let prefix = len.div_ceil(3);
        assert_eq!(
            fetch(b, &ub, prefix).await,
            data[..prefix].to_vec(),
            "{name} read prefix"
        );
    }
}

/// How a batched body lays out one operand of `batch` networks: each network's block of
/// `size` elements at `net · stride` (stride 0: one block shared by all), and the gaps of a
/// stride past the size filled with a sentinel that must come back untouched.
fn batched_operand(rng: &mut Rng, batch: usize, size: usize, stride: usize, gap: f32) -> Vec<f32> {
    let mut v = vec![gap; (batch.max(1) - 1) * stride + size];
    for net in 0..if stride == 0 { 1 } else { batch } {
        rng.fill_normal_f32(&mut v[net * stride..net * stride + size], 1.0);
    }
    v
}

/// Batched shapes (batch, m, n, k): one network, primes, tile edges (63, 64, 65), skinny
/// products (n = 1, m = 1, k = 1), and with `big` a large product, a long inner dimension
/// (three GPU slices) and more networks than one dispatch has workgroups along z.
pub fn gemm_batched_shapes(big: bool) -> Vec<(usize, usize, usize, usize)> {
    let mut s = vec![
        (1, 1, 1, 1),
        (2, 1, 7, 3),
        (3, 63, 65, 64),
        (5, 64, 1, 17),
        (7, 13, 17, 1),
        (13, 65, 63, 31),
        (11, 1, 64, 65),
    ];
    if big {
        s.push((3, 300, 257, 513));
        s.push((2, 5, 3, 40_000));
        s.push((65_537, 1, 2, 3));
    }
    s
}

/// `gemm_batched` for all four transpositions, with no operand, A or B shared (stride 0),
/// packed and padded strides, with and without per-network scales. With scales, one network's
/// scale is 0 and its own operand is NaN: its C must be β·C, and no NaN may reach another.
/// Each network is checked against the f64 product with [`GEMM_RTOL`], the gaps of padded
/// strides exactly.
pub async fn gemm_batched<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    let pairs = [(1.0f32, 0.0f32), (-0.7, 1.0), (0.5, -1.3)];
    for (batch, m, n, k) in gemm_batched_shapes(big) {
        let mut combos = Vec::new();
        for ta in [Trans::N, Trans::T] {
            for tb in [Trans::N, Trans::T] {
                for shared in 0..3 {
                    combos.push((ta, tb, shared));
                }
            }
        }
        if batch > 1000 {
            // Many networks (slow on a software GPU): one variant, with scales, is enough to
            // cross the dispatch split.
            combos.truncate(1);
        }
        // Large products (slow on a software GPU): each transposition once.
        let heavy = m * n * k > 10_000_000 || k > 10_000;
        for (combo, &(ta, tb, shared)) in combos.iter().enumerate() {
            if heavy && ![0, 4, 8, 11].contains(&combo) {
                continue;
            }
            let (alpha, beta) = pairs[combo % 3];
            let with_scales = combo % 2 == 1 || batch > 1000;
            let pad = if combo % 4 == 3 { 5 } else { 0 };
            let stride_a = if shared == 1 { 0 } else { m * k + pad };
            let stride_b = if shared == 2 { 0 } else { k * n + pad };
            let stride_c = m * n + pad;
            let mut a = batched_operand(&mut rng, batch, m * k, stride_a, 0.0);
            let mut bm = batched_operand(&mut rng, batch, k * n, stride_b, 0.0);
            let mut c0 = batched_operand(&mut rng, batch, m * n, stride_c, 9.0);
            if beta == 0.0 {
                for net in 0..batch {
                    c0[net * stride_c..net * stride_c + m * n].fill(f32::NAN);
                }
            }
            let mut scales: Vec<f32> = (0..batch).map(|i| 0.5 + (i % 5) as f32 * 0.3).collect();
            let frozen = batch / 2;
            if with_scales && batch > 1 {
                scales[frozen] = 0.0;
                if stride_a > 0 {
                    a[frozen * stride_a..frozen * stride_a + m * k].fill(f32::NAN);
                } else {
                    bm[frozen * stride_b..frozen * stride_b + k * n].fill(f32::NAN);
                }
            }
            let mut want: Vec<f64> = c0.iter().map(|&v| v as f64).collect();
            let mut tol = vec![0.0f64; c0.len()];
            for net in 0..batch {
                let s_b = if with_scales { scales[net] as f64 } else { 1.0 };
                let (a0, b0, cb) = (net * stride_a, net * stride_b, net * stride_c);
                let a_at = |i: usize, p: usize| match ta {
                    Trans::N => a[a0 + i * k + p],
                    Trans::T => a[a0 + p * m + i],
                } as f64;
                let b_at = |p: usize, j: usize| match tb {
                    Trans::N => bm[b0 + p * n + j],
                    Trans::T => bm[b0 + j * k + p],
                } as f64;
                for i in 0..m {
                    for j in 0..n {
                        let (mut s, mut s_abs) = (0.0f64, 0.0f64);
                        if alpha as f64 * s_b != 0.0 {
                            for p in 0..k {
                                let t = a_at(i, p) * b_at(p, j);
                                s += t;
                                s_abs += t.abs();
                            }
                        }
                        let idx = cb + i * n + j;
                        let c_old = if beta == 0.0 { 0.0 } else { c0[idx] as f64 };
                        let scale = alpha as f64 * s_b;
                        want[idx] = scale * s + beta as f64 * c_old;
                        tol[idx] =
                            GEMM_RTOL * (scale.abs() * s_abs + (beta as f64 * c_old).abs()) + 1e-30;
                    }
                }
            }
            let ab = b.upload(&a);
            let bb = b.upload(&bm);
            let sb = b.upload(&scales);
            let mut cbuf = b.upload(&c0);
            b.gemm_batched(
                ta,
                tb,
                m,
                n,
                k,
                batch,
                alpha,
                with_scales.then_some(&sb),
                &ab,
                stride_a,
                &bb,
                stride_b,
                beta,
                &mut cbuf,
                stride_c,
            );
            let got = fetch(b, &cbuf, c0.len()).await;
            assert_close(
                &format!(
                    "{name} gemm_batched {ta:?}{tb:?} batch={batch} m={m} n={n} k={k} \
                     strides=({stride_a}, {stride_b}, {stride_c}) scales={with_scales} \
                     alpha={alpha} beta={beta}"
                ),
                &got,
                &want,
                |i| tol[i],
            );
        }
    }
}

/// Batched (batch, rows, cols) shapes of the per-row and per-column operations; with `big`,
/// more rows than one GPU dispatch sums and more networks than one dispatch has workgroups.
pub fn batched_matrix_shapes(big: bool) -> Vec<(usize, usize, usize)> {
    let mut s = vec![
        (1, 1, 1),
        (2, 1, 17),
        (3, 13, 1),
        (7, 7, 16),
        (5, 31, 33),
        (13, 3, 64),
        (2, 64, 65),
        (11, 63, 1),
    ];
    if big {
        s.push((3, 4_099, 129));
        s.push((2, 40_000, 3));
        s.push((65_537, 1, 2));
    }
    s
}

/// `bias_act_batched` for every activation: z_b ← z_b + s·bias_b (per column), h = φ(z).
pub async fn bias_act_batched<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (batch, rows, cols) in batched_matrix_shapes(big) {
        for act in Activation::ALL {
            let bias_scale = 0.8f32;
            let size = rows * cols;
            let z = random(&mut rng, batch * size, 2.0);
            let bias = random(&mut rng, batch * cols, 1.0);
            let mut z_want = vec![0.0f64; batch * size];
            let mut h_want = vec![0.0f64; batch * size];
            for net in 0..batch {
                for i in 0..rows {
                    for j in 0..cols {
                        let idx = net * size + i * cols + j;
                        // The sum is rounded to f32 on both sides before φ.
                        let v = z[idx] + bias_scale * bias[net * cols + j];
                        z_want[idx] = v as f64;
                        h_want[idx] = act.apply_f64(v as f64);
                    }
                }
            }
            let mut zb = b.upload(&z);
            let bb = b.upload(&bias);
            let mut hb = b.upload(&vec![f32::NAN; batch * size]);
            b.bias_act_batched(batch, rows, cols, &mut zb, &bb, bias_scale, act, &mut hb);
            let what = format!("{name} bias_act_batched {act:?} {batch} × {rows}×{cols}");
            let z_got = fetch(b, &zb, batch * size).await;
            assert_close(&format!("{what} (z)"), &z_got, &z_want, |i| {
                EW_RTOL * (1.0 + z_want[i].abs())
            });
            let h_got = fetch(b, &hb, batch * size).await;
            assert_close(&format!("{what} (h)"), &h_got, &h_want, |i| {
                // As in `bias_act`: a rounding of z moves φ(z) by at most |φ'| · ulp(z).
                ACT_TOL * (1.0 + h_want[i].abs()) + 1.2e-7 * z_want[i].abs()
            });
        }
    }
}

/// `col_sum_batched` with β = 0 (over NaN), β = 1 and a general β, with and without
/// per-network scales (one of them 0 over a NaN matrix, which must not be read).
pub async fn col_sum_batched<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (batch, rows, cols) in batched_matrix_shapes(big) {
        for (case, (alpha, beta)) in [(1.0f32, 0.0f32), (-0.3, 1.0), (2.5, -0.5)]
            .into_iter()
            .enumerate()
        {
            let with_scales = case != 1;
            let size = rows * cols;
            let mut a = random(&mut rng, batch * size, 1.0);
            let out0 = if beta == 0.0 {
                vec![f32::NAN; batch * cols]
            } else {
                random(&mut rng, batch * cols, 1.0)
            };
            let mut scales: Vec<f32> = (0..batch).map(|i| 1.5 - (i % 7) as f32 * 0.4).collect();
            let frozen = batch / 2;
            if with_scales {
                scales[frozen] = 0.0;
                a[frozen * size..(frozen + 1) * size].fill(f32::NAN);
            }
            let mut want = vec![0.0f64; batch * cols];
            let mut tol = vec![0.0f64; batch * cols];
            for net in 0..batch {
                let s_b = if with_scales { scales[net] as f64 } else { 1.0 };
                let scale = alpha as f64 * s_b;
                for j in 0..cols {
                    let (mut s, mut s_abs) = (0.0f64, 0.0f64);
                    if scale != 0.0 {
                        for i in 0..rows {
                            let v = a[net * size + i * cols + j] as f64;
                            s += v;
                            s_abs += v.abs();
                        }
                    }
                    let idx = net * cols + j;
                    let old = if beta == 0.0 { 0.0 } else { out0[idx] as f64 };
                    want[idx] = scale * s + beta as f64 * old;
                    tol[idx] = SUM_RTOL * (scale.abs() * s_abs + (beta as f64 * old).abs()) + 1e-30;
                }
            }
            let ab = b.upload(&a);
            let sb = b.upload(&scales);
            let mut ob = b.upload(&out0);
            b.col_sum_batched(
                batch,
                rows,
                cols,
                alpha,
                with_scales.then_some(&sb),
                &ab,
                beta,
                &mut ob,
            );
            let got = fetch(b, &ob, batch * cols).await;
            assert_close(
                &format!(
                    "{name} col_sum_batched {batch} × {rows}×{cols} scales={with_scales} \
                     alpha={alpha} beta={beta}"
                ),
                &got,
                &want,
                |i| tol[i],
            );
        }
    }
}

/// Batched (batch, len) shapes of `residual_loss_batched`; with `big`, more outputs than one
/// GPU dispatch sums and more networks than one dispatch has workgroups.
pub fn batched_lengths(big: bool) -> Vec<(usize, usize)> {
    let mut v = vec![
        (1, 1),
        (2, 7),
        (3, 255),
        (7, 256),
        (13, 257),
        (5, 1031),
        (64, 63),
        (65, 65),
    ];
    if big {
        v.push((2, 256 * 1024 * 2 + 3));
        v.push((65_537, 2));
    }
    v
}

/// `residual_loss_batched`: per-network residuals against shared targets, with and without
/// each network's θ₀ outputs f0 (centred runs), and the losses into the middle row of a
/// 3 × batch loss buffer (the other rows must keep their values).
pub async fn residual_loss_batched<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    let shapes = batched_lengths(big)
        .into_iter()
        .map(|(batch, len)| (batch, len, 1))
        .chain(batched_multi_output_shapes());
    for (batch, rows, cols) in shapes {
        let len = rows * cols;
        for centred in [false, true] {
            let scale = 1.3f32;
            let f = random(&mut rng, batch * len, 1.0);
            let f0 = random(&mut rng, if centred { batch * len } else { 0 }, 1.0);
            let y = random(&mut rng, len, 1.0);
            let mut r_want = vec![0.0f64; batch * len];
            let mut r_tol = vec![0.0f64; batch * len];
            let mut loss0 = vec![7.0f32; 3 * batch];
            loss0[batch..2 * batch].fill(f32::NAN);
            loss0[2 * batch..].fill(-3.0);
            let mut loss_want: Vec<f64> = loss0.iter().map(|&v| v as f64).collect();
            for net in 0..batch {
                let mut sq = 0.0f64;
                for i in 0..len {
                    let idx = net * len + i;
                    let f0i = if centred { f0[idx] as f64 } else { 0.0 };
                    let g = f[idx] as f64 - f0i;
                    r_want[idx] = scale as f64 * g - y[i] as f64;
                    // One more rounding (f − f0) when centred, of the size of |f| + |f0|.
                    r_tol[idx] = EW_RTOL
                        * (scale as f64 * (f[idx] as f64).abs().max(g.abs() + f0i.abs())
                            + (y[i] as f64).abs())
                        + 1e-30;
                    sq += r_want[idx] * r_want[idx];
                }
                loss_want[batch + net] = sq / (2.0 * rows as f64);
            }
            let fb = b.upload(&f);
            let f0b = centred.then(|| b.upload(&f0));
            let yb = b.upload(&y);
            let mut rb = b.upload(&vec![f32::NAN; batch * len]);
            let mut lb = b.upload(&loss0);
            b.residual_loss_batched(
                batch,
                rows,
                cols,
                &fb,
                f0b.as_ref(),
                scale,
                &yb,
                &mut rb,
                &mut lb,
                1,
            );
            let what = format!(
                "{name} residual_loss_batched {batch} × {rows} × {cols} (centred: {centred})"
            );
            let r_got = fetch(b, &rb, batch * len).await;
            assert_close(&format!("{what} (r)"), &r_got, &r_want, |i| r_tol[i]);
            let l_got = fetch(b, &lb, 3 * batch).await;
            assert_close(&format!("{what} (loss)"), &l_got, &loss_want, |i| {
                LOSS_RTOL * loss_want[i].abs()
            });
        }
    }
}

/// `ntk_accumulate`: out[offset + i] = β·out[offset + i] + g_d[i]·(w·g_x[i] + b), without g_d
/// (the output layer) over NaN with β = 0, and with g_d, β = 1 (the hidden layers) or a general
/// β, at an offset; the elements around the range must come back untouched. Three or four
/// roundings of operands of the sizes in `scale`: EW_RTOL.
pub async fn ntk_accumulate<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for len in lengths(big) {
        for (with_gd, beta, offset) in [(false, 0.0f32, 0usize), (true, 1.0, 3), (true, -0.6, 1)] {
            let (w, bias) = (1.7f32, -0.45f32);
            let gd = random(&mut rng, len, 1.0);
            let gx = random(&mut rng, len, 1.0);
            let total = offset + len + 2;
            let mut out0 = random(&mut rng, total, 1.0);
            if beta == 0.0 {
                out0[offset..offset + len].fill(f32::NAN);
            }
            let mut want: Vec<f64> = out0.iter().map(|&v| v as f64).collect();
            let mut scale = vec![0.0f64; total];
            for i in 0..len {
                let g = if with_gd { gd[i] as f64 } else { 1.0 };
                let inner = w as f64 * gx[i] as f64 + bias as f64;
                let old = if beta == 0.0 {
                    0.0
                } else {
                    out0[offset + i] as f64
                };
                want[offset + i] = beta as f64 * old + g * inner;
                scale[offset + i] = (beta as f64 * old).abs()
                    + g.abs() * ((w as f64 * gx[i] as f64).abs() + (bias as f64).abs());
            }
            let gdb = b.upload(&gd);
            let gxb = b.upload(&gx);
            let mut ob = b.upload(&out0);
            b.ntk_accumulate(
                len,
                with_gd.then_some(&gdb),
                &gxb,
                w,
                bias,
                beta,
                &mut ob,
                offset,
            );
            let got = fetch(b, &ob, total).await;
            assert_close(
                &format!(
                    "{name} ntk_accumulate len={len} g_d={with_gd} beta={beta} offset={offset}"
                ),
                &got,
                &want,
                |i| EW_RTOL * scale[i] + 1e-30,
            );
        }
    }
}

/// The analytic recursion in f32 against f64, relative to the diagonal scale
/// √(K(x,x)K(x',x')) (Cauchy–Schwarz: no entry is larger): about a dozen f32 roundings per
/// layer, each ≤ 2⁻²⁴ of that scale (≈ 7e-7 a layer), over at most 3 layers, amplified by the
/// conditioning of the moments: erf's Ė = (4/π)q₁q₂/√(1 − t²) by up to 1/(1 − t²) ≈ 5 in its
/// argument t ≤ 2a/(1 + 2a) for the variances here (a ≤ 2.2); ReLU's E has a derivative in ρ
/// of at most ½√(ab). Measured worst: 1.3e-6 (erf NTK, depth 3), 7e-7 elsewhere.
pub const RECURSION_RTOL: f64 = 4e-6;
/// The absolute error δ of an f32 correlation ρ after a few layers (a dozen roundings of
/// 2⁻²⁴ ≈ 6e-8), for the ReLU NTK's conditioning term: ReLU's Ė = (π − arccos ρ)/2π (times
/// s²σ_w²), and arccos moves by min(δ/√(1 − ρ²), √(2δ)) when ρ moves by δ, which relative to
/// Ė's diagonal value ½ and through the later layers (which only scale it) is at most that
/// over π of the NTK's scale per layer.
pub const RHO_ABS_ERR: f64 = 1e-6;

/// The ReLU NTK's extra tolerance (relative to its scale) for a pair whose layer correlations
/// were `rhos`: Σ_l min(δ/√(1 − ρ_l²), √(2δ))/π.
pub fn relu_rho_slack(rhos: &[f64]) -> f64 {
    let d = RHO_ABS_ERR;
    rhos.iter()
        .map(|&r| {
            let s = (1.0 - r * r).max(0.0).sqrt();
            let dtheta = if s > 0.0 {
                (d / s).min((2.0 * d).sqrt())
            } else {
                (2.0 * d).sqrt()
            };
            dtheta / std::f64::consts::PI
        })
        .sum()
}

/// One pair's f64 recursion from the f32 inputs of the operation: (Σ, Θ, the correlation at
/// the input of each hidden layer).
fn recursion_f64(
    act: Activation,
    (s2, sw2, sb2): (f64, f64, f64),
    coefs: &[f64],
    g: f64,
    var_a: &[f64],
    var_b: &[f64],
) -> (f64, f64, Vec<f64>) {
    use descent::kernels::analytic::moments;
    let depth = var_a.len();
    let mut sigma = s2 * (sw2 * g + sb2);
    let mut theta = coefs[0] * g + coefs[depth + 1];
    let mut rhos = Vec::with_capacity(depth);
    for l in 0..depth {
        let (a, b) = (var_a[l], var_b[l]);
        rhos.push((sigma / (a * b).sqrt()).clamp(-1.0, 1.0));
        let (e, ed) = moments(act, a, sigma, b);
        theta = theta * (s2 * sw2 * ed) + coefs[l + 1] * e + coefs[depth + 2 + l];
        sigma = s2 * (sw2 * e + sb2);
    }
    (sigma, theta, rhos)
}

/// `nngp_ntk_recursion` for ReLU, erf and linear at depths 1 and 3, against the f64 recursion
/// with the closed forms of `kernels::analytic::moments`, on consistent inputs: per point a
/// squared norm q ∈ [0.3, 2] (a1 of a point with itself) and the chain of its variances, and
/// a1[r,c] = ρ√(q_r q_c) with ρ uniform in (−0.97, 0.97), plus entries at ρ = ±1 and just
/// below 1, where ReLU's NTK is ill-conditioned ([`relu_rho_slack`]). The per-layer
/// coefficients differ from layer to layer, as in the standard parametrisation.
pub async fn nngp_ntk_recursion<B: Backend>(b: &mut B, seed: u64, big: bool) {
    use descent::backend::KernelRecursion;
    use descent::kernels::analytic::diag_moments;
    let mut rng = Rng::new(seed);
    let name = b.name();
    let (s, sw, sb) = (1.1f64, 1.3f64, 0.4f64);
    let (s2, sw2, sb2) = (s * s, sw * sw, sb * sb);
    let mut cases: Vec<(usize, usize, usize, Activation)> = Vec::new();
    for (rows, cols) in [
        (1, 1),
        (1, 17),
        (13, 1),
        (7, 16),
        (63, 65),
        (64, 64),
        (97, 257),
    ] {
        for act in [Activation::Relu, Activation::Erf, Activation::Linear] {
            for depth in [1, 3] {
                cases.push((rows, cols, depth, act));
            }
        }
    }
    if big {
        // Past 65535 workgroups of 256: the 2-D fold of the dispatch.
        cases.push((3, 65_535 * 256 / 3 + 2, 1, Activation::Relu));
    }
    for (rows, cols, depth, act) in cases {
        // Per point: q, and the variances Σ^{l+1}(x, x) for l < depth (f64 chain, then f32).
        let chain = |q: f64| {
            let mut a = s2 * (sw2 * q + sb2);
            let mut out = Vec::with_capacity(depth);
            for _ in 0..depth {
                out.push(a);
                a = s2 * (sw2 * diag_moments(act, a).0 + sb2);
            }
            out
        };
        let q_rows: Vec<f64> = (0..rows).map(|_| rng.uniform_in(0.3, 2.0)).collect();
        let q_cols: Vec<f64> = (0..cols).map(|_| rng.uniform_in(0.3, 2.0)).collect();
        let mut var_rows = vec![0.0f32; depth * rows];
        let mut var_cols = vec![0.0f32; depth * cols];
        for (qs, var, n) in [
            (&q_rows, &mut var_rows, rows),
            (&q_cols, &mut var_cols, cols),
        ] {
            for (p, &q) in qs.iter().enumerate() {
                for (l, a) in chain(q).into_iter().enumerate() {
                    var[l * n + p] = a as f32;
                }
            }
        }
        let special = [1.0, -1.0, 1.0 - 1e-6, 1.0 - 1e-4, 0.999];
        let a1: Vec<f32> = (0..rows * cols)
            .map(|e| {
                let (r, c) = (e / cols, e % cols);
                let rho = if e % 7 == 3 {
                    special[(e / 7) % special.len()]
                } else {
                    rng.uniform_in(-0.97, 0.97)
                };
                (rho * (q_rows[r] * q_cols[c]).sqrt()) as f32
            })
            .collect();
        let coefs: Vec<f32> = (0..=depth)
            .map(|l| (sw2 * (1.0 + 0.3 * l as f64)) as f32)
            .chain((0..=depth).map(|l| (sb2 * (1.0 + 0.5 * l as f64)) as f32))
            .collect();
        let coefs64: Vec<f64> = coefs.iter().map(|&v| v as f64).collect();
        let sc = (s2 as f32 as f64, sw2 as f32 as f64, sb2 as f32 as f64);
        let col_of = |var: &[f32], n: usize, p: usize| -> Vec<f64> {
            (0..depth).map(|l| var[l * n + p] as f64).collect()
        };
        let rows_var: Vec<Vec<f64>> = (0..rows).map(|r| col_of(&var_rows, rows, r)).collect();
        let cols_var: Vec<Vec<f64>> = (0..cols).map(|c| col_of(&var_cols, cols, c)).collect();
        // The diagonal scales: the recursion of a point with itself.
        let diag = |q: f64, var: &[f64]| {
            let (sg, th, _) = recursion_f64(act, sc, &coefs64, q, var, var);
            (sg, th)
        };
        let d_rows: Vec<(f64, f64)> = (0..rows).map(|r| diag(q_rows[r], &rows_var[r])).collect();
        let d_cols: Vec<(f64, f64)> = (0..cols).map(|c| diag(q_cols[c], &cols_var[c])).collect();
        let len = rows * cols;
        let mut want = vec![0.0f64; 2 * len];
        let mut tol = vec![0.0f64; 2 * len];
        for e in 0..len {
            let (r, c) = (e / cols, e % cols);
            let (sg, th, rhos) =
                recursion_f64(act, sc, &coefs64, a1[e] as f64, &rows_var[r], &cols_var[c]);
            want[e] = sg;
            want[len + e] = th;
            let slack = if act == Activation::Relu {
                relu_rho_slack(&rhos)
            } else {
                0.0
            };
            tol[e] = RECURSION_RTOL * (d_rows[r].0 * d_cols[c].0).sqrt();
            tol[len + e] = (RECURSION_RTOL + slack) * (d_rows[r].1 * d_cols[c].1).sqrt();
        }
        let rec = KernelRecursion {
            depth,
            activation: act,
            s2: sc.0 as f32,
            sw2: sc.1 as f32,
            sb2: sc.2 as f32,
        };
        let a1b = b.upload(&a1);
        let vrb = b.upload(&var_rows);
        let vcb = b.upload(&var_cols);
        let cb = b.upload(&coefs);
        let mut ob = b.upload(&vec![f32::NAN; 2 * len]);
        b.nngp_ntk_recursion(rows, cols, rec, &a1b, &vrb, &vcb, &cb, &mut ob);
        let got = fetch(b, &ob, 2 * len).await;
        assert_close(
            &format!("{name} nngp_ntk_recursion {act:?} depth={depth} {rows}×{cols}"),
            &got,
            &want,
            |i| tol[i],
        );
    }
    // tanh has no closed form here: NaN, which the callers refuse beforehand.
    let rec = KernelRecursion {
        depth: 2,
        activation: Activation::Tanh,
        s2: 1.0,
        sw2: 1.0,
        sb2: 0.0,
    };
    let a1b = b.upload(&[0.5; 6]);
    let vb = b.upload(&[1.0; 6]);
    let cb = b.upload(&[1.0; 6]);
    let mut ob = b.zeros(12);
    b.nngp_ntk_recursion(2, 3, rec, &a1b, &vb, &vb, &cb, &mut ob);
    let got = fetch(b, &ob, 12).await;
    assert!(
        got.iter().all(|v| v.is_nan()),
        "{name}: tanh gives NaN, got {got:?}"
    );
}

/// (batch, rows, K) shapes of the batched losses on many outputs.
pub fn batched_multi_output_shapes() -> Vec<(usize, usize, usize)> {
    vec![(1, 1, 2), (3, 7, 5), (13, 257, 2), (2, 1, 10), (65, 31, 10)]
}

/// f32's unit roundoff.
const EPS: f64 = f32::EPSILON as f64 / 2.0;

/// One case of the cross-entropy oracle: logits `f` (`rows × cols`, and `f0` when centred)
/// scaled by `scale`, targets `y` (`rows × cols` probabilities). Returns r = softmax(g) − y
/// and its tolerance per element, and the loss and its tolerance, all in f64.
///
/// Tolerance (derived, then doubled): g = scale · (f − f0) carries 2 roundings of
/// gs = |scale|(|f| + |f0|); the argument g_c − m of exp one more of |g_c − m|; exp is within
/// 3 + 2|x| ulps (WGSL's bound for f32 exp); so exp(g_c − m) has the relative error
/// E_c = ε(2 gs_c + 2 gs_max + 3 + 3|g_c − m|) (gs_max: the row maximum's), the sum s of
/// positive terms max_j E_j + cols·ε, the division ε. Then |Δr_c| ≤ p_c (E_c + max_j E_j +
/// (cols + 2) ε) + ε(p_c + |y_c|). The loss's row term Σ_c y_c ((m − g_c) + ln s) adds
/// 2ε(gs_max + gs_c) + ε|m − g_c| per term, ln's 2⁻²¹ (WGSL's absolute bound near 1) + 3ε ln s,
/// and the relative error of s; the f32 sum over rows adds LOSS_RTOL of the loss.
fn cross_entropy_oracle(
    rows: usize,
    cols: usize,
    f: &[f32],
    f0: Option<&[f32]>,
    scale: f32,
    y: &[f32],
) -> (Vec<f64>, Vec<f64>, f64, f64) {
    let sc = scale as f64;
    let mut r = vec![0.0f64; rows * cols];
    let mut r_tol = vec![0.0f64; rows * cols];
    let (mut loss, mut loss_tol) = (0.0f64, 0.0f64);
    for i in 0..rows {
        let at = i * cols;
        let g: Vec<f64> = (0..cols)
            .map(|c| sc * (f[at + c] as f64 - f0.map_or(0.0, |f0| f0[at + c] as f64)))
            .collect();
        let gs: Vec<f64> = (0..cols)
            .map(|c| {
                sc.abs() * ((f[at + c] as f64).abs() + f0.map_or(0.0, |f0| f0[at + c].abs() as f64))
            })
            .collect();
        let (mut cmax, mut m) = (0, f64::NEG_INFINITY);
        for (c, &gc) in g.iter().enumerate() {
            if gc > m {
                (cmax, m) = (c, gc);
            }
        }
        let s: f64 = g.iter().map(|&gc| (gc - m).exp()).sum();
        let lse = m + s.ln();
        let e: Vec<f64> = (0..cols)
            .map(|c| EPS * (2.0 * gs[c] + 2.0 * gs[cmax] + 3.0 + 3.0 * (m - g[c])))
            .collect();
        let e_max = e.iter().copied().fold(0.0, f64::max);
        let s_rel = e_max + cols as f64 * EPS;
        for c in 0..cols {
            let p = (g[c] - m).exp() / s;
            let yc = y[at + c] as f64;
            r[at + c] = p - yc;
            r_tol[at + c] = 2.0 * (p * (e[c] + s_rel + 2.0 * EPS) + EPS * (p + yc.abs())) + 1e-30;
            loss += yc * (lse - g[c]);
            let term = 2.0 * EPS * (gs[cmax] + gs[c])
                + EPS * (m - g[c])
                + s_rel
                + 2f64.powi(-21)
                + 3.0 * EPS * s.ln();
            loss_tol += yc.abs() * term;
        }
    }
    let n = rows as f64;
    (
        r,
        r_tol,
        loss / n,
        2.0 * (loss_tol / n + LOSS_RTOL * (loss / n).abs()) + 1e-30,
    )
}

/// Logits (`len`, std 2) and, for `large`, logits pushed towards ±80 / scale (80 tanh of a
/// normal draw): the softmax must stay finite and exact where exp(±80) would overflow f32
/// without the row maximum subtracted.
fn logits(rng: &mut Rng, len: usize, large: bool, scale: f32) -> Vec<f32> {
    let v = random(rng, len, 2.0);
    if large {
        v.iter()
            .map(|&a| (80.0 * (a as f64).tanh() / scale as f64) as f32)
            .collect()
    } else {
        v
    }
}

/// `rows × cols` targets: one-hot rows (a random class each), or soft rows (the softmax of
/// normal draws, each row a probability vector).
fn targets(rng: &mut Rng, rows: usize, cols: usize, soft: bool) -> Vec<f32> {
    let mut y = vec![0.0f32; rows * cols];
    for row in y.chunks_exact_mut(cols) {
        if soft {
            let z: Vec<f64> = (0..cols).map(|_| 1.5 * rng.normal()).collect();
            let total: f64 = z.iter().map(|v| v.exp()).sum();
            for (t, v) in row.iter_mut().zip(&z) {
                *t = (v.exp() / total) as f32;
            }
        } else {
            row[rng.index(cols)] = 1.0;
        }
    }
    y
}

/// The (centred, soft targets, large logits) variants every cross-entropy shape runs.
const CE_VARIANTS: [(bool, bool, bool); 4] = [
    (false, false, false),
    (true, true, false),
    (false, true, true),
    (true, false, true),
];

/// (rows, K) shapes of `cross_entropy`: K = 1 (a constant softmax: r = 1 − y, loss 0), 2, 5
/// and 10 over rows 1, primes and past the 256-wide workgroup, K = 1024; with `big`, more rows
/// than one GPU dispatch takes (262144 / K rows a slice).
pub fn cross_entropy_shapes(big: bool) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for rows in [1, 2, 7, 255, 256, 257, 1031] {
        for cols in [1, 2, 5, 10] {
            v.push((rows, cols));
        }
    }
    v.push((3, 1024));
    if big {
        v.push((131_072 + 5, 2));
        v.push((2 * 26_214 + 3, 10));
    }
    v
}

/// `cross_entropy`: the softmax signal and the mean cross-entropy against an f64 oracle
/// ([`cross_entropy_oracle`] states the tolerance), one-hot and soft targets, centred or not,
/// ordinary and large (±80) logits, into the middle slot of a 3-slot loss buffer (the other
/// slots must keep their values).
pub async fn cross_entropy<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (rows, cols) in cross_entropy_shapes(big) {
        for (centred, soft, large) in CE_VARIANTS {
            let len = rows * cols;
            let scale = if large { 1.0 } else { 1.3 };
            let f = logits(&mut rng, len, large, scale);
            let f0 = random(&mut rng, len, 0.5);
            let y = targets(&mut rng, rows, cols, soft);
            let (r_want, r_tol, l, l_tol) =
                cross_entropy_oracle(rows, cols, &f, centred.then_some(&f0[..]), scale, &y);
            let loss_want = [7.0, l, -3.0];
            let fb = b.upload(&f);
            let f0b = b.upload(&f0);
            let yb = b.upload(&y);
            let mut rb = b.upload(&vec![f32::NAN; len]);
            let mut lb = b.upload(&[7.0, f32::NAN, -3.0]);
            b.cross_entropy(
                rows,
                cols,
                &fb,
                centred.then_some(&f0b),
                scale,
                &yb,
                &mut rb,
                &mut lb,
                1,
            );
            let what = format!(
                "{name} cross_entropy {rows} × {cols} (centred {centred}, soft {soft}, large {large})"
            );
            let r_got = fetch(b, &rb, len).await;
            assert_close(&format!("{what} (r)"), &r_got, &r_want, |i| r_tol[i]);
            let l_got = fetch(b, &lb, 3).await;
            assert_close(&format!("{what} (loss)"), &l_got, &loss_want, |i| {
                if i == 1 { l_tol } else { 0.0 }
            });
        }
    }
}

/// (batch, rows, K) shapes of `cross_entropy_batched`; with `big`, more rows than one GPU
/// dispatch takes and more networks than one dispatch has workgroups.
pub fn cross_entropy_batched_shapes(big: bool) -> Vec<(usize, usize, usize)> {
    let mut v = vec![
        (1, 1, 1),
        (1, 1, 2),
        (2, 7, 5),
        (3, 255, 10),
        (7, 256, 2),
        (13, 257, 5),
        (5, 1031, 10),
        (64, 63, 2),
        (65, 65, 5),
        (2, 3, 1024),
    ];
    if big {
        v.push((2, 131_072 + 5, 2));
        v.push((65_537, 2, 2));
    }
    v
}

/// `cross_entropy_batched`: each network's signal and loss against the oracle of
/// [`cross_entropy`] on shared targets, with and without each network's θ₀ outputs, the
/// losses into the middle row of a 3 × batch loss buffer (the other rows keep their values).
pub async fn cross_entropy_batched<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (batch, rows, cols) in cross_entropy_batched_shapes(big) {
        for (centred, soft, large) in CE_VARIANTS {
            let len = rows * cols;
            let scale = if large { 1.0 } else { 1.3 };
            let f = logits(&mut rng, batch * len, large, scale);
            let f0 = random(&mut rng, if centred { batch * len } else { 0 }, 0.5);
            let y = targets(&mut rng, rows, cols, soft);
            let mut r_want = Vec::with_capacity(batch * len);
            let mut r_tol = Vec::with_capacity(batch * len);
            let mut loss0 = vec![7.0f32; 3 * batch];
            loss0[batch..2 * batch].fill(f32::NAN);
            loss0[2 * batch..].fill(-3.0);
            let mut loss_want: Vec<f64> = loss0.iter().map(|&v| v as f64).collect();
            let mut loss_tol = vec![0.0f64; 3 * batch];
            for net in 0..batch {
                let at = net * len;
                let (r, rt, l, lt) = cross_entropy_oracle(
                    rows,
                    cols,
                    &f[at..at + len],
                    centred.then(|| &f0[at..at + len]),
                    scale,
                    &y,
                );
                r_want.extend(r);
                r_tol.extend(rt);
                loss_want[batch + net] = l;
                loss_tol[batch + net] = lt;
            }
            let fb = b.upload(&f);
            let f0b = centred.then(|| b.upload(&f0));
            let yb = b.upload(&y);
            let mut rb = b.upload(&vec![f32::NAN; batch * len]);
            let mut lb = b.upload(&loss0);
            b.cross_entropy_batched(
                batch,
                rows,
                cols,
                &fb,
                f0b.as_ref(),
                scale,
                &yb,
                &mut rb,
                &mut lb,
                1,
            );
            let what = format!(
                "{name} cross_entropy_batched {batch} × {rows} × {cols} (centred {centred}, soft \
                 {soft}, large {large})"
            );
            let r_got = fetch(b, &rb, batch * len).await;
            assert_close(&format!("{what} (r)"), &r_got, &r_want, |i| r_tol[i]);
            let l_got = fetch(b, &lb, 3 * batch).await;
            assert_close(&format!("{what} (loss)"), &l_got, &loss_want, |i| {
                loss_tol[i]
            });
        }
    }
}

/// One case of the bag loss's oracle ([`Backend::bag_cross_entropy`]): logits `f` (and `f0`
/// when centred) scaled by `scale`, targets `y` (`rows × cols`), bags of `bag` rows. Returns
/// r = softmax · U − u and its tolerance per element, and the loss and its tolerance, in f64.
///
/// Tolerance (derived as in [`cross_entropy_oracle`], then doubled): a_ic = log softmax(g_i)_c
/// carries the absolute error A_i = ε(2 gs_max + 2 gs_c + 3 + 3|g_c − m|) + s_rel + 2⁻²¹ + 3ε|ln S|
/// (the logits, exp, the row sum S and ln); a_ic − a* adds A_i + A_* + ε|a_ic − a*|, and its exp
/// (3 + 2|x|)ε relative: E_ic. The bag sum T has the relative error max_i E_ic + bag·ε; the
/// ratio softmax/p̄ = bag·e^{a−a*}/T E_ic + T's + 3ε; u = p·ratio one ε more (and p, the mean
/// of the bag's rows, bag·ε); U = Σ_c u the largest of those plus cols·ε. The softmax s has
/// CE's relative error S_c; r = s·U − u is then within sU(S_c + rel U + 2ε) + u·rel u + ε|r|.
/// The loss term p_c(ln bag − a* − ln T) is within p_c(A_* + 2⁻²¹ + rel T + ε(ln bag + |a*|)),
/// and the f32 sum over the pairs adds LOSS_RTOL of the loss.
fn bag_cross_entropy_oracle(
    rows: usize,
    cols: usize,
    bag: usize,
    f: &[f32],
    f0: Option<&[f32]>,
    scale: f32,
    y: &[f32],
) -> (Vec<f64>, Vec<f64>, f64, f64) {
    let sc = scale as f64;
    let len = rows * cols;
    let (mut a, mut a_err, mut s, mut s_err) = (
        vec![0.0f64; len],
        vec![0.0f64; rows],
        vec![0.0f64; len],
        vec![0.0f64; len],
    );
    for i in 0..rows {
        let at = i * cols;
        let g: Vec<f64> = (0..cols)
            .map(|c| sc * (f[at + c] as f64 - f0.map_or(0.0, |f0| f0[at + c] as f64)))
            .collect();
        let gs: Vec<f64> = (0..cols)
            .map(|c| {
                sc.abs() * ((f[at + c] as f64).abs() + f0.map_or(0.0, |f0| f0[at + c].abs() as f64))
            })
            .collect();
        let (mut cmax, mut m) = (0, f64::NEG_INFINITY);
        for (c, &gc) in g.iter().enumerate() {
            if gc > m {
                (cmax, m) = (c, gc);
            }
        }
        let sum: f64 = g.iter().map(|&gc| (gc - m).exp()).sum();
        let e: Vec<f64> = (0..cols)
            .map(|c| EPS * (2.0 * gs[c] + 2.0 * gs[cmax] + 3.0 + 3.0 * (m - g[c])))
            .collect();
        let e_max = e.iter().copied().fold(0.0, f64::max);
        let s_rel = e_max + cols as f64 * EPS;
        a_err[i] = e_max + s_rel + 2f64.powi(-21) + 3.0 * EPS * sum.ln();
        for c in 0..cols {
            a[at + c] = (g[c] - m) - sum.ln();
            s[at + c] = (g[c] - m).exp() / sum;
            s_err[at + c] = e[c] + s_rel + EPS;
        }
    }
    let mut u = vec![0.0f64; len];
    let mut u_rel = vec![0.0f64; len];
    let (mut loss, mut loss_tol) = (0.0f64, 0.0f64);
    let kf = bag as f64;
    for j in 0..rows / bag {
        let first = j * bag;
        for c in 0..cols {
            let p: f64 = (0..bag)
                .map(|i| y[(first + i) * cols + c] as f64)
                .sum::<f64>()
                / kf;
            let (mut top_i, mut top) = (0, f64::NEG_INFINITY);
            for i in 0..bag {
                if a[(first + i) * cols + c] > top {
                    (top_i, top) = (i, a[(first + i) * cols + c]);
                }
            }
            let t: f64 = (0..bag)
                .map(|i| (a[(first + i) * cols + c] - top).exp())
                .sum();
            let e: Vec<f64> = (0..bag)
                .map(|i| {
                    let x = a[(first + i) * cols + c] - top;
                    a_err[first + i]
                        + a_err[first + top_i]
                        + EPS * x.abs()
                        + EPS * (3.0 + 2.0 * x.abs())
                })
                .collect();
            let t_rel = e.iter().copied().fold(0.0, f64::max) + kf * EPS;
            loss += p * (kf.ln() - top - t.ln());
            loss_tol +=
                p * (a_err[first + top_i] + 2f64.powi(-21) + t_rel + EPS * (kf.ln() + top.abs()));
            for i in 0..bag {
                let at = (first + i) * cols + c;
                u[at] = p * kf * (a[at] - top).exp() / t;
                u_rel[at] = e[i] + t_rel + 4.0 * EPS + kf * EPS;
            }
        }
    }
    let mut r = vec![0.0f64; len];
    let mut r_tol = vec![0.0f64; len];
    for i in 0..rows {
        let at = i * cols;
        let total: f64 = u[at..at + cols].iter().sum();
        let total_rel =
            u_rel[at..at + cols].iter().copied().fold(0.0, f64::max) + cols as f64 * EPS;
        for c in 0..cols {
            let su = s[at + c] * total;
            r[at + c] = su - u[at + c];
            r_tol[at + c] = 2.0
                * (su * (s_err[at + c] + total_rel + 2.0 * EPS)
                    + u[at + c] * u_rel[at + c]
                    + EPS * r[at + c].abs())
                + 1e-30;
        }
    }
    let m = (rows / bag) as f64;
    (
        r,
        r_tol,
        loss / m,
        2.0 * (loss_tol / m + LOSS_RTOL * (loss / m).abs()) + 1e-30,
    )
}

/// (rows, K, bag) shapes of `bag_cross_entropy`: bags of 1 (cross-entropy), 2, 3, 7, 64, 100
/// (bags across the 256-row workgroups of the per-row passes) and 300 (a bag longer than a
/// workgroup), K = 2, 3, 5 and 10, and K = 1 (a constant softmax: p̄ = 1, r = 0, loss 0);
/// with `big`, more (bag, class) pairs than one loss dispatch takes, at bags of 1
/// and of 64, and a bag of 4096.
pub fn bag_cross_entropy_shapes(big: bool) -> Vec<(usize, usize, usize)> {
    let mut v = vec![
        (1, 2, 1),
        (7, 3, 1),
        (257, 10, 1),
        (2, 2, 2),
        (12, 3, 3),
        (63, 5, 7),
        (256, 10, 64),
        (700, 3, 100),
        (600, 2, 300),
        (6, 1, 3),
    ];
    if big {
        v.push((131_077, 2, 1));
        v.push((131_072, 5, 64));
        v.push((8192, 3, 4096));
    }
    v
}

/// `bag_cross_entropy`: the bag loss's signal and value against an f64 oracle
/// ([`bag_cross_entropy_oracle`] states the tolerance), targets whose bag rows share soft
/// proportions or hold one-hot instance labels (the loss takes their mean), centred or not,
/// ordinary and large (±80) logits, into the middle slot of a 3-slot loss buffer (the other
/// slots keep their values).
pub async fn bag_cross_entropy<B: Backend>(b: &mut B, seed: u64, big: bool) {
    let mut rng = Rng::new(seed);
    let name = b.name();
    for (rows, cols, bag) in bag_cross_entropy_shapes(big) {
        for (centred, soft, large) in CE_VARIANTS {
            let len = rows * cols;
            let scale = if large { 1.0 } else { 1.3 };
            let f = logits(&mut rng, len, large, scale);
            let f0 = random(&mut rng, len, 0.5);
            let mut y = targets(&mut rng, rows, cols, soft);
            if soft {
                for i in 0..rows {
                    let first = (i / bag) * bag;
                    for c in 0..cols {
                        y[i * cols + c] = y[first * cols + c];
                    }
                }
            }
            let (r_want, r_tol, l, l_tol) = bag_cross_entropy_oracle(
                rows,
                cols,
                bag,
                &f,
                centred.then_some(&f0[..]),
                scale,
                &y,
            );
            let loss_want = [7.0, l, -3.0];
            let fb = b.upload(&f);
            let f0b = b.upload(&f0);
            let yb = b.upload(&y);
            let mut rb = b.upload(&vec![f32::NAN; len]);
            let mut lb = b.upload(&[7.0, f32::NAN, -3.0]);
            b.bag_cross_entropy(
                rows,
                cols,
                bag,
                &fb,
                centred.then_some(&f0b),
                scale,
                &yb,
                &mut rb,
                &mut lb,
                1,
            );
            let what = format!(
                "{name} bag_cross_entropy {rows} × {cols} in bags of {bag} (centred {centred}, \
                 soft {soft}, large {large})"
            );
            let r_got = fetch(b, &rb, len).await;
            assert_close(&format!("{what} (r)"), &r_got, &r_want, |i| r_tol[i]);
            let l_got = fetch(b, &lb, 3).await;
            assert_close(&format!("{what} (loss)"), &l_got, &loss_want, |i| {
                if i == 1 { l_tol } else { 0.0 }
            });
        }
    }
}
