//! The 8×8 handwritten digits (1,797 images, 10 classes), parsed from `data/digits.csv`.
//!
//! Attribution: Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten Digits
//! \[Dataset\]. UCI Machine Learning Repository. <https://doi.org/10.24432/C50P49> (CC BY 4.0); the
//! copy bundled with scikit-learn (`load_digits()`). Provenance and licence: `data/README.md`.
//!
//! The page fetches the CSV and hands its text to [`parse`]; native code can read the file or
//! `include_str!` it. Format: a header `p0,…,p63,label`, then one image per line: 64 pixel
//! counts (integers 0..=16, row-major over the 8×8 grid) and the class (0..=9).

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Images in the file.
pub const ROWS: usize = 1797;
/// Pixels per image (8 × 8).
pub const PIXELS: usize = 64;
/// Classes (the digits 0–9).
pub const CLASSES: usize = 10;
/// The largest pixel value.
pub const MAX_PIXEL: u8 = 16;
/// Images per class, labels 0..9.
pub const CLASS_COUNTS: [usize; CLASSES] = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

/// The parsed data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Digits {
    /// `ROWS × PIXELS`, row-major: the pixel counts 0..=16 as stored.
    pub pixels: Vec<u8>,
    /// `ROWS` classes 0..=9.
    pub labels: Vec<u8>,
}

fn bad(message: String) -> Error {
    Error::config("digits", message)
}

/// Parses and validates the CSV text: the header, 65 integer fields per line, pixel and label
/// ranges, and exactly [`ROWS`] images. Accepts `\n` or `\r\n` line ends and a final newline.
pub fn parse(text: &str) -> Result<Digits> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| bad("the digits file is empty".into()))?;
    let expected: Vec<String> = (0..PIXELS)
        .map(|i| format!("p{i}"))
        .chain(std::iter::once("label".to_string()))
        .collect();
    let got: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    if got != expected {
        return Err(bad(format!(
            "line 1: expected the header p0,…,p63,label, got {:?}",
            header.chars().take(40).collect::<String>()
        )));
    }
    let mut pixels = Vec::with_capacity(ROWS * PIXELS);
    let mut labels = Vec::with_capacity(ROWS);
    for (index, line) in lines {
        let line_no = index + 1;
        let mut fields = 0;
        for (col, field) in line.trim().split(',').enumerate() {
            fields += 1;
            if col > PIXELS {
                continue;
            }
            let value: u8 = field.trim().parse().map_err(|_| {
                bad(format!(
                    "line {line_no}, column {}: {field:?} is not a small non-negative integer",
                    col + 1
                ))
            })?;
            if col < PIXELS {
                if value > MAX_PIXEL {
                    return Err(bad(format!(
                        "line {line_no}, pixel p{col}: {value} is outside 0..={MAX_PIXEL}"
                    )));
                }
                pixels.push(value);
            } else {
                if value as usize >= CLASSES {
                    return Err(bad(format!(
                        "line {line_no}: label {value} is outside 0..={}",
                        CLASSES - 1
                    )));
                }
                labels.push(value);
            }
        }
        if fields != PIXELS + 1 {
            return Err(bad(format!(
                "line {line_no}: expected {} fields, got {fields}",
                PIXELS + 1
            )));
        }
    }
    if labels.len() != ROWS {
        return Err(bad(format!(
            "expected {ROWS} images, got {}; is this the digits file, complete?",
            labels.len()
        )));
    }
    Ok(Digits { pixels, labels })
}

impl Digits {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as its 64 pixel counts.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }

    /// Images per class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// A seeded random split: disjoint index sets of `n_train` and `n_test` images.
    pub fn split(&self, n_train: usize, n_test: usize, rng: &mut Rng) -> Result<Split> {
        if n_train + n_test > self.len() {
            return Err(Error::config(
                "nTrain",
                format!(
                    "{n_train} training and {n_test} test images need more than the {} there are",
                    self.len()
                ),
            ));
        }
        let perm = rng.permutation(self.len());
        Ok(Split {
            train: perm[..n_train].to_vec(),
            test: perm[n_train..n_train + n_test].to_vec(),
        })
    }
}

/// Indices of a train/test split.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(rows: &[&str]) -> String {
        let header: Vec<String> = (0..PIXELS).map(|i| format!("p{i}")).collect();
        format!("{},label\n{}\n", header.join(","), rows.join("\n"))
    }

    fn row(pixel: u8, label: u8) -> String {
        let mut f: Vec<String> = vec![pixel.to_string(); PIXELS];
        f.push(label.to_string());
        f.join(",")
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let r = row(3, 2);
        let e = parse(&tiny(&[&r])).unwrap_err().to_string();
        assert!(e.contains("expected 1797 images, got 1"), "{e}");
        let e = parse(&tiny(&[&row(17, 2)])).unwrap_err().to_string();
        assert!(e.contains("line 2, pixel p0: 17"), "{e}");
        let e = parse(&tiny(&[&row(1, 10)])).unwrap_err().to_string();
        assert!(e.contains("line 2: label 10"), "{e}");
        let short = r.rsplit_once(',').unwrap().0.to_string();
        let e = parse(&tiny(&[&r, &short])).unwrap_err().to_string();
        assert!(e.contains("line 3: expected 65 fields, got 64"), "{e}");
        let e = parse(&tiny(&[&r.replace("3,", "x,")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a small non-negative integer"), "{e}");
        let e = parse("a,b\n").unwrap_err().to_string();
        assert!(e.contains("header"), "{e}");
        assert!(parse("").is_err());
    }

    #[test]
    fn splits_are_disjoint_and_seeded() {
        let d = Digits {
            pixels: vec![0; 20 * PIXELS],
            labels: (0..20).map(|i| (i % 10) as u8).collect(),
        };
        let s = d.split(12, 8, &mut Rng::new(3)).unwrap();
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        assert_eq!(s, d.split(12, 8, &mut Rng::new(3)).unwrap());
        assert!(d.split(15, 8, &mut Rng::new(3)).is_err());
    }
}
