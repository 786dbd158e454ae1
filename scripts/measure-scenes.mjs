// Times what a reader waits for in the scenes, in headless Chromium on the built site (dist/):
// the double-descent page's first seed and full curve (its worker pool, default settings) and a
// ridge redraw, and the step-size page's 16 × 16 phase diagram. Medians of `--runs` (default 3).
//
//   node scripts/measure-scenes.mjs [--runs 3]

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const server = await serve(resolve('dist'), 0);
const userDataDir = await mkdtemp(join(tmpdir(), 'descent-measure-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const first = [];
  const full = [];
  const redraw = [];
  let workers = 0;
  for (let r = 0; r < runs; r++) {
    const page = await context.newPage();
    await page.goto(`${server.url}double-descent.html`);
    await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 120000 });
    const s = await page.evaluate(() => ({ first: window.descent.state.firstSeedMs, full: window.descent.state.fullMs, workers: window.descent.state.workers.length }));
    first.push(s.first);
    full.push(s.full);
    workers = s.workers;
    // A ridge change, once the isotropic panel's Monte Carlo (its own worker) is done: from
    // the message to every worker's re-fitted curves on the page.
    await page.waitForFunction(() => window.descent.iso.points.filter(Boolean).length >= 14, null, { timeout: 120000 });
    const ms = await page.evaluate(async () => {
      const st = window.descent.state;
      const el = document.querySelector('input[name="ridge"]');
      const t0 = performance.now();
      el.value = String(Number(el.value) + 20);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((res) => {
        const poll = () => (st.workers.every((w) => !w.block?.count || w.partVersion === st.liveVersion) ? res() : setTimeout(poll, 0));
        poll();
      });
      return performance.now() - t0;
    });
    redraw.push(ms);
    await page.close();
  }
  console.log(`double descent (n 300, 41 sizes to 10n, 5 seeds, 1000 test; ${workers} workers):`);
  console.log(`  first seed on screen   ${median(first).toFixed(0)} ms`);
  console.log(`  all seeds              ${median(full).toFixed(0)} ms`);
  console.log(`  ridge redraw           ${median(redraw).toFixed(1)} ms`);

  const phase = [];
  for (let r = 0; r < Math.min(runs, 2); r++) {
    const page = await context.newPage();
    await page.goto(`${server.url}step.html?play=0`);
    await page.waitForFunction(() => window.descent.report != null, null, { timeout: 60000 });
    await page.selectOption('#phase-size', '16');
    await page.click('#btn-phase');
    await page.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 300000 });
    phase.push(await page.evaluate(() => window.descent.phase.ms));
    await page.close();
  }
  console.log(`step size: 16 × 16 phase diagram (widths 16–4096, 0.25–16 η₀, 300 steps, n 32): ${(median(phase) / 1000).toFixed(2)} s`);
} finally {
  await context.close();
  await rm(userDataDir, { recursive: true, force: true });
  await server.close();
}
