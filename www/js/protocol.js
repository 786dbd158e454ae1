// Message types spoken between the page (main.js) and the training worker (worker.js).
// Keep this file the single place where the strings are spelled.
//
// page → worker
//   {type: CONFIGURE, runId, config}   build a new network from `config`; replaces the current one
//                                      only if construction succeeds. Play state is kept.
//   {type: PLAY}                       train continuously (time-sliced) until PAUSE or divergence
//   {type: PAUSE}                      stop training; replies DONE (reason 'paused')
//   {type: STEP, steps}                advance `steps` steps (training is paused first); replies DONE
//   {type: SET_LR, runId, lr}          new step size for run `runId` from its next step on
//
// worker → page
//   {type: READY, info}                engine loaded: info = {build, defaults, limits}
//   {type: PROGRESS, runId, report, stepsPerSec, gridCostMs, grid?}
//                                      a training chunk finished; `grid` (Float32Array, only when
//                                      included) is the prediction on the grid; gridCostMs is what
//                                      one grid prediction costs (large networks get fewer)
//   {type: DONE, runId, reason, report, stepsPerSec, gridCostMs, grid?, setup?}
//                                      the worker is idle for this run. reason is one of
//                                      DONE_REASON; `setup` (after CONFIGURE only) carries the
//                                      data, the grid spec and the model size
//   {type: ERROR, runId, during, message, fatal?}
//                                      a request failed; during is one of ERROR_DURING. After
//                                      'configure' (the engine refused the config) the previous
//                                      network is kept, paused. fatal: the engine could not start
//
// `report` = {step, trainLoss, testLoss, trainAcc, testAcc, diverged, message}, with every
// non-finite number replaced by null. Typed arrays travel as transferred buffers.

export const MSG = Object.freeze({
  CONFIGURE: 'configure',
  PLAY: 'play',
  PAUSE: 'pause',
  STEP: 'step',
  SET_LR: 'setLr',
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
});

export const ERROR_DURING = Object.freeze({
  INIT: 'init',
  CONFIGURE: 'configure',
  ADVANCE: 'advance', // training stopped
  STEP: 'step',
  SET_LR: 'setLr', // the run goes on with its previous step size
});
