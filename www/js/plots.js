// Plot components for the Playground, drawn with uPlot (canvas).
//   LossPlot      train and test loss against step, log y axis
//   FitPlot       1-D regression: prediction and target on the grid, training and test points
//   BoundaryPlot  2-D classification: the prediction on a G×G grid as a diverging heatmap under
//                 the data, with the decision boundary f = 0
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

// Ends of the diverging heatmap scale (−1 and +1); 0 is white.
const HEAT_NEG = [38, 117, 186];
const HEAT_POS = [232, 110, 40];

const FONT = '13px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const LABEL_FONT = '600 14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Maps a prediction to an RGB triple on the diverging scale (clamped to [−1, 1]). */
export function heatColor(v) {
  if (!Number.isFinite(v)) return [255, 255, 255];
  const t = Math.max(-1, Math.min(1, v));
  const end = t < 0 ? HEAT_NEG : HEAT_POS;
  const s = Math.pow(Math.abs(t), 0.9);
  return [0, 1, 2].map((i) => Math.round(255 + (end[i] - 255) * s));
}

/** CSS gradient that matches heatColor from −1 (left) to +1 (right). */
export function heatGradientCss() {
  const stops = [];
  for (let i = 0; i <= 10; i++) {
    const v = -1 + (2 * i) / 10;
    const [r, g, b] = heatColor(v);
    stops.push(`rgb(${r},${g},${b}) ${i * 10}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

function tickLabel(v) {
  if (v == null || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
  const [m, e] = v.toExponential().split('e');
  return `${Number(Number(m).toPrecision(3))}e${Number(e)}`;
}

function axis(label, extra = {}) {
  return {
    label,
    font: FONT,
    labelFont: LABEL_FONT,
    stroke: '#2b2b2b',
    grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: 'rgba(0,0,0,0.25)', width: 1, size: 5 },
    values: (u, splits) => splits.map(tickLabel),
    ...extra,
  };
}

/** Keeps a uPlot chart as wide as its container; height from `heightFor(width)`. */
function autosize(container, getPlot, heightFor, maxWidth = Infinity) {
  const measure = () => {
    const w = Math.max(200, Math.min(maxWidth, Math.floor(container.clientWidth)));
    return { width: w, height: Math.round(heightFor(w)) };
  };
  const ro = new ResizeObserver(() => {
    const u = getPlot();
    if (!u) return;
    const s = measure();
    if (s.width !== u.width || s.height !== u.height) u.setSize(s);
  });
  ro.observe(container);
  return measure;
}

function finiteOrNull(v) {
  return Number.isFinite(v) ? v : null;
}

// ---------------------------------------------------------------------------------------------

function stepLabel(v) {
  if (v == null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

export class LossPlot {
  constructor(container) {
    this.container = container;
    this.logX = false;
    this.last = [[], [], []];
    this.measure = autosize(container, () => this.u, (w) => Math.min(360, Math.max(220, w * 0.55)));
    this.create();
  }

  create() {
    const opts = {
      ...this.measure(),
      scales: {
        x: this.logX ? { time: false, distr: 3, log: 10 } : { time: false },
        y: { distr: 3, log: 10 },
      },
      axes: [
        axis(this.logX ? 'step (log scale)' : 'step', { values: (u, splits) => splits.map(stepLabel) }),
        axis('loss', { size: 64 }),
      ],
      series: [
        { label: 'step', value: (u, v) => (v == null ? '—' : Math.round(v).toLocaleString('en-US')) },
        { label: 'train loss', stroke: COLORS.train, width: 2, value: (u, v) => tickLabel(v) || '—' },
        { label: 'test loss', stroke: COLORS.test, width: 2, dash: [7, 4], value: (u, v) => tickLabel(v) || '—' },
      ],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    };
    this.u = new uPlot(opts, this.data(), this.container);
  }

  /** Switches the step axis between linear and logarithmic (step 0 is left out on a log axis). */
  setLogX(on) {
    if (on === this.logX) return;
    this.logX = on;
    this.u.destroy();
    this.create();
  }

  data() {
    const [steps, train, test] = this.last;
    const pos = (v) => (Number.isFinite(v) && v > 0 ? v : null);
    const from = this.logX && steps.length && steps[0] <= 0 ? 1 : 0;
    return [
      Float64Array.from(steps.slice(from)),
      train.slice(from).map(pos),
      test.slice(from).map(pos),
    ];
  }

  /** steps, train, test: equal-length number arrays; non-positive / non-finite losses become gaps. */
  setData(steps, train, test) {
    this.last = [steps, train, test];
    this.u.setData(this.data());
  }

  get canvas() {
    return this.u.root.querySelector('canvas');
  }
}

// ---------------------------------------------------------------------------------------------

export class FitPlot {
  constructor(container) {
    this.container = container;
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
    this.prediction = null;

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
        // Drawn in this order: test points underneath, then training points, target, prediction.
        {
          label: 'test points', stroke: '#7a7a7a', fill: '#ffffff', paths: pointsOnly,
          points: { show: true, size: 5, width: 1.25, stroke: 'rgba(60,60,60,0.5)', fill: 'rgba(255,255,255,0)' },
        },
        {
          label: 'training points', stroke: COLORS.test, fill: COLORS.test, paths: pointsOnly,
          points: { show: true, size: 7, width: 1, stroke: COLORS.ink, fill: COLORS.test },
        },
        { label: 'target (noiseless)', stroke: COLORS.target, width: 1.75, dash: [6, 5], spanGaps: true, points: { show: false } },
        { label: 'network f(x)', stroke: COLORS.train, width: 2.75, spanGaps: true, points: { show: false } },
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
    const pred = new Array(n).fill(null);
    const target = new Array(n).fill(null);
    const train = new Array(n).fill(null);
    const test = new Array(n).fill(null);
    const s = this.setup;
    for (let j = 0; j < n; j++) {
      const [x, kind, i] = rows[j];
      xs[j] = x;
      if (kind === 0) {
        if (this.prediction) pred[j] = finiteOrNull(this.prediction[i]);
        if (s.targetGrid) target[j] = finiteOrNull(s.targetGrid[i]);
      } else if (kind === 1) train[j] = finiteOrNull(s.trainY?.[i]);
      else test[j] = finiteOrNull(s.testY?.[i]);
    }
    return [xs, test, train, target, pred];
  }

  /** grid: Float32Array of predictions at the grid points. */
  setPrediction(grid) {
    this.prediction = grid;
    // Widen the y range to show the prediction, but not beyond 3 data-ranges around the data.
    const [a, b] = this.dataRange;
    const span = b - a;
    let lo = a;
    let hi = b;
    for (const v of grid) {
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    this.yRange = [Math.max(lo, a - span), Math.min(hi, b + span)];
    this.render();
  }

  render() {
    if (this.u) this.u.setData(this.data());
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
  /** container: the chart's element; readout: an element for the value under the cursor. */
  constructor(container, readout) {
    this.container = container;
    this.readout = readout;
    this.u = null;
    this.heat = document.createElement('canvas'); // offscreen: one pixel per grid cell
    this.contour = [];
    this.prediction = null;
    // Height ≈ width keeps the plot area close to square (the axes take similar room on both sides).
    this.measure = autosize(container, () => this.u, (w) => w, 640);
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
      axes: [axis('x₁'), axis('x₂', { size: 50 })],
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

  /** grid: Float32Array, index iy·size + ix. */
  setPrediction(grid) {
    const n = this.size;
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

  showCursor(u) {
    if (!this.readout) return;
    const { left, top } = u.cursor;
    if (left == null || left < 0 || !this.prediction) {
      this.readout.textContent = '';
      return;
    }
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
    this.readout.textContent = `f(${x.toFixed(2)}, ${y.toFixed(2)}) = ${Number.isFinite(f) ? f.toFixed(3) : '—'}`;
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}
