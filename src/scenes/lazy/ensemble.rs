//! The Lazy-or-rich scene's ensemble mode: many finite networks of one architecture, started
//! from different seeds and trained together, beside the distribution that infinite width
//! predicts for them.
//!
//! **The band.** At infinite width a network trained by gradient descent on the squared loss is
//! a Gaussian process at every step (Lee et al. 2019, §2.3): its mean μ_t is the NTK predictor
//! the scene already draws and its variance σ_t² comes from the NNGP kernel K of the initial
//! function and the NTK Θ that moves it ([`crate::kernels::EnsembleCovariance`], which derives
//! both in Descent's conventions). The band is μ_t ± 2σ_t on the plotting grid after t steps
//! of step size η, both kernels analytic (f64), from one eigendecomposition of Θ(X, X).
//!
//! **The ensemble.** `networks` networks of the scene's architecture, seeds s, s + 1, …, trained
//! at once by a [`BatchedTrainer`] with the scene's step size, full batch, **not centred**: the
//! spread over seeds is the spread of f₀ carried through training, which centring would remove
//! (a centred network starts at 0 whatever its seed). Network 0 has the scene's own seed, so
//! with centring off it is the scene's network, step for step. The ensemble trains the plain
//! network (α = 1, no momentum or weight decay): that is what the band describes.
//!
//! **The distance.** On the grid points, with σ̂ and μ̂ the ensemble's standard deviation
//! (n − 1 in the denominator) and mean over the networks that have not diverged,
//!
//! ```text
//! spread distance = RMS(σ̂ − σ) / RMS(σ)      mean distance = RMS(μ̂ − μ) / RMS(σ)
//! ```
//!
//! Both go to 0 as the width grows, down to the sampling noise of N networks: a sample standard
//! deviation of N Gaussian draws is off by about 1/√(2(N − 1)) of σ, a sample mean by σ/√N
//! ([`Distance::spread_floor`], [`Distance::mean_floor`]). A finite network's spread differs
//! from σ_t by O(1/√width) (its kernel fluctuates and moves by that much; Lee et al. 2019), so
//! the distance falls like 1/√width until it meets that floor.

use serde::Serialize;

use crate::backend::cpu::Cpu;
use crate::error::{Error, Result};
use crate::kernels::{EnsembleCovariance, Filter, KernelMachine, KernelSpec, nngp_ntk};
use crate::nn::batched::{BatchedTrainer, NetConfig, effective_lr};
use crate::session::grid::GridRun;
use crate::session::run::RunConfig;

/// The most networks an ensemble trains.
pub const MAX_NETWORKS: usize = 32;

/// The fewest: a spread needs two.
pub const MIN_NETWORKS: usize = 2;

/// Checks that `config` describes runs the band is about: one input (the band is drawn over x),
/// α = 1, plain gradient descent, and a number of networks in
/// [`MIN_NETWORKS`]..=[`MAX_NETWORKS`].
pub fn check(config: &RunConfig, networks: usize) -> Result<()> {
    if !(MIN_NETWORKS..=MAX_NETWORKS).contains(&networks) {
        return Err(Error::config(
            "ensemble",
            format!(
                "an ensemble has {MIN_NETWORKS} to {MAX_NETWORKS} networks (0 turns it off), got {networks}"
            ),
        ));
    }
    if config.input_dim() != 1 {
        return Err(Error::config(
            "ensemble",
            "the ensemble's band is drawn over one input: choose a 1-D dataset, or turn the ensemble off",
        ));
    }
    if config.alpha != 1.0 {
        return Err(Error::config(
            "ensemble",
            "the ensemble trains the plain network, which the infinite-width band describes: set α to 1, or turn the ensemble off",
        ));
    }
    if config.momentum != 0.0 || config.weight_decay != 0.0 {
        return Err(Error::config(
            "ensemble",
            "the ensemble trains with plain gradient descent, which the band describes: set momentum and weight decay to 0, or turn the ensemble off",
        ));
    }
    Ok(())
}

/// The infinite-width distribution on the grid: μ_t and σ_t² at any step from one
/// eigendecomposition of the analytic NTK on the training points.
pub struct Band {
    cov: EnsembleCovariance,
    y_train: Vec<f64>,
}

impl Band {
    /// The analytic NNGP and NTK of `config`'s architecture on the training inputs `x_train`
    /// (n × d) and the grid `x_grid` (g × d), with the targets `y_train`.
    pub fn new(
        config: &RunConfig,
        x_train: &[f32],
        y_train: &[f32],
        x_grid: &[f32],
    ) -> Result<Self> {
        let d = config.input_dim();
        let spec = KernelSpec::from_mlp(&config.spec());
        let xt: Vec<f64> = x_train.iter().map(|&v| v as f64).collect();
        let xg: Vec<f64> = x_grid.iter().map(|&v| v as f64).collect();
        let (k_tt, theta_tt) = nngp_ntk(&spec, &xt, None, d)?;
        let (k_gt, theta_gt) = nngp_ntk(&spec, &xg, Some(&xt), d)?;
        let (k_gg, _) = nngp_ntk(&spec, &xg, None, d)?;
        let machine = KernelMachine::new(&theta_tt)?;
        Ok(Band {
            cov: EnsembleCovariance::new(&machine, &theta_gt, &k_tt, &k_gt, &k_gg)?,
            y_train: y_train.iter().map(|&v| v as f64).collect(),
        })
    }

    /// μ_t and σ_t (clamped at 0 before the root: see the rounding note of
    /// [`crate::kernels::ensemble`]) on the grid after `steps` steps of the effective step size
    /// `lr`.
    pub fn at(&self, lr: f64, steps: u64) -> Result<(Vec<f64>, Vec<f64>)> {
        let filter = Filter::Steps { lr, steps };
        let mean = self.cov.mean(filter, &self.y_train)?;
        let var = self.cov.variance(filter)?;
        Ok((
            mean.iter().copied().collect(),
            var.iter().map(|v| v.max(0.0).sqrt()).collect(),
        ))
    }
}

/// How far an ensemble is from the band (see the module notes); `None` fields where the band
/// has no spread to compare with (RMS σ = 0) or fewer than two networks are left.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Distance {
    /// RMS(σ̂ − σ) / RMS(σ).
    pub spread: Option<f64>,
    /// RMS(μ̂ − μ) / RMS(σ).
    pub mean: Option<f64>,
    /// 1/√(2(N − 1)): the spread distance N Gaussian draws show at infinite width.
    pub spread_floor: f64,
    /// 1/√N: the mean distance they show.
    pub mean_floor: f64,
    /// N, the networks that have not diverged.
    pub networks: usize,
}

/// The ensemble's mean and standard deviation (n − 1) per grid point over `members` (each a
/// vector over the grid), and the [`Distance`] to the band (μ, σ).
pub fn compare(members: &[Vec<f32>], mu: &[f64], sigma: &[f64]) -> (Vec<f64>, Vec<f64>, Distance) {
    let n = members.len();
    let g = mu.len();
    let mut mean = vec![0.0; g];
    let mut sd = vec![0.0; g];
    if n > 0 {
        for m in members {
            for (acc, &v) in mean.iter_mut().zip(m) {
                *acc += v as f64;
            }
        }
        for v in &mut mean {
            *v /= n as f64;
        }
    }
    if n > 1 {
        for m in members {
            for ((acc, &v), &mu_hat) in sd.iter_mut().zip(m).zip(&mean) {
                *acc += (v as f64 - mu_hat).powi(2);
            }
        }
        for v in &mut sd {
            *v = (*v / (n - 1) as f64).sqrt();
        }
    }
    let rms = |f: &dyn Fn(usize) -> f64| -> f64 {
        ((0..g).map(|i| f(i).powi(2)).sum::<f64>() / g.max(1) as f64).sqrt()
    };
    let scale = rms(&|i| sigma[i]);
    let usable = n > 1 && scale > 0.0 && scale.is_finite();
    let spread = rms(&|i| sd[i] - sigma[i]) / scale;
    let mean_d = rms(&|i| mean[i] - mu[i]) / scale;
    let distance = Distance {
        spread: (usable && spread.is_finite()).then_some(spread),
        mean: (usable && mean_d.is_finite()).then_some(mean_d),
        spread_floor: 1.0 / (2.0 * (n.max(2) - 1) as f64).sqrt(),
        mean_floor: 1.0 / (n.max(1) as f64).sqrt(),
        networks: n,
    };
    (mean, sd, distance)
}

/// What ensemble mode draws on the grid at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsemblePicture {
    /// The step every network has reached.
    pub step: u64,
    /// The networks drawn (those that have not diverged), their grid outputs one after the
    /// other (`live × grid`).
    pub live: usize,
    pub members: Vec<f32>,
    /// μ̂ and σ̂ over them.
    pub mean: Vec<f32>,
    pub sd: Vec<f32>,
    /// μ_t and σ_t of the band.
    pub band_mean: Vec<f32>,
    pub band_sd: Vec<f32>,
    pub distance: Distance,
    /// How many networks diverged, and the first step at which one did.
    pub diverged: usize,
    pub first_diverged: Option<u64>,
}

/// `networks` finite networks trained together beside the band (see the module notes).
pub struct Ensemble {
    config: RunConfig,
    networks: usize,
    x_train: Vec<f32>,
    y_train: Vec<f32>,
    x_grid: Vec<f32>,
    trainer: BatchedTrainer<Cpu>,
    band: Band,
}

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

impl Ensemble {
    /// The ensemble of `config` (checked by [`check`]) on its training set (`x_train`,
    /// `y_train`) and plotting grid `x_grid`.
    pub fn new(
        config: &RunConfig,
        networks: usize,
        x_train: &[f32],
        y_train: &[f32],
        x_grid: &[f32],
    ) -> Result<Self> {
        check(config, networks)?;
        let band = Band::new(config, x_train, y_train, x_grid)?;
        let trainer = Self::trainer(config, networks, x_train, y_train)?;
        Ok(Ensemble {
            config: config.clone(),
            networks,
            x_train: x_train.to_vec(),
            y_train: y_train.to_vec(),
            x_grid: x_grid.to_vec(),
            trainer,
            band,
        })
    }

    fn trainer(
        config: &RunConfig,
        networks: usize,
        x_train: &[f32],
        y_train: &[f32],
    ) -> Result<BatchedTrainer<Cpu>> {
        let spec = config.spec();
        let configs: Vec<NetConfig> = (0..networks as u64)
            .map(|i| NetConfig {
                seed: config.data.seed.wrapping_add(i),
                init_scale: spec.init_scale,
                lr: config.lr,
            })
            .collect();
        BatchedTrainer::new(Cpu::new(), spec, x_train, y_train, &configs)
    }

    /// Estimated bytes the ensemble keeps (see [`BatchedTrainer::memory_bytes`]).
    pub fn memory_bytes(config: &RunConfig, networks: usize) -> u64 {
        let n = config.data.n_train;
        BatchedTrainer::<Cpu>::memory_bytes(&config.spec(), n, networks).0
    }

    pub fn networks(&self) -> usize {
        self.networks
    }

    pub fn step(&self) -> u64 {
        self.trainer.step()
    }

    /// Trains every network on to step `step` (nothing if already there).
    pub fn advance_to(&mut self, step: u64) -> Result<()> {
        let now = self.trainer.step();
        if step > now && !self.trainer.all_diverged() {
            crate::exec::block_on(self.trainer.advance_async(step - now))?;
        }
        Ok(())
    }

    /// A new step size for every network from the next step on (and for the band, which uses
    /// the step size now for all its steps, as the scene's NTK predictor does).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.trainer.set_lr(lr)?;
        self.config.lr = lr;
        Ok(())
    }

    /// Back to θ₀ for every network, step 0.
    pub fn rewind(&mut self) -> Result<()> {
        self.trainer = Self::trainer(&self.config, self.networks, &self.x_train, &self.y_train)?;
        Ok(())
    }

    /// The step size of the function-space recursion (mean-field multiplies by n_L).
    fn kernel_lr(&self) -> f64 {
        effective_lr(&self.config.spec(), self.config.lr)
    }

    /// The networks, the band and their distance on the grid at the step reached.
    pub fn picture(&mut self) -> Result<EnsemblePicture> {
        let step = self.trainer.step();
        let outputs = crate::exec::block_on(self.trainer.predict_async(&self.x_grid))?;
        let mut members = Vec::new();
        let mut first_diverged: Option<u64> = None;
        let mut diverged = 0;
        for (net, out) in outputs.into_iter().enumerate() {
            match self.trainer.diverged(net) {
                Some(at) => {
                    diverged += 1;
                    first_diverged = Some(first_diverged.map_or(at, |f| f.min(at)));
                }
                None if out.iter().all(|v| v.is_finite()) => members.push(out),
                None => diverged += 1,
            }
        }
        let (mu, sigma) = self.band.at(self.kernel_lr(), step)?;
        let (mean, sd, distance) = compare(&members, &mu, &sigma);
        Ok(EnsemblePicture {
            step,
            live: members.len(),
            members: members.concat(),
            mean: f32s(&mean),
            sd: f32s(&sd),
            band_mean: f32s(&mu),
            band_sd: f32s(&sigma),
            distance,
            diverged,
            first_diverged,
        })
    }

    /// The band alone at step `steps` (μ_t, σ_t on the grid), for the step slider of a paused run.
    pub fn band_at(&self, steps: u64) -> Result<(Vec<f64>, Vec<f64>)> {
        self.band.at(self.kernel_lr(), steps)
    }
}

/// One width of an [`EnsembleSweep`]: the distance after the sweep's steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepPoint {
    pub width: usize,
    pub distance: Distance,
    /// Networks that diverged at this width.
    pub diverged: usize,
}

/// What one [`EnsembleSweep::next`] call did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepProgress {
    /// The width being trained (or just finished), its index among the widths, and how many.
    pub width: usize,
    pub index: usize,
    pub total: usize,
    /// Steps done at this width, of the sweep's steps.
    pub steps_done: u64,
    pub steps: u64,
    /// The width finished by this call, if one was.
    pub point: Option<SweepPoint>,
    pub done: bool,
}

/// The distance between an ensemble and the band across widths: for each width in turn, an
/// ensemble of the scene's settings at that width trained for `steps` steps, a few steps per
/// [`EnsembleSweep::next`] call so that a page can show progress.
pub struct EnsembleSweep {
    config: RunConfig,
    networks: usize,
    widths: Vec<usize>,
    steps: u64,
    x_train: Vec<f32>,
    y_train: Vec<f32>,
    x_grid: Vec<f32>,
    at: usize,
    current: Option<Ensemble>,
    points: Vec<SweepPoint>,
}

impl EnsembleSweep {
    /// The sweep of `config` over `widths` (each ≥ 1; the architecture is checked per width as
    /// the ensemble is built) with `networks` networks, `steps` steps, on the given training set
    /// and grid.
    pub fn new(
        config: RunConfig,
        networks: usize,
        widths: Vec<usize>,
        steps: u64,
        x_train: &[f32],
        y_train: &[f32],
        x_grid: &[f32],
    ) -> Result<Self> {
        check(&config, networks)?;
        if widths.is_empty() || widths.contains(&0) {
            return Err(Error::config(
                "widths",
                "a sweep needs at least one width, each at least 1",
            ));
        }
        Ok(EnsembleSweep {
            config,
            networks,
            widths,
            steps,
            x_train: x_train.to_vec(),
            y_train: y_train.to_vec(),
            x_grid: x_grid.to_vec(),
            at: 0,
            current: None,
            points: Vec::new(),
        })
    }

    /// The sweep of the scene's settings `config`: its training set and plotting grid are those
    /// of a run of `config` (see [`EnsembleSweep::new`] for the rest).
    pub fn for_scene(
        config: RunConfig,
        networks: usize,
        widths: Vec<usize>,
        steps: u64,
    ) -> Result<Self> {
        check(&config, networks)?;
        let pg = GridRun::new(config.clone())?;
        let grid = pg.grid_points().to_vec();
        Self::new(
            config,
            networks,
            widths,
            steps,
            &pg.data.x_train,
            &pg.data.y_train,
            &grid,
        )
    }

    pub fn points(&self) -> &[SweepPoint] {
        &self.points
    }

    pub fn is_done(&self) -> bool {
        self.at >= self.widths.len()
    }

    /// Up to `budget` more steps of the width being trained (building its ensemble first); when
    /// that width reaches the sweep's steps, its distance is measured and the sweep moves on.
    pub fn next(&mut self, budget: u64) -> Result<SweepProgress> {
        let total = self.widths.len();
        if self.is_done() {
            return Ok(SweepProgress {
                width: *self.widths.last().expect("not empty"),
                index: total,
                total,
                steps_done: self.steps,
                steps: self.steps,
                point: None,
                done: true,
            });
        }
        let width = self.widths[self.at];
        if self.current.is_none() {
            let mut config = self.config.clone();
            config.net.width = width;
            self.current = Some(Ensemble::new(
                &config,
                self.networks,
                &self.x_train,
                &self.y_train,
                &self.x_grid,
            )?);
        }
        let ensemble = self.current.as_mut().expect("built above");
        let target = (ensemble.step() + budget.max(1)).min(self.steps);
        ensemble.advance_to(target)?;
        let reached = ensemble.step();
        let finished = reached >= self.steps || ensemble.trainer.all_diverged();
        let mut point = None;
        if finished {
            let picture = ensemble.picture()?;
            let p = SweepPoint {
                width,
                distance: picture.distance,
                diverged: picture.diverged,
            };
            self.points.push(p.clone());
            point = Some(p);
            self.current = None;
            self.at += 1;
        }
        Ok(SweepProgress {
            width,
            index: self.at.min(total),
            total,
            steps_done: reached,
            steps: self.steps,
            point,
            done: self.is_done(),
        })
    }
}
