// The messages spoken between the pages and their workers. Keep this file the single place where
// the strings are spelled. Two families:
//
// Runs (run-core.js and run-client.js on the page; worker-host.js in the worker). A page drives one
// worker, or a pool of them (the double-descent page: each worker holds a block of the seeds), each
// holding the newest run:
// page → worker
//   {type: CONFIGURE, runId, version, config}
//                                      build a new run from `config`; replaces the current one
//                                      only if construction succeeds (a scene whose runs are too
//                                      large to hold two frees it first). Play state is kept.
//   {type: SET, runId, version, values}
//                                      live settings for run `runId`: values = {[name]: value},
//                                      applied without a rebuild (the step size, a ridge, the
//                                      label noise…). `version` counts the page's changes; the
//                                      replies that follow carry the newest one applied, so that
//                                      a page can keep one SET in flight per worker
//   {type: PLAY}                       train continuously (time-sliced) until PAUSE or divergence
//   {type: PAUSE}                      stop training; replies DONE (reason 'paused')
//   {type: STEP, steps}                advance `steps` steps (training is paused first); replies DONE
//   {type: LOSE_DEVICE}                makes the GPU fail as a lost device would, to show (and
//                                      test) the move to the CPU
//   {type: DEBUG_PANIC, nested?}       makes the engine panic (every worker: runs, tasks, pools),
//                                      only where it was built with the `crash-test` feature
//                                      (the export debugPanic; elsewhere ignored), to test how a
//                                      page survives a dead engine. A run worker panics in its
//                                      next engine call in turn, a task worker in its task's next
//                                      slice, a pool worker in its next job; `nested`: the worker
//                                      passes it on to the workers it started (a task's pool)
// The weights of a trained network (the Playground, Lazy or rich, and Step size, which exports
// only; src/session/weights.rs):
//   {type: EXPORT_WEIGHTS, requestId}  the weights file of the network now, as the engine writes it
//   {type: READ_WEIGHTS, text}         check a weights file (its JSON text) without building it
//   CONFIGURE's optional `weights` (the file's JSON text): the run is built from the file, its
//                                      settings, parameters and step (`config` is then ignored);
//                                      the page sends it after READ_WEIGHTS said the file is good
// worker → page
//   {type: READY, info}                engine loaded: info = {build, defaults}
//   {type: PROGRESS, runId, …}         a chunk of work finished (a training chunk, a seed)
//   {type: DONE, runId, reason, …}     the worker is idle for this run; reason is one of DONE_REASON
//   {type: ERROR, runId, during, message, version?, fatal?}
//                                      a request failed; during is one of ERROR_DURING (`version`
//                                      after a SET). After 'configure' (the engine refused the
//                                      config) the previous run is kept, paused. fatal: the engine
//                                      could not start
//   {type: WEIGHTS, requestId, text}   the file EXPORT_WEIGHTS asked for (JSON text); a failure is
//                                      {type: ERROR, requestId, during: EXPORT_WEIGHTS, message}
//   {type: CRASHED, message}           the engine is dead (a WebAssembly trap: a panic, which
//                                      release builds abort on, or memory that ran out); message
//                                      is the trap's text. Every worker may send it, once: it
//                                      handles no message after it and closes itself
//   {type: WEIGHTS_READ, config, step} READ_WEIGHTS's file is good: the settings it holds (every
//                                      field) and its step; a bad file is
//                                      {type: ERROR, during: IMPORT_WEIGHTS, message}, and the
//                                      current run goes on. These replies carry no runId: they are
//                                      about the page's request, whichever run answers it
// Replies for a run other than the newest are stale: the page drops them.
//
// The Playground (scenes/playground/page.js ↔ worker.js beside it), live settings {lr}:
//   PROGRESS: {runId, report, stepsPerSec, gridCostMs, grid?, points?}
//                                      a training chunk finished; `grid` (Float32Array, only when
//                                      included) is the prediction on the grid; gridCostMs is what
//                                      one grid prediction costs (large networks get fewer);
//                                      `points` = {step, train, test} (Float64Arrays, NaN where not
//                                      finite): the losses after each step of a chunk of the first
//                                      EARLY_STEPS (history.js), taken one at a time (also on a
//                                      DONE for a divergence there)
//   DONE: {runId, reason, report, stepsPerSec, gridCostMs, grid?, setup?}
//                                      `setup` (after CONFIGURE only) carries the data, the grid
//                                      spec and the model size
//   `setup` = {task, inputDim (the true d: 64 for the digits), paramCount, memoryBytes, gridSpec
//            ({dim, size, lo, hi}, over the plot's box), trainX, testX (Float32Arrays in PLOT
//            coordinates: the inputs for d ≤ 2, their first two principal axes for d > 2), trainY,
//            testY (one output: the value or ±1; K outputs: the class index 0…K−1, as f32),
//            targetGrid (1-D regression, else null), outputs (K), classes (0 for regression),
//            classNames, loss ('squared' | 'crossEntropy'), plotDim (1 or 2), projected (bool),
//            explained (the variance share of the two axes, or null), dataHash (a table's
//            'fnv1a64:…', else null), testImages (the digits' test inputs, n_test × 64 in
//            [0, 1], else null)}
//   `grid` holds K values per grid point (point-major), the points lifted from the principal
//   plane to the inputs when projected.
//   `report` = {step, trainLoss, testLoss, trainAcc, testAcc, diverged, message, backend, notice,
//   confusion, misclassified, misclassifiedCount}, with every non-finite number replaced by null:
//   confusion = K×K test counts (row-major, rows the true class, columns the predicted one; one
//   output: 2×2 from the sign, classes [−1, +1]) or null for regression; misclassified = up to 24
//   {index (test row), truth, predicted} (class indices), misclassifiedCount = how many in all.
//   The reader's own data (dataset 'table'):
//   page → worker {type: READ_TABLE, text?, name, options}
//                                      parse `text` (absent: the text held, with new `options` =
//                                      {target: name | 0-based index | null, task: 'auto' |
//                                      'classification' | 'regression', delimiter?, header?}) and
//                                      keep it for the runs on 'table'
//   worker → page {type: TABLE_READ, summary}
//                                      summary = {rows, dim, columns, target, task, inferredTask,
//                                      classes, classNames, classCounts, dropped, hash, hasHeader,
//                                      delimiter, name}; a bad file is {type: ERROR, during:
//                                      READ_TABLE, message} and the previous table and run stay
//   CONFIGURE with dataset 'table' builds on the table held (none: refused, in words); the digits
//   (dataset 'digits') are fetched by the worker the first time a run needs them. PROGRESS and DONE also carry `backendInfo` =
//   {backend: 'cpu' | 'webgpu', adapter, notice, detail}: the backend running, the GPU adapter's
//   name, why the run is on the CPU when a GPU was wanted (in plain words, for the page), and the
//   technical reason behind that (for the console). The config's `backend` ('auto' | 'cpu' |
//   'gpu') chooses it.
//
// Lazy or rich (scenes/lazy/page.js ↔ scenes/lazy/worker.js), live settings {lr, ridge} (the ridge of the kernel
// regression), with these changes:
//   report = {step, network, linearized, ntk, krr, weightChange, kernelDistance, diverged, message},
//            each model's entry {trainLoss, testLoss, trainAcc, testAcc}
//   grid   = {network, linearized, ntk, krr}: one Float32Array per model (null if not finite)
//   gram   = {size, now, init, eigNow, eigInit, eigAnalytic, eigFloor} (PROGRESS / DONE, when
//            included): the empirical NTK Gram matrix now and at θ₀, the spectra of K/n, and the
//            fraction of the largest eigenvalue below which the empirical (f32) spectra are noise
//   setup  also carries expectedSlopes = {weightChange, kernelDistance}: the slopes against width
//            that theory predicts for the run's settings (null where it predicts none)
//   the width sweep, a background task (below) TASK.SWEEP {config, widths, steps, seeds}: train
//   `config` at each width for `steps` steps with `seeds` seeds (seed, seed + 1, …), one (width,
//   seed) per slice; its TASK_PROGRESS / TASK_DONE carry {run, index, total, slopes, points,
//   expected}: run = {width, seed, weightChange, kernelDistance} just finished (null in the first
//   message, which carries `expected` = {weightChange, kernelDistance}, the slopes theory
//   predicts); points = one per width so far, {width, runs, diverged, weightChange,
//   kernelDistance (geometric means over seeds), weightChangeMin, …Max, kernelDistanceMin, …Max};
//   slopes = {weightChange, kernelDistance}, null where not yet known.
//
// Step size (scenes/step/page.js ↔ scenes/step/worker.js), live setting {lrMultiple} (a restart from θ₀ at a new
// multiple of the stability bound), DONE 'finished' at the step budget or a divergence, and the
// phase diagrams as the background task TASK.PHASE; spelled out in scenes/step/worker.js.
//
// Double descent (scenes/double-descent/page.js ↔ a pool of scenes/double-descent/worker.js): CONFIGURE and live settings {ridge, noise,
// teacher} (a re-fit of the finished seeds, no recomputation), PROGRESS after each seed and each
// re-fit with the `version` it is fitted at; the isotropic model (TASK.ISOTROPIC) and the
// trained-network sweep (TASK.TRAIN) as background tasks; spelled out in scenes/double-descent/worker.js.
//
// Weak labels (scenes/weak-labels/page.js ↔ scenes/weak-labels/worker.js for the live run, and a
// pool of scenes/weak-labels/pool-worker.js for the bag-size sweep), spelled out in those files.
// Pools (task-pool.js ↔ pool-host.js): independent jobs handed to several workers, one at a time
// each, results in any order:
//   page → worker   {type: POOL_JOB, batch, index, job}
//   worker → page   {type: POOL_RESULT, batch, index, result}
//                   {type: ERROR, batch, index, during, message}
//
// Background tasks (task-client.js ↔ task-host.js: the lazy width sweep, the phase diagrams, the
// isotropic model, the trained-network sweep), each in a worker of its own so that the live run
// goes on:
//   page → worker   {type: TASK, id, kind, ...params}    start one (a newer one replaces it)
//                   {type: CANCEL_TASK, id}               stop it after the slice in progress
//   worker → page   {type: TASK_PROGRESS, id, ...}        after the start and after every slice
//                   {type: TASK_DONE, id, reason, ...}    reason is one of TASK_END
//                   {type: ERROR, id, during, message}    the task stopped

export const MSG = Object.freeze({
  CONFIGURE: 'configure',
  PLAY: 'play',
  PAUSE: 'pause',
  STEP: 'step',
  SET: 'set',
  LOSE_DEVICE: 'loseDevice',
  DEBUG_PANIC: 'debugPanic',
  CRASHED: 'crashed',
  EXPORT_WEIGHTS: 'exportWeights',
  READ_WEIGHTS: 'readWeights',
  WEIGHTS: 'weights',
  WEIGHTS_READ: 'weightsRead',
  READ_TABLE: 'readTable',
  TABLE_READ: 'tableRead',
  TASK: 'task',
  CANCEL_TASK: 'cancelTask',
  TASK_PROGRESS: 'taskProgress',
  TASK_DONE: 'taskDone',
  CURVE: 'curve',
  CURVE_READY: 'curveReady',
  POOL_JOB: 'poolJob',
  POOL_RESULT: 'poolResult',
  READY: 'ready',
  PROGRESS: 'progress',
  DONE: 'done',
  ERROR: 'error',
});

export const DONE_REASON = Object.freeze({
  CONFIGURED: 'configured',
  PAUSED: 'paused',
  STEPPED: 'stepped',
  DIVERGED: 'diverged',
  FINISHED: 'finished', // the run is over (a step budget): PLAY and STEP wait for a restart
});

export const ERROR_DURING = Object.freeze({
  INIT: 'init',
  CONFIGURE: 'configure',
  ADVANCE: 'advance', // training stopped
  STEP: 'step',
  SET_LR: 'setLr', // the run goes on with its previous step size
  SET_RIDGE: 'setRidge', // the kernel regression keeps its previous ridge
  SET: 'set', // a live setting of the double-descent sweep: the curves keep their previous fit
  SWEEP: 'sweep', // the sweep stopped
  ENSEMBLE_SWEEP: 'ensembleSweep', // the ensemble's width sweep stopped
  ISOTROPIC: 'isotropic', // the isotropic-model panel stopped
  TRAIN: 'train', // the trained-network sweep stopped
  PHASE: 'phase', // the phase diagram stopped
  WEAK_SWEEP: 'weakSweep', // the weak labels' bag-size sweep stopped
  EXPORT_WEIGHTS: 'exportWeights', // no weights file was written; the run goes on
  IMPORT_WEIGHTS: 'importWeights', // the file was not imported; the run goes on
  READ_TABLE: 'readTable', // the file was not read; the previous table and run stay
});

/** The background tasks (TASK's kind; task-host.js). */
export const TASK = Object.freeze({
  SWEEP: 'sweep', // lazy-worker.js: the width sweep
  ENSEMBLE_SWEEP: 'ensembleSweep', // lazy-worker.js: the ensemble's distance from the band across widths
  PHASE: 'phase', // step-worker.js: a phase diagram
  TRAIN: 'train', // dd-worker.js: the trained-network sweep
  ISOTROPIC: 'isotropic', // dd-worker.js: the isotropic model's curves and Monte-Carlo points
});

/** How a background task ended (TASK_DONE's reason; task-host.js). */
export const TASK_END = Object.freeze({
  FINISHED: 'finished',
  CANCELLED: 'cancelled',
});

export const SWEEP_END = Object.freeze({
  FINISHED: 'finished',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
});

// ---------------------------------------------------------------------------------------------
// Wire helpers: what crosses the worker boundary is plain data, finite numbers or null, and typed
// arrays whose buffers are transferred.

/** A finite number (bigint converted), else null. */
export function finite(x) {
  if (typeof x === 'bigint') return Number(x);
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** The fields every run report shares, cleaned: the step, the divergence step and the message. */
export function runFields(r) {
  return {
    step: finite(r.step) ?? 0,
    diverged: r.diverged == null ? null : finite(Number(r.diverged)),
    message: typeof r.message === 'string' ? r.message : (r.message == null ? null : String(r.message)),
  };
}

/** An owned Float64Array of `a` (an array or typed array) with every non-finite entry as NaN,
 * which the plots leave out; null for null or undefined. */
export function floats64(a) {
  if (a == null) return null;
  return Float64Array.from(a, (v) => (Number.isFinite(v) ? v : NaN));
}

/** Whether every element of an array is finite. */
export function allFinite(a) {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** The text of an error thrown by the engine (or anything else). */
export function describe(err) {
  if (err == null) return 'unknown error';
  if (typeof err === 'string') return err;
  if (typeof err.message === 'string' && err.message) return err.message;
  return String(err);
}

/**
 * Whether `err` means the engine is dead: a WebAssembly trap (RuntimeError), which is what a
 * panic becomes in a release build (they abort), and a failed allocation (the tab ran out of
 * memory), and an out-of-bounds access. Its memory and objects can no longer be trusted.
 */
export function engineDead(err) {
  return typeof WebAssembly === 'object' && err instanceof WebAssembly.RuntimeError;
}

/** What the page says about a dead engine ("The training engine"): what happened, in words. */
export function crashText(what, message) {
  const reason = plainMessage(String(message ?? '').replace(/^(Uncaught\s+)?(RuntimeError:\s*)?/, '').trim()) || 'no reason given';
  return `${what} stopped unexpectedly (${reason}). This happens when the engine fails, or when the tab runs out of memory.`;
}

/** The buffers of every typed array in `msg`, up to three levels of plain objects deep. */
export function transferables(msg, depth = 3, out = []) {
  if (msg == null || typeof msg !== 'object' || depth < 0) return out;
  if (ArrayBuffer.isView(msg)) {
    if (!out.includes(msg.buffer)) out.push(msg.buffer);
    return out;
  }
  for (const v of Object.values(msg)) transferables(v, depth - 1, out);
  return out;
}

/** Engine text for the page: never shows NaN or Infinity as such. */
export function plainMessage(text) {
  return String(text ?? '')
    .replace(/\bNaN\b/g, 'not-a-number')
    .replace(/-?\bInfinity\b|-?\binf\b/gi, 'infinity');
}

// (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where wasm SIMD exists.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

/** Whether this browser runs WebAssembly SIMD, which the engine is compiled with. */
export function wasmSimdSupported() {
  return WebAssembly.validate(SIMD_PROBE);
}

export const NO_SIMD_MESSAGE = 'This browser does not support WebAssembly SIMD, which Descent needs. ' +
  'Use a current Chrome, Edge, Firefox or Safari (16.4 or later).';
