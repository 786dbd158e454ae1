//! Top-k spectra in the Step-size scene: the top k eigenvalues of the Hessian and of Θ/n that a
//! live run reports at its tracked steps (block Lanczos, warm-started from the last
//! measurement) against nalgebra's dense symmetric eigensolver on small networks (a few hundred
//! parameters), under the squared loss, cross-entropy and heavy-ball momentum.
//!
//! References. The dense Hessian is assembled column by column from exact Hessian-vector
//! products (H e_j, tests/step_size.rs checks them against finite differences), symmetrised;
//! the dense NTK is J Jᵀ with J's columns the Jacobian-vector products J e_j, at the same f64
//! parameters, independently of the scene's kernel code.
//!
//! Tolerances. The Hessian's Lanczos run stops when every Ritz residual ‖Hu − θu‖ is at most
//! 1e-3·θ₁ (as the power iteration it replaced). For a symmetric matrix the k Ritz values lie
//! below the top k eigenvalues (interlacing) and each within ‖R‖ ≤ √k·max rᵢ of an eigenvalue
//! (Kahan); residuals alone do not certify that those are the top k, since inside a cluster
//! of eigenvalues closer than that a lower member may stand in for λᵢ (on the 3,073-parameter
//! default network λ₃ sits in such a cluster: the scene's λ₃ is then a member of it). The
//! checks allow √k·1e-3·λ₁ (about 1.7e-3·λ₁ for k = 3), which a missed eigenvalue separated
//! by more than that (an O(gap) error) breaks, and print the measured errors (1e-7–1e-4·λ₁
//! here: residual²/gap).
//! The NTK's run converges to 1e-10·λ₁ (its products are cheap), but the scene forms Θ from the
//! network's f32 Jacobians, while the reference is f64: they agree to 1e-5·λ₁ (f32 Gram sums
//! over a few hundred parameters, ε_f32 ≈ 6e-8 each; measured about 1e-7).

use descent::data::DatasetKind;
use descent::nn::hessian::{Objective, widen};
use descent::nn::{Activation, Loss};
use descent::scenes::step_size::{StepSize, StepSizeConfig, StepSizeReport};
use descent::session::net::{DataSettings, InitSettings, NetSettings};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// The dense eigenvalues, descending.
fn descending(m: DMatrix<f64>) -> Vec<f64> {
    let mut e: Vec<f64> = SymmetricEigen::new(m).eigenvalues.iter().copied().collect();
    e.sort_by(|a, b| b.total_cmp(a));
    e
}

/// (the dense Hessian's eigenvalues, the dense Θ/n's eigenvalues), descending, of the scene's
/// objective at the run's current parameters.
fn dense_spectra(config: &StepSizeConfig, scene: &mut StepSize) -> (Vec<f64>, Vec<f64>) {
    // The parameters now (the weights file holds them; the run diverged is not checked here).
    let theta = widen(&scene.export_weights().unwrap().params());
    let x = scene.run().data.x_train.clone();
    let y = config.targets(&scene.run().data.y_train);
    let obj = Objective::new(&config.spec(), &x, &y, None, 1.0)
        .unwrap()
        .with_loss(config.loss)
        .unwrap();
    let point = obj.at(&theta).unwrap();
    let p = theta.len();
    let nk = y.len();
    let mut h = DMatrix::zeros(p, p);
    let mut j = DMatrix::zeros(nk, p);
    for c in 0..p {
        let mut e = vec![0.0; p];
        e[c] = 1.0;
        h.set_column(c, &DVector::from_vec(point.hvp(&e).unwrap()));
        j.set_column(c, &point.jvp(&e).unwrap());
    }
    let h = (&h + h.transpose()) / 2.0;
    let ntk = &j * j.transpose() / obj.n() as f64;
    (descending(h), descending(ntk))
}

/// The last tracked step's spectra against the dense ones at the same parameters, and the
/// first entries against the `sharpness` and `ntkTop` series, every step.
fn check(what: &str, config: &StepSizeConfig, scene: &mut StepSize, r: &StepSizeReport) {
    let k = config.top_k as usize;
    assert_eq!(
        r.track_steps.last(),
        Some(&r.step),
        "{what}: tracked at the end"
    );
    assert_eq!(r.hessian_top.len(), r.track_steps.len(), "{what}");
    assert_eq!(r.ntk_spectrum.len(), r.track_steps.len(), "{what}");
    for (i, (h, n)) in r.hessian_top.iter().zip(&r.ntk_spectrum).enumerate() {
        assert_eq!(
            h.len(),
            k,
            "{what}: k Hessian eigenvalues at every tracked step"
        );
        assert_eq!(
            n.len(),
            k,
            "{what}: k NTK eigenvalues at every tracked step"
        );
        assert_eq!(h[0], r.sharpness[i], "{what}: the first is the sharpness");
        assert_eq!(n[0], r.ntk_top[i], "{what}: the first is λ_max(Θ)/n");
        assert!(
            h.windows(2).all(|w| w[0] >= w[1]),
            "{what}: descending {h:?}"
        );
        assert!(
            n.windows(2).all(|w| w[0] >= w[1]),
            "{what}: descending {n:?}"
        );
    }
    let (hess, ntk) = dense_spectra(config, scene);
    let got_h = r.hessian_top.last().unwrap();
    let got_n = r.ntk_spectrum.last().unwrap();
    let bound = (k as f64).sqrt() * 1e-3 * hess[0].abs();
    let (mut worst, mut worst_ntk) = (0.0f64, 0.0f64);
    for i in 0..k {
        let err = (got_h[i] - hess[i]).abs();
        worst_ntk = worst_ntk.max((got_n[i] - ntk[i]).abs() / ntk[0]);
        worst = worst.max(err / hess[0].abs());
        assert!(
            err <= bound,
            "{what}: Hessian λ{} {} against dense {} (top {:?} vs {:?})",
            i + 1,
            got_h[i],
            hess[i],
            got_h,
            &hess[..k]
        );
        assert!(
            (got_n[i] - ntk[i]).abs() <= 1e-5 * ntk[0],
            "{what}: NTK λ{} {} against dense {}",
            i + 1,
            got_n[i],
            ntk[i]
        );
    }
    println!(
        "{what}: step {}, Hessian top {k} {got_h:?} vs dense {:?} (worst error {worst:.1e}·λ₁); NTK {got_n:?} (worst error {worst_ntk:.1e}·λ₁)",
        r.step,
        &hess[..k]
    );
}

fn small(dataset: DatasetKind, width: usize, loss: Loss) -> StepSizeConfig {
    StepSizeConfig {
        data: DataSettings {
            dataset,
            n_train: 16,
            ..StepSizeConfig::default().data
        },
        net: NetSettings {
            width,
            ..StepSizeConfig::default().net
        },
        track_every: 5,
        hessian_iters: 200,
        measure_catapult: false,
        loss,
        ..StepSizeConfig::default()
    }
}

/// Squared loss, ReLU and tanh networks of 193 and 289 parameters, at 1.5× the stability bound
/// (a catapult: the spectra move a lot between measurements, so the warm start is tested
/// where it matters), k = 3 and 5.
#[test]
fn squared_loss_top_k_matches_dense_eigensolvers() {
    for (act, width, k) in [(Activation::Relu, 64, 3), (Activation::Tanh, 96, 5)] {
        let mut config = small(DatasetKind::Sine, width, Loss::Squared);
        config.net.init = InitSettings {
            activation: act,
            ..config.net.init.clone()
        };
        config.top_k = k;
        config.lr_multiple = 1.5;
        let mut scene = StepSize::new(config.clone()).unwrap();
        let r = scene.advance(40);
        assert!(r.diverged.is_none());
        check(
            &format!("squared {act:?} width {width}"),
            &config,
            &mut scene,
            &r,
        );
    }
}

/// Cross-entropy on two outputs (two gaussians, 2-D inputs: 2·32 + 32 + 32·2 + 2 = 162
/// parameters), and the squared loss with heavy-ball momentum β = 0.5 at half its bound: the Hessian is the
/// objective's whatever the optimiser.
#[test]
fn cross_entropy_and_momentum_top_k_match_dense_eigensolvers() {
    let mut ce = small(DatasetKind::Gaussians, 32, Loss::CrossEntropy);
    ce.lr_multiple = 0.9;
    let mut scene = StepSize::new(ce.clone()).unwrap();
    let r = scene.advance(30);
    // At θ₀ the first measurement is S₀, the cross-entropy bound's curvature.
    assert_eq!(Some(r.hessian_top[0][0]), r.sharpness_init);
    check("cross-entropy", &ce, &mut scene, &r);

    let mut hb = small(DatasetKind::Sine, 64, Loss::Squared);
    hb.momentum = 0.5;
    hb.lr_multiple = 0.5;
    let mut scene = StepSize::new(hb.clone()).unwrap();
    let r = scene.advance(30);
    assert!(
        r.diverged.is_none(),
        "momentum: diverged at {:?}",
        r.diverged
    );
    check("momentum 0.5", &hb, &mut scene, &r);
}

/// k = 1 is the sharpness alone; a diverging run's spectra end at its last finite measurement
/// (no NaN), and the settings refuse k outside 1…8 by name.
#[test]
fn one_eigenvalue_divergence_and_the_range_of_k() {
    let mut one = small(DatasetKind::Sine, 64, Loss::Squared);
    one.top_k = 1;
    let mut scene = StepSize::new(one.clone()).unwrap();
    let r = scene.advance(20);
    check("k = 1", &one, &mut scene, &r);

    let mut far = small(DatasetKind::Sine, 64, Loss::Squared);
    far.lr_multiple = 40.0;
    let r = StepSize::new(far).unwrap().advance(200);
    assert!(r.diverged.is_some(), "40× the bound diverges");
    assert_eq!(r.hessian_top.len(), r.track_steps.len());
    assert!(
        r.hessian_top
            .iter()
            .chain(&r.ntk_spectrum)
            .flatten()
            .all(|v| v.is_finite())
    );

    for bad in [0, 9] {
        let mut c = small(DatasetKind::Sine, 64, Loss::Squared);
        c.top_k = bad;
        match StepSize::new(c) {
            Err(descent::error::Error::InvalidConfig { field, .. }) => assert_eq!(field, "topK"),
            other => panic!("k = {bad}: {:?}", other.map(|_| ())),
        }
    }
}
