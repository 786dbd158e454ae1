//! The data side of many classes and a reader's own data: the K-class 2-D sets, the digits as a
//! dataset, target encodings, the CSV/TSV table parser (a table of good and bad files, each bad
//! file's message asserted), the seeded split and standardisation, and the principal plane.

use descent::data::digits;
use descent::data::table::{MAX_PARSED_BYTES, fnv1a64};
use descent::data::{
    ColumnRef, Dataset, DatasetKind, Encoding, Part, Pca2, SplitOptions, TableOptions, Task,
    encode, generate, generate_with, parse_table,
};
use nalgebra::{DMatrix, SymmetricEigen};

const DIGITS_CSV: &str = include_str!("../data/digits.csv");

fn table(text: &str) -> descent::data::Table {
    parse_table(text, &TableOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn error(text: &str, options: &TableOptions) -> String {
    match parse_table(text, options) {
        Ok(t) => panic!("accepted {text:?}: {t:?}"),
        Err(e) => e.to_string(),
    }
}

// --- generated sets ---

#[test]
fn existing_sets_keep_their_numbers_and_gain_class_indices() {
    for kind in DatasetKind::ALL {
        let d = generate(kind, 60, 20, 0.1, 0.2, 7).unwrap();
        let e = generate_with(kind, 60, 20, 0.1, 0.2, 7, 5, None).unwrap();
        assert_eq!(
            d.x_train, e.x_train,
            "{kind:?}: the class setting is ignored"
        );
        assert_eq!(d.y_train, e.y_train);
        if kind.task() == Task::Classification {
            assert_eq!(d.classes, 2);
            // ±1 and class indices agree, flips included.
            for (y, l) in d.y_train.iter().zip(&d.labels_train) {
                assert_eq!(*y, if *l == 1 { 1.0 } else { -1.0 });
            }
            assert_eq!(d.targets(Part::Train, Encoding::Signed).unwrap(), d.y_train);
            let hot = d.targets(Part::Test, Encoding::OneHot).unwrap();
            assert_eq!(hot.len(), 2 * d.n_test());
            for (row, l) in hot.chunks(2).zip(&d.labels_test) {
                assert_eq!(row[*l as usize], 1.0);
                assert_eq!(row.iter().sum::<f32>(), 1.0);
            }
        } else {
            assert_eq!(d.classes, 0);
            assert!(d.targets(Part::Train, Encoding::OneHot).is_err());
        }
    }
}

/// FNV-1a 64 of every value of the splits of each regression and two-class set at two
/// settings: the numbers these sets have always had (the constant was computed from the
/// generators as they were before the K-class sets and class indices existed).
#[test]
fn two_class_sets_are_bit_identical_to_their_definition() {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for kind in DatasetKind::ALL {
        for (noise, label_noise, seed) in [(0.1, 0.2, 1u64), (0.0, 0.0, 42)] {
            let d = generate(kind, 37, 11, noise, label_noise, seed).unwrap();
            for v in d
                .x_train
                .iter()
                .chain(&d.y_train)
                .chain(&d.x_test)
                .chain(&d.y_test)
            {
                for b in v.to_bits().to_le_bytes() {
                    h ^= b as u64;
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
    }
    assert_eq!(h, FINGERPRINT, "{h:#018x}");
}
const FINGERPRINT: u64 = 0xd0a3_523a_ed5c_14a5;

fn class_counts(labels: &[u32], k: usize) -> Vec<usize> {
    let mut c = vec![0; k];
    for &l in labels {
        c[l as usize] += 1;
    }
    c
}

#[test]
fn k_class_sets_are_seeded_and_balanced() {
    for kind in [DatasetKind::Blobs, DatasetKind::Arms] {
        for k in 2..=6 {
            let a = generate_with(kind, 600, 300, 0.05, 0.0, 3, k, None).unwrap();
            let b = generate_with(kind, 600, 300, 0.05, 0.0, 3, k, None).unwrap();
            let c = generate_with(kind, 600, 300, 0.05, 0.0, 4, k, None).unwrap();
            assert_eq!(a.x_train, b.x_train);
            assert_eq!(a.labels_test, b.labels_test);
            assert_ne!(a.x_train, c.x_train, "{kind:?} K = {k}: another seed");
            assert_eq!((a.dim, a.classes, a.task), (2, k, Task::Classification));
            assert_eq!(a.class_names.len(), k);
            assert_eq!(a.x_train.len(), 1200);
            // Arms: radius ≤ 1 plus noise 0.05 (5 sd: 0.25); blobs: radius 0.9 plus sd 0.25
            // (6 sd: 1.5).
            let bound = if kind == DatasetKind::Arms { 1.25 } else { 2.4 };
            assert!(a.x_train.iter().all(|v| v.is_finite() && v.abs() < bound));
            // Uniform classes: each count is Binomial(600, 1/k), sd ≤ √(600/4) ≈ 12.2; 5 sd.
            let expected = 600.0 / k as f64;
            for (class, &n) in class_counts(&a.labels_train, k).iter().enumerate() {
                assert!(
                    (n as f64 - expected).abs() < 61.0,
                    "{kind:?} K = {k}: class {class} has {n} of 600"
                );
            }
            // Two classes also carry ±1; more carry none (one-hot instead).
            if k == 2 {
                assert_eq!(a.y_train.len(), 600);
                assert_eq!(a.default_encoding(), Encoding::Signed);
            } else {
                assert!(a.y_train.is_empty());
                assert_eq!(a.default_encoding(), Encoding::OneHot);
                assert!(a.targets(Part::Train, Encoding::Signed).is_err());
            }
            assert_eq!(
                a.targets(Part::Train, Encoding::OneHot).unwrap().len(),
                600 * k
            );
        }
    }
}

#[test]
fn blobs_sit_on_their_centres_and_arms_on_their_curves() {
    use std::f64::consts::PI;
    let k = 5;
    let b = generate_with(DatasetKind::Blobs, 2000, 0, 0.0, 0.0, 8, k, None).unwrap();
    for class in 0..k {
        let pts: Vec<&[f32]> = b
            .x_train
            .chunks(2)
            .zip(&b.labels_train)
            .filter(|(_, l)| **l as usize == class)
            .map(|(x, _)| x)
            .collect();
        let m = pts.len() as f64;
        let cx: f64 = pts.iter().map(|p| p[0] as f64).sum::<f64>() / m;
        let cy: f64 = pts.iter().map(|p| p[1] as f64).sum::<f64>() / m;
        let a = 2.0 * PI * class as f64 / k as f64 + PI / 2.0;
        // The mean of ~400 N(0, 0.2²) deviates has sd 0.01; 0.05 is 5 sd.
        assert!((cx - 0.9 * a.cos()).abs() < 0.05, "class {class}: {cx}");
        assert!((cy - 0.9 * a.sin()).abs() < 0.05, "class {class}: {cy}");
    }
    // Without noise every arm point lies on its arm: r = 0.1 + 0.9 t and angle 2.5π t + 2πc/K.
    let s = generate_with(DatasetKind::Arms, 500, 0, 0.0, 0.0, 8, k, None).unwrap();
    for (x, &c) in s.x_train.chunks(2).zip(&s.labels_train) {
        let r = (x[0] as f64).hypot(x[1] as f64);
        let t = (r - 0.1) / 0.9;
        let a = 2.5 * PI * t + 2.0 * PI * c as f64 / k as f64;
        // f32 coordinates: 1e-5 absolute.
        assert!((x[0] as f64 - r * a.cos()).abs() < 1e-5);
        assert!((x[1] as f64 - r * a.sin()).abs() < 1e-5);
    }
}

#[test]
fn k_class_label_noise_moves_exactly_that_many_labels_to_other_classes() {
    let clean = generate_with(DatasetKind::Arms, 200, 50, 0.0, 0.0, 4, 4, None).unwrap();
    let noisy = generate_with(DatasetKind::Arms, 200, 50, 0.0, 0.25, 4, 4, None).unwrap();
    assert_eq!(clean.x_train, noisy.x_train);
    let moved = clean
        .labels_train
        .iter()
        .zip(&noisy.labels_train)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(moved, 50);
    assert!(noisy.labels_train.iter().all(|&l| l < 4));
    assert_eq!(clean.labels_test, noisy.labels_test);
}

#[test]
fn bad_class_settings_are_refused() {
    for k in [0, 1, 7] {
        let e = generate_with(DatasetKind::Blobs, 10, 10, 0.1, 0.0, 1, k, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`classes`") && e.contains("2..=6"), "{e}");
    }
    let e = generate(DatasetKind::Digits, 10, 10, 0.0, 0.0, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("digits.csv"), "{e}");
    assert!(generate(DatasetKind::Table, 10, 10, 0.0, 0.0, 1).is_err());
}

#[test]
fn encode_checks_its_labels() {
    assert_eq!(
        encode(&[2, 0], 3, Encoding::OneHot).unwrap(),
        [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    );
    assert_eq!(encode(&[1, 0], 2, Encoding::Signed).unwrap(), [1.0, -1.0]);
    assert!(encode(&[3], 3, Encoding::OneHot).is_err());
    assert!(encode(&[0], 3, Encoding::Signed).is_err());
    assert_eq!(Encoding::OneHot.outputs(7), 7);
    assert_eq!(Encoding::Signed.outputs(2), 1);
}

// --- digits ---

#[test]
fn digits_dataset_has_64_inputs_10_classes_and_a_seeded_disjoint_split() {
    let parsed = digits::parse(DIGITS_CSV).unwrap();
    let d = generate_with(
        DatasetKind::Digits,
        1000,
        797,
        0.3,
        0.0,
        2,
        3,
        Some(&parsed),
    )
    .unwrap();
    assert_eq!(
        (d.dim, d.classes, d.n_train(), d.n_test()),
        (64, 10, 1000, 797)
    );
    assert_eq!(d.class_names[7], "7");
    assert_eq!(d.input_names.len(), 64);
    assert!(d.x_train.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(d.y_train.is_empty());
    // Every image once: the split is a partition of all 1,797 (class counts add up).
    let mut counts = class_counts(&d.labels_train, 10);
    for (c, n) in class_counts(&d.labels_test, 10).into_iter().enumerate() {
        counts[c] += n;
    }
    assert_eq!(counts, digits::CLASS_COUNTS);
    let again = descent::data::digits_dataset(&parsed, 1000, 797, 0.0, 2).unwrap();
    assert_eq!(again.x_test, d.x_test);
    let other = descent::data::digits_dataset(&parsed, 1000, 797, 0.0, 3).unwrap();
    assert_ne!(other.x_test, d.x_test);
    // Drawn on the principal plane; the plotting box holds every projected point.
    let p = d.projection.as_ref().expect("64 inputs are projected");
    let coords = d.plot_coords(&d.x_test);
    let (lo, hi) = d.domain;
    for xy in coords.chunks(2) {
        assert!(xy[0] > lo[0] && xy[0] < hi[0] && xy[1] > lo[1] && xy[1] < hi[1]);
    }
    // The first two axes of the digits explain about 29 % of the variance (scikit-learn's
    // figure for this data is 14.9 % + 13.6 %); ±2 % for the subsample.
    assert!((p.explained() - 0.285).abs() < 0.02, "{}", p.explained());
    let grid = d.grid(0.0);
    assert_eq!((grid.dim, grid.size), (2, 64));
    assert_eq!(p.lift(&grid.points()).len(), 64 * 64 * 64);
    assert!(
        descent::data::digits_dataset(&parsed, 1000, 798, 0.0, 2).is_err(),
        "more images than there are"
    );
}

// --- the table parser ---

const IRIS_LIKE: &str = "sepal_length,sepal_width,species
5.1,3.5,setosa
4.9,3.0,setosa
7.0,3.2,versicolor
6.4,3.2,versicolor
6.3,3.3,virginica
5.8,2.7,virginica
";

#[test]
fn a_plain_csv_with_a_header_and_a_text_target() {
    let t = table(IRIS_LIKE);
    assert!(t.has_header);
    assert_eq!(t.delimiter, ',');
    assert_eq!(t.columns, ["sepal_length", "sepal_width", "species"]);
    assert_eq!((t.rows, t.dim, t.target_column), (6, 2, 2));
    assert_eq!(t.target_name, "species");
    assert_eq!(t.input_names, ["sepal_length", "sepal_width"]);
    assert_eq!(
        (t.task, t.inferred_task),
        (Task::Classification, Task::Classification)
    );
    assert_eq!(t.class_names, ["setosa", "versicolor", "virginica"]);
    assert_eq!(t.labels, [0, 0, 1, 1, 2, 2]);
    assert_eq!(t.class_counts, [2, 2, 2]);
    assert_eq!(&t.inputs[..4], &[5.1, 3.5, 4.9, 3.0]);
    assert_eq!(t.dropped, 0);
    assert_eq!(
        t.hash,
        format!("fnv1a64:{:016x}", fnv1a64(IRIS_LIKE.as_bytes()))
    );
}

#[test]
fn fnv1a64_matches_its_reference_values() {
    // The published FNV-1a 64 test vectors.
    assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
    assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
}

#[test]
fn header_detection_both_ways_and_forced() {
    let headerless = "1,2,0\n3,4,1\n5,6,0\n";
    let t = table(headerless);
    assert!(!t.has_header);
    assert_eq!(t.rows, 3);
    assert_eq!(t.columns, ["column 1", "column 2", "column 3"]);
    // A header whose only text is the target's name, and a header of all text.
    assert!(table("x,y,label\n1,2,a\n3,4,b\n").has_header);
    assert!(table("a,b,c\n1,2,3\n4,5,6\n").has_header);
    // Forced: the first row taken as data, or as names.
    let forced = parse_table(
        headerless,
        &TableOptions {
            header: Some(true),
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(forced.columns, ["1", "2", "0"]);
    assert_eq!(forced.rows, 2);
}

#[test]
fn tsv_semicolons_quotes_crlf_and_a_bom() {
    let tsv = table("a\tb\tc\n1\t2\tx\n3\t4\ty\n");
    assert_eq!((tsv.delimiter, tsv.rows, tsv.dim), ('\t', 2, 2));
    let semi = table("a;b;c\n1.5;2;x\n3;4;y\n");
    assert_eq!(semi.delimiter, ';');
    assert_eq!(&semi.inputs[..2], &[1.5, 2.0]);
    // Quoted fields with the delimiter, an escaped quote and a line break inside.
    let q = table(
        "\u{feff}\"width, cm\",\"height\",\"kind\"\r\n1,2,\"a, \"\"big\"\" one\"\r\n3,4,\"two\nlines\"\r\n5,6,plain\r\n",
    );
    assert_eq!(q.columns, ["width, cm", "height", "kind"]);
    assert_eq!(q.rows, 3);
    assert_eq!(q.class_names, ["a, \"big\" one", "plain", "two\nlines"]);
    assert_eq!(q.inputs, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    // The line after a quoted line break is counted: the ragged row is on line 4.
    let e = error("a,b\n1,\"x\ny\"\n1,2,3\n", &TableOptions::default());
    assert!(e.contains("line 4 has 3 fields, the header has 2"), "{e}");
    // Blank lines and a missing final newline are fine.
    assert_eq!(table("a,b\n\n1,x\n\n2,y").rows, 2);
}

#[test]
fn missing_values_drop_their_rows_and_are_counted() {
    let t = table("a,b,y\n1,2,u\n,3,v\nNA,1,u\n4,?,v\n5,NaN,u\n6,7,null\n8,9,v\n1,1,N/A\n");
    assert_eq!((t.rows, t.dropped), (2, 6));
    assert_eq!(t.inputs, [1.0, 2.0, 8.0, 9.0]);
    let e = error("a,b\n1,\n,2\n3,x\n", &TableOptions::default());
    assert!(
        e.contains("only 1 row with every value present (2 dropped for missing values)"),
        "{e}"
    );
}

#[test]
fn task_inference_and_override() {
    // Integers with at most 20 distinct values: classes, sorted numerically.
    let t = table("x,y\n1,10\n2,9\n3,10\n4,-1\n");
    assert_eq!(t.task, Task::Classification);
    assert_eq!(t.class_names, ["-1", "9", "10"]);
    assert_eq!(t.labels, [2, 1, 2, 0]);
    // Non-integers: regression.
    let r = table("x,y\n1,0.5\n2,1.5\n3,2.25\n");
    assert_eq!((r.task, r.classes), (Task::Regression, 0));
    assert_eq!(r.values, [0.5, 1.5, 2.25]);
    // 21 distinct integers: regression.
    let many: String = (0..21).map(|i| format!("{i},{i}\n")).collect();
    assert_eq!(table(&format!("x,y\n{many}")).task, Task::Regression);
    let twenty: String = (0..40).map(|i| format!("{i},{}\n", i % 20)).collect();
    assert_eq!(table(&format!("x,y\n{twenty}")).classes, 20);
    // Forced either way.
    let forced = parse_table(
        "x,y\n1,10\n2,9\n3,10\n",
        &TableOptions {
            task: Some(Task::Regression),
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        (forced.task, forced.inferred_task),
        (Task::Regression, Task::Classification)
    );
    assert_eq!(forced.values, [10.0, 9.0, 10.0]);
    let as_classes = parse_table(
        "x,y\n1,0.5\n2,1.5\n3,0.5\n",
        &TableOptions {
            task: Some(Task::Classification),
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(as_classes.class_names, ["0.5", "1.5"]);
    assert_eq!(as_classes.labels, [0, 1, 0]);
}

#[test]
fn the_target_column_by_index_or_name() {
    let by_name = parse_table(
        "sepal_length,sepal_width,petal\n5.1,3.5,1.4\n4.9,3.25,1.3\n",
        &TableOptions {
            target: Some(ColumnRef::Name("sepal_width".into())),
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(by_name.target_column, 1);
    assert_eq!(by_name.task, Task::Regression);
    let by_index = parse_table(
        "y,a,b\n1.5,1,2\n2.5,3,4\n",
        &TableOptions {
            target: Some(ColumnRef::Index(0)),
            ..TableOptions::default()
        },
    )
    .unwrap();
    assert_eq!(by_index.input_names, ["a", "b"]);
    assert_eq!(by_index.inputs, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(by_index.values, [1.5, 2.5]);
    // Options read from a page's JSON: the target as a number or a name.
    let o: TableOptions = serde_json::from_str(r#"{"target": "a", "header": true}"#).unwrap();
    assert_eq!(o.target, Some(ColumnRef::Name("a".into())));
    assert_eq!(o.max_bytes, MAX_PARSED_BYTES);
    let o: TableOptions = serde_json::from_str(r#"{"target": 2, "task": "regression"}"#).unwrap();
    assert_eq!(
        (o.target, o.task),
        (Some(ColumnRef::Index(2)), Some(Task::Regression))
    );
}

/// Each bad file, its options, and the words its message must hold.
#[test]
fn bad_files_get_messages_naming_the_fault() {
    let default = TableOptions::default();
    let with = |f: fn(&mut TableOptions)| {
        let mut o = TableOptions::default();
        f(&mut o);
        o
    };
    let many_classes: String = (0..101).map(|i| format!("{i},c{i}\n")).collect();
    let many_classes = format!("x,y\n{many_classes}");
    let big: String = "1,2,3\n".repeat(1000);
    let cases: Vec<(&str, String, TableOptions, Vec<&str>)> = vec![
        (
            "empty",
            String::new(),
            default.clone(),
            vec!["`file`", "the file is empty"],
        ),
        (
            "blank",
            " \n\r\n\n".into(),
            default.clone(),
            vec!["the file is empty"],
        ),
        (
            "bom only",
            "\u{feff}".into(),
            default.clone(),
            vec!["the file is empty"],
        ),
        (
            "one column",
            "x\n1\n2\n".into(),
            default.clone(),
            vec!["a single column ('x')"],
        ),
        (
            "ragged",
            "a,b,c,d\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3\n".into(),
            default.clone(),
            vec!["line 7 has 3 fields, the header has 4"],
        ),
        (
            "ragged, headerless",
            "1,2,3\n4,5\n".into(),
            default.clone(),
            vec!["line 2 has 2 fields, the first row has 3"],
        ),
        (
            "non-numeric input",
            format!("{IRIS_LIKE}5.0,abc,setosa\n"),
            default.clone(),
            vec!["line 8, column 'sepal_width': 'abc' is not a number"],
        ),
        (
            "non-numeric input past the sniffed rows",
            format!("a,b\n{}x1,2\n", "1,2\n".repeat(30)),
            default.clone(),
            vec!["line 32, column 'a': 'x1' is not a number"],
        ),
        (
            "one class",
            "a,y\n1,cat\n2,cat\n3,cat\n".into(),
            default.clone(),
            vec!["`target`", "single class ('cat')", "at least two"],
        ),
        (
            "too many classes",
            many_classes,
            default.clone(),
            vec!["'y' has 101 distinct values, more than 100 classes"],
        ),
        (
            "over the memory budget",
            big,
            with(|o| o.max_bytes = 10_000),
            vec!["about 1000 rows × 3 columns", "12 KB", "limit of 10 KB"],
        ),
        (
            "no rows after dropping",
            "a,b\n1,\nNA,2\n".into(),
            default.clone(),
            vec!["no row with every value present (2 dropped for missing values)"],
        ),
        (
            "one row",
            "a,b\n1,2\n".into(),
            default.clone(),
            vec!["only 1 row", "at least 2"],
        ),
        (
            "text target forced to regression",
            IRIS_LIKE.into(),
            with(|o| o.task = Some(Task::Regression)),
            vec!["`task`", "'species' holds text (line 2: 'setosa')"],
        ),
        (
            "target index out of range",
            IRIS_LIKE.into(),
            with(|o| o.target = Some(ColumnRef::Index(3))),
            vec!["`target`", "3 columns", "no column 3"],
        ),
        (
            "target name unknown",
            IRIS_LIKE.into(),
            with(|o| o.target = Some(ColumnRef::Name("petal".into()))),
            vec![
                "no column named 'petal'",
                "'sepal_length', 'sepal_width', 'species'",
            ],
        ),
        (
            "a bad delimiter",
            IRIS_LIKE.into(),
            with(|o| o.delimiter = Some('"')),
            vec!["`delimiter`"],
        ),
    ];
    for (name, text, options, words) in cases {
        let e = error(&text, &options);
        for w in words {
            assert!(e.contains(w), "{name}: {e:?} lacks {w:?}");
        }
    }
}

#[test]
fn the_memory_budget_counts_four_bytes_a_value() {
    // 1,001 lines × 3 columns × 4 bytes = 12,012 bytes: refused at 12,011, accepted at 12,012.
    let text = format!("a,b,c\n{}", "1,2,3\n1,2,4\n".repeat(500));
    let at = |max_bytes| {
        parse_table(
            &text,
            &TableOptions {
                max_bytes,
                ..TableOptions::default()
            },
        )
    };
    assert!(at(12_011).is_err());
    assert_eq!(at(12_012).unwrap().rows, 1000);
}

// --- the split ---

fn numbered(n: usize) -> String {
    // Row i: inputs (i, 2i + 1), class i mod 3.
    let rows: String = (0..n)
        .map(|i| format!("{i},{},{}\n", 2 * i + 1, ["a", "b", "c"][i % 3]))
        .collect();
    format!("u,v,k\n{rows}")
}

#[test]
fn the_split_is_seeded_disjoint_and_complete() {
    let t = table(&numbered(50));
    let opts = |seed| SplitOptions {
        test_fraction: 0.2,
        standardize: false,
        seed,
    };
    let a = t.dataset(&opts(1)).unwrap();
    let b = t.dataset(&opts(1)).unwrap();
    let c = t.dataset(&opts(2)).unwrap();
    assert_eq!((a.n_train(), a.n_test()), (40, 10));
    assert_eq!(a.x_train, b.x_train);
    assert_eq!(a.x_test, b.x_test);
    assert_ne!(a.x_test, c.x_test);
    let mut ids: Vec<usize> = a
        .x_train
        .chunks(2)
        .chain(a.x_test.chunks(2))
        .map(|x| x[0] as usize)
        .collect();
    // Labels travel with their rows.
    for (x, &l) in a.x_train.chunks(2).zip(&a.labels_train) {
        assert_eq!(l as usize, x[0] as usize % 3);
    }
    ids.sort();
    assert_eq!(ids, (0..50).collect::<Vec<_>>());
    assert_eq!(a.kind, DatasetKind::Table);
    assert_eq!(a.source_hash.as_deref(), Some(t.hash.as_str()));
    assert_eq!((a.classes, a.dim), (3, 2));
    assert!(a.projection.is_none());
    // Fractions: 0 keeps every row for training; 0.9 of 5 rows leaves one for training.
    let five = table(&numbered(5));
    let all = five
        .dataset(&SplitOptions {
            test_fraction: 0.0,
            ..opts(1)
        })
        .unwrap();
    assert_eq!((all.n_train(), all.n_test()), (5, 0));
    let most = five
        .dataset(&SplitOptions {
            test_fraction: 0.9,
            ..opts(1)
        })
        .unwrap();
    assert_eq!((most.n_train(), most.n_test()), (1, 4));
    let e = five
        .dataset(&SplitOptions {
            test_fraction: 0.95,
            ..opts(1)
        })
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`testFraction`") && e.contains("[0, 0.9]"),
        "{e}"
    );
}

#[test]
fn standardisation_uses_the_training_split_only() {
    let t = table(&numbered(40));
    let d = t
        .dataset(&SplitOptions {
            test_fraction: 0.25,
            standardize: true,
            seed: 5,
        })
        .unwrap();
    let s = d.scaling.as_ref().unwrap();
    // The statistics are those of the training rows as they are in the file.
    let raw: Dataset = t
        .dataset(&SplitOptions {
            test_fraction: 0.25,
            standardize: false,
            seed: 5,
        })
        .unwrap();
    for j in 0..2 {
        let col: Vec<f64> = raw.x_train.chunks(2).map(|x| x[j] as f64).collect();
        let m = col.iter().sum::<f64>() / 30.0;
        let sd = (col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 30.0).sqrt();
        assert!((s.mean[j] - m).abs() < 1e-12 && (s.sd[j] - sd).abs() < 1e-12);
        // Training columns: mean 0, sd 1 (f32 storage: 1e-5).
        let z: Vec<f64> = d.x_train.chunks(2).map(|x| x[j] as f64).collect();
        let zm = z.iter().sum::<f64>() / 30.0;
        let zsd = (z.iter().map(|v| (v - zm).powi(2)).sum::<f64>() / 30.0).sqrt();
        assert!(zm.abs() < 1e-5 && (zsd - 1.0).abs() < 1e-5, "{zm} {zsd}");
        // Test rows use the training statistics, not their own.
        for (zt, xt) in d.x_test.chunks(2).zip(raw.x_test.chunks(2)) {
            assert!((zt[j] as f64 - (xt[j] as f64 - m) / sd).abs() < 1e-5);
        }
    }
    // A constant column is only centred.
    let c = table("a,b,y\n1,5,0\n2,5,1\n3,5,0\n4,5,1\n")
        .dataset(&SplitOptions::default())
        .unwrap();
    assert!(c.x_train.chunks(2).all(|x| x[1] == 0.0));
}

#[test]
fn tables_of_many_inputs_are_drawn_on_their_principal_plane() {
    let rows: String = (0..30)
        .map(|i| {
            let t = i as f64 / 10.0;
            format!(
                "{},{},{},{}\n",
                t,
                2.0 * t,
                t.sin(),
                if i % 2 == 0 { "p" } else { "q" }
            )
        })
        .collect();
    let t = table(&format!("a,b,c,y\n{rows}"));
    let d = t.dataset(&SplitOptions::default()).unwrap();
    let p = d.projection.as_ref().unwrap();
    assert_eq!(p.dim, 3);
    let (lo, hi) = d.domain;
    for xy in d.plot_coords(&d.x_train).chunks(2) {
        assert!(xy[0] > lo[0] && xy[0] < hi[0] && xy[1] > lo[1] && xy[1] < hi[1]);
    }
    // Regression on one input: the box is the input range, no plane.
    let r = table("x,y\n0,0.5\n1,1.5\n2,2.5\n")
        .dataset(&SplitOptions::default())
        .unwrap();
    assert!(r.projection.is_none());
    assert_eq!(r.grid(0.0).dim, 1);
    assert_eq!(r.y_train.len() + r.y_test.len(), 3);
}

// --- the principal plane ---

/// Correlated 6-D Gaussian points with distinct variances.
fn cloud(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = descent::rng::Rng::new(seed);
    let scales = [3.0, 2.0, 1.2, 0.7, 0.3, 0.1];
    let mut out = Vec::with_capacity(n * 6);
    for _ in 0..n {
        let z: Vec<f64> = scales.iter().map(|s| s * rng.normal()).collect();
        // A fixed rotation mixing the coordinates, plus an offset.
        for j in 0..6 {
            let v: f64 = (0..6)
                .map(|k| z[k] * ((j * 7 + k * 3) as f64 * 0.37).cos())
                .sum::<f64>()
                + j as f64;
            out.push(v as f32);
        }
    }
    out
}

#[test]
fn pca_matches_a_dense_eigen_decomposition() {
    let n = 400;
    let x = cloud(n, 11);
    let p = Pca2::fit(&x, 6).unwrap();
    // Reference: the covariance in f64 and nalgebra's symmetric eigen-decomposition.
    let mean: Vec<f64> = (0..6)
        .map(|j| x.chunks(6).map(|r| r[j] as f64).sum::<f64>() / n as f64)
        .collect();
    let c = DMatrix::from_fn(6, 6, |i, j| {
        x.chunks(6)
            .map(|r| (r[i] as f64 - mean[i]) * (r[j] as f64 - mean[j]))
            .sum::<f64>()
            / n as f64
    });
    let eig = SymmetricEigen::new(c.clone());
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    for (m, r) in p.mean.iter().zip(&mean) {
        assert!((m - r).abs() < 1e-9);
    }
    for a in 0..2 {
        let lambda = eig.eigenvalues[order[a]];
        // Converged to 1e-13 per coordinate; eigenvalues of order 1–10: 1e-9 relative.
        assert!(
            (p.variances[a] - lambda).abs() < 1e-9 * lambda,
            "{a}: {} vs {lambda}",
            p.variances[a]
        );
        let v = eig.eigenvectors.column(order[a]);
        let cos: f64 = (0..6).map(|j| v[j] * p.axes[a][j]).sum();
        assert!(
            (cos.abs() - 1.0).abs() < 1e-9,
            "axis {a}: |cos| = {}",
            cos.abs()
        );
    }
    let dot: f64 = (0..6).map(|j| p.axes[0][j] * p.axes[1][j]).sum();
    assert!(dot.abs() < 1e-12);
    assert!((p.total_variance - c.trace()).abs() < 1e-9 * c.trace());
    // Seeded data, deterministic fit.
    assert_eq!(Pca2::fit(&x, 6).unwrap(), p);
}

#[test]
fn lift_and_project_are_inverse_on_the_plane() {
    let x = cloud(200, 12);
    let p = Pca2::fit(&x, 6).unwrap();
    let plane = [0.0f32, 0.0, 1.5, -2.0, -3.0, 0.25];
    let lifted = p.lift(&plane);
    assert_eq!(lifted.len(), 18);
    // The origin of the plane is the mean.
    for (l, m) in lifted[..6].iter().zip(&p.mean) {
        assert!((*l as f64 - m).abs() < 1e-5);
    }
    // f32 round trip of values of order 10: 1e-4.
    for (a, b) in p.project(&lifted).iter().zip(&plane) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    // Projected training points have the fitted variances along the axes.
    let proj = p.project(&x);
    for a in 0..2 {
        let v: f64 = proj.chunks(2).map(|r| (r[a] as f64).powi(2)).sum::<f64>() / 200.0;
        assert!((v - p.variances[a]).abs() < 1e-4 * p.variances[a]);
    }
    assert!(Pca2::fit(&x, 1).is_err());
    assert!(Pca2::fit(&x[..5], 6).is_err());
}

#[test]
fn pca_of_many_points_thins_the_covariance_and_keeps_the_axes() {
    // 20,000 points: the covariance comes from every 3rd one (6,667 points); the mean from all.
    let x = cloud(20_000, 13);
    let p = Pca2::fit(&x, 6).unwrap();
    let full_mean: Vec<f64> = (0..6)
        .map(|j| x.chunks(6).map(|r| r[j] as f64).sum::<f64>() / 20_000.0)
        .collect();
    for (m, r) in p.mean.iter().zip(&full_mean) {
        assert!((m - r).abs() < 1e-9);
    }
    let c = DMatrix::from_fn(6, 6, |i, j| {
        x.chunks(6)
            .map(|r| (r[i] as f64 - full_mean[i]) * (r[j] as f64 - full_mean[j]))
            .sum::<f64>()
            / 20_000.0
    });
    let eig = SymmetricEigen::new(c);
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    for a in 0..2 {
        let v = eig.eigenvectors.column(order[a]);
        let cos: f64 = (0..6).map(|j| v[j] * p.axes[a][j]).sum();
        // Sampling error of a third of the points, with variances 9 and 4 well apart: the
        // axes agree to within a few hundredths of a radian.
        assert!(cos.abs() > 0.999, "axis {a}: |cos| = {}", cos.abs());
        let lambda = eig.eigenvalues[order[a]];
        assert!((p.variances[a] - lambda).abs() < 0.05 * lambda);
    }
}
