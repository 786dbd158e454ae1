//! A reader's own data: CSV or TSV text parsed into a table of numeric inputs and one target
//! column ([`parse_table`]), and a seeded train/test split of it as a [`Dataset`]
//! ([`Table::dataset`]). The text never leaves the page; Descent only keeps its hash
//! ([`Table::hash`]) so that a result can be matched to its file.
//!
//! The rules, in the order they apply:
//! - **Text**: a UTF-8 byte-order mark is skipped; lines end in `\n` or `\r\n`; blank lines are
//!   skipped. Fields may be quoted with `"` (a quoted field may hold the delimiter, line breaks
//!   and `""` for a quote); spaces around a field are trimmed.
//! - **Delimiter** (unless given): among the first 20 non-blank lines, the first of tab,
//!   semicolon, comma that splits every one of them into the same number (≥ 2) of fields;
//!   failing that, the one giving the first line the most fields.
//! - **Header** (unless given): the first row is a header when some column's first cell is not
//!   a number (nor a missing value) while every present cell of that column in the next 20 rows
//!   is a number, or when every cell of the first row is non-numeric text.
//! - **Missing values**: an empty cell, `?`, `NA`, `N/A`, `NaN` or `null` (any case). A row with a
//!   missing value in any column is dropped and counted ([`Table::dropped`]).
//! - **Target**: the column chosen by index or name, by default the last. Every other column is
//!   an input and must hold numbers.
//! - **Task** (unless forced): classification when the target holds text, or when it holds
//!   only integers with at most [`MAX_INTEGER_CLASSES`] distinct values; regression otherwise.
//!   Classes are the distinct target values in sorted order (numerically for numbers,
//!   by bytes for text), mapped to 0..K−1, their text kept as the class names.
//! - **Limits**: at least two rows, one input column, two classes and at most [`MAX_CLASSES`];
//!   the parsed values (rows × columns × 4 bytes, estimated from the line count before
//!   parsing) within [`TableOptions::max_bytes`], by default [`MAX_PARSED_BYTES`].
//!
//! Every refusal is an [`Error::InvalidConfig`] naming the setting (`file`, `target`, `task`,
//! `testFraction`) with a message that names the line, column and value at fault.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{Dataset, DatasetKind, Scaling, Task, bounding_box, classified, plane_of, stream};
use crate::error::{Error, Result, human_bytes};
use crate::rng::Rng;

/// The most parsed data a table may hold by default: 64 MiB of 4-byte values.
pub const MAX_PARSED_BYTES: u64 = 64 << 20;
/// The most classes a target may have.
pub const MAX_CLASSES: usize = 100;
/// A numeric target is taken for class labels when it holds only integers with at most this
/// many distinct values.
pub const MAX_INTEGER_CLASSES: usize = 20;
/// The test fraction unless asked otherwise.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;
/// Rows looked at to sniff the delimiter and to detect a header.
const SNIFF_ROWS: usize = 20;

/// A column, by 0-based index or by header name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    Index(usize),
    Name(String),
}

/// How to read a table; `None` fields are detected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TableOptions {
    /// `','`, `'\t'` or `';'` (any single ASCII character is accepted); sniffed when `None`.
    pub delimiter: Option<char>,
    /// Whether the first row names the columns; detected when `None`.
    pub header: Option<bool>,
    /// The target column; the last when `None`.
    pub target: Option<ColumnRef>,
    /// Forces the task; inferred when `None`.
    pub task: Option<Task>,
    /// The most bytes the parsed values may take (rows × columns × 4).
    pub max_bytes: u64,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            delimiter: None,
            header: None,
            target: None,
            task: None,
            max_bytes: MAX_PARSED_BYTES,
        }
    }
}

/// A parsed table: the rows with every value present, inputs as numbers, the target as class
/// indices or values.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// Every column's name in file order (from the header, or "column 1", "column 2", …).
    pub columns: Vec<String>,
    /// The index of the target in `columns`.
    pub target_column: usize,
    /// The target's name.
    pub target_name: String,
    /// The input columns' names (`columns` without the target), in file order.
    pub input_names: Vec<String>,
    /// Whether the first row was a header.
    pub has_header: bool,
    /// The delimiter used.
    pub delimiter: char,
    /// Rows kept.
    pub rows: usize,
    /// Input columns d.
    pub dim: usize,
    /// `rows × dim`, row-major, as in the file.
    #[serde(skip)]
    pub inputs: Vec<f32>,
    /// The task used (forced or inferred).
    pub task: Task,
    /// The task the rules infer from the target (see the module docs).
    pub inferred_task: Task,
    /// K for classification, 0 for regression.
    pub classes: usize,
    /// K class names in class order (the target's text).
    pub class_names: Vec<String>,
    /// Rows kept per class (K values).
    pub class_counts: Vec<usize>,
    /// `rows` class indices (classification; empty for regression).
    #[serde(skip)]
    pub labels: Vec<u32>,
    /// `rows` target values (regression; empty for classification).
    #[serde(skip)]
    pub values: Vec<f32>,
    /// Rows dropped for a missing value.
    pub dropped: usize,
    /// FNV-1a 64 of the file's bytes as given (byte-order mark included), as
    /// `"fnv1a64:"` and 16 lower-case hex digits.
    pub hash: String,
}

/// How a table becomes a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SplitOptions {
    /// The share of rows held out for testing, in [0, 0.9]; at least one row stays for
    /// training.
    pub test_fraction: f64,
    /// Standardise each input column to mean 0 and standard deviation 1, with the mean and
    /// deviation of the training rows only.
    pub standardize: bool,
    /// Seeds the split.
    pub seed: u64,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            test_fraction: DEFAULT_TEST_FRACTION,
            standardize: true,
            seed: 0,
        }
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn file_error(message: String) -> Error {
    Error::config("file", message)
}

/// Whether a trimmed cell is a missing value.
pub fn is_missing(cell: &str) -> bool {
    cell.is_empty()
        || cell == "?"
        || ["na", "n/a", "nan", "null"]
            .iter()
            .any(|m| cell.eq_ignore_ascii_case(m))
}

/// A trimmed cell as a finite number.
fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Reads records (rows of fields) from the text, quote-aware.
struct Records<'a> {
    text: &'a str,
    pos: usize,
    /// The 1-based line the next record starts on.
    line: usize,
    delim: u8,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, delim: u8) -> Self {
        Records {
            text,
            pos: 0,
            line: 1,
            delim,
        }
    }

    /// The next non-blank record into `fields` (trimmed cells); its first line, or `None` at
    /// the end.
    fn next_into(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Option<usize> {
        let bytes = self.text.as_bytes();
        loop {
            if self.pos >= bytes.len() {
                return None;
            }
            fields.clear();
            let start_line = self.line;
            loop {
                // One field.
                let mut p = self.pos;
                while p < bytes.len()
                    && (bytes[p] == b' ' || bytes[p] == b'\t')
                    && bytes[p] != self.delim
                {
                    p += 1;
                }
                let field: Cow<'a, str>;
                if p < bytes.len() && bytes[p] == b'"' {
                    let begin = p + 1;
                    let mut q = begin;
                    let mut escaped = false;
                    loop {
                        if q >= bytes.len() {
                            break;
                        }
                        match bytes[q] {
                            b'"' if q + 1 < bytes.len() && bytes[q + 1] == b'"' => {
                                escaped = true;
                                q += 2;
                            }
                            b'"' => break,
                            b'\n' => {
                                self.line += 1;
                                q += 1;
                            }
                            _ => q += 1,
                        }
                    }
                    let inner = &self.text[begin..q.min(bytes.len())];
                    field = if escaped {
                        Cow::Owned(inner.replace("\"\"", "\"").trim().to_string())
                    } else {
                        Cow::Borrowed(inner.trim())
                    };
                    // Skip the closing quote and anything up to the delimiter or line end.
                    p = (q + 1).min(bytes.len());
                    while p < bytes.len() && bytes[p] != self.delim && bytes[p] != b'\n' {
                        p += 1;
                    }
                } else {
                    let begin = p;
                    while p < bytes.len() && bytes[p] != self.delim && bytes[p] != b'\n' {
                        p += 1;
                    }
                    field = Cow::Borrowed(self.text[begin..p].trim());
                }
                fields.push(field);
                if p < bytes.len() && bytes[p] == self.delim {
                    self.pos = p + 1;
                    continue;
                }
                // Line end or end of text.
                if p < bytes.len() {
                    self.line += 1;
                }
                self.pos = p + 1;
                break;
            }
            if fields.len() == 1 && fields[0].is_empty() {
                continue; // a blank line
            }
            return Some(start_line);
        }
    }
}

/// The delimiter by the rule in the module docs.
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SNIFF_ROWS)
        .collect();
    let count = |line: &str, d: u8| -> usize {
        let mut quoted = false;
        let mut n = 0;
        for &b in line.as_bytes() {
            if b == b'"' {
                quoted = !quoted;
            } else if b == d && !quoted {
                n += 1;
            }
        }
        n
    };
    let candidates = [b'\t', b';', b','];
    for &d in &candidates {
        let first = lines.first().map_or(0, |l| count(l, d));
        if first > 0 && lines.iter().all(|l| count(l, d) == first) {
            return d;
        }
    }
    candidates
        .iter()
        .copied()
        .max_by_key(|&d| lines.first().map_or(0, |l| count(l, d)))
        .filter(|&d| lines.first().is_some_and(|l| count(l, d) > 0))
        .unwrap_or(b',')
}

/// Whether the first row is a header, by the rule in the module docs.
fn detect_header(first: &[Cow<'_, str>], next: &[Vec<Cow<'_, str>>]) -> bool {
    let text = |c: &str| !is_missing(c) && number(c).is_none();
    if !first.is_empty() && first.iter().all(|c| text(c)) {
        return true;
    }
    (0..first.len()).any(|j| {
        text(&first[j]) && {
            let mut present = next
                .iter()
                .filter_map(|r| r.get(j))
                .filter(|c| !is_missing(c))
                .peekable();
            present.peek().is_some() && present.all(|c| number(c).is_some())
        }
    })
}

/// "'name'" for messages, shortened past 40 characters.
fn quoted(s: &str) -> String {
    let short: String = s.chars().take(40).collect();
    if short.len() < s.len() {
        format!("'{short}…'")
    } else {
        format!("'{short}'")
    }
}

/// Parses CSV/TSV text into a [`Table`] by the rules in the module docs.
pub fn parse_table(text: &str, options: &TableOptions) -> Result<Table> {
    parse_text(text, options)
}

fn parse_text<'t>(text: &'t str, options: &TableOptions) -> Result<Table> {
    let hash = format!("fnv1a64:{:016x}", fnv1a64(text.as_bytes()));
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim().is_empty() {
        return Err(file_error("the file is empty".into()));
    }
    let delim = match options.delimiter {
        Some(c) if c.is_ascii() && c != '"' && c != '\n' && c != '\r' => c as u8,
        Some(c) => {
            return Err(Error::config(
                "delimiter",
                format!(
                    "must be a single ASCII character other than a quote or a line break, got {c:?}"
                ),
            ));
        }
        None => sniff_delimiter(body),
    };
    let mut records = Records::new(body, delim);

    // The first rows, kept to decide the header.
    let mut head: Vec<(usize, Vec<Cow<'_, str>>)> = Vec::new();
    loop {
        let mut fields = Vec::new();
        match records.next_into(&mut fields) {
            Some(line) => head.push((line, fields)),
            None => break,
        }
        if head.len() > SNIFF_ROWS {
            break;
        }
    }
    let has_header = match options.header {
        Some(h) => h,
        None => {
            let rest: Vec<Vec<Cow<'_, str>>> = head[1..].iter().map(|(_, f)| f.clone()).collect();
            detect_header(&head[0].1, &rest)
        }
    };
    let ncols = head[0].1.len();
    let columns: Vec<String> = if has_header {
        head[0]
            .1
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if c.is_empty() {
                    format!("column {}", j + 1)
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        (1..=ncols).map(|j| format!("column {j}")).collect()
    };
    if ncols < 2 {
        return Err(file_error(format!(
            "the file has a single column ({}); it needs at least one input column and a \
             target column, separated by commas, tabs or semicolons",
            quoted(&columns[0])
        )));
    }
    let target_column = match &options.target {
        None => ncols - 1,
        Some(ColumnRef::Index(i)) if *i < ncols => *i,
        Some(ColumnRef::Index(i)) => {
            return Err(Error::config(
                "target",
                format!(
                    "the file has {ncols} columns (0 to {}); there is no column {i}",
                    ncols - 1
                ),
            ));
        }
        Some(ColumnRef::Name(name)) => columns.iter().position(|c| c == name).ok_or_else(|| {
            Error::config(
                "target",
                format!(
                    "there is no column named {}; the columns are {}",
                    quoted(name),
                    columns
                        .iter()
                        .map(|c| quoted(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
    };

    // The memory budget, from the number of lines (an upper bound on the rows).
    let lines = body.bytes().filter(|&b| b == b'\n').count() + !body.ends_with('\n') as usize;
    let estimate = lines as u64 * ncols as u64 * 4;
    if estimate > options.max_bytes {
        return Err(file_error(format!(
            "the file has about {lines} rows × {ncols} columns, about {} once parsed \
             (4 bytes a value), more than the limit of {}; use a file with fewer rows or columns",
            human_bytes(estimate),
            human_bytes(options.max_bytes)
        )));
    }

    let dim = ncols - 1;
    let mut inputs: Vec<f32> = Vec::with_capacity(lines * dim);
    let mut targets: Vec<(usize, Cow<'t, str>)> = Vec::with_capacity(lines);
    let mut dropped = 0usize;
    let header_word = if has_header {
        "the header"
    } else {
        "the first row"
    };
    let mut take = |line: usize, fields: &[Cow<'t, str>]| -> Result<()> {
        if fields.len() != ncols {
            return Err(file_error(format!(
                "line {line} has {} fields, {header_word} has {ncols}",
                fields.len()
            )));
        }
        if fields.iter().any(|c| is_missing(c)) {
            dropped += 1;
            return Ok(());
        }
        for (j, cell) in fields.iter().enumerate() {
            if j == target_column {
                continue;
            }
            match number(cell) {
                Some(v) => inputs.push(v as f32),
                None => {
                    return Err(file_error(format!(
                        "line {line}, column {}: {} is not a number",
                        quoted(&columns[j]),
                        quoted(cell)
                    )));
                }
            }
        }
        targets.push((line, fields[target_column].clone()));
        Ok(())
    };
    for (line, fields) in head.iter().skip(has_header as usize) {
        take(*line, fields)?;
    }
    if head.len() > SNIFF_ROWS {
        let mut fields = Vec::with_capacity(ncols);
        while let Some(line) = records.next_into(&mut fields) {
            take(line, &fields)?;
        }
    }
    let rows = targets.len();
    if rows < 2 {
        return Err(file_error(format!(
            "{} with every value present{}; at least 2 are needed",
            match rows {
                0 => "no row".to_string(),
                _ => "only 1 row".to_string(),
            },
            if dropped > 0 {
                format!(" ({dropped} dropped for missing values)")
            } else {
                String::new()
            }
        )));
    }

    let target_name = columns[target_column].clone();
    let numeric: Option<Vec<f64>> = targets.iter().map(|(_, c)| number(c)).collect();
    let inferred_task = match &numeric {
        None => Task::Classification,
        Some(v) => {
            let mut distinct: Vec<f64> = Vec::new();
            let integer = v.iter().all(|x| {
                if x.fract() != 0.0 || x.abs() > 9e15 {
                    return false;
                }
                if !distinct.contains(x) {
                    distinct.push(*x);
                }
                distinct.len() <= MAX_INTEGER_CLASSES
            });
            if integer {
                Task::Classification
            } else {
                Task::Regression
            }
        }
    };
    let task = options.task.unwrap_or(inferred_task);
    let input_names: Vec<String> = columns
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != target_column)
        .map(|(_, c)| c.clone())
        .collect();
    let mut table = Table {
        columns,
        target_column,
        target_name,
        input_names,
        has_header,
        delimiter: delim as char,
        rows,
        dim,
        inputs,
        task,
        inferred_task,
        classes: 0,
        class_names: Vec::new(),
        class_counts: Vec::new(),
        labels: Vec::new(),
        values: Vec::new(),
        dropped,
        hash,
    };
    match (task, numeric) {
        (Task::Regression, Some(v)) => {
            table.values = v.iter().map(|&x| x as f32).collect();
        }
        (Task::Regression, None) => {
            let (line, cell) = targets
                .iter()
                .find(|(_, c)| number(c).is_none())
                .expect("a non-numeric target cell");
            return Err(Error::config(
                "task",
                format!(
                    "the target {} holds text (line {line}: {}), so it can only be a \
                     classification target",
                    quoted(&table.target_name),
                    quoted(cell)
                ),
            ));
        }
        (Task::Classification, numeric) => {
            let (names, labels): (Vec<String>, Vec<u32>) = match numeric {
                Some(v) => {
                    let mut distinct = v.clone();
                    distinct.sort_by(f64::total_cmp);
                    distinct.dedup();
                    check_classes(&table.target_name, distinct.len(), || {
                        distinct.iter().map(|x| format!("{x}")).collect()
                    })?;
                    let labels = v
                        .iter()
                        .map(|x| distinct.partition_point(|d| d < x) as u32)
                        .collect();
                    (distinct.iter().map(|x| format!("{x}")).collect(), labels)
                }
                None => {
                    let mut distinct: BTreeMap<&str, u32> = BTreeMap::new();
                    for (_, c) in &targets {
                        distinct.entry(c.as_ref()).or_insert(0);
                    }
                    check_classes(&table.target_name, distinct.len(), || {
                        distinct.keys().map(|k| k.to_string()).collect()
                    })?;
                    let index: HashMap<&str, u32> = distinct
                        .keys()
                        .enumerate()
                        .map(|(i, k)| (*k, i as u32))
                        .collect();
                    let labels = targets.iter().map(|(_, c)| index[c.as_ref()]).collect();
                    (distinct.keys().map(|k| k.to_string()).collect(), labels)
                }
            };
            table.classes = names.len();
            table.class_names = names;
            let mut counts = vec![0usize; table.classes];
            for &l in &labels {
                counts[l as usize] += 1;
            }
            table.class_counts = counts;
            table.labels = labels;
        }
    }
    Ok(table)
}

/// Refuses one class or more than [`MAX_CLASSES`].
fn check_classes(target: &str, k: usize, names: impl FnOnce() -> Vec<String>) -> Result<()> {
    if k < 2 {
        let names = names();
        return Err(Error::config(
            "target",
            format!(
                "the target {} has a single class ({}); classification needs at least two",
                quoted(target),
                names.first().map_or(String::new(), |n| quoted(n))
            ),
        ));
    }
    if k > MAX_CLASSES {
        return Err(Error::config(
            "target",
            format!(
                "the target {} has {k} distinct values, more than {MAX_CLASSES} classes; \
                 choose another target column or treat it as regression",
                quoted(target)
            ),
        ));
    }
    Ok(())
}

impl Table {
    /// Row `i`'s inputs.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.inputs[i * self.dim..(i + 1) * self.dim]
    }

    /// The seeded split of the table as a dataset ([`DatasetKind::Table`]): `round(test_fraction
    /// · rows)` test rows (at most rows − 1) drawn by a permutation of the seed's
    /// [`stream::SPLIT`], the rest for training, in permutation order; inputs standardised
    /// when asked (statistics of the training rows only). Two classes also get the ±1 `y`
    /// (class 1 is +1); regression targets are the file's values.
    pub fn dataset(&self, options: &SplitOptions) -> Result<Dataset> {
        let f = options.test_fraction;
        if !(f.is_finite() && (0.0..=0.9).contains(&f)) {
            return Err(Error::config(
                "testFraction",
                format!("must lie in [0, 0.9], got {f}"),
            ));
        }
        let n = self.rows;
        let (_, n_test) = split_sizes(n, f);
        let perm = Rng::stream(options.seed, stream::SPLIT).permutation(n);
        let (train, test) = perm.split_at(n - n_test);
        let d = self.dim;
        let gather = |idx: &[usize]| -> Vec<f32> {
            let mut x = Vec::with_capacity(idx.len() * d);
            for &i in idx {
                x.extend_from_slice(self.row(i));
            }
            x
        };
        let (mut x_train, mut x_test) = (gather(train), gather(test));
        let scaling = options.standardize.then(|| {
            let s = standardization(&x_train, d);
            for x in [&mut x_train, &mut x_test] {
                for row in x.chunks_exact_mut(d) {
                    for ((v, m), sd) in row.iter_mut().zip(&s.mean).zip(&s.sd) {
                        *v = ((*v as f64 - m) / sd) as f32;
                    }
                }
            }
            s
        });
        let mut all = x_train.clone();
        all.extend_from_slice(&x_test);
        let domain = bounding_box(&all, d.min(2));
        let mut data = match self.task {
            Task::Classification => {
                let labels = |idx: &[usize]| idx.iter().map(|&i| self.labels[i]).collect();
                classified(
                    DatasetKind::Table,
                    d,
                    (x_train, labels(train)),
                    (x_test, labels(test)),
                    self.classes,
                    self.class_names.clone(),
                    self.input_names.clone(),
                    domain,
                )?
            }
            Task::Regression => {
                let values = |idx: &[usize]| idx.iter().map(|&i| self.values[i]).collect();
                let (projection, domain) = plane_of(&x_train, &x_test, d, domain)?;
                Dataset {
                    kind: DatasetKind::Table,
                    dim: d,
                    x_train,
                    y_train: values(train),
                    x_test,
                    y_test: values(test),
                    task: Task::Regression,
                    classes: 0,
                    labels_train: Vec::new(),
                    labels_test: Vec::new(),
                    class_names: Vec::new(),
                    input_names: self.input_names.clone(),
                    domain,
                    projection,
                    scaling: None,
                    source_hash: None,
                }
            }
        };
        data.scaling = scaling;
        data.source_hash = Some(self.hash.clone());
        Ok(data)
    }
}

/// The training and test rows of a table of `rows` rows split at `test_fraction` (see
/// [`Table::dataset`]): `round(test_fraction · rows)` test rows, at most `rows − 1`.
pub fn split_sizes(rows: usize, test_fraction: f64) -> (usize, usize) {
    let test = ((test_fraction * rows as f64).round() as usize).min(rows.saturating_sub(1));
    (rows - test, test)
}

/// Per-column mean and standard deviation (population) of `n × d` rows, in f64; a constant
/// column gets sd 1.
pub fn standardization(x: &[f32], d: usize) -> Scaling {
    let n = (x.len() / d.max(1)).max(1) as f64;
    let mut mean = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    let sd = var
        .iter()
        .map(|s| {
            let sd = (s / n).sqrt();
            if sd > 0.0 && sd.is_finite() { sd } else { 1.0 }
        })
        .collect();
    Scaling { mean, sd }
}

/// The file the table benchmarks parse (`benches/table.rs`, `tests/web_table.rs`, the bench
/// page), about `bytes` long: a header, then rows of 8 numbers (`-1.234567`, seeded) and a
/// text class of 5 values, every 1,000th row with a missing value (`NA`).
pub fn sample_csv(bytes: usize) -> String {
    let mut rng = crate::rng::Rng::new(1);
    let mut s = String::with_capacity(bytes + 200);
    s.push_str("a,b,c,d,e,f,g,h,kind\n");
    let mut i = 0usize;
    while s.len() < bytes {
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
