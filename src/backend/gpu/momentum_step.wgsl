// momentum_step: one heavy-ball step with L2 weight decay, in place, for i < len:
// v[i] = beta · v[i] + g[i] + wd · theta[i], then theta[i] -= lr · v[i] (the new v).
// CPU twin: `Cpu::momentum_step` (src/backend/cpu/mod.rs).

// Keep in sync with `MomentumStepParams` in params.rs (field for field).
struct Params {
    len: u32,
    lr: f32,
    beta: f32,
    wd: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> theta: array<f32>;

@compute @workgroup_size(256)
fn momentum_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.len) {
        return;
    }
    let t = theta[i];
    let vi = p.beta * v[i] + g[i] + p.wd * t;
    v[i] = vi;
    theta[i] = t - p.lr * vi;
}
