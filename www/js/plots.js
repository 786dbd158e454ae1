// Plot components, drawn with uPlot (canvas).
//   SeriesPlot    curves over a shared x axis (linear or log), log or linear y; the base of
//   LossPlot      train and test loss against step, log y axis (the Playground's loss panel)
//   FitPlot       1-D regression: one or more predictions and the target on the grid, training and
//                 test points
//   BoundaryPlot  2-D classification: the prediction on a G×G grid as a diverging heatmap under
//                 the data, with the decision boundary f = 0
//   MatrixPlot    a square matrix as a heatmap (sequential or diverging colour scale)
// Every component takes a container element, sizes itself to the container's width, and never
// draws a non-finite value (those become gaps).

import uPlot from '../vendor/uPlot.esm.js';

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
const fontPx = (px) => Math.round(px * fontScale);
const font = (px, weight = '') => `${weight ? `${weight} ` : ''}${fontPx(px)}px ${FONT_FAMILY}`;
const FONT = () => font(13);
const LABEL_FONT = () => font(14, 600);
const SMALL_FONT = () => font(12);

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

function tickLabel(v) {
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

function axis(label, extra = {}) {
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
function autosize(container, getPlot, heightFor, maxWidth = Infinity, square = false) {
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

function finiteOrNull(v) {
  return Number.isFinite(v) ? v : null;
}


// ---------------------------------------------------------------------------------------------
// Export specs. Every plot describes what it shows as plain data (export.js renders it as SVG,
// PNG, CSV or JSON):
//   {kind: 'series' | 'heatmap', width, height, plot: {left, top, width, height} (CSS px),
//    x, y: {label, min, max, log, dir (−1: reversed), ticks: [{v, label}]},
//    layers: [{type: 'line', xs, ys, stroke, width, dash}
//             | {type: 'points', xs, ys, size, fill, stroke, shape: 'circle' | 'diamond'}
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
function uplotFrame(u, kind) {
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

const num = (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v));
const rgbCss = ([r, g, b]) => `rgb(${r},${g},${b})`;

// ---------------------------------------------------------------------------------------------

export function stepLabel(v) {
  if (v == null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

/**
 * Curves over one shared x axis.
 *   opts.x       {label, log (bool), format (tick formatter)}; `x.log` can be switched by setLogX
 *   opts.y       {label, log (bool, default true), size (axis width in px), floorRatio (on a log
 *                axis, values below floorRatio × the largest value are left out)}
 *   opts.series  [{label, stroke, width, dash, points: 'only' | true | false, pointSize, pointFill,
 *                 ...uPlot series options}]
 *   opts.height  w => height in px
 * Non-finite values become gaps, and so do values ≤ 0 on a log axis (rows with x ≤ 0 are left out
 * when x is logarithmic).
 */
export class SeriesPlot {
  constructor(container, opts) {
    this.container = container;
    this.opts = opts;
    this.logX = !!opts.x?.log;
    this.logY = opts.y?.log !== false;
    this.last = [[], ...opts.series.map(() => [])];
    this.measure = autosize(container, () => this.u, opts.height ?? ((w) => Math.min(360, Math.max(220, w * 0.55))));
    this.create();
  }

  create() {
    const { x = {}, y = {} } = this.opts;
    const xFormat = x.format ?? tickLabel;
    const xLabel = typeof x.label === 'function' ? x.label(this.logX) : (x.label ?? 'x');
    const logBase = x.logBase ?? 10;
    const opts = {
      ...this.measure(),
      scales: {
        x: this.logX ? { time: false, distr: 3, log: logBase, ...(x.range ? { range: x.range } : {}) }
          : { time: false, ...(x.range ? { range: x.range } : {}) },
        y: this.logY ? { distr: 3, log: 10 } : { ...(y.range ? { range: y.range } : {}) },
      },
      axes: [
        axis(xLabel, { values: (u, splits) => splits.map(xFormat) }),
        axis(y.label ?? 'y', { size: y.size ?? 64 }),
      ],
      series: [
        { label: x.name ?? xLabel, value: (u, v) => (v == null ? '—' : xFormat(v)) },
        ...this.opts.series.map((c) => seriesOpts(c)),
      ],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      hooks: { draw: [(u) => this.drawExtras(u)] },
    };
    this.u = new uPlot(opts, this.data(), this.container);
  }

  /**
   * Error bars: `errors[k]` (an array like the data columns, or null) is drawn as ±errors[k][i]
   * around series k (0-based, as in setData's columns), in the series' colour. Instead of an
   * array, `{lo, hi, label}` draws bars from lo[i] to hi[i] (a range, e.g. over seeds; `label`
   * names them in the exported table, as "min" or "max" of `label`).
   */
  setErrors(errors) {
    this.errors = errors;
    this.u.redraw(false);
  }

  /**
   * Reference lines: [{x} or {y}, label, color, dash]: a vertical line at x or a horizontal one
   * at y across the plot, labelled at its top (vertical) or right end (horizontal).
   */
  setMarkers(markers) {
    this.markers = markers;
    this.u.redraw(false);
  }

  drawExtras(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const px = devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    const xs = u.data[0];
    (this.errors ?? []).forEach((err, k) => {
      if (!err) return;
      const ys = u.data[k + 1];
      if (!ys || u.series[k + 1]?.show === false) return;
      ctx.strokeStyle = this.opts.series[k].stroke;
      ctx.lineWidth = 1.25 * px;
      ctx.setLineDash([]); // solid, whatever the last series drew with
      ctx.beginPath();
      for (let i = 0; i < xs.length; i++) {
        const bar = errorBar(err, i + this.from, ys[i], this.logY);
        if (!bar) continue;
        const cx = u.valToPos(xs[i], 'x', true);
        const y0 = u.valToPos(bar[0], 'y', true);
        const y1 = u.valToPos(bar[1], 'y', true);
        const cap = 3 * px;
        ctx.moveTo(cx, y0);
        ctx.lineTo(cx, y1);
        ctx.moveTo(cx - cap, y0);
        ctx.lineTo(cx + cap, y0);
        ctx.moveTo(cx - cap, y1);
        ctx.lineTo(cx + cap, y1);
      }
      ctx.stroke();
    });
    ctx.restore();
    ctx.save();
    ctx.font = font(12 * px);
    for (const m of this.markers ?? []) {
      ctx.strokeStyle = m.color ?? '#444';
      ctx.fillStyle = m.color ?? '#444';
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash((m.dash ?? [6, 4]).map((d) => d * px));
      ctx.beginPath();
      if (m.x != null) {
        if (!Number.isFinite(m.x) || (this.logX && m.x <= 0)) continue;
        const cx = u.valToPos(m.x, 'x', true);
        if (cx < left || cx > left + width) continue;
        ctx.moveTo(cx, top);
        ctx.lineTo(cx, top + height);
        ctx.stroke();
        if (m.label) {
          ctx.setLineDash([]);
          const tw = ctx.measureText(m.label).width + 8 * px;
          ctx.textAlign = cx + tw > left + width && cx - tw >= left ? 'right' : 'left';
          ctx.textBaseline = 'top';
          ctx.fillText(m.label, cx + (ctx.textAlign === 'left' ? 4 : -4) * px, top + 4 * px);
        }
      } else if (m.y != null) {
        if (!Number.isFinite(m.y) || (this.logY && m.y <= 0)) continue;
        const cy = u.valToPos(m.y, 'y', true);
        if (cy < top || cy > top + height) continue;
        ctx.moveTo(left, cy);
        ctx.lineTo(left + width, cy);
        ctx.stroke();
        if (m.label) {
          ctx.setLineDash([]);
          ctx.textAlign = 'right';
          ctx.textBaseline = 'bottom';
          ctx.fillText(m.label, left + width - 4 * px, cy - 3 * px);
        }
      }
    }
    ctx.restore();
  }

  /** Switches the x axis between linear and logarithmic. */
  setLogX(on) {
    if (on === this.logX) return;
    this.logX = on;
    this.u.destroy();
    this.create();
  }

  data() {
    const [xs, ...cols] = this.last;
    let floor = -Infinity;
    if (this.logY) {
      let max = 0;
      for (const c of cols) for (const v of c) if (Number.isFinite(v) && v > max) max = v;
      floor = Math.max(LOG_FLOOR, (this.opts.y?.floorRatio ?? 0) * max);
    }
    const keep = (v) => (Number.isFinite(v) && v >= floor && (!this.logY || v > 0) ? v : null);
    let from = 0;
    if (this.logX) while (from < xs.length && !(xs[from] > 0)) from++;
    this.from = from;
    return [Float64Array.from(xs.slice(from)), ...cols.map((c) => Array.from(c.slice(from), keep))];
  }

  /** xs and one array per series, all of the same length. */
  setData(xs, ...columns) {
    this.last = [xs, ...columns];
    this.u.setData(this.data());
  }


  /** What the chart shows, as plain data (see "Export specs" above). */
  exportSpec() {
    const u = this.u;
    const spec = uplotFrame(u, 'series');
    const drawn = u.data;
    const xs = Array.from(drawn[0]);
    this.opts.series.forEach((c, k) => {
      if (u.series[k + 1]?.show === false) return;
      const ys = Array.from(drawn[k + 1] ?? []);
      if (c.points !== 'only') spec.layers.push({ type: 'line', xs, ys, stroke: c.stroke, width: c.width ?? 1.5, dash: c.dash });
      const pts = c.points === 'only' || c.points === true || (c.points === 'auto' && xs.length <= 60);
      if (pts) {
        spec.layers.push({
          type: 'points', xs, ys, size: c.pointSize ?? 6, fill: c.pointFill ?? c.stroke, stroke: c.stroke, shape: 'circle',
        });
      }
      const err = this.errors?.[k];
      if (err) {
        const segs = [];
        for (let i = 0; i < xs.length; i++) {
          const bar = errorBar(err, i + this.from, ys[i], this.logY);
          if (bar) segs.push(xs[i], bar[0], xs[i], bar[1]);
        }
        spec.layers.push({ type: 'segments', segs, stroke: c.stroke, width: 1.25 });
      }
      spec.legend.push({ label: c.label, stroke: c.stroke, dash: c.dash, shape: c.points === 'only' ? 'circle' : 'line' });
    });
    spec.markers = (this.markers ?? []).map((m) => ({ ...m }));
    // The table: the raw columns (before any log-axis filtering), with the error columns.
    const [rx, ...cols] = this.last;
    const name = this.opts.x?.name ?? (typeof this.opts.x?.label === 'string' ? this.opts.x.label : 'x');
    const columns = [name, ...this.opts.series.map((c) => c.label)];
    const errCols = (this.errors ?? []).map((e, k) => (e ? k : -1)).filter((k) => k >= 0);
    const errValues = [];
    for (const k of errCols) {
      const e = this.errors[k];
      const name = this.opts.series[k].label;
      if (Array.isArray(e) || ArrayBuffer.isView(e)) {
        columns.push(`${name} standard error`);
        errValues.push(e);
      } else {
        columns.push(`${name} min ${e.label ?? ''}`.trim(), `${name} max ${e.label ?? ''}`.trim());
        errValues.push(e.lo, e.hi);
      }
    }
    const rows = [];
    for (let i = 0; i < rx.length; i++) {
      rows.push([num(rx[i]), ...cols.map((c) => num(c[i])), ...errValues.map((e) => num(e?.[i]))]);
    }
    spec.table = { columns, rows };
    return spec;
  }
  get canvas() {
    return this.u.root.querySelector('canvas');
  }
}

/**
 * The drawn extent [lo, hi] of error bar i around the value y, or null: `err` is an array of
 * ± half-widths or {lo, hi} arrays of bounds (see SeriesPlot.setErrors).
 */
function errorBar(err, i, y, logY) {
  if (y == null) return null;
  if (Array.isArray(err) || ArrayBuffer.isView(err)) {
    const e = err[i];
    if (!Number.isFinite(e) || e <= 0) return null;
    return [logY ? Math.max(y - e, y * 1e-3) : y - e, y + e];
  }
  const lo = err.lo?.[i];
  const hi = err.hi?.[i];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo || (logY && lo <= 0)) return null;
  return [lo, hi];
}

/** uPlot series options from {label, stroke, width, dash, points, pointSize, pointFill}. */
// uPlot's log-10 axes cannot place ticks below about 1e-16: smaller values are left out.
const LOG_FLOOR = 1e-14;

function seriesOpts(c) {
  const { points, pointSize, pointFill, ...rest } = c;
  const out = { value: (u, v) => tickLabel(v) || '—', spanGaps: false, ...rest };
  if (points === 'only') {
    out.paths = () => null;
    out.points = { show: true, size: pointSize ?? 8, width: 1.5, fill: pointFill ?? c.stroke, stroke: c.stroke };
  } else if (points === 'auto') {
    // uPlot shows the points only where they are sparse enough to see (a short run).
    out.points = { size: pointSize ?? 6, width: 1.5, fill: pointFill ?? c.stroke, stroke: c.stroke };
  } else if (points) {
    out.points = { show: true, size: pointSize ?? 7, width: 1.5, fill: pointFill ?? c.stroke, stroke: c.stroke };
  } else {
    out.points = { show: false };
  }
  return out;
}

/** Train and test loss against step, log y; the step axis can be switched to log scale. */
export class LossPlot extends SeriesPlot {
  constructor(container) {
    super(container, {
      x: { label: (log) => (log ? 'step (log scale)' : 'step'), name: 'step', format: stepLabel },
      y: { label: 'loss', log: true },
      series: [
        { label: 'train loss', stroke: COLORS.train, width: 2 },
        { label: 'test loss', stroke: COLORS.test, width: 2, dash: [7, 4] },
      ],
    });
  }
}

// ---------------------------------------------------------------------------------------------

export class FitPlot {
  /**
   * opts.predictions: the prediction lines, [{key, label, stroke, width, dash}], drawn in this
   * order above the data; by default one line, the network (key 'network').
   */
  constructor(container, { predictions = [{ key: 'network', label: 'network f(x)', stroke: COLORS.train, width: 2.75 }] } = {}) {
    this.container = container;
    this.predictionStyles = predictions;
    this.predictions = {};
    this.u = null;
    this.order = null; // merged x order of grid, train and test points
    this.yRange = [-1.5, 1.5];
    this.measure = autosize(container, () => this.u, (w) => Math.min(520, Math.max(260, w * 0.8)));
  }

  /** setup: {gridSpec, trainX, trainY, testX, testY, targetGrid} from the worker. */
  setSetup(setup) {
    const { gridSpec } = setup;
    const size = gridSpec.size;
    const lo = gridSpec.lo[0];
    const hi = gridSpec.hi[0];
    const gx = new Float64Array(size);
    for (let i = 0; i < size; i++) gx[i] = size > 1 ? lo + (i * (hi - lo)) / (size - 1) : lo;

    // One merged, sorted x axis (uPlot series share x): rows are [x, kind, index].
    const rows = [];
    for (let i = 0; i < size; i++) rows.push([gx[i], 0, i]);
    const tx = setup.trainX ?? [];
    const vx = setup.testX ?? [];
    for (let i = 0; i < tx.length; i++) if (Number.isFinite(tx[i])) rows.push([tx[i], 1, i]);
    for (let i = 0; i < vx.length; i++) if (Number.isFinite(vx[i])) rows.push([vx[i], 2, i]);
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.rows = rows;
    this.setup = setup;
    this.xRange = [lo, hi];

    // y range from the data and target, padded; the prediction may widen it within bounds.
    let ymin = Infinity;
    let ymax = -Infinity;
    const scan = (a) => {
      if (!a) return;
      for (const v of a) {
        if (Number.isFinite(v)) {
          if (v < ymin) ymin = v;
          if (v > ymax) ymax = v;
        }
      }
    };
    scan(setup.trainY);
    scan(setup.testY);
    scan(setup.targetGrid);
    if (!Number.isFinite(ymin)) {
      ymin = -1;
      ymax = 1;
    }
    const pad = Math.max(0.15 * (ymax - ymin), 0.1);
    this.dataRange = [ymin - pad, ymax + pad];
    this.yRange = this.dataRange.slice();
    this.predictions = {};

    if (!this.u) this.create();
    this.render();
  }

  create() {
    const pointsOnly = () => null;
    const opts = {
      ...this.measure(),
      scales: {
        x: { time: false, range: () => this.xRange },
        y: { range: () => this.yRange },
      },
      axes: [axis('x'), axis('y', { size: 56 })],
      series: [
        { label: 'x' },
        // Drawn in this order: test points underneath, then the target, the predictions, and
        // the training points on top (the curves pass through them once fitted).
        {
          label: 'test points', stroke: '#7a7a7a', fill: '#ffffff', paths: pointsOnly,
          points: { show: true, size: 5, width: 1.25, stroke: 'rgba(60,60,60,0.5)', fill: 'rgba(255,255,255,0)' },
        },
        { label: 'target (noiseless)', stroke: COLORS.target, width: 1.75, dash: [6, 5], spanGaps: true, points: { show: false } },
        ...this.predictionStyles.map(({ key, ...style }) => ({ ...style, spanGaps: true, points: { show: false } })),
        {
          label: 'training points', stroke: COLORS.test, fill: COLORS.test, paths: pointsOnly,
          points: { show: true, size: 7, width: 1, stroke: COLORS.ink, fill: COLORS.test },
        },
      ],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
    };
    this.u = new uPlot(opts, this.data(), this.container);
  }

  data() {
    const rows = this.rows ?? [];
    const n = rows.length;
    const xs = new Float64Array(n);
    const preds = this.predictionStyles.map(() => new Array(n).fill(null));
    const grids = this.predictionStyles.map(({ key }) => this.predictions[key]);
    const target = new Array(n).fill(null);
    const train = new Array(n).fill(null);
    const test = new Array(n).fill(null);
    const s = this.setup;
    for (let j = 0; j < n; j++) {
      const [x, kind, i] = rows[j];
      xs[j] = x;
      if (kind === 0) {
        for (let k = 0; k < grids.length; k++) if (grids[k]) preds[k][j] = finiteOrNull(grids[k][i]);
        if (s.targetGrid) target[j] = finiteOrNull(s.targetGrid[i]);
      } else if (kind === 1) train[j] = finiteOrNull(s.trainY?.[i]);
      else test[j] = finiteOrNull(s.testY?.[i]);
    }
    return [xs, test, target, ...preds, train];
  }

  /** grid: Float32Array of the (first) prediction at the grid points. */
  setPrediction(grid) {
    this.setPredictions({ [this.predictionStyles[0].key]: grid });
  }

  /** grids: {key: Float32Array on the grid}; a key left out (or null) keeps no line. */
  setPredictions(grids) {
    this.predictions = { ...grids };
    // Widen the y range to show the predictions, but not beyond 3 data-ranges around the data.
    const [a, b] = this.dataRange;
    const span = b - a;
    let lo = a;
    let hi = b;
    for (const grid of Object.values(this.predictions)) {
      if (!grid) continue;
      for (const v of grid) {
        if (Number.isFinite(v)) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    this.yRange = [Math.max(lo, a - span), Math.min(hi, b + span)];
    this.render();
  }

  render() {
    if (this.u) this.u.setData(this.data());
  }

  /** What the chart shows, as plain data (see "Export specs" above). */
  exportSpec() {
    const u = this.u;
    const spec = uplotFrame(u, 'series');
    const [xs, test, target, ...rest] = u.data.map((a) => Array.from(a ?? []));
    const preds = rest.slice(0, this.predictionStyles.length);
    const train = rest[this.predictionStyles.length] ?? [];
    spec.layers.push({ type: 'points', xs, ys: test, size: 5, fill: 'none', stroke: '#7a7a7a', shape: 'circle' });
    // Lines join the grid points only (the data rows in between are gaps the chart spans).
    const joined = (ys) => {
      const gx = [];
      const gy = [];
      ys.forEach((y, i) => {
        if (y != null) {
          gx.push(xs[i]);
          gy.push(y);
        }
      });
      return [gx, gy];
    };
    const [tx, ty] = joined(target);
    spec.layers.push({ type: 'line', xs: tx, ys: ty, stroke: COLORS.target, width: 1.75, dash: [6, 5] });
    spec.legend.push({ label: 'test points', stroke: '#7a7a7a', fill: 'none', shape: 'circle' });
    spec.legend.push({ label: 'training points', stroke: COLORS.ink, fill: COLORS.test, shape: 'circle' });
    spec.legend.push({ label: 'target (noiseless)', stroke: COLORS.target, dash: [6, 5], shape: 'line' });
    this.predictionStyles.forEach((st, k) => {
      const [px, py] = joined(preds[k] ?? []);
      spec.layers.push({ type: 'line', xs: px, ys: py, stroke: st.stroke, width: st.width ?? 2, dash: st.dash });
      spec.legend.push({ label: st.label, stroke: st.stroke, dash: st.dash, shape: 'line' });
    });
    spec.layers.push({ type: 'points', xs, ys: train, size: 7, fill: COLORS.test, stroke: COLORS.ink, shape: 'circle' });
    spec.table = {
      columns: ['x', 'test points y', 'training points y', 'target', ...this.predictionStyles.map((st) => st.label)],
      rows: xs.map((x, i) => [num(x), num(test[i]), num(train[i]), num(target[i]), ...preds.map((p) => num(p[i]))]),
    };
    return spec;
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}

// ---------------------------------------------------------------------------------------------

/** Segments of the level set {f = 0} of a G×G grid (marching squares), in grid index units. */
function zeroContour(vals, size) {
  const segs = [];
  const at = (ix, iy) => vals[iy * size + ix];
  const cross = (a, b) => a / (a - b); // where the line from a to b crosses 0, in [0, 1]
  for (let iy = 0; iy < size - 1; iy++) {
    for (let ix = 0; ix < size - 1; ix++) {
      const v00 = at(ix, iy);
      const v10 = at(ix + 1, iy);
      const v01 = at(ix, iy + 1);
      const v11 = at(ix + 1, iy + 1);
      if (!(Number.isFinite(v00) && Number.isFinite(v10) && Number.isFinite(v01) && Number.isFinite(v11))) continue;
      const pts = [];
      if ((v00 > 0) !== (v10 > 0)) pts.push([ix + cross(v00, v10), iy]);
      if ((v10 > 0) !== (v11 > 0)) pts.push([ix + 1, iy + cross(v10, v11)]);
      if ((v01 > 0) !== (v11 > 0)) pts.push([ix + cross(v01, v11), iy + 1]);
      if ((v00 > 0) !== (v01 > 0)) pts.push([ix, iy + cross(v00, v01)]);
      if (pts.length === 2) segs.push(pts[0], pts[1]);
      else if (pts.length === 4) {
        // Saddle: pair by the cell-centre value.
        const c = (v00 + v10 + v01 + v11) / 4;
        if ((c > 0) === (v00 > 0)) segs.push(pts[0], pts[1], pts[2], pts[3]);
        else segs.push(pts[0], pts[3], pts[1], pts[2]);
      }
    }
  }
  return segs;
}

export class BoundaryPlot {
  /**
   * container: the chart's element; readout: an element for the value under the cursor.
   * opts.name: the model's name in the readout (for small multiples); opts.maxWidth in px;
   * opts.compact: narrow axes without titles, for small multiples.
   */
  constructor(container, readout, { name = '', maxWidth = 640, compact = false } = {}) {
    this.container = container;
    this.readout = readout;
    this.name = name;
    this.compact = compact;
    this.u = null;
    this.heat = document.createElement('canvas'); // offscreen: one pixel per grid cell
    this.contour = [];
    this.prediction = null;
    // Height ≈ width keeps the plot area close to square (the axes take similar room on both sides).
    this.measure = autosize(container, () => this.u, (w) => w, maxWidth, true);
  }

  setSetup(setup) {
    this.setup = setup;
    const { gridSpec } = setup;
    this.size = gridSpec.size;
    this.lo = gridSpec.lo;
    this.hi = gridSpec.hi;
    this.heat.width = this.size;
    this.heat.height = this.size;
    this.prediction = null;
    this.contour = [];
    this.heat.getContext('2d').clearRect(0, 0, this.size, this.size);
    if (!this.u) this.create();
    else this.u.setData(this.data(), true);
    this.u.redraw(false);
  }

  data() {
    return [[this.lo[0], this.hi[0]], [null, null]];
  }

  create() {
    const opts = {
      ...this.measure(),
      scales: {
        x: { time: false, range: () => [this.lo[0], this.hi[0]] },
        y: { range: () => [this.lo[1], this.hi[1]] },
      },
      axes: this.compact
        ? [axis(null, { size: 30, font: SMALL_FONT }), axis(null, { size: 30, font: SMALL_FONT })]
        : [axis('x₁'), axis('x₂', { size: 50 })],
      series: [{ label: 'x₁' }, { label: 'x₂', paths: () => null, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      hooks: {
        drawClear: [(u) => this.drawHeat(u)],
        draw: [(u) => this.drawOverlay(u)],
        setCursor: [(u) => this.showCursor(u)],
      },
    };
    this.u = new uPlot(opts, this.data(), this.container);
  }

  /** grid: Float32Array, index iy·size + ix; null clears the picture. */
  setPrediction(grid) {
    const n = this.size;
    if (grid === null) {
      this.prediction = null;
      this.contour = [];
      this.u?.redraw(false);
      return;
    }
    if (!grid || grid.length !== n * n) return;
    this.prediction = grid;
    const ctx = this.heat.getContext('2d');
    const img = ctx.createImageData(n, n);
    for (let iy = 0; iy < n; iy++) {
      const row = n - 1 - iy; // image rows run top-down; y runs bottom-up
      for (let ix = 0; ix < n; ix++) {
        const [r, g, b] = heatColor(grid[iy * n + ix]);
        const o = 4 * (row * n + ix);
        img.data[o] = r;
        img.data[o + 1] = g;
        img.data[o + 2] = b;
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    this.contour = zeroContour(grid, n);
    this.u?.redraw(false);
  }

  cellToVal(ix, iy) {
    const n = this.size;
    return [
      this.lo[0] + (ix * (this.hi[0] - this.lo[0])) / (n - 1),
      this.lo[1] + (iy * (this.hi[1] - this.lo[1])) / (n - 1),
    ];
  }

  drawHeat(u) {
    if (!this.prediction) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const n = this.size;
    const dx = (this.hi[0] - this.lo[0]) / (n - 1);
    const dy = (this.hi[1] - this.lo[1]) / (n - 1);
    // Cell centres sit on the grid points, so the image spans half a cell beyond lo and hi.
    const x0 = u.valToPos(this.lo[0] - dx / 2, 'x', true);
    const x1 = u.valToPos(this.hi[0] + dx / 2, 'x', true);
    const y0 = u.valToPos(this.hi[1] + dy / 2, 'y', true);
    const y1 = u.valToPos(this.lo[1] - dy / 2, 'y', true);
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(this.heat, x0, y0, x1 - x0, y1 - y0);
    ctx.restore();
  }

  drawOverlay(u) {
    const ctx = u.ctx;
    const px = uPlot.pxRatio;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();

    // Decision boundary f = 0.
    if (this.contour.length) {
      ctx.beginPath();
      for (let i = 0; i < this.contour.length; i += 2) {
        const [ax, ay] = this.cellToVal(...this.contour[i]);
        const [bx, by] = this.cellToVal(...this.contour[i + 1]);
        ctx.moveTo(u.valToPos(ax, 'x', true), u.valToPos(ay, 'y', true));
        ctx.lineTo(u.valToPos(bx, 'x', true), u.valToPos(by, 'y', true));
      }
      ctx.strokeStyle = 'rgba(20,20,20,0.85)';
      ctx.lineWidth = 2 * px;
      ctx.lineCap = 'round';
      ctx.stroke();
    }

    const s = this.setup;
    const points = (X, Y, draw) => {
      if (!X || !Y) return;
      for (let i = 0; i < Y.length; i++) {
        const x = X[2 * i];
        const y = X[2 * i + 1];
        if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(Y[i])) continue;
        draw(u.valToPos(x, 'x', true), u.valToPos(y, 'y', true), Y[i] > 0);
      }
    };
    // Test points: small hollow diamonds.
    const d = 4 * px;
    ctx.lineWidth = 1.75 * px;
    points(s.testX, s.testY, (x, y, pos) => {
      ctx.beginPath();
      ctx.moveTo(x, y - d);
      ctx.lineTo(x + d, y);
      ctx.lineTo(x, y + d);
      ctx.lineTo(x - d, y);
      ctx.closePath();
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fill();
      ctx.strokeStyle = pos ? COLORS.pos : COLORS.neg;
      ctx.stroke();
    });
    // Training points: filled circles with a white ring and a dark outline.
    const r = 4.5 * px;
    points(s.trainX, s.trainY, (x, y, pos) => {
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = pos ? COLORS.pos : COLORS.neg;
      ctx.fill();
      ctx.lineWidth = 1.25 * px;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
    });
    ctx.restore();
  }


  /** What the chart shows, as plain data (see "Export specs" above). */
  exportSpec() {
    if (!this.u || !this.setup) return null;
    const spec = uplotFrame(this.u, 'heatmap');
    const n = this.size;
    const rows = [];
    if (this.prediction) {
      const dx = (this.hi[0] - this.lo[0]) / (n - 1);
      const dy = (this.hi[1] - this.lo[1]) / (n - 1);
      const cells = [];
      for (let iy = 0; iy < n; iy++) {
        for (let ix = 0; ix < n; ix++) {
          const [x, y] = this.cellToVal(ix, iy);
          const f = this.prediction[iy * n + ix];
          cells.push([x - dx / 2, y - dy / 2, x + dx / 2, y + dy / 2, rgbCss(heatColor(f))]);
          rows.push(['grid', x, y, num(f)]);
        }
      }
      spec.layers.push({ type: 'rects', cells });
      const segs = [];
      for (let i = 0; i < this.contour.length; i += 2) segs.push(...this.cellToVal(...this.contour[i]), ...this.cellToVal(...this.contour[i + 1]));
      spec.layers.push({ type: 'segments', segs, stroke: 'rgba(20,20,20,0.85)', width: 2 });
    }
    const s = this.setup;
    const pointsOf = (X, Y, kind) => {
      const out = { neg: [[], []], pos: [[], []] };
      for (let i = 0; i < (Y?.length ?? 0); i++) {
        const x = X[2 * i];
        const y = X[2 * i + 1];
        if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(Y[i])) continue;
        const side = Y[i] > 0 ? out.pos : out.neg;
        side[0].push(x);
        side[1].push(y);
        rows.push([kind, x, y, Y[i]]);
      }
      return out;
    };
    const test = pointsOf(s.testX, s.testY, 'test');
    const train = pointsOf(s.trainX, s.trainY, 'train');
    for (const [side, color] of [['neg', COLORS.neg], ['pos', COLORS.pos]]) {
      spec.layers.push({ type: 'points', xs: test[side][0], ys: test[side][1], size: 8, fill: '#ffffff', stroke: color, shape: 'diamond' });
    }
    for (const [side, color] of [['neg', COLORS.neg], ['pos', COLORS.pos]]) {
      spec.layers.push({ type: 'points', xs: train[side][0], ys: train[side][1], size: 9, fill: color, stroke: '#ffffff', shape: 'circle' });
    }
    spec.legend = [
      { label: 'train, class −1', fill: COLORS.neg, stroke: '#ffffff', shape: 'circle' },
      { label: 'train, class +1', fill: COLORS.pos, stroke: '#ffffff', shape: 'circle' },
      { label: 'test, class −1', fill: '#ffffff', stroke: COLORS.neg, shape: 'diamond' },
      { label: 'test, class +1', fill: '#ffffff', stroke: COLORS.pos, shape: 'diamond' },
      { label: 'boundary f = 0', stroke: '#141414', shape: 'line' },
    ];
    spec.table = { columns: ['kind', 'x1', 'x2', 'value (f on the grid, label ±1 for points)'], rows };
    return spec;
  }
  showCursor(u) {
    if (!this.readout) return;
    const { left, top } = u.cursor;
    if (left == null || left < 0 || !this.prediction) {
      if (this.readout.dataset.owner === this.name) this.readout.textContent = '';
      return;
    }
    this.readout.dataset.owner = this.name;
    const x = u.posToVal(left, 'x');
    const y = u.posToVal(top, 'y');
    const n = this.size;
    const ix = Math.round(((x - this.lo[0]) / (this.hi[0] - this.lo[0])) * (n - 1));
    const iy = Math.round(((y - this.lo[1]) / (this.hi[1] - this.lo[1])) * (n - 1));
    if (ix < 0 || iy < 0 || ix >= n || iy >= n) {
      this.readout.textContent = '';
      return;
    }
    const f = this.prediction[iy * n + ix];
    const who = this.name ? `${this.name}: ` : '';
    this.readout.textContent = `${who}f(${x.toFixed(2)}, ${y.toFixed(2)}) = ${Number.isFinite(f) ? f.toFixed(3) : '—'}`;
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * A square matrix (row-major, size × size) as a heatmap, row 0 at the top. Values map to colours
 * through `setMatrix(values, size, {lo, hi, diverging})`: sequential (seqColor over [lo, hi]) or
 * diverging (heatColor over [−hi, hi]). Cells are drawn sharp (no smoothing).
 */
export class MatrixPlot {
  constructor(container, { label = 'index', maxWidth = 480 } = {}) {
    this.container = container;
    this.label = label;
    this.size = 1;
    this.heat = document.createElement('canvas');
    this.values = null;
    this.scale = { lo: 0, hi: 1, diverging: false };
    this.measure = autosize(container, () => this.u, (w) => w, maxWidth, true);
    this.create();
  }

  create() {
    const opts = {
      ...this.measure(),
      scales: {
        x: { time: false, range: () => [0, this.size] },
        y: { dir: -1, range: () => [0, this.size] },
      },
      axes: [
        axis(this.label, { values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) }),
        axis(this.label, { size: 44, values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) }),
      ],
      series: [{ label: 'column' }, { label: 'row', paths: () => null, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false }, x: false, y: false },
      hooks: { drawClear: [(u) => this.draw(u)] },
    };
    this.u = new uPlot(opts, [[0, this.size], [null, null]], this.container);
  }

  /** values: Float32Array(size²), row-major; null clears. scale: {lo, hi, diverging}. */
  setMatrix(values, size, scale) {
    this.values = values;
    if (!values || !(size > 0) || values.length !== size * size) {
      this.values = null;
      this.u.redraw(false);
      return;
    }
    this.size = size;
    this.scale = { ...this.scale, ...scale };
    const { lo, hi, diverging } = this.scale;
    this.heat.width = size;
    this.heat.height = size;
    const ctx = this.heat.getContext('2d');
    const img = ctx.createImageData(size, size);
    const span = hi - lo > 0 ? hi - lo : 1;
    const half = hi > 0 ? hi : 1;
    for (let i = 0; i < size * size; i++) {
      const v = values[i];
      const [r, g, b] = diverging ? heatColor(v / half) : seqColor((v - lo) / span);
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    this.u.setData([[0, size], [null, null]], true);
    this.u.redraw(false);
  }


  /** What the chart shows, as plain data (see "Export specs" above). */
  exportSpec() {
    if (!this.values) return null;
    const spec = uplotFrame(this.u, 'heatmap');
    const n = this.size;
    const { lo, hi, diverging } = this.scale;
    const span = hi - lo > 0 ? hi - lo : 1;
    const half = hi > 0 ? hi : 1;
    const cells = [];
    const rows = [];
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const v = this.values[r * n + c];
        cells.push([c, r, c + 1, r + 1, rgbCss(diverging ? heatColor(v / half) : seqColor((v - lo) / span))]);
        rows.push([r, c, num(v)]);
      }
    }
    spec.layers.push({ type: 'rects', cells });
    spec.table = { columns: ['row', 'column', 'value'], rows };
    return spec;
  }
  draw(u) {
    if (!this.values) return;
    const ctx = u.ctx;
    const x0 = u.valToPos(0, 'x', true);
    const x1 = u.valToPos(this.size, 'x', true);
    const y0 = u.valToPos(0, 'y', true);
    const y1 = u.valToPos(this.size, 'y', true);
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.heat, x0, Math.min(y0, y1), x1 - x0, Math.abs(y1 - y0));
    ctx.restore();
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * A heatmap over two log-spaced grids (phase diagrams): cell (i, j) is x = xs[i], y = ys[j],
 * coloured by `color(value)` (an RGB triple), drawn inside uPlot's log axes; cells not yet
 * computed stay empty. `readout` shows the cell under the cursor through `describe(i, j)`.
 *   opts: {x: {label}, y: {label}, readout, describe(i, j) → text}
 */
export class GridHeatmap {
  constructor(container, opts) {
    this.container = container;
    this.opts = opts;
    this.xs = [1, 2];
    this.ys = [1, 2];
    this.values = null;
    this.color = () => [255, 255, 255];
    this.marker = null;
    this.measure = autosize(container, () => this.u, (w) => Math.min(440, Math.max(240, w * 0.8)), 560);
    this.create();
  }

  /** The edges of log cells: geometric midpoints, and half a step beyond the ends. */
  static edges(v) {
    if (v.length === 1) return [v[0] / 1.5, v[0] * 1.5];
    const e = [];
    for (let i = 0; i <= v.length; i++) {
      const a = v[Math.max(0, Math.min(v.length - 1, i - 1))];
      const b = v[Math.max(0, Math.min(v.length - 1, i))];
      if (i === 0) e.push(v[0] / Math.sqrt(v[1] / v[0]));
      else if (i === v.length) e.push(v.at(-1) * Math.sqrt(v.at(-1) / v.at(-2)));
      else e.push(Math.sqrt(a * b));
    }
    return e;
  }

  create() {
    const ex = () => GridHeatmap.edges(this.xs);
    const ey = () => GridHeatmap.edges(this.ys);
    const opts = {
      ...this.measure(),
      scales: {
        x: { time: false, distr: 3, log: 10, range: () => [ex()[0], ex().at(-1)] },
        y: { distr: 3, log: 10, range: () => [ey()[0], ey().at(-1)] },
      },
      // Ticks at the grid values themselves, one per cell where the labels fit (GridHeatmap.ticks);
      // uPlot's own thinning of log axes (which keeps only some leading digits) is switched off.
      axes: [
        axis(this.opts.x.label, {
          splits: (u) => GridHeatmap.ticks(this.xs, u.bbox.width / (uPlot.pxRatio || 1), (v) => gridLabel(v).length * fontPx(13) * 0.62 + 10),
          values: (u, splits) => splits.map(gridLabel),
          filter: (u, splits) => splits,
        }),
        axis(this.opts.y.label, {
          size: 56,
          splits: (u) => GridHeatmap.ticks(this.ys, u.bbox.height / (uPlot.pxRatio || 1), () => fontPx(13) * 1.35 + 2),
          values: (u, splits) => splits.map(gridLabel),
          filter: (u, splits) => splits,
        }),
      ],
      series: [{ label: 'x' }, { label: 'y', paths: () => null, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      hooks: {
        drawClear: [(u) => this.drawCells(u)],
        setCursor: [(u) => this.showCursor(u)],
      },
    };
    this.u = new uPlot(opts, [[this.xs[0], this.xs.at(-1)], [null, null]], this.container);
  }

  /**
   * The grid values that get a tick: every one when their labels fit in `length` px (the axis),
   * else every k-th for the smallest k that fits, counted so that the last value is labelled and
   * as many powers of two as possible are (the grids are log-spaced, so cells are equally wide).
   * `room(v)` is the space the label of v needs along the axis, in px.
   */
  static ticks(v, length, room) {
    const n = v.length;
    if (n <= 1) return v.slice();
    const cell = length / n;
    const need = Math.max(...v.map(room));
    let k = 1;
    while (k < n && k * cell < need) k++;
    if (k === 1) return v.slice();
    const isPow2 = (x) => Math.abs(Math.log2(x) - Math.round(Math.log2(x))) < 1e-9;
    // Among the k offsets that keep the ticks k cells apart, the one labelling the most powers
    // of two, then the one labelling the last value.
    let best = null;
    for (let start = 0; start < k; start++) {
      const picked = v.filter((_, i) => i >= start && (i - start) % k === 0);
      const score = picked.filter(isPow2).length * 2 + (picked.at(-1) === v.at(-1) ? 1 : 0);
      if (!best || score > best.score) best = { score, picked };
    }
    return best.picked;
  }

  /**
   * The key of the colours (shown in exports): categories, `[{label, color: [r, g, b]}]`, and/or a
   * continuous scale, `{label, lo, hi, log, color(t) → [r, g, b] for t in [0, 1]}`; null for none.
   */
  setLegend(legend) {
    this.legend = legend;
  }

  /** The grids (ascending), the values (index j·xs.length + i, null where not computed) and the colour map. */
  setData(xs, ys, values, color) {
    const changed = xs.length !== this.xs.length || ys.length !== this.ys.length
      || xs.some((v, i) => v !== this.xs[i]) || ys.some((v, i) => v !== this.ys[i]);
    this.xs = xs;
    this.ys = ys;
    this.values = values;
    this.color = color;
    if (changed) this.u.setData([[xs[0], xs.at(-1)], [null, null]], true);
    this.u.redraw(false);
  }

  /** A point drawn as a ring (the live run's setting), or null. */
  setMarker(m) {
    this.marker = m;
    this.u.redraw(false);
  }

  drawCells(u) {
    if (!this.values) return;
    const ctx = u.ctx;
    const ex = GridHeatmap.edges(this.xs);
    const ey = GridHeatmap.edges(this.ys);
    ctx.save();
    for (let j = 0; j < this.ys.length; j++) {
      for (let i = 0; i < this.xs.length; i++) {
        const v = this.values[j * this.xs.length + i];
        if (v == null) continue;
        const [r, g, b] = this.color(v);
        ctx.fillStyle = `rgb(${r},${g},${b})`;
        const x0 = u.valToPos(ex[i], 'x', true);
        const x1 = u.valToPos(ex[i + 1], 'x', true);
        const y0 = u.valToPos(ey[j + 1], 'y', true);
        const y1 = u.valToPos(ey[j], 'y', true);
        ctx.fillRect(Math.floor(x0), Math.floor(y0), Math.ceil(x1 - x0) + 1, Math.ceil(y1 - y0) + 1);
      }
    }
    if (this.marker && Number.isFinite(this.marker.x) && Number.isFinite(this.marker.y)) {
      const px = uPlot.pxRatio;
      const cx = u.valToPos(this.marker.x, 'x', true);
      const cy = u.valToPos(this.marker.y, 'y', true);
      ctx.lineWidth = 2.5 * px;
      ctx.strokeStyle = '#fff';
      ctx.beginPath();
      ctx.arc(cx, cy, 7 * px, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.lineWidth = 1.5 * px;
      ctx.strokeStyle = '#111';
      ctx.stroke();
    }
    ctx.restore();
  }


  /** What the chart shows, as plain data (see "Export specs" above). */
  exportSpec() {
    if (!this.values) return null;
    const spec = uplotFrame(this.u, 'heatmap');
    const ex = GridHeatmap.edges(this.xs);
    const ey = GridHeatmap.edges(this.ys);
    const cells = [];
    const rows = [];
    for (let j = 0; j < this.ys.length; j++) {
      for (let i = 0; i < this.xs.length; i++) {
        const v = this.values[j * this.xs.length + i];
        rows.push([this.xs[i], this.ys[j], num(v)]);
        if (v == null) continue;
        cells.push([ex[i], ey[j], ex[i + 1], ey[j + 1], rgbCss(this.color(v))]);
      }
    }
    spec.layers.push({ type: 'rects', cells });
    if (this.marker && Number.isFinite(this.marker.x) && Number.isFinite(this.marker.y)) {
      spec.layers.push({ type: 'points', xs: [this.marker.x], ys: [this.marker.y], size: 14, fill: 'none', stroke: '#111111', shape: 'circle' });
    }
    const key = this.legend ?? {};
    for (const c of key.categories ?? []) spec.legend.push({ label: c.label, shape: 'square', fill: rgbCss(c.color), stroke: 'rgba(0,0,0,0.35)' });
    if (this.marker && Number.isFinite(this.marker.x) && Number.isFinite(this.marker.y)) {
      spec.legend.push({ label: this.marker.label ?? 'current setting', shape: 'circle', fill: 'none', stroke: '#111111' });
    }
    if (key.scale) {
      const { label, lo, hi, log, color } = key.scale;
      spec.colorbar = { label, lo, hi, log: !!log, stops: Array.from({ length: 11 }, (_, i) => rgbCss(color(i / 10))) };
    }
    spec.table = { columns: [this.opts.x.label, this.opts.y.label, 'value'], rows };
    return spec;
  }
  showCursor(u) {
    const el = this.opts.readout;
    if (!el) return;
    const { left, top } = u.cursor;
    if (left == null || left < 0 || !this.values) {
      el.textContent = '';
      return;
    }
    const x = u.posToVal(left, 'x');
    const y = u.posToVal(top, 'y');
    const nearest = (grid, v) => grid.reduce((b, g, k) => (Math.abs(Math.log(g / v)) < Math.abs(Math.log(grid[b] / v)) ? k : b), 0);
    const i = nearest(this.xs, x);
    const j = nearest(this.ys, y);
    el.textContent = this.opts.describe ? this.opts.describe(i, j) : '';
  }
}
