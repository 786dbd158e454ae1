// The worker side of a run, shared by every scene worker. Two layers:
//   - hostRuns (the core, every run worker: the pool of double-descent workers as well as the live
//     scenes): CONFIGURE builds the scene's run (a refusal says why, with the run id); SET applies
//     live settings ({type, runId, version, values}) to the newest run only and remembers the
//     version it answers to; a configure superseded by a newer one is skipped; the scene's other
//     messages go to its handle(); errors go back with the run id and what failed.
//   - hostRun (the live scenes: scenes/{playground,lazy,step}/worker.js) on top: PLAY / PAUSE /
//     STEP and time slicing: each chunk advances k steps, k tuned by the scene so a chunk takes
//     about its target time, posts PROGRESS and yields so that new messages are handled in
//     between; a divergence stops training with DONE 'diverged', the end of a run that has one (a
//     step budget) with DONE 'finished'; the steps-per-second estimate; the pictures.
// Both stand on worker-core.js (engine loading, the backlog before it is ready, transferred posts,
// the zero-delay yield). Every call into the engine goes through one promise chain (`serial`): a
// GPU run's calls are asynchronous, and the engine object must not be entered again while one of
// them is pending. A scene's engine calls may be synchronous or return promises; both are awaited.
// Every catch first asks crashed() (worker-core.js) whether the engine died: then the worker has
// told the page (CRASHED) and closed, and nothing more is reported or called.

import { serve, post, yielder, crashed, panicIfArmed } from './worker-core.js';
import { MSG, DONE_REASON, ERROR_DURING, describe, finite, transferables } from './protocol.js';

export { post, yielder };

/** An engine error as an ERROR with `fields` (runId, during…), unless it killed the engine. */
function report(err, fields) {
  if (!crashed(err)) post({ type: MSG.ERROR, ...fields, message: describe(err) });
}

export const MAX_K = 1 << 20; // most steps in one chunk or one STEP request
// After configure, pause and step a picture is always sent, unless it would block the worker
// longer than this; then only its share rule applies, while playing.
const FORCED_MAX_MS = 1500;

/**
 * A picture that costs time to compute (a prediction on a grid, a Gram matrix): sent now and
 * then while playing (at most every `minIntervalMs`, and only while it costs under `maxShare` of
 * the time since the last one), always when idle. `compute` may return a promise.
 */
export class Picture {
  constructor(compute, { minIntervalMs, maxShare }) {
    this.compute = compute;
    this.minIntervalMs = minIntervalMs;
    this.maxShare = maxShare;
    this.reset(0);
  }

  /** A new run: `estimateMs` stands in for the cost until it is measured. */
  reset(estimateMs) {
    this.costMs = estimateMs;
    this.measured = false;
    this.lastAt = performance.now();
  }

  /** Whether to compute it now: `forced` after configure, pause and step, else while playing. */
  wanted(forced) {
    if (forced) return this.costMs <= FORCED_MAX_MS;
    const since = performance.now() - this.lastAt;
    return since >= this.minIntervalMs && this.costMs <= this.maxShare * since;
  }

  async take() {
    const t0 = performance.now();
    const v = await this.compute();
    const now = performance.now();
    this.costMs = this.measured ? 0.7 * this.costMs + 0.3 * (now - t0) : now - t0;
    this.measured = true;
    this.lastAt = now;
    return v;
  }
}

/**
 * The core of a run worker. `scene`:
 *   info()                 scene facts for READY (defaults)
 *   create(config, msg)    the engine's run for `config` (throws: refused); may be a promise
 *   freeFirst              free the current run before its successor is built (runs too large
 *                          to hold two of); otherwise a refusal keeps the current run
 *   live                   {[name]: {during, apply(run, value), …}}: the live settings, applied
 *                          in the table's order; a failed one is reported with its `during`
 *   handle(msg, host)      optional: the scene's other messages
 * `layer` (what runs the run once it is built):
 *   started(run, msg)      a new run is in place (host.runId and host.version are its)
 *   refused()              the newest configure was refused
 *   changed(settings, msg) live settings were applied: the table's entries of those that were
 *   handle(msg)            optional: the layer's messages; returns whether it took `msg`
 * Returns the host: `run`, `runId`, `version` (of the newest SET applied, or the configure's),
 * `serial(fn)`.
 */
export function hostRuns(scene, layer = {}) {
  const host = { run: null, runId: 0, version: 0, serial };
  let newestRunId = 0; // the newest CONFIGURE received, also while older messages wait in the chain

  // Runs `fn` after every engine call queued before it has settled.
  let chain = Promise.resolve();
  function serial(fn) {
    chain = chain.then(() => {
      panicIfArmed();
      return fn();
    }).catch((err) => {
      report(err, { runId: host.runId, during: ERROR_DURING.ADVANCE });
    });
    return chain;
  }

  async function configure(msg) {
    if (msg.runId < newestRunId) return; // superseded before it was built
    if (scene.freeFirst && host.run) {
      host.run.free();
      host.run = null;
    }
    let next;
    try {
      next = await scene.create(msg.config, msg);
    } catch (err) {
      report(err, { runId: msg.runId, during: ERROR_DURING.CONFIGURE });
      layer.refused?.();
      return;
    }
    if (msg.runId < newestRunId) {
      next.free(); // superseded while it was built
      return;
    }
    if (host.run) host.run.free();
    host.run = next;
    host.runId = msg.runId;
    host.version = msg.version ?? 0;
    await layer.started?.(next, msg);
  }

  async function set(msg) {
    const run = host.run;
    if (!run || msg.runId !== host.runId) return; // for a run that is gone or not yet built
    const applied = [];
    for (const [name, setting] of Object.entries(scene.live ?? {})) {
      if (!(name in msg.values)) continue;
      try {
        await setting.apply(run, msg.values[name]);
        applied.push(setting);
      } catch (err) {
        report(err, { runId: host.runId, version: msg.version, during: setting.during });
      }
    }
    host.version = msg.version;
    if (applied.length) await layer.changed?.(applied, msg);
  }

  async function handle(msg) {
    if (msg.type === MSG.CONFIGURE) await configure(msg);
    else if (msg.type === MSG.SET) await set(msg);
    else if (!(await layer.handle?.(msg)) && scene.handle) await scene.handle(msg, host);
  }

  serve((msg) => {
    if (msg.type === MSG.CONFIGURE) newestRunId = Math.max(newestRunId, msg.runId);
    serial(() => handle(msg));
  }, scene.info);
  return host;
}

/**
 * Serves one scene's live run (on hostRuns). `scene`, beside hostRuns' info, create, live and
 * handle:
 *   evaluate(run)          its report now (the engine's, cleaned by `clean`)
 *   advance(run, k)        advances k steps; returns the engine's report
 *   clean(report)          a plain, NaN-free copy of an engine report
 *   setup(run, evalMs)     optional: the setup of a new run (data, grid spec, size); `evalMs` is
 *                          what one evaluate() took, to estimate the pictures' cost until they are
 *                          measured
 *   finished(report)       optional: whether the run is over (at its step budget, or diverged
 *                          where a divergence ends a run): training stops with DONE 'finished',
 *                          and PLAY and STEP do nothing until a restart or a new run
 *   initialK               optional: the first chunk's k after configure or a restart (default 1)
 *   chunk(run, k)          optional: one chunk while playing, {rep, points?, early?}; `early`
 *                          chunks keep k as it is (default: {rep: clean(advance(run, k))})
 *   nextK(k, dt, done)     the next chunk's k after one of `done` steps that took `dt` ms
 *   decorate(msg, forced)  adds the pictures that are due (and anything else) to a PROGRESS or
 *                          DONE message; `forced` on a DONE
 *   live                   {[name]: {during, apply(run, value), refresh?, restart?}}: `refresh`:
 *                          the report changes at once (re-evaluated, and a DONE 'stepped' is
 *                          posted while paused); `restart`: the run starts over from step 0
 *                          (chunks start again at `initialK`)
 * A refused configure keeps the previous run, paused. Returns the host (`playing`, `runId`, `run`,
 * `serial`, `postDone`) for the scene's own messages.
 */
export function hostRun(scene) {
  const initialK = scene.initialK ?? 1;
  let k = initialK; // steps per chunk
  let stepsPerSec = 0; // smoothed
  let lastReport = null;
  let reportSent = false; // lastReport has been posted: its typed arrays went with it
  let refused = false; // the last configure was refused: PLAY and STEP wait for a valid one
  const finished = (report) => report != null && !!scene.finished?.(report);
  // Why a run stopped by itself after `report`, or null.
  const ended = (report) => (finished(report) ? DONE_REASON.FINISHED : report.diverged != null ? DONE_REASON.DIVERGED : null);

  const host = hostRuns(scene, {
    started,
    refused() {
      // The previous run stays (and the page keeps its plots); training it stops.
      host.playing = false;
      refused = true;
    },
    changed,
    handle,
  });
  host.playing = false;
  host.postDone = postDone;
  const scheduleTick = yielder(() => host.serial(tick));

  async function decorate(msg, forced) {
    if (scene.decorate) await scene.decorate(msg, forced);
  }

  async function postDone(reason, extra = {}) {
    const run = host.run;
    if (!run) return;
    // A report whose typed arrays were transferred with an earlier message is read again.
    if (!lastReport || (reportSent && transferables(lastReport).length)) {
      lastReport = scene.clean(await scene.evaluate(run));
    }
    const msg = { type: MSG.DONE, runId: host.runId, reason, report: lastReport, stepsPerSec, ...extra };
    try {
      await decorate(msg, true);
    } catch (err) {
      report(err, { runId: host.runId, during: ERROR_DURING.ADVANCE });
    }
    post(msg);
    reportSent = true;
  }

  async function started(run) {
    refused = false;
    k = initialK;
    stepsPerSec = 0;
    const t0 = performance.now();
    lastReport = scene.clean(await scene.evaluate(run));
    reportSent = false;
    const setup = scene.setup ? await scene.setup(run, performance.now() - t0) : null;
    await postDone(DONE_REASON.CONFIGURED, { setup });
    if (host.playing) scheduleTick();
  }

  async function chunk(run) {
    if (scene.chunk) return scene.chunk(run, k);
    return { rep: scene.clean(await scene.advance(run, k)) };
  }

  async function tick() {
    const run = host.run;
    if (!host.playing || !run) return;
    const t0 = performance.now();
    const before = Number(run.step);
    let c;
    try {
      c = await chunk(run);
    } catch (err) {
      host.playing = false;
      report(err, { runId: host.runId, during: ERROR_DURING.ADVANCE });
      return;
    }
    const { rep, points = null, early = false } = c;
    const dt = Math.max(performance.now() - t0, 0.01);
    const done = rep.step - before;
    if (done > 0) {
      const rate = (done * 1000) / dt;
      stepsPerSec = stepsPerSec === 0 ? rate : 0.8 * stepsPerSec + 0.2 * rate;
    }
    if (!early) k = Math.max(1, Math.min(MAX_K, scene.nextK(k, dt, done)));
    lastReport = rep;
    reportSent = false;

    const reason = ended(rep);
    if (reason) {
      host.playing = false;
      await postDone(reason, points ? { points } : {});
      return;
    }
    const msg = { type: MSG.PROGRESS, runId: host.runId, report: rep, stepsPerSec };
    if (points) msg.points = points;
    try {
      await decorate(msg, false);
    } catch (err) {
      host.playing = false;
      report(err, { runId: host.runId, during: ERROR_DURING.ADVANCE });
      return;
    }
    post(msg);
    reportSent = true;
    scheduleTick();
  }

  async function step(msg) {
    host.playing = false;
    const run = host.run;
    if (!run || refused || finished(lastReport)) return;
    const steps = Math.max(1, Math.min(MAX_K, Math.floor(Number(msg.steps) || 1)));
    try {
      lastReport = scene.clean(await scene.advance(run, steps));
      reportSent = false;
    } catch (err) {
      report(err, { runId: host.runId, during: ERROR_DURING.STEP });
      return;
    }
    await postDone(ended(lastReport) ?? DONE_REASON.STEPPED);
  }

  /** Live settings were applied: a restart starts chunks over, a refresh re-reads the report. */
  async function changed(settings) {
    if (settings.some((s) => s.restart)) k = initialK;
    if (!settings.some((s) => s.refresh)) return;
    try {
      lastReport = scene.clean(await scene.evaluate(host.run));
      reportSent = false;
      if (!host.playing) await postDone(DONE_REASON.STEPPED);
    } catch (err) {
      report(err, { runId: host.runId, during: settings.find((s) => s.refresh).during });
    }
  }

  /** PLAY, PAUSE and STEP; returns whether `msg` was one of them. */
  async function handle(msg) {
    switch (msg.type) {
      case MSG.PLAY:
        if (!host.playing && host.run && !refused && lastReport?.diverged == null && !finished(lastReport)) {
          host.playing = true;
          scheduleTick();
        }
        return true;
      case MSG.PAUSE:
        if (host.playing) {
          host.playing = false;
          await postDone(DONE_REASON.PAUSED);
        }
        return true;
      case MSG.STEP:
        await step(msg);
        return true;
      default:
        return false;
    }
  }

  return host;
}

/**
 * The weights messages of a scene that trains a network (protocol.js): EXPORT_WEIGHTS answers the
 * engine's file of `run` now (its `exportWeights()`), READ_WEIGHTS checks a file with `read(text)`
 * (the scene's engine function: {config, step}, or throws why not). Returns whether `msg` was one.
 */
export async function weightsMessage(msg, run, read) {
  if (msg.type === MSG.EXPORT_WEIGHTS) {
    try {
      if (!run) throw new Error('there is no network yet');
      post({ type: MSG.WEIGHTS, requestId: msg.requestId, text: await run.exportWeights() });
    } catch (err) {
      report(err, { requestId: msg.requestId, during: ERROR_DURING.EXPORT_WEIGHTS });
    }
    return true;
  }
  if (msg.type === MSG.READ_WEIGHTS) {
    try {
      const { config, step } = read(String(msg.text ?? ''));
      post({ type: MSG.WEIGHTS_READ, config: { ...config }, step: finite(step) ?? 0 });
    } catch (err) {
      report(err, { during: ERROR_DURING.IMPORT_WEIGHTS });
    }
    return true;
  }
  return false;
}
