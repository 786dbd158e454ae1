//! The table parser in the browser (`wasm-pack test --headless --chrome --test web_table`): a
//! generated CSV of about 10 MB parses, and the time it takes is logged (no timed assertion:
//! the figure goes to BENCHMARKS by hand).
#![cfg(target_arch = "wasm32")]

use descent::data::table::sample_csv;
use descent::data::{SplitOptions, TableOptions, parse_table};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_10_mb_csv_parses() {
    let text = sample_csv(10_000_000);
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        let start = js_sys::Date::now();
        let t = parse_table(&text, &TableOptions::default()).unwrap();
        times.push(js_sys::Date::now() - start);
        rows = t.rows;
        assert_eq!((t.dim, t.classes, t.dropped), (8, 5, 121));
    }
    times.sort_by(f64::total_cmp);
    let t = parse_table(&text, &TableOptions::default()).unwrap();
    let start = js_sys::Date::now();
    let d = t.dataset(&SplitOptions::default()).unwrap();
    let split = js_sys::Date::now() - start;
    assert_eq!(d.n_train() + d.n_test(), rows);
    console_log!(
        "table: {:.1} MB, {rows} rows: parse {:.0} ms (median of 3), split + standardise {split:.0} ms",
        text.len() as f64 / 1e6,
        times[1]
    );
}
