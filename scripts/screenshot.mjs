// Screenshots of the scenes at several settings, for eyeballing the pages.
//
//   node scripts/screenshot.mjs [url] [outdir]
//   ONLY=lazy node scripts/screenshot.mjs        only the shots whose name matches the pattern
//
// Without a url, dist/ is served on a free local port (run scripts/build.sh first). Each setting is
// opened through the URL query (on the scene's page), trains for a couple of seconds, optionally
// runs an action (`act`), and is written to outdir (default test-results/screenshots/) as
// <name>.png. Console errors and page errors are printed and make the exit code 1.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { SCENES } from '../www/js/scenes/index.js';

// Every scene of SCENES at its defaults: on a desktop, in a narrow window and on a phone (a scene
// that computes its figures rather than training live is shown once they are computed).
const SCENE_SHOTS = Object.entries(SCENES).flatMap(([id, { page, live }]) => [
  { name: `${id}-defaults` },
  { name: `${id}-narrow-800`, viewport: { width: 800, height: 1000 } },
  { name: `${id}-phone-390`, viewport: { width: 390, height: 844 } },
].map((shot) => ({ ...shot, page, query: '', ...(live ? {} : { act: computed }) })));

const SHOTS = [
  ...SCENE_SHOTS,
  // The Playground.
  { name: 'width-1', query: 'width=1' },
  { name: 'width-4096', query: 'width=4096' },
  { name: 'lr-1e-4', query: 'lr=0.0001' },
  { name: 'lr-100', query: 'lr=100' },
  { name: 'init-0.01', query: 'initScale=0.01' },
  { name: 'init-100', query: 'initScale=100' },
  { name: 'sine', query: 'dataset=sine' },
  { name: 'spirals-deep', query: 'dataset=spirals&depth=3&width=256&lr=0.2' },
  { name: 'catapult', query: 'preset=catapult' },
  // Lazy or rich.
  { name: 'lazy-width-16-alpha-0.1', page: 'lazy.html', query: 'width=16&alpha=0.1' },
  { name: 'lazy-width-4096', page: 'lazy.html', query: 'width=4096' },
  { name: 'lazy-circles', page: 'lazy.html', query: 'dataset=circles&width=64' },
  { name: 'lazy-sweep', page: 'lazy.html', query: '', act: sweep },
  { name: 'lazy-sweep-relu', page: 'lazy.html', query: 'activation=relu&sweepMax=4096', act: sweep },
  { name: 'lazy-narrow-800-alpha-0.1', page: 'lazy.html', query: 'alpha=0.1&width=32', viewport: { width: 800, height: 1000 } },
  // Double descent.
  { name: 'dd-optimal-ridge', page: 'double-descent.html', query: '', act: ddOptimal },
  { name: 'dd-samples', page: 'double-descent.html', query: 'sweep=samples', act: computed },
  { name: 'dd-digits', page: 'double-descent.html', query: 'data=digits&x=params', act: computed },
  { name: 'dd-fourier-nonlinear', page: 'double-descent.html', query: 'features=fourier&teacher=nonlinear', act: computed },
  { name: 'dd-trained', page: 'double-descent.html', query: '', act: ddTrained },
  // Step size.
  { name: 'step-stable', page: 'step.html', query: 'lrMultiple=0.9' },
  { name: 'step-stable-erf-4096', page: 'step.html', query: 'lrMultiple=0.9&activation=erf&width=4096' },
  { name: 'step-divergent', page: 'step.html', query: 'lrMultiple=12' },
  { name: 'step-phase', page: 'step.html', query: '', act: phase },
  // Weak labels: each preset, the bag-size sweep, the cell populations.
  { name: 'weak-labels-bags-of-one', page: 'weak-labels.html', query: 'preset=labels' },
  { name: 'weak-labels-large-random', page: 'weak-labels.html', query: 'preset=large-random' },
  { name: 'weak-labels-purified', page: 'weak-labels.html', query: 'preset=purified' },
  { name: 'weak-labels-alike', page: 'weak-labels.html', query: 'preset=alike' },
  { name: 'weak-labels-sweep', page: 'weak-labels.html', query: '', act: sweep },
  { name: 'weak-labels-cells', page: 'weak-labels.html', query: 'data=cells' },
  // Embed view, presenter mode and the tools' dialogs.
  { name: 'embed-playground', query: 'embed&controls=width,lr&play=1&dataset=spirals&width=256', viewport: { width: 960, height: 640 } },
  // Embeds as the host page shows them: the frame only (`frame`), at the embed dialog's size and
  // at 640 × 480.
  { name: 'embed-step', page: 'step.html', query: 'embed&controls=lrMultiple&play=1', viewport: { width: 960, height: 640 }, frame: true },
  { name: 'embed-step-640x480', page: 'step.html', query: 'embed&controls=lrMultiple&play=1', viewport: { width: 640, height: 480 }, frame: true },
  { name: 'embed-dd-narrow', page: 'double-descent.html', query: 'embed', viewport: { width: 640, height: 720 }, act: computed },
  { name: 'present-step', page: 'step.html', query: 'present&preset=catapult&play=1' },
  { name: 'present-catapult', query: 'present&preset=catapult&play=1', viewport: { width: 1280, height: 900 }, frame: true },
  { name: 'present-playground', query: 'present&play=1', viewport: { width: 1280, height: 800 } },
  { name: 'dialog-export', query: '', act: (page) => page.click('text=Export…') },
  { name: 'dialog-embed', page: 'step.html', query: '', act: embedDialog },
  { name: 'dialog-help', query: 'present', act: (page) => page.keyboard.press('?') },
];

/** The embed dialog with two controls ticked. */
async function embedDialog(page) {
  await page.click('text=Embed…');
  await page.check('#embed-show-lrMultiple');
  await page.check('#embed-show-width');
  await page.waitForTimeout(100);
}

/** The step-size phase diagram to its end (at most three minutes). */
async function phase(page) {
  await page.click('#btn-phase');
  await page.waitForFunction(() => document.body.dataset.phase && document.body.dataset.phase !== 'running',
    null, { timeout: 180000 }).catch(() => console.error('  the phase diagram did not finish within three minutes'));
  await page.waitForTimeout(300);
}

/** Waits until the scene's figures are computed, every seed of a sweep (at most a minute). */
async function computed(page) {
  await page.waitForFunction(() => document.body.dataset.status !== 'computing', null, { timeout: 60000 })
    .catch(() => console.error('  the sweep did not finish within a minute'));
  await page.waitForTimeout(300);
}

/** The sweep, then the optimal-ridge button. */
async function ddOptimal(page) {
  await computed(page);
  await page.click('#btn-optimal');
  await page.waitForTimeout(500);
}

/** The sweep, then the trained-network width sweep to its end (at most three minutes). */
async function ddTrained(page) {
  await computed(page);
  await page.click('#fig-trained [data-role="start"]');
  await page.waitForFunction(() => document.body.dataset.trained && document.body.dataset.trained !== 'running',
    null, { timeout: 180000 }).catch(() => console.error('  the trained sweep did not finish within three minutes'));
  await page.waitForTimeout(300);
}

/** Runs the width sweep to its end (or for at most two minutes). */
async function sweep(page) {
  await page.click('#btn-sweep');
  await page.waitForFunction(() => document.body.dataset.sweep && document.body.dataset.sweep !== 'running',
    null, { timeout: 120000 }).catch(() => console.error('  the sweep did not finish within two minutes'));
  await page.waitForTimeout(200);
}
const TRAIN_MS = 2500;

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

async function main() {
  const [urlArg, outArg] = process.argv.slice(2);
  const outdir = resolve(outArg ?? 'test-results/screenshots');
  await mkdir(outdir, { recursive: true });

  let server = null;
  let base = urlArg;
  if (!base) {
    const { serve } = await import('./serve.mjs');
    server = await serve(resolve('dist'), 0);
    base = server.url;
  }

  const userDataDir = await mkdtemp(join(tmpdir(), 'descent-shots-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  let problems = 0;
  try {
    const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
    for (const shot of SHOTS.filter((x) => !only || only.test(x.name))) {
      const page = await context.newPage();
      if (shot.viewport) await page.setViewportSize(shot.viewport);
      page.on('console', (m) => {
        if (m.type() === 'error') {
          problems++;
          console.error(`  [${shot.name}] console error: ${m.text()}`);
        }
      });
      page.on('pageerror', (e) => {
        problems++;
        console.error(`  [${shot.name}] page error: ${e.message}`);
      });
      const url = new URL(shot.page ?? '', base);
      url.search = shot.query;
      await page.goto(url.href);
      await page.waitForFunction(() => document.body.dataset.status !== 'loading', null, { timeout: 20000 })
        .catch(() => {});
      await page.waitForTimeout(TRAIN_MS);
      if (shot.act) await shot.act(page);
      const file = join(outdir, `${shot.name}.png`);
      await page.screenshot({ path: file, fullPage: !shot.frame });
      const d = await page.evaluate(() => ({ ...document.body.dataset }));
      console.log(`${file}  status=${d.status} step=${d.step ?? '-'} train=${d.trainLoss ?? '-'}`);
      await page.close();
    }
  } finally {
    await context.close();
    await rm(userDataDir, { recursive: true, force: true });
    if (server) await server.close();
  }
  if (problems) {
    console.error(`${problems} console/page error(s)`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
