//! The double-descent session: replicates computed one at a time over seeds, re-fit from their
//! cached factorisations when the ridge, noise or teacher changes.

use super::features::Components;
use super::gram::Workspace;
use super::replicate::{Errors, Replicate, ReplicateWork};
use super::{
    DataSource, DoubleDescentConfig, FeatureMap, Report, SeedCurves, Size, Stat, Sweep, Teacher,
};
use crate::data::digits::Digits;
use crate::error::{Error, Result, in_range};
use crate::session::budget::DOUBLE_DESCENT_MEMORY;
use crate::theory::mei_montanari::{self, ActivationCoefficients, RfSetting};

/// One double-descent session: replicates are computed one at a time ([`DoubleDescent::advance`]),
/// and the ridge, noise and teacher settings re-fit from the cached factorisations.
pub struct DoubleDescent {
    config: DoubleDescentConfig,
    grid: Vec<Size>,
    digits: Option<Digits>,
    pub(super) replicates: Vec<Replicate>,
    ws: Workspace,
}

impl DoubleDescent {
    /// A session; nothing is computed until [`DoubleDescent::advance`]. `digits` is needed for
    /// [`DataSource::Digits`].
    pub fn new(config: DoubleDescentConfig, digits: Option<&Digits>) -> Result<Self> {
        Self::with_memory_limit(config, digits, DOUBLE_DESCENT_MEMORY)
    }

    /// As [`DoubleDescent::new`] with another memory limit.
    pub fn with_memory_limit(
        config: DoubleDescentConfig,
        digits: Option<&Digits>,
        memory_limit: u64,
    ) -> Result<Self> {
        config.validate(memory_limit)?;
        if config.data == DataSource::Digits && digits.is_none() {
            return Err(Error::config(
                "data",
                "the digits data set has not been loaded",
            ));
        }
        Ok(DoubleDescent {
            grid: config.grid(),
            config,
            digits: digits.cloned(),
            replicates: Vec::new(),
            ws: Workspace::default(),
        })
    }

    pub fn config(&self) -> &DoubleDescentConfig {
        &self.config
    }

    pub fn grid(&self) -> &[Size] {
        &self.grid
    }

    pub fn seeds_done(&self) -> usize {
        self.replicates.len()
    }

    pub fn is_done(&self) -> bool {
        self.replicates.len() >= self.config.seeds
    }

    /// Computes the next replicate (features, factorisations, errors). Returns whether all
    /// seeds are done.
    pub fn advance(&mut self) -> Result<bool> {
        if let Some(work) = self.prepare_next()? {
            for i in 0..work.pieces() {
                work.run_piece(i);
            }
            self.finish(work);
        }
        Ok(self.is_done())
    }

    /// The next replicate's features and Grams, its pieces to run (on any threads) before
    /// [`DoubleDescent::finish`]; `None` when all seeds are done. [`DoubleDescent::advance`]
    /// is this, every piece in turn, and `finish`.
    pub fn prepare_next(&mut self) -> Result<Option<ReplicateWork>> {
        if self.is_done() {
            return Ok(None);
        }
        Replicate::prepare(
            &self.config,
            &self.grid,
            self.replicates.len(),
            self.digits.as_ref(),
            &mut self.ws.gemm,
        )
        .map(Some)
    }

    /// Adds the replicate of `work` (from [`DoubleDescent::prepare_next`], every piece run)
    /// with its errors. Returns whether all seeds are done.
    pub fn finish(&mut self, work: ReplicateWork) -> bool {
        let mut rep = Replicate::assemble(work);
        rep.refit(&self.config, &self.grid, &mut self.ws);
        self.replicates.push(rep);
        self.is_done()
    }

    /// Computes every remaining replicate.
    pub fn run(&mut self) -> Result<()> {
        while !self.advance()? {}
        Ok(())
    }

    fn refit_all(&mut self) {
        for rep in &mut self.replicates {
            rep.refit(&self.config, &self.grid, &mut self.ws);
        }
    }

    /// Re-fits every size of every finished replicate at ridge λ (no refactorisation).
    pub fn set_ridge(&mut self, ridge: f64) -> Result<()> {
        in_range(
            "ridge",
            ridge,
            crate::session::net::ridge_setting().bounds(),
        )?;
        self.config.ridge = ridge;
        self.refit_all();
        Ok(())
    }

    /// Re-fits at label-noise standard deviation σ (the same noise draws, rescaled).
    pub fn set_noise(&mut self, noise: f64) -> Result<()> {
        in_range("noise", noise, super::settings().bounds("noise"))?;
        self.config.noise = noise;
        self.refit_all();
        Ok(())
    }

    /// Re-fits with another teacher (sphere data).
    pub fn set_teacher(&mut self, teacher: Teacher) -> Result<()> {
        self.config.teacher = teacher;
        self.refit_all();
        Ok(())
    }

    /// Changes the number of seeds: fewer drops the last replicates, more leaves the finished
    /// ones as they are (replicate s always uses seed `seed + s`) for
    /// [`DoubleDescent::advance`] to add.
    pub fn set_seeds(&mut self, seeds: usize) -> Result<()> {
        let mut next = self.config.clone();
        next.seeds = seeds;
        next.validate(DOUBLE_DESCENT_MEMORY)?;
        self.config.seeds = seeds;
        self.replicates.truncate(seeds);
        Ok(())
    }

    /// The numbers of every panel for the finished replicates.
    pub fn report(&self) -> Report {
        let cfg = &self.config;
        let k = cfg.outputs();
        let rows = |f: fn(&Errors) -> &Vec<f64>| -> Vec<&[f64]> {
            self.replicates
                .iter()
                .map(|r| f(&r.errors).as_slice())
                .collect()
        };
        let ratio: Vec<f64> = self
            .grid
            .iter()
            .map(|s| match cfg.sweep {
                Sweep::Features => s.p as f64 / s.n as f64,
                Sweep::Samples => s.n as f64 / s.p as f64,
            })
            .collect();
        let threshold_index = (0..ratio.len())
            .min_by(|&a, &b| ratio[a].ln().abs().total_cmp(&ratio[b].ln().abs()))
            .unwrap_or(0);
        let threshold_params = match cfg.sweep {
            Sweep::Features => cfg.n_train * k,
            Sweep::Samples => cfg.n_features * k,
        };
        let (theory, kernel_limit, optimal) = self.theory();
        Report {
            sweep: cfg.sweep,
            sizes: self.grid.clone(),
            params: self.grid.iter().map(|s| s.p * k).collect(),
            ratio,
            outputs: k,
            threshold_ratio: 1.0,
            threshold_params,
            threshold_index,
            train_mse: Stat::of(&rows(|e| &e.train_mse)),
            test_mse: Stat::of(&rows(|e| &e.test_mse)),
            norm: Stat::of(&rows(|e| &e.norm)),
            test_error: (cfg.data == DataSource::Digits)
                .then(|| Stat::of(&rows(|e| &e.test_error))),
            per_seed: self
                .replicates
                .iter()
                .map(|r| SeedCurves {
                    seed: r.seed,
                    train_mse: r.errors.train_mse.clone(),
                    test_mse: r.errors.test_mse.clone(),
                    norm: r.errors.norm.clone(),
                    test_error: (cfg.data == DataSource::Digits)
                        .then(|| r.errors.test_error.clone()),
                })
                .collect(),
            seeds_done: self.replicates.len(),
            seeds: cfg.seeds,
            ridge: cfg.ridge,
            theory,
            theory_kernel_limit: kernel_limit,
            theory_optimal_ridge: optimal,
        }
    }

    /// The Mei–Montanari setting of a size (ReLU features on the sphere data only).
    pub fn theory_setting(&self, size: Size) -> Option<RfSetting> {
        let cfg = &self.config;
        if cfg.data != DataSource::Sphere || cfg.features != FeatureMap::Relu {
            return None;
        }
        let d = cfg.dim as f64;
        Some(RfSetting {
            psi1: size.p as f64 / d,
            psi2: size.n as f64 / d,
            lambda: cfg.ridge,
            coefficients: ActivationCoefficients::relu(),
            signal: cfg.signal,
            nonlinear: if cfg.teacher == Teacher::Nonlinear {
                cfg.nonlinear
            } else {
                0.0
            },
            noise: cfg.noise * cfg.noise,
        })
    }

    /// (asymptotic risk per size, kernel limit, optimal ridge at the threshold).
    fn theory(&self) -> (Option<Vec<f64>>, Option<f64>, Option<f64>) {
        let Some(first) = self.grid.first().and_then(|&s| self.theory_setting(s)) else {
            return (None, None, None);
        };
        let curve = self
            .grid
            .iter()
            .filter_map(|&s| self.theory_setting(s))
            .map(|s| mei_montanari::risk(&s).risk)
            .collect();
        // The threshold p = n of this sweep.
        let threshold = match self.config.sweep {
            Sweep::Features => RfSetting {
                psi1: first.psi2,
                ..first
            },
            Sweep::Samples => RfSetting {
                psi2: first.psi1,
                ..first
            },
        };
        let kernel =
            (self.config.sweep == Sweep::Features).then(|| mei_montanari::kernel_limit(&first));
        (
            Some(curve),
            kernel,
            Some(mei_montanari::optimal_lambda(&threshold)),
        )
    }

    /// Replicate `index`'s training features: (`n_max × p_max` row-major f32, n_max, p_max).
    pub fn features_train(&self, index: usize) -> Option<(&[f32], usize, usize)> {
        let (n_max, p_max) = self.config.extent();
        self.replicates
            .get(index)
            .map(|r| (r.phi.as_slice(), n_max, p_max))
    }

    /// Replicate `index`'s training labels at the current settings (`n_max × K`, row-major).
    pub fn train_targets(&self, index: usize) -> Option<Vec<f64>> {
        let (n_max, _) = self.config.extent();
        let w = self.config.component_weights();
        self.replicates
            .get(index)
            .map(|r| Components::combine(&r.components.train, &w, n_max * self.config.outputs()))
    }

    /// The seed replicate `index` was drawn from.
    pub fn replicate_seed(&self, index: usize) -> Option<u64> {
        self.replicates.get(index).map(|r| r.seed)
    }

    /// The fitted second-layer weights a (`p × K`, row-major, f64) of size `size` in replicate
    /// `index` at the current ridge, from the cached factorisation, accumulated in f64.
    pub fn coefficients(&self, index: usize, size: usize) -> Option<Vec<f64>> {
        let cfg = &self.config;
        let rep = self.replicates.get(index)?;
        let fit = rep.fits.get(size)?;
        let k = cfg.outputs();
        let solved = fit.solve(
            &cfg.component_weights(),
            cfg.raw_ridge(fit.size, cfg.ridge),
            k,
        );
        let mut x = solved.z;
        fit.tri.apply_q(&mut x, k);
        if !fit.size.is_dual() {
            return Some(x);
        }
        let (_, p_max) = cfg.extent();
        let mut a = vec![0.0; fit.size.p * k];
        for (i, alpha) in x.chunks_exact(k).enumerate() {
            let row = &rep.phi[i * p_max..i * p_max + fit.size.p];
            for (j, &phi) in row.iter().enumerate() {
                for c in 0..k {
                    a[j * k + c] += phi as f64 * alpha[c];
                }
            }
        }
        Some(a)
    }
}
