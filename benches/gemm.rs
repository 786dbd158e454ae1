//! Throughput of [`Gemm::run`] in GFLOP/s (2·m·n·k flops per product), median of several timed
//! runs, for square sizes in all four transpositions and for the shapes of the MLP; for the
//! smaller shapes also the speed-up over the f64 reference loop.
//!
//! Run with `cargo bench --bench gemm`, or `cargo bench --bench gemm -- 4096` for the shapes
//! whose label contains "4096". With `--json` only the square products are timed (no reference
//! comparison): the lines go to stderr and `{"native": [{"trans", "n", "gflops"}, …]}` to
//! stdout, for `scripts/bench.mjs`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use descent::backend::Trans;
use descent::backend::cpu::gemm::{Gemm, reference};

/// Seconds per product: the median over `reps` timings, each of enough back-to-back products to
/// last about `target`.
fn time(mut f: impl FnMut(), reps: usize, target: Duration) -> f64 {
    f();
    let start = Instant::now();
    f();
    let once = start.elapsed().max(Duration::from_nanos(50));
    let inner = ((target.as_secs_f64() / once.as_secs_f64()) as usize).max(1);
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..inner {
                f();
            }
            start.elapsed().as_secs_f64() / inner as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn name(t: Trans) -> &'static str {
    match t {
        Trans::N => "N",
        Trans::T => "T",
    }
}

/// Times `op(A) · op(B)` of shape m×k · k×n, densely stored; prints GFLOP/s and, when
/// `vs_reference`, the ratio to the reference loop. Skips shapes whose label does not contain
/// the first command-line argument, if one is given. Returns the GFLOP/s of the shapes timed.
fn bench(ta: Trans, tb: Trans, m: usize, n: usize, k: usize, vs_reference: bool) -> Option<f64> {
    let label = format!("{}{} {m}×{k} · {k}×{n}", name(ta), name(tb));
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter.is_some_and(|f| !label.contains(&f)) {
        return None;
    }
    let a: Vec<f32> = (0..m * k)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i * 104_729) % 997) as f32 / 997.0 - 0.5)
        .collect();
    let mut c = vec![0.0f32; m * n];
    let lda = if ta == Trans::N { k } else { m };
    let ldb = if tb == Trans::N { n } else { k };
    let flops = 2.0 * (m * n * k) as f64;
    let mut g = Gemm::new();
    let fast = time(
        || {
            g.run(
                ta,
                tb,
                m,
                n,
                k,
                1.0,
                black_box(&a),
                lda,
                black_box(&b),
                ldb,
                0.0,
                black_box(&mut c),
                n,
            )
        },
        7,
        Duration::from_millis(40),
    );
    let mut line = format!(
        "{label:<28} {:>8.2} GFLOP/s  {:>10.1} µs",
        flops / fast * 1e-9,
        fast * 1e6
    );
    if vs_reference {
        let slow = time(
            || {
                reference(
                    ta,
                    tb,
                    m,
                    n,
                    k,
                    1.0,
                    black_box(&a),
                    lda,
                    black_box(&b),
                    ldb,
                    0.0,
                    black_box(&mut c),
                    n,
                )
            },
            3,
            Duration::from_millis(40),
        );
        line += &format!("  ×{:.1} vs reference", slow / fast);
    }
    if json_output() {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Some(flops / fast * 1e-9)
}

/// Whether `--json` was given.
fn json_output() -> bool {
    std::env::args().any(|a| a == "--json")
}

fn main() {
    let trans = [
        (Trans::N, Trans::N),
        (Trans::N, Trans::T),
        (Trans::T, Trans::N),
        (Trans::T, Trans::T),
    ];
    if json_output() {
        let mut rows = Vec::new();
        for size in [128, 256, 512, 1024] {
            for (ta, tb) in trans {
                if let Some(gflops) = bench(ta, tb, size, size, size, false) {
                    let t = format!("{}{}", name(ta), name(tb));
                    rows.push(format!(
                        "  {{\"trans\": \"{t}\", \"n\": {size}, \"gflops\": {gflops:.3}}}"
                    ));
                }
            }
        }
        println!("{{\"native\": [\n{}\n]}}", rows.join(",\n"));
        return;
    }
    println!("square");
    for size in [128, 256, 512, 1024] {
        for (ta, tb) in trans {
            bench(ta, tb, size, size, size, size <= 256);
        }
    }
    // Forward Z = X·W, weight gradient Xᵀ·dZ, input gradient dZ·Wᵀ, for m = 256 data points.
    println!("MLP layers (256 points)");
    let layers = [(2, 4096), (4096, 4096), (4096, 1), (256, 256), (64, 64)];
    for (n_in, n_out) in layers {
        let big = n_in * n_out >= 4096 * 4096;
        bench(Trans::N, Trans::N, 256, n_out, n_in, !big);
        bench(Trans::T, Trans::N, n_in, n_out, 256, !big);
        bench(Trans::N, Trans::T, 256, n_in, n_out, !big);
    }
    println!("tiny");
    for (m, n, k) in [
        (4, 4, 4),
        (8, 8, 8),
        (16, 16, 16),
        (32, 32, 32),
        (1, 1, 64),
        (64, 1, 1),
    ] {
        bench(Trans::N, Trans::N, m, n, k, true);
    }
}
