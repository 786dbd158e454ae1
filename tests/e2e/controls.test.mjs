// The training controls every live scene of SCENES shares (Playground, Lazy or rich, Step size,
// Weak labels): a visible Step button that takes exactly one step, paused, and one rule for Reset
// (Restart on the step-size page): back to step 0, keeping the play state: paused stays paused,
// running keeps running.
// Run from the repository root after building: node --test tests/e2e/controls.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { openPage, useSite } from './helpers.mjs';

// Every live scene of SCENES (a network that trains step by step), with a small fast setting and
// its reset button. Every scene page keeps its latest report, with the step, in
// window.descent.state.report.
const FAST = {
  playground: { query: 'dataset=circles&nTrain=64&width=32', reset: '#btn-reset' },
  lazy: { query: 'width=64&nTrain=32', reset: '#btn-reset' },
  step: { query: 'width=64', reset: '#btn-restart' },
  'weak-labels': { query: 'bag=4&instances=256&width=32', reset: '#btn-reset' },
};
const LIVE = Object.entries(SCENES).filter(([, s]) => s.live).map(([id, s]) => ({ id, name: s.title, page: s.page, ...FAST[id] }));
const OPTS = { timeout: 30000, polling: 'raf' };

describe('Training controls on every live scene', () => {
  const site = useSite();

  test('every live scene has a fast setting and a reset button here', () => {
    for (const scene of LIVE) assert.ok(scene.query && scene.reset, `FAST.${scene.id}`);
  });

  for (const scene of LIVE) {
    test(`${scene.name}: Step takes one step; Reset keeps paused paused and running running`, async () => {
      const { page, errors } = await openPage(site.browser.context);
      const step = () => page.evaluate(() => window.descent.state.report?.step);
      const status = () => page.evaluate(() => document.body.dataset.status);
      const stepIs = (n) => page.waitForFunction((k) => window.descent.state.report?.step === k, n, OPTS);

      await page.goto(`${site.server.url}${scene.page}?${scene.query}&play=0`);
      await page.waitForFunction(() => window.descent.state.report?.step === 0 && document.body.dataset.status === 'paused',
        null, { timeout: 60000 });

      // A visible Step button: one click, one step, still paused.
      assert.ok(await page.isVisible('#btn-step'), 'a Step button is shown');
      assert.equal((await page.textContent('#btn-step')).trim(), 'Step');
      await page.click('#btn-step');
      await stepIs(1);
      await page.click('#btn-step');
      await stepIs(2);
      assert.equal(await status(), 'paused');

      // Reset while paused: back to step 0, and it stays there.
      await page.click(scene.reset);
      await stepIs(0);
      await page.waitForTimeout(600);
      assert.equal(await step(), 0, 'paused stays paused after a reset');
      assert.equal(await status(), 'paused');
      assert.equal((await page.textContent('#btn-play .label')).trim(), 'Play');

      // Reset while running: back to the start, and it keeps running. Running, a new report can
      // replace the first ones after the reset within a frame: record the smallest step reported.
      await page.click('#btn-play');
      await page.waitForFunction(() => window.descent.state.report?.step >= 300, null, OPTS);
      await page.evaluate(() => {
        const { state } = window.descent;
        let report = state.report;
        window.minStepSeen = Infinity;
        Object.defineProperty(state, 'report', {
          configurable: true,
          get: () => report,
          set: (r) => {
            report = r;
            if (r) window.minStepSeen = Math.min(window.minStepSeen, r.step);
          },
        });
      });
      const before = await step();
      await page.click(scene.reset);
      await page.waitForFunction((b) => window.minStepSeen < Math.min(b, 20), before, OPTS);
      await page.waitForFunction(() => window.descent.state.report?.step >= 40, null, OPTS);
      assert.equal(await status(), 'playing', 'running keeps running after a reset');
      assert.equal((await page.textContent('#btn-play .label')).trim(), 'Pause');

      // The keyboard does what the buttons do: s pauses and steps once.
      await page.locator('body').press('s');
      await page.waitForFunction(() => document.body.dataset.status === 'paused', null, OPTS);
      await page.waitForTimeout(300);
      const held = await step();
      await page.locator('body').press('s');
      await stepIs(held + 1);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});
