// FitPlot: 1-D regression: one or more predictions and the target on the grid, training and test
// points.

import uPlot from '../../vendor/uPlot.esm.js';
import { COLORS, axis, autosize, finiteOrNull, uplotFrame, num } from './common.js';

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
