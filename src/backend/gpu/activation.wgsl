// The activations φ and their derivatives φ', shared by bias_act.wgsl and act_backward.wgsl
// (prepended to each). CPU twins: `Phi::apply` / `Phi::derivative` in each activation's block,
// `erf_f32` and `tanh_f32`, in src/math/activation.rs.

// Activation codes: `Activation::gpu_code` in src/math/activation.rs (a test there checks them).
const ACT_RELU: u32 = 0u;
const ACT_ERF: u32 = 1u;
const ACT_TANH: u32 = 2u;
const ACT_LINEAR: u32 = 3u;

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

fn phi(v: f32, act: u32) -> f32 {
    switch act {
        case ACT_RELU: { return max(v, 0.0); }
        case ACT_ERF: { return erf_f32(v); }
        case ACT_TANH: { return tanh_f32(v); }
        default: { return v; }
    }
}

fn dphi(v: f32, act: u32) -> f32 {
    switch act {
        case ACT_RELU: { return select(0.0, 1.0, v > 0.0); }
        case ACT_ERF: { return FRAC_2_SQRT_PI * exp(-v * v); }
        case ACT_TANH: {
            let t = tanh_f32(v);
            return 1.0 - t * t;
        }
        default: { return 1.0; }
    }
}

// The flat index of an invocation of a 1-D dispatch that may be folded into 2-D (more than
// 65535 workgroups of 256).
fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}
