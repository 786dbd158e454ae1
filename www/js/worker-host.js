// The worker side of a training run, shared by the scene workers that hold one live network
// (worker.js, lazy-worker.js). On top of worker-core.js (engine loading, the backlog before it is
// ready, transferred posts, the zero-delay yield) it owns the run's lifecycle:
//   - CONFIGURE: build the scene's run; a refusal keeps the previous run (paused) and says why;
//     the new run's id, its first report and its setup go back in DONE 'configured';
//   - PLAY / PAUSE / STEP and time slicing: each chunk advances k steps, k tuned by the scene so
//     a chunk takes about its target time, posts PROGRESS and yields so that new messages are
//     handled in between; a divergence stops training with DONE 'diverged', the end of a run
//     that has one (a step budget) with DONE 'finished';
//   - live settings (SET_LR, SET_RIDGE, …: {type, runId, [name]: value}) for the newest run only;
//   - the steps-per-second estimate, and errors posted with the run id and what failed.
// Every call into the engine goes through one promise chain (`serial`): a GPU run's calls are
// asynchronous, and the engine object must not be entered again while one of them is pending.
// A scene's engine calls may be synchronous or return promises; both are awaited.

import { serve, post, yielder } from './worker-core.js';
import { MSG, DONE_REASON, ERROR_DURING, describe, transferables } from './protocol.js';

export { post };

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
 * Serves one scene's live run. `scene`:
 *   info()                 scene facts for READY (defaults)
 *   create(config)         the engine's run for `config` (throws: refused); may be a promise
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
 *   live                   {[type]: {during, apply(run, msg), refresh?, restart?}}: the live
 *                          settings; `refresh`: the report changes at once (re-evaluated, and a
 *                          DONE 'stepped' is posted while paused); `restart`: the run starts over
 *                          from step 0 (chunks start again at `initialK`)
 *   handle(msg, host)      optional: the scene's other messages
 * Returns the host (`playing`, `runId`, `run`, `serial`, `postDone`) for the scene's own messages.
 */
export function hostRun(scene) {
  const host = {
    run: null, // the live run
    runId: 0, // run id of `run`
    playing: false,
    serial,
    postDone,
  };
  const initialK = scene.initialK ?? 1;
  let k = initialK; // steps per chunk
  let stepsPerSec = 0; // smoothed
  let lastReport = null;
  let reportSent = false; // lastReport has been posted: its typed arrays went with it
  let refused = false; // the last configure was refused: PLAY and STEP wait for a valid one
  const finished = (report) => report != null && !!scene.finished?.(report);
  // Why a run stopped by itself after `report`, or null.
  const ended = (report) => (finished(report) ? DONE_REASON.FINISHED : report.diverged != null ? DONE_REASON.DIVERGED : null);
  const scheduleTick = yielder(() => serial(tick));

  // Runs `fn` after every engine call queued before it has settled.
  let chain = Promise.resolve();
  function serial(fn) {
    chain = chain.then(fn).catch((err) => {
      post({ type: MSG.ERROR, runId: host.runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    });
    return chain;
  }

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
      post({ type: MSG.ERROR, runId: host.runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
    }
    post(msg);
    reportSent = true;
  }

  async function configure(msg) {
    let next;
    try {
      next = await scene.create(msg.config);
    } catch (err) {
      // Keep the previous run (and the page keeps its plots); stop training it.
      host.playing = false;
      refused = true;
      post({ type: MSG.ERROR, runId: msg.runId, during: ERROR_DURING.CONFIGURE, message: describe(err) });
      return;
    }
    if (host.run) host.run.free();
    host.run = next;
    refused = false;
    host.runId = msg.runId;
    k = initialK;
    stepsPerSec = 0;
    const t0 = performance.now();
    lastReport = scene.clean(await scene.evaluate(next));
    reportSent = false;
    const setup = scene.setup ? await scene.setup(next, performance.now() - t0) : null;
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
      post({ type: MSG.ERROR, runId: host.runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
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
      post({ type: MSG.ERROR, runId: host.runId, during: ERROR_DURING.ADVANCE, message: describe(err) });
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
      post({ type: MSG.ERROR, runId: host.runId, during: ERROR_DURING.STEP, message: describe(err) });
      return;
    }
    await postDone(ended(lastReport) ?? DONE_REASON.STEPPED);
  }

  async function setLive(setting, msg) {
    const run = host.run;
    if (!run || msg.runId !== host.runId) return; // for a run that is gone or not yet built
    try {
      await setting.apply(run, msg);
      if (setting.restart) k = initialK;
      if (setting.refresh) {
        lastReport = scene.clean(await scene.evaluate(run));
        reportSent = false;
        if (!host.playing) await postDone(DONE_REASON.STEPPED);
      }
    } catch (err) {
      post({ type: MSG.ERROR, runId: host.runId, during: setting.during, message: describe(err) });
    }
  }

  async function handle(msg) {
    const setting = scene.live?.[msg.type];
    if (setting) {
      await setLive(setting, msg);
      return;
    }
    switch (msg.type) {
      case MSG.CONFIGURE:
        await configure(msg);
        break;
      case MSG.PLAY:
        if (!host.playing && host.run && !refused && lastReport?.diverged == null && !finished(lastReport)) {
          host.playing = true;
          scheduleTick();
        }
        break;
      case MSG.PAUSE:
        if (host.playing) {
          host.playing = false;
          await postDone(DONE_REASON.PAUSED);
        }
        break;
      case MSG.STEP:
        await step(msg);
        break;
      default:
        if (scene.handle) await scene.handle(msg, host);
        break;
    }
  }

  serve((m) => serial(() => handle(m)), scene.info);
  return host;
}
