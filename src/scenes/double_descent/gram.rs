//! Gram matrices, the per-size factorisations, and the batched test predictions that let a
//! ridge change re-fit without touching the features.

use nalgebra::DMatrix;

use super::features::Components;
use super::{Size, Sweep};
use crate::backend::Trans;
use crate::backend::cpu::gemm::Gemm;
use crate::linalg::Tridiagonal;
use crate::linalg::dot;

/// `phi[rows, cols]` (row-major f32 with row length `ld`) as an f64 matrix.
pub(super) fn block_f64(
    phi: &[f32],
    ld: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> DMatrix<f64> {
    let (r0, c0) = (rows.start, cols.start);
    DMatrix::from_fn(rows.len(), cols.len(), |i, j| {
        phi[(r0 + i) * ld + c0 + j] as f64
    })
}

/// Rows `rows` of a row-major `· × k` f64 array as a matrix.
fn rows_f64(y: &[f64], k: usize, rows: std::ops::Range<usize>) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), k, |i, c| y[(rows.start + i) * k + c])
}

/// The leading m × m block of a symmetric matrix, as a row-major Vec.
fn leading_block(a: &DMatrix<f64>, m: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(m * m);
    for i in 0..m {
        // Column i of a symmetric matrix is its row i.
        out.extend_from_slice(&a.column(i).as_slice()[..m]);
    }
    out
}

/// A matrix (column-major) as a row-major Vec.
fn row_major(a: &DMatrix<f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.nrows() {
        out.extend(a.row(i).iter());
    }
    out
}

/// `c += a·aᵀ` on the upper triangle only (rows ≤ columns; the rest of `c` is left as it is):
/// `a` is `m × r` and `a_t` its transpose. The rows go in `UPPER_BLOCKS` bands, each multiplied
/// against the columns from its own first row on, which does (B + 1)/2B of the full product's
/// work (58 % for B = 6). Readers of `c` take the upper triangle ([`symmetric_row_major`]).
fn accumulate_upper(c: &mut DMatrix<f64>, a: &DMatrix<f64>, a_t: &DMatrix<f64>) {
    const UPPER_BLOCKS: usize = 6;
    let m = c.nrows();
    let band = m.div_ceil(UPPER_BLOCKS).max(1);
    for i0 in (0..m).step_by(band) {
        let rows = band.min(m - i0);
        let mut view = c.view_mut((i0, i0), (rows, m - i0));
        view.gemm(1.0, &a.rows(i0, rows), &a_t.columns(i0, m - i0), 1.0);
    }
}

/// A symmetric matrix given by its upper triangle (column-major) as a full row-major Vec.
fn symmetric_row_major(a: &DMatrix<f64>) -> Vec<f64> {
    let m = a.nrows();
    let mut out = Vec::with_capacity(m * m);
    for i in 0..m {
        // Row i: column i above the diagonal (the lower half's mirror), then row i from the
        // diagonal on.
        out.extend_from_slice(&a.column(i).as_slice()[..i]);
        out.extend((i..m).map(|j| a[(i, j)]));
    }
    out
}

/// One size's factorisation and projected labels.
#[derive(Clone, Debug)]
pub(super) struct SizeFit {
    pub(super) size: Size,
    pub(super) tri: Tridiagonal,
    /// Per label component: Qᵀb (`m × outputs`), b = y (dual) or Φ_pᵀy (primal).
    pub(super) proj: Vec<Vec<f64>>,
    /// ⟨y_i, y_j⟩ over the size's n training rows, components i, j (`J × J`).
    pub(super) y_gram: Vec<f64>,
    /// The smallest ridge used: m·ε·‖A‖_F.
    pub(super) cutoff: f64,
}

/// One size's Gram and right-hand sides, before the reduction ([`PendingFit::factor`]): the
/// sizes of a replicate reduce independently of each other.
pub(super) struct PendingFit {
    size: Size,
    /// The Gram (`m × m`, row-major).
    a: Vec<f64>,
    b: Vec<Vec<f64>>,
    y_gram: Vec<f64>,
    outputs: usize,
}

fn make_fit(
    size: Size,
    a: Vec<f64>,
    b: Vec<Vec<f64>>,
    y_gram: Vec<f64>,
    outputs: usize,
) -> PendingFit {
    PendingFit {
        size,
        a,
        b,
        y_gram,
        outputs,
    }
}

impl PendingFit {
    /// The side of the Gram (the reduction costs 4/3·m³ flops).
    pub(super) fn dim(&self) -> usize {
        self.size.factor_dim()
    }

    /// Reduces the Gram and projects the right-hand sides.
    pub(super) fn factor(self) -> SizeFit {
        let PendingFit {
            size,
            a,
            mut b,
            y_gram,
            outputs,
        } = self;
        let m = size.factor_dim();
        let fro = dot(&a, &a).sqrt();
        let cutoff = m as f64 * f64::EPSILON * fro;
        let tri = Tridiagonal::new(a, m);
        for part in &mut b {
            tri.apply_qt(part, outputs);
        }
        SizeFit {
            size,
            tri,
            proj: b,
            y_gram,
            cutoff,
        }
    }
}

/// ⟨y_i[rows], y_j[rows]⟩ for all component pairs.
fn component_gram(train: &[Vec<f64>], k: usize, rows: usize) -> Vec<f64> {
    let j = train.len();
    let mut g = vec![0.0; j * j];
    for a in 0..j {
        for b in 0..j {
            g[a * j + b] = dot(&train[a][..rows * k], &train[b][..rows * k]);
        }
    }
    g
}

/// The Gram and right-hand sides of every size of the grid for one replicate (see the module
/// documentation), in grid order, each to be factorised ([`PendingFit::factor`]).
pub(super) fn pending_fits(
    grid: &[Size],
    phi: &[f32],
    p_max: usize,
    comps: &Components,
    k: usize,
    sweep: Sweep,
) -> Vec<PendingFit> {
    let mut fits: Vec<Option<PendingFit>> = (0..grid.len()).map(|_| None).collect();
    match sweep {
        Sweep::Features => {
            let n = grid[0].n;
            let ys: Vec<DMatrix<f64>> = comps.train.iter().map(|y| rows_f64(y, k, 0..n)).collect();
            let y_gram = component_gram(&comps.train, k, n);
            // Primal sizes (p < n): leading blocks of one p × p Gram.
            if let Some(p_pm) = grid.iter().filter(|s| !s.is_dual()).map(|s| s.p).max() {
                let phi_pm = block_f64(phi, p_max, 0..n, 0..p_pm);
                let phi_pm_t = phi_pm.transpose();
                let g = &phi_pm_t * &phi_pm;
                let b: Vec<DMatrix<f64>> = ys.iter().map(|y| &phi_pm_t * y).collect();
                for (i, s) in grid.iter().enumerate().filter(|(_, s)| !s.is_dual()) {
                    let parts = b
                        .iter()
                        .map(|bj| row_major(&bj.rows(0, s.p).into_owned()))
                        .collect();
                    fits[i] = Some(make_fit(
                        *s,
                        leading_block(&g, s.p),
                        parts,
                        y_gram.clone(),
                        k,
                    ));
                }
            }
            // Dual sizes (p ≥ n): K accumulates as feature columns are added.
            let mut gram = DMatrix::<f64>::zeros(n, n);
            let mut p_done = 0;
            let y_parts: Vec<Vec<f64>> = ys.iter().map(row_major).collect();
            for (i, s) in grid.iter().enumerate().filter(|(_, s)| s.is_dual()) {
                if s.p > p_done {
                    let blk = block_f64(phi, p_max, 0..n, p_done..s.p);
                    accumulate_upper(&mut gram, &blk, &blk.transpose());
                    p_done = s.p;
                }
                fits[i] = Some(make_fit(
                    *s,
                    symmetric_row_major(&gram),
                    y_parts.clone(),
                    y_gram.clone(),
                    k,
                ));
            }
        }
        Sweep::Samples => {
            let p = grid[0].p;
            // Dual sizes (n ≤ p): leading blocks of one n × n Gram.
            if let Some(n_dm) = grid.iter().filter(|s| s.is_dual()).map(|s| s.n).max() {
                let phi_dm = block_f64(phi, p_max, 0..n_dm, 0..p);
                let kmat = &phi_dm * phi_dm.transpose();
                for (i, s) in grid.iter().enumerate().filter(|(_, s)| s.is_dual()) {
                    let parts = comps.train.iter().map(|y| y[..s.n * k].to_vec()).collect();
                    let y_gram = component_gram(&comps.train, k, s.n);
                    fits[i] = Some(make_fit(*s, leading_block(&kmat, s.n), parts, y_gram, k));
                }
            }
            // Primal sizes (n > p): G and Φᵀy accumulate as training rows are added.
            let mut gram = DMatrix::<f64>::zeros(p, p);
            let mut b: Vec<DMatrix<f64>> =
                comps.train.iter().map(|_| DMatrix::zeros(p, k)).collect();
            let mut n_done = 0;
            for (i, s) in grid.iter().enumerate().filter(|(_, s)| !s.is_dual()) {
                if s.n > n_done {
                    let blk = block_f64(phi, p_max, n_done..s.n, 0..p);
                    let blk_t = blk.transpose();
                    accumulate_upper(&mut gram, &blk_t, &blk);
                    for (bj, y) in b.iter_mut().zip(&comps.train) {
                        bj.gemm(1.0, &blk_t, &rows_f64(y, k, n_done..s.n), 1.0);
                    }
                    n_done = s.n;
                }
                let parts = b.iter().map(row_major).collect();
                let y_gram = component_gram(&comps.train, k, s.n);
                fits[i] = Some(make_fit(*s, symmetric_row_major(&gram), parts, y_gram, k));
            }
        }
    }
    fits.into_iter()
        .map(|f| f.expect("every size is dual or primal"))
        .collect()
}

/// The shortest span of the inner dimension one product of the batched predictions covers:
/// neighbouring sizes are merged into segments at least this long, so that a sweep takes a
/// few large products instead of one small one per size (the zero rows a merged segment
/// includes cost a little arithmetic, far less than re-reading the output per size).
const MIN_SEGMENT: usize = 64;

/// Splits [0, ℓ_last) at the ascending prefixes ℓ_b into segments of at least `min_len`
/// (except possibly the last), as (start, end, first block b with ℓ_b > start).
fn segments(prefixes: &[usize], min_len: usize) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let last = prefixes.last().copied().unwrap_or(0);
    for &p in prefixes {
        if p >= start + min_len || (p == last && p > start) {
            let first = prefixes
                .iter()
                .position(|&l| l > start)
                .unwrap_or(prefixes.len());
            out.push((start, p, first));
            start = p;
        }
    }
    out
}

/// For blocks b = 0.. of `k` columns with ascending prefixes ℓ_b:
/// `out[:, b·k..(b+1)·k] = op(M)[:, :ℓ_b] · B[:ℓ_b, b·k..(b+1)·k]`, skipping most of the zero
/// parts. B must hold zeros in rows ℓ_b.. of block b. op(M) is `rows × L`: M stored `rows × L`
/// (`Trans::N`) or `L × rows` (`Trans::T`), leading dimension `ld_m`; B is `L × blocks·k`
/// (leading dimension `ld_b`); out is `rows × blocks·k` (leading dimension `ld_out`).
pub(super) fn gemm_inner_prefix(
    gemm: &mut Gemm,
    m: &[f32],
    ld_m: usize,
    trans: Trans,
    rows: usize,
    prefixes: &[usize],
    k: usize,
    b: &[f32],
    ld_b: usize,
    out: &mut [f32],
    ld_out: usize,
) {
    for (i, (start, end, first)) in segments(prefixes, MIN_SEGMENT).into_iter().enumerate() {
        let a_off = match trans {
            Trans::N => start,
            Trans::T => start * ld_m,
        };
        gemm.run(
            trans,
            Trans::N,
            rows,
            (prefixes.len() - first) * k,
            end - start,
            1.0,
            &m[a_off..],
            ld_m,
            &b[start * ld_b + first * k..],
            ld_b,
            if i == 0 { 0.0 } else { 1.0 },
            &mut out[first * k..],
            ld_out,
        );
    }
}

/// Zeroes rows ℓ_b.. (of `total`) of every block b of `k` columns in a row-major array with
/// leading dimension `ld`, blocks starting at column `col`.
pub(super) fn zero_past_prefixes(
    buf: &mut [f32],
    ld: usize,
    total: usize,
    prefixes: &[usize],
    k: usize,
    col: usize,
) {
    for (b, &l) in prefixes.iter().enumerate() {
        for row in l..total {
            buf[row * ld + col + b * k..row * ld + col + (b + 1) * k].fill(0.0);
        }
    }
}

/// For blocks b = 0.. of `k` columns with ascending prefixes ℓ_b:
/// `out[:ℓ_b, b·k..(b+1)·k] = M[:, :ℓ_b]ᵀ · B[:, b·k..(b+1)·k]` and zeros in rows ℓ_b..`total`
/// of each block: the outer side is cut at the prefixes, as [`gemm_inner_prefix`] cuts the
/// inner one. M is `rows × total` (leading dimension `ld_m`), B is `rows × blocks·k`
/// (leading dimension `ld_b`), out is `total × blocks·k` (leading dimension `ld_out`).
#[allow(clippy::too_many_arguments)]
pub(super) fn gemm_outer_prefix(
    gemm: &mut Gemm,
    m: &[f32],
    ld_m: usize,
    rows: usize,
    total: usize,
    prefixes: &[usize],
    k: usize,
    b: &[f32],
    ld_b: usize,
    out: &mut [f32],
    ld_out: usize,
) {
    for (start, end, first) in segments(prefixes, MIN_SEGMENT) {
        gemm.run(
            Trans::T,
            Trans::N,
            end - start,
            (prefixes.len() - first) * k,
            rows,
            1.0,
            &m[start..],
            ld_m,
            &b[first * k..],
            ld_b,
            0.0,
            &mut out[start * ld_out + first * k..],
            ld_out,
        );
    }
    // A segment computes whole rows of the blocks it reaches, past their prefixes too, and
    // leaves the earlier blocks' rows as they were.
    zero_past_prefixes(out, ld_out, total, prefixes, k, 0);
}

/// Reusable buffers for a re-fit.
#[derive(Default)]
pub(super) struct Workspace {
    pub(super) gemm: Gemm,
    /// Fitted second-layer weights of every size, `p_max × sizes·k` (f32).
    pub(super) a: Vec<f32>,
    /// Dual coefficients α of the dual sizes, `n_max × dual sizes·k` (f32).
    pub(super) alpha: Vec<f32>,
    /// Test predictions of every size, `n_test × sizes·k` (f32).
    pub(super) f_test: Vec<f32>,
}
