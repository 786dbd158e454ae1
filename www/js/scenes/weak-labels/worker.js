// The weak labels' live worker: one WeakLabels run (a network trained from bag proportions by
// DLLP or EasyLLP, scored on instance labels it never sees), and the mean map's accuracy curve
// over bag sizes (fast: no network). The run's lifecycle (configure, play / pause / step, time
// slicing) is worker-host.js's; a run is over at MAX_STEPS or when it diverges. The networks of
// the bag-size sweep train in a pool of pool-worker.js beside it. Protocol (protocol.js), beside
// worker-host.js's:
//
// page → worker
//   {type: SET, runId, version, values: {lr}}   a new step size for the running network
//   {type: CURVE, requestId, config}            the mean map's curve for `config`
//   {type: READ_TABLE, id, name, text?, options} the reader's own data: parse `text` (or the text
//                                                held, with new options) and hold it as reading `id`
// worker → page
//   DONE 'configured' carries `setup` = {classes, names, proportions, meanMap, gridSpec, points}:
//     proportions = {bags, classes, names, reported (m×K), truth (m×K), purified (m), singular,
//     condition}; meanMap = {accuracy} or {refused: text}; gridSpec = {size, lo, hi} or null
//     (the cells only); points = {trainX, trainY, testX, testY} or null
//   PROGRESS / DONE carry `report` = {step, bagLoss, bagLossFloor (the proportions' mean entropy,
//     the least any network reaches), trainAccuracy, testAccuracy, diverged, message}, `confusion` = {classes, names, counts (K×K)} and, for the cells, `grid`
//     (Float32Array, the class probabilities on the grid, point-major) when one is due
//   {type: CURVE_READY, requestId, bags, curve: [{bag, mean, se, refused}], ms}
//   {type: ERROR, requestId, during: WEAK_SWEEP, message}   the curve could not be computed
//   {type: TABLE_READ, id, summary}             the table read ({rows, dim, columns, target, task,
//                                                classes, classNames, dropped, hash, name})
//   {type: ERROR, id, during: READ_TABLE, message}  the file could not be read; the table held
//                                                before stays

import {
  WeakLabels, weakLabelsDefaults, weakBagSizes, weakMeanMapCurve,
} from '../../../pkg/descent.js';
import { MSG, ERROR_DURING, finite, describe, allFinite } from '../../core/protocol.js';
import { hostRun, Picture, post, weightsMessage } from '../../core/worker-host.js';
import { dataFor, holdTable } from './digits.js';

export const MAX_STEPS = 20000;
const CHUNK_MS = 30;

function text(s) {
  return s == null ? null : String(s);
}

function cleanReport(r) {
  return {
    step: finite(r.step) ?? 0,
    bagLoss: finite(r.bagLoss),
    bagLossFloor: finite(r.bagLossFloor),
    trainAccuracy: finite(r.trainAccuracy),
    testAccuracy: finite(r.testAccuracy),
    diverged: r.diverged == null ? null : text(r.diverged),
    message: r.diverged == null ? null : text(r.diverged),
  };
}

const nums = (a) => (a == null ? null : Array.from(a, (v) => finite(Number(v))));

function cleanProportions(p) {
  if (!p) return null;
  return {
    bags: finite(p.bags) ?? 0,
    classes: finite(p.classes) ?? 0,
    names: Array.from(p.names ?? [], String),
    reported: nums(p.reported),
    truth: nums(p.truth),
    purified: Array.from(p.purified ?? [], Boolean),
    singular: nums(p.singular),
    condition: finite(p.condition),
  };
}

function cleanMeanMap(m) {
  if (!m) return null;
  if (m.refused != null) return { refused: String(m.refused) };
  return { accuracy: finite(m.accuracy) };
}

function owned(a) {
  if (a == null) return null;
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return allFinite(f) ? f : null;
}

/** The class probabilities on the grid (the cells only), as an owned Float32Array. */
const grid = new Picture(() => owned(host.run.predictGrid()), { minIntervalMs: 250, maxShare: 0.25 });

const host = hostRun({
  info: () => ({ defaults: { ...weakLabelsDefaults() } }),
  async create(config) {
    await dataFor(config);
    return new WeakLabels({ ...config });
  },
  evaluate: (run) => run.evaluate(),
  // Never past the step budget.
  advance: (run, k) => run.advance(Math.max(1, Math.min(k, MAX_STEPS - Number(run.step)))),
  clean: cleanReport,
  finished: (r) => r.step >= MAX_STEPS,
  initialK: 1,
  nextK: (k, dt) => Math.round(k * Math.min(2, Math.max(0.5, CHUNK_MS / dt))),
  setup(run, evalMs) {
    const spec = run.gridSpec();
    const gridSpec = spec ? { size: finite(spec.size), lo: Array.from(spec.lo, Number), hi: Array.from(spec.hi, Number) } : null;
    grid.reset(gridSpec ? evalMs : 0);
    const p = cleanProportions(run.proportions());
    const pts = typeof run.points === 'function' ? run.points() : null;
    return {
      classes: p?.classes ?? 0,
      names: p?.names ?? [],
      proportions: p,
      meanMap: cleanMeanMap(run.meanMap()),
      gridSpec,
      points: pts ? {
        trainX: owned(pts.trainX), trainY: owned(pts.trainY), testX: owned(pts.testX), testY: owned(pts.testY),
      } : null,
    };
  },
  async decorate(msg, forced) {
    const c = host.run.confusion();
    msg.confusion = c ? { classes: finite(c.classes) ?? 0, names: Array.from(c.names ?? [], String), counts: nums(c.counts) } : null;
    if (host.run.gridSpec() && grid.wanted(forced)) {
      const g = await grid.take();
      if (g) msg.grid = g;
    }
  },
  live: {
    lr: { during: ERROR_DURING.SET_LR, apply: (run, lr) => run.setLr(lr) },
  },
  async handle(msg, h) {
    if (msg.type === MSG.CURVE) {
      curve(msg);
      return;
    }
    if (msg.type === MSG.READ_TABLE) {
      readTable(msg);
      return;
    }
    // The live network's weights (exported only: the page imports none).
    await weightsMessage(msg, h.run, () => {
      throw new Error('the Weak labels scene does not import weights');
    });
  },
});

/** The mean map's accuracy against bag size for `msg.config`, with the sweep's bag sizes. */
async function curve(msg) {
  try {
    await dataFor(msg.config);
    const t0 = performance.now();
    const config = { ...msg.config };
    const bags = Array.from(weakBagSizes(config), Number);
    const points = Array.from(weakMeanMapCurve(config), (p) => ({
      bag: finite(p.bag), mean: finite(p.mean), se: finite(p.se), refused: p.refused == null ? null : String(p.refused),
    }));
    post({ type: MSG.CURVE_READY, requestId: msg.requestId, bags, curve: points, ms: performance.now() - t0 });
  } catch (err) {
    post({ type: MSG.ERROR, requestId: msg.requestId, during: ERROR_DURING.WEAK_SWEEP, message: describe(err) });
  }
}

// The text of the reader's table held, to read again with other options.
let tableText = null;

/** READ_TABLE: the reader's file (or the one held, read with new options) for `data: 'table'`. */
function readTable(msg) {
  try {
    const text = typeof msg.text === 'string' ? msg.text : tableText;
    if (text == null) throw new Error('there is no file to read yet: choose one');
    const summary = holdTable(msg.id, text, msg.options);
    tableText = text;
    post({ type: MSG.TABLE_READ, id: msg.id, summary: { ...summary, name: msg.name ?? '' } });
  } catch (err) {
    post({ type: MSG.ERROR, id: msg.id, during: ERROR_DURING.READ_TABLE, message: describe(err) });
  }
}
