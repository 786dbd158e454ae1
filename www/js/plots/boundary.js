// BoundaryPlot: 2-D classification: the prediction on a G×G grid under the data. One output: a
// diverging heatmap of f with the decision boundary f = 0. K outputs: the decision regions, each
// in its class's colour, paler where the network is less sure, with the borders between them.

import uPlot from '../../vendor/uPlot.esm.js';
import { COLORS, SMALL_FONT, heatColor, axis, autosize, uplotFrame, num, rgbCss } from './common.js';
import { classCss, classLabel, classOf, regionRgb } from './classes.js';

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

/**
 * The borders between the decision regions of K outputs on a G×G grid: for each class c the level
 * set {g_c = max_{j≠c} g_j} (its margin over the best other class crosses 0), in grid index units.
 * Every border between two regions is found from both sides; drawn twice, it looks the same.
 */
function regionBorders(grid, size, k) {
  const segs = [];
  const margin = new Float32Array(size * size);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < size * size; i++) {
      let other = -Infinity;
      for (let j = 0; j < k; j++) if (j !== c && grid[i * k + j] > other) other = grid[i * k + j];
      margin[i] = grid[i * k + c] - other;
    }
    for (const p of zeroContour(margin, size)) segs.push(p);
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
    // K outputs (one per class) or one (the ±1 output of a binary set under the squared loss).
    this.k = setup.outputs > 1 ? setup.outputs : 1;
    this.classes = null;
    this.lo = gridSpec.lo;
    this.hi = gridSpec.hi;
    this.heat.width = this.size;
    this.heat.height = this.size;
    this.prediction = null;
    this.contour = [];
    this.heat.getContext('2d').clearRect(0, 0, this.size, this.size);
    // Inputs of more than two dimensions are drawn on their first two principal axes.
    const labels = setup.projected ? ['PC 1', 'PC 2'] : ['x₁', 'x₂'];
    if (this.u && this.axisLabels?.join() !== labels.join()) {
      this.u.destroy();
      this.u = null;
    }
    this.axisLabels = labels;
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
        : [axis(this.axisLabels[0]), axis(this.axisLabels[1], { size: 50 })],
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

  /**
   * grid: Float32Array of the outputs at the grid points, index (iy·size + ix)·K + c (K = 1: the
   * single output); null clears the picture.
   */
  setPrediction(grid) {
    const n = this.size;
    const k = this.k;
    if (grid === null) {
      this.prediction = null;
      this.classes = null;
      this.contour = [];
      this.u?.redraw(false);
      return;
    }
    if (!grid || grid.length !== n * n * k) return;
    this.prediction = grid;
    const ctx = this.heat.getContext('2d');
    const img = ctx.createImageData(n, n);
    const classes = k > 1 ? new Int16Array(n * n) : null;
    for (let iy = 0; iy < n; iy++) {
      const row = n - 1 - iy; // image rows run top-down; y runs bottom-up
      for (let ix = 0; ix < n; ix++) {
        const i = iy * n + ix;
        let rgb;
        if (classes) {
          const { cls, conf } = classOf(grid, i * k, k, this.setup.loss);
          classes[i] = cls;
          rgb = regionRgb(cls, conf);
        } else {
          rgb = heatColor(grid[i]);
        }
        const o = 4 * (row * n + ix);
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    this.classes = classes;
    this.contour = classes ? regionBorders(grid, n, k) : zeroContour(grid, n);
    this.u?.redraw(false);
  }

  /** A point's colour from its label: ±1 (one output) or its class index (K outputs). */
  pointCss(label) {
    if (this.k > 1) return classCss(Math.round(label));
    return label > 0 ? COLORS.pos : COLORS.neg;
  }

  /** The labels drawn, each with its name: ±1, or the classes 0…K−1 (named by the data when it has names). */
  labelsShown() {
    if (this.k === 1) return [{ value: -1, name: 'class −1' }, { value: 1, name: 'class +1' }];
    const names = this.setup.classNames;
    return Array.from({ length: this.k }, (_, c) => ({ value: c, name: classLabel(names?.[c] ?? c) }));
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
        draw(u.valToPos(x, 'x', true), u.valToPos(y, 'y', true), this.pointCss(Y[i]));
      }
    };
    // Test points: small hollow diamonds.
    const d = 4 * px;
    ctx.lineWidth = 1.75 * px;
    points(s.testX, s.testY, (x, y, color) => {
      ctx.beginPath();
      ctx.moveTo(x, y - d);
      ctx.lineTo(x + d, y);
      ctx.lineTo(x, y + d);
      ctx.lineTo(x - d, y);
      ctx.closePath();
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fill();
      ctx.strokeStyle = color;
      ctx.stroke();
    });
    // Training points: filled circles with a white ring and a dark outline.
    const r = 4.5 * px;
    points(s.trainX, s.trainY, (x, y, color) => {
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = color;
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
    const k = this.k;
    const rows = [];
    if (this.prediction) {
      const dx = (this.hi[0] - this.lo[0]) / (n - 1);
      const dy = (this.hi[1] - this.lo[1]) / (n - 1);
      const cells = [];
      for (let iy = 0; iy < n; iy++) {
        for (let ix = 0; ix < n; ix++) {
          const [x, y] = this.cellToVal(ix, iy);
          const i = iy * n + ix;
          let fill;
          if (k > 1) {
            const { cls, conf } = classOf(this.prediction, i * k, k, this.setup.loss);
            fill = rgbCss(regionRgb(cls, conf));
            rows.push(['grid', x, y, cls, ...Array.from(this.prediction.subarray(i * k, i * k + k), num)]);
          } else {
            fill = rgbCss(heatColor(this.prediction[i]));
            rows.push(['grid', x, y, num(this.prediction[i])]);
          }
          cells.push([x - dx / 2, y - dy / 2, x + dx / 2, y + dy / 2, fill]);
        }
      }
      spec.layers.push({ type: 'rects', cells });
      const segs = [];
      for (let i = 0; i < this.contour.length; i += 2) segs.push(...this.cellToVal(...this.contour[i]), ...this.cellToVal(...this.contour[i + 1]));
      spec.layers.push({ type: 'segments', segs, stroke: 'rgba(20,20,20,0.85)', width: 2 });
    }
    const s = this.setup;
    const shown = this.labelsShown();
    const pointsOf = (X, Y, kind) => {
      const out = shown.map(() => [[], []]);
      for (let i = 0; i < (Y?.length ?? 0); i++) {
        const x = X[2 * i];
        const y = X[2 * i + 1];
        if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(Y[i])) continue;
        const at = k > 1 ? Math.round(Y[i]) : Y[i] > 0 ? 1 : 0;
        if (!out[at]) continue;
        out[at][0].push(x);
        out[at][1].push(y);
        rows.push(k > 1 ? [kind, x, y, at, ...new Array(k).fill(null)] : [kind, x, y, Y[i]]);
      }
      return out;
    };
    const test = pointsOf(s.testX, s.testY, 'test');
    const train = pointsOf(s.trainX, s.trainY, 'train');
    shown.forEach((l, c) => {
      spec.layers.push({ type: 'points', xs: test[c][0], ys: test[c][1], size: 8, fill: '#ffffff', stroke: this.pointCss(l.value), shape: 'diamond' });
    });
    shown.forEach((l, c) => {
      spec.layers.push({ type: 'points', xs: train[c][0], ys: train[c][1], size: 9, fill: this.pointCss(l.value), stroke: '#ffffff', shape: 'circle' });
    });
    spec.legend = [
      ...shown.map((l) => ({ label: `train, ${l.name}`, fill: this.pointCss(l.value), stroke: '#ffffff', shape: 'circle' })),
      ...shown.map((l) => ({ label: `test, ${l.name}`, fill: '#ffffff', stroke: this.pointCss(l.value), shape: 'diamond' })),
      { label: k > 1 ? 'borders between the decision regions' : 'boundary f = 0', stroke: '#141414', shape: 'line' },
    ];
    spec.table = k > 1
      ? { columns: ['kind', 'x1', 'x2', 'class (predicted on the grid, label for points)', ...shown.map((_, c) => `g${c}`)], rows }
      : { columns: ['kind', 'x1', 'x2', 'value (f on the grid, label ±1 for points)'], rows };
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
    const who = this.name ? `${this.name}: ` : '';
    const at = `(${x.toFixed(2)}, ${y.toFixed(2)})`;
    if (this.k > 1) {
      const { cls } = classOf(this.prediction, (iy * n + ix) * this.k, this.k, this.setup.loss);
      this.readout.textContent = cls < 0 ? `${who}${at}: —` : `${who}${at}: ${this.labelsShown()[cls].name}`;
      return;
    }
    const f = this.prediction[iy * n + ix];
    this.readout.textContent = `${who}f${at} = ${Number.isFinite(f) ? f.toFixed(3) : '—'}`;
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}
