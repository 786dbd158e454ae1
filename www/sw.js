// Descent's service worker: keeps an offline copy of the site, so that a lecture works without a
// network once a reader (or the lecturer) has opened any scene online.
//
// The copy is one build of the site: BUILD below names it (a hash of the files' contents) and
// lists its files, relative to this script's folder, the site root. scripts/offline.mjs writes
// both into dist/sw.js at build time; here, unbuilt, the list is empty and nothing is cached.
//
//   install   fetches every file of the list into the cache `descent-<version>` (revalidated
//             with the server, never from a stale HTTP cache); if one fails, nothing is kept
//             and the previous worker stays in charge
//   activate  deletes the caches of other builds and takes over the open pages at once
//   fetch     same-origin GET requests for a file of the list: network first, the cache when
//             the network fails. Everything else (other files, other origins, other methods)
//             goes to the network untouched, never to the cache.
//
// Why network first, for the pages and for their scripts alike: the file names carry no version
// (js/core/shell.js is the same name in every build), so a cache-first script could meet a page
// of another build. Online, every file comes from the server, exactly as without this worker, and
// a new build is live at once; the browser meanwhile finds the changed sw.js (it checks on every
// navigation), installs the new copy and drops the old one. Offline, every file comes from the
// cache, which always holds one whole build. That also makes it safe to take over at once
// (skipWaiting, clients.claim): the worker in charge only decides which whole build answers when
// the network is gone.

const BUILD = { version: 'unbuilt', files: [] }; // written by scripts/offline.mjs

const PREFIX = 'descent-';
const CACHE = `${PREFIX}${BUILD.version}`;
const ROOT = new URL('./', self.location.href);
const FILES = new Set(BUILD.files.map((f) => new URL(f, ROOT).href));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    try {
      const cache = await caches.open(CACHE);
      await cache.addAll([...FILES].map((href) => new Request(href, { cache: 'no-cache' })));
    } catch (e) {
      await caches.delete(CACHE); // no half copy under this build's name
      throw e;
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

/** The file of the list that `url` names (the page for a folder), or null. Query and hash do not count. */
function listed(url) {
  const u = new URL(url);
  if (u.origin !== self.location.origin) return null;
  let href = u.origin + u.pathname;
  if (href.endsWith('/')) href += 'index.html';
  return FILES.has(href) ? href : null;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const href = listed(request.url);
  if (!href) return;
  event.respondWith((async () => {
    try {
      return await fetch(request);
    } catch (e) {
      const cached = await caches.match(href, { cacheName: CACHE });
      if (cached) return cached;
      throw e;
    }
  })());
});
