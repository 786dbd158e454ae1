//! Native timings of the command line's threaded drivers (the targets are for this
//! 2-core machine):
//!
//! 1. a 16 × 16 phase diagram of the Step size scene (`step/phase`: widths 16 to 4,096, step
//!    sizes 0.25 to 16 η₀, 300 steps per cell on 32 points, the page's "16" grid) with one
//!    thread and with two: the ratio of the two should be at least 1.8;
//! 2. the double-descent curve at the page's defaults (n = 300, d = 100, 41 sizes up to
//!    p = 10n, 5 seeds, 1,000 test points) on two threads: under 200 ms; beside it the same on
//!    one thread, and the whole `double-descent` run (with the isotropic panel's Monte-Carlo
//!    points).
//!
//! `cargo bench --bench cli` prints the median of several runs of each, wall time beside the
//! process's CPU time; `cargo bench --bench cli -- phase` keeps the rows whose name contains
//! "phase". `DESCENT_BENCH_PHASE_STEPS=100` trains fewer steps per cell. Where other processes
//! hold the cores the wall times say little about the threads, so each threaded figure is also
//! given as the wall time its pieces' CPU times (each piece timed alone) take on two cores of
//! its own, handed out as the driver hands them out (`cli::par::map` for the phase diagram's
//! columns; for the curve, the pieces of each seed that its pool shares between threads).
//!
//! Measured on the 2-core machine while other builds held it (load average 8–10, the run got
//! about 40% of one core): the 16 × 16 diagram's columns take 1,930 ms of CPU in all, the
//! widest 600 ms, so two free cores finish it in 970 ms, 1.99× faster than one (the two-thread
//! run used 2,000 ms of CPU against 1,870 ms on one thread: the threads add no work).
//!
//! The double-descent curve (2026-12-05, load average 1.1–1.6, so the two threads mostly had
//! the cores) takes about 70 ms of CPU per seed: its features and Grams (about 30 ms, one
//! thread per seed: the f32 feature products, the f64 Gram accumulation, the copies), its 41
//! Householder reductions (about 30 ms, any thread: `linalg::Tridiagonal`, on the four-row
//! FMA pass in eight lanes where the CPU has AVX-512F, 1.07 ms for one 300 × 300 Gram) and its
//! errors (about 7 ms). The driver prepares the next seed while the last one's pieces run, so
//! the two threads finish together: the curve took 191–204 ms on two threads in five runs
//! (median 194 ms; one thread 360–390 ms), against 287 ms before the test predictions went
//! through the features instead of the cross Grams (which cost n_test·n·p_max ≈ 9e8
//! multiply-adds per seed) and before the four-row pass. What is left is mostly the features
//! and Grams, which only one thread per seed can do.

use std::time::Instant;

use descent::cli::scenes::{double_descent, phase};
use descent::cli::{Headless, NoProgress, RunOptions, Settings};
use descent::scenes::double_descent::{DoubleDescent as Session, DoubleDescentConfig};
use descent::scenes::step_size::{PhaseConfig, PhaseDiagram};

/// The CPU time this process has used (user and system, all threads), in milliseconds, from
/// /proc/self/stat (Linux; NaN elsewhere). Beside the wall time it shows how much of a run
/// was spent waiting for a core that other processes held.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The fields after the command name (which is in parentheses): utime and stime are the
    // 12th and 13th of them, in clock ticks of 1/100 s.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(f64::NAN))
        .collect();
    (f.get(11).copied().unwrap_or(f64::NAN) + f.get(12).copied().unwrap_or(f64::NAN)) * 10.0
}

/// Median wall time and median CPU time in milliseconds of `runs` calls of `f`.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let mut times = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (t, c) = (Instant::now(), cpu_ms());
        std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push(cpu_ms() - c);
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (times[times.len() / 2], cpu[cpu.len() / 2])
}

fn row(filter: &Option<String>, name: &str, (ms, cpu): (f64, f64), note: &str) {
    if filter.as_ref().is_none_or(|f| name.contains(f.as_str())) {
        let cpu = if cpu.is_nan() {
            "        —".to_string()
        } else {
            format!("{cpu:>9.0}")
        };
        println!("{name:<54} {ms:>9.1} ms wall {cpu} ms CPU   {note}");
    }
}

/// The wall time of pieces of work of CPU times `costs` on `threads` threads, each thread
/// taking the next piece (in the order given) when it is free, as `cli::par::map` does: what
/// the threaded run takes on a machine whose cores are its own.
fn makespan(costs: &[f64], threads: usize) -> f64 {
    let mut free = vec![0.0f64; threads];
    for &c in costs {
        let t = (0..threads)
            .min_by(|&a, &b| free[a].total_cmp(&free[b]))
            .expect("a thread");
        free[t] += c;
    }
    free.into_iter().fold(0.0, f64::max)
}

/// This thread's CPU time in milliseconds, to the nanosecond (Linux's
/// /proc/thread-self/schedstat; NaN elsewhere): the pieces of a seed take a few milliseconds,
/// below [`cpu_ms`]'s resolution.
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}

/// One seed's CPU times in the driver's pool (milliseconds).
#[derive(Clone)]
struct SeedCosts {
    prepare: f64,
    pieces: Vec<f64>,
    finish: f64,
}

impl SeedCosts {
    fn total(&self) -> f64 {
        self.prepare + self.pieces.iter().sum::<f64>() + self.finish
    }

    /// The median of each time over `runs`.
    fn median(runs: &[SeedCosts]) -> SeedCosts {
        let med = |f: &dyn Fn(&SeedCosts) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        SeedCosts {
            prepare: med(&|c| c.prepare),
            pieces: (0..runs[0].pieces.len())
                .map(|i| med(&|c| c.pieces[i]))
                .collect(),
            finish: med(&|c| c.finish),
        }
    }
}

/// A one-seed `config`'s pieces timed one after another on this thread.
fn seed_costs(config: &DoubleDescentConfig) -> SeedCosts {
    let mut session = Session::new(config.clone(), None).expect("a session");
    let t = thread_cpu_ms();
    let work = session
        .prepare_next()
        .expect("features")
        .expect("a seed to do");
    let prepare = thread_cpu_ms() - t;
    let pieces = (0..work.pieces())
        .map(|i| {
            let t = thread_cpu_ms();
            work.run_piece(i);
            thread_cpu_ms() - t
        })
        .collect();
    let t = thread_cpu_ms();
    session.finish(work);
    std::hint::black_box(session.report());
    SeedCosts {
        prepare,
        pieces,
        finish: thread_cpu_ms() - t,
    }
}

/// The wall time of the seeds of `costs` on `threads` threads that take work as the driver's
/// pool (`cli::scenes::double_descent::pool`) hands it out: a finished seed's errors first,
/// else the next seed's preparation while none is being prepared and at most one seed has
/// pieces left, else the next piece of the earliest prepared seed, else the next seed's
/// preparation.
fn pool_span(costs: &[SeedCosts], threads: usize) -> f64 {
    let n = costs.len();
    let mut free = vec![0.0f64; threads];
    // Per seed: when its preparation ends, its next piece, its pieces' ends, whether its
    // errors are taken.
    let mut prepared: Vec<Option<f64>> = vec![None; n];
    let mut next = vec![0usize; n];
    let mut ends: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut finished = vec![false; n];
    let mut next_seed = 0;
    let mut end = 0.0f64;
    while finished.iter().any(|f| !f) {
        let th = (0..threads)
            .min_by(|&a, &b| free[a].total_cmp(&free[b]))
            .expect("a thread");
        let t = free[th];
        let done = (0..n).find(|&s| {
            !finished[s]
                && ends[s].len() == costs[s].pieces.len()
                && prepared[s].is_some()
                && ends[s].iter().all(|&e| e <= t)
        });
        let piece = (0..n)
            .find(|&s| prepared[s].is_some_and(|p| p <= t) && next[s] < costs[s].pieces.len());
        let open = (0..n)
            .filter(|&s| prepared[s].is_some_and(|p| p <= t) && next[s] < costs[s].pieces.len())
            .count();
        let preparing = prepared.iter().any(|p| p.is_some_and(|p| p > t));
        if done.is_none() && next_seed < n && !preparing && open <= 1 {
            free[th] = t + costs[next_seed].prepare;
            prepared[next_seed] = Some(free[th]);
            next_seed += 1;
        } else if let Some(s) = done {
            finished[s] = true;
            free[th] = t + costs[s].finish;
        } else if let Some(s) = piece {
            free[th] = t + costs[s].pieces[next[s]];
            next[s] += 1;
            ends[s].push(free[th]);
        } else if next_seed < n {
            free[th] = t + costs[next_seed].prepare;
            prepared[next_seed] = Some(free[th]);
            next_seed += 1;
        } else {
            // Nothing to take yet: wait for the next thread to finish its piece.
            free[th] = free
                .iter()
                .copied()
                .filter(|&f| f > t)
                .fold(f64::INFINITY, f64::min);
        }
        end = end.max(free[th]);
    }
    end
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
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{cores} cores available; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

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
        // Each column's CPU time alone, widest first (the order the driver hands them out).
        let costs: Vec<f64> = (0..config.width_count)
            .rev()
            .map(|ix| {
                median_ms(3, || {
                    PhaseDiagram::compute_column(&config, ix, || Ok(())).expect("column")
                })
                .1
            })
            .collect();
        let total: f64 = costs.iter().sum();
        let span = makespan(&costs, 2);
        row(&filter, "phase 16 × 16, 1 thread", t1, "");
        row(
            &filter,
            "phase 16 × 16, 2 threads",
            t2,
            &format!("speed-up {:.2}× (target ≥ 1.8×)", t1.0 / t2.0),
        );
        row(
            &filter,
            "phase 16 × 16, 2 threads on 2 free cores (from CPU)",
            (span, f64::NAN),
            &format!(
                "columns' CPU {total:.0} ms, largest {:.0} ms: speed-up {:.2}×",
                costs[0],
                total / span
            ),
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
        // Each seed's pieces' CPU times alone, as the driver's pool runs them: its features
        // and Grams, its pieces (a reduction per size), its errors.
        let costs: Vec<SeedCosts> = (0..cfg.seeds)
            .map(|s| {
                let one = DoubleDescentConfig {
                    seed: cfg.seed + s as u64,
                    seeds: 1,
                    ..cfg.clone()
                };
                let runs: Vec<SeedCosts> = (0..3).map(|_| seed_costs(&one)).collect();
                SeedCosts::median(&runs)
            })
            .collect();
        let total: f64 = costs.iter().map(SeedCosts::total).sum();
        row(&filter, "double-descent curve, 1 thread", t1, "");
        row(
            &filter,
            "double-descent curve, 2 threads",
            t2,
            &format!("target < 200 ms; speed-up {:.2}×", t1.0 / t2.0),
        );
        row(
            &filter,
            "double-descent curve, 2 threads on 2 free cores",
            (pool_span(&costs, 2), f64::NAN),
            &format!(
                "from the pieces' CPU {total:.0} ms ({:.0} ms a seed)",
                total / cfg.seeds as f64
            ),
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
