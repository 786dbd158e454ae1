// residual_loss_batched: r[b·len + i] = scale · (f[b·len + i] − f0[b·len + i]) − y[i]
// (f0 absent: scale · f[b·len + i] − y[i]) and loss[slot·batch + b] = Σ_i r[b·len + i]² /
// (2·rows) for the networks b of a batch, with len = rows · cols outputs per network (the outputs of each network back to back, as are its
// outputs at θ₀ in f0; the targets shared). When f0 is absent the host binds f in its place
// and sets has_f0 = 0.
// CPU twin: `Cpu::residual_loss_batched` (src/backend/cpu/mod.rs). `Gpu::residual_loss` is
// this shader with a batch of one.
//
// One workgroup of 256 invocations per network (the workgroup's x):
// each strides over the outputs begin..end accumulating r² in f32, then a tree in workgroup
// memory. The host splits many outputs into slices, each adding its part of the loss
// (accumulate = 1 after the first), so that no invocation loops for long (llvmpipe stops a
// loop after 65535 iterations), and many networks over dispatches from batch_begin.

// Keep in sync with `ResidualLossBatchedParams` in params.rs (field for field).
struct Params {
    len: u32,
    batch: u32,
    slot: u32,
    scale: f32,
    begin: u32,
    end: u32,
    accumulate: u32,
    batch_begin: u32,
    has_f0: u32,
    rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> f0: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn residual_loss_batched(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let net = p.batch_begin + wid.x;
    let base = net * p.len;
    var s = 0.0;
    for (var i = p.begin + lid; i < p.end; i += 256u) {
        var fi = f[base + i];
        if (p.has_f0 != 0u) {
            fi = fi - f0[base + i];
        }
        let ri = p.scale * fi - y[i];
        r[base + i] = ri;
        s = fma(ri, ri, s);
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let part = partial[0] / (2.0 * f32(p.rows));
        let at = p.slot * p.batch + net;
        if (p.accumulate != 0u) {
            loss[at] = loss[at] + part;
        } else {
            loss[at] = part;
        }
    }
}
