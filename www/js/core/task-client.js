// The page side of a background task (the lazy width sweep, the step-size phase diagram, the
// double-descent trained-network sweep): its own worker, started on first use; one task at a
// time, numbered, replies for another one dropped; Cancel, which ends the task on the page at
// once (nothing more of it is drawn) and terminates the worker if it has not confirmed within a
// grace period (a slice in progress may take seconds). A worker whose engine dies (CRASHED, or an
// error after READY) ends the task in words (onFail) and is terminated: the next start uses a
// fresh one. Messages: task-host.js.

import { MSG, crashText } from './protocol.js';
import { moduleWorker } from './trusted.js';

const CANCEL_GRACE_MS = 400; // a worker that has not stopped by then is terminated

// Every task of this page, for postToTasks.
const tasks = new Set();

/** `msg` to the worker of every task started here (a DEBUG_PANIC; protocol.js). */
export function postToTasks(msg) {
  for (const t of tasks) t.post(msg);
}

/**
 * options:
 *   workerUrl        the scene's worker (serving task-host.js kinds)
 *   kind             the task kind it runs
 *   name             what the task is called in failure texts ("sweep", "phase diagram")
 *   onProgress(msg)  a TASK_PROGRESS of the current task
 *   onDone(msg)      its TASK_DONE (reason TASK_END.FINISHED: it carries the last slice's data)
 *   onFail(text)     it stopped: the worker could not start or load, or the engine refused
 *   errorText(message)  the failure text for an engine error (default "The <name> stopped: …")
 * Returns {start(params), cancel(), warm(), post(msg), running, id}.
 */
export function createTask(options) {
  const {
    workerUrl, kind, name = 'task', onProgress = () => {}, onDone = () => {}, onFail = () => {},
    errorText = (message) => `The ${name} stopped: ${message}`,
  } = options;
  let worker = null;
  let id = 0;
  let running = false;
  let ready = false; // the worker's engine has loaded
  let awaitingCancel = 0; // the cancelled task whose worker has not confirmed yet
  let cancelTimer = 0;

  function terminate() {
    worker?.terminate();
    worker = null;
    ready = false;
  }

  function fail(text) {
    running = false;
    terminate();
    onFail(text);
  }

  function ensureWorker() {
    if (worker) return worker;
    worker = moduleWorker(workerUrl);
    worker.onmessage = (e) => onMessage(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      if (ready) crashed(e.message);
      else fail(`The ${name} could not run${e.message ? ` (${e.message})` : ''}.`);
    };
    return worker;
  }

  /** The worker's engine died: it goes, and the task running in it ends (a fresh worker takes the next). */
  function crashed(message) {
    const wasRunning = running;
    running = false;
    terminate();
    if (wasRunning) onFail(errorText(`${crashText(`The ${name}'s engine`, message)} Start it again to use a fresh engine.`));
  }

  function onMessage(msg) {
    switch (msg.type) {
      case MSG.READY:
        ready = true;
        break;
      case MSG.CRASHED:
        crashed(msg.message);
        break;
      case MSG.TASK_PROGRESS:
        if (msg.id === id && running) onProgress(msg);
        break;
      case MSG.TASK_DONE:
        if (msg.id !== id) break;
        if (awaitingCancel === msg.id) {
          awaitingCancel = 0;
          clearTimeout(cancelTimer);
        }
        if (!running) break; // cancelled: already ended on the page
        running = false;
        onDone(msg);
        break;
      case MSG.ERROR:
        if (msg.fatal) fail(msg.message);
        else if (msg.id === id && running) fail(errorText(msg.message));
        break;
      default:
        break;
    }
  }

  /** Starts a new task (replacing one running) with `params`; returns its id, or 0 if it could not start. */
  function start(params) {
    if (awaitingCancel) {
      // The cancelled task's slice is still running: a fresh worker starts the new task now.
      awaitingCancel = 0;
      clearTimeout(cancelTimer);
      terminate();
    }
    id += 1;
    running = true;
    try {
      ensureWorker().postMessage({ type: MSG.TASK, id, kind, ...params });
    } catch (err) {
      fail(`The ${name} could not start: ${err?.message ?? err}`);
      return 0;
    }
    return id;
  }

  /** Ends the running task on the page now; the worker stops after its slice, or is terminated. */
  function cancel() {
    if (!running) return false;
    running = false;
    const w = worker;
    const cancelled = id;
    w?.postMessage({ type: MSG.CANCEL_TASK, id: cancelled });
    awaitingCancel = cancelled;
    clearTimeout(cancelTimer);
    cancelTimer = setTimeout(() => {
      if (worker === w && awaitingCancel === cancelled) terminate();
    }, CANCEL_GRACE_MS);
    return true;
  }

  const task = {
    start,
    cancel,
    /** Starts the worker now, so that its engine has loaded by the first task. */
    warm() {
      try {
        ensureWorker();
      } catch {
        // start() tries again and says why it could not
      }
    },
    /** Another message to the task's worker (if it has started). */
    post: (msg) => worker?.postMessage(msg),
    get running() {
      return running;
    },
    get id() {
      return id;
    },
  };
  tasks.add(task);
  return task;
}
