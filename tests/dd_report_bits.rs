//! The double-descent driver's report, bit for bit: its debug form (which prints every f64
//! exactly, NaN as NaN) hashed at the page's defaults and at a few other settings, against
//! hashes recorded from the straightforward implementation (one Householder reduction after
//! another, each seed on its own thread). Any change to the arithmetic of the curve (the
//! features, the Grams, the reductions, the solves or the predictions) changes a hash.
#![cfg(not(target_arch = "wasm32"))]

use descent::cli::{self, NoProgress, RunOptions, Settings};

fn settings(pairs: &[(&str, &str)]) -> Settings {
    let mut s = Settings::defaults("double-descent").expect("the table");
    for (k, v) in pairs {
        let setting = cli::settings::setting(&s.spec, k).unwrap().clone();
        s.set(k, cli::settings::parse_value(&setting, v).unwrap())
            .unwrap();
    }
    s
}

/// FNV-1a, 64 bits.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The hash of the driver's report, summary and tables at `pairs` on `threads` threads, and
/// the text hashed.
fn hash_of(pairs: &[(&str, &str)], threads: usize) -> (u64, String) {
    let s = settings(pairs);
    let options = RunOptions {
        threads,
        ..RunOptions::default()
    };
    let out = cli::scenes::get("double-descent")
        .unwrap()
        .run(&s, &options, &NoProgress)
        .unwrap();
    let text = format!("{:?}", out.report);
    let text = format!("{text}\n{:?}\n{:?}", out.summary, out.tables);
    (fnv(text.as_bytes()), text)
}

/// (name, settings, the report's hash as recorded).
type Case = (&'static str, &'static [(&'static str, &'static str)], u64);

const CASES: &[Case] = &[
    ("defaults", &[], 0x1687_5253_455f_fd70),
    (
        "ridge",
        &[("ridge", "0.05"), ("seeds", "2")],
        0xe2b4_6e09_f7c1_11ba,
    ),
    (
        "samples",
        &[("sweep", "samples"), ("seeds", "2")],
        0xd63d_0a9c_aba4_9c96,
    ),
    (
        "fourier",
        &[
            ("features", "fourier"),
            ("seeds", "2"),
            ("nonlinear", "0.5"),
        ],
        0xd6af_55df_97b1_aa17,
    ),
    (
        "digits",
        &[("data", "digits"), ("seeds", "2"), ("nTrain", "200")],
        0x8bce_a1f8_ccd3_54b2,
    ),
];

#[test]
fn reports_are_bit_for_bit_those_recorded() {
    let dump = std::env::var("DD_BITS_DUMP").ok();
    let mut wrong = Vec::new();
    for &(name, pairs, want) in CASES {
        let (h, text) = hash_of(pairs, 2);
        // DD_BITS_DUMP=dir writes each report's text there, to compare byte for byte.
        if let Some(dir) = &dump {
            std::fs::write(format!("{dir}/{name}.txt"), &text).unwrap();
        }
        if h != want {
            wrong.push(format!("{name}: {h:#018x}, recorded {want:#018x}"));
        }
    }
    assert!(wrong.is_empty(), "reports changed: {wrong:?}");
}
