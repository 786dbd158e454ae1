//! The `descent` command line: every scene headless, and sweeps that any scheduler can run.
//!
//! `descent run <scene> [key=value …]` reads a scene's settings from its one table
//! ([`crate::session::settings`]: the same names, ranges and defaults as the page's links), or a
//! share link pasted as the argument, runs the scene's engine and writes its report (JSON), the
//! data behind every panel (CSV) and every panel as an SVG figure into `--out`.
//! `descent sweep` runs a grid of settings over seeds, in slices (`--shard i/N`) that
//! `descent merge` joins; `descent figures` draws the README's figures.
//!
//! The pieces:
//! - [`output`]: what a headless scene produces ([`SceneOutput`]: report, summary, tables,
//!   figures) and how it is written (each file under a temporary name, then renamed).
//! - [`scenes`]: one headless driver per scene ([`Headless`]), and their registry.
//! - [`par`]: threads over cells and seeds, with results in a fixed order.
//!
//! Native only: the page drives the same engine through `api`.

pub mod figures;
pub mod output;
pub mod par;
pub mod scenes;
pub mod settings;
pub mod sweep;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::session::device::BackendChoice;
use crate::session::fields::Field;
use crate::session::settings::SceneSpec;

pub use output::{Cell, Figure, HeatPlot, LinePlot, SceneOutput, Series, Style, Table};

/// One scene's settings: every setting of its table ([`crate::scenes::spec`]), each at its
/// default unless given. Values are checked against the table when set.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The scene's settings table.
    pub spec: SceneSpec,
    /// Every setting's value, by name.
    pub values: BTreeMap<String, Field>,
}

impl Settings {
    /// The defaults of the table called `scene` (a scene id, or a panel such as
    /// `double-descent/trained`).
    pub fn defaults(scene: &str) -> Option<Settings> {
        let spec = crate::scenes::spec(scene)?;
        let values = spec
            .settings
            .iter()
            .map(|s| (s.name.to_string(), s.default.clone()))
            .collect();
        Some(Settings { spec, values })
    }

    /// The scene's id.
    pub fn scene(&self) -> &'static str {
        self.spec.scene
    }

    /// The value of setting `name`.
    ///
    /// Panics if the table has no such setting (a driver asking for its own scene's setting).
    pub fn get(&self, name: &str) -> &Field {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("{}: no setting `{name}`", self.spec.scene))
    }

    /// The numeric setting `name` (panics on another kind, as [`Settings::get`]).
    pub fn num(&self, name: &str) -> f64 {
        match self.get(name) {
            Field::Num(x) => *x,
            other => panic!("{}: `{name}` is {other}, not a number", self.spec.scene),
        }
    }

    /// Sets `name` to `value`, checked against the table (range, options, kind).
    pub fn set(&mut self, name: &str, value: Field) -> Result<()> {
        self.spec
            .validate(&BTreeMap::from([(name.to_string(), value.clone())]))?;
        match self.values.get_mut(name) {
            Some(v) => *v = value,
            None => {
                return Err(Error::config("settings", format!("no setting `{name}`")));
            }
        }
        Ok(())
    }

    /// The scene's configuration `T` read from these settings (through serde, as the page's
    /// settings object is read by `api`). Settings that are not fields of `T` (such as the
    /// page's `backend`) are ignored by `T`'s deserialiser.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
        let map: serde_json::Map<String, serde_json::Value> = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), json_of(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| Error::config("settings", format!("invalid settings: {e}")))
    }

    /// The settings as a JSON object, in the table's order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.spec
                .settings
                .iter()
                .map(|s| (s.name.to_string(), json_of(self.get(s.name))))
                .collect(),
        )
    }
}

/// A field as JSON (an absent optional setting is `null`).
pub fn json_of(v: &Field) -> serde_json::Value {
    match v {
        Field::Null => serde_json::Value::Null,
        Field::Bool(b) => serde_json::Value::Bool(*b),
        // A whole number as an integer, so that integer fields (`width: usize`) read it.
        Field::Num(x) if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 => {
            serde_json::Value::from(*x as i64)
        }
        Field::Num(x) => serde_json::Number::from_f64(*x)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Field::Str(s) => serde_json::Value::String(s.clone()),
    }
}

/// How a headless run is carried out (not part of the scene's settings).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Where the matrix work runs: the CPU, the GPU (Vulkan through wgpu) or the GPU when
    /// there is one.
    pub backend: BackendChoice,
    /// Gradient steps for a scene whose page trains until paused (the Playground, Lazy or
    /// rich, Step size's live run); `None` takes the driver's documented default.
    pub steps: Option<u64>,
    /// Threads a run may use over its cells and seeds (at least 1).
    pub threads: usize,
    /// The memory a run may use, in bytes; a larger run is refused with its estimate.
    pub memory_limit: u64,
    /// Set by Ctrl-C: a long run stops at its next cell or step with [`Error::Interrupted`]
    /// (see [`RunOptions::check_cancel`]).
    pub cancel: Arc<AtomicBool>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            backend: BackendChoice::Cpu,
            steps: None,
            threads: 1,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The command line's default memory limit: 8 GiB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 8 << 30;

impl RunOptions {
    /// Whether Ctrl-C was pressed.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// An error when Ctrl-C was pressed: a driver calls it between cells, seeds or chunks of
    /// steps so that an interrupted run stops promptly.
    pub fn check_cancel(&self) -> Result<()> {
        if self.cancelled() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

/// Progress of a long run, shown as a bar on stderr by the binary (nothing in tests and in
/// a sweep's cells).
pub trait Progress: Sync {
    /// A stage called `what` with `total` units of work begins.
    fn start(&self, what: &str, total: u64);
    /// `n` more units are done.
    fn inc(&self, n: u64);
}

/// Progress that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn inc(&self, _: u64) {}
}

/// A scene run without a page.
pub trait Headless: Sync {
    /// The scene's id (as in [`crate::scenes::SCENES`]) and its settings table's name.
    fn id(&self) -> &'static str;

    /// What one `descent run` of the scene does, in a sentence for `--help`.
    fn about(&self) -> &'static str;

    /// Runs the scene at `settings` (already checked against its table): the numbers the
    /// page's panels show for the same link, its tables and its figures, with a `summary` of
    /// scalars that a sweep collects. Deterministic for given settings and options (threads
    /// never change a number).
    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput>;
}

/// The binary's entry point: parses the arguments, runs the command and maps its outcome to
/// the documented exit codes.
pub fn main() -> std::process::ExitCode {
    eprintln!("descent: the command line is being built");
    std::process::ExitCode::from(1)
}

/// Where a run's matrix work goes (`--backend`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// The CPU: the page's CPU numbers, within the tolerance the README states.
    #[default]
    Cpu,
    /// The GPU through wgpu (Vulkan); refused when there is none.
    Gpu,
    /// The GPU when there is a hardware one, else the CPU (with a note).
    Auto,
}

/// The options of every command that runs a scene.
#[derive(Clone, Debug, clap::Args)]
pub struct Common {
    /// Where the matrix work runs.
    #[arg(long, value_enum, default_value_t = BackendArg::Cpu)]
    pub backend: BackendArg,
    /// Threads over cells and seeds (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The memory a run may use, in MiB; a larger run is refused with its estimate.
    #[arg(long, default_value_t = DEFAULT_MEMORY_LIMIT >> 20)]
    pub memory_mib: u64,
    /// Gradient steps for a scene whose page trains until paused (Playground, Lazy or rich,
    /// Step size).
    #[arg(long)]
    pub steps: Option<u64>,
    /// No progress bars on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}
