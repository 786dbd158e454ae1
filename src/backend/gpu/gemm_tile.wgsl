// The tiled inner product of gemm_batched.wgsl (prepended to it; `Gpu::gemm` is its one-network
// case). It declares the operands `a` and `b` that `gemm_tile` reads.
//
// One workgroup of 16×16 invocations computes a 64×64 tile of C, each invocation a 4×4 block
// strided by 16 (rows ty + 16·i, columns tx + 16·j), stepping through k in tiles of 16 staged
// in workgroup memory. Loads are coalesced for either storage order; edges are zero-filled, so
// any m, n, k ≥ 1 works. One call covers the slice k_begin..k_end of the inner dimension; the
// host splits a long k into slices so that no invocation loops for long (llvmpipe stops a loop
// after 65535 iterations, and a device may time out a long dispatch).

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
// Tiles are stored [kk][i] with a padded stride so that column-wise stores do not collide.
const STRIDE: u32 = 65u;

var<workgroup> a_tile: array<f32, 1040>; // TK × STRIDE
var<workgroup> b_tile: array<f32, 1040>; // TK × STRIDE

// Σ_{k_begin ≤ kk < k_end} op(A)[row, kk] · op(B)[kk, col] for the 4×4 block of invocation
// `lid` in the tile at (row0, col0): element [i][j] is row row0 + lid.y + 16·i, column
// col0 + lid.x + 16·j. op(A) is m×k: A is stored m×k at a[a_off..] (ta false) or k×m (ta
// true); op(B) is k×n: B is stored k×n at b[b_off..] (tb false) or n×k (tb true). Every
// argument but `lid` must be uniform over the workgroup (the loop holds barriers).
fn gemm_tile(
    lid: vec3<u32>,
    row0: u32,
    col0: u32,
    m: u32,
    n: u32,
    k: u32,
    ta: bool,
    tb: bool,
    a_off: u32,
    b_off: u32,
    k_begin: u32,
    k_end: u32,
) -> array<vec4<f32>, 4> {
    let tid = lid.y * 16u + lid.x;
    // Four named vectors rather than an array indexed in the loop: a dynamically indexed
    // private array, with the bounds checks WebGPU adds, spills to memory and runs about 20
    // times slower on a real GPU.
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    for (var k0 = k_begin; k0 < k_end; k0 += TK) {
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
            if (gi < m && gk < k_end) {
                if (!ta) {
                    av = a[a_off + gi * k + gk];
                } else {
                    av = a[a_off + gk * m + gi];
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
            if (gj < n && gk2 < k_end) {
                if (!tb) {
                    bv = b[b_off + gk2 * n + gj];
                } else {
                    bv = b[b_off + gj * k + gk2];
                }
            }
            b_tile[kk * STRIDE + j] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let ab = kk * STRIDE + lid.y;
            let bb = kk * STRIDE + lid.x;
            let av = vec4<f32>(a_tile[ab], a_tile[ab + 16u], a_tile[ab + 32u], a_tile[ab + 48u]);
            let bv = vec4<f32>(b_tile[bb], b_tile[bb + 16u], b_tile[bb + 32u], b_tile[bb + 48u]);
            c0 = fma(vec4<f32>(av.x), bv, c0);
            c1 = fma(vec4<f32>(av.y), bv, c1);
            c2 = fma(vec4<f32>(av.z), bv, c2);
            c3 = fma(vec4<f32>(av.w), bv, c3);
        }
        workgroupBarrier();
    }
    return array<vec4<f32>, 4>(c0, c1, c2, c3);
}
