// The worker side of a pool (task-pool.js): each worker loads the engine once (worker-core.js),
// then answers every POOL_JOB with one POOL_RESULT (or an ERROR naming the job's batch), one job
// at a time. A job is a pure function of its parameters, so any worker may take any job and the
// results may arrive in any order.
//   page → worker   {type: POOL_JOB, batch, index, job: {kind, ...}}
//   worker → page   {type: POOL_RESULT, batch, index, result}
//                   {type: ERROR, batch, index, during, message}
//                   {type: CRASHED, message}   the engine died (worker-core.js): the worker closes

import { MSG, describe } from './protocol.js';
import { serve, post, crashed, panicIfArmed } from './worker-core.js';

/**
 * Serves the job kinds `kinds` ({[kind]: (job) => result, may return a promise}) with `during`,
 * the ERROR_DURING of a failure.
 */
export function hostPool(kinds, during) {
  serve(async (msg) => {
    if (msg.type !== MSG.POOL_JOB) return;
    const { batch, index, job } = msg;
    try {
      const fn = kinds[job?.kind];
      if (!fn) throw new Error(`unknown job ${job?.kind}`);
      panicIfArmed();
      post({ type: MSG.POOL_RESULT, batch, index, result: await fn(job) });
    } catch (err) {
      if (crashed(err)) return;
      post({ type: MSG.ERROR, batch, index, during, message: describe(err) });
    }
  });
}
