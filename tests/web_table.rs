//! The table parser in the browser (`wasm-pack test --headless --chrome --test web_table`): a
//! generated CSV of about 10 MB parses, and the time it takes is logged (no timed assertion:
//! the figure goes to BENCHMARKS by hand); and the Weak-labels scene on a reader's table
//! through the exports a page calls.
#![cfg(target_arch = "wasm32")]

use descent::api::playground::DataTable;
use descent::api::weak_labels::{
    WeakLabels, clear_weak_table, has_weak_table, set_weak_table, weak_bag_sizes, weak_cell,
};
use descent::data::table::sample_csv;
use descent::data::{SplitOptions, TableOptions, parse_table};
use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

#[path = "common/tables.rs"]
mod tables;

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

fn config(pairs: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (k, v) in pairs {
        Reflect::set(&obj, &JsValue::from_str(k), v).unwrap();
    }
    obj.into()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap()
}

fn num(obj: &JsValue, key: &str) -> f64 {
    get(obj, key)
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number"))
}

fn thrown(err: JsValue) -> String {
    js_sys::Error::from(err).message().into()
}

#[wasm_bindgen_test]
fn weak_labels_trains_on_a_readers_table() {
    let on_table = || {
        config(&[
            ("data", "table".into()),
            ("bag", 8.into()),
            ("lr", 4.into()),
            ("width", 32.into()),
            ("steps", 100.into()),
        ])
    };
    // No table held yet: refused, naming the data.
    clear_weak_table();
    let e = thrown(WeakLabels::new(on_table()).err().unwrap());
    assert!(e.contains("`data`"), "{e}");
    // 600 rows of 3 classes, 3 inputs: 480 training rows (the pool), 120 test rows.
    let text = tables::classes_csv(600, 3, 3, 7);
    let table = DataTable::parse(&text, JsValue::NULL).unwrap();
    set_weak_table(table.share());
    assert!(has_weak_table());
    let mut run = WeakLabels::new(on_table()).unwrap();
    let r = run.advance(200).unwrap();
    assert!(get(&r, "diverged").is_null());
    assert!(
        num(&r, "testAccuracy") >= 0.9,
        "{}",
        num(&r, "testAccuracy")
    );
    let p = run.proportions().unwrap();
    assert_eq!((num(&p, "bags"), num(&p, "classes")), (60.0, 3.0));
    assert!(
        run.grid_spec().unwrap().is_null(),
        "three inputs: no regions"
    );
    assert!(run.predict_grid().is_none());
    let sizes = weak_bag_sizes(on_table()).unwrap();
    assert_eq!(sizes, vec![1, 2, 4, 8, 16, 32, 64, 128, 256]);
    let cell = weak_cell(on_table(), 8, 1.0).unwrap();
    for key in ["dllp", "easyllp", "meanMap"] {
        assert!(num(&cell, key) >= 0.8, "{key}: {}", num(&cell, key));
    }
    // The caller's table stays good; a regression table is refused.
    assert_eq!(num(&table.summary().unwrap(), "classes"), 3.0);
    let values: String = (0..50)
        .map(|i| format!("{i},{},{}.25\n", i % 7, i * 3))
        .collect();
    let regression = DataTable::parse(&format!("a,b,y\n{values}"), JsValue::NULL).unwrap();
    assert_eq!(
        get(&regression.summary().unwrap(), "task")
            .as_string()
            .unwrap(),
        "regression"
    );
    set_weak_table(regression);
    let e = thrown(WeakLabels::new(on_table()).err().unwrap());
    assert!(e.contains("`data`") && e.contains("regression"), "{e}");
    clear_weak_table();
    assert!(!has_weak_table());
}
