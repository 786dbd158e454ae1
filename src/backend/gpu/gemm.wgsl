// gemm: C = alpha · op(A) · op(B) + beta · C, all row-major and packed.
// CPU twin: `Cpu::gemm` (src/backend/cpu/mod.rs, the packed kernel in cpu/gemm.rs).
//
// op(A) is m×k: A is stored m×k when ta == 0, k×m when ta == 1.
// op(B) is k×n: B is stored k×n when tb == 0, n×k when tb == 1.
// One workgroup of 16×16 invocations computes a 64×64 tile of C, each invocation a 4×4
// block strided by 16 (rows ty + 16·i, columns tx + 16·j), stepping through k in tiles of 16
// staged in workgroup memory. Loads are coalesced for either storage order; edges are
// zero-filled, so any m, n, k ≥ 1 works. With beta == 0, C is overwritten and never read.
// One dispatch covers the slice k_begin..k_end of the inner dimension; the host splits a long
// k into slices (beta = 1 after the first) so that no invocation loops for long (llvmpipe
// stops a loop after 65535 iterations, and a device may time out a long dispatch).

// Keep in sync with `GemmParams` in mod.rs.
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

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
// Tiles are stored [kk][i] with a padded stride so that column-wise stores do not collide.
const STRIDE: u32 = 65u;

var<workgroup> a_tile: array<f32, 1040>; // TK × STRIDE
var<workgroup> b_tile: array<f32, 1040>; // TK × STRIDE

@compute @workgroup_size(16, 16)
fn gemm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * TM;
    let col0 = wid.x * TN;
    let tid = lid.y * 16u + lid.x;
    let ta = (p.flags & 1u) != 0u;
    let tb = (p.flags & 2u) != 0u;
    var acc: array<f32, 16>;
    for (var q = 0u; q < 16u; q++) {
        acc[q] = 0.0;
    }
    for (var k0 = p.k_begin; k0 < p.k_end; k0 += TK) {
        // Stage a TK×TM slice of op(A) and a TK×TN slice of op(B): 4 elements per invocation.
        for (var r = 0u; r < 4u; r++) {
            let e = tid + 256u * r;
            var i: u32;
            var kk: u32;
            if (!ta) {
                kk = e % TK;
                i = e / TK;
            } else {
                i = e % TM;
                kk = e / TM;
            }
            let gi = row0 + i;
            let gk = k0 + kk;
            var av = 0.0;
            if (gi < p.m && gk < p.k_end) {
                if (!ta) {
                    av = a[gi * p.k + gk];
                } else {
                    av = a[gk * p.m + gi];
                }
            }
            a_tile[kk * STRIDE + i] = av;

            var j: u32;
            if (!tb) {
                j = e % TN;
                kk = e / TN;
            } else {
                kk = e % TK;
                j = e / TK;
            }
            let gj = col0 + j;
            let gk2 = k0 + kk;
            var bv = 0.0;
            if (gj < p.n && gk2 < p.k_end) {
                if (!tb) {
                    bv = b[gk2 * p.n + gj];
                } else {
                    bv = b[gj * p.k + gk2];
                }
            }
            b_tile[kk * STRIDE + j] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var q = 0u; q < 4u; q++) {
                av[q] = a_tile[kk * STRIDE + lid.y + 16u * q];
                bv[q] = b_tile[kk * STRIDE + lid.x + 16u * q];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(av[i], bv[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let gi = row0 + lid.y + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let gj = col0 + lid.x + 16u * j;
            if (gi < p.m && gj < p.n) {
                let idx = gi * p.n + gj;
                var v = p.alpha * acc[i * 4u + j];
                if (p.beta != 0.0) {
                    v = v + p.beta * c[idx];
                }
                c[idx] = v;
            }
        }
    }
}
