// cross_entropy_batched: for the networks b of a batch, each with rows × cols logits
// g = scale · (f − f0) (f0 absent: scale · f) back to back in f (and f0, r), and the targets y
// (rows × cols probabilities) shared:
//   r[b, i, c] = softmax(g_{b,i})_c − y[i, c]
//   loss[slot·batch + b] = (1/rows) Σ_i Σ_c y[i, c] · (logsumexp(g_{b,i}) − g[b, i, c])
// stably: the row maximum m is subtracted before exponentiating, and
// logsumexp − g_c = (m − g_c) + log Σ exp(g − m) ≥ 0. When f0 is absent the host binds f in its
// place and sets has_f0 = 0.
// CPU twin: `Cpu::cross_entropy_batched` (src/backend/cpu/mod.rs). `Gpu::cross_entropy` is
// this shader with a batch of one.
//
// One workgroup of 256 invocations per network (the workgroup's x): each strides over the
// rows begin..end (three passes over a row's cols logits: maximum, sum, signal), accumulating
// its part of the loss in f32, then a tree in workgroup memory. The host splits many rows
// into slices, each adding its part of the loss (accumulate = 1 after the first), so that no
// invocation loops for long (llvmpipe stops an invocation after 65535 loop iterations), and
// many networks over dispatches from batch_begin.

// Keep in sync with `CrossEntropyBatchedParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    batch: u32,
    slot: u32,
    scale: f32,
    begin: u32,
    end: u32,
    accumulate: u32,
    batch_begin: u32,
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
fn cross_entropy_batched(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let net = p.batch_begin + wid.x;
    let base = net * p.rows * p.cols;
    var acc = 0.0;
    for (var i = p.begin + lid; i < p.end; i += 256u) {
        let row = base + i * p.cols;
        let trow = i * p.cols;
        var m = logit(row);
        for (var c = 1u; c < p.cols; c++) {
            m = max(m, logit(row + c));
        }
        var s = 0.0;
        for (var c = 0u; c < p.cols; c++) {
            s += exp(logit(row + c) - m);
        }
        let log_s = log(s);
        for (var c = 0u; c < p.cols; c++) {
            let g = logit(row + c);
            let yc = y[trow + c];
            acc = fma(yc, (m - g) + log_s, acc);
            r[row + c] = exp(g - m) / s - yc;
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
        let part = partial[0] / f32(p.rows);
        let at = p.slot * p.batch + net;
        if (p.accumulate != 0u) {
            loss[at] = loss[at] + part;
        } else {
            loss[at] = part;
        }
    }
}
