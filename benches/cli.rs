//! Native timings of the command line's threaded drivers (the targets are for this
//! 2-core machine):
//!
//! 1. a 16 × 16 phase diagram of the Step size scene (`step/phase`: widths 16 to 4,096, step
//!    sizes 0.25 to 16 η₀, 300 steps per cell on 32 points, the page's "16" grid) with one
//!    thread and with two: the ratio of the two should be at least 1.8;
//! 2. the double-descent curve at the page's defaults (n = 300, d = 100, 41 sizes up to
//!    p = 10n, 5 seeds, 1,000 test points), its seeds on two threads: under 200 ms; beside it
//!    the same on one thread, and the whole `double-descent` run (with the isotropic panel's
//!    Monte-Carlo points).
//!
//! `cargo bench --bench cli` prints the median of several runs of each (the phase diagram's
//! of fewer, as it takes seconds); `cargo bench --bench cli -- phase` keeps the rows whose
//! name contains "phase". `DESCENT_BENCH_PHASE_STEPS=100` trains fewer steps per cell.

use std::time::Instant;

use descent::cli::scenes::{double_descent, phase};
use descent::cli::{Headless, NoProgress, RunOptions, Settings};
use descent::scenes::double_descent::DoubleDescentConfig;
use descent::scenes::step_size::PhaseConfig;

/// Median wall time in milliseconds of `runs` calls of `f`.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn row(filter: &Option<String>, name: &str, ms: f64, note: &str) {
    if filter.as_ref().is_none_or(|f| name.contains(f.as_str())) {
        println!("{name:<52} {ms:>10.1} ms   {note}");
    }
}

fn wanted(filter: &Option<String>, name: &str) -> bool {
    filter.as_ref().is_none_or(|f| name.contains(f.as_str()))
}

fn options(threads: usize) -> RunOptions {
    RunOptions {
        threads,
        ..RunOptions::default()
    }
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{cores} cores available");

    if wanted(&filter, "phase") {
        let steps = std::env::var("DESCENT_BENCH_PHASE_STEPS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(PhaseConfig::default().steps);
        let config = PhaseConfig {
            width_count: 16,
            y_count: 16,
            steps,
            ..PhaseConfig::default()
        };
        config
            .validate()
            .expect("the 16 × 16 diagram is within the engine's limits");
        println!(
            "phase diagram: {} × {} cells, widths {}–{}, {} steps per cell, n = {} ({:.1e} FLOPs estimated at most)",
            config.y_count,
            config.width_count,
            config.width_min,
            config.width_max,
            config.steps,
            config.base.data.n_train,
            config.flops()
        );
        let run = |threads: usize| {
            phase::run_cpu(&config, &options(threads), &NoProgress).expect("diagram")
        };
        // The same numbers on one and on two threads (the point of the threads).
        let one = run(1).report();
        assert_eq!(one, run(2).report(), "threads changed the diagram");
        let t1 = median_ms(3, || run(1));
        let t2 = median_ms(3, || run(2));
        row(&filter, "phase 16 × 16, 1 thread", t1, "");
        row(
            &filter,
            "phase 16 × 16, 2 threads",
            t2,
            &format!("speed-up {:.2}× (target ≥ 1.8×)", t1 / t2),
        );
    }

    if wanted(&filter, "double-descent") {
        let cfg = DoubleDescentConfig::default();
        println!(
            "double descent at the page's defaults: n = {}, d = {}, {} sizes up to p = {}, {} seeds, {} test points",
            cfg.n_train,
            cfg.dim,
            cfg.grid().len(),
            cfg.grid().last().map_or(0, |s| s.p),
            cfg.seeds,
            cfg.n_test
        );
        let curve = |threads: usize| {
            double_descent::seed_reports(&cfg, &options(threads), &NoProgress).expect("curve")
        };
        let t1 = median_ms(5, || curve(1));
        let t2 = median_ms(5, || curve(2));
        row(&filter, "double-descent curve, 1 thread", t1, "");
        row(
            &filter,
            "double-descent curve, 2 threads",
            t2,
            &format!("target < 200 ms; speed-up {:.2}×", t1 / t2),
        );
        let settings = Settings::defaults("double-descent").expect("the table");
        let t = median_ms(5, || {
            double_descent::DoubleDescent
                .run(&settings, &options(2), &NoProgress)
                .expect("run")
        });
        row(
            &filter,
            "double-descent run (curve + isotropic), 2 threads",
            t,
            "",
        );
    }
}
