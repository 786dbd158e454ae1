// BagsPlot: bags of instances as stacked bars of their class proportions (learning from label
// proportions): bar j is bag j, split bottom-up into the shares of classes 0…K−1 in the classes'
// colours (classes.js); a purified bag (one class only) is marked above its bar. At most MAX_BARS
// bags are drawn (the first ones; the rest are alike in kind).

import uPlot from '../../vendor/uPlot.esm.js';
import { axis, autosize, uplotFrame, num, rgbCss } from './common.js';
import { classRgb, classLabel } from './classes.js';

export const MAX_BARS = 96;
const MARK = '#1b1b1b';

export class BagsPlot {
  constructor(container, { maxWidth = 900 } = {}) {
    this.container = container;
    this.props = null; // m × K, row-major
    this.m = 0;
    this.k = 0;
    this.total = 0;
    this.purified = [];
    this.names = [];
    this.measure = autosize(container, () => this.u, (w) => Math.min(240, Math.max(170, w * 0.36)), maxWidth);
    this.create();
  }

  create() {
    const opts = {
      ...this.measure(),
      scales: {
        x: { time: false, range: () => [0, Math.max(1, this.m)] },
        y: { range: () => [0, 1.08] },
      },
      axes: [
        // A tick at the middle of a bar, labelled with its bag's number (1-based), at most about
        // ten of them.
        axis('bag', {
          splits: () => {
            const every = Math.max(1, Math.ceil(this.m / 10));
            const out = [];
            for (let j = 0; j < Math.max(1, this.m); j += every) out.push(j + 0.5);
            return out;
          },
          values: (u, splits) => splits.map((v) => String(Math.round(v + 0.5))),
        }),
        axis('proportion', { size: 52, values: (u, splits) => splits.map((v) => (v <= 1 ? String(Number(v.toFixed(2))) : '')) }),
      ],
      series: [{ label: 'bag' }, { label: 'proportion', paths: () => null, points: { show: false } }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
      hooks: { draw: [(u) => this.draw(u)] },
    };
    this.u = new uPlot(opts, [[0, 1], [null, null]], this.container);
  }

  /**
   * proportions: m × K row-major (each row sums to 1); purified: m booleans; names: K class names.
   * Only the first MAX_BARS bags are drawn. null clears.
   */
  setBags(proportions, m, k, purified = [], names = []) {
    if (!proportions || !(m > 0) || !(k > 0) || proportions.length !== m * k) {
      this.props = null;
      this.m = 0;
      this.u.redraw(false);
      return;
    }
    this.total = m;
    this.m = Math.min(m, MAX_BARS);
    this.k = k;
    this.props = Array.from(proportions.slice(0, this.m * k), (v) => (Number.isFinite(v) ? Math.max(0, v) : 0));
    this.purified = Array.from({ length: this.m }, (_, j) => !!purified[j]);
    this.names = Array.from({ length: k }, (_, c) => String(names[c] ?? c));
    this.u.setData([[0, this.m], [null, null]], true);
    this.u.redraw(false);
  }

  /** The bars as [x0, y0, x1, y1, css] rectangles in data units, and the purified marks' x. */
  shapes() {
    const rects = [];
    const marks = [];
    const gap = this.m > 48 ? 0.08 : 0.15;
    for (let j = 0; j < this.m; j++) {
      let y = 0;
      for (let c = 0; c < this.k; c++) {
        const h = this.props[j * this.k + c];
        if (h > 0) rects.push([j + gap, y, j + 1 - gap, Math.min(1, y + h), rgbCss(classRgb(c))]);
        y += h;
      }
      if (this.purified[j]) marks.push(j + 0.5);
    }
    return { rects, marks };
  }

  draw(u) {
    if (!this.props) return;
    const ctx = u.ctx;
    const px = uPlot.pxRatio || 1;
    const { left, top, width, height } = u.bbox;
    const { rects, marks } = this.shapes();
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const [x0, y0, x1, y1, css] of rects) {
      const ax = u.valToPos(x0, 'x', true);
      const bx = u.valToPos(x1, 'x', true);
      const ay = u.valToPos(y0, 'y', true);
      const by = u.valToPos(y1, 'y', true);
      ctx.fillStyle = css;
      ctx.fillRect(ax, by, Math.max(1, bx - ax), ay - by);
    }
    ctx.fillStyle = MARK;
    const s = Math.max(3 * px, Math.min(6 * px, (width / Math.max(1, this.m)) * 0.4));
    for (const x of marks) {
      const cx = u.valToPos(x, 'x', true);
      const cy = u.valToPos(1.045, 'y', true);
      ctx.beginPath();
      ctx.moveTo(cx - s, cy - s * 0.8);
      ctx.lineTo(cx + s, cy - s * 0.8);
      ctx.lineTo(cx, cy + s * 0.8);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  }

  /** What the chart shows, as plain data (see "Export specs" in common.js). */
  exportSpec() {
    if (!this.props) return null;
    const spec = uplotFrame(this.u, 'heatmap');
    const { rects, marks } = this.shapes();
    spec.layers.push({ type: 'rects', cells: rects });
    if (marks.length) spec.layers.push({ type: 'points', xs: marks, ys: marks.map(() => 1.045), size: 8, fill: MARK, stroke: MARK, shape: 'diamond' });
    spec.legend = [
      ...this.names.map((n, c) => ({ label: classLabel(n), fill: rgbCss(classRgb(c)), stroke: rgbCss(classRgb(c)), shape: 'square' })),
      ...(marks.length ? [{ label: 'purified bag', fill: MARK, stroke: MARK, shape: 'diamond' }] : []),
    ];
    const rows = [];
    for (let j = 0; j < this.m; j++) {
      rows.push([j + 1, this.purified[j] ? 1 : 0, ...this.names.map((_, c) => num(this.props[j * this.k + c]))]);
    }
    spec.table = { columns: ['bag', 'purified', ...this.names.map((n) => `share of ${classLabel(n)}`)], rows };
    return spec;
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}
