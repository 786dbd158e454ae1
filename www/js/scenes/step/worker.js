// The step-size worker: one live StepSize run (the network beside its linearisation under the
// same finite step, with the sharpness tracked) or, in a second instance, a phase diagram.
// The live run's lifecycle (configure, play / pause / step, time slicing, the restart at a new
// step size) is worker-host.js's; a run is over at MAX_STEPS or when the network diverges
// (DONE 'finished'). Protocol (names in protocol.js), beside worker-host.js's:
//
// page → worker
//   {type: SET, runId, version, values: {lrMultiple}}
//                                      restart the run from θ₀ at `lrMultiple` × the stability
//                                      bound (a live setting that restarts; replies DONE 'stepped'
//                                      while paused)
//   {type: TASK, id, kind: TASK.PHASE, config, backend, workers}
//                                      a phase diagram (task-host.js), its widths training on
//                                      backend 'auto' | 'cpu' | 'gpu'; CANCEL_TASK stops it. A
//                                      diagram wholly on the CPU spreads its columns over a pool
//                                      of workers (scenes/step/pool-worker.js, task-fanout.js)
//                                      unless `workers` is 1; otherwise (and where a worker
//                                      cannot start workers) it runs here in slices of
//                                      PHASE_SLICE_MS
//   {type: LOSE_DEVICE}                destroy the diagram's GPU device (it goes on on the CPU)
// worker → page
//   {type: TASK_PROGRESS | TASK_DONE, id, report, progress}
//                                      after the start and every slice; progress.backend,
//                                      .notice, .activity, .done, .total

import { StepSize, PhaseDiagram, stepSizeDefaults, phaseDefaults } from '../../../pkg/descent.js';
import { MSG, TASK, ERROR_DURING, finite, floats64 } from '../../core/protocol.js';
import { hostRun, weightsMessage } from '../../core/worker-host.js';
import { hostTasks } from '../../core/task-host.js';
import { canFanOut, fanOut, lazyPool } from '../../core/task-fanout.js';

export const MAX_STEPS = 4000;
const CHUNK_MS = 30;
const PHASE_SLICE_MS = 80;

function text(s) {
  return typeof s === 'string' ? s : s == null ? null : String(s);
}

function cleanReport(r) {
  const out = {};
  for (const key of ['step', 'nTrain', 'paramCount', 'lr', 'effectiveLr', 'lrMultiple', 'stabilityBound',
    'catapultBound', 'catapultMultiple', 'twoOverLr', 'ntkTopInit', 'sharpnessInit', 'initialLoss', 'peakLoss',
    'peakStep', 'linearizedDiverged', 'diverged']) {
    out[key] = finite(typeof r[key] === 'bigint' ? Number(r[key]) : r[key]);
  }
  for (const key of ['loss', 'linearizedLoss', 'sharpness', 'ntkTop', 'weightChange', 'kernelDistance']) {
    out[key] = floats64(r[key]);
  }
  out.trackSteps = floats64(Array.from(r.trackSteps ?? [], Number));
  // The top k eigenvalues per tracked step (rows of k, descending).
  for (const key of ['hessianTop', 'ntkSpectrum']) out[key] = Array.from(r[key] ?? [], (row) => floats64(row));
  out.regime = text(r.regime);
  out.predictedRegime = text(r.predictedRegime);
  out.settled = !!r.settled;
  out.explanation = text(r.explanation);
  out.catapultSource = text(r.catapultSource);
  out.lossKind = r.lossKind === 'crossEntropy' ? 'crossEntropy' : 'squared';
  return out;
}

hostRun({
  info: () => ({ defaults: { ...stepSizeDefaults() }, phaseDefaults: { ...phaseDefaults() } }),
  create: (config) => new StepSize({ ...config }),
  evaluate: (run) => run.report(),
  // Never past the step budget.
  advance: (run, k) => run.advance(Math.max(1, Math.min(k, MAX_STEPS - Number(run.step)))),
  clean: cleanReport,
  finished: (r) => r.diverged != null || r.step >= MAX_STEPS,
  initialK: 4,
  nextK: (k, dt) => Math.min(512, Math.round(Math.min(2 * k, Math.max(k / 2, (k * CHUNK_MS) / Math.max(dt, 0.05))))),
  live: {
    lrMultiple: {
      during: ERROR_DURING.SET_LR, apply: (run, lrMultiple) => run.setLrMultiple(lrMultiple), refresh: true, restart: true,
    },
  },
  async handle(msg, h) {
    if (tasks.handle(msg)) return;
    if (msg.type === MSG.LOSE_DEVICE && tasks.current()) loseDevice = true;
    // The weights of the live run (exported only: the page imports none, see StepSize.exportWeights).
    else await weightsMessage(msg, h.run, () => {
      throw new Error('the Step-size scene does not import weights');
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Phase diagrams: a background task (task-host.js), one diagram at a time. Its engine calls are
// async (a GPU diagram reads back without blocking).

function phaseReport(diagram) {
  const r = diagram.report();
  const nums = (a) => (a ? Array.from(a, (v) => finite(v)) : null);
  return {
    axis: r.axis,
    widths: Array.from(r.widths, finite),
    ys: Array.from(r.ys, finite),
    regime: nums(r.regime),
    finalLoss: nums(r.finalLoss),
    sharpnessLr: nums(r.sharpnessLr),
    ntkLr: nums(r.ntkLr),
    weightChange: nums(r.weightChange),
    kernelDistance: nums(r.kernelDistance),
    peakRatio: nums(r.peakRatio),
    empiricalCatapultBound: nums(r.empiricalCatapultBound),
    stabilityBound: nums(r.stabilityBound),
  };
}

function phaseProgress(p) {
  return {
    done: finite(p.done), total: finite(p.total), fraction: finite(p.fraction), finished: !!p.finished,
    activity: String(p.activity ?? ''), backend: p.backend === 'webgpu' ? 'webgpu' : 'cpu',
    notice: p.notice ? String(p.notice) : null,
    noticeDetail: p.noticeDetail ? String(p.noticeDetail) : null,
  };
}

// A lost GPU simulated under the diagram in training (window.descent.loseDevice() on the page):
// done between slices, since a slice in flight holds the diagram.
let loseDevice = false;

const phasePool = lazyPool(new URL('./pool-worker.js', import.meta.url), 'phase diagram');

/**
 * The diagram's columns as pool jobs, the widest first (the longest jobs start first, so the
 * pool's workers finish together), when the whole diagram trains on the CPU; else null.
 */
function phaseFan(diagram, msg) {
  if (msg.workers === 1 || !canFanOut() || !diagram.cpuOnly) return null;
  const n = diagram.columnCount;
  const jobs = Array.from({ length: n }, (_, k) => ({ kind: 'column', config: msg.config, ix: n - 1 - k }));
  return { run: fanOut(phasePool(), jobs), received: 0, columns: n };
}

/** One slice of a pooled diagram: records the columns that arrived. */
async function pooledSlice(job) {
  const { diagram, fan } = job;
  const { results, finished } = await fan.run.next();
  for (const { result, index } of results) diagram.setColumn(fan.columns - 1 - index, result);
  fan.received += results.length;
  const progress = phaseProgress(diagram.progress());
  progress.workers = fan.run.size;
  if (!finished) {
    progress.activity = `${fan.received} of ${fan.columns} widths done; ${Math.min(fan.run.size, fan.columns - fan.received)} training on ${fan.run.size} workers`;
  }
  return { data: { report: phaseReport(diagram), progress }, finished };
}

const tasks = hostTasks({
  [TASK.PHASE]: {
    during: ERROR_DURING.PHASE,
    async create(msg) {
      loseDevice = false;
      const diagram = await PhaseDiagram.create({ ...msg.config }, String(msg.backend ?? 'auto'));
      return { diagram, fan: phaseFan(diagram, msg) };
    },
    start: ({ diagram, fan }) => {
      const progress = phaseProgress(diagram.progress());
      if (fan) progress.workers = fan.run.size;
      return { report: phaseReport(diagram), progress };
    },
    async advance(job) {
      if (job.fan) {
        try {
          return await pooledSlice(job);
        } catch (err) {
          // A pool that could not start its workers: the diagram goes on here, on its own.
          if (job.fan.received > 0) throw err;
          console.warn(`The phase diagram runs in one worker: ${err?.message ?? err}`);
          job.fan.run.cancel();
          job.fan = null;
        }
      }
      const progress = phaseProgress(await job.diagram.advanceAsync(PHASE_SLICE_MS));
      progress.workers = 1;
      return { data: { report: phaseReport(job.diagram), progress }, finished: progress.finished };
    },
    between({ diagram }) {
      if (!loseDevice) return;
      loseDevice = false;
      diagram.loseDevice();
    },
    free: ({ diagram, fan }) => {
      fan?.run.cancel();
      diagram.free();
    },
  },
});
