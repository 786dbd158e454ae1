//! The settings every network scene shares: the data ([`DataSettings`]) and the network
//! ([`NetSettings`]), each one struct that the scenes' configurations embed (flattened, so the
//! settings keep their flat names in configs and URLs), with their table rows.

use serde::{Deserialize, Serialize};

use crate::data::DatasetKind;
use crate::nn::Activation;
use crate::nn::mlp::{MlpSpec, Parametrization};
use crate::session::device::BackendChoice;
use crate::session::fields::Field;
use crate::session::settings::{Setting, options};

/// The data of a network scene: which set, how many points, how noisy, which seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataSettings {
    /// Which dataset.
    pub dataset: DatasetKind,
    /// Number of training points.
    pub n_train: usize,
    /// Noise standard deviation (regression: on training targets; classification: on inputs).
    pub noise: f64,
    /// Fraction of flipped training labels (classification).
    pub label_noise: f64,
    /// The seed of data, initial weights and mini-batches.
    pub seed: u64,
}

impl Default for DataSettings {
    fn default() -> Self {
        DataSettings {
            dataset: DatasetKind::Circles,
            n_train: 128,
            noise: 0.1,
            label_noise: 0.0,
            seed: 1,
        }
    }
}

/// The network of a scene: its shape ([`width`](Self::width), [`depth`](Self::depth)) and how it
/// is built and started ([`InitSettings`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetSettings {
    /// Width of every hidden layer.
    pub width: usize,
    /// Number of hidden layers.
    pub depth: usize,
    /// Activation, parametrisation and initialisation.
    #[serde(flatten)]
    pub init: InitSettings,
}

impl Default for NetSettings {
    fn default() -> Self {
        NetSettings {
            width: 128,
            depth: 1,
            init: InitSettings::default(),
        }
    }
}

/// A network's activation, parametrisation and initialisation: everything but its shape (a
/// sweep over widths shares these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InitSettings {
    pub activation: Activation,
    pub parametrization: Parametrization,
    /// σ_w
    pub sigma_w: f64,
    /// σ_b
    pub sigma_b: f64,
    /// Initialisation scale s (multiplies every initial weight and bias).
    pub init_scale: f64,
    /// Train f(x;θ) − f(x;θ₀) instead of f(x;θ).
    pub center_output: bool,
}

impl Default for InitSettings {
    fn default() -> Self {
        InitSettings {
            activation: Activation::Relu,
            parametrization: Parametrization::Ntk,
            sigma_w: std::f64::consts::SQRT_2,
            sigma_b: 0.1,
            init_scale: 1.0,
            center_output: false,
        }
    }
}

impl InitSettings {
    /// The MLP with these settings, on inputs of dimension `input_dim`, with hidden layers of
    /// the widths `hidden`.
    pub fn spec(&self, input_dim: usize, hidden: Vec<usize>) -> MlpSpec {
        MlpSpec {
            input_dim,
            hidden,
            activation: self.activation,
            parametrization: self.parametrization,
            sigma_w: self.sigma_w,
            sigma_b: self.sigma_b,
            init_scale: self.init_scale,
            outputs: 1,
        }
    }
}

impl NetSettings {
    /// The MLP of these settings on inputs of dimension `input_dim`.
    pub fn spec(&self, input_dim: usize) -> MlpSpec {
        self.init.spec(input_dim, vec![self.width; self.depth])
    }
}

/// The table rows of [`DataSettings`].
pub fn data_table() -> Vec<Setting> {
    vec![
        Setting::choice(
            "dataset",
            "Dataset",
            options(&DatasetKind::ALL, DatasetKind::label),
        )
        .doc("Classification sets are fitted with the squared loss on ±1 labels."),
        Setting::int("nTrain", "Training points n", [4.0, 2048.0])
            .log()
            .doc("Size of the training set (the test set is drawn alongside it)."),
        Setting::float("noise", "Noise", [0.0, 1.0])
            .doc("Target noise (regression) or input jitter (classification)."),
        Setting::float("labelNoise", "Label noise", [0.0, 0.5])
            .doc("Fraction of training labels flipped (classification only)."),
        Setting::int("seed", "Seed", [0.0, u32::MAX as f64])
            .doc("Seeds the data and the initial weights: the same seed gives the same run."),
    ]
}

/// The Playground's dataset row: every set, the regression and two-class ones
/// ([`DatasetKind::ALL`]) then those with a class count or a source
/// ([`DatasetKind::MANY_CLASSES`]).
pub fn all_datasets_setting() -> Setting {
    let kinds: Vec<DatasetKind> = DatasetKind::ALL
        .into_iter()
        .chain(DatasetKind::MANY_CLASSES)
        .collect();
    Setting::choice("dataset", "Dataset", options(&kinds, DatasetKind::label)).doc(
        "Two-class sets are fitted with the squared loss on one ±1 output by default; more \
         classes get one output per class. “Your own data” trains on a CSV file you choose.",
    )
}

/// The rows of the sets with a class count or a source: the class count (blobs and arms),
/// the test share and the standardisation (a reader's table).
pub fn many_class_rows() -> Vec<Setting> {
    vec![
        Setting::int(
            "classes",
            "Classes K",
            [
                crate::data::CLASS_RANGE[0] as f64,
                crate::data::CLASS_RANGE[1] as f64,
            ],
        )
        .doc("Number of classes of the K gaussian blobs and the K-arm spiral (those sets only)."),
        Setting::float("testShare", "Test share", [0.05, 0.9])
            .doc("Share of the rows of your own data held out for testing (your own data only)."),
        Setting::flag("standardize", "Standardise inputs").doc(
            "Scale each input column of your own data to mean 0 and standard deviation 1, \
             with the training rows’ statistics (your own data only).",
        ),
    ]
}

/// The table rows of [`NetSettings`].
pub fn net_table() -> Vec<Setting> {
    let mut rows = vec![
        Setting::int("width", "Width", [1.0, 4096.0])
            .log()
            .doc("Units per hidden layer. The NTK limit is infinite width."),
        Setting::int("depth", "Hidden layers", [1.0, 4.0])
            .doc("Number of hidden layers, each of the width above."),
    ];
    rows.extend(init_table());
    rows
}

/// The table rows of [`InitSettings`].
pub fn init_table() -> Vec<Setting> {
    vec![
        Setting::choice(
            "activation",
            "Activation φ",
            options(&Activation::ALL, Activation::label),
        )
        .doc("Nonlinearity of the hidden layers."),
        Setting::choice(
            "parametrization",
            "Parametrisation",
            options(&Parametrization::ALL, Parametrization::label),
        )
        .doc(
            "Where the 1/√width factors sit: in the forward pass (NTK), in the initial weights \
             (standard), or with an extra 1/√width at the output (mean-field).",
        ),
        Setting::float("sigmaW", "Weight scale σ_w", [0.05, 4.0])
            .doc("Weight variance factor; √2 keeps ReLU signals at a constant scale."),
        Setting::float("sigmaB", "Bias scale σ_b", [0.0, 4.0]).doc("Bias variance factor."),
        Setting::float("initScale", "Initialisation scale s", [0.01, 100.0])
            .log()
            .doc(
                "Multiplies every initial weight and bias. Large s: lazy training; small s: rich.",
            ),
        Setting::flag("centerOutput", "Centred output")
            .doc("Train f(x; θ) − f(x; θ₀), so a large s does not start from huge outputs."),
    ]
}

/// The step size η's row: the engine takes 1e-5 to 1000 (far past where any network here
/// diverges, so a link can show divergence); the slider spans 1e-4 to 100, where runs neither
/// stand still nor all diverge at once.
pub fn lr_setting() -> Setting {
    Setting::float("lr", "Step size η", [1e-5, 1000.0])
        .log()
        .slider([1e-4, 100.0])
        .doc("Gradient-descent step size; applies to the running network. The NTK limit takes η → 0.")
}

/// Heavy-ball momentum β's row ([`crate::nn::momentum`]): 0 (plain gradient descent, the
/// default) to [`MAX_MOMENTUM`](crate::nn::momentum::MAX_MOMENTUM).
pub fn momentum_setting() -> Setting {
    Setting::float(
        "momentum",
        "Momentum β",
        [0.0, crate::nn::momentum::MAX_MOMENTUM],
    )
    .doc(
        "Heavy ball: v ← βv + ∇L, θ ← θ − ηv. 0 is plain gradient descent; momentum moves the \
         stability bound on η up by the factor 1 + β.",
    )
}

/// The weight decay λ_wd's row ([`crate::nn::momentum`]): the engine takes 0 (none, the
/// default) to [`MAX_WEIGHT_DECAY`](crate::nn::momentum::MAX_WEIGHT_DECAY); the log slider
/// spans 10⁻⁶ to 0.1 (and 0 below it).
pub fn weight_decay_setting() -> Setting {
    Setting::float(
        "weightDecay",
        "Weight decay λ_wd",
        [0.0, crate::nn::momentum::MAX_WEIGHT_DECAY],
    )
    .log()
    .slider([1e-6, 0.1])
    .doc(
        "Adds λ_wd‖θ‖²/2 to the loss (every weight and bias), so λ_wd adds to every curvature \
         and the stability bound on η falls to 2(1 + β)/(λ_max/n + λ_wd).",
    )
}

/// The ridge λ's row (kernel and random-features regression): the engine takes 0 (the minimum-norm fit) and anything up to 10⁶; the
/// slider spans 10⁻⁶ to 10 (and 0 below it), from no visible effect to a flat curve.
pub fn ridge_setting() -> Setting {
    Setting::float("ridge", "Ridge λ", [0.0, 1e6])
        .log()
        .slider([1e-6, 10.0])
}

/// The table row of the device choice (not part of a configuration: the page's worker picks
/// the backend with it, see [`crate::session::device`]).
pub fn backend_setting() -> Setting {
    Setting::choice(
        "backend",
        "Backend",
        options(&BackendChoice::ALL, BackendChoice::label),
    )
    .doc(
        "Where the matrix work runs. Auto uses WebGPU for large full-batch networks when the \
             browser has it, and the CPU otherwise.",
    )
    .default_value(Field::Str("auto".into()))
}
