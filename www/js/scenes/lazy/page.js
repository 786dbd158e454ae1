// The lazy-or-rich page: builds the controls, talks to the training worker (and, for width sweeps,
// a second worker), and renders their reports. The workers do all numerics (scenes/lazy/worker.js,
// protocol.js); this file keeps state and draws, at most once per animation frame.

import { MSG, TASK, ERROR_DURING, SWEEP_END, plainMessage } from '../../core/protocol.js';
import { derive, buildControls, formatInt, formatNumber, formatMeasure, formatPercent } from '../../core/controls.js';
import { controlsFrom } from '../../core/settings.js';
import { createScene } from '../../core/shell.js';
import { createRunClient, LIVE_LR, showGridNote } from '../../core/run-client.js';
import { createTask } from '../../core/task-client.js';
import { createPins } from '../../core/pins.js';
import {
  SeriesPlot, FitPlot, BoundaryPlot, MatrixPlot, EnsemblePlot, ENSEMBLE_STYLES, MODEL_STYLES, heatGradientCss, seqColor, stepLabel,
} from '../../plots/index.js';

const HISTORY_CAP = 20000; // points kept per curve; beyond it the older half is thinned by 2
const SWEEP_MIN_WIDTH = 16;
const SLOPE_MIN_WIDTH = 64; // widths that enter the fitted slopes (scenes::lazy::SLOPE_MIN_WIDTH)

const MODELS = ['network', 'linearized', 'ntk', 'krr'];
const MEASURE_COLORS = { weightChange: '#7B3294', kernelDistance: '#C77C00' };

// ---------------------------------------------------------------------------------------------
// The scene's controls: the engine's table for the scene (labels, help, defaults, ranges), shown
// as the Playground shows the settings they share, plus α and the ridge.

const GROUPS = [
  { id: 'knobs', title: 'Lazy or rich' },
  { id: 'model', title: 'Network' },
  { id: 'kernel', title: 'Kernel regression' },
  { id: 'ensemble', title: 'Many seeds' },
  { id: 'data', title: 'Data' },
];

const CONTROLS = controlsFrom('lazy', [
  derive('width'),
  { name: 'alpha', group: 'knobs', positions: 80 },
  derive('lr'),
  derive('initScale'),
  {
    name: 'ensemble', group: 'ensemble', kind: 'select', numeric: true,
    options: [['0', 'off'], ['8', '8 networks'], ['16', '16 networks'], ['32', '32 networks']],
  },
  derive('depth'),
  derive('parametrization'),
  derive('activation'),
  { name: 'ridge', group: 'kernel', positions: 71, live: true },
  derive('dataset'),
  derive('nTrain', { positions: 56 }),
  derive('noise'),
  derive('seed'),
]);

// Controls the running network absorbs without a rebuild (sent in one SET, protocol.js): what
// failed when the worker cannot apply one, and the words shown then.
const LIVE = {
  lr: LIVE_LR,
  ridge: { during: ERROR_DURING.SET_RIDGE, failed: 'The ridge was not changed' },
};

// Page options kept in the URL beside the settings (controls.js bindView).
const VIEW = [
  { name: 'loss', kind: 'radio', el: 'loss-set', options: [['test', 'test'], ['train', 'train']], default: 'test' },
  { name: 'logx', kind: 'checkbox', el: 'loss-logx', default: false },
  { name: 'lazyLogx', kind: 'checkbox', el: 'lazy-logx', default: false },
  { name: 'gramDiff', kind: 'checkbox', el: 'gram-diff', default: false },
  { name: 'sweepMax', kind: 'select', el: 'sweep-max', options: [['256', '256'], ['1024', '1024'], ['4096', '4096']], default: '4096' },
  { name: 'sweepSteps', kind: 'select', el: 'sweep-steps', options: [['100', '100'], ['300', '300'], ['1000', '1000']], default: '300' },
  { name: 'sweepSeeds', kind: 'select', el: 'sweep-seeds', options: [['1', '1'], ['3', '3'], ['5', '5'], ['10', '10']], default: '3' },
];

// Presets: named bundles of overrides of the defaults (the seed is kept).
const PRESETS = [
  { id: 'lazy', label: 'Lazy: α = 100', values: { alpha: 100 } },
  { id: 'rich', label: 'Rich: width 16, α = 0.1', values: { width: 16, alpha: 0.1 } },
  { id: 'wide', label: 'Wide: width 4096', values: { width: 4096 } },
  { id: 'boundary', label: 'Four decision boundaries', values: { dataset: 'circles', width: 64 } },
  { id: 'mean-field', label: 'Mean-field, width 512', values: { parametrization: 'meanField', width: 512, lr: 0.02 } },
  { id: 'ensemble-narrow', label: 'Ensemble: 16 seeds at width 64', values: { ensemble: 16, width: 64 } },
  { id: 'ensemble-wide', label: 'Ensemble: 16 seeds at width 4096', values: { ensemble: 16, width: 4096 } },
];
const ENSEMBLE_ON = 16; // networks the card's button asks for

const $ = (id) => document.getElementById(id);

const state = {
  // status, playing, resumeOnChange, runId, shownRunId, setup, report, firstReport, info and
  // message are kept by the run client (run-client.js).
  values: null, // control values (the config sent with the next configure)
  gram: null, // latest NTK Gram matrices and spectra
  stepsPerSec: 0,
  history: emptyHistory(),
  lossSet: 'test', // which loss the loss panel shows
  sweep: {
    id: 0,
    running: false,
    widths: [], // planned widths
    seeds: 1, // networks per width
    points: [], // one per width so far: geometric means over its seeds and their range (protocol.js)
    runs: [], // {width, seed, weightChange, kernelDistance}: every finished network
    expected: null, // the slopes theory predicts for the sweep's settings
    slopes: null,
    total: 0, // networks: widths × seeds
    done: 0, // networks finished
    workers: 1, // how many workers train it (a pool, or one)
    poolSize: null, // null: a pool where the worker can start one; 1: one worker (set through window.descent)
    end: null, // a SWEEP_END once over
    settings: '',
  },
  ensemble: null, // the latest ensemble picture (networks, band, distance), or null with it off
  ensSweep: {
    id: 0,
    running: false,
    widths: [],
    networks: 0,
    steps: 0,
    points: [], // {width, distance: {spread, mean, spreadFloor, meanFloor, networks}, diverged}
    now: null, // {width, index, total, stepsDone, steps}: the width in training
    end: null,
    error: null,
    settings: '',
  },
};

let client = null;
// The width sweep: a background task in a second scenes/lazy/worker.js, so that training goes on.
const sweepTask = createTask({
  workerUrl: new URL('./worker.js', import.meta.url),
  kind: TASK.SWEEP,
  name: 'sweep',
  onProgress: onSweepProgress,
  onDone: onSweepProgress,
  onFail: sweepFailed,
});
// The ensemble's width sweep: another background task in that second worker.
const ensSweepTask = createTask({
  workerUrl: new URL('./worker.js', import.meta.url),
  kind: TASK.ENSEMBLE_SWEEP,
  name: 'ensemble sweep',
  onProgress: onEnsSweepProgress,
  onDone: onEnsSweepProgress,
  onFail: ensSweepFailed,
});
let controls = null;
let shell = null;
const plots = {};

function emptyHistory() {
  const h = { step: [], weightChange: [], kernelDistance: [] };
  for (const m of MODELS) {
    h[`${m}Train`] = [];
    h[`${m}Test`] = [];
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// Text helpers. A non-finite number is never printed.

function fmtSlope(v) {
  return Number.isFinite(v) ? v.toFixed(2).replace('-', '−') : '—';
}

function sub(text) {
  const el = document.createElement('sub');
  el.textContent = text;
  return el;
}

// ---------------------------------------------------------------------------------------------
// The run's lifecycle is the run client's; these are the scene's parts of it.

function onReady(info) {
  const b = info.build ?? {};
  $('stat-backend').textContent = `${b.backend === 'gpu' ? 'GPU · WebGPU' : 'CPU'} · wasm${b.simd ? ' SIMD' : ''}`;
  renderSweep();
  renderEnsemble();
}

function onConfigured(msg) {
  const s = msg.setup;
  state.history = emptyHistory();
  state.gram = null;

  const twoD = s.inputDim === 2;
  showFitsFor(twoD);
  document.body.dataset.task = s.task;
  if (twoD) for (const m of MODELS) plots.boundary[m].setSetup(s);
  else plots.fit.setSetup(s);
  $('stat-params').textContent = formatInt(s.paramCount);
  if (!state.sweep.id) renderSweep(); // the expectation of the current settings
  state.ensemble = null;
  pendingEnsemble = null;
  if (!twoD) plots.ensemble.setSetup(s);
  renderEnsemble();
}

function showFitsFor(twoD) {
  document.body.classList.toggle('task-regression', !twoD);
  $('boundaries').hidden = !twoD;
  $('boundary-legend').hidden = !twoD;
  $('plot-fit').hidden = twoD;
  $('fits-title').textContent = twoD ? 'Four decision boundaries' : 'Four fits of the same data';
  $('fits-caption').textContent = twoD
    ? 'The output over the plane of the trained network, its linearisation around θ₀, the infinite-width NTK ' +
      'predictor at the same step, and kernel regression with the NTK; the dark line is f = 0.'
    : 'The trained network (solid), its linearisation around θ₀ (dashed), the infinite-width NTK predictor at ' +
      'the same step (dotted), and kernel regression with the NTK, where kernel training ends (thin grey).';
}

// ---------------------------------------------------------------------------------------------
// Reports and history.

let pendingGrid = null;
let pendingEnsemble = null;
let pendingGram = null;
let curvesDirty = false;

function onReport(msg) {
  const r = msg.report;
  if (!r) return;
  state.report = r;
  if (Number.isFinite(msg.stepsPerSec)) state.stepsPerSec = msg.stepsPerSec;
  if (Number.isFinite(msg.gridCostMs)) showGridNote(msg.gridCostMs, 'the four predictions');
  const h = state.history;
  const last = h.step.length - 1;
  const at = last >= 0 && h.step[last] === r.step ? last : h.step.length;
  h.step[at] = r.step;
  for (const m of MODELS) {
    h[`${m}Train`][at] = r[m]?.trainLoss ?? null;
    h[`${m}Test`][at] = r[m]?.testLoss ?? null;
  }
  h.weightChange[at] = r.weightChange;
  h.kernelDistance[at] = r.kernelDistance;
  if (h.step.length > HISTORY_CAP) thin(h);
  curvesDirty = true;
  if (msg.grid) pendingGrid = msg.grid;
  if (msg.gram) pendingGram = msg.gram;
  if (msg.ensemble) pendingEnsemble = msg.ensemble;
  client.queueFrame();
}

/** Halves the resolution of the older half of the history (keeps the first point). */
function thin(h) {
  const half = h.step.length >> 1;
  for (const key of Object.keys(h)) {
    const a = h[key];
    const out = [];
    for (let i = 0; i < half; i += 2) out.push(a[i]);
    for (let i = half; i < a.length; i++) out.push(a[i]);
    h[key] = out;
  }
}

function render() {
  const s = state.setup;
  if (pendingGrid && s) {
    if (s.inputDim === 2) for (const m of MODELS) plots.boundary[m].setPrediction(pendingGrid[m]);
    else plots.fit.setPredictions(pendingGrid);
    pendingGrid = null;
  }
  if (pendingGram) {
    state.gram = pendingGram;
    pendingGram = null;
    renderGram();
  }
  if (pendingEnsemble) {
    state.ensemble = pendingEnsemble;
    pendingEnsemble = null;
    plots.ensemble.setPicture(state.ensemble);
    renderEnsemble();
  }
  if (curvesDirty) {
    renderCurves();
    curvesDirty = false;
  }
  renderNumbers();
}

function renderCurves() {
  const h = state.history;
  const set = state.lossSet === 'train' ? 'Train' : 'Test';
  // Kernel regression does not change with step: a horizontal line at its current value.
  const krrNow = state.report?.krr?.[state.lossSet === 'train' ? 'trainLoss' : 'testLoss'] ?? null;
  plots.loss.setData(h.step, h[`network${set}`], h[`linearized${set}`], h[`ntk${set}`], h.step.map(() => krrNow));
  plots.lazy.setData(h.step, h.weightChange, h.kernelDistance);
}

/** Colour scale of a matrix: sequential over [min, max], or diverging around 0 if it has both signs. */
function matrixScale(a, forceDiverging = false) {
  let lo = 0;
  let hi = 0;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (forceDiverging || lo < -0.02 * hi) {
    const m = Math.max(hi, -lo) || 1;
    return { lo: -m, hi: m, diverging: true };
  }
  return { lo, hi: hi > lo ? hi : lo + 1, diverging: false };
}

function showMatrix(plot, values, size, key, forceDiverging = false) {
  if (!values) {
    plot.setMatrix(null, size, {});
    return;
  }
  const scale = matrixScale(values, forceDiverging);
  plot.setMatrix(values, size, scale);
  $(`gram-${key}-bar`).style.background = scale.diverging ? heatGradientCss() : heatGradientCss(seqColor);
  $(`gram-${key}-lo`).textContent = formatMeasure(scale.lo);
  $(`gram-${key}-mid`).textContent = formatMeasure((scale.lo + scale.hi) / 2);
  $(`gram-${key}-hi`).textContent = formatMeasure(scale.hi);
}

function renderGram() {
  const g = state.gram;
  if (!g || !(g.size > 0)) return;
  const diff = $('gram-diff').checked;
  showMatrix(plots.gramInit, g.init, g.size, 'init');
  if (diff && g.init && g.now) {
    const d = new Float32Array(g.now.length);
    for (let i = 0; i < d.length; i++) d[i] = g.now[i] - g.init[i];
    showMatrix(plots.gramNow, d, g.size, 'now', true);
    $('gram-now-title').replaceChildren('change K', sub('t'), ' − K', sub('0'));
    $('plot-gram-now').setAttribute('aria-label', 'Change of the empirical NTK Gram matrix since initialisation, Kₜ − K₀');
  } else {
    showMatrix(plots.gramNow, g.now, g.size, 'now');
    $('gram-now-title').replaceChildren('now K', sub('t'));
    $('plot-gram-now').setAttribute('aria-label', 'Empirical NTK Gram matrix Kₜ now');
  }

  // Spectra, largest first; index from 1. The empirical kernels are f32: their eigenvalues below
  // eigFloor × their largest are rounding noise and are not drawn; the line marks that level.
  const n = Math.max(g.eigInit?.length ?? 0, g.eigNow?.length ?? 0, g.eigAnalytic?.length ?? 0);
  const idx = Array.from({ length: n }, (_, i) => i + 1);
  const col = (a) => idx.map((_, i) => (a && i < a.length ? a[i] : null));
  const floor = Number.isFinite(g.eigFloor) ? g.eigFloor : 0;
  const resolved = (a) => {
    const top = a?.[0];
    return col(a).map((v) => (Number.isFinite(top) && v != null && v >= floor * top ? v : null));
  };
  plots.spectrum.setData(idx, resolved(g.eigInit), resolved(g.eigNow), col(g.eigAnalytic));
  const top = g.eigInit?.[0];
  plots.spectrum.setMarkers(floor > 0 && Number.isFinite(top)
    ? [{ y: floor * top, label: 'f32 rounding: empirical values below are noise', color: '#777777', dash: [2, 4] }]
    : []);
}

function renderNumbers() {
  const r = state.report;
  if (!r) return;
  const body = document.body.dataset;
  $('stat-step').textContent = formatInt(r.step);
  const rate = state.stepsPerSec;
  $('stat-rate').textContent = rate > 0 && state.status === 'playing' ? (rate >= 10 ? formatInt(rate) : formatNumber(rate, 2)) : '—';
  const classification = state.setup?.task === 'classification';
  for (const m of MODELS) {
    const x = r[m];
    $(`m-${m}`).textContent = formatMeasure(x?.testLoss);
    $(`m-${m}-sub`).textContent = classification
      ? `test loss · accuracy ${formatPercent(x?.testAcc)}`
      : `test loss · train ${formatMeasure(x?.trainLoss)}`;
  }
  $('m-weight-change').textContent = formatMeasure(r.weightChange);
  $('m-kernel-distance').textContent = formatMeasure(r.kernelDistance);
  body.step = String(r.step);
  body.runId = String(state.shownRunId);
  body.trainLoss = Number.isFinite(r.network?.trainLoss) ? String(r.network.trainLoss) : '';
  body.testLoss = Number.isFinite(r.network?.testLoss) ? String(r.network.testLoss) : '';
  body.diverged = r.diverged == null ? '' : String(r.diverged);
}

// ---------------------------------------------------------------------------------------------
// Ensemble mode: finite networks over seeds against the infinite-width band.

/** Why the ensemble cannot run with settings `v`, or null. */
function ensembleBlocked(v) {
  if (!v) return null;
  if (v.dataset !== 'sine') return 'The ensemble draws functions of one input: choose the 1-D dataset.';
  if (v.alpha !== 1) return 'The ensemble trains the plain network that the band describes: set α to 1.';
  return null;
}

function legendSwatch(st, kind) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '24');
  svg.setAttribute('height', '12');
  svg.setAttribute('aria-hidden', 'true');
  let el;
  if (kind === 'area') {
    el = document.createElementNS(ns, 'rect');
    for (const [k, v] of [['x', 1], ['y', 1], ['width', 22], ['height', 10], ['fill', st.fill], ['stroke', st.stroke]]) el.setAttribute(k, String(v));
  } else if (kind === 'point') {
    el = document.createElementNS(ns, 'circle');
    for (const [k, v] of [['cx', 12], ['cy', 6], ['r', 4], ['fill', st.fill], ['stroke', st.stroke]]) el.setAttribute(k, String(v));
  } else {
    el = document.createElementNS(ns, 'line');
    for (const [k, v] of [['x1', 0], ['y1', 6], ['x2', 24], ['y2', 6], ['stroke', st.stroke], ['stroke-width', Math.max(1.5, st.width ?? 1.5)]]) el.setAttribute(k, String(v));
    if (st.dash) el.setAttribute('stroke-dasharray', st.dash.join(' '));
  }
  svg.append(el);
  return svg;
}

function buildEnsembleLegend() {
  const S = ENSEMBLE_STYLES;
  const items = [
    [S.band, 'area', S.band.label], [S.bandMean, 'line', S.bandMean.label],
    [{ ...S.member, stroke: 'rgba(0,114,178,0.7)' }, 'line', 'a network (one seed)'],
    [S.mean, 'line', S.mean.label], [S.spread, 'line', S.spread.label], [S.points, 'point', S.points.label],
  ];
  $('ensemble-legend').replaceChildren(...items.map(([st, kind, label]) => {
    const li = document.createElement('li');
    li.append(legendSwatch(st, kind), label);
    return li;
  }));
}

/** The distance readout: how far the ensemble's spread and mean are from the band's. */
function distanceText(d, step) {
  if (!d) return '';
  const n = d.networks;
  if (!(n > 1)) return 'Fewer than two networks are left: no spread to compare.';
  if (!Number.isFinite(d.spread)) return 'The band has no spread here to compare with.';
  return `Step ${formatInt(step)}, ${n} networks: spread distance ${formatMeasure(d.spread, 2)} ` +
    `(sampling noise alone ≈ ${formatMeasure(d.spreadFloor, 2)}), mean distance ${formatMeasure(d.mean, 2)} ` +
    `(≈ ${formatMeasure(d.meanFloor, 2)}). Distances near those levels mean the ensemble is one draw of the infinite-width process.`;
}

function renderEnsemble() {
  const v = state.values;
  const on = (state.setup?.ensemble ?? 0) > 0 && state.setup?.inputDim === 1;
  const blocked = ensembleBlocked(v);
  $('ensemble-off').hidden = on;
  document.body.classList.toggle('ensemble-on', on);
  $('btn-ensemble-on').disabled = !!blocked || state.status === 'loading';
  $('btn-ensemble-on').title = blocked ?? '';
  $('plot-ensemble').hidden = !on;
  $('ensemble-legend').hidden = !on;
  const e = state.ensemble;
  let text = '';
  if (!on) text = blocked ?? '';
  else if (e && !e.bandSd) {
    text = 'At this step size gradient descent at infinite width diverges (η is above its stability bound 2n/λ_max(Θ)): ' +
      'there is no band to compare with. Lower the step size.';
  } else if (e) {
    text = distanceText(e.distance, e.step);
    if (e.diverged > 0) {
      text += ` ${e.diverged} network${e.diverged === 1 ? '' : 's'} diverged` +
        `${Number.isFinite(e.firstDiverged) ? ` (the first at step ${formatInt(e.firstDiverged)})` : ''} and ${e.diverged === 1 ? 'is' : 'are'} not drawn.`;
    }
  }
  $('ensemble-readout').textContent = text;
  renderEnsSweep();
}

function turnEnsembleOn() {
  if (ensembleBlocked(state.values)) return;
  controls.set('ensemble', ENSEMBLE_ON);
  state.values = { ...state.values, ensemble: ENSEMBLE_ON };
  client.apply();
  shell.writeUrl();
}

function ensSweepSettings(v, networks) {
  return `Settings of this sweep: ${networks} networks per width (seeds ${v.seed}–${v.seed + networks - 1}), η = ${formatNumber(v.lr)}, ` +
    `s = ${formatNumber(v.initScale)}, ${v.depth} hidden layer${v.depth === 1 ? '' : 's'}, n = ${v.nTrain}.`;
}

function startEnsSweep() {
  const es = state.ensSweep;
  if (es.running || ensembleBlocked(state.values)) return;
  const networks = state.values.ensemble > 1 ? state.values.ensemble : ENSEMBLE_ON;
  const widths = sweepWidths(Number($('ens-sweep-max').value));
  const steps = Number($('ens-sweep-steps').value);
  Object.assign(es, {
    running: true, widths, networks, steps, points: [], now: null, end: null, error: null,
    settings: ensSweepSettings(state.values, networks), id: ensSweepTask.id + 1,
  });
  ensSweepTask.start({ config: { ...state.values, ensemble: networks }, networks, widths, steps });
  renderEnsSweep();
}

function cancelEnsSweep() {
  const es = state.ensSweep;
  if (!ensSweepTask.cancel()) return;
  es.running = false;
  es.end = SWEEP_END.CANCELLED;
  renderEnsSweep();
}

function ensSweepFailed(text) {
  const es = state.ensSweep;
  es.running = false;
  es.end = SWEEP_END.FAILED;
  es.error = plainMessage(text);
  renderEnsSweep();
}

function onEnsSweepProgress(msg) {
  const es = state.ensSweep;
  if (Number.isFinite(msg.width)) es.now = { width: msg.width, index: msg.index, total: msg.total, stepsDone: msg.stepsDone, steps: msg.steps };
  if (msg.point) es.points.push(msg.point);
  if (msg.type === MSG.TASK_DONE) {
    es.running = false;
    es.end = SWEEP_END.FINISHED;
  }
  renderEnsSweep();
}

function renderEnsSweep() {
  const es = state.ensSweep;
  const ok = state.status !== 'loading' && state.status !== 'failed';
  const blocked = ensembleBlocked(state.values);
  $('btn-ens-sweep').disabled = !ok || es.running || !!blocked;
  $('btn-ens-sweep').title = blocked ?? '';
  $('btn-ens-sweep-cancel').hidden = !es.running;
  $('ens-sweep-max').disabled = es.running;
  $('ens-sweep-steps').disabled = es.running;
  $('ens-sweep-progress').hidden = !es.id;
  const n = Math.max(1, es.widths.length);
  const now = es.now;
  const frac = now && now.steps > 0 ? Math.min(1, now.stepsDone / now.steps) : 0;
  $('ens-sweep-bar').max = n;
  $('ens-sweep-bar').value = es.running && now ? Math.min(n, es.points.length + (now.index === es.points.length ? frac : 0)) : es.points.length;
  let status = '';
  if (es.running) {
    const w = es.widths[es.points.length];
    status = w
      ? `Training ${es.networks} networks of width ${formatInt(w)} (${es.points.length + 1} of ${es.widths.length}): ` +
        `step ${formatInt(now?.width === w ? now.stepsDone : 0)} of ${formatInt(es.steps)}…`
      : 'Finishing…';
  } else if (es.end === SWEEP_END.FINISHED) {
    status = `Done: ${es.widths.length} widths × ${es.networks} networks, ${formatInt(es.steps)} steps each. ${es.settings}`;
  } else if (es.end === SWEEP_END.CANCELLED) {
    status = `Cancelled after ${es.points.length} of ${es.widths.length} widths.`;
  } else if (es.end === SWEEP_END.FAILED) {
    status = es.error ?? 'The sweep stopped.';
  }
  $('ens-sweep-status').textContent = status;
  document.body.dataset.ensembleSweep = es.running ? 'running' : (es.end ?? '');

  const widths = es.widths.length ? es.widths : sweepWidths(Number($('ens-sweep-max').value));
  const byWidth = new Map(es.points.map((p) => [p.width, p]));
  const col = (f) => widths.map((w) => {
    const p = byWidth.get(w);
    const v = p ? f(p.distance) : null;
    return Number.isFinite(v) && v > 0 ? v : null;
  });
  const spread = col((d) => d.spread);
  const mean = col((d) => d.mean);
  const floorOf = (key) => {
    const p = es.points.find((q) => Number.isFinite(q.distance?.[key]));
    return p ? p.distance[key] : null;
  };
  const sf = floorOf('spreadFloor');
  const mf = floorOf('meanFloor');
  // A line of slope −½ through the first point measured: what finite-width corrections follow.
  const first = widths.findIndex((_, i) => spread[i] != null);
  const guide = widths.map((w) => (first >= 0 ? spread[first] * Math.sqrt(widths[first] / w) : null));
  plots.ensSweep.setData(widths, spread, mean, widths.map(() => sf), widths.map(() => mf), guide);
}

// ---------------------------------------------------------------------------------------------
// Width sweeps, in their own worker.

function sweepWidths(max) {
  const out = [];
  for (let w = SWEEP_MIN_WIDTH; w <= max; w *= 2) out.push(w);
  return out;
}

function settingsSummary(v, seeds) {
  const label = (name, value) => {
    const c = CONTROLS.find((x) => x.name === name);
    const hit = c?.options?.find(([val]) => val === String(value));
    return hit ? hit[1] : String(value);
  };
  return `Settings of this sweep: α = ${formatNumber(v.alpha)}, s = ${formatNumber(v.initScale)}, η = ${formatNumber(v.lr)}, ` +
    `${label('parametrization', v.parametrization)} parametrisation, ${label('activation', v.activation)}, ` +
    `${v.depth} hidden layer${v.depth === 1 ? '' : 's'}, ${label('dataset', v.dataset)}, n = ${v.nTrain}, ` +
    (seeds > 1 ? `seeds ${v.seed}–${v.seed + seeds - 1}.` : `seed ${v.seed}.`);
}

function startSweep() {
  if (state.sweep.running) return;
  const max = Number($('sweep-max').value);
  const steps = Number($('sweep-steps').value);
  const seeds = Number($('sweep-seeds').value) || 1;
  const widths = sweepWidths(max);
  const sw = state.sweep;
  sw.running = true;
  sw.widths = widths;
  sw.seeds = seeds;
  sw.points = [];
  sw.runs = [];
  sw.slopes = null;
  sw.expected = null;
  sw.total = widths.length * seeds;
  sw.done = 0;
  sw.workers = 1;
  sw.end = null;
  sw.steps = steps;
  sw.settings = settingsSummary(state.values, seeds);
  sw.values = { ...state.values };
  sw.error = null;
  sw.id = sweepTask.id + 1; // the id start() gives it
  sweepTask.start({ config: { ...state.values }, widths, steps, seeds, workers: sw.poolSize ?? undefined });
  renderSweep();
}

function cancelSweep() {
  const sw = state.sweep;
  if (!sweepTask.cancel()) return;
  sw.running = false;
  sw.end = SWEEP_END.CANCELLED;
  renderSweep();
}

function sweepFailed(text) {
  const sw = state.sweep;
  sw.running = false;
  sw.end = SWEEP_END.FAILED;
  sw.error = plainMessage(text);
  renderSweep();
}

/** A TASK_PROGRESS of the sweep, or its TASK_DONE (with the last network's data). */
function onSweepProgress(msg) {
  const sw = state.sweep;
  if (msg.expected) sw.expected = msg.expected;
  if (msg.run) sw.runs.push(msg.run);
  if (msg.runs) {
    // A pool's, in the order they finished: kept in the sweep's order (widths in order, every
    // seed of a width before the next), as one worker gives them.
    sw.runs.push(...msg.runs);
    sw.runs.sort((a, b) => a.width - b.width || a.seed - b.seed);
  }
  if (msg.points) sw.points = msg.points;
  if (msg.slopes) sw.slopes = msg.slopes;
  if (Number.isFinite(msg.workers)) sw.workers = msg.workers;
  sw.done = Number.isFinite(msg.done) ? msg.done : Number.isFinite(msg.index) ? msg.index + 1 : sw.runs.length;
  if (Number.isFinite(msg.total)) sw.total = msg.total;
  if (msg.type === MSG.TASK_DONE) {
    sw.running = false;
    sw.end = SWEEP_END.FINISHED;
  }
  renderSweep();
}

/** A slope as people write it: −½ and −1 for the laws, two decimals otherwise. */
function slopeWords(v) {
  if (v === -0.5) return '−½';
  if (v === -1) return '−1';
  return fmtSlope(v);
}

/**
 * What theory expects of the sweep for settings `v` (the slopes `expected` come from the engine,
 * scenes::lazy::expected_slopes).
 */
function expectationText(v, expected) {
  if (!v) return '';
  const w = expected?.weightChange;
  const k = expected?.kernelDistance;
  if (!Number.isFinite(w) && !Number.isFinite(k)) {
    return v.parametrization === 'meanField'
      ? 'In the mean-field parametrisation the network does not become lazy as it widens: no 1/width law is expected.'
      : 'Theory predicts no power law for these settings (it is stated for the NTK parametrisation).';
  }
  const act = CONTROLS.find((c) => c.name === 'activation')?.options?.find(([val]) => val === v.activation)?.[1] ?? v.activation;
  const layers = v.depth === 1 ? 'one hidden layer' : `${v.depth} hidden layers`;
  let text = `Expected for ${act}, ${layers}: weight change slope ${slopeWords(w)}, kernel distance slope ${slopeWords(k)}.`;
  if (v.activation === 'relu' && v.dataset === 'sine') {
    text += ' On these 1-D inputs every ReLU kink sits near x = 0, so the kernel distance falls more slowly at ' +
      'widths up to 4,096: about −0.3 to −0.4 over many seeds, anywhere from about −0.2 to −0.5 with three. It ' +
      'varies several-fold from seed to seed, so a single seed is not even monotone in width: seed noise, not a trend.';
  }
  return text;
}

function renderSweep() {
  const sw = state.sweep;
  const ok = state.status !== 'loading' && state.status !== 'failed';
  $('btn-sweep').disabled = !ok || sw.running;
  $('btn-sweep-cancel').hidden = !sw.running;
  $('sweep-max').disabled = sw.running;
  $('sweep-steps').disabled = sw.running;
  $('sweep-seeds').disabled = sw.running;
  const started = sw.id > 0;
  const seeds = Math.max(1, sw.seeds);
  const widthsDone = Math.floor(sw.done / seeds);
  $('sweep-progress').hidden = !started;
  $('sweep-bar').max = Math.max(1, sw.widths.length);
  $('sweep-bar').value = sw.done / seeds;
  const next = sw.widths[widthsDone];
  let status = '';
  const pooled = sw.workers > 1;
  if (sw.running && pooled) {
    // A pool trains the widest networks first, several at once.
    status = `Training ${formatInt(sw.total)} networks of ${formatInt(sw.steps)} steps on ${sw.workers} workers: ${formatInt(sw.done)} done…`;
  } else if (sw.running) {
    const which = seeds > 1 ? `, seed ${(sw.done % seeds) + 1} of ${seeds}` : '';
    status = next
      ? `Training width ${formatInt(next)} (${widthsDone + 1} of ${sw.widths.length}${which}) for ${formatInt(sw.steps)} steps…`
      : 'Finishing…';
  } else if (sw.end === SWEEP_END.FINISHED) {
    status = `Done: ${sw.widths.length} widths${seeds > 1 ? ` × ${seeds} seeds` : ''}, ${formatInt(sw.steps)} steps each` +
      `${pooled ? `, on ${sw.workers} workers` : ''}.`;
  } else if (sw.end === SWEEP_END.CANCELLED) {
    status = pooled
      ? `Cancelled after ${formatInt(sw.done)} of ${formatInt(sw.total)} networks.`
      : `Cancelled after ${widthsDone} of ${sw.widths.length} widths.`;
  } else if (sw.end === SWEEP_END.FAILED) {
    status = sw.error ?? 'The sweep stopped.';
  }
  $('sweep-status').textContent = status;
  document.body.dataset.sweep = sw.running ? 'running' : (sw.end ?? '');

  // The readout: fitted slopes of this sweep, and what theory expects for its settings (before
  // any sweep: for the current settings).
  const s = sw.slopes;
  const el = $('sweep-slopes');
  const expectNow = expectationText(started ? sw.values : state.values, started ? sw.expected : state.setup?.expectedSlopes);
  if (s && (Number.isFinite(s.weightChange) || Number.isFinite(s.kernelDistance))) {
    const over = seeds > 1 ? `, ${seeds} seeds each` : ', one seed each';
    el.textContent = `Fitted on widths ≥ ${SLOPE_MIN_WIDTH}${over}: weight change slope ${fmtSlope(s.weightChange)}, ` +
      `kernel distance slope ${fmtSlope(s.kernelDistance)}. ${expectNow}`;
  } else {
    el.textContent = (started ? `The slopes appear once two widths of at least ${SLOPE_MIN_WIDTH} are done. `
      : 'Press “Sweep width” to train a range of widths in the background. ') + expectNow;
  }
  $('sweep-settings').textContent = started ? sw.settings : '';

  // The plot: planned widths on x; per width the geometric mean over the seeds finished so far,
  // with bars over their range; and lines of slope −½ and −1 through the geometric mean of the
  // points of width ≥ SLOPE_MIN_WIDTH (where the slopes are fitted), so they run between the two
  // measures, hiding neither.
  const widths = sw.widths.length ? sw.widths : sweepWidths(Number($('sweep-max').value));
  const byWidth = new Map(sw.points.map((p) => [p.width, p]));
  const col = (key) => widths.map((w) => byWidth.get(w)?.[key] ?? null);
  const wc = col('weightChange');
  const kd = col('kernelDistance');
  let logC = 0;
  let logW = 0;
  let count = 0;
  widths.forEach((w, i) => {
    if (w < SLOPE_MIN_WIDTH) return;
    for (const v of [wc[i], kd[i]]) {
      if (Number.isFinite(v) && v > 0) {
        logC += Math.log(v);
        logW += Math.log(w);
        count++;
      }
    }
  });
  const line = (slope) => widths.map((w) => (count ? Math.exp(logC / count + slope * (Math.log(w) - logW / count)) : null));
  plots.sweep.setData(widths, wc, kd, line(-0.5), line(-1));
  const spread = seeds > 1;
  plots.sweep.setErrors([
    spread ? { lo: col('weightChangeMin'), hi: col('weightChangeMax'), label: 'over seeds' } : null,
    spread ? { lo: col('kernelDistanceMin'), hi: col('kernelDistanceMax'), label: 'over seeds' } : null,
    null,
    null,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Start-up.

function buildPlots() {
  plots.fit = new FitPlot($('plot-fit'), {
    predictions: MODELS.map((m) => ({ key: m, ...MODEL_STYLES[m] })),
  });
  plots.boundary = {};
  for (const m of MODELS) {
    plots.boundary[m] = new BoundaryPlot($(`plot-boundary-${m}`), $('boundary-readout'), { name: MODEL_STYLES[m].label, maxWidth: 420, compact: true });
  }
  $('colorbar-bar').style.background = heatGradientCss();

  const stepAxis = { label: (log) => (log ? 'step (log scale)' : 'step'), name: 'step', format: stepLabel };
  plots.loss = new SeriesPlot($('plot-loss'), {
    x: stepAxis,
    y: { label: 'loss', log: true },
    series: MODELS.map((m) => ({ ...MODEL_STYLES[m], width: Math.min(MODEL_STYLES[m].width, 2.25) })),
  });
  plots.lazy = new SeriesPlot($('plot-lazy'), {
    x: stepAxis,
    y: { label: 'relative change', log: true },
    series: [
      { label: 'weight change ‖θₜ − θ₀‖/‖θ₀‖', stroke: MEASURE_COLORS.weightChange, width: 2.25 },
      { label: 'kernel distance ‖Kₜ − K₀‖/‖K₀‖', stroke: MEASURE_COLORS.kernelDistance, width: 2.25, dash: [8, 4] },
    ],
  });
  plots.sweep = new SeriesPlot($('plot-sweep'), {
    x: { label: 'width (log scale)', name: 'width', log: true, logBase: 2, format: (v) => (Number.isFinite(v) ? formatInt(v) : '') },
    y: { label: 'relative change', log: true },
    series: [
      { label: 'weight change', stroke: MEASURE_COLORS.weightChange, width: 1.5, points: true, pointSize: 9 },
      { label: 'kernel distance', stroke: MEASURE_COLORS.kernelDistance, width: 1.5, points: true, pointSize: 9 },
      { label: 'slope −½: ∝ 1/√width', stroke: '#555555', width: 1.5, dash: [6, 5] },
      { label: 'slope −1: ∝ 1/width', stroke: '#555555', width: 1.5, dash: [2, 3] },
    ],
  });
  plots.spectrum = new SeriesPlot($('plot-spectrum'), {
    height: (w) => Math.min(460, Math.max(260, w * 0.8)),
    x: { label: 'index (largest first)', name: 'index', format: (v) => (Number.isInteger(v) ? String(v) : '') },
    y: { label: 'eigenvalue of K/n', log: true, floorRatio: 1e-12 },
    series: [
      { label: 'empirical, θ₀', stroke: '#56B4E9', width: 1, points: true, pointSize: 10, pointFill: '#ffffff' },
      { label: 'empirical, now', stroke: MODEL_STYLES.network.stroke, width: 1, points: true, pointSize: 5 },
      { label: 'analytic (∞ width)', stroke: MODEL_STYLES.ntk.stroke, width: 2, dash: [2, 3] },
    ],
  });
  plots.ensemble = new EnsemblePlot($('plot-ensemble'));
  plots.ensSweep = new SeriesPlot($('plot-ens-sweep'), {
    height: (w) => Math.min(360, Math.max(220, w * 0.7)),
    x: { label: 'width (log scale)', name: 'width', log: true, logBase: 2, format: (v) => (Number.isFinite(v) ? formatInt(v) : '') },
    y: { label: 'distance from the band', log: true },
    series: [
      { label: 'spread distance', stroke: '#0b3d66', width: 1.5, points: true, pointSize: 9 },
      { label: 'mean distance', stroke: '#009E73', width: 1.5, dash: [6, 4], points: true, pointSize: 8 },
      { label: 'spread: sampling noise', stroke: '#0b3d66', width: 1, dash: [2, 3] },
      { label: 'mean: sampling noise', stroke: '#009E73', width: 1, dash: [2, 3] },
      { label: 'slope −½: ∝ 1/√width', stroke: '#777777', width: 1.25, dash: [8, 5] },
    ],
  });
  plots.gramInit = new MatrixPlot($('plot-gram-init'), { label: 'training point (sorted)', maxWidth: 420 });
  plots.gramNow = new MatrixPlot($('plot-gram-now'), { label: 'training point (sorted)', maxWidth: 420 });
}

function start() {
  shell = createScene({ scene: 'lazy', controls: CONTROLS, view: VIEW, presets: PRESETS });
  const { values, autoplay } = shell;
  client = createRunClient({
    workerUrl: new URL('./worker.js', import.meta.url),
    state,
    live: LIVE,
    divergedAdvice: 'Lower the step size, or press Reset.',
    onReady,
    onConfigured,
    onReport,
    render,
    onFail: () => {
      renderSweep();
      renderEnsemble();
    },
  });
  controls = buildControls($('controls'), values, client.onControlChange, { controls: CONTROLS, groups: GROUPS });
  client.bind({ controls, shell });
  $('controls').addEventListener('submit', (e) => e.preventDefault());

  buildPlots();
  showFitsFor(values.dataset !== 'sine');
  // Pins keep the network's train and test loss (the loss panel shows the one chosen) and how far it moved.
  const h = () => state.history;
  const pins = createPins({
    shell,
    key: ['alpha', 'width', 'lr', 'initScale'],
    targets: [{
      id: 'loss', plot: plots.loss, series: [0],
      capture: () => (h().step.length ? { xs: h().step.slice(), train: h().networkTrain.slice(), test: h().networkTest.slice() } : null),
      show: (d) => ({ xs: d.xs, ys: [state.lossSet === 'train' ? d.train : d.test] }),
    }, { id: 'lazy', plot: plots.lazy }],
  });

  $('loss-logx').addEventListener('change', (e) => plots.loss.setLogX(e.target.checked));
  $('lazy-logx').addEventListener('change', (e) => plots.lazy.setLogX(e.target.checked));
  for (const el of document.querySelectorAll('input[name="loss-set"]')) {
    el.addEventListener('change', () => {
      state.lossSet = el.value;
      $('loss-title').textContent = el.value === 'train' ? 'Train loss' : 'Test loss';
      pins.refresh();
      renderCurves();
    });
  }
  $('gram-diff').addEventListener('change', renderGram);
  buildEnsembleLegend();
  $('btn-ensemble-on').addEventListener('click', turnEnsembleOn);
  $('btn-ens-sweep').addEventListener('click', startEnsSweep);
  $('btn-ens-sweep-cancel').addEventListener('click', cancelEnsSweep);
  $('ens-sweep-max').addEventListener('change', () => { if (!state.ensSweep.running && !state.ensSweep.id) renderEnsSweep(); });
  $('btn-sweep').addEventListener('click', startSweep);
  $('btn-sweep-cancel').addEventListener('click', cancelSweep);
  $('sweep-max').addEventListener('change', () => { if (!state.sweep.running && !state.sweep.id) renderSweep(); });
  $('sweep-seeds').addEventListener('change', () => { if (!state.sweep.running && !state.sweep.id) renderSweep(); });
  shell.attach({
    api: controls,
    apply: client.apply,
    actions: client.wireButtons(),
    plots: () => [
      { id: 'fit', title: 'Four fits of the same data', plot: plots.fit },
      ...MODELS.map((m) => ({ id: `boundary-${m}`, title: `Decision boundary: ${MODEL_STYLES[m].label}`, plot: plots.boundary[m] })),
      { id: 'loss', title: state.lossSet === 'train' ? 'Train loss' : 'Test loss', plot: plots.loss },
      { id: 'lazy', title: 'How far training moves the network', plot: plots.lazy },
      { id: 'ensemble', title: 'Many seeds against infinite width', plot: plots.ensemble },
      { id: 'ensemble-sweep', title: 'Ensemble distance from the band across widths', plot: plots.ensSweep },
      { id: 'sweep', title: 'Across widths', plot: plots.sweep },
      { id: 'spectrum', title: 'NTK spectrum', plot: plots.spectrum },
      { id: 'gram-init', title: 'NTK Gram matrix at initialisation K₀', plot: plots.gramInit },
      { id: 'gram-now', title: $('gram-diff').checked ? 'NTK Gram matrix: change since initialisation Kₜ − K₀' : 'NTK Gram matrix now Kₜ', plot: plots.gramNow },
    ],
    report: () => ({
      setup: state.setup && { task: state.setup.task, inputDim: state.setup.inputDim, paramCount: state.setup.paramCount },
      report: state.report,
      history: state.history,
      sweep: {
        widths: state.sweep.widths,
        seeds: state.sweep.seeds,
        points: state.sweep.points,
        runs: state.sweep.runs,
        slopes: state.sweep.slopes,
        expectedSlopes: state.sweep.expected,
        steps: state.sweep.steps,
      },
      ensemble: state.ensemble && {
        step: state.ensemble.step,
        networks: state.ensemble.live,
        distance: state.ensemble.distance,
        diverged: state.ensemble.diverged,
      },
      ensembleSweep: state.ensSweep.id ? {
        widths: state.ensSweep.widths, networks: state.ensSweep.networks, steps: state.ensSweep.steps, points: state.ensSweep.points,
      } : null,
      spectra: state.gram && { eigInit: state.gram.eigInit, eigNow: state.gram.eigNow, eigAnalytic: state.gram.eigAnalytic },
    }),
    weights: () => client.exportWeights(),
    importWeights: (text) => client.importWeights(text),
    rewind: () => client.reset(),
  });
  renderSweep();

  // A small hook for tests and for the curious.
  window.descent = client.hook({
    controls: CONTROLS,
    get sweep() {
      return state.sweep;
    },
    get ensemble() {
      return state.ensemble;
    },
    get ensembleSweep() {
      return state.ensSweep;
    },
    /** The page's plots (read-only use: what each one draws). */
    get plots() {
      return plots;
    },
  });

  if (client.start({ autoplay })) shell.writeUrl();
}

start();
