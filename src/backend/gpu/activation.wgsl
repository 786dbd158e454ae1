// What follows the activations' code (`ACT_*` codes, `phi`, `dphi` and their helpers), which
// `wgsl_activations` in src/math/activation.rs generates from each activation's block there
// (CPU twins beside the WGSL), at the head of every shader that applies an activation
// (src/backend/gpu/mod.rs puts them together).

// The flat index of an invocation of a 1-D dispatch that may be folded into 2-D (more than
// 65535 workgroups of 256).
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}
