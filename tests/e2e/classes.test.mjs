// End-to-end tests of many classes and the reader's own data on the Playground: a five-arm spiral
// under cross-entropy (decision regions coloured by class), the 8×8 digits (confusion matrix and
// misclassified images), a CSV chosen on the page (it trains; the link says the data is not in
// it) and a bad file (its message shown, the run before it kept).
// Run from the repository root: node --test tests/e2e/classes.test.mjs (build first).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canvasStats, openPage, useSite, waitForStep } from './helpers.mjs';

/** A seeded CSV of three Gaussian classes in four dimensions, with a header and a text label. */
function threeClassCsv(rows = 240) {
  let s = 0x2545f491;
  const rand = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const names = ['setosa', 'versicolor', 'virginica'];
  const lines = ['sepal_length,sepal_width,petal_length,petal_width,species'];
  for (let i = 0; i < rows; i++) {
    const c = i % 3;
    const x = [0, 1, 2, 3].map((j) => (2 * c * (j % 2 === 0 ? 1 : -0.5) + 0.6 * normal()).toFixed(3));
    lines.push(`${x.join(',')},${names[c]}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('Many classes and your own data', () => {
  const site = useSite();
  const url = (query = '') => `${site.server.url}${query ? `?${query}` : ''}`;
  const report = (page) => page.evaluate(() => window.descent.lastReport);
  const setup = (page) => page.evaluate(() => window.descent.state.setup);

  async function chooseCsv(page, name, content) {
    await page.setInputFiles('#data-file', { name, mimeType: 'text/csv', buffer: Buffer.from(content) });
  }

  test('a five-arm spiral under cross-entropy: five outputs, regions coloured by class, accuracy above chance', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('dataset=arms&classes=5&loss=crossEntropy&width=128&depth=2&lr=2&nTrain=400&seed=3'));
    await waitForStep(page, 1);
    const s = await setup(page);
    assert.equal(s.outputs, 5, 'one output per class');
    assert.equal(s.classes, 5);
    assert.equal(s.loss, 'crossEntropy');
    assert.equal(await page.getAttribute('body', 'data-outputs'), '5');
    assert.equal(await page.locator('#class-legend .swatch').count(), 5, 'a swatch per class');
    assert.match(await page.textContent('#main-title'), /Decision regions/);
    assert.match(await page.textContent('#loss-caption'), /Cross-entropy/);
    // Chance is 1/5; a network of this size passes 60 % test accuracy within a few thousand steps.
    await page.waitForFunction(() => (window.descent.lastReport?.testAcc ?? 0) > 0.6, null, { timeout: 30000, polling: 200 });
    const r = await report(page);
    const total = r.confusion.reduce((a, b) => a + b, 0);
    assert.equal(r.confusion.length, 25, '5 × 5 confusion matrix');
    assert.equal(total, s.testY.length, 'every test point is counted once');
    let trace = 0;
    for (let c = 0; c < 5; c++) trace += r.confusion[6 * c];
    assert.ok(Math.abs(trace / total - r.testAcc) < 1e-9, `trace/n ${trace / total} equals the accuracy ${r.testAcc}`);
    await page.waitForTimeout(200);
    const heat = await canvasStats(page, '#plot-boundary');
    assert.ok(heat && heat.opaqueShare > 0.3, `regions drawn: ${JSON.stringify(heat)}`);
    assert.ok(await page.isVisible('#fig-confusion'), 'five classes show the confusion matrix');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the digits: ten classes, the confusion matrix and the misclassified test images', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('dataset=digits&loss=crossEntropy&width=64&lr=4&nTrain=512&seed=1'));
    await waitForStep(page, 50, 40000);
    const s = await setup(page);
    assert.equal(s.outputs, 10);
    assert.equal(s.inputDim, 64);
    assert.ok(s.testImages && s.testImages.length === 64 * s.testY.length, 'the test images come with the setup');
    assert.ok(await page.isVisible('#fig-confusion'));
    await page.waitForFunction(() => document.querySelectorAll('#plot-confusion td').length === 100, null, { timeout: 10000 });
    // Paused, the table and the report describe the same step.
    const at = (await report(page)).step;
    await page.evaluate(() => window.descent.step(1));
    await page.waitForFunction((k) => document.body.dataset.status === 'paused' && window.descent.lastReport.step > k, at, { timeout: 10000 });
    await page.waitForTimeout(300);
    const r = await report(page);
    const cells = await page.$$eval('#plot-confusion td', (tds) => tds.map((td) => Number(td.textContent)));
    assert.deepEqual(cells, r.confusion, 'the table shows the report’s counts');
    assert.ok(await page.isVisible('#fig-mistakes'));
    const shown = await page.locator('#plot-mistakes figure').count();
    assert.equal(shown, Math.min(24, r.misclassifiedCount), 'one image per misclassified test point, up to 24');
    if (shown > 0) {
      const caption = await page.textContent('#plot-mistakes figcaption');
      assert.match(caption, /^\d → \d$/);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a CSV chosen on the page trains; a bad file says why and keeps the run; a link says the data is not in it', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('width=32&seed=2'));
    await waitForStep(page, 1);
    assert.match(await page.textContent('#data-privacy'), /never sent anywhere/);

    await chooseCsv(page, 'flowers.csv', threeClassCsv());
    await page.waitForFunction(() => window.descent.state.setup?.dataHash && document.body.dataset.step > 5, null, { timeout: 20000 });
    const s = await setup(page);
    assert.equal(s.classes, 3);
    assert.deepEqual(s.classNames, ['setosa', 'versicolor', 'virginica']);
    assert.ok(s.projected, 'four inputs are drawn on their principal axes');
    assert.match(s.dataHash, /^fnv1a64:[0-9a-f]{16}$/);
    assert.match(page.url(), /dataset=table/);
    assert.match(await page.textContent('#data-status'), /flowers\.csv: 240 rows, 4 inputs, target “species” \(classification, 3 classes\)/);
    assert.match(await page.textContent('#main-caption'), /principal axes/);

    // A ragged file: its line is named, and the run on the good file goes on.
    const before = await report(page);
    await chooseCsv(page, 'ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    await page.waitForFunction(() => !document.getElementById('data-error').hidden, null, { timeout: 10000 });
    assert.match(await page.textContent('#data-error'), /ragged\.csv: line 3 has 2 fields.*The run shown is kept\./);
    assert.equal((await setup(page)).dataHash, s.dataHash, 'the run on the good file is the one shown');
    assert.match(await page.textContent('#data-status'), /^flowers\.csv: 240 rows/, 'the status names the file the run trains on');
    await page.waitForFunction((k) => window.descent.lastReport.step > k, before.step, { timeout: 10000 });

    // The copied link names what it cannot carry.
    await page.click('button:has-text("Copy link")');
    await page.waitForFunction(() => /not in the link/.test(document.getElementById('tool-status').textContent));

    // An empty file is refused before it is parsed.
    await chooseCsv(page, 'empty.csv', '');
    await page.waitForFunction(() => /empty/.test(document.getElementById('data-error').textContent));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a file dropped on the panel is read like a chosen one', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('width=32&seed=6&play=0'));
    await waitForStep(page, 0);
    const csv = threeClassCsv(60);
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.csv', { type: 'text/csv' }));
      const target = document.getElementById('own-data');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, csv);
    await page.waitForFunction(() => window.descent.state.setup?.dataHash, null, { timeout: 20000 });
    assert.match(await page.textContent('#data-status'), /^dropped\.csv: 60 rows, 4 inputs/);
    assert.equal((await setup(page)).classes, 3);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a link to a run on a file of its own says so and waits for the file', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('dataset=table&seed=4'));
    await page.waitForFunction(() => document.body.dataset.status === 'refused', null, { timeout: 20000 });
    assert.match(await page.textContent('#alert'), /not in the link/);
    assert.match(await page.textContent('#data-status'), /not in the link/);
    await page.setInputFiles('#data-file', { name: 'flowers.csv', mimeType: 'text/csv', buffer: Buffer.from(threeClassCsv(90)) });
    await page.waitForFunction(() => window.descent.state.setup?.classes === 3, null, { timeout: 20000 });
    assert.equal(await page.isVisible('#alert'), false, 'the refusal is gone once the file is chosen');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
