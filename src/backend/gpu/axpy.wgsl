// axpy: y[i] += alpha · x[i] for i < len.
// CPU twin: `Cpu::axpy` (src/backend/cpu/mod.rs).

// Keep in sync with `AxpyParams` in params.rs (field for field).
struct Params {
    len: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.len) {
        return;
    }
    y[i] = y[i] + p.alpha * x[i];
}
