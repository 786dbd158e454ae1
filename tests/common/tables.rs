//! Generated CSV tables of classes, as a reader would bring them: a header, `inputs` numeric
//! columns and a text class in the last column.

use descent::rng::Rng;

/// `rows` rows of `k` classes ("class a", "class b", …) in Gaussian clusters of standard
/// deviation 0.6 around centres 3 apart on a circle in the first two inputs (the clusters
/// overlap little: a network separates them to over 95 %), the other inputs pure noise,
/// classes drawn with the unequal prior ∝ (k, k − 1, …, 1). Seeded.
pub fn classes_csv(rows: usize, inputs: usize, k: usize, seed: u64) -> String {
    assert!(inputs >= 2 && k >= 2);
    let mut rng = Rng::new(seed);
    let weights: Vec<f64> = (0..k).map(|c| (k - c) as f64).collect();
    let total: f64 = weights.iter().sum();
    let radius = 3.0 / (2.0 * (std::f64::consts::PI / k as f64).sin());
    let mut out = String::new();
    let names: Vec<String> = (1..=inputs).map(|i| format!("x{i}")).collect();
    out.push_str(&names.join(","));
    out.push_str(",kind\n");
    for _ in 0..rows {
        let mut u = rng.uniform() * total;
        let mut c = 0;
        while c + 1 < k && u >= weights[c] {
            u -= weights[c];
            c += 1;
        }
        let angle = 2.0 * std::f64::consts::PI * c as f64 / k as f64;
        let mut row = vec![
            radius * angle.cos() + 0.6 * rng.normal(),
            radius * angle.sin() + 0.6 * rng.normal(),
        ];
        row.extend((2..inputs).map(|_| rng.normal()));
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.4}")).collect();
        out.push_str(&cells.join(","));
        out.push_str(&format!(",class {}\n", (b'a' + c as u8) as char));
    }
    out
}
