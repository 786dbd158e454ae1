//! What a headless scene produces, and how it is written to `--out`.
//!
//! A [`SceneOutput`] is plain data: the scene's report (JSON), a summary of scalars for sweeps,
//! tables (written as CSV) and figures (drawn as SVG by the plotting module). Every file is
//! written under a temporary name and renamed when complete, so a directory never holds a
//! half-written file under its final name.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::SerializeMap;

use super::Settings;
use crate::error::{Error, Result};

/// Everything one headless run of a scene produces.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SceneOutput {
    /// The scene's report: the numbers behind its panels, as the page's report export holds
    /// them (field names follow the engine's report structs).
    pub report: serde_json::Value,
    /// Scalars that summarise the run, in a fixed order (a sweep writes one column each):
    /// e.g. `testLoss`, `testAccuracy`, `divergedAt` (NaN when it did not diverge).
    pub summary: Vec<(String, f64)>,
    /// The data behind each panel, one CSV each.
    pub tables: Vec<Table>,
    /// Each panel as a figure, one SVG each.
    pub figures: Vec<Figure>,
    /// Sentences the reader should see (a refusal of one panel, a fallback to the CPU).
    pub notes: Vec<String>,
    /// The backend the run used: "cpu" or "gpu".
    pub backend: String,
}

/// One CSV file: `name` (without extension) and its columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One CSV field.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    /// A number, written in the shortest form that reads back exactly (NaN as empty).
    Num(f64),
    Text(String),
}

impl From<f64> for Cell {
    fn from(x: f64) -> Self {
        Cell::Num(x)
    }
}

impl From<f32> for Cell {
    fn from(x: f32) -> Self {
        Cell::Num(x as f64)
    }
}

impl From<usize> for Cell {
    fn from(x: usize) -> Self {
        Cell::Num(x as f64)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

/// A panel drawn as an SVG figure.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Figure {
    Lines(LinePlot),
    Heatmap(HeatPlot),
}

impl Figure {
    /// The file name (without extension).
    pub fn name(&self) -> &str {
        match self {
            Figure::Lines(p) => &p.name,
            Figure::Heatmap(p) => &p.name,
        }
    }
}

/// Curves and points against shared axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinePlot {
    /// The file name (without extension).
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    /// Fixed axis ranges, when the data's own would mislead (e.g. accuracy in [0, 1]).
    pub x_range: Option<[f64; 2]>,
    pub y_range: Option<[f64; 2]>,
    /// Vertical marker lines: (x, label), e.g. the interpolation threshold p = n.
    pub x_marks: Vec<(f64, String)>,
    /// Horizontal marker lines: (y, label), e.g. 2/η.
    pub y_marks: Vec<(f64, String)>,
    pub series: Vec<Series>,
}

/// One curve or set of points. Non-finite points are skipped (a curve breaks there).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// A half-width per point (a standard error), drawn as a band or error bars.
    pub err: Option<Vec<f64>>,
    pub style: Style,
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Style {
    #[default]
    Line,
    /// A theory curve or a reference drawn over the data.
    Dashed,
    Points,
}

/// Values over a grid of (x, y) cells, with optional labelled points over it: a phase diagram,
/// a network's decision regions or fitted function over its inputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeatPlot {
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    /// Cell centres along x and along y.
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// `ys.len() × xs.len()`, row-major (row i is y = ys[i]); NaN draws as an empty cell.
    pub values: Vec<f64>,
    /// What the colour means, e.g. "test loss" (the colour bar's label). With `classes`, a
    /// label "regime: 0 stable, 1 catapult, 2 divergent" titles the key "regime" and names
    /// each class.
    pub value_label: String,
    /// Classes: value k draws in class k's colour (decision regions) instead of a scale.
    pub classes: bool,
    /// Points drawn over the cells: (x, y, class or value) — the training data.
    pub points: Vec<(f64, f64, f64)>,
}

/// Columns of numbers over a shared x (the step, say): one table of them all and line plots of
/// any of them, so that a panel's CSV and its figure hold the same numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    x_name: String,
    x: Vec<f64>,
    columns: Vec<(String, Vec<f64>)>,
}

impl Columns {
    /// No columns yet over `x`, whose column is named `x_name`.
    pub fn new(x_name: &str, x: Vec<f64>) -> Columns {
        Columns {
            x_name: x_name.to_string(),
            x,
            columns: Vec::new(),
        }
    }

    /// Adds the column `name`: one value per x.
    pub fn with(mut self, name: impl Into<String>, y: Vec<f64>) -> Columns {
        self.columns.push((name.into(), y));
        self
    }

    /// The table `name`: x, then every column in the order added.
    pub fn table(&self, name: &str) -> Table {
        let mut columns = vec![self.x_name.clone()];
        columns.extend(self.columns.iter().map(|(n, _)| n.clone()));
        Table {
            name: name.into(),
            columns,
            rows: (0..self.x.len())
                .map(|i| {
                    let mut row = vec![Cell::Num(self.x[i])];
                    row.extend(self.columns.iter().map(|(_, y)| Cell::Num(y[i])));
                    row
                })
                .collect(),
        }
    }

    /// `plot` with one series against x for each `(column, label, style)`, after the series it
    /// holds.
    pub fn lines(&self, mut plot: LinePlot, series: &[(&str, &str, Style)]) -> Figure {
        for &(column, label, style) in series {
            plot.series.push(self.series(column, label, style));
        }
        Figure::Lines(plot)
    }

    /// Column `column` against x as a series. Naming a column not added is a bug in the caller
    /// and panics.
    pub fn series(&self, column: &str, label: &str, style: Style) -> Series {
        let (_, y) = self
            .columns
            .iter()
            .find(|(n, _)| n == column)
            .unwrap_or_else(|| panic!("no column {column} to draw"));
        Series {
            label: label.into(),
            x: self.x.clone(),
            y: y.clone(),
            err: None,
            style,
        }
    }

    /// The table and the line plot of every column, both named `plot.name`; `labels` gives
    /// each column's series label and style, in the columns' order.
    pub fn table_and_lines(&self, plot: LinePlot, labels: &[(&str, Style)]) -> (Table, Figure) {
        assert_eq!(labels.len(), self.columns.len(), "a label per column");
        let series: Vec<(&str, &str, Style)> = self
            .columns
            .iter()
            .zip(labels)
            .map(|((n, _), &(label, style))| (n.as_str(), label, style))
            .collect();
        (self.table(&plot.name), self.lines(plot, &series))
    }
}

/// The table and the heat map of a confusion matrix over the classes `names`: `counts` is
/// row-major, row t the points of true class t; `title` and the colour's label `what` say
/// which points it counts.
pub fn confusion(names: &[String], counts: &[f64], title: &str, what: &str) -> (Table, Figure) {
    let kc = names.len();
    let mut columns = vec!["true class".to_string()];
    columns.extend(names.iter().map(|n| format!("predicted {n}")));
    let table = Table {
        name: "confusion".into(),
        columns,
        rows: (0..kc)
            .map(|t| {
                let mut row = vec![Cell::Text(names[t].clone())];
                row.extend((0..kc).map(|p| Cell::from(counts[t * kc + p])));
                row
            })
            .collect(),
    };
    let idx: Vec<f64> = (0..kc).map(|c| c as f64).collect();
    let figure = Figure::Heatmap(HeatPlot {
        name: "confusion".into(),
        title: title.into(),
        x_label: "predicted class".into(),
        y_label: "true class".into(),
        xs: idx.clone(),
        ys: idx,
        values: counts.to_vec(),
        value_label: what.into(),
        ..HeatPlot::default()
    });
    (table, figure)
}

/// The vertical mark of a divergence at step `s`, or none.
pub fn diverged_mark(diverged: Option<u64>) -> Vec<(f64, String)> {
    diverged
        .map(|s| vec![(s as f64, format!("diverged at step {s}"))])
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// A number as a CSV field or a summary line: the shortest decimal that reads back as exactly
/// `x` (in exponent form below 1e-5 and from 1e16 on), `inf`/`-inf`, and NaN as nothing.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x == 0.0 || (1e-5..1e16).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// A text field of a CSV file, quoted when it holds a comma, a quote, a line break or space
/// at either end (RFC 4180: a quote inside is doubled).
pub fn csv_text(s: &str) -> String {
    let needs = s.contains([',', '"', '\n', '\r']) || s.trim() != s;
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Table {
    /// The table as CSV: a header of column names, then one line per row (`\n` line ends).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| csv_text(c)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Num(x) => number(*x),
                    Cell::Text(s) => csv_text(s),
                })
                .collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
    }
}

/// Writes `bytes` to `dir/name` through a temporary file in the same directory that is
/// renamed when complete: a reader (or a run stopped half-way) never sees a partial file under
/// the final name.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(&path, e)
    })?;
    Ok(path)
}

/// An I/O failure on `path` as an error the reader can act on.
pub fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        message: format!("{}: {e}", path.display()),
    }
}

/// What `report.json` says about a run besides the scene's own output.
#[derive(Clone, Debug)]
pub struct RunRecord<'a> {
    /// The settings the run used (every setting of the scene's table).
    pub settings: &'a Settings,
    /// The page's link for the same settings (`double-descent.html?…`).
    pub link: String,
    /// `--steps` as given (`None`: the scene's default).
    pub steps: Option<u64>,
    /// Notes of the command line itself (a link's adjusted values), before the scene's own.
    pub notes: Vec<String>,
}

/// A list of (name, number) pairs as a JSON object in the given order, NaN and infinities as
/// `null` (JSON has no such numbers).
struct Scalars<'a>(&'a [(String, f64)]);

impl Serialize for Scalars<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, &v.is_finite().then_some(*v))?;
        }
        m.end()
    }
}

/// A scene's settings as a JSON object in its table's order.
struct Ordered<'a>(&'a Settings);

impl Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let spec = &self.0.spec;
        let mut m = s.serialize_map(Some(spec.settings.len()))?;
        for set in &spec.settings {
            m.serialize_entry(set.name, &super::json_of(self.0.get(set.name)))?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct ReportFile<'a> {
    scene: &'a str,
    version: &'a str,
    settings: Ordered<'a>,
    /// The page's view options the run read, each with its value (given or default).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    view: BTreeMap<&'a str, &'a str>,
    link: &'a str,
    backend: &'a str,
    steps: Option<u64>,
    summary: Scalars<'a>,
    notes: Vec<&'a str>,
    report: &'a serde_json::Value,
}

/// The text of `report.json` for `out` and `run`.
pub fn report_json(out: &SceneOutput, run: &RunRecord) -> String {
    let file = ReportFile {
        scene: run.settings.scene(),
        version: env!("CARGO_PKG_VERSION"),
        settings: Ordered(run.settings),
        view: super::link::view_options(run.settings.scene())
            .iter()
            .map(|o| (o.name, run.settings.view(o.name)))
            .collect(),
        link: &run.link,
        backend: &out.backend,
        steps: run.steps,
        summary: Scalars(&out.summary),
        notes: run
            .notes
            .iter()
            .chain(&out.notes)
            .map(String::as_str)
            .collect(),
        report: &out.report,
    };
    let mut s = serde_json::to_string_pretty(&file).expect("a report serialises");
    s.push('\n');
    s
}

/// Writes a run into `dir` (made if missing): every table as `<name>.csv`, every figure as
/// `<name>.svg`, then `report.json`. Each file lands under a temporary name first; a
/// `report.json` already there is removed before the others are written, so the directory only
/// holds one when every file of the run it describes is complete. Returns the paths written,
/// `report.json` last.
pub fn write_run(dir: &Path, out: &SceneOutput, run: &RunRecord) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let report = dir.join("report.json");
    match std::fs::remove_file(&report) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&report, e)),
    }
    let mut written = Vec::new();
    for t in &out.tables {
        check_stem(&t.name)?;
        written.push(write_atomic(
            dir,
            &format!("{}.csv", t.name),
            t.to_csv().as_bytes(),
        )?);
    }
    for f in &out.figures {
        check_stem(f.name())?;
        let svg = super::plot::svg(f)?;
        written.push(write_atomic(
            dir,
            &format!("{}.svg", f.name()),
            svg.as_bytes(),
        )?);
    }
    written.push(write_atomic(
        dir,
        "report.json",
        report_json(out, run).as_bytes(),
    )?);
    Ok(written)
}

/// A table's or figure's name is a plain file stem (a driver's own constant).
fn check_stem(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "report"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::Io {
            message: format!("{name:?} is not a plain file name for an output"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_give_a_table_and_lines_of_the_same_numbers() {
        let cols = Columns::new("step", vec![0.0, 5.0])
            .with("train", vec![1.0, f64::NAN])
            .with("test", vec![2.0, 3.0]);
        assert_eq!(
            cols.table("losses").to_csv(),
            "step,train,test\n0,1,2\n5,,3\n"
        );
        let Figure::Lines(plot) = cols.lines(
            LinePlot {
                name: "losses".into(),
                ..LinePlot::default()
            },
            &[("test", "held out", Style::Dashed)],
        ) else {
            panic!("a line plot")
        };
        assert_eq!(plot.series.len(), 1);
        assert_eq!(plot.series[0].label, "held out");
        assert_eq!(plot.series[0].x, [0.0, 5.0]);
        assert_eq!(plot.series[0].y, [2.0, 3.0]);
        assert_eq!(plot.series[0].style, Style::Dashed);
        let (table, figure) = cols.table_and_lines(
            LinePlot {
                name: "both".into(),
                ..LinePlot::default()
            },
            &[("a", Style::Line), ("b", Style::Line)],
        );
        assert_eq!(table.name, "both");
        assert_eq!(figure.name(), "both");
        let Figure::Lines(plot) = figure else {
            panic!("a line plot")
        };
        assert_eq!(plot.series[1].label, "b");
        assert!(plot.series[0].y[1].is_nan());
    }

    #[test]
    fn a_confusion_matrix_reads_by_true_class() {
        let names = ["a".to_string(), "b".to_string()];
        let (table, figure) = confusion(&names, &[3.0, 1.0, 0.0, 4.0], "Confusion", "points");
        assert_eq!(
            table.to_csv(),
            "true class,predicted a,predicted b\na,3,1\nb,0,4\n"
        );
        let Figure::Heatmap(heat) = figure else {
            panic!("a heat map")
        };
        assert_eq!(heat.xs, [0.0, 1.0]);
        assert_eq!(heat.values, [3.0, 1.0, 0.0, 4.0]);
        assert_eq!(heat.value_label, "points");
    }

    #[test]
    fn numbers_are_written_in_the_shortest_form_that_reads_back() {
        for x in [
            0.1,
            1.0 / 3.0,
            2.5e-7,
            1e300,
            -4.0,
            123456.789,
            f64::MIN_POSITIVE,
            9.999e15,
            1e16,
        ] {
            let s = number(x);
            assert_eq!(s.parse::<f64>().unwrap(), x, "{s}");
        }
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.5e-7), "2.5e-7");
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(f64::NAN), "");
        assert_eq!(number(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn csv_quotes_text_only_when_needed() {
        let t = Table {
            name: "t".into(),
            columns: vec!["p/n".into(), "label, with comma".into()],
            rows: vec![
                vec![Cell::Num(0.5), Cell::Text("plain".into())],
                vec![Cell::Num(f64::NAN), Cell::Text("say \"hi\"".into())],
                vec![Cell::Num(1e-9), Cell::Text(" padded".into())],
            ],
        };
        assert_eq!(
            t.to_csv(),
            "p/n,\"label, with comma\"\n0.5,plain\n,\"say \"\"hi\"\"\"\n1e-9,\" padded\"\n"
        );
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("descent-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn files_are_renamed_into_place_and_leave_no_temporary_behind() {
        let dir = scratch("atomic");
        std::fs::create_dir_all(&dir).unwrap();
        let p = write_atomic(&dir, "a.csv", b"x\n1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x\n1\n");
        write_atomic(&dir, "a.csv", b"x\n2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x\n2\n");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.csv"]);
        // A directory that cannot be written to is an error naming the path, not a panic.
        let e = write_atomic(&dir.join("missing"), "b.csv", b"").unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_run_is_written_with_its_report_last_and_in_a_fixed_order() {
        let dir = scratch("run").join("nested");
        let settings = Settings::defaults("double-descent").unwrap();
        let out = SceneOutput {
            report: serde_json::json!({ "curve": [1.5, 2.0] }),
            summary: vec![("testLoss".into(), 0.25), ("divergedAt".into(), f64::NAN)],
            tables: vec![Table {
                name: "curve".into(),
                columns: vec!["ratio".into(), "testError".into()],
                rows: vec![vec![Cell::Num(0.5), Cell::Num(0.125)]],
            }],
            figures: vec![Figure::Lines(LinePlot {
                name: "curve".into(),
                title: "Test error".into(),
                x_label: "p/n".into(),
                y_label: "test error".into(),
                series: vec![Series {
                    label: "ridge".into(),
                    x: vec![0.5, 1.0, 2.0],
                    y: vec![0.1, 0.9, 0.2],
                    ..Default::default()
                }],
                ..Default::default()
            })],
            notes: vec!["a note".into()],
            backend: "cpu".into(),
        };
        let run = RunRecord {
            settings: &settings,
            link: "double-descent.html?seed=0".into(),
            steps: None,
            notes: vec!["from the link".into()],
        };
        let paths = write_run(&dir, &out, &run).unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["curve.csv", "curve.svg", "report.json"]);
        let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["scene"], "double-descent");
        assert_eq!(json["summary"]["testLoss"], 0.25);
        assert!(json["summary"]["divergedAt"].is_null());
        assert_eq!(
            json["notes"],
            serde_json::json!(["from the link", "a note"])
        );
        assert_eq!(json["report"]["curve"][0], 1.5);
        assert!(json["steps"].is_null());
        // Summary and settings keep their order (the table's), not the alphabet's.
        assert!(text.find("testLoss").unwrap() < text.find("divergedAt").unwrap());
        let first = settings.spec.settings[0].name;
        let last = settings.spec.settings.last().unwrap().name;
        assert!(text.find(&format!("\"{first}\"")) < text.find(&format!("\"{last}\"")));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
