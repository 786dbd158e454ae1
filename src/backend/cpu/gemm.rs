//! f32 matrix multiplication on the CPU: `C = alpha · op(A) · op(B) + beta · C`.
//!
//! [`Gemm::run`] picks one of five paths by shape:
//!
//! - **Scaling only** (`k == 0` or `alpha == 0`): `C = beta · C`; A and B are not read.
//! - **Tiny** (at most `TINY` multiply-adds, or skinny with a depth of at most `SHALLOW` where
//!   each output is a dot product): a plain loop, as setting anything up costs more.
//! - **Skinny** (`n ≤ SKINNY` or `m ≤ SKINNY`, e.g. a layer with one output): every output is a
//!   dot product or an accumulation of scaled rows, which streams each operand once without
//!   packing. A product with few rows is computed as the transposed product `Cᵀ = op(B)ᵀ · op(A)ᵀ`
//!   written through swapped strides of C, so one routine covers both.
//! - **Outer products** (depth `k ≤ OUTER`, e.g. a first layer with two inputs): each row of C
//!   is a short combination of rows of `op(B)`, computed in one vectorised sweep.
//! - **Blocked** (everything else): a packed, cache-blocked product in the usual three-level
//!   scheme. For each block of `NC` columns and `KC` depth, the slice of `op(B)` is packed into
//!   `NR`-column panels (L3 / L2 resident); for each block of `MC` rows the slice of `op(A)` is
//!   packed into `MR`-row panels (L2 resident); a register-blocked micro-kernel then multiplies
//!   one `MR × KC` panel of A with one `KC × NR` panel of B into an `MR × NR` tile of C. Transposed
//!   operands are handled entirely by the packing, so all four `op` combinations run the same
//!   micro-kernel at the same speed.
//!
//! Micro-kernels: `core::arch::wasm32` SIMD128 on wasm (3 × 12 tile, multiply then add since
//! baseline SIMD128 has no fused multiply-add), AVX2 + FMA on x86_64 when the CPU has it (6 × 16
//! tile, detected at run time), and otherwise a portable 4 × 8 loop the compiler vectorises.
//!
//! Packing buffers live in [`Gemm`] and only grow, so a steady stream of same-shaped products
//! allocates nothing. [`reference`] is the plain f64 triple loop that every path is tested against.

use crate::backend::Trans;

/// Products of at most this many multiply-adds go through a plain loop: anything else costs
/// more in setup than it saves.
const TINY: usize = 128;

/// Products with `n` (or `m`) at most this go through the skinny path.
const SKINNY: usize = 4;

/// Rows of `op(A)` (columns of the stored transposed A) the skinny accumulation path handles at
/// once: its `SKINNY` accumulator rows of this length stay in L1.
const SKINNY_CHUNK: usize = 1024;

/// Products at most this deep (and neither skinny nor tiny) are sums of a few outer products,
/// computed row by row of C.
const OUTER: usize = 4;

/// Depths up to this are shallow: the blocked path then walks C by rows of tiles rather than
/// by columns of tiles, and skinny products whose outputs are dot products take the plain loop.
const SHALLOW: usize = 16;

/// Reusable scratch space for [`Gemm::run`] (packing buffers), so the step loop allocates nothing.
#[derive(Default)]
pub struct Gemm {
    /// Packed `MR`-row panels of a block of `op(A)`.
    pack_a: Vec<f32>,
    /// Packed `NR`-column panels of a block of `op(B)`.
    pack_b: Vec<f32>,
    /// Gathered columns / accumulators of the skinny path.
    skinny: Vec<f32>,
}

impl Gemm {
    pub fn new() -> Self {
        Self::default()
    }

    /// `C (m×n, leading dim ldc) = alpha · op(A) · op(B) + beta · C`.
    /// A is stored m×k (lda) if `ta == N`, k×m (lda) if `T`; B is k×n (ldb) if `N`, n×k (ldb) if `T`.
    ///
    /// When `beta == 0`, C is only written (whatever it held, NaN included, is ignored); when
    /// `alpha == 0` or `k == 0`, A and B are not read. Panics if a slice is too short for its
    /// shape and leading dimension, or if `ldc < n` with more than one row.
    pub fn run(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &[f32],
        lda: usize,
        b: &[f32],
        ldb: usize,
        beta: f32,
        c: &mut [f32],
        ldc: usize,
    ) {
        if m == 0 || n == 0 {
            return;
        }
        check_c(m, n, c.len(), ldc);
        if k == 0 || alpha == 0.0 {
            scale_c(m, n, beta, c, ldc);
            return;
        }
        let args = Args {
            ta,
            tb,
            m,
            n,
            k,
            alpha,
            a,
            lda,
            b,
            ldb,
            beta,
        };
        // Skinny products whose outputs would each be a dot product too short to vectorise.
        let short_dots =
            k <= SHALLOW && ((n <= SKINNY && ta == Trans::N) || (m <= SKINNY && tb == Trans::T));
        if short_dots || m.saturating_mul(n).saturating_mul(k) <= TINY {
            direct(&args, c, ldc);
        } else if n <= SKINNY {
            skinny(&mut self.skinny, &args, c, ldc, 1);
        } else if m <= SKINNY {
            skinny(&mut self.skinny, &args.transposed(), c, 1, ldc);
        } else if k <= OUTER {
            outer(&mut self.skinny, &args, c, ldc);
        } else {
            self.blocked(&args, c, ldc, None);
        }
    }

    /// The blocked path with the kernel this CPU supports; `blocking` overrides the kernel's
    /// cache blocking (tests use tiny blocks to reach every block edge with small matrices).
    #[inline(never)]
    fn blocked(&mut self, args: &Args, c: &mut [f32], ldc: usize, blocking: Option<Blocking>) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            type K = simd128::Simd128;
            let blk =
                blocking.unwrap_or(<K as MicroKernel<{ simd128::MR }, { simd128::NR }>>::BLOCKING);
            // SAFETY: the SIMD128 kernel needs only `simd128`, enabled at compile time here.
            unsafe { blocked::<{ simd128::MR }, { simd128::NR }, K>(self, args, c, ldc, blk) };
        }
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                type K = avx2::Avx2Fma;
                let blk =
                    blocking.unwrap_or(<K as MicroKernel<{ avx2::MR }, { avx2::NR }>>::BLOCKING);
                // SAFETY: AVX2 and FMA, all the AVX2 kernel needs, were detected just above.
                unsafe { blocked::<{ avx2::MR }, { avx2::NR }, K>(self, args, c, ldc, blk) };
                return;
            }
            type K = portable::Portable;
            let blk = blocking
                .unwrap_or(<K as MicroKernel<{ portable::MR }, { portable::NR }>>::BLOCKING);
            // SAFETY: the portable kernel needs no CPU feature.
            unsafe { blocked::<{ portable::MR }, { portable::NR }, K>(self, args, c, ldc, blk) };
        }
    }
}

/// The operands of one product (C travels separately, as it is the one mutable operand).
#[derive(Clone, Copy)]
struct Args<'a> {
    ta: Trans,
    tb: Trans,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &'a [f32],
    lda: usize,
    b: &'a [f32],
    ldb: usize,
    beta: f32,
}

impl<'a> Args<'a> {
    /// The operands of `Cᵀ = op(B)ᵀ · op(A)ᵀ`: B becomes the left operand with the opposite
    /// transposition, A the right one, and the shape swaps m and n.
    fn transposed(&self) -> Args<'a> {
        Args {
            ta: flip(self.tb),
            tb: flip(self.ta),
            m: self.n,
            n: self.m,
            a: self.b,
            lda: self.ldb,
            b: self.a,
            ldb: self.lda,
            ..*self
        }
    }
}

fn flip(t: Trans) -> Trans {
    match t {
        Trans::N => Trans::T,
        Trans::T => Trans::N,
    }
}

/// Asserts that C (m×n, m, n ≥ 1) with row stride `ldc` fits in a slice of `len` elements and,
/// with more than one row, that its rows do not overlap.
fn check_c(m: usize, n: usize, len: usize, ldc: usize) {
    assert!(m == 1 || ldc >= n, "gemm: ldc = {ldc} is less than n = {n}");
    let need = (m - 1).checked_mul(ldc).and_then(|x| x.checked_add(n));
    assert!(
        need.is_some_and(|need| need <= len),
        "gemm: C has {len} elements, too few for {m}×{n} with ldc = {ldc}"
    );
}

/// `C = beta · C`, writing zeros without reading C when `beta == 0`.
fn scale_c(m: usize, n: usize, beta: f32, c: &mut [f32], ldc: usize) {
    for i in 0..m {
        let row = &mut c[i * ldc..][..n];
        if beta == 0.0 {
            row.fill(0.0);
        } else if beta != 1.0 {
            row.iter_mut().for_each(|x| *x *= beta);
        }
    }
}

/// The new value of an element of C: `v + beta · old`, where `v` already carries alpha; `old`
/// does not take part when `beta == 0`.
#[inline(always)]
fn update(v: f32, beta: f32, old: f32) -> f32 {
    if beta == 0.0 { v } else { v + beta * old }
}

fn grow(buf: &mut Vec<f32>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
}

/// Floats of slack at the front of each packing buffer, enough to start the packed panels on a
/// 64-byte boundary whatever the allocator's alignment.
const ALIGN_SLACK: usize = 16;

/// `len` floats of `buf` (grown as needed) starting on a 64-byte boundary. Panels of MR or NR
/// floats per depth step then start on 16-byte boundaries, so no vector load of the
/// micro-kernels straddles a cache line.
fn aligned(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    grow(buf, len + ALIGN_SLACK);
    let offset = buf.as_ptr().align_offset(64).min(ALIGN_SLACK);
    &mut buf[offset..offset + len]
}

fn round_up(x: usize, to: usize) -> usize {
    x.div_ceil(to) * to
}

/// The plain loop of tiny products, accumulating in f32.
#[inline(always)]
fn direct(args: &Args, c: &mut [f32], ldc: usize) {
    let &Args {
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
    } = args;
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                let av = match ta {
                    Trans::N => a[i * lda + p],
                    Trans::T => a[p * lda + i],
                };
                let bv = match tb {
                    Trans::N => b[p * ldb + j],
                    Trans::T => b[j * ldb + p],
                };
                s += av * bv;
            }
            let cij = &mut c[i * ldc + j];
            *cij = update(alpha * s, beta, *cij);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Skinny path
// ---------------------------------------------------------------------------------------------

/// `C = alpha · op(A) · op(B) + beta · C` for `n ≤ SKINNY` (and m, k ≥ 1), with element (i, j)
/// of C at `c[i·rs + j·cs]`.
///
/// With A as stored (`ta == N`) each output is a dot product of a row of A with a column of
/// `op(B)` (gathered into contiguous scratch first when B is not transposed). With A transposed,
/// row p of the stored A holds `op(A)[·, p]`, so the columns of C accumulate scaled rows of A.
#[inline(never)]
fn skinny(scratch: &mut Vec<f32>, args: &Args, c: &mut [f32], rs: usize, cs: usize) {
    let &Args {
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
    } = args;
    debug_assert!((1..=SKINNY).contains(&n) && m >= 1 && k >= 1);
    // op(B)[p, j] for p < k, j < n.
    let b_at = |p: usize, j: usize| match tb {
        Trans::N => b[p * ldb + j],
        Trans::T => b[j * ldb + p],
    };
    match ta {
        Trans::N => {
            // Columns of op(B), each contiguous over p.
            let mut cols: [&[f32]; SKINNY] = [&[]; SKINNY];
            if tb == Trans::N {
                grow(scratch, n * k);
                for (j, col) in scratch[..n * k].chunks_exact_mut(k).enumerate() {
                    for (p, x) in col.iter_mut().enumerate() {
                        *x = b[p * ldb + j];
                    }
                }
                for (j, col) in scratch[..n * k].chunks_exact(k).enumerate() {
                    cols[j] = col;
                }
            } else {
                for j in 0..n {
                    cols[j] = &b[j * ldb..][..k];
                }
            }
            for i in 0..m {
                let row = &a[i * lda..][..k];
                for (j, col) in cols[..n].iter().enumerate() {
                    let cij = &mut c[i * rs + j * cs];
                    *cij = update(alpha * dot(row, col), beta, *cij);
                }
            }
        }
        Trans::T => {
            let chunk = SKINNY_CHUNK.min(m);
            grow(scratch, n * chunk);
            let acc = &mut scratch[..n * chunk];
            for i0 in (0..m).step_by(chunk) {
                let w = chunk.min(m - i0);
                acc.fill(0.0);
                // op(A)[i0 .. i0 + w, p] as a contiguous piece of stored row p.
                let arow = |p: usize| &a[p * lda + i0..][..w];
                let mut p = 0;
                while p + 4 <= k {
                    let rows = [arow(p), arow(p + 1), arow(p + 2), arow(p + 3)];
                    for (j, y) in acc.chunks_exact_mut(chunk).enumerate() {
                        let s = [b_at(p, j), b_at(p + 1, j), b_at(p + 2, j), b_at(p + 3, j)];
                        axpy4(&mut y[..w], rows, s);
                    }
                    p += 4;
                }
                while p < k {
                    let row = arow(p);
                    for (j, y) in acc.chunks_exact_mut(chunk).enumerate() {
                        let s = b_at(p, j);
                        for (yv, &x) in y[..w].iter_mut().zip(row) {
                            *yv += x * s;
                        }
                    }
                    p += 1;
                }
                for (j, y) in acc.chunks_exact(chunk).enumerate() {
                    for (ii, &v) in y[..w].iter().enumerate() {
                        let cij = &mut c[(i0 + ii) * rs + j * cs];
                        *cij = update(alpha * v, beta, *cij);
                    }
                }
            }
        }
    }
}

/// `x · y` for slices of equal length, split over 16 interleaved partial sums so the loop
/// vectorises and consecutive additions do not wait on each other.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    const L: usize = 16;
    let (xc, yc) = (x.chunks_exact(L), y.chunks_exact(L));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    let mut acc = [0.0f32; L];
    for (xs, ys) in xc.zip(yc) {
        for l in 0..L {
            acc[l] += xs[l] * ys[l];
        }
    }
    // A plain sequential fold: a pairwise one leads the compiler to vectorise the main loop
    // only two lanes wide.
    let mut s: f32 = acc.iter().sum();
    for (&a, &b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd128::dot;

/// `y += s[0]·rows[0] + s[1]·rows[1] + s[2]·rows[2] + s[3]·rows[3]`, element-wise.
#[inline(always)]
fn axpy4(y: &mut [f32], rows: [&[f32]; 4], s: [f32; 4]) {
    let w = y.len();
    let (r0, r1, r2, r3) = (&rows[0][..w], &rows[1][..w], &rows[2][..w], &rows[3][..w]);
    for i in 0..w {
        y[i] += (r0[i] * s[0] + r1[i] * s[1]) + (r2[i] * s[2] + r3[i] * s[3]);
    }
}

// ---------------------------------------------------------------------------------------------
// Outer-product path
// ---------------------------------------------------------------------------------------------

/// `C = alpha · op(A) · op(B) + beta · C` for `1 ≤ k ≤ OUTER`: row i of C is
/// `Σ_p (alpha · op(A)[i, p]) · op(B)[p, ·] + beta · C[i, ·]`, computed in one vectorised sweep
/// over the row with the k rows of `op(B)` (gathered into scratch when B is transposed). Writing
/// C is most of the work, and each element is written once.
#[inline(never)]
fn outer(scratch: &mut Vec<f32>, args: &Args, c: &mut [f32], ldc: usize) {
    let &Args {
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
    } = args;
    debug_assert!((1..=OUTER).contains(&k));
    let mut rows: [&[f32]; OUTER] = [&[]; OUTER];
    if tb == Trans::N {
        for p in 0..k {
            rows[p] = &b[p * ldb..][..n];
        }
    } else {
        grow(scratch, k * n);
        for (p, row) in scratch[..k * n].chunks_exact_mut(n).enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = b[j * ldb + p];
            }
        }
        for (p, row) in scratch[..k * n].chunks_exact(n).enumerate() {
            rows[p] = row;
        }
    }
    for i in 0..m {
        let mut s = [0.0f32; OUTER];
        for p in 0..k {
            s[p] = alpha
                * match ta {
                    Trans::N => a[i * lda + p],
                    Trans::T => a[p * lda + i],
                };
        }
        let crow = &mut c[i * ldc..][..n];
        match k {
            1 => outer_row::<1>(crow, [rows[0]], [s[0]], beta),
            2 => outer_row::<2>(crow, [rows[0], rows[1]], [s[0], s[1]], beta),
            3 => outer_row::<3>(crow, [rows[0], rows[1], rows[2]], [s[0], s[1], s[2]], beta),
            _ => outer_row::<4>(crow, [rows[0], rows[1], rows[2], rows[3]], s, beta),
        }
    }
}

/// `crow = Σ_p s[p] · rows[p] + beta · crow`, element-wise (`crow` not read when `beta == 0`).
#[inline(always)]
fn outer_row<const K: usize>(crow: &mut [f32], rows: [&[f32]; K], s: [f32; K], beta: f32) {
    let n = crow.len();
    let rows: [&[f32]; K] = core::array::from_fn(|p| &rows[p][..n]);
    let sum = |j: usize| {
        let mut v = s[0] * rows[0][j];
        for p in 1..K {
            v += s[p] * rows[p][j];
        }
        v
    };
    if beta == 0.0 {
        for j in 0..n {
            crow[j] = sum(j);
        }
    } else {
        for j in 0..n {
            crow[j] = sum(j) + beta * crow[j];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Blocked path
// ---------------------------------------------------------------------------------------------

/// Cache blocking of the blocked path: rows of `op(A)` packed at once (`mc`), depth (`kc`) and
/// columns of `op(B)` packed at once (`nc`).
#[derive(Clone, Copy, Debug)]
struct Blocking {
    mc: usize,
    kc: usize,
    nc: usize,
}

/// A register-blocked `MR × NR` micro-kernel.
trait MicroKernel<const MR: usize, const NR: usize> {
    /// The cache blocking this kernel runs best with.
    const BLOCKING: Blocking;

    /// `C[i, j] = alpha · Σ_{p<kc} a[p·MR + i] · b[p·NR + j] + beta · C[i, j]` for `i < MR`,
    /// `j < NR`, with `C[i, j]` at `c + i·ldc + j`; C is not read when `beta == 0`.
    ///
    /// # Safety
    /// `a` must be valid for reading `kc·MR` floats and `b` for `kc·NR` floats, both aligned for
    /// f32 (pointers into f32 slices); the `MR` rows of `NR` floats at `c + i·ldc` must be valid
    /// for reading and writing, and no reference to them may be alive; the CPU must support the
    /// instructions the kernel uses.
    unsafe fn tile(
        kc: usize,
        a: *const f32,
        b: *const f32,
        alpha: f32,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    );

    /// The product of an edge tile, whose last columns may lie beyond C: at least the first
    /// `nr ≤ NR` columns of `t[i][j] = Σ_{p<kc} a[p·MR + i] · b[p·NR + j]`; the other columns of
    /// `t` may be left as they were. A kernel whose columns come in vectors overrides this to
    /// skip the vectors beyond `nr`.
    ///
    /// # Safety
    /// As [`tile`](Self::tile) for `a` and `b`.
    unsafe fn edge(kc: usize, a: *const f32, b: *const f32, nr: usize, t: &mut [[f32; NR]; MR]) {
        let _ = nr;
        // SAFETY: forwarded contract; `t` is MR rows of NR floats, contiguous, so row stride NR
        // addresses exactly `t`, which is not otherwise borrowed during the call.
        unsafe { Self::tile(kc, a, b, 1.0, 0.0, t.as_mut_ptr().cast(), NR) }
    }
}

/// The blocked product with micro-kernel `K`. Requires `m, n, k ≥ 1` and C checked by
/// [`check_c`].
///
/// # Safety
/// The CPU must support the instructions of `K`.
unsafe fn blocked<const MR: usize, const NR: usize, K: MicroKernel<MR, NR>>(
    g: &mut Gemm,
    args: &Args,
    c: &mut [f32],
    ldc: usize,
    blk: Blocking,
) {
    let &Args {
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
    } = args;
    debug_assert!(m >= 1 && n >= 1 && k >= 1 && blk.mc >= 1 && blk.kc >= 1 && blk.nc >= 1);
    debug_assert!(m == 1 || ldc >= n);
    debug_assert!((m - 1) * ldc + n <= c.len());
    let kc_max = blk.kc.min(k);
    let pack_a_buf = aligned(&mut g.pack_a, round_up(blk.mc.min(m), MR) * kc_max);
    let pack_b_buf = aligned(&mut g.pack_b, round_up(blk.nc.min(n), NR) * kc_max);
    for jc in (0..n).step_by(blk.nc) {
        let nc = blk.nc.min(n - jc);
        for pc in (0..k).step_by(blk.kc) {
            let kc = blk.kc.min(k - pc);
            // Later depth blocks add to what the first one wrote.
            let beta = if pc == 0 { beta } else { 1.0 };
            pack_b::<NR>(tb, b, ldb, pc, kc, jc, nc, pack_b_buf);
            for ic in (0..m).step_by(blk.mc) {
                let mc = blk.mc.min(m - ic);
                pack_a::<MR>(ta, a, lda, ic, mc, pc, kc, pack_a_buf);
                let (pa, pb) = (&*pack_a_buf, &*pack_b_buf);
                let mut tile = |ir: usize, jr: usize| {
                    let (mr, nr) = (MR.min(mc - ir), NR.min(nc - jr));
                    let ap = &pa[ir * kc..][..MR * kc];
                    let bp = &pb[jr * kc..][..NR * kc];
                    let (i, j) = (ic + ir, jc + jr);
                    if mr == MR && nr == NR {
                        // SAFETY: `ap` and `bp` are slices of MR·kc and NR·kc floats. The tile's
                        // rows i .. i+MR ≤ m and columns j .. j+NR ≤ n lie inside C: row r starts
                        // at (i+r)·ldc + j and ends by (m−1)·ldc + n ≤ c.len() (checked by
                        // `check_c`). A full tile means m ≥ MR > 1, so ldc ≥ n (also checked)
                        // and the rows do not overlap; `c` is not otherwise borrowed during the
                        // call. The caller guarantees the CPU features of K.
                        unsafe {
                            K::tile(
                                kc,
                                ap.as_ptr(),
                                bp.as_ptr(),
                                alpha,
                                beta,
                                c.as_mut_ptr().add(i * ldc + j),
                                ldc,
                            )
                        };
                    } else {
                        // Edge tile: compute the tile (at least its first nr columns) from the
                        // zero-padded panels into a local buffer and keep the part inside C.
                        let mut t = [[0.0f32; NR]; MR];
                        // SAFETY: as above for `ap` and `bp` (and the CPU features of K).
                        unsafe { K::edge(kc, ap.as_ptr(), bp.as_ptr(), nr, &mut t) };
                        for (r, trow) in t.iter().enumerate().take(mr) {
                            let crow = &mut c[(i + r) * ldc + j..][..nr];
                            for (cv, &v) in crow.iter_mut().zip(trow) {
                                *cv = update(alpha * v, beta, *cv);
                            }
                        }
                    }
                };
                if kc > SHALLOW {
                    // Each NR-column panel of B stays in L1 while the MR-row panels of A stream
                    // past it from L2.
                    for jr in (0..nc).step_by(NR) {
                        for ir in (0..mc).step_by(MR) {
                            tile(ir, jr);
                        }
                    }
                } else {
                    // With little depth, the work is in writing C: sweep it row band by row band
                    // so each cache line of C is completed while it is cached.
                    for ir in (0..mc).step_by(MR) {
                        for jr in (0..nc).step_by(NR) {
                            tile(ir, jr);
                        }
                    }
                }
            }
        }
    }
}

/// Packs `op(A)[ic .. ic+mc, pc .. pc+kc]` into `MR`-row panels: panel q (at `q·MR·kc`) holds,
/// for each p < kc in turn, the MR values `op(A)[ic + q·MR + r, pc + p]`, r < MR; rows beyond
/// `mc` are zero.
fn pack_a<const MR: usize>(
    ta: Trans,
    a: &[f32],
    lda: usize,
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    // Column p of op(A) is row p of the stored A when transposed.
    pack::<MR>(ta == Trans::T, a, lda, ic, mc, pc, kc, dst);
}

/// Packs `op(B)[pc .. pc+kc, jc .. jc+nc]` into `NR`-column panels: panel q (at `q·NR·kc`)
/// holds, for each p < kc in turn, the NR values `op(B)[pc + p, jc + q·NR + j]`, j < NR; columns
/// beyond `nc` are zero.
fn pack_b<const NR: usize>(
    tb: Trans,
    b: &[f32],
    ldb: usize,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    dst: &mut [f32],
) {
    // Row p of op(B) is row p of the stored B when not transposed.
    pack::<NR>(tb == Trans::N, b, ldb, jc, nc, pc, kc, dst);
}

/// The packing shared by both operands. The operand is a matrix `X[o, p]` (o the index along
/// the panels' width W, p the depth) stored in `x` with leading dimension `ld`, either with the
/// W values of one p contiguous (`across`: `X[o, p] = x[p·ld + o]`) or with each o's values along
/// p contiguous (`X[o, p] = x[o·ld + p]`). Writes `X[o0 .. o0+len, p0 .. p0+kc]` as panels of W
/// consecutive o: panel q at `q·W·kc` holds `X[o0 + q·W + r, p0 + p]` at `p·W + r`, zero for
/// `q·W + r ≥ len`.
fn pack<const W: usize>(
    across: bool,
    x: &[f32],
    ld: usize,
    o0: usize,
    len: usize,
    p0: usize,
    kc: usize,
    dst: &mut [f32],
) {
    for (q, panel) in dst[..round_up(len, W) * kc]
        .chunks_exact_mut(W * kc)
        .enumerate()
    {
        let o = o0 + q * W;
        let w = W.min(len - q * W);
        if across {
            for (p, out) in panel.chunks_exact_mut(W).enumerate() {
                let src = &x[(p0 + p) * ld + o..][..w];
                if w == W {
                    // A fixed-size copy, which compiles to a few vector moves.
                    let out: &mut [f32; W] = out.try_into().unwrap();
                    *out = src.try_into().unwrap();
                } else {
                    let (head, tail) = out.split_at_mut(w);
                    head.copy_from_slice(src);
                    tail.fill(0.0);
                }
            }
        } else if w == W {
            // Transpose W rows of x into the panel, four depths at a time.
            let rows: [&[f32]; W] = core::array::from_fn(|r| &x[(o + r) * ld + p0..][..kc]);
            let body = kc - kc % 4;
            for p in (0..body).step_by(4) {
                transpose4::<W>(&rows, p, &mut panel[p * W..(p + 4) * W]);
            }
            for p in body..kc {
                for r in 0..W {
                    panel[p * W + r] = rows[r][p];
                }
            }
        } else {
            panel.fill(0.0);
            for r in 0..w {
                let src = &x[(o + r) * ld + p0..][..kc];
                for (p, &v) in src.iter().enumerate() {
                    panel[p * W + r] = v;
                }
            }
        }
    }
}

/// Depths `p .. p+4` of W rows, depth by depth: `out[u·W + r] = rows[r][p + u]` for u < 4,
/// r < W (`out` holds 4·W floats).
#[inline(always)]
fn transpose4<const W: usize>(rows: &[&[f32]; W], p: usize, out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if W.is_multiple_of(4) || W == 3 {
        simd128::transpose4::<W>(rows, p, out);
        return;
    }
    let block: [[f32; 4]; W] = core::array::from_fn(|r| rows[r][p..p + 4].try_into().unwrap());
    for (u, out) in out.chunks_exact_mut(W).enumerate() {
        for r in 0..W {
            out[r] = block[r][u];
        }
    }
}

/// Portable 4 × 8 micro-kernel, plain loops over fixed-size arrays the compiler vectorises.
#[cfg_attr(
    all(target_arch = "wasm32", target_feature = "simd128"),
    allow(dead_code)
)]
mod portable {
    use super::{Blocking, MicroKernel, update};

    pub const MR: usize = 4;
    pub const NR: usize = 8;

    pub struct Portable;

    impl MicroKernel<MR, NR> for Portable {
        const BLOCKING: Blocking = Blocking {
            mc: 128,
            kc: 256,
            nc: 4096,
        };

        #[inline]
        unsafe fn tile(
            kc: usize,
            a: *const f32,
            b: *const f32,
            alpha: f32,
            beta: f32,
            c: *mut f32,
            ldc: usize,
        ) {
            // SAFETY: the caller guarantees kc·MR readable floats at `a` and kc·NR at `b`.
            let (a, b) = unsafe {
                (
                    core::slice::from_raw_parts(a, kc * MR),
                    core::slice::from_raw_parts(b, kc * NR),
                )
            };
            let mut acc = [[0.0f32; NR]; MR];
            for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
                for i in 0..MR {
                    for j in 0..NR {
                        acc[i][j] += ap[i] * bp[j];
                    }
                }
            }
            for (i, acc_row) in acc.iter().enumerate() {
                // SAFETY: the caller guarantees NR readable and writable floats at c + i·ldc,
                // not otherwise referenced; this row's slice ends before the next is made.
                let row = unsafe { core::slice::from_raw_parts_mut(c.add(i * ldc), NR) };
                for (cv, &v) in row.iter_mut().zip(acc_row) {
                    *cv = update(alpha * v, beta, *cv);
                }
            }
        }
    }
}

/// AVX2 + FMA 6 × 16 micro-kernel: twelve 8-lane accumulators, two vectors of B and one
/// broadcast of A per step use 15 of the 16 ymm registers.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Blocking, MicroKernel};
    use core::arch::x86_64::{
        __m256, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps,
        _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };

    pub const MR: usize = 6;
    pub const NR: usize = 16;

    pub struct Avx2Fma;

    impl MicroKernel<MR, NR> for Avx2Fma {
        const BLOCKING: Blocking = Blocking {
            mc: 144,
            kc: 256,
            nc: 4096,
        };

        #[inline]
        unsafe fn tile(
            kc: usize,
            a: *const f32,
            b: *const f32,
            alpha: f32,
            beta: f32,
            c: *mut f32,
            ldc: usize,
        ) {
            // SAFETY: forwarded contract; the caller guarantees AVX2 and FMA.
            unsafe { tile(kc, a, b, alpha, beta, c, ldc) }
        }
    }

    /// # Safety
    /// As [`MicroKernel::tile`], with AVX2 and FMA available.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile(
        kc: usize,
        a: *const f32,
        b: *const f32,
        alpha: f32,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        for p in 0..kc {
            // SAFETY: p < kc, so b + p·NR .. + NR and a + p·MR .. + MR lie in the packed panels.
            let (b0, b1) = unsafe {
                (
                    _mm256_loadu_ps(b.add(p * NR)),
                    _mm256_loadu_ps(b.add(p * NR + 8)),
                )
            };
            for i in 0..MR {
                // SAFETY: as above.
                let ai = unsafe { _mm256_broadcast_ss(&*a.add(p * MR + i)) };
                acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        let va = _mm256_set1_ps(alpha);
        let vb = _mm256_set1_ps(beta);
        for (i, acc_row) in acc.iter().enumerate() {
            for (h, &v) in acc_row.iter().enumerate() {
                // SAFETY: the caller guarantees NR readable and writable floats at c + i·ldc.
                unsafe {
                    let ptr = c.add(i * ldc + 8 * h);
                    let r: __m256 = if beta == 0.0 {
                        _mm256_mul_ps(va, v)
                    } else {
                        _mm256_fmadd_ps(vb, _mm256_loadu_ps(ptr), _mm256_mul_ps(va, v))
                    };
                    _mm256_storeu_ps(ptr, r);
                }
            }
        }
    }
}

/// WebAssembly SIMD128 3 × 12 micro-kernel: nine 4-lane accumulators, three vectors of B and a
/// splat of A per step, updated with multiply then add (baseline SIMD128 has no fused form).
///
/// V8 compiles wasm SIMD on x86-64 to 15 allocatable xmm registers; this tile holds 9
/// accumulators, 3 vectors of B, a splat of A and a product. A step then issues 18 `mulps` /
/// `addps` against 3 vector loads, 3 broadcast loads and the loop's own few instructions, which
/// keeps the two multiply and two add pipes closer to busy than a 4 × 8 tile (16 arithmetic
/// instructions against 6 loads). 5 × 8 measures about the same; anything with 12 or more
/// accumulators spills. Also the dot product of the skinny path, which the compiler does not
/// vectorise well for wasm.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use super::{Blocking, MicroKernel};
    use core::arch::wasm32::{
        f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_splat, i32x4_shuffle, v128, v128_load,
        v128_store,
    };

    pub const MR: usize = 3;
    /// Vectors of four lanes per tile row.
    const NV: usize = 3;
    pub const NR: usize = 4 * NV;

    pub struct Simd128;

    impl MicroKernel<MR, NR> for Simd128 {
        /// `mc` a multiple of MR; a packed A block of 129 × 256 floats (132 KiB) stays in L2, a
        /// B panel of 256 × 12 floats (12 KiB) in L1.
        const BLOCKING: Blocking = Blocking {
            mc: 129,
            kc: 256,
            nc: 4092,
        };

        #[inline]
        unsafe fn tile(
            kc: usize,
            a: *const f32,
            b: *const f32,
            alpha: f32,
            beta: f32,
            c: *mut f32,
            ldc: usize,
        ) {
            // SAFETY: forwarded contract, with all NV vectors of each step of B.
            unsafe { tile::<NV>(kc, a, b, alpha, beta, c, ldc) }
        }

        #[inline]
        unsafe fn edge(
            kc: usize,
            a: *const f32,
            b: *const f32,
            nr: usize,
            t: &mut [[f32; NR]; MR],
        ) {
            let t = t.as_mut_ptr().cast::<f32>();
            // SAFETY: forwarded contract; `t` is MR rows of NR floats, contiguous, so row stride
            // NR addresses exactly `t`. Only the first V vectors of each step of B are read, and
            // columns 4V.. of `t` are left as they were, which the contract allows.
            unsafe {
                match nr.div_ceil(4) {
                    1 => tile::<1>(kc, a, b, 1.0, 0.0, t, NR),
                    2 => tile::<2>(kc, a, b, 1.0, 0.0, t, NR),
                    _ => tile::<NV>(kc, a, b, 1.0, 0.0, t, NR),
                }
            }
        }
    }

    /// One step of the product: `acc[i][v] += a[i] · b[4v .. 4v+4]` for i < MR, v < V.
    ///
    /// # Safety
    /// `a` must be valid for reading MR floats and `b` for 4V floats.
    #[inline(always)]
    unsafe fn step<const V: usize>(a: *const f32, b: *const f32, acc: &mut [[v128; V]; MR]) {
        let mut bv = [f32x4_splat(0.0); V];
        for (v, bvv) in bv.iter_mut().enumerate() {
            // SAFETY: 4v + 4 ≤ 4V floats at b; `v128_load` has no alignment requirement.
            *bvv = unsafe { v128_load(b.add(4 * v).cast::<v128>()) };
        }
        for (i, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: i < MR floats at a. Read as unaligned so that the compiler draws no
            // alignment fact from it that would let it drop the masks in `tile`.
            let ai = f32x4_splat(unsafe { a.add(i).read_unaligned() });
            for (accv, &bvv) in acc_row.iter_mut().zip(&bv) {
                *accv = f32x4_add(*accv, f32x4_mul(ai, bvv));
            }
        }
    }

    /// [`MicroKernel::tile`] on the first V vectors (4V columns) of each step of the NR-wide B
    /// panel, writing the first 4V columns of the MR rows of C.
    ///
    /// # Safety
    /// As [`MicroKernel::tile`] with 4V in place of NR for C.
    #[inline(always)]
    unsafe fn tile<const V: usize>(
        kc: usize,
        a: *const f32,
        b: *const f32,
        alpha: f32,
        beta: f32,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut acc = [[f32x4_splat(0.0); V]; MR];
        let (mut ap, mut bp) = (a, b);
        for _ in 0..kc {
            // SAFETY: at step p < kc, ap = a + p·MR and bp = b + p·NR: MR floats at ap and
            // NR ≥ 4V floats at bp lie in the packed panels.
            unsafe { step::<V>(ap, bp, &mut acc) };
            // Clearing the two low address bits changes nothing (both pointers stay 4-aligned)
            // but hides the pointers' steady advance from LLVM's loop strength reduction, which
            // would otherwise rewrite `ap + 4i` and `bp + 16v` without the no-wrap flag that
            // lets the wasm backend fold the constants into the loads' offset immediates: V8
            // then spends an extra add on almost every load of the loop.
            // SAFETY: at most one step past the end of the panels (p + 1 ≤ kc).
            ap = unsafe { ap.add(MR) }.map_addr(|x| x & !3);
            bp = unsafe { bp.add(NR) }.map_addr(|x| x & !3);
        }
        let va = f32x4_splat(alpha);
        let vb = f32x4_splat(beta);
        for (i, acc_row) in acc.iter().enumerate() {
            for (v, &x) in acc_row.iter().enumerate() {
                // SAFETY: the caller guarantees 4V readable and writable floats at c + i·ldc.
                unsafe {
                    let ptr = c.add(i * ldc + 4 * v).cast::<v128>();
                    let r = if beta == 0.0 {
                        f32x4_mul(va, x)
                    } else {
                        f32x4_add(f32x4_mul(va, x), f32x4_mul(vb, v128_load(ptr)))
                    };
                    v128_store(ptr, r);
                }
            }
        }
    }

    /// [`super::transpose4`] for W a multiple of 4 (4 × 4 blocks, eight shuffles each) or W = 3
    /// (nine shuffles), with vector loads and stores instead of a load and a store per float.
    #[inline(always)]
    pub fn transpose4<const W: usize>(rows: &[&[f32]; W], p: usize, out: &mut [f32]) {
        let load = |r: usize| {
            let src = &rows[r][p..p + 4];
            // SAFETY: `src` holds 4 floats; `v128_load` has no alignment requirement.
            unsafe { v128_load(src.as_ptr().cast::<v128>()) }
        };
        let out = &mut out[..4 * W];
        let mut store = |at: usize, x: v128| {
            let dst = &mut out[at..at + 4];
            // SAFETY: `dst` holds 4 floats; `v128_store` has no alignment requirement.
            unsafe { v128_store(dst.as_mut_ptr().cast::<v128>(), x) };
        };
        if W == 3 {
            // Rows x, y, z to x0 y0 z0 x1 | y1 z1 x2 y2 | z2 x3 y3 z3.
            let (x, y, z) = (load(0), load(1), load(2));
            let xy01 = i32x4_shuffle::<0, 4, 1, 5>(x, y); // x0 y0 x1 y1
            let z0x1 = i32x4_shuffle::<0, 0, 5, 5>(z, x); // z0 z0 x1 x1
            store(0, i32x4_shuffle::<0, 1, 4, 6>(xy01, z0x1));
            let y1z1 = i32x4_shuffle::<1, 1, 5, 5>(y, z); // y1 y1 z1 z1
            let xy23 = i32x4_shuffle::<2, 6, 3, 7>(x, y); // x2 y2 x3 y3
            store(4, i32x4_shuffle::<0, 2, 4, 5>(y1z1, xy23));
            let z2xy3 = i32x4_shuffle::<2, 2, 6, 7>(z, xy23); // z2 z2 x3 y3
            let y3z3 = i32x4_shuffle::<3, 3, 7, 7>(xy23, z); // y3 y3 z3 z3
            store(8, i32x4_shuffle::<0, 2, 4, 6>(z2xy3, y3z3));
        } else {
            for g in (0..W).step_by(4) {
                let (r0, r1, r2, r3) = (load(g), load(g + 1), load(g + 2), load(g + 3));
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1); // a0 b0 a1 b1
                let t1 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3); // c0 d0 c1 d1
                let t2 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1); // a2 b2 a3 b3
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3); // c2 d2 c3 d3
                store(g, i32x4_shuffle::<0, 1, 4, 5>(t0, t1));
                store(W + g, i32x4_shuffle::<2, 3, 6, 7>(t0, t1));
                store(2 * W + g, i32x4_shuffle::<0, 1, 4, 5>(t2, t3));
                store(3 * W + g, i32x4_shuffle::<2, 3, 6, 7>(t2, t3));
            }
        }
    }

    /// `x · y` for slices of equal length, over four vectors of partial sums.
    #[inline]
    pub fn dot(x: &[f32], y: &[f32]) -> f32 {
        let k = x.len().min(y.len());
        let body = k - k % 16;
        let (xp, yp) = (x.as_ptr(), y.as_ptr());
        let mut acc = [f32x4_splat(0.0); 4];
        for p in (0..body).step_by(16) {
            for (v, accv) in acc.iter_mut().enumerate() {
                // SAFETY: p + 4v + 4 ≤ body ≤ k, so both loads lie inside their slices.
                let (xv, yv) = unsafe {
                    (
                        v128_load(xp.add(p + 4 * v).cast()),
                        v128_load(yp.add(p + 4 * v).cast()),
                    )
                };
                *accv = f32x4_add(*accv, f32x4_mul(xv, yv));
            }
        }
        let s = f32x4_add(f32x4_add(acc[0], acc[1]), f32x4_add(acc[2], acc[3]));
        let mut r = (f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s))
            + (f32x4_extract_lane::<2>(s) + f32x4_extract_lane::<3>(s));
        for p in body..k {
            r += x[p] * y[p];
        }
        r
    }
}

/// The plain triple loop, accumulating in f64: the oracle for faster kernels.
pub fn reference(
    ta: Trans,
    tb: Trans,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f64;
            for p in 0..k {
                let av = match ta {
                    Trans::N => a[i * lda + p],
                    Trans::T => a[p * lda + i],
                };
                let bv = match tb {
                    Trans::N => b[p * ldb + j],
                    Trans::T => b[j * ldb + p],
                };
                acc += av as f64 * bv as f64;
            }
            let cij = &mut c[i * ldc + j];
            let prev = if beta == 0.0 { 0.0 } else { beta * *cij };
            *cij = alpha * acc as f32 + prev;
        }
    }
}

#[cfg(test)]
mod tests;
