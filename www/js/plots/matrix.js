// MatrixPlot: a square matrix as a heatmap (sequential or diverging colour scale).

import uPlot from '../../vendor/uPlot.esm.js';
import { heatColor, seqColor, axis, autosize, uplotFrame, num, rgbCss } from './common.js';

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
