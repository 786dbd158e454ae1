// End-to-end test of the weak-labels page on the reader's own data, in headless Chromium against
// the built site in dist/: a link to a run on a file says the file is not in it; a CSV chosen in
// the own-data panel is read in the page, the live run trains on bags of its rows, the mean map's
// curve and the bag-size sweep run on it over the pool, its two inputs draw decision regions; a
// regression file is refused, naming why.
// Run from the repository root: node --test tests/e2e/weak-own-data.test.mjs   (build first)

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { canvasStats, openPage, useSite } from './helpers.mjs';

/** A seeded CSV of three Gaussian cell types in two measurements, a header and a text class. */
function cellsCsv(rows = 400) {
  let s = 0x9e3779b9;
  const rand = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const names = ['neutrophil', 'lymphocyte', 'monocyte'];
  const centres = [[0, 0], [3, 0], [1.5, 2.6]];
  const lines = ['size,granularity,cell'];
  for (let i = 0; i < rows; i++) {
    const u = rand();
    const c = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
    const x = centres[c].map((m) => (m + 0.6 * normal()).toFixed(3));
    lines.push(`${x.join(',')},${names[c]}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('Weak labels on your own data', () => {
  const site = useSite();
  const url = (query = '') => `${site.server.url}weak-labels.html${query ? `?${query}` : ''}`;

  test('a CSV chosen in the page: the scene trains on bags of its rows and the sweep runs', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('data=table&play=0&seeds=1&steps=100&width=32&lr=4&bag=8'));
    // A link holds no file: the run is refused with what to do, and the panel is there.
    await page.waitForFunction(() => document.body.dataset.status === 'refused', null, { timeout: 60000 });
    assert.match(await page.textContent('#alert'), /not in the link/);
    assert.equal(await page.isVisible('#own-data'), true);
    assert.match(await page.textContent('#data-privacy'), /read in this browser only.*does not hold the data/s);

    await page.setInputFiles('#data-file', { name: 'cells.csv', mimeType: 'text/csv', buffer: Buffer.from(cellsCsv()) });
    await page.waitForFunction(() => window.descent.setup?.proportions?.classes === 3, null, { timeout: 60000 });
    assert.match(await page.textContent('#data-status'), /cells\.csv: 400 rows, 2 inputs, target “cell” \(classification, 3 classes\)/);
    const setup = await page.evaluate(() => window.descent.setup);
    assert.deepEqual(setup.names, ['lymphocyte', 'monocyte', 'neutrophil'], 'classes in sorted order');
    // 400 rows at the test share 0.2: 320 in the pool, bags of 8.
    assert.equal(setup.proportions.bags, 40);
    assert.ok(setup.gridSpec, 'two inputs: decision regions');
    // The link holds the settings, not the file.
    assert.match(page.url(), /data=table/);
    assert.doesNotMatch(page.url(), /neutrophil|granularity/);

    await page.click('#btn-play');
    await page.waitForFunction(() => window.descent.report?.step >= 200, null, { timeout: 60000, polling: 100 });
    const r = await page.evaluate(() => window.descent.report);
    assert.ok(r.testAccuracy > 0.8, `test accuracy ${r.testAccuracy}`);
    assert.equal(await page.isVisible('#plot-boundary'), true);
    assert.ok((await canvasStats(page, '#plot-boundary')).opaqueShare > 0.2);
    await page.click('#btn-play'); // pause

    // The mean map's curve and the sweep on the file, over the pool.
    await page.waitForFunction(() => document.body.dataset.curve === 'ready', null, { timeout: 30000 });
    const curve = await page.evaluate(() => window.descent.curve);
    assert.deepEqual(curve.bags, [1, 2, 4, 8, 16, 32, 64, 128, 256], 'the 320 training rows');
    await page.click('#btn-sweep');
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset.sweep), null, { timeout: 180000, polling: 200 });
    assert.equal(await page.evaluate(() => document.body.dataset.sweep), 'done', await page.textContent('#sweep-status'));
    const sw = await page.evaluate(() => ({ cells: window.descent.sweep.cells, references: window.descent.sweep.references }));
    for (const row of sw.cells) for (const cell of row) assert.ok(Number.isFinite(cell.dllp), JSON.stringify(cell));
    assert.ok(sw.cells[0][0].dllp > 0.8, `bags of one: ${sw.cells[0][0].dllp}`);
    assert.ok(sw.references[0].ceiling > sw.references[0].floor);
    await page.waitForTimeout(300);
    mkdirSync('/work/notes/shots18', { recursive: true });
    await page.screenshot({ path: '/work/notes/shots18/own-data-weak.png', fullPage: true });
    await page.locator('#own-data').scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/work/notes/shots18/own-data-weak-panel.png' });

    // A regression file is read, and the scene refuses it, naming why; the run shown stays.
    const values = Array.from({ length: 60 }, (_, i) => `${i},${i % 7},${(i * 0.37).toFixed(2)}`);
    await page.setInputFiles('#data-file', { name: 'values.csv', mimeType: 'text/csv', buffer: Buffer.from(`a,b,y\n${values.join('\n')}\n`) });
    await page.waitForFunction(() => document.body.dataset.status === 'refused', null, { timeout: 30000 });
    assert.match(await page.textContent('#alert'), /regression/);
    await page.screenshot({ path: '/work/notes/shots18/own-data-weak-refused.png' });

    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
