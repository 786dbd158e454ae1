//! The timing loop of the training benchmarks.

use std::time::Instant;

/// Units per second of `work(k)` (k units at a time): after `work(3)` as a warm-up, the median
/// over chunks of at least 50 ms during 1.5 s, at least five of them.
pub fn rate(mut work: impl FnMut(u64)) -> f64 {
    work(3);
    let mut rates = Vec::new();
    let mut chunk = 1u64;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 1.5 || rates.len() < 5 {
        let t = Instant::now();
        work(chunk);
        let dt = t.elapsed().as_secs_f64();
        if dt < 0.05 {
            chunk *= 2;
            continue;
        }
        rates.push(chunk as f64 / dt);
    }
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}
