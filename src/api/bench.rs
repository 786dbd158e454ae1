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

/// Full-batch training of a K-output ReLU MLP (NTK parametrisation) on the CPU engine, under
/// the squared loss on one-hot targets or softmax cross-entropy, for timing the two losses at
/// the same shapes: `new LossBench("crossEntropy", depth, width, n, dim, classes)` trains on
/// `n` normal inputs in `dim` dimensions with seeded random classes;
/// `LossBench.digits(csvText, loss, depth, width, nTrain)` on the first `nTrain` of a seeded
/// split of the 8×8 digits (64 inputs, 10 classes). `steps(k)` takes k steps.
#[wasm_bindgen]
pub struct LossBench {
    trainer: crate::nn::Trainer<crate::backend::cpu::Cpu>,
    params: usize,
    outputs: usize,
}

fn parse_loss(loss: &str) -> Result<crate::nn::Loss, JsValue> {
    match loss {
        "squared" => Ok(crate::nn::Loss::Squared),
        "crossEntropy" => Ok(crate::nn::Loss::CrossEntropy),
        _ => Err(js_sys::Error::new(&format!(
            "LossBench: loss must be \"squared\" or \"crossEntropy\", not {loss:?}"
        ))
        .into()),
    }
}

impl LossBench {
    fn build(
        loss: &str,
        depth: usize,
        width: usize,
        dim: usize,
        classes: usize,
        x: &[f32],
        y: &[f32],
    ) -> Result<LossBench, JsValue> {
        use crate::backend::cpu::Cpu;
        use crate::nn::{Activation, Mlp, MlpSpec, Parametrization, Trainer};
        let loss = parse_loss(loss)?;
        let mut backend = Cpu::new();
        let spec = MlpSpec {
            input_dim: dim,
            hidden: vec![width; depth],
            activation: Activation::Relu,
            parametrization: Parametrization::Ntk,
            sigma_w: std::f64::consts::SQRT_2,
            sigma_b: 0.1,
            init_scale: 1.0,
            outputs: classes,
        };
        let mlp = Mlp::new(&mut backend, spec, &mut crate::rng::Rng::new(2)).map_err(js_err)?;
        let params = mlp.param_count();
        let trainer = Trainer::new(backend, mlp, x, y, false, 1e-3, 0, 3)
            .and_then(|t| t.with_loss(loss))
            .map_err(js_err)?;
        Ok(LossBench {
            trainer,
            params,
            outputs: classes,
        })
    }
}

#[wasm_bindgen]
impl LossBench {
    #[wasm_bindgen(constructor)]
    pub fn new(
        loss: &str,
        depth: usize,
        width: usize,
        n: usize,
        dim: usize,
        classes: usize,
    ) -> Result<LossBench, JsValue> {
        if n == 0 || dim == 0 || classes < 2 {
            return Err(js_sys::Error::new("LossBench: needs n ≥ 1, dim ≥ 1, classes ≥ 2").into());
        }
        let mut rng = crate::rng::Rng::new(1);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.normal() as f32).collect();
        let mut y = vec![0.0f32; n * classes];
        for row in y.chunks_exact_mut(classes) {
            row[rng.index(classes)] = 1.0;
        }
        LossBench::build(loss, depth, width, dim, classes, &x, &y)
    }

    /// The digits (`text`: data/digits.csv), the first `n_train` images of the split with
    /// seed 1 as the training set, one-hot targets.
    pub fn digits(
        text: &str,
        loss: &str,
        depth: usize,
        width: usize,
        n_train: usize,
    ) -> Result<LossBench, JsValue> {
        use crate::data::{Encoding, Part, digits};
        let parsed = digits::parse(text).map_err(js_err)?;
        let data = crate::data::digits_dataset(&parsed, n_train, 0, 0.0, 1).map_err(js_err)?;
        let y = data
            .targets(Part::Train, Encoding::OneHot)
            .map_err(js_err)?;
        LossBench::build(
            loss,
            depth,
            width,
            data.dim,
            data.classes,
            &data.x_train,
            &y,
        )
    }

    /// Takes `k` full-batch steps; returns the latest training loss (so the work is
    /// observable).
    pub fn steps(&mut self, k: u32) -> Result<f32, JsValue> {
        self.trainer.advance(k as u64).map_err(js_err)?;
        Ok(self.trainer.last_loss().unwrap_or(f32::NAN))
    }

    /// The network's parameter count.
    #[wasm_bindgen(getter)]
    pub fn params(&self) -> usize {
        self.params
    }

    /// The number of outputs K.
    #[wasm_bindgen(getter)]
    pub fn outputs(&self) -> usize {
        self.outputs
    }
}

/// The CSV the table benchmarks parse, about `bytes` long ([`crate::data::table::sample_csv`]).
#[wasm_bindgen(js_name = benchCsv)]
pub fn bench_csv(bytes: usize) -> String {
    crate::data::table::sample_csv(bytes)
}

/// Parses `text` as a reader's table with the default options (as the Playground does on a
/// dropped file); returns the rows kept.
#[wasm_bindgen(js_name = benchParseTable)]
pub fn bench_parse_table(text: &str) -> Result<usize, JsValue> {
    let t =
        crate::data::parse_table(text, &crate::data::TableOptions::default()).map_err(js_err)?;
    Ok(t.rows)
}

/// The peer of the Weak-labels scene's `weakMeanMapCurve(config)` on the benchmark page: the
/// same curve with the labels known. Per sweep seed it draws the same pool; at every bag size
/// it takes the class means of the same `instances` pool rows from their true labels and
/// predicts the test set with the mean map's nearest-mean rule. What the mean map adds to this
/// is the bags (Dirichlet proportions, members), the bag means and the least squares with the
/// SVD of the proportion matrix. Uses the digits `setDigits` gave; returns the mean accuracy
/// (a checksum). `benches/weak_labels.rs` times the same function natively.
#[wasm_bindgen(js_name = benchWeakNearestMeanCurve)]
pub fn bench_weak_nearest_mean_curve(config: JsValue) -> Result<f64, JsValue> {
    use crate::scenes::weak_labels::{WeakConfig, labelled_mean_curve};
    let config: WeakConfig = super::config_from(config, WeakConfig::default())?;
    config.validate().map_err(js_err)?;
    let source = super::weak_labels::source();
    let accuracies = labelled_mean_curve(&config.with_source(&source), &source).map_err(js_err)?;
    Ok(accuracies.iter().sum::<f64>() / accuracies.len().max(1) as f64)
}

/// The Lazy-or-rich scene's ensemble at its defaults (sine points, erf, one hidden layer) with
/// `networks` networks of width `width` on `n_train` points, for timing the batched trainer
/// against one network: `steps(k)` trains every network k steps. With `networks` 0 it is the
/// scene's single network instead (the Playground's trainer, the same settings), the peer of the
/// ensemble. `band(lr, steps)` recomputes the infinite-width band from its cached factorisation,
/// as a new step size does.
#[wasm_bindgen]
pub struct EnsembleBench {
    ensemble: Option<crate::scenes::lazy::Ensemble>,
    single: Option<crate::session::grid::GridRun>,
}

#[wasm_bindgen]
impl EnsembleBench {
    #[wasm_bindgen(constructor)]
    pub fn new(networks: usize, width: usize, n_train: usize) -> Result<EnsembleBench, JsValue> {
        use crate::scenes::lazy;
        let mut config = lazy::scene_defaults();
        config.net.width = width;
        config.data.n_train = n_train;
        config.net.init.center_output = false;
        let pg = crate::session::grid::GridRun::new(config.clone()).map_err(js_err)?;
        if networks == 0 {
            return Ok(EnsembleBench {
                ensemble: None,
                single: Some(pg),
            });
        }
        let grid = pg.grid_points().to_vec();
        let e = lazy::Ensemble::new(&config, networks, &pg.data.x_train, &pg.data.y_train, &grid)
            .map_err(js_err)?;
        Ok(EnsembleBench {
            ensemble: Some(e),
            single: None,
        })
    }

    /// μ_t and σ_t on the grid after `steps` steps of step size `lr` (the ensemble's band, from
    /// its cached factorisation); returns Σσ so that the work is observable.
    pub fn band(&mut self, lr: f64, steps: u32) -> Result<f64, JsValue> {
        let e = self
            .ensemble
            .as_mut()
            .ok_or_else(|| js_sys::Error::new("the single network has no band"))?;
        e.set_lr(lr).map_err(js_err)?;
        let (_, sd) = e.band_at(steps as u64).map_err(js_err)?;
        Ok(sd.iter().sum())
    }

    /// Trains k more steps (every network); returns the step reached.
    pub fn steps(&mut self, k: u32) -> Result<f64, JsValue> {
        if let Some(e) = self.ensemble.as_mut() {
            let to = e.step() + k as u64;
            e.advance_to(to).map_err(js_err)?;
            return Ok(e.step() as f64);
        }
        let pg = self.single.as_mut().expect("one of the two");
        pg.train_only(k as u64);
        Ok(pg.step() as f64)
    }
}
