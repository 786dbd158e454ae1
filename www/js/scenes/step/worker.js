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
//   {type: TASK, id, kind: TASK.PHASE, config, backend}
//                                      a phase diagram (task-host.js) in slices of
//                                      PHASE_SLICE_MS, its widths training on backend 'auto' |
//                                      'cpu' | 'gpu'; CANCEL_TASK stops it
//   {type: LOSE_DEVICE}                destroy the diagram's GPU device (it goes on on the CPU)
// worker → page
//   {type: TASK_PROGRESS | TASK_DONE, id, report, progress}
//                                      after the start and every slice; progress.backend,
//                                      .notice, .activity, .done, .total

import { StepSize, PhaseDiagram, stepSizeDefaults, phaseDefaults } from '../../../pkg/descent.js';
import { MSG, TASK, ERROR_DURING, finite, floats64 } from '../../core/protocol.js';
import { hostRun, weightsMessage } from '../../core/worker-host.js';
import { hostTasks } from '../../core/task-host.js';

export const MAX_STEPS = 4000;
const CHUNK_MS = 30;
const PHASE_SLICE_MS = 80;

function text(s) {
  return typeof s === 'string' ? s : s == null ? null : String(s);
}

function cleanReport(r) {
  const out = {};
  for (const key of ['step', 'nTrain', 'paramCount', 'lr', 'effectiveLr', 'lrMultiple', 'stabilityBound',
    'catapultBound', 'catapultMultiple', 'twoOverLr', 'ntkTopInit', 'initialLoss', 'peakLoss', 'peakStep',
    'linearizedDiverged', 'diverged']) {
    out[key] = finite(typeof r[key] === 'bigint' ? Number(r[key]) : r[key]);
  }
  for (const key of ['loss', 'linearizedLoss', 'sharpness', 'ntkTop', 'weightChange', 'kernelDistance']) {
    out[key] = floats64(r[key]);
  }
  out.trackSteps = floats64(Array.from(r.trackSteps ?? [], Number));
  out.regime = text(r.regime);
  out.predictedRegime = text(r.predictedRegime);
  out.settled = !!r.settled;
  out.explanation = text(r.explanation);
  out.catapultSource = text(r.catapultSource);
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

const tasks = hostTasks({
  [TASK.PHASE]: {
    during: ERROR_DURING.PHASE,
    create(msg) {
      loseDevice = false;
      return PhaseDiagram.create({ ...msg.config }, String(msg.backend ?? 'auto'));
    },
    start: (diagram) => ({ report: phaseReport(diagram), progress: phaseProgress(diagram.progress()) }),
    async advance(diagram) {
      const progress = phaseProgress(await diagram.advanceAsync(PHASE_SLICE_MS));
      return { data: { report: phaseReport(diagram), progress }, finished: progress.finished };
    },
    between(diagram) {
      if (!loseDevice) return;
      loseDevice = false;
      diagram.loseDevice();
    },
    free: (diagram) => diagram.free(),
  },
});
