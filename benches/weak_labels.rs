//! Native timings of the Weak-labels scene at its defaults on the digits (1,024 instances in
//! bags, 3 seeds, the bag sizes 1 … 512), each beside a peer measured in the same run:
//!
//! - the mean map's curve over every bag size and seed (`weak_mean_map_curve`) against the
//!   same curve with the labels known: the same pools, at every bag size the class means of
//!   the same instances from their true labels and the same nearest-mean prediction of the
//!   test set. What the mean map adds is the bags (Dirichlet proportions, members), the bag
//!   means and the least squares with the SVD of the proportion matrix. Then the curve's
//!   parts, one seed at a time (pool, bags, bag means, fit, prediction).
//! - the live run at width 256 (`WeakLabels`, DLLP, bags of 16) against supervised
//!   cross-entropy training of the same network shape on 1,024 digits: steps per second, the
//!   live run stepped as the page's worker steps it (a report after every `PAGE_CHUNK` steps)
//!   and in long runs of steps.
//! - one sweep cell (two networks of width 64, 200 steps each, and the mean map) and one
//!   reference (one network), in ms; the page's sweep is 3 references and 30 cells.
//!
//! `cargo bench --bench weak_labels`; BENCHMARKS.md ("Weak labels") has the figures beside
//! Chromium's (`node scripts/bench.mjs --only weak`).

use std::sync::Arc;
use std::time::Instant;

use descent::backend::cpu::Cpu;
use descent::data::digits;
use descent::data::{BagOptions, Bags, Encoding, Part, digits_dataset};
use descent::kernels::mean_map::MeanMap;
use descent::nn::mlp::Mlp;
use descent::nn::{Loss, Trainer};
use descent::rng::Rng;
use descent::scenes::weak_labels::{
    Pool, WeakConfig, WeakData, WeakLabels, bag_sizes, labelled_mean_curve, weak_cell,
    weak_mean_map_curve, weak_reference,
};
use descent::session::run::DataSource;

#[path = "common/rate.rs"]
mod rate;
use rate::rate;

/// Steps between two reports of the page's live worker at about 200 steps/s (it aims at
/// chunks of 30 ms).
const PAGE_CHUNK: u64 = 6;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Milliseconds of `f`, median of `runs` after one warm-up.
fn ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

/// The mean map's curve with the labels known (the peer of `weak_mean_map_curve`).
fn nearest_mean_curve(config: &WeakConfig, source: &DataSource) -> Vec<f64> {
    labelled_mean_curve(config, source).unwrap()
}

fn main() {
    let digits = DataSource {
        digits: Some(Arc::new(
            digits::parse(include_str!("../data/digits.csv")).expect("digits"),
        )),
        table: None,
    };
    let config = WeakConfig {
        data: WeakData::Digits,
        ..WeakConfig::default()
    };
    let sizes = bag_sizes(&config);

    // The mean map's curve and its peer, alternated: curve, peer, peer, curve.
    let curve = |_: ()| {
        weak_mean_map_curve(&config, &digits).unwrap();
    };
    let peer = |_: ()| {
        nearest_mean_curve(&config, &digits);
    };
    let (c1, p1, p2, c2) = (
        ms(5, || curve(())),
        ms(5, || peer(())),
        ms(5, || peer(())),
        ms(5, || curve(())),
    );
    let (c, p) = ((c1 + c2) / 2.0, (p1 + p2) / 2.0);
    eprintln!(
        "native weak mean-map curve: {} sizes × {} seeds {c:.2} ms; labels known (nearest class \
         mean) {p:.2} ms; curve ÷ labels known {:.2}×",
        sizes.len(),
        config.seeds,
        c / p
    );
    // Its parts, for one seed.
    let pool_ms = ms(5, || {
        Pool::draw(&config, config.seed, &digits).unwrap();
    });
    let pool = Pool::draw(&config, config.seed, &digits).unwrap();
    let d = pool.dim();
    let (mut bags_ms, mut means_ms, mut fit_ms, mut predict_ms) = (0.0, 0.0, 0.0, 0.0);
    for &k in &sizes {
        let opts = BagOptions {
            alike: config.alike,
            size: k,
            instances: config.instances(),
            concentration: config.concentration,
            purified: config.purified,
            noise: config.noise,
            seed: config.seed,
        };
        bags_ms += ms(5, || {
            Bags::draw(&pool.labels, pool.classes(), &opts).unwrap();
        });
        let bags = Bags::draw(&pool.labels, pool.classes(), &opts).unwrap();
        means_ms += ms(5, || {
            bags.bag_means(&pool.data.x_train, d);
        });
        let means = bags.bag_means(&pool.data.x_train, d);
        let fit = || MeanMap::fit(&means, &bags.reported, bags.count(), bags.classes, d);
        fit_ms += ms(5, || {
            let _ = fit();
        });
        if let Ok(map) = fit() {
            predict_ms += ms(5, || {
                map.predict(&pool.data.x_test, d);
            });
        }
    }
    eprintln!(
        "native weak mean-map curve, one seed's parts: pool {pool_ms:.2} ms, bags {bags_ms:.2} \
         ms, bag means {means_ms:.2} ms, fit {fit_ms:.2} ms, prediction {predict_ms:.2} ms \
         (summed over the {} sizes)",
        sizes.len()
    );

    // The live run at width 256 (DLLP, bags of 16) against cross-entropy at the same shape.
    let live_config = WeakConfig {
        width: 256,
        ..config.clone()
    };
    let live_rate = |chunk: Option<u64>| {
        let mut run = WeakLabels::new(live_config.clone(), &digits).unwrap();
        rate(|k| {
            let mut left = k;
            while left > 0 {
                let s = chunk.unwrap_or(left).min(left);
                let r = run.advance(s);
                assert!(r.diverged.is_none(), "the live run diverged: {r:?}");
                if chunk.is_some() {
                    run.confusion();
                }
                left -= s;
            }
        })
    };
    let ce_rate = || {
        let data = digits_dataset(
            digits.digits.as_deref().expect("digits"),
            config.instances(),
            0,
            0.0,
            1,
        )
        .unwrap();
        let y = data.targets(Part::Train, Encoding::OneHot).unwrap();
        let mut backend = Cpu::new();
        let mlp = Mlp::new(&mut backend, live_config.spec(), &mut Rng::new(2)).unwrap();
        let mut t = Trainer::new(backend, mlp, &data.x_train, &y, false, 1e-3, 0, 3)
            .and_then(|t| t.with_loss(Loss::CrossEntropy))
            .unwrap();
        rate(|k| t.advance(k).unwrap())
    };
    let (page1, ce1, ce2, page2) = (
        live_rate(Some(PAGE_CHUNK)),
        ce_rate(),
        ce_rate(),
        live_rate(Some(PAGE_CHUNK)),
    );
    let (page, ce) = ((page1 + page2) / 2.0, (ce1 + ce2) / 2.0);
    let long = live_rate(None);
    eprintln!(
        "native weak live run 1x256 on {} digits, DLLP in bags of {}: {page:.1} steps/s with a \
         report every {PAGE_CHUNK} steps, {long:.1} steps/s in long runs; cross-entropy \
         {ce:.1} steps/s; live ÷ cross-entropy {:.2}×",
        live_config.instances(),
        live_config.bag,
        page / ce
    );

    // One sweep cell and one reference at the defaults.
    let cell_ms = ms(3, || {
        weak_cell(&config, 16, config.seed, &digits).unwrap();
    });
    let reference_ms = ms(3, || {
        weak_reference(&config, config.seed, &digits).unwrap();
    });
    eprintln!(
        "native weak sweep: one cell (bags of 16: DLLP, EasyLLP, mean map) {cell_ms:.1} ms, one \
         reference {reference_ms:.1} ms; {} cells and {} references one after another ≈ {:.1} s",
        sizes.len() * config.seeds,
        config.seeds,
        (cell_ms * (sizes.len() * config.seeds) as f64 + reference_ms * config.seeds as f64) / 1e3
    );
}
