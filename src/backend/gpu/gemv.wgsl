// gemv: the matrix-vector case of gemm and gemm_batched, C_b = alpha · s_b · op(A_b) · x_b + beta · C_b
// with C_b of m×1 and x_b of k values. `Gpu::gemm` sends products with one output column here (a
// layer with one output, and its weight gradient), and products with one output row as their
// transpose; a 64×64 tile would leave 63 of its 64 columns idle and walk k serially.
// CPU twin: `Cpu::gemm` / `Cpu::gemm_batched` (src/backend/cpu/mod.rs), which gemv must match.
//
// A not transposed (m×k, rows contiguous): a workgroup takes 4 rows, 64 lanes stride along each
// row (coalesced), then a tree sum over the lanes. A transposed (stored k×m): a workgroup takes 64
// consecutive rows of op(A), i.e. 64 consecutive columns of the stored A (coalesced), and 4 lanes
// stride over k, summed at the end. One dispatch covers the slice k_begin..k_end of the inner
// dimension (the host keeps each lane's loop short) and the networks batch_begin + wid.z.
// When alpha · s_b == 0 the product does not enter C_b; with beta == 0, C_b is not read.

// Keep in sync with `GemvParams` in params.rs (field for field).
struct Params {
    m: u32,
    k: u32,
    // Bit 0: A is stored transposed (k×m); bit 2: scales holds s_b.
    flags: u32,
    alpha: f32,
    beta: f32,
    k_begin: u32,
    k_end: u32,
    // In elements; 0 shares one operand among the networks.
    stride_a: u32,
    stride_x: u32,
    stride_c: u32,
    batch_begin: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
    _pad4: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

var<workgroup> part: array<f32, 256>;

fn write_out(net: u32, i: u32, sum: f32) {
    var alpha = p.alpha;
    if ((p.flags & 4u) != 0u) {
        alpha = alpha * scales[net];
    }
    let idx = net * p.stride_c + i;
    var v = 0.0;
    if (alpha != 0.0) {
        v = alpha * sum;
    }
    if (p.beta != 0.0) {
        v = v + p.beta * c[idx];
    }
    c[idx] = v;
}

@compute @workgroup_size(64, 4)
fn gemv(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let net = p.batch_begin + wid.z;
    let a0 = net * p.stride_a;
    let x0 = net * p.stride_x;
    let lane = lid.y * 64u + lid.x;
    var s = 0.0;
    if ((p.flags & 1u) == 0u) {
        let i = wid.x * 4u + lid.y;
        if (i < p.m) {
            for (var kk = p.k_begin + lid.x; kk < p.k_end; kk += 64u) {
                s = fma(a[a0 + i * p.k + kk], x[x0 + kk], s);
            }
        }
        part[lane] = s;
        workgroupBarrier();
        for (var w = 32u; w > 0u; w = w >> 1u) {
            if (lid.x < w) {
                part[lane] = part[lane] + part[lane + w];
            }
            workgroupBarrier();
        }
        if (lid.x == 0u && i < p.m) {
            write_out(net, i, part[lane]);
        }
    } else {
        let i = wid.x * 64u + lid.x;
        if (i < p.m) {
            for (var kk = p.k_begin + lid.y; kk < p.k_end; kk += 4u) {
                s = fma(a[a0 + kk * p.m + i], x[x0 + kk], s);
            }
        }
        part[lane] = s;
        workgroupBarrier();
        if (lid.y == 0u && i < p.m) {
            write_out(net, i, part[lid.x] + part[64u + lid.x] + part[128u + lid.x] + part[192u + lid.x]);
        }
    }
}
