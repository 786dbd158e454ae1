// The Playground page: builds the controls, talks to the training worker, and renders its reports.
// The worker does all numerics (see worker.js beside it and core/protocol.js); this file only keeps state and draws,
// at most once per animation frame.

import { MSG } from '../../core/protocol.js';
import { CONTROLS, buildControls, formatInt, formatNumber, formatMeasure, formatPercent } from '../../core/controls.js';
import { createScene } from '../../core/shell.js';
import { createRunClient, LIVE_LR, showGridNote } from '../../core/run-client.js';
import { LossPlot, FitPlot, BoundaryPlot, heatGradientCss } from '../../plots/index.js';
import { CONVERGENCE, settled, thinHistory } from '../../core/history.js';

const HISTORY_CAP = 20000; // loss points kept; beyond it the points after the early steps are thinned (history.js)

const $ = (id) => document.getElementById(id);

// Page options kept in the URL beside the settings (controls.js bindView).
const VIEW = [
  { name: 'logx', kind: 'checkbox', el: 'loss-logx', default: false, label: 'log step axis' },
];

// Presets: named bundles of overrides of the defaults (the seed is kept), with the page options
// (`view`) they are about and the figure they are about (`focus`: shown first, and scrolled into
// view, in presenter mode). The catapult's spike and the rich regime's slow start happen in the
// first steps: on a linear step axis they are a pixel wide after a few seconds of training.
const PRESETS = [
  { id: 'lazy', label: 'Lazy regime: a wide NTK network', values: { width: 2048, lr: 1 } },
  {
    id: 'rich', label: 'Rich regime: mean-field, small init', values: { width: 256, parametrization: 'meanField', initScale: 0.1, lr: 0.02 },
    view: { logx: true }, focus: 'fig-loss',
  },
  {
    id: 'catapult', label: 'Catapult: η = 10, a spike, then it settles', values: { width: 512, lr: 10 },
    view: { logx: true }, focus: 'fig-loss',
  },
  { id: 'memorise', label: 'Label noise: memorising', values: { width: 1024, nTrain: 64, labelNoise: 0.2 } },
  { id: 'regression', label: '1-D regression', values: { dataset: 'sine', width: 256 } },
];

const state = {
  // status, playing, resumeOnChange, runId, shownRunId, setup, report, firstReport, info and
  // message are kept by the run client (run-client.js).
  values: null, // control values (the config sent with the next configure)
  stepsPerSec: 0,
  history: { step: [], train: [], test: [] },
  convergedAt: null, // step from which the train loss has stopped moving (history.js settled), or null
};

let client = null;
let controls = null;
let shell = null;
let lossPlot;
let fitPlot;
let boundaryPlot;

// ---------------------------------------------------------------------------------------------
// The run's lifecycle is the run client's; these are the Playground's parts of it.

function onReady(info) {
  const b = info.build ?? {};
  state.simd = Boolean(b.simd);
  $('stat-backend').textContent = `CPU · wasm${b.simd ? ' SIMD' : ''}`;
}

function onConfigured(msg) {
  const s = msg.setup;
  state.history = { step: [], train: [], test: [] };
  state.convergedAt = null;

  const twoD = s.inputDim === 2;
  $('plot-boundary').hidden = !twoD;
  $('boundary-legend').hidden = !twoD;
  $('plot-fit').hidden = twoD;
  $('main-title').textContent = twoD ? 'Decision boundary' : 'Fitted function';
  $('main-caption').textContent = twoD
    ? 'The network’s output f(x) over the plane; the dark line is the decision boundary f = 0.'
    : 'The network’s prediction, the noiseless target, and the data it is fitted to.';
  document.body.dataset.task = s.task;
  document.body.classList.toggle('task-regression', s.task === 'regression');

  if (twoD) boundaryPlot.setSetup(s);
  else fitPlot.setSetup(s);
  $('stat-params').textContent = formatInt(s.paramCount);
  $('stat-params').title = Number.isFinite(s.memoryBytes) ? `about ${formatBytes(s.memoryBytes)} of memory` : '';
}

// ---------------------------------------------------------------------------------------------
// Reports and history.

let pendingGrid = null;
let lossDirty = false;

/** The backend indicator and, when a GPU was wanted but the run is on the CPU, the note saying why. */
function showBackend(info) {
  if (!info) return;
  const gpu = info.backend === 'webgpu';
  const el = $('stat-backend');
  el.textContent = gpu ? 'GPU · WebGPU' : `CPU · wasm${state.simd ? ' SIMD' : ''}`;
  el.title = gpu && info.adapter ? `WebGPU adapter: ${info.adapter}` : '';
  document.body.dataset.backend = gpu ? 'webgpu' : 'cpu';
  const note = $('backend-note');
  note.hidden = !info.notice;
  note.textContent = info.notice ?? '';
  logBackendDetail(info);
}

let loggedDetail = null;
/** The technical reason behind the note, once per distinct reason, for developers (never an error). */
function logBackendDetail(info) {
  if (!info.detail || info.detail === loggedDetail) return;
  loggedDetail = info.detail;
  console.info(`Descent: ${info.notice ?? 'backend'} Detail: ${info.detail}`);
}

function onReport(msg) {
  const r = msg.report;
  if (!r) return;
  showBackend(msg.backendInfo);
  state.report = r;
  if (Number.isFinite(msg.stepsPerSec)) state.stepsPerSec = msg.stepsPerSec;
  if (Number.isFinite(msg.gridCostMs)) showGridNote(msg.gridCostMs, 'its output');
  const h = state.history;
  const p = msg.points;
  if (p) for (let i = 0; i < p.step.length; i++) addPoint(h, p.step[i], finiteOrNull(p.train[i]), finiteOrNull(p.test[i]));
  addPoint(h, r.step, r.trainLoss, r.testLoss);
  if (h.step.length > HISTORY_CAP) thinHistory(h);
  state.convergedAt = r.diverged == null && settled(h) ? (state.convergedAt ?? r.step) : null;
  lossDirty = true;
  if (msg.grid) pendingGrid = msg.grid;
  client.queueFrame();
}

function finiteOrNull(v) {
  return Number.isFinite(v) ? v : null;
}

/** Appends a point to the history, or updates the last one when it is of the same step. */
function addPoint(h, step, train, test) {
  const last = h.step.length - 1;
  if (last >= 0 && h.step[last] === step) {
    h.train[last] = train;
    h.test[last] = test;
  } else if (last < 0 || step > h.step[last]) {
    h.step.push(step);
    h.train.push(train);
    h.test.push(test);
  }
}

function render() {
  const s = state.setup;
  if (pendingGrid && s) {
    if (s.inputDim === 2) boundaryPlot.setPrediction(pendingGrid);
    else fitPlot.setPrediction(pendingGrid);
    pendingGrid = null;
  }
  if (lossDirty) {
    const h = state.history;
    lossPlot.setData(h.step, h.train, h.test);
    lossDirty = false;
  }
  renderNumbers();
}

function renderNumbers() {
  const r = state.report;
  const body = document.body.dataset;
  if (!r) return;
  $('stat-step').textContent = formatInt(r.step);
  const rate = state.stepsPerSec;
  $('stat-rate').textContent = rate > 0 && state.status === 'playing' ? (rate >= 10 ? formatInt(rate) : formatNumber(rate, 2)) : '—';
  $('m-train-loss').textContent = formatMeasure(r.trainLoss);
  $('m-test-loss').textContent = formatMeasure(r.testLoss);
  $('m-train-acc').textContent = formatPercent(r.trainAcc);
  $('m-test-acc').textContent = formatPercent(r.testAcc);
  body.step = String(r.step);
  body.runId = String(state.shownRunId);
  body.trainLoss = Number.isFinite(r.trainLoss) ? String(r.trainLoss) : '';
  body.testLoss = Number.isFinite(r.testLoss) ? String(r.testLoss) : '';
  body.diverged = r.diverged == null ? '' : String(r.diverged);
  renderConverged(r);
}

/** The convergence rule in words (history.js CONVERGENCE; its window is the last half). */
function convergenceRule() {
  const c = CONVERGENCE;
  return `Converged at step s: the first step s at which the train loss has changed by less than ${formatNumber(100 * c.tolerance, 2)} % `
    + `over the last half of training (steps s/2 to s), judged from step ${formatInt(c.minStep)} on and once the loss is below `
    + `${formatNumber(100 * c.minDrop, 2)} % of its start. Never for a diverged run.`;
}

/** The convergence indicator: "not yet", the step from which the loss stopped moving, or — (diverged). */
function renderConverged(r) {
  const k = state.convergedAt;
  const s = r.step;
  document.body.dataset.converged = k == null ? '' : String(k);
  $('stat-converged').textContent = r.diverged != null ? '—' : k == null ? 'not yet' : `at step ${formatInt(k)}`;
  const note = $('converged-note');
  note.hidden = k == null;
  const pct = `${formatNumber(100 * CONVERGENCE.tolerance, 2)} %`;
  const text = k == null ? '' : `Converged at step ${formatInt(k)}: over the last half of training (steps ${formatInt(Math.floor(s / 2))} to ${formatInt(s)}) the train loss changed by less than ${pct}.`;
  if (note.textContent !== text) note.textContent = text;
}

function formatBytes(b) {
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(b / 1e3))} kB`;
}

// ---------------------------------------------------------------------------------------------
// Start-up.

function start() {
  shell = createScene({ scene: 'playground', controls: CONTROLS, view: VIEW, presets: PRESETS });
  const { values, autoplay } = shell;
  client = createRunClient({
    workerUrl: new URL('./worker.js', import.meta.url),
    state,
    live: { lr: LIVE_LR },
    divergedAdvice: 'Lower the step size or the initialisation scale, or press Reset.',
    onReady,
    onConfigured,
    onReport,
    render,
  });
  controls = buildControls($('controls'), values, client.onControlChange);
  client.bind({ controls, shell });
  $('controls').addEventListener('submit', (e) => e.preventDefault());

  lossPlot = new LossPlot($('plot-loss'));
  fitPlot = new FitPlot($('plot-fit'));
  boundaryPlot = new BoundaryPlot($('plot-boundary'), $('boundary-readout'));
  $('colorbar-bar').style.background = heatGradientCss();

  $('loss-logx').addEventListener('change', (e) => lossPlot.setLogX(e.target.checked));
  $('converged-item').title = convergenceRule();
  shell.attach({
    api: controls,
    apply: client.apply,
    actions: client.wireButtons(),
    plots: () => [
      { id: 'boundary', title: 'Decision boundary', plot: boundaryPlot },
      { id: 'fit', title: 'Fitted function', plot: fitPlot },
      { id: 'loss', title: 'Loss', plot: lossPlot },
    ],
    report: () => ({ setup: summarySetup(), report: state.report, history: state.history }),
    weights: () => client.exportWeights(),
    importWeights: (text) => client.importWeights(text),
    rewind: () => client.reset(),
  });

  // The dataset select shows its 1-D / 2-D plot before the first reply arrives.
  const twoD = values.dataset !== 'sine';
  $('plot-boundary').hidden = !twoD;
  $('boundary-legend').hidden = !twoD;
  $('plot-fit').hidden = twoD;

  // A small hook for tests and for the curious.
  window.descent = client.hook({
    controls: CONTROLS,
    /** Makes the GPU fail as a lost device would: the run moves to the CPU and says so. */
    loseDevice() {
      client.post({ type: MSG.LOSE_DEVICE });
    },
  });

  // The first run: sent now, handled by the worker as soon as the engine is ready.
  if (client.start({ autoplay })) shell.writeUrl();
}

/** The run's facts for the report export (the data points are in the plot exports). */
function summarySetup() {
  const s = state.setup;
  return s && { task: s.task, inputDim: s.inputDim, paramCount: s.paramCount, memoryBytes: s.memoryBytes, gridSpec: s.gridSpec };
}

start();
