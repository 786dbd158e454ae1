// col_sum: out[j] = alpha · Σ_i a[i,j] + beta · out[j] for a rows × cols matrix.
// CPU twin: `Cpu::col_sum` (src/backend/cpu/mod.rs).
//
// One workgroup of 16×16 invocations per 16 columns: invocation (x, y) sums rows y, y+16, …
// of column 16·wid + x in f32 (reads coalesced along x), then a tree over y in workgroup
// memory. With beta == 0, out is overwritten and never read. One dispatch sums the rows
// row_begin..row_end; the host splits many rows into slices (beta = 1 after the first) so
// that no invocation loops for long (llvmpipe stops a loop after 65535 iterations).

// Keep in sync with `ColSumParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    alpha: f32,
    beta: f32,
    row_begin: u32,
    row_end: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn col_sum(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let col = wid.x * 16u + lid.x;
    var s = 0.0;
    if (col < p.cols) {
        for (var r = p.row_begin + lid.y; r < p.row_end; r += 16u) {
            s += a[r * p.cols + col];
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
        var v = p.alpha * partial[lid.x];
        if (p.beta != 0.0) {
            v = v + p.beta * out[col];
        }
        out[col] = v;
    }
}
