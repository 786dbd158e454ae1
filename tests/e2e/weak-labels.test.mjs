// End-to-end tests of the weak-labels page in headless Chromium, against the built site in dist/:
// the live run trains from bag proportions, the bag-size sweep fills in over its pool of workers
// and can be cancelled, every preset applies (the "all bags alike" one makes the mean map
// refuse), the cell populations draw their decision regions, and the embed works.
// Run from the repository root: node --test tests/e2e/weak-labels.test.mjs   (build first)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canvasStats, openPage, useSite } from './helpers.mjs';

describe('Weak labels', () => {
  const site = useSite();

  const url = (query = '') => `${site.server.url}weak-labels.html${query ? `?${query}` : ''}`;

  async function ready(page) {
    await page.waitForFunction(() => window.descent?.report && document.body.dataset.status !== 'loading', null, { timeout: 60000 });
  }

  test('the live run trains: the step count, the bag loss and the instance accuracy change', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=1'));
    await ready(page);
    const first = await page.evaluate(() => ({ ...window.descent.state.firstReport }));
    assert.equal(first.step, 0);
    await page.waitForFunction(() => window.descent.report.step >= 100, null, { timeout: 60000, polling: 100 });
    const r = await page.evaluate(() => window.descent.report);
    assert.ok(r.step >= 100);
    assert.ok(r.bagLoss < first.bagLoss, `the bag loss falls: ${first.bagLoss} → ${r.bagLoss}`);
    assert.notEqual(r.testAccuracy, first.testAccuracy, 'the instance accuracy changes');
    for (const v of [r.bagLoss, r.trainAccuracy, r.testAccuracy]) assert.ok(Number.isFinite(v));
    // The page's defaults are the engine's.
    const { info, controls } = await page.evaluate(() => ({
      info: window.descent.state.info.defaults,
      controls: Object.fromEntries(window.descent.controls.map((c) => [c.name, c.default])),
    }));
    for (const [name, value] of Object.entries(controls)) {
      assert.equal(value, info[name], `default of ${name}: page ${value}, engine ${info[name]}`);
    }
    // The bags, the spectrum of P and the confusion matrix are drawn.
    const p = await page.evaluate(() => window.descent.setup.proportions);
    assert.equal(p.reported.length, p.bags * p.classes);
    assert.equal(p.purified.length, p.bags);
    assert.match(await page.textContent('#bags-spectrum'), /condition number κ = /);
    assert.ok((await canvasStats(page, '#plot-bags')).opaqueShare > 0.05);
    assert.equal(await page.locator('#confusion td').count(), p.classes * p.classes);
    // Space pauses; the step shortcut takes one step.
    await page.locator('body').press(' ');
    await page.waitForFunction(() => document.body.dataset.status !== 'playing', null, { timeout: 10000 });
    if (await page.evaluate(() => document.body.dataset.status === 'paused')) {
      // A chunk already in the worker when the pause came still reports: wait until the step
      // holds still (on a loaded machine a chunk can take a second), then step once.
      let before = await page.evaluate(() => window.descent.report.step);
      for (;;) {
        await page.waitForTimeout(500);
        const now = await page.evaluate(() => window.descent.report.step);
        if (now === before) break;
        before = now;
      }
      await page.locator('body').press('s');
      await page.waitForFunction((s) => window.descent.report.step === s + 1, before, { timeout: 20000 });
    }
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the bag-size sweep fills in over the pool, point by point, and can be cancelled', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=0&seeds=2'));
    await ready(page);
    // The mean map's curve comes at once, before any network is trained.
    await page.waitForFunction(() => document.body.dataset.curve === 'ready', null, { timeout: 30000 });
    const curve = await page.evaluate(() => window.descent.curve);
    assert.ok(curve.bags.length >= 2 && curve.bags[0] === 1, `bag sizes ${curve.bags}`);
    assert.equal(curve.points.length, curve.bags.length);

    await page.click('#btn-sweep');
    await page.waitForFunction(() => document.body.dataset.sweep === 'done', null, { timeout: 180000, polling: 200 });
    const sw = await page.evaluate(() => {
      const s = window.descent.sweep;
      return { bags: s.bags, cells: s.cells, references: s.references, done: s.done, total: s.total, firstMs: s.firstMs, table: window.descent.sweepTable() };
    });
    assert.equal(sw.done, sw.total);
    assert.equal(sw.total, sw.bags.length * 2 + 2, 'every bag size and seed, and a reference per seed');
    for (const row of sw.cells) for (const cell of row) assert.ok(Number.isFinite(cell.dllp) && Number.isFinite(cell.easyllp));
    for (const ref of sw.references) assert.ok(ref.ceiling >= ref.floor, `ceiling ${ref.ceiling}, floor ${ref.floor}`);
    // Bags of one are labels: DLLP there is near the ceiling, and beats the largest bags.
    const ceiling = sw.references.reduce((a, r) => a + r.ceiling, 0) / sw.references.length;
    assert.ok(sw.table[0].dllp.mean > sw.table.at(-1).dllp.mean, `DLLP at k = 1 ${sw.table[0].dllp.mean}, at k = ${sw.table.at(-1).bag} ${sw.table.at(-1).dllp.mean}`);
    assert.ok(sw.table[0].dllp.mean > ceiling - 0.1, `DLLP at k = 1: ${sw.table[0].dllp.mean}, ceiling ${ceiling}`);
    assert.ok(Number.isFinite(sw.table[0].dllp.se), 'a standard error over the two seeds');
    assert.match(await page.textContent('#sweep-status'), /trained in/);

    // Again, cancelled after the first networks: what finished stays, nothing more arrives.
    await page.click('#btn-sweep');
    await page.waitForFunction(() => window.descent.sweep.done >= 2, null, { timeout: 60000, polling: 20 });
    await page.click('#btn-sweep-cancel');
    await page.waitForFunction(() => document.body.dataset.sweep === 'cancelled');
    const done = await page.evaluate(() => window.descent.sweep.done);
    assert.ok(done >= 2 && done < sw.total, `${done} of ${sw.total}`);
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.descent.sweep.done), done, 'no reply of the cancelled sweep is counted');
    assert.match(await page.textContent('#sweep-status'), /cancelled after/);
    assert.equal(await page.isVisible('#btn-sweep'), true);
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('every preset applies: the sliders and the URL follow, and when all bags are alike the mean map refuses', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=0'));
    await ready(page);
    const presets = await page.evaluate(() => window.descent.shell.presets.map((p) => ({ id: p.id, values: p.values })));
    assert.deepEqual(presets.map((p) => p.id), ['labels', 'large-random', 'purified', 'alike']);
    for (const [i, p] of presets.entries()) {
      const run = await page.evaluate(() => window.descent.state.shownRunId);
      await page.selectOption('#preset-select', String(i));
      await page.waitForFunction((r) => window.descent.state.shownRunId > r, run, { timeout: 30000 });
      // The URL follows (written at most every 150 ms; a setting at its default is left out).
      await page.waitForFunction((want) => {
        const q = new URLSearchParams(location.search);
        const byName = Object.fromEntries(window.descent.controls.map((c) => [c.name, c.default]));
        return Object.entries(want).every(([k, v]) => (q.has(k) ? Number(q.get(k)) === Number(v) : byName[k] === v));
      }, p.values, { timeout: 5000 });
      const values = await page.evaluate(() => ({ ...window.descent.shell.api.values }));
      for (const [k, v] of Object.entries(p.values)) {
        assert.equal(values[k], v, `${p.id}: ${k}`);
        if (typeof v === 'boolean') {
          assert.equal(await page.isChecked(`[name="${k}"]`), v, `${p.id}: ${k} is ticked`);
          continue;
        }
        const input = await page.evaluate((name) => document.querySelector(`[name="${name}"]`).closest('[data-control]').querySelector('output')?.textContent, k);
        assert.ok(input, `${p.id}: ${k} has its slider's value shown`);
      }
      assert.equal(await page.inputValue('#preset-select'), String(i), `${p.id}: the menu names it`);
      const bag = await page.evaluate(() => window.descent.setup.proportions);
      if (p.id === 'labels') assert.ok(bag.bags > 100, `${p.id}: one bag per instance (${bag.bags})`);
      const refused = await page.evaluate(() => document.body.dataset.meanMap);
      if (p.id === 'alike') {
        assert.equal(refused, 'refused');
        assert.match(await page.textContent('#bags-meanmap'), /The mean map refuses: .*same proportions/);
        assert.equal(await page.textContent('#m-mm'), 'refused');
        // Nothing to learn: the bags are fitted and the sentence under the live run says so.
        await page.evaluate(() => window.descent.step(600));
        await page.waitForFunction(() => document.body.dataset.fitNote === 'shown', null, { timeout: 60000 });
        assert.match(await page.textContent('#fit-note'), /The bags are fitted/);
      } else if (p.id === 'labels' || p.id === 'purified') {
        assert.equal(refused, 'fitted', `${p.id}: the mean map fits`);
      }
    }
    // The keyboard's n goes on to the next preset (from the last, the first).
    await page.locator('body').press('n');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('bag') === '1');
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the cell populations show the decision regions; the step size changes without a new run', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('data=cells&play=0'));
    await ready(page);
    assert.equal(await page.isVisible('#plot-boundary'), true);
    await page.evaluate(() => window.descent.step(50));
    await page.waitForFunction(() => window.descent.report.step === 50, null, { timeout: 30000 });
    await page.waitForTimeout(300);
    const stats = await canvasStats(page, '#plot-boundary');
    assert.ok(stats && stats.opaqueShare > 0.3, `the regions are drawn (${JSON.stringify(stats)})`);
    assert.equal(await page.locator('#confusion td').count(), 9);
    const run = await page.evaluate(() => window.descent.state.shownRunId);
    await page.evaluate(() => {
      const el = document.querySelector('input[name="lr"]');
      el.value = String(Number(el.value) - 5);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.waitForFunction(() => /lr=/.test(location.search));
    await page.evaluate(() => window.descent.step(1));
    await page.waitForFunction(() => window.descent.report.step === 51, null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => window.descent.state.shownRunId), run, 'the same run goes on');
    // Digits have no plane to draw.
    await page.selectOption('select[name="data"]', 'digits');
    await page.waitForFunction((r) => window.descent.state.shownRunId > r, run, { timeout: 30000 });
    assert.equal(await page.isVisible('#plot-boundary'), false);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the embed shows the plots and the chosen controls, trains, and has no nav', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.setViewportSize({ width: 960, height: 640 });
    await page.goto(url('embed&controls=bag,purified&play=1&bag=4'));
    await page.waitForFunction(() => Number(document.body.dataset.step ?? 0) > 10, null, { timeout: 60000 });
    const m = await page.evaluate(() => ({
      nav: document.querySelector('nav.scene-nav').getClientRects().length,
      shown: [...document.querySelectorAll('[data-control]')].filter((e) => e.getClientRects().length).map((e) => e.dataset.control),
      sweep: document.getElementById('fig-sweep').getBoundingClientRect().bottom,
    }));
    assert.equal(m.nav, 0);
    assert.deepEqual(m.shown.sort(), ['bag', 'purified']);
    assert.ok(m.sweep <= 641, `the sweep's card ends within the frame (${m.sweep})`);
    assert.equal(await page.inputValue('input[name="bag"]') !== '', true);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
