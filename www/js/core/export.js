// Exporting what a scene shows: every plot as SVG (drawn from the plot's data, not a picture of
// its canvas), as PNG (that SVG rasterised at 2×), and the numbers behind it as CSV and JSON.
// Plots describe themselves with exportSpec() (the format is documented in plots/common.js,
// "Export specs"); this module only renders those descriptions and hands files to the browser.

import { FONT_FAMILY } from '../plots/index.js';

const TITLE_H = 30; // room above the chart for its title
const LEGEND_ROW = 22; // one row of the legend below the chart
const COLORBAR_H = 56; // a continuous colour key below the legend

// ---------------------------------------------------------------------------------------------
// Text and numbers.

/** Escapes text for SVG/XML content and attribute values. */
export function xmlEscape(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

const r2 = (v) => Math.round(v * 100) / 100;

/** A CSV field: numbers as they are, text quoted when it needs to be; null is empty. */
function csvField(v) {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// ---------------------------------------------------------------------------------------------
// Scales: data value → SVG x or y inside the plot area.

function scaleOf(axis, lo, len, flip) {
  const { min, max, log } = axis;
  const f = log ? Math.log10 : (v) => v;
  const a = f(min);
  const b = f(max);
  const reversed = (axis.dir === -1) !== flip;
  return (v) => {
    if (v == null || !Number.isFinite(v) || (log && v <= 0)) return NaN;
    const t = (f(v) - a) / (b - a || 1);
    return lo + (reversed ? 1 - t : t) * len;
  };
}

// ---------------------------------------------------------------------------------------------
// SVG.

/** An SVG document (a string) of `spec` with `title` above it and the legend below. */
export function specToSvg(spec, title = '') {
  const { plot } = spec;
  // Legend entries per row: 2 or 3, fewer where the longest label (≈ 7.5 px a character after
  // its 30 px swatch) would run into the next entry.
  const entryW = Math.max(0, ...spec.legend.map((e) => 30 + String(e.label).length * 7.5 + 16));
  const perRow = Math.max(1, Math.min(spec.width < 560 ? 2 : 3, Math.floor((spec.width - 12) / Math.max(1, entryW))));
  const legendRows = Math.ceil(spec.legend.length / perRow);
  const barH = spec.colorbar ? COLORBAR_H : 0;
  // Room for the y tick labels and title, which a compact chart may not have left (≈ 7.5 px a character).
  const labelW = Math.max(0, ...spec.y.ticks.map((t) => t.label.length * 7.5));
  const pad = Math.max(0, Math.ceil(labelW + 12 + (spec.y.label ? 24 : 0) - plot.left));
  const W = Math.round(spec.width + pad + 12);
  const top = title ? TITLE_H : 0;
  const H = Math.round(spec.height + top + legendRows * LEGEND_ROW + (legendRows ? 8 : 0) + barH);
  const L = plot.left + pad;
  const T = plot.top + top;
  const sx = scaleOf(spec.x, L, plot.width, false);
  const sy = scaleOf(spec.y, T, plot.height, true);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family='${FONT_FAMILY}' font-size="13">`);
  out.push(`<title>${xmlEscape(title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<defs><clipPath id="plot-area"><rect x="${r2(L)}" y="${r2(T)}" width="${r2(plot.width)}" height="${r2(plot.height)}"/></clipPath></defs>`);
  if (title) out.push(`<text x="${r2(L)}" y="20" font-size="15" font-weight="600" fill="#15181d">${xmlEscape(title)}</text>`);

  // Grid and ticks.
  const grid = [];
  const labels = [];
  for (const t of spec.x.ticks) {
    const x = sx(t.v);
    if (!Number.isFinite(x) || x < L - 0.5 || x > L + plot.width + 0.5) continue;
    grid.push(`M${r2(x)} ${r2(T)}V${r2(T + plot.height)}`);
    labels.push(`<text x="${r2(x)}" y="${r2(T + plot.height + 18)}" text-anchor="middle">${xmlEscape(t.label)}</text>`);
  }
  for (const t of spec.y.ticks) {
    const y = sy(t.v);
    if (!Number.isFinite(y) || y < T - 0.5 || y > T + plot.height + 0.5) continue;
    grid.push(`M${r2(L)} ${r2(y)}H${r2(L + plot.width)}`);
    labels.push(`<text x="${r2(L - 8)}" y="${r2(y + 4)}" text-anchor="end">${xmlEscape(t.label)}</text>`);
  }
  out.push(`<g fill="#2b2b2b">${labels.join('')}</g>`);

  // Layers, clipped to the plot area.
  out.push('<g clip-path="url(#plot-area)">');
  for (const layer of spec.layers) out.push(layerSvg(layer, sx, sy));
  out.push('</g>');
  out.push(`<path d="${grid.join('')}" stroke="rgba(0,0,0,0.09)" fill="none"/>`);
  out.push(`<rect x="${r2(L)}" y="${r2(T)}" width="${r2(plot.width)}" height="${r2(plot.height)}" fill="none" stroke="rgba(0,0,0,0.25)"/>`);

  // Reference lines.
  for (const m of spec.markers) {
    const color = xmlEscape(m.color ?? '#444444');
    const dash = (m.dash ?? [6, 4]).join(' ');
    if (m.x != null) {
      const x = sx(m.x);
      if (!Number.isFinite(x) || x < L || x > L + plot.width) continue;
      out.push(`<line x1="${r2(x)}" y1="${r2(T)}" x2="${r2(x)}" y2="${r2(T + plot.height)}" stroke="${color}" stroke-width="1.5" stroke-dasharray="${dash}"/>`);
      if (m.label) out.push(`<text x="${r2(x + 4)}" y="${r2(T + 14)}" font-size="12" fill="${color}">${xmlEscape(m.label)}</text>`);
    } else if (m.y != null) {
      const y = sy(m.y);
      if (!Number.isFinite(y) || y < T || y > T + plot.height) continue;
      out.push(`<line x1="${r2(L)}" y1="${r2(y)}" x2="${r2(L + plot.width)}" y2="${r2(y)}" stroke="${color}" stroke-width="1.5" stroke-dasharray="${dash}"/>`);
      if (m.label) out.push(`<text x="${r2(L + plot.width - 4)}" y="${r2(y - 4)}" font-size="12" text-anchor="end" fill="${color}">${xmlEscape(m.label)}</text>`);
    }
  }

  // Axis titles.
  const bottom = T + plot.height;
  if (spec.x.label) out.push(`<text x="${r2(L + plot.width / 2)}" y="${r2(Math.min(bottom + 42, top + spec.height - 4))}" text-anchor="middle" font-size="14" font-weight="600" fill="#2b2b2b">${xmlEscape(spec.x.label)}</text>`);
  if (spec.y.label) out.push(`<text transform="translate(16 ${r2(T + plot.height / 2)}) rotate(-90)" text-anchor="middle" font-size="14" font-weight="600" fill="#2b2b2b">${xmlEscape(spec.y.label)}</text>`);

  // Legend.
  const colW = (W - 12) / perRow;
  spec.legend.forEach((e, i) => {
    const x = 12 + (i % perRow) * colW;
    const y = top + spec.height + 8 + Math.floor(i / perRow) * LEGEND_ROW + 11;
    out.push(legendSvg(e, x, y));
    out.push(`<text x="${r2(x + 30)}" y="${r2(y + 4)}" fill="#15181d">${xmlEscape(e.label)}</text>`);
  });
  if (spec.colorbar) out.push(colorbarSvg(spec.colorbar, 12, top + spec.height + legendRows * LEGEND_ROW + (legendRows ? 8 : 0), W - 24));
  out.push('</svg>');
  return out.join('\n');
}

function attrs(stroke, width, dash, fill = 'none') {
  const d = dash && dash.length ? ` stroke-dasharray="${dash.join(' ')}"` : '';
  return `fill="${xmlEscape(fill)}" stroke="${xmlEscape(stroke ?? 'none')}" stroke-width="${width ?? 1}"${d}`;
}

function marker(shape, x, y, size) {
  const r = size / 2;
  if (shape === 'diamond') return `M${r2(x)} ${r2(y - r)}L${r2(x + r)} ${r2(y)}L${r2(x)} ${r2(y + r)}L${r2(x - r)} ${r2(y)}Z`;
  return `M${r2(x - r)} ${r2(y)}a${r2(r)} ${r2(r)} 0 1 0 ${r2(2 * r)} 0a${r2(r)} ${r2(r)} 0 1 0 ${r2(-2 * r)} 0Z`;
}

function layerSvg(layer, sx, sy) {
  switch (layer.type) {
    case 'line': {
      // One path; a gap (a value that cannot be drawn) starts a new sub-path.
      let d = '';
      let pen = false;
      for (let i = 0; i < layer.xs.length; i++) {
        const x = sx(layer.xs[i]);
        const y = sy(layer.ys[i]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${r2(x)} ${r2(y)}`;
        pen = true;
      }
      return d ? `<path d="${d}" ${attrs(layer.stroke, layer.width, layer.dash)} stroke-linejoin="round"/>` : '';
    }
    case 'area': {
      // The region between two curves over the same xs (a band): along the upper, back along the
      // lower; a point that cannot be drawn ends the region and starts another.
      const parts = [];
      let upper = [];
      let lower = [];
      const close = () => {
        if (upper.length > 1) parts.push(`M${upper.join('L')}L${lower.reverse().join('L')}Z`);
        upper = [];
        lower = [];
      };
      for (let i = 0; i < layer.xs.length; i++) {
        const x = sx(layer.xs[i]);
        const a = sy(layer.hi[i]);
        const b = sy(layer.lo[i]);
        if (![x, a, b].every(Number.isFinite)) {
          close();
          continue;
        }
        upper.push(`${r2(x)} ${r2(a)}`);
        lower.push(`${r2(x)} ${r2(b)}`);
      }
      close();
      return parts.length ? `<path d="${parts.join('')}" fill="${xmlEscape(layer.fill)}" stroke="none"/>` : '';
    }
    case 'points': {
      let d = '';
      for (let i = 0; i < layer.xs.length; i++) {
        const x = sx(layer.xs[i]);
        const y = sy(layer.ys[i]);
        if (Number.isFinite(x) && Number.isFinite(y)) d += marker(layer.shape, x, y, layer.size ?? 6);
      }
      return d ? `<path d="${d}" ${attrs(layer.stroke, 1.25, null, layer.fill ?? layer.stroke)}/>` : '';
    }
    case 'rects': {
      const parts = [];
      for (const [x0, y0, x1, y1, fill] of layer.cells) {
        const ax = sx(x0);
        const bx = sx(x1);
        const ay = sy(y0);
        const by = sy(y1);
        if (![ax, bx, ay, by].every(Number.isFinite)) continue;
        // Cells overlap by a fraction of a pixel so that no seams show between them.
        parts.push(`<rect x="${r2(Math.min(ax, bx))}" y="${r2(Math.min(ay, by))}" width="${r2(Math.abs(bx - ax) + 0.4)}" height="${r2(Math.abs(by - ay) + 0.4)}" fill="${xmlEscape(fill)}"/>`);
      }
      return `<g shape-rendering="crispEdges">${parts.join('')}</g>`;
    }
    case 'segments': {
      let d = '';
      const s = layer.segs;
      for (let i = 0; i + 3 < s.length; i += 4) {
        const a = [sx(s[i]), sy(s[i + 1]), sx(s[i + 2]), sy(s[i + 3])];
        if (a.every(Number.isFinite)) d += `M${r2(a[0])} ${r2(a[1])}L${r2(a[2])} ${r2(a[3])}`;
      }
      return d ? `<path d="${d}" ${attrs(layer.stroke, layer.width, layer.dash)} stroke-linecap="round"/>` : '';
    }
    default:
      return '';
  }
}

function legendSvg(e, x, y) {
  if (e.shape === 'square') {
    return `<rect class="legend-swatch" x="${r2(x + 4)}" y="${r2(y - 8)}" width="16" height="16" ${attrs(e.stroke, 1, null, e.fill ?? e.stroke)}/>`;
  }
  if (e.shape === 'line' || !e.shape) {
    return `<line x1="${r2(x)}" y1="${r2(y)}" x2="${r2(x + 24)}" y2="${r2(y)}" ${attrs(e.stroke, 2.5, e.dash)}/>`;
  }
  return `<path d="${marker(e.shape, x + 12, y, 9)}" ${attrs(e.stroke, 1.25, null, e.fill ?? e.stroke)}/>`;
}

/**
 * A continuous colour key at (x, y), `width` wide: the title, a gradient bar through `stops` and
 * the values at its ends ("(log scale)" when the colours follow log10 of the value).
 */
function colorbarSvg(bar, x, y, width) {
  const w = Math.min(320, width);
  const id = 'colorbar-gradient';
  const stops = bar.stops.map((c, i) => `<stop offset="${r2((100 * i) / Math.max(1, bar.stops.length - 1))}%" stop-color="${xmlEscape(c)}"/>`).join('');
  const fmt = (v) => (Number.isFinite(v) ? String(Number(Number(v).toPrecision(3))) : '—');
  return [
    `<defs><linearGradient id="${id}" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>`,
    `<g class="colorbar"><text x="${r2(x)}" y="${r2(y + 14)}" fill="#15181d">${xmlEscape(bar.label)}${bar.log ? ' (log scale)' : ''}</text>`,
    `<rect x="${r2(x)}" y="${r2(y + 20)}" width="${r2(w)}" height="12" fill="url(#${id})" stroke="rgba(0,0,0,0.35)"/>`,
    `<text x="${r2(x)}" y="${r2(y + 46)}" fill="#2b2b2b">${xmlEscape(fmt(bar.lo))}</text>`,
    `<text x="${r2(x + w)}" y="${r2(y + 46)}" text-anchor="end" fill="#2b2b2b">${xmlEscape(fmt(bar.hi))}</text></g>`,
  ].join('');
}

// ---------------------------------------------------------------------------------------------
// PNG: the SVG rasterised at `scale` × its size.

export async function svgToPng(svg, width, height, scale = 2) {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))), 'image/png');
  });
}

/** The SVG's own size (from its root element). */
export function svgSize(svg) {
  const m = /<svg[^>]*\bwidth="(\d+)"[^>]*\bheight="(\d+)"/.exec(svg);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : { width: 800, height: 600 };
}

// ---------------------------------------------------------------------------------------------
// Data.

export function tableToCsv(table) {
  const lines = [table.columns.map(csvField).join(',')];
  for (const row of table.rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** Columns as arrays, under their names: {name: [v, …]}. */
export function tableToColumns(table) {
  const out = {};
  table.columns.forEach((name, j) => {
    let key = name;
    for (let k = 2; key in out; k++) key = `${name} (${k})`;
    out[key] = table.rows.map((r) => (typeof r[j] === 'number' && !Number.isFinite(r[j]) ? null : r[j]));
  });
  return out;
}

/** One line about what a plot shows now (for screen readers): the latest value of each series. */
export function summarize(spec) {
  if (!spec?.table?.rows.length) return 'No data yet.';
  const { columns, rows } = spec.table;
  const fmt = (v) => (typeof v === 'number' ? String(Number(v.toPrecision(3))) : String(v));
  if (spec.kind === 'heatmap') {
    const j = columns.length - 1;
    const vals = rows.map((r) => r[j]).filter((v) => typeof v === 'number' && Number.isFinite(v));
    if (!vals.length) return 'No values yet.';
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of vals) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return `${vals.length} values from ${fmt(lo)} to ${fmt(hi)}.`;
  }
  const parts = [];
  for (let j = 1; j < columns.length; j++) {
    if (/standard error$/.test(columns[j])) continue;
    for (let i = rows.length - 1; i >= 0; i--) {
      const v = rows[i][j];
      if (typeof v === 'number' && Number.isFinite(v)) {
        parts.push(`${columns[j]}: ${fmt(v)} at ${columns[0]} ${fmt(rows[i][0])}`);
        break;
      }
    }
  }
  return parts.length ? `Latest values: ${parts.join('; ')}.` : 'No data yet.';
}

// ---------------------------------------------------------------------------------------------
// Files.

// Chromium silently drops a frame's download requests beyond 10 within one second (it throttles
// them against abuse; the page is not told). Downloads therefore start one at a time, at most
// DOWNLOAD_BURST of them within any DOWNLOAD_WINDOW_MS, later ones waiting their turn.
export const DOWNLOAD_BURST = 8;
export const DOWNLOAD_WINDOW_MS = 1500;
const recentDownloads = []; // performance.now() of the latest downloads handed to the browser
let downloadQueue = Promise.resolve();
let downloadCount = 0;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hands `blob` to the browser as a download named `name`; resolves once it has been handed over
 * (after waiting its turn, see DOWNLOAD_BURST) with the number of files handed over so far. Whether the browser then saves it (it may ask
 * first, or block many downloads from one page) the page cannot know.
 */
export function download(name, blob) {
  const turn = downloadQueue.then(async () => {
    for (;;) {
      const now = performance.now();
      while (recentDownloads.length && now - recentDownloads[0] >= DOWNLOAD_WINDOW_MS) recentDownloads.shift();
      if (recentDownloads.length < DOWNLOAD_BURST) break;
      await sleep(recentDownloads[0] + DOWNLOAD_WINDOW_MS - now + 5);
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.rel = 'noopener';
    a.hidden = true;
    document.body.append(a);
    a.click();
    recentDownloads.push(performance.now());
    downloadCount += 1;
    // The browser reads the blob after the click returns: keep the URL alive a while.
    setTimeout(() => {
      a.remove();
      URL.revokeObjectURL(url);
    }, 60000);
    return downloadCount;
  });
  downloadQueue = turn.catch(() => {});
  return turn;
}

/**
 * What the export dialog says once `what` was handed to the browser as the `count`-th download
 * of this page: from the second on, browsers may ask before saving or block further downloads.
 */
export function savedMessage(what, count) {
  return count > 1
    ? `Saved ${what}. If it did not arrive, your browser may be blocking multiple downloads from this page: allow them (its address bar shows a notice) and press again.`
    : `Saved ${what}.`;
}

export const jsonBlob = (obj) => new Blob([`${JSON.stringify(obj, null, 2)}\n`], { type: 'application/json' });
export const textBlob = (text, type) => new Blob([text], { type });
