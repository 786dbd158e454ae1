// The worker side of a background task (a width sweep, a phase diagram, a trained-network
// sweep): long work in slices, in a worker of its own so that the live run goes on, reported as
// it fills in, cancellable between slices. One message family (protocol.js):
//   page → worker   {type: TASK, id, kind, ...params}   start a task (a newer one replaces it)
//                   {type: CANCEL_TASK, id}              stop it after the slice in progress
//   worker → page   {type: TASK_PROGRESS, id, ...}       after the start and after every slice
//                   {type: TASK_DONE, id, reason, ...}   reason TASK_END.FINISHED (with the last
//                                                        slice's data) or TASK_END.CANCELLED
//                   {type: ERROR, id, during, message}   the task stopped (during: its kind's)
//                   {type: CRASHED, message}             the engine died (worker-core.js): the
//                                                        worker closes; the page starts a new one
// Only the task's own loop frees its engine object: a slice may be asynchronous (a GPU read
// back), and the object must not be freed while a call on it is pending; a cancel or a newer
// task sets a flag the loop reads between slices.

import { MSG, TASK_END, describe } from './protocol.js';
import { post, crashed, panicIfArmed } from './worker-core.js';

/** Resolves after the messages already queued (a MessageChannel turn is not clamped like setTimeout). */
function turn() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/**
 * The background tasks of one scene worker. `kinds`: {[kind]: {
 *   during        the ERROR_DURING of its failures
 *   create(msg)   the engine object for a TASK message (throws: the task fails); may be a promise
 *   start(job)    optional: the first TASK_PROGRESS's data, before any slice
 *   advance(job)  one slice: {data, finished}; `data` goes into the TASK_PROGRESS (or the TASK_DONE
 *                 once finished); may be a promise
 *   between(job)  optional: called between slices, when no engine call is pending
 *   free(job)     releases it
 * }}. Returns {handle(msg): whether it was a task message, current(): the running job or null}.
 */
export function hostTasks(kinds) {
  let task = null; // {id, kind, job, cancel, replaced}

  function end(t) {
    if (t.job) kinds[t.kind].free(t.job);
    if (task === t) task = null;
  }

  /** Between slices: ends a replaced or cancelled task; returns whether the loop must stop. */
  function stopped(t) {
    const kind = kinds[t.kind];
    if (!t.replaced && !t.cancel && kind.between) kind.between(t.job);
    if (t.cancel && !t.replaced) post({ type: MSG.TASK_DONE, id: t.id, reason: TASK_END.CANCELLED });
    if (t.replaced || t.cancel) {
      end(t);
      return true;
    }
    return false;
  }

  function failed(t, err) {
    if (crashed(err)) return; // the engine is dead: nothing of it may be freed or called
    if (!t.replaced) post({ type: MSG.ERROR, id: t.id, during: kinds[t.kind].during, message: describe(err) });
    end(t);
  }

  async function run(msg) {
    if (task) task.replaced = true;
    const kind = kinds[msg.kind];
    const t = { id: msg.id, kind: msg.kind, job: null, cancel: false, replaced: false };
    task = t;
    try {
      if (!kind) throw new Error(`unknown task ${msg.kind}`);
      t.job = await kind.create(msg);
      if (stopped(t)) return;
      if (kind.start) post({ type: MSG.TASK_PROGRESS, id: t.id, ...kind.start(t.job) });
    } catch (err) {
      failed(t, err);
      return;
    }
    for (;;) {
      await turn(); // let a cancel or a new task in before each slice
      if (stopped(t)) return;
      let slice;
      try {
        panicIfArmed();
        slice = await kind.advance(t.job);
      } catch (err) {
        failed(t, err);
        return;
      }
      if (slice.finished) {
        if (!t.replaced) post({ type: MSG.TASK_DONE, id: t.id, reason: TASK_END.FINISHED, ...slice.data });
        end(t);
        return;
      }
      if (!t.replaced) post({ type: MSG.TASK_PROGRESS, id: t.id, ...slice.data });
    }
  }

  function handle(msg) {
    if (msg.type === MSG.TASK) {
      run(msg); // not awaited: the loop yields between slices for CANCEL_TASK
      return true;
    }
    if (msg.type === MSG.CANCEL_TASK) {
      if (task && task.id === msg.id) task.cancel = true;
      return true;
    }
    return false;
  }

  return { handle, current: () => task?.job ?? null };
}
