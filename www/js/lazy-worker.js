// The lazy-or-rich worker: owns the wasm engine and either the one live LazyRich run (the page's
// training worker) or width sweeps (a second instance, so a sweep never holds up training).
// Protocol in protocol.js. Training is time-sliced as in worker.js: each chunk runs
// `run.advance(k)` with k tuned so a chunk takes about CHUNK_MS, posts a progress message, then
// yields so that configure / pause / setLr / setRidge messages are handled between chunks.
// A sweep trains one (width, seed) per task (`sweep.next()`), yielding between them for CANCEL_SWEEP.

import init, { LazyRich, lazyDefaults, WidthSweep, buildInfo, limits } from '../pkg/descent.js';
import {
  MSG, DONE_REASON, ERROR_DURING, SWEEP_END,
  finite, allFinite, describe, transferables, wasmSimdSupported, NO_SIMD_MESSAGE, floats64 } from './protocol.js';

const CHUNK_MS = 25; // target duration of one advance(k) call ...
const MAX_CHUNK_MS = 150; // ... raised up to this where one call has a large fixed cost
const MAX_K = 1 << 20;
// Pictures (the four predictions on the grid; the NTK Gram matrix and spectra) are sent at most
// every MIN_INTERVAL ms while playing, and only while they cost under MAX_SHARE of the elapsed
// time. After configure, pause and step they are always sent, unless one would block the worker
// longer than FORCED_MAX_MS.
const FORCED_MAX_MS = 1500;

let ready = false;
const backlog = []; // messages that arrived before the engine was loaded

// ---------------------------------------------------------------------------------------------
// Cleaning what the engine returns: plain objects, finite numbers or null, owned typed arrays.

function cleanModel(m) {
  if (!m) return null;
  return {
    trainLoss: finite(m.trainLoss),
    testLoss: finite(m.testLoss),
    trainAcc: finite(m.trainAcc),
    testAcc: finite(m.testAcc),
  };
}

function cleanReport(r) {
  return {
    step: finite(r.step) ?? 0,
    network: cleanModel(r.network),
    linearized: cleanModel(r.linearized),
    ntk: cleanModel(r.ntk),
    krr: cleanModel(r.krr),
    weightChange: finite(r.weightChange),
    kernelDistance: finite(r.kernelDistance),
    diverged: r.diverged == null ? null : finite(Number(r.diverged)),
    message: typeof r.message === 'string' ? r.message : (r.message == null ? null : String(r.message)),
  };
}

/** An owned Float32Array copy, or null if absent or not all finite. */
function owned32(a) {
  if (a == null) return null;
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return allFinite(f) ? f : null;
}

const MODELS = ['network', 'linearized', 'ntk', 'krr'];

function cleanGrid(g) {
  const out = {};
  for (const m of MODELS) out[m] = owned32(g?.[m]);
  return out;
}

function cleanGram(g) {
  const size = finite(g?.size) ?? 0;
  const square = (a) => {
    const f = owned32(a);
    return f && f.length === size * size ? f : null;
  };
  return {
    size,
    now: square(g.now),
    init: square(g.init),
    eigNow: floats64(g.eigNow),
    eigInit: floats64(g.eigInit),
    eigAnalytic: floats64(g.eigAnalytic),
    eigFloor: finite(g.eigFloor),
  };
}

function post(msg) {
  self.postMessage(msg, transferables(msg));
}

/** The page's settings over the engine's defaults for this scene (fields the page has no control for). */
function withDefaults(config) {
  return { ...lazyDefaults(), ...config };
}

// ---------------------------------------------------------------------------------------------
// A picture that costs time to compute: sent now and then while playing, always when idle.

class Picture {
  constructor(compute, { minIntervalMs, maxShare }) {
    this.compute = compute;
    this.minIntervalMs = minIntervalMs;
    this.maxShare = maxShare;
    this.reset(0);
  }

  /** A new run: `estimateMs` stands in for the cost until it is measured. */
  reset(estimateMs) {
    this.costMs = estimateMs;
    this.measured = false;
    this.lastAt = performance.now();
  }

  wanted(forced) {
    if (forced) return this.costMs <= FORCED_MAX_MS;
    const since = performance.now() - this.lastAt;
    return since >= this.minIntervalMs && this.costMs <= this.maxShare * since;
  }

  take() {
    const t0 = performance.now();
    const v = this.compute();
    const now = performance.now();
    this.costMs = this.measured ? 0.7 * this.costMs + 0.3 * (now - t0) : now - t0;
    this.measured = true;
    this.lastAt = now;
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// The live run.

let run = null; // the live LazyRich
let runId = 0; // run id of `run`
let playing = false;
let k = 1; // steps per chunk
// Fixed cost of one advance() call, whatever k: evaluating the four models and the kernel
// distance (measured by evaluate() at configure). Chunks are aimed at twice this, so that at
// least half of the time trains.
let overheadMs = 0;
let stepsPerSec = 0; // smoothed
let lastReport = null;
let loopPending = false;
let refused = false; // the last configure was refused: PLAY and STEP wait for a valid one

const grid = new Picture(() => cleanGrid(run.predictGrid()), { minIntervalMs: 100, maxShare: 0.2 });
const gram = new Picture(() => cleanGram(run.ntkGram()), { minIntervalMs: 250, maxShare: 0.1 });

// A zero-delay yield that is not clamped like nested setTimeout(0).
const tickChannel = new MessageChannel();
tickChannel.port1.onmessage = () => {
  loopPending = false;
  tick();
};
function scheduleTick() {
  if (loopPending) return;
  loopPending = true;
  tickChannel.port2.postMessage(0);
}

/** Adds the pictures that are due to `msg`; `forced` after configure, pause and step. */
function addPictures(msg, forced) {
  if (grid.wanted(forced)) msg.grid = grid.take();
  if (gram.wanted(forced)) msg.gram = gram.take();
  msg.gridCostMs = grid.costMs;
}

function postDone(reason, extra = {}) {
  if (!run) return;
  const report = lastReport ?? cleanReport(run.evaluate());
  const msg = { type: MSG.DONE, runId, reason, report, stepsPerSec, ...extra };
  try {
    addPictures(msg, true);
  } catch (err) {
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
  }
  post(msg);
}

function configure(msg) {
  let next;
  try {
    next = new LazyRich(withDefaults(msg.config));
  } catch (err) {
    // Keep the previous run (and the page keeps its plots); stop training it.
    playing = false;
    refused = true;
    post({ type: MSG.ERROR, runId: msg.runId, during: ERROR_DURING.CONFIGURE, message: describe(err) });
    return;
  }
  if (run) run.free();
  run = next;
  refused = false;
  runId = msg.runId;
  k = 1;
  stepsPerSec = 0;
  const t0 = performance.now();
  lastReport = cleanReport(run.evaluate());
  const evalMs = performance.now() - t0;
  overheadMs = evalMs;
  const spec = run.gridSpec();
  const trainY = owned32(run.trainY());
  const testY = owned32(run.testY());
  // Until measured, the four grid predictions are estimated from evaluate(), which runs the same
  // models over the training and test points.
  const nEval = Math.max(1, (trainY?.length ?? 0) + (testY?.length ?? 0));
  grid.reset((evalMs * Math.pow(spec.size, spec.dim)) / nEval);
  gram.reset(evalMs);
  const setup = {
    task: run.task,
    inputDim: run.inputDim,
    paramCount: finite(Number(run.paramCount)),
    gridSpec: { dim: spec.dim, size: spec.size, lo: Array.from(spec.lo), hi: Array.from(spec.hi) },
    trainX: owned32(run.trainX()),
    trainY,
    testX: owned32(run.testX()),
    testY,
    targetGrid: owned32(run.targetGrid()),
    expectedSlopes: cleanSlopes(run.expectedSlopes()),
  };
  postDone(DONE_REASON.CONFIGURED, { setup });
  if (playing) scheduleTick();
}

function tick() {
  if (!playing || !run) return;
  const t0 = performance.now();
  const before = Number(run.step);
  let rep;
  try {
    rep = cleanReport(run.advance(k));
  } catch (err) {
    playing = false;
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    return;
  }
  const dt = Math.max(performance.now() - t0, 0.01);
  const done = rep.step - before;
  if (done > 0) {
    const rate = (done * 1000) / dt;
    stepsPerSec = stepsPerSec === 0 ? rate : 0.8 * stepsPerSec + 0.2 * rate;
  }
  // Aim the next chunk at `target` ms: dt ≈ overhead + k · perStep. k changes by at most ×4 up
  // and ×½ down per chunk.
  if (done > 0) {
    const target = Math.min(MAX_CHUNK_MS, Math.max(CHUNK_MS, 2 * overheadMs));
    const perStep = Math.max(dt - overheadMs, 0.25 * dt) / done;
    const ideal = Math.max(1, (target - Math.min(overheadMs, 0.75 * target)) / perStep);
    k = Math.max(1, Math.min(MAX_K, Math.round(Math.min(4 * k, Math.max(k / 2, ideal)))));
  }
  lastReport = rep;

  if (rep.diverged != null) {
    playing = false;
    postDone(DONE_REASON.DIVERGED);
    return;
  }
  const msg = { type: MSG.PROGRESS, runId, report: rep, stepsPerSec };
  try {
    addPictures(msg, false);
  } catch (err) {
    playing = false;
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    return;
  }
  post(msg);
  scheduleTick();
}

// ---------------------------------------------------------------------------------------------
// Width sweeps.

let sweep = null; // the WidthSweep in progress
let sweepId = 0;
let sweepPending = false;

const sweepChannel = new MessageChannel();
sweepChannel.port1.onmessage = () => {
  sweepPending = false;
  sweepTick();
};
function scheduleSweep() {
  if (sweepPending) return;
  sweepPending = true;
  sweepChannel.port2.postMessage(0);
}

function cleanSlopes(s) {
  return { weightChange: finite(s?.weightChange), kernelDistance: finite(s?.kernelDistance) };
}

/**
 * The sweep's finished runs by width, one point per width: the geometric mean over its seeds
 * of each measure (`weightChange`, `kernelDistance`) and their range (`…Min`, `…Max`).
 */
function cleanSummary(list) {
  const out = [];
  for (const w of list ?? []) {
    const p = { width: finite(w.width), runs: finite(w.runs) ?? 0, diverged: finite(w.diverged) ?? 0 };
    for (const key of ['weightChange', 'kernelDistance']) {
      const m = w[key];
      p[key] = finite(m?.mean);
      p[`${key}Min`] = finite(m?.min);
      p[`${key}Max`] = finite(m?.max);
    }
    out.push(p);
  }
  return out;
}

function sweepState() {
  return { slopes: cleanSlopes(sweep.slopes()), points: cleanSummary(sweep.summary()) };
}

function endSweep(reason) {
  if (!sweep) return;
  let extra = { slopes: { weightChange: null, kernelDistance: null } };
  try {
    extra = sweepState();
  } catch {
    // keep the empty slopes
  }
  sweep.free();
  sweep = null;
  post({ type: MSG.SWEEP_DONE, sweepId, reason, ...extra });
}

function startSweep(msg) {
  if (sweep) endSweep(SWEEP_END.CANCELLED);
  let expected;
  try {
    sweep = WidthSweep.withSeeds(withDefaults(msg.config), msg.widths, msg.steps, msg.seeds ?? 1);
    expected = cleanSlopes(sweep.expectedSlopes());
  } catch (err) {
    post({ type: MSG.ERROR, sweepId: msg.sweepId, during: ERROR_DURING.SWEEP, message: describe(err) });
    return;
  }
  sweepId = msg.sweepId;
  post({ type: MSG.SWEEP_PROGRESS, sweepId, run: null, index: -1, total: msg.widths.length * (msg.seeds ?? 1), expected });
  scheduleSweep();
}

function sweepTick() {
  if (!sweep) return;
  let r;
  let now;
  try {
    r = sweep.next();
    now = sweepState();
  } catch (err) {
    post({ type: MSG.ERROR, sweepId, during: ERROR_DURING.SWEEP, message: describe(err) });
    sweep.free();
    sweep = null;
    return;
  }
  const run = {
    width: finite(r.width), seed: finite(Number(r.seed)), weightChange: finite(r.weightChange), kernelDistance: finite(r.kernelDistance),
  };
  post({ type: MSG.SWEEP_PROGRESS, sweepId, run, index: finite(r.index), total: finite(r.total), ...now });
  if (r.done) endSweep(SWEEP_END.FINISHED);
  else scheduleSweep();
}

// ---------------------------------------------------------------------------------------------

function handle(msg) {
  switch (msg.type) {
    case MSG.CONFIGURE:
      configure(msg);
      break;
    case MSG.PLAY:
      if (!playing && run && !refused && lastReport?.diverged == null) {
        playing = true;
        scheduleTick();
      }
      break;
    case MSG.PAUSE:
      if (playing) {
        playing = false;
        postDone(DONE_REASON.PAUSED);
      }
      break;
    case MSG.STEP: {
      playing = false;
      if (!run || refused) break;
      const steps = Math.max(1, Math.min(MAX_K, Math.floor(Number(msg.steps) || 1)));
      try {
        lastReport = cleanReport(run.advance(steps));
      } catch (err) {
        post({ type: MSG.ERROR, runId, during: ERROR_DURING.STEP, message: describe(err) });
        break;
      }
      postDone(lastReport.diverged != null ? DONE_REASON.DIVERGED : DONE_REASON.STEPPED);
      break;
    }
    case MSG.SET_LR:
      if (!run || msg.runId !== runId) break; // for a run that is gone or not yet built
      try {
        run.setLr(msg.lr);
      } catch (err) {
        post({ type: MSG.ERROR, runId, during: ERROR_DURING.SET_LR, message: describe(err) });
      }
      break;
    case MSG.SET_RIDGE:
      if (!run || msg.runId !== runId) break;
      try {
        run.setRidge(msg.ridge);
        lastReport = cleanReport(run.evaluate());
        // The kernel-regression line changes at once, also while paused.
        if (!playing) postDone(DONE_REASON.STEPPED);
      } catch (err) {
        post({ type: MSG.ERROR, runId, during: ERROR_DURING.SET_RIDGE, message: describe(err) });
      }
      break;
    case MSG.SWEEP:
      startSweep(msg);
      break;
    case MSG.CANCEL_SWEEP:
      if (sweep && msg.sweepId === sweepId) endSweep(SWEEP_END.CANCELLED);
      break;
    default:
      break;
  }
}

self.onmessage = (e) => {
  if (!ready) backlog.push(e.data);
  else handle(e.data);
};

async function start() {
  try {
    if (!wasmSimdSupported()) throw new Error(NO_SIMD_MESSAGE);
    await init();
    const info = { build: { ...buildInfo() }, defaults: { ...lazyDefaults() }, limits: { ...limits() } };
    ready = true;
    self.postMessage({ type: MSG.READY, info });
    for (const m of backlog.splice(0)) handle(m);
  } catch (err) {
    self.postMessage({ type: MSG.ERROR, runId: 0, fatal: true, during: ERROR_DURING.INIT, message: `The engine could not start: ${describe(err)}` });
  }
}

start();
