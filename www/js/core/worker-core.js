// What every scene worker shares: loading the engine once (messages that arrive before it is
// ready wait in a backlog), posting plain messages with their typed arrays transferred, a
// zero-delay yield between chunks of work so that new requests are handled in between, and a
// dead engine: a WebAssembly trap (a panic, which release builds abort on, or memory that ran
// out) leaves the engine's memory and objects unusable, so the worker says so once (CRASHED)
// and closes, and the page starts a fresh one. A crash-test build (the `crash-test` feature's
// debugPanic export) panics on request (DEBUG_PANIC), for the tests of that path.

import init, * as engine from '../../pkg/descent.js';
import { MSG, ERROR_DURING, describe, engineDead, transferables, wasmSimdSupported, NO_SIMD_MESSAGE } from './protocol.js';
import { postToPools } from './task-pool.js';

// A DEBUG_PANIC that no engine call has met by then panics on its own.
const IDLE_PANIC_MS = 500;

let dead = false; // the engine trapped: nothing more is posted or handled
let panicArmed = false; // a DEBUG_PANIC waits for the next engine call

export function post(msg) {
  if (dead) return;
  self.postMessage(msg, transferables(msg));
}

/**
 * Whether `err` killed the engine (protocol.js engineDead). The first time, the page is told
 * (CRASHED, with the trap's text) and this worker stops handling messages and closes. A caller
 * whose catch gets true reports nothing more and makes no further engine call; false: an
 * ordinary error, for the caller to report.
 */
export function crashed(err) {
  if (!engineDead(err)) return false;
  if (!dead) {
    dead = true;
    self.onmessage = null;
    self.postMessage({ type: MSG.CRASHED, message: describe(err) });
    self.close();
  }
  return true;
}

/** Whether this engine was built with the `crash-test` feature (it exports debugPanic). */
export const canPanic = typeof engine.debugPanic === 'function';

/**
 * Makes the engine panic if a DEBUG_PANIC asked for it: the hosts call this in their try blocks
 * just before an engine call (a run's next call, a task's next slice, a pool's next job), so the
 * trap takes the same path as a real one.
 */
export function panicIfArmed() {
  if (!panicArmed) return;
  panicArmed = false;
  engine.debugPanic();
}

function debugMessage(msg) {
  if (!canPanic) return; // a normal build ignores it
  if (msg.nested) {
    postToPools({ type: MSG.DEBUG_PANIC });
    return;
  }
  panicArmed = true;
  setTimeout(() => {
    try {
      panicIfArmed();
    } catch (err) {
      crashed(err);
    }
  }, IDLE_PANIC_MS);
}

// A trap that no catch block met (a callback, a promise nobody awaits) still ends the engine in
// words, not as an uncaught error.
self.addEventListener('error', (e) => {
  if (crashed(e.error)) e.preventDefault();
});
self.addEventListener('unhandledrejection', (e) => {
  if (crashed(e.reason)) e.preventDefault();
});

/**
 * Starts the engine, then hands every message to `handle(msg)`. `info()` (called once the
 * engine is loaded) adds scene facts (defaults) to the READY message.
 */
export function serve(handle, info = () => ({})) {
  let ready = false;
  const backlog = [];
  self.onmessage = (e) => {
    if (e.data?.type === MSG.DEBUG_PANIC) debugMessage(e.data);
    else if (!ready) backlog.push(e.data);
    else handle(e.data);
  };
  (async () => {
    try {
      if (!wasmSimdSupported()) throw new Error(NO_SIMD_MESSAGE);
      const exports = await init();
      // The engine's linear memory in bytes, for scripts/soak.mjs and the curious (it only grows).
      self.descentMemoryBytes = () => exports.memory.buffer.byteLength;
      const msg = { type: MSG.READY, info: { build: { ...engine.buildInfo() }, ...info() } };
      ready = true;
      self.postMessage(msg);
      for (const m of backlog.splice(0)) handle(m);
    } catch (err) {
      if (ready && crashed(err)) return;
      self.postMessage({
        type: MSG.ERROR, runId: 0, fatal: true, during: ERROR_DURING.INIT,
        message: `The engine could not start: ${describe(err)}`,
      });
    }
  })();
}

/** `fn` once, soon, after pending messages (a MessageChannel yield is not clamped like setTimeout). */
export function yielder(fn) {
  const channel = new MessageChannel();
  let pending = false;
  channel.port1.onmessage = () => {
    pending = false;
    fn();
  };
  return () => {
    if (pending) return;
    pending = true;
    channel.port2.postMessage(0);
  };
}
