// What every scene worker shares: loading the engine once (messages that arrive before it is
// ready wait in a backlog), posting plain messages with their typed arrays transferred, and a
// zero-delay yield between chunks of work so that new requests are handled in between.

import init, { buildInfo } from '../../pkg/descent.js';
import { MSG, ERROR_DURING, describe, transferables, wasmSimdSupported, NO_SIMD_MESSAGE } from './protocol.js';

export function post(msg) {
  self.postMessage(msg, transferables(msg));
}

/**
 * Starts the engine, then hands every message to `handle(msg)`. `info()` (called once the
 * engine is loaded) adds scene facts (defaults) to the READY message.
 */
export function serve(handle, info = () => ({})) {
  let ready = false;
  const backlog = [];
  self.onmessage = (e) => {
    if (!ready) backlog.push(e.data);
    else handle(e.data);
  };
  (async () => {
    try {
      if (!wasmSimdSupported()) throw new Error(NO_SIMD_MESSAGE);
      const engine = await init();
      // The engine's linear memory in bytes, for scripts/soak.mjs and the curious (it only grows).
      self.descentMemoryBytes = () => engine.memory.buffer.byteLength;
      const msg = { type: MSG.READY, info: { build: { ...buildInfo() }, ...info() } };
      ready = true;
      self.postMessage(msg);
      for (const m of backlog.splice(0)) handle(m);
    } catch (err) {
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
