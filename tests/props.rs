//! Property tests of every scene's settings, natively: any settings, across and beyond their
//! accepted ranges, either validate or are refused naming one of the scene's settings; and a
//! run that validates takes a few steps without a panic and reports finite numbers, or says
//! "diverged at step k".
//!
//! Three ways in, as the page, the command line and a share link hand settings over:
//! - **Typed configurations.** A cheap valid configuration of the scene with up to three of its
//!   settings moved anywhere their type allows: the ends of the range and just past them, zero,
//!   huge values, and NaN and ±∞ for real numbers. A value the settings table refuses must be
//!   refused naming a moved setting; otherwise the scene is built and stepped when its estimated
//!   cost is under a cap of a few tens of milliseconds (above it, only validated), then a live
//!   setting (step size, ridge, noise) is moved the same way and the run stepped again.
//! - **Near the top of every size setting**: validated only; refused with the estimate (memory
//!   or time) naming a setting the cost grows with, unless it fits.
//! - **`key=value` arguments** (strict: refused naming the key) and **share links** (lenient:
//!   clamped into range, with a note naming the key); what they accept reads into the scene's
//!   configuration with the same values.
//!
//! Cases per property (each from a fixed seed, so every run draws the same cases; no failure
//! files are written, a failure prints its shrunk case; `SCALE=n` multiplies every count):
//! - built and stepped: Playground 256, Lazy or rich 128, Double descent 192, Step size 128,
//!   Weak labels 192, trained-networks sweep 128, phase diagram 96. A case builds data, a
//!   network and its kernels and steps it a few times, at most a few tens of milliseconds at
//!   the caps below; many cases are refused before anything is built;
//! - size refusals: 128 per scene, 7 scenes (validation only, microseconds each);
//! - `key=value`: 256 per settings table (7 tables); links: 512 (parsing only).
//!
//! Measured on a 2-core machine (`profile.test` is opt-level 2): the whole file (16
//! properties, 4,320 cases, and one test of the finite walk) runs in 2.7 s within `cargo test`,
//! and in 10.5 s (3.7 s of CPU) while other builds kept both cores busy; with `SCALE=6`, 64 s.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::sample::{Index, select, subsequence};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use descent::cli::{Settings, apply_pairs, link};
use descent::data::{DatasetKind, TableOptions, digits, parse_table};
use descent::error::{Error, human_bytes};
use descent::nn::momentum::{MAX_MOMENTUM, MAX_WEIGHT_DECAY};
use descent::nn::{Activation, Loss, Parametrization};
use descent::scenes::double_descent::trained::{self, TrainedSweep, TrainedSweepConfig};
use descent::scenes::double_descent::{
    self, DataSource as DdData, DoubleDescent, DoubleDescentConfig, FeatureMap, Sweep, Teacher,
};
use descent::scenes::lazy::{self, LazyConfig, LazyReport, LazyRich};
use descent::scenes::playground::{self, Playground};
use descent::scenes::step_size::{
    self, PhaseAxis, PhaseConfig, PhaseDiagram, PhaseSettings, StepSize, StepSizeConfig,
    StepSizeReport, catapult_flops, track_flops,
};
use descent::scenes::weak_labels::{self, Learner, WeakConfig, WeakData, WeakLabels, WeakReport};
use descent::session::budget::{
    DOUBLE_DESCENT_MEMORY, LAZY_SETUP_FLOPS, PLAYGROUND_MEMORY, TRAINED_SWEEP_MEMORY,
    TRAINED_SWEEP_WORK,
};
use descent::session::fields::{Field, fields_of};
use descent::session::net::{DataSettings, InitSettings, NetSettings};
use descent::session::run::{DataSource, Report, RunConfig};
use descent::session::settings::{Kind, SceneSpec, Setting};

// ---------------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------------

/// Runs `test` on `cases` values of `strategy` from a fixed seed, without failure files; panics
/// with the shrunk case on failure.
fn check<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let config = Config {
        cases: cases * std::env::var("SCALE").map_or(1, |v| v.parse::<u32>().unwrap()),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// How the cases of a property ended, to check that it exercised what it is about.
#[derive(Default)]
struct Tally {
    stepped: AtomicUsize,
    validated: AtomicUsize,
    refused: AtomicUsize,
}

impl Tally {
    fn count(&self, what: &AtomicUsize) {
        what.fetch_add(1, Ordering::Relaxed);
    }

    fn get(what: &AtomicUsize) -> usize {
        what.load(Ordering::Relaxed)
    }

    /// Asserts that at least `stepped` cases were built and stepped and `refused` refused.
    fn at_least(&self, scene: &str, stepped: usize, refused: usize) {
        let (s, v, r) = (
            Self::get(&self.stepped),
            Self::get(&self.validated),
            Self::get(&self.refused),
        );
        println!("{scene}: {s} stepped, {v} validated only, {r} refused");
        assert!(s >= stepped, "{scene}: only {s} cases stepped");
        assert!(r >= refused, "{scene}: only {r} cases refused");
    }
}

// ---------------------------------------------------------------------------------------------
// Finite numbers
// ---------------------------------------------------------------------------------------------

/// Every non-finite number anywhere in a report, found by serialising it: JSON would write NaN
/// and ±∞ as `null`, indistinguishable from a value the engine leaves out on purpose (`None`),
/// so the walk sees the numbers themselves.
mod finite {
    use serde::ser::{self, Serialize};
    use std::fmt;

    /// The non-finite numbers of `value`, each as "path = value".
    pub fn non_finite<T: Serialize + ?Sized>(value: &T) -> Vec<String> {
        let mut walk = Walk::default();
        value
            .serialize(&mut walk)
            .expect("a report serialises without error");
        walk.bad
    }

    #[derive(Debug)]
    pub struct Failed(String);

    impl fmt::Display for Failed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Failed {}

    impl ser::Error for Failed {
        fn custom<T: fmt::Display>(msg: T) -> Self {
            Failed(msg.to_string())
        }
    }

    type Done = Result<(), Failed>;

    #[derive(Default)]
    pub struct Walk {
        path: Vec<String>,
        bad: Vec<String>,
    }

    impl Walk {
        fn number(&mut self, x: f64) -> Done {
            if !x.is_finite() {
                self.bad.push(format!("{} = {x}", self.path.concat()));
            }
            Ok(())
        }

        fn at<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Done {
            self.path.push(key);
            let done = value.serialize(&mut *self);
            self.path.pop();
            done
        }
    }

    /// A sequence, tuple or map being walked: its next index.
    pub struct Items<'a> {
        walk: &'a mut Walk,
        next: usize,
    }

    impl Items<'_> {
        fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
            let i = self.next;
            self.next += 1;
            self.walk.at(format!("[{i}]"), value)
        }
    }

    macro_rules! ignored {
        ($($method:ident: $t:ty),*) => {
            $(fn $method(self, _: $t) -> Done {
                Ok(())
            })*
        };
    }

    impl<'a> ser::Serializer for &'a mut Walk {
        type Ok = ();
        type Error = Failed;
        type SerializeSeq = Items<'a>;
        type SerializeTuple = Items<'a>;
        type SerializeTupleStruct = Items<'a>;
        type SerializeTupleVariant = Items<'a>;
        type SerializeMap = Items<'a>;
        type SerializeStruct = &'a mut Walk;
        type SerializeStructVariant = &'a mut Walk;

        ignored!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
            serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_char: char, serialize_str: &str,
            serialize_bytes: &[u8], serialize_unit_struct: &'static str);

        fn serialize_f32(self, v: f32) -> Done {
            self.number(v as f64)
        }
        fn serialize_f64(self, v: f64) -> Done {
            self.number(v)
        }
        fn serialize_none(self) -> Done {
            Ok(())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Done {
            v.serialize(self)
        }
        fn serialize_unit(self) -> Done {
            Ok(())
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Done {
            Ok(())
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Done {
            v.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            v: &T,
        ) -> Done {
            self.at(format!(".{variant}"), v)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Items<'a>, Failed> {
            Ok(Items {
                walk: self,
                next: 0,
            })
        }
        fn serialize_tuple(self, _: usize) -> Result<Items<'a>, Failed> {
            self.serialize_seq(None)
        }
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Items<'a>, Failed> {
            self.serialize_seq(None)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Items<'a>, Failed> {
            self.serialize_seq(None)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Items<'a>, Failed> {
            self.serialize_seq(None)
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Failed> {
            Ok(self)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self, Failed> {
            Ok(self)
        }
    }

    impl ser::SerializeSeq for Items<'_> {
        type Ok = ();
        type Error = Failed;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
            self.item(v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }

    impl ser::SerializeTuple for Items<'_> {
        type Ok = ();
        type Error = Failed;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
            self.item(v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }

    impl ser::SerializeTupleStruct for Items<'_> {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
            self.item(v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }

    impl ser::SerializeTupleVariant for Items<'_> {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
            self.item(v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }

    impl ser::SerializeMap for Items<'_> {
        type Ok = ();
        type Error = Failed;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Done {
            Ok(())
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Done {
            self.item(v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }

    impl ser::SerializeStruct for &mut Walk {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Done {
            self.at(format!(".{key}"), v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }

    impl ser::SerializeStructVariant for &mut Walk {
        type Ok = ();
        type Error = Failed;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Done {
            self.at(format!(".{key}"), v)
        }
        fn end(self) -> Done {
            Ok(())
        }
    }
}

use finite::non_finite;

/// Fails unless every number of `report` is finite.
fn all_finite<T: Serialize>(what: &str, report: &T) -> Result<(), TestCaseError> {
    let bad = non_finite(report);
    prop_assert!(bad.is_empty(), "{what} reports non-finite numbers: {bad:?}");
    Ok(())
}

/// Fails unless every value of `v` is finite.
fn finite_values(what: &str, v: &[f32]) -> Result<(), TestCaseError> {
    let bad = v.iter().position(|x| !x.is_finite());
    prop_assert!(bad.is_none(), "{what}: value {bad:?} is not finite");
    Ok(())
}

#[test]
fn the_finite_walk_finds_what_json_would_hide() {
    #[derive(Serialize)]
    struct Inner {
        a: Vec<Option<f64>>,
        b: (f32, f64),
    }
    #[derive(Serialize)]
    struct Outer {
        x: f64,
        inner: Option<Inner>,
        map: BTreeMap<String, f64>,
    }
    let v = Outer {
        x: 1.0,
        inner: Some(Inner {
            a: vec![Some(0.5), None, Some(f64::NAN)],
            b: (f32::INFINITY, 2.0),
        }),
        map: BTreeMap::from([("k".to_string(), f64::NEG_INFINITY)]),
    };
    assert_eq!(
        non_finite(&v),
        [".inner.a[2] = NaN", ".inner.b[0] = inf", ".map[0] = -inf"]
    );
    // JSON writes all three as null, like the None beside them.
    let j = serde_json::to_value(&v).unwrap();
    assert!(j["inner"]["a"][1].is_null() && j["inner"]["a"][2].is_null());
    let fine = Outer {
        x: 0.0,
        inner: None,
        map: BTreeMap::new(),
    };
    assert!(non_finite(&fine).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Moving settings
// ---------------------------------------------------------------------------------------------

/// A value for a setting, of any kind.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Num(f64),
    Flag(bool),
    Name(String),
}

impl Val {
    fn field(&self) -> Field {
        match self {
            Val::Num(x) => Field::Num(*x),
            Val::Flag(b) => Field::Bool(*b),
            Val::Name(s) => Field::Str(s.clone()),
        }
    }
}

/// Log-uniform in `[lo, hi]` (both > 0).
fn log_uniform(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    (lo.ln()..=hi.ln())
        .prop_map(move |l| l.exp().clamp(lo, hi))
        .boxed()
}

/// Any value a setting's type can hold, weighted towards its range: inside it (uniformly, and
/// log-uniformly), at its ends, just past them, zero, huge, and non-finite for reals.
fn wild(s: &Setting) -> BoxedStrategy<Val> {
    let (lo, hi) = (s.min, s.max);
    match &s.kind {
        Kind::Bool => any::<bool>().prop_map(Val::Flag).boxed(),
        Kind::Choice { options } => {
            let names: Vec<String> = options.iter().map(|o| o.value.clone()).collect();
            select(names).prop_map(Val::Name).boxed()
        }
        Kind::Int => prop_oneof![
            2 => (lo as u64..=hi as u64).prop_map(|v| v as f64),
            2 => log_uniform(lo.max(1.0), hi).prop_map(f64::round),
            3 => select(vec![
                lo,
                hi,
                0.0,
                1.0,
                (lo - 1.0).max(0.0),
                hi + 1.0,
                2.0 * hi,
                1e7,
                1e12,
                u32::MAX as f64 + 1.0,
            ]),
        ]
        .prop_map(Val::Num)
        .boxed(),
        Kind::Float => {
            let inside = if lo > 0.0 {
                log_uniform(lo, hi)
            } else {
                prop_oneof![(lo..=hi), log_uniform(hi * 1e-9, hi)].boxed()
            };
            prop_oneof![
                1 => inside,
                1 => select(vec![
                    lo,
                    hi,
                    0.0,
                    -0.0,
                    -1.0,
                    lo - 1e-3 * (hi - lo),
                    hi + 1e-3 * (hi - lo),
                    10.0 * hi,
                    1e300,
                    -1e300,
                    f64::MIN_POSITIVE,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                ]),
            ]
            .prop_map(Val::Num)
            .boxed()
        }
    }
}

/// Up to three distinct settings of `spec` among `names` (none in one case of seven), each
/// with a [`wild`] value.
fn moves(spec: &SceneSpec, names: &[&str]) -> BoxedStrategy<Vec<(&'static str, Val)>> {
    let rows: Vec<Setting> = spec
        .settings
        .iter()
        .filter(|s| names.contains(&s.name))
        .cloned()
        .collect();
    prop_oneof![1 => Just(0usize), 2 => Just(1), 2 => Just(2), 2 => Just(3)]
        .prop_flat_map(move |k| subsequence(rows.clone(), k))
        .prop_flat_map(|rows| {
            rows.iter()
                .map(|s| {
                    let name = s.name;
                    wild(s).prop_map(move |v| (name, v)).boxed()
                })
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// The real-valued fields of a configuration by setting name (NaN and ±∞ cannot travel through
/// JSON, so they are set in place).
type Floats<C> = for<'a> fn(&'a mut C, &str) -> Option<&'a mut f64>;

fn data_floats<'a>(d: &'a mut DataSettings, name: &str) -> Option<&'a mut f64> {
    match name {
        "noise" => Some(&mut d.noise),
        "labelNoise" => Some(&mut d.label_noise),
        _ => None,
    }
}

fn init_floats<'a>(i: &'a mut InitSettings, name: &str) -> Option<&'a mut f64> {
    match name {
        "sigmaW" => Some(&mut i.sigma_w),
        "sigmaB" => Some(&mut i.sigma_b),
        "initScale" => Some(&mut i.init_scale),
        _ => None,
    }
}

fn run_floats<'a>(c: &'a mut RunConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "lr" => Some(&mut c.lr),
        "alpha" => Some(&mut c.alpha),
        "momentum" => Some(&mut c.momentum),
        "weightDecay" => Some(&mut c.weight_decay),
        "testShare" => Some(&mut c.test_share),
        "noise" | "labelNoise" => data_floats(&mut c.data, name),
        _ => init_floats(&mut c.net.init, name),
    }
}

fn lazy_floats<'a>(c: &'a mut LazyConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "ridge" => Some(&mut c.ridge),
        _ => run_floats(&mut c.run, name),
    }
}

fn step_floats<'a>(c: &'a mut StepSizeConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "lrMultiple" => Some(&mut c.lr_multiple),
        "lr" => Some(c.lr.insert(0.0)),
        "momentum" => Some(&mut c.momentum),
        "weightDecay" => Some(&mut c.weight_decay),
        "noise" | "labelNoise" => data_floats(&mut c.data, name),
        _ => init_floats(&mut c.net.init, name),
    }
}

fn dd_floats<'a>(c: &'a mut DoubleDescentConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "signal" => Some(&mut c.signal),
        "nonlinear" => Some(&mut c.nonlinear),
        "noise" => Some(&mut c.noise),
        "ridge" => Some(&mut c.ridge),
        "ratioMin" => Some(&mut c.ratio_min),
        "ratioMax" => Some(&mut c.ratio_max),
        _ => None,
    }
}

fn weak_floats<'a>(c: &'a mut WeakConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "concentration" => Some(&mut c.concentration),
        "purified" => Some(&mut c.purified),
        "noise" => Some(&mut c.noise),
        "lr" => Some(&mut c.lr),
        "initScale" => Some(&mut c.init_scale),
        "testShare" => Some(&mut c.test_share),
        _ => None,
    }
}

fn trained_floats<'a>(c: &'a mut TrainedSweepConfig, name: &str) -> Option<&'a mut f64> {
    match name {
        "signal" => Some(&mut c.signal),
        "nonlinear" => Some(&mut c.nonlinear),
        "noise" => Some(&mut c.noise),
        "ratioMin" => Some(&mut c.ratio_min),
        "ratioMax" => Some(&mut c.ratio_max),
        "lr" => Some(&mut c.lr),
        _ => init_floats(&mut c.init, name),
    }
}

fn phase_floats<'a>(c: &'a mut PhaseSettings, name: &str) -> Option<&'a mut f64> {
    match name {
        "yMin" => Some(&mut c.y_min),
        "yMax" => Some(&mut c.y_max),
        "lrMultiple" => Some(&mut c.lr_multiple),
        "noise" | "labelNoise" => data_floats(&mut c.data, name),
        _ => init_floats(&mut c.net.init, name),
    }
}

/// The settings of `spec` that are fields of the configuration `C` (the table may hold more,
/// such as the page's backend), after checking that `floats` reaches every real-valued one.
fn fields<C: Serialize + Default>(spec: &SceneSpec, floats: Floats<C>) -> Vec<&'static str> {
    let mut c = C::default();
    let names: Vec<String> = fields_of(&c).into_iter().map(|(n, _)| n).collect();
    let ours: Vec<&'static str> = spec
        .settings
        .iter()
        .filter(|s| names.iter().any(|n| n == s.name))
        .map(|s| s.name)
        .collect();
    for s in &spec.settings {
        if s.kind == Kind::Float && ours.contains(&s.name) {
            assert!(
                floats(&mut c, s.name).is_some(),
                "{}: no real field `{}`",
                spec.scene,
                s.name
            );
        }
    }
    ours
}

/// Sets `name` of `c` to `v`: reals in place, the rest through JSON (as the page's settings
/// object is read). False when the configuration cannot hold the value (a whole number too
/// large for its type, a negative count).
fn set<C: Serialize + DeserializeOwned>(c: &mut C, name: &str, v: &Val, floats: Floats<C>) -> bool {
    if let Val::Num(x) = v
        && let Some(slot) = floats(c, name)
    {
        *slot = *x;
        return true;
    }
    let mut j = serde_json::to_value(&*c).expect("a configuration serialises");
    let Some(slot) = j.get_mut(name) else {
        return false;
    };
    *slot = match v {
        Val::Num(x) if x.fract() == 0.0 && *x >= 0.0 && *x < 1.8e19 => json!(*x as u64),
        Val::Num(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => json!(*x as i64),
        Val::Num(x) => json!(x),
        Val::Flag(b) => json!(b),
        Val::Name(s) => json!(s),
    };
    match serde_json::from_value(j) {
        Ok(moved) => {
            *c = moved;
            true
        }
        Err(_) => false,
    }
}

/// Whether the settings table refuses `v` for `name` on its own.
fn out_of_range(spec: &SceneSpec, name: &str, v: &Val) -> bool {
    spec.validate(&BTreeMap::from([(name.to_string(), v.field())]))
        .is_err()
}

/// A configuration moved: `c` with `moves` applied (reals last: a non-finite real cannot go
/// through JSON), the moves that took, and the names of those the table refuses.
struct Moved<C> {
    config: C,
    moved: Vec<(&'static str, Val)>,
    out: Vec<&'static str>,
}

fn apply<C: Serialize + DeserializeOwned>(
    spec: &SceneSpec,
    mut c: C,
    moves: Vec<(&'static str, Val)>,
    floats: Floats<C>,
) -> Moved<C> {
    let (reals, others): (Vec<_>, Vec<_>) = moves
        .into_iter()
        .partition(|(n, v)| matches!(v, Val::Num(_)) && floats(&mut c, n).is_some());
    let moved: Vec<(&'static str, Val)> = others
        .into_iter()
        .chain(reals)
        .filter(|(n, v)| set(&mut c, n, v, floats))
        .collect();
    let out = moved
        .iter()
        .filter(|(n, v)| out_of_range(spec, n, v))
        .map(|(n, _)| *n)
        .collect();
    Moved {
        config: c,
        moved,
        out,
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

/// Settings whose accepted range depends on another's: (the other, the setting). Moving the
/// other may get the setting refused, as the phase diagram's largest width below its smallest.
const RELATED: [(&str, &str); 4] = [
    ("widthMin", "widthMax"),
    ("yMin", "yMax"),
    ("axis", "yMin"),
    ("axis", "yMax"),
];

/// A refusal of settings: it names a setting of the scene's table (one that was moved or whose
/// range a moved one sets, when a moved value is outside its range), or says the settings are too large with the estimate,
/// or that the very first outputs overflow ("diverged at step 0"). Nothing else.
fn check_refusal(
    spec: &SceneSpec,
    e: &Error,
    moved: &[(&str, Val)],
    out: &[&str],
) -> Result<(), TestCaseError> {
    let text = e.to_string();
    let scene = spec.scene;
    match e {
        Error::InvalidConfig { field, message } => {
            prop_assert!(
                spec.get(field).is_some(),
                "{scene}: refused naming `{field}`, not one of its settings: {text}"
            );
            prop_assert!(!message.is_empty(), "{scene}: an empty refusal of {field}");
            let named = |n: &str| n == *field || RELATED.contains(&(n, *field));
            prop_assert!(
                out.is_empty() || moved.iter().any(|(n, _)| named(n)),
                "{scene}: {out:?} out of range, yet the refusal names `{field}`: {text}"
            );
        }
        Error::TooLarge {
            bytes,
            limit,
            fixes,
            ..
        } => {
            prop_assert!(
                out.is_empty(),
                "{scene}: {out:?} out of range, refused for size instead: {text}"
            );
            prop_assert!(bytes > limit, "{text}");
            prop_assert!(
                !fixes.is_empty() && fixes.iter().all(|f| spec.get(f).is_some()),
                "{scene}: fixes {fixes:?}"
            );
            prop_assert!(
                text.contains(&format!("would need about {}", human_bytes(*bytes))),
                "{text}"
            );
        }
        Error::Diverged { step } => {
            prop_assert!(
                out.is_empty(),
                "{scene}: {out:?} out of range, yet refused as diverged: {text}"
            );
            prop_assert_eq!(text, format!("diverged at step {step}"));
        }
        _ => prop_assert!(false, "{scene}: refused without naming a setting: {text}"),
    }
    Ok(())
}

/// A configuration the engine accepted: none of its moved values may be out of range.
fn accepted(spec: &SceneSpec, moved: &[(&str, Val)], out: &[&str]) -> Result<(), TestCaseError> {
    prop_assert!(
        out.is_empty(),
        "{}: accepted {out:?} out of range (moves {moved:?})",
        spec.scene
    );
    Ok(())
}

/// A refusal of settings near the top of the sizes: the estimate (bytes, seconds or
/// floating-point operations) in the text, naming one of the settings `sizes` the cost grows
/// with.
fn check_size_refusal(spec: &SceneSpec, e: &Error, sizes: &[&str]) -> Result<(), TestCaseError> {
    let text = e.to_string();
    match e {
        Error::TooLarge { bytes, fixes, .. } => {
            prop_assert!(
                text.contains(&format!("would need about {}", human_bytes(*bytes))),
                "{text}"
            );
            prop_assert!(sizes.contains(&fixes[0]), "{}: {text}", spec.scene);
        }
        Error::InvalidConfig { field, .. } => {
            prop_assert!(sizes.contains(field), "{}: {text}", spec.scene);
            let estimate = text
                .match_indices("about ")
                .any(|(i, m)| text[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()));
            prop_assert!(estimate, "{}: no estimate in {text}", spec.scene);
        }
        _ => prop_assert!(false, "{}: {text}", spec.scene),
    }
    Ok(())
}

/// The step k of a "diverged at step k" in `text`.
fn diverged_step(text: &str) -> Option<u64> {
    let at = text.find("diverged at step ")? + "diverged at step ".len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Shared strategies
// ---------------------------------------------------------------------------------------------

fn seed() -> impl Strategy<Value = u64> {
    0..=u32::MAX as u64
}

fn data(
    kinds: Vec<DatasetKind>,
    n: std::ops::RangeInclusive<usize>,
) -> BoxedStrategy<DataSettings> {
    (select(kinds), n, 0.0..=1.0f64, 0.0..=0.5f64, seed())
        .prop_map(
            |(dataset, n_train, noise, label_noise, seed)| DataSettings {
                dataset,
                n_train,
                noise,
                label_noise,
                seed,
            },
        )
        .boxed()
}

fn init() -> BoxedStrategy<InitSettings> {
    (
        select(Activation::ALL.to_vec()),
        select(Parametrization::ALL.to_vec()),
        0.05..=4.0f64,
        0.0..=4.0f64,
        log_uniform(0.01, 100.0),
        any::<bool>(),
    )
        .prop_map(
            |(activation, parametrization, sigma_w, sigma_b, init_scale, center_output)| {
                InitSettings {
                    activation,
                    parametrization,
                    sigma_w,
                    sigma_b,
                    init_scale,
                    center_output,
                }
            },
        )
        .boxed()
}

fn net(
    width: std::ops::RangeInclusive<usize>,
    depth: std::ops::RangeInclusive<usize>,
) -> BoxedStrategy<NetSettings> {
    (width, depth, init())
        .prop_map(|(width, depth, init)| NetSettings { width, depth, init })
        .boxed()
}

/// No weight decay, or a log-uniform one.
fn weight_decay() -> BoxedStrategy<f64> {
    prop_oneof![Just(0.0), log_uniform(1e-6, MAX_WEIGHT_DECAY)].boxed()
}

/// Ridge 0 (the minimum-norm fit) or log-uniform over the accepted range.
fn ridge() -> BoxedStrategy<f64> {
    prop_oneof![Just(0.0), log_uniform(1e-6, 1e6)].boxed()
}

fn digits() -> &'static DataSource {
    static D: OnceLock<DataSource> = OnceLock::new();
    D.get_or_init(|| DataSource {
        digits: Some(Arc::new(
            digits::parse(include_str!("../data/digits.csv")).unwrap(),
        )),
        table: None,
    })
}

/// A reader's table of `rows` rows and `dim` input columns, its target of `classes` class
/// names (a regression's numbers when 0), drawn from `seed`; held beside the digits.
fn with_table((rows, dim, classes, seed): (usize, usize, usize, u64)) -> DataSource {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut text: String = (1..=dim).map(|j| format!("x{j},")).collect::<String>() + "y\n";
    for i in 0..rows {
        let x: Vec<f64> = (0..dim).map(|_| next()).collect();
        for v in &x {
            text += &format!("{v:.4},");
        }
        text += &match classes {
            0 => format!("{:.4}\n", x.iter().sum::<f64>()),
            k => format!("c{}\n", i % k),
        };
    }
    let table = parse_table(&text, &TableOptions::default()).expect("a well-formed table");
    DataSource {
        digits: digits().digits.clone(),
        table: Some(Arc::new(table)),
    }
}

/// The data a run may need beyond its settings: the digits, and a small table of the
/// reader's (a regression, or two to four classes).
fn source() -> BoxedStrategy<DataSource> {
    (
        3usize..=80,
        1usize..=4,
        prop_oneof![Just(0usize), 2usize..=4],
        seed(),
    )
        .prop_map(with_table)
        .boxed()
}

/// A run's training settings over `kinds` with at most `n` points and networks of `width`
/// and `depth`: every step size the engine takes (so that many runs diverge), full or
/// mini-batch, any α, momentum and weight decay, cross-entropy on sets with classes.
fn run_config(
    kinds: Vec<DatasetKind>,
    n: std::ops::RangeInclusive<usize>,
    width: std::ops::RangeInclusive<usize>,
    depth: std::ops::RangeInclusive<usize>,
) -> BoxedStrategy<RunConfig> {
    let train = (
        log_uniform(1e-5, 1000.0),
        prop_oneof![Just(0usize), 1usize..=64],
        log_uniform(0.01, 100.0),
        0.0..=MAX_MOMENTUM,
        weight_decay(),
        2usize..=6,
        any::<bool>(),
        0.05..=0.9f64,
        any::<bool>(),
    );
    (data(kinds, n), net(width, depth), train)
        .prop_map(
            |(
                data,
                net,
                (lr, batch_size, alpha, momentum, weight_decay, classes, ce, test_share, std),
            )| {
                let mut c = RunConfig {
                    data,
                    net,
                    lr,
                    batch_size,
                    alpha,
                    momentum,
                    weight_decay,
                    classes,
                    test_share,
                    standardize: std,
                    ..RunConfig::default()
                };
                if ce && c.class_count() > 0 {
                    c.loss = Loss::CrossEntropy;
                }
                c
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Playground
// ---------------------------------------------------------------------------------------------

/// Every dataset the Playground trains on without a reader's file.
fn playground_kinds() -> Vec<DatasetKind> {
    DatasetKind::ALL
        .into_iter()
        .chain(DatasetKind::MANY_CLASSES)
        .filter(|k| *k != DatasetKind::Table)
        .collect()
}

/// A live run's report after `asked` steps in all: finite numbers; the step reached, or the
/// step of the divergence (at most `asked`) in a "diverged at step k" message.
fn check_report(r: &Report, asked: u64) -> Result<(), TestCaseError> {
    all_finite("the Playground", r)?;
    match r.diverged {
        None => {
            prop_assert_eq!(r.step, asked);
            prop_assert!(r.message.is_none(), "{:?}", r.message);
        }
        Some(k) => {
            prop_assert!((1..=asked).contains(&k) && r.step <= k, "{r:?}");
            let m = r.message.as_deref().unwrap_or("");
            prop_assert_eq!(diverged_step(m), Some(k), "{}", m);
        }
    }
    prop_assert!(r.train_loss >= 0.0 && r.test_loss >= 0.0, "{r:?}");
    for a in [r.train_acc, r.test_acc].into_iter().flatten() {
        prop_assert!((0.0..=1.0).contains(&a), "accuracy {a}");
    }
    Ok(())
}

/// A run of at most this much work per step (and per point evaluated) is built and stepped.
fn playground_cheap(c: &RunConfig) -> bool {
    c.flops_per_step() <= 3e7
        && c.spec().forward_flops_per_point() <= 1e5
        && c.memory_bytes() <= 64 << 20
}

#[test]
fn playground_settings_validate_or_are_refused_by_name_and_runs_stay_finite() {
    let spec = playground::settings();
    let names = fields(&spec, run_floats);
    // One run in four on the reader's table.
    let base = (
        run_config(playground_kinds(), 4..=64, 1..=32, 1..=3),
        source(),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(mut c, source, table)| {
            if table {
                c.data.dataset = DatasetKind::Table;
            }
            (c, source)
        });
    let live_lr = wild(spec.get("lr").unwrap());
    let tally = Tally::default();
    check(
        "playground",
        256,
        (base, moves(&spec, &names), live_lr),
        |((base, source), moves, lr)| {
            let Moved { config, moved, out } = apply(&spec, base, moves, run_floats);
            let config = config.with_source(&source);
            if out.is_empty() && !playground_cheap(&config) {
                tally.count(&tally.validated);
                return match config.validate(PLAYGROUND_MEMORY) {
                    Ok(()) => Ok(()),
                    Err(e) => check_refusal(&spec, &e, &moved, &out),
                };
            }
            let mut pg = match Playground::with_source(config, &source) {
                Ok(pg) => pg,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            check_report(&pg.advance(2), 2)?;
            check_report(&pg.advance(3), 5)?;
            finite_values("the Playground's grid", &pg.predict_grid())?;
            // The step size moved live: refused by name when out of range, else in force.
            let Val::Num(lr) = lr else { unreachable!() };
            match pg.set_lr(lr) {
                Err(e) => check_refusal(&spec, &e, &[("lr", Val::Num(lr))], &["lr"])?,
                Ok(()) => {
                    prop_assert!(!out_of_range(&spec, "lr", &Val::Num(lr)), "lr {lr}");
                    let before = pg.last_report().clone();
                    let r = pg.advance(2);
                    check_report(&r, if before.diverged.is_some() { 5 } else { 7 })?;
                }
            }
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("playground", 1, 1);
}

#[test]
fn a_playground_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = playground::settings();
    let kinds: Vec<DatasetKind> = DatasetKind::ALL.to_vec();
    let huge = (
        run_config(kinds, 512..=2048, 1024..=4096, 2..=4),
        prop_oneof![Just(0usize), 256usize..=2048],
    )
        .prop_map(|(mut c, batch)| {
            c.batch_size = batch;
            c
        });
    // The page's limit, or a smaller one as `descent run --memory-mib` sets it: even the
    // largest network fits the page's.
    let limit = prop_oneof![
        Just(PLAYGROUND_MEMORY),
        log_uniform(1e6, PLAYGROUND_MEMORY as f64).prop_map(|b| b as u64)
    ];
    let tally = Tally::default();
    check("playground sizes", 128, (huge, limit), |(c, limit)| {
        match c.validate(limit) {
            Ok(()) => {
                tally.count(&tally.validated);
                prop_assert!(c.memory_bytes() <= limit);
            }
            Err(e) => {
                tally.count(&tally.refused);
                check_size_refusal(&spec, &e, &["width", "depth", "nTrain"])?;
            }
        }
        Ok(())
    });
    tally.at_least("playground sizes", 0, 16);
}

// ---------------------------------------------------------------------------------------------
// Lazy or rich
// ---------------------------------------------------------------------------------------------

fn lazy_base() -> BoxedStrategy<LazyConfig> {
    (
        run_config(DatasetKind::ALL.to_vec(), 4..=24, 1..=48, 1..=2),
        ridge(),
    )
        .prop_map(|(mut run, ridge)| {
            // The scene trains full batch on the squared loss only.
            run.batch_size = 0;
            run.loss = Loss::Squared;
            LazyConfig {
                run,
                ridge,
                ensemble: 0,
            }
        })
        .boxed()
}

fn check_lazy(r: &LazyReport, asked: u64) -> Result<(), TestCaseError> {
    all_finite("Lazy or rich", r)?;
    match r.diverged {
        None => {
            prop_assert_eq!(r.step, asked);
            prop_assert!(r.message.is_none(), "{:?}", r.message);
        }
        Some(k) => {
            prop_assert!((1..=asked).contains(&k), "{r:?}");
            let m = r.message.as_deref().unwrap_or("");
            prop_assert_eq!(diverged_step(m), Some(k), "{}", m);
        }
    }
    prop_assert!(r.network.train_loss.is_some(), "{r:?}");
    for fit in [&r.network, &r.linearized, &r.ntk, &r.krr] {
        for l in [fit.train_loss, fit.test_loss].into_iter().flatten() {
            prop_assert!(l >= 0.0, "{r:?}");
        }
        for a in [fit.train_acc, fit.test_acc].into_iter().flatten() {
            prop_assert!((0.0..=1.0).contains(&a), "{r:?}");
        }
    }
    prop_assert!(r.weight_change >= 0.0 && r.kernel_distance >= 0.0, "{r:?}");
    Ok(())
}

#[test]
fn lazy_settings_validate_or_are_refused_by_name_and_runs_stay_finite() {
    let spec = lazy::settings();
    let names = fields(&spec, lazy_floats);
    let live_moves = (
        wild(spec.get("lr").unwrap()),
        wild(spec.get("ridge").unwrap()),
    );
    let tally = Tally::default();
    check(
        "lazy",
        128,
        (lazy_base(), moves(&spec, &names), live_moves),
        |(base, moves, (lr, ridge))| {
            let Moved { config, moved, out } = apply(&spec, base, moves, lazy_floats);
            if out.is_empty() {
                let setup = lazy::setup_flops(&config.run);
                if setup <= LAZY_SETUP_FLOPS && setup > 2e8 {
                    // Accepted at this size but slow to set up: validated only.
                    tally.count(&tally.validated);
                    return match config
                        .run
                        .validate_in_scene(PLAYGROUND_MEMORY, &lazy::scene_defaults())
                    {
                        Ok(()) => Ok(()),
                        Err(e) => check_refusal(&spec, &e, &moved, &out),
                    };
                }
            }
            let mut live = match LazyRich::with_ensemble(config.run, config.ridge, config.ensemble)
            {
                Ok(l) => l,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            let r = live
                .advance(2)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check_lazy(&r, 2)?;
            let r = live
                .advance(2)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check_lazy(&r, 4)?;
            let g = live
                .predict_grid()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for v in [&g.network, &g.linearized, &g.ntk, &g.krr] {
                finite_values("Lazy or rich's grid", v)?;
            }
            let gram = live
                .gram()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            finite_values("the Gram matrix now", &gram.now)?;
            finite_values("the Gram matrix at θ₀", &gram.init)?;
            for e in [&gram.eig_now, &gram.eig_init, &gram.eig_analytic] {
                prop_assert!(e.iter().all(|v| v.is_finite()), "spectrum {e:?}");
            }
            if let Some(p) = live
                .ensemble_picture()
                .map_err(|e| TestCaseError::fail(e.to_string()))?
            {
                for v in [&p.members, &p.mean, &p.sd, &p.band_mean, &p.band_sd] {
                    finite_values("the ensemble's grid", v)?;
                }
            }
            // The ridge and the step size moved live.
            let (Val::Num(ridge), Val::Num(lr)) = (ridge, lr) else {
                unreachable!()
            };
            match live.set_ridge(ridge) {
                Err(e) => check_refusal(&spec, &e, &[("ridge", Val::Num(ridge))], &["ridge"])?,
                Ok(()) => prop_assert!(!out_of_range(&spec, "ridge", &Val::Num(ridge))),
            }
            match live.set_lr(lr) {
                Err(e) => check_refusal(&spec, &e, &[("lr", Val::Num(lr))], &["lr"])?,
                Ok(()) => prop_assert!(!out_of_range(&spec, "lr", &Val::Num(lr))),
            }
            let r = live
                .evaluate()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            all_finite("Lazy or rich", &r)?;
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("lazy", 12, 4);
}

#[test]
fn a_lazy_run_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = lazy::settings();
    let huge =
        run_config(DatasetKind::ALL.to_vec(), 128..=512, 256..=4096, 1..=4).prop_map(|mut c| {
            c.batch_size = 0;
            c.loss = Loss::Squared;
            c
        });
    let tally = Tally::default();
    check("lazy sizes", 128, huge, |c| {
        // The scene's refusals before it builds anything: the set-up time, then the memory.
        let refusal = if lazy::setup_flops(&c) > LAZY_SETUP_FLOPS {
            LazyRich::new(c, 0.0).err()
        } else {
            c.validate_in_scene(PLAYGROUND_MEMORY, &lazy::scene_defaults())
                .err()
        };
        match refusal {
            None => tally.count(&tally.validated),
            Some(e) => {
                tally.count(&tally.refused);
                check_size_refusal(&spec, &e, &["width", "depth", "nTrain"])?;
            }
        }
        Ok(())
    });
    tally.at_least("lazy sizes", 0, 1);
}

// ---------------------------------------------------------------------------------------------
// Double descent
// ---------------------------------------------------------------------------------------------

fn dd_base() -> BoxedStrategy<DoubleDescentConfig> {
    let shape = (
        prop_oneof![4 => Just(DdData::Sphere), 1 => Just(DdData::Digits)],
        select(Sweep::ALL.to_vec()),
        select(FeatureMap::ALL.to_vec()),
        4usize..=40,
        4usize..=40,
        2usize..=16,
        10usize..=64,
    );
    let fit = (
        select(Teacher::ALL.to_vec()),
        0.0..=100.0f64,
        0.0..=100.0f64,
        0.0..=10.0f64,
        ridge(),
        3usize..=9,
        log_uniform(0.01, 1.0),
        log_uniform(1.0, 20.0),
        1usize..=3,
        seed(),
    );
    (shape, fit)
        .prop_map(
            |(
                (data, sweep, features, n_train, n_features, dim, n_test),
                (
                    teacher,
                    signal,
                    nonlinear,
                    noise,
                    ridge,
                    sizes,
                    ratio_min,
                    ratio_max,
                    seeds,
                    seed,
                ),
            )| DoubleDescentConfig {
                data,
                sweep,
                features,
                n_train,
                n_features,
                dim,
                n_test,
                teacher,
                signal,
                nonlinear,
                noise,
                ridge,
                sizes,
                ratio_min,
                ratio_max,
                seeds,
                seed,
            },
        )
        .boxed()
}

/// The work of one replicate, roughly: features and the reductions of every size.
fn dd_work(c: &DoubleDescentConfig) -> f64 {
    let grid = c.grid();
    let n = grid.iter().map(|s| s.n).max().unwrap_or(0) as f64;
    let p = grid.iter().map(|s| s.p).max().unwrap_or(0) as f64;
    let reductions: f64 = grid.iter().map(|s| (s.factor_dim() as f64).powi(3)).sum();
    (n + c.n_test as f64) * c.input_dim() as f64 * p + n * n * p + reductions
}

/// A double-descent report: finite numbers, but for the asymptotic risk of the ridgeless fit
/// at the interpolation threshold p = n itself, which is +∞ (the peak of the theory curve).
fn check_dd(r: &double_descent::Report) -> Result<(), TestCaseError> {
    if let Some(theory) = &r.theory {
        for (size, risk) in r.sizes.iter().zip(theory) {
            let peak = r.ridge == 0.0 && size.n == size.p;
            prop_assert!(
                risk.is_finite() || (peak && *risk == f64::INFINITY),
                "theory at {size:?}, ridge {}: {risk}",
                r.ridge
            );
        }
    }
    let rest = double_descent::Report {
        theory: None,
        ..r.clone()
    };
    all_finite("double descent", &rest)
}

#[test]
fn double_descent_settings_validate_or_are_refused_by_name_and_sweeps_stay_finite() {
    let spec = double_descent::settings();
    let names = fields(&spec, dd_floats);
    let live = (
        wild(spec.get("ridge").unwrap()),
        wild(spec.get("noise").unwrap()),
        wild(spec.get("seeds").unwrap()),
    );
    let digits = digits().digits.as_deref();
    let tally = Tally::default();
    check(
        "double descent",
        192,
        (dd_base(), moves(&spec, &names), live),
        |(base, moves, (ridge, noise, seeds))| {
            let Moved {
                config,
                moved,
                mut out,
            } = apply(&spec, base, moves, dd_floats);
            if config.data == DdData::Digits {
                // The digits have their own dimension: `dim` is not read.
                out.retain(|n| *n != "dim");
            }
            let mut dd = match DoubleDescent::new(config, digits) {
                Ok(dd) => dd,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            if dd_work(dd.config()) > 3e7 {
                tally.count(&tally.validated);
                return Ok(());
            }
            let r = dd.report();
            check_dd(&r)?;
            prop_assert_eq!(r.seeds_done, 0);
            let done = dd
                .advance()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let r = dd.report();
            check_dd(&r)?;
            prop_assert_eq!(r.seeds_done, 1);
            prop_assert_eq!(done, dd.config().seeds == 1);
            for stat in [&r.train_mse, &r.test_mse, &r.norm] {
                prop_assert_eq!(stat.mean.len(), r.sizes.len());
                prop_assert!(stat.mean.iter().all(|v| *v >= 0.0), "{stat:?}");
            }
            // Ridge, noise and seeds moved live: refused by name when out of range.
            let (Val::Num(ridge), Val::Num(noise), Val::Num(seeds)) = (ridge, noise, seeds) else {
                unreachable!()
            };
            match dd.set_ridge(ridge) {
                Err(e) => check_refusal(&spec, &e, &[("ridge", Val::Num(ridge))], &["ridge"])?,
                Ok(()) => prop_assert!(!out_of_range(&spec, "ridge", &Val::Num(ridge))),
            }
            match dd.set_noise(noise) {
                Err(e) => check_refusal(&spec, &e, &[("noise", Val::Num(noise))], &["noise"])?,
                Ok(()) => prop_assert!(!out_of_range(&spec, "noise", &Val::Num(noise))),
            }
            if seeds <= 1e6 {
                let s = Val::Num(seeds);
                match dd.set_seeds(seeds as usize) {
                    Err(e) => check_refusal(&spec, &e, &[("seeds", s.clone())], &["seeds"])?,
                    Ok(()) => prop_assert!(!out_of_range(&spec, "seeds", &s)),
                }
            }
            check_dd(&dd.report())?;
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("double descent", 16, 8);
}

#[test]
fn a_double_descent_sweep_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = double_descent::settings();
    let huge = (
        dd_base(),
        500usize..=1000,
        500usize..=1000,
        1000usize..=5000,
        5usize..=20,
        log_uniform(5.0, 20.0),
        41usize..=101,
    )
        .prop_map(|(mut c, n, p, t, seeds, ratio_max, sizes)| {
            c.data = DdData::Sphere;
            (c.n_train, c.n_features, c.n_test) = (n, p, t);
            (c.seeds, c.ratio_max, c.sizes) = (seeds, ratio_max, sizes);
            c
        });
    let tally = Tally::default();
    check("double descent sizes", 128, huge, |c| {
        match c.validate(DOUBLE_DESCENT_MEMORY) {
            Ok(()) => tally.count(&tally.validated),
            Err(e) => {
                tally.count(&tally.refused);
                check_size_refusal(
                    &spec,
                    &e,
                    &["nTrain", "nFeatures", "seeds", "nTest", "ratioMax", "sizes"],
                )?;
            }
        }
        Ok(())
    });
    tally.at_least("double descent sizes", 0, 32);
}

// ---------------------------------------------------------------------------------------------
// Step size
// ---------------------------------------------------------------------------------------------

fn step_base() -> BoxedStrategy<StepSizeConfig> {
    let kinds = DatasetKind::ALL.to_vec();
    let train = (
        log_uniform(1e-3, 100.0),
        prop_oneof![3 => Just(None), 1 => log_uniform(1e-5, 1000.0).prop_map(Some)],
        1u32..=4,
        1u32..=20,
        any::<bool>(),
        0.0..=MAX_MOMENTUM,
        weight_decay(),
        any::<bool>(),
        1u32..=8,
    );
    (data(kinds, 4..=16), net(1..=32, 1..=2), train)
        .prop_map(
            |(
                data,
                net,
                (lr_multiple, lr, track_every, hessian_iters, measure, momentum, wd, ce, top_k),
            )| {
                let loss = if ce && data.dataset.task() == descent::data::Task::Classification {
                    Loss::CrossEntropy
                } else {
                    Loss::Squared
                };
                StepSizeConfig {
                    data,
                    net,
                    lr_multiple,
                    lr,
                    track_every,
                    top_k,
                    hessian_iters,
                    measure_catapult: measure,
                    momentum,
                    weight_decay: wd,
                    loss,
                }
            },
        )
        .boxed()
}

fn check_step(r: &StepSizeReport, asked: u64) -> Result<(), TestCaseError> {
    all_finite("Step size", r)?;
    match r.diverged {
        None => prop_assert_eq!(r.step, asked),
        Some(k) => {
            prop_assert!((1..=asked).contains(&k) && r.step <= k, "{r:?}");
            prop_assert_eq!(r.regime, step_size::Regime::Divergent);
            prop_assert!(
                r.explanation.contains(&format!("(step {k})")),
                "{}",
                r.explanation
            );
        }
    }
    prop_assert_eq!(r.loss.len() as u64, r.step + 1);
    prop_assert_eq!(r.linearized_loss.len() as u64, r.step + 1);
    // The top-k spectra: one row per tracked step, the sharpness and λ_max(Θ)/n first.
    prop_assert_eq!(r.hessian_top.len(), r.track_steps.len());
    prop_assert_eq!(r.ntk_spectrum.len(), r.track_steps.len());
    for (i, (h, n)) in r.hessian_top.iter().zip(&r.ntk_spectrum).enumerate() {
        prop_assert!(!h.is_empty() && h[0] == r.sharpness[i]);
        prop_assert!(!n.is_empty() && n[0] == r.ntk_top[i]);
    }
    if let Some(k) = r.linearized_diverged {
        prop_assert!(r.linearized_loss[k as usize..].iter().all(Option::is_none));
    }
    prop_assert!(
        r.stability_bound > 0.0 && r.catapult_multiple > 0.0,
        "{r:?}"
    );
    prop_assert_eq!(r.sharpness.len(), r.track_steps.len());
    Ok(())
}

/// A Step-size run whose measurements and catapult bisection are this cheap is built.
fn step_cheap(c: &StepSizeConfig) -> bool {
    track_flops(c) <= 2e7 && (!c.measure_catapult || catapult_flops(c) <= 3e7)
}

#[test]
fn step_size_settings_validate_or_are_refused_by_name_and_runs_stay_finite() {
    let spec = step_size::settings();
    let names = fields(&spec, step_floats);
    let live = (
        any::<bool>(),
        wild(spec.get("lr").unwrap()),
        wild(spec.get("lrMultiple").unwrap()),
    );
    let tally = Tally::default();
    check(
        "step size",
        128,
        (step_base(), moves(&spec, &names), live),
        |(base, moves, (by_multiple, lr, multiple))| {
            let Moved { config, moved, out } = apply(&spec, base, moves, step_floats);
            if out.is_empty() && !step_cheap(&config) {
                tally.count(&tally.validated);
                return match config.validate() {
                    Ok(()) => Ok(()),
                    Err(e) => check_refusal(&spec, &e, &moved, &out),
                };
            }
            let mut s = match StepSize::new(config) {
                Ok(s) => s,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            let r = s.report();
            check_step(&r, 0)?;
            check_step(&s.advance(3), 3)?;
            check_step(&s.advance(2), 5)?;
            // A new step size restarts from θ₀: refused by name when out of range.
            let (name, v) = if by_multiple {
                ("lrMultiple", multiple)
            } else {
                ("lr", lr)
            };
            let Val::Num(x) = v else { unreachable!() };
            let set = if by_multiple {
                s.set_lr_multiple(x)
            } else {
                s.set_lr(x)
            };
            match set {
                Err(e) => check_refusal(&spec, &e, &[(name, Val::Num(x))], &[name])?,
                Ok(()) => {
                    prop_assert!(!out_of_range(&spec, name, &Val::Num(x)), "{name} = {x}");
                    check_step(&s.advance(2), 2)?;
                }
            }
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("step size", 12, 4);
}

#[test]
fn a_step_size_run_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = step_size::settings();
    let huge = (step_base(), 1024usize..=4096, 1usize..=3, 64usize..=256).prop_map(
        |(mut c, width, depth, n)| {
            (c.net.width, c.net.depth, c.data.n_train) = (width, depth, n);
            c.hessian_iters = 20;
            c
        },
    );
    let tally = Tally::default();
    check("step size sizes", 128, huge, |c| {
        match c.validate() {
            Ok(()) => tally.count(&tally.validated),
            Err(e) => {
                tally.count(&tally.refused);
                check_size_refusal(&spec, &e, &["width", "depth", "nTrain"])?;
            }
        }
        Ok(())
    });
    tally.at_least("step size sizes", 0, 32);
}

// ---------------------------------------------------------------------------------------------
// Phase diagram
// ---------------------------------------------------------------------------------------------

fn phase_base() -> BoxedStrategy<PhaseSettings> {
    let grid = (
        select(PhaseAxis::ALL.to_vec()),
        1usize..=8,
        0usize..=24,
        1usize..=3,
        any::<bool>(),
        1usize..=3,
        log_uniform(1e-3, 100.0),
        1u64..=30,
        1u32..=10,
    );
    (
        data(DatasetKind::ALL.to_vec(), 4..=12),
        net(1..=8, 1..=2),
        grid,
    )
        .prop_map(
            |(data, net, (axis, w0, dw, wc, low, yc, lr_multiple, steps, iters))| {
                // The y range inside the chosen axis's range.
                let (y_min, y_max) = match (axis, low) {
                    (PhaseAxis::StepSize, true) => (0.25, 4.0),
                    (PhaseAxis::StepSize, false) => (1e-3, 100.0),
                    (PhaseAxis::InitScale, true) => (0.1, 10.0),
                    (PhaseAxis::InitScale, false) => (0.01, 100.0),
                };
                PhaseSettings {
                    data,
                    net,
                    axis,
                    width_min: w0,
                    width_max: w0 + dw,
                    width_count: wc,
                    y_min,
                    y_max,
                    y_count: yc,
                    lr_multiple,
                    steps,
                    hessian_iters: iters,
                }
            },
        )
        .boxed()
}

#[test]
fn phase_diagram_settings_validate_or_are_refused_by_name_and_diagrams_stay_finite() {
    let spec = step_size::phase_settings();
    let names = fields(&spec, phase_floats);
    let tally = Tally::default();
    check(
        "phase diagram",
        96,
        (phase_base(), moves(&spec, &names)),
        |(base, moves)| {
            let Moved {
                config,
                moved,
                mut out,
            } = apply(&spec, base, moves, phase_floats);
            // Every column has its own width: the base's is not read.
            out.retain(|n| *n != "width");
            let config = PhaseConfig::from(&config);
            let mut d = match PhaseDiagram::new(config) {
                Ok(d) => d,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            if d.config.flops() > 3e7 {
                tally.count(&tally.validated);
                return Ok(());
            }
            let p = d
                .advance(d.total())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(p.finished && p.done == p.total, "{p:?}");
            let r = d.report();
            all_finite("the phase diagram", &r)?;
            for (i, regime) in r.regime.iter().enumerate() {
                let code = regime.expect("every cell computed");
                prop_assert!(code <= 3, "regime {code}");
                // A divergent cell (2) has no final loss; every other one has a finite one.
                prop_assert_eq!(code == 2, r.final_loss[i].is_none(), "cell {}: {:?}", i, r);
            }
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("phase diagram", 8, 4);
}

#[test]
fn a_phase_diagram_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = step_size::phase_settings();
    let huge = (
        phase_base(),
        1024usize..=4096,
        9usize..=64,
        13usize..=64,
        300u64..=100_000,
    )
        .prop_map(|(mut c, width_max, wc, yc, steps)| {
            (c.width_max, c.width_count, c.y_count, c.steps) = (width_max, wc, yc, steps);
            c
        });
    let tally = Tally::default();
    check("phase diagram sizes", 128, huge, |c| {
        match PhaseConfig::from(&c).validate() {
            Ok(()) => tally.count(&tally.validated),
            Err(e) => {
                tally.count(&tally.refused);
                check_size_refusal(
                    &spec,
                    &e,
                    &[
                        "widthMax",
                        "depth",
                        "nTrain",
                        "widthCount",
                        "yCount",
                        "steps",
                    ],
                )?;
            }
        }
        Ok(())
    });
    tally.at_least("phase diagram sizes", 0, 32);
}

// ---------------------------------------------------------------------------------------------
// Weak labels
// ---------------------------------------------------------------------------------------------

fn weak_base() -> BoxedStrategy<WeakConfig> {
    let bags = (
        prop_oneof![Just(WeakData::Digits), Just(WeakData::Cells)],
        1usize..=32,
        16usize..=256,
        log_uniform(0.01, 1e4),
        any::<bool>(),
        0.0..=1.0f64,
        0.0..=0.5f64,
    );
    let network = (
        select(Learner::ALL.to_vec()),
        1usize..=32,
        log_uniform(1e-5, 1000.0),
        log_uniform(0.01, 100.0),
        select(Activation::ALL.to_vec()),
        0.05..=0.9f64,
        any::<bool>(),
        seed(),
        1u64..=200,
        1usize..=10,
    );
    (bags, network)
        .prop_map(
            |(
                (data, bag, instances, concentration, alike, purified, noise),
                (learner, width, lr, init_scale, activation, test_share, std, seed, steps, seeds),
            )| WeakConfig {
                data,
                bag,
                instances,
                concentration,
                alike,
                purified,
                noise,
                learner,
                width,
                lr,
                init_scale,
                activation,
                test_share,
                standardize: std,
                seed,
                steps,
                seeds,
                table: None,
            },
        )
        .boxed()
}

fn check_weak(r: &WeakReport, asked: u64) -> Result<(), TestCaseError> {
    all_finite("Weak labels", r)?;
    match &r.diverged {
        None => prop_assert_eq!(r.step, asked),
        Some(text) => {
            let k = diverged_step(text);
            prop_assert!(
                k.is_some_and(|k| (1..=asked).contains(&k) && r.step <= k),
                "{r:?}"
            );
        }
    }
    for a in [r.train_accuracy, r.test_accuracy] {
        prop_assert!((0.0..=1.0).contains(&a), "{r:?}");
    }
    prop_assert!(r.bag_loss >= 0.0 && r.bag_loss_floor >= 0.0, "{r:?}");
    Ok(())
}

#[test]
fn weak_labels_settings_validate_or_are_refused_by_name_and_runs_stay_finite() {
    let spec = weak_labels::settings();
    let names = fields(&spec, weak_floats);
    let live_lr = wild(spec.get("lr").unwrap());
    let tally = Tally::default();
    // One run in five on the reader's table.
    let base = (weak_base(), source(), prop::bool::weighted(0.2)).prop_map(|(mut c, s, table)| {
        if table {
            c.data = WeakData::Table;
        }
        (c, s)
    });
    check(
        "weak labels",
        192,
        (base, moves(&spec, &names), live_lr),
        |((base, source), moves, lr)| {
            let Moved { config, moved, out } = apply(&spec, base, moves, weak_floats);
            let config = config.with_source(&source);
            if out.is_empty() && config.network_flops() / config.steps.max(1) as f64 > 2e7 {
                tally.count(&tally.validated);
                return match config.validate() {
                    Ok(()) => Ok(()),
                    Err(e) => check_refusal(&spec, &e, &moved, &out),
                };
            }
            let mut w = match WeakLabels::new(config, &source) {
                Ok(w) => w,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            check_weak(&w.advance(2), 2)?;
            let before = w.advance(3);
            check_weak(&before, 5)?;
            all_finite("the proportions", &w.proportions())?;
            all_finite("the mean map", &w.mean_map())?;
            all_finite("the confusion", &w.confusion())?;
            if let Some(g) = w.predict_grid() {
                finite_values("the decision regions", &g)?;
            }
            let Val::Num(lr) = lr else { unreachable!() };
            match w.set_lr(lr) {
                Err(e) => check_refusal(&spec, &e, &[("lr", Val::Num(lr))], &["lr"])?,
                Ok(()) => {
                    prop_assert!(!out_of_range(&spec, "lr", &Val::Num(lr)), "lr {lr}");
                    let r = w.advance(2);
                    check_weak(&r, if before.diverged.is_some() { 5 } else { 7 })?;
                }
            }
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("weak labels", 16, 8);
}

#[test]
fn a_weak_labels_sweep_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = weak_labels::settings();
    let huge = (
        weak_base(),
        256usize..=1024,
        1024usize..=2048,
        500u64..=2000,
    )
        .prop_map(|(mut c, width, instances, steps)| {
            (c.width, c.instances, c.steps) = (width, instances, steps);
            c
        });
    let tally = Tally::default();
    check("weak labels sizes", 128, huge, |c| {
        match c.validate() {
            Ok(()) => tally.count(&tally.validated),
            Err(e) => {
                tally.count(&tally.refused);
                check_size_refusal(&spec, &e, &["steps"])?;
            }
        }
        Ok(())
    });
    tally.at_least("weak labels sizes", 0, 32);
}

// ---------------------------------------------------------------------------------------------
// Trained networks (the double-descent scene's sweep)
// ---------------------------------------------------------------------------------------------

fn trained_base() -> BoxedStrategy<TrainedSweepConfig> {
    let shape = (
        4usize..=30,
        1usize..=8,
        10usize..=60,
        select(Teacher::ALL.to_vec()),
        0.0..=100.0f64,
        0.0..=100.0f64,
        0.0..=10.0f64,
    );
    let sweep = (
        3usize..=5,
        log_uniform(0.01, 1.0),
        log_uniform(1.0, 20.0),
        1usize..=2,
        seed(),
        init(),
        log_uniform(1e-5, 1000.0),
        1u64..=40,
    );
    (shape, sweep)
        .prop_map(
            |(
                (n_train, dim, n_test, teacher, signal, nonlinear, noise),
                (sizes, ratio_min, ratio_max, seeds, seed, init, lr, steps),
            )| TrainedSweepConfig {
                n_train,
                dim,
                n_test,
                teacher,
                signal,
                nonlinear,
                noise,
                sizes,
                ratio_min,
                ratio_max,
                seeds,
                seed,
                init,
                lr,
                steps,
            },
        )
        .boxed()
}

#[test]
fn trained_sweep_settings_validate_or_are_refused_by_name_and_sweeps_stay_finite() {
    let spec = trained::settings();
    let names = fields(&spec, trained_floats);
    let tally = Tally::default();
    check(
        "trained sweep",
        128,
        (trained_base(), moves(&spec, &names)),
        |(base, moves)| {
            let Moved { config, moved, out } = apply(&spec, base, moves, trained_floats);
            let mut t = match TrainedSweep::new(config) {
                Ok(t) => t,
                Err(e) => {
                    tally.count(&tally.refused);
                    return check_refusal(&spec, &e, &moved, &out);
                }
            };
            accepted(&spec, &moved, &out)?;
            if t.total_flops() > 3e7 {
                tally.count(&tally.validated);
                return Ok(());
            }
            let half = t.total_flops() / 2.0;
            let p = t
                .advance(half)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            all_finite("the trained sweep's progress", &p)?;
            let p = t.run().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(p.done && p.cells_done == p.cells_total, "{p:?}");
            let r = t.report();
            all_finite("the trained sweep", &r)?;
            let seeds = t.config().seeds;
            for i in 0..r.widths.len() {
                prop_assert_eq!(r.seeds_done[i], seeds);
                let missing = r.test_mse_per_seed.iter().filter(|row| row[i].is_none());
                prop_assert_eq!(missing.count(), r.diverged[i], "width {}", r.widths[i]);
                prop_assert_eq!(r.test_mse.mean[i].is_none(), r.diverged[i] == seeds);
            }
            for row in r.train_mse_per_seed.iter().chain(&r.test_mse_per_seed) {
                prop_assert!(row.iter().flatten().all(|v| *v >= 0.0), "{row:?}");
            }
            tally.count(&tally.stepped);
            Ok(())
        },
    );
    tally.at_least("trained sweep", 12, 4);
}

#[test]
fn a_trained_sweep_near_its_largest_sizes_is_refused_with_its_estimate() {
    let spec = trained::settings();
    let huge = (
        trained_base(),
        500usize..=2000,
        log_uniform(5.0, 20.0),
        5usize..=20,
        10_000u64..=1_000_000,
        20usize..=41,
        100usize..=500,
    )
        .prop_map(|(mut c, n, ratio_max, seeds, steps, sizes, dim)| {
            (c.n_train, c.ratio_max, c.seeds, c.steps, c.sizes, c.dim) =
                (n, ratio_max, seeds, steps, sizes, dim);
            c
        });
    let tally = Tally::default();
    check("trained sweep sizes", 128, huge, |c| {
        match c.validate(TRAINED_SWEEP_MEMORY, TRAINED_SWEEP_WORK) {
            Ok(()) => tally.count(&tally.validated),
            Err(e) => {
                tally.count(&tally.refused);
                check_size_refusal(&spec, &e, &["nTrain", "ratioMax", "nTest", "steps"])?;
            }
        }
        Ok(())
    });
    tally.at_least("trained sweep sizes", 0, 32);
}

// ---------------------------------------------------------------------------------------------
// key=value and share links
// ---------------------------------------------------------------------------------------------

/// Every settings table the command line reads: the scenes' and the panels'.
const TABLES: [&str; 7] = [
    "playground",
    "lazy",
    "double-descent",
    "step",
    "weak-labels",
    "double-descent/trained",
    "step/phase",
];

/// A key and a value as a reader might type them: mostly a setting's name (or its name in
/// capitals, or with a letter missing) with a value of that setting's kind (as [`wild`] draws
/// them, written out) or any value; sometimes any key.
fn key_value(spec: &SceneSpec) -> BoxedStrategy<(String, String)> {
    let any_value = value(spec);
    let rows = spec.settings.clone();
    let named = select(rows).prop_flat_map(move |s| {
        let name = s.name.to_string();
        let typo = any::<Index>().prop_map({
            let name = name.clone();
            move |i| {
                let mut c: Vec<char> = name.chars().collect();
                c.remove(i.index(c.len()));
                c.into_iter().collect::<String>()
            }
        });
        let key = prop_oneof![
            6 => Just(name.clone()),
            1 => Just(name.to_uppercase()),
            1 => typo,
        ];
        let text = prop_oneof![
            3 => wild(&s).prop_map(|v| match v {
                Val::Num(x) => x.to_string(),
                Val::Flag(b) => b.to_string(),
                Val::Name(n) => n,
            }),
            1 => any_value.clone(),
        ];
        (key, text)
    });
    prop_oneof![
        8 => named,
        1 => ("[a-zA-Z ]{0,10}".prop_map(String::from), value(spec)),
    ]
    .boxed()
}

/// A value as a reader might type it: numbers of every form and size, names of options, flags,
/// and anything.
fn value(spec: &SceneSpec) -> BoxedStrategy<String> {
    let mut words: Vec<String> = [
        "true", "false", "1", "0", "yes", "null", "", "inf", "-inf", "NaN", "nan", "Infinity",
        "1e309", "1e-400", "-0", "0x10", "1,5", " 12 ", ".5", "5.", "+2", "1e3", "2.5e+2",
    ]
    .map(String::from)
    .to_vec();
    for s in &spec.settings {
        if let Kind::Choice { options } = &s.kind {
            words.extend(options.iter().map(|o| o.value.clone()));
        }
    }
    prop_oneof![
        3 => (0u64..5000).prop_map(|v| v.to_string()),
        1 => (-5000i64..0).prop_map(|v| v.to_string()),
        2 => any::<f64>().prop_map(|v| v.to_string()),
        2 => log_uniform(1e-8, 1e12).prop_map(|v| format!("{v:e}")),
        3 => select(words),
        1 => "\\PC{0,6}",
    ]
    .boxed()
}

/// The configuration a table's settings read into (as `descent run` reads them), checked to
/// hold the settings' values, and the scene's verdict on it.
fn read_and_validate(s: &Settings) -> Result<Result<(), Error>, TestCaseError> {
    fn read<T: DeserializeOwned + Serialize>(s: &Settings) -> Result<T, TestCaseError> {
        let c: T = s
            .config()
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", s.scene())))?;
        for (name, v) in fields_of(&c) {
            if let Some(given) = s.values.get(&name) {
                prop_assert_eq!(given, &v, "{}: {} read as {:?}", s.scene(), name, v);
            }
        }
        Ok(c)
    }
    Ok(match s.scene() {
        "playground" => read::<RunConfig>(s)?.validate(PLAYGROUND_MEMORY),
        "lazy" => read::<LazyConfig>(s)?
            .run
            .validate_in_scene(PLAYGROUND_MEMORY, &lazy::scene_defaults()),
        "double-descent" => read::<DoubleDescentConfig>(s)?.validate(DOUBLE_DESCENT_MEMORY),
        "step" => read::<StepSizeConfig>(s)?.validate(),
        "weak-labels" => read::<WeakConfig>(s)?.validate(),
        "double-descent/trained" => {
            read::<TrainedSweepConfig>(s)?.validate(TRAINED_SWEEP_MEMORY, TRAINED_SWEEP_WORK)
        }
        "step/phase" => PhaseConfig::from(&read::<PhaseSettings>(s)?).validate(),
        other => panic!("no configuration for {other}"),
    })
}

#[test]
fn key_value_arguments_are_taken_or_refused_naming_the_key() {
    for id in TABLES {
        let spec = descent::scenes::spec(id).unwrap();
        let pair = prop_oneof![
            12 => key_value(&spec).prop_map(|(k, v)| format!("{k}={v}")),
            1 => "[a-z]{1,8}".prop_map(String::from),
        ];
        let tally = Tally::default();
        check(id, 256, prop::collection::vec(pair, 0..6), |pairs| {
            let mut s = Settings::defaults(id).unwrap();
            // One at a time, as `apply_pairs` takes them: the first refused one is the error.
            for pair in &pairs {
                let Err(e) = apply_pairs(&mut s, std::slice::from_ref(pair)) else {
                    continue;
                };
                tally.count(&tally.refused);
                let key = pair
                    .split_once('=')
                    .map_or(pair.as_str(), |(k, _)| k)
                    .trim();
                match &e {
                    Error::InvalidConfig { field, .. } => {
                        prop_assert_eq!(*field, key, "{}: {}", pair, e);
                    }
                    Error::Usage { message } => prop_assert!(
                        message.to_lowercase().contains(&key.to_lowercase()),
                        "{pair}: {message}"
                    ),
                    other => prop_assert!(false, "{pair}: {other}"),
                }
                return Ok(());
            }
            prop_assert!(s.spec.validate(&s.values).is_ok(), "{:?}", s.values);
            let keys: Vec<(&str, Val)> = s
                .spec
                .settings
                .iter()
                .map(|row| (row.name, Val::Flag(false)))
                .collect();
            match read_and_validate(&s)? {
                Ok(()) => tally.count(&tally.validated),
                Err(e) => check_refusal(&s.spec, &e, &keys, &[])?,
            }
            Ok(())
        });
        tally.at_least(id, 0, 16);
        assert!(
            Tally::get(&tally.validated) >= 16,
            "{id}: too few accepted arguments"
        );
    }
}

/// `URLSearchParams`' encoding of a key or value.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn share_links_read_into_settings_in_range_with_notes_naming_their_keys() {
    let pages: Vec<(&str, &str)> = link::PAGES.to_vec();
    let pairs = select(pages).prop_flat_map(|(scene, page)| {
        let spec = descent::scenes::spec(scene).unwrap();
        (Just(page), prop::collection::vec(key_value(&spec), 0..6))
    });
    check("links", 512, pairs, |(page, pairs)| {
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        let address = format!("https://example.org/descent/{page}?{}", query.join("&"));
        let l = link::read(&address).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let s = &l.settings;
        // The page clamps and drops: whatever a link says, the settings are in range.
        prop_assert!(
            s.spec.validate(&s.values).is_ok(),
            "{address}: {:?}",
            s.values
        );
        let keys: Vec<(&str, Val)> = s
            .spec
            .settings
            .iter()
            .map(|row| (row.name, Val::Flag(false)))
            .collect();
        if let Err(e) = read_and_validate(s)? {
            check_refusal(&s.spec, &e, &keys, &[])?;
        }
        for note in &l.notes {
            let lower = note.to_lowercase();
            prop_assert!(
                pairs.iter().any(|(k, _)| lower.contains(&k.to_lowercase())),
                "{address}: the note {note:?} names none of its keys"
            );
        }
        // The link back reads back to the same link.
        let back = link::link_of(s);
        let again = link::read(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(link::link_of(&again.settings), back);
        Ok(())
    });
}
