// The training worker: owns the wasm engine and the one live Playground network, on the CPU or on
// WebGPU (the engine picks and falls back; see src/session/device.rs and src/scenes/playground/live.rs).
// Protocol in protocol.js; the run's lifecycle (configure, play / pause / step, time slicing, live
// settings, one promise chain for every engine call) is worker-host.js's. Each chunk awaits
// `pg.advanceAsync(k)` with k tuned so a chunk takes about CHUNK_MS. The first EARLY_STEPS steps
// (GPU_EARLY_STEPS on the GPU) are taken one at a time and each one's losses are sent (`points`),
// so that the page's history holds every early step.
// Data beyond the settings: the digits (data/digits.csv, fetched once, the first time a run needs
// them, and handed to the engine with setDigits) and the reader's table (READ_TABLE: parsed into a
// DataTable kept here, the text kept too so that new options re-read it; CONFIGURE with
// dataset 'table' builds on it).

import {
  Playground, DataTable, defaultConfig, readPlaygroundWeights, setDigits, hasDigits,
} from '../../../pkg/descent.js';
import { EARLY_STEPS } from '../../core/history.js';
import { MSG, ERROR_DURING, finite, allFinite, runFields, describe } from '../../core/protocol.js';
import { hostRun, Picture, post, weightsMessage } from '../../core/worker-host.js';

const CHUNK_MS = 25; // target duration of one advance(k) call
const GRID_MIN_INTERVAL_MS = 100; // at most ~10 grid predictions per second while playing
const GRID_MAX_SHARE = 0.2; // ... and only while they cost under this share of the elapsed time
// A grid prediction is always sent after configure, pause and step, unless it would block the
// worker too long (worker-host.js Picture: a 64×64 grid through 4 layers of width 4096 takes many
// seconds); then only the share rule above applies, while playing.
// On the GPU every single step waits for two readbacks (the step's loss, then the evaluation):
// about 2–5 ms in a browser, over 100 ms on a software adapter. There the first steps are taken
// one at a time only up to this step (the catapult's spike is at step 3), not EARLY_STEPS.
const GPU_EARLY_STEPS = 100;


/** A plain, NaN-free copy of an engine report. */
function cleanReport(r) {
  const counts = (a) => (Array.isArray(a) || ArrayBuffer.isView(a) ? Array.from(a, (v) => finite(v) ?? 0) : null);
  const missed = Array.isArray(r.misclassified) ? r.misclassified : [];
  return {
    ...runFields(r),
    trainLoss: finite(r.trainLoss),
    testLoss: finite(r.testLoss),
    trainAcc: finite(r.trainAcc),
    testAcc: finite(r.testAcc),
    backend: r.backend === 'webgpu' ? 'webgpu' : 'cpu',
    notice: typeof r.notice === 'string' ? r.notice : null,
    confusion: counts(r.confusion),
    misclassified: missed.map((m) => ({
      index: finite(m.index) ?? 0, truth: finite(m.truth) ?? 0, predicted: finite(m.predicted) ?? 0,
    })),
    misclassifiedCount: finite(r.misclassifiedCount) ?? 0,
  };
}

// The reader's table: the parsed DataTable, the text it came from and its file name.
let table = null;
let tableText = null;
let tableName = '';

/** READ_TABLE: parse `text` (or the held text when absent) with `options`; a bad file keeps the
 * previous table. */
function readTable(msg) {
  const text = typeof msg.text === 'string' ? msg.text : tableText;
  try {
    if (text == null) throw new Error('there is no file to read yet: choose one');
    const next = DataTable.parse(text, msg.options ?? {});
    const summary = next.summary();
    if (table) table.free();
    table = next;
    tableText = text;
    if (typeof msg.name === 'string') tableName = msg.name;
    post({ type: MSG.TABLE_READ, summary: { ...summary, name: tableName } });
  } catch (err) {
    post({ type: MSG.ERROR, during: ERROR_DURING.READ_TABLE, message: describe(err) });
  }
}

let digitsLoading = null;
/** Hands the engine the digits (fetched once) before the first run on them. */
async function ensureDigits() {
  if (hasDigits()) return;
  digitsLoading ??= (async () => {
    const res = await fetch(new URL('../../../data/digits.csv', import.meta.url));
    if (!res.ok) throw new Error(`could not load the digits data (HTTP ${res.status})`);
    setDigits(await res.text());
  })();
  try {
    await digitsLoading;
  } catch (err) {
    digitsLoading = null; // try again next time
    throw err;
  }
}

/** The data behind `config` beyond its settings: the digits loaded, and a share of the table. */
async function dataFor(config) {
  if (config?.dataset === 'digits') await ensureDigits();
  return table ? table.share() : undefined;
}

/** Which backend runs and why, for the page's indicator (`detail`: the technical why, for the console). */
function backendInfo(pg) {
  return { backend: pg.backend, adapter: pg.adapter ?? null, notice: pg.notice ?? null, detail: pg.noticeDetail ?? null };
}

function owned(a) {
  if (a == null) return null;
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  // Targets and data are finite by construction; guard anyway so the page never draws NaN.
  return allFinite(f) ? f : null;
}

/** The grid prediction as an owned Float32Array, or null if it holds any non-finite value. */
const grid = new Picture(async () => {
  const g = await host.run.predictGridAsync();
  const f = g instanceof Float32Array ? g : Float32Array.from(g);
  return allFinite(f) ? f : null;
}, { minIntervalMs: GRID_MIN_INTERVAL_MS, maxShare: GRID_MAX_SHARE });

/** Up to which step the steps are taken one at a time on the backend running now. */
function earlyEnd(pg) {
  return pg.backend === 'webgpu' ? GPU_EARLY_STEPS : EARLY_STEPS;
}

/**
 * The first steps (up to earlyEnd()), one at a time for up to CHUNK_MS: the report after each,
 * and its losses as `points` ({step, train, test}, one entry per step) for the page's history.
 */
async function earlySteps(pg) {
  const end = earlyEnd(pg);
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
  return { rep, points: { step: Float64Array.from(step), train: Float64Array.from(train), test: Float64Array.from(test) }, early: true };
}

const host = hostRun({
  info: () => ({ defaults: { ...defaultConfig() } }),
  async create(config, msg) {
    const choice = ['auto', 'cpu', 'gpu'].includes(config?.backend) ? config.backend : 'auto';
    // A weights file: its settings, parameters and step (READ_WEIGHTS checked it first).
    if (typeof msg?.weights === 'string') {
      const settings = readPlaygroundWeights(msg.weights, table ? table.share() : undefined).config;
      return Playground.importWeights(msg.weights, choice, await dataFor(settings));
    }
    return Playground.create(config, choice, await dataFor(config));
  },
  evaluate: (pg) => pg.evaluateAsync(),
  advance: (pg, k) => pg.advanceAsync(k),
  clean: cleanReport,
  setup(pg, evalMs) {
    const spec = pg.gridSpec();
    // Until measured, a grid prediction is estimated from evaluate(), a forward pass over the
    // training and test points.
    const trainY = owned(pg.trainY());
    const testY = owned(pg.testY());
    const nEval = Math.max(1, (trainY?.length ?? 0) + (testY?.length ?? 0));
    grid.reset((evalMs * Math.pow(spec.size, spec.dim)) / nEval);
    return {
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
      outputs: pg.outputs,
      classes: pg.classes,
      classNames: Array.from(pg.classNames()),
      loss: pg.loss === 'crossEntropy' ? 'crossEntropy' : 'squared',
      plotDim: pg.plotDim,
      projected: pg.projected,
      explained: finite(pg.explained),
      dataHash: pg.dataHash ?? null,
      testImages: pg.isDigits ? owned(pg.testInputs()) : null,
    };
  },
  async chunk(pg, k) {
    if (Number(pg.step) < earlyEnd(pg)) return earlySteps(pg);
    return { rep: cleanReport(await pg.advanceAsync(k)) };
  },
  // Aim the next chunk at CHUNK_MS, changing k by at most a factor of 2 per chunk.
  nextK: (k, dt) => Math.round(k * Math.min(2, Math.max(0.5, CHUNK_MS / dt))),
  async decorate(msg, forced) {
    if (grid.wanted(forced)) {
      const g = await grid.take();
      if (g) msg.grid = g;
    }
    msg.gridCostMs = grid.costMs;
    msg.backendInfo = backendInfo(host.run);
  },
  live: {
    lr: { during: ERROR_DURING.SET_LR, apply: (pg, lr) => pg.setLr(lr) },
  },
  async handle(msg, h) {
    // Simulates a lost GPU (tests, and readers who want to see the fallback).
    if (msg.type === MSG.LOSE_DEVICE && h.run) h.run.loseDevice();
    else if (msg.type === MSG.READ_TABLE) readTable(msg);
    else await weightsMessage(msg, h.run, (text) => readPlaygroundWeights(text, table ? table.share() : undefined));
  },
});

