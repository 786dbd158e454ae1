// The offline copy (www/sw.js, registered by js/core/offline.js): after one online visit every
// scene loads and trains with the server gone, a pool of workers included; a new build replaces
// the copy on the next online visit; a sandboxed embed registers nothing and trains online.
// The site is served from a copy of dist/ (without the benchmark's peers) so that the test can
// stop the server, and change the build, without touching dist/.
// Run from the repository root: node --test tests/e2e/offline.test.mjs   (build first)

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { DIST, openPage, startBrowser, startServer, waitForStep } from './helpers.mjs';

const { serve } = await import('../../scripts/serve.mjs');

/** The offline copy's version and files, as scripts/offline.mjs wrote them into sw.js. */
function buildOf(worker) {
  const m = worker.match(/^const BUILD = (\{[\s\S]*?\}); \/\/ written by scripts\/offline\.mjs$/m);
  assert.ok(m, 'sw.js carries the offline copy\'s list: build with scripts/build.sh');
  return JSON.parse(m[1]);
}

/** Waits until the page is controlled by an active service worker whose copy is complete. */
async function waitControlled(page) {
  await page.waitForFunction(() => document.body.dataset.offline === 'ready' && navigator.serviceWorker.controller != null,
    null, { timeout: 30000, polling: 100 });
}

const cacheNames = (page) => page.evaluate(() => caches.keys());

/** Waits until the origin's caches are exactly `names`. */
async function waitCaches(page, names, timeout = 30000) {
  const end = Date.now() + timeout;
  let seen;
  while (Date.now() < end) {
    seen = await cacheNames(page);
    if (JSON.stringify(seen) === JSON.stringify(names)) return;
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(3000);
  assert.deepEqual(seen, names, 'the caches');
}

/** Waits until the scene has trained (a live scene) or computed its figures. */
async function waitWorking(page, scene) {
  if (scene.live) await waitForStep(page, 5, 60000);
  else await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60000, polling: 100 });
}

describe('Offline copy', () => {
  let dir;
  let site; // { url, port, close }
  let browser;
  let build;

  before(async () => {
    await startServer().then((s) => s.close()); // checks that dist/ is built
    dir = await mkdtemp(join(tmpdir(), 'descent-offline-'));
    const peers = [join(DIST, 'vendor', 'tfjs'), join(DIST, 'vendor', 'jax-js')];
    await cp(DIST, dir, { recursive: true, filter: (src) => !peers.some((p) => src === p || src.startsWith(p + sep)) });
    build = buildOf(await readFile(join(dir, 'sw.js'), 'utf8'));
    site = await serve(dir, 0);
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Stops the server and takes the browser off the network. */
  async function goOffline() {
    await browser.context.setOffline(true);
    await site.close();
  }

  /** Serves the copy again, on the same origin, and puts the browser back on the network. */
  async function goOnline() {
    site = await serve(dir, site.port);
    await browser.context.setOffline(false);
  }

  test('the copy lists every file a scene loads, and not the benchmark\'s peers', () => {
    assert.match(build.version, /^[0-9a-f]{16}$/);
    for (const f of ['index.html', 'pkg/descent.js', 'pkg/descent_bg.wasm', 'pkg/settings.js', 'vendor/uPlot.esm.js',
      'vendor/uPlot.min.css', 'css/descent.css', 'data/digits.csv', 'favicon.svg', 'js/core/offline.js',
      ...Object.values(SCENES).map((s) => s.page),
      ...Object.values(SCENES).map((s) => `js/scenes/${s.page === 'index.html' ? 'playground' : s.page.replace('.html', '')}/worker.js`)]) {
      assert.ok(build.files.includes(f), `listed: ${f}`);
    }
    assert.ok(build.files.includes('js/scenes/step/pool-worker.js'));
    assert.ok(!build.files.some((f) => /^(vendor\/(tfjs|jax-js)\/|js\/bench\/|bench\.html$|sw\.js$)/.test(f)), 'left out');
  });

  test('a sandboxed embed registers no service worker and trains online', async () => {
    // A host page on another origin frames the Playground in a sandboxed iframe (an opaque origin).
    const host = createServer((req, res) => {
      const src = `${site.url}index.html?embed&amp;play=1&amp;width=32`;
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': `default-src 'none'; frame-src ${site.url.replace(/\/$/, '')}; script-src 'none'`,
      });
      res.end(`<!doctype html><title>host</title><iframe src="${src}" sandbox="allow-scripts" width="800" height="600" title="Descent"></iframe>`);
    });
    await new Promise((r) => host.listen(0, '127.0.0.1', r));
    try {
      const { page, errors } = await openPage(browser.context);
      const notes = [];
      page.on('console', (m) => notes.push(m.text()));
      await page.goto(`http://127.0.0.1:${host.address().port}/`);
      let frame;
      await page.waitForFunction(() => document.querySelector('iframe')?.contentWindow != null);
      for (let i = 0; i < 100 && !frame; i++) {
        frame = page.frames().find((f) => f.url().includes('index.html'));
        if (!frame) await page.waitForTimeout(100);
      }
      assert.ok(frame, 'the embed frame');
      await frame.waitForFunction(() => Number(document.body.dataset.step) >= 5, null, { timeout: 30000 });
      assert.equal(await frame.evaluate(() => self.origin), 'null', 'an opaque origin');
      assert.equal(await frame.evaluate(() => document.body.dataset.offline), undefined, 'no offline copy');
      assert.deepEqual(errors, []);
      assert.deepEqual(notes.filter((t) => /offline|service ?worker/i.test(t)), [], 'nothing said about it');
      await page.close();

      // The site's own origin has no registration and no cache (favicon.svg: a document of the
      // site that runs no script of its own).
      const own = await browser.context.newPage();
      await own.goto(`${site.url}favicon.svg`);
      assert.equal(await own.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length)), 0);
      assert.deepEqual(await cacheNames(own), []);
      await own.close();
    } finally {
      await new Promise((r) => {
        host.close(r);
        host.closeAllConnections();
      });
    }
  });

  test('after one online visit every scene loads and works with the server gone', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.goto(`${site.url}index.html`);
    await waitControlled(page);
    assert.deepEqual(await cacheNames(page), [`descent-${build.version}`]);
    assert.match(await page.textContent('.site-footer'), /Available offline\./);
    assert.deepEqual(errors, []);

    await goOffline();
    await page.reload();
    await waitWorking(page, SCENES.playground);
    assert.deepEqual(errors, []);
    await page.close();

    for (const [id, scene] of Object.entries(SCENES)) {
      const tab = await openPage(browser.context);
      await tab.page.goto(`${site.url}${scene.page}`);
      await waitWorking(tab.page, scene);
      assert.equal(await tab.page.evaluate(() => document.body.dataset.status === 'failed'), false, id);
      assert.deepEqual(tab.errors, [], id);
      await tab.page.close();
    }

    // A pool of workers (the step-size phase diagram spreads its columns over several).
    const step = await openPage(browser.context);
    await step.page.goto(`${site.url}step.html?play=0`);
    await step.page.waitForFunction(() => window.descent?.report != null, null, { timeout: 30000 });
    await step.page.click('#btn-phase');
    await step.page.waitForFunction(() => (window.descent.phase.progress?.done ?? 0) >= 1
      && window.descent.phase.progress.workers >= 2, null, { timeout: 60000, polling: 100 });
    await step.page.click('#btn-phase-cancel');
    assert.deepEqual(step.errors, []);
    await step.page.close();
  });

  test('a new build replaces the copy on the next online visit', async () => {
    // A new build: a changed page, and the sw.js scripts/offline.mjs would write for it.
    const next = 'feedfacefeedface';
    const lazyHtml = await readFile(join(dir, 'lazy.html'), 'utf8');
    await writeFile(join(dir, 'lazy.html'), lazyHtml.replace('<title>', '<meta name="build" content="next">\n  <title>'));
    const worker = await readFile(join(dir, 'sw.js'), 'utf8');
    await writeFile(join(dir, 'sw.js'), worker.replace(`"version": "${build.version}"`, `"version": "${next}"`));
    await goOnline();

    const { page, errors } = await openPage(browser.context);
    await page.goto(`${site.url}index.html?play=0`);
    await waitCaches(page, [`descent-${next}`]);
    await waitControlled(page);
    assert.deepEqual(errors, []);
    await page.close();

    await goOffline();
    const { page: lazy, errors: lazyErrors } = await openPage(browser.context);
    await lazy.goto(`${site.url}lazy.html`);
    assert.equal(await lazy.getAttribute('meta[name="build"]', 'content'), 'next', 'offline, the new build\'s page');
    await waitWorking(lazy, SCENES.lazy);
    assert.deepEqual(lazyErrors, []);
    await lazy.close();
    await goOnline();
  });
});
