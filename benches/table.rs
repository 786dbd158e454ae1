//! Time to parse a generated CSV of about 10 MB with [`parse_table`] and to split it into a
//! standardised dataset with [`Table::dataset`] (median of 5 runs each). The file: a header,
//! then rows of 8 numeric input columns (values like `-1.234567`) and a text class label of
//! 5 values, with every 1,000th row missing a value.
//!
//! Run with `cargo bench --bench table` (release build); `-- 50` for a file of about 50 MB.

use std::hint::black_box;
use std::time::Instant;

use descent::data::{SplitOptions, Table, TableOptions, parse_table};
use descent::rng::Rng;

fn csv(target_bytes: usize) -> String {
    let mut rng = Rng::new(1);
    let mut s = String::with_capacity(target_bytes + 200);
    s.push_str("a,b,c,d,e,f,g,h,kind\n");
    let mut i = 0usize;
    while s.len() < target_bytes {
        for j in 0..8 {
            if j == 3 && i % 1000 == 999 {
                s.push_str("NA,");
            } else {
                s.push_str(&format!("{:.6},", rng.normal()));
            }
        }
        s.push_str(["alpha", "beta", "gamma", "delta", "epsilon"][i % 5]);
        s.push('\n');
        i += 1;
    }
    s
}

fn median(mut f: impl FnMut(), reps: usize) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[reps / 2]
}

fn main() {
    let mb: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let text = csv(mb * 1_000_000);
    let options = TableOptions::default();
    let table: Table = parse_table(&text, &options).unwrap();
    let parse = median(
        || {
            black_box(parse_table(black_box(&text), &options).unwrap());
        },
        5,
    );
    let split = median(
        || {
            black_box(table.dataset(&SplitOptions::default()).unwrap());
        },
        5,
    );
    println!(
        "table: {:.1} MB, {} rows kept ({} dropped) × {} inputs, {} classes: parse {:.1} ms \
         ({:.0} MB/s), split + standardise {:.1} ms",
        text.len() as f64 / 1e6,
        table.rows,
        table.dropped,
        table.dim,
        table.classes,
        parse * 1e3,
        text.len() as f64 / 1e6 / parse,
        split * 1e3
    );
}
