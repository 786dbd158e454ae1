// nngp_ntk_recursion: the layer recursion of the analytic NNGP and NTK
// (src/kernels/analytic.rs) per element of a rows × cols kernel matrix, in f32:
//
//   g = a1[r,c],  Σ = s²(σ_w² g + σ_b²),  Θ = α_w[0] g + α_b[0]
//   for l < depth:  (E, Ė) = moments(var_rows[l,r], Σ, var_cols[l,c]),
//                   Θ ← Θ · s²σ_w² Ė + α_w[l+1] E + α_b[l+1],  Σ ← s²(σ_w² E + σ_b²)
//   out[e] = Σ,  out[rows·cols + e] = Θ   (e = r·cols + c)
//
// CPU twin: `Cpu::nngp_ntk_recursion` (src/backend/cpu/mod.rs), with the moments of each
// activation's `Phi::dual_f32` (src/math/activation.rs) and the arcsine of `acos_f32` /
// `asin_f32` (src/math/special.rs): the same operations in the same order (keep in sync).
// The arcsine is a polynomial here rather than the builtin, whose WGSL accuracy bound is loose
// near ±1, where ReLU's correlations go with depth. activation.wgsl is prepended (activation codes, flat_index).

// Keep in sync with `NngpNtkRecursionParams` in params.rs (field for field).
struct Params {
    rows: u32,
    cols: u32,
    depth: u32,
    act: u32,
    s2: f32,
    sw2: f32,
    sb2: f32,
    // The bits of a quiet NaN (0x7fc00000), the result for an activation without closed forms:
    // given at run time, since a WGSL constant expression may not evaluate to NaN.
    nan_bits: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a1: array<f32>;
@group(0) @binding(2) var<storage, read> var_rows: array<f32>;
@group(0) @binding(3) var<storage, read> var_cols: array<f32>;
@group(0) @binding(4) var<storage, read> layer_coefs: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const PI: f32 = 3.14159265358979;
const FRAC_PI_2: f32 = 1.5707963267948966;
const FRAC_2_PI: f32 = 0.6366197723675814;
const INV_2PI: f32 = 0.15915494309189535;
const MIN_POSITIVE: f32 = 1.17549435e-38;

// asin(t) for 0 <= t <= 1/2: t + t·u·P(u), u = t², P the polynomial of special.rs (Horner).
fn asin_reduced(t: f32) -> f32 {
    let u = t * t;
    var q = 0.028169218060881414;
    q = q * u - 0.010749050339697808;
    q = q * u + 0.01603551434914882;
    q = q * u + 0.0078029494773533175;
    q = q * u + 0.011875494382636922;
    q = q * u + 0.013929652902326633;
    q = q * u + 0.017355259955786323;
    q = q * u + 0.02237204763174451;
    q = q * u + 0.03038194736709848;
    q = q * u + 0.044642857103423646;
    q = q * u + 0.07500000000020764;
    q = q * u + 0.1666666666666665;
    return t + t * u * q;
}

fn acos_f32(x: f32) -> f32 {
    let ax = abs(x);
    let big = ax > 0.5;
    let half = sqrt(max((1.0 - ax) * 0.5, 0.0));
    let q = asin_reduced(select(ax, half, big));
    let r = select(FRAC_PI_2 - q, 2.0 * q, big);
    return select(r, PI - r, x < 0.0);
}

fn asin_f32(x: f32) -> f32 {
    let ax = abs(x);
    let big = ax > 0.5;
    let half = sqrt(max((1.0 - ax) * 0.5, 0.0));
    let q = asin_reduced(select(ax, half, big));
    let r = select(q, FRAC_PI_2 - 2.0 * q, big);
    return select(r, -r, x < 0.0);
}

// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) for (u, v) ~ N(0, [[a, c], [c, b]]); NaN for tanh.
fn moments(act: u32, a: f32, c: f32, b: f32) -> vec2<f32> {
    switch act {
        case ACT_RELU: {
            let ra = sqrt(max(a, 0.0));
            let rb = sqrt(max(b, 0.0));
            let ia = select(0.0, 1.0 / ra, ra > 0.0);
            let ib = select(0.0, 1.0 / rb, rb > 0.0);
            let rho = clamp(c * (ia * ib), -1.0, 1.0);
            let s = sqrt((1.0 - rho) * (1.0 + rho));
            let pi_minus = acos_f32(-rho);
            let live = select(0.0, 1.0, ra * rb > 0.0);
            return vec2<f32>(ra * rb * (s + pi_minus * rho) * INV_2PI, live * pi_minus * INV_2PI);
        }
        case ACT_ERF: {
            let qa = 1.0 / sqrt(1.0 + 2.0 * a);
            let qb = 1.0 / sqrt(1.0 + 2.0 * b);
            let qq = qa * qb;
            let arg = clamp(2.0 * c * qq, -1.0, 1.0);
            let det = sqrt((1.0 - arg) * (1.0 + arg));
            return vec2<f32>(FRAC_2_PI * asin_f32(arg), 2.0 * FRAC_2_PI * qq / max(det, MIN_POSITIVE));
        }
        case ACT_LINEAR: {
            return vec2<f32>(c, 1.0);
        }
        default: {
            let nan = bitcast<f32>(p.nan_bits);
            return vec2<f32>(nan, nan);
        }
    }
}

@compute @workgroup_size(256)
fn nngp_ntk_recursion(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = flat_index(gid, nwg);
    let len = p.rows * p.cols;
    if (e >= len) {
        return;
    }
    let r = e / p.cols;
    let c = e % p.cols;
    let s2sw2 = p.s2 * p.sw2;
    let g = a1[e];
    var sigma = p.s2 * (p.sw2 * g + p.sb2);
    var theta = layer_coefs[0] * g + layer_coefs[p.depth + 1u];
    for (var l = 0u; l < p.depth; l = l + 1u) {
        let a = var_rows[l * p.rows + r];
        let b = var_cols[l * p.cols + c];
        let m = moments(p.act, a, sigma, b);
        theta = theta * (s2sw2 * m.y) + layer_coefs[l + 1u] * m.x + layer_coefs[p.depth + 2u + l];
        sigma = p.s2 * (p.sw2 * m.x + p.sb2);
    }
    out[e] = sigma;
    out[len + e] = theta;
}
