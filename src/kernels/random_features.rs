//! The Gram matrices of random ReLU features on a [`Backend`]: K_p = Φ_pΦ_pᵀ for a list of
//! feature counts p, the quantity the double-descent scene fits every model size from
//! ([`crate::scenes::double_descent`]).
//!
//! The features are those of the scene: φ_j(x) = max(0, ⟨w_j, x⟩) for the columns w_j of a
//! frozen first layer W (d × p_max). They are computed on the device a block of columns at a
//! time (a `gemm` and `bias_act` with ReLU), and the Gram accumulates with a `gemm` of
//! β = 1, K += Φ_ΔΦ_Δᵀ, so all prefixes together cost one n × n × p_max product. Each
//! requested prefix is read back asynchronously as soon as its blocks are queued; the work of
//! the next blocks is queued before any readback is awaited.
//!
//! **Precision: f32.** The scene itself keeps its f64 Gram: at p = n the ridgeless fit needs
//! the smallest eigenvalues of K, which sit ~n² below the largest, under f32 rounding. This
//! version suits what f32 serves (large Grams for plots, ridge fits well away from the
//! threshold); its error is that of an f32 product of length p (≤ 5e-5 of Σ_p |φ_ip φ_jp|,
//! the bound of the backend's `gemm`) plus the f32 rounding of the features themselves.

use crate::backend::{Activation, Backend, Trans};
use crate::error::{Error, Result};

/// Feature columns computed per block: bounds the device memory of a block (n × this).
pub const FEATURE_BLOCK: usize = 1024;

/// K_p = Φ_pΦ_pᵀ (n × n, row-major and symmetric, f32) for every p in `prefixes`
/// (ascending, each ≤ p_max), with Φ_p = max(0, X W[:, :p]) for `x` (n × d, row-major) and
/// `weights` (d × p_max, row-major: column j is feature j's weight vector). Columns are
/// computed `block` at a time (at most; 0 means [`FEATURE_BLOCK`]).
pub async fn relu_feature_grams_on<B: Backend>(
    backend: &mut B,
    x: &[f32],
    d: usize,
    weights: &[f32],
    p_max: usize,
    prefixes: &[usize],
    block: usize,
) -> Result<Vec<Vec<f32>>> {
    if d == 0 || x.is_empty() || !x.len().is_multiple_of(d) {
        return Err(Error::ShapeMismatch {
            op: "relu_feature_grams_on",
            expected: format!("a non-empty n × {d} input"),
            got: format!("{} values", x.len()),
        });
    }
    if weights.len() != d * p_max {
        return Err(Error::ShapeMismatch {
            op: "relu_feature_grams_on",
            expected: format!("{d} × {p_max} weights"),
            got: format!("{} values", weights.len()),
        });
    }
    if prefixes.windows(2).any(|w| w[0] > w[1]) || prefixes.iter().any(|&p| p > p_max) {
        return Err(Error::config(
            "prefixes",
            format!("must ascend and stay within p_max = {p_max}, got {prefixes:?}"),
        ));
    }
    let n = x.len() / d;
    let block = if block == 0 { FEATURE_BLOCK } else { block }.min(p_max.max(1));
    let x_buf = backend.upload(x);
    let mut w_block = backend.zeros(d * block);
    let mut z_block = backend.zeros(n * block);
    let mut phi_block = backend.zeros(n * block);
    let no_bias = backend.zeros(block);
    let mut gram = backend.zeros(n * n);
    let mut host_w = vec![0.0f32; d * block];
    let mut readbacks = Vec::with_capacity(prefixes.len());
    let mut p_done = 0;
    for &p in prefixes {
        while p_done < p {
            let width = block.min(p - p_done);
            // W[:, p_done..p_done + width], packed d × width.
            for k in 0..d {
                let row = &weights[k * p_max + p_done..k * p_max + p_done + width];
                host_w[k * width..(k + 1) * width].copy_from_slice(row);
            }
            backend.write(&mut w_block, &host_w[..d * width]);
            // Φ_Δ = max(0, X W_Δ): (n × d)·(d × width).
            backend.gemm(
                Trans::N,
                Trans::N,
                n,
                width,
                d,
                1.0,
                &x_buf,
                &w_block,
                0.0,
                &mut z_block,
            );
            backend.bias_act(
                n,
                width,
                &mut z_block,
                &no_bias,
                0.0,
                Activation::Relu,
                &mut phi_block,
            );
            // K += Φ_Δ Φ_Δᵀ: (n × width)·(width × n).
            backend.gemm(
                Trans::N,
                Trans::T,
                n,
                n,
                width,
                1.0,
                &phi_block,
                &phi_block,
                1.0,
                &mut gram,
            );
            p_done += width;
        }
        readbacks.push(backend.read_async(&gram, n * n));
    }
    let mut grams = Vec::with_capacity(readbacks.len());
    for r in readbacks {
        grams.push(r.await?);
    }
    Ok(grams)
}
