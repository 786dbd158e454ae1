// GridHeatmap: a heatmap over two log-spaced grids (the step-size phase diagrams).

import uPlot from '../../vendor/uPlot.esm.js';
import { fontPx, gridLabel, axis, autosize, uplotFrame, num, rgbCss } from './common.js';

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
