// The Playground's controls, plus the generic code that (1) builds their DOM, (2) reads and
// writes their values, and (3) mirrors them in the URL. Every control is a setting of the
// engine's table for its scene (settings.js); other scenes pass their own controls (often
// entries derived from the Playground's with `derive`) as the optional last argument of
// defaults / readQuery / toQuery / writeUrl / buildControls.
//
// Every entry's `name` is both the engine config field and the URL query key, so a link such as
// `?width=1024&lr=0.05&seed=7` reproduces a run. Kinds:
//   log-slider  a range input whose positions are spaced evenly in log(value); `integer` rounds;
//               `zero: true` adds 0 as the first position, below `min`
//   int-slider  a range input over consecutive integers
//   slider      a range input over [min, max] in steps of `step`
//   select      a <select>; `options` are [value, label] pairs; `numeric` converts values to numbers
//   checkbox    a boolean
//   number      an integer text field (the seed), with an optional side button
// `live: true` marks controls the running network can absorb without being rebuilt (step size).
// `linkMin`/`linkMax` (numeric kinds) are the engine's accepted range: a link or the URL may ask
// for anything in it, beyond the slider's `min`/`max` (the span useful to drag through), and the
// value is taken as given (the engine refuses it if the combination is too large).

import { controlsFrom } from './settings.js';

export const GROUPS = [
  { id: 'knobs', title: 'The three NTK assumptions' },
  { id: 'model', title: 'Network' },
  { id: 'training', title: 'Training' },
  { id: 'data', title: 'Data' },
];

// The Playground's controls: how each of the engine's settings is shown (settings.js completes
// each entry from the engine's table: label, help, default, range).
const PLAYGROUND = [
  { name: 'width', group: 'knobs', positions: 96 },
  { name: 'lr', group: 'knobs', positions: 120, live: true },
  { name: 'initScale', group: 'knobs', positions: 80 },
  { name: 'depth', group: 'model' },
  { name: 'parametrization', group: 'model' },
  { name: 'activation', group: 'model' },
  { name: 'sigmaW', group: 'model', step: 0.05 },
  { name: 'sigmaB', group: 'model', step: 0.05 },
  { name: 'centerOutput', group: 'model' },
  {
    name: 'batchSize', group: 'training', kind: 'select', numeric: true,
    options: [['0', 'full batch'], ['256', '256'], ['128', '128'], ['64', '64'], ['32', '32'],
      ['16', '16'], ['8', '8'], ['4', '4'], ['1', '1']],
  },
  { name: 'backend', group: 'training' },
  { name: 'loss', group: 'training' },
  { name: 'momentum', group: 'training', step: 0.01 },
  { name: 'weightDecay', group: 'training', positions: 60 },
  { name: 'dataset', group: 'data' },
  { name: 'classes', group: 'data', enabledWhen: (v) => v.dataset === 'blobs' || v.dataset === 'arms' },
  { name: 'nTrain', group: 'data', positions: 72 },
  { name: 'noise', group: 'data', step: 0.01 },
  { name: 'labelNoise', group: 'data', step: 0.01, enabledWhen: (v) => v.dataset !== 'sine' && v.dataset !== 'table' },
  { name: 'testShare', group: 'data', step: 0.05, enabledWhen: (v) => v.dataset === 'table' },
  { name: 'standardize', group: 'data', enabledWhen: (v) => v.dataset === 'table' },
  {
    name: 'seed', group: 'data', kind: 'number', alwaysInUrl: true,
    button: { label: 'New seed', title: 'Draw a new random seed', next: randomSeed },
  },
];

export const CONTROLS = controlsFrom('playground', PLAYGROUND);

/**
 * How the Playground shows setting `name`, with `overrides` (another scene's entry for the same
 * setting; the label, help, default and range come from that scene's own table).
 */
export function derive(name, overrides = {}) {
  const base = PLAYGROUND.find((c) => c.name === name);
  if (!base) throw new Error(`no control named ${name}`);
  return { ...base, ...overrides };
}

function randomSeed() {
  const a = new Uint32Array(1);
  crypto.getRandomValues(a);
  return a[0] % 1000000;
}

// ---------------------------------------------------------------------------------------------
// Values: defaults, clamping, strict parsing, formatting.

export function defaults(controls = CONTROLS) {
  const v = {};
  for (const c of controls) v[c.name] = c.default;
  return v;
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Strictly parses `text` for control `c`; returns the (clamped) value or undefined. */
export function parseValue(c, text) {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  switch (c.kind) {
    case 'checkbox':
      if (s === '1' || s === 'true') return true;
      if (s === '0' || s === 'false') return false;
      return undefined;
    case 'select':
    case 'radio': {
      const hit = c.options.find(([value]) => value === s);
      if (!hit) return undefined;
      return c.numeric ? Number(hit[0]) : hit[0];
    }
    default: {
      if (!NUMBER_RE.test(s)) return undefined;
      const x = Number(s);
      if (!Number.isFinite(x)) return undefined;
      return clampValue(c, x);
    }
  }
}

export function clampValue(c, x) {
  if (c.zero && x <= 0) return 0;
  let v = Math.min(c.linkMax ?? c.max, Math.max(c.linkMin ?? c.min, x));
  if (c.integer || c.kind === 'int-slider') v = Math.round(v);
  return v;
}

/**
 * Reads initial values from a query string. Bad values are dropped and out-of-range numbers
 * clamped; each such case is described in `notes` (an array, if given) so the page can say so.
 */
export function readQuery(search, controls = CONTROLS, notes = null) {
  const out = {};
  let params;
  try {
    params = new URLSearchParams(search);
  } catch {
    return out;
  }
  // Names match case-insensitively (HTML attributes of the web component arrive lower-cased).
  const byLower = new Map();
  for (const [k, v] of params) if (!byLower.has(k.toLowerCase())) byLower.set(k.toLowerCase(), v);
  for (const c of controls) {
    const text = params.has(c.name) ? params.get(c.name) : byLower.get(c.name.toLowerCase());
    if (text === undefined) continue;
    const v = parseValue(c, text);
    if (v === undefined) notes?.push(`${c.name}: ignored ${quote(text)} (not a valid value)`);
    else {
      out[c.name] = v;
      const exact = c.kind === 'select' || c.kind === 'radio' || c.kind === 'checkbox' ? true : Number(text) === v;
      if (!exact) notes?.push(`${c.name}: ${quote(text)} is out of range, using ${v}`);
    }
  }
  return out;
}

/** A short, printable rendering of untrusted text for console notes. */
export function quote(text) {
  const s = String(text ?? '');
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/**
 * A value as the URL carries it. A number is written exactly (String gives the shortest text that
 * reads back as the same number), so that the page's URL and a copied link run what the page
 * runs: six significant digits turned a link's seed 1234567 into 1234570, another run.
 */
function serialise(c, v) {
  if (c.kind === 'checkbox') return v ? '1' : '0';
  return String(v);
}

/** The query string for `values`: non-default values, plus those marked alwaysInUrl. */
export function toQuery(values, controls = CONTROLS) {
  const params = new URLSearchParams();
  for (const c of controls) {
    const v = values[c.name];
    if (v === undefined || (v === c.default && !c.alwaysInUrl)) continue;
    params.set(c.name, serialise(c, v));
  }
  return params.toString();
}

let urlTimer = 0;
let urlWrittenAt = -Infinity;
const URL_INTERVAL_MS = 150;
/**
 * Mirrors a query string in the address bar (replaceState only, never navigation): at once, or,
 * while a slider drags, at most every URL_INTERVAL_MS (the last state always lands).
 * `query` is a string, or a function called when it is written.
 */
export function writeQuery(query) {
  clearTimeout(urlTimer);
  const write = () => {
    urlWrittenAt = performance.now();
    try {
      const q = typeof query === 'function' ? query() : query;
      const url = `${location.pathname}${q ? '?' + q : ''}${location.hash}`;
      history.replaceState(history.state, '', url);
    } catch {
      // Some sandboxed frames forbid history changes; the page works without them.
    }
  };
  const wait = urlWrittenAt + URL_INTERVAL_MS - performance.now();
  if (wait <= 0) write();
  else urlTimer = setTimeout(write, wait);
}

/** writeQuery for `values` of `controls` plus `extra` {key: value} pairs. */
export function writeUrl(values, extra = {}, controls = CONTROLS) {
  writeQuery(() => {
    let q = toQuery(values, controls);
    for (const [k, v] of Object.entries(extra)) q += (q ? '&' : '') + `${encodeURIComponent(k)}=${encodeURIComponent(v)}`;
    return q;
  });
}

/** Human formatting: "1,024", "0.05", "3.2e-3", "12". */
export function formatValue(c, v) {
  if (c.kind === 'checkbox') return v ? 'on' : 'off';
  if (c.kind === 'select') {
    const hit = c.options.find(([value]) => value === String(v));
    return hit ? hit[1] : String(v);
  }
  if (c.integer || c.kind === 'int-slider') return formatInt(v);
  return formatNumber(v);
}

export function formatInt(v) {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—';
}

/**
 * An engine message with the settings it names in backquotes (`depth`, the URL keys) given
 * with their labels on this page as well: "Hidden layers (`depth`)". Names the page has no
 * control for stay as they are.
 */
export function labelSettings(text, controls = CONTROLS) {
  return String(text ?? '').replace(/`([A-Za-z]+)`/g, (whole, name) => {
    const c = controls.find((k) => k.name === name);
    return c ? `${c.label}${c.sub ?? ''} (${whole})` : whole;
  });
}

/** A measured number (a loss, a bound): three significant digits, '—' when not finite. */
export function formatMeasure(v, digits = 3) {
  return formatNumber(v, digits);
}

/** A fraction as a percentage with one decimal ("80.5 %"), '—' when not finite. */
export function formatPercent(v) {
  return Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '—';
}

export function formatNumber(v, digits = 2) {
  if (!Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 0.01 && a < 10000) {
    const s = Number(v.toPrecision(Math.max(digits, a >= 100 ? 3 : digits)));
    return a >= 1000 ? s.toLocaleString('en-US') : String(s);
  }
  const [m, e] = v.toExponential(digits - 1).split('e');
  return `${m}e${Number(e)}`;
}

// ---------------------------------------------------------------------------------------------
// Slider positions.

// A log slider with `zero` has positions 0 (the value 0) and 1..positions (min..max, log-spaced).
function positionOf(c, v) {
  if (c.kind === 'log-slider') {
    if (c.zero && v <= 0) return 0;
    const t = Math.log(v / c.min) / Math.log(c.max / c.min);
    const off = c.zero ? 1 : 0;
    return off + Math.round(Math.min(1, Math.max(0, t)) * (c.positions - off));
  }
  return v;
}

function valueAt(c, p) {
  if (c.kind === 'log-slider') {
    if (c.zero && p <= 0) return 0;
    const off = c.zero ? 1 : 0;
    const x = c.min * Math.pow(c.max / c.min, (p - off) / (c.positions - off));
    if (c.integer) return clampValue(c, Math.round(x));
    return clampValue(c, Number(x.toPrecision(2)));
  }
  if (c.kind === 'slider') return clampValue(c, Number((Math.round(p / c.step) * c.step).toFixed(6)));
  return clampValue(c, p);
}

// ---------------------------------------------------------------------------------------------
// DOM.

/**
 * Builds every control into `root` (one fieldset per group) and returns a small API.
 * `onChange(name, value, {final})` fires on every edit; `final` is false while a slider drags.
 * `table` = {controls, groups} of another scene; the Playground's by default.
 */
export function buildControls(root, initial, onChange, { controls = CONTROLS, groups = GROUPS } = {}) {
  const values = { ...initial };
  const els = new Map();

  for (const g of groups) {
    const fs = document.createElement('fieldset');
    fs.className = `group group-${g.id}`;
    const lg = document.createElement('legend');
    lg.textContent = g.title;
    fs.append(lg);
    for (const c of controls.filter((x) => x.group === g.id)) fs.append(buildOne(c));
    root.append(fs);
  }

  function buildOne(c) {
    const id = `ctl-${c.name}`;
    const wrap = document.createElement('div');
    wrap.className = `control control-${c.kind}`;
    wrap.dataset.control = c.name;

    const head = document.createElement('div');
    head.className = 'control-head';
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = c.label;
    if (c.sub) {
      const sub = document.createElement('sub');
      sub.textContent = c.sub;
      label.append(sub);
    }
    head.append(label);

    let input;
    let output = null;
    if (c.kind === 'select') {
      input = document.createElement('select');
      for (const [value, text] of c.options) {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        input.append(o);
      }
    } else {
      input = document.createElement('input');
      if (c.kind === 'checkbox') input.type = 'checkbox';
      else if (c.kind === 'number') {
        input.type = 'number';
        input.min = String(c.min);
        input.max = String(c.max);
        input.step = '1';
        input.inputMode = 'numeric';
      } else {
        input.type = 'range';
        if (c.kind === 'log-slider') {
          input.min = '0';
          input.max = String(c.positions);
          input.step = '1';
        } else {
          input.min = String(c.min);
          input.max = String(c.max);
          input.step = c.kind === 'int-slider' ? '1' : String(c.step);
        }
        output = document.createElement('output');
        output.htmlFor = id;
        output.className = 'control-value';
        head.append(output);
      }
    }
    input.id = id;
    input.name = c.name;

    const help = document.createElement('p');
    help.className = 'help';
    help.id = `${id}-help`;
    help.textContent = c.help;
    input.setAttribute('aria-describedby', help.id);

    if (c.kind === 'checkbox') {
      // Checkbox first, label after, on one line.
      head.prepend(input);
      wrap.append(head, help);
    } else if (c.button) {
      const row = document.createElement('div');
      row.className = 'control-row';
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn btn-small';
      b.textContent = c.button.label;
      b.title = c.button.title;
      b.addEventListener('click', () => commit(c, c.button.next(values[c.name]), true));
      row.append(input, b);
      wrap.append(head, row, help);
    } else {
      wrap.append(head, input, help);
    }

    const onEdit = (final) => {
      let v;
      if (c.kind === 'checkbox') v = input.checked;
      else if (c.kind === 'select') v = c.numeric ? Number(input.value) : input.value;
      else if (c.kind === 'number') {
        v = parseValue(c, input.value);
        if (v === undefined) {
          if (final) show(c); // revert text that is not a number
          return;
        }
      } else v = valueAt(c, Number(input.value));
      commit(c, v, final);
    };
    if (input.type === 'range') {
      input.addEventListener('input', () => onEdit(false));
      input.addEventListener('change', () => onEdit(true));
    } else {
      input.addEventListener('change', () => onEdit(true));
    }
    els.set(c.name, { c, wrap, input, output });
    return wrap;
  }

  function show(c) {
    const { input, output } = els.get(c.name);
    const v = values[c.name];
    if (c.kind === 'checkbox') input.checked = !!v;
    else if (c.kind === 'select' || c.kind === 'number') input.value = String(v);
    else input.value = String(positionOf(c, v));
    if (output) {
      const text = formatValue(c, v);
      output.textContent = text;
      input.setAttribute('aria-valuetext', text);
    }
  }

  function refreshEnabled() {
    for (const { c, wrap, input } of els.values()) {
      const on = c.enabledWhen ? c.enabledWhen(values) : true;
      input.disabled = !on;
      wrap.classList.toggle('disabled', !on);
    }
  }

  function commit(c, v, final) {
    const changed = values[c.name] !== v;
    values[c.name] = v;
    show(c);
    refreshEnabled();
    if (changed || final) onChange(c.name, v, { final, changed, live: !!c.live });
  }

  for (const { c } of els.values()) show(c);
  refreshEnabled();

  return {
    values,
    /** Sets a value programmatically (clamped), updating the DOM, without firing onChange. */
    set(name, v) {
      const e = els.get(name);
      if (!e) return;
      values[name] = typeof v === 'number' && e.c.kind !== 'select' ? clampValue(e.c, v) : v;
      show(e.c);
      refreshEnabled();
    },
    input(name) {
      return els.get(name)?.input;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// View state: options of a page that are not engine settings (an x axis, a log toggle), kept in
// the URL like the controls. Same entry format (kinds select, checkbox, radio), plus `el`: the id
// of the page's own <select> or checkbox, or for 'radio' the name of the radio group. The page
// keeps its own 'change' listeners on those elements; bindView sets them from `initial` and
// fires 'change' where a value differs from the element's state, then reports every edit.

export function bindView(view, initial, onChange) {
  const values = { ...initial };
  const setters = new Map();
  for (const c of view) {
    const els = c.kind === 'radio'
      ? [...document.querySelectorAll(`input[type="radio"][name="${c.el}"]`)]
      : [document.getElementById(c.el)].filter(Boolean);
    if (!els.length) continue;
    const read = () => {
      if (c.kind === 'checkbox') return els[0].checked;
      if (c.kind === 'radio') return els.find((e) => e.checked)?.value ?? c.default;
      return c.numeric ? Number(els[0].value) : els[0].value;
    };
    const write = (v) => {
      if (c.kind === 'checkbox') els[0].checked = !!v;
      else if (c.kind === 'radio') for (const e of els) e.checked = e.value === String(v);
      else els[0].value = String(v);
    };
    const target = () => (c.kind === 'radio' ? els.find((e) => e.checked) : els[0]);
    const set = (v) => {
      if (read() === v) return;
      write(v);
      target()?.dispatchEvent(new Event('change', { bubbles: true }));
    };
    setters.set(c.name, set);
    for (const e of els) {
      e.addEventListener('change', () => {
        values[c.name] = read();
        onChange(c.name, values[c.name]);
      });
    }
    if (values[c.name] === undefined) values[c.name] = read();
    else set(values[c.name]);
  }
  return {
    values,
    set(name, v) {
      setters.get(name)?.(v);
    },
  };
}
