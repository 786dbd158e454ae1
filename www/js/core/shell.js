// What every scene page shares around its own science: the scene nav (one link per scene of
// SCENES), the page modes (?embed, ?present), the URL (strictly parsed, with a console note for
// anything dropped or clamped; rewritten on every change), presets, keyboard shortcuts, the
// "Copy link", "Embed" and "Export" tools and their dialogs, text descriptions of the plots,
// starting workers inside sandboxed iframes, and the offline copy (offline.js). A scene that
// trains adds pinned runs (pins.js), which register as shell.pins: the shell gives them the "p"
// shortcut and puts them into the exports; they are never in the URL.
//
// A page calls createScene() first (it decides the initial values and the mode, before any plot
// is built), builds its controls and plots, then calls shell.attach() with what the tools need.
//
// URL keys besides the settings (all optional):
//   embed               minimal chrome: plots and the controls named in `controls` only
//   controls=a,b        the controls an embed keeps visible (names of the scene's table)
//   present             presenter mode: large type, high contrast
//   play=0|1            start paused or playing (default: playing, except in embed and presenter
//                       modes; never when the reader asks for reduced motion)
//   preset=id           start from a preset (explicit settings in the URL override it)
// Back and Forward to another entry of the page apply its query without a reload (followLink).

import { defaults, readQuery, toQuery, writeQuery, bindView, quote } from './controls.js';
import { setPlotScale, setPlotHeightCap, refitPlots } from '../plots/index.js';
import { SCENES } from '../scenes/index.js';
import { el, button, renderNav } from './dom.js';
import { keepOffline } from './offline.js';
import {
  specToSvg, svgToPng, svgSize, tableToCsv, tableToColumns, summarize, download, savedMessage, jsonBlob, textBlob, xmlEscape,
} from './export.js';

const MODE_KEYS = new Set(['embed', 'controls', 'present', 'play', 'preset']);
const PRESENT_PLOT_SCALE = 1.45;
const DESCRIBE_MS = 2000;

// Workers start through trusted.js (moduleWorker), the one module that makes script URLs.
export { moduleWorker } from './trusted.js';

/** The control called `name`, matched case-insensitively. */
function controlNamed(controls, name) {
  return controls.find((c) => c.name === name) ?? controls.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

function flag(params, key) {
  return params.has(key) && !/^(0|false|no)$/i.test(params.get(key));
}

/** A JSON-safe copy: typed arrays become arrays, non-finite numbers null, functions dropped. */
export function plain(x, depth = 6) {
  if (x == null) return null;
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x === 'string' || typeof x === 'boolean') return x;
  if (typeof x === 'function' || depth < 0) return undefined;
  if (ArrayBuffer.isView(x)) return Array.from(x, (v) => plain(v, 0));
  if (Array.isArray(x)) return x.map((v) => plain(v, depth - 1));
  const out = {};
  for (const [k, v] of Object.entries(x)) {
    const p = plain(v, depth - 1);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

/**
 * scene: a key of SCENES. controls: the scene's control table. view: its view-state table
 * (controls.js bindView). presets: [{id, label, values: {overrides of the defaults}, view: {…},
 * focus: the id of the figure the preset is about (presenter mode shows it first)}].
 */
export function createScene({ scene, controls, view = [], presets = [] }) {
  const meta = SCENES[scene];
  const link = readLink(location.search, { controls, view, presets });
  warnNotes(link.notes);
  const { params, notes, embed, present, visible, presetIndex, values, viewValues } = link;

  const reducedMotion = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
  const play = params.get('play');
  const autoplay = !reducedMotion && (play === '1' || (play !== '0' && !embed && !present));

  renderNav(scene);
  keepOffline();
  const root = document.documentElement;
  root.classList.toggle('mode-embed', embed);
  root.classList.toggle('mode-present', present);
  if (present) setPlotScale(PRESENT_PLOT_SCALE);
  // An embed fits its frame: the first row of plots takes the height the chrome above it leaves.
  if (embed) setPlotHeightCap(embedChartHeight);

  const shell = {
    scene,
    meta,
    embed,
    present,
    autoplay,
    reducedMotion,
    notes,
    values,
    viewValues,
    presets,
    presetIndex,
    controls,
    view,
    params, // the query the URL's mode keys are kept from (the load's, or the entry Back or Forward reached)
    modeKeys: [...MODE_KEYS],
    api: null, // set by attach()
    viewApi: null,
    opts: null,
    attach: (opts) => attach(shell, opts, visible),
    writeUrl: () => writeUrl(shell, shell.params),
    stateQuery: () => stateQuery(shell),
    link: () => sceneUrl(shell, stateQuery(shell)),
    embedUrl: (shown = visible) => embedUrl(shell, shown),
    applyPreset: (i) => applyPreset(shell, i),
  };
  return shell;
}

/**
 * What a link asks of a page, read strictly from its query `search`: at load (createScene), and
 * when Back or Forward reach another entry of the page (followLink). Returns {params, notes,
 * embed, present, visible (the controls an embed keeps, or null), presetIndex (−1: none),
 * values, viewValues}: the values are the defaults, then the preset's, then the link's own
 * (controls.js readQuery: bad values dropped, numbers clamped to the engine's range); `notes`
 * says in words what was dropped or adjusted, and names the keys the scene does not know.
 */
export function readLink(search, { controls, view = [], presets = [] }) {
  const notes = [];
  let params;
  try {
    params = new URLSearchParams(search);
  } catch {
    params = new URLSearchParams();
  }

  const embed = flag(params, 'embed');
  const present = flag(params, 'present');
  let visible = null; // the controls an embed keeps, or null: none
  if (params.has('controls')) {
    visible = new Set();
    for (const name of params.get('controls').split(',').map((s) => s.trim()).filter(Boolean)) {
      const c = controlNamed(controls, name);
      if (c) visible.add(c.name);
      else notes.push(`controls: no control named ${quote(name)}`);
    }
  }
  let presetIndex = -1;
  if (params.has('preset')) {
    presetIndex = presets.findIndex((p) => p.id === params.get('preset'));
    if (presetIndex < 0) notes.push(`preset: no preset named ${quote(params.get('preset'))}`);
  }
  const preset = presets[presetIndex];
  const values = { ...defaults(controls), ...(preset?.values ?? {}), ...readQuery(search, controls, notes) };
  const viewValues = { ...defaults(view), ...(preset?.view ?? {}), ...readQuery(search, view, notes) };
  const known = new Set([...controls, ...view].map((c) => c.name.toLowerCase()).concat([...MODE_KEYS]));
  for (const key of new Set(params.keys())) if (!known.has(key.toLowerCase())) notes.push(`${quote(key)} is not a setting of this scene`);
  return { params, notes, embed, present, visible, presetIndex, values, viewValues };
}

/** One console note listing what a link asked for that the page dropped or adjusted. */
function warnNotes(notes) {
  if (notes.length) {
    console.warn(`Descent: some URL parameters were adjusted or ignored (the page uses the defaults there):\n- ${notes.join('\n- ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// URLs.

function stateQuery(shell) {
  const values = shell.api?.values ?? shell.values;
  const viewValues = shell.viewApi?.values ?? shell.viewValues;
  return [toQuery(values, shell.controls), toQuery(viewValues, shell.view)].filter(Boolean).join('&');
}

/** The mode keys of the page's own URL, kept as they were given (sanitised). */
function modeQuery(shell, params) {
  const parts = [];
  if (shell.embed) parts.push('embed');
  if (params.has('controls')) {
    const names = params.get('controls').split(',').map((s) => controlNamed(shell.controls, s.trim())?.name).filter(Boolean);
    parts.push(`controls=${names.join(',')}`);
  }
  if (shell.present) parts.push('present');
  const play = params.get('play');
  if (play === '0' || play === '1') parts.push(`play=${play}`);
  return parts.join('&');
}

function writeUrl(shell, params) {
  syncPresetSelect(shell);
  writeQuery(() => [stateQuery(shell), modeQuery(shell, params)].filter(Boolean).join('&'));
}

function sceneUrl(shell, query) {
  const u = new URL(location.href);
  u.hash = '';
  u.search = query ? `?${query}` : '';
  return u.href;
}

function embedUrl(shell, shown) {
  const q = stateQuery(shell);
  const names = shown ? [...shown] : [];
  const mode = `embed${names.length ? `&controls=${names.join(',')}` : ''}`;
  return sceneUrl(shell, q ? `${q}&${mode}` : mode);
}

/** The site's base URL (the folder of the scene pages). */
function siteBase() {
  return new URL('./', location.href).href;
}

// ---------------------------------------------------------------------------------------------
// Attaching the tools.

/**
 * opts:
 *   api          the controls API from buildControls (values, set)
 *   apply()      called after a preset replaced the values: rebuild the run
 *   actions      {togglePlay, step, reset}: what the keyboard shortcuts do (each optional)
 *   plots()      [{id, title, plot}] of the plots on the page (plot.exportSpec())
 *   report()     the current numbers, for the report export
 *   weights      null, or () => a promise of the engine's weights file of the network now (JSON
 *                text, src/session/weights.rs), downloaded as it is
 *   importWeights  null, or (text) => continue from a weights file the reader chose (the
 *                toolbar's "Import weights…")
 *   rewind       null, or () => back to θ₀, the seed's initial weights, at step 0 (the
 *                toolbar's "Rewind to θ₀")
 *   linkNote     optional () => a sentence on what a copied link does not carry, or null
 */
function attach(shell, opts, visible) {
  shell.opts = opts;
  shell.api = opts.api;
  shell.viewApi = bindView(shell.view, shell.viewValues, () => shell.writeUrl());
  if (shell.embed) {
    hideControls(visible);
    fitEmbed();
  }
  buildTools(shell);
  installShortcuts(shell);
  startDescriptions(shell);
  if (shell.embed) listenToHost(shell);
  syncPresetSelect(shell);
  if (shell.present) focusPreset(shell.presets[shell.presetIndex]);
  addEventListener('popstate', () => followLink(shell, visible));
}

/**
 * Back or Forward reached another entry of this page (the page itself only replaces its entry;
 * another entry comes from a fragment the reader typed, or a script's pushState): the page
 * follows that entry's query as a load reads it (readLink), without reloading. Its settings,
 * view options and preset replace the page's, and a new run starts if a setting changed;
 * training stays playing or paused as it was. A query that asks for another mode (embed,
 * presenter mode, the controls an embed shows) reloads the page, whose layout is built at load.
 */
function followLink(shell, visible) {
  const link = readLink(location.search, shell);
  const sameShown = !shell.embed || [...(link.visible ?? [])].join() === [...(visible ?? [])].join();
  if (link.embed !== shell.embed || link.present !== shell.present || !sameShown) {
    location.reload();
    return;
  }
  warnNotes(link.notes);
  shell.params = link.params;
  const { api, viewApi } = shell;
  const changed = shell.controls.some((c) => api.values[c.name] !== link.values[c.name]);
  for (const c of shell.controls) api.set(c.name, link.values[c.name]);
  for (const c of shell.view) viewApi.set(c.name, link.viewValues[c.name]);
  shell.presetIndex = link.presetIndex;
  if (changed) shell.opts.apply?.();
  shell.writeUrl();
  if (shell.present) focusPreset(shell.presets[link.presetIndex]);
}

/**
 * Presenter mode: the figure a preset is about (its `focus`, an element id) goes first among the
 * plots (CSS .preset-focus) and is scrolled into view, also while the page is still laying out
 * its plots (the first seconds), so that a slide shows what the preset is for.
 */
function focusPreset(p) {
  for (const e of document.querySelectorAll('.preset-focus')) e.classList.remove('preset-focus');
  focusPreset.observer?.disconnect();
  const target = p?.focus ? document.getElementById(p.focus) : null;
  if (!target) return;
  target.classList.add('preset-focus');
  const show = () => target.scrollIntoView({ block: 'nearest', behavior: 'instant' });
  requestAnimationFrame(show);
  if (typeof ResizeObserver !== 'function') return;
  const observer = new ResizeObserver(show);
  observer.observe(document.body);
  observer.observe(target);
  focusPreset.observer = observer;
  // The reader's own scrolling wins: stop following once they scroll or after a few seconds.
  const stop = () => {
    observer.disconnect();
    removeEventListener('wheel', stop);
    removeEventListener('touchmove', stop);
  };
  addEventListener('wheel', stop, { passive: true });
  addEventListener('touchmove', stop, { passive: true });
  setTimeout(stop, 3000);
}

// ---------------------------------------------------------------------------------------------
// Embeds fit their frame (the layout is in descent.css, "embed mode"): the chosen controls, the
// transport buttons and the numbers stay compact above the plots, and the charts of the first
// row of plots take the height left below them, so that those cards end at the frame's bottom
// edge. Further plots have the same height and scroll.

const EMBED_LEGEND_GUESS = 32; // a chart's legend, before the chart exists to measure it

/** The height a chart in `container` may take in an embed. */
function embedChartHeight(container) {
  const plots = container.closest('.plots');
  const card = container.closest('.plots > *');
  if (!plots || !card) return Math.round(0.5 * innerHeight);
  const pad = parseFloat(getComputedStyle(document.querySelector('.layout') ?? document.body).paddingBottom) || 0;
  const room = innerHeight - (plots.getBoundingClientRect().top + scrollY) - pad - 2;
  // The card's other content (heading, legends, options): its height less that of its charts in
  // this chart's column (small multiples stack several); they share what is left.
  const left = container.getBoundingClientRect().left;
  const column = [...card.querySelectorAll('.plot')]
    .filter((p) => p.getClientRects().length && Math.abs(p.getBoundingClientRect().left - left) < 2);
  if (!column.includes(container)) column.push(container);
  let charts = 0;
  for (const p of column) {
    const wrap = p.querySelector('.u-wrap');
    charts += wrap ? wrap.offsetHeight : p.offsetHeight - EMBED_LEGEND_GUESS;
  }
  const around = card.getBoundingClientRect().height - charts;
  return Math.floor((room - around) / column.length);
}

/** Measures the charts again whenever the frame or the chrome around the plots changes size. */
function fitEmbed() {
  let queued = false;
  const refit = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      refitPlots();
    });
  };
  addEventListener('resize', refit);
  const ro = new ResizeObserver(refit);
  for (const e of document.querySelectorAll('.panel, .stage > :not(.plots), .plots > *')) ro.observe(e);
}

function hideControls(visible) {
  const shown = visible ?? new Set();
  for (const el of document.querySelectorAll('[data-control]')) el.hidden = !shown.has(el.dataset.control);
  for (const fs of document.querySelectorAll('.controls fieldset')) {
    fs.hidden = !fs.querySelector('[data-control]:not([hidden])');
  }
  document.documentElement.classList.toggle('embed-no-controls', shown.size === 0);
}

function buildTools(shell) {
  const host = document.getElementById('scene-tools');
  if (!host) return;
  host.replaceChildren();
  if (shell.embed) return; // an embed shows plots and the chosen controls only (n still cycles presets)
  if (shell.presets.length) {
    const select = el('select', { id: 'preset-select', 'aria-label': 'Preset' });
    select.append(el('option', { value: '', text: 'choose a preset…' }));
    shell.presets.forEach((p, i) => select.append(el('option', { value: String(i), text: p.label })));
    select.addEventListener('change', () => {
      if (select.value !== '') applyPreset(shell, Number(select.value));
    });
    host.append(el('label', { class: 'inline-field preset-field', for: 'preset-select' }, 'Preset'), select);
  }
  const status = el('span', { class: 'tool-status', role: 'status', id: 'tool-status' });
  host.append(
    button('Copy link', { title: 'Copy a link to exactly these settings and seed', onClick: () => copyLink(shell, status) }),
    button('Embed…', { title: 'An iframe or web-component snippet for a blog post or a slide', onClick: () => openEmbedDialog(shell) }),
    button('Export…', { title: 'Plots as PNG and SVG, their data as CSV and JSON, the settings, the report and the weights', onClick: () => openExportDialog(shell) }),
  );
  weightTools(shell, host);
  host.append(
    button('?', { title: 'Keyboard shortcuts (?)', cls: 'btn btn-small btn-help', onClick: () => openHelpDialog(shell) }),
    status,
  );
  host.querySelector('.btn-help').setAttribute('aria-label', 'Keyboard shortcuts and help');
}

/** "Rewind to θ₀" and "Import weights…" (a file chooser), for scenes that train a network. */
function weightTools(shell, host) {
  const { rewind, importWeights } = shell.opts;
  if (rewind) {
    host.append(button('Rewind to θ₀', {
      title: 'Back to the initial weights θ₀ the seed draws, at step 0 (the loss history starts over)',
      onClick: () => rewind(),
    }));
    host.lastChild.id = 'btn-rewind';
  }
  if (importWeights) {
    const input = el('input', { type: 'file', accept: '.json,application/json', id: 'weights-file', hidden: '' });
    input.setAttribute('aria-label', 'Weights file to import');
    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      input.value = '';
      if (!file) return;
      importWeights(await file.text());
    });
    host.append(button('Import weights…', {
      title: 'Continue from a weights file exported here (Export… → Weights): its settings, its weights and its step',
      onClick: () => input.click(),
    }), input);
    host.lastChild.previousSibling.id = 'btn-import-weights';
  }
}

function syncPresetSelect(shell) {
  const select = document.getElementById('preset-select');
  if (!select || !shell.api) return;
  const i = currentPreset(shell);
  select.value = i >= 0 ? String(i) : '';
}

/** The index of the preset the current values equal, or −1. */
function currentPreset(shell) {
  const base = defaults(shell.controls);
  const baseView = defaults(shell.view);
  const same = (a, b) => a === b || (typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)));
  return shell.presets.findIndex((p) => {
    const want = { ...base, ...p.values };
    if (!shell.controls.every((c) => c.name === 'seed' && !('seed' in p.values) ? true : same(shell.api.values[c.name], want[c.name]))) return false;
    const wantView = { ...baseView, ...(p.view ?? {}) };
    return !p.view || Object.keys(p.view).every((k) => same(shell.viewApi.values[k], wantView[k]));
  });
}

function applyPreset(shell, i) {
  const p = shell.presets[i];
  if (!p || !shell.api) return;
  const seed = shell.api.values.seed;
  const want = { ...defaults(shell.controls), ...p.values };
  if (!('seed' in p.values) && seed !== undefined) want.seed = seed; // a preset keeps the seed unless it names one
  for (const c of shell.controls) shell.api.set(c.name, want[c.name]);
  for (const [k, v] of Object.entries({ ...defaults(shell.view), ...(p.view ?? {}) })) shell.viewApi.set(k, v);
  shell.presetIndex = i;
  shell.opts.apply?.();
  shell.writeUrl();
  if (shell.present) focusPreset(p);
  announce(`Preset: ${p.label}`);
}

function nextPreset(shell) {
  if (!shell.presets.length) return;
  const i = currentPreset(shell);
  applyPreset(shell, (i + 1) % shell.presets.length);
}

/** A short message for screen readers and sighted readers alike, in the tools bar. */
function announce(text) {
  const s = document.getElementById('tool-status');
  if (!s) return;
  s.textContent = text;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => { s.textContent = ''; }, 4000);
}

// ---------------------------------------------------------------------------------------------
// Clipboard: the async API where allowed, else a selected text field and execCommand.

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = el('textarea', { class: 'sr-only', readonly: '' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

async function copyLink(shell, status) {
  const url = shell.link();
  document.body.dataset.link = url;
  const ok = await copyText(url);
  // What the link cannot carry (a run on the reader's own file: the data is not in the link).
  const notes = [shell.opts?.linkNote?.(), shell.pins?.list.length ? 'The pinned runs are not in the link.' : null].filter(Boolean);
  status.textContent = `${ok ? 'Link copied.' : `Copy this link: ${url}`}${notes.length ? ` ${notes.join(' ')}` : ''}`;
  clearTimeout(copyLink.timer);
  copyLink.timer = setTimeout(() => { status.textContent = ''; }, 5000);
}

// ---------------------------------------------------------------------------------------------
// Dialogs.

function dialog(id, title) {
  let d = document.getElementById(id);
  if (d) d.remove();
  d = el('dialog', { id, class: 'tool-dialog', 'aria-labelledby': `${id}-title` });
  const head = el('div', { class: 'dialog-head' },
    el('h2', { id: `${id}-title`, text: title }),
    button('Close', { cls: 'btn btn-small', onClick: () => d.close() }));
  d.append(head);
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  return d;
}

function openEmbedDialog(shell) {
  const d = dialog('embed-dialog', 'Embed this scene');
  const shown = new Set();
  const width = el('input', { type: 'number', id: 'embed-width', min: '240', max: '4000', value: '960' });
  const height = el('input', { type: 'number', id: 'embed-height', min: '200', max: '4000', value: '640' });
  const kind = el('select', { id: 'embed-kind' },
    el('option', { value: 'iframe', text: 'iframe (sandboxed)' }),
    el('option', { value: 'component', text: 'web component <descent-scene>' }));
  const code = el('textarea', { id: 'embed-code', readonly: '', rows: 6, spellcheck: 'false', 'aria-label': 'Embed code' });
  const status = el('span', { class: 'tool-status', role: 'status' });
  const preview = el('a', { id: 'embed-preview', target: '_blank', rel: 'noopener', text: 'Open the embed view' });

  const boxes = el('fieldset', { class: 'embed-controls' }, el('legend', { text: 'Controls shown in the embed' }));
  for (const c of shell.controls) {
    const id = `embed-show-${c.name}`;
    const box = el('input', { type: 'checkbox', id, value: c.name });
    box.addEventListener('change', () => {
      if (box.checked) shown.add(c.name);
      else shown.delete(c.name);
      update();
    });
    boxes.append(el('label', { class: 'check', for: id }, box, ` ${c.label}${c.sub ? c.sub : ''}`));
  }

  function update() {
    const w = Math.max(240, Math.min(4000, Math.round(Number(width.value) || 960)));
    const h = Math.max(200, Math.min(4000, Math.round(Number(height.value) || 640)));
    const src = shell.embedUrl(shown);
    preview.href = src;
    const title = `Descent: ${shell.meta.title}`;
    if (kind.value === 'component') {
      const attrs = [`scene="${shell.scene}"`];
      for (const [k, v] of new URLSearchParams(shell.stateQuery())) attrs.push(`${k}="${xmlEscape(v)}"`);
      if (shown.size) attrs.push(`controls="${[...shown].join(',')}"`);
      code.value = `<script type="module" src="${xmlEscape(new URL('embed/descent-scene.js', siteBase()).href)}"></script>\n`
        + `<descent-scene ${attrs.join(' ')} style="width: 100%; max-width: ${w}px; height: ${h}px"></descent-scene>`;
    } else {
      code.value = `<iframe src="${xmlEscape(src)}"\n        width="${w}" height="${h}" style="border: 0; max-width: 100%"\n`
        + `        sandbox="allow-scripts" loading="lazy" title="${xmlEscape(title)}"></iframe>`;
    }
  }
  for (const input of [width, height, kind]) input.addEventListener('input', update);
  kind.addEventListener('change', update);

  d.append(
    el('p', { class: 'dialog-note', text: 'The embed shows the plots of this scene with the current settings and seed, and only the controls you tick. It starts paused. The host page needs nothing but this snippet; the server of this site must send Access-Control-Allow-Origin (GitHub Pages does).' }),
    el('div', { class: 'dialog-row' },
      el('label', { class: 'inline-field', for: 'embed-kind' }, 'Form '), kind,
      el('label', { class: 'inline-field', for: 'embed-width' }, 'Width (px) '), width,
      el('label', { class: 'inline-field', for: 'embed-height' }, 'Height (px) '), height),
    boxes,
    code,
    el('div', { class: 'dialog-row' },
      button('Copy code', {
        cls: 'btn btn-primary btn-small',
        onClick: async () => { status.textContent = (await copyText(code.value)) ? 'Code copied.' : 'Select the code and copy it.'; },
      }),
      preview, status),
  );
  update();
  d.showModal();
}

function visiblePlots(shell) {
  return (shell.opts.plots?.() ?? []).filter(({ plot }) => plot && plot.container?.getClientRects().length > 0);
}

function openExportDialog(shell) {
  const d = dialog('export-dialog', 'Export');
  const status = el('p', { class: 'tool-status', role: 'status', id: 'export-status' });
  const base = `descent-${shell.scene}`;
  // fn resolves with download()'s count once the file was handed to the browser.
  const run = (what, fn) => async () => {
    try {
      status.textContent = savedMessage(what, await fn());
    } catch (err) {
      status.textContent = `Could not export ${what}: ${err?.message ?? err}`;
    }
  };
  const list = el('ul', { class: 'export-list' });
  for (const { id, title, plot } of visiblePlots(shell)) {
    const spec = plot.exportSpec?.();
    const row = el('li', { class: 'export-row', 'data-plot': id }, el('span', { class: 'export-title', text: title }));
    if (!spec || !spec.table?.rows.length) {
      row.append(el('span', { class: 'note-muted', text: 'no data yet' }));
      list.append(row);
      continue;
    }
    const name = `${base}-${id}`;
    const fresh = () => plot.exportSpec();
    row.append(
      button('PNG', {
        title: `${title}: picture at 2× resolution`,
        onClick: run(`${name}.png`, async () => {
          const svg = specToSvg(fresh(), title);
          const { width, height } = svgSize(svg);
          return download(`${name}.png`, await svgToPng(svg, width, height, 2));
        }),
      }),
      button('SVG', { title: `${title}: vector drawing`, onClick: run(`${name}.svg`, () => download(`${name}.svg`, textBlob(specToSvg(fresh(), title), 'image/svg+xml'))) }),
      button('CSV', { title: `${title}: the data as a table`, onClick: run(`${name}.csv`, () => download(`${name}.csv`, textBlob(tableToCsv(fresh().table), 'text/csv'))) }),
      button('JSON', {
        title: `${title}: the data as JSON`,
        onClick: run(`${name}.json`, () => {
          const s = fresh();
          const pins = shell.pins?.describe(id) ?? [];
          return download(`${name}.json`, jsonBlob({
            scene: shell.scene, plot: id, title, x: s.x.label, y: s.y.label, settings: settings(shell), data: tableToColumns(s.table),
            ...(pins.length ? { pins } : {}),
          }));
        }),
      }),
    );
    for (const b of row.querySelectorAll('button')) b.setAttribute('aria-label', `${title}: ${b.textContent}`);
    list.append(row);
  }
  const weights = shell.opts.weights;
  const whole = el('div', { class: 'dialog-row' },
    button('Settings (JSON)', { onClick: run(`${base}-settings.json`, () => download(`${base}-settings.json`, jsonBlob(settings(shell)))) }),
    button('Report (JSON)', { onClick: run(`${base}-report.json`, () => download(`${base}-report.json`, jsonBlob(report(shell)))) }),
    button('Weights (JSON)', {
      title: weights ? 'The trained weights' : 'This scene’s engine does not expose its weights',
      onClick: weights ? run(`${base}-weights.json`, async () => download(`${base}-weights.json`, textBlob(await weights(), 'application/json'))) : null,
    }));
  if (!weights) whole.lastChild.disabled = true;
  d.append(
    el('h3', { text: 'Plots' }), list,
    ...(shell.pins?.list.length ? [el('p', {
      class: 'dialog-note',
      text: 'The pinned runs are in the plots they were pinned from: drawn in the PNG and SVG, a column each in the CSV, and with their settings in the JSON and the report.',
    })] : []),
    el('h3', { text: 'Settings and numbers' }), whole,
    el('p', {
      class: 'dialog-note',
      text: weights ? 'The weights are those of the network now, with its settings, seed and step: “Import weights…” continues training from them.'
        : 'The engine of this scene does not expose the trained weights, so there is no weights export: the report holds the settings, the seed and the current numbers, and the link reproduces the run.',
    }),
    status,
  );
  d.showModal();
}

function settings(shell) {
  return {
    scene: shell.scene,
    settings: plain({ ...shell.api.values }),
    view: plain({ ...shell.viewApi.values }),
    link: shell.link(),
  };
}

function report(shell) {
  const pins = shell.pins?.describe() ?? [];
  return {
    ...settings(shell), exportedAt: new Date().toISOString(), report: plain(shell.opts.report?.() ?? null),
    ...(pins.length ? { pins: plain(pins) } : {}),
  };
}

const SHORTCUTS = [
  ['Space', 'play or pause', 'togglePlay'],
  ['s or →', 'one step (pauses first)', 'step'],
  ['r', 'reset: back to step 0 from the same seed, still playing or paused as before', 'reset'],
  ['n', 'next preset', 'presets'],
  ['p', 'pin run: keep the curves on screen as a labelled ghost to compare the next run with', 'pins'],
  ['?', 'this help', null],
];

function openHelpDialog(shell) {
  const d = dialog('help-dialog', 'Keyboard shortcuts');
  const dl = el('dl', { class: 'shortcuts' });
  for (const [key, what, needs] of SHORTCUTS) {
    if (needs === 'presets' ? !shell.presets.length : needs === 'pins' ? !shell.pins : needs && !shell.opts.actions?.[needs]) continue;
    dl.append(el('dt', {}, el('kbd', { text: key })), el('dd', { text: what }));
  }
  d.append(dl,
    el('p', { class: 'dialog-note', text: 'Shortcuts work when the focus is not in a form field. Tab moves through every control; arrow keys move a focused slider.' }),
    el('p', { class: 'dialog-note', text: 'Add ?present to the address for presenter mode (large type, high contrast, starts paused), or ?embed for the minimal view used by embeds.' }));
  d.showModal();
}

// ---------------------------------------------------------------------------------------------
// Keyboard shortcuts.

function installShortcuts(shell) {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (document.querySelector('dialog[open]')) return;
    const t = e.target;
    const field = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || t?.isContentEditable;
    if (field) return;
    const a = shell.opts.actions ?? {};
    let act = null;
    if (e.key === ' ' && !(t instanceof HTMLButtonElement) && !(t instanceof HTMLAnchorElement)) act = a.togglePlay;
    else if (e.key === 's' || e.key === 'ArrowRight') act = a.step;
    else if (e.key === 'r') act = a.reset;
    else if (e.key === 'n' && shell.presets.length) act = () => nextPreset(shell);
    else if (e.key === 'p' && shell.pins && !shell.embed) act = () => shell.pins.pin();
    else if (e.key === '?' && !shell.embed) act = () => openHelpDialog(shell);
    if (!act) return;
    e.preventDefault();
    act();
  });
}

// ---------------------------------------------------------------------------------------------
// The host page of an embed (the guided tour, tour.html, or any page with <descent-scene>) may
// play and pause it, and hears what it shows, through postMessage. Only the window that holds the
// frame is heard (event.source must be window.parent), and only these messages, each an object
// with `descent: 1`:
//   host → embed   {type: 'play'} | {type: 'pause'}   (a scene that does not train ignores them)
//                  {type: 'snapshot'}                  its first plot as a PNG, in a 'snapshot' reply
//   embed → host   {type: 'state', scene, status, step, text}   when the status or step changes
//                  (at most every DESCRIBE_MS for the step), `text` the first plot's description
//                  {type: 'snapshot', scene, png (a Blob, or null), title}
// The picture is drawn here, in the frame, so that the host's own thread never parses the SVG.
// Play never restarts a run that finished or diverged: the reader decides that in the frame.
// The replies carry only what the frame shows anyway, to whichever page embedded it.

function listenToHost(shell) {
  if (window.parent === window) return;
  const tell = (msg) => {
    try {
      window.parent.postMessage({ descent: 1, scene: shell.scene, ...msg }, '*');
    } catch {
      // a closed or navigated host: nothing to tell
    }
  };
  const firstPlot = () => (shell.opts.plots?.() ?? []).find(({ plot }) => plot?.container?.getClientRects().length) ?? null;
  const describe = () => {
    const p = firstPlot();
    let text = '';
    try {
      text = p ? `${p.title ?? ''}: ${summarize(p.plot.exportSpec?.())}` : '';
    } catch {
      text = '';
    }
    return text;
  };
  let drawing = false;
  const snapshot = async () => {
    if (drawing) return; // one picture at a time
    drawing = true;
    const p = firstPlot();
    let png = null;
    try {
      if (p) {
        const svg = specToSvg(p.plot.exportSpec(), p.title ?? '');
        const { width, height } = svgSize(svg);
        png = await svgToPng(svg, width, height, 1.5);
      }
    } catch {
      png = null;
    }
    drawing = false;
    tell({ type: 'snapshot', png, title: p?.title ?? '' });
  };
  let told = { status: null, step: -1 };
  const state = (force = false) => {
    const b = document.body.dataset;
    const now = { status: b.status ?? '', step: Number(b.step ?? 0) };
    if (!force && now.status === told.status && now.step === told.step) return;
    told = now;
    tell({ type: 'state', ...now, text: describe() });
  };
  addEventListener('message', (e) => {
    if (e.source !== window.parent) return;
    const d = e.data;
    if (!d || typeof d !== 'object' || d.descent !== 1) return;
    const a = shell.opts.actions ?? {};
    if (d.type === 'play') a.setPlaying?.(true);
    else if (d.type === 'pause') a.setPlaying?.(false);
    else if (d.type === 'snapshot') {
      snapshot();
      return;
    } else return;
    state(true);
  });
  // A new status, and the first step taken, are told at once; further steps at most every DESCRIBE_MS.
  new MutationObserver(() => {
    const b = document.body.dataset;
    if (b.status !== told.status || (told.step <= 0 && Number(b.step) > 0)) state();
  }).observe(document.body, { attributes: true, attributeFilter: ['data-status', 'data-step'] });
  setInterval(() => {
    if (!document.hidden) state();
  }, DESCRIBE_MS);
  state(true);
}

// ---------------------------------------------------------------------------------------------
// Text alternatives: each plot is described by its latest values, refreshed every few seconds.

function startDescriptions(shell) {
  const update = () => {
    if (document.hidden) return;
    for (const { plot } of shell.opts.plots?.() ?? []) {
      const c = plot?.container;
      if (!c) continue;
      let p = c.nextElementSibling?.classList.contains('plot-now') ? c.nextElementSibling : null;
      if (!p) {
        p = el('p', { class: 'sr-only plot-now', id: `${c.id || 'plot'}-now` });
        c.after(p);
        c.setAttribute('aria-describedby', p.id);
      }
      let text;
      try {
        text = summarize(plot.exportSpec?.());
      } catch {
        text = '';
      }
      if (p.textContent !== text) p.textContent = text;
    }
  };
  setTimeout(update, 500);
  setInterval(update, DESCRIBE_MS);
}
