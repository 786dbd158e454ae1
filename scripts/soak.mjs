// A long session on every scene, in headless Chromium on the built site (dist/): each scene's page
// is opened once and kept open while the same seeded sequence of actions is repeated on it, cycle
// after cycle, until the time is up:
//   - every preset in turn (the preset menu), each left to run for `dwell` ms (a computed scene:
//     until its figures are done, at most 30 s);
//   - three slider moves to seeded positions anywhere in the slider's range;
//   - back to the first preset, reset, and its speed measured: steps per second over `dwell` ms
//     for a live scene (the step counter of its reports), the time to the finished curve for the
//     Double-descent page.
// After each scene's cycle it samples the engine's memory in every worker of the page (the
// linear memory of the wasm instance: it grows and never shrinks, so a leak shows as growth from
// cycle to cycle of the same actions) and the page's JS heap after a forced collection (CDP
// HeapProfiler.collectGarbage, Runtime.getHeapUsage), and it records console errors and uncaught
// exceptions.
//
// Bounded means: from the end of the second cycle to the last, the engine memory of a scene grows
// by at most `--wasm-growth` (default 16 MiB in all: the allocator's high-water mark can still
// rise once, as a buffer of the sequence's largest run is reallocated; the Step-size page's
// engine went 46.6 → 54.7 MiB in its third cycle of ten minutes and stayed there), and in a run
// of five cycles or more not at all (under 1 MiB) over the second half of the cycles, which a
// leak of any size per cycle would; and the JS heap
// by at most `--heap-growth` (default 25 % + 2 MiB: the plots' history buffers refill to their
// caps). The second cycle, not the first, is the baseline: the first starts from the page's load,
// and the allocator's high-water mark for the sequence can be reached only in the second (the
// Playground's engine goes 24 → 49 MiB from the first cycle to the second, then stays at 49 MiB).
// No decay means the first preset's speed, the better of the last two cycles, is at least
// `--min-speed` (default 0.6) of the better of the first two (one measurement on a 2-core
// machine shared with other work can be 3× off; a decay from a leak shows in both). At least
// three cycles run, also past the time.
//
//   node scripts/soak.mjs [--minutes 10] [--dwell 2500] [--scenes playground,lazy] [--json file]
//
// Prints one line per sample and a summary per scene; exits 1 when a scene is not bounded,
// decays, logs an error or failed. tests/e2e/soak.test.mjs runs a one-minute version.

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { SCENES } from '../www/js/scenes/index.js';
import { serve } from './serve.mjs';

const MiB = 1024 * 1024;

/** A small seeded generator (mulberry32): the same actions in every cycle and every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the soak. options: {minutes, dwellMs, scenes (ids), log(line), dir (the built site),
 * wasmGrowth (bytes), heapGrowth (fraction), minSpeed (fraction)}. Resolves with {scenes: {id:
 * {cycles, samples, speed, errors, verdicts}}, ok}.
 */
export async function soak(options = {}) {
  const {
    minutes = 10, dwellMs = 2500, log = console.log, dir = 'dist',
    wasmGrowth = 16 * MiB, heapGrowth = 0.25, minSpeed = 0.6,
  } = options;
  const ids = options.scenes ?? Object.keys(SCENES);
  const server = await serve(resolve(dir), 0);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
  const deadline = Date.now() + minutes * 60_000;
  const out = {};
  try {
    // One context and page per scene, opened once; a scene waits paused while another is soaked.
    const tabs = [];
    for (const id of ids) {
      const context = await browser.newContext({ serviceWorkers: 'block' });
      const page = await context.newPage();
      const errors = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      await page.goto(`${server.url}${SCENES[id].page}?play=0`);
      await page.waitForFunction(() => window.descent != null && document.body.dataset.status !== 'loading', null, { timeout: 60_000 });
      const cdp = await context.newCDPSession(page);
      tabs.push({ id, page, cdp, errors, live: SCENES[id].live });
      out[id] = { cycles: 0, samples: [], speed: [], errors };
    }
    let cycle = 0;
    // At least three cycles: the last is compared with the second (see above).
    while (cycle < 3 || Date.now() < deadline) {
      for (const tab of tabs) {
        await cycleScene(tab, dwellMs, 1000 + tabs.indexOf(tab));
        const sample = await sampleMemory(tab);
        const speed = await measureSpeed(tab, dwellMs);
        out[tab.id].cycles = cycle + 1;
        out[tab.id].samples.push(sample);
        out[tab.id].speed.push(speed);
        log(`${tab.id.padEnd(15)} cycle ${String(cycle + 1).padStart(2)}: engine ${(sample.wasm / MiB).toFixed(1)} MiB in ${sample.workers} worker${sample.workers === 1 ? '' : 's'}, ` +
          `JS heap ${(sample.heap / MiB).toFixed(1)} MiB, ${tab.live ? `${speed.toFixed(0)} steps/s` : `curve ${(speed / 1000).toFixed(2)} s`}` +
          (tab.errors.length ? `, ${tab.errors.length} error(s)` : ''));
      }
      cycle += 1;
    }
    for (const tab of tabs) await tab.page.context().close();
  } finally {
    await browser.close();
    await server.close();
  }
  let ok = true;
  for (const [id, r] of Object.entries(out)) {
    const first = r.samples[1];
    const last = r.samples.at(-1);
    const live = SCENES[id].live;
    // Speed: steps/s (higher is better) or ms per curve (lower is better), the better of the
    // last two cycles against the better of the first two.
    const best = (xs) => (live ? Math.max(...xs) : Math.min(...xs));
    const [early, late] = [best(r.speed.slice(0, 2)), best(r.speed.slice(-2))];
    const ratio = live ? late / early : early / late;
    r.verdicts = {
      wasm: last.wasm - first.wasm <= wasmGrowth &&
        (r.samples.length < 5 || last.wasm - r.samples[Math.floor(r.samples.length / 2)].wasm < MiB),
      heap: last.heap <= first.heap * (1 + heapGrowth) + 2 * MiB,
      speed: ratio >= minSpeed,
      errors: r.errors.length === 0,
      healthy: r.samples.every((s) => s.status !== 'failed'),
    };
    r.speedRatio = ratio;
    const good = Object.values(r.verdicts).every(Boolean);
    ok &&= good;
    log(`${id}: ${r.cycles} cycles; from the second cycle to the last: engine ${(first.wasm / MiB).toFixed(1)} → ${(last.wasm / MiB).toFixed(1)} MiB` +
      ` (max ${(Math.max(...r.samples.map((s) => s.wasm)) / MiB).toFixed(1)}), JS heap ${(first.heap / MiB).toFixed(1)} → ${(last.heap / MiB).toFixed(1)} MiB` +
      ` (max ${(Math.max(...r.samples.map((s) => s.heap)) / MiB).toFixed(1)}), speed last ÷ first ${ratio.toFixed(2)}` +
      `${r.errors.length ? `, errors: ${r.errors.slice(0, 3).join(' | ')}` : ''} — ${good ? 'bounded' : `NOT OK (${Object.entries(r.verdicts).filter(([, v]) => !v).map(([k]) => k).join(', ')})`}`);
  }
  return { scenes: out, ok };
}

/** The seeded actions of one cycle on one scene (the same in every cycle). */
async function cycleScene({ page, live }, dwellMs, seed) {
  const random = rng(seed);
  const presets = await page.evaluate(() => [...document.querySelectorAll('#preset-select option')].map((o) => o.value).filter((v) => v !== ''));
  for (const value of presets) {
    await page.selectOption('#preset-select', value);
    await settle(page, live, dwellMs);
  }
  const sliders = await page.evaluate(() => [...document.querySelectorAll('[data-control] input[type="range"]')].map((el) => el.name).filter(Boolean));
  for (let i = 0; i < 3 && sliders.length; i++) {
    const name = sliders[Math.floor(random() * sliders.length)];
    const at = random();
    await page.evaluate(({ name, at }) => {
      const el = document.querySelector(`[data-control] input[type="range"][name="${name}"]`);
      if (!el) return;
      const [min, max, step] = [Number(el.min), Number(el.max), Number(el.step) || 1];
      el.value = String(min + Math.round((at * (max - min)) / step) * step);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, { name, at });
    await settle(page, live, dwellMs);
  }
}

/** A live scene plays for `dwellMs`, then pauses; a computed scene is waited for (≤ 30 s). */
async function settle(page, live, dwellMs) {
  if (live) {
    await page.evaluate(() => {
      if (document.body.dataset.status === 'paused') document.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));
    });
    await page.waitForTimeout(dwellMs);
    await page.evaluate(() => {
      if (document.body.dataset.status === 'playing') document.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));
    });
  } else {
    await page.waitForTimeout(100);
    await page.waitForFunction(() => ['done', 'refused', 'failed'].includes(document.body.dataset.status), null, { timeout: 30_000, polling: 50 }).catch(() => {});
  }
}

/**
 * The first preset again, and its speed: a live scene is reset and played; the steps its reports
 * count between 1 s and 1 s + `dwellMs` after the reset give steps/s (the first 1,000 steps are
 * taken one at a time, so the first second is left out). The Double-descent page: the time to its
 * finished curve (its own timer).
 */
async function measureSpeed({ page, live }, dwellMs) {
  await page.selectOption('#preset-select', '0');
  if (!live) {
    await settle(page, false, dwellMs);
    return page.evaluate(() => window.descent.state.fullMs ?? NaN);
  }
  await page.waitForTimeout(200);
  await page.evaluate(() => {
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'r', bubbles: true }));
    if (document.body.dataset.status !== 'playing') document.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));
  });
  await page.waitForTimeout(1000);
  const step = () => page.evaluate(() => ({ step: window.descent.lastReport?.step ?? 0, t: performance.now(), status: document.body.dataset.status }));
  const a = await step();
  await page.waitForTimeout(dwellMs);
  const b = await step();
  await page.evaluate(() => {
    if (document.body.dataset.status === 'playing') document.dispatchEvent(new KeyboardEvent('keydown', { key: ' ', bubbles: true }));
  });
  return ((b.step - a.step) * 1000) / (b.t - a.t);
}

/** The engine's memory in every worker of the page, and the page's JS heap after a collection. */
async function sampleMemory({ page, cdp }) {
  let wasm = 0;
  let workers = 0;
  for (const w of page.workers()) {
    const bytes = await w.evaluate(() => (typeof self.descentMemoryBytes === 'function' ? self.descentMemoryBytes() : null)).catch(() => null);
    if (bytes != null) {
      wasm += bytes;
      workers += 1;
    }
  }
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const status = await page.evaluate(() => document.body.dataset.status);
  return { wasm, workers, heap: usedSize, status };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
  const result = await soak({
    minutes: Number(opt('minutes', 10)),
    dwellMs: Number(opt('dwell', 2500)),
    scenes: opt('scenes', null)?.split(','),
    wasmGrowth: Number(opt('wasm-growth', 16)) * MiB,
    heapGrowth: Number(opt('heap-growth', 0.25)),
    minSpeed: Number(opt('min-speed', 0.6)),
  });
  const json = opt('json', null);
  if (json) await writeFile(json, JSON.stringify(result, null, 1));
  process.exit(result.ok ? 0 : 1);
}
