//! Native time of the Step-size scene's phase diagrams (the same Rust code the browser runs
//! as wasm, 2–3× slower there). `cargo bench --bench step_size` prints, for the default
//! step-size × width diagram, a 16 × 16 one and the default init-scale × width diagram, the
//! wall time, the time per cell and the cost model's estimate.

use std::time::Instant;

use descent::scenes::step_size::{PhaseAxis, PhaseConfig, PhaseDiagram};
use descent::session::budget::STEP_SIZE_ASSUMED_FLOPS;

fn time(name: &str, config: PhaseConfig) {
    let estimate = config.flops() / STEP_SIZE_ASSUMED_FLOPS;
    let mut d = PhaseDiagram::new(config).expect("benchmark configuration");
    let start = Instant::now();
    while !d.advance(1).expect("cell").finished {}
    let s = start.elapsed().as_secs_f64();
    let total = d.total();
    let r = d.report();
    let counts = (0..4)
        .map(|c| r.regime.iter().filter(|v| **v == Some(c)).count())
        .collect::<Vec<_>>();
    println!(
        "{name}: {total} cells in {s:.2} s ({:.1} ms/cell; cost model {estimate:.2} s); regimes stable/catapult/divergent/unsettled {counts:?}",
        1e3 * s / total as f64
    );
    if r.axis == PhaseAxis::StepSize {
        println!("  widths {:?}", r.widths);
        println!(
            "  measured catapult bound (× stability bound) {:?}",
            r.empirical_catapult_bound
                .iter()
                .map(|v| v.map(|m| (m * 100.0).round() / 100.0))
                .collect::<Vec<_>>()
        );
    }
}

fn main() {
    time("default step size × width", PhaseConfig::default());
    time(
        "16 × 16 step size × width",
        PhaseConfig {
            width_count: 16,
            y_count: 16,
            ..PhaseConfig::default()
        },
    );
    time(
        "default init scale × width",
        PhaseConfig {
            axis: PhaseAxis::InitScale,
            y_min: 0.25,
            y_max: 4.0,
            ..PhaseConfig::default()
        },
    );
}
