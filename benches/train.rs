//! Native full-batch training throughput of the Playground's MLP (the same Rust code the
//! browser runs as wasm): n = 256 points, d = 2, ReLU, squared loss, NTK parametrisation.
//! `cargo bench --bench train` prints steps per second; `scripts/bench.mjs` puts these beside
//! the Chromium figures.

use descent::data::DatasetKind;
use descent::scenes::playground::{Playground, PlaygroundConfig};
use descent::session::net::{DataSettings, NetSettings};

#[path = "common/rate.rs"]
mod rate;
use rate::rate;

/// (hidden layers, width) of the benchmark networks.
pub const CONFIGS: [(usize, usize); 7] = [
    (1, 64),
    (1, 256),
    (1, 1024),
    (1, 4096),
    (3, 64),
    (3, 256),
    (3, 1024),
];

fn steps_per_second(depth: usize, width: usize) -> f64 {
    let cfg = PlaygroundConfig {
        data: DataSettings {
            dataset: DatasetKind::Circles,
            n_train: 256,
            ..PlaygroundConfig::default().data
        },
        net: NetSettings {
            width,
            depth,
            ..PlaygroundConfig::default().net
        },
        lr: 1e-3,
        ..PlaygroundConfig::default()
    };
    let mut pg = Playground::new(cfg).expect("benchmark configuration");
    rate(|chunk| {
        let done = pg.train_only(chunk);
        assert_eq!(done, chunk, "the benchmark run diverged");
    })
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut rows = Vec::new();
    for (depth, width) in CONFIGS {
        let name = format!("{depth}x{width}");
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let sps = steps_per_second(depth, width);
        eprintln!("native {name:>7}: {sps:>10.1} steps/s");
        rows.push(format!(
            "  {{\"config\": \"{name}\", \"depth\": {depth}, \"width\": {width}, \"stepsPerSecond\": {sps:.2}}}"
        ));
    }
    // JSON on stdout for scripts/bench.mjs; the human-readable lines went to stderr.
    println!("{{\"native\": [\n{}\n]}}", rows.join(",\n"));
}
