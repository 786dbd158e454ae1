//! The weights file: a trained network written as JSON, to keep, to inspect, and to continue
//! training from ([`crate::session::run::Run::export_weights_async`] writes one,
//! [`crate::session::run::Run::restore_weights_async`] continues from one).
//!
//! ```json
//! {
//!   "format": "descent-weights", "version": 1,
//!   "scene": "playground",
//!   "settings": { "dataset": "circles", "nTrain": 128, "width": 128, "seed": 1, "lr": 0.5, … },
//!   "architecture": { "inputDim": 2, "hidden": [128], "outputs": 1, "activation": "relu",
//!                     "parametrization": "ntk", "sigmaW": 1.4142135623730951, "sigmaB": 0.1,
//!                     "initScale": 1.0, "centerOutput": false, "alpha": 1.0 },
//!   "seed": 1, "step": 200, "initialLoss": 0.5156250596046448,
//!   "layers": [
//!     { "W": { "shape": [2, 128], "data": [ … 256 values … ] },
//!       "b": { "shape": [128], "data": [ … ] } },
//!     { "W": { "shape": [128, 1], "data": [ … ] }, "b": { "shape": [1], "data": [ … ] } }
//!   ]
//! }
//! ```
//!
//! - **Settings.** The scene's whole configuration under the names its URL uses: the data set
//!   and its seed, the network, the step size, the batch size, α. Read back, they are checked
//!   against the scene's settings table ([`SceneSpec::validate`]) like any link.
//! - **Architecture.** What the settings make of the network, written out for a reader (and
//!   checked against the settings on import). `outputs` is the output layer's width.
//! - **Layers.** Hidden layers first, the output layer last, each `W` of shape
//!   `[fan_in, fan_out]` stored row-major (`W[i][j]` at `i·fan_out + j`: input i to unit j) and
//!   `b` of shape `[fan_out]`, exactly the parameters the engine trains (the multipliers of the
//!   parametrisation, [`crate::nn::mlp`], are applied in the forward pass, not folded in).
//! - **Exact values.** Every value is a single-precision number written as the shortest
//!   decimal that reads back as that number's exact double: any JSON reader that parses a
//!   double and rounds it to single precision (serde_json, `numpy.float32`, `Math.fround`)
//!   recovers the stored bits, −0 and subnormals included. JSON has no NaN or infinity, and a
//!   diverged run is not exported, so every value is finite.
//!
//! **What continuing exactly needs.** On the CPU, a run continued from a file taken at step k
//! and trained m more steps equals the uninterrupted run of k + m steps bit for bit (parameters
//! and losses). The file holds what is not a function of the settings: the parameters, the step
//! count and the divergence reference (`initialLoss`, the first training loss). Everything else
//! is rebuilt from the settings and the seed exactly as the first run built it: the data, θ₀
//! (so the centred output's f(x; θ₀) and "rewind to θ₀" are the seed's), and the mini-batch
//! order, which depends on the seed and the step count alone and is replayed to step k
//! ([`crate::nn::Trainer::restore`]). So the file need not carry θ₀; a file whose parameters
//! were edited by hand continues from them, still centred on the seed's θ₀. A run with
//! heavy-ball momentum (β > 0) also has a velocity, which is not a function of the settings:
//! its file carries it as `velocity`, a list of layers shaped as `layers` (absent before the
//! first step, and for β = 0), and the continued run starts from it. A run on a reader's own
//! file (`dataset` = table) is rebuilt from that file, which no weights file holds: its
//! `dataHash` (the file's FNV-1a hash) lets an import refuse a different file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::math::Activation;
use crate::nn::mlp::{MlpSpec, Parametrization};
use crate::session::run::RunConfig;
use crate::session::settings::SceneSpec;

/// The `format` field of every weights file.
pub const FORMAT: &str = "descent-weights";
/// The version of the format this build writes and reads.
pub const VERSION: u64 = 1;

/// The network as the settings make it, written out for a reader of the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Architecture {
    pub input_dim: usize,
    /// Hidden widths n_1..n_L.
    pub hidden: Vec<usize>,
    /// The output layer's width.
    pub outputs: usize,
    pub activation: Activation,
    pub parametrization: Parametrization,
    pub sigma_w: f64,
    pub sigma_b: f64,
    pub init_scale: f64,
    /// Whether the trained function is f(x; θ) − f(x; θ₀).
    pub center_output: bool,
    /// The lazy-training scale α (1: the plain network).
    pub alpha: f64,
}

impl Architecture {
    /// The architecture a run's settings build.
    pub fn of(config: &RunConfig) -> Self {
        let spec = config.spec();
        Architecture {
            input_dim: spec.input_dim,
            hidden: spec.hidden.clone(),
            outputs: spec.layers().last().map_or(1, |l| l.fan_out),
            activation: spec.activation,
            parametrization: spec.parametrization,
            sigma_w: spec.sigma_w,
            sigma_b: spec.sigma_b,
            init_scale: spec.init_scale,
            center_output: config.net.init.center_output,
            alpha: config.alpha,
        }
    }
}

/// One layer's parameters: `w` is `fan_in × fan_out` row-major, `b` has `fan_out` values.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    pub fan_in: usize,
    pub fan_out: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

/// A weights file, read or about to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// The scene's id ("playground", "lazy", "step").
    pub scene: String,
    /// The scene's configuration under its URL names (a JSON object).
    pub settings: Value,
    pub architecture: Architecture,
    pub seed: u64,
    /// Steps taken.
    pub step: u64,
    /// The first training loss (the divergence bound's reference); `None` before any step.
    pub initial_loss: Option<f32>,
    pub layers: Vec<LayerWeights>,
    /// The heavy-ball velocity, shaped as `layers` (runs with momentum β > 0 that have
    /// stepped; else `None`).
    pub velocity: Option<Vec<LayerWeights>>,
    /// The hash of the reader's file a run on one was trained on (`dataset` = table; see
    /// [`crate::data::Dataset::source_hash`]), so that an import can check it has that file.
    pub data_hash: Option<String>,
}

/// A value as the file writes it: the f32's exact double (see the module notes).
fn number(v: f32) -> Value {
    // Finite by construction (export refuses non-finite parameters).
    serde_json::Number::from_f64(v as f64).map_or(Value::Null, Value::Number)
}

fn matrix(shape: &[usize], data: &[f32]) -> Value {
    let mut m = Map::new();
    m.insert(
        "shape".into(),
        shape.iter().map(|&s| Value::from(s)).collect(),
    );
    m.insert(
        "data".into(),
        Value::Array(data.iter().map(|&v| number(v)).collect()),
    );
    Value::Object(m)
}

/// "64×10".
fn dims(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

fn get<'a>(obj: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a Value> {
    obj.get(key)
        .ok_or_else(|| Error::weights(format!("{what} has no `{key}` field")))
}

fn count(v: &Value, what: &str) -> Result<u64> {
    v.as_u64()
        .ok_or_else(|| Error::weights(format!("{what} must be a whole number ≥ 0, got {v}")))
}

/// A `{shape, data}` object whose shape has `rank` dimensions; `what` names it in errors.
fn read_matrix(v: &Value, rank: usize, what: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let obj = v
        .as_object()
        .ok_or_else(|| Error::weights(format!("{what} must be an object {{shape, data}}")))?;
    let shape = get(obj, "shape", what)?
        .as_array()
        .ok_or_else(|| Error::weights(format!("{what}: `shape` must be a list of sizes")))?
        .iter()
        .map(|s| count(s, &format!("{what}: a size in `shape`")).map(|s| s as usize))
        .collect::<Result<Vec<_>>>()?;
    if shape.len() != rank {
        return Err(Error::weights(format!(
            "{what} has a shape of {} dimensions ({}), it needs {rank}",
            shape.len(),
            dims(&shape)
        )));
    }
    let data = get(obj, "data", what)?
        .as_array()
        .ok_or_else(|| Error::weights(format!("{what}: `data` must be a list of numbers")))?;
    let n = shape.iter().try_fold(1usize, |a, &s| a.checked_mul(s));
    if n != Some(data.len()) {
        return Err(Error::weights(format!(
            "{what} has {} values, its shape {} needs {}",
            data.len(),
            dims(&shape),
            n.map_or("more than can be stored".to_string(), |n| n.to_string())
        )));
    }
    let mut out = Vec::with_capacity(data.len());
    for (i, x) in data.iter().enumerate() {
        let v = x.as_f64().ok_or_else(|| {
            Error::weights(format!("{what}: value {i} is not a number (it is {x})"))
        })?;
        let f = v as f32;
        if !f.is_finite() {
            return Err(Error::weights(format!(
                "{what}: value {i} ({v}) is too large for single precision"
            )));
        }
        out.push(f);
    }
    Ok((shape, out))
}

/// Layers as the file writes them: `[{W: {shape, data}, b: {shape, data}}, …]`.
fn write_layers(layers: &[LayerWeights]) -> Value {
    layers
        .iter()
        .map(|l| {
            let mut o = Map::new();
            o.insert("W".into(), matrix(&[l.fan_in, l.fan_out], &l.w));
            o.insert("b".into(), matrix(&[l.fan_out], &l.b));
            Value::Object(o)
        })
        .collect()
}

/// Reads a list of layers (the file's field `field`, each named `name` and its number in
/// errors), each consistent with its own shape.
fn read_layers(v: &Value, field: &str, name: &str) -> Result<Vec<LayerWeights>> {
    v.as_array()
        .ok_or_else(|| Error::weights(format!("`{field}` must be a list of layers")))?
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let what = format!("{name} {}", i + 1);
            let o = l
                .as_object()
                .ok_or_else(|| Error::weights(format!("{what} must be an object {{W, b}}")))?;
            let (ws, w) = read_matrix(get(o, "W", &what)?, 2, &format!("{what} weights"))?;
            let (bs, b) = read_matrix(get(o, "b", &what)?, 1, &format!("{what} biases"))?;
            if bs[0] != ws[1] {
                return Err(Error::weights(format!(
                    "{what} has {} biases for {} units",
                    bs[0], ws[1]
                )));
            }
            Ok(LayerWeights {
                fan_in: ws[0],
                fan_out: ws[1],
                w,
                b,
            })
        })
        .collect()
}

impl Weights {
    /// The file's JSON text (compact: one line).
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("format".into(), FORMAT.into());
        m.insert("version".into(), VERSION.into());
        m.insert("scene".into(), self.scene.clone().into());
        m.insert("settings".into(), self.settings.clone());
        m.insert(
            "architecture".into(),
            serde_json::to_value(&self.architecture).unwrap_or(Value::Null),
        );
        m.insert("seed".into(), self.seed.into());
        m.insert("step".into(), self.step.into());
        m.insert(
            "initialLoss".into(),
            self.initial_loss.map_or(Value::Null, number),
        );
        m.insert("layers".into(), write_layers(&self.layers));
        if let Some(v) = &self.velocity {
            m.insert("velocity".into(), write_layers(v));
        }
        if let Some(h) = &self.data_hash {
            m.insert("dataHash".into(), Value::from(h.as_str()));
        }
        Value::Object(m).to_string()
    }

    /// Reads a weights file: JSON, this format and version, and every layer's values
    /// consistent with its own shape. Whether they fit a scene is [`Weights::config`]'s check.
    pub fn parse(text: &str) -> Result<Weights> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Error::weights(format!("it is not JSON ({e})")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::weights("it is not a JSON object"))?;
        match obj.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(Error::weights(format!(
                    "its format is \"{other}\", not \"{FORMAT}\""
                )));
            }
            None => {
                return Err(Error::weights(format!(
                    "it has no \"format\": \"{FORMAT}\" field; it is not a Descent weights file"
                )));
            }
        }
        let version = count(get(obj, "version", "the file")?, "`version`")?;
        if version != VERSION {
            return Err(Error::weights(format!(
                "it is version {version} of the format; this build of Descent reads version {VERSION}"
            )));
        }
        let scene = get(obj, "scene", "the file")?
            .as_str()
            .ok_or_else(|| Error::weights("`scene` must be a scene's name"))?
            .to_string();
        let settings = get(obj, "settings", "the file")?.clone();
        if !settings.is_object() {
            return Err(Error::weights("`settings` must be an object"));
        }
        let architecture: Architecture =
            serde_json::from_value(get(obj, "architecture", "the file")?.clone())
                .map_err(|e| Error::weights(format!("`architecture`: {e}")))?;
        let seed = count(get(obj, "seed", "the file")?, "`seed`")?;
        let step = count(get(obj, "step", "the file")?, "`step`")?;
        let initial_loss = match obj.get("initialLoss") {
            None | Some(Value::Null) => None,
            Some(x) => {
                let l = x.as_f64().map(|l| l as f32).filter(|l| l.is_finite());
                Some(l.ok_or_else(|| {
                    Error::weights(format!("`initialLoss` must be a number, got {x}"))
                })?)
            }
        };
        let layers = read_layers(get(obj, "layers", "the file")?, "layers", "layer")?;
        let velocity = match obj.get("velocity") {
            None | Some(Value::Null) => None,
            Some(v) => Some(read_layers(v, "velocity", "velocity layer")?),
        };
        let data_hash = match obj.get("dataHash") {
            None | Some(Value::Null) => None,
            Some(Value::String(h)) => Some(h.clone()),
            Some(x) => {
                return Err(Error::weights(format!(
                    "`dataHash` must be a string, got {x}"
                )));
            }
        };
        Ok(Weights {
            scene,
            settings,
            architecture,
            seed,
            step,
            initial_loss,
            layers,
            velocity,
            data_hash,
        })
    }

    /// The scene configuration the file's settings make, over the scene's `defaults` (a field
    /// the file leaves out takes its default), checked against the scene's table `spec` and
    /// the file's scene name. `run` is the run configuration inside the scene's.
    pub fn config<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        spec: &SceneSpec,
        defaults: &T,
        run: impl Fn(&T) -> RunConfig,
    ) -> Result<T> {
        if self.scene != spec.scene {
            return Err(Error::weights(format!(
                "it holds a network of the “{}” scene, not of “{}”",
                self.scene, spec.scene
            )));
        }
        let mut merged = serde_json::to_value(defaults)
            .map_err(|e| Error::weights(format!("the scene's defaults: {e}")))?;
        if let (Some(m), Some(s)) = (merged.as_object_mut(), self.settings.as_object()) {
            for (k, v) in s {
                m.insert(k.clone(), v.clone());
            }
        }
        let config: T = serde_json::from_value(merged)
            .map_err(|e| Error::weights(format!("its settings: {e}")))?;
        spec.validate(&config)
            .map_err(|e| Error::weights(format!("its settings: {e}")))?;
        let rc = run(&config);
        if rc.data.seed != self.seed {
            return Err(Error::weights(format!(
                "its seed {} differs from its settings' seed {}",
                self.seed, rc.data.seed
            )));
        }
        self.check(&rc)?;
        Ok(config)
    }

    /// Checks that the file's architecture and layers are those `config` builds: the first
    /// difference is the error ("layer 2 weights have shape 64×10, the architecture needs
    /// 64×1").
    pub fn check(&self, config: &RunConfig) -> Result<()> {
        let want = Architecture::of(config);
        let a = &self.architecture;
        let differs = |name: &str, got: String, need: String| {
            Err(Error::weights(format!(
                "its architecture's `{name}` is {got}, its settings make {need}"
            )))
        };
        if a.input_dim != want.input_dim {
            return differs(
                "inputDim",
                a.input_dim.to_string(),
                want.input_dim.to_string(),
            );
        }
        if a.hidden != want.hidden {
            return differs(
                "hidden",
                format!("{:?}", a.hidden),
                format!("{:?}", want.hidden),
            );
        }
        if a.outputs != want.outputs {
            return differs("outputs", a.outputs.to_string(), want.outputs.to_string());
        }
        if a.activation != want.activation {
            return differs(
                "activation",
                format!("{:?}", a.activation),
                format!("{:?}", want.activation),
            );
        }
        if a.parametrization != want.parametrization {
            return differs(
                "parametrization",
                a.parametrization.label().into(),
                want.parametrization.label().into(),
            );
        }
        for (name, got, need) in [
            ("sigmaW", a.sigma_w, want.sigma_w),
            ("sigmaB", a.sigma_b, want.sigma_b),
            ("initScale", a.init_scale, want.init_scale),
            ("alpha", a.alpha, want.alpha),
        ] {
            if got != need {
                return differs(name, got.to_string(), need.to_string());
            }
        }
        if a.center_output != want.center_output {
            return differs(
                "centerOutput",
                a.center_output.to_string(),
                want.center_output.to_string(),
            );
        }
        check_shapes(&self.layers, &config.spec())?;
        if let Some(v) = &self.velocity {
            check_shapes(v, &config.spec()).map_err(|e| match e {
                Error::InvalidWeights { message } => {
                    Error::weights(format!("its velocity: {message}"))
                }
                other => other,
            })?;
        }
        Ok(())
    }

    /// The velocity as one flat vector in the order of [`crate::nn::Mlp::params`], if the
    /// file has one.
    pub fn velocity_params(&self) -> Option<Vec<f32>> {
        self.velocity.as_ref().map(|layers| {
            let mut out = Vec::new();
            for l in layers {
                out.extend_from_slice(&l.w);
                out.extend_from_slice(&l.b);
            }
            out
        })
    }

    /// Every parameter in the order of [`crate::nn::Mlp::params`] (each layer's weights, then
    /// its biases).
    pub fn params(&self) -> Vec<f32> {
        let mut out = Vec::new();
        for l in &self.layers {
            out.extend_from_slice(&l.w);
            out.extend_from_slice(&l.b);
        }
        out
    }

    /// The layers of a flat parameter vector in the order of [`crate::nn::Mlp::params`] for
    /// `spec`.
    pub fn layers_of(spec: &MlpSpec, params: &[f32]) -> Result<Vec<LayerWeights>> {
        let shapes = spec.layers();
        if params.len() != spec.param_count() {
            return Err(Error::ShapeMismatch {
                op: "Weights::layers_of",
                expected: spec.param_count().to_string(),
                got: params.len().to_string(),
            });
        }
        let mut at = 0;
        let mut out = Vec::with_capacity(shapes.len());
        for s in shapes {
            let nw = s.fan_in * s.fan_out;
            out.push(LayerWeights {
                fan_in: s.fan_in,
                fan_out: s.fan_out,
                w: params[at..at + nw].to_vec(),
                b: params[at + nw..at + nw + s.fan_out].to_vec(),
            });
            at += nw + s.fan_out;
        }
        Ok(out)
    }
}

/// Checks each layer's shape against `spec`'s.
fn check_shapes(layers: &[LayerWeights], spec: &MlpSpec) -> Result<()> {
    let shapes = spec.layers();
    if layers.len() != shapes.len() {
        return Err(Error::weights(format!(
            "it has {} layers, the architecture needs {} ({} hidden and the output layer)",
            layers.len(),
            shapes.len(),
            shapes.len() - 1
        )));
    }
    for (i, (l, s)) in layers.iter().zip(&shapes).enumerate() {
        if (l.fan_in, l.fan_out) != (s.fan_in, s.fan_out) {
            return Err(Error::weights(format!(
                "layer {} weights have shape {}, the architecture needs {}",
                i + 1,
                dims(&[l.fan_in, l.fan_out]),
                dims(&[s.fan_in, s.fan_out])
            )));
        }
    }
    Ok(())
}
