// The double-descent worker. The page runs a small pool of these; each owns one DoubleDescent
// session holding a contiguous block of the seeds (replicate s always uses seed `seed + s`, so
// the blocks together are exactly the single-session sweep). Protocol (names in protocol.js):
//
// page → worker
//   {type: CONFIGURE, runId, config, whole, live}
//                                            build a session for `config` (its `seed` and `seeds`
//                                            name this worker's block; `whole` is the sweep with
//                                            every seed, checked against the limits) and compute its
//                                            seeds one per task; `live` = {version, ridge, noise,
//                                            teacher} are the settings to fit with
//   {type: SET_LIVE, runId, live}            re-fit every finished seed at new live settings
//   {type: ISOTROPIC, id, config, mc}        the isotropic model's curves, then Monte-Carlo
//                                            points one per task (a newer id replaces the old)
//   {type: TASK, id, kind: TASK.TRAIN, config}
//                                            train the width sweep of two-layer networks, a
//                                            background task (task-host.js) in slices of
//                                            TRAIN_SLICE_MS; CANCEL_TASK stops it
// worker → page
//   {type: PROGRESS, runId, version, report, seedMs, done}
//                                            after each seed and each re-fit; report holds this
//                                            worker's per-seed curves and the theory
//   {type: ISO_CURVES, id, curves}, {type: ISO_POINT, id, index, gamma, mean, se}
//   {type: TASK_PROGRESS | TASK_DONE, id, report, progress}   after the start and every slice
//   {type: ERROR, runId | id, during, message}

import {
  DoubleDescent, checkDoubleDescent, doubleDescentDefaults, isotropicCurves, isotropicMonteCarlo,
  TrainedSweep, trainedSweepDefaults,
} from '../pkg/descent.js';
import { MSG, TASK, ERROR_DURING, finite, describe, floats64 } from './protocol.js';
import { serve, post, yielder } from './worker-core.js';
import { hostTasks } from './task-host.js';

let session = null;
let runId = 0;
let live = null; // {version, ridge, noise, teacher} the session is fitted with
let seedMs = 0; // time spent computing seeds of this run
let seeds = 0; // seeds in this worker's block
let digitsText = null;

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

function report(done) {
  post({ type: MSG.PROGRESS, runId, version: live.version, report: cleanReport(session.report()), seedMs, done });
}

const next = yielder(() => {
  if (!session) return;
  const t0 = performance.now();
  let done;
  try {
    done = session.advance();
  } catch (err) {
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    session = null;
    return;
  }
  seedMs += performance.now() - t0;
  report(done);
  if (!done) next();
});

async function loadDigits() {
  if (digitsText == null) {
    const res = await fetch(new URL('../data/digits.csv', import.meta.url));
    if (!res.ok) throw new Error(`could not load the digits data (HTTP ${res.status})`);
    digitsText = await res.text();
  }
  return digitsText;
}

async function configure(msg) {
  runId = msg.runId;
  if (session) session.free();
  session = null;
  try {
    const text = msg.config.data === 'digits' ? await loadDigits() : undefined;
    if (msg.runId !== runId) return; // a newer configure arrived while the data loaded
    // The whole sweep (all seeds) must pass the limits, whichever block this worker holds.
    checkDoubleDescent({ ...msg.whole, ...pickSettings(msg.live) });
    session = new DoubleDescent({ ...msg.config, ...pickSettings(msg.live) }, text);
  } catch (err) {
    post({ type: MSG.ERROR, runId: msg.runId, during: ERROR_DURING.CONFIGURE, message: describe(err) });
    return;
  }
  live = { ...msg.live };
  seedMs = 0;
  seeds = msg.config.seeds;
  next();
}

function pickSettings(l) {
  return { ridge: l.ridge, noise: l.noise, teacher: l.teacher };
}

function setLive(msg) {
  if (!session || msg.runId !== runId) return;
  const l = msg.live;
  try {
    if (l.noise !== live.noise) session.setNoise(l.noise);
    if (l.teacher !== live.teacher) session.setTeacher(l.teacher);
    if (l.ridge !== live.ridge) session.setRidge(l.ridge);
  } catch (err) {
    post({ type: MSG.ERROR, runId, during: ERROR_DURING.SET_RIDGE, message: describe(err) });
    return;
  }
  live = { ...l };
  report(session.seedsDone >= seeds);
}

// The isotropic panel: curves at once, then the Monte-Carlo points one per task.
let iso = null;
const isoNext = yielder(() => {
  if (!iso) return;
  const { id, config, mc } = iso;
  const i = iso.index++;
  if (i >= mc.gammas.length) {
    iso = null;
    return;
  }
  const gamma = mc.gammas[i];
  try {
    const p = Math.max(1, Math.round(gamma * mc.n));
    const e = isotropicMonteCarlo(mc.n, p, config.signal, config.noise, config.ridge, mc.reps, (mc.seed + i) >>> 0);
    post({ type: MSG.ISO_POINT, id, index: i, gamma: p / mc.n, mean: finite(e.mean), se: finite(e.se) });
  } catch (err) {
    post({ type: MSG.ERROR, id, during: ERROR_DURING.ISOTROPIC, message: describe(err) });
    iso = null;
    return;
  }
  isoNext();
});

function isotropic(msg) {
  try {
    const c = isotropicCurves(msg.config);
    const curves = {
      gamma: floats64(c.gamma),
      minNorm: floats64(c.minNorm),
      minNormFiniteN: floats64(c.minNormFiniteN),
      ridge: floats64(c.ridge),
      optimalRidge: floats64(c.optimalRidge),
      nullRisk: finite(c.nullRisk),
    };
    post({ type: MSG.ISO_CURVES, id: msg.id, curves });
  } catch (err) {
    post({ type: MSG.ERROR, id: msg.id, during: ERROR_DURING.ISOTROPIC, message: describe(err) });
    iso = null;
    return;
  }
  iso = msg.mc ? { id: msg.id, config: msg.config, mc: msg.mc, index: 0 } : null;
  if (iso) isoNext();
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

// The sweep is a background task (task-host.js), one slice of TRAIN_SLICE_MS at a time.
const tasks = hostTasks({
  [TASK.TRAIN]: {
    during: ERROR_DURING.TRAIN,
    create: (msg) => new TrainedSweep({ ...msg.config }),
    start: trainReport,
    advance(sweep) {
      sweep.advance(TRAIN_SLICE_MS);
      const data = trainReport(sweep);
      return { data, finished: data.progress.done };
    },
    free: (sweep) => sweep.free(),
  },
});

serve((msg) => {
  if (tasks.handle(msg)) return;
  switch (msg.type) {
    case MSG.CONFIGURE:
      configure(msg);
      break;
    case MSG.SET_LIVE:
      setLive(msg);
      break;
    case MSG.ISOTROPIC:
      isotropic(msg);
      break;
    default:
      break;
  }
}, () => ({
  defaults: { ...doubleDescentDefaults() },
  trainedDefaults: { ...trainedSweepDefaults() },
}));
