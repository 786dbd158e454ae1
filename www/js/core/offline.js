// The offline copy: every scene page registers the site's service worker (sw.js at the site
// root, whose scope is the whole site), which keeps one whole build of the scenes in the
// browser's cache, so the site works without a network after one online visit. See sw.js for
// what it caches and when.
//
// Registration waits for the page's load event, so the copy does not compete with the page's
// own files; a page under an existing worker then checks for a new build (sw.js changed). A page in an opaque origin (a sandboxed embed) cannot have a service worker: it
// skips this silently and keeps loading from the network. Once a worker is active (its copy
// complete), the footer says so and <body data-offline="ready"> is set.

import { scriptURL } from './trusted.js';

const WORKER = new URL('../../sw.js', import.meta.url);

/** Registers the site's service worker where the page may have one; never throws. */
export function keepOffline() {
  if (self.origin === 'null' || !self.isSecureContext || !('serviceWorker' in navigator)) return;
  const register = () => {
    navigator.serviceWorker.register(scriptURL(WORKER.href))
      .then((registration) => {
        // A page under an existing worker also asks for a new build now (the browser does so
        // after a navigation too, in its own time); offline that fails, and the copy answers.
        if (navigator.serviceWorker.controller && navigator.onLine) registration.update().catch(() => {});
        return navigator.serviceWorker.ready;
      })
      .then(showReady)
      .catch((e) => console.warn(`Descent: no offline copy (${e?.message ?? e})`));
  };
  if (document.readyState === 'complete') register();
  else addEventListener('load', register, { once: true });
}

function showReady() {
  document.body.dataset.offline = 'ready';
  const footer = document.querySelector('.site-footer p');
  if (!footer || footer.querySelector('.offline-note')) return;
  const note = document.createElement('span');
  note.className = 'offline-note';
  note.textContent = 'Available offline.';
  footer.append(' ', note);
}
