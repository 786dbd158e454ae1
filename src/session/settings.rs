//! Every scene's settings as one table: for each setting its name (the URL key and the config
//! field), label, doc line, unit, kind, accepted range and default.
//!
//! The table is the one place a setting is written. The engine validates a configuration
//! against it ([`SceneSpec::validate`]); the page builds its controls, parses and clamps its
//! URL and shows its help from it (`sceneSpec(name)`, written out at build time for the page to
//! import); the command line reads the same table. Defaults are not typed twice: they are read
//! from the scene's `Default` configuration ([`SceneSpec::set_defaults`]).
//!
//! A setting has two spans. `min..=max` is what the engine accepts, and so what a link or a
//! command line may ask for. `slider`, when set, is the narrower part the page's control spans:
//! the part that is useful to drag through at the scene's other defaults (a value outside it
//! but inside the range is kept as given). A log-scaled setting whose range starts at 0 also
//! takes 0 (the page puts it below the slider's first position).

use serde::Serialize;

use super::fields::{Field, fields_of, scalar_of};

use crate::error::{Error, Result, in_range};

/// What values a setting takes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Kind {
    /// A whole number in `min..=max`.
    Int,
    /// A real number in `min..=max`.
    Float,
    /// On or off.
    Bool,
    /// One of a list of names.
    Choice { options: Vec<Choice> },
}

/// One value of a [`Kind::Choice`]: its name (in configs and URLs) and the words a reader sees.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: &'static str,
}

/// How a numeric setting is best explored: in equal steps or in equal ratios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Scale {
    Linear,
    Log,
}

/// One setting of a scene.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    /// The config field and URL key (camelCase), e.g. `nTrain`.
    pub name: &'static str,
    /// The control's label; `_x` marks a subscript (`σ_w`).
    pub label: &'static str,
    /// One or two sentences of help.
    pub doc: &'static str,
    /// The unit, or "" for plain numbers.
    pub unit: &'static str,
    pub kind: Kind,
    pub scale: Scale,
    /// The smallest value the engine accepts (numeric kinds).
    pub min: f64,
    /// The largest value the engine accepts (numeric kinds).
    pub max: f64,
    /// The part of `min..=max` the page's control spans, when narrower (see the module doc).
    pub slider: Option<[f64; 2]>,
    /// Whether the setting may be left unset (`null`), e.g. a step size that overrides another.
    pub optional: bool,
    /// The scene's default, as its configuration serialises it.
    pub default: Field,
}

impl Setting {
    fn numeric(name: &'static str, label: &'static str, kind: Kind, range: [f64; 2]) -> Self {
        Setting {
            name,
            label,
            doc: "",
            unit: "",
            kind,
            scale: Scale::Linear,
            min: range[0],
            max: range[1],
            slider: None,
            optional: false,
            default: Field::Null,
        }
    }

    /// A whole-number setting accepting `range`.
    pub fn int(name: &'static str, label: &'static str, range: [f64; 2]) -> Self {
        Self::numeric(name, label, Kind::Int, range)
    }

    /// A real-valued setting accepting `range`.
    pub fn float(name: &'static str, label: &'static str, range: [f64; 2]) -> Self {
        Self::numeric(name, label, Kind::Float, range)
    }

    /// An on/off setting.
    pub fn flag(name: &'static str, label: &'static str) -> Self {
        Self::numeric(name, label, Kind::Bool, [0.0, 1.0])
    }

    /// A setting that takes one of `options` (value, label), e.g. from an enum's `ALL`.
    pub fn choice(name: &'static str, label: &'static str, options: Vec<Choice>) -> Self {
        Self::numeric(name, label, Kind::Choice { options }, [0.0, 0.0])
    }

    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }

    pub fn unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }

    pub fn log(mut self) -> Self {
        self.scale = Scale::Log;
        self
    }

    pub fn range(mut self, range: [f64; 2]) -> Self {
        self.min = range[0];
        self.max = range[1];
        self
    }

    /// Gives a setting that is not a field of the scene's configuration its default.
    pub fn default_value(mut self, v: Field) -> Self {
        self.default = v;
        self
    }

    /// Lets the setting be left unset.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Sets the part of the range the page's control spans (see the module doc).
    pub fn slider(mut self, span: [f64; 2]) -> Self {
        self.slider = Some(span);
        self
    }

    /// The accepted range `[min, max]`.
    pub fn bounds(&self) -> [f64; 2] {
        [self.min, self.max]
    }

    /// Checks one value of this setting (`Null` is an optional setting left unset).
    fn check(&self, v: &Field) -> Result<()> {
        match (&self.kind, v) {
            (_, Field::Null) if self.optional => Ok(()),
            (Kind::Int | Kind::Float, Field::Num(x)) => {
                if self.kind == Kind::Int && x.is_finite() && x.fract() != 0.0 {
                    return Err(Error::config(
                        self.name,
                        format!("must be a whole number, got {x}"),
                    ));
                }
                in_range(self.name, *x, self.bounds())
            }
            (Kind::Bool, Field::Bool(_)) => Ok(()),
            (Kind::Choice { options }, Field::Str(s)) if options.iter().any(|o| o.value == *s) => {
                Ok(())
            }
            (Kind::Choice { options }, _) => {
                let names: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                Err(Error::config(
                    self.name,
                    format!("must be one of {}, got {v}", names.join(", ")),
                ))
            }
            (Kind::Int | Kind::Float, _) => Err(Error::config(
                self.name,
                format!("must be a number in [{}, {}], got {v}", self.min, self.max),
            )),
            (Kind::Bool, _) => Err(Error::config(
                self.name,
                format!("must be true or false, got {v}"),
            )),
        }
    }
}

/// The options of an enum setting: each variant's serialised name with `label(variant)`.
pub fn options<T: Serialize + Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            value: match scalar_of(&v) {
                Field::Str(s) => s,
                other => panic!("an enum setting serialises to a name, not {other:?}"),
            },
            label: label(v),
        })
        .collect()
}

/// The settings table of one scene.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SceneSpec {
    /// The scene's id (as in the scene registry).
    pub scene: &'static str,
    pub settings: Vec<Setting>,
}

impl SceneSpec {
    /// A table of `settings` with their defaults read from `defaults` (a scene configuration:
    /// each setting's value under its name). Panics if a setting has no field of that name,
    /// which the scenes' tests catch.
    pub fn new<T: Serialize>(scene: &'static str, settings: Vec<Setting>, defaults: &T) -> Self {
        let mut spec = SceneSpec { scene, settings };
        spec.set_defaults(defaults);
        spec
    }

    /// Reads each setting's default from the configuration `defaults` (a setting that is not
    /// a field of it must carry its own, [`Setting::default_value`]).
    pub fn set_defaults<T: Serialize>(&mut self, defaults: &T) {
        let fields = fields_of(defaults);
        for s in &mut self.settings {
            match field(&fields, s.name) {
                Some(v) => s.default = v.clone(),
                None if s.default != Field::Null => {}
                None => panic!(
                    "{}: the configuration has no field `{}`",
                    self.scene, s.name
                ),
            }
        }
    }

    /// The setting called `name`.
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// The accepted range of the numeric setting `name`.
    ///
    /// Panics if the table has no such setting (a scene asking for its own setting).
    pub fn bounds(&self, name: &str) -> [f64; 2] {
        match self.get(name) {
            Some(s) => s.bounds(),
            None => panic!("{}: no setting `{name}`", self.scene),
        }
    }

    /// The table with setting `name` changed by `edit` (a scene adapting a shared setting).
    pub fn with(mut self, name: &str, edit: impl FnOnce(Setting) -> Setting) -> Self {
        let i = self
            .settings
            .iter()
            .position(|s| s.name == name)
            .unwrap_or_else(|| panic!("{}: no setting `{name}`", self.scene));
        let s = self.settings[i].clone();
        self.settings[i] = edit(s);
        self
    }

    /// Checks every setting of `config` against the table, in the table's order; the first
    /// value out of its range (or not one of its options) is the error.
    pub fn validate<T: Serialize>(&self, config: &T) -> Result<()> {
        let fields = fields_of(config);
        for s in &self.settings {
            if let Some(v) = field(&fields, s.name) {
                s.check(v)?;
            }
        }
        Ok(())
    }
}

/// The value of the field `name` among a configuration's `fields` (a dozen or two: a linear
/// search is all it takes).
fn field<'a>(fields: &'a [(String, Field)], name: &str) -> Option<&'a Field> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}
