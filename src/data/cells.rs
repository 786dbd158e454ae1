//! The "cell populations" set of the Weak labels scene: three overlapping 2-D Gaussian clusters
//! with an unequal prior, drawn like the scatter plot of a blood count — each white blood cell
//! measured by its size (forward scatter, x₁) and its granularity (side scatter, x₂):
//!
//! | class | cell type  | prior | mean          | sd (x₁, x₂)  | correlation |
//! |-------|------------|-------|---------------|--------------|-------------|
//! | 0     | neutrophil | 0.6   | (0.25, 0.35)  | (0.30, 0.28) | 0.3         |
//! | 1     | lymphocyte | 0.3   | (−0.40, −0.30)| (0.28, 0.26) | 0           |
//! | 2     | monocyte   | 0.1   | (0.30, −0.35) | (0.24, 0.22) | 0           |
//!
//! Neutrophils are large and granular, lymphocytes small and smooth, monocytes large but
//! smooth; the clusters overlap, so even the Bayes classifier — which knows these densities
//! ([`cells_bayes_class`]) — errs: its accuracy is [`CELLS_BAYES_ACCURACY`] ≈ 90 % (a Monte
//! Carlo estimate, checked in `tests/llp.rs`): about 94 % of neutrophils, 89 % of lymphocytes
//! and 70 % of the rare monocytes, which lose their overlap with the neutrophils to the larger
//! prior. A classifier that never says "monocyte" loses at most their 10 %.

use crate::error::{Error, Result};
use crate::rng::Rng;

use super::{Dataset, DatasetKind, classified, stream};

/// One cell population: its name, prior, mean, per-axis standard deviations and correlation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Population {
    pub name: &'static str,
    pub prior: f64,
    pub mean: [f64; 2],
    pub sd: [f64; 2],
    pub correlation: f64,
}

/// The three populations, in class order (their priors sum to 1).
pub const CELL_POPULATIONS: [Population; 3] = [
    Population {
        name: "neutrophil",
        prior: 0.6,
        mean: [0.25, 0.35],
        sd: [0.3, 0.28],
        correlation: 0.3,
    },
    Population {
        name: "lymphocyte",
        prior: 0.3,
        mean: [-0.4, -0.3],
        sd: [0.28, 0.26],
        correlation: 0.0,
    },
    Population {
        name: "monocyte",
        prior: 0.1,
        mean: [0.3, -0.35],
        sd: [0.24, 0.22],
        correlation: 0.0,
    },
];

/// The number of classes of the cell populations.
pub const CELL_CLASSES: usize = CELL_POPULATIONS.len();

/// The accuracy of the Bayes classifier ([`cells_bayes_class`]) on the cell populations: the
/// best any learner can reach. Estimated by Monte Carlo over 10⁶ draws: 0.8996 with standard
/// error 3·10⁻⁴; `tests/llp.rs` re-estimates it on 2·10⁵ fresh draws within 4 standard errors.
pub const CELLS_BAYES_ACCURACY: f64 = 0.8996;

/// The plotting box of the cell populations (it holds all but a few in 10⁴ draws).
pub const CELLS_DOMAIN: ([f32; 2], [f32; 2]) = ([-1.5, -1.5], [1.5, 1.5]);

impl Population {
    /// A draw from this population's Gaussian.
    fn sample(&self, rng: &mut Rng) -> [f64; 2] {
        let (z1, z2) = (rng.normal(), rng.normal());
        let r = self.correlation;
        [
            self.mean[0] + self.sd[0] * z1,
            self.mean[1] + self.sd[1] * (r * z1 + (1.0 - r * r).sqrt() * z2),
        ]
    }

    /// log(prior · density) at `x`.
    pub fn log_joint(&self, x: [f64; 2]) -> f64 {
        let r = self.correlation;
        let u = (x[0] - self.mean[0]) / self.sd[0];
        let v = (x[1] - self.mean[1]) / self.sd[1];
        let one_r2 = 1.0 - r * r;
        let quad = (u * u - 2.0 * r * u * v + v * v) / one_r2;
        self.prior.ln()
            - (2.0 * std::f64::consts::PI * self.sd[0] * self.sd[1] * one_r2.sqrt()).ln()
            - 0.5 * quad
    }
}

/// The posterior class probabilities P(class | x) of the cell populations.
pub fn cells_posterior(x: [f64; 2]) -> [f64; CELL_CLASSES] {
    let logs = CELL_POPULATIONS.map(|p| p.log_joint(x));
    let top = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w = logs.map(|l| (l - top).exp());
    let total: f64 = w.iter().sum();
    w.map(|v| v / total)
}

/// The Bayes classifier of the cell populations: the class of largest prior × density (the
/// lowest index on a tie).
pub fn cells_bayes_class(x: [f64; 2]) -> usize {
    let logs = CELL_POPULATIONS.map(|p| p.log_joint(x));
    let mut best = 0;
    for c in 1..CELL_CLASSES {
        if logs[c] > logs[best] {
            best = c;
        }
    }
    best
}

/// Draws one cell: its class from the prior, then its position from the class's Gaussian.
pub fn sample_cell(rng: &mut Rng) -> (usize, [f64; 2]) {
    let u = rng.uniform();
    let mut acc = 0.0;
    let mut class = CELL_CLASSES - 1;
    for (c, p) in CELL_POPULATIONS.iter().enumerate() {
        acc += p.prior;
        if u < acc {
            class = c;
            break;
        }
    }
    (class, CELL_POPULATIONS[class].sample(rng))
}

/// The cell populations as a dataset: `n_train` training and `n_test` test cells drawn from
/// the seed (training cells first, then test cells, from one stream: the test set depends only
/// on the seed and `n_train`), 3 classes named after the cell types, inputs named after what
/// a cytometer measures, the box [`CELLS_DOMAIN`].
pub fn cells(n_train: usize, n_test: usize, seed: u64) -> Result<Dataset> {
    if n_train == 0 {
        return Err(Error::config("nTrain", "needs at least one training point"));
    }
    let mut rng = Rng::stream(seed, stream::DATA);
    let mut draw = |n: usize| -> (Vec<f32>, Vec<u32>) {
        let mut x = Vec::with_capacity(2 * n);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let (c, p) = sample_cell(&mut rng);
            x.extend([p[0] as f32, p[1] as f32]);
            labels.push(c as u32);
        }
        (x, labels)
    };
    let train = draw(n_train);
    let test = draw(n_test);
    classified(
        DatasetKind::Cells,
        2,
        train,
        test,
        CELL_CLASSES,
        CELL_POPULATIONS
            .iter()
            .map(|p| p.name.to_string())
            .collect(),
        vec![
            "size (forward scatter)".into(),
            "granularity (side scatter)".into(),
        ],
        CELLS_DOMAIN,
    )
}
