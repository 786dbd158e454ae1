//! Figures as SVG, drawn with plotters' SVG backend: a [`LinePlot`] as curves, points, error
//! bands or bars and marker lines with a legend; a [`HeatPlot`] as coloured cells (a sequential
//! scale with a colour bar, or one colour per class) with points drawn over them.
//!
//! Figures are [`WIDTH`] × [`HEIGHT`] pixels, sized to read at that size in a paper or a page.

use std::fmt::Display;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{
    AsRangedCoord, KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter,
};
use plotters::prelude::*;

use super::output::{Figure, HeatPlot, LinePlot, Style};
use crate::error::{Error, Result};

/// A figure's width in pixels.
pub const WIDTH: u32 = 800;
/// A figure's height in pixels.
pub const HEIGHT: u32 = 500;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = std::result::Result<(), String>;

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(40, 40, 40);
const MARK: RGBColor = RGBColor(110, 110, 110);

/// Series colours, in order (distinct in hue and in lightness).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 104, 170),
    RGBColor(221, 110, 20),
    RGBColor(40, 150, 70),
    RGBColor(200, 40, 45),
    RGBColor(130, 90, 180),
    RGBColor(130, 85, 70),
    RGBColor(210, 100, 170),
    RGBColor(100, 100, 100),
];

/// The figure as an SVG document.
pub fn svg(fig: &Figure) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(msg)
            .and_then(|()| match fig {
                Figure::Lines(p) => lines(&root, p),
                Figure::Heatmap(h) => heatmap(&root, h),
            })
            .and_then(|()| root.present().map_err(msg));
        drawn.map_err(|e| Error::Io {
            message: format!("the figure `{}` could not be drawn: {e}", fig.name()),
        })?;
    }
    Ok(text)
}

fn msg(e: impl Display) -> String {
    e.to_string()
}

/// A tick label: up to four significant digits, in exponent form for very large or small
/// numbers.
pub fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            String::new()
        };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').expect("exponent form");
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{e}");
    }
    let digits = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A tick label on an axis spanning `r`: as [`tick`], with a tick at zero that rounding left a
/// hair away from it (a linear axis's k·step) shown as 0.
pub fn axis_tick(v: f64, r: [f64; 2]) -> String {
    let zero = r[0] <= 0.0 && r[1] >= 0.0 && v.abs() <= 1e-9 * r[0].abs().max(r[1].abs());
    if zero { "0".into() } else { tick(v) }
}

/// The span of `values` (finite and, on a log axis, positive), or `None` when there is none.
fn span(values: impl Iterator<Item = f64>, log: bool) -> Option<[f64; 2]> {
    values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold(None, |acc, v| match acc {
            None => Some([v, v]),
            Some([a, b]) => Some([a.min(v), b.max(v)]),
        })
}

/// An axis range around `span` with a margin (linear: 4 % each side; log: a twentieth of the
/// decades), widened when it is a single value.
fn padded(span: Option<[f64; 2]>, log: bool) -> [f64; 2] {
    let [lo, hi] = span.unwrap_or(if log { [1.0, 10.0] } else { [0.0, 1.0] });
    if log {
        let (l, h) = (lo.log10(), hi.log10());
        let (l, h) = if h - l < 1e-9 {
            (l - 0.5, h + 0.5)
        } else {
            (l, h)
        };
        let m = (h - l) * 0.05;
        [10f64.powf(l - m), 10f64.powf(h + m)]
    } else {
        let (l, h) = if hi - lo < 1e-12 * lo.abs().max(1.0) {
            (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0))
        } else {
            (lo, hi)
        };
        let m = (h - l) * 0.04;
        [l - m, h + m]
    }
}

/// Whether a point can be drawn on the axes.
fn drawable(x: f64, y: f64, x_log: bool, y_log: bool) -> bool {
    x.is_finite() && y.is_finite() && (!x_log || x > 0.0) && (!y_log || y > 0.0)
}

/// A logarithmic axis whose ticks fall on 1, 2 and 5 (or every digit) times powers of ten,
/// also inside a single decade (plotters' own log axis marks only whole powers there).
#[derive(Clone, Debug)]
pub struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    /// An axis over `[lo, hi]` (both positive).
    pub fn new([lo, hi]: [f64; 2]) -> Self {
        LogAxis { lo, hi }
    }

    /// The values `m·10^k` in the axis for every mantissa `m` of `mantissas`.
    fn marks(&self, mantissas: &[f64]) -> Vec<f64> {
        let (a, b) = (
            self.lo.log10().floor() as i32,
            self.hi.log10().ceil() as i32,
        );
        (a..=b)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| *v >= self.lo * (1.0 - 1e-12) && *v <= self.hi * (1.0 + 1e-12))
            .collect()
    }

    /// Tick values: at most `max`, labelled ones (`bold`) sparser than grid lines.
    pub fn ticks(&self, max: usize, bold: bool) -> Vec<f64> {
        let max = max.max(1);
        let every: Vec<f64> = (1..10).map(f64::from).collect();
        let richest = self.marks(&every);
        if !bold && richest.len() <= max {
            return richest;
        }
        let decades = self.marks(&[1.0]);
        let fives = self.marks(&[1.0, 2.0, 5.0]);
        if decades.len() >= 3 {
            let stride = decades.len().div_ceil(max);
            decades.into_iter().step_by(stride).collect()
        } else if fives.len() >= 3 && fives.len() <= max {
            fives
        } else if richest.len() <= max {
            richest
        } else {
            fives
        }
    }
}

impl Ranged for LogAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = if *value > 0.0 {
            (value.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            -1.0
        };
        let t = t.clamp(-1.0, 2.0);
        limit.0 + ((limit.1 - limit.0) as f64 * t).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let bold = matches!(hint.weight(), KeyPointWeight::Bold);
        self.ticks(hint.max_num_points(), bold)
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for LogAxis {
    fn format_ext(&self, value: &f64) -> String {
        tick(*value)
    }
}

// ---------------------------------------------------------------------------------------------
// Lines.

fn lines(root: &Area, p: &LinePlot) -> Drawn {
    let xs = p.series.iter().flat_map(|s| s.x.iter().copied());
    let ys = p.series.iter().flat_map(|s| {
        let err = s.err.clone().unwrap_or_default();
        s.y.iter()
            .enumerate()
            .flat_map(move |(i, &y)| {
                let e = err.get(i).copied().filter(|e| e.is_finite()).unwrap_or(0.0);
                [y - e, y + e]
            })
            .collect::<Vec<_>>()
    });
    let xr = p
        .x_range
        .unwrap_or_else(|| padded(span(xs, p.x_log), p.x_log));
    let yr = p
        .y_range
        .unwrap_or_else(|| padded(span(ys, p.y_log), p.y_log));
    match (p.x_log, p.y_log) {
        (false, false) => lines_on(root, p, xr[0]..xr[1], yr[0]..yr[1], xr, yr),
        (true, false) => lines_on(root, p, LogAxis::new(xr), yr[0]..yr[1], xr, yr),
        (false, true) => lines_on(root, p, xr[0]..xr[1], LogAxis::new(yr), xr, yr),
        (true, true) => lines_on(root, p, LogAxis::new(xr), LogAxis::new(yr), xr, yr),
    }
}

fn lines_on<X, Y>(root: &Area, p: &LinePlot, xc: X, yc: Y, xr: [f64; 2], yr: [f64; 2]) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(
            &p.title,
            (FONT, caption_size(&p.title)).into_font().color(&INK),
        )
        .margin(14)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(68)
        .build_cartesian_2d(xc, yc)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .axis_desc_style((FONT, 16).into_font().color(&INK))
        .label_style((FONT, 13).into_font().color(&INK))
        .x_label_formatter(&|v| axis_tick(*v, xr))
        .y_label_formatter(&|v| axis_tick(*v, yr))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .axis_style(MARK)
        .draw()
        .map_err(msg)?;

    let clip = |v: f64, r: [f64; 2]| v.max(r[0]).min(r[1]);
    for (x, label) in &p.x_marks {
        if !(x.is_finite() && *x >= xr[0] && *x <= xr[1]) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(*x, yr[0]), (*x, yr[1])],
                5,
                4,
                MARK.stroke_width(1),
            ))
            .map_err(msg)?;
        chart
            .draw_series([EmptyElement::at((*x, yr[1]))
                + Text::new(label.clone(), (5, 4), (FONT, 13).into_font().color(&MARK))])
            .map_err(msg)?;
    }
    for (y, label) in &p.y_marks {
        if !(y.is_finite() && *y >= yr[0] && *y <= yr[1]) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(xr[0], *y), (xr[1], *y)],
                5,
                4,
                MARK.stroke_width(1),
            ))
            .map_err(msg)?;
        chart
            .draw_series([EmptyElement::at((xr[0], *y))
                + Text::new(label.clone(), (6, -17), (FONT, 13).into_font().color(&MARK))])
            .map_err(msg)?;
    }

    let mut labelled = false;
    for (k, s) in p.series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64, f64)> = (0..s.x.len().min(s.y.len()))
            .map(|i| {
                let e = s
                    .err
                    .as_ref()
                    .and_then(|e| e.get(i).copied())
                    .unwrap_or(0.0);
                (s.x[i], s.y[i], if e.is_finite() { e.abs() } else { 0.0 })
            })
            .collect();
        // Runs of drawable points: a curve breaks where a point is missing.
        let mut runs: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
        for &(x, y, e) in &pts {
            if drawable(x, y, p.x_log, p.y_log) {
                runs.last_mut().expect("a run").push((x, y, e));
            } else if !runs.last().expect("a run").is_empty() {
                runs.push(Vec::new());
            }
        }
        runs.retain(|r| !r.is_empty());
        let has_err = s.err.is_some();
        for r in &runs {
            if has_err && s.style != Style::Points && r.len() > 1 {
                let lo = |y: f64, e: f64| {
                    if p.y_log {
                        (y - e).max(y * 1e-3)
                    } else {
                        y - e
                    }
                };
                let mut band: Vec<(f64, f64)> =
                    r.iter().map(|&(x, y, e)| (x, clip(y + e, yr))).collect();
                band.extend(r.iter().rev().map(|&(x, y, e)| (x, clip(lo(y, e), yr))));
                chart
                    .draw_series([Polygon::new(band, color.mix(0.18).filled())])
                    .map_err(msg)?;
            }
            if has_err && (s.style == Style::Points || r.len() == 1) {
                chart
                    .draw_series(r.iter().filter(|t| t.2 > 0.0).map(|&(x, y, e)| {
                        let lo = if p.y_log {
                            (y - e).max(y * 1e-3)
                        } else {
                            y - e
                        };
                        PathElement::new(
                            vec![(x, clip(lo, yr)), (x, clip(y + e, yr))],
                            color.stroke_width(1),
                        )
                    }))
                    .map_err(msg)?;
            }
        }
        let legend = !s.label.is_empty();
        let mut first = true;
        for r in &runs {
            let xy: Vec<(f64, f64)> = r.iter().map(|&(x, y, _)| (x, y)).collect();
            let anno = match s.style {
                Style::Line => chart
                    .draw_series(LineSeries::new(xy, color.stroke_width(2)))
                    .map_err(msg)?,
                Style::Dashed => chart
                    .draw_series(DashedLineSeries::new(xy, 7, 5, color.stroke_width(2)))
                    .map_err(msg)?,
                Style::Points => chart
                    .draw_series(xy.into_iter().map(|c| Circle::new(c, 3, color.filled())))
                    .map_err(msg)?,
            };
            if legend && first {
                labelled = true;
                let a = anno.label(s.label.as_str());
                match s.style {
                    Style::Line => {
                        a.legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                        });
                    }
                    Style::Dashed => {
                        a.legend(move |(x, y)| {
                            EmptyElement::at((x, y))
                                + PathElement::new(vec![(0, 0), (9, 0)], color.stroke_width(2))
                                + PathElement::new(vec![(15, 0), (24, 0)], color.stroke_width(2))
                        });
                    }
                    Style::Points => {
                        a.legend(move |(x, y)| Circle::new((x + 12, y), 3, color.filled()));
                    }
                }
            }
            first = false;
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 14).into_font().color(&INK))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .margin(8)
            .draw()
            .map_err(msg)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Heatmaps.

/// A sequential colour scale for t in [0, 1]: dark blue-violet through teal and green to
/// yellow, brighter as the value grows (readable in grey as well).
pub fn sequential(t: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [68.0, 1.0, 84.0]),
        (0.25, [59.0, 82.0, 139.0]),
        (0.5, [33.0, 145.0, 140.0]),
        (0.75, [94.0, 201.0, 98.0]),
        (1.0, [253.0, 231.0, 37.0]),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let i = STOPS
        .windows(2)
        .position(|w| t <= w[1].0)
        .unwrap_or(STOPS.len() - 2);
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let u = (t - a.0) / (b.0 - a.0);
    let c = |k: usize| (a.1[k] + u * (b.1[k] - a.1[k])).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

/// Class `k`'s colour (points); its cells take a lighter tint of it.
fn class_color(k: f64) -> RGBColor {
    let i = if k.is_finite() && k >= 0.0 {
        k as usize
    } else {
        0
    };
    PALETTE[i % PALETTE.len()]
}

fn tint(c: RGBColor, amount: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The edges of cells centred at `centres` (midpoints between neighbours, geometric on a log
/// axis; the outer cells as wide as their neighbour).
fn edges(centres: &[f64], log: bool) -> Vec<f64> {
    let f = |v: f64| if log { v.ln() } else { v };
    let g = |v: f64| if log { v.exp() } else { v };
    let c: Vec<f64> = centres.iter().map(|&v| f(v)).collect();
    match c.len() {
        0 => Vec::new(),
        1 => vec![g(c[0] - 0.5), g(c[0] + 0.5)],
        n => {
            let mut e = Vec::with_capacity(n + 1);
            e.push(g(c[0] - (c[1] - c[0]) / 2.0));
            for i in 0..n - 1 {
                e.push(g((c[i] + c[i + 1]) / 2.0));
            }
            e.push(g(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0));
            e
        }
    }
}

fn heatmap(root: &Area, h: &HeatPlot) -> Drawn {
    let (main, side) = root.split_horizontally(WIDTH - 130);
    let ex = edges(&h.xs, h.x_log);
    let ey = edges(&h.ys, h.y_log);
    let xr = span(
        ex.iter().copied().chain(h.points.iter().map(|p| p.0)),
        h.x_log,
    )
    .unwrap_or([0.0, 1.0]);
    let yr = span(
        ey.iter().copied().chain(h.points.iter().map(|p| p.1)),
        h.y_log,
    )
    .unwrap_or([0.0, 1.0]);
    let xr = if xr[0] < xr[1] {
        xr
    } else {
        padded(Some(xr), h.x_log)
    };
    let yr = if yr[0] < yr[1] {
        yr
    } else {
        padded(Some(yr), h.y_log)
    };
    let vr = span(h.values.iter().copied(), false);
    let scale = |v: f64| match vr {
        Some([a, b]) if b > a => (v - a) / (b - a),
        _ => 0.5,
    };
    let color_of = |v: f64| {
        if h.classes {
            tint(class_color(v), 0.6)
        } else {
            sequential(scale(v))
        }
    };
    match (h.x_log, h.y_log) {
        (false, false) => cells_on(&main, h, xr[0]..xr[1], yr[0]..yr[1], &ex, &ey, &color_of)?,
        (true, false) => cells_on(
            &main,
            h,
            LogAxis::new(xr),
            yr[0]..yr[1],
            &ex,
            &ey,
            &color_of,
        )?,
        (false, true) => cells_on(
            &main,
            h,
            xr[0]..xr[1],
            LogAxis::new(yr),
            &ex,
            &ey,
            &color_of,
        )?,
        (true, true) => cells_on(
            &main,
            h,
            LogAxis::new(xr),
            LogAxis::new(yr),
            &ex,
            &ey,
            &color_of,
        )?,
    }
    if h.classes {
        class_key(&side, h)
    } else {
        color_bar(&side, h, vr)
    }
}

fn cells_on<X, Y>(
    area: &Area,
    h: &HeatPlot,
    xc: X,
    yc: Y,
    ex: &[f64],
    ey: &[f64],
    color_of: &dyn Fn(f64) -> RGBColor,
) -> Drawn
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(
            &h.title,
            (FONT, caption_size(&h.title)).into_font().color(&INK),
        )
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(68)
        .build_cartesian_2d(xc, yc)
        .map_err(msg)?;
    let nx = h.xs.len();
    let cells = (0..h.ys.len()).flat_map(|i| (0..nx).map(move |j| (i, j)));
    chart
        .draw_series(cells.filter_map(|(i, j)| {
            let v = *h.values.get(i * nx + j)?;
            v.is_finite().then(|| {
                Rectangle::new(
                    [(ex[j], ey[i]), (ex[j + 1], ey[i + 1])],
                    color_of(v).filled(),
                )
            })
        }))
        .map_err(msg)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_label.as_str())
        .y_desc(h.y_label.as_str())
        .axis_desc_style((FONT, 16).into_font().color(&INK))
        .label_style((FONT, 13).into_font().color(&INK))
        .x_label_formatter(&|v| axis_tick(*v, [ex[0], ex[ex.len() - 1]]))
        .y_label_formatter(&|v| axis_tick(*v, [ey[0], ey[ey.len() - 1]]))
        .axis_style(MARK)
        .draw()
        .map_err(msg)?;
    let vr = span(h.values.iter().copied(), false);
    let point_color = |v: f64| {
        if h.classes {
            class_color(v)
        } else {
            match vr {
                Some([a, b]) if b > a => sequential((v - a) / (b - a)),
                _ => sequential(0.5),
            }
        }
    };
    chart
        .draw_series(
            h.points
                .iter()
                .filter(|p| drawable(p.0, p.1, h.x_log, h.y_log))
                .map(|&(x, y, v)| {
                    EmptyElement::at((x, y))
                        + Circle::new((0, 0), 4, point_color(v).filled())
                        + Circle::new((0, 0), 4, WHITE.stroke_width(1))
                }),
        )
        .map_err(msg)?;
    Ok(())
}

/// The colour bar of a sequential heatmap, labelled with `value_label`.
fn color_bar(area: &Area, h: &HeatPlot, vr: Option<[f64; 2]>) -> Drawn {
    let [lo, hi] = match vr {
        Some([a, b]) if b > a => [a, b],
        Some([a, _]) => [a - 0.5, a + 0.5],
        None => [0.0, 1.0],
    };
    let mut bar = ChartBuilder::on(area)
        .margin_top(56)
        .margin_bottom(62)
        .margin_left(8)
        .margin_right(8)
        .right_y_label_area_size(74)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(msg)?;
    let n = 120;
    bar.draw_series((0..n).map(|i| {
        let a = lo + (hi - lo) * i as f64 / n as f64;
        let b = lo + (hi - lo) * (i + 1) as f64 / n as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            sequential((i as f64 + 0.5) / n as f64).filled(),
        )
    }))
    .map_err(msg)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(h.value_label.as_str())
        .axis_desc_style((FONT, 15).into_font().color(&INK))
        .label_style((FONT, 13).into_font().color(&INK))
        .y_label_formatter(&|v| tick(*v))
        .y_labels(6)
        .axis_style(MARK)
        .draw()
        .map_err(msg)?;
    Ok(())
}

/// `text` in lines of at most about `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The title's font size: 22 px while about 60 characters fit across the figure, smaller (down
/// to 13 px) for a longer title so that it stays whole.
fn caption_size(title: &str) -> u32 {
    let n = title.chars().count() as u32;
    if n <= 60 { 22 } else { (22 * 60 / n).max(13) }
}

/// A class key's title and class names from a value label: "regime: 0 stable, 1 catapult"
/// gives the title "regime" and names for classes 0 and 1 (two names at least); any other label
/// is the title alone.
fn class_names(label: &str) -> (String, Vec<(i64, String)>) {
    let plain = || {
        let t = if label.is_empty() { "class" } else { label };
        (t.to_string(), Vec::new())
    };
    let Some((title, rest)) = label.split_once(':') else {
        return plain();
    };
    let names: Option<Vec<(i64, String)>> = rest
        .split(',')
        .map(|part| {
            let (k, name) = part.trim().split_once(' ')?;
            Some((k.parse().ok()?, name.trim().to_string()))
        })
        .collect();
    match names {
        Some(n) if n.len() >= 2 => (title.trim().to_string(), n),
        _ => plain(),
    }
}

/// The key of a class-coloured heatmap: one swatch per class present.
fn class_key(area: &Area, h: &HeatPlot) -> Drawn {
    let mut classes: Vec<i64> = h
        .values
        .iter()
        .chain(h.points.iter().map(|p| &p.2))
        .filter(|v| v.is_finite())
        .map(|v| *v as i64)
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let (title, names) = class_names(&h.value_label);
    let lines = wrap(&title, 16);
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (8, 60 + 19 * i as i32),
            (FONT, 15).into_font().color(&INK),
        ))
        .map_err(msg)?;
    }
    let top = 60 + 19 * lines.len() as i32 + 10;
    for (row, k) in classes.iter().take(16).enumerate() {
        let y = top + 24 * row as i32;
        let c = class_color(*k as f64);
        area.draw(&Rectangle::new(
            [(8, y), (26, y + 16)],
            tint(c, 0.6).filled(),
        ))
        .map_err(msg)?;
        area.draw(&Circle::new((17, y + 8), 4, c.filled()))
            .map_err(msg)?;
        let name = names
            .iter()
            .find(|(i, _)| i == k)
            .map_or_else(|| format!("{k}"), |(_, n)| n.clone());
        area.draw(&Text::new(
            name,
            (34, y + 1),
            (FONT, 14).into_font().color(&INK),
        ))
        .map_err(msg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::output::Series;

    /// A well-formed XML document's elements balance: every opened tag closes, in order.
    fn balanced(svg: &str) -> bool {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let end = match rest.find('>') {
                Some(e) => e,
                None => return false,
            };
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
                continue;
            }
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            if tag.starts_with('/') {
                if stack.pop().as_deref() != Some(name.as_str()) {
                    return false;
                }
            } else {
                stack.push(name);
            }
        }
        stack.is_empty()
    }

    /// Keeps a drawn figure in `$DESCENT_SVG_DIR` (when set) to look at.
    fn keep(name: &str, svg: &str) {
        if let Some(dir) = std::env::var_os("DESCENT_SVG_DIR") {
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.svg")), svg).unwrap();
        }
    }

    fn curve() -> LinePlot {
        let x: Vec<f64> = (1..=40).map(|i| i as f64 * 0.1).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|&r| {
                if (r - 1.0).abs() < 1e-9 {
                    f64::NAN
                } else {
                    0.2 + 0.1 / (r - 1.0).abs()
                }
            })
            .collect();
        LinePlot {
            name: "curve".into(),
            title: "Test error against p/n".into(),
            x_label: "p/n".into(),
            y_label: "test error".into(),
            x_log: true,
            y_log: true,
            x_marks: vec![(1.0, "p = n".into())],
            y_marks: vec![(0.3, "noise floor".into())],
            series: vec![
                Series {
                    label: "ridge 0".into(),
                    x: x.clone(),
                    y: y.clone(),
                    err: Some(vec![0.02; 40]),
                    style: Style::Line,
                },
                Series {
                    label: "theory".into(),
                    x: x.clone(),
                    y: y.iter().map(|v| v * 1.1).collect(),
                    err: None,
                    style: Style::Dashed,
                },
                Series {
                    label: "seeds".into(),
                    x: x.iter().step_by(5).copied().collect(),
                    y: y.iter().step_by(5).copied().collect(),
                    err: Some(vec![0.05; 8]),
                    style: Style::Points,
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_line_plot_is_well_formed_svg_with_its_words() {
        let text = svg(&Figure::Lines(curve())).unwrap();
        keep("lines", &text);
        assert!(
            text.starts_with("<svg") || text.starts_with("<?xml"),
            "{}",
            &text[..80]
        );
        assert!(balanced(&text), "unbalanced SVG");
        for words in [
            "Test error against p/n",
            "p/n",
            "test error",
            "p = n",
            "noise floor",
            "ridge 0",
            "theory",
            "seeds",
        ] {
            assert!(text.contains(words), "missing {words:?}");
        }
        assert!(!text.contains("NaN"), "a NaN reached the SVG");
        assert!(text.contains("<polygon"), "the error band is drawn");
    }

    #[test]
    fn a_heatmap_is_well_formed_svg_with_a_colour_bar_or_a_class_key() {
        let xs: Vec<f64> = (0..16).map(|i| 10f64.powf(-2.0 + i as f64 * 0.2)).collect();
        let ys: Vec<f64> = (0..16).map(|i| 0.25 + i as f64 * 0.25).collect();
        let values: Vec<f64> = (0..256)
            .map(|k| {
                if k % 37 == 0 {
                    f64::NAN
                } else {
                    (k as f64).sqrt()
                }
            })
            .collect();
        let mut h = HeatPlot {
            name: "phase".into(),
            title: "Final loss".into(),
            x_label: "η".into(),
            y_label: "init scale".into(),
            x_log: true,
            xs,
            ys,
            values,
            value_label: "final loss".into(),
            points: vec![(0.1, 1.0, 3.0)],
            ..Default::default()
        };
        let text = svg(&Figure::Heatmap(h.clone())).unwrap();
        keep("heatmap", &text);
        assert!(balanced(&text));
        for words in ["Final loss", "η", "init scale", "final loss"] {
            assert!(text.contains(words), "missing {words:?}");
        }
        // 256 cells less 7 NaN cells, plus the colour bar's 120 and the background.
        let rects = text.matches("<rect").count();
        assert!(rects >= 249 + 120, "{rects} rectangles");
        h.classes = true;
        h.values = (0..256).map(|k| (k % 3) as f64).collect();
        h.value_label = "class".into();
        let text = svg(&Figure::Heatmap(h)).unwrap();
        assert!(balanced(&text));
        keep("classes", &text);
        assert!(
            text.contains(">2</text>") || text.contains("\n2\n</text>"),
            "the class key names class 2"
        );
    }

    #[test]
    fn log_axes_are_labelled_inside_a_single_decade_too() {
        let t = |lo: f64, hi: f64| LogAxis::new([lo, hi]).ticks(10, true);
        assert_eq!(t(0.17, 0.55), [0.2, 0.30000000000000004, 0.4, 0.5]);
        assert_eq!(t(0.15, 1.3), [0.2, 0.5, 1.0]);
        assert_eq!(t(0.09, 4.0), [0.1, 0.2, 0.5, 1.0, 2.0]);
        assert_eq!(t(1e-3, 1e3), [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3]);
        assert_eq!(t(1e-20, 1e20).len(), 9, "decades thinned to fit");
    }

    #[test]
    fn a_class_key_names_its_classes_when_the_label_does() {
        let (t, n) = class_names("regime: 0 stable, 1 catapult, 2 divergent, 3 not settled");
        assert_eq!(t, "regime");
        assert_eq!(n[3], (3, "not settled".to_string()));
        assert_eq!(
            class_names("predicted class"),
            ("predicted class".into(), vec![])
        );
        assert_eq!(
            class_names("digit: 0 to 9"),
            ("digit: 0 to 9".into(), vec![])
        );
    }

    #[test]
    fn text_is_escaped() {
        let mut p = curve();
        p.title = "error < 1 & \"rising\"".into();
        let text = svg(&Figure::Lines(p)).unwrap();
        assert!(balanced(&text));
        assert!(text.contains("error &lt; 1 &amp;"), "the title is escaped");
    }

    #[test]
    fn long_key_titles_wrap() {
        assert_eq!(
            wrap("regime: 0 stable, 1 catapult, 2 diverged", 16),
            ["regime: 0", "stable, 1", "catapult, 2", "diverged"]
        );
        assert_eq!(wrap("class", 16), ["class"]);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(1.25), "1.25");
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(2e-5), "2e-5");
        assert_eq!(tick(1.5e6), "1.5e6");
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(axis_tick(6.938893903907228e-18, [-0.05, 0.15]), "0");
        assert_eq!(
            axis_tick(1e-20, [1e-23, 1.0]),
            "1e-20",
            "a log axis keeps its small ticks"
        );
    }

    #[test]
    fn cell_edges_lie_between_centres() {
        assert_eq!(edges(&[1.0, 2.0, 3.0], false), [0.5, 1.5, 2.5, 3.5]);
        let e = edges(&[1.0, 10.0, 100.0], true);
        for (a, b) in e.iter().zip([
            10f64.powf(-0.5),
            10f64.powf(0.5),
            10f64.powf(1.5),
            10f64.powf(2.5),
        ]) {
            assert!((a - b).abs() < 1e-9 * b, "{e:?}");
        }
    }
}
