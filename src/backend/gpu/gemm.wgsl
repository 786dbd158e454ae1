// gemm: C = alpha · op(A) · op(B) + beta · C, all row-major and packed.
// CPU twin: `Cpu::gemm` (src/backend/cpu/mod.rs, the packed kernel in cpu/gemm.rs).
// gemm_tile.wgsl is prepended: it computes the products, tile by tile (see there).
//
// op(A) is m×k: A is stored m×k when ta == 0, k×m when ta == 1.
// op(B) is k×n: B is stored k×n when tb == 0, n×k when tb == 1.
// With beta == 0, C is overwritten and never read. One dispatch covers the slice
// k_begin..k_end of the inner dimension; the host splits a long k into slices (beta = 1 after
// the first).

// Keep in sync with `Gpu::gemm` in mod.rs.
struct Params {
    m: u32,
    n: u32,
    k: u32,
    // Bit 0: A is stored transposed (k×m); bit 1: B is stored transposed (n×k).
    flags: u32,
    alpha: f32,
    beta: f32,
    k_begin: u32,
    k_end: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(16, 16)
fn gemm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * TM;
    let col0 = wid.x * TN;
    let ta = (p.flags & 1u) != 0u;
    let tb = (p.flags & 2u) != 0u;
    let acc = gemm_tile(lid, row0, col0, p.m, p.n, p.k, ta, tb, 0u, 0u, p.k_begin, p.k_end);
    for (var i = 0u; i < 4u; i++) {
        let gi = row0 + lid.y + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let gj = col0 + lid.x + 16u * j;
            if (gi < p.m && gj < p.n) {
                let idx = gi * p.n + gj;
                var v = p.alpha * acc[i][j];
                if (p.beta != 0.0) {
                    v = v + p.beta * c[idx];
                }
                c[idx] = v;
            }
        }
    }
}
