// The step-size worker: one live StepSize run (the network beside its linearisation under the
// same finite step, with the sharpness tracked) or, in a second instance, a phase diagram.
// The live run's lifecycle (configure, play / pause / step, time slicing, the restart at a new
// step size) is worker-host.js's; a run is over at MAX_STEPS or when the network diverges
// (DONE 'finished'). Protocol (names in protocol.js), beside worker-host.js's:
//
// page → worker
//   {type: SET_LR, runId, lrMultiple} restart the run from θ₀ at `lrMultiple` × the stability
//                                      bound (a live setting that restarts; replies DONE 'stepped'
//                                      while paused)
//   {type: PHASE, id, config, backend} compute a phase diagram in slices of PHASE_SLICE_MS,
//                                      its widths training on backend 'auto' | 'cpu' | 'gpu'
//   {type: CANCEL_PHASE, id}           stop it; the cells computed so far stay
//   {type: LOSE_DEVICE}                destroy the diagram's GPU device (it goes on on the CPU)
// worker → page
//   {type: PHASE_PROGRESS, id, report, progress}  after every slice; progress.finished or
//                                                 progress.cancelled ends the diagram;
//                                                 progress.backend, .notice, .activity
//   {type: ERROR, id, during: 'phase', message}

import { StepSize, PhaseDiagram, stepSizeDefaults, phaseDefaults } from '../pkg/descent.js';
import { MSG, ERROR_DURING, finite, describe, floats64 } from './protocol.js';
import { hostRun, post } from './worker-host.js';

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
    [MSG.SET_LR]: {
      during: ERROR_DURING.SET_LR, apply: (run, msg) => run.setLrMultiple(msg.lrMultiple), refresh: true, restart: true,
    },
  },
  handle(msg) {
    // The diagram's loop runs on its own (not awaited), so that CANCEL_PHASE gets in between slices.
    if (msg.type === MSG.PHASE) startPhase(msg);
    else if (msg.type === MSG.CANCEL_PHASE) cancelPhase(msg);
    else if (msg.type === MSG.LOSE_DEVICE) losePhaseDevice();
  },
});

// ---------------------------------------------------------------------------------------------
// Phase diagrams.

// One diagram at a time. Its engine calls are async (a GPU diagram reads back without
// blocking), and a diagram must not be freed while a call on it is pending, so only its own
// loop frees it: a cancel or a newer request sets a flag the loop reads after each slice.
let phase = null; // {id, diagram, cancel, replaced, lose}

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

/** Frees the diagram of `run` and forgets it. */
function endPhase(run) {
  run.diagram.free();
  if (phase === run) phase = null;
}

/**
 * Between slices, when no engine call is pending: ends a replaced or cancelled diagram
 * (reporting the cancel) and returns true when the loop must stop; destroys the GPU device when
 * that was asked for meanwhile.
 */
function phaseStopped(run) {
  if (run.lose && !run.replaced && !run.cancel) {
    run.lose = false;
    run.diagram.loseDevice();
  }
  if (run.cancel && !run.replaced) {
    const progress = { ...phaseProgress(run.diagram.progress()), cancelled: true };
    post({ type: MSG.PHASE_PROGRESS, id: run.id, report: phaseReport(run.diagram), progress });
  }
  if (run.replaced || run.cancel) {
    endPhase(run);
    return true;
  }
  return false;
}

async function startPhase(msg) {
  if (phase) phase.replaced = true;
  const run = { id: msg.id, diagram: null, cancel: false, replaced: false, lose: false };
  phase = run;
  try {
    run.diagram = await PhaseDiagram.create({ ...msg.config }, String(msg.backend ?? 'auto'));
  } catch (err) {
    if (!run.replaced) {
      post({ type: MSG.ERROR, id: msg.id, during: ERROR_DURING.PHASE, message: describe(err) });
      if (phase === run) phase = null;
    }
    return;
  }
  if (phaseStopped(run)) return;
  post({ type: MSG.PHASE_PROGRESS, id: run.id, report: phaseReport(run.diagram), progress: phaseProgress(run.diagram.progress()) });
  for (;;) {
    // Let a cancel or a new request in before each slice.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (phaseStopped(run)) return;
    let p;
    try {
      p = phaseProgress(await run.diagram.advanceAsync(PHASE_SLICE_MS));
    } catch (err) {
      if (!run.replaced) post({ type: MSG.ERROR, id: run.id, during: ERROR_DURING.PHASE, message: describe(err) });
      endPhase(run);
      return;
    }
    if (!run.replaced) post({ type: MSG.PHASE_PROGRESS, id: run.id, report: phaseReport(run.diagram), progress: p });
    if (p.finished) {
      endPhase(run);
      return;
    }
  }
}

function cancelPhase(msg) {
  if (phase && phase.id === msg.id) phase.cancel = true;
}

/**
 * Simulates a lost GPU under the diagram in training (window.descent.loseDevice() on the page):
 * done by the diagram's loop between slices, since a slice in flight holds the diagram.
 */
function losePhaseDevice() {
  if (phase) phase.lose = true;
}
