// The lazy-or-rich worker: owns the wasm engine and either the one live LazyRich run (the page's
// training worker) or width sweeps (a second instance, so a sweep never holds up training).
// Protocol in protocol.js; the live run's lifecycle (configure, play / pause / step, time slicing,
// the live step size and ridge) is worker-host.js's. Each chunk runs `run.advance(k)` with k tuned
// so a chunk takes about CHUNK_MS (more where one call has a large fixed cost).
// A sweep is a background task (task-host.js): its (width, seed) runs spread over a pool of workers
// (lazy/pool-worker.js, task-fanout.js), or, with `workers: 1` or where a worker cannot start
// workers, one run per slice here (`sweep.next()`).

import { LazyRich, lazyDefaults, readLazyWeights, WidthSweep, EnsembleSweep } from '../../../pkg/descent.js';
import { TASK, ERROR_DURING, finite, allFinite, floats64, runFields } from '../../core/protocol.js';
import { hostRun, Picture, weightsMessage } from '../../core/worker-host.js';
import { hostTasks } from '../../core/task-host.js';
import { canFanOut, fanOut, lazyPool } from '../../core/task-fanout.js';

const CHUNK_MS = 25; // target duration of one advance(k) call ...
const MAX_CHUNK_MS = 150; // ... raised up to this where one call has a large fixed cost
// Pictures (the four predictions on the grid; the NTK Gram matrix and spectra) are worker-host.js
// Pictures: sent now and then while playing, always after configure, pause and step.

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
    ...runFields(r),
    network: cleanModel(r.network),
    linearized: cleanModel(r.linearized),
    ntk: cleanModel(r.ntk),
    krr: cleanModel(r.krr),
    weightChange: finite(r.weightChange),
    kernelDistance: finite(r.kernelDistance),
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

function cleanDistance(d) {
  return {
    spread: finite(d?.spread),
    mean: finite(d?.mean),
    spreadFloor: finite(d?.spreadFloor),
    meanFloor: finite(d?.meanFloor),
    networks: finite(d?.networks) ?? 0,
  };
}

/** The ensemble mode's picture (scenes::lazy::ensemble), or null with the ensemble off. */
function cleanEnsemble(e) {
  if (!e) return null;
  return {
    step: finite(e.step),
    live: finite(e.live) ?? 0,
    members: owned32(e.members) ?? new Float32Array(0),
    mean: owned32(e.mean),
    sd: owned32(e.sd),
    bandMean: owned32(e.bandMean),
    bandSd: owned32(e.bandSd),
    distance: cleanDistance(e.distance),
    diverged: finite(e.diverged) ?? 0,
    firstDiverged: finite(e.firstDiverged),
  };
}

/** The page's settings over the engine's defaults for this scene (fields the page has no control for). */
function withDefaults(config) {
  return { ...lazyDefaults(), ...config };
}

// ---------------------------------------------------------------------------------------------
// The live run.

// Fixed cost of one advance() call, whatever k: evaluating the four models and the kernel
// distance (measured by evaluate() at configure). Chunks are aimed at twice this, so that at
// least half of the time trains.
let overheadMs = 0;

const grid = new Picture(() => cleanGrid(host.run.predictGrid()), { minIntervalMs: 100, maxShare: 0.2 });
const gram = new Picture(() => cleanGram(host.run.ntkGram()), { minIntervalMs: 250, maxShare: 0.1 });
// The ensemble's networks and band on the grid (one prediction of every network, one O(grid · n²)
// variance), as often as the four predictions.
const ensemble = new Picture(() => cleanEnsemble(host.run.ensembleGrid()), { minIntervalMs: 100, maxShare: 0.2 });
let ensembleOn = false;

/**
 * The next chunk's k, aimed at `target` ms: dt ≈ overhead + k · perStep. k changes by at most ×4
 * up and ×½ down per chunk.
 */
function nextK(k, dt, done) {
  if (done <= 0) return k;
  const target = Math.min(MAX_CHUNK_MS, Math.max(CHUNK_MS, 2 * overheadMs));
  const perStep = Math.max(dt - overheadMs, 0.25 * dt) / done;
  const ideal = Math.max(1, (target - Math.min(overheadMs, 0.75 * target)) / perStep);
  return Math.round(Math.min(4 * k, Math.max(k / 2, ideal)));
}

const host = hostRun({
  info: () => ({ defaults: { ...lazyDefaults() } }),
  // A weights file (READ_WEIGHTS checked it first): its settings, parameters and step.
  create: (config, msg) => (typeof msg?.weights === 'string' ? LazyRich.importWeights(msg.weights) : new LazyRich(withDefaults(config))),
  evaluate: (run) => run.evaluate(),
  advance: (run, k) => run.advance(k),
  clean: cleanReport,
  setup(run, evalMs) {
    overheadMs = evalMs;
    const spec = run.gridSpec();
    const trainY = owned32(run.trainY());
    const testY = owned32(run.testY());
    // Until measured, the four grid predictions are estimated from evaluate(), which runs the same
    // models over the training and test points.
    const nEval = Math.max(1, (trainY?.length ?? 0) + (testY?.length ?? 0));
    grid.reset((evalMs * Math.pow(spec.size, spec.dim)) / nEval);
    gram.reset(evalMs);
    ensembleOn = (run.ensembleNetworks ?? 0) > 0;
    ensemble.reset(evalMs);
    return {
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
      ensemble: finite(run.ensembleNetworks) ?? 0,
    };
  },
  nextK,
  /** Adds the pictures that are due; `forced` after configure, pause and step. */
  async decorate(msg, forced) {
    if (grid.wanted(forced)) msg.grid = await grid.take();
    if (gram.wanted(forced)) msg.gram = await gram.take();
    if (ensembleOn && ensemble.wanted(forced)) msg.ensemble = await ensemble.take();
    msg.gridCostMs = grid.costMs;
  },
  live: {
    // A new step size moves the linearisation, the NTK predictor and the ensemble's band at the
    // current step at once (each from its cached factorisation), also while paused.
    lr: { during: ERROR_DURING.SET_LR, apply: (run, lr) => run.setLr(lr), refresh: true },
    // The kernel-regression line changes at once, also while paused.
    ridge: { during: ERROR_DURING.SET_RIDGE, apply: (run, ridge) => run.setRidge(ridge), refresh: true },
  },
  handle: async (msg, h) => (await weightsMessage(msg, h.run, readLazyWeights)) || tasks.handle(msg),
});

// ---------------------------------------------------------------------------------------------
// Width sweeps.

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

function sweepState(sweep) {
  return { slopes: cleanSlopes(sweep.slopes()), points: cleanSummary(sweep.summary()) };
}

function cleanRun(r) {
  return {
    width: finite(r.width), seed: finite(Number(r.seed)), weightChange: finite(r.weightChange), kernelDistance: finite(r.kernelDistance),
  };
}

const sweepPool = lazyPool(new URL('./pool-worker.js', import.meta.url), 'sweep');

/**
 * The sweep's runs as pool jobs in the sweep's order, the narrowest first (the plot fills in from
 * the left and the first widths show within a second; the widest width's seeds still train side
 * by side); null for one worker.
 */
function sweepFan(msg, total) {
  if (msg.workers === 1 || !canFanOut()) return null;
  const params = { config: withDefaults(msg.config), widths: msg.widths, steps: msg.steps, seeds: msg.seeds ?? 1 };
  const jobs = Array.from({ length: total }, (_, at) => ({ kind: 'run', ...params, at }));
  return { run: fanOut(sweepPool(), jobs), received: 0 };
}

// The ensemble's width sweep: steps per next() call, aimed at SWEEP_SLICE_MS a call.
const SWEEP_SLICE_MS = 60;

function cleanSweepPoint(p) {
  return p ? { width: finite(p.width), distance: cleanDistance(p.distance), diverged: finite(p.diverged) ?? 0 } : null;
}

// The width sweeps, background tasks (task-host.js).
const tasks = hostTasks({
  [TASK.ENSEMBLE_SWEEP]: {
    during: ERROR_DURING.ENSEMBLE_SWEEP,
    create(msg) {
      const sweep = new EnsembleSweep(withDefaults(msg.config), msg.networks, msg.widths, msg.steps);
      return { sweep, budget: 2 };
    },
    start: () => ({ point: null }),
    advance(job) {
      const t0 = performance.now();
      const p = job.sweep.next(job.budget);
      const dt = performance.now() - t0;
      // A call that built a new width's ensemble costs more than its steps: adapt on the others.
      if (!p.point && p.stepsDone > 0) {
        job.budget = Math.max(1, Math.min(4 * job.budget, Math.round((job.budget * SWEEP_SLICE_MS) / Math.max(dt, 1))));
      }
      const data = {
        width: finite(p.width), index: finite(p.index), total: finite(p.total),
        stepsDone: finite(Number(p.stepsDone)), steps: finite(Number(p.steps)), point: cleanSweepPoint(p.point),
      };
      return { data, finished: !!p.done };
    },
    free: ({ sweep }) => sweep.free(),
  },
  [TASK.SWEEP]: {
    during: ERROR_DURING.SWEEP,
    create(msg) {
      const total = msg.widths.length * (msg.seeds ?? 1);
      const sweep = WidthSweep.withSeeds(withDefaults(msg.config), msg.widths, msg.steps, msg.seeds ?? 1);
      return { sweep, total, fan: sweepFan(msg, total) };
    },
    start: ({ sweep, total, fan }) => ({
      run: null, index: -1, total, workers: fan ? fan.run.size : 1, expected: cleanSlopes(sweep.expectedSlopes()),
    }),
    async advance(job) {
      const { sweep, total } = job;
      if (job.fan) {
        try {
          const { results, finished } = await job.fan.run.next();
          const runs = [];
          for (const { result, index } of results) {
            sweep.setRun(index, result);
            runs.push(cleanRun(result));
          }
          job.fan.received += results.length;
          const data = { runs, done: job.fan.received, total, workers: job.fan.run.size, ...sweepState(sweep) };
          return { data, finished };
        } catch (err) {
          // A pool that could not start its workers: the sweep goes on here, on its own.
          if (job.fan.received > 0) throw err;
          console.warn(`The width sweep runs in one worker: ${err?.message ?? err}`);
          job.fan.run.cancel();
          job.fan = null;
        }
      }
      const r = sweep.next();
      return { data: { run: cleanRun(r), index: finite(r.index), total: finite(r.total), workers: 1, ...sweepState(sweep) }, finished: !!r.done };
    },
    free: ({ sweep, fan }) => {
      fan?.run.cancel();
      sweep.free();
    },
  },
});
