// The double-descent worker. The page runs a small pool of these (run-core.js); each owns one
// DoubleDescent session holding a contiguous block of the seeds (replicate s always uses seed
// `seed + s`, so the blocks together are exactly the single-session sweep). The run's lifecycle
// (configure, live settings, run ids, the one promise chain) is worker-host.js's core; this file
// computes the block's seeds one per turn and re-fits them at new live settings. In workers of
// their own, two background tasks (task-host.js): the isotropic model and the trained-network
// width sweep. Protocol (names in protocol.js), beside worker-host.js's and task-host.js's:
//
// page → worker
//   {type: CONFIGURE, runId, version, config, whole}
//                                            build a session for `config` (its `seed` and `seeds`
//                                            name this worker's block; `whole` is the sweep with
//                                            every seed, checked against the limits) and compute its
//                                            seeds one per turn
//   {type: SET, runId, version, values}      re-fit every finished seed at new live settings
//                                            (values: any of ridge, noise, teacher)
//   {type: TASK, id, kind: TASK.ISOTROPIC, config, mc}
//                                            the isotropic model's curves, then its Monte-Carlo
//                                            points, one per slice (mc null: the curves only)
//   {type: TASK, id, kind: TASK.TRAIN, config, workers}
//                                            train the width sweep of two-layer networks: its
//                                            networks spread over a pool of workers
//                                            (double-descent/pool-worker.js, task-fanout.js)
//                                            unless `workers` is 1; otherwise (and where a worker
//                                            cannot start workers) here, in slices of
//                                            TRAIN_SLICE_MS
// worker → page
//   {type: PROGRESS, runId, version, report, seedMs, done}
//                                            after each seed and each re-fit; report holds this
//                                            worker's per-seed curves and the theory; `version` is
//                                            the live settings' it is fitted at
//   {type: TASK_PROGRESS | TASK_DONE, id, curves?, point?}
//                                            the isotropic model: `curves` first, then each `point`
//                                            = {index, gamma, mean, se}
//   {type: TASK_PROGRESS | TASK_DONE, id, report, progress}   the trained sweep, after the start
//                                            and every slice

import {
  DoubleDescent, checkDoubleDescent, doubleDescentDefaults, isotropicCurves, isotropicMonteCarlo,
  TrainedSweep, trainedSweepDefaults,
} from '../../../pkg/descent.js';
import { MSG, TASK, ERROR_DURING, finite, describe, floats64 } from '../../core/protocol.js';
import { hostRuns, post, yielder } from '../../core/worker-host.js';
import { hostTasks } from '../../core/task-host.js';
import { canFanOut, fanOut, lazyPool } from '../../core/task-fanout.js';

function cleanReport(r) {
  return {
    sweep: r.sweep,
    ratio: floats64(r.ratio),
    n: Array.from(r.sizes, (s) => finite(s.n)),
    p: Array.from(r.sizes, (s) => finite(s.p)),
    params: Array.from(r.params, finite),
    outputs: finite(r.outputs) ?? 1,
    thresholdParams: finite(r.thresholdParams),
    perSeed: Array.from(r.perSeed, (s) => ({
      seed: finite(s.seed),
      trainMse: floats64(s.trainMse),
      testMse: floats64(s.testMse),
      norm: floats64(s.norm),
      testError: floats64(s.testError),
    })),
    theory: floats64(r.theory),
    theoryKernelLimit: finite(r.theoryKernelLimit),
    theoryOptimalRidge: finite(r.theoryOptimalRidge),
    ridge: finite(r.ridge),
  };
}

let digitsText = null;
async function loadDigits() {
  if (digitsText == null) {
    const res = await fetch(new URL('../../../data/digits.csv', import.meta.url));
    if (!res.ok) throw new Error(`could not load the digits data (HTTP ${res.status})`);
    digitsText = await res.text();
  }
  return digitsText;
}

// The run in this worker: its seeds, the time spent computing them, the live settings it is
// fitted at (a setting moved back to its value is no re-fit), and whether seeds are left.
let seeds = 0;
let seedMs = 0;
let fitted = null;
let computing = false;

/** A live setting: re-fits from the cached factorisations when the value changed. */
const refit = (name, apply) => ({
  during: ERROR_DURING.SET,
  apply(session, value) {
    if (value === fitted[name]) return;
    apply(session, value);
    fitted[name] = value;
  },
});

const host = hostRuns({
  info: () => ({
    defaults: { ...doubleDescentDefaults() },
    trainedDefaults: { ...trainedSweepDefaults() },
  }),
  freeFirst: true, // a sweep may take most of the memory limit: never two at once
  async create(config, msg) {
    const text = config.data === 'digits' ? await loadDigits() : undefined;
    // The whole sweep (all seeds) must pass the limits, whichever block this worker holds.
    checkDoubleDescent({ ...msg.whole });
    return new DoubleDescent({ ...config }, text);
  },
  live: {
    noise: refit('noise', (s, v) => s.setNoise(v)),
    teacher: refit('teacher', (s, v) => s.setTeacher(v)),
    ridge: refit('ridge', (s, v) => s.setRidge(v)),
  },
  handle: (msg) => tasks.handle(msg),
}, {
  started(session, msg) {
    const c = msg.config;
    fitted = { ridge: c.ridge, noise: c.noise, teacher: c.teacher };
    seeds = c.seeds;
    seedMs = 0;
    computing = true;
    next();
  },
  changed: () => report(host.run.seedsDone >= seeds),
});

function report(done) {
  const r = cleanReport(host.run.report());
  post({ type: MSG.PROGRESS, runId: host.runId, version: host.version, report: r, seedMs, done });
}

// One seed per turn, so that live settings and new runs are handled in between.
const next = yielder(() => host.serial(() => {
  if (!host.run || !computing) return;
  const t0 = performance.now();
  let done;
  try {
    done = host.run.advance();
  } catch (err) {
    computing = false;
    post({ type: MSG.ERROR, runId: host.runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    return;
  }
  seedMs += performance.now() - t0;
  computing = !done;
  report(done);
  if (!done) next();
}));

// The isotropic panel: the curves at once, then the Monte-Carlo points, one per slice.
function isoCurves(config) {
  const c = isotropicCurves(config);
  return {
    gamma: floats64(c.gamma),
    minNorm: floats64(c.minNorm),
    minNormFiniteN: floats64(c.minNormFiniteN),
    ridge: floats64(c.ridge),
    optimalRidge: floats64(c.optimalRidge),
    nullRisk: finite(c.nullRisk),
  };
}

function isoPoint({ config, mc }, i) {
  const p = Math.max(1, Math.round(mc.gammas[i] * mc.n));
  const e = isotropicMonteCarlo(mc.n, p, config.signal, config.noise, config.ridge, mc.reps, (mc.seed + i) >>> 0);
  return { index: i, gamma: p / mc.n, mean: finite(e.mean), se: finite(e.se) };
}

// The trained-network width sweep (run in a worker of its own, so the curves above stay live).
const TRAIN_SLICE_MS = 60;
function trainReport(sweep) {
  const r = sweep.report();
  const stat = (x) => ({ mean: floats64(x.mean), se: floats64(x.se) });
  const p = sweep.progress();
  return {
    report: {
      widths: Array.from(r.widths, finite),
      params: Array.from(r.params, finite),
      ratio: floats64(r.ratio),
      thresholdWidth: finite(r.thresholdWidth),
      trainMse: stat(r.trainMse),
      testMse: stat(r.testMse),
      seedsDone: Array.from(r.seedsDone, finite),
      diverged: Array.from(r.diverged, finite),
      nullMse: finite(r.nullMse),
      noiseVariance: finite(r.noiseVariance),
      steps: finite(Number(r.steps)),
      lr: finite(r.lr),
    },
    progress: {
      cellsDone: finite(p.cellsDone), cellsTotal: finite(p.cellsTotal), fraction: finite(p.fraction),
      width: finite(p.width), seedIndex: finite(p.seedIndex), done: !!p.done,
    },
  };
}

const trainPool = lazyPool(new URL('./pool-worker.js', import.meta.url), 'sweep');

/**
 * The sweep's networks as pool jobs, the widest first (the longest jobs start first, so the
 * pool's workers finish together), seeds in order within a width; null for one worker.
 */
function trainFan(sweep, msg) {
  if (msg.workers === 1 || !canFanOut()) return null;
  const widths = sweep.report().widths.length;
  const seeds = Math.round(sweep.cellsTotal / Math.max(1, widths));
  const cells = [];
  for (let w = widths - 1; w >= 0; w--) for (let s = 0; s < seeds; s++) cells.push({ s, w });
  const jobs = cells.map(({ s, w }) => ({ kind: 'cell', config: msg.config, seedIndex: s, widthIndex: w }));
  return { run: fanOut(trainPool(), jobs), cells, received: 0 };
}

/** The sweep's report; with a pool, the progress counts the networks trained in any order. */
function pooledReport(sweep, fan) {
  const data = trainReport(sweep);
  data.progress.workers = fan ? fan.run.size : 1;
  if (!fan) return data;
  const total = data.progress.cellsTotal;
  Object.assign(data.progress, {
    cellsDone: fan.received, fraction: total ? fan.received / total : 1, width: null, seedIndex: null,
    done: fan.received >= total,
  });
  return data;
}

// Both background tasks (task-host.js), each in a worker of its own.
const tasks = hostTasks({
  [TASK.ISOTROPIC]: {
    during: ERROR_DURING.ISOTROPIC,
    create: (msg) => ({ config: msg.config, mc: msg.mc, curves: isoCurves(msg.config), index: 0 }),
    start: (job) => ({ curves: job.curves }),
    advance(job) {
      const total = job.mc?.gammas.length ?? 0;
      if (job.index >= total) return { data: {}, finished: true };
      const point = isoPoint(job, job.index++);
      return { data: { point }, finished: job.index >= total };
    },
    free: () => {},
  },
  [TASK.TRAIN]: {
    during: ERROR_DURING.TRAIN,
    create(msg) {
      const sweep = new TrainedSweep({ ...msg.config });
      return { sweep, fan: trainFan(sweep, msg) };
    },
    start: ({ sweep, fan }) => pooledReport(sweep, fan),
    async advance(job) {
      if (job.fan) {
        try {
          const { results, finished } = await job.fan.run.next();
          for (const { result, index } of results) {
            const { s, w } = job.fan.cells[index];
            job.sweep.setCell(s, w, result);
          }
          job.fan.received += results.length;
          return { data: pooledReport(job.sweep, job.fan), finished };
        } catch (err) {
          // A pool that could not start its workers: the sweep goes on here, on its own.
          if (job.fan.received > 0) throw err;
          console.warn(`The trained sweep runs in one worker: ${err?.message ?? err}`);
          job.fan.run.cancel();
          job.fan = null;
        }
      }
      job.sweep.advance(TRAIN_SLICE_MS);
      const data = pooledReport(job.sweep, null);
      return { data, finished: data.progress.done };
    },
    free: ({ sweep, fan }) => {
      fan?.run.cancel();
      sweep.free();
    },
  },
});
