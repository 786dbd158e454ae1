//! What a headless scene produces, and how it is written to `--out`.
//!
//! A [`SceneOutput`] is plain data: the scene's report (JSON), a summary of scalars for sweeps,
//! tables (written as CSV) and figures (drawn as SVG by the plotting module). Every file is
//! written under a temporary name and renamed when complete, so a directory never holds a
//! half-written file under its final name.

use serde::Serialize;

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
    /// What the colour means, e.g. "test loss" (the colour bar's label).
    pub value_label: String,
    /// Classes: value k draws in class k's colour (decision regions) instead of a scale.
    pub classes: bool,
    /// Points drawn over the cells: (x, y, class or value) — the training data.
    pub points: Vec<(f64, f64, f64)>,
}
