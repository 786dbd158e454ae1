// Trusted Types for the pages: every page's Content-Security-Policy requires them for script
// URLs (`require-trusted-types-for 'script'; trusted-types descent`), so no string can reach a
// script sink unchecked. The workers are the only script URLs a page makes at run time; the
// policy here, the one the CSP allows, passes modules of the page's own origin and the one-line
// data: module that imports one (shell.js moduleWorker, for pages in an opaque origin), and
// refuses everything else.

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
