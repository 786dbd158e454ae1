//! Benchmark entry points (issue #7): used only by the benchmark page (www/bench.html,
//! www/js/bench/worker.js); the scenes never call them.

use wasm_bindgen::prelude::*;

use super::js_err;
use crate::session::net::{DataSettings, NetSettings};
use crate::session::run::{Run, RunConfig};

/// Analytic-NTK kernel regression on the circles data, in phases the benchmark page times:
/// `kernels()` (k_train_train and k_test_train), then `solve()` (Cholesky of K + ridge·I,
/// solve, prediction).
#[wasm_bindgen]
pub struct KernelRegressionBench {
    spec: crate::kernels::KernelSpec,
    x_train: Vec<f64>,
    x_test: Vec<f64>,
    y_train: Vec<f64>,
    k_train_train: nalgebra::DMatrix<f64>,
    k_test_train: nalgebra::DMatrix<f64>,
}

#[wasm_bindgen]
impl KernelRegressionBench {
    #[wasm_bindgen(constructor)]
    pub fn new(
        n_train: usize,
        n_test: usize,
        depth: usize,
    ) -> Result<KernelRegressionBench, JsValue> {
        let data = crate::data::generate(
            crate::data::DatasetKind::Circles,
            n_train,
            n_test,
            0.1,
            0.0,
            1,
        )
        .map_err(js_err)?;
        let f = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let spec = crate::kernels::KernelSpec::ntk(
            depth,
            crate::nn::Activation::Relu,
            std::f64::consts::SQRT_2,
            0.1,
        );
        Ok(KernelRegressionBench {
            spec,
            x_train: f(&data.x_train),
            x_test: f(&data.x_test),
            y_train: f(&data.y_train),
            k_train_train: nalgebra::DMatrix::zeros(0, 0),
            k_test_train: nalgebra::DMatrix::zeros(0, 0),
        })
    }

    /// Computes the analytic NTK on train × train and test × train.
    pub fn kernels(&mut self) -> Result<(), JsValue> {
        let mut nngp = nalgebra::DMatrix::zeros(0, 0);
        crate::kernels::nngp_ntk_into(
            &self.spec,
            &self.x_train,
            None,
            2,
            &mut nngp,
            &mut self.k_train_train,
        )
        .map_err(js_err)?;
        crate::kernels::nngp_ntk_into(
            &self.spec,
            &self.x_test,
            Some(&self.x_train),
            2,
            &mut nngp,
            &mut self.k_test_train,
        )
        .map_err(js_err)?;
        Ok(())
    }

    /// Factorises, solves and predicts; returns the test predictions' mean (a checksum).
    pub fn solve(&self, ridge: f64) -> Result<f64, JsValue> {
        let f = crate::kernels::machine::kernel_ridge(
            &self.k_train_train,
            &self.k_test_train,
            &self.y_train,
            ridge,
        )
        .map_err(js_err)?;
        Ok(f.iter().sum::<f64>() / f.len().max(1) as f64)
    }
}

/// The empirical NTK of a one-hidden-layer ReLU network on the circles data, for timing.
#[wasm_bindgen]
pub struct EmpiricalNtkBench {
    run: Run,
}

#[wasm_bindgen]
impl EmpiricalNtkBench {
    #[wasm_bindgen(constructor)]
    pub fn new(width: usize, n: usize) -> Result<EmpiricalNtkBench, JsValue> {
        let config = RunConfig {
            data: DataSettings {
                n_train: n,
                ..RunConfig::default().data
            },
            net: NetSettings {
                width,
                ..RunConfig::default().net
            },
            ..RunConfig::default()
        };
        Ok(EmpiricalNtkBench {
            run: Run::new(config).map_err(js_err)?,
        })
    }

    /// Computes the n × n empirical NTK; returns its trace (a checksum).
    pub fn run(&mut self) -> Result<f64, JsValue> {
        let x = self.run.data.x_train.clone();
        let k = self.run.ntk(&x, None).map_err(js_err)?;
        Ok(k.trace())
    }
}

/// One dense f32 product `C = op(A) · op(B)` (m×k · k×n) with the engine's GEMM, on fixed
/// pseudo-random operands, for timing from JavaScript: `new GemmBench("NT", m, n, k)`, then
/// `run(reps)` computes the product `reps` times back to back.
#[wasm_bindgen]
pub struct GemmBench {
    gemm: crate::backend::cpu::gemm::Gemm,
    ta: crate::backend::Trans,
    tb: crate::backend::Trans,
    m: usize,
    n: usize,
    k: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

#[wasm_bindgen]
impl GemmBench {
    /// `trans` is "NN", "NT", "TN" or "TT": whether A, then B, is used transposed.
    #[wasm_bindgen(constructor)]
    pub fn new(trans: &str, m: u32, n: u32, k: u32) -> Result<GemmBench, JsValue> {
        use crate::backend::Trans;
        let t = |c: u8| match c {
            b'N' => Ok(Trans::N),
            b'T' => Ok(Trans::T),
            _ => Err(JsValue::from(js_sys::Error::new(
                "GemmBench: trans must be NN, NT, TN or TT",
            ))),
        };
        let bytes = trans.as_bytes();
        if bytes.len() != 2 {
            return Err(js_sys::Error::new("GemmBench: trans must be NN, NT, TN or TT").into());
        }
        let (m, n, k) = (m as usize, n as usize, k as usize);
        if m == 0 || n == 0 || k == 0 || m * k > 1 << 24 || k * n > 1 << 24 || m * n > 1 << 24 {
            return Err(js_sys::Error::new("GemmBench: sizes must be in 1..=4096²").into());
        }
        Ok(GemmBench {
            gemm: crate::backend::cpu::gemm::Gemm::new(),
            ta: t(bytes[0])?,
            tb: t(bytes[1])?,
            m,
            n,
            k,
            a: (0..m * k)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect(),
            b: (0..k * n)
                .map(|i| ((i * 104_729) % 997) as f32 / 997.0 - 0.5)
                .collect(),
            c: vec![0.0; m * n],
        })
    }

    /// Floating-point operations of one product, 2·m·n·k.
    #[wasm_bindgen(getter)]
    pub fn flops(&self) -> f64 {
        2.0 * (self.m * self.n * self.k) as f64
    }

    /// Computes the product `reps` times; returns one entry of C (so the work is observable).
    pub fn run(&mut self, reps: u32) -> f32 {
        use crate::backend::Trans;
        let lda = if self.ta == Trans::N { self.k } else { self.m };
        let ldb = if self.tb == Trans::N { self.n } else { self.k };
        for _ in 0..reps {
            self.gemm.run(
                self.ta,
                self.tb,
                self.m,
                self.n,
                self.k,
                1.0,
                &self.a,
                lda,
                &self.b,
                ldb,
                0.0,
                &mut self.c,
                self.n,
            );
        }
        self.c[(self.m * self.n) / 2]
    }
}
