//! Householder tridiagonalisation of a symmetric matrix, A = Q T Qᵀ, and the shifted solves
//! (T + ρI)z = c that make every ridge value of one Gram matrix cost O(m) after one O(m³)
//! reduction (the double-descent scene's re-fits; Golub & Van Loan, *Matrix Computations*,
//! §8.3.1).

use super::dot;

/// A symmetric matrix A = Q T Qᵀ in tridiagonal form: T has diagonal `diag` and off-diagonal
/// `off`; Q = H₀H₁⋯H_{m−2} with Householder reflectors H_k = I − τ_k v_k v_kᵀ acting on the
/// coordinates k+1..m (first entry of v_k is 1).
#[derive(Clone, Debug)]
pub struct Tridiagonal {
    dim: usize,
    diag: Vec<f64>,
    off: Vec<f64>,
    tau: Vec<f64>,
    /// v_k (length m − k − 1) packed last reflector first: [v_{m−2}, v_{m−3}, …, v₀], so that
    /// applying Q to a vector (H_{m−2} first) streams forward through memory.
    v: Vec<f64>,
}

/// Two f64 lanes for the reduction's inner loops: SSE2 on x86-64, SIMD128 on wasm32 (with
/// `simd128` enabled), a pair of scalars elsewhere. Products and sums stay separate (no fused
/// multiply-add, which wasm lacks), so every target rounds alike.
mod lanes {
    // One `return` per target, selected by `cfg`.
    #![allow(clippy::needless_return)]

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use core::arch::wasm32::*;
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub struct F64x2(
        #[cfg(target_arch = "x86_64")] __m128d,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))] v128,
        #[cfg(not(any(
            target_arch = "x86_64",
            all(target_arch = "wasm32", target_feature = "simd128")
        )))]
        [f64; 2],
    );

    // SAFETY (every `unsafe` below on x86-64): SSE2 is part of the x86-64 baseline.
    impl F64x2 {
        #[inline(always)]
        pub fn splat(x: f64) -> Self {
            #[cfg(target_arch = "x86_64")]
            return Self(unsafe { _mm_set1_pd(x) });
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            return Self(f64x2_splat(x));
            #[cfg(not(any(
                target_arch = "x86_64",
                all(target_arch = "wasm32", target_feature = "simd128")
            )))]
            return Self([x; 2]);
        }

        /// (s[i], s[i + 1]).
        #[inline(always)]
        pub fn load(s: &[f64], i: usize) -> Self {
            let s: &[f64; 2] = s[i..i + 2].try_into().unwrap();
            // SAFETY: `s` is two readable f64; these loads accept any alignment.
            #[cfg(target_arch = "x86_64")]
            return Self(unsafe { _mm_loadu_pd(s.as_ptr()) });
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            return Self(unsafe { v128_load(s.as_ptr().cast()) });
            #[cfg(not(any(
                target_arch = "x86_64",
                all(target_arch = "wasm32", target_feature = "simd128")
            )))]
            return Self(*s);
        }

        /// (s[i], s[i + 1]) = self.
        #[inline(always)]
        pub fn store(self, s: &mut [f64], i: usize) {
            let s: &mut [f64; 2] = (&mut s[i..i + 2]).try_into().unwrap();
            // SAFETY: `s` is two writable f64; these stores accept any alignment.
            #[cfg(target_arch = "x86_64")]
            unsafe {
                _mm_storeu_pd(s.as_mut_ptr(), self.0)
            };
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            unsafe {
                v128_store(s.as_mut_ptr().cast(), self.0)
            };
            #[cfg(not(any(
                target_arch = "x86_64",
                all(target_arch = "wasm32", target_feature = "simd128")
            )))]
            {
                *s = self.0;
            }
        }

        /// Lane 0 + lane 1.
        #[inline(always)]
        pub fn sum(self) -> f64 {
            #[cfg(target_arch = "x86_64")]
            return unsafe {
                _mm_cvtsd_f64(self.0) + _mm_cvtsd_f64(_mm_unpackhi_pd(self.0, self.0))
            };
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            return f64x2_extract_lane::<0>(self.0) + f64x2_extract_lane::<1>(self.0);
            #[cfg(not(any(
                target_arch = "x86_64",
                all(target_arch = "wasm32", target_feature = "simd128")
            )))]
            return self.0[0] + self.0[1];
        }
    }

    macro_rules! lanewise {
        ($trait:ident, $method:ident, $sse:ident, $wasm:ident, $op:tt) => {
            impl core::ops::$trait for F64x2 {
                type Output = Self;
                #[inline(always)]
                fn $method(self, o: Self) -> Self {
                    #[cfg(target_arch = "x86_64")]
                    return Self(unsafe { $sse(self.0, o.0) });
                    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
                    return Self($wasm(self.0, o.0));
                    #[cfg(not(any(
                        target_arch = "x86_64",
                        all(target_arch = "wasm32", target_feature = "simd128")
                    )))]
                    return Self([self.0[0] $op o.0[0], self.0[1] $op o.0[1]]);
                }
            }
        };
    }
    lanewise!(Add, add, _mm_add_pd, f64x2_add, +);
    lanewise!(Sub, sub, _mm_sub_pd, f64x2_sub, -);
    lanewise!(Mul, mul, _mm_mul_pd, f64x2_mul, *);
}

use lanes::F64x2;

/// One row's coefficients in [`Tridiagonal::new`]'s fused pass: (v_r, w_r) of the pending
/// rank-2 update and u_r of the new reflector.
type RowCoefficients = (f64, f64, f64);

/// The fused pass over one row: a_j ← a_j − (v_r w_j + w_r v_j), then p_j += u_r a_j; returns
/// Σ_j a_j u_j (all with the updated a_j).
#[inline]
fn update_dot_axpy(
    a: &mut [f64],
    v: &[f64],
    w: &[f64],
    u: &[f64],
    p: &mut [f64],
    (vr, wr, ur): RowCoefficients,
) -> f64 {
    let n = a.len();
    let (v, w, u, p) = (&v[..n], &w[..n], &u[..n], &mut p[..n]);
    let (cv, cw, cu) = (F64x2::splat(vr), F64x2::splat(wr), F64x2::splat(ur));
    let mut acc = F64x2::splat(0.0);
    let mut j = 0;
    while j + 2 <= n {
        let (vj, wj) = (F64x2::load(v, j), F64x2::load(w, j));
        let x = F64x2::load(a, j) - (cv * wj + cw * vj);
        x.store(a, j);
        acc = acc + x * F64x2::load(u, j);
        (F64x2::load(p, j) + cu * x).store(p, j);
        j += 2;
    }
    let mut s = acc.sum();
    if j < n {
        let x = a[j] - (vr * w[j] + wr * v[j]);
        a[j] = x;
        s += x * u[j];
        p[j] += ur * x;
    }
    s
}

/// [`update_dot_axpy`] for two rows over the same columns, with p_j += u₀a₀_j + u₁a₁_j: v, w,
/// u and p are read once for both rows.
#[inline]
fn update_dot_axpy2(
    a0: &mut [f64],
    a1: &mut [f64],
    v: &[f64],
    w: &[f64],
    u: &[f64],
    p: &mut [f64],
    c0: RowCoefficients,
    c1: RowCoefficients,
) -> (f64, f64) {
    let n = a0.len();
    let (a1, v, w, u, p) = (&mut a1[..n], &v[..n], &w[..n], &u[..n], &mut p[..n]);
    let (v0, w0, u0) = (F64x2::splat(c0.0), F64x2::splat(c0.1), F64x2::splat(c0.2));
    let (v1, w1, u1) = (F64x2::splat(c1.0), F64x2::splat(c1.1), F64x2::splat(c1.2));
    let (mut s0, mut s1) = (F64x2::splat(0.0), F64x2::splat(0.0));
    let mut j = 0;
    while j + 2 <= n {
        let (vj, wj, uj) = (F64x2::load(v, j), F64x2::load(w, j), F64x2::load(u, j));
        let x0 = F64x2::load(a0, j) - (v0 * wj + w0 * vj);
        let x1 = F64x2::load(a1, j) - (v1 * wj + w1 * vj);
        x0.store(a0, j);
        x1.store(a1, j);
        s0 = s0 + x0 * uj;
        s1 = s1 + x1 * uj;
        (F64x2::load(p, j) + (u0 * x0 + u1 * x1)).store(p, j);
        j += 2;
    }
    let (mut t0, mut t1) = (s0.sum(), s1.sum());
    if j < n {
        let x0 = a0[j] - (c0.0 * w[j] + c0.1 * v[j]);
        let x1 = a1[j] - (c1.0 * w[j] + c1.1 * v[j]);
        a0[j] = x0;
        a1[j] = x1;
        t0 += x0 * u[j];
        t1 += x1 * u[j];
        p[j] += c0.2 * x0 + c1.2 * x1;
    }
    (t0, t1)
}

/// The fused pass over four rows (x86-64 with AVX2 and FMA, detected once at run time): each
/// row as in [`update_dot_axpy`], with p_j += Σ_r u_r a_r,j, so that v, w, u and p are loaded
/// once per four rows; fused multiply-adds, so its roundings differ from the two-row pass's
/// (the reduction is backward stable either way).
#[cfg(target_arch = "x86_64")]
mod fma {
    use core::arch::x86_64::*;
    use std::sync::OnceLock;

    /// One step of the reduction as its row groups see it (see `Tridiagonal::new`): the
    /// matrix side `n`, the step `k`, the pending update (v, w, indexed from row k) and the new
    /// reflector u (indexed from row k + 1, as p is).
    pub struct Step<'a> {
        pub n: usize,
        pub k: usize,
        pub v_prev: &'a [f64],
        pub w_prev: &'a [f64],
        pub u: &'a [f64],
    }

    /// One step's rows k + 1.. in groups of four while four are left, with `$kernel` for the
    /// columns past each group's diagonal block; returns the rows done. A function per
    /// instruction set, so that the kernel inlines into the loop.
    macro_rules! groups {
        ($name:ident, $features:literal, $kernel:ident) => {
            /// # Safety
            ///
            #[doc = concat!("The CPU must have ", $features, ".")]
            #[target_feature(enable = $features)]
            pub unsafe fn $name(a: &mut [f64], step: &Step, pk: &mut [f64]) -> usize {
                let Step {
                    n,
                    k,
                    v_prev,
                    w_prev,
                    u: v,
                } = *step;
                let m = pk.len();
                let mut i = 0;
                while i + 3 < m {
                    let r = k + 1 + i;
                    let (vp, wp) = (&v_prev[i + 1..], &w_prev[i + 1..]);
                    let (u, p) = (&v[i..], &mut pk[i..]);
                    let (_, rest) = a.split_at_mut(r * n);
                    let (row0, rest) = rest.split_at_mut(n);
                    let (row1, rest) = rest.split_at_mut(n);
                    let (row2, rest) = rest.split_at_mut(n);
                    // Row r + q from its diagonal on: the 4 × 4 diagonal block's part, then
                    // the columns r + 4.. that the rows share.
                    let (h0, t0) = row0[r..].split_at_mut(4);
                    let (h1, t1) = row1[r + 1..].split_at_mut(3);
                    let (h2, t2) = row2[r + 2..].split_at_mut(2);
                    let (h3, t3) = rest[r + 3..n].split_at_mut(1);
                    let (vq, vp) = vp.split_first_chunk::<4>().expect("four rows");
                    let (wq, wp) = wp.split_first_chunk::<4>().expect("four rows");
                    let (uq, u) = u.split_first_chunk::<4>().expect("four rows");
                    // The block's upper triangle by hand (each entry off the diagonal stands
                    // for its mirror too).
                    let mut head = [0.0; 4];
                    for (q, h) in [h0, h1, h2, h3].into_iter().enumerate() {
                        for (x, col) in h.iter_mut().zip(q..4) {
                            *x -= vq[q] * wq[col] + wq[q] * vq[col];
                            head[q] += *x * uq[col];
                            if col != q {
                                head[col] += *x * uq[q];
                            }
                        }
                    }
                    let (pq, p4) = p.split_at_mut(4);
                    // SAFETY: this function's features are the kernel's.
                    let s = unsafe { $kernel([t0, t1, t2, t3], vp, wp, u, p4, [vq, wq, uq]) };
                    for q in 0..4 {
                        pq[q] += head[q] + s[q];
                    }
                    i += 4;
                }
                i
            }
        };
    }
    groups!(groups, "avx2,fma", update_dot_axpy4);
    groups!(groups_wide, "avx512f", update_dot_axpy4_wide);

    /// Whether the CPU has AVX2 and FMA (asked once).
    #[inline]
    pub fn available() -> bool {
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| {
            std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
        })
    }

    /// Whether the CPU has AVX-512F (asked once).
    #[inline]
    pub fn wide() -> bool {
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| std::is_x86_feature_detected!("avx512f"))
    }

    /// [`update_dot_axpy4`] in eight lanes.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX-512F ([`wide`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn update_dot_axpy4_wide(
        a: [&mut [f64]; 4],
        v: &[f64],
        w: &[f64],
        u: &[f64],
        p: &mut [f64],
        [cv, cw, cu]: [&[f64; 4]; 3],
    ) -> [f64; 4] {
        let n = v.len();
        let [a0, a1, a2, a3] = a;
        let (a0, a1, a2, a3) = (&mut a0[..n], &mut a1[..n], &mut a2[..n], &mut a3[..n]);
        let (w, u, p) = (&w[..n], &u[..n], &mut p[..n]);
        let (cv, cw, cu) = (
            cv.map(|x| _mm512_set1_pd(x)),
            cw.map(|x| _mm512_set1_pd(x)),
            cu.map(|x| _mm512_set1_pd(x)),
        );
        let mut s = [_mm512_setzero_pd(); 4];
        let mut j = 0;
        // SAFETY (the loads and stores): every slice holds n ≥ j + 8 entries, and these forms
        // accept any alignment.
        while j + 8 <= n {
            unsafe {
                let vj = _mm512_loadu_pd(v.as_ptr().add(j));
                let wj = _mm512_loadu_pd(w.as_ptr().add(j));
                let uj = _mm512_loadu_pd(u.as_ptr().add(j));
                let mut pj = _mm512_loadu_pd(p.as_ptr().add(j));
                for (r, row) in [&mut *a0, &mut *a1, &mut *a2, &mut *a3]
                    .into_iter()
                    .enumerate()
                {
                    let x = _mm512_loadu_pd(row.as_ptr().add(j));
                    let x = _mm512_fnmadd_pd(cw[r], vj, _mm512_fnmadd_pd(cv[r], wj, x));
                    _mm512_storeu_pd(row.as_mut_ptr().add(j), x);
                    s[r] = _mm512_fmadd_pd(x, uj, s[r]);
                    pj = _mm512_fmadd_pd(cu[r], x, pj);
                }
                _mm512_storeu_pd(p.as_mut_ptr().add(j), pj);
            }
            j += 8;
        }
        if j < n {
            // The last 1–7 columns under a mask (masked-off lanes load as zeros, which add
            // nothing, and are not stored).
            let mask: __mmask8 = (1u8 << (n - j)) - 1;
            // SAFETY: the masked lanes j..n are in bounds; the others are not touched.
            unsafe {
                let vj = _mm512_maskz_loadu_pd(mask, v.as_ptr().add(j));
                let wj = _mm512_maskz_loadu_pd(mask, w.as_ptr().add(j));
                let uj = _mm512_maskz_loadu_pd(mask, u.as_ptr().add(j));
                let mut pj = _mm512_maskz_loadu_pd(mask, p.as_ptr().add(j));
                for (r, row) in [&mut *a0, &mut *a1, &mut *a2, &mut *a3]
                    .into_iter()
                    .enumerate()
                {
                    let x = _mm512_maskz_loadu_pd(mask, row.as_ptr().add(j));
                    let x = _mm512_fnmadd_pd(cw[r], vj, _mm512_fnmadd_pd(cv[r], wj, x));
                    _mm512_mask_storeu_pd(row.as_mut_ptr().add(j), mask, x);
                    s[r] = _mm512_fmadd_pd(x, uj, s[r]);
                    pj = _mm512_fmadd_pd(cu[r], x, pj);
                }
                _mm512_mask_storeu_pd(p.as_mut_ptr().add(j), mask, pj);
            }
        }
        s.map(|s| _mm512_reduce_add_pd(s))
    }

    /// a_r,j ← a_r,j − (v_r w_j + w_r v_j) for the four rows `a` over the columns of `v`, then
    /// p_j += Σ_r u_r a_r,j; returns Σ_j a_r,j u_j per row (all with the updated a).
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2 and FMA ([`available`]).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn update_dot_axpy4(
        a: [&mut [f64]; 4],
        v: &[f64],
        w: &[f64],
        u: &[f64],
        p: &mut [f64],
        [cv, cw, cu]: [&[f64; 4]; 3],
    ) -> [f64; 4] {
        let n = v.len();
        let [a0, a1, a2, a3] = a;
        let (a0, a1, a2, a3) = (&mut a0[..n], &mut a1[..n], &mut a2[..n], &mut a3[..n]);
        let (w, u, p) = (&w[..n], &u[..n], &mut p[..n]);
        let (c, cv, cw, cu) = (
            [cv, cw, cu],
            cv.map(|x| _mm256_set1_pd(x)),
            cw.map(|x| _mm256_set1_pd(x)),
            cu.map(|x| _mm256_set1_pd(x)),
        );
        let mut s = [_mm256_setzero_pd(); 4];
        let mut j = 0;
        // SAFETY (the loads and stores): every slice holds n ≥ j + 4 entries, and these forms
        // accept any alignment.
        while j + 4 <= n {
            unsafe {
                let vj = _mm256_loadu_pd(v.as_ptr().add(j));
                let wj = _mm256_loadu_pd(w.as_ptr().add(j));
                let uj = _mm256_loadu_pd(u.as_ptr().add(j));
                let mut pj = _mm256_loadu_pd(p.as_ptr().add(j));
                for (r, row) in [&mut *a0, &mut *a1, &mut *a2, &mut *a3]
                    .into_iter()
                    .enumerate()
                {
                    let x = _mm256_loadu_pd(row.as_ptr().add(j));
                    let x = _mm256_fnmadd_pd(cw[r], vj, _mm256_fnmadd_pd(cv[r], wj, x));
                    _mm256_storeu_pd(row.as_mut_ptr().add(j), x);
                    s[r] = _mm256_fmadd_pd(x, uj, s[r]);
                    pj = _mm256_fmadd_pd(cu[r], x, pj);
                }
                _mm256_storeu_pd(p.as_mut_ptr().add(j), pj);
            }
            j += 4;
        }
        let mut out = s.map(|s| {
            let mut lanes = [0.0; 4];
            // SAFETY: `lanes` is four writable f64.
            unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), s) };
            (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
        });
        for j in j..n {
            let mut pj = p[j];
            for (r, row) in [&mut *a0, &mut *a1, &mut *a2, &mut *a3]
                .into_iter()
                .enumerate()
            {
                let x = row[j] - (c[0][r] * w[j] + c[1][r] * v[j]);
                row[j] = x;
                out[r] += x * u[j];
                pj += c[2][r] * x;
            }
            p[j] = pj;
        }
        out
    }
}

/// The row passes of [`Tridiagonal::new`], narrowest first. `new` takes the widest the CPU
/// has; the tests name the narrower ones to check each against the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(not(test), allow(dead_code))]
enum Pass {
    /// Rows in pairs, two lanes, no fused multiply-add (every target).
    Two,
    /// Rows in fours, four lanes with FMA (x86-64 with AVX2 and FMA).
    Four,
    /// Rows in fours, eight lanes with FMA (x86-64 with AVX-512F).
    Wide,
}

/// Where the reflector of length m starts in [`Tridiagonal`]'s packed storage: after the
/// shorter ones, 1 + 2 + … + (m − 1) = m(m − 1)/2 entries.
#[inline]
fn reflector_offset(m: usize) -> usize {
    m * m.saturating_sub(1) / 2
}

impl Tridiagonal {
    /// Reduces the symmetric `dim × dim` matrix `a` (row-major; only its upper triangle is
    /// read, and it is overwritten). Householder tridiagonalisation as in Golub & Van Loan,
    /// *Matrix Computations* (4th ed.), Algorithm 8.3.1: at step k the reflector that zeroes
    /// row k beyond the super-diagonal is applied from both sides as a symmetric rank-2
    /// update A₂₂ ← A₂₂ − v wᵀ − w vᵀ with p = τA₂₂v, w = p − (τ/2)(pᵀv)v.
    ///
    /// The update of step k and the product p of step k + 1 share one pass over the trailing
    /// block: row k + 1 is updated first and yields reflector k + 1; every later row is then
    /// updated and at once multiplied into p (its dot product with v for p's own entry, an
    /// axpy into p's later entries, as the upper triangle stands for both halves). Rows go in
    /// fours with fused multiply-adds where the CPU has AVX2 and FMA, else in pairs, so that
    /// v, w, u and p are loaded once per group of rows. Each step thus reads the
    /// trailing block once instead of twice.
    pub fn new(a: Vec<f64>, dim: usize) -> Self {
        Self::reduce(a, dim, Pass::Wide)
    }

    /// [`Tridiagonal::new`] on the widest pass up to `widest` that the CPU has.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    fn reduce(mut a: Vec<f64>, dim: usize, widest: Pass) -> Self {
        let n = dim;
        assert_eq!(a.len(), n * n, "Tridiagonal::new: a must be dim × dim");
        let mut diag = vec![0.0; n];
        let mut off = vec![0.0; n.saturating_sub(1)];
        let mut tau = vec![0.0; n.saturating_sub(1)];
        let mut v_all = vec![0.0f64; n * n.saturating_sub(1) / 2];
        // w of the previous step, indexed from that step's first trailing row (row k at step k).
        let mut w = vec![0.0; n];
        // p of the current step, becoming its w: indexed from row k + 1.
        let mut p = vec![0.0; n];
        // The pending update before step 0 is none: v = w = 0.
        let zeros = vec![0.0; n];
        #[cfg(target_arch = "x86_64")]
        let fused4 = widest >= Pass::Four && fma::available();
        #[cfg(target_arch = "x86_64")]
        let wide = fused4 && widest >= Pass::Wide && fma::wide();
        for k in 0..n.saturating_sub(1) {
            let m = n - k - 1;
            let start = reflector_offset(m);
            // v_k is stored just before v_{k−1}.
            let (shorter, longer) = v_all.split_at_mut(start + m);
            let v_prev: &[f64] = if k == 0 { &zeros } else { &longer[..m + 1] };
            let w_prev = &w[..m + 1];
            // Row k: the previous step's update, then reflector k from it.
            let row = &mut a[k * n + k..(k + 1) * n];
            let (vr, wr) = (v_prev[0], w_prev[0]);
            for ((aij, &vj), &wj) in row.iter_mut().zip(v_prev).zip(w_prev) {
                *aij -= vr * wj + wr * vj;
            }
            diag[k] = row[0];
            let x = &row[1..];
            let alpha = x[0];
            let xnorm = dot(&x[1..], &x[1..]).sqrt();
            let v = &mut shorter[start..];
            v[0] = 1.0;
            let t = if xnorm == 0.0 {
                // Already tridiagonal in this row: H_k = I (and p = w = 0 below).
                off[k] = alpha;
                0.0
            } else {
                let beta = -alpha.signum() * alpha.hypot(xnorm);
                let scale = 1.0 / (alpha - beta);
                v[1..]
                    .iter_mut()
                    .zip(&x[1..])
                    .for_each(|(vi, &xi)| *vi = xi * scale);
                off[k] = beta;
                (beta - alpha) / beta
            };
            tau[k] = t;
            let v = &*v;
            // Rows k+1.. : the previous update fused with p = A₂₂v, two rows at a time. Row r
            // is a[r][r..]; the pending (v, w) are indexed from row k, v and p from row k + 1.
            let pk = &mut p[..m];
            pk.fill(0.0);
            let mut i = 0;
            #[cfg(target_arch = "x86_64")]
            if fused4 {
                let step = fma::Step {
                    n,
                    k,
                    v_prev,
                    w_prev,
                    u: v,
                };
                // SAFETY: `fused4` says the CPU has AVX2 and FMA, `wide` that it has AVX-512F.
                i = unsafe {
                    if wide {
                        fma::groups_wide(&mut a, &step, pk)
                    } else {
                        fma::groups(&mut a, &step, pk)
                    }
                };
            }
            while i + 1 < m {
                let r = k + 1 + i;
                let (upper, lower) = a.split_at_mut((r + 1) * n);
                let (row0, row1) = (&mut upper[r * n + r..], &mut lower[r + 1..n]);
                let (vp, wp) = (&v_prev[i + 1..], &w_prev[i + 1..]);
                let (u, p) = (&v[i..], &mut pk[i..]);
                let c0 = (vp[0], wp[0], u[0]);
                let c1 = (vp[1], wp[1], u[1]);
                // The 2 × 2 diagonal block by hand; the rows share columns r + 2.. .
                row0[0] -= c0.0 * wp[0] + c0.1 * vp[0];
                row0[1] -= c0.0 * wp[1] + c0.1 * vp[1];
                row1[0] -= c1.0 * wp[1] + c1.1 * vp[1];
                let (d0, e, d1) = (row0[0], row0[1], row1[0]);
                let (s0, s1) = update_dot_axpy2(
                    &mut row0[2..],
                    &mut row1[1..],
                    &vp[2..],
                    &wp[2..],
                    &u[2..],
                    &mut p[2..],
                    c0,
                    c1,
                );
                p[0] += d0 * c0.2 + e * c1.2 + s0;
                p[1] += e * c0.2 + d1 * c1.2 + s1;
                i += 2;
            }
            if i < m {
                let r = k + 1 + i;
                let row = &mut a[r * n + r..(r + 1) * n];
                let (vp, wp) = (&v_prev[i + 1..], &w_prev[i + 1..]);
                let (u, p) = (&v[i..], &mut pk[i..]);
                let c = (vp[0], wp[0], u[0]);
                row[0] -= c.0 * wp[0] + c.1 * vp[0];
                let d = row[0];
                let s = update_dot_axpy(&mut row[1..], &vp[1..], &wp[1..], &u[1..], &mut p[1..], c);
                p[0] += d * c.2 + s;
            }
            // p ← τp, then w = p − (τ/2)(pᵀv)v, pending for the next pass.
            pk.iter_mut().for_each(|x| *x *= t);
            let half = 0.5 * t * dot(pk, v);
            pk.iter_mut().zip(v).for_each(|(pi, &vi)| *pi -= half * vi);
            std::mem::swap(&mut p, &mut w);
        }
        if n > 1 {
            // The last step's update reaches only the final diagonal entry (v = 1 there).
            let (v, w) = (v_all[0], w[0]);
            a[n * n - 1] -= v * w + w * v;
        }
        if n > 0 {
            diag[n - 1] = a[n * n - 1];
        }
        Tridiagonal {
            dim: n,
            diag,
            off,
            tau,
            v: v_all,
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The diagonal of T.
    pub fn diagonal(&self) -> &[f64] {
        &self.diag
    }

    /// The off-diagonal of T (length dim − 1).
    pub fn off_diagonal(&self) -> &[f64] {
        &self.off
    }

    fn reflector(&self, k: usize) -> &[f64] {
        let m = self.dim - k - 1;
        let start = reflector_offset(m);
        &self.v[start..start + m]
    }

    /// One reflector applied to the rows k+1.. of `x` (`dim × cols`, row-major).
    fn reflect(&self, k: usize, x: &mut [f64], cols: usize, sums: &mut [f64]) {
        let t = self.tau[k];
        if t == 0.0 {
            return;
        }
        let v = self.reflector(k);
        let rows = &mut x[(k + 1) * cols..self.dim * cols];
        if cols == 1 {
            let s = t * dot(v, rows);
            rows.iter_mut().zip(v).for_each(|(r, &vi)| *r -= s * vi);
            return;
        }
        sums[..cols].fill(0.0);
        for (row, &vi) in rows.chunks_exact(cols).zip(v) {
            for (s, &r) in sums.iter_mut().zip(row) {
                *s += vi * r;
            }
        }
        for (row, &vi) in rows.chunks_exact_mut(cols).zip(v) {
            for (r, &s) in row.iter_mut().zip(sums.iter()) {
                *r -= t * s * vi;
            }
        }
    }

    /// x ← Qᵀx for `x` of shape `dim × cols` (row-major).
    pub fn apply_qt(&self, x: &mut [f64], cols: usize) {
        let mut sums = vec![0.0; cols];
        for k in 0..self.dim.saturating_sub(1) {
            self.reflect(k, x, cols, &mut sums);
        }
    }

    /// x ← Qx for `x` of shape `dim × cols` (row-major).
    pub fn apply_q(&self, x: &mut [f64], cols: usize) {
        let mut sums = vec![0.0; cols];
        for k in (0..self.dim.saturating_sub(1)).rev() {
            self.reflect(k, x, cols, &mut sums);
        }
    }

    /// Solves (T + shift·I) z = b in place for `b` of shape `dim × cols` (row-major), by
    /// Gaussian elimination with partial pivoting on the tridiagonal matrix (the scheme of
    /// LAPACK's dgtsv). A zero pivot (an exactly singular shifted T) is replaced by `tiny`.
    pub fn solve_shifted(&self, shift: f64, b: &mut [f64], cols: usize, tiny: f64) {
        let n = self.dim;
        if n == 0 {
            return;
        }
        let mut d: Vec<f64> = self.diag.iter().map(|&x| x + shift).collect();
        let mut dl = self.off.clone();
        let mut du = self.off.clone();
        // Fill-in of the second super-diagonal from row interchanges.
        let mut du2 = vec![0.0; n.saturating_sub(2)];
        let guard = |x: f64| {
            if x == 0.0 {
                tiny.max(f64::MIN_POSITIVE)
            } else {
                x
            }
        };
        for i in 0..n - 1 {
            if d[i].abs() >= dl[i].abs() {
                d[i] = guard(d[i]);
                let fact = dl[i] / d[i];
                d[i + 1] -= fact * du[i];
                for c in 0..cols {
                    b[(i + 1) * cols + c] -= fact * b[i * cols + c];
                }
                dl[i] = 0.0;
            } else {
                // Interchange rows i and i + 1.
                let fact = d[i] / dl[i];
                d[i] = dl[i];
                let temp = d[i + 1];
                d[i + 1] = du[i] - fact * temp;
                if i + 2 < n {
                    du2[i] = du[i + 1];
                    du[i + 1] = -fact * du2[i];
                }
                du[i] = temp;
                for c in 0..cols {
                    let (bi, bn) = (b[i * cols + c], b[(i + 1) * cols + c]);
                    b[i * cols + c] = bn;
                    b[(i + 1) * cols + c] = bi - fact * bn;
                }
            }
        }
        d[n - 1] = guard(d[n - 1]);
        for c in 0..cols {
            b[(n - 1) * cols + c] /= d[n - 1];
            if n > 1 {
                let i = n - 2;
                b[i * cols + c] = (b[i * cols + c] - du[i] * b[(i + 1) * cols + c]) / d[i];
            }
            for i in (0..n.saturating_sub(2)).rev() {
                b[i * cols + c] = (b[i * cols + c]
                    - du[i] * b[(i + 1) * cols + c]
                    - du2[i] * b[(i + 2) * cols + c])
                    / d[i];
            }
        }
    }

    /// Σ_c z_cᵀ T z_c for `z` of shape `dim × cols` (row-major).
    pub fn quadratic_form(&self, z: &[f64], cols: usize) -> f64 {
        let n = self.dim;
        let mut s = 0.0;
        for i in 0..n {
            for c in 0..cols {
                let zi = z[i * cols + c];
                s += self.diag[i] * zi * zi;
                if i + 1 < n {
                    s += 2.0 * self.off[i] * zi * z[(i + 1) * cols + c];
                }
            }
        }
        s
    }
}

/// Q T Qᵀ from the reduction, densely (the tests' reference).
#[cfg(test)]
pub(crate) fn recompose(tri: &Tridiagonal) -> nalgebra::DMatrix<f64> {
    use nalgebra::DMatrix;

    let n = tri.dim();
    let mut t = DMatrix::zeros(n, n);
    for i in 0..n {
        t[(i, i)] = tri.diagonal()[i];
        if i + 1 < n {
            t[(i, i + 1)] = tri.off_diagonal()[i];
            t[(i + 1, i)] = tri.off_diagonal()[i];
        }
    }
    // Q = Q·I column by column; Q T Qᵀ = Q (Q Tᵀ)ᵀ.
    let mut q = DMatrix::<f64>::identity(n, n);
    let mut col = vec![0.0; n];
    for j in 0..n {
        col.copy_from_slice(q.column(j).as_slice());
        tri.apply_q(&mut col, 1);
        q.column_mut(j).copy_from_slice(&col);
    }
    &q * t * q.transpose()
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;
    use crate::rng::Rng;

    /// A row-major copy of `a`.
    fn row_major(a: &DMatrix<f64>) -> Vec<f64> {
        (0..a.nrows())
            .flat_map(|i| a.row(i).iter().copied().collect::<Vec<_>>())
            .collect()
    }

    fn random_symmetric(n: usize, rank: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = Rng::new(seed);
        let b = DMatrix::from_fn(n, rank, |_, _| rng.normal());
        &b * b.transpose()
    }

    #[test]
    fn reduction_recomposes_and_q_is_orthogonal() {
        for &(n, rank) in &[
            (1usize, 1usize),
            (2, 2),
            (3, 3),
            (4, 2),
            (7, 3),
            (40, 40),
            (33, 10),
        ] {
            let a = random_symmetric(n, rank, n as u64);
            let tri = Tridiagonal::new(row_major(&a), n);
            let back = recompose(&tri);
            let err = (&back - &a).norm() / a.norm();
            assert!(err < 1e-13, "n {n}: relative error {err}");
            let mut x: Vec<f64> = (0..n * 3).map(|i| (i as f64).sin()).collect();
            let x0 = x.clone();
            tri.apply_qt(&mut x, 3);
            tri.apply_q(&mut x, 3);
            let diff: f64 = x
                .iter()
                .zip(&x0)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(diff < 1e-13, "QQᵀ = I: {diff}");
        }
        // An already tridiagonal (here diagonal) matrix takes the no-reflection path.
        let diag = DMatrix::from_diagonal(&nalgebra::DVector::from_vec(vec![3.0, 1.0, 2.0, 5.0]));
        let tri = Tridiagonal::new(row_major(&diag), 4);
        assert!((recompose(&tri) - &diag).norm() < 1e-15);
    }

    /// The four-row passes (where the CPU has them) and the two-row pass all recompose A, at
    /// sizes whose steps leave every remainder of rows modulo 4, full rank and not, and
    /// their T have the same eigenvalues to rounding.
    #[test]
    fn four_row_and_two_row_passes_agree() {
        for &(n, rank) in &[(5usize, 5usize), (9, 4), (61, 61), (130, 40), (300, 300)] {
            let a = random_symmetric(n, rank, 7 + n as u64);
            let plain = Tridiagonal::reduce(row_major(&a), n, Pass::Two);
            let four = Tridiagonal::reduce(row_major(&a), n, Pass::Four);
            let wide = Tridiagonal::reduce(row_major(&a), n, Pass::Wide);
            for (what, tri) in [("two", &plain), ("four", &four), ("wide", &wide)] {
                let err = (recompose(tri) - &a).norm() / a.norm();
                assert!(err < 1e-13, "{what} n {n}: relative error {err}");
            }
            // T's eigenvalues are A's, and perturbations of size δ move them by at most δ
            // (Weyl), where T itself may differ more between the passes: near a breakdown
            // (rank-deficient A) its last significant entries are ill-conditioned.
            let eigenvalues = |tri: &Tridiagonal| {
                let t = DMatrix::from_fn(n, n, |i, j| match i.abs_diff(j) {
                    0 => tri.diagonal()[i],
                    1 => tri.off_diagonal()[i.min(j)],
                    _ => 0.0,
                });
                let mut ev: Vec<f64> = t.symmetric_eigenvalues().iter().copied().collect();
                ev.sort_by(f64::total_cmp);
                ev
            };
            let reference = eigenvalues(&plain);
            for (what, tri) in [("four", &four), ("wide", &wide)] {
                let worst = eigenvalues(tri)
                    .iter()
                    .zip(&reference)
                    .map(|(x, y)| (x - y).abs() / a.norm())
                    .fold(0.0, f64::max);
                // Each pass is exact for a matrix within ~n·ε·‖A‖ of A (7e-14 at n = 300), and
                // the eigensolver adds as much; 1e-12 leaves a margin.
                assert!(
                    worst < 1e-12,
                    "{what} n {n}: eigenvalues differ by {worst:.1e}·‖A‖"
                );
            }
        }
    }

    #[test]
    fn reduction_skips_a_zero_row_between_reflections() {
        // Block-diagonal: after two reflections inside the 3 × 3 block, row 2 is already
        // tridiagonal (H₂ = I) while the update of step 1 is still to be applied to it.
        let (b, c) = (random_symmetric(3, 3, 11), random_symmetric(5, 5, 12));
        let mut a = DMatrix::zeros(8, 8);
        a.view_mut((0, 0), (3, 3)).copy_from(&b);
        a.view_mut((3, 3), (5, 5)).copy_from(&c);
        let tri = Tridiagonal::new(row_major(&a), 8);
        assert_eq!(tri.off_diagonal()[2], 0.0);
        let err = (recompose(&tri) - &a).norm() / a.norm();
        assert!(err < 1e-13, "relative error {err}");
    }

    #[test]
    fn shifted_solve_matches_a_dense_solve_with_and_without_pivoting() {
        let a = random_symmetric(30, 12, 5);
        let tri = Tridiagonal::new(row_major(&a), 30);
        let n = 30;
        let mut t = DMatrix::zeros(n, n);
        for i in 0..n {
            t[(i, i)] = tri.diagonal()[i];
            if i + 1 < n {
                t[(i, i + 1)] = tri.off_diagonal()[i];
                t[(i + 1, i)] = tri.off_diagonal()[i];
            }
        }
        // Shifts: positive definite, tiny (rank-deficient A), and negative (indefinite,
        // forcing row interchanges).
        for &shift in &[1.0, 1e-6, -3.7] {
            let rhs = DMatrix::from_fn(n, 2, |i, c| ((i + 7 * c) as f64).cos());
            let mut z = row_major(&rhs);
            tri.solve_shifted(shift, &mut z, 2, 1e-300);
            let shifted = &t + DMatrix::<f64>::identity(n, n) * shift;
            let direct = shifted.clone().lu().solve(&rhs).unwrap();
            let got = DMatrix::from_row_slice(n, 2, &z);
            let err = (&got - &direct).norm() / direct.norm();
            // The shifted matrix's condition number bounds the agreement.
            let cond = {
                let ev = shifted.symmetric_eigenvalues();
                ev.abs().max() / ev.abs().min()
            };
            assert!(err < 1e-14 * cond, "shift {shift}: {err} (cond {cond:.1e})");
        }
    }
}
