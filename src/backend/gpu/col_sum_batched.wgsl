// col_sum_batched: out[b·cols + j] = alpha · s_b · Σ_i a_b[i,j] + beta · out[b·cols + j] for
// the networks b of a batch, a holding one packed rows × cols matrix per network, back to
// back, and s_b = scales[b] (1 without scales).
// CPU twin: `Cpu::col_sum_batched` (src/backend/cpu/mod.rs).
//
// As col_sum.wgsl, one workgroup of 16×16 invocations per 16 columns of one network (the
// network is the workgroup's y): invocation (x, y) sums rows y, y+16, … of its column in f32,
// then a tree over y in workgroup memory. When alpha · s_b == 0 the sum does not enter out
// (nothing of a frozen network's a_b, NaN included); with beta == 0, out is overwritten and
// never read. One dispatch sums the rows row_begin..row_end of the networks batch_begin.. ;
// the host splits many rows into slices (beta = 1 after the first) so that no invocation
// loops for long (llvmpipe stops a loop after 65535 iterations).

// Keep in sync with `ColSumBatchedParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    alpha: f32,
    beta: f32,
    row_begin: u32,
    row_end: u32,
    batch_begin: u32,
    // 1: scales holds s_b.
    has_scales: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn col_sum_batched(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let net = p.batch_begin + wid.y;
    let col = wid.x * 16u + lid.x;
    let base = net * p.rows * p.cols;
    var s = 0.0;
    if (col < p.cols) {
        for (var r = p.row_begin + lid.y; r < p.row_end; r += 16u) {
            s += a[base + r * p.cols + col];
        }
    }
    partial[lid.y * 16u + lid.x] = s;
    workgroupBarrier();
    for (var stride = 8u; stride > 0u; stride >>= 1u) {
        if (lid.y < stride) {
            partial[lid.y * 16u + lid.x] += partial[(lid.y + stride) * 16u + lid.x];
        }
        workgroupBarrier();
    }
    if (lid.y == 0u && col < p.cols) {
        var alpha = p.alpha;
        if (p.has_scales != 0u) {
            alpha = alpha * scales[net];
        }
        let idx = net * p.cols + col;
        var v = 0.0;
        if (alpha != 0.0) {
            v = alpha * partial[lid.x];
        }
        if (p.beta != 0.0) {
            v = v + p.beta * out[idx];
        }
        out[idx] = v;
    }
}
