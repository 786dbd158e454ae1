//! The Lazy-or-rich scene's ensemble mode: finite networks over seeds against the
//! infinite-width band μ_t ± 2σ_t (`scenes::lazy::ensemble`).

use descent::backend::cpu::Cpu;
use descent::data::DatasetKind;
use descent::exec::block_on;
use descent::kernels::{KernelSpec, nngp_ntk};
use descent::nn::{Activation, BatchedTrainer, NetConfig, Parametrization};
use descent::scenes::lazy::{Ensemble, EnsembleSweep, LazyRich, compare};
use descent::scenes::playground::PlaygroundConfig;
use descent::session::net::{DataSettings, InitSettings, NetSettings};

fn config(width: usize, n_train: usize) -> PlaygroundConfig {
    PlaygroundConfig {
        data: DataSettings {
            dataset: DatasetKind::Sine,
            n_train,
            seed: 3,
            ..PlaygroundConfig::default().data
        },
        net: NetSettings {
            width,
            depth: 1,
            init: InitSettings {
                activation: Activation::Erf,
                parametrization: Parametrization::Ntk,
                center_output: false,
                ..PlaygroundConfig::default().net.init
            },
        },
        lr: 0.5,
        ..PlaygroundConfig::default()
    }
}

fn ensemble(width: usize, networks: usize) -> (LazyRich, Ensemble) {
    let c = config(width, 16);
    let lazy = LazyRich::new(c.clone(), 1e-3).unwrap();
    let pg = lazy.playground();
    let grid = pg.grid_points().to_vec();
    let e = Ensemble::new(&c, networks, &pg.data.x_train, &pg.data.y_train, &grid).unwrap();
    (lazy, e)
}

#[test]
fn network_zero_is_the_scenes_network_when_not_centred() {
    // Seeds s, s + 1, …: network 0 draws the scene's θ₀ and trains with the same products, so
    // on the CPU its grid outputs equal the scene's network's bit for bit.
    let mut lazy = LazyRich::with_ensemble(config(64, 16), 1e-3, 4).unwrap();
    lazy.advance(25).unwrap();
    let p = lazy.ensemble_picture().unwrap().unwrap();
    assert_eq!(p.step, 25);
    let grid = lazy.predict_grid().unwrap();
    let g = grid.network.len();
    assert_eq!(p.live, 4);
    assert_eq!(&p.members[..g], &grid.network[..]);
    // The other networks differ (other seeds).
    assert_ne!(&p.members[g..2 * g], &grid.network[..]);
}

#[test]
fn the_band_starts_at_the_prior_and_its_mean_is_the_ntk_predictor() {
    let c = config(64, 16);
    let (mut lazy, mut e) = ensemble(64, 4);
    // Step 0: μ = 0 and σ² = K(x, x), the NNGP's diagonal (the prior over initialisations).
    let p = e.picture().unwrap();
    let pg = lazy.playground();
    let xg: Vec<f64> = pg.grid_points().iter().map(|&v| v as f64).collect();
    let spec = KernelSpec::from_mlp(&c.spec());
    let (k, _) = nngp_ntk(&spec, &xg, None, 1).unwrap();
    for (i, (&m, &s)) in p.band_mean.iter().zip(&p.band_sd).enumerate() {
        assert_eq!(m, 0.0);
        // f32 rounding of σ (relative 2⁻²⁴) is all that may differ.
        let want = k[(i, i)].sqrt();
        assert!(
            (s as f64 - want).abs() <= 1e-6 * want,
            "point {i}: {s} vs {want}"
        );
    }
    // After t steps the band's mean is the scene's NTK predictor (the same analytic kernel
    // recursion from the zero function); both are computed in f64 and drawn in f32.
    lazy.advance(40).unwrap();
    e.advance_to(40).unwrap();
    let p = e.picture().unwrap();
    let ntk = lazy.predict_grid().unwrap().ntk;
    for (a, b) in p.band_mean.iter().zip(&ntk) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
    // Training shrinks the band near the data: σ falls below the prior's everywhere it is
    // pinned down by a training point.
    let total_sd: f32 = p.band_sd.iter().sum();
    let prior: f64 = (0..xg.len()).map(|i| k[(i, i)].sqrt()).sum();
    assert!(
        (total_sd as f64) < 0.8 * prior,
        "{total_sd} vs prior {prior}"
    );
}

#[test]
fn the_ensemble_approaches_the_band_as_width_grows() {
    // 32 networks at widths 16 and 2,048 after 200 steps of η = 0.5 on 16 sine points. Finite
    // width moves each network's spread and mean by O(1/√width) from the band's (Lee et al.
    // 2019); the sampling noise of 32 networks is about 1/√62 ≈ 0.13 of σ (spread) and
    // 1/√32 ≈ 0.18 of σ (mean), the same at both widths (the same seeds). Measured: spread
    // distance 0.83 at width 16 and 0.146 at width 2,048; mean distance 6.3 and 0.13 (all
    // deterministic: fixed seeds).
    // Bounds: at 2,048 both within 1.5 × their sampling floors, and each distance at 2,048
    // below its value at 16.
    let mut d = Vec::new();
    for width in [16, 2048] {
        let (_, mut e) = ensemble(width, 32);
        e.advance_to(200).unwrap();
        let p = e.picture().unwrap();
        assert_eq!((p.live, p.diverged), (32, 0));
        eprintln!("width {width}: {:?}", p.distance);
        d.push(p.distance);
    }
    let (narrow, wide) = (&d[0], &d[1]);
    assert!(wide.spread.unwrap() < 1.5 * wide.spread_floor, "{wide:?}");
    assert!(wide.mean.unwrap() < 1.5 * wide.mean_floor, "{wide:?}");
    assert!(wide.spread.unwrap() < narrow.spread.unwrap(), "{d:?}");
    assert!(wide.mean.unwrap() < narrow.mean.unwrap(), "{d:?}");
}

#[test]
fn compare_gives_the_sample_moments_and_the_distance() {
    // Three members on two points: means 2 and 0, standard deviations 1 and 2 (n − 1).
    let members = vec![vec![1.0f32, -2.0], vec![2.0, 0.0], vec![3.0, 2.0]];
    let (mean, sd, d) = compare(&members, &[2.0, 1.0], &[1.0, 1.0]);
    assert_eq!(mean, vec![2.0, 0.0]);
    assert_eq!(sd, vec![1.0, 2.0]);
    // RMS(σ̂ − σ) = √((0 + 1)/2), RMS(μ̂ − μ) = √((0 + 1)/2), RMS σ = 1.
    assert!((d.spread.unwrap() - 0.5f64.sqrt()).abs() < 1e-15);
    assert!((d.mean.unwrap() - 0.5f64.sqrt()).abs() < 1e-15);
    assert!((d.spread_floor - 0.5).abs() < 1e-15);
    assert!((d.mean_floor - 1.0 / 3f64.sqrt()).abs() < 1e-15);
    // No band spread (σ = 0) or a single member: no distance, never NaN or ∞.
    let (_, _, d) = compare(&members, &[0.0, 0.0], &[0.0, 0.0]);
    assert_eq!((d.spread, d.mean), (None, None));
    let (_, _, d) = compare(&members[..1], &[0.0, 0.0], &[1.0, 1.0]);
    assert_eq!((d.spread, d.mean), (None, None));
}

#[test]
fn a_new_step_size_equals_a_batch_built_with_it() {
    let c = config(32, 16);
    let lazy = LazyRich::new(c.clone(), 1e-3).unwrap();
    let (x, y) = (
        &lazy.playground().data.x_train,
        &lazy.playground().data.y_train,
    );
    let nets = |lr| -> Vec<NetConfig> {
        (0..3)
            .map(|i| NetConfig {
                seed: 10 + i,
                init_scale: 1.0,
                lr,
            })
            .collect()
    };
    let mut changed = BatchedTrainer::new(Cpu::new(), c.spec(), x, y, &nets(0.5)).unwrap();
    changed.set_lr(0.2).unwrap();
    let mut built = BatchedTrainer::new(
        descent::backend::cpu::Cpu::new(),
        c.spec(),
        x,
        y,
        &nets(0.2),
    )
    .unwrap();
    // The blocking forms are native only; this file also compiles for wasm32.
    let run = |t: &mut BatchedTrainer<Cpu>| block_on(t.advance_async(7)).unwrap();
    let params = |t: &mut BatchedTrainer<Cpu>| block_on(t.all_params_async()).unwrap();
    assert_eq!(run(&mut changed), run(&mut built));
    assert_eq!(params(&mut changed), params(&mut built));
    assert!(changed.set_lr(f64::NAN).is_err());
    assert!(changed.set_lr(0.0).is_err());
}

#[test]
fn the_scene_keeps_its_ensemble_in_step_and_rewinds_it() {
    let mut lazy = LazyRich::with_ensemble(config(32, 16), 1e-3, 3).unwrap();
    assert_eq!(lazy.config().ensemble, 3);
    let start = lazy.ensemble_picture().unwrap().unwrap();
    lazy.advance(10).unwrap();
    lazy.set_lr(0.3).unwrap();
    lazy.advance(5).unwrap();
    let p = lazy.ensemble_picture().unwrap().unwrap();
    assert_eq!(p.step, 15);
    assert_ne!(p.members, start.members);
    lazy.rewind().unwrap();
    let again = lazy.ensemble_picture().unwrap().unwrap();
    assert_eq!(again.step, 0);
    assert_eq!(again.members, start.members);
    // Off: no picture.
    let mut off = LazyRich::new(config(32, 16), 1e-3).unwrap();
    assert!(off.ensemble_picture().unwrap().is_none());
}

#[test]
fn a_diverged_ensemble_draws_only_finite_networks() {
    // η = 50 is far above 2n/λ_max for this kernel: every network diverges within a few steps.
    let c = config(32, 16);
    let lazy = LazyRich::new(c.clone(), 1e-3).unwrap();
    let pg = lazy.playground();
    let grid = pg.grid_points().to_vec();
    let mut e = Ensemble::new(&c, 4, &pg.data.x_train, &pg.data.y_train, &grid).unwrap();
    e.set_lr(50.0).unwrap();
    e.advance_to(30).unwrap();
    let p = e.picture().unwrap();
    assert_eq!(p.diverged, 4);
    assert_eq!(p.live, 0);
    assert!(p.members.is_empty());
    assert!(p.first_diverged.is_some());
    assert_eq!((p.distance.spread, p.distance.mean), (None, None));
    for v in p.mean.iter().chain(&p.sd) {
        assert!(v.is_finite());
    }
}

#[test]
fn settings_the_band_does_not_describe_are_refused_by_name() {
    let refused = |c: PlaygroundConfig, networks: usize, says: &str| {
        let err = match LazyRich::with_ensemble(c, 1e-3, networks) {
            Ok(_) => panic!("accepted an ensemble that should be refused ({says})"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("ensemble"), "{err}");
        assert!(err.contains(says), "{err}");
    };
    refused(config(32, 16), 1, "2 to 32 networks");
    // Above the table's range: refused with the range.
    refused(config(32, 16), 33, "[0, 32]");
    let mut c = config(32, 16);
    c.alpha = 10.0;
    refused(c, 8, "set α to 1");
    let mut c = config(32, 16);
    c.data.dataset = DatasetKind::Circles;
    refused(c, 8, "1-D dataset");
}

#[test]
fn a_sweep_measures_each_width_as_an_ensemble_trained_alone() {
    let c = config(16, 16);
    let lazy = LazyRich::new(c.clone(), 1e-3).unwrap();
    let pg = lazy.playground();
    let grid = pg.grid_points().to_vec();
    let (x, y) = (&pg.data.x_train, &pg.data.y_train);
    let mut sweep = EnsembleSweep::new(c.clone(), 6, vec![8, 64], 30, x, y, &grid).unwrap();
    let mut calls = 0;
    loop {
        let p = sweep.next(7).unwrap();
        calls += 1;
        assert!(p.steps_done <= 30);
        if p.done {
            break;
        }
    }
    // 30 steps in calls of 7: 5 calls per width.
    assert_eq!(calls, 10);
    let points = sweep.points();
    assert_eq!(
        points.iter().map(|p| p.width).collect::<Vec<_>>(),
        vec![8, 64]
    );
    for p in points {
        let mut one = c.clone();
        one.net.width = p.width;
        let mut e = Ensemble::new(&one, 6, x, y, &grid).unwrap();
        e.advance_to(30).unwrap();
        assert_eq!(e.picture().unwrap().distance, p.distance);
    }
}
