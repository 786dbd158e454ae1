// Trusted Types for the pages: every page's Content-Security-Policy requires them for script
// URLs (`require-trusted-types-for 'script'; trusted-types descent`), so no string can reach a
// script sink unchecked. The workers and the service worker (offline.js) are the only script
// URLs a page makes at run time; the policy here, the one the CSP allows, passes scripts of the
// page's own origin and the one-line data: module that imports one (moduleWorker below, for pages
// in an opaque origin), and refuses everything else.

const scriptPolicy = globalThis.trustedTypes?.createPolicy('descent', {
  createScriptURL(text) {
    const u = new URL(text, self.location.href);
    const ownModule = u.protocol !== 'data:' && self.origin !== 'null' && u.origin === self.origin;
    const wrapper = u.protocol === 'data:' && text.startsWith('data:text/javascript,import%20');
    if (ownModule || wrapper) return u.href;
    throw new TypeError(`not a script of this site: ${text}`);
  },
});

/** `text` as a script URL the policy lets through (the text itself where the browser has no Trusted Types). */
export function scriptURL(text) {
  return scriptPolicy ? scriptPolicy.createScriptURL(text) : text;
}

/**
 * Starts a module worker for `url` (a URL relative to the calling module, resolved by the caller).
 * A page in an opaque origin (a sandboxed iframe without allow-same-origin) may not start a worker
 * from its own server: there the worker is a one-line data: module that imports the real one
 * (the server must send Access-Control-Allow-Origin, as GitHub Pages does).
 */
export function moduleWorker(url) {
  const href = String(url instanceof URL ? url.href : url);
  if (self.origin !== 'null') return new Worker(scriptURL(href), { type: 'module' });
  return new Worker(scriptURL(`data:text/javascript,${encodeURIComponent(`import ${JSON.stringify(href)};`)}`), { type: 'module' });
}
