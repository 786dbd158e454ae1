// What every plot shares: the colours (Okabe–Ito series colours, the lazy-or-rich model styles,
// the diverging and sequential heatmap scales), the type and its presenter-mode scale, tick labels
// and axes, the embed height cap and the sizing of a chart to its container, and the frame of an
// export spec (the format below). The pages import plots through index.js; the names exported
// here beyond index.js's are for the plot modules.

import uPlot from '../../vendor/uPlot.esm.js';

// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies).
export const COLORS = {
  train: '#0072B2',
  test: '#D55E00',
  target: '#1f1f1f',
  neg: '#0b4f8c', // class −1 points
  pos: '#b83c00', // class +1 points
  ink: '#1b1b1b',
  grid: 'rgba(0,0,0,0.09)',
};

// The models of the lazy-or-rich scene, each with one colour and one dash everywhere it appears.
export const MODEL_STYLES = {
  network: { label: 'network', stroke: '#0072B2', width: 2.75 },
  linearized: { label: 'linearised', stroke: '#D55E00', width: 2.25, dash: [9, 5] },
  ntk: { label: 'NTK (∞ width)', stroke: '#009E73', width: 2.5, dash: [2, 4] },
  krr: { label: 'kernel regression (t → ∞)', stroke: '#8a8a8a', width: 1.25 },
};

// Ends of the diverging heatmap scale (−1 and +1); 0 is white.
const HEAT_NEG = [38, 117, 186];
const HEAT_POS = [232, 110, 40];

export const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
// Presenter mode enlarges the type of every chart created afterwards (setPlotScale).
let fontScale = 1;
export const fontPx = (px) => Math.round(px * fontScale);
export const font = (px, weight = '') => `${weight ? `${weight} ` : ''}${fontPx(px)}px ${FONT_FAMILY}`;
const FONT = () => font(13);
const LABEL_FONT = () => font(14, 600);
export const SMALL_FONT = () => font(12);

/** Scales the type (and axis room) of every chart created from now on; 1 is the default. */
export function setPlotScale(k) {
  fontScale = Number.isFinite(k) && k > 0 ? k : 1;
}

/** Maps a prediction to an RGB triple on the diverging scale (clamped to [−1, 1]). */
export function heatColor(v) {
  if (!Number.isFinite(v)) return [255, 255, 255];
  const t = Math.max(-1, Math.min(1, v));
  const end = t < 0 ? HEAT_NEG : HEAT_POS;
  const s = Math.pow(Math.abs(t), 0.9);
  return [0, 1, 2].map((i) => Math.round(255 + (end[i] - 255) * s));
}

/** CSS gradient that matches heatColor from −1 (left) to +1 (right), or `color` over [0, 1]. */
export function heatGradientCss(color = null) {
  const stops = [];
  for (let i = 0; i <= 10; i++) {
    const [r, g, b] = color ? color(i / 10) : heatColor(-1 + (2 * i) / 10);
    stops.push(`rgb(${r},${g},${b}) ${i * 10}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

// Sequential scale (viridis, reversed so that 0 is light): stops at t = 0, 0.125, …, 1.
const SEQ_STOPS = [
  [253, 231, 37], [170, 220, 50], [94, 201, 98], [33, 165, 133], [33, 145, 140],
  [44, 114, 142], [59, 82, 139], [71, 45, 123], [68, 1, 84],
];

/** Maps t ∈ [0, 1] to an RGB triple on the sequential scale (clamped). */
export function seqColor(t) {
  if (!Number.isFinite(t)) return [255, 255, 255];
  const x = Math.max(0, Math.min(1, t)) * (SEQ_STOPS.length - 1);
  const i = Math.min(SEQ_STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = SEQ_STOPS[i];
  const b = SEQ_STOPS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f));
}

export function tickLabel(v) {
  if (v == null || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
  const [m, e] = v.toExponential().split('e');
  return `${Number(Number(m).toPrecision(3))}e${Number(e)}`;
}

/** A grid value as a tick label: whole numbers in full (1024, not 1.02e3), others to 3 digits. */
export function gridLabel(v) {
  if (v == null || !Number.isFinite(v)) return '';
  const r = Math.round(v);
  if (Math.abs(v) >= 1 && Math.abs(v - r) < 1e-9 * Math.abs(v)) return String(r);
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
  return tickLabel(v);
}

export function axis(label, extra = {}) {
  return {
    label,
    font: FONT(),
    labelFont: LABEL_FONT(),
    stroke: '#2b2b2b',
    grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: 'rgba(0,0,0,0.25)', width: 1, size: 5 },
    values: (u, splits) => splits.map(tickLabel),
    ...extra,
    ...(extra.size ? { size: fontPx(extra.size) } : {}),
    ...(extra.font ? { font: extra.font() } : {}),
  };
}

// Embeds cap every chart's height so that a scene fits its frame (setPlotHeightCap).
let heightCap = () => Infinity;
const refits = new Set();

/**
 * Caps the height of every chart at `cap(container)` px, re-read whenever a chart is measured
 * (on creation, on a change of its container's width, and on refitPlots()).
 */
export function setPlotHeightCap(cap) {
  heightCap = typeof cap === 'function' ? cap : () => Infinity;
}

/** Measures every chart on the page again (after the room around them changed). */
export function refitPlots() {
  for (const refit of refits) refit();
}

/**
 * Keeps a uPlot chart as wide as its container; height from `heightFor(width)`. A chart with
 * `square` keeps its aspect ratio under the height cap (it narrows instead).
 */
export function autosize(container, getPlot, heightFor, maxWidth = Infinity, square = false) {
  const measure = () => {
    let w = Math.max(200, Math.min(maxWidth, Math.floor(container.clientWidth)));
    let h = heightFor(w);
    const cap = Math.max(160, heightCap(container));
    if (h > cap) {
      if (square) w = Math.max(160, Math.floor((w * cap) / h));
      h = cap;
    }
    return { width: w, height: Math.round(h) };
  };
  const refit = () => {
    const u = getPlot();
    if (!u) return;
    const s = measure();
    if (s.width !== u.width || s.height !== u.height) u.setSize(s);
  };
  // refitPlots() measures the charts that are on the page and shown.
  const again = () => {
    if (!container.isConnected) refits.delete(again);
    else if (container.clientWidth > 0) refit();
  };
  new ResizeObserver(() => {
    if (!container.isConnected) refits.delete(again);
    refit();
  }).observe(container);
  refits.add(again);
  return measure;
}

export function finiteOrNull(v) {
  return Number.isFinite(v) ? v : null;
}

// ---------------------------------------------------------------------------------------------
// Export specs. Every plot describes what it shows as plain data (export.js renders it as SVG,
// PNG, CSV or JSON):
//   {kind: 'series' | 'heatmap', width, height, plot: {left, top, width, height} (CSS px),
//    x, y: {label, min, max, log, dir (−1: reversed), ticks: [{v, label}]},
//    layers: [{type: 'line', xs, ys, stroke, width, dash}
//             | {type: 'points', xs, ys, size, fill, stroke, shape: 'circle' | 'diamond'}
//             | {type: 'area', xs, lo, hi, fill} (the region between two curves: a band)
//             | {type: 'rects', cells: [[x0, y0, x1, y1, fill]]}
//             | {type: 'segments', segs: [x0, y0, x1, y1, …], stroke, width, dash}],
//    markers: [{x} | {y}, label, color, dash],
//    legend: [{label, stroke, dash, fill, shape: 'line' | 'circle' | 'diamond' | 'square'}],
//    colorbar (optional): {label, lo, hi, log, stops: [css colours from lo to hi, evenly spaced]},
//    table: {columns: [names], rows: [[values]]}}   the numbers behind the picture (raw)
// Coordinates in layers are data values; non-finite values are gaps.

function ticksOf(ax) {
  const splits = ax?._splits ?? [];
  const labels = ax?._values ?? [];
  const out = [];
  splits.forEach((v, i) => {
    const label = labels[i];
    if (Number.isFinite(v) && label != null && label !== '') out.push({ v, label: String(label) });
  });
  return out;
}

function rangeMinMax(sc) {
  return { min: sc?.min, max: sc?.max, log: sc?.distr === 3, dir: sc?.dir === -1 ? -1 : 1 };
}

/** The frame of a uPlot chart: its size, the plot area and both axes. */
export function uplotFrame(u, kind) {
  const px = uPlot.pxRatio || 1;
  return {
    kind,
    width: u.width,
    height: u.height,
    plot: { left: u.bbox.left / px, top: u.bbox.top / px, width: u.bbox.width / px, height: u.bbox.height / px },
    x: { label: u.axes[0]?.label ?? '', ...rangeMinMax(u.scales.x), ticks: ticksOf(u.axes[0]) },
    y: { label: u.axes[1]?.label ?? '', ...rangeMinMax(u.scales.y), ticks: ticksOf(u.axes[1]) },
    layers: [],
    markers: [],
    legend: [],
  };
}

export const num = (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v));
export const rgbCss = ([r, g, b]) => `rgb(${r},${g},${b})`;

/** A step count as a tick label: 4 significant digits below 10 000, then 12.3k, 1.5M. */
export function stepLabel(v) {
  if (v == null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}
