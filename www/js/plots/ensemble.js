// EnsemblePlot: many finite networks against the infinite-width band, over a 1-D input. Drawn
// from the bottom up: the band μ ± 2σ (shaded) and its mean μ (dotted), every network of the
// ensemble as a thin line, the ensemble's mean μ̂ and μ̂ ± 2σ̂ (dashed), and the training points.
// The legend is the page's (a short list beside the chart): uPlot's would list every network.

import uPlot from '../../vendor/uPlot.esm.js';
import { COLORS, MODEL_STYLES, axis, autosize, finiteOrNull, uplotFrame, num } from './common.js';

export const ENSEMBLE_STYLES = {
  band: { label: 'infinite width: μ ± 2σ', fill: 'rgba(0,158,115,0.16)', stroke: 'rgba(0,158,115,0.55)' },
  bandMean: { label: 'infinite width: mean μ', stroke: MODEL_STYLES.ntk.stroke, width: 2, dash: [2, 4] },
  member: { label: 'one network of the ensemble', stroke: 'rgba(0,114,178,0.32)', width: 1 },
  mean: { label: 'ensemble mean μ̂', stroke: '#0b3d66', width: 2.25 },
  spread: { label: 'ensemble μ̂ ± 2σ̂', stroke: '#0b3d66', width: 1.5, dash: [7, 4] },
  points: { label: 'training points', stroke: COLORS.ink, fill: COLORS.test },
};

export class EnsemblePlot {
  constructor(container) {
    this.container = container;
    this.u = null;
    this.xs = new Float64Array(0);
    this.members = 0;
    this.picture = null;
    this.train = { x: [], y: [] };
    this.yRange = [-1.5, 1.5];
    this.measure = autosize(container, () => this.u, (w) => Math.min(460, Math.max(240, w * 0.62)));
  }

  /** setup: {gridSpec, trainX, trainY} from the worker (a 1-D grid). */
  setSetup(setup) {
    const { size, lo, hi } = setup.gridSpec;
    this.xs = Float64Array.from({ length: size }, (_, i) => (size > 1 ? lo[0] + (i * (hi[0] - lo[0])) / (size - 1) : lo[0]));
    this.xRange = [lo[0], hi[0]];
    this.train = { x: Array.from(setup.trainX ?? []), y: Array.from(setup.trainY ?? []) };
    this.picture = null;
    this.rebuild(0);
  }

  /**
   * picture: {live, members (live × grid), mean, sd, bandMean, bandSd} from the worker
   * (scenes::lazy::ensemble). Only finite values are drawn.
   */
  setPicture(picture) {
    this.picture = picture;
    if (!picture) return;
    if (picture.live !== this.members || !this.u) this.rebuild(picture.live);
    // y: the data and the band, widened to the networks within reason (a diverging network
    // must not flatten the rest).
    let lo = Infinity;
    let hi = -Infinity;
    const scan = (a, pad = 0) => {
      for (const v of a ?? []) {
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v - pad);
          hi = Math.max(hi, v + pad);
        }
      }
    };
    scan(this.train.y);
    const g = this.xs.length;
    for (let i = 0; i < g; i++) {
      const m = picture.bandMean?.[i];
      const s = picture.bandSd?.[i];
      if (Number.isFinite(m) && Number.isFinite(s)) scan([m - 2 * s, m + 2 * s]);
    }
    if (!Number.isFinite(lo)) [lo, hi] = [-1, 1];
    const span = hi - lo || 1;
    const mid = (lo + hi) / 2;
    let mlo = lo;
    let mhi = hi;
    for (const v of picture.members ?? []) {
      if (Number.isFinite(v)) {
        if (v < mlo) mlo = v;
        if (v > mhi) mhi = v;
      }
    }
    this.yRange = [Math.max(mlo, mid - 1.5 * span) - 0.05 * span, Math.min(mhi, mid + 1.5 * span) + 0.05 * span];
    this.u.setData(this.data());
  }

  rebuild(members) {
    this.members = members;
    const line = (st) => ({ label: st.label, stroke: st.stroke, width: st.width, dash: st.dash, spanGaps: false, points: { show: false } });
    const series = [
      { label: 'x' },
      { label: 'band upper', stroke: ENSEMBLE_STYLES.band.stroke, width: 1, points: { show: false } },
      { label: 'band lower', stroke: ENSEMBLE_STYLES.band.stroke, width: 1, points: { show: false } },
      line(ENSEMBLE_STYLES.bandMean),
      ...Array.from({ length: members }, () => line(ENSEMBLE_STYLES.member)),
      line(ENSEMBLE_STYLES.mean),
      line(ENSEMBLE_STYLES.spread),
      line(ENSEMBLE_STYLES.spread),
    ];
    const opts = {
      ...this.measure(),
      scales: {
        x: { time: false, range: () => this.xRange ?? [0, 1] },
        y: { range: () => this.yRange },
      },
      axes: [axis('x'), axis('f(x)', { size: 56 })],
      series,
      bands: [{ series: [1, 2], fill: ENSEMBLE_STYLES.band.fill }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      hooks: { draw: [(u) => this.drawPoints(u)] },
    };
    this.u?.destroy();
    this.u = new uPlot(opts, this.data(), this.container);
  }

  drawPoints(u) {
    const { ctx } = u;
    const px = uPlot.pxRatio || 1;
    ctx.save();
    ctx.fillStyle = ENSEMBLE_STYLES.points.fill;
    ctx.strokeStyle = ENSEMBLE_STYLES.points.stroke;
    ctx.lineWidth = px;
    for (let i = 0; i < this.train.x.length; i++) {
      const x = u.valToPos(this.train.x[i], 'x', true);
      const y = u.valToPos(this.train.y[i], 'y', true);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      ctx.beginPath();
      ctx.arc(x, y, 3.5 * px, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.restore();
  }

  /** The chart's columns: band upper and lower, band mean, each network, μ̂, μ̂ ± 2σ̂. */
  columns() {
    const p = this.picture;
    const g = this.xs.length;
    const col = (f) => Array.from({ length: g }, (_, i) => finiteOrNull(f(i)));
    const empty = () => new Array(g).fill(null);
    if (!p) return [empty(), empty(), empty(), ...Array.from({ length: this.members }, empty), empty(), empty(), empty()];
    const bm = (i) => p.bandMean?.[i];
    const bs = (i) => p.bandSd?.[i];
    const members = Array.from({ length: this.members }, (_, k) => col((i) => p.members?.[k * g + i]));
    return [
      col((i) => bm(i) + 2 * bs(i)),
      col((i) => bm(i) - 2 * bs(i)),
      col(bm),
      ...members,
      col((i) => p.mean?.[i]),
      col((i) => p.mean?.[i] + 2 * p.sd?.[i]),
      col((i) => p.mean?.[i] - 2 * p.sd?.[i]),
    ];
  }

  data() {
    return [this.xs, ...this.columns()];
  }

  /** What the chart shows, as plain data (see common.js "Export specs"). */
  exportSpec() {
    const u = this.u;
    const spec = uplotFrame(u, 'series');
    const xs = Array.from(this.xs);
    const [hi, lo, bandMean, ...rest] = this.columns();
    const members = rest.slice(0, this.members);
    const [mean, up, down] = rest.slice(this.members);
    const S = ENSEMBLE_STYLES;
    spec.layers.push({ type: 'area', xs, lo, hi, fill: S.band.fill });
    spec.layers.push({ type: 'line', xs, ys: bandMean, stroke: S.bandMean.stroke, width: S.bandMean.width, dash: S.bandMean.dash });
    for (const m of members) spec.layers.push({ type: 'line', xs, ys: m, stroke: S.member.stroke, width: S.member.width });
    spec.layers.push({ type: 'line', xs, ys: mean, stroke: S.mean.stroke, width: S.mean.width });
    for (const ys of [up, down]) spec.layers.push({ type: 'line', xs, ys, stroke: S.spread.stroke, width: S.spread.width, dash: S.spread.dash });
    spec.layers.push({ type: 'points', xs: this.train.x, ys: this.train.y, size: 7, fill: S.points.fill, stroke: S.points.stroke, shape: 'circle' });
    spec.legend.push({ label: S.band.label, stroke: S.band.stroke, fill: S.band.fill, shape: 'square' });
    spec.legend.push({ label: S.bandMean.label, stroke: S.bandMean.stroke, dash: S.bandMean.dash, shape: 'line' });
    spec.legend.push({ label: `${this.members} networks`, stroke: 'rgba(0,114,178,0.6)', shape: 'line' });
    spec.legend.push({ label: S.mean.label, stroke: S.mean.stroke, shape: 'line' });
    spec.legend.push({ label: S.spread.label, stroke: S.spread.stroke, dash: S.spread.dash, shape: 'line' });
    spec.legend.push({ label: S.points.label, stroke: S.points.stroke, fill: S.points.fill, shape: 'circle' });
    spec.table = {
      columns: ['x', 'band μ − 2σ', 'band μ', 'band μ + 2σ', 'ensemble mean', 'ensemble μ̂ − 2σ̂', 'ensemble μ̂ + 2σ̂', ...members.map((_, k) => `network ${k + 1}`)],
      rows: xs.map((x, i) => [num(x), num(lo[i]), num(bandMean[i]), num(hi[i]), num(mean[i]), num(down[i]), num(up[i]), ...members.map((m) => num(m[i]))]),
    };
    return spec;
  }

  get canvas() {
    return this.u?.root.querySelector('canvas') ?? null;
  }
}
