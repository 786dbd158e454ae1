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
//! - [`args`]: the commands and options (clap); [`link`]: share links read as the page reads
//!   them, and the link back; [`plot`]: figures as SVG (plotters); [`progress`]: bars on
//!   stderr; [`backend`]: `--backend` through wgpu.
//!
//! Native only: the page drives the same engine through `api`.

pub mod args;
pub mod backend;
pub mod figures;
pub mod link;
pub mod output;
pub mod par;
pub mod plot;
pub mod progress;
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
    /// The page's view options that the scene's run reads ([`link::VIEW_READ`]), by name;
    /// one not given takes its default.
    pub view: BTreeMap<String, String>,
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
        Some(Settings {
            spec,
            values,
            view: BTreeMap::new(),
        })
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

    /// The value of the view option `name` of [`link::VIEW_READ`]: the one given, else its
    /// default. Panics if the scene's run reads no such option.
    pub fn view(&self, name: &str) -> &str {
        let option = link::view_option(self.scene(), name)
            .unwrap_or_else(|| panic!("{}: no view option `{name}`", self.spec.scene));
        self.view.get(name).map_or(option.default, String::as_str)
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

/// A field as JSON (an absent optional setting is `null`). Whole numbers are JSON integers,
/// so that integer fields of a configuration (`nTrain`, `seed`) read them.
pub fn json_of(v: &Field) -> serde_json::Value {
    match v {
        Field::Null => serde_json::Value::Null,
        Field::Bool(b) => serde_json::Value::Bool(*b),
        // A whole number as an integer, so that integer fields (`width: usize`) read it.
        Field::Num(x) if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 => {
            if *x >= 0.0 {
                serde_json::Value::from(*x as u64)
            } else {
                serde_json::Value::from(*x as i64)
            }
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
/// the documented exit codes ([`args::EXIT_CODES`]). Every message goes to stderr as
/// `descent: …`.
pub fn main() -> std::process::ExitCode {
    use clap::Parser;
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                eprint!("descent: {}", text.strip_prefix("error: ").unwrap_or(&text));
            } else {
                print!("{text}");
            }
            return std::process::ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    install_ctrlc();
    match dispatch(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("descent: {e}");
            std::process::ExitCode::from(exit_code(&e))
        }
    }
}

/// The exit code of a command that failed with `e`: 2 for usage, 3 for an incomplete sweep or
/// merge, 130 for Ctrl-C, 1 otherwise.
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Usage { .. } => 2,
        Error::Incomplete { .. } => 3,
        Error::Interrupted => 130,
        _ => 1,
    }
}

/// The flag Ctrl-C sets, shared by every run of this process.
pub fn cancel_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone()
}

/// Installs the Ctrl-C handler (once; it also takes SIGTERM and SIGHUP, the signals a scheduler
/// or a closed terminal sends): the first Ctrl-C sets [`cancel_flag`], so a run stops at
/// its next cell or chunk of steps and keeps what has finished; a second exits at once with 130.
pub fn install_ctrlc() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let flag = cancel_flag();
        let installed = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!(
                "\ndescent: stopping after the work in progress (Ctrl-C again to quit at once)"
            );
        });
        if let Err(e) = installed {
            eprintln!("descent: Ctrl-C will stop at once, without keeping work: {e}");
        }
    });
}

fn dispatch(command: args::Command) -> Result<()> {
    match command {
        args::Command::Run(a) => run(&a),
        args::Command::Sweep(a) => {
            let bar = progress::Bar::new(a.common.quiet);
            let done = sweep::sweep_with(&a, &a.common.options(), &bar);
            bar.finish();
            done
        }
        args::Command::Merge(a) => sweep::merge(&a),
        args::Command::Figures(a) => figures::figures(&a),
        args::Command::Scenes => {
            print!("{}", scenes_text());
            Ok(())
        }
        args::Command::Settings(a) => {
            let settings = scene_settings(&a.scene)?;
            print!("{}", settings_text(&settings.spec));
            Ok(())
        }
    }
}

/// The driver of `id`, or a usage error naming the scenes and the closest one.
pub fn driver(id: &str) -> Result<&'static dyn Headless> {
    scenes::get(id).ok_or_else(|| {
        let ids: Vec<&str> = scenes::all().iter().map(|h| h.id()).collect();
        let hint = settings::closest(id, &ids)
            .map(|c| format!(" Did you mean `{c}`?"))
            .unwrap_or_default();
        Error::Usage {
            message: format!(
                "there is no scene `{id}`.{hint} The scenes are: {} (`descent scenes` says what each does).",
                ids.join(", ")
            ),
        }
    })
}

/// The default settings of scene `id` (checked against the registry: an unknown id is a usage
/// error naming the scenes).
pub fn scene_settings(id: &str) -> Result<Settings> {
    let h = driver(id)?;
    Settings::defaults(h.id()).ok_or_else(|| Error::Usage {
        message: format!("{id} has no settings table"),
    })
}

/// Applies `key=value` arguments to `settings`, strictly: an unknown key is a usage error
/// naming the valid ones and the closest, a value out of range an error stating the range.
pub fn apply_pairs(settings: &mut Settings, pairs: &[String]) -> Result<()> {
    for pair in pairs {
        let Some((key, text)) = pair.split_once('=') else {
            return Err(Error::Usage {
                message: format!(
                    "`{pair}` is not a setting: settings are given as key=value, e.g. seed=3 (`descent settings {}` lists them)",
                    settings.scene()
                ),
            });
        };
        if let Some(option) = link::view_option(settings.scene(), key.trim()) {
            let text = text.trim();
            if !option.values.contains(&text) {
                return Err(Error::Usage {
                    message: format!(
                        "{}: {} is not one of its values ({})",
                        option.name,
                        if text.is_empty() { "nothing" } else { text },
                        option.values.join(", ")
                    ),
                });
            }
            settings
                .view
                .insert(option.name.to_string(), text.to_string());
            continue;
        }
        let setting = settings::setting(&settings.spec, key.trim())?.clone();
        let value = settings::parse_value(&setting, text)?;
        settings.values.insert(setting.name.to_string(), value);
    }
    Ok(())
}

/// `descent scenes`: each id with what a run of it does.
pub fn scenes_text() -> String {
    let all = scenes::all();
    let w = all.iter().map(|h| h.id().len()).max().unwrap_or(0);
    all.iter()
        .map(|h| format!("{:w$}  {}\n", h.id(), h.about()))
        .collect()
}

/// `descent settings <scene>`: the table the page's controls and links read, one row per
/// setting (name, kind, accepted range, default, doc).
pub fn settings_text(spec: &SceneSpec) -> String {
    use crate::session::settings::{Kind, Scale};
    let rows: Vec<[String; 5]> = spec
        .settings
        .iter()
        .map(|s| {
            let (kind, range) = match &s.kind {
                Kind::Int | Kind::Float => {
                    let mut k = if s.kind == Kind::Int { "int" } else { "float" }.to_string();
                    if s.scale == Scale::Log {
                        k.push_str(", log");
                    }
                    (k, format!("{} to {}", s.min, s.max))
                }
                Kind::Bool => ("flag".to_string(), "true/false or 1/0".to_string()),
                Kind::Choice { options } => (
                    "choice".to_string(),
                    options
                        .iter()
                        .map(|o| o.value.as_str())
                        .collect::<Vec<_>>()
                        .join(" | "),
                ),
            };
            let range = if s.optional {
                format!("{range}, or null")
            } else {
                range
            };
            let mut doc = if s.unit.is_empty() {
                s.doc.to_string()
            } else {
                format!("{} (in {})", s.doc, s.unit)
            };
            if !link::page_controls(spec.scene, s.name) {
                doc.push_str(" [no control on the page: a link keeps the default]");
            }
            let default = match &s.default {
                Field::Str(v) => v.clone(),
                Field::Num(x) => link::js_number(*x),
                other => other.to_string(),
            };
            [s.name.to_string(), kind, range, default, doc]
        })
        .chain(link::view_options(spec.scene).iter().map(|o| {
            [
                o.name.to_string(),
                "view".to_string(),
                o.values.join(" | "),
                o.default.to_string(),
                format!(
                    "{} [the page keeps it in its links beside the settings]",
                    o.doc
                ),
            ]
        }))
        .collect();
    let head = ["setting", "kind", "accepted", "default", "what it does"].map(String::from);
    let mut w = [0usize; 4];
    for r in std::iter::once(&head).chain(&rows) {
        for i in 0..4 {
            w[i] = w[i].max(r[i].chars().count());
        }
    }
    let mut out = format!(
        "{} settings (key=value, as in the page's links):\n",
        spec.scene
    );
    for r in std::iter::once(&head).chain(&rows) {
        out.push_str(&format!(
            "  {:w0$}  {:w1$}  {:w2$}  {:w3$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        ));
    }
    out
}

/// `descent run`.
fn run(a: &args::RunArgs) -> Result<()> {
    let (mut settings, notes) = if link::is_link(&a.scene) {
        let l = link::read(&a.scene)?;
        (l.settings, l.notes)
    } else {
        (scene_settings(&a.scene)?, Vec::new())
    };
    let driver = driver(settings.scene())?;
    apply_pairs(&mut settings, &a.settings)?;
    for n in &notes {
        eprintln!("descent: note: {n}");
    }
    let options = a.common.options();
    let bar = progress::Bar::new(a.common.quiet);
    let result = driver.run(&settings, &options, &bar);
    bar.finish();
    let out = result?;
    for n in &out.notes {
        eprintln!("descent: note: {n}");
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| format!("descent-{}", settings.scene().replace('/', "-")).into());
    let unlinked = link::unlinked(&settings);
    let mut notes = notes;
    if !unlinked.is_empty() {
        let note = format!(
            "the page has no control for {}, so its link opens at the default{}",
            crate::error::settings_list(&unlinked),
            if unlinked.len() > 1 { "s" } else { "" }
        );
        eprintln!("descent: note: {note}");
        notes.push(note);
    }
    let record = output::RunRecord {
        settings: &settings,
        link: link::link_of(&settings),
        steps: options.steps,
        notes,
    };
    let written = output::write_run(&dir, &out, &record)?;
    print!("{}", summary_text(&settings, &out, &record.link, &written));
    Ok(())
}

/// What `descent run` prints on stdout: the scene and backend, the summary's scalars, the link
/// back to the page and the files written.
pub fn summary_text(
    settings: &Settings,
    out: &SceneOutput,
    link: &str,
    written: &[std::path::PathBuf],
) -> String {
    let mut s = format!(
        "{} on the {}\n",
        settings.scene(),
        out.backend.to_uppercase()
    );
    let w = out.summary.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &out.summary {
        let v = if v.is_nan() {
            "none".to_string()
        } else {
            output::number(*v)
        };
        s.push_str(&format!("  {k:w$}  {v}\n"));
    }
    s.push_str(&format!("page: {link}\n"));
    s.push_str("wrote:");
    for p in written {
        s.push_str(&format!(" {}", p.display()));
    }
    s.push('\n');
    s
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

impl Common {
    /// The run options these arguments ask for: threads default to every core, the memory
    /// limit in bytes, and the cancel flag that Ctrl-C sets ([`cancel_flag`]).
    pub fn options(&self) -> RunOptions {
        RunOptions {
            backend: self.backend.choice(),
            steps: self.steps,
            threads: self.threads.unwrap_or_else(par::available).max(1),
            memory_limit: self.memory_mib.saturating_mul(1 << 20),
            cancel: cancel_flag(),
        }
    }
}

impl BackendArg {
    /// The engine's backend choice for this argument.
    pub fn choice(self) -> BackendChoice {
        match self {
            BackendArg::Cpu => BackendChoice::Cpu,
            BackendArg::Gpu => BackendChoice::Gpu,
            BackendArg::Auto => BackendChoice::Auto,
        }
    }
}
