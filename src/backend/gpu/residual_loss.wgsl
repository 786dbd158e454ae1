// residual_loss: r[i] = scale · (f[i] − f0[i]) − y[i] (f0 absent: scale · f[i] − y[i]) and
// loss[slot] = Σ r[i]² / (2·len).
// CPU twin: `Cpu::residual_loss` (src/backend/cpu/mod.rs).
//
// One workgroup of 256 invocations: each strides over the outputs begin..end accumulating r²
// in f32, then a tree in workgroup memory. The host splits many outputs into slices, each
// adding its part of the loss (accumulate = 1 after the first), so that no invocation loops
// for long (llvmpipe stops a loop after 65535 iterations) and each f32 partial sum stays
// short. When f0 is absent the host binds f in its place and sets has_f0 = 0.

// Keep in sync with `ResidualLossParams` in mod.rs.
struct Params {
    len: u32,
    slot: u32,
    scale: f32,
    has_f0: u32,
    begin: u32,
    end: u32,
    accumulate: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> f0: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn residual_loss(@builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    for (var i = p.begin + lid; i < p.end; i += 256u) {
        var fi = f[i];
        if (p.has_f0 != 0u) {
            fi = fi - f0[i];
        }
        let ri = p.scale * fi - y[i];
        r[i] = ri;
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
        let part = partial[0] / (2.0 * f32(p.len));
        if (p.accumulate != 0u) {
            loss[p.slot] = loss[p.slot] + part;
        } else {
            loss[p.slot] = part;
        }
    }
}
