// act_backward: dz[i] = dh[i] · φ'(z[i]) for i < len.
// CPU twin: `Cpu::act_backward` (src/backend/cpu/mod.rs). activation.wgsl is prepended.

// Keep in sync with `ActBackwardParams` in params.rs (field for field).
struct Params {
    len: u32,
    act: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> dh: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;

@compute @workgroup_size(256)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    dz[i] = dh[i] * dphi(z[i], p.act);
}
