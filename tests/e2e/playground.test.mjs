// End-to-end tests of the Playground page in headless Chromium, against the built site in dist/.
// Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canvasStats, openPage, setRange, setRanges, useSite, waitForStep } from './helpers.mjs';

const TRAIN_RGB = [0, 114, 178]; // --train / the train-loss and prediction line colour

describe('Playground', () => {
  const site = useSite();

  const url = (query = '') => `${site.server.url}${query ? `?${query}` : ''}`;

  test('loads, trains, and draws the loss and the decision boundary', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url());
    await waitForStep(page, 1);

    const first = await page.evaluate(() => window.descent.firstReport);
    assert.equal(first.step, 0, 'the first report is at step 0');
    assert.ok(Number.isFinite(first.trainLoss) && first.trainLoss > 0, `initial train loss ${first.trainLoss}`);

    // Train until the loss has fallen well below its starting value (or time out).
    await page.waitForFunction(
      (l0) => Number(document.body.dataset.trainLoss) < 0.7 * l0,
      first.trainLoss,
      { timeout: 15000, polling: 100 },
    );
    const last = await page.evaluate(() => window.descent.lastReport);
    assert.ok(last.step > first.step, 'training advanced');
    assert.ok(last.trainLoss < 0.7 * first.trainLoss, `train loss ${first.trainLoss} → ${last.trainLoss}`);
    assert.ok(last.trainAcc >= 0 && last.trainAcc <= 1, 'classification reports an accuracy');
    assert.equal(await page.getAttribute('body', 'data-task'), 'classification');

    // Numbers on the page agree with the report.
    const stepText = await page.textContent('#stat-step');
    assert.match(stepText, /^[\d,]+$/);
    assert.match(await page.textContent('#stat-backend'), /CPU · wasm/);
    assert.match(await page.textContent('#stat-params'), /^[\d,]+$/);

    // Both plots drew: the loss curve in its colour, the heatmap over most of the plot area.
    await page.waitForTimeout(150);
    const loss = await canvasStats(page, '#plot-loss', TRAIN_RGB);
    assert.ok(loss && loss.near > 50, `loss curve pixels: ${JSON.stringify(loss)}`);
    assert.ok(await page.isVisible('#plot-boundary'), 'the decision boundary plot is shown');
    assert.ok(!(await page.isVisible('#plot-fit')), 'the 1-D fit plot is hidden');
    const heat = await canvasStats(page, '#plot-boundary');
    assert.ok(heat && heat.opaqueShare > 0.3, `heatmap coverage: ${JSON.stringify(heat)}`);

    // Pause stops the step counter.
    await page.click('#btn-play');
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    await page.waitForTimeout(200);
    const s1 = await page.evaluate(() => window.descent.lastReport.step);
    await page.waitForTimeout(300);
    const s2 = await page.evaluate(() => window.descent.lastReport.step);
    assert.equal(s2, s1, 'paused training does not advance');

    // Step advances exactly one step.
    await page.click('#btn-step');
    await page.waitForFunction((s) => window.descent.lastReport.step === s + 1, s2, { timeout: 5000 });

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('moving the width slider rebuilds the network; the step-size slider does not', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url());
    await waitForStep(page, 1);
    const run0 = Number(await page.getAttribute('body', 'data-run-id'));
    const params0 = await page.evaluate(() => window.descent.state.setup.paramCount);

    // A third of the way along the width slider.
    const max = Number(await page.getAttribute('input[name="width"]', 'max'));
    await setRange(page, 'width', Math.round(max / 3));
    const width = Number((await page.textContent('[data-control="width"] output')).replace(/,/g, ''));
    assert.ok(width >= 1 && width < 128, `slider shows width ${width}`);
    await page.waitForFunction((r) => Number(document.body.dataset.runId) > r, run0, { timeout: 10000 });
    const setup = await page.evaluate(() => window.descent.state.setup);
    // One hidden layer on 2-D inputs: 2w weights + w biases in, w weights + 1 bias out.
    assert.equal(setup.paramCount, 4 * width + 1, `parameters for width ${width} (was ${params0})`);
    await page.waitForFunction(() => window.descent.state.status === 'playing' && window.descent.lastReport.step > 0);
    await page.waitForFunction((w) => new URLSearchParams(location.search).get('width') === String(w), width);

    // The step size applies to the running network: same run, training continues.
    const run1 = Number(await page.getAttribute('body', 'data-run-id'));
    const stepBefore = await page.evaluate(() => window.descent.lastReport.step);
    await setRange(page, 'lr', 40);
    const lrText = await page.textContent('[data-control="lr"] output');
    await page.waitForFunction((s) => window.descent.lastReport.step > s + 10, stepBefore, { timeout: 10000 });
    assert.equal(Number(await page.getAttribute('body', 'data-run-id')), run1, 'no new run for a step-size change');
    const lrUrl = await page.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return Number(new URLSearchParams(location.search).get('lr'));
    });
    assert.ok(Number.isFinite(lrUrl) && lrUrl < 0.5, `lr in the URL: ${lrUrl} (slider shows ${lrText})`);

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a huge step size diverges with a message and no NaN on the page', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('lr=100'));
    await page.waitForFunction(() => document.body.innerText.includes('diverged at step'), null, { timeout: 15000 });
    assert.equal(await page.getAttribute('body', 'data-status'), 'diverged');
    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(!/NaN/.test(text), 'no NaN in the page text');
    assert.ok(!/Infinity/.test(text), 'no Infinity in the page text');
    assert.match(await page.textContent('#alert'), /diverged at step \d+/);
    assert.equal((await page.textContent('#btn-play .label')).trim(), 'Play', 'training stopped');
    const r = await page.evaluate(() => window.descent.lastReport);
    assert.ok(r.diverged !== null, 'the report names the divergence step');
    for (const v of [r.trainLoss, r.testLoss]) assert.ok(v === null || Number.isFinite(v));

    // A smaller step size starts a fresh run that trains again.
    await setRange(page, 'lr', 60);
    await page.waitForFunction(() => document.body.dataset.status === 'playing' && window.descent.lastReport.step > 0,
      null, { timeout: 10000 });
    assert.equal(await page.isVisible('#alert'), false, 'the divergence message is cleared');

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the 1-D dataset shows the fit plot', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('dataset=sine'));
    await waitForStep(page, 1);
    assert.equal(await page.getAttribute('body', 'data-task'), 'regression');
    assert.ok(await page.isVisible('#plot-fit'), 'fit plot shown');
    assert.ok(!(await page.isVisible('#plot-boundary')), 'boundary plot hidden');
    assert.equal(await page.textContent('#main-title'), 'Fitted function');
    const legend = await page.textContent('#plot-fit .u-legend');
    for (const word of ['network', 'target', 'training points', 'test points']) assert.ok(legend.includes(word), word);
    await page.waitForFunction(() => window.descent.lastReport.step > 20);
    await page.waitForTimeout(200);
    const fit = await canvasStats(page, '#plot-fit', TRAIN_RGB);
    assert.ok(fit && fit.near > 50, `prediction line pixels: ${JSON.stringify(fit)}`);
    assert.ok(!(await page.isVisible('#m-train-acc')), 'no accuracy for regression');
    assert.deepEqual(errors, []);
    await page.close();
  });

  /** Where the loss plot draws step `x`, as a share of its plotting width (0: left edge). */
  const xShare = (page, x) => page.evaluate((step) => {
    const u = window.descent.shell.opts.plots().find((p) => p.id === 'loss').plot.u;
    return u.valToPos(step, 'x') / u.bbox.width * devicePixelRatio;
  }, x);

  test('the catapult preset keeps every early step and shows its spike on a log step axis', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('preset=catapult'));
    // Well past the spike: on a linear axis the first steps are then a pixel wide.
    await waitForStep(page, 3000, 60000);
    assert.equal(await page.isChecked('#loss-logx'), true, 'the preset switches on the log step axis');
    assert.equal(await page.evaluate(() => window.descent.shell.opts.plots().find((p) => p.id === 'loss').plot.logX), true);
    await page.waitForFunction(() => /logx=1/.test(location.search));
    const h = await page.evaluate(() => {
      const { step, train } = window.descent.history;
      return { step: step.slice(0, 60), train: train.slice(0, 60) };
    });
    // Every one of the first steps is in the history, one point each.
    assert.deepEqual(h.step, Array.from({ length: 60 }, (_, i) => i));
    // The spike: the loss rises over the first steps to many times its start, then falls below it.
    const peak = Math.max(...h.train.slice(0, 20));
    const at = h.train.indexOf(peak);
    assert.ok(peak > 5 * h.train[0], `peak ${peak} against the start ${h.train[0]}`);
    assert.ok(at >= 2 && at <= 10, `the spike is at step ${at}`);
    assert.ok(h.train[59] < h.train[0], `settles: ${h.train[59]} at step 59`);
    // Drawn where it can be seen: the peak's step lies inside the plot, not at its left edge (on a
    // linear axis over 3,000 steps it would be at 0.1 % of the width; on the log axis it is at
    // log(at)/log(last step), 8 % or more up to 100k steps).
    const share = await xShare(page, at);
    assert.ok(share > 0.05 && share < 0.6, `the spike is drawn at ${(100 * share).toFixed(1)} % of the plot width`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('presenter mode puts the loss plot of the catapult preset on screen at 1280 × 900', async () => {
    const { page, errors } = await openPage(site.browser.context);
    assert.deepEqual(page.viewportSize(), { width: 1280, height: 900 });
    await page.goto(url('preset=catapult&present'));
    await page.waitForFunction(() => document.body.dataset.status === 'paused', null, { timeout: 30000 });
    await page.keyboard.press('Space'); // presenter mode starts paused
    await waitForStep(page, 500, 60000);
    await page.waitForTimeout(300);
    const r = await page.evaluate(() => {
      const box = (id) => document.getElementById(id).getBoundingClientRect();
      return { loss: box('plot-loss').toJSON(), main: box('fig-main').toJSON(), h: innerHeight, w: innerWidth };
    });
    assert.ok(r.loss.top >= 0 && r.loss.bottom <= r.h && r.loss.height > 200, `loss plot at ${JSON.stringify(r.loss)} in ${r.w}×${r.h}`);
    assert.ok(r.loss.top < r.main.top, 'the figure of the preset comes first');
    assert.ok(await xShare(page, 3) > 0.05, 'the spike is drawn inside the plot');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('says when the loss has stopped moving, and not before', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const converged = () => page.evaluate(() => ({
      at: document.body.dataset.converged ?? '',
      shown: document.querySelector('#stat-converged').textContent,
      note: document.querySelector('#converged-note').hidden ? null : document.querySelector('#converged-note').textContent,
      step: window.descent.lastReport?.step,
    }));
    // The default network keeps improving for a long time: no claim while its loss still falls.
    await page.goto(url());
    await waitForStep(page, 20000, 60000);
    let c = await converged();
    assert.equal(c.at, '', `default run at step ${c.step}`);
    assert.equal(c.shown, 'not yet');
    assert.equal(c.note, null);

    // Two hidden units cannot fit the circles: the loss settles within some thousand steps.
    // Paused at the start (a playing run can pass the first thousand steps between two polls).
    await page.goto(url('width=2&play=0'));
    await waitForStep(page, 0);
    await page.click('#btn-step');
    await waitForStep(page, 1);
    c = await converged();
    assert.equal(c.at, '', 'not in the first steps');
    assert.equal(c.shown, 'not yet');
    await page.click('#btn-play');
    await page.waitForFunction(() => document.body.dataset.converged, null, { timeout: 60000, polling: 100 });
    c = await converged();
    const k = Number(c.at);
    assert.ok(k >= 1000, `converged at step ${k}`);
    assert.equal(c.shown, `at step ${k.toLocaleString('en-US')}`);
    assert.match(c.note, /^Converged at step [\d,]+: over the last half of training \(steps [\d,]+ to [\d,]+\) the train loss changed by less than 0\.1 %\.$/);
    // The claim holds on the history the page drew: over steps s/2..s (from the last point at or
    // before s/2) the train loss stayed within 0.1 % of its last value.
    const { step, train } = await page.evaluate(() => window.descent.history);
    const s = step.at(-1);
    let from = step.length - 1;
    while (from > 0 && step[from] > s / 2) from--;
    const window = train.slice(from);
    const spread = Math.max(...window.map((v) => Math.abs(v - train.at(-1))));
    assert.ok(spread <= 1e-3 * train.at(-1), `spread ${spread} against ${train.at(-1)}`);
    assert.ok(train.at(-1) < 0.9 * train[0]);

    // A diverged run never shows it.
    await page.goto(url('lr=100'));
    await page.waitForFunction(() => document.body.dataset.status === 'diverged', null, { timeout: 15000 });
    c = await converged();
    assert.equal(c.at, '');
    assert.equal(c.shown, '—');
    assert.equal(c.note, null);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('URL settings are parsed strictly and a refused network keeps the page usable', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('width=abc&depth=99&lr=1e9&initScale=0.5&dataset=%3Cb%3Eevil%3C%2Fb%3E&seed=12&bogus=%3Cimg%3E'));
    await waitForStep(page, 0);
    const out = (n) => page.textContent(`[data-control="${n}"] output`);
    assert.equal(await out('width'), '128', 'non-number dropped: default width');
    assert.equal(await out('depth'), '4', 'out of range clamped: depth 4');
    assert.equal(await out('lr'), '1,000', 'lr clamped to the largest step size the engine takes');
    assert.equal(await out('initScale'), '0.5');
    assert.equal(await page.inputValue('select[name="dataset"]'), 'circles', 'unknown dataset dropped');
    assert.equal(await page.inputValue('input[name="seed"]'), '12');
    assert.equal(await page.locator('b, img').count(), 0, 'URL text is never markup');
    await page.waitForFunction(() => {
      const q = new URLSearchParams(location.search);
      return q.get('depth') === '4' && !q.has('bogus') && q.get('seed') === '12';
    });

    // The largest network on the largest data set: if the engine refuses it (its memory limit),
    // the page says so in words and keeps the last run's plots and numbers.
    await page.goto(url('width=1024&nTrain=256&play=0'));
    await waitForStep(page, 0);
    const run0 = Number(await page.getAttribute('body', 'data-run-id'));
    await setRanges(page, { width: 1e6, depth: 4, nTrain: 1e6 });
    await page.waitForFunction(
      (r) => document.body.dataset.status === 'refused' || Number(document.body.dataset.runId) > r,
      run0, { timeout: 30000 },
    );
    // 4 hidden layers of width 4096 on 2048 points need about 621 MB, over the 512 MiB limit.
    assert.equal(await page.getAttribute('body', 'data-status'), 'refused');
    const alert = await page.textContent('#alert');
    assert.match(alert, /refused/);
    assert.match(alert, /would need about [\d.]+ MB of memory/);
    assert.equal(Number(await page.getAttribute('body', 'data-run-id')), run0, 'the shown run is unchanged');
    const heat = await canvasStats(page, '#plot-boundary');
    assert.ok(heat && heat.opaqueShare > 0.3, 'the previous decision boundary stays drawn');
    assert.ok(await page.isDisabled('#btn-play'), 'nothing to play until the setting changes');
    // Back to a size the engine accepts.
    await setRange(page, 'depth', 1);
    await page.waitForFunction((r) => Number(document.body.dataset.runId) > r && document.body.dataset.status === 'paused',
      run0, { timeout: 15000 });
    assert.equal(await page.isVisible('#alert'), false, 'the refusal message is cleared');

    assert.deepEqual(errors, []);
    await page.close();
  });
});
