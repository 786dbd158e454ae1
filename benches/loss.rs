//! Native full-batch training throughput of the losses at the same shapes: an MLP with
//! K = 10 outputs (ReLU, NTK parametrisation) on n = 256 points in d = 2 with one-hot
//! targets, trained on the squared loss, on softmax cross-entropy and on the DLLP bag loss
//! in bags of 8 (the same targets: each bag's proportions are the mean of its one-hot rows).
//! `cargo bench --bench loss` prints steps per second for each. The loss is one pass over the
//! n × K outputs; the CPU's cross-entropy takes one exp per logit (`exp_f32`, a loop that
//! vectorises), the bag loss two more per logit (the log-sum-exp over the bag and the ratio).
//! BENCHMARKS.md ("Many classes") has the figures, natively and in Chromium
//! (`node scripts/bench.mjs --only loss`).

use descent::backend::cpu::Cpu;
use descent::nn::mlp::{Mlp, MlpSpec, Parametrization};
use descent::nn::{Activation, Loss, Trainer};
use descent::rng::Rng;

#[path = "common/rate.rs"]
mod rate;
use rate::rate;

/// (hidden layers, width) of the benchmark networks.
const CONFIGS: [(usize, usize); 4] = [(1, 64), (1, 256), (1, 1024), (3, 256)];
const N: usize = 256;
const K: usize = 10;
/// Rows per bag of the bag loss.
const BAG: usize = 8;

fn steps_per_second(depth: usize, width: usize, loss: Loss) -> f64 {
    let mut rng = Rng::new(1);
    let x: Vec<f32> = (0..N * 2).map(|_| rng.normal() as f32).collect();
    let mut y = vec![0.0f32; N * K];
    for i in 0..N {
        y[i * K + rng.index(K)] = 1.0;
    }
    let mut backend = Cpu::new();
    let spec = MlpSpec {
        input_dim: 2,
        hidden: vec![width; depth],
        activation: Activation::Relu,
        parametrization: Parametrization::Ntk,
        sigma_w: std::f64::consts::SQRT_2,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: K,
    };
    let mlp = Mlp::new(&mut backend, spec, &mut Rng::new(2)).expect("valid spec");
    let mut t = Trainer::new(backend, mlp, &x, &y, false, 1e-3, 0, 3)
        .and_then(|t| t.with_loss(loss))
        .expect("trainer");
    rate(|chunk| {
        t.advance(chunk).expect("no divergence");
    })
}

fn main() {
    for (depth, width) in CONFIGS {
        let sq = steps_per_second(depth, width, Loss::Squared);
        let ce = steps_per_second(depth, width, Loss::CrossEntropy);
        eprintln!(
            "native {depth}x{width} K={K}: squared {sq:>9.1} steps/s, cross-entropy {ce:>9.1} \
             steps/s ({:+.1} %)",
            100.0 * (ce / sq - 1.0)
        );
        let bag = steps_per_second(depth, width, Loss::Proportions { bag: BAG });
        eprintln!(
            "native {depth}x{width} K={K} in bags of {BAG}: bag loss {bag:>9.1} steps/s ({:+.1} % \
             against cross-entropy)",
            100.0 * (bag / ce - 1.0)
        );
    }
}
