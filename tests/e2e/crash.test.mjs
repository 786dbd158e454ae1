// End-to-end tests of a worker whose engine dies, in headless Chromium, against the crash-test
// site (bash scripts/build.sh --crash-test writes target/dist-crash/): its engine exports
// debugPanic(), which the pages reach through window.descent.debugPanic(where). A release build
// aborts on a panic (a WebAssembly trap), as it does when the tab runs out of memory: the page
// must say so in words, keep its settings, and start a fresh engine on "Restart the engine".
// Run from the repository root: node --test tests/e2e/crash.test.mjs

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DIST, DIST_CRASH, openPage, useSite } from './helpers.mjs';

const SCREENSHOTS = join(DIST_CRASH, '..', 'screenshots');

test('the site in dist/ has no debugPanic; the crash-test site has it', () => {
  const release = readFileSync(join(DIST, 'pkg', 'descent.js'), 'utf8');
  assert.doesNotMatch(release, /debugPanic/);
  const crash = readFileSync(join(DIST_CRASH, 'pkg', 'descent.js'), 'utf8');
  assert.match(crash, /export function debugPanic\(/);
});

describe('a dead engine', () => {
  const site = useSite([], { dir: DIST_CRASH });

  const status = (page) => page.evaluate(() => document.body.dataset.status);
  const step = (page) => page.evaluate(() => Number(document.body.dataset.step ?? -1));
  /** The settings the page holds: every control's value and the URL. */
  const settings = (page) => page.evaluate(() => ({ values: { ...window.descent.state.values }, url: location.href }));

  /**
   * On a live page that trains (`path`): waits for `steps` steps, kills the run's engine, checks
   * the crashed state (the alert in words, status 'crashed', the settings as they were, training
   * stopped), then restarts and checks that the same settings train again. `screenshot`: a file
   * name for a picture of the crashed page.
   */
  async function crashAndRestart(path, { steps = 20, screenshot = null } = {}) {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}${path}`);
    await page.waitForFunction((s) => document.body.dataset.status === 'playing' && Number(document.body.dataset.step) >= s,
      steps, { timeout: 60000, polling: 50 });
    const before = await settings(page);
    const runId = await page.evaluate(() => window.descent.state.runId);

    await page.evaluate(() => window.descent.debugPanic('run'));
    await page.waitForFunction(() => document.body.dataset.status === 'crashed', null, { timeout: 10000 });
    const alert = page.locator('#alert');
    assert.ok(await alert.isVisible(), 'the alert is shown');
    const text = await alert.textContent();
    assert.match(text, /^The training engine stopped unexpectedly \(unreachable\)\. This happens when the engine fails, or when the tab runs out of memory\. Your settings are kept\./);
    assert.doesNotMatch(text, /NaN|Infinity|undefined/);
    const restart = page.getByRole('button', { name: 'Restart the engine' });
    assert.ok(await restart.isVisible());
    // Training has stopped; nothing else on the page changed: the same controls, the same URL.
    assert.ok(await page.isDisabled('#btn-play'), 'Play waits for the restart');
    const stoppedAt = await step(page);
    await page.waitForTimeout(600);
    assert.equal(await step(page), stoppedAt, 'no step after the crash');
    assert.equal(await status(page), 'crashed');
    assert.deepEqual(await settings(page), before);
    if (screenshot) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, screenshot) });
    }

    await restart.click();
    // A fresh worker builds a new run of the same settings and trains it, as before the crash.
    await page.waitForFunction(
      ([id, s]) => window.descent.state.shownRunId > id && document.body.dataset.status === 'playing'
        && Number(document.body.dataset.step) >= s,
      [runId, steps], { timeout: 60000, polling: 50 },
    );
    assert.ok(await alert.isHidden(), 'the alert is gone');
    assert.deepEqual(await settings(page), before);
    assert.ok(await page.isEnabled('#btn-play'));
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  }

  test('Playground: the page says so, keeps its settings and restarts the same run', async () => {
    await crashAndRestart('index.html?dataset=circles&width=24&lr=0.05&seed=7', { screenshot: 'playground-crashed.png' });
  });

  test('Playground, paused: a setting changed while the engine is dead is the one the restart builds; it stays paused', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}index.html?play=0&seed=9`);
    await page.waitForFunction(() => document.body.dataset.status === 'paused' && document.body.dataset.step === '0');
    await page.evaluate(() => window.descent.step(5));
    await page.waitForFunction(() => document.body.dataset.step === '5');
    const runId = await page.evaluate(() => window.descent.state.runId);

    // Paused, no engine call comes: the armed panic fires on its own (worker-core.js).
    await page.evaluate(() => window.descent.debugPanic('run'));
    await page.waitForFunction(() => document.body.dataset.status === 'crashed', null, { timeout: 10000 });
    // The controls stay usable; a change goes to the URL and waits for the restart.
    const other = await page.evaluate(() => {
      const select = document.querySelector('select[name="activation"]');
      return [...select.options].map((o) => o.value).find((v) => v !== select.value);
    });
    await page.selectOption('select[name="activation"]', other);
    assert.equal(await status(page), 'crashed');
    assert.equal(new URL(page.url()).searchParams.get('activation'), other);

    await page.getByRole('button', { name: 'Restart the engine' }).click();
    await page.waitForFunction((id) => window.descent.state.shownRunId > id && document.body.dataset.status === 'paused',
      runId, { timeout: 60000, polling: 50 });
    const after = await page.evaluate(() => ({ values: window.descent.state.values, step: document.body.dataset.step }));
    assert.equal(after.values.activation, other);
    assert.equal(after.values.seed, 9);
    assert.equal(after.step, '0', 'a new run of the settings, paused as before');
    await page.waitForTimeout(500);
    assert.equal(await step(page), 0, 'it stays paused');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Step size: the page says so, keeps its settings and restarts the same run', async () => {
    await crashAndRestart('step.html?lrMultiple=0.9&seed=3&width=512', { steps: 10 });
  });

  test('an embed shows the message and restarts', async () => {
    await crashAndRestart('index.html?embed=1&play=1&seed=5', { screenshot: 'embed-crashed.png' });
  });

  test('Double descent: the seed workers\' engines die; the page says so and restarts the sweep', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}double-descent.html?seed=4`);
    const done = () => page.waitForFunction(() => document.body.dataset.status === 'done' && window.descent.pooled != null,
      null, { timeout: 120000, polling: 100 });
    await done();
    const before = await settings(page);
    const runId = await page.evaluate(() => window.descent.state.runId);

    await page.evaluate(() => window.descent.debugPanic());
    await page.waitForFunction(() => document.body.dataset.status === 'crashed', null, { timeout: 10000 });
    const text = await page.textContent('#alert');
    assert.match(text, /^The engine stopped unexpectedly \(unreachable\)\. .*Your settings are kept\./);
    assert.deepEqual(await settings(page), before);

    await page.getByRole('button', { name: 'Restart the engine' }).click();
    await page.waitForFunction((id) => window.descent.state.runId > id, runId, { timeout: 30000 });
    await done();
    assert.deepEqual(await settings(page), before);
    assert.ok(await page.locator('#alert').isHidden());
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a phase diagram whose engine dies says so, and starts again on a fresh one', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}step.html?play=0`);
    await page.waitForFunction(() => window.descent.report != null && document.body.dataset.status === 'paused');

    /** Starts a diagram on `workers` (null: the pool) and kills `where`'s engine once a column is in. */
    const crashDiagram = async (workers, where) => {
      await page.evaluate((w) => { window.descent.phase.workers = w; }, workers);
      await page.click('#btn-phase');
      await page.waitForFunction(() => (window.descent.phase.progress?.done ?? 0) >= 1, null, { timeout: 60000, polling: 20 });
      await page.evaluate((w) => window.descent.debugPanic(w), where);
      await page.waitForFunction(() => document.body.dataset.phase === 'failed', null, { timeout: 20000, polling: 20 });
      const text = await page.textContent('#phase-status');
      assert.match(text, /engine stopped unexpectedly \(unreachable\)\..*Start it again to use a fresh engine\./, text);
      assert.doesNotMatch(text, /NaN|Infinity|undefined/);
      // Only the diagram's engine died: the live run's page goes on as it was.
      assert.equal(await status(page), 'paused');
      assert.ok(await page.isVisible('#btn-phase'), 'the diagram can be started again');
    };
    const finish = async () => {
      await page.click('#btn-phase');
      await page.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 180000, polling: 200 });
      const r = await page.evaluate(() => window.descent.phase.report.regime);
      assert.equal(r.length, 9 * 13);
      assert.ok(r.every((c) => c != null), 'every cell is filled');
    };

    // The diagram in its own task worker: that worker's engine dies in a slice.
    await crashDiagram(1, 'task');
    await finish();
    // Spread over a pool: a pool worker's engine dies in a job; the task's worker reports it.
    await crashDiagram(null, 'pool');
    await finish();
    assert.deepEqual(errors, []);
    await page.close();
  });
});
