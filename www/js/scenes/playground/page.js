// The Playground page: builds the controls, talks to the training worker, and renders its reports.
// The worker does all numerics (see worker.js beside it and core/protocol.js); this file only keeps state and draws,
// at most once per animation frame.

import { MSG, ERROR_DURING } from '../../core/protocol.js';
import { CONTROLS, buildControls, formatInt, formatNumber, formatMeasure, formatPercent } from '../../core/controls.js';
import { createScene } from '../../core/shell.js';
import { createRunClient, LIVE_LR, showGridNote } from '../../core/run-client.js';
import { LossPlot, FitPlot, BoundaryPlot, ConfusionPlot, DigitStrip, classCss, classLabel, heatGradientCss } from '../../plots/index.js';
import { ownDataPanel } from '../../core/own-data.js';
import { createPins } from '../../core/pins.js';
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
  {
    id: 'spiral5', label: 'Five-arm spiral: cross-entropy with momentum',
    values: { dataset: 'arms', classes: 5, loss: 'crossEntropy', width: 128, depth: 2, lr: 0.5, momentum: 0.9, noise: 0.05, nTrain: 512 },
    focus: 'fig-main',
  },
  {
    id: 'digits', label: '8×8 digits, 10 classes', values: { dataset: 'digits', loss: 'crossEntropy', width: 256, lr: 8, nTrain: 1024 },
    focus: 'fig-confusion',
  },
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
let confusionPlot;
let mistakesStrip;
let dataPanel;

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

  const k = s.outputs > 1 ? s.outputs : 1;
  const twoD = (s.plotDim ?? s.inputDim) === 2;
  $('plot-boundary').hidden = !twoD;
  $('boundary-legend').hidden = !twoD;
  $('plot-fit').hidden = twoD;
  // One output: the diverging scale of f and the ±1 marks; K outputs: a colour per class.
  document.querySelector('#boundary-legend .colorbar').hidden = k > 1;
  document.querySelector('#boundary-legend .marks-binary').hidden = k > 1 || s.task === 'regression';
  renderClassLegend(k > 1 ? s.classNames ?? [] : null);
  $('main-title').textContent = mainTitle(s, k, twoD);
  $('main-caption').textContent = mainCaption(s, k, twoD);
  $('loss-caption').textContent = lossCaption(s, k);
  document.body.dataset.task = s.task;
  document.body.dataset.outputs = String(k);
  document.body.classList.toggle('task-regression', s.task === 'regression');

  if (twoD) boundaryPlot.setSetup(s);
  else fitPlot.setSetup(s);
  // The confusion matrix for three classes or more; the misclassified digits for the digits.
  $('fig-confusion').hidden = !(s.classes >= 3);
  confusionPlot.setMatrix(null, 0);
  $('fig-mistakes').hidden = !s.testImages;
  mistakesStrip.setItems([], 0);
  pendingClasses = null;
  $('stat-params').textContent = formatInt(s.paramCount);
  $('stat-params').title = Number.isFinite(s.memoryBytes) ? `about ${formatBytes(s.memoryBytes)} of memory` : '';
}

function mainTitle(s, k, twoD) {
  if (!twoD) return 'Fitted function';
  if (k > 1) return 'Decision regions';
  return s.task === 'regression' ? 'Prediction over the plane' : 'Decision boundary';
}

function mainCaption(s, k, twoD) {
  if (!twoD) return 'The network’s prediction, the noiseless target, and the data it is fitted to.';
  const plane = s.projected
    ? ` The ${s.inputDim} inputs are drawn on their first two principal axes${Number.isFinite(s.explained) ? ` (${formatNumber(100 * s.explained, 2)} % of their variance)` : ''}; the picture is the network on that plane through the mean.`
    : '';
  if (k > 1) return `Each region takes the colour of the class the network predicts there, paler where it is less sure; dark lines are the borders between regions.${plane}`;
  if (s.task === 'regression') return `The network’s output f(x) over the plane.${plane}`;
  return `The network’s output f(x) over the plane; the dark line is the decision boundary f = 0.${plane}`;
}

function lossCaption(s, k) {
  if (s.loss === 'crossEntropy') return 'Cross-entropy −mean log softmax(f(x))_y (one output per class) on the training and test sets.';
  if (k > 1) return 'Squared loss ½·mean ‖f(x) − e_y‖² (one output per class, one-hot targets) on the training and test sets.';
  return 'Squared loss ½·mean (f(x) − y)² on the training and test sets.';
}

/** The class swatches under the decision regions (null hides them). */
function renderClassLegend(names) {
  const ul = $('class-legend');
  ul.hidden = !names;
  if (!names) {
    ul.replaceChildren();
    return;
  }
  ul.replaceChildren(...names.map((name, c) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.setAttribute('aria-hidden', 'true');
    sw.style.background = classCss(c);
    li.append(sw, classLabel(name));
    return li;
  }));
  const note = document.createElement('li');
  note.className = 'class-legend-note';
  note.textContent = 'filled: train · hollow diamonds: test';
  ul.append(note);
}

// ---------------------------------------------------------------------------------------------
// Reports and history.

let pendingGrid = null;
let pendingClasses = null; // the confusion matrix and the misclassified test points of the newest report
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
  if (r.confusion) pendingClasses = { confusion: r.confusion, misclassified: r.misclassified ?? [], count: r.misclassifiedCount ?? 0 };
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
    if ((s.plotDim ?? s.inputDim) === 2) boundaryPlot.setPrediction(pendingGrid);
    else fitPlot.setPrediction(pendingGrid);
    pendingGrid = null;
  }
  if (pendingClasses && s) {
    renderClasses(s, pendingClasses);
    pendingClasses = null;
  }
  if (lossDirty) {
    const h = state.history;
    lossPlot.setData(h.step, h.train, h.test);
    lossDirty = false;
  }
  renderNumbers();
}

/** The confusion matrix and the strip of misclassified test images. */
function renderClasses(s, { confusion, misclassified, count }) {
  const k = Math.round(Math.sqrt(confusion.length));
  const names = k === s.classes ? s.classNames : null;
  if (!$('fig-confusion').hidden) confusionPlot.setMatrix(confusion, k, names);
  if (!$('fig-mistakes').hidden && s.testImages) {
    const name = (c) => String(names?.[c] ?? c);
    const items = misclassified.map((m) => ({
      pixels: s.testImages.subarray(64 * m.index, 64 * m.index + 64),
      truth: name(m.truth),
      predicted: name(m.predicted),
    }));
    mistakesStrip.setItems(items, count);
  }
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
    onMessage,
    onError,
    refusedText,
    onRestart,
  });
  controls = buildControls($('controls'), values, client.onControlChange);
  client.bind({ controls, shell });
  $('controls').addEventListener('submit', (e) => e.preventDefault());

  lossPlot = new LossPlot($('plot-loss'));
  createPins({ shell, key: ['width', 'lr', 'initScale'], targets: [{ id: 'loss', plot: lossPlot }] });
  fitPlot = new FitPlot($('plot-fit'));
  boundaryPlot = new BoundaryPlot($('plot-boundary'), $('boundary-readout'));
  confusionPlot = new ConfusionPlot($('plot-confusion'));
  mistakesStrip = new DigitStrip($('plot-mistakes'));
  dataPanel = ownDataPanel($('own-data'), { onFile: readFile, onRead: rereadFile, onForget: forgetFile });
  if (values.dataset === 'table') {
    dataPanel.say('This link trained on a file of its author’s own, which is not in the link. Choose the file to train on it.');
  }
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
      { id: 'confusion', title: 'Confusion matrix', plot: confusionPlot },
      { id: 'mistakes', title: 'Misclassified test images', plot: mistakesStrip },
    ],
    report: () => ({ setup: summarySetup(), report: state.report, history: state.history }),
    weights: () => client.exportWeights(),
    linkNote: () => (controls.values.dataset === 'table'
      ? 'The data is your own file and is not in the link: whoever opens it chooses the file.' : null),
    importWeights: (text) => client.importWeights(text),
    rewind: () => client.reset(),
  });

  // The dataset select shows its 1-D / 2-D plot before the first reply arrives.
  const twoD = values.dataset !== 'sine' && values.dataset !== 'table';
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
  return s && {
    task: s.task, inputDim: s.inputDim, outputs: s.outputs ?? 1, classes: s.classes ?? 0, classNames: s.classNames ?? null,
    loss: s.loss ?? 'squared', paramCount: s.paramCount, memoryBytes: s.memoryBytes, gridSpec: s.gridSpec,
    // A run on the reader's own file: the data is not in the link; its hash matches a result to the file.
    ...(s.dataHash ? { dataHash: s.dataHash, dataFile: state.tableName ?? null } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Your own data: the worker parses the file (the engine's table reader) and keeps it; a run on it
// is the dataset 'table'. A file that cannot be read says why and leaves the run as it was.

// The file the worker holds (its name and text), which a fresh worker is handed after a crash,
// and the one being read.
let tableFile = null;
let readingFile = null;

function readFile({ name, text }) {
  // A new file is read with the default options: its last column as the target, the task inferred.
  state.readOptions = { target: null, task: 'auto' };
  state.readingName = name;
  readingFile = { name, text };
  client.post({ type: MSG.READ_TABLE, name, text, options: state.readOptions });
}

/** A fresh worker after a crash: it reads the file the dead one held, before the run is sent. */
function onRestart() {
  readingFile = null;
  if (!tableFile) return;
  state.readingName = tableFile.name;
  client.post({ type: MSG.READ_TABLE, name: tableFile.name, text: tableFile.text, options: state.readOptions });
}

function rereadFile(options) {
  state.readOptions = options;
  state.readingName = state.tableName;
  client.post({ type: MSG.READ_TABLE, name: state.tableName, options });
}

function forgetFile() {
  tableFile = null;
  dataPanel.clear();
  if (controls.values.dataset === 'table') setDataset(CONTROLS.find((c) => c.name === 'dataset').default);
}

/** Switches the dataset control and starts a run on it; the URL follows. */
function setDataset(value) {
  controls.set('dataset', value);
  client.apply();
  shell.writeUrl();
}

function onMessage(msg) {
  if (msg.type !== MSG.TABLE_READ) return;
  if (readingFile) tableFile = readingFile;
  readingFile = null;
  state.tableName = msg.summary?.name ?? state.readingName;
  state.readingName = null;
  dataPanel.showTable({ ...msg.summary, name: state.tableName, taskChoice: state.readOptions?.task ?? 'auto' });
  // Train on it: a new run on the table (its settings stay those of the page).
  if (controls.values.dataset !== 'table') setDataset('table');
  else client.requestConfigure();
}

/** A refused configure: a run on a file the link does not hold says what to do; others as usual. */
function refusedText(message) {
  const reason = String(message).trim().replace(/([^.!?])$/, '$1.');
  if (/not in the link/.test(reason)) {
    return 'This link trains on a file of its author’s own, which is not in the link: choose that file under “Your own data” to train on it.';
  }
  const after = state.shownRunId ? ' The plots show the last run that worked.' : ' Choose a smaller setting to start.';
  return `This setting was refused: ${reason}${after}`;
}

function onError(msg) {
  if (msg.during !== ERROR_DURING.READ_TABLE) return false;
  // The parser's message names the line, column and value; the setting's name adds nothing here.
  const reason = String(msg.message).trim().replace(/^invalid setting `\w+`: /, '').replace(/([^.!?])$/, '$1.');
  const name = state.readingName ?? state.tableName;
  state.readingName = null;
  readingFile = null; // the worker keeps the file it had
  dataPanel.showError(`${name ? `${name}: ` : ''}${reason} The run shown is kept.`);
  return true;
}

start();
