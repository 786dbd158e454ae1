// ntk_accumulate: one layer's term of the empirical NTK (src/nn/ntk.rs), element-wise:
// out[offset + i] = beta · out[offset + i] + g_d[i] · (w_coef · g_x[i] + b_coef) for i < len,
// with g_d[i] = 1 when has_gd == 0 (then binding 1 is not read); beta == 0 overwrites out.
// CPU twin: `Cpu::ntk_accumulate` (src/backend/cpu/mod.rs). activation.wgsl is prepended.

// Keep in sync with `NtkAccumulateParams` in params.rs (field for field).
struct Params {
    len: u32,
    offset: u32,
    w_coef: f32,
    b_coef: f32,
    beta: f32,
    has_gd: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g_d: array<f32>;
@group(0) @binding(2) var<storage, read> g_x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn ntk_accumulate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    var term = p.w_coef * g_x[i] + p.b_coef;
    if (p.has_gd != 0u) {
        term = term * g_d[i];
    }
    let o = p.offset + i;
    if (p.beta == 0.0) {
        out[o] = term;
    } else {
        out[o] = p.beta * out[o] + term;
    }
}
