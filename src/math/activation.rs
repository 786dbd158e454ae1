//! Activation functions φ and their derivatives φ', in f32 for the network and f64 for theory,
//! with their infinite-width dual kernels: one block per activation (see [`Phi`]).

use serde::{Deserialize, Serialize};

/// The activations of the MLP family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x)
    Relu,
    /// The error function erf(x) (a sigmoid with closed-form infinite-width kernels).
    Erf,
    /// tanh(x)
    Tanh,
    /// The identity: a deep linear network.
    Linear,
}

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Erf,
        Activation::Tanh,
        Activation::Linear,
    ];

    /// The name a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            Activation::Relu => "ReLU",
            Activation::Erf => "erf",
            Activation::Tanh => "tanh",
            Activation::Linear => "linear",
        }
    }

    /// φ(x)
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        with_activation!(self, A => A::apply(x))
    }

    /// φ'(x). For ReLU the derivative at 0 is taken to be 0.
    #[inline]
    pub fn derivative(self, x: f32) -> f32 {
        with_activation!(self, A => A::derivative(x))
    }

    /// φ(x) in f64.
    pub fn apply_f64(self, x: f64) -> f64 {
        with_activation!(self, A => A::apply_f64(x))
    }

    /// φ'(x) in f64.
    pub fn derivative_f64(self, x: f64) -> f64 {
        with_activation!(self, A => A::derivative_f64(x))
    }

    /// φ''(x) in f64 (0 for ReLU and linear, almost everywhere).
    pub fn second_derivative_f64(self, x: f64) -> f64 {
        with_activation!(self, A => A::second_derivative_f64(x))
    }

    /// Whether φ is piecewise linear (φ'' = 0 almost everywhere), so that the Hessian of a
    /// network has no φ'' term.
    pub fn is_piecewise_linear(self) -> bool {
        with_activation!(self, A => A::PIECEWISE_LINEAR)
    }

    /// The activation's code in the GPU shaders (its `ACT_*` constant in [`wgsl_activations`]).
    pub fn gpu_code(self) -> u32 {
        with_activation!(self, A => A::GPU_CODE)
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Erf => "erf",
            Activation::Tanh => "tanh",
            Activation::Linear => "linear",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The activations, one block each.
//
// An activation is a type implementing [`Phi`]: φ, φ′, φ″ (f32 for the network, f64 for theory),
// its GPU code, and its dual kernels, the moments E[φ(u)φ(v)] and E[φ′(u)φ′(v)] of a centred
// Gaussian pair, in closed form ([`Dual`] in f64, [`Phi::dual_f32`] in f32) or none (then the
// kernels come from its Hermite series, for an odd φ). [`with_activation!`] maps each
// [`Activation`] to its type; every other module reaches an activation through `Activation`'s
// methods or that macro. The block also holds the activation's WGSL twins (`Phi::WGSL_*`), from
// which [`wgsl_activations`] and [`wgsl_moments`] generate the shaders' `ACT_*` codes and their
// `phi`, `dphi` and `moments` switches. Adding one means: a variant of [`Activation`] (with its
// entries in `ALL` and the names beside it), an arm of [`with_activation!`] and a block below;
// nothing in src/backend. An activation with neither a closed form nor odd symmetry would also
// need a Hermite series with even terms (a test checks that every activation has one or the
// other).
// ---------------------------------------------------------------------------------------------

use super::special;
use std::f64::consts::PI;

/// Runs `$body` with `$A` the [`Phi`] type of the [`Activation`] `$act`: the one map from the
/// variants to their blocks. The body is compiled once per activation, so a loop in it that
/// calls `A::apply` is monomorphic and vectorises (no `match` per element).
macro_rules! with_activation {
    ($act:expr, $A:ident => $body:expr) => {
        match $act {
            $crate::math::Activation::Relu => {
                type $A = $crate::math::activation::Relu;
                $body
            }
            $crate::math::Activation::Erf => {
                type $A = $crate::math::activation::Erf;
                $body
            }
            $crate::math::Activation::Tanh => {
                type $A = $crate::math::activation::Tanh;
                $body
            }
            $crate::math::Activation::Linear => {
                type $A = $crate::math::activation::Linear;
                $body
            }
        }
    };
}
pub(crate) use with_activation;

/// One activation φ: everything Descent computes with it.
pub trait Phi {
    /// The activation's code in the GPU shaders: the value of its `ACT_*` constant and of the
    /// `act` parameter that selects its cases (distinct per activation, checked by a test).
    const GPU_CODE: u32;
    /// φ'' = 0 almost everywhere (the Hessian of a network has no φ'' term).
    const PIECEWISE_LINEAR: bool;
    /// φ(−x) = −φ(x), so that its kernels have an odd Hermite series.
    const ODD: bool;
    /// The closed form of the dual kernels ([`NoClosedForm`] where there is none).
    type Dual: Dual;
    /// `Some` closed form, or `None`: the kernels then come from the Hermite series.
    const DUAL: Option<Self::Dual>;

    /// φ(x) in f32, for the network's element loops (inlined, and vectorisable there).
    fn apply(x: f32) -> f32;
    /// φ'(x) in f32.
    fn derivative(x: f32) -> f32;
    /// φ(x) in f64.
    fn apply_f64(x: f64) -> f64;
    /// φ'(x) in f64.
    fn derivative_f64(x: f64) -> f64;
    /// φ''(x) in f64.
    fn second_derivative_f64(x: f64) -> f64;
    /// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]) in f32, in the order
    /// of operations of [`Phi::WGSL_DUAL`] (keep in sync); NaN without a closed form, as there.
    fn dual_f32(a: f32, c: f32, b: f32) -> (f32, f32);

    // The WGSL twins, in f32, with the same operations in the same order as `apply`,
    // `derivative` and `dual_f32` (keep in sync): statements that end in a `return`, which
    // [`wgsl_activations`] and [`wgsl_moments`] put in the cases of the shaders' switches.

    /// The statements of φ(v) (`v: f32`), returning an f32.
    const WGSL_PHI: &'static str;
    /// The statements of φ'(v) (`v: f32`), returning an f32.
    const WGSL_DPHI: &'static str;
    /// The statements of the dual moments (`a, c, b: f32` as in [`Phi::dual_f32`]), returning
    /// a `vec2<f32>`, with `acos_f32`, `asin_f32` and the constants of
    /// src/backend/gpu/nngp_ntk_recursion.wgsl at hand; `None` without a closed form (the
    /// shader then returns NaN).
    const WGSL_DUAL: Option<&'static str>;
    /// The module-scope WGSL (functions, constants) that the statements above call: each
    /// distinct piece goes once into the shaders, so activations may share one.
    const WGSL_HELPERS: &'static [&'static str];
}

/// The moments of one activation as functions of the 2×2 covariance, split so that everything
/// depending on a single point is computed once per point.
pub trait Dual {
    /// Per-point quantities of a variance a (two numbers, activation-specific).
    fn aux(&self, a: f64) -> (f64, f64);
    /// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for the covariance c between points with aux p and q.
    fn pair(&self, c: f64, p: (f64, f64), q: (f64, f64)) -> (f64, f64);
    /// (E[φ(u)²], E[φ'(u)²]) for u ~ N(0, a).
    fn diag(&self, a: f64) -> (f64, f64);
}

/// The [`Phi::Dual`] of an activation with no closed form: it has no values.
#[derive(Clone, Copy, Debug)]
pub enum NoClosedForm {}

impl Dual for NoClosedForm {
    fn aux(&self, _a: f64) -> (f64, f64) {
        match *self {}
    }

    fn pair(&self, _c: f64, _p: (f64, f64), _q: (f64, f64)) -> (f64, f64) {
        match *self {}
    }

    fn diag(&self, _a: f64) -> (f64, f64) {
        match *self {}
    }
}

impl Activation {
    /// Whether φ is odd ([`Phi::ODD`]).
    pub fn is_odd(self) -> bool {
        with_activation!(self, A => A::ODD)
    }

    /// Whether the dual kernels have a closed form ([`Phi::DUAL`]); tanh's come from its
    /// Hermite series.
    pub fn has_closed_form(self) -> bool {
        with_activation!(self, A => A::DUAL.is_some())
    }

    /// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]) by the closed form,
    /// `None` without one.
    pub fn closed_moments(self, a: f64, c: f64, b: f64) -> Option<(f64, f64)> {
        with_activation!(self, A => A::DUAL.map(|dual| dual.pair(c, dual.aux(a), dual.aux(b))))
    }

    /// (E[φ(u)²], E[φ'(u)²]) for u ~ N(0, a) by the closed form, `None` without one.
    pub fn closed_diag_moments(self, a: f64) -> Option<(f64, f64)> {
        with_activation!(self, A => A::DUAL.map(|dual| dual.diag(a)))
    }

    /// [`Phi::dual_f32`]: the closed-form moments in f32 (NaN without one).
    pub fn dual_f32(self, a: f32, c: f32, b: f32) -> (f32, f32) {
        with_activation!(self, A => A::dual_f32(a, c, b))
    }
}

const INV_2PI: f64 = 0.5 / PI;
const INV_2PI_F32: f32 = 0.5 / std::f32::consts::PI;

/// max(0, x). Kernels: the degree-1 arc-cosine kernel (Cho & Saul 2009), with ρ the correlation
/// and ϑ = arccos ρ, E[φ(u)φ(v)] = √(ab)·(sin ϑ + (π − ϑ) cos ϑ)/(2π) and
/// E[φ'(u)φ'(v)] = (π − ϑ)/(2π).
#[derive(Clone, Copy, Debug)]
pub struct Relu;

impl Phi for Relu {
    const GPU_CODE: u32 = 0;
    const PIECEWISE_LINEAR: bool = true;
    const ODD: bool = false;
    type Dual = Relu;
    const DUAL: Option<Relu> = Some(Relu);

    /// `x.max(0.0)` has IEEE minNum/maxNum semantics, which wasm's f32.max and f32x4.max
    /// implement with a NaN- and sign-checking sequence that stops a loop vectorising (0.37 G
    /// elements/s in V8, against 6–7 for the other element-wise loops). A compare and select
    /// gives the same values (NaN → 0 as max does) and becomes f32x4.pmax.
    #[inline(always)]
    fn apply(x: f32) -> f32 {
        if x > 0.0 { x } else { 0.0 }
    }

    #[inline(always)]
    fn derivative(x: f32) -> f32 {
        if x > 0.0 { 1.0 } else { 0.0 }
    }

    #[inline]
    fn apply_f64(x: f64) -> f64 {
        x.max(0.0)
    }

    #[inline]
    fn derivative_f64(x: f64) -> f64 {
        if x > 0.0 { 1.0 } else { 0.0 }
    }

    #[inline]
    fn second_derivative_f64(_x: f64) -> f64 {
        0.0
    }

    #[inline(always)]
    fn dual_f32(a: f32, c: f32, b: f32) -> (f32, f32) {
        let (ra, rb) = (a.max(0.0).sqrt(), b.max(0.0).sqrt());
        let ia = if ra > 0.0 { 1.0 / ra } else { 0.0 };
        let ib = if rb > 0.0 { 1.0 / rb } else { 0.0 };
        let rho = (c * (ia * ib)).clamp(-1.0, 1.0);
        let sin = ((1.0 - rho) * (1.0 + rho)).sqrt();
        // π − ϑ = arccos(−ρ), accurate near ρ = −1 too.
        let pi_minus = special::acos_f32(-rho);
        let live = if ra * rb > 0.0 { 1.0 } else { 0.0 };
        (
            ra * rb * (sin + pi_minus * rho) * INV_2PI_F32,
            live * pi_minus * INV_2PI_F32,
        )
    }

    const WGSL_PHI: &'static str = "return max(v, 0.0);";
    const WGSL_DPHI: &'static str = "return select(0.0, 1.0, v > 0.0);";
    const WGSL_DUAL: Option<&'static str> = Some(
        "let ra = sqrt(max(a, 0.0));
        let rb = sqrt(max(b, 0.0));
        let ia = select(0.0, 1.0 / ra, ra > 0.0);
        let ib = select(0.0, 1.0 / rb, rb > 0.0);
        let rho = clamp(c * (ia * ib), -1.0, 1.0);
        let s = sqrt((1.0 - rho) * (1.0 + rho));
        let pi_minus = acos_f32(-rho);
        let live = select(0.0, 1.0, ra * rb > 0.0);
        return vec2<f32>(ra * rb * (s + pi_minus * rho) * INV_2PI, live * pi_minus * INV_2PI);",
    );
    const WGSL_HELPERS: &'static [&'static str] = &[];
}

/// aux = (√a, 1/√a), with 1/√a := 0 for a = 0 (the unit is identically 0 and, with φ'(0) = 0,
/// so is its derivative).
impl Dual for Relu {
    #[inline(always)]
    fn aux(&self, a: f64) -> (f64, f64) {
        let r = a.max(0.0).sqrt();
        (r, if r > 0.0 { 1.0 / r } else { 0.0 })
    }

    #[inline(always)]
    fn pair(&self, c: f64, p: (f64, f64), q: (f64, f64)) -> (f64, f64) {
        let rho = (c * (p.1 * q.1)).clamp(-1.0, 1.0);
        let sin = ((1.0 - rho) * (1.0 + rho)).sqrt();
        // π − ϑ = arccos(−ρ), computed directly so that it keeps its accuracy near ρ = −1.
        let pi_minus = special::acos(-rho);
        let live = special::select(p.0 * q.0 > 0.0, 1.0, 0.0);
        (
            p.0 * q.0 * (sin + pi_minus * rho) * INV_2PI,
            live * pi_minus * INV_2PI,
        )
    }

    fn diag(&self, a: f64) -> (f64, f64) {
        if a > 0.0 { (0.5 * a, 0.5) } else { (0.0, 0.0) }
    }
}

/// The error function erf(x), a sigmoid with closed-form kernels (Williams 1997): with
/// q_i = 1/√(1 + 2Λ_ii), E[erf(u)erf(v)] = (2/π)·asin(2c q₁ q₂) and
/// E[erf'(u)erf'(v)] = (4/π)·q₁q₂/√(1 − (2c q₁q₂)²).
#[derive(Clone, Copy, Debug)]
pub struct Erf;

impl Phi for Erf {
    const GPU_CODE: u32 = 1;
    const PIECEWISE_LINEAR: bool = false;
    const ODD: bool = true;
    type Dual = Erf;
    const DUAL: Option<Erf> = Some(Erf);

    #[inline(always)]
    fn apply(x: f32) -> f32 {
        erf_f32(x)
    }

    #[inline(always)]
    fn derivative(x: f32) -> f32 {
        std::f32::consts::FRAC_2_SQRT_PI * exp_f32(-x * x)
    }

    #[inline]
    fn apply_f64(x: f64) -> f64 {
        erf(x)
    }

    #[inline]
    fn derivative_f64(x: f64) -> f64 {
        std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp()
    }

    #[inline]
    fn second_derivative_f64(x: f64) -> f64 {
        -2.0 * x * std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp()
    }

    #[inline(always)]
    fn dual_f32(a: f32, c: f32, b: f32) -> (f32, f32) {
        let qa = 1.0 / (1.0 + 2.0 * a).sqrt();
        let qb = 1.0 / (1.0 + 2.0 * b).sqrt();
        let qq = qa * qb;
        let arg = (2.0 * c * qq).clamp(-1.0, 1.0);
        let det = ((1.0 - arg) * (1.0 + arg)).sqrt();
        (
            std::f32::consts::FRAC_2_PI * special::asin_f32(arg),
            2.0 * std::f32::consts::FRAC_2_PI * qq / det.max(f32::MIN_POSITIVE),
        )
    }

    const WGSL_PHI: &'static str = "return erf_f32(v);";
    const WGSL_DPHI: &'static str = "return FRAC_2_SQRT_PI * exp(-v * v);";
    const WGSL_DUAL: Option<&'static str> = Some(
        "let qa = 1.0 / sqrt(1.0 + 2.0 * a);
        let qb = 1.0 / sqrt(1.0 + 2.0 * b);
        let qq = qa * qb;
        let arg = clamp(2.0 * c * qq, -1.0, 1.0);
        let det = sqrt((1.0 - arg) * (1.0 + arg));
        return vec2<f32>(FRAC_2_PI * asin_f32(arg), 2.0 * FRAC_2_PI * qq / max(det, MIN_POSITIVE));",
    );
    const WGSL_HELPERS: &'static [&'static str] = &[ERF_F32_WGSL];
}

/// aux = (1/√(1 + 2a), unused).
impl Dual for Erf {
    #[inline(always)]
    fn aux(&self, a: f64) -> (f64, f64) {
        (1.0 / (1.0 + 2.0 * a).sqrt(), 0.0)
    }

    #[inline(always)]
    fn pair(&self, c: f64, p: (f64, f64), q: (f64, f64)) -> (f64, f64) {
        let qq = p.0 * q.0;
        let arg = (2.0 * c * qq).clamp(-1.0, 1.0);
        let det = ((1.0 - arg) * (1.0 + arg)).sqrt();
        (
            (2.0 / PI) * special::asin(arg),
            (4.0 / PI) * qq / det.max(f64::MIN_POSITIVE),
        )
    }

    fn diag(&self, a: f64) -> (f64, f64) {
        (
            (2.0 / PI) * (2.0 * a / (1.0 + 2.0 * a)).asin(),
            (4.0 / PI) / (1.0 + 4.0 * a).sqrt(),
        )
    }
}

/// tanh(x). No closed-form kernels: they come from its Hermite series.
#[derive(Clone, Copy, Debug)]
pub struct Tanh;

impl Phi for Tanh {
    const GPU_CODE: u32 = 2;
    const PIECEWISE_LINEAR: bool = false;
    const ODD: bool = true;
    type Dual = NoClosedForm;
    const DUAL: Option<NoClosedForm> = None;

    #[inline(always)]
    fn apply(x: f32) -> f32 {
        tanh_f32(x)
    }

    #[inline(always)]
    fn derivative(x: f32) -> f32 {
        let t = tanh_f32(x);
        1.0 - t * t
    }

    #[inline]
    fn apply_f64(x: f64) -> f64 {
        x.tanh()
    }

    #[inline]
    fn derivative_f64(x: f64) -> f64 {
        1.0 - x.tanh().powi(2)
    }

    #[inline]
    fn second_derivative_f64(x: f64) -> f64 {
        let t = x.tanh();
        -2.0 * t * (1.0 - t * t)
    }

    #[inline(always)]
    fn dual_f32(_a: f32, _c: f32, _b: f32) -> (f32, f32) {
        (f32::NAN, f32::NAN)
    }

    const WGSL_PHI: &'static str = "return tanh_f32(v);";
    const WGSL_DPHI: &'static str = "let t = tanh_f32(v);
        return 1.0 - t * t;";
    const WGSL_DUAL: Option<&'static str> = None;
    const WGSL_HELPERS: &'static [&'static str] = &[TANH_F32_WGSL];
}

/// The identity: a deep linear network. Kernels: E[φ(u)φ(v)] = c and E[φ'(u)φ'(v)] = 1.
#[derive(Clone, Copy, Debug)]
pub struct Linear;

impl Phi for Linear {
    const GPU_CODE: u32 = 3;
    const PIECEWISE_LINEAR: bool = true;
    const ODD: bool = true;
    type Dual = Linear;
    const DUAL: Option<Linear> = Some(Linear);

    #[inline(always)]
    fn apply(x: f32) -> f32 {
        x
    }

    #[inline(always)]
    fn derivative(_x: f32) -> f32 {
        1.0
    }

    #[inline]
    fn apply_f64(x: f64) -> f64 {
        x
    }

    #[inline]
    fn derivative_f64(_x: f64) -> f64 {
        1.0
    }

    #[inline]
    fn second_derivative_f64(_x: f64) -> f64 {
        0.0
    }

    #[inline(always)]
    fn dual_f32(_a: f32, c: f32, _b: f32) -> (f32, f32) {
        (c, 1.0)
    }

    const WGSL_PHI: &'static str = "return v;";
    const WGSL_DPHI: &'static str = "return 1.0;";
    const WGSL_DUAL: Option<&'static str> = Some("return vec2<f32>(c, 1.0);");
    const WGSL_HELPERS: &'static [&'static str] = &[];
}

/// aux unused.
impl Dual for Linear {
    #[inline(always)]
    fn aux(&self, _a: f64) -> (f64, f64) {
        (0.0, 0.0)
    }

    #[inline(always)]
    fn pair(&self, c: f64, _p: (f64, f64), _q: (f64, f64)) -> (f64, f64) {
        (c, 1.0)
    }

    fn diag(&self, a: f64) -> (f64, f64) {
        (a, 1.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Special functions of the blocks above.
// ---------------------------------------------------------------------------------------------

/// erf(x) for the network's f32 activations, in f32 and without branches, so that a loop over
/// it vectorises (its WGSL twin, `ERF_F32_WGSL`, has the same formula): for
/// |x| < 0.5 the Maclaurin series to x¹¹ (truncation below 2e-9), beyond it Abramowitz &
/// Stegun 7.1.26, 1 − t·P(t)·e^{−x²} with t = 1/(1 + 0.3275911|x|) (absolute error below
/// 1.5e-7), with [`exp_f32`]. Both are computed and one is selected.
#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    let ax = x.abs();
    let x2 = x * x;
    // 2/√π (x − x³/3 + x⁵/10 − x⁷/42 + x⁹/216 − x¹¹/1320)
    let series = std::f32::consts::FRAC_2_SQRT_PI
        * x
        * (1.0
            + x2 * (-1.0 / 3.0
                + x2 * (0.1 + x2 * (-1.0 / 42.0 + x2 * (1.0 / 216.0 - x2 / 1320.0)))));
    let t = 1.0 / (1.0 + 0.327_591_1 * ax);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let tail = (1.0 - poly * exp_f32(-x2)).copysign(x);
    if ax < 0.5 { series } else { tail }
}

/// The WGSL twin of [`erf_f32`], with the constant 2/√π that [`Erf`]'s φ′ uses too (a helper
/// of [`Erf`]'s WGSL).
const ERF_F32_WGSL: &str = "\
const FRAC_2_SQRT_PI: f32 = 1.1283791670955126;

// Twin of `erf_f32`: a Taylor series for |x| < 0.5, Abramowitz & Stegun 7.1.26 beyond, in f32
// on both (the CPU twin computes both branches and selects, so that its loop vectorises, and
// has its own exp_f32; within 4e-7 of erf).
fn erf_f32(x: f32) -> f32 {
    let ax = abs(x);
    if (ax < 0.5) {
        let x2 = x * x;
        let poly = 1.0 + x2 * (-1.0 / 3.0 + x2 * (0.1 + x2 * (-1.0 / 42.0 + x2 * (1.0 / 216.0 - x2 / 1320.0))));
        return FRAC_2_SQRT_PI * x * poly;
    }
    let t = 1.0 / (1.0 + 0.3275911 * ax);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let y = 1.0 - poly * exp(-ax * ax);
    return select(y, -y, x < 0.0);
}
";

/// tanh(x) in f32 without branches (its WGSL twin is `TANH_F32_WGSL`): through
/// e^{−2|x|}, which never overflows, and for |x| < 0.125 the series x − x³/3 + 2x⁵/15 −
/// 17x⁷/315 (truncation below 2e-10 relative), which avoids the cancellation in 1 − e^{−2|x|}.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let ax = x.abs();
    let x2 = x * x;
    let series = ax * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 - x2 * (17.0 / 315.0))));
    let e = exp_f32(-2.0 * ax);
    let y = if ax < 0.125 {
        series
    } else {
        (1.0 - e) / (1.0 + e)
    };
    y.copysign(x)
}

/// The WGSL twin of [`tanh_f32`] (a helper of [`Tanh`]'s WGSL).
const TANH_F32_WGSL: &str = "\
// tanh through exp(−2|x|), which never overflows (some drivers build the builtin from
// sinh/cosh and return NaN for large |x|); a series near 0 avoids the cancellation in 1 − e.
fn tanh_f32(x: f32) -> f32 {
    let ax = abs(x);
    var y: f32;
    if (ax < 0.125) {
        let x2 = x * x;
        y = ax * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 - x2 * 17.0 / 315.0)));
    } else {
        let e = exp(-2.0 * ax);
        y = (1.0 - e) / (1.0 + e);
    }
    return select(y, -y, x < 0.0);
}
";

/// e^x in f32 from operations that vectorise (no call into libm): x = k·ln 2 + r with
/// k = ⌊x/ln 2 + ½⌋ and |r| ≤ ln 2 / 2, r computed with ln 2 split in two (Cody & Waite), e^r by
/// its Taylor polynomial to r⁷ (truncation below 6e-9 relative), and 2^k put into the exponent
/// bits. x is clamped to [−87, 88], where 2^k stays a normal f32 (e^−87 ≈ 1.6e-38 stands for
/// anything smaller); NaN stays NaN. Relative error below 2e-7 (measured 9e-8).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Comparisons and selects, not `clamp`: f32::max/min do not vectorise in wasm.
    let x = if x < -87.0 { -87.0 } else { x };
    let x = if x > 88.0 { 88.0 } else { x };
    let k = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    // A NaN k converts to 0, and p is then NaN.
    p * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// The error function, accurate to about 1e-15 relative: a Taylor series for |x| < 2.5 and a
/// continued fraction for erfc beyond (Abramowitz & Stegun 7.1.5 and 7.1.14).
pub fn erf(x: f64) -> f64 {
    let ax = x.abs();
    if ax < 2.5 {
        // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let t = term / (2.0 * n + 1.0);
            sum += t;
            if t.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        std::f64::consts::FRAC_2_SQRT_PI * sum
    } else if ax > 6.0 {
        x.signum()
    } else {
        // erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated bottom-up.
        let mut f = ax;
        for k in (1..60).rev() {
            f = ax + (k as f64 / 2.0) / f;
        }
        let erfc = (-ax * ax).exp() / (std::f64::consts::PI.sqrt() * f);
        x.signum() * (1.0 - erfc)
    }
}

// ---------------------------------------------------------------------------------------------
// The shaders' per-activation code, generated from the blocks' `Phi::WGSL_*`.
// ---------------------------------------------------------------------------------------------

/// The WGSL of the activations, which src/backend/gpu prepends (with activation.wgsl) to every
/// shader that applies one: a constant `ACT_<NAME>` per activation holding its
/// [`Phi::GPU_CODE`], each distinct piece of [`Phi::WGSL_HELPERS`] once, and
/// `fn phi(v: f32, act: u32) -> f32` and `fn dphi(v: f32, act: u32) -> f32`, switches on the
/// code with a case per activation ([`Phi::WGSL_PHI`], [`Phi::WGSL_DPHI`]). A WGSL switch
/// needs a default: the last activation of [`Activation::ALL`] takes it.
pub fn wgsl_activations() -> String {
    let mut out = String::from(
        "// The activations φ and their derivatives φ', generated from their blocks in\n\
         // src/math/activation.rs by `wgsl_activations` (edit them there).\n\n",
    );
    for act in Activation::ALL {
        out += &format!("const {}: u32 = {}u;\n", act.wgsl_const(), act.gpu_code());
    }
    let mut helpers: Vec<&str> = Vec::new();
    for act in Activation::ALL {
        for &helper in with_activation!(act, A => A::WGSL_HELPERS) {
            if !helpers.contains(&helper) {
                helpers.push(helper);
            }
        }
    }
    for helper in helpers {
        out += "\n";
        out += helper;
    }
    let last = Activation::ALL[Activation::ALL.len() - 1];
    let cases = |body: fn(Activation) -> &'static str| -> Vec<(String, &'static str)> {
        Activation::ALL
            .iter()
            .map(|&act| {
                let selector = if act == last {
                    format!("{}, default", act.wgsl_const())
                } else {
                    act.wgsl_const()
                };
                (selector, body(act))
            })
            .collect()
    };
    out += "\n";
    out += &wgsl_switch(
        "fn phi(v: f32, act: u32) -> f32",
        &cases(|act| with_activation!(act, A => A::WGSL_PHI)),
    );
    out += "\n";
    out += &wgsl_switch(
        "fn dphi(v: f32, act: u32) -> f32",
        &cases(|act| with_activation!(act, A => A::WGSL_DPHI)),
    );
    out
}

/// The WGSL function `fn moments(act: u32, a: f32, c: f32, b: f32) -> vec2<f32>` of
/// src/backend/gpu/nngp_ntk_recursion.wgsl, which src/backend/gpu appends to it: the dual
/// moments (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]), a case per
/// activation with a closed form ([`Phi::WGSL_DUAL`]), and NaN (from the shader's
/// `p.nan_bits`) in the default case, which the activations without one share.
pub fn wgsl_moments() -> String {
    let mut cases: Vec<(String, &'static str)> = Vec::new();
    let mut without = Vec::new();
    for act in Activation::ALL {
        match with_activation!(act, A => A::WGSL_DUAL) {
            Some(body) => cases.push((act.wgsl_const(), body)),
            None => without.push(act.wgsl_const()),
        }
    }
    without.push("default".to_string());
    cases.push((
        without.join(", "),
        "let nan = bitcast<f32>(p.nan_bits);\nreturn vec2<f32>(nan, nan);",
    ));
    format!(
        "// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]), generated from the\n\
         // activations' blocks in src/math/activation.rs by `wgsl_moments` (edit them there).\n{}",
        wgsl_switch(
            "fn moments(act: u32, a: f32, c: f32, b: f32) -> vec2<f32>",
            &cases
        )
    )
}

impl Activation {
    /// The name of the activation's code in the shaders: `ACT_` and its name in capitals.
    pub fn wgsl_const(self) -> String {
        format!("ACT_{}", self.name().to_uppercase())
    }
}

/// A WGSL function `signature` whose body switches on `act`: one case per (selector,
/// statements), the statements re-indented (lines after the first lose the indentation they
/// share, as they stand in a Rust string literal).
fn wgsl_switch(signature: &str, cases: &[(String, &str)]) -> String {
    let mut out = format!("{signature} {{\n    switch act {{\n");
    for (selector, body) in cases {
        out += &format!("        case {selector}: {{\n");
        let mut lines = body.lines();
        let first = lines.next().unwrap_or("").trim();
        let rest: Vec<&str> = lines.collect();
        let shared = rest
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        out += &format!("            {first}\n");
        for line in rest {
            if line.trim().is_empty() {
                out += "\n";
            } else {
                out += &format!("            {}\n", &line[shared..]);
            }
        }
        out += "        }\n";
    }
    out += "    }\n}\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_known_values() {
        // Reference values of erf to 15 digits (A&S table 7.1).
        let cases = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.5, 0.999_593_047_982_555),
            (3.0, 0.999_977_909_503_001_4),
        ];
        for (x, want) in cases {
            assert!(
                (erf(x) - want).abs() < 1e-14,
                "erf({x}) = {} want {want}",
                erf(x)
            );
            assert!((erf(-x) + want).abs() < 1e-14);
        }
    }

    /// The worst |f(x) − want(x)| / scale(x) over x = −12 … 12 in steps of 1e-3 and a few
    /// special points, for an f32 function against its f64 value.
    fn worst(f: impl Fn(f32) -> f32, want: impl Fn(f64) -> f64, scale: impl Fn(f64) -> f64) -> f64 {
        let mut worst = 0.0f64;
        for i in -12_000..=12_000 {
            let x = i as f32 * 1e-3;
            let (got, w) = (f(x) as f64, want(x as f64));
            worst = worst.max((got - w).abs() / scale(w));
        }
        worst
    }

    #[test]
    fn fast_f32_erf_is_within_its_stated_error() {
        // A&S 7.1.26 guarantees |error| < 1.5e-7. In f32, t, P(t) and the product carry a few
        // roundings of 6e-8 relative each on a term t·P(t)·e^{−x²} below 0.48 (erfc(0.5)), and
        // exp_f32 about 2e-7 relative: together below 1.5e-7 + 0.48·(4·6e-8 + 2e-7) ≈ 3.6e-7.
        // The short series is exact to f32 rounding (a few 1e-8). So 4e-7 absolute.
        let w = worst(erf_f32, erf, |_| 1.0);
        assert!(w < 4e-7, "worst error {w}");
        assert_eq!(erf_f32(0.0), 0.0);
        assert_eq!(erf_f32(30.0), 1.0);
        assert_eq!(erf_f32(-30.0), -1.0);
        assert!(erf_f32(f32::NAN).is_nan());
    }

    #[test]
    fn fast_f32_exp_and_tanh_are_within_their_stated_error() {
        // exp_f32: the Taylor truncation (6e-9) and about three f32 roundings (6e-8 each) of
        // the reduction, the polynomial and the scaling: 2e-7 relative bounds them.
        let mut worst_exp = 0.0f64;
        for i in -8_700..=8_800 {
            let x = i as f32 * 1e-2;
            let (got, want) = (exp_f32(x) as f64, (x as f64).exp());
            worst_exp = worst_exp.max((got - want).abs() / want);
        }
        assert!(worst_exp < 2e-7, "exp: worst relative error {worst_exp}");
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-1000.0) < 2e-38 && exp_f32(-1000.0) >= 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
        // tanh_f32: beyond 0.125, (1 − e)/(1 + e) with e = e^{−2|x|} of relative error 4e-7,
        // which 1 − e amplifies by e/(1 − e) ≤ 3.6 at |x| = 0.125 (tanh ≈ 0.124), plus three
        // roundings: 2e-6 relative to |tanh(x)|; the series below 0.125 is exact to rounding.
        let w = worst(tanh_f32, f64::tanh, |w| w.abs().max(1e-30));
        assert!(w < 2e-6, "tanh: worst relative error {w}");
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(tanh_f32(50.0), 1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
    }

    #[test]
    fn derivatives_match_finite_differences() {
        // Central differences in f64 with h = 1e-6 have O(h²) truncation error (about 1e-12
        // here) plus rounding of order ε/h ≈ 2e-10: 1e-6 is ample for φ' and φ''.
        for act in Activation::ALL {
            for &x in &[-2.3, -0.7, 0.31, 1.9] {
                let h = 1e-6;
                let fd = (act.apply_f64(x + h) - act.apply_f64(x - h)) / (2.0 * h);
                assert!((fd - act.derivative_f64(x)).abs() < 1e-6, "{act:?} at {x}");
                assert!((act.derivative(x as f32) as f64 - act.derivative_f64(x)).abs() < 1e-6);
                let fd2 = (act.derivative_f64(x + h) - act.derivative_f64(x - h)) / (2.0 * h);
                assert!(
                    (fd2 - act.second_derivative_f64(x)).abs() < 1e-6,
                    "φ'' of {act:?} at {x}"
                );
                if act.is_piecewise_linear() {
                    assert_eq!(act.second_derivative_f64(x), 0.0);
                }
            }
        }
    }

    /// The selectors of each case of the switch in the WGSL function `name` of `wgsl`, with
    /// the case's first statement.
    fn wgsl_cases(wgsl: &str, name: &str) -> Vec<(Vec<String>, String)> {
        let start = wgsl
            .find(&format!("fn {name}("))
            .unwrap_or_else(|| panic!("no fn {name}"));
        let body = &wgsl[start..start + wgsl[start..].find("\n}\n").unwrap()];
        let lines: Vec<&str> = body.lines().map(str::trim).collect();
        let mut cases = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if let Some(selectors) = line.strip_prefix("case ") {
                let selectors = selectors.strip_suffix(": {").unwrap();
                let selectors = selectors.split(", ").map(str::to_string).collect();
                cases.push((selectors, lines[i + 1].to_string()));
            }
        }
        cases
    }

    /// The generated WGSL declares every activation's `ACT_*` code as its `gpu_code` (distinct
    /// codes), has one case per activation in `phi` and `dphi` with the activation's own
    /// statements, one per closed form in `moments`, and NaN for the others.
    #[test]
    fn generated_wgsl_has_a_case_per_activation_with_its_code() {
        let wgsl = wgsl_activations();
        let moments = wgsl_moments();
        for act in Activation::ALL {
            let decl = format!("const {}: u32 = {}u;", act.wgsl_const(), act.gpu_code());
            assert_eq!(wgsl.matches(&decl).count(), 1, "`{decl}`");
        }
        let mut codes: Vec<u32> = Activation::ALL.iter().map(|a| a.gpu_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Activation::ALL.len());
        let first = |body: &str| body.lines().next().unwrap().trim().to_string();
        for (name, body) in [
            (
                "phi",
                (|a| with_activation!(a, A => A::WGSL_PHI)) as fn(Activation) -> &'static str,
            ),
            ("dphi", |a| with_activation!(a, A => A::WGSL_DPHI)),
        ] {
            let cases = wgsl_cases(&wgsl, name);
            assert_eq!(cases.len(), Activation::ALL.len(), "{name}");
            for act in Activation::ALL {
                let hits: Vec<_> = cases
                    .iter()
                    .filter(|(sel, _)| sel.contains(&act.wgsl_const()))
                    .collect();
                assert_eq!(hits.len(), 1, "{name}: {act:?}");
                assert_eq!(hits[0].1, first(body(act)), "{name}: {act:?}");
            }
            // The one default goes with the last activation.
            assert_eq!(
                cases
                    .iter()
                    .filter(|(s, _)| s.contains(&"default".into()))
                    .count(),
                1
            );
        }
        let cases = wgsl_cases(&moments, "moments");
        for act in Activation::ALL {
            let hits: Vec<_> = cases
                .iter()
                .filter(|(sel, _)| sel.contains(&act.wgsl_const()))
                .collect();
            assert_eq!(hits.len(), 1, "moments: {act:?}");
            match with_activation!(act, A => A::WGSL_DUAL) {
                Some(body) => assert_eq!((hits[0].0.len(), &hits[0].1), (1, &first(body))),
                None => {
                    assert!(hits[0].0.contains(&"default".into()), "{act:?}");
                    assert_eq!(hits[0].1, "let nan = bitcast<f32>(p.nan_bits);");
                }
            }
        }
        assert_eq!(
            cases.len(),
            Activation::ALL
                .iter()
                .filter(|a| a.has_closed_form())
                .count()
                + 1
        );
        // Each helper once, and the names the statements call are declared.
        for helper in [ERF_F32_WGSL, TANH_F32_WGSL] {
            assert_eq!(wgsl.matches(helper).count(), 1);
        }
        for f in ["fn erf_f32(", "fn tanh_f32(", "const FRAC_2_SQRT_PI"] {
            assert_eq!(wgsl.matches(f).count(), 1, "{f}");
        }
    }

    /// The Hermite series that stands in for a missing closed form handles odd φ only, and
    /// [`Phi::ODD`] is what φ does.
    #[test]
    fn activations_without_closed_forms_are_odd() {
        for act in Activation::ALL {
            assert!(act.has_closed_form() || act.is_odd(), "{act:?}");
            for &x in &[0.3, 1.7, 4.0] {
                let (p, m) = (act.apply_f64(x), act.apply_f64(-x));
                assert_eq!(act.is_odd(), p == -m, "{act:?} at ±{x}");
            }
        }
    }

    /// Each closed form agrees with itself: the diagonal form is the pair form at c = a (to
    /// rounding), and the f32 form of the device recursion is the f64 one (to f32 accuracy); an
    /// activation without one gives NaN in f32, as the shader does.
    #[test]
    fn closed_forms_agree_in_f64_diagonal_and_f32() {
        for act in Activation::ALL {
            for &a in &[0.4, 1.0, 2.5] {
                let Some(diag) = act.closed_diag_moments(a) else {
                    assert!(act.closed_moments(a, a, a).is_none());
                    let (m, md) = act.dual_f32(a as f32, 0.1, a as f32);
                    assert!(m.is_nan() && md.is_nan(), "{act:?}");
                    continue;
                };
                // At c = a the pair forms meet the diagonal ones, up to the rounding of ρ to
                // 1 − O(ε), which √(1 − ρ²) turns into O(√ε) ≈ 1.5e-8 (the reason identical
                // inputs take the diagonal forms): 1e-7 relative.
                let pair = act.closed_moments(a, a, a).unwrap();
                assert!(
                    (pair.0 - diag.0).abs() < 1e-7 * diag.0.abs(),
                    "{act:?} a={a}"
                );
                assert!(
                    (pair.1 - diag.1).abs() < 1e-7 * diag.1.abs(),
                    "{act:?} a={a}"
                );
                for &b in &[0.7, 1.9] {
                    for &rho in &[-0.8, -0.2, 0.0, 0.5, 0.95] {
                        let c: f64 = rho * (a * b).sqrt();
                        let want = act.closed_moments(a, c, b).unwrap();
                        let got = act.dual_f32(a as f32, c as f32, b as f32);
                        // f32 inputs and a few f32 roundings of 6e-8 relative on terms of
                        // the scale, with the f32 arcsine/arccosine: 5e-7 of the scale
                        // (measured: below 1e-7).
                        for (g, w) in [(got.0, want.0), (got.1, want.1)] {
                            let scale = 1.0 + w.abs();
                            assert!(
                                (g as f64 - w).abs() < 5e-7 * scale,
                                "{act:?} a={a} b={b} ρ={rho}: {g} against {w}"
                            );
                        }
                    }
                }
            }
        }
    }
}
