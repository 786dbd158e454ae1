// The double-descent page. Random-features regression runs in a small pool of workers
// (scenes/double-descent/worker.js), each holding a contiguous block of the seeds; the pool, its run ids and its live
// settings are run-core.js's; this file splits the seeds, pools the per-seed curves into mean ±
// standard error, and draws at most once per frame. The ridge, the label noise and the teacher
// re-fit from the cached factorisations in every worker at once. The isotropic linear model is a
// background task in a worker of its own (task-client.js), and so is the trained-network width
// sweep (scenes/double-descent/trained.js).

import { MSG, TASK, ERROR_DURING, plainMessage } from '../../core/protocol.js';
import { derive, buildControls, formatInt, labelSettings, formatMeasure } from '../../core/controls.js';
import { controlsFrom } from '../../core/settings.js';
import { createScene } from '../../core/shell.js';
import { createRunCore } from '../../core/run-core.js';
import { createTask } from '../../core/task-client.js';
import { SeriesPlot, COLORS } from '../../plots/index.js';
import { TrainedSweepPanel } from './trained.js';
import { createPins } from '../../core/pins.js';

const MAX_WORKERS = 4;
const DIGITS_ROWS = 1797;
const N_TEST = 1000;
// The isotropic model's Monte-Carlo points: n, the γ values (γ = 1 itself only with a ridge,
// where the minimum-norm risk has no finite expectation nearby) and draws per point.
const ISO_N = 100;
const ISO_GAMMAS = [0.1, 0.16, 0.25, 0.4, 0.5, 0.63, 0.8, 1.25, 1.6, 2, 2.5, 4, 6.3, 10];
const ISO_REPS = 40;

const THEORY_COLOR = '#1b1b1b';
const NORM_COLOR = '#009E73';
const ERR_COLOR = '#CC79A7';

// ---------------------------------------------------------------------------------------------
// Controls: the engine's table for the scene (labels, help, defaults, ranges; see settings.js),
// with how each is shown. Every entry is a field of the engine's DoubleDescentConfig and a URL key.

const GROUPS = [
  { id: 'sweep', title: 'What is swept' },
  { id: 'fit', title: 'Fit' },
  { id: 'data', title: 'Data' },
];

const sphere = (v) => v.data === 'sphere';

const CONTROLS = controlsFrom('double-descent', [
  { name: 'sweep', group: 'sweep' },
  { name: 'data', group: 'sweep' },
  { name: 'features', group: 'sweep' },
  { name: 'ridge', group: 'fit', positions: 70, live: true },
  { name: 'seeds', group: 'fit' },
  { name: 'nTrain', group: 'data', positions: 60, enabledWhen: (v) => v.sweep === 'features' },
  { name: 'nFeatures', group: 'data', positions: 60, enabledWhen: (v) => v.sweep === 'samples' },
  { name: 'dim', group: 'data', positions: 54, enabledWhen: sphere },
  { name: 'noise', group: 'data', step: 0.05, live: true },
  { name: 'teacher', group: 'data', live: true, enabledWhen: sphere },
  derive('seed', { group: 'data' }),
]);

const LIVE_NAMES = ['ridge', 'noise', 'teacher'];

// Page options kept in the URL beside the settings (controls.js bindView).
const VIEW = [
  { name: 'x', kind: 'select', el: 'x-axis', options: [['ratio', 'size ratio'], ['params', 'parameters per point']], default: 'ratio' },
];

const OPTIMAL_RIDGE_AT_DEFAULTS = 0.051;

// Presets: named bundles of overrides of the defaults (the seed is kept). The optimal ridge is
// Mei–Montanari's λ* at the default settings (the page's "Use the optimal ridge" button).
const PRESETS = [
  { id: 'ridgeless', label: 'Ridgeless: the peak at p = n', values: {} },
  { id: 'optimal-ridge', label: 'Optimal ridge: no peak', values: { ridge: OPTIMAL_RIDGE_AT_DEFAULTS } },
  { id: 'noiseless', label: 'No label noise', values: { noise: 0 } },
  { id: 'samples', label: 'Sample-wise: more data can hurt', values: { sweep: 'samples' } },
  { id: 'digits', label: 'Digits: the threshold at p·K = n·K', values: { data: 'digits' }, view: { x: 'params' } },
];

const $ = (id) => document.getElementById(id);

const state = {
  // run-core.js adds status (loading | computing | done | refused | failed), runId, liveVersion,
  // info, message and workers: one record per worker, where this file keeps its block {offset,
  // count}, its latest report (`part`, fitted at live settings `partVersion`) and whether it is done.
  values: null,
  startedAt: 0,
  firstSeedMs: null,
  fullMs: null,
  pooled: null, // the pooled curves on screen
  iso: { id: 0, curves: null, points: [] },
  xAxis: 'ratio',
};

let controls = null;
let shell = null;
const plots = {};
let frame = 0;
let trained = null;
let pins = null;

// The random-features workers: one SET in flight per worker, the changes made meanwhile follow
// together when it answers.
const core = createRunCore({
  workerUrl: new URL('./worker.js', import.meta.url),
  size: Math.max(1, Math.min(MAX_WORKERS, (navigator.hardwareConcurrency || 2))),
  state,
  oneSetInFlight: true,
  failKind: 'error',
  texts: {
    noStart: 'The engine\'s worker could not start',
    noLoad: 'The engine could not be loaded',
    unreadable: 'A worker sent a message the page could not read.',
    engine: 'The engine',
  },
  onReady,
  onMessage,
  onFail: () => {
    $('busy').hidden = true;
  },
  onCrash: () => {
    $('busy').hidden = true;
  },
});
const { setMessage, setStatus } = core;

// The isotropic model: a worker of its own, since a Monte-Carlo point takes up to ~150 ms, which
// must not hold up the random-features workers' re-fits.
const isoTask = createTask({
  workerUrl: new URL('./worker.js', import.meta.url),
  kind: TASK.ISOTROPIC,
  name: 'isotropic-model worker',
  onProgress: onIso,
  onDone: onIso,
  onFail: (text) => {
    $('iso-note').textContent = plainMessage(text);
  },
  errorText: (message) => message,
});

// ---------------------------------------------------------------------------------------------
// The engine settings of the current controls.

function gridExtent(v) {
  return v.sweep === 'features' ? v.nTrain : Math.round(10 * v.nFeatures);
}

function engineConfig(v) {
  const nTest = v.data === 'digits' ? Math.max(10, Math.min(N_TEST, DIGITS_ROWS - gridExtent(v))) : N_TEST;
  return {
    data: v.data,
    sweep: v.sweep,
    features: v.features,
    nTrain: v.nTrain,
    nFeatures: v.nFeatures,
    dim: v.dim,
    nTest,
    teacher: v.teacher,
    noise: v.noise,
    ridge: v.ridge,
    seeds: v.seeds,
    seed: v.seed,
  };
}

/** Contiguous blocks of the seeds, one per worker (earlier workers take the remainder). */
function blocks(seeds, workers) {
  const out = [];
  let offset = 0;
  for (let j = 0; j < workers; j++) {
    const count = Math.floor(seeds / workers) + (j < seeds % workers ? 1 : 0);
    out.push({ offset, count });
    offset += count;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** A new sweep: each worker computes its block of the seeds (a worker with none sits it out). */
function configure() {
  if (state.status === 'crashed') {
    shell.writeUrl(); // the settings are kept for the restart (run-core.js), which configures
    return;
  }
  if (!state.workers.length || state.workers.some((w) => !w.ready)) return;
  state.startedAt = performance.now();
  state.firstSeedMs = null;
  state.fullMs = null;
  const cfg = engineConfig(state.values);
  const parts = blocks(cfg.seeds, state.workers.length);
  core.configure((w, j) => {
    w.block = parts[j];
    w.part = null;
    w.done = parts[j].count === 0;
    if (w.done) return null;
    return { config: { ...cfg, seed: cfg.seed + parts[j].offset, seeds: parts[j].count }, whole: cfg };
  });
  setStatus('computing');
  $('busy').hidden = false;
  setMessage(null, null);
  renderProgress();
  requestIsotropic();
  shell.writeUrl();
}

function requestIsotropic(withMonteCarlo = true) {
  const v = state.values;
  state.iso.points = [];
  state.iso.curves = null;
  const gammas = v.ridge > 0 ? [...ISO_GAMMAS.slice(0, 7), 1, ...ISO_GAMMAS.slice(7)] : ISO_GAMMAS;
  state.iso.id = isoTask.start({
    config: { n: ISO_N, signal: 1, noise: v.noise, ridge: v.ridge, gammaMin: 0.1, gammaMax: 10, points: 241 },
    mc: withMonteCarlo ? { n: ISO_N, gammas, reps: ISO_REPS, seed: v.seed } : null,
  });
}

function onControlChange(name, value, { final, changed }) {
  if (!changed && !final) return;
  if (LIVE_NAMES.includes(name) && state.status !== 'refused' && state.status !== 'loading' && state.status !== 'crashed') {
    if (!changed) return;
    core.set({ [name]: state.values[name] });
    // The isotropic curves follow every move; its Monte-Carlo points are redrawn on release.
    if (name !== 'teacher') requestIsotropic(final);
    shell.writeUrl();
    return;
  }
  if (!final) return; // rebuilding settings apply when the slider is released
  configure();
}

// ---------------------------------------------------------------------------------------------
// Replies.

function onReady(info) {
  const n = state.workers.length;
  $('stat-backend').textContent = `CPU (wasm${info.build?.simd ? ' SIMD' : ''}) · ${n} worker${n > 1 ? 's' : ''}`;
  $('build-info').textContent = `Descent ${info.build?.version ?? ''}.`;
  configure();
}

/** A reply of the newest sweep from worker `w` (run-core.js drops the stale ones). */
function onMessage(msg, w) {
  if (msg.type === MSG.PROGRESS) {
    w.part = msg.report;
    w.partVersion = msg.version;
    w.done = msg.done;
    if (state.firstSeedMs == null) state.firstSeedMs = performance.now() - state.startedAt;
    if (state.workers.every((x) => x.done) && state.fullMs == null) {
      state.fullMs = performance.now() - state.startedAt;
      setStatus('done');
      $('busy').hidden = true;
    }
  } else if (msg.type === MSG.ERROR && msg.during === ERROR_DURING.CONFIGURE) {
    // Refused settings: say why; the curves on screen stay, marked as stale.
    setStatus('refused');
    $('busy').hidden = true;
    setMessage('error', `These settings were refused: ${labelSettings(msg.message, CONTROLS)}`);
    for (const x of state.workers) x.done = true;
  } else if (msg.type === MSG.ERROR) {
    setMessage('error', msg.message);
  }
  schedule();
}

/** The isotropic task's curves (first), then each Monte-Carlo point. */
function onIso(msg) {
  if (msg.curves) state.iso.curves = msg.curves;
  // A point keeps the fields the report export has always given it.
  if (msg.point) state.iso.points[msg.point.index] = { type: 'isoPoint', id: msg.id, ...msg.point };
  schedule();
}

// ---------------------------------------------------------------------------------------------
// Pooling the workers' per-seed curves.

function meanSe(rows, key, len) {
  const mean = new Float64Array(len).fill(NaN);
  const se = new Float64Array(len).fill(NaN);
  for (let i = 0; i < len; i++) {
    const vals = [];
    for (const r of rows) {
      const v = r[key]?.[i];
      if (Number.isFinite(v)) vals.push(v);
    }
    if (!vals.length) continue;
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    mean[i] = m;
    if (vals.length > 1) {
      const var_ = vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1);
      se[i] = Math.sqrt(var_ / vals.length);
    } else {
      se[i] = 0;
    }
  }
  return { mean, se };
}

/** The curves pooled over every worker that has answered at the current live settings. */
function pool() {
  const parts = state.workers.filter((w) => w.part);
  if (!parts.length) return null;
  // While a re-fit is under way, keep drawing the last consistent set.
  if (parts.some((w) => w.partVersion !== state.liveVersion) && state.pooled) return state.pooled;
  const base = parts[0].part;
  const rows = parts.flatMap((w) => w.part.perSeed).sort((a, b) => a.seed - b.seed);
  const len = base.ratio.length;
  const digits = rows.some((r) => r.testError);
  return {
    base,
    rows,
    seedsDone: rows.length,
    seeds: state.workers.reduce((a, w) => a + (w.block?.count ?? 0), 0),
    train: meanSe(rows, 'trainMse', len),
    test: meanSe(rows, 'testMse', len),
    norm: meanSe(rows, 'norm', len),
    testError: digits ? meanSe(rows, 'testError', len) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Drawing.

function schedule() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    render();
  });
}

function xValues(base) {
  if (state.xAxis === 'params') {
    // Second-layer parameters per training point, p·K/n.
    return Float64Array.from(base.params, (q, i) => q / base.n[i]);
  }
  return base.ratio;
}

function xLabel() {
  const sw = state.pooled?.base.sweep ?? state.values.sweep;
  if (state.xAxis === 'params') return 'parameters per point  p·K / n';
  return sw === 'samples' ? 'samples per feature  n / p' : 'features per point  p / n';
}

function thresholdX(base) {
  return state.xAxis === 'params' ? base.outputs : 1;
}

function thresholdLabel(base) {
  const k = base.outputs;
  if (state.xAxis === 'params') return k > 1 ? `p·K = n·K (K = ${k})` : 'p = n';
  return base.sweep === 'samples' ? 'n = p' : 'p = n';
}

function render() {
  const pooled = pool();
  state.pooled = pooled;
  renderProgress();
  renderStats();
  if (!pooled) return;
  const { base } = pooled;
  const xs = xValues(base);
  const thr = { x: thresholdX(base), label: thresholdLabel(base), color: '#555' };

  plots.curve.setData(xs, pooled.test.mean, pooled.train.mean, base.theory ?? new Float64Array(xs.length).fill(NaN));
  plots.curve.setErrors([pooled.test.se, pooled.train.se, null]);
  const hasTheory = !!base.theory;
  if (plots.curve.u.series[3].show !== hasTheory) plots.curve.u.setSeries(3, { show: hasTheory });
  const markers = [thr];
  if (Number.isFinite(base.theoryKernelLimit) && base.sweep === 'features') {
    markers.push({ y: base.theoryKernelLimit, label: 'kernel limit p → ∞', color: THEORY_COLOR, dash: [2, 4] });
  }
  plots.curve.setMarkers(markers);

  plots.norm.setData(xs, pooled.norm.mean);
  plots.norm.setErrors([pooled.norm.se]);
  plots.norm.setMarkers([thr]);

  $('fig-class').hidden = !pooled.testError;
  if (pooled.testError) {
    plots.cls.setData(xs, pooled.testError.mean);
    plots.cls.setErrors([pooled.testError.se]);
    plots.cls.setMarkers([thr]);
  }
  renderReadout(pooled, xs);
  renderIsotropic();
}

function renderProgress() {
  const pooled = state.pooled;
  const total = state.workers.reduce((a, w) => a + (w.block?.count ?? 0), 0);
  const done = pooled?.seedsDone ?? 0;
  const bar = $('seed-bar');
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, total);
  const running = state.status === 'computing';
  $('seed-status').textContent = running
    ? `seed ${Math.min(done + 1, total)} of ${total} computing…`
    : state.status === 'done' ? `${total} seed${total === 1 ? '' : 's'} done` : '';
}

function renderStats() {
  const p = state.pooled;
  $('stat-sizes').textContent = p ? formatInt(p.base.ratio.length) : '—';
  $('stat-seeds').textContent = p ? `${p.seedsDone} / ${p.seeds}` : '—';
  $('stat-first').textContent = state.firstSeedMs != null ? `${formatInt(state.firstSeedMs)} ms` : '—';
  $('stat-full').textContent = state.fullMs != null ? `${formatInt(state.fullMs)} ms` : '—';
}

function renderReadout(pooled, xs) {
  const { base, test } = pooled;
  const v = state.values;
  let peak = -1;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(test.mean[i]) && (peak < 0 || test.mean[i] > test.mean[peak])) peak = i;
  const thrX = thresholdX(base);
  const lines = [];
  if (peak >= 0) {
    const where = `${state.xAxis === 'params' ? 'p·K/n' : base.sweep === 'samples' ? 'n/p' : 'p/n'} = ${formatMeasure(xs[peak], 3)}`;
    const near = Math.abs(Math.log(xs[peak] / thrX)) < 0.12;
    lines.push(`Highest test error ${formatMeasure(test.mean[peak])} ± ${formatMeasure(test.se[peak], 2)} at ${where}${near ? ', the interpolation threshold' : ''}.`);
  }
  const best = base.theoryOptimalRidge;
  const btn = $('btn-optimal');
  btn.hidden = !Number.isFinite(best);
  if (Number.isFinite(best)) {
    btn.textContent = `Use the optimal ridge λ* ≈ ${formatMeasure(best, 2)}`;
    lines.push(`Theory: the ridge λ* ≈ ${formatMeasure(best, 2)} minimises the asymptotic risk at the threshold${v.ridge > 0 ? ` (now λ = ${formatMeasure(v.ridge, 2)})` : ''}.`);
  }
  if (!base.theory) {
    lines.push(v.data === 'digits'
      ? 'No theory curve for the digits: it is real data.'
      : 'The Mei–Montanari curve is drawn for ReLU features only.');
  }
  $('readout').textContent = lines.join(' ');
  $('plot-curve').setAttribute('aria-label', `Test and train error against ${xLabel()}. ${lines[0] ?? ''}`);
}

function renderIsotropic() {
  const { curves, points } = state.iso;
  if (!curves) return;
  const xs = curves.gamma;
  // Monte-Carlo points drawn as a point-only series on the curves' grid: each point at the
  // grid value nearest its γ.
  const mc = new Float64Array(xs.length).fill(NaN);
  const mcSe = new Float64Array(xs.length).fill(NaN);
  for (const pt of points) {
    if (!pt || !Number.isFinite(pt.mean)) continue;
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(Math.log(xs[i] / pt.gamma)) < Math.abs(Math.log(xs[best] / pt.gamma))) best = i;
    mc[best] = pt.mean;
    mcSe[best] = pt.se;
  }
  const ridgeCurve = state.values.ridge > 0 ? curves.ridge : new Float64Array(xs.length).fill(NaN);
  plots.iso.setData(xs, curves.minNorm, curves.minNormFiniteN, ridgeCurve, curves.optimalRidge, mc);
  plots.iso.setErrors([null, null, null, null, mcSe]);
  plots.iso.setMarkers([{ x: 1, label: 'γ = 1', color: '#555' }, { y: curves.nullRisk, label: 'null risk r²', color: '#888', dash: [2, 4] }]);
  const done = points.filter(Boolean).length;
  const total = state.values.ridge > 0 ? ISO_GAMMAS.length + 1 : ISO_GAMMAS.length;
  $('iso-note').textContent = done < total ? `Monte Carlo: ${done} of ${total} points…` : `Monte Carlo: ${total} points, ${ISO_REPS} draws each at n = ${ISO_N}.`;
}

function buildPlots() {
  plots.curve = new SeriesPlot($('plot-curve'), {
    x: { label: () => xLabel(), name: 'x', log: true },
    // Past the threshold the train error is zero up to rounding: values 10⁵ below the largest
    // are left off the axis.
    y: { label: 'mean squared error', log: true, size: 70, floorRatio: 1e-5 },
    series: [
      { label: 'test (mean ± s.e.)', stroke: COLORS.test, width: 2.25, points: true, pointSize: 5 },
      { label: 'train', stroke: COLORS.train, width: 1.75, dash: [7, 4], points: true, pointSize: 4 },
      { label: 'Mei–Montanari theory', stroke: THEORY_COLOR, width: 2 },
    ],
    height: (w) => Math.min(420, Math.max(260, w * 0.55)),
  });
  plots.norm = new SeriesPlot($('plot-norm'), {
    x: { label: () => xLabel(), name: 'x', log: true },
    y: { label: '‖a‖', log: true, size: 60 },
    series: [{ label: '‖a‖ (mean ± s.e.)', stroke: NORM_COLOR, width: 2, points: true, pointSize: 4 }],
    height: (w) => Math.min(300, Math.max(200, w * 0.45)),
  });
  plots.cls = new SeriesPlot($('plot-class'), {
    x: { label: () => xLabel(), name: 'x', log: true },
    y: { label: 'test classification error', log: false, size: 60, range: [0, null] },
    series: [{ label: 'misclassified (mean ± s.e.)', stroke: ERR_COLOR, width: 2, points: true, pointSize: 4 }],
    height: (w) => Math.min(300, Math.max(200, w * 0.45)),
  });
  plots.iso = new SeriesPlot($('plot-iso'), {
    x: { label: 'γ = p / n', name: 'γ', log: true },
    y: { label: 'excess test risk', log: true, size: 64 },
    series: [
      { label: 'min-norm, n → ∞', stroke: THEORY_COLOR, width: 2 },
      { label: `min-norm, exact at n = ${ISO_N}`, stroke: '#0072B2', width: 1.75, dash: [7, 4] },
      { label: 'ridge λ', stroke: '#E69F00', width: 2 },
      { label: 'optimal ridge', stroke: NORM_COLOR, width: 1.75, dash: [2, 4] },
      { label: 'Monte Carlo (± s.e.)', stroke: COLORS.test, points: 'only', pointSize: 7 },
    ],
    height: (w) => Math.min(380, Math.max(240, w * 0.5)),
  });
}

function setXAxis(axis) {
  state.xAxis = axis;
  for (const k of ['curve', 'norm', 'cls']) {
    plots[k].u.destroy();
    plots[k].create();
  }
  pins?.refresh();
  schedule();
}

// ---------------------------------------------------------------------------------------------

function start() {
  shell = createScene({ scene: 'double-descent', controls: CONTROLS, view: VIEW, presets: PRESETS });
  const { values } = shell;
  controls = buildControls($('controls'), values, onControlChange, { controls: CONTROLS, groups: GROUPS });
  state.values = controls.values;
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  buildPlots();
  $('x-axis').addEventListener('change', (e) => setXAxis(e.target.value === 'params' ? 'params' : 'ratio'));
  $('btn-optimal').addEventListener('click', () => {
    const best = state.pooled?.base.theoryOptimalRidge;
    if (!Number.isFinite(best)) return;
    controls.set('ridge', best);
    onControlChange('ridge', state.values.ridge, { final: true, changed: true });
  });
  $('btn-ridgeless').addEventListener('click', () => {
    controls.set('ridge', 0);
    onControlChange('ridge', 0, { final: true, changed: true });
  });
  shell.attach({
    api: controls,
    apply: () => {
      state.values = controls.values;
      configure();
    },
    actions: { reset: () => configure() },
    plots: () => [
      { id: 'curve', title: 'Random features: test and train error', plot: plots.curve },
      { id: 'norm', title: 'Size of the fitted weights', plot: plots.norm },
      { id: 'class', title: 'Digits: classification error', plot: plots.cls },
      { id: 'iso', title: 'The isotropic linear model', plot: plots.iso },
      ...(trained ? [{ id: 'trained', title: 'Trained networks', plot: trained.plot }] : []),
    ],
    report: () => ({
      pooled: state.pooled && {
        base: state.pooled.base, seedsDone: state.pooled.seedsDone, seeds: state.pooled.seeds,
        train: state.pooled.train, test: state.pooled.test, norm: state.pooled.norm, testError: state.pooled.testError,
      },
      isotropic: state.iso,
      trained: trained?.state.report ?? null,
    }),
    weights: null,
  });

  if (!core.start()) return;
  isoTask.warm();
  trained = new TrainedSweepPanel({
    root: $('fig-trained'),
    settings: () => ({ noise: state.values.noise, seed: state.values.seed, seeds: state.values.seeds, teacher: state.values.teacher }),
  });
  pins = createPins({ shell, key: ['ridge', 'noise'], after: $('seed-progress'), targets: pinTargets() });
}

/**
 * What a pin keeps: the random-features test and train error (with each size's p, n and p/n, so
 * that it follows the x axis), and the trained networks' when they were trained at the current
 * label noise, seeds and teacher.
 */
function pinTargets() {
  const pooled = () => state.pooled;
  const t = trained;
  const current = (c) => c && ['noise', 'seed', 'seeds', 'teacher'].every((k) => c[k] === state.values[k]);
  return [{
    id: 'curve', plot: plots.curve, series: [0, 1],
    capture: () => pooled() && {
      base: { ratio: [...pooled().base.ratio], params: [...pooled().base.params], n: [...pooled().base.n] },
      ys: [[...pooled().test.mean], [...pooled().train.mean]],
    },
    show: (d) => ({ xs: xValues(d.base), ys: d.ys }),
  }, {
    id: 'trained', plot: t.plot,
    capture: () => (t.state.report && current(t.state.config)
      ? { xs: [...t.state.report.ratio], ys: [[...t.state.report.testMse.mean], [...t.state.report.trainMse.mean]] } : null),
  }];
}

// A small hook for tests and for the curious (read-only use intended).
window.descent = {
  state,
  controls: CONTROLS,
  get pooled() {
    return state.pooled;
  },
  get iso() {
    return state.iso;
  },
  get trained() {
    return trained?.state ?? null;
  },
  get shell() {
    return shell;
  },
  /** Makes the sweep's engines panic, in a crash-test build only (protocol.js DEBUG_PANIC). */
  debugPanic() {
    core.post({ type: MSG.DEBUG_PANIC });
  },
};

start();
