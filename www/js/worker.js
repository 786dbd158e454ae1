// The training worker: owns the wasm engine and the one live Playground network, on the CPU or on
// WebGPU (the engine picks and falls back; see src/experiments/live.rs).
// Protocol in protocol.js. Training is time-sliced: each chunk awaits `pg.advanceAsync(k)` with k
// tuned so a chunk takes about CHUNK_MS, posts a progress message, then yields to the event loop so
// that configure / pause / setLr messages are handled between chunks. The first EARLY_STEPS steps
// (GPU_EARLY_STEPS on the GPU) are taken one at a time and each one's losses are sent (`points`),
// so that the page's history holds every early step. Every call into the engine
// goes through one promise chain (`serial`): a GPU run's calls are asynchronous, and the engine
// object must not be entered again while one of them is pending.

import init, { Playground, defaultConfig, limits, buildInfo } from '../pkg/descent.js';
import { EARLY_STEPS } from './history.js';
import {
  MSG, DONE_REASON, ERROR_DURING, finite, allFinite, describe, transferables, wasmSimdSupported, NO_SIMD_MESSAGE,
} from './protocol.js';

const CHUNK_MS = 25; // target duration of one advance(k) call
const GRID_MIN_INTERVAL_MS = 100; // at most ~10 grid predictions per second while playing
const GRID_MAX_SHARE = 0.2; // ... and only while they cost under this share of the elapsed time
// A grid prediction is always sent after configure, pause and step, unless it would block the
// worker longer than this (a 64×64 grid through 4 layers of width 4096 takes many seconds); then
// only the share rule above applies, while playing.
const FORCED_GRID_MAX_MS = 1500;
const MAX_K = 1 << 20;
// On the GPU every single step waits for two readbacks (the step's loss, then the evaluation):
// about 2–5 ms in a browser, over 100 ms on a software adapter. There the first steps are taken
// one at a time only up to this step (the catapult's spike is at step 3), not EARLY_STEPS.
const GPU_EARLY_STEPS = 100;

let ready = false;
const backlog = []; // messages that arrived before the engine was loaded

let pg = null; // the live Playground
let runId = 0; // run id of `pg`
let playing = false;
let k = 1; // steps per chunk
let stepsPerSec = 0; // smoothed
let lastGridAt = 0; // performance.now() of the last grid prediction sent
let gridCostMs = 0; // cost of one predictGrid(): measured, or estimated before the first call
let lastReport = null;
let loopPending = false;
let refused = false; // the last configure was refused: PLAY and STEP wait for a valid one

// A zero-delay yield that is not clamped like nested setTimeout(0).
const tickChannel = new MessageChannel();
tickChannel.port1.onmessage = () => {
  loopPending = false;
  serial(tick);
};

// Runs `fn` after every engine call queued before it has settled.
let chain = Promise.resolve();
function serial(fn) {
  chain = chain.then(fn).catch((err) => {
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
  });
  return chain;
}
function scheduleTick() {
  if (loopPending) return;
  loopPending = true;
  tickChannel.port2.postMessage(0);
}

/** A plain, NaN-free copy of an engine report. */
function cleanReport(r) {
  return {
    step: finite(r.step) ?? 0,
    trainLoss: finite(r.trainLoss),
    testLoss: finite(r.testLoss),
    trainAcc: finite(r.trainAcc),
    testAcc: finite(r.testAcc),
    diverged: r.diverged == null ? null : finite(Number(r.diverged)),
    message: typeof r.message === 'string' ? r.message : (r.message == null ? null : String(r.message)),
    backend: r.backend === 'webgpu' ? 'webgpu' : 'cpu',
    notice: typeof r.notice === 'string' ? r.notice : null,
  };
}

/** Which backend runs and why, for the page's indicator (`detail`: the technical why, for the console). */
function backendInfo() {
  return { backend: pg.backend, adapter: pg.adapter ?? null, notice: pg.notice ?? null, detail: pg.noticeDetail ?? null };
}

/** The grid prediction as an owned Float32Array, or null if it holds any non-finite value. */
let gridMeasured = false;

/** Whether to predict on the grid now: `forced` after configure/pause/step, else while playing. */
function gridWanted(forced) {
  if (forced) return gridCostMs <= FORCED_GRID_MAX_MS;
  const since = performance.now() - lastGridAt;
  return since >= GRID_MIN_INTERVAL_MS && gridCostMs <= GRID_MAX_SHARE * since;
}

async function predictGrid() {
  const t0 = performance.now();
  const g = await pg.predictGridAsync();
  const now = performance.now();
  gridCostMs = gridMeasured ? 0.7 * gridCostMs + 0.3 * (now - t0) : now - t0;
  gridMeasured = true;
  lastGridAt = now;
  const owned = g instanceof Float32Array ? g : Float32Array.from(g);
  return allFinite(owned) ? owned : null;
}

function post(msg) {
  self.postMessage(msg, transferables(msg));
}

async function postDone(reason, extra = {}) {
  if (!pg) return;
  const report = lastReport ?? cleanReport(await pg.evaluateAsync());
  const msg = { type: MSG.DONE, runId, reason, report, stepsPerSec, ...extra };
  if (gridWanted(true)) {
    const grid = await predictGrid();
    if (grid) msg.grid = grid;
  }
  msg.gridCostMs = gridCostMs;
  msg.backendInfo = backendInfo();
  post(msg);
}

function owned(a) {
  if (a == null) return null;
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  // Targets and data are finite by construction; guard anyway so the page never draws NaN.
  return allFinite(f) ? f : null;
}

async function configure(msg) {
  let next;
  try {
    const choice = ['auto', 'cpu', 'gpu'].includes(msg.config?.backend) ? msg.config.backend : 'auto';
    next = await Playground.create(msg.config, choice);
  } catch (err) {
    // Keep the previous network (and the page keeps its plots); stop training it.
    playing = false;
    refused = true;
    post({ type: MSG.ERROR, runId: msg.runId, during: ERROR_DURING.CONFIGURE, message: describe(err) });
    return;
  }
  if (pg) pg.free();
  pg = next;
  refused = false;
  runId = msg.runId;
  k = 1;
  stepsPerSec = 0;
  const t0 = performance.now();
  lastReport = cleanReport(await pg.evaluateAsync());
  const evalMs = performance.now() - t0;
  const spec = pg.gridSpec();
  // Until measured, a grid prediction is estimated from evaluate(), a forward pass over the
  // training and test points.
  const trainY = owned(pg.trainY());
  const testY = owned(pg.testY());
  const nEval = Math.max(1, (trainY?.length ?? 0) + (testY?.length ?? 0));
  gridCostMs = (evalMs * Math.pow(spec.size, spec.dim)) / nEval;
  gridMeasured = false;
  lastGridAt = performance.now();
  const setup = {
    task: pg.task,
    inputDim: pg.inputDim,
    paramCount: pg.paramCount,
    memoryBytes: pg.memoryBytes,
    gridSpec: { dim: spec.dim, size: spec.size, lo: Array.from(spec.lo), hi: Array.from(spec.hi) },
    trainX: owned(pg.trainX()),
    trainY,
    testX: owned(pg.testX()),
    testY,
    targetGrid: owned(pg.targetGrid()),
  };
  await postDone(DONE_REASON.CONFIGURED, { setup });
  if (playing) scheduleTick();
}

/** Up to which step the steps are taken one at a time on the backend running now. */
function earlyEnd() {
  return pg.backend === 'webgpu' ? GPU_EARLY_STEPS : EARLY_STEPS;
}

/**
 * The first steps (up to earlyEnd()), one at a time for up to CHUNK_MS: the report after each,
 * and its losses as `points` ({step, train, test}, one entry per step) for the page's history.
 */
async function earlySteps() {
  const end = earlyEnd();
  const t0 = performance.now();
  const step = [];
  const train = [];
  const test = [];
  let rep;
  do {
    rep = cleanReport(await pg.advanceAsync(1));
    step.push(rep.step);
    train.push(rep.trainLoss ?? NaN);
    test.push(rep.testLoss ?? NaN);
  } while (rep.diverged == null && rep.step < end && performance.now() - t0 < CHUNK_MS);
  return { rep, points: { step: Float64Array.from(step), train: Float64Array.from(train), test: Float64Array.from(test) } };
}

async function tick() {
  if (!playing || !pg) return;
  const t0 = performance.now();
  const before = Number(pg.step);
  const early = before < earlyEnd();
  let rep;
  let points = null;
  try {
    if (early) ({ rep, points } = await earlySteps());
    else rep = cleanReport(await pg.advanceAsync(k));
  } catch (err) {
    playing = false;
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    return;
  }
  const t1 = performance.now();
  const dt = Math.max(t1 - t0, 0.01);
  const done = rep.step - before;
  if (done > 0) {
    const rate = (done * 1000) / dt;
    stepsPerSec = stepsPerSec === 0 ? rate : 0.8 * stepsPerSec + 0.2 * rate;
  }
  // Aim the next chunk at CHUNK_MS, changing k by at most a factor of 2 per chunk.
  const ratio = Math.min(2, Math.max(0.5, CHUNK_MS / dt));
  if (!early) k = Math.max(1, Math.min(MAX_K, Math.round(k * ratio)));
  lastReport = rep;

  if (rep.diverged != null) {
    playing = false;
    await postDone(DONE_REASON.DIVERGED, points ? { points } : {});
    return;
  }

  const msg = { type: MSG.PROGRESS, runId, report: rep, stepsPerSec, backendInfo: backendInfo() };
  if (points) msg.points = points;
  if (gridWanted(false)) {
    const grid = await predictGrid();
    if (grid) msg.grid = grid;
  }
  msg.gridCostMs = gridCostMs;
  post(msg);
  scheduleTick();
}

async function handle(msg) {
  switch (msg.type) {
    case MSG.CONFIGURE:
      await configure(msg);
      break;
    case MSG.PLAY:
      if (!playing && pg && !refused && lastReport?.diverged == null) {
        playing = true;
        scheduleTick();
      }
      break;
    case MSG.PAUSE:
      if (playing) {
        playing = false;
        await postDone(DONE_REASON.PAUSED);
      }
      break;
    case MSG.STEP: {
      playing = false;
      if (!pg || refused) break;
      const steps = Math.max(1, Math.min(MAX_K, Math.floor(Number(msg.steps) || 1)));
      try {
        lastReport = cleanReport(await pg.advanceAsync(steps));
      } catch (err) {
        post({ type: MSG.ERROR, runId, during: ERROR_DURING.STEP, message: describe(err) });
        break;
      }
      await postDone(lastReport.diverged != null ? DONE_REASON.DIVERGED : DONE_REASON.STEPPED);
      break;
    }
    case MSG.LOSE_DEVICE:
      // Simulates a lost GPU (tests, and readers who want to see the fallback).
      if (pg) pg.loseDevice();
      break;
    case MSG.SET_LR:
      if (!pg || msg.runId !== runId) break; // for a run that is gone or not yet built
      try {
        pg.setLr(msg.lr);
      } catch (err) {
        post({ type: MSG.ERROR, runId, during: ERROR_DURING.SET_LR, message: describe(err) });
      }
      break;
    default:
      break;
  }
}

self.onmessage = (e) => {
  if (!ready) backlog.push(e.data);
  else serial(() => handle(e.data));
};

async function start() {
  try {
    if (!wasmSimdSupported()) throw new Error(NO_SIMD_MESSAGE);
    await init();
    const info = { build: { ...buildInfo() }, defaults: { ...defaultConfig() }, limits: { ...limits() } };
    ready = true;
    self.postMessage({ type: MSG.READY, info });
    for (const m of backlog.splice(0)) serial(() => handle(m));
  } catch (err) {
    self.postMessage({ type: MSG.ERROR, runId: 0, fatal: true, during: ERROR_DURING.INIT, message: `The engine could not start: ${describe(err)}` });
  }
}

start();
