// The page side of a training run, shared by the scenes that train one live network in a worker
// (the Playground, Lazy or rich). It owns what every such page does the same way:
//   - starting the worker (moduleWorker from scene.js), its load errors, the ready timeout note;
//   - configure coalescing: one CONFIGURE in flight, slider drags coalesced per animation frame
//     (with a timeout for frames that never come), the busy indicator after BUSY_MS;
//   - live settings: controls the running network absorbs without a rebuild, each sent as
//     {type, runId, [name]: value} (protocol.js), after any configure in flight;
//   - run ids: replies for a run other than the newest are dropped;
//   - the status machine (state.status: loading | paused | playing | diverged | finished | refused
//     | failed) with play / pause / step / reset, and resumeOnChange (a run stopped by divergence,
//     by its end or by a refused setting trains again after the next change);
//   - the alert region (diverged, refused, failed) and the play / step / reset buttons.
// The scene keeps its own state object (passed in, so that window.descent.state shows it) and
// draws through callbacks; this file imports nothing of a scene.

import { MSG, DONE_REASON, ERROR_DURING, plainMessage } from './protocol.js';
import { moduleWorker } from './scene.js';
import { formatInt } from './controls.js';

const READY_TIMEOUT_MS = 20000;
const BUSY_MS = 300; // a configure that takes longer shows the busy indicator
const FLUSH_FALLBACK_MS = 100; // a flush waits one animation frame, or this long if frames stop

/**
 * The run client of one page.
 *
 * options:
 *   workerUrl       URL of the scene's worker (a module worker speaking protocol.js)
 *   state           the scene's state object; the client keeps status, playing, resumeOnChange,
 *                   runId, shownRunId, setup, report, firstReport, info, message and values (the
 *                   bound controls' values, sent as the config) in it
 *   live            {name: {type, during, failed, restart?}}: the live settings; `type` is the
 *                   message type, `during` the ERROR_DURING of its failure, `failed` the text
 *                   shown before the worker's reason ("The step size was not changed");
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
 *   onStatus(status)  after every status change (the buttons are already drawn)
 *   render()        draws what changed: at most once per animation frame, after queueFrame()
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

  let worker = null;
  let configInFlight = false; // a configure has been sent and not answered yet
  let configDirty = false; // the values changed since the last configure was sent
  const liveDirty = new Set(); // live settings changed since last sent
  let flushQueued = false;
  let busyTimer = 0;
  let frameQueued = false;

  Object.assign(state, {
    status: 'loading',
    playing: false, // the user wants training to run (the button shows "Pause")
    resumeOnChange: false,
    runId: 0, // newest run requested; replies for other runs are dropped
    shownRunId: 0, // run whose data and plots are on screen
    setup: null,
    report: null,
    firstReport: null,
    info: null, // {build, defaults} from the engine
    message: null, // {kind, text} shown in the alert region
  });

  function post(msg) {
    worker?.postMessage(msg);
  }

  function setMessage(kind, text) {
    state.message = text ? { kind, text: plainMessage(text) } : null;
    const alert = el('alert');
    if (!alert) return;
    if (!state.message) {
      alert.hidden = true;
      alert.textContent = '';
      alert.className = 'alert';
      return;
    }
    alert.hidden = false;
    alert.className = `alert alert-${kind}`;
    alert.textContent = state.message.text;
  }

  function setStatus(s) {
    state.status = s;
    document.body.dataset.status = s;
    renderButtons();
    onStatus(s);
  }

  function renderButtons() {
    const ok = state.status !== 'loading' && state.status !== 'failed';
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
    if (state.status === 'failed' || state.status === 'loading') return;
    if (configDirty && !configInFlight) {
      sendConfigure();
    } else if (liveDirty.size && !configDirty && !configInFlight) {
      let restart = false;
      for (const name of liveDirty) {
        post({ type: live[name].type, runId: state.runId, [name]: state.values[name] });
        restart ||= !!live[name].restart;
      }
      liveDirty.clear();
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
    state.runId += 1;
    post({ type: MSG.CONFIGURE, runId: state.runId, config: { ...state.values } });
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

  // The page's controls (controls.js buildControls) and shell (scene.js createScene), once bound.
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

  function onWorkerMessage(e) {
    const msg = e.data;
    switch (msg.type) {
      case MSG.READY: {
        state.info = msg.info;
        const version = msg.info?.build?.version;
        const build = el('build');
        if (build) build.textContent = version ? `Engine ${version}.` : '';
        setStatus(state.playing ? 'playing' : 'paused');
        onReady(msg.info);
        flush();
        break;
      }
      case MSG.PROGRESS:
        if (msg.runId !== state.runId || msg.runId !== state.shownRunId) return; // stale
        onReport(msg);
        break;
      case MSG.DONE:
        if (msg.runId !== state.runId) return; // stale
        if (msg.reason === DONE_REASON.CONFIGURED) configured(msg);
        else if (msg.runId === state.shownRunId) done(msg);
        break;
      case MSG.ERROR:
        error(msg);
        break;
      default:
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
    if (msg.fatal) {
      fail(msg.message);
      return;
    }
    if (msg.runId !== state.runId) return; // about a run that has been replaced
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

  function fail(text) {
    state.playing = false;
    setMessage('fatal', text);
    setStatus('failed');
    const backend = el('backend');
    if (backend) backend.textContent = 'unavailable';
    document.body.classList.add('failed');
    onFail(text);
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
    };
  }

  /**
   * Starts the worker and sends the first run (handled by the worker as soon as the engine is
   * ready); `autoplay` trains it at once. Returns false when the worker could not start.
   */
  function start({ autoplay = false } = {}) {
    if (typeof Worker === 'undefined' || typeof WebAssembly !== 'object') {
      fail('This browser cannot run Descent: it needs Web Workers and WebAssembly.');
      return false;
    }
    try {
      worker = moduleWorker(workerUrl);
    } catch (err) {
      fail(`The training worker could not start: ${err?.message ?? err}`);
      return false;
    }
    worker.onmessage = onWorkerMessage;
    worker.onerror = (e) => {
      e.preventDefault();
      fail(`The training engine could not be loaded${e.message ? ` (${e.message})` : ''}. ` +
        'Check that the site was built completely (pkg/descent.js and pkg/descent_bg.wasm).');
    };
    worker.onmessageerror = () => fail('The training worker sent a message the page could not read.');
    setTimeout(() => {
      if (state.status === 'loading') setMessage('info', 'Still loading the engine… this takes longer than expected.');
    }, READY_TIMEOUT_MS);

    state.playing = autoplay;
    configDirty = false;
    setConfigInFlight(true);
    state.runId = 1;
    post({ type: MSG.CONFIGURE, runId: state.runId, config: { ...state.values } });
    if (autoplay) post({ type: MSG.PLAY });
    return true;
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
    };
    return Object.defineProperties(h, Object.getOwnPropertyDescriptors(extra));
  }

  return {
    start, bind, onControlChange, apply, post, changed, sendLive, requestConfigure, togglePlay, step, wireButtons, fail, setMessage,
    setStatus, queueFrame, hook,
  };
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

/** The live settings the scenes share: the step size (protocol.js SET_LR). */
export const LIVE_LR = Object.freeze({ type: MSG.SET_LR, during: ERROR_DURING.SET_LR, failed: 'The step size was not changed' });
