// Every scene's controls come from the engine's settings table (src/session/settings.rs): each
// page renders what sceneSpec(scene) says (label, help, default, slider span, accepted range,
// options), its URL parser accepts exactly the engine's range, and pkg/settings.js, written at
// build time, is the engine's table.
// Run from the repository root after building: node --test tests/e2e/settings.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { openPage, useSite } from './helpers.mjs';

const OPEN = { timeout: 60000 };

/** The engine's table (asked of the wasm module itself), the built copy, and the page's controls. */
async function readTables(page, id) {
  return page.evaluate(async (sceneId) => {
    const engine = await import('/pkg/descent.js');
    await engine.default();
    const built = await import('/pkg/settings.js');
    const controls = window.descent.controls.map((c) => ({
      name: c.name, label: c.label, sub: c.sub ?? '', help: c.help, default: c.default, kind: c.kind,
      min: c.min, max: c.max, linkMin: c.linkMin, linkMax: c.linkMax, zero: !!c.zero, numeric: !!c.numeric,
      options: c.options ?? null,
    }));
    const dom = [...document.querySelectorAll('#controls [data-control]')].map((w) => ({
      name: w.dataset.control,
      label: w.querySelector('.control-head label')?.textContent ?? '',
      help: w.querySelector('.help')?.textContent ?? '',
      options: [...w.querySelectorAll('option')].map((o) => [o.value, o.textContent]),
    }));
    return {
      spec: engine.sceneSpec(sceneId),
      names: engine.sceneSpecNames(),
      built: built.SPECS,
      controls,
      dom,
      values: { ...window.descent.shell.api.values },
    };
  }, id);
}

describe('Settings: one table in the engine', () => {
  const site = useSite();

  for (const [id, scene] of Object.entries(SCENES)) {
    test(`${scene.title}: the page renders the engine's table`, async () => {
      const { page, errors } = await openPage(site.browser.context);
      await page.goto(`${site.server.url}${scene.page}?play=0`);
      await page.waitForFunction(() => window.descent?.shell?.api, null, OPEN);
      const t = await readTables(page, id);

      // The build wrote the engine's tables, every one of them.
      assert.deepEqual(Object.keys(t.built).sort(), [...t.names].sort());
      assert.deepEqual(t.built[id], t.spec, 'pkg/settings.js holds the engine\'s table');

      assert.ok(t.controls.length >= 8, `${t.controls.length} controls`);
      for (const c of t.controls) {
        const row = t.spec.settings.find((s) => s.name === c.name);
        assert.ok(row, `${c.name} is a setting of the engine's ${id} table`);
        assert.equal(`${c.label}${c.sub ? `_${c.sub}` : ''}`, row.label, `${c.name}: label`);
        assert.equal(c.help, row.doc, `${c.name}: help`);
        assert.deepEqual(c.default, row.default, `${c.name}: default`);
        assert.equal(t.values[c.name], row.default, `${c.name}: the page starts at the engine's default`);
        if (row.kind.type === 'int' || row.kind.type === 'float') {
          assert.equal(c.linkMin, row.min, `${c.name}: accepted minimum`);
          assert.equal(c.linkMax, row.max, `${c.name}: accepted maximum`);
          if (c.kind !== 'select' && c.kind !== 'number') {
            const [lo, hi] = row.slider ?? [row.min, row.max];
            assert.equal(c.min, lo, `${c.name}: slider minimum`);
            assert.equal(c.max, hi, `${c.name}: slider maximum`);
            assert.equal(c.kind.includes('log'), row.scale === 'log', `${c.name}: scale`);
            assert.equal(c.zero, row.scale === 'log' && row.min === 0, `${c.name}: zero position`);
          }
          if (c.kind === 'select') {
            // A number offered at a few values: each one the engine accepts.
            for (const [v] of c.options) assert.ok(Number(v) >= row.min && Number(v) <= row.max, `${c.name}: ${v}`);
          }
        } else if (row.kind.type === 'choice') {
          assert.deepEqual(c.options, row.kind.options.map((o) => [o.value, o.label]), `${c.name}: options`);
        } else {
          assert.equal(c.kind, 'checkbox', `${c.name}: a checkbox`);
        }
      }

      // And the DOM shows those very labels, helps and options.
      assert.deepEqual(t.dom.map((d) => d.name).sort(), t.controls.map((c) => c.name).sort());
      for (const d of t.dom) {
        const c = t.controls.find((x) => x.name === d.name);
        assert.equal(d.label, `${c.label}${c.sub}`, `${d.name}: label shown`);
        assert.equal(d.help, c.help, `${d.name}: help shown`);
        if (c.options) assert.deepEqual(d.options, c.options, `${d.name}: options shown`);
      }
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test('a link may ask for what the engine accepts beyond a slider, and no more', async () => {
    const { page, errors } = await openPage(site.browser.context);
    // The step-size scene's width slider starts at 16 and its initial-scale slider stops at 10;
    // the engine takes widths from 1 and scales up to 100, and at most 256 points.
    await page.goto(`${site.server.url}${SCENES.step.page}?width=8&initScale=50&nTrain=100000&play=0`);
    await page.waitForFunction(() => window.descent?.shell?.api, null, OPEN);
    const t = await readTables(page, 'step');
    const bound = (name) => t.spec.settings.find((s) => s.name === name);
    assert.equal(bound('width').slider[0], 16);
    assert.equal(t.values.width, 8, 'a width below the slider but in the engine\'s range is kept');
    assert.equal(t.values.initScale, 50);
    assert.equal(t.values.nTrain, bound('nTrain').max, 'a count past the engine\'s range is clamped to it');
    await page.waitForFunction(() => window.descent.state.report, null, OPEN);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a link that sets every view option to another valid value draws no console note', async () => {
    // The lazy page's loss=train (a radio group) was once noted as "out of range, using train".
    for (const [id, scene] of Object.entries(SCENES)) {
      const first = await openPage(site.browser.context);
      await first.page.goto(`${site.server.url}${scene.page}?play=0`);
      await first.page.waitForFunction(() => window.descent?.shell?.api, null, OPEN);
      const query = await first.page.evaluate(() => window.descent.shell.view.map((c) => {
        const other = c.kind === 'checkbox' ? (c.default ? '0' : '1') : c.options.find(([v]) => v !== String(c.default))[0];
        return `${c.name}=${encodeURIComponent(other)}`;
      }).join('&'));
      await first.page.close();
      const { page, errors } = await openPage(site.browser.context);
      const warnings = [];
      page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
      await page.goto(`${site.server.url}${scene.page}?${query}&play=0`);
      await page.waitForFunction(() => window.descent?.shell?.api, null, OPEN);
      const wanted = Object.fromEntries(new URLSearchParams(query));
      const { values, view } = await page.evaluate(() => ({ values: window.descent.shell.viewApi.values, view: window.descent.shell.view }));
      for (const c of view) {
        const shown = c.kind === 'checkbox' ? (values[c.name] ? '1' : '0') : String(values[c.name]);
        assert.equal(shown, wanted[c.name], `${id}: ${c.name}`);
      }
      assert.deepEqual(warnings, [], `${id}: ${query}`);
      assert.deepEqual(errors, [], id);
      await page.close();
    }
  });

  test('Back to another entry of the page follows its query without a reload; another mode reloads', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const warnings = [];
    page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
    await page.goto(`${site.server.url}${SCENES.playground.page}?width=64&play=0`);
    await page.waitForFunction(() => window.descent?.state?.report, null, OPEN);
    const back = (query) => page.evaluate(async (q) => {
      const reached = new Promise((resolve) => addEventListener('popstate', () => setTimeout(resolve, 0), { once: true }));
      history.pushState(null, '', `${location.pathname}?${q}`);
      history.pushState(null, '', `${location.pathname}#next`);
      history.back();
      await reached;
    }, query);
    const run0 = await page.evaluate(() => {
      window.samePage = true;
      return window.descent.state.runId;
    });
    await back('width=32&lr=0.1&seed=9&logx=1&nope=1&depth=x');
    await page.waitForFunction((r) => window.descent.state.shownRunId > r && window.descent.state.status === 'paused', run0, OPEN);
    const seen = await page.evaluate(() => ({
      same: window.samePage, values: window.descent.shell.api.values, logx: document.getElementById('loss-logx').checked,
      width: document.querySelector('input[name="width"]').getAttribute('aria-valuetext'),
    }));
    assert.equal(seen.same, true, 'no reload');
    assert.deepEqual([seen.values.width, seen.values.lr, seen.values.seed, seen.values.depth], [32, 0.1, 9, 1]);
    assert.equal(seen.width, '32', 'the slider shows it');
    assert.equal(seen.logx, true, 'the view option follows');
    await page.waitForFunction(() => !/nope|depth/.test(location.search) && /width=32/.test(location.search));
    assert.ok(warnings.some((w) => /"nope" is not a setting/.test(w) && /depth: ignored "x"/.test(w)), 'a console note as at load');

    // An entry in another mode (presenter) is loaded as a page.
    await Promise.all([page.waitForEvent('load'), page.evaluate(() => {
      history.pushState(null, '', `${location.pathname}?present&width=16`);
      history.pushState(null, '', `${location.pathname}#next`);
      history.back();
    })]);
    await page.waitForFunction(() => window.descent?.state?.report, null, OPEN);
    const after = await page.evaluate(() => ({
      same: window.samePage ?? null, width: window.descent.shell.api.values.width, present: document.documentElement.classList.contains('mode-present'),
    }));
    assert.deepEqual(after, { same: null, width: 16, present: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the page writes a link\'s numbers back to its URL exactly', async () => {
    // Six significant digits once made the seed 1234567 another seed (1234570) in the page's URL
    // and its copied link, and the largest seed a number out of range.
    const { page, errors } = await openPage(site.browser.context);
    for (const [seed, lr] of [['1234567', '0.123456789'], ['4294967295', '1.0000001']]) {
      await page.goto(`${site.server.url}${SCENES.playground.page}?seed=${seed}&lr=${lr}&play=0`);
      await page.waitForFunction(() => window.descent?.state?.report, null, OPEN);
      const seen = await page.evaluate(() => ({ q: location.search, link: window.descent.shell.link(), values: window.descent.shell.api.values }));
      assert.equal(seen.values.seed, Number(seed));
      assert.equal(seen.values.lr, Number(lr));
      for (const q of [new URLSearchParams(seen.q), new URL(seen.link).searchParams]) {
        assert.equal(q.get('seed'), seed, `the seed in ${seen.q} and ${seen.link}`);
        assert.equal(q.get('lr'), lr, `the step size in ${seen.q} and ${seen.link}`);
      }
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
});
