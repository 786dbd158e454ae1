//! Width sweeps of the Lazy-or-rich scene: how far the weights and the NTK move in training,
//! against width, over seeds, and the log–log slopes theory predicts for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{GRAM_POINTS, MAX_TRAIN};
use crate::error::{Error, Result};
use crate::nn::ntk::{kernel_distance, relative_change};
use crate::session::budget::PLAYGROUND_MEMORY;
use crate::session::net::{DataSettings, NetSettings};
use crate::session::run::{Run, RunConfig};

/// The most seeds per width a [`WidthSweep`] takes.
pub const MAX_SWEEP_SEEDS: usize = 16;

/// One trained network of a [`WidthSweep`]: its lazy measures after the sweep's steps, `None`
/// where training diverged. Deserialisable, so that a page can train runs in a pool of workers
/// and record them in one sweep ([`WidthSweep::set_run`]; every number crosses exactly).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepRun {
    pub width: usize,
    pub seed: u64,
    pub weight_change: Option<f64>,
    pub kernel_distance: Option<f64>,
}

/// Trains one network per (width, seed) for a fixed number of steps and records the lazy
/// measures at the end: the width sweep of the scene, one network per
/// [`WidthSweep::next_point`] call, widths in order and every seed of a width before the next.
/// The seeds are the configuration's seed, seed + 1, … (each gives new data and a new θ₀).
pub struct WidthSweep {
    config: RunConfig,
    widths: Vec<usize>,
    seeds: usize,
    steps: u64,
    /// The finished runs in the sweep's order (widths in order, every seed of a width before
    /// the next): the first `runs.len()` of it.
    pub runs: Vec<SweepRun>,
    /// Runs recorded out of order ([`WidthSweep::set_run`]), by index, until those before them
    /// are in.
    pending: BTreeMap<usize, SweepRun>,
}

/// One finished run of a [`WidthSweep`], with the sweep's progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepPoint {
    pub width: usize,
    pub seed: u64,
    pub weight_change: Option<f64>,
    pub kernel_distance: Option<f64>,
    /// Index of this run among all (width, seed) runs, and their number.
    pub index: usize,
    pub total: usize,
    pub done: bool,
}

/// Geometric mean and range of one measure over the seeds of one width.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spread {
    /// exp(mean of log): the centre on a log axis, and what the slope fit goes through.
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// How many seeds gave a finite, positive value.
    pub count: usize,
}

impl Spread {
    fn of(values: impl Iterator<Item = f64>) -> Option<Spread> {
        let (mut log_sum, mut min, mut max, mut count) = (0.0, f64::INFINITY, 0.0f64, 0usize);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            log_sum += v.ln();
            min = min.min(v);
            max = max.max(v);
            count += 1;
        }
        (count > 0).then(|| Spread {
            mean: (log_sum / count as f64).exp(),
            min,
            max,
            count,
        })
    }
}

/// The seeds of one width of a [`WidthSweep`], summarised.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WidthSummary {
    pub width: usize,
    /// Runs finished at this width, and how many of them diverged.
    pub runs: usize,
    pub diverged: usize,
    pub weight_change: Option<Spread>,
    pub kernel_distance: Option<Spread>,
}

/// Least-squares slopes of log(measure) against log(width).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Slopes {
    pub weight_change: Option<f64>,
    pub kernel_distance: Option<f64>,
}

/// Widths at or above this enter the fitted slopes (narrower ones are far from the asymptote).
pub const SLOPE_MIN_WIDTH: usize = 64;

/// The exact training run a sweep makes for one (width, seed): θ₀ and Θ₀ on the first
/// [`GRAM_POINTS`] training points, `steps` steps, then the relative weight change and kernel
/// distance (`None` where training diverged).
pub fn sweep_run(config: RunConfig, steps: u64) -> Result<SweepRun> {
    let (width, seed) = (config.net.width, config.data.seed);
    let mut run = Run::new(config)?;
    let x_gram: Vec<f32> = {
        let d = run.data.dim;
        let m = run.data.n_train().min(GRAM_POINTS);
        run.data.x_train[..m * d].to_vec()
    };
    let theta_0 = run.params();
    let k0 = run.ntk(&x_gram, None)?;
    let done = run.train_only(steps);
    let (weight_change, kernel_distance) = if done == steps {
        let theta = run.params();
        let k = run.ntk(&x_gram, None)?;
        (
            Some(relative_change(&theta, &theta_0)).filter(|v| v.is_finite()),
            Some(kernel_distance(&k, &k0)).filter(|v| v.is_finite()),
        )
    } else {
        (None, None)
    };
    Ok(SweepRun {
        width,
        seed,
        weight_change,
        kernel_distance,
    })
}

impl WidthSweep {
    /// One seed per width.
    pub fn new(config: RunConfig, widths: Vec<usize>, steps: u64) -> Result<Self> {
        Self::with_seeds(config, widths, 1, steps)
    }

    /// `seeds` networks per width (1 to [`MAX_SWEEP_SEEDS`]).
    pub fn with_seeds(
        config: RunConfig,
        widths: Vec<usize>,
        seeds: usize,
        steps: u64,
    ) -> Result<Self> {
        if widths.is_empty() {
            return Err(Error::config("widths", "needs at least one width"));
        }
        if !(1..=MAX_SWEEP_SEEDS).contains(&seeds) {
            return Err(Error::config(
                "sweepSeeds",
                format!("must be between 1 and {MAX_SWEEP_SEEDS}, got {seeds}"),
            ));
        }
        for &w in &widths {
            RunConfig {
                net: NetSettings {
                    width: w,
                    ..config.net.clone()
                },
                ..config.clone()
            }
            .validate(PLAYGROUND_MEMORY)?;
        }
        if config.data.n_train > MAX_TRAIN {
            return Err(Error::config(
                "nTrain",
                format!("this scene takes at most {MAX_TRAIN} training points"),
            ));
        }
        Ok(WidthSweep {
            config,
            widths,
            seeds,
            steps,
            runs: Vec::new(),
            pending: BTreeMap::new(),
        })
    }

    /// The slopes theory predicts for this sweep's settings.
    pub fn expected_slopes(&self) -> ExpectedSlopes {
        expected_slopes(&self.config)
    }

    /// Runs in the whole sweep: widths × seeds.
    pub fn total(&self) -> usize {
        self.widths.len() * self.seeds
    }

    pub fn is_done(&self) -> bool {
        self.runs.len() == self.total()
    }

    /// The widths, in the order they are trained.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// Networks per width.
    pub fn seeds(&self) -> usize {
        self.seeds
    }

    /// Steps each network trains.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The settings of run `at` of the sweep (`at < total()`): width `widths[at / seeds]`, seed
    /// the configuration's plus `at % seeds`. [`sweep_run`] of them with [`WidthSweep::steps`]
    /// is that run; runs are independent of one another.
    pub fn run_config(&self, at: usize) -> RunConfig {
        RunConfig {
            data: DataSettings {
                seed: self.config.data.seed.wrapping_add((at % self.seeds) as u64),
                ..self.config.data.clone()
            },
            net: NetSettings {
                width: self.widths[at / self.seeds],
                ..self.config.net.clone()
            },
            ..self.config.clone()
        }
    }

    /// Run `at` of the sweep trained on its own: [`sweep_run`] of [`WidthSweep::run_config`],
    /// the run [`WidthSweep::next_point`] makes at that place.
    pub fn compute_run(&self, at: usize) -> Result<SweepRun> {
        if at >= self.total() {
            return Err(Error::config(
                "widths",
                format!("the sweep has no run {at} (it has {})", self.total()),
            ));
        }
        sweep_run(self.run_config(at), self.steps)
    }

    /// Records run `at` computed by [`WidthSweep::compute_run`] (in any order: the summary and
    /// the slopes count every recorded run; once all are in, the sweep is that of
    /// [`WidthSweep::next_point`]).
    pub fn set_run(&mut self, at: usize, run: SweepRun) {
        if at >= self.runs.len() && at < self.total() {
            self.pending.insert(at, run);
            self.take_pending();
        }
    }

    /// Runs recorded so far, in order or not.
    pub fn recorded(&self) -> usize {
        self.runs.len() + self.pending.len()
    }

    /// Every finished run in the sweep's order: those in order, then those recorded ahead of
    /// a missing one.
    fn finished(&self) -> Vec<SweepRun> {
        self.runs
            .iter()
            .chain(self.pending.values())
            .copied()
            .collect()
    }

    /// Moves the pending runs that now follow the finished ones into them.
    fn take_pending(&mut self) {
        while let Some(run) = self.pending.remove(&self.runs.len()) {
            self.runs.push(run);
        }
    }

    /// Trains the next (width, seed) and returns its measures (or the last run again when done).
    pub fn next_point(&mut self) -> Result<SweepPoint> {
        let total = self.total();
        if !self.is_done() {
            let at = self.runs.len();
            let run = match self.pending.remove(&at) {
                Some(run) => run,
                None => sweep_run(self.run_config(at), self.steps)?,
            };
            self.runs.push(run);
            self.take_pending();
        }
        let r = *self.runs.last().expect("at least one run");
        Ok(SweepPoint {
            width: r.width,
            seed: r.seed,
            weight_change: r.weight_change,
            kernel_distance: r.kernel_distance,
            index: self.runs.len() - 1,
            total,
            done: self.is_done(),
        })
    }

    /// The finished runs grouped by width (widths with at least one finished run, in order).
    pub fn summary(&self) -> Vec<WidthSummary> {
        self.finished()
            .chunk_by(|a, b| a.width == b.width)
            .map(|runs| WidthSummary {
                width: runs[0].width,
                runs: runs.len(),
                diverged: runs.iter().filter(|r| r.weight_change.is_none()).count(),
                weight_change: Spread::of(runs.iter().filter_map(|r| r.weight_change)),
                kernel_distance: Spread::of(runs.iter().filter_map(|r| r.kernel_distance)),
            })
            .collect()
    }

    /// Slopes fitted by least squares to log(measure) of every finished run of width ≥
    /// [`SLOPE_MIN_WIDTH`] against log(width) (with the same seeds at every width, the line
    /// through the widths' geometric means).
    pub fn slopes(&self) -> Slopes {
        let slope = |pick: fn(&SweepRun) -> Option<f64>| -> Option<f64> {
            let pts: Vec<(f64, f64)> = self
                .finished()
                .iter()
                .filter(|r| r.width >= SLOPE_MIN_WIDTH)
                .filter_map(|r| {
                    pick(r)
                        .filter(|v| *v > 0.0)
                        .map(|v| ((r.width as f64).ln(), v.ln()))
                })
                .collect();
            log_log_slope(&pts)
        };
        Slopes {
            weight_change: slope(|r| r.weight_change),
            kernel_distance: slope(|r| r.kernel_distance),
        }
    }
}

/// The least-squares slope of y on x, or `None` with fewer than two distinct x.
pub fn log_log_slope(pts: &[(f64, f64)]) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The slopes of log(measure) against log(width) that theory predicts for a configuration,
/// where it predicts one: the NTK parametrisation, at large width.
///
/// - Weight change: each weight moves O(1/√n) and ‖θ_t − θ₀‖ stays O(1); ‖θ₀‖ grows like √n
///   with one hidden layer (n input and n output weights) and like n with two or more (n²
///   weights between hidden layers), so the relative change falls like n^−½ or n^−1.
/// - Kernel distance: 1/√width is an upper bound (Jacot et al. 2018). For a smooth activation
///   (erf, tanh, linear) the first-order change is a sum of n zero-mean terms of size n^−3/2,
///   so the kernel moves like 1/n (Dyer & Gur-Ari 2019), with a seed-to-seed spread of a factor
///   of several. For ReLU the kernel also changes where activation patterns flip at training
///   points (about √n of n neurons within O(1/√n) of a kink, each worth O(1/n)): n^−½. With
///   σ_b = 0.1 on 1-D inputs every kink sits near x = 0 and the measured decay at widths up to
///   4,096 is slower still (about −0.3 to −0.4; tests/lazy.rs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedSlopes {
    pub weight_change: Option<f64>,
    pub kernel_distance: Option<f64>,
}

pub fn expected_slopes(config: &RunConfig) -> ExpectedSlopes {
    use crate::nn::{Activation, Parametrization};
    if config.net.init.parametrization != Parametrization::Ntk {
        return ExpectedSlopes {
            weight_change: None,
            kernel_distance: None,
        };
    }
    ExpectedSlopes {
        weight_change: Some(if config.net.depth <= 1 { -0.5 } else { -1.0 }),
        kernel_distance: Some(match config.net.init.activation {
            Activation::Relu => -0.5,
            _ => -1.0,
        }),
    }
}
