// gemm_batched: C_b = alpha · s_b · op(A_b) · op(B_b) + beta · C_b for the networks b of a
// batch, one network per workgroup layer z; X_b starts at element b · stride_x of its buffer
// (stride 0: one operand shared by all) and s_b = scales[b] (1 without scales).
// CPU twin: `Cpu::gemm_batched` (src/backend/cpu/mod.rs).
// gemm_tile.wgsl is prepended: it computes the products, tile by tile (see there).
//
// When alpha · s_b == 0 the product does not enter C_b (a frozen network stays frozen even if
// its operands are not finite); with beta == 0, C_b is overwritten and never read. One
// dispatch covers the slice k_begin..k_end of the inner dimension (beta = 1 after the first)
// and the networks batch_begin.. batch_begin + (workgroups along z).

// Keep in sync with `GemmBatchedParams` in params.rs (field for field).
struct Params {
    m: u32,
    n: u32,
    k: u32,
    // Bit 0: A is stored transposed (k×m); bit 1: B is stored transposed (n×k); bit 2: scales
    // holds s_b.
    flags: u32,
    alpha: f32,
    beta: f32,
    k_begin: u32,
    k_end: u32,
    // In elements.
    stride_a: u32,
    stride_b: u32,
    stride_c: u32,
    batch_begin: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(16, 16)
fn gemm_batched(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let net = p.batch_begin + wid.z;
    let row0 = wid.y * TM;
    let col0 = wid.x * TN;
    let ta = (p.flags & 1u) != 0u;
    let tb = (p.flags & 2u) != 0u;
    let acc = gemm_tile(
        lid, row0, col0, p.m, p.n, p.k, ta, tb,
        net * p.stride_a, net * p.stride_b, p.k_begin, p.k_end,
    );
    var alpha = p.alpha;
    if ((p.flags & 4u) != 0u) {
        alpha = alpha * scales[net];
    }
    let c0 = net * p.stride_c;
    for (var i = 0u; i < 4u; i++) {
        let gi = row0 + lid.y + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let gj = col0 + lid.x + 16u * j;
            if (gi < p.m && gj < p.n) {
                let idx = c0 + gi * p.n + gj;
                var v = 0.0;
                if (alpha != 0.0) {
                    v = alpha * acc[i][j];
                }
                if (p.beta != 0.0) {
                    v = v + p.beta * c[idx];
                }
                c[idx] = v;
            }
        }
    }
}
