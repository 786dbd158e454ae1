//! Native timings of the double-descent scene (the budget is for the browser's CPU path:
//! one full curve < 300 ms, a ridge redraw < 16 ms):
//!
//! 1. one full random-features curve: n = 300, d = 100, 41 sizes on a log grid of p/n from
//!    0.1 to 10 (p up to 10n = 3,000), 5 seeds, 1,000 test points, ReLU features, ridgeless;
//! 2. one replicate of it (what the page shows after its first `advance`);
//! 3. a ridge-slider redraw of the full curve (`set_ridge`, every size and seed re-fitted from
//!    the cached factorisations);
//! 4. the dominant kernel alone: one tridiagonal reduction of a 300 × 300 Gram matrix;
//! 5. the sample-wise sweep (p = 300, n from 30 to 3,000) and the digits sweep (n = 300).
//!
//! `cargo bench --bench double_descent` prints the median of several runs of each;
//! `cargo bench --bench double_descent -- redraw` keeps the rows whose name contains "redraw".

use std::time::Instant;

use descent::data::digits;
use descent::linalg::Tridiagonal;
use descent::rng::Rng;
use descent::scenes::double_descent::{DataSource, DoubleDescent, DoubleDescentConfig, Sweep};
use nalgebra::DMatrix;

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
        println!("{name:<44} {ms:>9.2} ms   {note}");
    }
}

fn full_curve(cfg: &DoubleDescentConfig, digits: Option<&digits::Digits>) -> DoubleDescent {
    let mut s = DoubleDescent::new(cfg.clone(), digits).expect("valid config");
    s.run().expect("sweep");
    s
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cfg = DoubleDescentConfig::default();
    let sizes = cfg.grid().len();
    println!(
        "double descent: n = {}, d = {}, {sizes} sizes up to p = {}, {} seeds, {} test points ({:.0} MB estimated)",
        cfg.n_train,
        cfg.dim,
        cfg.grid().last().map_or(0, |s| s.p),
        cfg.seeds,
        cfg.n_test,
        cfg.memory_bytes() as f64 / 1e6
    );

    let t = median_ms(3, || full_curve(&cfg, None));
    row(
        &filter,
        "full curve (5 seeds)",
        t,
        "budget 300 ms (browser)",
    );
    let t = median_ms(5, || {
        let mut s = DoubleDescent::new(cfg.clone(), None).expect("valid config");
        s.advance().expect("one seed");
        s
    });
    row(&filter, "first replicate (1 seed)", t, "");

    let mut s = full_curve(&cfg, None);
    let mut i = 0;
    let t = median_ms(21, || {
        // Log-spaced ridges incl. 0, as a slider would send them.
        i += 1;
        let ridge = if i % 7 == 0 {
            0.0
        } else {
            10f64.powf(-4.0 + 0.5 * (i % 7) as f64)
        };
        s.set_ridge(ridge).expect("ridge");
    });
    row(
        &filter,
        "ridge redraw (5 seeds, 41 sizes)",
        t,
        "budget 16 ms",
    );

    let mut rng = Rng::new(1);
    let b = DMatrix::<f64>::from_fn(300, 600, |_, _| rng.normal());
    let gram: Vec<f64> = (&b * b.transpose()).as_slice().to_vec();
    let t = median_ms(21, || Tridiagonal::new(gram.clone(), 300));
    row(
        &filter,
        "tridiagonal reduction 300 × 300",
        t,
        "per dual size",
    );

    let samples = DoubleDescentConfig {
        sweep: Sweep::Samples,
        n_features: 300,
        ..DoubleDescentConfig::default()
    };
    let t = median_ms(3, || full_curve(&samples, None));
    row(&filter, "sample-wise curve (p = 300, 5 seeds)", t, "");

    let data = digits::parse(include_str!("../data/digits.csv")).expect("digits");
    let dig = DoubleDescentConfig {
        data: DataSource::Digits,
        n_train: 300,
        n_test: 1000,
        ..DoubleDescentConfig::default()
    };
    let t = median_ms(3, || full_curve(&dig, Some(&data)));
    row(&filter, "digits curve (n = 300, K = 10, 5 seeds)", t, "");
    let mut s = full_curve(&dig, Some(&data));
    let t = median_ms(11, || s.set_ridge(0.01).expect("ridge"));
    row(&filter, "digits ridge redraw", t, "");
}
