// The weak-labels page: learning a classifier from label proportions. A network trains live from
// the proportions of its bags (DLLP's bag loss or EasyLLP's debiased labels; scenes/weak-labels/
// worker.js, the run client's lifecycle), scored on single instances; the bags themselves are
// drawn as stacked bars with the spectrum of their proportion matrix; and the bag-size sweep
// trains every learner at every bag size over several seeds in a pool of workers (core/task-pool.js
// ↔ pool-worker.js), filled in as the networks finish, with the mean map's curve (no network)
// drawn at once. The bags may come from the reader's own CSV or TSV file (data 'table', "your own
// data"): the own-data panel (core/own-data.js, the Playground's) reads it in the browser, the live
// worker parses and holds it (READ_TABLE), and every sweep job carries it to its pool worker. This
// file keeps state and draws at most once per frame.

import { MSG, ERROR_DURING, plainMessage } from '../../core/protocol.js';
import {
  derive, buildControls, formatInt, formatNumber, formatPercent, labelSettings, formatMeasure,
} from '../../core/controls.js';
import { controlsFrom } from '../../core/settings.js';
import { createScene } from '../../core/shell.js';
import { createRunClient } from '../../core/run-client.js';
import { createPool } from '../../core/task-pool.js';
import {
  SeriesPlot, ConfusionPlot, BoundaryPlot, BagsPlot, COLORS, classCss, classLabel, stepLabel,
} from '../../plots/index.js';
import { MAX_BARS } from '../../plots/bags.js';
import { ownDataPanel } from '../../core/own-data.js';
import { createPins } from '../../core/pins.js';

// The learners, each with one colour and one dash wherever it appears.
const LEARNERS = {
  dllp: { label: 'DLLP (bag loss)', stroke: '#0072B2', width: 2.5 },
  easyllp: { label: 'EasyLLP (debiased labels)', stroke: '#D55E00', width: 2.25, dash: [8, 4] },
  meanMap: { label: 'mean map (no network)', stroke: '#009E73', width: 2, dash: [2, 4] },
};
const LEARNER_NAMES = { dllp: 'DLLP', easyllp: 'EasyLLP' };

// ---------------------------------------------------------------------------------------------
// Controls, from the engine's table for the scene (labels, help, defaults, ranges). The first
// group holds the headline controls (the registry's `headline`): how the bags are made.

const GROUPS = [
  { id: 'bags', title: 'The bags' },
  { id: 'data', title: 'Data' },
  { id: 'model', title: 'Network' },
  { id: 'training', title: 'Learning' },
];

const CONTROLS = controlsFrom('weak-labels', [
  { name: 'bag', group: 'bags', positions: 45 },
  { name: 'concentration', group: 'bags', positions: 70 },
  { name: 'purified', group: 'bags', step: 0.01 },
  { name: 'alike', group: 'bags' },
  { name: 'data', group: 'data' },
  { name: 'testShare', group: 'data', step: 0.05 },
  { name: 'standardize', group: 'data' },
  { name: 'instances', group: 'data', positions: 40 },
  { name: 'noise', group: 'data', step: 0.01 },
  derive('seed', { group: 'data' }),
  derive('width', { group: 'model', positions: 64 }),
  derive('lr', { group: 'model', positions: 90 }),
  derive('initScale', { group: 'model', positions: 60 }),
  derive('activation', { group: 'model' }),
  { name: 'learner', group: 'training' },
  { name: 'steps', group: 'training', positions: 40 },
  { name: 'seeds', group: 'training' },
]);

// Settings only the sweep reads: changing them starts no new live run.
const SWEEP_ONLY = new Set(['steps', 'seeds']);
// Settings the mean map's curve reads (it has no network, and covers every bag size).
const CURVE_KEYS = ['data', 'instances', 'concentration', 'alike', 'purified', 'noise', 'seed', 'seeds', 'testShare', 'standardize'];

const LIVE = {
  lr: { during: ERROR_DURING.SET_LR, failed: 'The step size was not changed' },
};

// Presets: named bundles of overrides of the defaults (the seed is kept). "Large" is a
// concentration at which every bag's proportions sit close to the prior. "All bags alike" gives
// every bag the prior's counts exactly: the proportions then say nothing about any instance (the
// networks stay at chance), and the proportion matrix has rank one, so the mean map refuses.
const C_LARGE = 100;
const PRESETS = [
  { id: 'labels', label: 'Bags of one = labels', values: { bag: 1 }, focus: 'fig-live' },
  { id: 'large-random', label: 'Large random bags', values: { bag: 128, concentration: C_LARGE }, focus: 'fig-sweep' },
  { id: 'purified', label: 'A few purified specimens', values: { bag: 64, concentration: C_LARGE, purified: 0.1 }, focus: 'fig-bags' },
  { id: 'alike', label: 'All bags alike: nothing to learn', values: { bag: 16, alike: true, purified: 0 }, focus: 'fig-live' },
];

const $ = (id) => document.getElementById(id);

const state = {
  // status, playing, runId, report, info, message, setup: kept by the run client (run-client.js).
  values: null,
  // excess: the bag loss above its floor (the proportions' mean entropy), a mean KL divergence.
  history: { step: [], bagLoss: [], excess: [], trainAccuracy: [], testAccuracy: [] },
  confusion: null,
  grid: null,
  curve: { requestId: 0, key: null, bags: null, points: null, ms: null, error: null },
  sweep: {
    status: 'idle', key: null, config: null, bags: [], seeds: [], cells: null, references: null,
    done: 0, total: 0, startedAt: 0, ms: null, firstMs: null, pendingStart: false,
  },
};

let client = null;
let controls = null;
let dataPanel = null;
// The reader's own data: the reading the workers hold ({id, name, text, options}: each new
// reading, or new read options, gets a new id) and the one asked for.
const ownData = { table: null, pending: null, nextId: 1 };
let shell = null;
const plots = {};
const pool = createPool({ workerUrl: new URL('./pool-worker.js', import.meta.url), name: 'sweep' });

// ---------------------------------------------------------------------------------------------
// Settings.

function config(values = state.values) {
  return { ...values };
}

function keyOf(values, keys) {
  // A run on the reader's table also depends on which reading of it the workers hold.
  const table = values.data === 'table' ? (ownData.table?.id ?? null) : null;
  return JSON.stringify([...keys.map((k) => values[k]), table]);
}

/** The controls' change callback: a change that changes nothing is no new run. */
function onControlChange(name, value, opts) {
  if (!opts.changed) return;
  if (name === 'data') showOwnData();
  if (SWEEP_ONLY.has(name)) {
    state.values = controls.values;
    shell.writeUrl();
  } else {
    client.onControlChange(name, value, opts);
  }
  requestCurve();
  renderSweep();
}

// ---------------------------------------------------------------------------------------------
// The live run.

function onReady(info) {
  $('stat-backend').textContent = `CPU (wasm${info.build?.simd ? ' SIMD' : ''})`;
  $('build-info').textContent = `Descent ${info.build?.version ?? ''}.`;
}

function onConfigured(msg) {
  const h = state.history;
  for (const k of Object.keys(h)) h[k] = [];
  const s = msg.setup ?? {};
  state.setup = s;
  state.grid = null;
  const p = s.proportions;
  if (p) plots.bags.setBags(p.reported, p.bags, p.classes, p.purified, p.names);
  else plots.bags.setBags(null);
  renderBagsText();
  const cells = !!s.gridSpec;
  $('plot-boundary').hidden = !cells;
  document.body.classList.toggle('weak-cells', cells);
  if (cells) {
    const pts = s.points ?? {};
    plots.boundary.setSetup({
      gridSpec: s.gridSpec, outputs: s.classes, classNames: s.names, loss: 'squared', projected: false,
      trainX: pts.trainX ?? null, trainY: pts.trainY ?? null, testX: pts.testX ?? null, testY: pts.testY ?? null,
    });
  }
  renderLegend();
}

function onReport(msg) {
  const r = msg.report;
  state.report = r;
  if (msg.confusion) state.confusion = msg.confusion;
  if (msg.grid) state.grid = msg.grid;
  const h = state.history;
  if (!h.step.length || r.step > h.step.at(-1)) {
    h.step.push(r.step);
    h.bagLoss.push(r.bagLoss ?? NaN);
    h.excess.push(r.bagLoss != null && r.bagLossFloor != null ? r.bagLoss - r.bagLossFloor : NaN);
    h.trainAccuracy.push(r.trainAccuracy ?? NaN);
    h.testAccuracy.push(r.testAccuracy ?? NaN);
    if (h.step.length > 4000) thin(h);
  }
  client.queueFrame();
}

/** Halves the older half of a long history (every other point), keeping the newer half as it is. */
function thin(h) {
  const half = Math.floor(h.step.length / 2);
  for (const k of Object.keys(h)) h[k] = h[k].slice(0, half).filter((_, i) => i % 2 === 0).concat(h[k].slice(half));
}

function render() {
  const r = state.report;
  if (!r) return;
  document.body.dataset.step = String(r.step);
  $('stat-step').textContent = formatInt(r.step);
  $('stat-learner').textContent = LEARNER_NAMES[state.values.learner] ?? state.values.learner;
  $('m-bag').textContent = formatMeasure(r.bagLoss);
  $('m-bag-floor').textContent = Number.isFinite(r.bagLossFloor) ? `floor H(p) = ${formatMeasure(r.bagLossFloor)}` : '';
  $('m-train').textContent = formatPercent(r.trainAccuracy);
  $('m-test').textContent = formatPercent(r.testAccuracy);
  const h = state.history;
  const steps = Float64Array.from(h.step);
  plots.loss.setData(steps, Float64Array.from(h.excess));
  plots.acc.setData(steps, Float64Array.from(h.trainAccuracy), Float64Array.from(h.testAccuracy));
  const refs = referenceMeans();
  const marks = [];
  if (Number.isFinite(refs.ceiling)) marks.push({ y: refs.ceiling, label: 'all labels (sweep)', color: '#555', dash: [6, 4] });
  if (Number.isFinite(refs.floor)) marks.push({ y: refs.floor, label: 'majority class', color: '#999', dash: [2, 4] });
  plots.acc.setMarkers(marks);
  const c = state.confusion;
  if (c?.counts) plots.confusion.setMatrix(c.counts, c.classes, c.names);
  if (state.grid && state.setup?.gridSpec) plots.boundary.setPrediction(state.grid);
  renderFitNote();
}

/**
 * The sentence under the live plots when the bags are fitted but the instances are not. Fitted:
 * the bag loss lies within 0.01 of its floor (the proportions' mean entropy, the least any
 * network reaches: every bag's predicted proportions are then its reported ones). Not the
 * instances: test accuracy under a half, or more than a quarter below the supervised ceiling
 * once the sweep has measured it.
 */
const FITTED = 0.01;

function renderFitNote() {
  const r = state.report;
  const note = $('fit-note');
  const ceiling = referenceMeans().ceiling;
  const poorBelow = Number.isFinite(ceiling) ? Math.max(0.5, ceiling - 0.25) : 0.5;
  const excess = r ? r.bagLoss - r.bagLossFloor : NaN;
  const fitted = r && r.step > 0 && Number.isFinite(excess) && excess < FITTED;
  const poor = r && Number.isFinite(r.testAccuracy) && r.testAccuracy < poorBelow;
  const show = !!(fitted && poor);
  note.hidden = !show;
  document.body.dataset.fitNote = show ? 'shown' : 'hidden';
  note.textContent = show
    ? `The bags are fitted: the bag loss is within ${formatMeasure(Math.max(excess, 0), 1)} of its floor `
      + `${formatMeasure(r.bagLossFloor)} (the entropy of the proportions, the least any network can reach), yet only `
      + `${formatPercent(r.testAccuracy)} of the test instances are classified correctly. Matching each bag’s `
      + 'proportions does not say which instance is which.'
    : '';
}

function renderLegend() {
  const s = state.setup;
  const names = s?.names ?? [];
  $('bags-legend').replaceChildren(...names.map((n, c) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = classCss(c);
    li.append(sw, classLabel(n));
    return li;
  }));
}

/** The proportion matrix's singular values and condition number, and the mean map's verdict. */
function renderBagsText() {
  const s = state.setup;
  const p = s?.proportions;
  if (!p) return;
  $('stat-bags').textContent = formatInt(p.bags);
  const sv = (p.singular ?? []).filter((v) => v != null);
  const shown = sv.length > 6 ? `${sv.slice(0, 3).map((v) => formatMeasure(v)).join(', ')}, …, ${sv.slice(-2).map((v) => formatMeasure(v)).join(', ')}` : sv.map((v) => formatMeasure(v)).join(', ');
  const kappa = Number.isFinite(p.condition) ? formatMeasure(p.condition) : '∞ (singular)';
  const drawn = p.bags > MAX_BARS ? ` The first ${MAX_BARS} of ${formatInt(p.bags)} bags are drawn.` : '';
  $('bags-spectrum').textContent = `${formatInt(p.bags)} bags of ${formatInt(state.values.bag)} over ${p.classes} classes; `
    + `singular values of P: ${shown || '—'}; condition number κ = ${kappa}.${drawn}`;
  const mm = s.meanMap;
  const el = $('bags-meanmap');
  if (mm?.refused) {
    el.textContent = `The mean map refuses: ${plainMessage(mm.refused).replace(/([^.!?])$/, '$1.')}`;
    el.classList.add('refused');
    $('m-mm').textContent = 'refused';
    document.body.dataset.meanMap = 'refused';
  } else {
    el.classList.remove('refused');
    el.textContent = mm && Number.isFinite(mm.accuracy)
      ? `The mean map (class means recovered from the bag means by least squares, then the nearest mean) classifies ${formatPercent(mm.accuracy)} of the test instances.`
      : '';
    $('m-mm').textContent = formatPercent(mm?.accuracy);
    document.body.dataset.meanMap = mm ? 'fitted' : '';
  }
}

// ---------------------------------------------------------------------------------------------
// The mean map's curve (the live worker; fast) and the bag sizes of the sweep.

function requestCurve() {
  const key = keyOf(state.values, CURVE_KEYS);
  if (key === state.curve.key) return;
  const c = state.curve;
  c.key = key;
  c.requestId += 1;
  c.error = null;
  c.t0 = performance.now();
  client.post({ type: MSG.CURVE, requestId: c.requestId, config: config() });
}

function onWorkerMessage(msg) {
  if (msg.type === MSG.TABLE_READ) {
    onTableRead(msg);
    return;
  }
  if (msg.type !== MSG.CURVE_READY || msg.requestId !== state.curve.requestId) return;
  const c = state.curve;
  c.bags = msg.bags;
  c.points = msg.curve;
  c.ms = msg.ms;
  c.wallMs = performance.now() - c.t0;
  document.body.dataset.curve = 'ready';
  if (state.sweep.pendingStart) startSweep();
  renderSweep();
}

function onWorkerError(msg) {
  if (msg.during === ERROR_DURING.READ_TABLE) {
    onTableError(msg);
    return true;
  }
  if (msg.during !== ERROR_DURING.WEAK_SWEEP) return false;
  if (msg.requestId === state.curve.requestId) {
    state.curve.error = plainMessage(msg.message);
    state.sweep.pendingStart = false;
    renderSweep();
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The bag-size sweep: one job per (bag size, seed) and one reference per seed, in a pool.

function startSweep() {
  const sw = state.sweep;
  requestCurve();
  const c = state.curve;
  if (c.error) return;
  if (!c.bags || c.key !== keyOf(state.values, CURVE_KEYS)) {
    sw.pendingStart = true; // the bag sizes come with the curve
    setSweepStatus('running', 'starting…');
    return;
  }
  sw.pendingStart = false;
  sw.config = config();
  sw.key = keyOf(state.values, Object.keys(state.values).filter((k) => k !== 'learner' && k !== 'bag'));
  sw.bags = c.bags.slice();
  sw.seeds = Array.from({ length: sw.config.seeds }, (_, i) => sw.config.seed + i);
  sw.cells = sw.bags.map(() => sw.seeds.map(() => null));
  sw.references = sw.seeds.map(() => null);
  sw.done = 0;
  sw.startedAt = performance.now();
  sw.ms = null;
  sw.firstMs = null;
  // Seed by seed, so that every bag size has a point early; each seed's reference first.
  const jobs = [];
  sw.seeds.forEach((seed, i) => {
    jobs.push({ kind: 'reference', config: sw.config, seed, at: [-1, i] });
    sw.bags.forEach((bag, b) => jobs.push({ kind: 'cell', config: sw.config, bag, seed, at: [b, i] }));
  });
  // On the reader's own data each job carries the file, which its worker parses once.
  if (sw.config.data === 'table' && ownData.table) {
    const { id, text, options } = ownData.table;
    for (const job of jobs) job.table = { id, text, options };
  }
  sw.total = jobs.length;
  setSweepStatus('running', null);
  pool.run(jobs, {
    onResult: (result, index) => onSweepResult(jobs[index], result),
    onDone: () => {
      sw.ms = performance.now() - sw.startedAt;
      setSweepStatus('done', null);
      renderSweep();
    },
    onFail: (text) => {
      setSweepStatus('failed', text);
      renderSweep();
    },
    errorText: (message) => `The sweep stopped: ${labelSettings(message, CONTROLS)}`,
  });
  renderSweep();
}

function onSweepResult(job, result) {
  const sw = state.sweep;
  const [b, i] = job.at;
  if (b < 0) sw.references[i] = result;
  else {
    sw.cells[b][i] = result;
    sw.firstMs ??= performance.now() - sw.startedAt;
  }
  sw.done += 1;
  renderSweepSoon();
}

function cancelSweep() {
  const sw = state.sweep;
  if (sw.pendingStart) {
    sw.pendingStart = false;
    setSweepStatus(sw.cells ? 'cancelled' : 'idle', null);
    return;
  }
  if (!pool.cancel()) return;
  setSweepStatus('cancelled', null);
  renderSweep();
}

function setSweepStatus(s, text) {
  const sw = state.sweep;
  sw.status = s;
  sw.text = text;
  document.body.dataset.sweep = s;
  $('btn-sweep').hidden = s === 'running';
  $('btn-sweep-cancel').hidden = s !== 'running';
  $('btn-sweep').textContent = sw.cells ? 'Train the sweep again' : 'Train the sweep';
  $('sweep-progress').hidden = s === 'idle';
}

let sweepFrame = false;
function renderSweepSoon() {
  if (sweepFrame) return;
  sweepFrame = true;
  requestAnimationFrame(() => {
    sweepFrame = false;
    renderSweep();
  });
}

/** Mean and standard error of the finite values of `xs` (null where there are none). */
function meanSe(xs) {
  const v = xs.filter(Number.isFinite);
  if (!v.length) return { mean: NaN, se: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { mean, se: NaN, n: 1 };
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return { mean, se: sd / Math.sqrt(v.length), n: v.length };
}

function referenceMeans() {
  const refs = (state.sweep.references ?? []).filter(Boolean);
  return {
    ceiling: meanSe(refs.map((r) => r.ceiling ?? NaN)).mean,
    floor: meanSe(refs.map((r) => r.floor ?? NaN)).mean,
  };
}

/** The sweep's table: per bag size, each learner's mean and standard error over the seeds done. */
function sweepTable() {
  const sw = state.sweep;
  const c = state.curve;
  const bags = sw.cells ? sw.bags : (c.bags ?? []);
  const rows = bags.map((bag, b) => {
    const cells = sw.cells?.[b] ?? [];
    const of = (key) => meanSe(cells.map((x) => x?.[key] ?? NaN));
    const mm = c.points?.find((p) => p.bag === bag);
    return {
      bag,
      dllp: of('dllp'),
      easyllp: of('easyllp'),
      // The mean map's curve at the current settings (computed at once for every bag size).
      meanMap: { mean: mm?.mean ?? NaN, se: mm?.se ?? NaN, refused: mm?.refused ?? null },
    };
  });
  return rows;
}

function renderSweep() {
  const sw = state.sweep;
  const c = state.curve;
  const rows = sweepTable();
  const xs = Float64Array.from(rows.map((r) => r.bag));
  const col = (k, f) => Float64Array.from(rows.map((r) => r[k][f] ?? NaN));
  plots.sweep.setData(xs, col('dllp', 'mean'), col('easyllp', 'mean'), col('meanMap', 'mean'));
  plots.sweep.setErrors([col('dllp', 'se'), col('easyllp', 'se'), col('meanMap', 'se')]);
  const refs = referenceMeans();
  const marks = [];
  if (Number.isFinite(refs.ceiling)) marks.push({ y: refs.ceiling, label: `all labels ${formatPercent(refs.ceiling)}`, color: '#444', dash: [6, 4] });
  if (Number.isFinite(refs.floor)) marks.push({ y: refs.floor, label: `majority class ${formatPercent(refs.floor)}`, color: '#888', dash: [2, 4] });
  // The live run's bag size (named in the caption).
  if (Number.isFinite(state.values.bag)) marks.push({ x: state.values.bag, label: '', color: '#0b4f8c', dash: [3, 3] });
  plots.sweep.setMarkers(marks);

  const bar = $('sweep-bar');
  bar.max = Math.max(1, sw.total);
  bar.value = sw.done;
  let text = '';
  if (sw.status === 'running') {
    text = sw.pendingStart ? 'starting…' : `${formatInt(sw.done)} of ${formatInt(sw.total)} trained (${pool.size} workers)`;
  } else if (sw.status === 'done') {
    text = `${formatInt(sw.total)} trained in ${formatNumber(sw.ms / 1000, 3)} s (first point after ${formatNumber(sw.firstMs / 1000, 2)} s)`;
  } else if (sw.status === 'cancelled') {
    text = `cancelled after ${formatInt(sw.done)} of ${formatInt(sw.total)}; those are drawn`;
  } else if (sw.status === 'failed') {
    text = sw.text ?? 'the sweep stopped';
  }
  $('sweep-status').textContent = plainMessage(text);

  const notes = [];
  if (c.error) notes.push(`The mean map’s curve could not be computed: ${c.error}`);
  const refused = rows.filter((r) => r.meanMap.refused);
  if (refused.length) {
    const why = plainMessage(refused[0].meanMap.refused).replace(/([^.!?])$/, '$1.');
    notes.push(`The mean map refuses at bag size${refused.length > 1 ? 's' : ''} ${refused.map((r) => formatInt(r.bag)).join(', ')}: ${why}`);
  }
  if (sw.cells && sw.key !== keyOf(state.values, Object.keys(state.values).filter((k) => k !== 'learner' && k !== 'bag'))) {
    notes.push('The networks were trained at earlier settings: train the sweep again for these.');
  }
  if (sw.cells) {
    notes.push(`${sw.seeds.length} seed${sw.seeds.length === 1 ? '' : 's'} from ${sw.seeds[0]}, ${formatInt(sw.config.steps)} full-batch steps per network.`);
  }
  $('sweep-note').textContent = notes.join(' ');
  $('plot-sweep').setAttribute('aria-label', `Instance test accuracy against bag size for DLLP, EasyLLP and the mean map. ${text}`);
}

// ---------------------------------------------------------------------------------------------
// Your own data: the panel shows while the data is "your own data"; a file chosen there is read
// by the live worker (the engine's table reader, as on the Playground), and the scene trains on
// it. A file that cannot be read says why and leaves the run as it was.

function showOwnData() {
  $('own-data').hidden = controls.values.data !== 'table';
}

function readOwnData(text, name, options) {
  const id = ownData.nextId++;
  ownData.pending = { id, name, text, options };
  client.post({ type: MSG.READ_TABLE, id, name, text, options });
}

function onTableRead(msg) {
  const p = ownData.pending;
  if (!p || msg.id !== p.id) return;
  ownData.table = p;
  ownData.pending = null;
  dataPanel.showTable({ ...msg.summary, name: p.name, taskChoice: p.options?.task ?? 'auto' });
  if (controls.values.data !== 'table') controls.set('data', 'table');
  showOwnData();
  // A new run, the curve and the sweep's key on this reading.
  shell.writeUrl();
  client.apply();
  requestCurve();
  renderSweep();
}

function onTableError(msg) {
  const p = ownData.pending;
  if (!p || msg.id !== p.id) return;
  ownData.pending = null;
  // The parser's message names the line, column and value; the setting's name adds nothing here.
  const reason = String(msg.message).trim().replace(/^invalid setting `\w+`: /, '').replace(/([^.!?])$/, '$1.');
  dataPanel.showError(`${p.name ? `${p.name}: ` : ''}${reason} The run shown is kept.`);
}

/** A refused configure: a link to a run on a file it does not hold says what to do. */
function refusedText(message) {
  if (/not in the link/.test(String(message))) {
    return 'This link trains on a file of its author’s own, which is not in the link: choose that file under “Your own data” to train on it.';
  }
  return `These settings were refused: ${labelSettings(message, CONTROLS)}`;
}

function buildOwnData() {
  dataPanel = ownDataPanel($('own-data'), {
    onFile: ({ name, text }) => readOwnData(text, name, { target: null, task: 'auto' }),
    onRead: (options) => {
      if (ownData.table) readOwnData(ownData.table.text, ownData.table.name, options);
    },
    onForget: () => {
      dataPanel.clear();
      controls.set('data', CONTROLS.find((c) => c.name === 'data').default);
      showOwnData();
      shell.writeUrl();
      client.apply();
      requestCurve();
      renderSweep();
    },
    inputsNote: (t) => {
      if (t.task !== 'classification') return ' Learning from label proportions needs classes: choose a target column of classes.';
      return t.dim === 2 ? ' Its two inputs are the plane of the decision regions.' : ' Decision regions are drawn for two inputs only.';
    },
  });
  showOwnData();
}

// ---------------------------------------------------------------------------------------------

function buildPlots() {
  plots.sweep = new SeriesPlot($('plot-sweep'), {
    x: { label: 'bag size k (log scale)', name: 'bag size', log: true, logBase: 2, format: (v) => (v >= 1 ? String(Math.round(v)) : '') },
    y: { label: 'test accuracy', log: false, size: 56, range: [0, 1] },
    series: [
      { ...LEARNERS.dllp, points: true, pointSize: 6 },
      { ...LEARNERS.easyllp, points: true, pointSize: 5 },
      { ...LEARNERS.meanMap, points: true, pointSize: 4 },
    ],
    height: (w) => Math.min(380, Math.max(220, w * 0.45)),
  });
  const stepAxis = { label: 'step', name: 'step', format: stepLabel };
  plots.loss = new SeriesPlot($('plot-loss'), {
    x: stepAxis,
    y: { label: 'L − H(p)', log: true, size: 60 },
    series: [{ label: 'bag loss − its floor H(p) (training bags)', stroke: '#7B3294', width: 2 }],
    height: (w) => Math.min(200, Math.max(150, w * 0.3)),
  });
  plots.acc = new SeriesPlot($('plot-acc'), {
    x: stepAxis,
    y: { label: 'accuracy', log: false, size: 60, range: [0, 1] },
    series: [
      { label: 'train instances', stroke: COLORS.train, width: 2 },
      { label: 'test instances', stroke: COLORS.test, width: 2, dash: [7, 4] },
    ],
    height: (w) => Math.min(200, Math.max(150, w * 0.3)),
  });
  plots.bags = new BagsPlot($('plot-bags'));
  plots.confusion = new ConfusionPlot($('confusion'), { maxCell: 40 });
  plots.boundary = new BoundaryPlot($('plot-boundary'), $('boundary-readout'), { maxWidth: 420 });
}

function start() {
  shell = createScene({ scene: 'weak-labels', controls: CONTROLS, presets: PRESETS });
  const { values, autoplay } = shell;
  client = createRunClient({
    workerUrl: new URL('./worker.js', import.meta.url),
    state,
    live: LIVE,
    refusedText,
    onReady,
    onConfigured,
    onReport,
    onMessage: onWorkerMessage,
    onError: onWorkerError,
    render,
  });
  controls = buildControls($('controls'), values, onControlChange, { controls: CONTROLS, groups: GROUPS });
  client.bind({ controls, shell });
  buildOwnData();
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  buildPlots();
  // Pins keep the live run's bag loss and its test accuracy.
  createPins({
    shell,
    key: ['bag', 'learner', 'width', 'lr'],
    targets: [{ id: 'bag-loss', plot: plots.loss }, { id: 'accuracy', plot: plots.acc, series: [1] }],
  });
  $('btn-sweep').addEventListener('click', startSweep);
  // The pool's engines load while the reader reaches for the button.
  for (const ev of ['pointerenter', 'focus', 'touchstart']) $('btn-sweep').addEventListener(ev, () => pool.warm(), { once: true, passive: true });
  $('btn-sweep-cancel').addEventListener('click', cancelSweep);
  setSweepStatus('idle', null);
  shell.attach({
    api: controls,
    apply: () => {
      showOwnData();
      client.apply();
      requestCurve();
      renderSweep();
    },
    actions: client.wireButtons(),
    plots: () => [
      { id: 'sweep', title: 'Instance accuracy against bag size', plot: plots.sweep },
      { id: 'bag-loss', title: 'The live run: bag loss', plot: plots.loss },
      { id: 'accuracy', title: 'The live run: instance accuracy', plot: plots.acc },
      { id: 'bags', title: 'The bags: class proportions', plot: plots.bags },
      { id: 'confusion', title: 'Confusion matrix (test instances)', plot: plots.confusion },
      { id: 'regions', title: 'Decision regions', plot: plots.boundary },
    ],
    report: () => ({
      report: state.report,
      proportions: state.setup?.proportions ?? null,
      meanMap: state.setup?.meanMap ?? null,
      confusion: state.confusion,
      curve: state.curve.points,
      sweep: state.sweep.cells && { config: state.sweep.config, bags: state.sweep.bags, seeds: state.sweep.seeds, cells: state.sweep.cells, references: state.sweep.references, table: sweepTable() },
    }),
    // The live network's weights; no import (a new run is cheap: the bags come from the seed).
    weights: () => client.exportWeights(),
    rewind: () => client.reset(),
  });

  window.descent = client.hook({
    controls: CONTROLS,
    get report() {
      return state.report;
    },
    get sweep() {
      return state.sweep;
    },
    get curve() {
      return state.curve;
    },
    get setup() {
      return state.setup;
    },
    sweepTable,
    pool,
  });

  if (client.start({ autoplay })) {
    shell.writeUrl();
    requestCurve();
  }
  renderSweep();
}

start();
