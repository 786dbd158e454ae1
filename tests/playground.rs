//! The Playground session as the page drives it: training lowers the loss, the same seed
//! reproduces the same numbers, divergence is reported in words, bad settings are refused.

use descent::data::DatasetKind;
use descent::error::human_bytes;
use descent::nn::{Activation, Parametrization};
use descent::scenes::playground::{Playground, PlaygroundConfig};
use descent::session::net::{DataSettings, InitSettings, NetSettings};

fn config(dataset: DatasetKind) -> PlaygroundConfig {
    PlaygroundConfig {
        data: DataSettings {
            dataset,
            ..PlaygroundConfig::default().data
        },
        ..PlaygroundConfig::default()
    }
}

#[test]
fn training_fits_every_dataset() {
    // 400 full-batch steps of the default network: the training loss at least halves (spirals,
    // the hardest set for one hidden layer, by a quarter) and classification reaches a
    // training accuracy well above chance.
    for kind in DatasetKind::ALL {
        let mut pg = Playground::new(config(kind)).unwrap();
        let r0 = pg.evaluate();
        let r = pg.advance(400);
        assert_eq!(r.step, 400);
        assert!(r.diverged.is_none(), "{kind:?}: {:?}", r.message);
        let factor = if kind == DatasetKind::Spirals {
            0.75
        } else {
            0.5
        };
        assert!(
            r.train_loss < factor * r0.train_loss,
            "{kind:?}: {} -> {}",
            r0.train_loss,
            r.train_loss
        );
        if let Some(acc) = r.train_acc {
            let min = if kind == DatasetKind::Spirals {
                0.6
            } else {
                0.9
            };
            assert!(acc > min, "{kind:?}: training accuracy {acc}");
        }
    }
}

#[test]
fn every_activation_and_parametrisation_trains() {
    for act in Activation::ALL {
        for par in Parametrization::ALL {
            for center_output in [false, true] {
                let cfg = PlaygroundConfig {
                    data: DataSettings {
                        dataset: DatasetKind::Sine,
                        ..PlaygroundConfig::default().data
                    },
                    net: NetSettings {
                        width: 64,
                        depth: 2,
                        init: InitSettings {
                            activation: act,
                            parametrization: par,
                            center_output,
                            ..PlaygroundConfig::default().net.init
                        },
                    },
                    // Standard parametrisation: the NTK grows with width, so the step shrinks.
                    lr: if par == Parametrization::Standard {
                        0.002
                    } else {
                        0.1
                    },
                    ..PlaygroundConfig::default()
                };
                let mut pg = Playground::new(cfg).unwrap();
                let r0 = pg.evaluate();
                let r = pg.advance(200);
                assert!(r.diverged.is_none(), "{act:?} {par:?}: {:?}", r.message);
                assert!(
                    r.train_loss < r0.train_loss,
                    "{act:?} {par:?} centred={center_output}"
                );
                assert!(pg.predict_grid().iter().all(|v| v.is_finite()));
            }
        }
    }
}

#[test]
fn same_seed_reproduces_the_same_numbers() {
    let cfg = PlaygroundConfig {
        batch_size: 32,
        ..config(DatasetKind::Spirals)
    };
    let mut a = Playground::new(cfg.clone()).unwrap();
    let mut b = Playground::new(cfg.clone()).unwrap();
    assert_eq!(a.advance(50), b.advance(50));
    assert_eq!(a.predict_grid(), b.predict_grid());
    let mut c = Playground::new(PlaygroundConfig {
        data: DataSettings {
            seed: 2,
            ..cfg.data
        },
        ..cfg
    })
    .unwrap();
    assert_ne!(a.advance(1).train_loss, c.advance(51).train_loss);
}

#[test]
fn mini_batch_training_lowers_the_full_training_loss() {
    let cfg = PlaygroundConfig {
        batch_size: 16,
        lr: 0.2,
        ..config(DatasetKind::Gaussians)
    };
    let mut pg = Playground::new(cfg).unwrap();
    let r0 = pg.evaluate();
    let r = pg.advance(300);
    assert!(
        r.train_loss < 0.6 * r0.train_loss,
        "{} -> {}",
        r0.train_loss,
        r.train_loss
    );
}

#[test]
fn centred_output_starts_from_zero() {
    let cfg = PlaygroundConfig {
        net: NetSettings {
            init: InitSettings {
                center_output: true,
                init_scale: 30.0,
                ..config(DatasetKind::Sine).net.init
            },
            ..config(DatasetKind::Sine).net
        },
        ..config(DatasetKind::Sine)
    };
    let mut pg = Playground::new(cfg).unwrap();
    assert!(pg.predict_grid().iter().all(|&v| v == 0.0));
    // Loss at step 0 is then the mean of y²/2 over the training points.
    let want: f64 = pg
        .data
        .y_train
        .iter()
        .map(|&y| (y as f64).powi(2))
        .sum::<f64>()
        / (2.0 * pg.data.n_train() as f64);
    assert!((pg.evaluate().train_loss - want).abs() < 1e-9);
}

#[test]
fn a_huge_step_size_reports_divergence_in_words_and_keeps_finite_numbers() {
    let cfg = PlaygroundConfig {
        lr: 1000.0,
        ..config(DatasetKind::Circles)
    };
    let mut pg = Playground::new(cfg).unwrap();
    let r = pg.advance(100);
    let k = r.diverged.expect("lr = 1000 must diverge");
    assert!(k < 100);
    let msg = r.message.clone().unwrap();
    assert!(msg.starts_with(&format!("diverged at step {k}")), "{msg}");
    // The losses shown come from the last finite evaluation, and the message says which.
    assert!(
        r.step < k && msg.contains(&format!("from step {}", r.step)),
        "{msg}"
    );
    assert!(r.train_loss.is_finite() && r.test_loss.is_finite());
    assert!(pg.predict_grid().iter().all(|v| v.is_finite()));
    // The run stays stopped and says the same thing.
    assert_eq!(pg.advance(10), r);
    assert_eq!(pg.step(), k);
}

#[test]
fn step_size_changes_apply_without_a_reset() {
    let mut pg = Playground::new(config(DatasetKind::Xor)).unwrap();
    pg.advance(10);
    pg.set_lr(2000.0).unwrap_err();
    pg.set_lr(f64::NAN).unwrap_err();
    pg.set_lr(1000.0).unwrap();
    assert_eq!(pg.step(), 10);
    assert!(pg.advance(50).diverged.is_some());
}

#[test]
fn out_of_range_settings_are_refused_by_name() {
    for (cfg, field) in [
        (
            PlaygroundConfig {
                net: NetSettings {
                    width: 0,
                    ..Default::default()
                },
                ..Default::default()
            },
            "width",
        ),
        (
            PlaygroundConfig {
                net: NetSettings {
                    width: 5000,
                    ..Default::default()
                },
                ..Default::default()
            },
            "width",
        ),
        (
            PlaygroundConfig {
                net: NetSettings {
                    depth: 5,
                    ..Default::default()
                },
                ..Default::default()
            },
            "depth",
        ),
        (
            PlaygroundConfig {
                net: NetSettings {
                    init: InitSettings {
                        init_scale: 1e3,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
            "initScale",
        ),
        (
            PlaygroundConfig {
                lr: -1.0,
                ..Default::default()
            },
            "lr",
        ),
        (
            PlaygroundConfig {
                data: DataSettings {
                    noise: f64::INFINITY,
                    ..Default::default()
                },
                ..Default::default()
            },
            "noise",
        ),
    ] {
        let msg = Playground::new(cfg).err().expect("refused").to_string();
        assert!(msg.contains(field), "{msg}");
    }
}

#[test]
fn an_oversize_network_is_refused_with_its_memory_estimate() {
    let big = PlaygroundConfig {
        data: DataSettings {
            n_train: 2048,
            ..Default::default()
        },
        net: NetSettings {
            width: 4096,
            depth: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let est = big.memory_bytes();
    // 3 hidden-to-hidden layers of 4096² weights alone are 201 MB; activations of 2048 rows more.
    assert!(est > 400_000_000, "estimate {est}");
    let msg = Playground::new(big).err().expect("refused").to_string();
    let want = format!(
        "would need about {} of memory, more than the 536.9 MB limit",
        human_bytes(est)
    );
    assert!(msg.contains(&want), "{msg}");
    // The same limit logic on a small network, with a tiny limit.
    let msg = Playground::with_memory_limit(PlaygroundConfig::default(), 10_000)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("would need about"), "{msg}");
}
