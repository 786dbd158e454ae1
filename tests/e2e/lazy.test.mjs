// End-to-end tests of the lazy-or-rich page in headless Chromium, against the built site in dist/.
// Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canvasStats, openPage, setRange, startBrowser, startServer, waitForStep } from './helpers.mjs';

// Series colours (plots.js MODEL_STYLES and the lazy measures in lazy.js).
const RGB = {
  network: [0, 114, 178],
  linearized: [213, 94, 0],
  ntk: [0, 158, 115],
  weightChange: [123, 50, 148],
  kernelDistance: [199, 124, 0],
};

describe('Lazy or rich', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const url = (query = '') => `${server.url}lazy.html${query ? `?${query}` : ''}`;

  /** Opens the page paused, advances exactly `steps` steps, and returns the report there. */
  async function reportAt(page, query, steps) {
    await page.goto(url(`${query}&play=0`));
    await waitForStep(page, 0);
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    await page.evaluate((n) => window.descent.step(n), steps);
    await page.waitForFunction((n) => window.descent.lastReport?.step === n, steps, { timeout: 15000, polling: 50 });
    return page.evaluate(() => window.descent.lastReport);
  }

  test('loads, trains, and draws the four fits, the losses, the lazy measures and the NTK', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.goto(url());
    await waitForStep(page, 1);

    // The page's defaults are the engine's.
    const { info, controls } = await page.evaluate(() => ({
      info: window.descent.state.info.defaults,
      controls: Object.fromEntries(window.descent.controls.map((c) => [c.name, c.default])),
    }));
    for (const [name, value] of Object.entries(controls)) {
      assert.equal(value, info[name], `default of ${name}: page ${value}, engine ${info[name]}`);
    }

    const first = await page.evaluate(() => window.descent.firstReport);
    assert.equal(first.step, 0);
    for (const m of ['network', 'linearized', 'ntk', 'krr']) {
      assert.ok(Number.isFinite(first[m].testLoss) && first[m].testLoss > 0, `${m} test loss at step 0: ${first[m].testLoss}`);
    }
    assert.equal(await page.getAttribute('body', 'data-task'), 'regression');

    // Train until the network's loss has fallen and the lazy measures have moved.
    await page.waitForFunction((l0) => {
      const r = window.descent.lastReport;
      return r.network.testLoss < 0.5 * l0 && r.weightChange > 0 && r.kernelDistance > 0 && window.descent.state.gram;
    }, first.network.testLoss, { timeout: 15000, polling: 100 });
    await page.waitForTimeout(200);

    const legend = await page.textContent('#plot-fit .u-legend');
    for (const word of ['network', 'linearised', 'NTK', 'kernel regression', 'training points']) assert.ok(legend.includes(word), word);
    for (const m of ['network', 'linearized', 'ntk']) {
      const fit = await canvasStats(page, '#plot-fit', RGB[m], 30);
      assert.ok(fit && fit.near > 40, `${m} line in the fit plot: ${JSON.stringify(fit)}`);
      const loss = await canvasStats(page, '#plot-loss', RGB[m], 30);
      assert.ok(loss && loss.near > 40, `${m} curve in the loss plot: ${JSON.stringify(loss)}`);
    }
    for (const m of ['weightChange', 'kernelDistance']) {
      const lazy = await canvasStats(page, '#plot-lazy', RGB[m], 30);
      assert.ok(lazy && lazy.near > 40, `${m} curve: ${JSON.stringify(lazy)}`);
    }
    const gram = await canvasStats(page, '#plot-gram-now');
    assert.ok(gram && gram.opaqueShare > 0.3, `Gram heatmap: ${JSON.stringify(gram)}`);
    const spectrum = await canvasStats(page, '#plot-spectrum', RGB.network, 30);
    assert.ok(spectrum && spectrum.near > 40, `spectrum points: ${JSON.stringify(spectrum)}`);
    assert.match(await page.textContent('#m-weight-change'), /^[\d.e-]+$/);

    // The ridge moves only kernel regression, on the running network (no new run).
    const run = Number(await page.getAttribute('body', 'data-run-id'));
    const krr0 = await page.evaluate(() => window.descent.lastReport.krr.testLoss);
    await setRange(page, 'ridge', 71); // the largest ridge
    await page.waitForFunction((k) => Math.abs(window.descent.lastReport.krr.testLoss - k) > 1e-3 * k, krr0, { timeout: 5000 });
    assert.equal(Number(await page.getAttribute('body', 'data-run-id')), run, 'no new run for a ridge change');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('ridge') === '10');

    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(!/NaN|Infinity/.test(text), 'no NaN or Infinity in the page text');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('wide networks stay close to their linearisation; narrow ones with small α leave it', async () => {
    const { page, errors } = await openPage(browser.context);
    const gap = (r) => Math.abs(r.linearized.testLoss - r.network.testLoss) / r.network.testLoss;

    const lazy = await reportAt(page, 'width=2048', 200);
    const rich = await reportAt(page, 'width=16&alpha=0.1', 200);
    assert.ok(gap(lazy) < 0.1, `width 2048: network ${lazy.network.testLoss}, linearised ${lazy.linearized.testLoss}`);
    assert.ok(gap(rich) > 0.3 && gap(rich) > 5 * gap(lazy),
      `width 16, α = 0.1: network ${rich.network.testLoss}, linearised ${rich.linearized.testLoss}`);
    assert.ok(lazy.weightChange < 0.1 && rich.weightChange > 0.5, `weight change ${lazy.weightChange} vs ${rich.weightChange}`);
    assert.ok(rich.kernelDistance > 10 * lazy.kernelDistance, `kernel distance ${lazy.kernelDistance} vs ${rich.kernelDistance}`);

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the width sweep runs, prints slopes, and Cancel stops it', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.goto(url('play=0'));
    await waitForStep(page, 0);

    await page.selectOption('#sweep-max', '256');
    await page.selectOption('#sweep-steps', '100');
    await page.click('#btn-sweep');
    assert.ok(await page.isVisible('#btn-sweep-cancel'), 'Cancel is offered while sweeping');
    await page.waitForFunction(() => document.body.dataset.sweep === 'finished', null, { timeout: 20000, polling: 100 });
    const sweep = await page.evaluate(() => window.descent.sweep);
    assert.deepEqual(sweep.points.map((p) => p.width), [16, 32, 64, 128, 256]);
    assert.ok(sweep.points.every((p) => p.weightChange > 0 && p.kernelDistance > 0));
    assert.ok(Number.isFinite(sweep.slopes.weightChange), `slopes ${JSON.stringify(sweep.slopes)}`);
    assert.match(await page.textContent('#sweep-slopes'), /weight change slope −?\d\.\d\d, kernel distance slope −?\d\.\d\d/);
    assert.equal(await page.getAttribute('#sweep-bar', 'value'), '5');
    const points = await canvasStats(page, '#plot-sweep', RGB.weightChange, 30);
    assert.ok(points && points.near > 40, `sweep points: ${JSON.stringify(points)}`);
    assert.ok(!(await page.isVisible('#btn-sweep-cancel')), 'no Cancel once done');

    // A long sweep, cancelled after its first width: nothing more arrives.
    await page.selectOption('#sweep-max', '4096');
    await page.selectOption('#sweep-steps', '1000');
    await page.click('#btn-sweep');
    await page.waitForFunction(() => window.descent.sweep.points.length >= 1, null, { timeout: 20000, polling: 50 });
    await page.click('#btn-sweep-cancel');
    assert.equal(await page.getAttribute('body', 'data-sweep'), 'cancelled');
    const done = await page.evaluate(() => window.descent.sweep.points.length);
    assert.match(await page.textContent('#sweep-status'), /Cancelled after \d+ of 9 widths/);
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.descent.sweep.points.length), done, 'no width after Cancel');
    assert.ok(await page.isEnabled('#btn-sweep'), 'a new sweep can start');

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('2-D data shows four decision boundaries; a huge step size diverges in words', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.goto(url('dataset=circles&width=64'));
    await waitForStep(page, 20);
    await page.waitForTimeout(300);
    assert.equal(await page.getAttribute('body', 'data-task'), 'classification');
    assert.ok(!(await page.isVisible('#plot-fit')), '1-D fit hidden');
    for (const m of ['network', 'linearized', 'ntk', 'krr']) {
      const heat = await canvasStats(page, `#plot-boundary-${m}`);
      assert.ok(heat && heat.opaqueShare > 0.3, `${m} boundary: ${JSON.stringify(heat)}`);
    }
    assert.match(await page.textContent('#m-network-sub'), /accuracy \d+\.\d %/);

    await page.goto(url('lr=100'));
    await page.waitForFunction(() => document.body.dataset.status === 'diverged', null, { timeout: 15000 });
    assert.match(await page.textContent('#alert'), /diverged at step \d+/);
    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(!/NaN|Infinity/.test(text), 'no NaN or Infinity in the page text');
    assert.equal((await page.textContent('#btn-play .label')).trim(), 'Play', 'training stopped');

    assert.deepEqual(errors, []);
    await page.close();
  });
});
