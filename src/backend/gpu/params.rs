//! The uniform parameters of every shader: one `#[repr(C)]` struct per `.wgsl` file, field for
//! field the `Params` struct that the shader names (each shader says "keep in sync with
//! `XParams` in params.rs"). Lengths, offsets and strides are in elements (f32), not bytes;
//! flags are 0 or 1 unless their doc says otherwise. Every struct fits the 64-byte parameter
//! slot of one dispatch ([`super::PARAM_BYTES`], checked at compile time below).

use bytemuck::{Pod, Zeroable};

/// `bias_act.wgsl`: h = φ(z + bias_scale · bias) over a `rows × cols` pre-activation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct BiasActParams {
    pub rows: u32,
    pub cols: u32,
    pub bias_scale: f32,
    /// An activation code (`ACT_*`, [`crate::math::Activation::gpu_code`]).
    pub act: u32,
}

/// `bias_act_batched.wgsl`: [`BiasActParams`] for `len = batch · rows · cols` elements.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct BiasActBatchedParams {
    pub rows: u32,
    pub cols: u32,
    pub bias_scale: f32,
    pub act: u32,
    pub len: u32,
    pub _pad: [u32; 3],
}

/// `act_backward.wgsl`: dz = dh · φ′(z) over `len` elements.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ActBackwardParams {
    pub len: u32,
    pub act: u32,
    pub _pad: [u32; 2],
}

/// `col_sum.wgsl`: out = alpha · (column sums of rows `row_begin..row_end`) + beta · out.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ColSumParams {
    pub rows: u32,
    pub cols: u32,
    pub alpha: f32,
    pub beta: f32,
    pub row_begin: u32,
    pub row_end: u32,
    pub _pad: [u32; 2],
}

/// `col_sum_batched.wgsl`: [`ColSumParams`] per network from `batch_begin`, scaled by
/// `scales[b]` when `has_scales` is 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ColSumBatchedParams {
    pub rows: u32,
    pub cols: u32,
    pub alpha: f32,
    pub beta: f32,
    pub row_begin: u32,
    pub row_end: u32,
    pub batch_begin: u32,
    pub has_scales: u32,
}

/// `axpy.wgsl`: y += alpha · x over `len` elements.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct AxpyParams {
    pub len: u32,
    pub alpha: f32,
    pub _pad: [u32; 2],
}

/// `momentum_step.wgsl`: v = beta · v + g + wd · θ, θ −= lr · v over `len` elements.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct MomentumStepParams {
    pub len: u32,
    pub lr: f32,
    pub beta: f32,
    pub wd: f32,
}

/// `gemm_batched.wgsl`: C_b = alpha · s_b · op(A_b) · op(B_b) + beta · C_b over the inner
/// slice `k_begin..k_end`, for the networks from `batch_begin`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct GemmBatchedParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    /// Bit 0: A is stored transposed (k×m); bit 1: B is stored transposed (n×k); bit 2:
    /// `scales` holds s_b.
    pub flags: u32,
    pub alpha: f32,
    pub beta: f32,
    pub k_begin: u32,
    pub k_end: u32,
    pub stride_a: u32,
    pub stride_b: u32,
    pub stride_c: u32,
    pub batch_begin: u32,
    pub _pad: [u32; 4],
}

/// `gemv.wgsl`: C_b = alpha · s_b · op(A_b) · x_b + beta · C_b with one output column.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct GemvParams {
    pub m: u32,
    pub k: u32,
    /// Bit 0: A is stored transposed; bit 2: `scales` holds s_b.
    pub flags: u32,
    pub alpha: f32,
    pub beta: f32,
    pub k_begin: u32,
    pub k_end: u32,
    pub stride_a: u32,
    pub stride_x: u32,
    pub stride_c: u32,
    pub batch_begin: u32,
    pub _pad: [u32; 5],
}

/// `residual_loss_batched.wgsl`: r = scale · (f − f0) − y and each network's loss into
/// `loss[slot · batch + b]`, over the outputs `begin..end` (added to it when `accumulate` is 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ResidualLossBatchedParams {
    pub len: u32,
    pub batch: u32,
    pub slot: u32,
    pub scale: f32,
    pub begin: u32,
    pub end: u32,
    pub accumulate: u32,
    pub batch_begin: u32,
    pub has_f0: u32,
    /// The rows the loss is averaged over (`len` = rows · cols outputs per network).
    pub rows: u32,
}

/// `cross_entropy_batched.wgsl`: r = softmax(scale · (f − f0)) − y row by row, and each
/// network's mean cross-entropy into `loss[slot · batch + b]`, over the rows `begin..end`
/// (added to it when `accumulate` is 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct CrossEntropyBatchedParams {
    pub rows: u32,
    pub cols: u32,
    pub batch: u32,
    pub slot: u32,
    pub scale: f32,
    pub begin: u32,
    pub end: u32,
    pub accumulate: u32,
    pub batch_begin: u32,
    pub has_f0: u32,
}

/// `bag_cross_entropy.wgsl`: the DLLP bag loss's signal and value in bags of `bag` rows, in
/// three dispatches by `phase` (0: log softmax per row; 1: the bags' (bag, class) pairs
/// `begin..end`, their loss into `loss[slot]`, added to it when `accumulate` is 1; 2: the
/// signal per row); phases 0 and 2 take the rows `begin..end`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct BagCrossEntropyParams {
    pub rows: u32,
    pub cols: u32,
    pub bag: u32,
    pub slot: u32,
    pub scale: f32,
    pub phase: u32,
    pub begin: u32,
    pub end: u32,
    pub accumulate: u32,
    pub has_f0: u32,
}

/// `ntk_accumulate.wgsl`: out[offset..] = beta · out + g_d ∘ (w_coef · g_x + b_coef).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct NtkAccumulateParams {
    pub len: u32,
    pub offset: u32,
    pub w_coef: f32,
    pub b_coef: f32,
    pub beta: f32,
    pub has_gd: u32,
    pub _pad: [u32; 2],
}

/// `nngp_ntk_recursion.wgsl`: the depth-`depth` NNGP/NTK recursion per element of a
/// `rows × cols` block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct NngpNtkRecursionParams {
    pub rows: u32,
    pub cols: u32,
    pub depth: u32,
    pub act: u32,
    pub s2: f32,
    pub sw2: f32,
    pub sb2: f32,
    /// The bits of an f32 NaN (WGSL has no NaN literal).
    pub nan_bits: u32,
}

const _: () = {
    const LIMIT: usize = super::PARAM_BYTES as usize;
    assert!(size_of::<BiasActParams>() <= LIMIT);
    assert!(size_of::<BiasActBatchedParams>() <= LIMIT);
    assert!(size_of::<ActBackwardParams>() <= LIMIT);
    assert!(size_of::<ColSumParams>() <= LIMIT);
    assert!(size_of::<ColSumBatchedParams>() <= LIMIT);
    assert!(size_of::<AxpyParams>() <= LIMIT);
    assert!(size_of::<GemmBatchedParams>() <= LIMIT);
    assert!(size_of::<GemvParams>() <= LIMIT);
    assert!(size_of::<ResidualLossBatchedParams>() <= LIMIT);
    assert!(size_of::<BagCrossEntropyParams>() <= LIMIT);
    assert!(size_of::<NtkAccumulateParams>() <= LIMIT);
    assert!(size_of::<NngpNtkRecursionParams>() <= LIMIT);
    assert!(size_of::<MomentumStepParams>() <= LIMIT);
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The field names of the `Params` struct of a shader, padding fields expanded to one
    /// name per 32-bit word as the Rust structs group them (`_pad: [u32; N]`).
    fn wgsl_fields(source: &str) -> Vec<String> {
        let start = source.find("struct Params {").expect("a Params struct");
        let body = &source[start + "struct Params {".len()..];
        let body = &body[..body.find('}').expect("the end of Params")];
        body.lines()
            .map(|l| l.split("//").next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (name, ty) = l.trim_end_matches(',').split_once(':').expect("name: type");
                let ty = ty.trim();
                assert!(
                    ty == "u32" || ty == "f32",
                    "{name}: {ty} is not a 32-bit scalar"
                );
                name.trim().to_string()
            })
            .collect()
    }

    /// Each shader's `Params` has as many 32-bit fields as its Rust struct has words, and the
    /// named (non-padding) fields come in the same order: a field added, removed or moved on
    /// one side only fails here.
    #[test]
    fn rust_structs_match_the_shaders_params() {
        let cases: [(&str, &str, usize, &[&str]); 14] = [
            (
                "bias_act",
                include_str!("bias_act.wgsl"),
                size_of::<BiasActParams>(),
                &["rows", "cols", "bias_scale", "act"],
            ),
            (
                "bias_act_batched",
                include_str!("bias_act_batched.wgsl"),
                size_of::<BiasActBatchedParams>(),
                &["rows", "cols", "bias_scale", "act", "len"],
            ),
            (
                "act_backward",
                include_str!("act_backward.wgsl"),
                size_of::<ActBackwardParams>(),
                &["len", "act"],
            ),
            (
                "col_sum",
                include_str!("col_sum.wgsl"),
                size_of::<ColSumParams>(),
                &["rows", "cols", "alpha", "beta", "row_begin", "row_end"],
            ),
            (
                "col_sum_batched",
                include_str!("col_sum_batched.wgsl"),
                size_of::<ColSumBatchedParams>(),
                &[
                    "rows",
                    "cols",
                    "alpha",
                    "beta",
                    "row_begin",
                    "row_end",
                    "batch_begin",
                    "has_scales",
                ],
            ),
            (
                "axpy",
                include_str!("axpy.wgsl"),
                size_of::<AxpyParams>(),
                &["len", "alpha"],
            ),
            (
                "gemm_batched",
                include_str!("gemm_batched.wgsl"),
                size_of::<GemmBatchedParams>(),
                &[
                    "m",
                    "n",
                    "k",
                    "flags",
                    "alpha",
                    "beta",
                    "k_begin",
                    "k_end",
                    "stride_a",
                    "stride_b",
                    "stride_c",
                    "batch_begin",
                ],
            ),
            (
                "gemv",
                include_str!("gemv.wgsl"),
                size_of::<GemvParams>(),
                &[
                    "m",
                    "k",
                    "flags",
                    "alpha",
                    "beta",
                    "k_begin",
                    "k_end",
                    "stride_a",
                    "stride_x",
                    "stride_c",
                    "batch_begin",
                ],
            ),
            (
                "residual_loss_batched",
                include_str!("residual_loss_batched.wgsl"),
                size_of::<ResidualLossBatchedParams>(),
                &[
                    "len",
                    "batch",
                    "slot",
                    "scale",
                    "begin",
                    "end",
                    "accumulate",
                    "batch_begin",
                    "has_f0",
                    "rows",
                ],
            ),
            (
                "cross_entropy_batched",
                include_str!("cross_entropy_batched.wgsl"),
                size_of::<CrossEntropyBatchedParams>(),
                &[
                    "rows",
                    "cols",
                    "batch",
                    "slot",
                    "scale",
                    "begin",
                    "end",
                    "accumulate",
                    "batch_begin",
                    "has_f0",
                ],
            ),
            (
                "bag_cross_entropy",
                include_str!("bag_cross_entropy.wgsl"),
                size_of::<BagCrossEntropyParams>(),
                &[
                    "rows",
                    "cols",
                    "bag",
                    "slot",
                    "scale",
                    "phase",
                    "begin",
                    "end",
                    "accumulate",
                    "has_f0",
                ],
            ),
            (
                "ntk_accumulate",
                include_str!("ntk_accumulate.wgsl"),
                size_of::<NtkAccumulateParams>(),
                &["len", "offset", "w_coef", "b_coef", "beta", "has_gd"],
            ),
            (
                "nngp_ntk_recursion",
                include_str!("nngp_ntk_recursion.wgsl"),
                size_of::<NngpNtkRecursionParams>(),
                &[
                    "rows", "cols", "depth", "act", "s2", "sw2", "sb2", "nan_bits",
                ],
            ),
            (
                "momentum_step",
                include_str!("momentum_step.wgsl"),
                size_of::<MomentumStepParams>(),
                &["len", "lr", "beta", "wd"],
            ),
        ];
        for (shader, source, bytes, rust_named) in cases {
            let fields = wgsl_fields(source);
            assert_eq!(
                4 * fields.len(),
                bytes,
                "{shader}: WGSL Params has {} words, the Rust struct {bytes} bytes",
                fields.len()
            );
            let named: Vec<&str> = fields
                .iter()
                .map(String::as_str)
                .filter(|f| !f.starts_with("_pad"))
                .collect();
            assert_eq!(named, rust_named, "{shader}: field order");
        }
    }
}
