// The page side of a run, the part every scene page shares: the live scenes through run-client.js
// (which adds the play / pause state machine), the double-descent page directly, with a pool of
// workers each holding a block of the seeds. It owns:
//   - starting the scene's worker, or a pool of `size` of them (moduleWorker from trusted.js), their
//     load errors, the ready timeout note, the engine's fatal errors (status 'failed', the alert);
//   - run ids: configure() starts run state.runId + 1 in every worker; a reply that carries the id
//     of another run is dropped;
//   - live settings in one versioned message, {type: SET, runId, version, values} (protocol.js);
//     with `oneSetInFlight`, each worker has at most one unanswered SET (a reply carrying its
//     version, or a newer one, answers it) and the changes made meanwhile follow together;
//   - the status (state.status, document.body.dataset.status) and the alert region;
//   - a dead engine: a worker that sends CRASHED (its engine trapped: a panic, memory that ran
//     out) or dies after READY puts the page in status 'crashed', says so in the alert with a
//     "Restart the engine" button, and drops every reply until the restart, which terminates the
//     workers, starts fresh ones and hands the page's settings to them again (restart()).
// The scene keeps what the workers computed (each reply comes with its worker's record, where
// the scene may keep its part) and merges the parts itself. This file imports nothing of a scene.

import { MSG, crashText, plainMessage } from './protocol.js';
import { moduleWorker } from './trusted.js';

const READY_TIMEOUT_MS = 20000;

/** The failure texts, for a page with one training worker (run-client.js); a scene may reword them. */
const TEXTS = Object.freeze({
  noStart: 'The training worker could not start',
  noLoad: 'The training engine could not be loaded',
  unreadable: 'The training worker sent a message the page could not read.',
  engine: 'The training engine',
});

/**
 * options:
 *   workerUrl        URL of the scene's worker (a module worker speaking protocol.js)
 *   size             how many workers (default 1)
 *   state            the scene's state object; the core keeps status, runId, liveVersion (the
 *                    newest SET's version), info (the READY info of the first worker to load),
 *                    message ({kind, text} in the alert region) and workers (the records) in it
 *   oneSetInFlight   at most one unanswered SET per worker (see above)
 *   failKind         the alert's kind for a fatal error (default 'fatal')
 *   texts            failure texts: {noStart, noLoad, unreadable, engine (what a crash names)}
 *                    (defaults in TEXTS)
 *   onReady(info)    every worker has loaded the engine (again after a restart)
 *   onMessage(msg, w)  a reply of the newest run (or one without a run id), but READY and fatal
 *                    errors; `w` is its worker's record {worker, index, ready, active, …}
 *   onStatus(s)      after every status change
 *   onFail(text)     the engine cannot run (after the alert and status are set)
 *   onCrash(text)    an engine died (after the alert and status 'crashed' are set)
 *   onRestart()      what "Restart the engine" does (default: restart(), then onReady configures)
 *   ids              {alert}: the alert region's element id (default 'alert')
 * Returns {start, restart, configure, set, post, fail, setMessage, setStatus}.
 */
export function createRunCore(options) {
  const {
    workerUrl, state, size = 1, oneSetInFlight = false, failKind = 'fatal',
    onReady = () => {}, onMessage = () => {}, onStatus = () => {}, onFail = () => {}, onCrash = () => {},
  } = options;
  const onRestart = options.onRestart ?? (() => restart());
  const texts = { ...TEXTS, ...options.texts };
  const alertId = options.ids?.alert ?? 'alert';
  const workers = [];
  let ready = 0;

  Object.assign(state, {
    status: 'loading',
    runId: 0, // newest run requested; replies for other runs are dropped
    liveVersion: 0, // newest live settings sent
    info: null, // {build, defaults} from the engine
    message: null, // {kind, text} shown in the alert region
    workers,
  });

  /** The alert region's message (null: none); `action` = {label, run}: a button after the text. */
  function setMessage(kind, text, action = null) {
    state.message = text ? { kind, text: plainMessage(text) } : null;
    const alert = document.getElementById(alertId);
    if (!alert) return;
    alert.hidden = !state.message;
    alert.className = state.message ? `alert alert-${kind}` : 'alert';
    alert.textContent = state.message?.text ?? '';
    if (state.message && action) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-small alert-action';
      button.textContent = action.label;
      button.addEventListener('click', action.run, { once: true });
      alert.append(' ', button);
    }
  }

  function setStatus(s) {
    state.status = s;
    document.body.dataset.status = s;
    onStatus(s);
  }

  function fail(text) {
    setMessage(failKind, text);
    setStatus('failed');
    onFail(text);
  }

  /** An engine died (`message`: the trap's text): the page says so and waits for a restart. */
  function crash(message) {
    if (state.status === 'crashed') return;
    const text = `${crashText(texts.engine, message)} Your settings are kept.`;
    setMessage('crashed', text, { label: 'Restart the engine', run: () => onRestart() });
    setStatus('crashed');
    onCrash(text);
  }

  /**
   * Ends every worker and starts fresh ones (status 'loading' until they are ready, then
   * onReady again). The settings the page holds are its own: the caller sends them again (a run
   * client configures at once; the workers keep the messages until their engine is ready).
   * Returns false when the workers could not start (the failure is shown).
   */
  function restart() {
    for (const w of workers) w.worker.terminate();
    workers.length = 0;
    ready = 0;
    setMessage(null, null);
    setStatus('loading');
    return start();
  }

  /** `msg` to every worker. */
  function post(msg) {
    for (const w of workers) w.worker.postMessage(msg);
  }

  /**
   * A new run: `build(w, index)` gives the CONFIGURE's fields for each worker ({config, …}), or
   * null where a worker sits this run out (it gets no SET either). Returns the new run id.
   */
  function configure(build) {
    state.runId += 1;
    workers.forEach((w, j) => {
      w.pending = null;
      w.sent = state.liveVersion;
      w.answered = state.liveVersion;
      const fields = build(w, j);
      w.active = fields != null;
      if (w.active) w.worker.postMessage({ type: MSG.CONFIGURE, runId: state.runId, version: state.liveVersion, ...fields });
    });
    return state.runId;
  }

  /** New values of live settings ({[name]: value}) for the newest run, in every worker that holds it. */
  function set(values) {
    state.liveVersion += 1;
    for (const w of workers) {
      if (!w.active) continue;
      w.pending = { ...w.pending, ...values };
      sendSet(w);
    }
  }

  function sendSet(w) {
    if (!w.pending || (oneSetInFlight && w.sent > w.answered)) return;
    const values = w.pending;
    w.pending = null;
    w.sent = state.liveVersion;
    w.worker.postMessage({ type: MSG.SET, runId: state.runId, version: state.liveVersion, values });
  }

  function receive(w, msg) {
    if (state.status === 'crashed') return; // nothing more until the restart
    if (msg.type === MSG.CRASHED) {
      crash(msg.message);
      return;
    }
    if (msg.type === MSG.READY) {
      w.ready = true;
      ready += 1;
      state.info ??= msg.info;
      if (ready === workers.length) onReady(state.info);
      return;
    }
    if (msg.type === MSG.ERROR && msg.fatal) {
      fail(msg.message);
      return;
    }
    if (msg.runId !== undefined && msg.runId !== state.runId) return; // stale
    if (msg.version > w.answered) w.answered = msg.version;
    onMessage(msg, w);
    sendSet(w); // the changes that waited for this answer
  }

  /** Starts the workers; returns false when they could not start (the failure is shown). */
  function start() {
    if (typeof Worker === 'undefined' || typeof WebAssembly !== 'object') {
      fail('This browser cannot run Descent: it needs Web Workers and WebAssembly.');
      return false;
    }
    for (let j = 0; j < size; j++) {
      let worker;
      try {
        worker = moduleWorker(workerUrl);
      } catch (err) {
        fail(`${texts.noStart}: ${err?.message ?? err}`);
        return false;
      }
      const w = { worker, index: j, ready: false, active: false, pending: null, sent: 0, answered: 0 };
      worker.onmessage = (e) => receive(w, e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        if (state.status === 'crashed') return;
        // After READY the engine was running: the worker died (worker-core.js turns the engine's
        // own traps into CRASHED; this is anything else that ended it).
        if (w.ready) {
          crash(e.message);
          return;
        }
        fail(`${texts.noLoad}${e.message ? ` (${e.message})` : ''}. ` +
          'Check that the site was built completely (pkg/descent.js and pkg/descent_bg.wasm).');
      };
      worker.onmessageerror = () => fail(texts.unreadable);
      workers.push(w);
    }
    setTimeout(() => {
      if (state.status === 'loading') setMessage('info', 'Still loading the engine… this takes longer than expected.');
    }, READY_TIMEOUT_MS);
    return true;
  }

  return { start, restart, configure, set, post, fail, setMessage, setStatus };
}
