//! The live run of the Weak-labels scene: one network (DLLP or EasyLLP, [`Learner`]) trained
//! step by step on the bags of the settings, reporting after every batch of steps the DLLP bag
//! loss of the network now (whichever learner trains it) beside its instance accuracies on the
//! training instances and the test set. The point of the panel: the bag loss can reach about
//! zero while the instance accuracy stays poor (large bags whose proportions any labelling
//! with the right counts matches).
//!
//! The run is on the CPU (at width 256 on 1,024 digits a step costs about 0.1 GFLOP, which the
//! wasm path takes well over 150 times a second). A step that diverges stops the run: the
//! report keeps the last finite numbers and says "diverged at step k".

use serde::Serialize;

use super::{Learner, Pool, SCENE, WeakConfig, accuracy, argmax_rows};
use crate::backend::cpu::Cpu;
use crate::data::{BagOptions, Bags, GridSpec, stream};
use crate::error::{Error, Result};
use crate::kernels::mean_map::{MeanMap, spectrum};
use crate::nn::loss::Loss;
use crate::nn::mlp::Mlp;
use crate::nn::train::Trainer;
use crate::rng::Rng;
use crate::session::net::lr_setting;
use crate::session::run::DataSource;
use crate::session::weights::{Architecture, Weights};

/// Where the live run stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeakReport {
    /// Steps taken.
    pub step: u64,
    /// The DLLP bag loss −(1/m) Σⱼ Σ_c pⱼc log p̄ⱼc of the network now on the bags' reported
    /// proportions (for either learner).
    pub bag_loss: f64,
    /// The smallest bag loss any network can reach: the mean entropy −(1/m) Σⱼ Σ_c pⱼc log pⱼc
    /// of the reported proportions (reached when every bag's predicted proportions equal its
    /// reported ones). The bag loss minus it, a mean KL divergence, is what falls to about 0
    /// while the instance accuracy can stay poor.
    pub bag_loss_floor: f64,
    /// Fraction of the training instances (those in bags) whose predicted class is their true
    /// class.
    pub train_accuracy: f64,
    /// The same on the test set.
    pub test_accuracy: f64,
    /// "diverged at step k" once a step diverged (the numbers are then the last finite ones).
    pub diverged: Option<String>,
}

/// The test-set confusion of the network now.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Confusion {
    pub classes: usize,
    pub names: Vec<String>,
    /// `classes × classes`, row-major: row the true class, column the predicted one.
    pub counts: Vec<u32>,
}

/// The bags as the learners see them, and what they hide.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proportions {
    /// m, the number of bags, and their size k.
    pub bags: usize,
    pub size: usize,
    pub classes: usize,
    pub names: Vec<String>,
    /// `m × K`, row-major: the reported proportions (truth plus noise, renormalised).
    pub reported: Vec<f64>,
    /// `m × K`: the true proportions.
    pub truth: Vec<f64>,
    /// Per bag: whether it was purified (one class only).
    pub purified: Vec<bool>,
    /// π, the class prior of the pool.
    pub prior: Vec<f64>,
    /// The singular values of the reported `m × K` proportion matrix P, descending.
    pub singular: Vec<f64>,
    /// σ_max / σ_min of P; `None` when P is singular (σ_min = 0).
    pub condition: Option<f64>,
}

/// The mean map on the live run's bags: its instance test accuracy, or why it refuses.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeanMapResult {
    pub accuracy: Option<f64>,
    pub refused: Option<String>,
}

/// A 2-D set's points with their true classes (see [`WeakLabels::points`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    /// `n × 2`, the instances in bag order.
    pub train_x: Vec<f32>,
    /// Their classes 0..K−1 as numbers.
    pub train_y: Vec<f32>,
    /// `n_test × 2`.
    pub test_x: Vec<f32>,
    pub test_y: Vec<f32>,
}

/// The live run.
pub struct WeakLabels {
    config: WeakConfig,
    pool: Pool,
    bags: Bags,
    /// The instances in bag order (`n × d`) and their true labels (for scoring only).
    x: Vec<f32>,
    labels: Vec<usize>,
    /// Every row's bag's reported proportions (`n × K`): the bag loss's targets.
    proportions: Vec<f32>,
    trainer: Trainer<Cpu>,
    last: WeakReport,
    /// The test predictions of the last report and its step: the confusion matrix at that
    /// step reuses them instead of predicting the test set again.
    test_predicted: (u64, Vec<usize>),
    /// The plotting grid of a 2-D set and its points.
    grid: Option<(GridSpec, Vec<f32>)>,
}

impl WeakLabels {
    /// Draws the pool and the bags of `config` and builds the network of its learner.
    /// `source` holds the parsed digits file (for `data = digits`) or the reader's table (for
    /// `data = table`).
    pub fn new(config: WeakConfig, source: &DataSource) -> Result<Self> {
        let config = config.with_source(source);
        config.validate()?;
        let pool = Pool::draw(&config, config.seed, source)?;
        let bags = draw_bags(&config, &pool, config.bag, config.seed)?;
        let (x, labels) = bag_instances(&bags, &pool);
        let proportions = bags.proportion_targets();
        let trainer = learner_trainer(&config, config.learner, &bags, &x, config.seed)?;
        let grid = config.has_regions().then(|| {
            let g = GridSpec::for_box(2, pool.data.domain, config.spec().forward_flops_per_point());
            let pts = g.points();
            (g, pts)
        });
        let mut run = WeakLabels {
            config,
            pool,
            bags,
            x,
            labels,
            proportions,
            trainer,
            last: WeakReport {
                step: 0,
                bag_loss: 0.0,
                bag_loss_floor: 0.0,
                train_accuracy: 0.0,
                test_accuracy: 0.0,
                diverged: None,
            },
            grid,
            test_predicted: (u64::MAX, Vec::new()),
        };
        run.evaluate();
        if let Some(d) = run.last.diverged.clone() {
            return Err(Error::config(
                "initScale",
                format!(
                    "the network's first outputs are not finite numbers ({d}); lower the \
                     initialisation scale"
                ),
            ));
        }
        Ok(run)
    }

    pub fn config(&self) -> &WeakConfig {
        &self.config
    }

    pub fn bags(&self) -> &Bags {
        &self.bags
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn step(&self) -> u64 {
        self.trainer.step()
    }

    /// Runs up to `steps` steps and reports at the parameters reached. After a divergence
    /// the run stands still and reports its last finite numbers.
    pub fn advance(&mut self, steps: u64) -> WeakReport {
        if self.last.diverged.is_some() {
            return self.last.clone();
        }
        match self.trainer.advance(steps) {
            Ok(()) => self.evaluate(),
            Err(Error::Diverged { step }) => self.diverge(step),
            Err(e) => {
                // Not reached on the CPU; say it rather than hide it.
                self.diverge_with(self.trainer.step(), e.to_string())
            }
        }
    }

    /// The report at the current parameters, without stepping.
    pub fn evaluate(&mut self) -> WeakReport {
        if self.last.diverged.is_some() {
            return self.last.clone();
        }
        let k = self.config.classes();
        let f = self.trainer.predict(&self.x);
        let f_test = self.trainer.predict(&self.pool.data.x_test);
        let bag_loss = Loss::Proportions {
            bag: self.bags.size,
        }
        .eval(&f, None, 1.0, &self.proportions, k)
        .loss;
        if !bag_loss.is_finite() || f_test.iter().any(|v| !v.is_finite()) {
            let step = match self.trainer.mark_diverged() {
                Error::Diverged { step } => step,
                _ => self.trainer.step(),
            };
            return self.diverge(step);
        }
        let test_predicted = argmax_rows(&f_test, k);
        self.last = WeakReport {
            step: self.trainer.step(),
            bag_loss,
            bag_loss_floor: mean_entropy(&self.bags.reported, self.bags.classes),
            train_accuracy: accuracy(&argmax_rows(&f, k), &self.labels),
            test_accuracy: accuracy(&test_predicted, &self.pool.test_labels),
            diverged: None,
        };
        self.test_predicted = (self.trainer.step(), test_predicted);
        self.last.clone()
    }

    fn diverge(&mut self, step: u64) -> WeakReport {
        self.diverge_with(step, Error::Diverged { step }.to_string())
    }

    fn diverge_with(&mut self, step: u64, text: String) -> WeakReport {
        let _ = step;
        self.last.diverged = Some(text);
        self.last.clone()
    }

    /// A new step size from the next step on (within the table's range).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        crate::error::in_range("lr", lr, lr_setting().bounds())?;
        self.trainer.set_lr(step_size(lr, self.trainer.loss()))?;
        self.config.lr = lr;
        Ok(())
    }

    /// Back to θ₀ at step 0 (the step size in force is kept); the report there.
    pub fn rewind(&mut self) -> Result<WeakReport> {
        let params = initial_params(&self.config, self.config.seed)?;
        self.trainer.restore(&params, 0, None)?;
        self.last.diverged = None;
        Ok(self.evaluate())
    }

    /// The test-set confusion of the network now.
    pub fn confusion(&mut self) -> Confusion {
        let k = self.config.classes();
        if self.test_predicted.0 != self.trainer.step() {
            let predicted = argmax_rows(&self.trainer.predict(&self.pool.data.x_test), k);
            self.test_predicted = (self.trainer.step(), predicted);
        }
        let predicted = &self.test_predicted.1;
        let mut counts = vec![0u32; k * k];
        for (&p, &t) in predicted.iter().zip(&self.pool.test_labels) {
            if p < k && t < k {
                counts[t * k + p] += 1;
            }
        }
        Confusion {
            classes: k,
            names: self.pool.data.class_names.clone(),
            counts,
        }
    }

    /// The bags' reported and true proportions, and the spectrum of the reported matrix.
    pub fn proportions(&self) -> Proportions {
        let (m, k) = (self.bags.count(), self.bags.classes);
        let s = spectrum(&self.bags.reported, m, k);
        Proportions {
            bags: m,
            size: self.bags.size,
            classes: k,
            names: self.pool.data.class_names.clone(),
            reported: self.bags.reported.clone(),
            truth: self.bags.truth.clone(),
            purified: self.bags.purified.clone(),
            prior: self.bags.prior.clone(),
            singular: s.singular_values.clone(),
            condition: s.condition.is_finite().then_some(s.condition),
        }
    }

    /// The mean map on these bags: its instance test accuracy, or its refusal.
    pub fn mean_map(&self) -> MeanMapResult {
        match mean_map_accuracy(&self.bags, &self.pool) {
            Ok(a) => MeanMapResult {
                accuracy: Some(a),
                refused: None,
            },
            Err(e) => MeanMapResult {
                accuracy: None,
                refused: Some(refusal_text(&e)),
            },
        }
    }

    /// The points of a 2-D set as the regions plot draws them (`None` for the digits and a
    /// table of other than two inputs): the
    /// instances in bags (bag order) and the test points, each with its true class as a number
    /// (shown to the reader, never to the learner).
    pub fn points(&self) -> Option<Points> {
        self.grid.as_ref()?;
        let as_f32 = |l: &[usize]| l.iter().map(|&c| c as f32).collect();
        Some(Points {
            train_x: self.x.clone(),
            train_y: as_f32(&self.labels),
            test_x: self.pool.data.x_test.clone(),
            test_y: as_f32(&self.pool.test_labels),
        })
    }

    /// The plotting grid of a 2-D set (`None` for the digits and a table of other than two
    /// inputs).
    pub fn grid_spec(&self) -> Option<&GridSpec> {
        self.grid.as_ref().map(|(g, _)| g)
    }

    /// The network's class probabilities (softmax of its K outputs) on the grid,
    /// `grid.len() × K` row-major; `None` without a grid. Never holds a non-finite value
    /// (a diverged network's rows are uniform).
    pub fn predict_grid(&mut self) -> Option<Vec<f32>> {
        let k = self.config.classes();
        let (_, pts) = self.grid.as_ref()?;
        let f = self.trainer.predict(pts);
        Some(softmax_rows(&f, k))
    }

    /// The weights file of the network now (see [`crate::session::weights`]); refused after a
    /// divergence.
    pub fn export_weights(&mut self) -> Result<Weights> {
        if let Some(d) = &self.last.diverged {
            return Err(Error::weights(format!(
                "the run {d}, so there are no trained weights to export; rewind or lower the step size first"
            )));
        }
        let spec = self.config.spec();
        let params = self.trainer.mlp.params(&mut self.trainer.backend);
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::weights(format!(
                "parameter {i} is not a finite number, so the weights are not exported"
            )));
        }
        let settings = serde_json::to_value(&self.config)
            .map_err(|e| Error::weights(format!("the settings could not be written: {e}")))?;
        Ok(Weights {
            scene: SCENE.to_string(),
            settings,
            architecture: Architecture {
                input_dim: spec.input_dim,
                hidden: spec.hidden.clone(),
                outputs: spec.outputs,
                activation: spec.activation,
                parametrization: spec.parametrization,
                sigma_w: spec.sigma_w,
                sigma_b: spec.sigma_b,
                init_scale: spec.init_scale,
                center_output: false,
                alpha: 1.0,
            },
            seed: self.config.seed,
            step: self.trainer.step(),
            initial_loss: self.trainer.initial_loss(),
            layers: Weights::layers_of(&spec, &params)?,
            velocity: None,
            data_hash: None,
        })
    }
}

/// The bags of size `bag` of `config` over `pool`, drawn from `seed`.
pub(super) fn draw_bags(config: &WeakConfig, pool: &Pool, bag: usize, seed: u64) -> Result<Bags> {
    Bags::draw(
        &pool.labels,
        pool.classes(),
        &BagOptions {
            alike: config.alike,
            size: bag,
            instances: config.instances(),
            concentration: config.concentration,
            purified: config.purified,
            noise: config.noise,
            seed,
        },
    )
}

/// The bags' instances in bag order (`n × d`) and their true labels.
pub(super) fn bag_instances(bags: &Bags, pool: &Pool) -> (Vec<f32>, Vec<usize>) {
    (
        bags.gather_x(&pool.data.x_train, pool.dim()),
        bags.labels(&pool.labels),
    )
}

/// θ₀ of `config`'s network for `seed`, in the order of [`Mlp::params`].
pub(super) fn initial_params(config: &WeakConfig, seed: u64) -> Result<Vec<f32>> {
    let mut cpu = Cpu::new();
    let mlp = Mlp::new(
        &mut cpu,
        config.spec(),
        &mut Rng::stream(seed, stream::WEIGHTS),
    )?;
    Ok(mlp.params(&mut cpu))
}

/// A full-batch trainer of `config`'s network (θ₀ from `seed`) on the rows `x` with targets
/// `y` under `loss`, at the step size [`step_size`] gives that loss.
pub(super) fn trainer(
    config: &WeakConfig,
    x: &[f32],
    y: &[f32],
    loss: Loss,
    seed: u64,
) -> Result<Trainer<Cpu>> {
    let mut backend = Cpu::new();
    let mlp = Mlp::new(
        &mut backend,
        config.spec(),
        &mut Rng::stream(seed, stream::WEIGHTS),
    )?;
    Trainer::new(
        backend,
        mlp,
        x,
        y,
        false,
        step_size(config.lr, loss),
        0,
        seed,
    )?
    .with_loss(loss)
}

/// The step size a network trained on `loss` takes when the setting is `lr`: η for the
/// bag loss and cross-entropy, η / [`SQUARED_LR_DIVISOR`] for the squared loss (EasyLLP).
pub fn step_size(lr: f64, loss: Loss) -> f64 {
    match loss {
        Loss::Squared => lr / SQUARED_LR_DIVISOR,
        _ => lr,
    }
}

/// EasyLLP's step size is η divided by this. The squared loss's curvature in the outputs is
/// 1 in every direction; softmax cross-entropy's (and the bag loss's), the eigenvalues of
/// diag(s) − ssᵀ, is at most 1/2 and about 1/K where the softmax is spread. So the η that
/// trains the bag loss fastest makes the squared loss oscillate: measured on the digits
/// (1,024 instances, width 64, 200 steps, c = 10), DLLP is best near η = 16 and EasyLLP near
/// η = 4 (bags of one: 0.90 test accuracy at 4, 0.82 at 8, 0.66 at 16; bags of 16: 0.85 at 4,
/// 0.75 at 8). One setting then puts both at their best.
pub const SQUARED_LR_DIVISOR: f64 = 4.0;

/// The trainer of `learner` on `bags` (instances `x` in bag order).
pub(super) fn learner_trainer(
    config: &WeakConfig,
    learner: Learner,
    bags: &Bags,
    x: &[f32],
    seed: u64,
) -> Result<Trainer<Cpu>> {
    match learner {
        Learner::Dllp => trainer(
            config,
            x,
            &bags.proportion_targets(),
            Loss::Proportions { bag: bags.size },
            seed,
        ),
        Learner::Easyllp => trainer(config, x, &bags.debiased_targets(), Loss::Squared, seed),
    }
}

/// The mean map's instance test accuracy on `bags` (raw inputs as the feature map).
pub(super) fn mean_map_accuracy(bags: &Bags, pool: &Pool) -> Result<f64> {
    let d = pool.dim();
    let means = bags.bag_means(&pool.data.x_train, d);
    let map = MeanMap::fit(&means, &bags.reported, bags.count(), bags.classes, d)?;
    let predicted = map.predict(&pool.data.x_test, d);
    Ok(accuracy(&predicted, &pool.test_labels))
}

/// A refusal's text for the reader: the message of a settings error without its prefix.
pub(super) fn refusal_text(e: &Error) -> String {
    match e {
        Error::InvalidConfig { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// −(1/m) Σⱼ Σ_c pⱼc log pⱼc over the rows of `p` (`m × k`), 0 log 0 = 0.
pub fn mean_entropy(p: &[f64], k: usize) -> f64 {
    let rows = p.len() / k.max(1);
    let total: f64 = p.iter().filter(|&&v| v > 0.0).map(|&v| -v * v.ln()).sum();
    // A sum of zeros is −0 (the float sum starts there): + 0 makes it +0.
    total / rows.max(1) as f64 + 0.0
}

/// Row-wise softmax of `rows × k` outputs; a row with a non-finite value becomes uniform.
fn softmax_rows(f: &[f32], k: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(f.len());
    for row in f.chunks_exact(k) {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f64> = row.iter().map(|&v| ((v - m) as f64).exp()).collect();
        let s: f64 = e.iter().sum();
        if m.is_finite() && s.is_finite() && s > 0.0 && row.iter().all(|v| v.is_finite()) {
            out.extend(e.iter().map(|&v| (v / s) as f32));
        } else {
            out.extend(std::iter::repeat_n(1.0 / k as f32, k));
        }
    }
    out
}
