//! The fast paths of [`Gemm`] against [`reference`] on randomised shapes, transpositions,
//! scalings and padded leading dimensions.
//!
//! Tolerance. Every path sums the k products of an output in f32, in some order (blocks of
//! depth, partial sums, fused or separate multiply-add). Any such order is within
//! `γ_k · S ≤ k·u·S (1 + O(k·u))` of the exact sum, where `S = Σ_p |a_ip · b_pj|` and
//! `u = ε/2` is the f32 unit roundoff. Scaling by alpha and adding `beta · c` cost at most three
//! more roundings, and the reference itself rounds its f64 sum to f32 and repeats the same
//! three; both results therefore lie within `(k + 8)·u·(|alpha|·S + |beta·c|)` of the exact
//! value. The check allows `(k + 8)·ε·(|alpha|·S + |beta·c|)` (twice that bound, room for the
//! `O(k·u)` term) plus `f32::MIN_POSITIVE` for results that are exactly zero. A NaN anywhere, a
//! missing or doubled term, or a stray write fails it (see `checker_rejects_wrong_results`).
//!
//! On wasm32 the same tests run under `wasm-bindgen-test` (`cargo test --target
//! wasm32-unknown-unknown --lib gemm`, in Node), so the SIMD128 kernel and packing are checked
//! too.

use super::*;

/// SplitMix64: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [−1, 1).
    fn sym(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

const TRANS: [(Trans, Trans); 4] = [
    (Trans::N, Trans::N),
    (Trans::N, Trans::T),
    (Trans::T, Trans::N),
    (Trans::T, Trans::T),
];
const SCALARS: [f32; 4] = [1.0, 0.0, -0.5, 2.5];
/// Marks padding of C, which must come back untouched.
const SENTINEL: f32 = 1234.5;

/// Which implementation a case runs.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// [`Gemm::run`], choosing its own path.
    Run,
    /// The blocked path with the given blocking, whatever the shape.
    Blocked(Blocking),
    /// The blocked path with the portable micro-kernel and the given blocking.
    Portable(Blocking),
    /// The skinny path, whatever the depth (n or m must be at most `SKINNY`).
    Skinny,
}

/// One product with its operands stored with padded leading dimensions.
#[derive(Clone, Copy, Debug)]
struct Case {
    ta: Trans,
    tb: Trans,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    beta: f32,
    /// Extra elements per stored row of A, B and C.
    pad: [usize; 3],
}

/// A stored matrix of `rows × cols` with leading dimension `cols + pad`: random values, NaN in
/// the padding (which must never be read).
fn matrix(rng: &mut Rng, rows: usize, cols: usize, pad: usize) -> (Vec<f32>, usize) {
    let ld = cols + pad;
    let mut v = vec![f32::NAN; rows * ld];
    for r in 0..rows {
        for x in &mut v[r * ld..][..cols] {
            *x = rng.sym();
        }
    }
    (v, ld)
}

/// Runs `case` on `path` and compares with the reference; returns a description of the first
/// mismatch.
fn run_case(g: &mut Gemm, rng: &mut Rng, case: Case, path: Path) -> Result<(), String> {
    let Case {
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        beta,
        pad,
    } = case;
    let (ar, ac) = if ta == Trans::N { (m, k) } else { (k, m) };
    let (br, bc) = if tb == Trans::N { (k, n) } else { (n, k) };
    let (a, lda) = matrix(rng, ar, ac, pad[0]);
    let (b, ldb) = matrix(rng, br, bc, pad[1]);
    let ldc = n + pad[2];
    let mut c0 = vec![SENTINEL; m * ldc];
    for i in 0..m {
        for x in &mut c0[i * ldc..][..n] {
            // With beta == 0 the old C must not leak into the result.
            *x = if beta == 0.0 { f32::NAN } else { rng.sym() };
        }
    }
    let mut want = c0.clone();
    reference(
        ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut want, ldc,
    );
    let mut got = c0.clone();
    match path {
        Path::Run => g.run(
            ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut got, ldc,
        ),
        Path::Blocked(blk) => {
            let args = Args {
                ta,
                tb,
                m,
                n,
                k,
                alpha,
                a: &a,
                lda,
                b: &b,
                ldb,
                beta,
            };
            g.blocked(&args, &mut got, ldc, Some(blk));
        }
        Path::Portable(blk) => {
            let args = Args {
                ta,
                tb,
                m,
                n,
                k,
                alpha,
                a: &a,
                lda,
                b: &b,
                ldb,
                beta,
            };
            type K = portable::Portable;
            // SAFETY: the portable kernel needs no CPU feature.
            unsafe {
                blocked::<{ portable::MR }, { portable::NR }, K>(g, &args, &mut got, ldc, blk)
            };
        }
        Path::Skinny => {
            let args = Args {
                ta,
                tb,
                m,
                n,
                k,
                alpha,
                a: &a,
                lda,
                b: &b,
                ldb,
                beta,
            };
            if n <= SKINNY {
                skinny(&mut g.skinny, &args, &mut got, ldc, 1);
            } else {
                skinny(&mut g.skinny, &args.transposed(), &mut got, 1, ldc);
            }
        }
    }
    check(&case, &a, lda, &b, ldb, &c0, &want, &got, ldc)
}

/// Compares `got` with `want` within the tolerance of the module docs, and checks that the
/// padding of C is untouched.
fn check(
    case: &Case,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c0: &[f32],
    want: &[f32],
    got: &[f32],
    ldc: usize,
) -> Result<(), String> {
    let &Case {
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        beta,
        ..
    } = case;
    for i in 0..m {
        for j in 0..ldc {
            let at = i * ldc + j;
            if j >= n {
                if got[at].to_bits() != SENTINEL.to_bits() {
                    return Err(format!(
                        "{case:?}: padding C[{i},{j}] overwritten with {}",
                        got[at]
                    ));
                }
                continue;
            }
            let mut s = 0.0f64;
            for p in 0..k {
                let av = if ta == Trans::N {
                    a[i * lda + p]
                } else {
                    a[p * lda + i]
                };
                let bv = if tb == Trans::N {
                    b[p * ldb + j]
                } else {
                    b[j * ldb + p]
                };
                s += (av as f64 * bv as f64).abs();
            }
            let old = if beta == 0.0 {
                0.0
            } else {
                (beta as f64 * c0[at] as f64).abs()
            };
            let tol = (k as f64 + 8.0) * f32::EPSILON as f64 * (alpha.abs() as f64 * s + old)
                + f32::MIN_POSITIVE as f64;
            let diff = (got[at] as f64 - want[at] as f64).abs();
            if diff.is_nan() || diff > tol {
                return Err(format!(
                    "{case:?}: C[{i},{j}] = {} but reference gives {} (|Δ| = {diff:e} > {tol:e})",
                    got[at], want[at]
                ));
            }
        }
    }
    Ok(())
}

fn random_case(rng: &mut Rng, dims: &[usize]) -> Case {
    let (ta, tb) = rng.pick(&TRANS);
    Case {
        ta,
        tb,
        m: rng.pick(dims),
        n: rng.pick(dims),
        k: rng.pick(dims),
        alpha: rng.pick(&SCALARS),
        beta: rng.pick(&SCALARS),
        pad: [rng.below(4), rng.below(4), rng.below(4)],
    }
}

fn assert_ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// Sizes that are 1, prime, powers of two and their neighbours, and straddle the tiles of every
/// kernel (4, 6, 8, 16) and the skinny threshold.
const SMALL_DIMS: [usize; 20] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 31, 32, 33, 47,
];

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn small_shapes_match_reference() {
    let mut rng = Rng(1);
    let mut g = Gemm::new();
    for _ in 0..1500 {
        let case = random_case(&mut rng, &SMALL_DIMS);
        assert_ok(run_case(&mut g, &mut rng, case, Path::Run));
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_transposition_and_scaling_on_a_fixed_shape() {
    let mut rng = Rng(2);
    let mut g = Gemm::new();
    for (ta, tb) in TRANS {
        for alpha in SCALARS {
            for beta in SCALARS {
                for (m, n, k) in [
                    (29, 37, 41),
                    (3, 37, 41),
                    (29, 2, 41),
                    (29, 37, 1),
                    (29, 37, 2),
                    (29, 37, 3),
                    (29, 37, 4),
                ] {
                    let case = Case {
                        ta,
                        tb,
                        m,
                        n,
                        k,
                        alpha,
                        beta,
                        pad: [1, 2, 3],
                    };
                    assert_ok(run_case(&mut g, &mut rng, case, Path::Run));
                }
            }
        }
    }
}

/// Shapes beyond the default blocks of every kernel (mc ≤ 144 rows, kc = 256 depth) and beyond
/// the skinny path's chunk of rows (1024).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn large_shapes_match_reference() {
    let mut rng = Rng(3);
    let mut g = Gemm::new();
    let shapes = [
        (150, 70, 300),
        (145, 33, 513),
        (257, 19, 257),
        (130, 131, 129),
        (64, 64, 64),
        (1100, 3, 37),
        (3, 1100, 37),
        (37, 1, 1100),
        (1, 53, 1031),
        (256, 2, 300),
        (2, 256, 300),
        (300, 300, 2),
    ];
    for (m, n, k) in shapes {
        for (ta, tb) in TRANS {
            let case = Case {
                ta,
                tb,
                m,
                n,
                k,
                alpha: rng.pick(&SCALARS),
                beta: rng.pick(&SCALARS),
                pad: [rng.below(3), 1, 2],
            };
            assert_ok(run_case(&mut g, &mut rng, case, Path::Run));
        }
    }
}

/// The blocked path with tiny random blockings, so that small matrices cross every block and
/// tile boundary (including partial blocks in all three dimensions at once), and with shapes the
/// public entry point would send elsewhere (one row or column).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn blocked_path_with_small_blocks_matches_reference() {
    let mut rng = Rng(4);
    let mut g = Gemm::new();
    let dims = [1, 2, 5, 7, 8, 13, 17, 24, 31, 40, 53];
    for _ in 0..600 {
        let case = random_case(&mut rng, &dims);
        let blk = Blocking {
            mc: 1 + rng.below(40),
            kc: 1 + rng.below(12),
            nc: 1 + rng.below(50),
        };
        assert_ok(run_case(&mut g, &mut rng, case, Path::Blocked(blk)));
    }
}

/// The portable micro-kernel, which a CPU with a SIMD kernel never reaches through `run`.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn portable_kernel_matches_reference() {
    let mut rng = Rng(8);
    let mut g = Gemm::new();
    for i in 0..300 {
        let case = random_case(&mut rng, &[1, 3, 4, 5, 8, 9, 17, 40]);
        let blk = if i % 2 == 0 {
            Blocking {
                mc: 1 + rng.below(20),
                kc: 1 + rng.below(40),
                nc: 1 + rng.below(30),
            }
        } else {
            Blocking {
                mc: 128,
                kc: 256,
                nc: 4096,
            }
        };
        assert_ok(run_case(&mut g, &mut rng, case, Path::Portable(blk)));
    }
}

/// The skinny path on every depth, including those [`Gemm::run`] sends to the plain loop, and on
/// row counts beyond its chunk of rows.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn skinny_path_matches_reference() {
    let mut rng = Rng(7);
    let mut g = Gemm::new();
    let long = [1, 2, 3, 5, 15, 16, 17, 31, 33, 64, 100, 1030, 2100];
    for _ in 0..400 {
        let mut case = random_case(&mut rng, &[1, 2, 3, 4, 5, 17, 33, 40]);
        let (thin, wide, k) = (1 + rng.below(SKINNY), rng.pick(&long), rng.pick(&long));
        // Keep the reference's work small: a long side only with a short depth, and vice versa.
        let wide = if k > 100 { wide.min(40) } else { wide };
        (case.m, case.n, case.k) = if rng.below(2) == 0 {
            (wide, thin, k)
        } else {
            (thin, wide, k)
        };
        assert_ok(run_case(&mut g, &mut rng, case, Path::Skinny));
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn zero_depth_scales_c() {
    let mut rng = Rng(5);
    let mut g = Gemm::new();
    for (ta, tb) in TRANS {
        for beta in SCALARS {
            for (m, n) in [(1, 1), (7, 9), (40, 3), (2, 50)] {
                let case = Case {
                    ta,
                    tb,
                    m,
                    n,
                    k: 0,
                    alpha: rng.pick(&SCALARS),
                    beta,
                    pad: [0, 1, 2],
                };
                assert_ok(run_case(&mut g, &mut rng, case, Path::Run));
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn beta_zero_ignores_nan_in_c() {
    let mut g = Gemm::new();
    for (ta, tb) in TRANS {
        for (m, n, k) in [(1, 1, 1), (5, 3, 4), (3, 5, 4), (20, 30, 40), (20, 30, 0)] {
            let a = vec![1.0f32; m * k];
            let b = vec![1.0f32; k * n];
            let mut c = vec![f32::NAN; m * n];
            let (lda, ldb) = (
                if ta == Trans::N { k } else { m },
                if tb == Trans::N { n } else { k },
            );
            g.run(
                ta,
                tb,
                m,
                n,
                k,
                1.0,
                &a,
                lda.max(1),
                &b,
                ldb.max(1),
                0.0,
                &mut c,
                n,
            );
            assert!(
                c.iter().all(|&x| x == k as f32),
                "{ta:?} {tb:?} {m}×{n}×{k}: {c:?}"
            );
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn empty_products_leave_c_alone() {
    let mut g = Gemm::new();
    let mut c = vec![SENTINEL; 6];
    g.run(
        Trans::N,
        Trans::N,
        0,
        3,
        4,
        1.0,
        &[],
        4,
        &[0.0; 12],
        3,
        0.0,
        &mut c,
        3,
    );
    g.run(
        Trans::T,
        Trans::T,
        2,
        0,
        4,
        1.0,
        &[0.0; 8],
        2,
        &[],
        4,
        0.0,
        &mut c,
        3,
    );
    assert!(c.iter().all(|&x| x == SENTINEL));
}

/// The check is not vacuous: a result off by the size of one typical term (|a·b| ≈ 0.25, far
/// above the tolerance of about 3e-3 here), a NaN, or a write into the padding fails.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn checker_rejects_wrong_results() {
    let mut rng = Rng(6);
    let case = Case {
        ta: Trans::N,
        tb: Trans::T,
        m: 9,
        n: 10,
        k: 300,
        alpha: 1.0,
        beta: -0.5,
        pad: [0, 0, 1],
    };
    let (a, lda) = matrix(&mut rng, 9, 300, 0);
    let (b, ldb) = matrix(&mut rng, 10, 300, 0);
    let ldc = 11;
    let mut c0 = vec![SENTINEL; 9 * ldc];
    for i in 0..9 {
        for x in &mut c0[i * ldc..][..10] {
            *x = rng.sym();
        }
    }
    let mut want = c0.clone();
    reference(
        Trans::N,
        Trans::T,
        9,
        10,
        300,
        1.0,
        &a,
        lda,
        &b,
        ldb,
        -0.5,
        &mut want,
        ldc,
    );
    let mut got = c0.clone();
    Gemm::new().run(
        Trans::N,
        Trans::T,
        9,
        10,
        300,
        1.0,
        &a,
        lda,
        &b,
        ldb,
        -0.5,
        &mut got,
        ldc,
    );
    assert_ok(check(&case, &a, lda, &b, ldb, &c0, &want, &got, ldc));

    let mut off_by_term = got.clone();
    off_by_term[4 * ldc + 7] -= 0.25;
    assert!(check(&case, &a, lda, &b, ldb, &c0, &want, &off_by_term, ldc).is_err());
    let mut nan = got.clone();
    nan[0] = f32::NAN;
    assert!(check(&case, &a, lda, &b, ldb, &c0, &want, &nan, ldc).is_err());
    let mut stray = got.clone();
    stray[ldc - 1] = 0.0;
    assert!(check(&case, &a, lda, &b, ldb, &c0, &want, &stray, ldc).is_err());
}

/// Once the scratch has grown for a shape, repeating it reuses the same buffers.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn repeated_products_reuse_scratch() {
    let mut g = Gemm::new();
    for (ta, tb, m, n, k) in [
        (Trans::N, Trans::N, 40, 50, 300),
        (Trans::T, Trans::N, 300, 1, 40),
        (Trans::N, Trans::N, 40, 3, 30),
    ] {
        let a = vec![0.5f32; m * k];
        let b = vec![0.25f32; k * n];
        let mut c = vec![0.0f32; m * n];
        let (lda, ldb) = (
            if ta == Trans::N { k } else { m },
            if tb == Trans::N { n } else { k },
        );
        g.run(ta, tb, m, n, k, 1.0, &a, lda, &b, ldb, 0.0, &mut c, n);
        let ptrs = (g.pack_a.as_ptr(), g.pack_b.as_ptr(), g.skinny.as_ptr());
        g.run(ta, tb, m, n, k, 1.0, &a, lda, &b, ldb, 0.0, &mut c, n);
        assert_eq!(
            ptrs,
            (g.pack_a.as_ptr(), g.pack_b.as_ptr(), g.skinny.as_ptr())
        );
    }
}
