// The step-size page: a network trained by full-batch GD at a finite step beside its
// linearisation at the same step, the sharpness (top Hessian and NTK eigenvalues) against 2/η,
// the step-size slider annotated with the stability and catapult bounds, and phase diagrams.
// The numerics run in scenes/step/worker.js (one instance for the live run, one for phase diagrams);
// the live run's lifecycle is the run client's (run-client.js); this file keeps state and draws
// at most once per frame.

import { MSG, TASK, ERROR_DURING, plainMessage } from '../../core/protocol.js';
import { derive, buildControls, formatInt, formatNumber, labelSettings, formatMeasure } from '../../core/controls.js';
import { controlsFrom, optionsOf, rowOf } from '../../core/settings.js';
import { createScene } from '../../core/shell.js';
import { createRunClient } from '../../core/run-client.js';
import { createTask } from '../../core/task-client.js';
import { createPins } from '../../core/pins.js';
import { SeriesPlot, GridHeatmap, COLORS, seqColor, heatGradientCss, stepLabel } from '../../plots/index.js';

const REGIME_TEXT = { stable: 'stable', catapult: 'catapult', divergent: 'divergent', unsettled: 'not settled' };
// Regime colours (Okabe–Ito): stable blue-green, catapult orange, divergent vermilion-grey, unsettled yellow.
const REGIME_RGB = [[0, 158, 115], [230, 159, 0], [120, 120, 120], [240, 228, 66]];
const REGIME_NAMES = ['stable', 'catapult', 'divergent', 'not settled'];
const SHARP_COLORS = { hessian: '#7B3294', ntk: '#009E73' };
const LAZY_COLORS = { weightChange: '#7B3294', kernelDistance: '#C77C00' };

// ---------------------------------------------------------------------------------------------
// Controls: the Playground's three knobs (the step size as a multiple of the stability bound),
// the network and the data, from the engine's table for the scene (labels, help, defaults, ranges).

const GROUPS = [
  { id: 'knobs', title: 'The three NTK assumptions' },
  { id: 'model', title: 'Network' },
  { id: 'training', title: 'Training' },
  { id: 'data', title: 'Data' },
];

const CONTROLS = controlsFrom('step', [
  derive('width', { positions: 64 }),
  { name: 'lrMultiple', group: 'knobs', positions: 92, live: true },
  derive('initScale', { positions: 40 }),
  derive('depth'),
  derive('activation'),
  derive('parametrization'),
  derive('momentum'),
  derive('weightDecay'),
  { name: 'loss', group: 'training' },
  { name: 'topK', group: 'training' },
  derive('dataset'),
  derive('nTrain', { positions: 40 }),
  derive('noise'),
  derive('seed'),
]);

// The step size restarts the run from θ₀ (the bounds and Θ₀ are kept): cheap enough to follow a
// drag; Restart sends it again.
const LIVE = {
  lrMultiple: { during: ERROR_DURING.SET_LR, failed: 'The step size was not changed', restart: true },
};

// Page options kept in the URL beside the settings (controls.js bindView).
const VIEW = [
  { name: 'logx', kind: 'checkbox', el: 'step-logx', default: true },
  { name: 'phaseAxis', kind: 'select', el: 'phase-axis', options: [['stepSize', 'step size'], ['initScale', 'initialisation scale']], default: 'stepSize' },
  { name: 'phaseSize', kind: 'select', el: 'phase-size', options: [['9', '9'], ['16', '16']], default: '9' },
  // The Playground's backend choices (auto, CPU, GPU), for the diagram's widths.
  { name: 'phaseBackend', kind: 'select', el: 'phase-backend', options: optionsOf('playground', 'backend'), default: rowOf('playground', 'backend').default },
  {
    name: 'phaseMetric', kind: 'select', el: 'phase-metric', default: 'regime',
    options: [['regime', ''], ['finalLoss', ''], ['sharpnessLr', ''], ['weightChange', ''], ['kernelDistance', '']],
  },
];

// Presets: named bundles of overrides of the defaults (the seed is kept), with the page options
// and the figure (`focus`, first in presenter mode) they are about: the catapult's spike and a
// divergence happen in the first steps, so those two set the log step axis.
const PRESETS = [
  { id: 'stable', label: 'Stable: η = 0.9 η₀', values: { lrMultiple: 0.9 } },
  { id: 'catapult', label: 'Catapult: η = 1.5 η₀', values: { lrMultiple: 1.5 }, view: { logx: true }, focus: 'fig-loss' },
  { id: 'divergent', label: 'Divergent: η = 12 η₀', values: { lrMultiple: 12 }, view: { logx: true }, focus: 'fig-loss' },
  { id: 'stable-wide', label: 'Stable, erf, width 4096', values: { lrMultiple: 0.9, activation: 'erf', width: 4096 } },
];

const $ = (id) => document.getElementById(id);

const state = {
  // status (loading | paused | playing | finished | refused | failed), playing, resumeOnChange,
  // runId, shownRunId, report, info and message are kept by the run client (run-client.js).
  values: null,
  // workers: null spreads a diagram on the CPU over a pool of workers; 1 keeps it in one (the
  // benchmark's comparison, set through window.descent.phase).
  phase: { id: 0, status: 'idle', report: null, progress: null, startedAt: 0, ms: null, config: null, workers: null },
};

let client = null;
// The phase diagrams: a background task in a second scenes/step/worker.js.
const phaseTask = createTask({
  workerUrl: new URL('./worker.js', import.meta.url),
  kind: TASK.PHASE,
  name: 'phase diagram',
  onProgress: onPhaseProgress,
  onDone: onPhaseProgress,
  onFail: (text) => setPhaseStatus('failed', text),
  errorText: (message) => `The diagram stopped: ${labelSettings(message, CONTROLS)}`,
});
let controls = null;
let shell = null;
const plots = {};

// ---------------------------------------------------------------------------------------------

function engineConfig(v) {
  return {
    width: v.width, lrMultiple: v.lrMultiple, initScale: v.initScale, depth: v.depth,
    activation: v.activation, parametrization: v.parametrization, dataset: v.dataset,
    nTrain: v.nTrain, noise: v.noise, seed: v.seed, momentum: v.momentum, weightDecay: v.weightDecay,
    loss: v.loss, topK: v.topK,
  };
}

/**
 * The stability bound's formula for the loss, momentum β and weight decay λ_wd of `v`: the
 * kernel's for the squared loss, the Hessian's at θ₀ (top eigenvalue S₀) for cross-entropy.
 */
function boundFormula(v) {
  const beta = v.momentum > 0;
  const wd = v.weightDecay > 0;
  if (v.loss === 'crossEntropy') {
    if (wd) return beta ? '2(1+β)/(S₀ + λ_wd)' : '2/(S₀ + λ_wd)';
    return beta ? '2(1+β)/S₀' : '2/S₀';
  }
  if (wd) return beta ? '2(1+β)/(λ_max(Θ₀)/n + λ_wd)' : '2/(λ_max(Θ₀)/n + λ_wd)';
  return beta ? '2(1+β)n/λ_max(Θ₀)' : '2n/λ_max(Θ₀)';
}

/** The label of the edge-of-stability line: 2/η, with momentum 2(1+β)/η, less λ_wd with weight decay. */
function edgeLabel(v) {
  return `${v.momentum > 0 ? '2(1+β)/η' : '2/η'}${v.weightDecay > 0 ? ' − λ_wd' : ''}`;
}

/** The controls' change callback: a change that changes nothing is no new run (nor a restart). */
function onControlChange(name, value, opts) {
  if (!opts.changed) return;
  client.onControlChange(name, value, opts);
  if (name === 'lrMultiple') renderRuler();
}

function onReady(info) {
  $('stat-backend').textContent = `CPU (wasm${info.build?.simd ? ' SIMD' : ''})`;
  $('build-info').textContent = `Descent ${info.build?.version ?? ''}.`;
}

function onReport(msg) {
  state.report = msg.report;
  client.queueFrame();
}

// ---------------------------------------------------------------------------------------------
// Drawing.

function render() {
  const r = state.report;
  renderRuler();
  if (!r) return;
  document.body.dataset.step = String(r.step);
  $('stat-step').textContent = formatInt(r.step);
  $('stat-lr').textContent = formatMeasure(r.lr, 3);
  $('stat-bound').textContent = formatMeasure(r.stabilityBound, 3);
  $('stat-params').textContent = formatInt(r.paramCount);

  const steps = Float64Array.from({ length: r.loss.length }, (_, i) => i);
  // The linearisation's blow-up is cut at 10⁴ × the starting loss so that the network's own
  // spike stays readable; the marker says where it diverges.
  const cap = 1e4 * Math.max(r.initialLoss ?? 1, 1e-6);
  const lin = r.linearizedLoss.map((v) => (v > cap ? NaN : v));
  plots.loss.setData(steps, r.loss, lin);
  const markers = [];
  if (r.linearizedDiverged != null) markers.push({ x: r.linearizedDiverged, label: `linearised diverges (step ${r.linearizedDiverged})`, color: COLORS.test });
  if (r.diverged != null) markers.push({ x: r.diverged, label: `network diverged at step ${r.diverged}`, color: '#444' });
  plots.loss.setMarkers(markers);

  // The marker first: a chart built again for another k must not be redrawn before its first draw.
  plots.sharp.setMarkers([{ y: r.twoOverLr, label: edgeLabel(state.values), color: '#b00020', dash: [8, 4] }]);
  setSharpData(r);
  plots.lazy.setData(r.trackSteps, r.weightChange, r.kernelDistance);

  const regime = r.regime ?? 'stable';
  const el = $('regime');
  el.dataset.regime = regime;
  $('regime-name').textContent = REGIME_TEXT[regime] ?? regime;
  $('regime-text').textContent = r.explanation ?? '';
  $('regime-settled').textContent = r.settled ? '' : '(so far: the run has not settled yet)';
  const last = (a) => (a && a.length ? a[a.length - 1] : NaN);
  $('m-loss').textContent = formatMeasure(last(r.loss));
  $('m-lin').textContent = r.linearizedDiverged != null ? `diverged at step ${r.linearizedDiverged}` : formatMeasure(last(r.linearizedLoss));
  $('m-sharp').textContent = Number.isFinite(last(r.sharpness)) ? `${formatMeasure(last(r.sharpness))} (${edgeLabel(state.values)} = ${formatMeasure(r.twoOverLr)})` : '—';
  $('m-wc').textContent = formatMeasure(last(r.weightChange));
  $('m-kd').textContent = formatMeasure(last(r.kernelDistance));
  $('plot-loss').setAttribute('aria-label', `Training loss of the network and of its linearisation against step. Regime: ${REGIME_TEXT[regime] ?? regime}. ${r.explanation ?? ''}`);
}

/** The annotated step-size axis: zones, the bounds and the current η/η₀. */
function renderRuler() {
  const r = state.report;
  const lo = 0.1;
  const hi = 20;
  const pos = (m) => `${(100 * Math.log(m / lo)) / Math.log(hi / lo)}%`;
  const cat = r?.catapultMultiple;
  const m = state.values.lrMultiple;
  $('ruler-stable').style.width = pos(1);
  const catWidth = Number.isFinite(cat) ? Math.log(Math.min(cat, hi)) / Math.log(hi / lo) * 100 : 0;
  $('ruler-catapult').style.left = pos(1);
  $('ruler-catapult').style.width = `${catWidth}%`;
  $('ruler-mark-cat').hidden = !Number.isFinite(cat);
  if (Number.isFinite(cat)) {
    $('ruler-mark-cat').style.left = pos(Math.min(cat, hi));
    $('ruler-cat-label').textContent = `catapult bound ≈ ${formatMeasure(cat, 2)} η₀`;
    const s0 = r?.sharpnessInit;
    const hessianNote = Number.isFinite(s0)
      ? ` S₀ = ${formatMeasure(s0, 3)} is the Hessian's top eigenvalue at θ₀ (cross-entropy); the NTK's λ_max(Θ₀)/2n = ${formatMeasure(r.ntkTopInit / 2, 3)} is a guide at initialisation only.`
      : '';
    $('ruler-source').textContent = (r?.catapultSource ? `Catapult bound: ${r.catapultSource}.` : '') + hessianNote;
  }
  $('ruler-now').style.left = pos(Math.min(hi, Math.max(lo, m)));
  $('ruler-now-label').textContent = `Now η = ${formatMeasure(m, 2)} η₀${r && Number.isFinite(r.stabilityBound) ? ` = ${formatMeasure(m * r.stabilityBound, 3)}` : ''}.`;
  const formula = boundFormula(state.values);
  $('ruler-bound-label').textContent = r && Number.isFinite(r.stabilityBound) ? `η₀ = ${formula} = ${formatMeasure(r.stabilityBound, 3)}` : `η₀ = ${formula}`;
}

// ---------------------------------------------------------------------------------------------
// The sharpness plot: the top k eigenvalues of the Hessian and of Θ/n (k = the topK setting),
// λ1 bold as the sharpness and λ_max(Θ)/n, λ2…λk thinner in the same colours.

function topK() {
  const k = Math.round(Number(state.values?.topK));
  return Number.isFinite(k) ? Math.min(8, Math.max(1, k)) : 3;
}

function sharpSeries(k) {
  const out = [];
  for (const [kind, name, dash] of [['hessian', 'Hessian', undefined], ['ntk', 'NTK', [2, 3]]]) {
    for (let i = 1; i <= k; i++) {
      out.push({
        label: `${name} λ${i}${kind === 'ntk' ? ' of Θ/n' : ''}`,
        stroke: SHARP_COLORS[kind],
        width: i === 1 ? 2.25 : 1.25,
        dash,
        points: i === 1 ? 'auto' : false,
      });
    }
  }
  return out;
}

/** The report's top-k spectra on the plot (rebuilt when k changed), λ1 as `sharpness`/`ntkTop`. */
function setSharpData(r) {
  const k = topK();
  const p = plots.sharp;
  // A report with no tracked steps (a run refused or not yet measured) draws empty curves.
  const steps = r.trackSteps ?? [];
  const column = (rows, i) => Float64Array.from(steps, (_, t) => rows?.[t]?.[i] ?? NaN);
  const first = (a) => a ?? Float64Array.from(steps, () => NaN);
  const hessian = Array.from({ length: k }, (_, i) => (i === 0 ? first(r.sharpness) : column(r.hessianTop, i)));
  const ntk = Array.from({ length: k }, (_, i) => (i === 0 ? first(r.ntkTop) : column(r.ntkSpectrum, i)));
  if (p.opts.series.length === 2 * k) {
    p.setData(steps, ...hessian, ...ntk);
    return;
  }
  // Another k: the chart is built again for 2k curves, with this report's data from the start.
  p.opts.series = sharpSeries(k);
  p.last = [steps, ...hessian, ...ntk];
  p.u.destroy();
  p.create();
}

function setLogSteps(on) {
  for (const k of ['loss', 'sharp', 'lazy']) plots[k].setLogX(on);
  client.queueFrame();
}

const stepAxis = { label: (log) => (log ? 'step (log scale)' : 'step'), name: 'step', format: stepLabel, log: true };

function buildPlots() {
  plots.loss = new SeriesPlot($('plot-loss'), {
    x: stepAxis,
    y: { label: 'training loss', log: true },
    series: [
      { label: 'network', stroke: COLORS.train, width: 2.25, points: 'auto' },
      { label: 'linearised (same η)', stroke: COLORS.test, width: 2, dash: [8, 4], points: 'auto' },
    ],
  });
  plots.sharp = new SeriesPlot($('plot-sharp'), {
    x: stepAxis,
    y: { label: 'top eigenvalues', log: true },
    series: sharpSeries(topK()),
  });
  plots.lazy = new SeriesPlot($('plot-lazy'), {
    x: stepAxis,
    y: { label: 'relative change', log: true },
    series: [
      { label: '‖θ − θ₀‖/‖θ₀‖', stroke: LAZY_COLORS.weightChange, width: 2 },
      { label: '‖Θ − Θ₀‖/‖Θ₀‖', stroke: LAZY_COLORS.kernelDistance, width: 2, dash: [7, 4] },
    ],
  });
  plots.phase = new GridHeatmap($('plot-phase'), {
    x: { label: 'width' },
    y: { label: 'η / η₀' },
    readout: $('phase-readout'),
    describe: describeCell,
  });
}

// ---------------------------------------------------------------------------------------------
// Phase diagrams.

const METRICS = {
  regime: { label: 'regime', of: (r) => r.regime },
  finalLoss: { label: 'final training loss (log)', of: (r) => r.finalLoss, log: true },
  sharpnessLr: { label: 'final sharpness × η (2 is the edge)', of: (r) => r.sharpnessLr, range: [0, 4] },
  weightChange: { label: 'relative weight change (log)', of: (r) => r.weightChange, log: true },
  kernelDistance: { label: 'kernel distance (log)', of: (r) => r.kernelDistance, log: true },
};

function phaseConfig() {
  const v = state.values;
  const axis = $('phase-axis').value === 'initScale' ? 'initScale' : 'stepSize';
  const size = Number($('phase-size').value) === 16 ? 16 : 9;
  // The diagram's batched networks train plain gradient descent on the squared loss (the engine
  // refuses momentum, weight decay and cross-entropy there, naming them), and its bound is
  // 2n/λ_max(Θ₀).
  const base = { ...engineConfig(v), nTrain: Math.min(v.nTrain, 32), measureCatapult: false, momentum: 0, weightDecay: 0, loss: 'squared' };
  const cfg = {
    base, axis, widthMin: 16, widthMax: 4096, widthCount: size,
    yCount: size === 16 ? 16 : 13,
    steps: 300,
  };
  if (axis === 'initScale') Object.assign(cfg, { yMin: 0.1, yMax: 10, lrMultiple: Math.min(v.lrMultiple, 0.9) });
  else Object.assign(cfg, { yMin: 0.25, yMax: 16 });
  return cfg;
}

function startPhase() {
  const p = state.phase;
  p.config = phaseConfig();
  p.report = null;
  p.progress = null;
  p.startedAt = performance.now();
  p.ms = null;
  // The metric that fits the axis: regimes over step sizes, weight change over init scales.
  $('phase-metric').value = p.config.axis === 'initScale' ? 'weightChange' : $('phase-metric').value === 'weightChange' ? 'regime' : $('phase-metric').value;
  setPhaseStatus('running', 'starting…');
  p.id = phaseTask.start({ config: p.config, backend: $('phase-backend').value, workers: p.workers ?? undefined });
}

function cancelPhase() {
  if (!phaseTask.cancel()) return;
  const done = state.phase.progress?.done ?? 0;
  const total = state.phase.progress?.total ?? 0;
  setPhaseStatus('cancelled', `cancelled after ${formatInt(done)} of ${formatInt(total)} runs; those are drawn`);
}

function setPhaseStatus(s, text) {
  state.phase.status = s;
  document.body.dataset.phase = s;
  $('btn-phase').hidden = s === 'running';
  $('btn-phase-cancel').hidden = s !== 'running';
  $('phase-progress').hidden = s === 'idle';
  if (text != null) $('phase-status').textContent = plainMessage(text);
}

/** Which backend trains the diagram's current width, and the note when a GPU was wanted but is not used. */
function showPhaseBackend(progress) {
  const gpu = progress.backend === 'webgpu';
  $('phase-backend-now').textContent = gpu ? 'GPU · WebGPU' : 'CPU · wasm SIMD';
  document.body.dataset.phaseBackend = gpu ? 'webgpu' : 'cpu';
  const note = $('phase-note');
  note.hidden = !progress.notice;
  note.textContent = progress.notice ? plainMessage(progress.notice) : '';
  // The technical reason goes to the console once per diagram, for developers.
  if (progress.noticeDetail && state.phase.loggedDetail !== state.phase.id) {
    state.phase.loggedDetail = state.phase.id;
    console.info(`Descent: ${progress.notice} Detail: ${progress.noticeDetail}`);
  }
}

function onPhaseProgress(msg) {
  const p = state.phase;
  p.report = msg.report;
  p.progress = msg.progress;
  const bar = $('phase-bar');
  bar.max = 1;
  bar.value = msg.progress.fraction;
  showPhaseBackend(msg.progress);
  if (msg.type === MSG.TASK_DONE) {
    p.ms = performance.now() - p.startedAt;
    const workers = msg.progress.workers > 1 ? ` on ${msg.progress.workers} workers` : '';
    setPhaseStatus('done', `${formatInt(msg.progress.total)} runs in ${formatNumber(p.ms / 1000, 3)} s${workers}`);
  } else {
    $('phase-status').textContent = `${formatInt(msg.progress.done)} of ${formatInt(msg.progress.total)} runs; ${plainMessage(msg.progress.activity)}…`;
  }
  renderPhase();
}

function renderPhase() {
  const r = state.phase.report;
  if (!r) return;
  const key = $('phase-metric').value in METRICS ? $('phase-metric').value : 'regime';
  const metric = METRICS[key];
  const raw = metric.of(r) ?? [];
  let color;
  let values = raw;
  let lo = NaN;
  let hi = NaN;
  if (key === 'regime') {
    color = (v) => REGIME_RGB[v] ?? [255, 255, 255];
    $('phase-legend').replaceChildren(...REGIME_NAMES.map((name, i) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch-box';
      sw.style.background = `rgb(${REGIME_RGB[i].join(',')})`;
      li.append(sw, name);
      return li;
    }));
    $('phase-colorbar').hidden = true;
  } else {
    const finiteVals = raw.filter((v) => v != null && Number.isFinite(v) && (!metric.log || v > 0));
    if (metric.range) [lo, hi] = metric.range;
    else {
      lo = Math.min(...finiteVals);
      hi = Math.max(...finiteVals);
    }
    const t = (v) => {
      if (metric.log) return (Math.log10(v) - Math.log10(lo)) / Math.max(1e-12, Math.log10(hi) - Math.log10(lo));
      return (v - lo) / Math.max(1e-12, hi - lo);
    };
    values = raw.map((v) => (v == null || (metric.log && v <= 0) ? null : v));
    color = (v) => seqColor(t(v));
    $('phase-legend').replaceChildren();
    $('phase-colorbar').hidden = !finiteVals.length;
    $('phase-bar-gradient').style.background = heatGradientCss(seqColor);
    $('phase-lo').textContent = formatMeasure(lo, 2);
    $('phase-hi').textContent = formatMeasure(hi, 2);
    $('phase-title').textContent = metric.label;
  }
  // Divergent cells carry no final numbers: they are drawn grey in every view.
  const regimes = r.regime ?? [];
  const shown = values.map((v, i) => (regimes[i] === 2 && key !== 'regime' ? -1 : v));
  const paint = (v) => (v === -1 ? REGIME_RGB[2] : color(v));
  const ys = r.ys;
  $('plot-phase').hidden = false;
  plots.phase.opts.y.label = r.axis === 'initScale' ? 'initialisation scale s' : 'η / η₀';
  // The same key in exports: every regime's colour, or the scale and the grey of divergent cells.
  const categories = REGIME_NAMES.map((label, i) => ({ label, color: REGIME_RGB[i] }));
  plots.phase.setLegend(key === 'regime' ? { categories } : {
    categories: [{ label: 'divergent (no final value)', color: REGIME_RGB[2] }],
    scale: { label: metric.label.replace(/ \(log\)$/, ''), lo, hi, log: !!metric.log, color: seqColor },
  });
  plots.phase.setData(r.widths, ys, shown, paint);
  const v = state.values;
  plots.phase.setMarker({ x: v.width, y: r.axis === 'initScale' ? v.initScale : v.lrMultiple, label: 'the live run’s setting' });
  $('plot-phase').setAttribute('aria-label', `Phase diagram of ${metric.label} over width and ${r.axis === 'initScale' ? 'initialisation scale' : 'step size'}; ${$('phase-status').textContent}`);
}

function describeCell(i, j) {
  const r = state.phase.report;
  if (!r) return '';
  const idx = j * r.widths.length + i;
  const code = r.regime?.[idx];
  if (code == null) return `width ${formatInt(r.widths[i])}: not computed yet`;
  const y = r.axis === 'initScale' ? `s = ${formatMeasure(r.ys[j], 2)}` : `η = ${formatMeasure(r.ys[j], 2)} η₀`;
  const parts = [`width ${formatInt(r.widths[i])}, ${y}: ${REGIME_NAMES[code]}`];
  if (code !== 2) {
    parts.push(`final loss ${formatMeasure(r.finalLoss?.[idx])}`, `sharpness × η ${formatMeasure(r.sharpnessLr?.[idx])}`, `weight change ${formatMeasure(r.weightChange?.[idx])}`);
  }
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------

function start() {
  shell = createScene({ scene: 'step', controls: CONTROLS, view: VIEW, presets: PRESETS });
  const { values, autoplay } = shell;
  client = createRunClient({
    workerUrl: new URL('./worker.js', import.meta.url),
    state,
    live: LIVE,
    ids: { reset: 'btn-restart' },
    // Reset (Restart here) goes back to θ₀ at the same step size; the bounds and Θ₀ are kept.
    onReset: () => client.sendLive('lrMultiple'),
    refusedText: (message) => `These settings were refused: ${labelSettings(message, CONTROLS)}`,
    onReady,
    onReport,
    render,
  });
  controls = buildControls($('controls'), values, onControlChange, { controls: CONTROLS, groups: GROUPS });
  client.bind({ controls, shell });
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  buildPlots();
  // Pins keep the network's loss, its sharpness and its weight change.
  createPins({
    shell,
    key: ['lrMultiple', 'width', 'initScale'],
    targets: [{ id: 'loss', plot: plots.loss, series: [0] }, { id: 'sharpness', plot: plots.sharp, series: [0] }, { id: 'lazy', plot: plots.lazy, series: [0] }],
  });
  renderRuler();
  $('step-logx').addEventListener('change', (e) => setLogSteps(e.target.checked));
  $('btn-phase').addEventListener('click', startPhase);
  $('btn-phase-cancel').addEventListener('click', cancelPhase);
  $('phase-metric').addEventListener('change', renderPhase);
  setPhaseStatus('idle');
  shell.attach({
    api: controls,
    apply: () => {
      client.apply();
      renderRuler();
    },
    actions: client.wireButtons(),
    plots: () => [
      { id: 'loss', title: 'The network and its linearisation, same step', plot: plots.loss },
      { id: 'sharpness', title: 'Sharpness against 2/η', plot: plots.sharp },
      { id: 'lazy', title: 'How far the weights and the kernel move', plot: plots.lazy },
      { id: 'phase', title: 'Phase diagram', plot: plots.phase },
    ],
    report: () => ({ report: state.report, phase: state.phase.report && { config: state.phase.config, report: state.phase.report } }),
    // The live run's weights; no import: the curves follow one run from θ₀ (its restart is
    // the rewind).
    weights: () => client.exportWeights(),
    rewind: () => client.reset(),
  });

  window.descent = client.hook({
    controls: CONTROLS,
    get report() {
      return state.report;
    },
    get phase() {
      return state.phase;
    },
    /** Simulates a lost GPU under the phase diagram in training: it continues on the CPU. */
    loseDevice() {
      phaseTask.post({ type: MSG.LOSE_DEVICE });
    },
  });

  if (client.start({ autoplay })) shell.writeUrl();
}

start();
