//! Native timings of the kernel machinery the lazy-or-rich scene runs in the browser:
//!
//! 1. analytic-NTK kernel regression, 1,000 training and 4,096 test points in d = 2, ReLU,
//!    NTK parametrisation, depth 1–3: k_train_train, k_test_train, the factorisation
//!    (one-shot Cholesky, or the cached eigendecomposition), the prediction, and the totals;
//! 2. the empirical NTK of a width-1,024 one-hidden-layer network on 256 points.
//!
//! `cargo bench --bench kernels` prints the median of several runs of each stage;
//! `cargo bench --bench kernels -- depth2` keeps the rows whose name contains "depth2".

use std::time::Instant;

use descent::backend::cpu::Cpu;
use descent::kernels::machine::kernel_ridge;
use descent::kernels::{Filter, KernelMachine, KernelSpec, nngp_ntk, ntk_into};
use descent::nn::ntk::empirical_kernels;
use descent::nn::{Activation, Mlp, MlpSpec, Parametrization};
use descent::rng::Rng;
use nalgebra::DMatrix;

const N_TRAIN: usize = 1000;
const N_TEST: usize = 4096;
const D: usize = 2;

/// Median wall time in milliseconds of `runs` calls of `f`.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = std::hint::black_box(f());
        times.push(t.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last.expect("runs ≥ 1"))
}

fn points(n: usize, rng: &mut Rng) -> Vec<f64> {
    (0..n * D).map(|_| rng.uniform_in(-1.0, 1.0)).collect()
}

fn regression(depth: usize, runs: usize) {
    let mut rng = Rng::new(1);
    let x_train = points(N_TRAIN, &mut rng);
    let x_test = points(N_TEST, &mut rng);
    let y_train: Vec<f64> = x_train
        .chunks_exact(D)
        .map(|p| (3.0 * p[0]).sin() * p[1] + 0.1 * rng.normal())
        .collect();
    let spec = KernelSpec::ntk(depth, Activation::Relu, 1.4, 0.1);
    let ridge = 1e-3;

    // The kernels into buffers kept between calls (as a scene does when a slider moves), and
    // once more into fresh ones (the first call pays for the allocation).
    let mut k_train_train = DMatrix::zeros(0, 0);
    let mut k_test_train = DMatrix::zeros(0, 0);
    let (t_train, _) = median_ms(runs, || {
        ntk_into(&spec, &x_train, None, D, &mut k_train_train).expect("kernel")
    });
    let (t_test, _) = median_ms(runs, || {
        ntk_into(&spec, &x_test, Some(&x_train), D, &mut k_test_train).expect("kernel")
    });
    let (t_fresh, _) = median_ms(runs, || {
        nngp_ntk(&spec, &x_test, Some(&x_train), D).expect("kernel")
    });
    let (t_chol, f_chol) = median_ms(runs, || {
        kernel_ridge(&k_train_train, &k_test_train, &y_train, ridge).expect("cholesky")
    });
    let (t_eig, machine) = median_ms(runs.min(3), || {
        KernelMachine::new(&k_train_train).expect("eigendecomposition")
    });
    let (t_pred, f_eig) = median_ms(runs, || {
        machine
            .krr(&k_test_train, &y_train, ridge)
            .expect("prediction")
    });
    let lr = machine.max_stable_lr() / 2.0;
    let (t_flow, _) = median_ms(runs, || {
        machine
            .predict_test(
                Filter::Flow { lr, t: 100.0 },
                &k_test_train,
                &y_train,
                None,
                None,
            )
            .expect("flow")
    });
    let agree = (&f_chol - &f_eig).amax() / f_chol.amax();
    println!(
        "relu depth{depth}: k_train_train {t_train:6.1} ms | k_test_train {t_test:6.1} ms \
         (fresh, with the NNGP: {t_fresh:6.1} ms) | Cholesky factor+solve+predict {t_chol:5.1} ms \
         | eigendecomposition {t_eig:6.1} ms, then KRR {t_pred:4.1} ms, flow {t_flow:4.1} ms"
    );
    println!(
        "              total, Cholesky path {:6.1} ms | total, eigendecomposition path {:6.1} ms \
         | the two predictions agree to {agree:.1e}",
        t_train + t_test + t_chol,
        t_train + t_test + t_eig + t_pred
    );
}

fn empirical(runs: usize) {
    let mut backend = Cpu::new();
    let spec = MlpSpec {
        input_dim: D,
        hidden: vec![1024],
        activation: Activation::Relu,
        parametrization: Parametrization::Ntk,
        sigma_w: 1.4,
        sigma_b: 0.1,
        init_scale: 1.0,
        outputs: 1,
    };
    let mut rng = Rng::new(2);
    let mlp = Mlp::new(&mut backend, spec, &mut rng).expect("network");
    let x: Vec<f32> = (0..256 * D)
        .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
        .collect();
    let (t, k) = median_ms(runs, || {
        empirical_kernels(&mut backend, &mlp, &x, None).expect("empirical NTK")
    });
    println!(
        "relu depth1: empirical NTK + NNGP, width 1024, 256 points: {t:6.2} ms (Θ₀₀ = {:.3})",
        k.ntk[(0, 0)]
    );
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let keep = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    for depth in 1..=3 {
        if keep(&format!("relu depth{depth} regression")) {
            regression(depth, 5);
        }
    }
    if keep("empirical") {
        empirical(11);
    }
}
