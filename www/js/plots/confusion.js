// ConfusionPlot: the confusion matrix of a K-class classifier on the test set, as a table (rows:
// the true class, columns: the predicted class), each cell shaded by the share of its row, so
// that the diagonal is the recall of each class. A table is readable by a screen reader as it is.

import { rgbCss } from './common.js';
import { classCss } from './classes.js';

// The shade of a share s ∈ [0, 1] of a row: white to dark blue, the square root so that a few
// confusions out of many already show.
const INK = [11, 60, 120];
function shade(s) {
  const t = Math.sqrt(Math.max(0, Math.min(1, s)));
  return INK.map((v) => Math.round(255 + (v - 255) * t));
}

export class ConfusionPlot {
  /** container: the element the table goes in; opts.maxCell: the largest cell size in px. */
  constructor(container, { maxCell = 44 } = {}) {
    this.container = container;
    this.maxCell = maxCell;
    this.counts = null;
    this.k = 0;
    this.names = [];
    this.table = document.createElement('table');
    this.table.className = 'confusion';
    container.replaceChildren(this.table);
  }

  /**
   * counts: K×K row-major (true class r, predicted class c), or null to clear; names: the K class
   * names (default 0…K−1).
   */
  setMatrix(counts, k, names = null) {
    if (!counts || !(k > 0) || counts.length !== k * k) {
      this.counts = null;
      this.table.replaceChildren();
      return;
    }
    this.counts = Array.from(counts, (v) => (Number.isFinite(v) ? v : 0));
    this.k = k;
    this.names = Array.from({ length: k }, (_, c) => String(names?.[c] ?? c));
    this.render();
  }

  render() {
    const { k, counts, names } = this;
    const cell = Math.max(18, Math.min(this.maxCell, Math.floor((this.container.clientWidth || 400) / (k + 2))));
    const cap = document.createElement('caption');
    cap.textContent = 'Rows: the true class; columns: the predicted class. Shading: the share of the row.';
    const head = document.createElement('tr');
    head.append(th('true \\ predicted', 'corner'));
    for (let c = 0; c < k; c++) head.append(th(names[c], 'col', classCss(c)));
    const rows = [head];
    for (let r = 0; r < k; r++) {
      const tr = document.createElement('tr');
      tr.append(th(names[r], 'row', classCss(r)));
      let total = 0;
      for (let c = 0; c < k; c++) total += counts[r * k + c];
      for (let c = 0; c < k; c++) {
        const v = counts[r * k + c];
        const share = total > 0 ? v / total : 0;
        const td = document.createElement('td');
        td.textContent = String(v);
        const [R, G, B] = shade(share);
        td.style.background = `rgb(${R},${G},${B})`;
        td.style.color = share > 0.3 ? '#ffffff' : '#1b1b1b';
        td.style.width = td.style.height = `${cell}px`;
        if (r === c) td.classList.add('diagonal');
        td.title = `true ${names[r]}, predicted ${names[c]}: ${v} of ${total}`;
        tr.append(td);
      }
      rows.push(tr);
    }
    this.table.replaceChildren(cap, ...rows);
    this.table.style.fontSize = `${Math.max(10, Math.min(13, Math.round(cell / 3)))}px`;
  }

  /** What the table shows, as plain data (see "Export specs" in common.js). */
  exportSpec() {
    if (!this.counts) return null;
    const { k, counts, names } = this;
    const size = Math.max(240, Math.min(560, 40 * (k + 1)));
    const ticks = names.map((label, c) => ({ v: c + 0.5, label }));
    const cells = [];
    const rows = [];
    for (let r = 0; r < k; r++) {
      let total = 0;
      for (let c = 0; c < k; c++) total += counts[r * k + c];
      for (let c = 0; c < k; c++) {
        const v = counts[r * k + c];
        cells.push([c, r, c + 1, r + 1, rgbCss(shade(total > 0 ? v / total : 0))]);
        rows.push([names[r], names[c], v]);
      }
    }
    return {
      kind: 'heatmap',
      width: size + 70,
      height: size + 60,
      plot: { left: 60, top: 10, width: size, height: size },
      x: { label: 'predicted class', min: 0, max: k, log: false, dir: 1, ticks },
      y: { label: 'true class', min: 0, max: k, log: false, dir: -1, ticks },
      layers: [{ type: 'rects', cells }],
      markers: [],
      legend: [],
      colorbar: { label: 'share of the true class', lo: 0, hi: 1, log: false, stops: Array.from({ length: 9 }, (_, i) => rgbCss(shade(i / 8))) },
      table: { columns: ['true class', 'predicted class', 'test points'], rows },
    };
  }

  get canvas() {
    return null;
  }
}

function th(text, kind, color = null) {
  const el = document.createElement('th');
  el.textContent = text;
  el.className = kind;
  if (kind !== 'corner') el.scope = kind;
  if (color) el.style.borderColor = color;
  return el;
}
