// SeriesPlot: curves over a shared x axis (linear or log), log or linear y; and LossPlot, train
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
