// bias_act: z[i,j] += bias_scale · bias[j]; h[i,j] = φ(z[i,j]) on a rows × cols matrix.
// CPU twin: `Cpu::bias_act` (src/backend/cpu/mod.rs). activation.wgsl is prepended.

// Keep in sync with `BiasActParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    bias_scale: f32,
    act: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;

@compute @workgroup_size(256)
fn bias_act(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= p.rows * p.cols) {
        return;
    }
    let v = z[i] + p.bias_scale * bias[i % p.cols];
    z[i] = v;
    h[i] = phi(v, p.act);
}
