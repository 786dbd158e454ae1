// The page side of a live training run, shared by the scenes that train one network in a worker
// (the Playground, Lazy or rich, Step size). On run-core.js (the worker, its load errors and ready
// timeout, run ids and stale replies, the versioned SET, the status and the alert) it owns what
// every such page does the same way:
//   - configure coalescing: one CONFIGURE in flight, slider drags coalesced per animation frame
//     (with a timeout for frames that never come), the busy indicator after BUSY_MS;
//   - live settings: controls the running network absorbs without a rebuild, sent together in one
//     SET (protocol.js) after any configure in flight;
//   - the status machine (state.status: loading | paused | playing | diverged | finished | refused
//     | failed | crashed) with play / pause / step / reset, and resumeOnChange (a run stopped by
//     divergence, by its end or by a refused setting trains again after the next change);
//   - a dead engine (run-core.js: status 'crashed', the alert and its "Restart the engine"):
//     the controls and the URL stay as they are and may still change; the restart starts a fresh
//     worker, builds the run from the controls' values as they are then, and trains it if it was
//     training when the engine died;
//   - the alert region (diverged, refused, failed) and the play / step / reset buttons;
//   - the trained weights (scenes whose worker speaks EXPORT_WEIGHTS and READ_WEIGHTS): the
//     engine's file of the network now, and a run continued from a file the reader chose (its
//     settings become the page's, the URL follows).
// The scene keeps its own state object (passed in, so that window.descent.state shows it) and
// draws through callbacks; this file imports nothing of a scene.

import { MSG, DONE_REASON, ERROR_DURING } from './protocol.js';
import { createRunCore } from './run-core.js';
import { postToTasks } from './task-client.js';
import { postToPools } from './task-pool.js';
import { formatInt, formatNumber } from './controls.js';

const BUSY_MS = 300; // a configure that takes longer shows the busy indicator
const FLUSH_FALLBACK_MS = 100; // a flush waits one animation frame, or this long if frames stop

/**
 * The run client of one page.
 *
 * options:
 *   workerUrl       URL of the scene's worker (a module worker speaking protocol.js)
 *   state           the scene's state object; the client keeps playing, resumeOnChange,
 *                   shownRunId, setup, report, firstReport and values (the bound controls'
 *                   values, sent as the config) in it, beside run-core.js's status, runId, info
 *                   and message
 *   live            {name: {during, failed, restart?}}: the live settings; `during` is the
 *                   ERROR_DURING of its failure, `failed` the text shown before the worker's
 *                   reason ("The step size was not changed");
 *                   `restart`: the setting starts the run over from step 0 (worker-host.js), and
 *                   a run that was training, or stopped by its end, trains again
 *   onReset()       Reset: default a new run (requestConfigure); a scene whose runs restart
 *                   cheaply resends a restarting live setting (sendLive)
 *   refusedText(message)  the alert for a refused configure (default: the setting, its reason
 *                   and which plots stay)
 *   divergedAdvice  the sentence after "Training diverged at step k." (what to change)
 *   onReady(info)   the engine is loaded (state.info is set, the status is paused or playing)
 *   onConfigured(msg)  a new run is shown: reset the history and plots (before onReport)
 *   onReport(msg)   a PROGRESS, or the report of a DONE (the stale ones are dropped)
 *   onFail(text)    the engine cannot run (after the alert and status are set)
 *   onRestart()     optional: a fresh worker has started after a crash, before the run is sent to
 *                   it: hand it what the page holds beside the settings (e.g. the reader's table)
 *   onStatus(status)  after every status change (the buttons are already drawn)
 *   render()        draws what changed: at most once per animation frame, after queueFrame()
 *   onMessage(msg)  the scene's own worker messages (types this client does not know)
 *   onError(msg)    an ERROR the scene handles itself (its own requests); returns true if it did
 *   ids             element ids, defaults in IDS; an element that is missing is skipped
 */
export function createRunClient(options) {
  const {
    workerUrl, state, live = {}, divergedAdvice = 'Lower the step size, or press Reset.',
    onReady = () => {}, onConfigured = () => {}, onReport = () => {}, onFail = () => {}, onStatus = () => {},
    render = () => {}, refusedText = null,
  } = options;
  const onReset = options.onReset ?? (() => requestConfigure());
  const ids = { ...IDS, ...options.ids };
  const el = (key) => document.getElementById(ids[key]);

  let configInFlight = false; // a configure has been sent and not answered yet
  let configDirty = false; // the values changed since the last configure was sent
  const liveDirty = new Set(); // live settings changed since last sent
  let flushQueued = false;
  let busyTimer = 0;
  let frameQueued = false;
  let importText = null; // the weights file being checked (READ_WEIGHTS)
  let pendingWeights = null; // a checked weights file, sent with the next configure
  let weightsRequest = 0;
  const weightsWaiting = new Map(); // requestId → {resolve, reject} of exportWeights()
  let playingAtCrash = false; // training was on when the engine died: the restart resumes it

  const core = createRunCore({
    workerUrl,
    state,
    ids,
    onReady: ready,
    onMessage: onWorkerMessage,
    onStatus(s) {
      if (s === 'failed') state.playing = false;
      if (s === 'crashed') crashed();
      renderButtons();
      onStatus(s);
    },
    onRestart: restart,
    onFail(text) {
      const backend = el('backend');
      if (backend) backend.textContent = 'unavailable';
      document.body.classList.add('failed');
      onFail(text);
    },
  });
  const { post, setMessage, setStatus, fail } = core;

  Object.assign(state, {
    playing: false, // the user wants training to run (the button shows "Pause")
    resumeOnChange: false,
    shownRunId: 0, // run whose data and plots are on screen
    setup: null,
    report: null,
    firstReport: null,
  });

  function renderButtons() {
    const ok = state.status !== 'loading' && state.status !== 'failed' && state.status !== 'crashed';
    const play = el('play');
    if (play) {
      play.disabled = !ok || state.status === 'refused';
      play.setAttribute('aria-pressed', String(state.playing));
      play.querySelector('.label').textContent = state.playing ? 'Pause' : 'Play';
      play.title = state.playing
        ? 'Pause training'
        : state.status === 'diverged' || state.status === 'finished' ? 'Start again from step 0 and train' : 'Train continuously';
      play.classList.toggle('is-playing', state.playing);
    }
    const step = el('step');
    if (step) step.disabled = !ok || state.status === 'diverged' || state.status === 'finished' || state.status === 'refused';
    const reset = el('reset');
    if (reset) reset.disabled = !ok || state.status === 'refused';
  }

  // -------------------------------------------------------------------------------------------
  // Configure coalescing and live settings.

  function requestConfigure() {
    configDirty = true;
    queueFlush();
  }

  function queueFlush() {
    if (flushQueued) return;
    flushQueued = true;
    // One frame of coalescing while a slider drags; the timeout covers frames that never come.
    let fired = false;
    const run = () => {
      if (fired) return;
      fired = true;
      flushQueued = false;
      flush();
    };
    requestAnimationFrame(run);
    setTimeout(run, FLUSH_FALLBACK_MS);
  }

  function flush() {
    if (state.status === 'failed' || state.status === 'loading' || state.status === 'crashed') return;
    if (configDirty && !configInFlight) {
      sendConfigure();
    } else if (liveDirty.size && !configDirty && !configInFlight) {
      const values = {};
      let restart = false;
      for (const name of liveDirty) {
        values[name] = state.values[name];
        restart ||= !!live[name].restart;
      }
      liveDirty.clear();
      core.set(values);
      if (restart && (state.playing || state.resumeOnChange)) {
        state.playing = true;
        state.resumeOnChange = false;
        post({ type: MSG.PLAY });
      }
    }
  }

  function setConfigInFlight(on) {
    configInFlight = on;
    clearTimeout(busyTimer);
    const busy = el('busy');
    if (!busy) return;
    if (on) busyTimer = setTimeout(() => { busy.hidden = false; }, BUSY_MS);
    else busy.hidden = true;
  }

  function sendConfigure() {
    configDirty = false;
    liveDirty.clear(); // the config carries every value
    setConfigInFlight(true);
    const weights = pendingWeights;
    pendingWeights = null;
    core.configure(() => (weights ? { config: { ...state.values }, weights } : { config: { ...state.values } }));
    if (state.playing || state.resumeOnChange) {
      state.playing = true;
      state.resumeOnChange = false;
      post({ type: MSG.PLAY });
    }
    renderButtons();
  }

  function configureSettled() {
    setConfigInFlight(false);
    if (configDirty || liveDirty.size) queueFlush();
  }

  // The page's controls (controls.js buildControls) and shell (shell.js createScene), once bound.
  let page = { controls: null, shell: null };

  /** Binds the page's controls and shell: their values are the config, changes go to the URL. */
  function bind({ controls, shell }) {
    page = { controls, shell };
    state.values = controls.values;
  }

  /** The controls' change callback (buildControls): the URL follows, then changed(). */
  function onControlChange(name, value, { live: isLive = false } = {}) {
    state.values = page.controls.values;
    page.shell.writeUrl();
    changed(name, { live: isLive });
  }

  /** The shell's apply (a preset, a pasted link): a new run with the controls' values. */
  function apply() {
    state.values = page.controls.values;
    requestConfigure();
  }

  /** A control changed (state.values already holds it): a live setting, or a new run. */
  function changed(name, { live: isLive = false } = {}) {
    if (isLive && live[name]) sendLive(name);
    else requestConfigure();
  }

  /**
   * Sends the live setting `name` with its current value (after any configure in flight, which
   * carries it), or a new run where the run cannot take it.
   */
  function sendLive(name) {
    const healthy = state.status === 'playing' || state.status === 'paused' || (state.status === 'finished' && live[name].restart);
    if (healthy && !configDirty && !configInFlight) {
      liveDirty.add(name);
      queueFlush();
    } else {
      requestConfigure();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Replies.

  function ready(info) {
    const version = info?.build?.version;
    const build = el('build');
    if (build) build.textContent = version ? `Engine ${version}.` : '';
    setStatus(state.playing ? 'playing' : 'paused');
    onReady(info);
    flush();
  }

  /** A reply of the newest run (run-core.js drops the stale ones and handles fatal errors). */
  function onWorkerMessage(msg) {
    switch (msg.type) {
      case MSG.PROGRESS:
        if (msg.runId !== state.shownRunId) return; // its configure's reply has not come yet
        onReport(msg);
        break;
      case MSG.DONE:
        if (msg.reason === DONE_REASON.CONFIGURED) configured(msg);
        else if (msg.runId === state.shownRunId) done(msg);
        break;
      case MSG.ERROR:
        error(msg);
        break;
      case MSG.WEIGHTS:
        weightsWaiting.get(msg.requestId)?.resolve(msg.text);
        weightsWaiting.delete(msg.requestId);
        break;
      case MSG.WEIGHTS_READ:
        weightsRead(msg);
        break;
      default:
        options.onMessage?.(msg);
        break;
    }
  }

  function configured(msg) {
    configureSettled();
    state.shownRunId = msg.runId;
    state.setup = msg.setup;
    state.firstReport = msg.report;
    state.report = null;
    setMessage(null, null);
    onConfigured(msg);
    onReport(msg);
    setStatus(state.playing ? 'playing' : 'paused');
  }

  function done(msg) {
    onReport(msg);
    if (msg.reason === DONE_REASON.FINISHED) {
      // The run is over (its step budget, or a divergence that ends it): Play starts it over.
      state.resumeOnChange = state.playing;
      state.playing = false;
      setStatus('finished');
    } else if (msg.reason === DONE_REASON.DIVERGED || msg.report?.diverged != null) {
      state.resumeOnChange = state.playing;
      state.playing = false;
      const r = msg.report;
      const text = r.message && /diverged at step/i.test(r.message)
        ? `Training ${r.message.trim()}`
        : `Training diverged at step ${formatInt(r.diverged)}${r.message ? `: ${r.message.trim()}` : '.'} ${divergedAdvice}`;
      setMessage('diverged', text);
      setStatus('diverged');
    } else if (state.status !== 'refused') {
      setStatus(state.playing ? 'playing' : 'paused');
    }
  }

  function error(msg) {
    if (options.onError?.(msg)) return;
    if (msg.during === ERROR_DURING.EXPORT_WEIGHTS) {
      weightsWaiting.get(msg.requestId)?.reject(new Error(msg.message));
      weightsWaiting.delete(msg.requestId);
      return;
    }
    if (msg.during === ERROR_DURING.IMPORT_WEIGHTS) {
      // The file was not imported: the run on screen goes on as it was.
      const reason = String(msg.message).trim().replace(/([^.!?])$/, '$1.');
      setMessage('error', `The weights were not imported: ${reason} The current run goes on.`);
      return;
    }
    const liveFailed = Object.values(live).find((l) => l.during === msg.during);
    if (msg.during === ERROR_DURING.CONFIGURE) {
      // The engine refused the newest config: the previous run's plots stay on screen.
      configureSettled();
      state.resumeOnChange = state.resumeOnChange || state.playing;
      state.playing = false;
      if (refusedText) {
        setMessage('error', refusedText(msg.message));
      } else {
        const reason = String(msg.message).trim().replace(/([^.!?])$/, '$1.');
        const after = state.shownRunId ? ' The plots show the last run that worked.' : ' Choose a smaller setting to start.';
        setMessage('error', `This setting was refused: ${reason}${after}`);
      }
      setStatus('refused');
    } else if (liveFailed) {
      setMessage('error', `${liveFailed.failed}: ${msg.message}`);
    } else {
      state.playing = false;
      setMessage('error', msg.message);
      setStatus('paused');
    }
  }

  /** Asks for render() at the next animation frame (once, however often it is asked). */
  function queueFrame() {
    if (frameQueued) return;
    frameQueued = true;
    requestAnimationFrame(() => {
      frameQueued = false;
      render();
    });
  }

  // -------------------------------------------------------------------------------------------
  // The trained weights.

  /** The engine's weights file of the network now (JSON text); rejects with the engine's reason. */
  function exportWeights() {
    weightsRequest += 1;
    const requestId = weightsRequest;
    return new Promise((resolve, reject) => {
      weightsWaiting.set(requestId, { resolve, reject });
      post({ type: MSG.EXPORT_WEIGHTS, requestId });
    });
  }

  /**
   * Continues from a weights file (its JSON text): the worker checks it, then its settings become
   * the page's (the URL follows) and the run is built from the file at its step. A bad file is
   * shown in the alert and the current run goes on.
   */
  function importWeights(text) {
    importText = String(text);
    post({ type: MSG.READ_WEIGHTS, text: importText });
  }

  function weightsRead(msg) {
    const { controls, shell } = page;
    for (const [name, v] of Object.entries(msg.config ?? {})) {
      if (name in controls.values) controls.set(name, v);
    }
    state.values = controls.values;
    shell.writeUrl();
    setMessage(null, null);
    pendingWeights = importText;
    importText = null;
    configDirty = true;
    queueFlush();
  }

  // -------------------------------------------------------------------------------------------
  // User actions.

  function togglePlay() {
    if (state.playing) {
      state.playing = false;
      post({ type: MSG.PAUSE });
      setStatus('paused');
      return;
    }
    if (state.status === 'refused') return; // a control must change first
    if (state.status === 'finished') {
      state.playing = true;
      onReset();
      return;
    }
    if (state.status === 'diverged') {
      state.resumeOnChange = true;
      requestConfigure();
      return;
    }
    state.playing = true;
    post({ type: MSG.PLAY });
    setStatus('playing');
  }

  /**
   * Plays (`on`) or pauses, as the host page of an embed asks (shell.js). Pausing always works;
   * playing starts a run that is loading or paused, never one that finished, diverged or was
   * refused (the reader restarts those).
   */
  function setPlaying(on) {
    if (!on) {
      if (!state.playing) return;
      state.playing = false;
      post({ type: MSG.PAUSE });
      if (state.status === 'playing') setStatus('paused');
      return;
    }
    if (state.playing || (state.status !== 'paused' && state.status !== 'loading')) return;
    state.playing = true;
    post({ type: MSG.PLAY });
    if (state.status === 'paused') setStatus('playing');
  }

  /** Pauses and advances exactly `n` steps. */
  function step(n = 1) {
    if (state.status === 'finished') {
      state.resumeOnChange = false; // an ended run takes no steps; it stays paused after a restart
      return;
    }
    state.playing = false;
    post({ type: MSG.STEP, steps: n });
    setStatus('paused');
  }

  /** The buttons' clicks, and the shell's keyboard actions (which respect a disabled button). */
  function wireButtons() {
    el('play')?.addEventListener('click', togglePlay);
    el('step')?.addEventListener('click', () => step(1));
    el('reset')?.addEventListener('click', onReset);
    const enabled = (key) => !el(key)?.disabled;
    return {
      togglePlay: () => enabled('play') && togglePlay(),
      step: () => enabled('step') && step(1),
      reset: () => enabled('reset') && onReset(),
      setPlaying,
    };
  }

  /** The run of the controls' values, to a worker that has just started; `autoplay` trains it. */
  function firstRun(autoplay) {
    state.playing = autoplay;
    configDirty = false;
    liveDirty.clear();
    setConfigInFlight(true);
    core.configure(() => ({ config: { ...state.values } }));
    if (autoplay) post({ type: MSG.PLAY });
  }

  /**
   * Starts the worker and sends the first run (handled by the worker as soon as the engine is
   * ready); `autoplay` trains it at once. Returns false when the worker could not start.
   */
  function start({ autoplay = false } = {}) {
    if (!core.start()) return false;
    firstRun(autoplay);
    return true;
  }

  /** The engine died (status 'crashed'): nothing waits on it any more. */
  function crashed() {
    playingAtCrash = state.playing || state.resumeOnChange;
    state.playing = false;
    state.resumeOnChange = false;
    setConfigInFlight(false);
    for (const { reject } of weightsWaiting.values()) reject(new Error('the engine stopped before it wrote the file'));
    weightsWaiting.clear();
    importText = null;
    pendingWeights = null;
  }

  /** "Restart the engine": a fresh worker, the run of the controls as they are now. */
  function restart() {
    if (!core.restart()) return;
    options.onRestart?.();
    firstRun(playingAtCrash);
  }

  /**
   * The page's `window.descent` hook for tests and for the curious (read-only use intended, plus
   * step(n)): the state, the latest and first reports, the history, the shell, and the scene's own
   * `extra` properties.
   */
  function hook(extra = {}) {
    const h = {
      state,
      get lastReport() {
        return state.report;
      },
      get firstReport() {
        return state.firstReport;
      },
      get history() {
        return state.history;
      },
      get shell() {
        return page.shell;
      },
      /** Pauses and advances exactly `n` steps. */
      step(n = 1) {
        step(n);
      },
      /**
       * Makes an engine panic, in a crash-test build only (elsewhere the workers ignore it):
       * `where` 'run' the run's worker, 'task' the background tasks' workers, 'pool' the workers
       * of their pools and of the page's own.
       */
      debugPanic(where = 'run') {
        const msg = { type: MSG.DEBUG_PANIC };
        if (where === 'run') post(msg);
        else if (where === 'task') postToTasks(msg);
        else if (where === 'pool') {
          postToTasks({ ...msg, nested: true });
          postToPools(msg);
        }
      },
    };
    return Object.defineProperties(h, Object.getOwnPropertyDescriptors(extra));
  }

  return {
    start, bind, onControlChange, apply, post, changed, sendLive, requestConfigure, togglePlay, step, wireButtons, fail, setMessage,
    setStatus, queueFrame, hook, exportWeights, importWeights, reset: () => onReset(),
  };
}

/**
 * Shows or hides the page's note (#grid-note) that a picture of `what` (e.g. "its output") costs
 * `costMs` to compute and is therefore redrawn only now and then while training.
 */
export function showGridNote(costMs, what) {
  const el = document.getElementById('grid-note');
  if (!el) return;
  const slow = costMs > 1000;
  el.hidden = !slow;
  if (slow) {
    el.textContent = `This network is large: one picture of ${what} takes about ${formatNumber(costMs / 1000, 2)} s ` +
      'to compute, so the picture is redrawn only now and then while it trains.';
  }
}

/** The element ids the client draws into (the shell's page layout; see index.html). */
export const IDS = Object.freeze({
  alert: 'alert',
  busy: 'busy',
  play: 'btn-play',
  step: 'btn-step',
  reset: 'btn-reset',
  backend: 'stat-backend',
  build: 'build-info',
});

/** The live settings the scenes share: the step size. */
export const LIVE_LR = Object.freeze({ during: ERROR_DURING.SET_LR, failed: 'The step size was not changed' });
