//! Learning from label proportions, the data side: the cell populations, bags (reproducible,
//! the right shapes, Dirichlet proportions, purified bags, noise), the EasyLLP debiased labels
//! (unbiased over random bags) and the mean map (exact recovery, refusal, bags of one).

use descent::data::cells::{
    CELL_CLASSES, CELL_POPULATIONS, CELLS_BAYES_ACCURACY, cells_bayes_class, cells_posterior,
    sample_cell,
};
use descent::data::{BagOptions, Bags, DatasetKind, cells, digits, generate_with, prior_floor};
use descent::rng::Rng;

fn opts(size: usize, instances: usize) -> BagOptions {
    BagOptions {
        size,
        instances,
        concentration: 1.0,
        purified: 0.0,
        noise: 0.0,
        seed: 5,
    }
}

fn labels_usize(labels: &[u32]) -> Vec<usize> {
    labels.iter().map(|&l| l as usize).collect()
}

/// A pool of `n` labels drawn from `prior` (seeded).
fn pool(n: usize, prior: &[f64], seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let u = rng.uniform();
            let mut acc = 0.0;
            for (c, p) in prior.iter().enumerate() {
                acc += p;
                if u < acc {
                    return c;
                }
            }
            prior.len() - 1
        })
        .collect()
}

fn row(v: &[f64], k: usize, j: usize) -> &[f64] {
    &v[j * k..(j + 1) * k]
}

// --- the cell populations ---

#[test]
fn cells_are_a_seeded_three_class_set_with_the_stated_prior() {
    let a = cells(3000, 500, 4).unwrap();
    let b = cells(3000, 500, 4).unwrap();
    let c = cells(3000, 500, 5).unwrap();
    assert_eq!(a.x_train, b.x_train);
    assert_eq!(a.labels_test, b.labels_test);
    assert_ne!(a.x_train, c.x_train);
    assert_eq!(a.kind, DatasetKind::Cells);
    assert_eq!((a.dim, a.classes), (2, 3));
    assert_eq!(a.class_names, ["neutrophil", "lymphocyte", "monocyte"]);
    assert_eq!((a.n_train(), a.n_test()), (3000, 500));
    assert!(a.projection.is_none());
    assert!(a.y_train.is_empty(), "three classes: no ±1 targets");
    // Class frequencies follow the prior 0.6 / 0.3 / 0.1: binomial sd √(π(1−π)/3000) ≤ 0.009,
    // bound 4 sd.
    for (cls, pop) in CELL_POPULATIONS.iter().enumerate() {
        let f = a
            .labels_train
            .iter()
            .filter(|&&l| l as usize == cls)
            .count() as f64
            / 3000.0;
        let sd = (pop.prior * (1.0 - pop.prior) / 3000.0).sqrt();
        assert!((f - pop.prior).abs() < 4.0 * sd, "{}: {f}", pop.name);
    }
    // The domain holds the points (all but a handful).
    let (lo, hi) = a.domain;
    let outside = a
        .x_train
        .chunks(2)
        .filter(|p| p[0] < lo[0] || p[0] > hi[0] || p[1] < lo[1] || p[1] > hi[1])
        .count();
    assert!(outside <= 3, "{outside} points outside the domain");
    // The generic entry point draws the same set.
    let g = generate_with(DatasetKind::Cells, 3000, 500, 0.3, 0.0, 4, 3, None).unwrap();
    assert_eq!(g.x_train, a.x_train);
    assert_eq!(g.labels_train, a.labels_train);
    assert!(cells(0, 10, 1).is_err());
}

#[test]
fn cells_bayes_accuracy_is_as_stated() {
    // Monte Carlo with the true densities: 2·10⁵ draws, standard error
    // √(0.9·0.1/2·10⁵) ≈ 6.7·10⁻⁴; the bound is 4 standard errors.
    let n = 200_000;
    let mut rng = Rng::new(2024);
    let mut hits = 0usize;
    for _ in 0..n {
        let (c, x) = sample_cell(&mut rng);
        hits += (cells_bayes_class(x) == c) as usize;
    }
    let acc = hits as f64 / n as f64;
    let se = (acc * (1.0 - acc) / n as f64).sqrt();
    eprintln!("cells Bayes accuracy {acc:.4} ± {se:.4}");
    assert!(
        (acc - CELLS_BAYES_ACCURACY).abs() < 4.0 * se,
        "Bayes accuracy {acc} (stated {CELLS_BAYES_ACCURACY})"
    );
    assert!(acc < 0.95, "the clusters overlap");
    // The Bayes classifier on a generated test set agrees (binomial, 4 sd at n = 5000).
    let d = cells(100, 5000, 8).unwrap();
    let test_hits = d
        .x_test
        .chunks(2)
        .zip(&d.labels_test)
        .filter(|(x, l)| cells_bayes_class([x[0] as f64, x[1] as f64]) == **l as usize)
        .count() as f64
        / 5000.0;
    assert!((test_hits - CELLS_BAYES_ACCURACY).abs() < 4.0 * (0.09f64 / 5000.0).sqrt());
    // The posterior is a distribution whose argmax is the Bayes class.
    let p = cells_posterior([0.1, -0.2]);
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(CELL_CLASSES, 3);
}

// --- bags ---

#[test]
fn bags_are_reproducible_per_seed_and_differ_across_seeds() {
    let labels = pool(1000, &[0.5, 0.3, 0.2], 1);
    let o = BagOptions {
        noise: 0.05,
        purified: 0.2,
        ..opts(10, 1000)
    };
    let a = Bags::draw(&labels, 3, &o).unwrap();
    let b = Bags::draw(&labels, 3, &o).unwrap();
    assert_eq!(a, b);
    let c = Bags::draw(
        &labels,
        3,
        &BagOptions {
            seed: 6,
            ..o.clone()
        },
    )
    .unwrap();
    assert_ne!(a.rows, c.rows);
    assert_ne!(a.truth, c.truth);
    // The noise draws from its own stream: the bags and their truth do not depend on it.
    let quiet = Bags::draw(
        &labels,
        3,
        &BagOptions {
            noise: 0.0,
            ..o.clone()
        },
    )
    .unwrap();
    assert_eq!((&quiet.rows, &quiet.truth), (&a.rows, &a.truth));
    assert_ne!(quiet.reported, a.reported);
}

#[test]
fn bag_shapes_counts_and_rows_are_right() {
    let labels = pool(1000, &[0.5, 0.3, 0.2], 2);
    for (size, instances, m) in [
        (1, 1000, 1000),
        (7, 1000, 142),
        (10, 250, 25),
        (64, 5000, 15),
    ] {
        let b = Bags::draw(&labels, 3, &opts(size, instances)).unwrap();
        assert_eq!(b.count(), m, "size {size}, instances {instances}");
        assert_eq!(b.instances(), m * size);
        assert_eq!(b.rows.len(), m * size);
        assert_eq!(
            (b.truth.len(), b.reported.len(), b.purified.len()),
            (3 * m, 3 * m, m)
        );
        assert_eq!((b.size, b.classes), (size, 3));
        // π is the pool's class prior.
        for c in 0..3 {
            let f = labels.iter().filter(|&&l| l == c).count() as f64 / 1000.0;
            assert_eq!(b.prior[c], f);
        }
        // The truth is each bag's class counts / size.
        let true_labels = b.labels(&labels);
        for j in 0..m {
            let mut counts = [0.0; 3];
            for &l in &true_labels[j * size..(j + 1) * size] {
                counts[l] += 1.0;
            }
            for c in 0..3 {
                assert_eq!(row(&b.truth, 3, j)[c], counts[c] / size as f64);
            }
        }
        // Rows are drawn without replacement while a class lasts: the first |pool_c| rows of
        // class c in draw order are distinct (a class asked for more starts over).
        assert!(b.rows.iter().all(|&r| r < 1000));
        for c in 0..3 {
            let supply = labels.iter().filter(|&&l| l == c).count();
            let mut of_class: Vec<usize> = b
                .rows
                .iter()
                .copied()
                .filter(|&r| labels[r] == c)
                .take(supply)
                .collect();
            let drawn = of_class.len();
            of_class.sort();
            of_class.dedup();
            assert_eq!(
                of_class.len(),
                drawn,
                "class {c}: a row repeats before the class ran out"
            );
        }
        // Targets: proportions repeated per instance, and gathered inputs in bag order.
        let t = b.proportion_targets();
        assert_eq!(t.len(), m * size * 3);
        for i in 0..m * size {
            for c in 0..3 {
                assert_eq!(t[i * 3 + c], row(&b.reported, 3, i / size)[c] as f32);
            }
        }
        let x: Vec<f32> = (0..2000).map(|v| v as f32).collect();
        let g = b.gather_x(&x, 2);
        assert_eq!(g.len(), m * size * 2);
        assert_eq!(g[2], x[2 * b.rows[1]]);
        let means = b.bag_means(&x, 2);
        assert_eq!(means.len(), m * 2);
        let first: f64 = b.rows[..size].iter().map(|&r| x[2 * r] as f64).sum::<f64>() / size as f64;
        assert!((means[0] - first).abs() < 1e-9 * first.abs().max(1.0));
    }
    // Without a class running short, no row is used twice: a pool balanced like the prior and
    // c = ∞ leave room (the draw takes 600 of 3000 rows).
    let balanced = pool(3000, &[0.5, 0.3, 0.2], 3);
    let b = Bags::draw(
        &balanced,
        3,
        &BagOptions {
            concentration: f64::INFINITY,
            ..opts(20, 600)
        },
    )
    .unwrap();
    let mut rows = b.rows.clone();
    rows.sort();
    rows.dedup();
    assert_eq!(rows.len(), 600);
}

#[test]
fn bad_bag_settings_name_the_setting() {
    let labels = pool(300, &[0.6, 0.3, 0.1], 1);
    let err = |o: BagOptions| Bags::draw(&labels, 3, &o).unwrap_err().to_string();
    assert_eq!(
        err(opts(512, 10_000)),
        "invalid setting `bag`: bag size 512 needs at least 512 instances, there are 300"
    );
    assert!(err(opts(8, 5)).contains("bag size 8 needs at least 8 instances, there are 5"));
    assert!(err(opts(0, 100)).contains("`bag`"));
    for c in [0.0, -1.0, f64::NAN] {
        assert!(
            err(BagOptions {
                concentration: c,
                ..opts(4, 100)
            })
            .contains("`concentration`")
        );
    }
    for r in [-0.1, 1.5, f64::NAN] {
        assert!(
            err(BagOptions {
                purified: r,
                ..opts(4, 100)
            })
            .contains("`purified`")
        );
    }
    for s in [-0.1, f64::INFINITY, f64::NAN] {
        assert!(
            err(BagOptions {
                noise: s,
                ..opts(4, 100)
            })
            .contains("`noise`")
        );
    }
    assert!(
        Bags::draw(&[0, 1, 3], 3, &opts(1, 3)).is_err(),
        "label 3 of 3 classes"
    );
}

#[test]
fn purified_bags_are_one_hot() {
    let labels = pool(2000, &[0.6, 0.3, 0.1], 4);
    let all = Bags::draw(
        &labels,
        3,
        &BagOptions {
            purified: 1.0,
            ..opts(16, 2000)
        },
    )
    .unwrap();
    assert!(all.purified.iter().all(|&p| p));
    let classes = all.labels(&labels);
    for j in 0..all.count() {
        let t = row(&all.truth, 3, j);
        let c = classes[j * 16];
        assert!(classes[j * 16..(j + 1) * 16].iter().all(|&l| l == c));
        assert_eq!(t[c], 1.0);
        assert_eq!(t.iter().sum::<f64>(), 1.0);
    }
    // A fraction ρ: exactly round(ρ·m) bags; raising ρ keeps the bags already purified and
    // the other bags' proportions.
    let some = Bags::draw(
        &labels,
        3,
        &BagOptions {
            purified: 0.25,
            ..opts(16, 2000)
        },
    )
    .unwrap();
    let more = Bags::draw(
        &labels,
        3,
        &BagOptions {
            purified: 0.5,
            ..opts(16, 2000)
        },
    )
    .unwrap();
    let m = some.count();
    assert_eq!(
        some.purified.iter().filter(|&&p| p).count(),
        (0.25 * m as f64).round() as usize
    );
    for j in 0..m {
        assert!(!some.purified[j] || more.purified[j]);
    }
}

#[test]
fn concentration_moves_bags_between_the_prior_and_purity() {
    let labels = pool(20_000, &[0.6, 0.3, 0.1], 5);
    let prior = [0.6, 0.3, 0.1];
    // Large c: bags of 400 look like the prior (multinomial sd ≤ √(0.24/400) ≈ 0.025; bound
    // 5 sd over 50 bags × 3 classes).
    let wide = Bags::draw(
        &labels,
        3,
        &BagOptions {
            concentration: 1e6,
            ..opts(400, 20_000)
        },
    )
    .unwrap();
    for j in 0..wide.count() {
        for c in 0..3 {
            assert!(
                (row(&wide.truth, 3, j)[c] - prior[c]).abs() < 0.125,
                "bag {j}"
            );
        }
    }
    // Small c: nearly every bag is (nearly) pure.
    let pure = Bags::draw(
        &labels,
        3,
        &BagOptions {
            concentration: 0.01,
            ..opts(20, 20_000)
        },
    )
    .unwrap();
    let nearly_pure = (0..pure.count())
        .filter(|&j| row(&pure.truth, 3, j).iter().cloned().fold(0.0, f64::max) >= 0.95)
        .count();
    assert!(
        nearly_pure as f64 > 0.95 * pure.count() as f64,
        "{nearly_pure} of {} bags nearly pure",
        pure.count()
    );
}

#[test]
fn dirichlet_sample_mean_is_the_prior() {
    // Dirichlet(c·π) has mean π and Var(q_c) = π_c(1 − π_c)/(c + 1); over n draws the
    // standard error of the mean is √(Var/n); bound 4 standard errors.
    let prior = [0.6, 0.3, 0.1];
    let n = 20_000;
    for c in [0.05, 1.0, 30.0] {
        let alpha: Vec<f64> = prior.iter().map(|p| c * p).collect();
        let mut rng = Rng::new(77);
        let mut sum = [0.0; 3];
        for _ in 0..n {
            let q = rng.dirichlet(&alpha);
            assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for k in 0..3 {
                sum[k] += q[k];
            }
        }
        for k in 0..3 {
            let mean = sum[k] / n as f64;
            let se = (prior[k] * (1.0 - prior[k]) / (c + 1.0) / n as f64).sqrt();
            assert!(
                (mean - prior[k]).abs() < 4.0 * se,
                "c = {c}, class {k}: {mean}"
            );
        }
    }
}

#[test]
fn noise_perturbs_only_what_is_reported() {
    let labels = pool(2000, &[0.6, 0.3, 0.1], 6);
    let clean = Bags::draw(&labels, 3, &opts(10, 2000)).unwrap();
    assert_eq!(clean.reported, clean.truth, "noise 0: reported == truth");
    let noisy = Bags::draw(
        &labels,
        3,
        &BagOptions {
            noise: 0.1,
            ..opts(10, 2000)
        },
    )
    .unwrap();
    assert_ne!(noisy.reported, noisy.truth);
    let mut dev = 0.0;
    for j in 0..noisy.count() {
        let r = row(&noisy.reported, 3, j);
        assert!(r.iter().all(|&v| v >= 0.0));
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        dev += r
            .iter()
            .zip(row(&noisy.truth, 3, j))
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>();
    }
    // Mean absolute deviation per entry of order the noise (clipping and renormalising shrink
    // it somewhat): between 0.02 and 0.1 for noise 0.1.
    let mad = dev / (3 * noisy.count()) as f64;
    assert!((0.02..0.1).contains(&mad), "{mad}");
}

#[test]
fn the_prior_floor_is_the_majority_class_rate() {
    let train = [0, 1, 1, 2, 1, 0];
    let test = [1, 1, 0, 2];
    assert_eq!(prior_floor(&train, &test, 3), 0.5);
    assert_eq!(prior_floor(&train, &[], 3), 0.0);
}

#[test]
fn digits_and_cells_labels_draw_bags() {
    let d = descent::data::digits::parse(include_str!("../data/digits.csv")).unwrap();
    let set = generate_with(DatasetKind::Digits, 1000, 200, 0.0, 0.0, 1, 10, Some(&d)).unwrap();
    let b = Bags::draw(
        &labels_usize(&set.labels_train),
        digits::CLASSES,
        &opts(32, 1000),
    )
    .unwrap();
    assert_eq!(b.count(), 31);
    assert!(b.prior.iter().all(|&p| p > 0.05));
}

// --- EasyLLP ---

#[test]
fn debiased_targets_follow_the_formula() {
    let labels = pool(400, &[0.6, 0.3, 0.1], 9);
    let b = Bags::draw(
        &labels,
        3,
        &BagOptions {
            noise: 0.05,
            ..opts(8, 400)
        },
    )
    .unwrap();
    let t = b.debiased_targets();
    assert_eq!(t.len(), 400 * 3);
    for i in 0..400 {
        let p = row(&b.reported, 3, i / 8);
        for c in 0..3 {
            let want = 8.0 * (p[c] - b.prior[c]) + b.prior[c];
            assert_eq!(t[i * 3 + c], want as f32);
        }
    }
    // Bags of one: ỹ is the one-hot label (p = e_y, so 1·(e_y − π) + π = e_y).
    let ones = Bags::draw(&labels, 3, &opts(1, 400)).unwrap();
    let t = ones.debiased_targets();
    for (i, &l) in ones.labels(&labels).iter().enumerate() {
        for c in 0..3 {
            assert!((t[i * 3 + c] - (c == l) as u8 as f32).abs() < 1e-6);
        }
    }
}

#[test]
fn debiased_targets_are_unbiased_over_random_bags() {
    // Bags drawn i.i.d. from the prior (c = ∞, no purification, no noise): for an instance of
    // class y the Monte Carlo mean of ỹ is e_y. ỹ is the same for every instance of a bag, so
    // one instance per bag (the first, whose class is an independent draw from π) gives
    // independent samples; the bound is 4 standard errors (sample sd / √n per class).
    let prior = [0.6, 0.3, 0.1];
    let labels = pool(40_000, &prior, 10);
    let k = 8;
    let mut sum = [[0.0f64; 3]; 3];
    let mut sum2 = [[0.0f64; 3]; 3];
    let mut n = [0usize; 3];
    for seed in 0..6 {
        let b = Bags::draw(
            &labels,
            3,
            &BagOptions {
                concentration: f64::INFINITY,
                seed,
                ..opts(k, 40_000)
            },
        )
        .unwrap();
        let t = b.debiased_targets();
        let classes = b.labels(&labels);
        for j in 0..b.count() {
            let y = classes[j * k];
            n[y] += 1;
            for c in 0..3 {
                let v = t[j * k * 3 + c] as f64;
                sum[y][c] += v;
                sum2[y][c] += v * v;
            }
        }
    }
    for y in 0..3 {
        assert!(n[y] > 1000, "class {y}: {} bags", n[y]);
        for c in 0..3 {
            let mean = sum[y][c] / n[y] as f64;
            let var = sum2[y][c] / n[y] as f64 - mean * mean;
            let se = (var / n[y] as f64).sqrt();
            let want = (y == c) as u8 as f64;
            assert!(
                (mean - want).abs() < 4.0 * se,
                "class {y}, component {c}: mean {mean}, want {want} ± {se}"
            );
        }
    }
}

// --- the mean map ---

use descent::kernels::mean_map::{MAX_CONDITION, MeanMap, spectrum};

/// M = P·μ for row-major P (m × k) and μ (k × d).
fn mix(p: &[f64], mu: &[f64], m: usize, k: usize, d: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * d];
    for j in 0..m {
        for c in 0..k {
            for t in 0..d {
                out[j * d + t] += p[j * k + c] * mu[c * d + t];
            }
        }
    }
    out
}

fn refusal(bag_means: &[f64], p: &[f64], m: usize, k: usize, d: usize) -> String {
    match MeanMap::fit(bag_means, p, m, k, d) {
        Ok(f) => panic!("solved a singular system: {:?}", f.spectrum),
        Err(e) => e.to_string(),
    }
}

#[test]
fn spectrum_of_a_known_matrix() {
    // PᵀP = [[1.25, 0.25], [0.25, 1.25]] has eigenvalues 1.5 and 1.
    let s = spectrum(&[1.0, 0.0, 0.0, 1.0, 0.5, 0.5], 3, 2);
    assert_eq!(s.singular_values.len(), 2);
    assert!((s.singular_values[0] - 1.5f64.sqrt()).abs() < 1e-14);
    assert!((s.singular_values[1] - 1.0).abs() < 1e-14);
    assert!((s.condition - 1.5f64.sqrt()).abs() < 1e-14);
    // Fewer bags than classes, or equal rows: rank-deficient, condition ∞.
    let few = spectrum(&[0.2, 0.3, 0.5, 0.1, 0.1, 0.8], 2, 3);
    assert_eq!(few.singular_values.len(), 2);
    assert!(few.condition.is_infinite());
    let same = spectrum(&[0.6, 0.3, 0.1].repeat(5), 5, 3);
    assert!(same.condition.is_infinite());
    assert!(same.singular_values.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn mean_map_recovers_class_means_exactly_from_noise_free_bag_means() {
    // Noise-free M = P·μ with P of full column rank: the SVD solve is backward stable, so the
    // error is of order cond(P)·ε·|μ| (here cond < 100, so ≤ 10⁻¹³ relative); bound 10⁻⁹.
    let mut rng = Rng::new(31);
    for (m, k, d) in [(3, 3, 2), (12, 4, 5), (40, 3, 2), (60, 10, 64)] {
        let mut p = Vec::with_capacity(m * k);
        for _ in 0..m {
            p.extend(rng.dirichlet(&vec![1.0; k]));
        }
        let mu: Vec<f64> = (0..k * d).map(|_| 2.0 * rng.normal()).collect();
        let fit = MeanMap::fit(&mix(&p, &mu, m, k, d), &p, m, k, d).unwrap();
        assert!(fit.spectrum.condition < 100.0, "{:?}", fit.spectrum);
        let scale = mu.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let err = fit
            .means
            .iter()
            .zip(&mu)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        assert!(err <= 1e-9 * scale, "m {m}, K {k}: error {err}");
        assert_eq!(fit.classes(), k);
        // Predicting the true means gives their classes.
        let means_f32: Vec<f32> = mu.iter().map(|&v| v as f32).collect();
        assert_eq!(fit.predict(&means_f32, d), (0..k).collect::<Vec<_>>());
    }
    // The same from bags drawn over the cell populations (their true proportions as P).
    let cells_set = cells(2000, 10, 3).unwrap();
    let b = Bags::draw(&labels_usize(&cells_set.labels_train), 3, &opts(20, 2000)).unwrap();
    let mu = [0.25, 0.35, -0.4, -0.3, 0.3, -0.35];
    let fit = MeanMap::fit(
        &mix(&b.truth, &mu, b.count(), 3, 2),
        &b.truth,
        b.count(),
        3,
        2,
    )
    .unwrap();
    for (x, y) in fit.means.iter().zip(&mu) {
        assert!((x - y).abs() <= 1e-9 * 0.4);
    }
}

#[test]
fn mean_map_refuses_singular_proportions_with_an_explanation() {
    let mu = [1.0, 0.0, 0.0, 1.0, -1.0, -1.0];
    // All bags the same proportions: rank 1.
    let p = [0.6, 0.3, 0.1].repeat(40);
    let msg = refusal(&mix(&p, &mu, 40, 3, 2), &p, 40, 3, 2);
    assert!(
        msg.starts_with("invalid setting `bags`: all 40 bags have the same proportions"),
        "{msg}"
    );
    assert!(msg.contains("condition number infinite"), "{msg}");
    // Nearly the same: condition number above the threshold.
    let mut rng = Rng::new(2);
    let mut near = Vec::new();
    for _ in 0..40 {
        let e = 1e-9 * rng.normal();
        near.extend([0.6 + e, 0.3 - e, 0.1]);
    }
    let s = spectrum(&near, 40, 3);
    assert!(s.condition > MAX_CONDITION, "{s:?}");
    let msg = refusal(&mix(&near, &mu, 40, 3, 2), &near, 40, 3, 2);
    assert!(
        msg.contains("all 40 bags have nearly the same proportions"),
        "{msg}"
    );
    // Fewer bags than classes.
    let p2 = [0.2, 0.3, 0.5, 0.7, 0.2, 0.1];
    let msg = refusal(&mix(&p2, &mu, 2, 3, 2), &p2, 2, 3, 2);
    assert!(msg.contains("there are 2 bags but 3 classes"), "{msg}");
    // A class in no bag.
    let p3 = [0.5, 0.5, 0.0, 0.9, 0.1, 0.0, 0.2, 0.8, 0.0];
    let msg = refusal(&mix(&p3, &mu, 3, 3, 2), &p3, 3, 3, 2);
    assert!(
        msg.contains("class 2 has proportion 0 in all 3 bags"),
        "{msg}"
    );
    // Two classes in a fixed ratio in every bag: rank 2 of 3.
    let p4 = [0.2, 0.4, 0.4, 0.5, 0.25, 0.25, 0.8, 0.1, 0.1, 0.0, 0.5, 0.5];
    let msg = refusal(&mix(&p4, &mu, 4, 3, 2), &p4, 4, 3, 2);
    assert!(msg.contains("vary in only 2 of 3"), "{msg}");
    // Shapes that do not fit, and proportions that are not proportions.
    assert!(MeanMap::fit(&[0.0; 5], &p2, 2, 3, 2).is_err());
    let mut bad = p.clone();
    bad[4] = f64::NAN;
    let msg = refusal(&mix(&p, &mu, 40, 3, 2), &bad, 40, 3, 2);
    assert!(
        msg.contains("bag 1's proportion of class 1 is NaN"),
        "{msg}"
    );
}

#[test]
fn mean_map_with_bags_of_one_is_the_nearest_class_mean_classifier() {
    // Bags of one: P holds the one-hot labels, so μ̂ are the class means of the bagged
    // instances and the mean map is the nearest-class-mean classifier fitted on them.
    let d = digits::parse(include_str!("../data/digits.csv")).unwrap();
    let set = generate_with(DatasetKind::Digits, 1000, 500, 0.0, 0.0, 3, 10, Some(&d)).unwrap();
    let labels = labels_usize(&set.labels_train);
    let b = Bags::draw(&labels, 10, &opts(1, 1000)).unwrap();
    let dim = set.dim;
    let fit = MeanMap::fit(
        &b.bag_means(&set.x_train, dim),
        &b.truth,
        b.count(),
        10,
        dim,
    )
    .unwrap();
    // Direct class means of the same instances.
    let x = b.gather_x(&set.x_train, dim);
    let y = b.labels(&labels);
    let mut means = vec![0.0f64; 10 * dim];
    let mut counts = [0usize; 10];
    for (row, &c) in x.chunks(dim).zip(&y) {
        counts[c] += 1;
        for t in 0..dim {
            means[c * dim + t] += row[t] as f64;
        }
    }
    for c in 0..10 {
        for t in 0..dim {
            means[c * dim + t] /= counts[c] as f64;
        }
    }
    // The recovered means equal the direct ones to rounding (P has orthogonal columns,
    // condition √(max count / min count)); bound 10⁻⁹.
    for (a, b) in fit.means.iter().zip(&means) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    let nearest = |mu: &[f64], p: &[f32]| -> usize {
        let dist = |c: usize| -> f64 {
            (0..dim)
                .map(|t| (p[t] as f64 - mu[c * dim + t]).powi(2))
                .sum()
        };
        (0..10).fold(0, |best, c| if dist(c) < dist(best) { c } else { best })
    };
    let test = &set.labels_test;
    let direct = set
        .x_test
        .chunks(dim)
        .zip(test)
        .filter(|(p, l)| nearest(&means, p) == **l as usize)
        .count();
    let predicted = fit.predict(&set.x_test, dim);
    let mapped = predicted
        .iter()
        .zip(test)
        .filter(|(p, l)| **p == **l as usize)
        .count();
    assert_eq!(mapped, direct);
    let acc = mapped as f64 / 500.0;
    assert!(acc > 0.85, "nearest class mean on the digits: {acc}");
    assert!(acc > prior_floor(&set.labels_train, &set.labels_test, 10) + 0.5);
}

#[test]
fn mean_map_learns_the_cells_from_bags() {
    // Bags of 10 with c = 1: the bag means unmix into class means close to the truth, and the
    // nearest recovered mean beats the prior floor (0.6) on the cells.
    let set = cells(3000, 2000, 12).unwrap();
    let labels = labels_usize(&set.labels_train);
    let b = Bags::draw(&labels, 3, &opts(10, 3000)).unwrap();
    let fit = MeanMap::fit(&b.bag_means(&set.x_train, 2), &b.reported, b.count(), 3, 2).unwrap();
    for (c, pop) in CELL_POPULATIONS.iter().enumerate() {
        for t in 0..2 {
            assert!(
                (fit.means[c * 2 + t] - pop.mean[t]).abs() < 0.15,
                "{}: {:?}",
                pop.name,
                fit.means
            );
        }
    }
    let pred = fit.predict(&set.x_test, 2);
    let acc = pred
        .iter()
        .zip(&set.labels_test)
        .filter(|(p, l)| **p == **l as usize)
        .count() as f64
        / 2000.0;
    let floor = prior_floor(&set.labels_train, &set.labels_test, 3);
    assert!(acc > floor + 0.1, "mean map {acc}, floor {floor}");
    assert!(acc < CELLS_BAYES_ACCURACY + 0.03);
}
