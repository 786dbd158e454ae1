// bias_act_batched: z_b[i,j] += bias_scale · bias[b·cols + j]; h_b[i,j] = φ(z_b[i,j]) for the
// networks b of a batch, z and h holding one packed rows × cols matrix per network, back to
// back (len = batch · rows · cols elements in all).
// CPU twin: `Cpu::bias_act_batched` (src/backend/cpu/mod.rs). activation.wgsl is prepended.

// Keep in sync with `BiasActBatchedParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    bias_scale: f32,
    act: u32,
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;

@compute @workgroup_size(256)
fn bias_act_batched(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_index(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let net = i / (p.rows * p.cols);
    let v = z[i] + p.bias_scale * bias[net * p.cols + i % p.cols];
    z[i] = v;
    h[i] = phi(v, p.act);
}
