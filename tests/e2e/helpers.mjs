// Shared set-up for the end-to-end tests: serve dist/, launch headless Chromium, record errors,
// and read back what the page drew.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(ROOT, 'dist');
/** The crash-test site (bash scripts/build.sh --crash-test): dist/ with an engine that can panic. */
export const DIST_CRASH = join(ROOT, 'target', 'dist-crash');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * Serves `dir` (default dist/) on a free port with scripts/serve.mjs; throws if the site is not
 * built. `cache`: the browser may cache the files (as GitHub Pages lets it, for ten minutes), so
 * that a page opened again reuses its compiled modules and wasm; by default every load fetches
 * them afresh.
 */
export async function startServer({ dir = DIST, cache = false } = {}) {
  const build = dir === DIST_CRASH ? 'bash scripts/build.sh --crash-test' : 'bash scripts/build.sh';
  for (const f of ['index.html', 'pkg/descent.js', 'pkg/descent_bg.wasm', 'pkg/settings.js', 'vendor/uPlot.esm.js']) {
    if (!existsSync(join(dir, f))) {
      throw new Error(`${relative(ROOT, dir)}/${f} is missing: build the site first (${build})`);
    }
  }
  const { serve } = await import(join(ROOT, 'scripts/serve.mjs'));
  return serve(dir, 0, '127.0.0.1', { maxAge: cache ? 600 : 0 });
}

/**
 * A headless Chromium with a fresh profile; close() also removes the profile. `extraArgs` adds
 * flags, e.g. ['--enable-unsafe-webgpu'] for WebGPU (SwiftShader without a GPU); without that
 * flag headless Chromium here has no WebGPU adapter.
 */
export async function startBrowser(extraArgs = []) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'descent-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `fn(arg)` evaluated in a blank page of `context` (no CSP): for parsing an exported file with
 * DOMParser, which the site's pages refuse a plain string (their CSP requires Trusted Types).
 */
export async function evaluateOffSite(context, fn, arg) {
  const blank = await context.newPage();
  try {
    return await blank.evaluate(fn, arg);
  } finally {
    await blank.close();
  }
}

/** Opens a page and collects its console errors and uncaught exceptions into `errors`. */
export async function openPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  return { page, errors };
}

/** Waits until the page's engine answered and the shown run has reached `minStep`. */
export async function waitForStep(page, minStep, timeout = 20000) {
  await page.waitForFunction(
    (s) => Number(document.body.dataset.step ?? -1) >= s && document.body.dataset.status !== 'loading',
    minStep,
    { timeout, polling: 50 },
  );
}

/**
 * Pixel statistics of the first canvas inside `selector`: the share of opaque pixels, and how many
 * pixels lie within `tol` (per channel) of `rgb` (a series colour), if given.
 */
export async function canvasStats(page, selector, rgb = null, tol = 40) {
  return page.evaluate(([sel, colour, t]) => {
    const c = document.querySelector(`${sel} canvas`);
    if (!c || !c.width || !c.height) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let opaque = 0;
    let near = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 200) {
        opaque++;
        if (colour && Math.abs(d[i] - colour[0]) <= t && Math.abs(d[i + 1] - colour[1]) <= t
          && Math.abs(d[i + 2] - colour[2]) <= t) near++;
      }
    }
    return { width: c.width, height: c.height, opaqueShare: opaque / (d.length / 4), near };
  }, [selector, rgb, tol]);
}

/** Moves a range input to `position` as a user would: sets it and fires input and change. */
export async function setRange(page, name, position) {
  await setRanges(page, { [name]: position });
}

/** Moves several range inputs within one task (as fast as a user could within one frame). */
export async function setRanges(page, positions) {
  await page.evaluate((pos) => {
    for (const [n, p] of Object.entries(pos)) {
      const el = document.querySelector(`input[name="${n}"]`);
      el.value = String(p); // a range input clamps to its max
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }, positions);
}

/**
 * The site and a browser for the tests of the enclosing `describe`: registers `before` and
 * `after` hooks that start the server (`server`: {dir (default dist/), cache}, see startServer)
 * and a headless Chromium (with `extraArgs`) and close both. Returns a handle whose `server`
 * ({url, close}) and `browser` ({context, close}) are set once `before` has run.
 */
export function useSite(extraArgs = [], server = {}) {
  const site = { server: null, browser: null };
  before(async () => {
    site.server = await startServer(server);
    site.browser = await startBrowser(extraArgs);
  });
  after(async () => {
    await site.browser?.close();
    await site.server?.close();
  });
  return site;
}
