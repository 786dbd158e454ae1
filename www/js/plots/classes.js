// Classes: one colour per class, and what a K-output prediction says at a point (its class and
// how sure it is). Shared by the decision-region plot, the confusion matrix and the digit strip.

import { COLORS } from './common.js';

// Two classes keep the binary sets' colours (class −1 / 0 blue, class +1 / 1 orange); more
// classes continue with the Okabe–Ito colours, then with evenly spaced hues (up to 100 classes).
const PALETTE = [COLORS.neg, COLORS.pos, '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#7a6a00', '#5b3a8c'];

/** The colour of class c (0-based) as '#rrggbb' or 'hsl(…)'. */
export function classCss(c) {
  if (c < PALETTE.length) return PALETTE[c];
  const hue = Math.round((c * 137.508) % 360); // the golden angle: neighbours far apart
  return `hsl(${hue} 60% 40%)`;
}

const rgbCache = new Map();
/** The colour of class c as an [r, g, b] triple (0–255). */
export function classRgb(c) {
  let v = rgbCache.get(c);
  if (v) return v;
  const css = classCss(c);
  if (css.startsWith('#')) {
    v = [1, 3, 5].map((i) => parseInt(css.slice(i, i + 2), 16));
  } else {
    const [h, s, l] = css.match(/[\d.]+/g).map(Number);
    v = hslToRgb(h / 360, s / 100, l / 100);
  }
  rgbCache.set(c, v);
  return v;
}

function hslToRgb(h, s, l) {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const hue = (t) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    if (u < 1 / 6) return p + (q - p) * 6 * u;
    if (u < 1 / 2) return q;
    if (u < 2 / 3) return p + (q - p) * (2 / 3 - u) * 6;
    return p;
  };
  return [hue(h + 1 / 3), hue(h), hue(h - 1 / 3)].map((x) => Math.round(255 * x));
}

/**
 * What K outputs `g` (starting at `at` in a flat array) say: the predicted class (argmax) and a
 * confidence in [0, 1]. Cross-entropy: the softmax probability of the winner, rescaled so that a
 * uniform guess (1/K) is 0; the squared loss on one-hot targets: the margin between the two
 * largest outputs, clamped to [0, 1] (targets are 0 and 1). A non-finite output gives class −1.
 */
export function classOf(g, at, k, loss) {
  let best = -1;
  let top = -Infinity;
  let second = -Infinity;
  for (let c = 0; c < k; c++) {
    const v = g[at + c];
    if (!Number.isFinite(v)) return { cls: -1, conf: 0 };
    if (v > top) {
      second = top;
      top = v;
      best = c;
    } else if (v > second) second = v;
  }
  if (k < 2) return { cls: best, conf: 1 };
  if (loss === 'crossEntropy') {
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(g[at + c] - top);
    const p = 1 / z;
    return { cls: best, conf: Math.max(0, Math.min(1, (p - 1 / k) / (1 - 1 / k))) };
  }
  return { cls: best, conf: Math.max(0, Math.min(1, top - second)) };
}

/** The colour of a region cell: white mixed towards the class colour by confidence. */
export function regionRgb(cls, conf) {
  if (cls < 0) return [255, 255, 255];
  const c = classRgb(cls);
  const t = 0.18 + 0.62 * conf;
  return c.map((v) => Math.round(255 + (v - 255) * t));
}

/** A class's name as a reader sees it: "class 3" for a bare number, the name itself otherwise. */
export function classLabel(name) {
  const s = String(name);
  return /^[-+−]?\d/.test(s) ? `class ${s}` : s;
}
