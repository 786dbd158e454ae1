//! Time to parse a generated CSV of about 10 MB with [`parse_table`] and to split it into a
//! standardised dataset with [`Table::dataset`] (median of 5 runs each). The file: a header,
//! then rows of 8 numeric input columns (values like `-1.234567`) and a text class label of
//! 5 values, with every 1,000th row missing a value.
//!
//! Run with `cargo bench --bench table` (release build); `-- 50` for a file of about 50 MB.

use std::hint::black_box;
use std::time::Instant;

use descent::data::table::sample_csv;
use descent::data::{SplitOptions, Table, TableOptions, parse_table};

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
    let text = sample_csv(mb * 1_000_000);
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
