// SeriesPlot: curves over a shared x axis (linear or log), log or linear y, with optional ghosts
// (earlier runs pinned by core/pins.js, drawn faint beside the live curves); and LossPlot, train
// and test loss against step (the Playground's loss panel).

import uPlot from '../../vendor/uPlot.esm.js';
import { COLORS, font, tickLabel, axis, autosize, uplotFrame, num, stepLabel } from './common.js';

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
    this.ghosts = [];
    this.rows = null; // with ghosts: for each drawn row, the row of `last` it shows (−1: none)
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
        ...this.ghosts.map((g) => seriesOpts({
          label: g.label, stroke: g.stroke, width: g.width ?? 1.5, dash: g.dash, points: false, class: g.legend === false ? 'ghost-more' : 'ghost',
        })),
      ],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      hooks: { draw: [(u) => this.drawExtras(u)], setSeries: [(u, i, o) => this.followGhost(u, i, o)] },
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
        const bar = errorBar(err, this.rowAt(i), ys[i], this.logY);
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
    const ghosts = this.ghosts;
    let floor = -Infinity;
    if (this.logY) {
      let max = 0;
      for (const c of [...cols, ...ghosts.map((g) => g.ys)]) for (const v of c) if (Number.isFinite(v) && v > max) max = v;
      floor = Math.max(LOG_FLOOR, (this.opts.y?.floorRatio ?? 0) * max);
    }
    const keep = (v) => (Number.isFinite(v) && v >= floor && (!this.logY || v > 0) ? v : null);
    if (!ghosts.length) {
      let from = 0;
      if (this.logX) while (from < xs.length && !(xs[from] > 0)) from++;
      this.from = from;
      this.rows = null;
      return [Float64Array.from(xs.slice(from)), ...cols.map((c) => Array.from(c.slice(from), keep))];
    }
    // With ghosts every curve has its own x values: the chart's x column is their union, and a
    // curve has no value (undefined, which uPlot draws across, unlike a gap) at the others'.
    const shown = (x) => Number.isFinite(x) && (!this.logX || x > 0);
    const ux = unionOf([xs, ...ghosts.map((g) => g.xs)], shown);
    const at = new Map();
    ux.forEach((x, i) => at.set(x, i));
    const place = (gx, ys) => {
      const out = new Array(ux.length);
      for (let i = 0; i < gx.length; i++) {
        const j = at.get(gx[i]);
        if (j !== undefined) out[j] = keep(ys[i]);
      }
      return out;
    };
    const rows = new Int32Array(ux.length).fill(-1);
    for (let i = 0; i < xs.length; i++) {
      const j = at.get(xs[i]);
      if (j !== undefined) rows[j] = i;
    }
    this.from = 0;
    this.rows = rows;
    return [ux, ...cols.map((c) => place(xs, c)), ...ghosts.map((g) => place(g.xs, g.ys))];
  }

  /**
   * A ghost shown or hidden from the legend takes its further curves (those without a legend
   * entry of their own) with it.
   */
  followGhost(u, i, o) {
    const n = this.opts.series.length;
    if (o?.show === undefined || i <= n || this.ghosts[i - n - 1]?.legend === false) return;
    for (let j = i + 1; this.ghosts[j - n - 1]?.legend === false; j++) {
      if (u.series[j].show !== o.show) u.setSeries(j, { show: o.show });
    }
  }

  /** The row of the live data (setData's columns) that drawn row i shows, or −1. */
  rowAt(i) {
    return this.rows ? this.rows[i] : i + this.from;
  }

  /**
   * Ghosts: curves of earlier runs (core/pins.js), drawn thin after the live ones, each with its
   * own x values; they stay until replaced, whatever setData draws. `ghosts` = [{label, column,
   * legend, stroke, dash, width, xs, ys}]: `label` in the legend, unless `legend` is false (a
   * further curve of a ghost named once); `column` names it in the table (default: the label).
   */
  setGhosts(ghosts) {
    this.ghosts = ghosts ?? [];
    // The chart is built again with the new series; the live curves hidden from the legend stay so.
    const hidden = this.opts.series.map((c, k) => this.u.series[k + 1]?.show === false);
    this.u.destroy();
    this.create();
    hidden.forEach((off, k) => {
      if (off) this.u.setSeries(k + 1, { show: false });
    });
  }

  /** xs and one array per series, all of the same length. */
  setData(xs, ...columns) {
    this.last = [xs, ...columns];
    this.u.setData(this.data());
  }


  /** What the chart shows, as plain data (see "Export specs" above); ghosts first, under the live curves. */
  exportSpec() {
    const u = this.u;
    const spec = uplotFrame(u, 'series');
    const drawn = u.data;
    const xs = Array.from(drawn[0]);
    // A curve's own points: with ghosts the rows where it has no value (undefined) are left out.
    const own = (col) => {
      const px = [];
      const py = [];
      for (let i = 0; i < xs.length; i++) {
        if (col?.[i] === undefined) continue;
        px.push(xs[i]);
        py.push(col[i]);
      }
      return [px, py];
    };
    const n = this.opts.series.length;
    this.ghosts.forEach((g, k) => {
      if (u.series[n + k + 1]?.show === false) return;
      const [gx, gy] = own(drawn[n + k + 1]);
      spec.layers.push({ type: 'line', xs: gx, ys: gy, stroke: g.stroke, width: g.width ?? 1.5, dash: g.dash });
    });
    this.opts.series.forEach((c, k) => {
      if (u.series[k + 1]?.show === false) return;
      const col = drawn[k + 1] ?? [];
      const [cx, cy] = this.rows ? own(col) : [xs, Array.from(col)];
      if (c.points !== 'only') spec.layers.push({ type: 'line', xs: cx, ys: cy, stroke: c.stroke, width: c.width ?? 1.5, dash: c.dash });
      const pts = c.points === 'only' || c.points === true || (c.points === 'auto' && cx.length <= 60);
      if (pts) {
        spec.layers.push({
          type: 'points', xs: cx, ys: cy, size: c.pointSize ?? 6, fill: c.pointFill ?? c.stroke, stroke: c.stroke, shape: 'circle',
        });
      }
      const err = this.errors?.[k];
      if (err) {
        const segs = [];
        for (let i = 0; i < xs.length; i++) {
          const bar = errorBar(err, this.rowAt(i), col[i], this.logY);
          if (bar) segs.push(xs[i], bar[0], xs[i], bar[1]);
        }
        spec.layers.push({ type: 'segments', segs, stroke: c.stroke, width: 1.25 });
      }
      spec.legend.push({ label: c.label, stroke: c.stroke, dash: c.dash, shape: c.points === 'only' ? 'circle' : 'line' });
    });
    this.ghosts.forEach((g, k) => {
      if (g.legend !== false && u.series[n + k + 1]?.show !== false) spec.legend.push({ label: g.label, stroke: g.stroke, dash: g.dash, shape: 'line' });
    });
    spec.markers = (this.markers ?? []).map((m) => ({ ...m }));
    spec.table = this.table();
    return spec;
  }

  /**
   * The numbers behind the chart: the raw columns (before any log-axis filtering), with the error
   * columns, then one column per ghost; with ghosts the rows are the union of every curve's x.
   */
  table() {
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
    const live = (i) => [...cols.map((c) => num(c[i])), ...errValues.map((e) => num(e?.[i]))];
    const rows = [];
    if (!this.ghosts.length) {
      for (let i = 0; i < rx.length; i++) rows.push([num(rx[i]), ...live(i)]);
      return { columns, rows };
    }
    columns.push(...this.ghosts.map((g) => g.column ?? g.label));
    const index = (xs) => new Map(Array.from(xs, (x, i) => [x, i]));
    const liveAt = index(rx);
    const ghostAt = this.ghosts.map((g) => index(g.xs));
    const blank = live(-1).map(() => null);
    for (const x of unionOf([rx, ...this.ghosts.map((g) => g.xs)], Number.isFinite)) {
      const i = liveAt.get(x);
      rows.push([num(x), ...(i === undefined ? blank : live(i)), ...this.ghosts.map((g, k) => {
        const j = ghostAt[k].get(x);
        return j === undefined ? null : num(g.ys[j]);
      })]);
    }
    return { columns, rows };
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

// uPlot's log-10 axes cannot place ticks below about 1e-16: smaller values are left out.
const LOG_FLOOR = 1e-14;

/** The values of the arrays `lists` that pass `ok`, once each, in increasing order. */
function unionOf(lists, ok) {
  const all = new Set();
  for (const a of lists) for (const x of a) if (ok(x)) all.add(x);
  return Float64Array.from(all).sort();
}

/** uPlot series options from {label, stroke, width, dash, points, pointSize, pointFill}. */
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
