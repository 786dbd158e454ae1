// The page side of a pool of module workers for work that splits into independent jobs (the weak
// labels' bag-size sweep: one job per bag size and seed). A batch is a list of jobs; each worker
// holds one job at a time and gets the next as soon as it answers, so a slow job never holds up
// the others, and the results arrive in any order. One batch at a time: a new batch, or Cancel,
// makes every reply of the old one stale (dropped), and the workers still busy with it are
// terminated (a job may take seconds) and replaced by fresh ones when the next batch needs them.
// Workers speak pool-host.js's messages (protocol.js: POOL_JOB, POOL_RESULT).

import { MSG, crashText } from './protocol.js';
import { moduleWorker } from './trusted.js';

// Every pool of this page or worker, for postToPools.
const pools = new Set();

/** `msg` to every worker of every pool started here (a DEBUG_PANIC passed on to a task's pool). */
export function postToPools(msg) {
  for (const slots of pools) for (const slot of slots) slot.worker?.postMessage(msg);
}

/** How many workers a pool gets: one core is left to the page and the live run; 2 to 4. */
export function poolSize(cores = (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 2) {
  return Math.min(4, Math.max(2, cores - 1));
}

/**
 * options:
 *   workerUrl        the pool's worker (a module serving pool-host.js)
 *   size             how many workers (default poolSize())
 *   name             what the work is called in failure texts ("sweep")
 * Returns {run(jobs, handlers), cancel(), warm(), running, batch, size}.
 */
export function createPool({ workerUrl, size = poolSize(), name = 'task' } = {}) {
  const slots = Array.from({ length: size }, (_, index) => ({ index, worker: null, job: null, ready: false }));
  pools.add(slots);
  let batch = 0; // the current batch; replies of any other are stale
  let queue = []; // jobs of the current batch not handed out yet: [{index, job}]
  let handlers = null;
  let outstanding = 0; // jobs of the current batch handed out and not answered
  let running = false;

  function ensure(slot) {
    if (slot.worker) return slot.worker;
    const worker = moduleWorker(workerUrl);
    worker.onmessage = (e) => receive(slot, e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      // After READY the engine was running: it died (crashed() in worker-core.js covers its traps).
      const text = slot.ready ? crashText(`The ${name}'s engine`, e.message) : `The ${name} could not run${e.message ? ` (${e.message})` : ''}.`;
      replace(slot);
      fail(text);
    };
    slot.worker = worker;
    return worker;
  }

  /** Terminates a slot's worker; the next job starts a fresh one. */
  function replace(slot) {
    slot.worker?.terminate();
    slot.worker = null;
    slot.job = null;
    slot.ready = false;
  }

  function fail(text) {
    if (!running) return;
    const h = handlers;
    stop();
    h?.onFail?.(text);
  }

  function stop() {
    running = false;
    queue = [];
    outstanding = 0;
    for (const slot of slots) if (slot.job) replace(slot); // busy with a job nobody wants now
  }

  /** Hands the next queued job to `slot`, if there is one. */
  function feed(slot) {
    if (!running || slot.job || !queue.length) return;
    const next = queue.shift();
    slot.job = { batch, index: next.index };
    outstanding += 1;
    try {
      ensure(slot).postMessage({ type: MSG.POOL_JOB, batch, index: next.index, job: next.job });
    } catch (err) {
      fail(`The ${name} could not start: ${err?.message ?? err}`);
    }
  }

  function receive(slot, msg) {
    if (msg.type === MSG.READY) {
      slot.ready = true;
      return;
    }
    if (msg.type === MSG.CRASHED) {
      // The worker's engine is dead: a fresh worker takes this slot's next job. The batch ends
      // (its job is lost); it can be started again.
      replace(slot);
      fail(`${crashText(`The ${name}'s engine`, msg.message)} Start it again to use a fresh engine.`);
      return;
    }
    if (msg.type === MSG.ERROR && msg.fatal) {
      replace(slot);
      fail(msg.message);
      return;
    }
    if (msg.batch !== batch || !running) return; // stale: a cancelled or replaced batch
    slot.job = null;
    outstanding -= 1;
    if (msg.type === MSG.ERROR) {
      fail(handlers?.errorText?.(msg.message) ?? `The ${name} stopped: ${msg.message}`);
      return;
    }
    if (msg.type !== MSG.POOL_RESULT) return;
    handlers?.onResult?.(msg.result, msg.index);
    if (!running) return; // the handler cancelled
    feed(slot);
    if (!queue.length && outstanding === 0) {
      running = false;
      handlers?.onDone?.();
    }
  }

  return {
    /**
     * Starts a batch (replacing one running): `jobs` are plain objects for the workers;
     * handlers: {onResult(result, index), onDone(), onFail(text), errorText(message)}.
     * Returns the batch number.
     */
    run(jobs, h) {
      if (running) stop();
      batch += 1;
      handlers = h;
      queue = jobs.map((job, index) => ({ index, job }));
      outstanding = 0;
      running = true;
      if (!queue.length) {
        running = false;
        h?.onDone?.();
        return batch;
      }
      for (const slot of slots) feed(slot);
      return batch;
    },
    /** Ends the batch now: nothing more of it is reported; busy workers are terminated. */
    cancel() {
      if (!running) return false;
      batch += 1;
      stop();
      return true;
    },
    /** Starts every worker now, so that their engines have loaded by the first batch. */
    warm() {
      try {
        for (const slot of slots) ensure(slot);
      } catch {
        // run() tries again and says why it could not
      }
    },
    get running() {
      return running;
    },
    get batch() {
      return batch;
    },
    size,
  };
}
