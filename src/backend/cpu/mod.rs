//! The CPU backend: the reference implementation of [`Backend`] and the fallback when there is
//! no GPU. Buffers are plain `Vec<f32>`; the matrix products go through [`gemm::Gemm`].

pub mod gemm;

use super::{Activation, Backend, KernelRecursion, Trans};
use crate::math::activation::{Phi, exp_f32, with_activation};

/// The CPU backend. Holds the packing scratch of the matrix kernels so steps allocate nothing.
#[derive(Default)]
pub struct Cpu {
    gemm: gemm::Gemm,
    /// Accumulators for [`Backend::col_sum`], kept to avoid allocating per step.
    col_scratch: Vec<f64>,
    col_block: Vec<f32>,
    /// Per-row and per-bag scratch of [`Backend::bag_cross_entropy`].
    bag: BagScratch,
}

impl Cpu {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Backend for Cpu {
    type Buf = Vec<f32>;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn zeros(&mut self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }

    fn upload(&mut self, data: &[f32]) -> Vec<f32> {
        data.to_vec()
    }

    fn write(&mut self, buf: &mut Vec<f32>, data: &[f32]) {
        buf[..data.len()].copy_from_slice(data);
    }

    fn read(&mut self, buf: &Vec<f32>, out: &mut [f32]) {
        let n = out.len();
        out.copy_from_slice(&buf[..n]);
    }

    fn read_async(
        &mut self,
        buf: &Vec<f32>,
        len: usize,
    ) -> impl std::future::Future<Output = crate::error::Result<Vec<f32>>> + use<> {
        std::future::ready(Ok(buf[..len].to_vec()))
    }

    fn copy(&mut self, src: &Vec<f32>, dst: &mut Vec<f32>, len: usize) {
        dst[..len].copy_from_slice(&src[..len]);
    }

    fn gemm(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &Vec<f32>,
        b: &Vec<f32>,
        beta: f32,
        c: &mut Vec<f32>,
    ) {
        let lda = if ta == Trans::N { k } else { m };
        let ldb = if tb == Trans::N { n } else { k };
        self.gemm
            .run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
    }

    fn bias_act(
        &mut self,
        rows: usize,
        cols: usize,
        z: &mut Vec<f32>,
        bias: &Vec<f32>,
        bias_scale: f32,
        act: Activation,
        h: &mut Vec<f32>,
    ) {
        let (z, h, bias) = (&mut z[..rows * cols], &mut h[..rows * cols], &bias[..cols]);
        bias_act_slices(cols, z, bias, bias_scale, act, h);
    }

    fn act_backward(
        &mut self,
        len: usize,
        z: &Vec<f32>,
        dh: &Vec<f32>,
        act: Activation,
        dz: &mut Vec<f32>,
    ) {
        let (z, dh, dz) = (&z[..len], &dh[..len], &mut dz[..len]);
        with_activation!(act, A => act_backward_with(z, dh, dz, A::derivative));
    }

    fn col_sum(
        &mut self,
        rows: usize,
        cols: usize,
        alpha: f32,
        a: &Vec<f32>,
        beta: f32,
        out: &mut Vec<f32>,
    ) {
        col_sum_slices(
            &mut self.col_scratch,
            &mut self.col_block,
            rows,
            cols,
            alpha,
            &a[..rows * cols],
            beta,
            &mut out[..cols],
        );
    }

    fn axpy(&mut self, len: usize, alpha: f32, x: &Vec<f32>, y: &mut Vec<f32>) {
        for (yv, xv) in y[..len].iter_mut().zip(&x[..len]) {
            *yv += alpha * xv;
        }
    }

    fn residual_loss(
        &mut self,
        rows: usize,
        cols: usize,
        f: &Vec<f32>,
        f0: Option<&Vec<f32>>,
        scale: f32,
        y: &Vec<f32>,
        r: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        slot: usize,
    ) {
        loss[slot] = residual_loss_slices(rows, cols, f, f0.map(|v| &v[..]), scale, y, r);
    }

    fn cross_entropy(
        &mut self,
        rows: usize,
        cols: usize,
        f: &Vec<f32>,
        f0: Option<&Vec<f32>>,
        scale: f32,
        y: &Vec<f32>,
        r: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        slot: usize,
    ) {
        loss[slot] = cross_entropy_slices(rows, cols, f, f0.map(|v| &v[..]), scale, y, r);
    }

    fn bag_cross_entropy(
        &mut self,
        rows: usize,
        cols: usize,
        bag: usize,
        f: &Vec<f32>,
        f0: Option<&Vec<f32>>,
        scale: f32,
        y: &Vec<f32>,
        r: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        slot: usize,
    ) {
        loss[slot] = bag_cross_entropy_slices(
            &mut self.bag,
            (rows, cols, bag),
            f,
            f0.map(|v| &v[..]),
            scale,
            y,
            r,
        );
    }

    fn ntk_accumulate(
        &mut self,
        len: usize,
        g_d: Option<&Vec<f32>>,
        g_x: &Vec<f32>,
        w_coef: f32,
        b_coef: f32,
        beta: f32,
        out: &mut Vec<f32>,
        offset: usize,
    ) {
        let out = &mut out[offset..offset + len];
        for i in 0..len {
            let mut term = w_coef * g_x[i] + b_coef;
            if let Some(g_d) = g_d {
                term *= g_d[i];
            }
            out[i] = if beta == 0.0 {
                term
            } else {
                beta * out[i] + term
            };
        }
    }

    fn nngp_ntk_recursion(
        &mut self,
        rows: usize,
        cols: usize,
        rec: KernelRecursion,
        a1: &Vec<f32>,
        var_rows: &Vec<f32>,
        var_cols: &Vec<f32>,
        layer_coefs: &Vec<f32>,
        out: &mut Vec<f32>,
    ) {
        let len = rows * cols;
        let depth = rec.depth;
        let (alpha_w, alpha_b) = layer_coefs[..2 * (depth + 1)].split_at(depth + 1);
        let (s2, sw2, sb2) = (rec.s2, rec.sw2, rec.sb2);
        let s2sw2 = s2 * sw2;
        let (nngp, ntk) = out[..2 * len].split_at_mut(len);
        // Element e = r·cols + c, as the shader's invocations, walked row by row, with the
        // moments of `Phi::dual_f32` (those of the shader's `moments`).
        with_activation!(rec.activation, A => {
            for (r, c) in (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c))) {
                let e = r * cols + c;
                let g = a1[e];
                let mut sigma = s2 * (sw2 * g + sb2);
                let mut theta = alpha_w[0] * g + alpha_b[0];
                for l in 0..depth {
                    let a = var_rows[l * rows + r];
                    let b = var_cols[l * cols + c];
                    let (m, md) = A::dual_f32(a, sigma, b);
                    theta = theta * (s2sw2 * md) + alpha_w[l + 1] * m + alpha_b[l + 1];
                    sigma = s2 * (sw2 * m + sb2);
                }
                nngp[e] = sigma;
                ntk[e] = theta;
            }
        })
    }

    fn gemm_batched(
        &mut self,
        ta: Trans,
        tb: Trans,
        m: usize,
        n: usize,
        k: usize,
        batch: usize,
        alpha: f32,
        scales: Option<&Vec<f32>>,
        a: &Vec<f32>,
        stride_a: usize,
        b: &Vec<f32>,
        stride_b: usize,
        beta: f32,
        c: &mut Vec<f32>,
        stride_c: usize,
    ) {
        if m == 0 || n == 0 {
            return;
        }
        let lda = if ta == Trans::N { k } else { m };
        let ldb = if tb == Trans::N { n } else { k };
        for net in 0..batch {
            // `Gemm::run` reads neither operand when this is 0: a frozen network stays as it is.
            let alpha_b = alpha * scales.map_or(1.0, |s| s[net]);
            self.gemm.run(
                ta,
                tb,
                m,
                n,
                k,
                alpha_b,
                &a[net * stride_a..],
                lda,
                &b[net * stride_b..],
                ldb,
                beta,
                &mut c[net * stride_c..],
                n,
            );
        }
    }

    fn bias_act_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        z: &mut Vec<f32>,
        bias: &Vec<f32>,
        bias_scale: f32,
        act: Activation,
        h: &mut Vec<f32>,
    ) {
        let size = rows * cols;
        if size == 0 {
            return;
        }
        let nets = z[..batch * size]
            .chunks_exact_mut(size)
            .zip(h[..batch * size].chunks_exact_mut(size))
            .zip(bias[..batch * cols].chunks_exact(cols));
        for ((z, h), bias) in nets {
            bias_act_slices(cols, z, bias, bias_scale, act, h);
        }
    }

    fn col_sum_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        alpha: f32,
        scales: Option<&Vec<f32>>,
        a: &Vec<f32>,
        beta: f32,
        out: &mut Vec<f32>,
    ) {
        let size = rows * cols;
        for net in 0..batch {
            let alpha_b = alpha * scales.map_or(1.0, |s| s[net]);
            let out_b = &mut out[net * cols..(net + 1) * cols];
            if alpha_b == 0.0 {
                // a_b is not read (it may hold anything, NaN included).
                for o in out_b {
                    *o = if beta == 0.0 { 0.0 } else { beta * *o };
                }
                continue;
            }
            col_sum_slices(
                &mut self.col_scratch,
                &mut self.col_block,
                rows,
                cols,
                alpha_b,
                &a[net * size..(net + 1) * size],
                beta,
                out_b,
            );
        }
    }

    fn residual_loss_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        f: &Vec<f32>,
        f0: Option<&Vec<f32>>,
        scale: f32,
        y: &Vec<f32>,
        r: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        slot: usize,
    ) {
        per_network(
            residual_loss_slices,
            (batch, rows, cols),
            (f, f0, scale, y),
            r,
            loss,
            slot,
        );
    }

    fn cross_entropy_batched(
        &mut self,
        batch: usize,
        rows: usize,
        cols: usize,
        f: &Vec<f32>,
        f0: Option<&Vec<f32>>,
        scale: f32,
        y: &Vec<f32>,
        r: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        slot: usize,
    ) {
        per_network(
            cross_entropy_slices,
            (batch, rows, cols),
            (f, f0, scale, y),
            r,
            loss,
            slot,
        );
    }

    fn momentum_step(
        &mut self,
        len: usize,
        lr: f32,
        beta: f32,
        wd: f32,
        g: &Vec<f32>,
        v: &mut Vec<f32>,
        theta: &mut Vec<f32>,
    ) {
        for ((vi, ti), &gi) in v[..len].iter_mut().zip(&mut theta[..len]).zip(&g[..len]) {
            *vi = beta * *vi + gi + wd * *ti;
            *ti -= lr * *vi;
        }
    }
}

/// The body of [`Backend::bias_act`] on one `rows × cols` matrix (`z`, `h`) and its `cols`
/// biases.
fn bias_act_slices(
    cols: usize,
    z: &mut [f32],
    bias: &[f32],
    bias_scale: f32,
    act: Activation,
    h: &mut [f32],
) {
    // One monomorphic loop per activation, so the element loop vectorises.
    with_activation!(act, A => bias_act_with(cols, z, bias, bias_scale, h, A::apply));
}

/// The body of [`Backend::col_sum`] on one `rows × cols` matrix `a` into `out` (`cols`),
/// with the scratch of [`Cpu`].
fn col_sum_slices(
    sums: &mut Vec<f64>,
    block: &mut Vec<f32>,
    rows: usize,
    cols: usize,
    alpha: f32,
    a: &[f32],
    beta: f32,
    out: &mut [f32],
) {
    if cols == 0 {
        return;
    }
    // f32 partial sums over blocks of 64 rows, added into f64 totals: row-wise and
    // vectorisable, with the rounding error of a 64-term sum per block.
    sums.clear();
    sums.resize(cols, 0.0);
    block.clear();
    block.resize(cols, 0.0);
    for rows_chunk in a[..rows * cols].chunks(64 * cols) {
        block.fill(0.0);
        for row in rows_chunk.chunks_exact(cols) {
            for (s, &v) in block.iter_mut().zip(row) {
                *s += v;
            }
        }
        for (t, &s) in sums.iter_mut().zip(block.iter()) {
            *t += s as f64;
        }
    }
    for (o, &s) in out[..cols].iter_mut().zip(sums.iter()) {
        let prev = if beta == 0.0 { 0.0 } else { beta * *o };
        *o = alpha * s as f32 + prev;
    }
}

/// The body of [`Backend::residual_loss`] on `rows × cols` outputs: writes `r`, returns the
/// loss.
/// A loss's signal and value on one network's outputs: (rows, cols, f, f0, scale, y, r) → loss.
type LossSlices = fn(usize, usize, &[f32], Option<&[f32]>, f32, &[f32], &mut [f32]) -> f32;

/// The signal `r` and loss of `batch` networks on shared targets `y`, each through `one` (a
/// loss's slice function) on its own block of `rows × cols` outputs, its loss into
/// `loss[slot · batch + b]`.
fn per_network(
    one: LossSlices,
    (batch, rows, cols): (usize, usize, usize),
    (f, f0, scale, y): (&[f32], Option<&Vec<f32>>, f32, &[f32]),
    r: &mut [f32],
    loss: &mut [f32],
    slot: usize,
) {
    let len = rows * cols;
    for net in 0..batch {
        let at = net * len;
        loss[slot * batch + net] = one(
            rows,
            cols,
            &f[at..at + len],
            f0.map(|f0| &f0[at..at + len]),
            scale,
            y,
            &mut r[at..at + len],
        );
    }
}

fn residual_loss_slices(
    rows: usize,
    cols: usize,
    f: &[f32],
    f0: Option<&[f32]>,
    scale: f32,
    y: &[f32],
    r: &mut [f32],
) -> f32 {
    let len = rows * cols;
    let mut acc = 0.0f64;
    for i in 0..len {
        let fi = match f0 {
            Some(f0) => f[i] - f0[i],
            None => f[i],
        };
        let ri = scale * fi - y[i];
        r[i] = ri;
        acc += (ri as f64) * (ri as f64);
    }
    (acc / (2.0 * rows as f64)) as f32
}

/// One row of the trained outputs g = scale·(f − f₀) (f₀ absent: scale·f) written into `g`, and
/// its largest entry: a compare and select (f32::max does not vectorise in wasm) that skips
/// NaN as f32::max does. The softmax losses' shared first pass.
fn trained_row(g: &mut [f32], f: &[f32], f0: Option<&[f32]>, scale: f32) -> f32 {
    match f0 {
        Some(f0) => {
            for ((gc, &fc), &f0c) in g.iter_mut().zip(f).zip(f0) {
                *gc = scale * (fc - f0c);
            }
        }
        None => {
            for (gc, &fc) in g.iter_mut().zip(f) {
                *gc = scale * fc;
            }
        }
    }
    g.iter()
        .fold(f32::NEG_INFINITY, |m, &gc| if gc > m { gc } else { m })
}

/// The body of [`Backend::cross_entropy`] on `rows × cols` logits: writes `r`, returns the
/// loss. Three passes over `r`: per row, the logits g, their maximum m, the loss term
/// Σ_c y_c (m − g_c) (in f64) and the exponents g_c − m; then e = exp(g − m) over the whole
/// matrix — one exp per logit, through [`exp_f32`], in one loop that vectorises whatever K
/// is; then per row the sum s of its e, (Σ_c y_c) ln s for the loss, and the softmax minus the
/// targets e_c / s − y_c. Each row adds Σ_c y_c (logsumexp(g) − g_c) to the loss, summed in
/// f64.
fn cross_entropy_slices(
    rows: usize,
    cols: usize,
    f: &[f32],
    f0: Option<&[f32]>,
    scale: f32,
    y: &[f32],
    r: &mut [f32],
) -> f32 {
    let len = rows * cols;
    let mut acc = 0.0f64;
    for i in 0..rows {
        let at = i * cols;
        let g = &mut r[at..at + cols];
        let m = trained_row(g, &f[at..at + cols], f0.map(|f0| &f0[at..at + cols]), scale);
        // Σ_c y_c (m − g_c) ≥ 0, before g is overwritten.
        for (&gc, &yc) in g.iter().zip(&y[at..at + cols]) {
            acc += yc as f64 * (m - gc) as f64;
        }
        for gc in g.iter_mut() {
            *gc -= m;
        }
    }
    for v in r[..len].iter_mut() {
        *v = exp_f32(*v);
    }
    for i in 0..rows {
        let at = i * cols;
        let e = &mut r[at..at + cols];
        let yi = &y[at..at + cols];
        let mut s = 0.0f32;
        for &ec in e.iter() {
            s += ec;
        }
        let mut mass = 0.0f64;
        for &yc in yi {
            mass += yc as f64;
        }
        acc += mass * (s as f64).ln();
        for (ec, &yc) in e.iter_mut().zip(yi) {
            *ec = *ec / s - yc;
        }
    }
    (acc / rows as f64) as f32
}

/// Scratch of [`bag_cross_entropy_slices`], kept so that steps allocate nothing.
#[derive(Default)]
struct BagScratch {
    /// Per logit (`rows × cols`): g_ic − m_i, then a_ic = g_ic − m_i − ln S_i.
    d: Vec<f32>,
    a: Vec<f32>,
    /// Per row: the sum S_i = Σ_c e^{g_ic − m_i}.
    sum: Vec<f32>,
    /// Per row: the proportion mass Σ_c p_jc over the classes whose largest log softmax in
    /// its bag is this row's (the weight of its ln S_i in the loss).
    mass: Vec<f64>,
    /// Per class of one bag: p_c, the largest a_ic, its row, and T_c.
    p: Vec<f32>,
    top: Vec<f32>,
    top_row: Vec<usize>,
    t: Vec<f32>,
    /// Per logit of one bag (`bag × cols`): e^{a_ic − a*_c}, then u_ic.
    e: Vec<f32>,
}

/// The body of [`Backend::bag_cross_entropy`] on `rows × cols` logits in bags of `bag` rows:
/// writes `r`, returns the loss (NaN when `bag` is 0 or does not divide `rows`).
///
/// The passes of [`cross_entropy_slices`] first: per row the logits g, their maximum m_i and
/// d = g − m (kept); e = exp(d) over the whole matrix through [`exp_f32`]; per row the sum
/// S_i and the softmax s = e / S_i, and a = d − ln S_i. Then per bag, row by row so that the
/// loops run along the classes: per class c the mean target p_c, the largest a_ic (a*_c, at
/// row i*), T_c = Σ_i e^{a_ic − a*_c} and u_ic = p_c · (bag · e^{a_ic − a*_c} / T_c); the loss
/// terms p_c (m_{i*} − g_{i*c}) = −p_c d_{i*c} (added in order, as cross-entropy adds
/// y_c (m − g_c)), p_c into the mass of row i*, and p_c (ln bag − ln T_c); per row
/// U_i = Σ_c u_ic and r = s U_i − u. Last the loss adds mass_i ln S_i row by row (as
/// cross-entropy adds (Σ_c y_c) ln S_i) and then the ln T terms, in f64. With bags of one,
/// a − a* = 0, e⁰ = T = 1 and ln 1 = 0 make every extra term exactly 0 or 1: the result is
/// cross-entropy's, bit for bit, when each target row sums to exactly 1 in f32 (U_i = 1).
fn bag_cross_entropy_slices(
    scratch: &mut BagScratch,
    (rows, cols, bag): (usize, usize, usize),
    f: &[f32],
    f0: Option<&[f32]>,
    scale: f32,
    y: &[f32],
    r: &mut [f32],
) -> f32 {
    if bag == 0 || !rows.is_multiple_of(bag) {
        return f32::NAN;
    }
    let len = rows * cols;
    if len == 0 {
        return 0.0;
    }
    let BagScratch {
        d,
        a,
        sum,
        mass,
        p,
        top,
        top_row,
        t,
        e,
    } = scratch;
    d.clear();
    d.resize(len, 0.0);
    a.clear();
    a.resize(len, 0.0);
    sum.clear();
    sum.resize(rows, 0.0);
    mass.clear();
    mass.resize(rows, 0.0);
    for v in [&mut *p, &mut *top, &mut *t] {
        v.clear();
        v.resize(cols, 0.0);
    }
    top_row.clear();
    top_row.resize(cols, 0);
    e.clear();
    e.resize(bag * cols, 0.0);
    for i in 0..rows {
        let at = i * cols;
        let g = &mut r[at..at + cols];
        let m = trained_row(g, &f[at..at + cols], f0.map(|f0| &f0[at..at + cols]), scale);
        for gc in g.iter_mut() {
            *gc -= m;
        }
    }
    d.copy_from_slice(&r[..len]);
    for v in r[..len].iter_mut() {
        *v = exp_f32(*v);
    }
    for i in 0..rows {
        let at = i * cols;
        let ex = &mut r[at..at + cols];
        let mut s = 0.0f32;
        for &ec in ex.iter() {
            s += ec;
        }
        sum[i] = s;
        for ec in ex.iter_mut() {
            *ec /= s;
        }
        let ln_s = s.ln();
        for (ac, &dc) in a[at..at + cols].iter_mut().zip(&d[at..at + cols]) {
            *ac = dc - ln_s;
        }
    }
    let mut acc = 0.0f64;
    let mut acc_bag = 0.0f64;
    let bag_f = bag as f32;
    let ln_bag = (bag as f64).ln();
    for j in 0..rows / bag {
        let first = j * bag * cols;
        let block = first..first + bag * cols;
        let (yb, ab) = (&y[block.clone()], &a[block.clone()]);
        p.fill(0.0);
        top.copy_from_slice(&ab[..cols]);
        top_row.fill(0);
        for (i, (yr, ar)) in yb.chunks_exact(cols).zip(ab.chunks_exact(cols)).enumerate() {
            for c in 0..cols {
                p[c] += yr[c];
                if ar[c] > top[c] {
                    top[c] = ar[c];
                    top_row[c] = i;
                }
            }
        }
        for pc in p.iter_mut() {
            *pc /= bag_f;
        }
        for (er, ar) in e.chunks_exact_mut(cols).zip(ab.chunks_exact(cols)) {
            for ((ec, &ac), &tc) in er.iter_mut().zip(ar).zip(top.iter()) {
                *ec = ac - tc;
            }
        }
        for ec in e.iter_mut() {
            *ec = exp_f32(*ec);
        }
        t.fill(0.0);
        for er in e.chunks_exact(cols) {
            for (tc, &ec) in t.iter_mut().zip(er) {
                *tc += ec;
            }
        }
        for c in 0..cols {
            let row = j * bag + top_row[c];
            acc += p[c] as f64 * (-d[row * cols + c]) as f64;
            mass[row] += p[c] as f64;
            acc_bag += p[c] as f64 * (ln_bag - (t[c] as f64).ln());
        }
        for (i, er) in e.chunks_exact_mut(cols).enumerate() {
            for ((ec, &pc), &tc) in er.iter_mut().zip(p.iter()).zip(t.iter()) {
                *ec = pc * (bag_f * *ec / tc);
            }
            let mut total = 0.0f32;
            for &uc in er.iter() {
                total += uc;
            }
            let at = first + i * cols;
            for (rc, &uc) in r[at..at + cols].iter_mut().zip(er.iter()) {
                *rc = *rc * total - uc;
            }
        }
    }
    for (&w, &s) in mass.iter().zip(sum.iter()) {
        acc += w * (s as f64).ln();
    }
    acc += acc_bag;
    (acc / (rows / bag) as f64) as f32
}

/// `z[i,j] += bias_scale · bias[j]; h[i,j] = φ(z[i,j])` over rows of `cols`.
#[inline(always)]
fn bias_act_with(
    cols: usize,
    z: &mut [f32],
    bias: &[f32],
    bias_scale: f32,
    h: &mut [f32],
    phi: impl Fn(f32) -> f32,
) {
    for (zr, hr) in z.chunks_exact_mut(cols).zip(h.chunks_exact_mut(cols)) {
        for ((zv, hv), &bv) in zr.iter_mut().zip(hr.iter_mut()).zip(bias) {
            *zv += bias_scale * bv;
            *hv = phi(*zv);
        }
    }
}

/// `dz[i] = dh[i] · φ'(z[i])`.
#[inline(always)]
fn act_backward_with(z: &[f32], dh: &[f32], dz: &mut [f32], dphi: impl Fn(f32) -> f32) {
    for ((d, &zv), &g) in dz.iter_mut().zip(z).zip(dh) {
        *d = g * dphi(zv);
    }
}
