//! `descent run double-descent`: the random-features curve of the Double descent scene, as its
//! page computes it for the same link, with the isotropic linear model's panel.
//!
//! The page splits the seeds over a pool of workers, each holding one session of a contiguous
//! block of them (replicate s always uses seed `seed + s`), and pools the per-seed curves into
//! mean ± standard error. Here each seed is a session of its own on one of `--threads` threads
//! and the curves are pooled the same way, so the numbers are those of the page's report export
//! (`pooled`, `isotropic`) whatever the thread count. The isotropic panel is what the page asks
//! of its background task: the closed-form curves at n = [`ISO_N`] on [`ISO_POINTS`] values of
//! γ from 0.1 to 10, and Monte-Carlo points at [`ISO_GAMMAS`] (with γ = 1 itself when the ridge
//! is positive), [`ISO_REPS`] draws each, the point at index i seeded `seed + i`.

use std::sync::{Arc, Condvar, Mutex, OnceLock};

use serde::Serialize;

use crate::cli::scenes::cpu_only_note;
use crate::cli::{
    Cell, Figure, Headless, LinePlot, Progress, RunOptions, SceneOutput, Series, Settings, Style,
    Table,
};
use crate::data::digits::{self, Digits};
use crate::error::{Error, Result};
use crate::scenes::double_descent::{
    DataSource, DoubleDescent as Session, DoubleDescentConfig, IsotropicConfig, IsotropicReport,
    ReplicateWork, Report, SeedCurves, Sweep, isotropic_curves, isotropic_monte_carlo,
};

/// The isotropic model's n (the page's `ISO_N`).
pub const ISO_N: usize = 100;
/// Points of the isotropic model's closed-form curves, γ from 0.1 to 10.
pub const ISO_POINTS: usize = 241;
/// The γ values of the isotropic model's Monte-Carlo points (γ = 1 is added with a ridge, where
/// the minimum-norm risk has no finite expectation nearby).
pub const ISO_GAMMAS: [f64; 14] = [
    0.1, 0.16, 0.25, 0.4, 0.5, 0.63, 0.8, 1.25, 1.6, 2.0, 2.5, 4.0, 6.3, 10.0,
];
/// Draws per Monte-Carlo point.
pub const ISO_REPS: usize = 40;

/// The digits data set, parsed once.
pub fn digits_data() -> Result<&'static Digits> {
    static DIGITS: OnceLock<std::result::Result<Digits, String>> = OnceLock::new();
    DIGITS
        .get_or_init(|| {
            digits::parse(include_str!("../../../data/digits.csv")).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| crate::error::Error::config("data", e.clone()))
}

/// Mean and standard error per size over the seeds with a finite value there (NaN where none
/// has one; a standard error of 0 from one seed), as the page pools its workers' curves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeanSe {
    pub mean: Vec<f64>,
    pub se: Vec<f64>,
}

impl MeanSe {
    /// Pools `rows` (one curve per seed, in seed order).
    pub fn of<'a>(rows: impl Iterator<Item = &'a [f64]> + Clone, len: usize) -> MeanSe {
        let mut out = MeanSe {
            mean: vec![f64::NAN; len],
            se: vec![f64::NAN; len],
        };
        for i in 0..len {
            let vals: Vec<f64> = rows
                .clone()
                .filter_map(|r| r.get(i).copied())
                .filter(|v| v.is_finite())
                .collect();
            if vals.is_empty() {
                continue;
            }
            let m = vals.iter().fold(0.0, |a, b| a + b) / vals.len() as f64;
            out.mean[i] = m;
            out.se[i] = if vals.len() > 1 {
                let var =
                    vals.iter().fold(0.0, |a, b| a + (b - m).powi(2)) / (vals.len() - 1) as f64;
                (var / vals.len() as f64).sqrt()
            } else {
                0.0
            };
        }
        out
    }
}

/// The sweep's axes, theory and per-seed curves (the page's `pooled.base`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Base {
    pub sweep: Sweep,
    pub ratio: Vec<f64>,
    pub n: Vec<usize>,
    pub p: Vec<usize>,
    pub params: Vec<usize>,
    pub outputs: usize,
    pub threshold_params: usize,
    pub per_seed: Vec<SeedCurves>,
    pub theory: Option<Vec<f64>>,
    pub theory_kernel_limit: Option<f64>,
    pub theory_optimal_ridge: Option<f64>,
    pub ridge: f64,
}

/// The curves pooled over the seeds (the page's `pooled`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pooled {
    pub base: Base,
    pub seeds_done: usize,
    pub seeds: usize,
    pub train: MeanSe,
    pub test: MeanSe,
    pub norm: MeanSe,
    pub test_error: Option<MeanSe>,
}

impl Pooled {
    /// Pools the reports of sessions holding disjoint seeds (in seed order): the axes and the
    /// theory of the first, the per-seed curves of all.
    pub fn of(reports: &[Report]) -> Option<Pooled> {
        let first = reports.first()?;
        let per_seed: Vec<SeedCurves> = reports.iter().flat_map(|r| &r.per_seed).cloned().collect();
        let len = first.ratio.len();
        let pool = |f: fn(&SeedCurves) -> &[f64]| MeanSe::of(per_seed.iter().map(f), len);
        let digits = per_seed.iter().any(|r| r.test_error.is_some());
        Some(Pooled {
            seeds_done: per_seed.len(),
            seeds: reports.iter().map(|r| r.seeds).sum(),
            train: pool(|r| &r.train_mse),
            test: pool(|r| &r.test_mse),
            norm: pool(|r| &r.norm),
            test_error: digits.then(|| {
                MeanSe::of(
                    per_seed
                        .iter()
                        .map(|r| r.test_error.as_deref().unwrap_or(&[])),
                    len,
                )
            }),
            base: Base {
                sweep: first.sweep,
                ratio: first.ratio.clone(),
                n: first.sizes.iter().map(|s| s.n).collect(),
                p: first.sizes.iter().map(|s| s.p).collect(),
                params: first.params.clone(),
                outputs: first.outputs,
                threshold_params: first.threshold_params,
                per_seed,
                theory: first.theory.clone(),
                theory_kernel_limit: first.theory_kernel_limit,
                theory_optimal_ridge: first.theory_optimal_ridge,
                ridge: first.ridge,
            },
        })
    }
}

/// One Monte-Carlo point of the isotropic model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IsoPoint {
    pub index: usize,
    /// p/n of the point (p = round(γn)).
    pub gamma: f64,
    pub mean: f64,
    pub se: f64,
}

/// The isotropic panel: the closed-form curves and the Monte-Carlo points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Isotropic {
    pub curves: IsotropicReport,
    pub points: Vec<IsoPoint>,
}

/// The scene's report: what the page's report export holds for the same settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DoubleDescentReport {
    pub pooled: Pooled,
    pub isotropic: Isotropic,
}

/// The engine configuration the page builds from `settings`: for the digits, at most as many
/// test images as the training set leaves (at least 10), as the page does; with a note when
/// that lowers `nTest`.
pub fn engine_config(settings: &Settings) -> Result<(DoubleDescentConfig, Option<String>)> {
    let mut cfg: DoubleDescentConfig = settings.config()?;
    let mut note = None;
    if cfg.data == DataSource::Digits {
        let extent = match cfg.sweep {
            Sweep::Features => cfg.n_train,
            Sweep::Samples => (10.0 * cfg.n_features as f64).round() as usize,
        };
        let room = digits::ROWS.saturating_sub(extent).max(10);
        if cfg.n_test > room {
            note = Some(format!(
                "nTest lowered from {} to {room}: the digits have {} images and the largest training set takes {extent}.",
                cfg.n_test,
                digits::ROWS
            ));
            cfg.n_test = room;
        }
    }
    Ok((cfg, note))
}

/// Replicate `s` of `config` (seed `seed + s`) as a session of its own, computed.
pub fn seed_report(config: &DoubleDescentConfig, s: usize, memory_limit: u64) -> Result<Report> {
    let digits = match config.data {
        DataSource::Digits => Some(digits_data()?),
        DataSource::Sphere => None,
    };
    let one = DoubleDescentConfig {
        seed: config.seed + s as u64,
        seeds: 1,
        ..config.clone()
    };
    let mut session = Session::with_memory_limit(one, digits, memory_limit)?;
    session.run()?;
    Ok(session.report())
}

/// The random-features sweep of `config`, one session per seed, on `options.threads` threads
/// ([`pool`]), each session's report in seed order. Refuses a sweep over
/// `options.memory_limit` with the engine's estimate.
pub fn seed_reports(
    config: &DoubleDescentConfig,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<Vec<Report>> {
    config.validate(options.memory_limit)?;
    progress.start("seeds", config.seeds as u64);
    Ok(pool(config, options, progress, &[])?.0)
}

/// A seed's place in [`pool`].
struct SeedSlot {
    /// The seed's session (out of the slot while a thread prepares or finishes it).
    session: Option<Box<Session>>,
    /// Its replicate's pieces, once prepared, and the next piece to hand out.
    work: Option<Arc<ReplicateWork>>,
    next: usize,
    /// Pieces run.
    done: usize,
    report: Option<Report>,
}

/// What [`pool`]'s threads share.
struct PoolState {
    seeds: Vec<SeedSlot>,
    /// The next seed to prepare and the next Monte-Carlo point to compute.
    next_seed: usize,
    /// Seeds being prepared.
    preparing: usize,
    next_point: usize,
    points: Vec<Option<IsoPoint>>,
    /// Seeds and points finished.
    finished: usize,
    error: Option<Error>,
    /// A thread panicked: the others stop (the panic then reaches the caller).
    panicked: bool,
}

/// One task of [`pool`].
enum Task {
    /// Features and Grams of seed s.
    Prepare(usize, Box<Session>),
    /// Piece i of seed s.
    Piece(usize, usize, Arc<ReplicateWork>),
    /// Monte-Carlo point i.
    Point(usize),
}

impl PoolState {
    /// The next seed's preparation, its session taken out of its slot.
    fn prepare(&mut self) -> Task {
        let s = self.next_seed;
        self.next_seed += 1;
        self.preparing += 1;
        let session = self.seeds[s]
            .session
            .take()
            .expect("a seed is prepared once");
        Task::Prepare(s, session)
    }

    /// The next task: the next seed's preparation while no seed is being prepared and at most
    /// one has pieces left (so that the next seed's pieces are ready when those run out),
    /// else a piece of the earliest seed that has one left, else the next seed's preparation,
    /// else the next Monte-Carlo point.
    fn pick(&mut self) -> Option<Task> {
        let open = self
            .seeds
            .iter()
            .filter(|slot| slot.work.as_ref().is_some_and(|w| slot.next < w.pieces()))
            .count();
        if self.next_seed < self.seeds.len() && self.preparing == 0 && open <= 1 {
            return Some(self.prepare());
        }
        for (s, slot) in self.seeds.iter_mut().enumerate() {
            if let Some(work) = &slot.work
                && slot.next < work.pieces()
            {
                slot.next += 1;
                return Some(Task::Piece(s, slot.next - 1, Arc::clone(work)));
            }
        }
        if self.next_seed < self.seeds.len() {
            return Some(self.prepare());
        }
        if self.next_point < self.points.len() {
            self.next_point += 1;
            return Some(Task::Point(self.next_point - 1));
        }
        None
    }
}

/// Wakes the other threads of [`pool`] when a thread unwinds from a panic.
struct PanicWake<'a>(&'a Mutex<PoolState>, &'a Condvar);

impl Drop for PanicWake<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(mut state) = self.0.lock() {
                state.panicked = true;
            }
            self.1.notify_all();
        }
    }
}

/// The seeds of `config` (one session each) and the isotropic model's Monte-Carlo points at
/// `gammas` on `options.threads` threads, in finer pieces than a seed: each seed's features
/// and Grams, then its pieces ([`ReplicateWork`]: one reduction per size), which any thread
/// takes, then its errors. A thread prepares the next seed ahead (one at a time, while at most
/// one seed has pieces left), else takes a piece of the earliest seed that has one left, else
/// computes the next point, so that the threads finish together. Every number is the one
/// [`seed_report`] and [`iso_point`] compute (the pieces are independent; only which thread
/// runs one changes). The reports in seed order, the points in index order.
pub fn pool(
    config: &DoubleDescentConfig,
    options: &RunOptions,
    progress: &dyn Progress,
    gammas: &[f64],
) -> Result<(Vec<Report>, Vec<IsoPoint>)> {
    let digits = match config.data {
        DataSource::Digits => Some(digits_data()?),
        DataSource::Sphere => None,
    };
    let seeds = (0..config.seeds)
        .map(|s| {
            let one = DoubleDescentConfig {
                seed: config.seed + s as u64,
                seeds: 1,
                ..config.clone()
            };
            Ok(SeedSlot {
                session: Some(Box::new(Session::with_memory_limit(
                    one,
                    digits,
                    options.memory_limit,
                )?)),
                work: None,
                next: 0,
                done: 0,
                report: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total = seeds.len() + gammas.len();
    let state = Mutex::new(PoolState {
        seeds,
        next_seed: 0,
        preparing: 0,
        next_point: 0,
        points: vec![None; gammas.len()],
        finished: 0,
        error: None,
        panicked: false,
    });
    let wake = Condvar::new();
    let worker = || {
        let _wake = PanicWake(&state, &wake);
        let mut st = state.lock().expect("a pool thread panicked");
        loop {
            if st.error.is_some() || st.panicked || st.finished == total {
                break;
            }
            let Some(task) = st.pick() else {
                st = wake.wait(st).expect("a pool thread panicked");
                continue;
            };
            drop(st);
            let outcome = options.check_cancel().and_then(|()| match task {
                Task::Prepare(s, mut session) => {
                    let work = session.prepare_next()?.expect("a session of one seed");
                    let mut st = state.lock().expect("a pool thread panicked");
                    st.preparing -= 1;
                    st.seeds[s].session = Some(session);
                    st.seeds[s].work = Some(Arc::new(work));
                    Ok(())
                }
                Task::Piece(s, i, work) => {
                    work.run_piece(i);
                    let pieces = work.pieces();
                    drop(work);
                    let mut st = state.lock().expect("a pool thread panicked");
                    let slot = &mut st.seeds[s];
                    slot.done += 1;
                    if slot.done < pieces {
                        return Ok(());
                    }
                    // The last piece: this thread adds the replicate and its errors.
                    let mut session = slot.session.take().expect("a prepared seed");
                    let work = slot.work.take().expect("a prepared seed");
                    drop(st);
                    let work = Arc::into_inner(work).expect("every piece has run");
                    session.finish(work);
                    let report = session.report();
                    progress.inc(1);
                    let mut st = state.lock().expect("a pool thread panicked");
                    st.seeds[s].report = Some(report);
                    st.finished += 1;
                    Ok(())
                }
                Task::Point(i) => {
                    let point = iso_point(config, i, gammas[i])?;
                    progress.inc(1);
                    let mut st = state.lock().expect("a pool thread panicked");
                    st.points[i] = Some(point);
                    st.finished += 1;
                    Ok(())
                }
            });
            st = state.lock().expect("a pool thread panicked");
            if let Err(e) = outcome {
                st.error.get_or_insert(e);
            }
            wake.notify_all();
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..options.threads.clamp(1, total.max(1)) {
            scope.spawn(worker);
        }
    });
    let state = state.into_inner().expect("a pool thread panicked");
    if let Some(e) = state.error {
        return Err(e);
    }
    let reports = state
        .seeds
        .into_iter()
        .map(|slot| slot.report.expect("every seed finished"))
        .collect();
    let points = state
        .points
        .into_iter()
        .map(|p| p.expect("every point finished"))
        .collect();
    Ok((reports, points))
}

/// The γ values of the isotropic model's Monte-Carlo points at `ridge`.
pub fn iso_gammas(ridge: f64) -> Vec<f64> {
    if ridge > 0.0 {
        let mut g = ISO_GAMMAS[..7].to_vec();
        g.push(1.0);
        g.extend_from_slice(&ISO_GAMMAS[7..]);
        g
    } else {
        ISO_GAMMAS.to_vec()
    }
}

/// The isotropic model's closed-form curves at the scene's noise and ridge.
pub fn iso_curves(config: &DoubleDescentConfig) -> Result<IsotropicReport> {
    isotropic_curves(&IsotropicConfig {
        n: ISO_N,
        signal: 1.0,
        noise: config.noise,
        ridge: config.ridge,
        gamma_min: 0.1,
        gamma_max: 10.0,
        points: ISO_POINTS,
    })
}

/// Monte-Carlo point `i` of the isotropic model at γ = `gamma`, seeded as the page seeds it.
pub fn iso_point(config: &DoubleDescentConfig, i: usize, gamma: f64) -> Result<IsoPoint> {
    let p = ((gamma * ISO_N as f64).round() as usize).max(1);
    // The page passes the seed as a 32-bit unsigned integer.
    let seed = (config.seed as u32).wrapping_add(i as u32);
    let e = isotropic_monte_carlo(
        ISO_N,
        p,
        1.0,
        config.noise,
        config.ridge,
        ISO_REPS,
        u64::from(seed),
    )?;
    Ok(IsoPoint {
        index: i,
        gamma: p as f64 / ISO_N as f64,
        mean: e.mean,
        se: e.se,
    })
}

/// The whole report of `config`: the seeds and the isotropic model's Monte-Carlo points on one
/// pool of `options.threads` threads ([`pool`]), the points filling the time the seeds leave
/// a thread idle.
pub fn report(
    config: &DoubleDescentConfig,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<DoubleDescentReport> {
    config.validate(options.memory_limit)?;
    let curves = iso_curves(config)?;
    let gammas = iso_gammas(config.ridge);
    let seeds = config.seeds;
    progress.start(
        "seeds and Monte-Carlo points",
        (seeds + gammas.len()) as u64,
    );
    let (reports, points) = pool(config, options, progress, &gammas)?;
    Ok(DoubleDescentReport {
        pooled: Pooled::of(&reports).expect("at least one seed"),
        isotropic: Isotropic { curves, points },
    })
}

/// The double-descent scene without a page.
pub struct DoubleDescent;

impl Headless for DoubleDescent {
    fn id(&self) -> &'static str {
        "double-descent"
    }

    fn about(&self) -> &'static str {
        "Random-features regression swept over p/n (or n/p): train and test error, the weight \
         norm and the digits' classification error, mean ± standard error over the seeds (on \
         --threads threads), the Mei–Montanari curve, and the isotropic linear model's curves \
         with Monte-Carlo points; CPU only"
    }

    fn run(
        &self,
        settings: &Settings,
        options: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<SceneOutput> {
        let (config, note) = engine_config(settings)?;
        let report = report(&config, options, progress)?;
        let mut notes: Vec<String> = note.into_iter().collect();
        notes.extend(cpu_only_note(
            options,
            "The double-descent scene runs on the CPU (it has no GPU path).",
        ));
        Ok(SceneOutput {
            report: serde_json::to_value(&report).expect("a report serialises"),
            summary: summary(&report.pooled),
            tables: tables(&report),
            figures: figures(&report),
            notes,
            backend: "cpu".into(),
        })
    }
}

/// `v[i]`, NaN where there is none or it is not finite (the ridgeless theory is infinite at
/// p = n: a summary holds numbers a CSV and JSON can write).
fn at(v: &[f64], i: Option<usize>) -> f64 {
    i.and_then(|i| v.get(i).copied())
        .filter(|x| x.is_finite())
        .unwrap_or(f64::NAN)
}

/// The summary: the peak of the mean test error and where it is, the errors at the threshold
/// and at the largest ratio, the theory at the same points (NaN where the page draws none).
pub fn summary(p: &Pooled) -> Vec<(String, f64)> {
    let b = &p.base;
    let peak = (0..b.ratio.len())
        .filter(|&i| p.test.mean[i].is_finite())
        .max_by(|&a, &c| p.test.mean[a].total_cmp(&p.test.mean[c]));
    let threshold =
        (0..b.ratio.len()).min_by(|&a, &c| b.ratio[a].ln().abs().total_cmp(&b.ratio[c].ln().abs()));
    let last = b.ratio.len().checked_sub(1);
    let theory = b.theory.as_deref().unwrap_or(&[]);
    let err = p.test_error.as_ref().map_or(&[][..], |e| &e.mean[..]);
    let rows = [
        ("peakTestMse", at(&p.test.mean, peak)),
        ("peakTestMseSe", at(&p.test.se, peak)),
        ("peakRatio", at(&b.ratio, peak)),
        ("theoryAtPeak", at(theory, peak)),
        ("thresholdTestMse", at(&p.test.mean, threshold)),
        ("thresholdNorm", at(&p.norm.mean, threshold)),
        ("maxRatio", at(&b.ratio, last)),
        ("testMseAtMaxRatio", at(&p.test.mean, last)),
        ("trainMseAtMaxRatio", at(&p.train.mean, last)),
        ("theoryAtMaxRatio", at(theory, last)),
        ("testErrorAtMaxRatio", at(err, last)),
        (
            "theoryOptimalRidge",
            b.theory_optimal_ridge.unwrap_or(f64::NAN),
        ),
        ("seeds", p.seeds_done as f64),
    ];
    rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn ratio_label(sweep: Sweep) -> &'static str {
    match sweep {
        Sweep::Features => "p/n",
        Sweep::Samples => "n/p",
    }
}

fn opt(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// One table per panel: `curve` (errors and theory per size), `norm`, `class` (digits), `seeds`
/// (every seed's curves), `iso` (the closed forms) and `iso-mc` (the Monte-Carlo points).
pub fn tables(r: &DoubleDescentReport) -> Vec<Table> {
    let p = &r.pooled;
    let b = &p.base;
    let s = b.ratio.len();
    let theory = b.theory.as_deref();
    let size_cols = |extra: &[&str]| -> Vec<String> {
        ["ratio", "n", "p", "params"]
            .iter()
            .chain(extra)
            .map(|c| c.to_string())
            .collect()
    };
    let size_cells = |i: usize| -> Vec<Cell> {
        vec![
            b.ratio[i].into(),
            b.n[i].into(),
            b.p[i].into(),
            b.params[i].into(),
        ]
    };
    let mut tables = vec![
        Table {
            name: "curve".into(),
            columns: size_cols(&["testMean", "testSe", "trainMean", "trainSe", "theory"]),
            rows: (0..s)
                .map(|i| {
                    let mut row = size_cells(i);
                    row.extend([
                        p.test.mean[i].into(),
                        p.test.se[i].into(),
                        p.train.mean[i].into(),
                        p.train.se[i].into(),
                        theory.map_or(f64::NAN, |t| t[i]).into(),
                    ]);
                    row
                })
                .collect(),
        },
        Table {
            name: "norm".into(),
            columns: size_cols(&["normMean", "normSe"]),
            rows: (0..s)
                .map(|i| {
                    let mut row = size_cells(i);
                    row.extend([p.norm.mean[i].into(), p.norm.se[i].into()]);
                    row
                })
                .collect(),
        },
    ];
    if let Some(e) = &p.test_error {
        tables.push(Table {
            name: "class".into(),
            columns: size_cols(&["testErrorMean", "testErrorSe"]),
            rows: (0..s)
                .map(|i| {
                    let mut row = size_cells(i);
                    row.extend([e.mean[i].into(), e.se[i].into()]);
                    row
                })
                .collect(),
        });
    }
    tables.push(Table {
        name: "seeds".into(),
        columns: [
            "seed",
            "ratio",
            "n",
            "p",
            "trainMse",
            "testMse",
            "norm",
            "testError",
        ]
        .map(String::from)
        .to_vec(),
        rows: b
            .per_seed
            .iter()
            .flat_map(|row| {
                (0..s).map(move |i| {
                    vec![
                        (row.seed as f64).into(),
                        b.ratio[i].into(),
                        b.n[i].into(),
                        b.p[i].into(),
                        row.train_mse[i].into(),
                        row.test_mse[i].into(),
                        row.norm[i].into(),
                        row.test_error.as_ref().map_or(f64::NAN, |e| e[i]).into(),
                    ]
                })
            })
            .collect(),
    });
    let c = &r.isotropic.curves;
    tables.push(Table {
        name: "iso".into(),
        columns: [
            "gamma",
            "minNorm",
            "minNormFiniteN",
            "ridge",
            "optimalRidge",
        ]
        .map(String::from)
        .to_vec(),
        rows: (0..c.gamma.len())
            .map(|i| {
                vec![
                    c.gamma[i].into(),
                    opt(c.min_norm[i]).into(),
                    opt(c.min_norm_finite_n[i]).into(),
                    opt(c.ridge[i]).into(),
                    opt(c.optimal_ridge[i]).into(),
                ]
            })
            .collect(),
    });
    tables.push(Table {
        name: "iso-mc".into(),
        columns: ["gamma", "mean", "se"].map(String::from).to_vec(),
        rows: r
            .isotropic
            .points
            .iter()
            .map(|pt| vec![pt.gamma.into(), pt.mean.into(), pt.se.into()])
            .collect(),
    });
    tables
}

/// Values more than 10⁵ below the largest are left off a log axis (the train error past the
/// threshold is zero up to rounding), as the page's plot does.
fn floor_ratio(v: &[f64]) -> Vec<f64> {
    let top = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    v.iter()
        .map(|&x| {
            if x > 0.0 && x >= top * 1e-5 {
                x
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// One figure per panel: `curve`, `norm`, `class` (digits) against the ratio on a log axis
/// with p = n marked, and `iso` against γ.
pub fn figures(r: &DoubleDescentReport) -> Vec<Figure> {
    let p = &r.pooled;
    let b = &p.base;
    let x_label = ratio_label(b.sweep);
    let threshold = vec![(1.0, "p = n".to_string())];
    let band = |label: &str, m: &MeanSe, style: Style| Series {
        label: label.into(),
        x: b.ratio.clone(),
        y: m.mean.clone(),
        err: Some(m.se.clone()),
        style,
    };
    let all: Vec<f64> = p.test.mean.iter().chain(&p.train.mean).copied().collect();
    let floored = floor_ratio(&all);
    let s = b.ratio.len();
    let mut curve = LinePlot {
        name: "curve".into(),
        title: "Random features: test and train error".into(),
        x_label: x_label.into(),
        y_label: "mean squared error".into(),
        x_log: true,
        y_log: true,
        x_marks: threshold.clone(),
        series: vec![
            Series {
                y: floored[..s].to_vec(),
                ..band("test (mean ± s.e.)", &p.test, Style::Line)
            },
            Series {
                label: "train".into(),
                x: b.ratio.clone(),
                y: floored[s..].to_vec(),
                err: None,
                style: Style::Points,
            },
        ],
        ..LinePlot::default()
    };
    if let Some(t) = &b.theory {
        curve.series.push(Series {
            label: "Mei–Montanari theory".into(),
            x: b.ratio.clone(),
            y: t.clone(),
            err: None,
            style: Style::Dashed,
        });
    }
    if let (Some(k), Sweep::Features) = (b.theory_kernel_limit, b.sweep)
        && k.is_finite()
    {
        curve.y_marks.push((k, "kernel limit p → ∞".into()));
    }
    let mut figures = vec![
        Figure::Lines(curve),
        Figure::Lines(LinePlot {
            name: "norm".into(),
            title: "Size of the fitted weights".into(),
            x_label: x_label.into(),
            y_label: "‖a‖".into(),
            x_log: true,
            y_log: true,
            x_marks: threshold.clone(),
            series: vec![band("‖a‖ (mean ± s.e.)", &p.norm, Style::Line)],
            ..LinePlot::default()
        }),
    ];
    if let Some(e) = &p.test_error {
        figures.push(Figure::Lines(LinePlot {
            name: "class".into(),
            title: "Digits: classification error".into(),
            x_label: x_label.into(),
            y_label: "test classification error".into(),
            x_log: true,
            x_marks: threshold,
            series: vec![band("misclassified (mean ± s.e.)", e, Style::Line)],
            ..LinePlot::default()
        }));
    }
    let c = &r.isotropic.curves;
    let line = |label: &str, v: &[Option<f64>], style| Series {
        label: label.into(),
        x: c.gamma.clone(),
        y: v.iter().map(|&x| opt(x)).collect(),
        err: None,
        style,
    };
    let mut iso = vec![
        line("min-norm, n → ∞", &c.min_norm, Style::Line),
        line(
            &format!("min-norm, exact at n = {ISO_N}"),
            &c.min_norm_finite_n,
            Style::Dashed,
        ),
    ];
    if p.base.ridge > 0.0 {
        iso.push(line("ridge λ", &c.ridge, Style::Line));
    }
    iso.push(line("optimal ridge", &c.optimal_ridge, Style::Dashed));
    let pts = &r.isotropic.points;
    iso.push(Series {
        label: "Monte Carlo (± s.e.)".into(),
        x: pts.iter().map(|q| q.gamma).collect(),
        y: pts.iter().map(|q| q.mean).collect(),
        err: Some(pts.iter().map(|q| q.se).collect()),
        style: Style::Points,
    });
    figures.push(Figure::Lines(LinePlot {
        name: "iso".into(),
        title: "The isotropic linear model".into(),
        x_label: "γ = p/n".into(),
        y_label: "excess test risk".into(),
        x_log: true,
        y_log: true,
        x_marks: vec![(1.0, "γ = 1".into())],
        y_marks: vec![(c.null_risk, "null risk r²".into())],
        series: iso,
        ..LinePlot::default()
    }));
    figures
}

#[cfg(test)]
mod tests {
    /// The isotropic panel's constants are the page's.
    #[test]
    fn the_isotropic_constants_are_the_pages() {
        let js = include_str!("../../../www/js/scenes/double-descent/page.js");
        let value = |name: &str| {
            let at = js.find(&format!("const {name} = ")).expect(name);
            let rest = &js[at + name.len() + 9..];
            rest[..rest.find(';').unwrap()].trim().to_string()
        };
        assert_eq!(value("ISO_N"), super::ISO_N.to_string());
        assert_eq!(value("ISO_REPS"), super::ISO_REPS.to_string());
        // The page's test points are the table's default.
        let n_test = crate::scenes::double_descent::DoubleDescentConfig::default().n_test;
        assert_eq!(value("N_TEST"), n_test.to_string());
        let gammas: Vec<f64> = value("ISO_GAMMAS")
            .trim_matches(['[', ']'])
            .split(',')
            .map(|g| g.trim().parse().unwrap())
            .collect();
        assert_eq!(gammas, super::ISO_GAMMAS);
        assert!(js.contains(&format!("points: {}", super::ISO_POINTS)));
    }
}
