// A background task (task-host.js) whose work splits into independent jobs (the phase diagram's
// columns, the trained sweep's networks, the width sweep's runs), spread from the task's worker
// over a pool of workers of its own (task-pool.js ↔ pool-host.js, one per core, capped), so that
// a long task uses every core while the scene's live run keeps its own worker. The task's engine
// object stays in the task's worker and records each job's result (the engine computes a job on
// its own exactly as the whole task computes it, so the numbers are those of one worker).
//
// The task's loop (task-host.js) calls next() once per slice: it resolves with the results that
// arrived since the last call as soon as there is one, or after WAIT_MS with none, so that a
// cancel (read between slices) is seen within that time even while every job is long.
//
// Where a worker cannot start workers of its own (no nested workers), or the pool has one
// worker, a task runs as it always did: in slices in its own worker.

import { createPool, poolSize } from './task-pool.js';

const WAIT_MS = 120;

/** Whether this worker may spread a task over a pool (nested module workers exist here). */
export function canFanOut() {
  return typeof Worker === 'function' && poolSize() > 1;
}

/**
 * The pool of this worker's tasks, started on first use and kept (its engines stay loaded for
 * the next task): `workerUrl` serves the jobs (pool-host.js), `name` names them in failures.
 */
export function lazyPool(workerUrl, name) {
  let pool = null;
  return () => {
    pool ??= createPool({ workerUrl, name });
    return pool;
  };
}

/**
 * Starts `jobs` (plain objects for the pool's workers) on `pool`, replacing any batch it runs.
 * Returns {next(): Promise<{results: [{index, result}], finished}>, cancel(), size}; next()
 * rejects with the failure's text when a job fails or a worker dies.
 */
export function fanOut(pool, jobs) {
  const arrived = [];
  let finished = false;
  let failure = null;
  let wake = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  pool.run(jobs, {
    onResult(result, index) {
      arrived.push({ index, result });
      notify();
    },
    onDone() {
      finished = true;
      notify();
    },
    onFail(text) {
      failure = text;
      notify();
    },
  });
  return {
    async next() {
      if (!arrived.length && !finished && failure == null) {
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(notify, WAIT_MS);
        });
      }
      if (failure != null) throw new Error(failure);
      return { results: arrived.splice(0), finished };
    },
    cancel: () => pool.cancel(),
    size: pool.size,
  };
}
