use super::features::{self, Components, draw_first_layer, draw_sphere};
use super::gram::block_f64;
use super::*;
use crate::backend::cpu::gemm::Gemm;
use crate::error::Error;
use crate::linalg::tridiagonal::recompose;
use crate::session::budget::DOUBLE_DESCENT_MEMORY;

fn small(sweep: Sweep, features: FeatureMap) -> DoubleDescentConfig {
    DoubleDescentConfig {
        sweep,
        features,
        n_train: 40,
        n_features: 40,
        dim: 10,
        n_test: 60,
        sizes: 13,
        seeds: 2,
        teacher: Teacher::Nonlinear,
        ..DoubleDescentConfig::default()
    }
}

#[test]
fn every_gram_is_the_direct_product_of_its_features() {
    // The accumulated (swept side) and leading-block (fixed side) Grams, through the
    // reduction, equal Φ_pΦ_pᵀ or Φ_pᵀΦ_p computed directly for that size.
    for sweep in [Sweep::Features, Sweep::Samples] {
        let cfg = small(sweep, FeatureMap::Relu);
        let mut s = DoubleDescent::new(cfg, None).unwrap();
        s.advance().unwrap();
        let (phi, _, p_max) = s.features_train(0).unwrap();
        for fit in &s.replicates[0].fits {
            let Size { n, p } = fit.size;
            let block = block_f64(phi, p_max, 0..n, 0..p);
            let direct = if fit.size.is_dual() {
                &block * block.transpose()
            } else {
                block.transpose() * &block
            };
            let err = (recompose(&fit.tri) - &direct).norm() / direct.norm();
            assert!(err < 1e-13, "{sweep:?} n {n} p {p}: {err}");
        }
    }
}

#[test]
fn refit_errors_equal_direct_evaluation() {
    // Train error and norm from the tridiagonal coordinates, and test error from the
    // batched f32 products, against a direct f64 evaluation of the fitted weights.
    for sweep in [Sweep::Features, Sweep::Samples] {
        for features in [FeatureMap::Relu, FeatureMap::Fourier] {
            let mut cfg = small(sweep, features);
            cfg.ridge = 1e-3;
            let mut s = DoubleDescent::new(cfg.clone(), None).unwrap();
            s.run().unwrap();
            let (n_max, p_max) = cfg.extent();
            for r in 0..cfg.seeds {
                let rep = &s.replicates[r];
                let y = s.train_targets(r).unwrap();
                let w = cfg.component_weights();
                let y_test = Components::combine(&rep.components.test, &w, cfg.n_test);
                let drawn = draw_sphere(&cfg, rep.seed, n_max);
                let layer = draw_first_layer(cfg.features, cfg.dim, p_max, rep.seed);
                let phi_test = features::features(
                    &mut Gemm::new(),
                    cfg.features,
                    &drawn.x_test,
                    cfg.n_test,
                    cfg.dim,
                    &layer,
                    p_max,
                );
                for (i, size) in s.grid().iter().enumerate() {
                    let a = s.coefficients(r, i).unwrap();
                    let predict = |phi: &[f32], row: usize| -> f64 {
                        (0..size.p)
                            .map(|j| phi[row * p_max + j] as f64 * a[j])
                            .sum()
                    };
                    let train: f64 = (0..size.n)
                        .map(|row| (predict(&rep.phi, row) - y[row]).powi(2))
                        .sum::<f64>()
                        / size.n as f64;
                    let test: f64 = (0..cfg.n_test)
                        .map(|row| (predict(&phi_test, row) - y_test[row]).powi(2))
                        .sum::<f64>()
                        / cfg.n_test as f64;
                    let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let e = &rep.errors;
                    let tag = format!("{sweep:?} {features:?} seed {r} size {size:?}");
                    assert!(
                        (e.train_mse[i] - train).abs() < 1e-9 * (1.0 + train),
                        "{tag}: train {} vs {train}",
                        e.train_mse[i]
                    );
                    assert!(
                        (e.norm[i] - norm).abs() < 1e-9 * norm,
                        "{tag}: norm {} vs {norm}",
                        e.norm[i]
                    );
                    // f32 products: relative 1e-4.
                    assert!(
                        (e.test_mse[i] - test).abs() < 1e-4 * test,
                        "{tag}: test {} vs {test}",
                        e.test_mse[i]
                    );
                }
                assert!(n_max >= cfg.n_train);
            }
        }
    }
}

#[test]
fn configurations_are_validated() {
    let ok = DoubleDescentConfig::default();
    assert!(ok.validate(DOUBLE_DESCENT_MEMORY).is_ok());
    let e = DoubleDescentConfig {
        ridge: -1.0,
        ..ok.clone()
    }
    .validate(DOUBLE_DESCENT_MEMORY);
    assert!(e.unwrap_err().to_string().contains("ridge"));
    let big = DoubleDescentConfig {
        n_train: 1000,
        ratio_max: 20.0,
        seeds: 20,
        n_test: 5000,
        ..ok.clone()
    };
    assert!(matches!(
        big.validate(DOUBLE_DESCENT_MEMORY),
        Err(Error::TooLarge { .. })
    ));
    let samples = DoubleDescentConfig {
        sweep: Sweep::Samples,
        n_features: 1000,
        ratio_max: 2.0,
        ..ok.clone()
    };
    assert!(samples.validate(DOUBLE_DESCENT_MEMORY).is_ok());
    let digits = DoubleDescentConfig {
        data: DataSource::Digits,
        n_train: 300,
        n_test: 1000,
        sweep: Sweep::Samples,
        n_features: 200,
        ..ok.clone()
    };
    assert!(
        digits
            .validate(DOUBLE_DESCENT_MEMORY)
            .unwrap_err()
            .to_string()
            .contains("digits")
    );
    let no_data = DoubleDescent::new(
        DoubleDescentConfig {
            data: DataSource::Digits,
            n_test: 500,
            ..ok
        },
        None,
    );
    assert!(no_data.is_err());
}
