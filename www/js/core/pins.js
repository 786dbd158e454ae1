// Pinned runs: "Pin run" keeps the curves on screen as a labelled ghost in the same plots (thin,
// in a colour of its own, its settings in the legend), so that the reader can change a setting,
// train again and compare. Several pins (at most MAX_PINS); each can be removed, "Clear pins"
// removes them all. Pins live in this tab only: they are not in the link (the page says so), a
// reload drops them, and nothing else does: a new run, a reset, a preset or a setting keeps them.
// They go into the exports: a plot's picture shows its ghosts with their legend entries, its CSV
// has a column per ghost, and its JSON and the report list each pin's settings and curves.
//
// A scene makes one with createPins({shell, targets, key}) after building its plots; the shell
// finds it as shell.pins (the "p" shortcut, the help, the exports, the copied link's note).
// An embed has no pin controls.

import { defaults, formatValue } from './controls.js';
import { el, button } from './dom.js';

export const MAX_PINS = 6;

// A colour per pin, none of them a live curve's (nor the grey of reference lines); drawn a little
// transparent, thinner than the live curves, with the dash of the curve they copy.
const PIN_COLORS = ['#8c564b', '#c2185b', '#1a9fb5', '#7f8c00', '#5b5bd6', '#6e6e6e'];
const PIN_ALPHA = 0.85;
const PIN_WIDTH = 1.5;

// Short names for the settings that have one; others are named by their label.
const SHORT = {
  width: 'width', lr: 'η', lrMultiple: 'η/η₀', initScale: 's', nTrain: 'n', seed: 'seed', depth: 'depth',
  alpha: 'α', ridge: 'λ', momentum: 'β', weightDecay: 'λ_wd', concentration: 'c', purified: 'ρ', bag: 'bag',
  noise: 'noise', labelNoise: 'label noise', batchSize: 'batch', nFeatures: 'p', dim: 'd', seeds: 'seeds', steps: 'steps',
};

export const PINS_NOTE = 'Pins stay in this tab: they are not in the link, and reloading the page drops them.';

/** `#rrggbb` with alpha `a` as an rgba() colour (canvas and SVG both read it). */
function rgba(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

/** One setting in a pin's label: "η 0.5", "width 256", a choice by its option ("erf"). */
function settingText(c, v) {
  if (c.kind === 'select' || c.kind === 'radio') return formatValue(c, v);
  const name = SHORT[c.name] ?? `${c.label}${c.sub ? `_${c.sub}` : ''}`.toLowerCase();
  if (c.kind === 'checkbox') return `${name} ${v ? 'on' : 'off'}`;
  return `${name} ${formatValue(c, v)}`;
}

/**
 * The settings a pin names: the scene's `key` settings, then every other that differs from its
 * default, then the seed.
 */
export function pinSettingsText(values, controls, key = []) {
  const base = defaults(controls);
  const named = [];
  const add = (c) => {
    if (c && !named.includes(c) && values[c.name] !== undefined) named.push(c);
  };
  for (const name of key) add(controls.find((c) => c.name === name));
  for (const c of controls) if (c.name !== 'seed' && values[c.name] !== base[c.name]) add(c);
  add(controls.find((c) => c.name === 'seed'));
  return named.map((c) => settingText(c, values[c.name])).join(', ');
}

const copy = (a) => Array.from(a ?? [], (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v)));

/**
 * shell     the scene's shell (shell.js createScene)
 * targets   [{id, plot, series, capture, show}]: the plots (SeriesPlot) whose curves a pin keeps;
 *           `id` as in the shell's plot list (the exports); `series`: indices of the plot's live
 *           series to keep (default every one); `capture()`: {xs, ys: [an array per kept
 *           series]} of what is on screen, or null (default: the plot's live data);
 *           `show(data)`: the {xs, ys} to draw now from what capture() kept, for a plot whose
 *           x axis follows a page option (default: as kept)
 * key       names of the settings every label names (the scene's main knobs)
 * after     the element the pin buttons follow (default: the toolbar's transport buttons)
 * Returns {pin(), remove(n), clear(), refresh(), list, describe(plotId)}.
 */
export function createPins({ shell, targets, key = [], after = null, max = MAX_PINS }) {
  const pins = []; // {n, color, text, label, settings, data: {targetId: what capture() kept}}
  let next = 1;
  const ui = shell.embed ? null : buildUi(after ?? document.querySelector('.toolbar .transport'));

  const values = () => ({ ...(shell.api?.values ?? shell.values) });
  const seriesOf = (t) => t.series ?? t.plot.opts.series.map((_, k) => k);

  function captureOf(t) {
    if (t.capture) return t.capture();
    const [xs, ...cols] = t.plot.last;
    if (!xs?.length) return null;
    return { xs: copy(xs), ys: seriesOf(t).map((k) => copy(cols[k])) };
  }

  /** Keeps the curves on screen as a new pin; returns it, or null (nothing drawn yet, or full). */
  function pin() {
    if (pins.length >= max) {
      say(`At most ${max} pins: remove one (×) or clear them to pin another.`);
      return null;
    }
    const data = {};
    for (const t of targets) {
      const d = t.plot ? captureOf(t) : null;
      if (d && (t.show ? t.show(d) : d)?.xs?.length) data[t.id] = d;
    }
    if (!Object.keys(data).length) {
      say('Nothing to pin yet: train first.');
      return null;
    }
    const v = values();
    const used = new Set(pins.map((p) => p.color));
    const color = PIN_COLORS.find((c) => !used.has(c)) ?? PIN_COLORS[(next - 1) % PIN_COLORS.length];
    const p = { n: next++, color, settings: v, text: pinSettingsText(v, shell.controls, key), data };
    p.label = `pin ${p.n}: ${p.text}`;
    pins.push(p);
    refresh();
    say(`Pinned the current curves as pin ${p.n}.`);
    return p;
  }

  function remove(n) {
    const i = pins.findIndex((p) => p.n === n);
    if (i < 0) return;
    pins.splice(i, 1);
    if (!pins.length) next = 1;
    refresh();
    say(`Removed pin ${n}.`);
    ui?.pinButton.focus();
  }

  function clear() {
    if (!pins.length) return;
    pins.length = 0;
    next = 1;
    refresh();
    say('Cleared the pins.');
  }

  /** The ghost curves of target `t`, one per pin and kept series. */
  function ghostsOf(t) {
    const names = seriesOf(t).map((k) => t.plot.opts.series[k]);
    const out = [];
    for (const p of pins) {
      const kept = p.data[t.id];
      if (!kept) continue;
      const d = t.show ? t.show(kept) : kept;
      if (!d) continue;
      names.forEach((s, j) => {
        out.push({
          // One legend entry per pin (its first curve's); the table names every curve.
          label: p.label,
          column: names.length > 1 ? `pin ${p.n}, ${s.label}: ${p.text}` : p.label,
          legend: j === 0,
          stroke: rgba(p.color, PIN_ALPHA),
          width: PIN_WIDTH,
          dash: s.dash,
          xs: d.xs,
          ys: d.ys[j] ?? [],
        });
      });
    }
    return out;
  }

  /** Draws every pin again (after a pin changed, or a page option moved a plot's x axis). */
  function refresh() {
    for (const t of targets) t.plot?.setGhosts(ghostsOf(t));
    renderList();
  }

  /**
   * The pins as plain data for the exports: each pin's label, settings and the curves it keeps
   * (of plot `plotId` only, if given), each curve under its series' label.
   */
  function describe(plotId = null) {
    return pins.map((p) => {
      const curves = {};
      for (const t of targets) {
        const kept = p.data[t.id];
        if (!kept || (plotId && t.id !== plotId)) continue;
        const d = t.show ? t.show(kept) : kept;
        if (!d) continue;
        const c = { x: Array.from(d.xs) };
        seriesOf(t).forEach((k, j) => {
          c[t.plot.opts.series[k].label] = Array.from(d.ys[j] ?? []);
        });
        curves[t.id] = c;
      }
      return { pin: p.n, label: p.label, settings: { ...p.settings }, curves };
    }).filter((d) => !plotId || Object.keys(d.curves).length);
  }

  // -------------------------------------------------------------------------------------------
  // The pin buttons (after the transport buttons) and the list of pins (a row of the toolbar).

  function buildUi(anchor) {
    const bar = el('div', { class: 'pin-tools', role: 'group', 'aria-label': 'Pin runs to compare' });
    const pinButton = button('Pin run', {
      cls: 'btn', id: 'btn-pin', onClick: () => pin(),
      title: `Keep the curves on screen as a labelled ghost to compare the next run with (p). ${PINS_NOTE}`,
    });
    const clearButton = button('Clear pins', { id: 'btn-clear-pins', title: 'Remove every pinned run', onClick: () => clear() });
    const status = el('span', { class: 'tool-status pin-status', role: 'status', id: 'pin-status' });
    bar.append(pinButton, clearButton, status);
    const row = el('div', { class: 'pin-row', id: 'pin-row' });
    const list = el('ul', { class: 'pin-list', id: 'pin-list', 'aria-label': 'Pinned runs' });
    row.append(list, el('p', { class: 'pin-note note-muted', text: PINS_NOTE }));
    if (anchor) {
      anchor.after(bar);
      anchor.closest('.toolbar')?.append(row);
    } else {
      document.querySelector('.toolbar')?.append(bar, row);
    }
    return { bar, pinButton, clearButton, status, row, list };
  }

  function renderList() {
    document.body.dataset.pins = String(pins.length);
    if (!ui) return;
    ui.clearButton.disabled = !pins.length;
    ui.row.hidden = !pins.length;
    ui.list.replaceChildren(...pins.map((p) => {
      const swatch = el('span', { class: 'pin-swatch', 'aria-hidden': 'true' });
      swatch.style.borderTopColor = p.color;
      const cross = button('×', { cls: 'btn btn-small pin-remove', title: `Remove pin ${p.n}`, onClick: () => remove(p.n) });
      cross.setAttribute('aria-label', `Remove pin ${p.n}`);
      return el('li', { class: 'pin-item', 'data-pin': String(p.n) }, swatch, el('span', { class: 'pin-label', text: p.label }), cross);
    }));
  }

  function say(text) {
    if (!ui) return;
    ui.status.textContent = text;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { ui.status.textContent = ''; }, 5000);
  }

  const api = {
    pin, remove, clear, refresh, describe, max,
    /** The pins, oldest first (read-only use intended). */
    get list() {
      return pins;
    },
  };
  shell.pins = api;
  renderList();
  return api;
}

