// End-to-end tests of pinned runs (www/js/core/pins.js) on every scene that trains: a pin keeps
// the curves on screen as a labelled ghost in the same plots, survives a new run, a preset, a
// setting and a reset, is removed on its own or with "Clear pins", is never in the URL, and goes
// into the exports. Run from the repository root: node --test tests/e2e/pins.test.mjs (build first).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { openPage, setRange, useSite } from './helpers.mjs';

describe('Pinned runs', () => {
  const site = useSite();

  const url = (page, query = '') => `${site.server.url}${page}${query ? `?${query}` : ''}`;

  /** Clicks `button` and returns the downloaded file's text. */
  async function downloadOf(page, button) {
    const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
    return (await readFile(await dl.path())).toString('utf8');
  }

  /**
   * What plots `ids` show now (each plot's x column and live series, as plain numbers), read in
   * the same task as the click on "Pin run" (nothing is drawn in between).
   */
  function pinNow(page, ids) {
    return page.evaluate((list) => {
      const plain = (c) => Array.from(c, (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v)));
      const plots = window.descent.shell.opts.plots();
      const shown = {};
      for (const id of list) shown[id] = plots.find((p) => p.id === id).plot.last.map(plain);
      document.getElementById('btn-pin').click();
      return shown;
    }, ids);
  }

  /** The ghosts of plot `id` (label, xs, ys), its chart's series labels and its live data. */
  function plotState(page, id) {
    return page.evaluate((which) => {
      const plain = (c) => Array.from(c, (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v)));
      const plot = window.descent.shell.opts.plots().find((p) => p.id === which).plot;
      return {
        ghosts: plot.ghosts.map((g) => ({ label: g.label, column: g.column, xs: plain(g.xs), ys: plain(g.ys) })),
        legend: [...plot.container.querySelectorAll('.u-legend .u-series')].filter((e) => e.offsetParent).map((e) => e.textContent),
        series: plot.u.series.map((s) => s.label),
        last: plot.last.map(plain),
      };
    }, id);
  }

  const pinLabels = (page) => page.evaluate(() => window.descent.shell.pins.list.map((p) => p.label));

  /** Advances a paused run by `n` steps and waits until they are shown. */
  async function stepBy(page, n) {
    const from = await page.evaluate(() => window.descent.state.report?.step ?? 0);
    await page.evaluate((k) => window.descent.step(k), n);
    await page.waitForFunction((s) => (window.descent.state.report?.step ?? -1) >= s, from + n, { timeout: 30000, polling: 50 });
    // One more frame: the plots draw at the next animation frame after a report.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }

  /** Waits for a new run (a shown run id above `runId`) at step 0. */
  async function newRun(page, runId) {
    await page.waitForFunction((id) => window.descent.state.shownRunId > id && window.descent.state.report?.step === 0
      && document.body.dataset.status === 'paused', runId, { timeout: 30000, polling: 50 });
  }

  const runId = (page) => page.evaluate(() => window.descent.state.shownRunId);

  test('step size: two pins, their exports, a removal, a reset, the limit and Clear pins', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('step.html', 'play=0&lrMultiple=0.9'));
    await page.waitForFunction(() => window.descent.state.report != null && document.body.dataset.status === 'paused', null, { timeout: 30000 });
    await stepBy(page, 60);
    const first = await pinNow(page, ['loss', 'sharpness', 'lazy']);
    const label1 = 'pin 1: η/η₀ 0.9, width 1,024, s 1, seed 1';
    assert.deepEqual(await pinLabels(page), [label1]);

    // Another step size (a preset), trained further: the ghost stays what was on screen.
    await page.selectOption('#preset-select', { label: 'Catapult: η = 1.5 η₀' });
    await page.waitForFunction(() => window.descent.state.report?.lrMultiple === 1.5 && window.descent.state.report.step === 0
      && document.body.dataset.status === 'paused', null, { timeout: 30000, polling: 50 });
    await stepBy(page, 80);
    for (const [id, k] of [['loss', 1], ['sharpness', 1], ['lazy', 1]]) {
      const s = await plotState(page, id);
      assert.equal(s.ghosts.length, 1, `${id}: one ghost`);
      assert.equal(s.ghosts[0].label, label1);
      assert.ok(s.series.includes(label1), `${id}: the legend names the pin`);
      assert.deepEqual(s.ghosts[0].xs, first[id][0], `${id}: the pinned steps`);
      assert.deepEqual(s.ghosts[0].ys, first[id][k], `${id}: the pinned values`);
      assert.notDeepEqual(s.last[k], s.ghosts[0].ys, `${id}: the new run is drawn beside it`);
    }

    // A second pin, with the keyboard shortcut.
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('p');
    const label2 = 'pin 2: η/η₀ 1.5, width 1,024, s 1, seed 1';
    assert.deepEqual(await pinLabels(page), [label1, label2]);
    assert.deepEqual((await plotState(page, 'loss')).ghosts.map((g) => g.label), [label1, label2]);
    assert.deepEqual(await page.$$eval('#pin-list .pin-label', (els) => els.map((e) => e.textContent)), [label1, label2]);
    assert.match(await page.textContent('#pin-row'), /not in the link/);
    await page.click('.btn-help');
    assert.match(await page.textContent('#help-dialog'), /pin run/);
    await page.click('#help-dialog button:text-is("Close")');

    // Not in the URL, nor in the copied link.
    assert.doesNotMatch(decodeURIComponent(page.url()), /pin/i);
    assert.doesNotMatch(await page.evaluate(() => window.descent.shell.link()), /pin/i);

    // The exports: the CSV has a column per pin, the JSON each pin's settings and curve, the SVG
    // their legend entries, the report every pin.
    await page.click('text=Export…');
    const row = page.locator('#export-dialog .export-row[data-plot="loss"]');
    const csv = await downloadOf(page, row.locator('button:text-is("CSV")'));
    const header = csv.split('\n')[0];
    assert.ok(header.includes(`"${label1}"`) && header.includes(`"${label2}"`), `CSV header: ${header}`);
    const json = JSON.parse(await downloadOf(page, row.locator('button:text-is("JSON")')));
    assert.deepEqual(json.pins.map((p) => p.label), [label1, label2]);
    assert.equal(json.pins[0].settings.lrMultiple, 0.9);
    assert.equal(json.pins[1].settings.lrMultiple, 1.5);
    assert.deepEqual(json.pins[0].curves.loss.x, first.loss[0]);
    assert.deepEqual(json.pins[0].curves.loss.network, first.loss[1]);
    assert.deepEqual(json.data[label1].filter((v) => v != null), first.loss[1].filter((v) => v != null));
    const svg = await downloadOf(page, row.locator('button:text-is("SVG")'));
    assert.ok(svg.includes('pin 1: η/η₀ 0.9') && svg.includes('pin 2: η/η₀ 1.5'), 'the SVG legend names both pins');
    const report = JSON.parse(await downloadOf(page, page.locator('button:text-is("Report (JSON)")')));
    assert.deepEqual(report.pins.map((p) => p.label), [label1, label2]);
    assert.deepEqual(Object.keys(report.pins[0].curves), ['loss', 'sharpness', 'lazy']);
    await page.click('#export-dialog button:text-is("Close")');

    // Removing pin 1 keeps pin 2; Restart keeps it too.
    await page.click('#pin-list [data-pin="1"] .pin-remove');
    assert.deepEqual(await pinLabels(page), [label2]);
    assert.deepEqual((await plotState(page, 'sharpness')).ghosts.map((g) => g.label), [label2]);
    await page.click('#btn-restart');
    await page.waitForFunction(() => window.descent.state.report?.step === 0, null, { timeout: 30000 });
    assert.deepEqual(await pinLabels(page), [label2]);
    assert.equal((await plotState(page, 'loss')).ghosts.length, 1);

    // At most six: the seventh is refused with a message.
    await stepBy(page, 5);
    for (let i = 0; i < 5; i++) await page.click('#btn-pin');
    assert.equal((await pinLabels(page)).length, 6);
    await page.click('#btn-pin');
    assert.equal((await pinLabels(page)).length, 6);
    assert.match(await page.textContent('#pin-status'), /At most 6 pins/);

    // Clear pins removes them all, from every plot.
    await page.click('#btn-clear-pins');
    assert.deepEqual(await pinLabels(page), []);
    // The sharpness plot has the top k of the Hessian and of the NTK (topK, 3 by default).
    const k = await page.evaluate(() => window.descent.state.values.topK);
    for (const [id, live] of [['loss', 2], ['sharpness', 2 * k], ['lazy', 2]]) {
      const s = await plotState(page, id);
      assert.equal(s.ghosts.length, 0);
      assert.equal(s.series.length, 1 + live, `${id}: the x column and the ${live} live curves`);
    }
    assert.equal(await page.isHidden('#pin-row'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Playground: a pin keeps train and test loss through a change of width', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('index.html', 'play=0'));
    await page.waitForFunction(() => window.descent.state.report != null && document.body.dataset.status === 'paused', null, { timeout: 30000 });
    await stepBy(page, 40);
    const shown = await pinNow(page, ['loss']);
    const before = await runId(page);
    await setRange(page, 'width', 40);
    await newRun(page, before);
    await stepBy(page, 40);
    const width = await page.textContent('.control[data-control="width"] output');
    assert.notEqual(width, '128');
    const s = await plotState(page, 'loss');
    // One legend entry for the pin; a column of the table for each of its curves.
    const label = 'pin 1: width 128, η 0.5, s 1, seed 1';
    assert.deepEqual(s.ghosts.map((g) => g.label), [label, label]);
    assert.deepEqual(s.legend, ['train loss', 'test loss', label]);
    assert.deepEqual(s.ghosts.map((g) => g.column), [
      'pin 1, train loss: width 128, η 0.5, s 1, seed 1',
      'pin 1, test loss: width 128, η 0.5, s 1, seed 1',
    ]);
    // Hiding the pin from the legend hides both its curves.
    await page.click(`#plot-loss .u-legend .u-series:has-text("${label}")`);
    assert.deepEqual(await page.evaluate(() => window.descent.shell.opts.plots().find((p) => p.id === 'loss').plot.u.series.map((x) => x.show)),
      [true, true, true, false, false]);
    assert.deepEqual(s.ghosts[0].xs, shown.loss[0]);
    assert.deepEqual(s.ghosts[0].ys, shown.loss[1]);
    assert.deepEqual(s.ghosts[1].ys, shown.loss[2]);
    assert.notDeepEqual(s.last[1], shown.loss[1]);
    assert.doesNotMatch(decodeURIComponent(page.url()), /pin/i);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Lazy or rich: the pinned loss follows the train/test choice; a preset keeps it', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('lazy.html', 'play=0'));
    await page.waitForFunction(() => window.descent.state.report != null && document.body.dataset.status === 'paused', null, { timeout: 30000 });
    await stepBy(page, 40);
    const shown = await pinNow(page, ['loss', 'lazy']);
    const { train, test: testLoss } = await page.evaluate(() => ({
      train: window.descent.history.networkTrain.map((v) => (Number.isFinite(v) ? v : null)),
      test: window.descent.history.networkTest.map((v) => (Number.isFinite(v) ? v : null)),
    }));
    const before = await runId(page);
    await page.selectOption('#preset-select', { label: 'Lazy: α = 100' });
    await newRun(page, before);
    await stepBy(page, 40);
    const label = 'pin 1: α 1, width 256, η 0.1, s 1, seed 1';
    let s = await plotState(page, 'loss');
    assert.deepEqual(s.ghosts.map((g) => g.label), [label]);
    assert.deepEqual(s.ghosts[0].xs, shown.loss[0]);
    assert.deepEqual(s.ghosts[0].ys, shown.loss[1], 'the test loss on screen when pinned');
    assert.deepEqual(s.ghosts[0].ys, testLoss);
    await page.check('input[name="loss-set"][value="train"]');
    s = await plotState(page, 'loss');
    assert.deepEqual(s.ghosts[0].ys, train, 'the pinned train loss');
    const lazy = await plotState(page, 'lazy');
    assert.equal(lazy.ghosts.length, 2);
    assert.deepEqual(lazy.ghosts.map((g) => g.ys), [shown.lazy[1], shown.lazy[2]]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Weak labels: the pinned bag loss and test accuracy through a new bag size', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('weak-labels.html', 'play=0'));
    await page.waitForFunction(() => window.descent.state.report != null && document.body.dataset.status === 'paused', null, { timeout: 30000 });
    await stepBy(page, 30);
    const shown = await pinNow(page, ['bag-loss', 'accuracy']);
    const before = await runId(page);
    await page.selectOption('#preset-select', { label: 'Large random bags' });
    await newRun(page, before);
    await stepBy(page, 30);
    const label = 'pin 1: bag 16, DLLP (bag loss), width 64, η 16, seed 1';
    const loss = await plotState(page, 'bag-loss');
    assert.deepEqual(loss.ghosts.map((g) => g.label), [label]);
    assert.deepEqual(loss.ghosts[0].ys, shown['bag-loss'][1]);
    const acc = await plotState(page, 'accuracy');
    assert.deepEqual(acc.ghosts.map((g) => g.label), [label]);
    assert.deepEqual(acc.ghosts[0].xs, shown.accuracy[0]);
    assert.deepEqual(acc.ghosts[0].ys, shown.accuracy[2], 'the test accuracy');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Double descent: a pinned curve stays through a new label noise and a new x axis', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('double-descent.html', 'seeds=2'));
    const done = () => page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60000, polling: 100 });
    await done();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const shown = await pinNow(page, ['curve']);
    await setRange(page, 'noise', 1);
    await page.waitForFunction(() => window.descent.pooled?.base && window.descent.state.status === 'done'
      && window.descent.state.workers.every((w) => !w.part || w.partVersion === window.descent.state.liveVersion), null, { timeout: 60000, polling: 100 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const label = 'pin 1: λ 0, noise 0.5, seeds 2, seed 1';
    let s = await plotState(page, 'curve');
    assert.deepEqual(s.ghosts.map((g) => g.column), [`pin 1, test (mean ± s.e.): ${label.slice(7)}`, `pin 1, train: ${label.slice(7)}`]);
    assert.deepEqual(s.ghosts.map((g) => g.label), [label, label]);
    assert.deepEqual(s.ghosts[0].xs, shown.curve[0]);
    assert.deepEqual(s.ghosts[0].ys, shown.curve[1]);
    assert.deepEqual(s.ghosts[1].ys, shown.curve[2]);
    assert.notDeepEqual(s.last[1], shown.curve[1], 'the new noise is drawn beside the pin');
    await page.selectOption('#x-axis', 'params');
    s = await plotState(page, 'curve');
    assert.equal(s.ghosts.length, 2, 'the pin is drawn on the other x axis too');
    assert.deepEqual(s.ghosts[0].ys, shown.curve[1]);
    assert.doesNotMatch(decodeURIComponent(page.url()), /pin/i);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('an embed has no pin controls and ignores the shortcut', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('step.html', 'embed&controls=lrMultiple'));
    await page.waitForFunction(() => window.descent.state.report != null, null, { timeout: 30000 });
    assert.equal(await page.locator('#btn-pin').count(), 0);
    await page.keyboard.press('p');
    assert.equal(await page.evaluate(() => window.descent.shell.pins.list.length), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
