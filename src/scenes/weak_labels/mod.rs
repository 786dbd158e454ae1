//! The Weak-labels scene: learning a classifier from label proportions (LLP).
//!
//! Training instances come in bags ([`crate::data::bags`]); for each bag only its class
//! proportions are reported, and every learner is scored on individual test labels. The
//! learners see the same bags (conventions: DESIGN.md, "Weak labels"):
//!
//! - **DLLP** (Ardehaly & Culotta 2017): the network trained on the bag-ordered instances with
//!   the bag loss [`Loss::Proportions`], every row's target its bag's reported proportions.
//! - **EasyLLP** (Busa-Fekete et al. 2023): the network trained with the squared loss on K
//!   outputs against the debiased instance labels ỹᵢ = k(pⱼ − π) + π.
//! - **Mean map** (Quadrianto et al. 2009): the raw inputs as the feature map, the class means
//!   recovered from the bag means by least squares, then the nearest recovered mean; refused,
//!   with the reason, when the proportion matrix is (numerically) singular.
//! - **References**: the supervised ceiling (the same network with cross-entropy on the true
//!   labels of `instances` pool rows) and the prior-only floor (always the training majority
//!   class).
//!
//! The network is one hidden layer of `width` units with K outputs, NTK parametrisation
//! (σ_w = √2, σ_b = 0.1), trained full batch by gradient descent; its initial weights come
//! from the seed alone, so every learner of a cell starts from the same θ₀.
//!
//! [`live`] is the live run the page steps (one learner, its bag loss and instance accuracies
//! every report); [`sweep`] the pure functions the page's worker pool calls for the
//! accuracy-against-bag-size figure (one cell per bag size and seed, the references, the mean
//! map's curve).
//!
//! # Data
//!
//! - `digits`: the 8×8 digits (64 inputs, 10 classes), a seeded split into a pool of
//!   [`DIGITS_POOL`] training images and [`N_TEST`] test images; bags draw from the pool.
//! - `cells`: the 2-D cell populations ([`crate::data::cells`], K = 3 overlapping clusters with
//!   an unequal prior), a pool of [`CELLS_POOL`] points and [`N_TEST`] test points; its
//!   decision regions are drawn on a grid ([`live::WeakLabels::predict_grid`]).
//! - `table`: the reader's own CSV or TSV file ("your own data"), parsed in the browser by
//!   [`crate::data::parse_table`] with the target column and task the reader chose, split and
//!   standardised by [`crate::data::Table::dataset`] exactly as the Playground's own data
//!   (`testShare`, `standardize`, the seed): its training rows are the pool, its test rows the
//!   test set, K its classes. Refused (naming `data`) when no table is held, when its target
//!   is a regression or has fewer than two classes. Its decision regions are drawn when it
//!   has exactly two inputs, on the grid of those inputs (standardised when `standardize`);
//!   a table of more inputs has none (a plane through them would show a slice of the
//!   network, not its decisions). The table is never in a link.
//!
//! `instances` is capped at the pool's size (the bags then use the whole pool).
//!
//! # Defaults, measured
//!
//! The network: width 64, η = 16 (EasyLLP at η/4, [`live::SQUARED_LR_DIVISOR`]), 200 steps
//! per sweep network; the bags: 1,024 digits, c = 10 (Dirichlet(10π): with π ≈ 1/10 every
//! bag's proportions are about uniform on the simplex, neither pure nor alike), ρ = 0. Full
//! batch in the NTK parametrisation needs a large η: at η = 1 the same network reaches 0.88
//! test accuracy on the labels in 200 steps, at η = 16 0.96. Test accuracy by bag size
//! (seeds 1, 2, 3; `cargo test --release --test weak_labels -- --ignored --nocapture`):
//!
//! | bag k (bags) | DLLP | EasyLLP | mean map (mean ± se) |
//! |---|---|---|---|
//! | 1 (1024) | 0.959 / 0.971 / 0.965 | 0.902 / 0.908 / 0.904 | 0.906 ± 0.001 |
//! | 16 (64) | 0.922 / 0.920 / 0.916 | 0.854 / 0.846 / 0.816 | 0.883 ± 0.006 |
//! | 64 (16) | 0.799 / 0.857 / 0.889 | 0.291 / 0.398 / 0.402 | 0.796 ± 0.045 |
//! | 256 (4) | 0.553 / 0.580 / 0.523 | 0.111 / 0.113 / 0.090 | refused: 4 bags, 10 classes |
//! | 512 (2) | 0.285 / 0.271 / 0.404 | 0.098 / 0.111 / 0.098 | refused |
//!
//! against a ceiling of 0.959 / 0.959 / 0.955 and a floor of 0.098 / 0.084 / 0.100. EasyLLP's
//! labels are unbiased only for bags drawn from the prior and their variance grows like k, so
//! it falls first; at c = 10⁴ (bags from the prior) it keeps up with DLLP longer.
//!
//! Cost, measured on this 2-core machine while other builds ran on it (load average 3.5–7;
//! figures from two runs): in Chromium (release wasm), a sweep cell (two networks and the mean
//! map) 0.4–0.6 s when the load let up and up to 1.6 s under it, the 10 sizes × 3 seeds of the
//! defaults with their references 19.7 s and 27.1 s on one worker (the first 8 sizes 21.9 s),
//! so about half that on a pool of two; the mean map's curve over every size and seed 25–95 ms;
//! the live run at width 256 on the 1,024 digits 136–206 steps/s with a report every 100 steps
//! (97–186 with one every 10). Natively (release): a cell 0.2 s, the mean map's curve 24–44 ms,
//! the live run at width 256 369 steps/s with reports.

pub mod live;
pub mod sweep;

use serde::{Deserialize, Serialize};

use crate::data::digits;
use crate::data::table::split_sizes;
use crate::data::{self, Dataset, SplitOptions, Table};
use crate::error::{Error, Result};
use crate::nn::Activation;
use crate::nn::mlp::MlpSpec;
use crate::session::net::{InitSettings, lr_setting, many_class_rows};
use crate::session::run::{DataSource, TABLE_MISSING, TableShape};
use crate::session::settings::{SceneSpec, Setting, options};

pub use live::{WeakLabels, WeakReport};
pub use sweep::{
    BagPoint, CellResult, Reference, bag_sizes, labelled_mean_curve, weak_cell,
    weak_mean_map_curve, weak_reference,
};

/// The scene's id in the registry, links and weights files.
pub const SCENE: &str = "weak-labels";

/// Test points of either set.
pub const N_TEST: usize = 512;

/// The digits' pool: the images less the [`N_TEST`] held out (1797 − 512 = 1285).
pub const DIGITS_POOL: usize = digits::ROWS - N_TEST;

/// The cell populations' pool of training points the bags draw from.
pub const CELLS_POOL: usize = 2048;

/// The largest bag size.
pub const MAX_BAG: usize = 512;

/// The data set the bags are drawn from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeakData {
    /// The 8×8 handwritten digits (64 inputs, 10 classes).
    #[default]
    Digits,
    /// The 2-D cell populations (3 classes, unequal prior).
    Cells,
    /// The reader's own classification table (see the module docs; never in a link).
    Table,
}

impl WeakData {
    pub const ALL: [WeakData; 3] = [WeakData::Digits, WeakData::Cells, WeakData::Table];

    pub fn label(self) -> &'static str {
        match self {
            WeakData::Digits => "8×8 digits (10 classes)",
            WeakData::Cells => "cell populations (2-D, 3 classes)",
            WeakData::Table => "your own data",
        }
    }
}

/// The network the live run trains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Learner {
    /// The bag loss on the bags' proportions.
    #[default]
    Dllp,
    /// The squared loss on the debiased instance labels.
    Easyllp,
}

impl Learner {
    pub const ALL: [Learner; 2] = [Learner::Dllp, Learner::Easyllp];

    pub fn label(self) -> &'static str {
        match self {
            Learner::Dllp => "DLLP (bag loss)",
            Learner::Easyllp => "EasyLLP (debiased labels)",
        }
    }
}

/// Every setting of the scene (URL keys and config fields alike). Missing fields take their
/// defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WeakConfig {
    pub data: WeakData,
    /// Bag size k of the live run (the sweep runs every size, [`bag_sizes`]).
    pub bag: usize,
    /// Training instances put in bags (capped at the pool; ⌊instances / k⌋ bags).
    pub instances: usize,
    /// Dirichlet concentration c: bag proportions ~ Dirichlet(c·π).
    pub concentration: f64,
    /// Every unpurified bag holds the prior's counts exactly (c unused): all those bags report
    /// the same proportions ([`crate::data::bags::alike_counts`]).
    pub alike: bool,
    /// Fraction ρ of purified bags (one class only).
    pub purified: f64,
    /// Standard deviation of the noise on each reported proportion.
    pub noise: f64,
    /// The live run's learner.
    pub learner: Learner,
    /// Hidden units of the one hidden layer.
    pub width: usize,
    /// Step size η.
    pub lr: f64,
    /// Initialisation scale s.
    pub init_scale: f64,
    pub activation: Activation,
    /// Share of the reader's table held out for testing (`data = table` only).
    pub test_share: f64,
    /// Standardise the table's inputs with the training rows' statistics (`data = table`
    /// only).
    pub standardize: bool,
    /// Seeds the data split, the bags and the initial weights (the sweep's seeds are seed,
    /// seed + 1, …).
    pub seed: u64,
    /// Full-batch gradient steps per network of the sweep.
    pub steps: u64,
    /// Seeds of the sweep.
    pub seeds: usize,
    /// The size of the reader's table the settings apply to (see [`WeakConfig::with_source`];
    /// not a setting, never in a link).
    #[serde(skip)]
    pub table: Option<TableShape>,
}

impl Default for WeakConfig {
    fn default() -> Self {
        WeakConfig {
            data: WeakData::Digits,
            bag: 16,
            instances: 1024,
            concentration: 10.0,
            alike: false,
            purified: 0.0,
            noise: 0.0,
            learner: Learner::Dllp,
            width: 64,
            lr: 16.0,
            init_scale: 1.0,
            activation: Activation::Relu,
            test_share: data::table::DEFAULT_TEST_FRACTION,
            standardize: true,
            seed: 1,
            steps: 200,
            seeds: 3,
            table: None,
        }
    }
}

/// The most floating-point work one network of a sweep cell may take (its `steps` full-batch
/// steps): about 4 s in the browser at the 2.5e10 FLOP/s measured on these networks; the
/// defaults take 5.8e9 per network, two per cell.
pub const CELL_WORK: f64 = 1e11;

/// The scene's settings table (see [`crate::session::settings`]).
pub fn settings() -> SceneSpec {
    let mut rows = vec![
        Setting::int("bag", "Bag size k", [1.0, MAX_BAG as f64])
            .log()
            .doc("Instances per bag. Bags of one are ordinary labels; large bags say little about any one instance."),
        Setting::float("concentration", "Concentration c", [0.01, 1e4])
            .log()
            .doc("Bag proportions are drawn from Dirichlet(c·π) around the class prior π: small c gives nearly pure bags, large c bags that all look like the prior."),
        Setting::flag("alike", "All bags alike")
            .doc("Every bag that is not purified holds the class prior's counts exactly, so all of them report the same proportions (the concentration is not used): the proportions then say nothing about which instance is which."),
        Setting::float("purified", "Purified share ρ", [0.0, 1.0])
            .doc("Fraction of bags that hold one class only, like a chemically purified specimen."),
        Setting::choice("data", "Data", options(&WeakData::ALL, WeakData::label))
            .doc("The 8×8 digits, 2-D cell populations whose decision regions can be drawn, or your own CSV or TSV file of classes (read in this browser only; a link does not hold it)."),
        Setting::int("instances", "Instances", [16.0, CELLS_POOL as f64])
            .log()
            .doc("Training instances put in bags (⌊instances / k⌋ bags); capped at the data's pool (1285 digits, or your table's training rows)."),
        Setting::float("noise", "Proportion noise", [0.0, 0.5])
            .doc("Standard deviation of the noise added to each reported proportion (then clipped at 0 and renormalised)."),
        Setting::choice("learner", "Live learner", options(&Learner::ALL, Learner::label))
            .doc("The network the live run trains: DLLP on the bag loss, or EasyLLP on debiased instance labels with the squared loss."),
        Setting::int("width", "Width", [1.0, 1024.0])
            .log()
            .doc("Units of the network's one hidden layer."),
        lr_setting().doc("Gradient-descent step size of every network (the live run's applies from the next step); EasyLLP's squared loss steps at η/4."),
        Setting::float("initScale", "Initialisation scale s", [0.01, 100.0])
            .log()
            .doc("Multiplies every initial weight and bias."),
        Setting::choice(
            "activation",
            "Activation φ",
            options(&Activation::ALL, Activation::label),
        )
        .doc("Nonlinearity of the hidden layer."),
    ];
    // Your own data's split and standardisation: the Playground's rows.
    rows.extend(
        many_class_rows()
            .into_iter()
            .filter(|s| s.name == "testShare" || s.name == "standardize"),
    );
    rows.extend([
        Setting::int("seed", "Seed", [0.0, u32::MAX as f64])
            .doc("Seeds the data split, the bags and the initial weights."),
        Setting::int("steps", "Sweep steps", [1.0, 2000.0])
            .log()
            .doc("Full-batch gradient steps of every network in the accuracy-against-bag-size sweep."),
        Setting::int("seeds", "Sweep seeds", [1.0, 10.0])
            .doc("Independent repetitions (data split, bags, weights) behind each point of the sweep."),
    ]);
    SceneSpec::new(SCENE, rows, &WeakConfig::default())
}

impl WeakConfig {
    /// Checks every setting against [`settings`] and the work of one sweep network against
    /// [`CELL_WORK`].
    /// A run on the reader's table also needs the table ([`WeakConfig::with_source`]): one held,
    /// of classes (at least two), whose split leaves a test row.
    pub fn validate(&self) -> Result<()> {
        settings().validate(self)?;
        if self.data == WeakData::Table {
            self.check_table()?;
        }
        let flops = self.network_flops();
        if flops > CELL_WORK {
            return Err(Error::config(
                "steps",
                format!(
                    "{} steps of a width-{} network on {} instances is about {flops:.1e} \
                     floating-point operations per network, more than a sweep cell allows \
                     ({CELL_WORK:.0e}); lower the steps, the width or the instances",
                    self.steps,
                    self.width,
                    self.instances()
                ),
            ));
        }
        Ok(())
    }

    /// These settings on the data of `source`: the size of its table is recorded (or forgotten
    /// when it holds none), for the pool, K and d of `data = table`.
    pub fn with_source(mut self, source: &DataSource) -> Self {
        self.table = source.table.as_deref().map(shape_of);
        self
    }

    /// Refuses a run on the reader's table without one, on a regression, on fewer than two
    /// classes, or on a split without a test row.
    fn check_table(&self) -> Result<()> {
        let t = self
            .table
            .ok_or_else(|| Error::config("data", TABLE_MISSING))?;
        if t.classes == 0 {
            return Err(Error::config("data", TABLE_REGRESSION));
        }
        if t.classes < 2 {
            return Err(Error::config(
                "data",
                format!(
                    "your table's target has {} class; learning from label proportions needs                      at least two: choose another target column",
                    t.classes
                ),
            ));
        }
        let (_, test) = split_sizes(t.rows, self.test_share);
        if test == 0 {
            return Err(Error::config(
                "testShare",
                format!(
                    "a test share of {} of your table's {} rows leaves no test row; raise it",
                    self.test_share, t.rows
                ),
            ));
        }
        Ok(())
    }

    /// Training points the bags can draw from: the set's pool, or the table's training rows.
    pub fn pool(&self) -> usize {
        match self.data {
            WeakData::Digits => DIGITS_POOL,
            WeakData::Cells => CELLS_POOL,
            WeakData::Table => self
                .table
                .map_or(0, |t| split_sizes(t.rows, self.test_share).0),
        }
    }

    /// The instances actually put in bags: `instances` capped at the pool.
    pub fn instances(&self) -> usize {
        self.instances.min(self.pool())
    }

    /// K (a table's from its recorded size, 0 while there is none).
    pub fn classes(&self) -> usize {
        match self.data {
            WeakData::Digits => digits::CLASSES,
            WeakData::Cells => 3,
            WeakData::Table => self.table.map_or(0, |t| t.classes),
        }
    }

    /// Input dimension d (a table's input columns).
    pub fn dim(&self) -> usize {
        match self.data {
            WeakData::Digits => digits::PIXELS,
            WeakData::Cells => 2,
            WeakData::Table => self.table.map_or(0, |t| t.dim),
        }
    }

    /// Whether the data has decision regions to draw: two inputs (the cell populations, a
    /// table of two input columns).
    pub fn has_regions(&self) -> bool {
        self.data != WeakData::Digits && self.dim() == 2
    }

    /// The network: one hidden layer of `width`, K outputs, NTK parametrisation.
    pub fn spec(&self) -> MlpSpec {
        let init = InitSettings {
            activation: self.activation,
            init_scale: self.init_scale,
            ..InitSettings::default()
        };
        let mut spec = init.spec(self.dim(), vec![self.width]);
        spec.outputs = self.classes();
        spec
    }

    /// Floating-point work of one sweep network: `steps` full-batch steps (forward and a
    /// backward of twice its cost) on the instances.
    pub fn network_flops(&self) -> f64 {
        3.0 * self.spec().forward_flops_per_point() * self.instances() as f64 * self.steps as f64
    }
}

/// The data of one seed: the pool the bags draw from and the test set, with their labels.
#[derive(Clone, Debug)]
pub struct Pool {
    pub data: Dataset,
    /// The pool's class labels.
    pub labels: Vec<usize>,
    /// The test set's class labels.
    pub test_labels: Vec<usize>,
}

impl Pool {
    /// Draws the pool and test set of `config`'s data from `seed`; `source` holds the parsed
    /// digits file ([`WeakData::Digits`]) or the reader's table ([`WeakData::Table`], split and
    /// standardised as the Playground splits it, by `testShare`, `standardize` and `seed`).
    pub fn draw(config: &WeakConfig, seed: u64, source: &DataSource) -> Result<Pool> {
        let set = match config.data {
            WeakData::Digits => {
                let digits = source
                    .digits
                    .as_deref()
                    .ok_or_else(|| Error::config("data", DIGITS_MISSING))?;
                data::digits_dataset(digits, DIGITS_POOL, N_TEST, 0.0, seed)?
            }
            WeakData::Cells => data::cells(CELLS_POOL, N_TEST, seed)?,
            WeakData::Table => {
                let table = source
                    .table
                    .as_deref()
                    .ok_or_else(|| Error::config("data", TABLE_MISSING))?;
                config.clone().with_source(source).check_table()?;
                table.dataset(&SplitOptions {
                    test_fraction: config.test_share,
                    standardize: config.standardize,
                    seed,
                })?
            }
        };
        let labels = set.labels_train.iter().map(|&c| c as usize).collect();
        let test_labels = set.labels_test.iter().map(|&c| c as usize).collect();
        Ok(Pool {
            data: set,
            labels,
            test_labels,
        })
    }

    pub fn dim(&self) -> usize {
        self.data.dim
    }

    pub fn classes(&self) -> usize {
        self.data.classes
    }
}

/// The refusal of a run on a reader's table whose target is a regression.
pub const TABLE_REGRESSION: &str = "your table's target holds values (a regression), and learning from label proportions needs classes: choose a target column of classes, or read it as classification";

/// The size of `table` as the settings need it.
fn shape_of(table: &Table) -> TableShape {
    TableShape {
        rows: table.rows,
        dim: table.dim,
        classes: table.classes,
    }
}

/// The refusal of a run on the digits before the page has handed them over.
pub const DIGITS_MISSING: &str = "the digits file has not been loaded into this engine yet (setDigits); wait for it or choose the cell populations";

/// The fraction of `predicted` equal to `truth`.
pub fn accuracy(predicted: &[usize], truth: &[usize]) -> f64 {
    let right = predicted.iter().zip(truth).filter(|(p, t)| p == t).count();
    right as f64 / truth.len().max(1) as f64
}

/// The index of each row's largest output (`rows × k`).
pub fn argmax_rows(f: &[f32], k: usize) -> Vec<usize> {
    f.chunks_exact(k.max(1))
        .map(|row| crate::nn::loss::argmax(row.iter().map(|&v| v as f64)))
        .collect()
}
