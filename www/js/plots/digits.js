// DigitStrip: a strip of misclassified 8×8 test images, each drawn sharp and labelled with its
// true and predicted class, so that a reader sees which digits the network confuses and why.

export class DigitStrip {
  /** container: the strip's element; opts.max: the most images shown; opts.scale: px per pixel. */
  constructor(container, { max = 24, scale = 5 } = {}) {
    this.container = container;
    this.max = max;
    this.scale = scale;
    this.items = [];
    container.classList.add('digit-strip');
  }

  /**
   * items: [{pixels: 64 numbers in [0, 1] row-major, truth, predicted}], at most `max` shown;
   * total: how many test images are misclassified in all.
   */
  setItems(items, total = items?.length ?? 0) {
    this.items = (items ?? []).slice(0, this.max);
    const figs = this.items.map((it) => this.figure(it));
    const note = document.createElement('p');
    note.className = 'digit-strip-note';
    note.textContent = total === 0
      ? 'No test image is misclassified.'
      : `${total} test image${total === 1 ? ' is' : 's are'} misclassified${total > this.items.length ? `; the first ${this.items.length} are shown` : ''}. Under each: true → predicted.`;
    this.container.replaceChildren(note, ...figs);
  }

  figure({ pixels, truth, predicted }) {
    const fig = document.createElement('figure');
    const canvas = document.createElement('canvas');
    canvas.width = 8;
    canvas.height = 8;
    const s = this.scale * 8;
    canvas.style.width = canvas.style.height = `${s}px`;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(8, 8);
    for (let i = 0; i < 64; i++) {
      const v = Math.round(255 * (1 - Math.max(0, Math.min(1, pixels[i] ?? 0))));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `a ${truth} classified as ${predicted}`);
    const cap = document.createElement('figcaption');
    cap.textContent = `${truth} → ${predicted}`;
    fig.append(canvas, cap);
    return fig;
  }

  /**
   * The images shown, as plain data (see "Export specs" in common.js): image j is drawn as 8×8
   * grey cells over x ∈ [9j, 9j + 8] (one cell of gap), its label under it; the table holds the
   * classes and the 64 pixels of each image.
   */
  exportSpec() {
    if (!this.items.length) return null;
    const n = this.items.length;
    const cells = [];
    this.items.forEach((it, j) => {
      for (let i = 0; i < 64; i++) {
        const v = Math.round(255 * (1 - Math.max(0, Math.min(1, it.pixels[i] ?? 0))));
        const x = 9 * j + (i % 8);
        const y = Math.floor(i / 8);
        cells.push([x, y, x + 1, y + 1, `rgb(${v},${v},${v})`]);
      }
    });
    const cell = 5;
    return {
      kind: 'heatmap',
      width: Math.max(240, 9 * n * cell + 40),
      height: 8 * cell + 60,
      plot: { left: 20, top: 10, width: (9 * n - 1) * cell, height: 8 * cell },
      x: { label: 'misclassified test images: true → predicted', min: 0, max: 9 * n - 1, log: false, dir: 1, ticks: this.items.map((it, j) => ({ v: 9 * j + 4, label: `${it.truth}→${it.predicted}` })) },
      y: { label: '', min: 0, max: 8, log: false, dir: -1, ticks: [] },
      layers: [{ type: 'rects', cells }],
      markers: [],
      legend: [],
      table: {
        columns: ['true class', 'predicted class', ...Array.from({ length: 64 }, (_, i) => `p${i}`)],
        rows: this.items.map((it) => [it.truth, it.predicted, ...Array.from(it.pixels, Number)]),
      },
    };
  }

  get canvas() {
    return null;
  }
}
