// bag_cross_entropy: the DLLP bag loss's signal and value for rows × cols logits
// g = scale · (f − f0) (f0 absent: scale · f) in consecutive bags of `bag` rows, targets y
// (rows × cols; bag j's proportions p_jc are the mean of its rows):
//   p̄_jc = (1/bag) Σ_{i∈B_j} softmax(g_i)_c,   u_ic = p_jc · softmax(g_i)_c / p̄_jc,
//   r[i, c] = softmax(g_i)_c · Σ_c' u_ic' − u_ic,
//   loss[slot] = −(1/m) Σ_j Σ_c p_jc log p̄_jc   (m = rows / bag bags),
// stably: a_ic = log softmax(g_i)_c = (g_ic − max g_i) − log Σ_c' exp(g_ic' − max g_i) ≤ 0, and per
// bag and class, with a* the bag's largest a_ic and T = Σ_i exp(a_ic − a*) ∈ [1, bag],
//   −log p̄_jc = log bag − a* − log T ≥ 0,   softmax_ic / p̄_jc = bag · exp(a_ic − a*) / T.
// When f0 is absent the host binds f in its place and sets has_f0 = 0.
// CPU twin: `Cpu::bag_cross_entropy` (src/backend/cpu/mod.rs).
//
// Three dispatches of this entry point, by `phase`:
//   0: one invocation per row begin..end: a_ic into r.
//   1: one workgroup of 256 invocations striding over the (bag, class) pairs begin..end
//      (pair q = j · cols + c): a*, T and p_jc from the bag's rows, u_ic into r in place of
//      a_ic, and the pairs' loss terms p_jc (log bag − a* − log T), summed in f32 and by a tree
//      in workgroup memory into loss[slot] / m (added to it when accumulate = 1). The host
//      splits many pairs into slices so that no invocation loops for long (llvmpipe stops an
//      invocation after 65535 loop iterations): each pair loops three times over its bag.
//   2: one invocation per row: the softmax again from the logits, and r = softmax · Σ_c u − u.
// Rows of a bag may lie in different workgroups of phases 0 and 2: those work row by row.

// Keep in sync with `BagCrossEntropyParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    bag: u32,
    slot: u32,
    scale: f32,
    phase: u32,
    begin: u32,
    end: u32,
    accumulate: u32,
    has_f0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> f0: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn logit(at: u32) -> f32 {
    var fi = f[at];
    if (p.has_f0 != 0u) {
        fi = fi - f0[at];
    }
    return p.scale * fi;
}

@compute @workgroup_size(256)
fn bag_cross_entropy(
    @builtin(local_invocation_index) lid: u32,
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    if (p.phase == 1u) {
        let k = f32(p.bag);
        let log_k = log(k);
        var acc = 0.0;
        for (var q = p.begin + lid; q < p.end; q += 256u) {
            let c = q % p.cols;
            let first = (q / p.cols) * p.bag;
            var top = r[first * p.cols + c];
            var pc = 0.0;
            for (var i = 0u; i < p.bag; i++) {
                let at = (first + i) * p.cols + c;
                top = max(top, r[at]);
                pc += y[at];
            }
            pc = pc / k;
            var t = 0.0;
            for (var i = 0u; i < p.bag; i++) {
                t += exp(r[(first + i) * p.cols + c] - top);
            }
            acc = fma(pc, (log_k - top) - log(t), acc);
            let w = pc * (k / t);
            for (var i = 0u; i < p.bag; i++) {
                let at = (first + i) * p.cols + c;
                r[at] = w * exp(r[at] - top);
            }
        }
        partial[lid] = acc;
        workgroupBarrier();
        for (var stride = 128u; stride > 0u; stride >>= 1u) {
            if (lid < stride) {
                partial[lid] += partial[lid + stride];
            }
            workgroupBarrier();
        }
        if (lid == 0u) {
            let part = partial[0] / f32(p.rows / p.bag);
            if (p.accumulate != 0u) {
                loss[p.slot] = loss[p.slot] + part;
            } else {
                loss[p.slot] = part;
            }
        }
        return;
    }
    let i = p.begin + gid.x + gid.y * nwg.x * 256u;
    if (i >= p.end) {
        return;
    }
    let row = i * p.cols;
    var m = logit(row);
    for (var c = 1u; c < p.cols; c++) {
        m = max(m, logit(row + c));
    }
    var s = 0.0;
    for (var c = 0u; c < p.cols; c++) {
        s += exp(logit(row + c) - m);
    }
    if (p.phase == 0u) {
        let log_s = log(s);
        for (var c = 0u; c < p.cols; c++) {
            r[row + c] = (logit(row + c) - m) - log_s;
        }
        return;
    }
    var u = 0.0;
    for (var c = 0u; c < p.cols; c++) {
        u += r[row + c];
    }
    for (var c = 0u; c < p.cols; c++) {
        r[row + c] = exp(logit(row + c) - m) / s * u - r[row + c];
    }
}
