//! One replicate: its features, factorisations and errors for every size.

use super::features::{Components, draw_digits, draw_first_layer, draw_sphere, features};
use std::sync::{Mutex, OnceLock};

use super::gram::{
    PendingFit, SizeFit, Workspace, gemm_inner_prefix, gemm_outer_prefix, pending_fits,
    zero_past_prefixes,
};
use super::{DataSource, DoubleDescentConfig, Size, Sweep};
use crate::backend::Trans;
use crate::backend::cpu::gemm::Gemm;
use crate::data::digits::Digits;
use crate::error::{Error, Result};
use crate::linalg::dot;

/// Train and test errors of every size for one replicate.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Errors {
    pub(super) train_mse: Vec<f64>,
    pub(super) test_mse: Vec<f64>,
    pub(super) norm: Vec<f64>,
    pub(super) test_error: Vec<f64>,
}

pub(super) struct Replicate {
    pub(super) seed: u64,
    /// `n_max × p_max` training features.
    pub(super) phi: Vec<f32>,
    /// Test features, `n_test × p_max`.
    phi_test: Vec<f32>,
    pub(super) components: Components,
    test_labels: Option<Vec<u8>>,
    pub(super) fits: Vec<SizeFit>,
    pub(super) errors: Errors,
}

/// The label-independent part of a re-fit for one size: z = (T + ρ)⁻¹c and its train SSE and
/// squared weight norm.
pub(super) struct Solved {
    pub(super) z: Vec<f64>,
    train_sse: f64,
    norm_sq: f64,
}

impl SizeFit {
    pub(super) fn solve(&self, weights: &[f64], rho: f64, k: usize) -> Solved {
        let m = self.size.factor_dim();
        let c = Components::combine(&self.proj, weights, m * k);
        let rho = rho.max(self.cutoff);
        let mut z = c.clone();
        self.tri.solve_shifted(rho, &mut z, k, self.cutoff);
        let z_t_z = self.tri.quadratic_form(&z, k);
        let (train_sse, norm_sq) = if self.size.is_dual() {
            // y − Kα = ρα, so the residual is ρ·Qz.
            (rho * rho * dot(&z, &z), z_t_z)
        } else {
            let j = weights.len();
            let mut y_sq = 0.0;
            for a in 0..j {
                for b in 0..j {
                    y_sq += weights[a] * weights[b] * self.y_gram[a * j + b];
                }
            }
            ((y_sq - 2.0 * dot(&z, &c) + z_t_z).max(0.0), dot(&z, &z))
        };
        Solved {
            z,
            train_sse,
            norm_sq,
        }
    }
}

/// A replicate in pieces: its features and the Grams of every size, computed
/// ([`DoubleDescent::prepare_next`](super::DoubleDescent::prepare_next)); then its pieces
/// ([`ReplicateWork::run_piece`]), which may run on different threads in any order: one
/// reduction per size; then the errors
/// ([`DoubleDescent::finish`](super::DoubleDescent::finish)). Each piece computes exactly what
/// it computes in [`DoubleDescent::advance`](super::DoubleDescent::advance), which runs them
/// one after another.
pub struct ReplicateWork {
    seed: u64,
    phi: Vec<f32>,
    /// The test features, `n_test × p_max`.
    phi_test: Vec<f32>,
    components: Components,
    test_labels: Option<Vec<u8>>,
    /// Each size's Gram, taken by the piece that reduces it.
    pending: Vec<Mutex<Option<PendingFit>>>,
    fits: Vec<OnceLock<SizeFit>>,
    /// The pieces, largest first: the sizes' reductions by decreasing side.
    order: Vec<usize>,
}

impl ReplicateWork {
    /// The number of pieces.
    pub fn pieces(&self) -> usize {
        self.order.len()
    }

    /// Runs piece `i` (< [`ReplicateWork::pieces`], each once; the larger ones have the lower
    /// indices).
    pub fn run_piece(&self, i: usize) {
        let j = self.order[i];
        let pending = self.pending[j]
            .lock()
            .expect("a piece panicked")
            .take()
            .expect("each piece runs once");
        assert!(
            self.fits[j].set(pending.factor()).is_ok(),
            "each piece runs once"
        );
    }
}

impl Replicate {
    /// Replicate `index`'s features and Grams, its pieces still to run.
    pub(super) fn prepare(
        cfg: &DoubleDescentConfig,
        grid: &[Size],
        index: usize,
        digits_data: Option<&Digits>,
        gemm: &mut Gemm,
    ) -> Result<ReplicateWork> {
        let seed = cfg.seed.wrapping_add(index as u64);
        let (n_max, p_max) = cfg.extent();
        let drawn = match cfg.data {
            DataSource::Sphere => draw_sphere(cfg, seed, n_max),
            DataSource::Digits => {
                let data = digits_data.ok_or_else(|| {
                    Error::config("data", "the digits data set has not been loaded")
                })?;
                draw_digits(cfg, seed, n_max, data)?
            }
        };
        let d = cfg.input_dim();
        let layer = draw_first_layer(cfg.features, d, p_max, seed);
        let phi = features(gemm, cfg.features, &drawn.x_train, n_max, d, &layer, p_max);
        let phi_test = features(
            gemm,
            cfg.features,
            &drawn.x_test,
            cfg.n_test,
            d,
            &layer,
            p_max,
        );
        let pending = pending_fits(
            grid,
            &phi,
            p_max,
            &drawn.components,
            cfg.outputs(),
            cfg.sweep,
        );
        let mut order: Vec<usize> = (0..pending.len()).collect();
        order.sort_by_key(|&j| std::cmp::Reverse(pending[j].dim()));
        Ok(ReplicateWork {
            seed,
            phi,
            phi_test,
            components: drawn.components,
            test_labels: drawn.test_labels,
            fits: pending.iter().map(|_| OnceLock::new()).collect(),
            pending: pending.into_iter().map(|f| Mutex::new(Some(f))).collect(),
            order,
        })
    }

    /// The replicate of `work`, every piece of which has run (its errors not yet computed).
    pub(super) fn assemble(work: ReplicateWork) -> Replicate {
        let fits = work
            .fits
            .into_iter()
            .map(|f| f.into_inner().expect("every piece ran"))
            .collect();
        Replicate {
            seed: work.seed,
            phi: work.phi,
            phi_test: work.phi_test,
            components: work.components,
            test_labels: work.test_labels,
            fits,
            errors: Errors::default(),
        }
    }

    /// Re-computes every size's errors from the cached factorisations.
    pub(super) fn refit(&mut self, cfg: &DoubleDescentConfig, grid: &[Size], ws: &mut Workspace) {
        let k = cfg.outputs();
        let weights = cfg.component_weights();
        let (n_max, p_max) = cfg.extent();
        let s = grid.len();
        let dual: Vec<usize> = (0..s).filter(|&i| grid[i].is_dual()).collect();
        let first_dual = dual.first().copied().unwrap_or(s);
        let (ld_a, ld_alpha) = (s * k, dual.len().max(1) * k);
        ws.a.resize(p_max * ld_a, 0.0);
        ws.alpha.resize(n_max * ld_alpha, 0.0);
        ws.f_test.resize(cfg.n_test * ld_a, 0.0);
        let mut errors = Errors {
            train_mse: vec![0.0; s],
            test_mse: vec![0.0; s],
            norm: vec![0.0; s],
            test_error: Vec::new(),
        };
        for (i, fit) in self.fits.iter().enumerate() {
            let size = fit.size;
            let solved = fit.solve(&weights, cfg.raw_ridge(size, cfg.ridge), k);
            errors.train_mse[i] = solved.train_sse / size.n as f64;
            errors.norm[i] = solved.norm_sq.max(0.0).sqrt();
            let mut x = solved.z;
            fit.tri.apply_q(&mut x, k);
            let (buf, ld, col) = if size.is_dual() {
                (&mut ws.alpha, ld_alpha, (i - first_dual) * k)
            } else {
                (&mut ws.a, ld_a, i * k)
            };
            for (r, row) in x.chunks_exact(k).enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    buf[r * ld + col + c] = v as f32;
                }
            }
        }
        match cfg.sweep {
            Sweep::Features => {
                // Second-layer weights of the dual sizes: a = Φ[:, :p]ᵀα, zero past row p.
                if !dual.is_empty() {
                    let prefixes: Vec<usize> = dual.iter().map(|&i| grid[i].p).collect();
                    gemm_outer_prefix(
                        &mut ws.gemm,
                        &self.phi,
                        p_max,
                        n_max,
                        p_max,
                        &prefixes,
                        k,
                        &ws.alpha,
                        ld_alpha,
                        &mut ws.a[first_dual * k..],
                        ld_a,
                    );
                }
            }
            Sweep::Samples => {
                // Second-layer weights of the dual sizes: a = Φ[:n, :]ᵀα (α zero past row n).
                if !dual.is_empty() {
                    let prefixes: Vec<usize> = dual.iter().map(|&i| grid[i].n).collect();
                    zero_past_prefixes(&mut ws.alpha, ld_alpha, n_max, &prefixes, k, 0);
                    gemm_inner_prefix(
                        &mut ws.gemm,
                        &self.phi,
                        p_max,
                        Trans::T,
                        p_max,
                        &prefixes,
                        k,
                        &ws.alpha,
                        ld_alpha,
                        &mut ws.a[first_dual * k..],
                        ld_a,
                    );
                }
            }
        }
        // Test predictions: Φ_test[:, :p]·a for every size (a zero past row p; sample-wise
        // every size has all p = p_max features).
        let all_p: Vec<usize> = grid.iter().map(|s| s.p).collect();
        zero_past_prefixes(&mut ws.a, ld_a, p_max, &all_p[..first_dual], k, 0);
        gemm_inner_prefix(
            &mut ws.gemm,
            &self.phi_test,
            p_max,
            Trans::N,
            cfg.n_test,
            &all_p,
            k,
            &ws.a,
            ld_a,
            &mut ws.f_test,
            ld_a,
        );
        let y_test = Components::combine(&self.components.test, &weights, cfg.n_test * k);
        for (i, mse) in errors.test_mse.iter_mut().enumerate() {
            let mut sse = 0.0;
            for (row, y) in ws.f_test.chunks_exact(ld_a).zip(y_test.chunks_exact(k)) {
                sse += row[i * k..(i + 1) * k]
                    .iter()
                    .zip(y)
                    .map(|(&f, &y)| (f as f64 - y).powi(2))
                    .sum::<f64>();
            }
            *mse = sse / cfg.n_test as f64;
        }
        if let Some(labels) = &self.test_labels {
            errors.test_error = (0..s)
                .map(|i| {
                    let wrong = ws
                        .f_test
                        .chunks_exact(ld_a)
                        .zip(labels)
                        .filter(|(row, label)| {
                            let out = &row[i * k..(i + 1) * k];
                            let best = (0..k).fold(0, |b, c| if out[c] > out[b] { c } else { b });
                            best != **label as usize
                        })
                        .count();
                    wrong as f64 / labels.len() as f64
                })
                .collect();
        }
        self.errors = errors;
    }
}
