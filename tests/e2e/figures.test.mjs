// End-to-end tests of what the figures say outside the page: the phase diagram's axes and colour
// key (on the page and in its SVG/PNG exports), exports that all reach the browser however fast
// they are pressed, and sliders that cannot reach a setting the engine refuses.
// Run from the repository root: node --test tests/e2e/figures.test.mjs   (build first)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { evaluateOffSite, openPage, useSite } from './helpers.mjs';

describe('Figures, exports and refusals', () => {
  const site = useSite();

  const url = (page, query = '') => `${site.server.url}${page}${query ? `?${query}` : ''}`;

  /** Clicks `button` and returns the downloaded file: {name, bytes}. */
  async function downloadOf(page, button) {
    const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
    return { name: dl.suggestedFilename(), bytes: await readFile(await dl.path()) };
  }

  /** The phase diagram's export spec, as the export dialog would render it. */
  const phaseSpec = (page) => page.evaluate(() => window.descent.shell.opts.plots().find((p) => p.id === 'phase').plot.exportSpec());

  test('the phase diagram labels every width and step multiple, and its exports carry the colour key', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('step.html', 'play=0&nTrain=8'));
    await page.waitForFunction(() => window.descent.report != null, null, { timeout: 60000 });
    await page.click('#btn-phase');
    await page.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 180000, polling: 200 });
    const { widths, ys } = await page.evaluate(() => ({ widths: window.descent.phase.report.widths, ys: window.descent.phase.report.ys }));
    assert.deepEqual(widths, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);

    // The ticks uPlot draws (the export spec reads them from the axes): one per width column,
    // exact (1024, not 1020), and one per step multiple, 4 and 8 among them.
    const spec = await phaseSpec(page);
    assert.deepEqual(spec.x.ticks.map((t) => t.label), widths.map(String));
    assert.deepEqual(spec.x.ticks.map((t) => t.v), widths);
    const yLabels = spec.y.ticks.map((t) => t.label);
    assert.equal(yLabels.length, ys.length, `a label per row: ${yLabels}`);
    for (const v of ['0.25', '0.5', '1', '2', '4', '8', '16']) assert.ok(yLabels.includes(v), `η/η₀ = ${v} labelled: ${yLabels}`);
    spec.y.ticks.forEach((t, j) => assert.ok(Math.abs(t.v / ys[j] - 1) < 1e-12, `tick ${t.label} on row ${ys[j]}`));

    // The key on the page: every regime with its colour.
    const key = await page.$$eval('#phase-legend li', (lis) => lis.map((li) => ({
      name: li.textContent.trim(), color: getComputedStyle(li.querySelector('.swatch-box')).backgroundColor.replace(/\s/g, ''),
    })));
    assert.deepEqual(key.map((k) => k.name), ['stable', 'catapult', 'divergent', 'not settled']);

    // The SVG export names every regime beside a swatch of the page's colour.
    await page.click('text=Export…');
    const row = page.locator('#export-dialog .export-row[data-plot="phase"]');
    const svg = (await downloadOf(page, row.locator('button:text-is("SVG")'))).bytes.toString('utf8');
    const png = (await downloadOf(page, row.locator('button:text-is("PNG")'))).bytes;
    const swatches = await evaluateOffSite(site.browser.context, (text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      return [...doc.querySelectorAll('rect.legend-swatch')].map((r) => ({
        fill: r.getAttribute('fill').replace(/\s/g, ''),
        label: r.nextElementSibling?.textContent ?? '',
        x: Number(r.getAttribute('x')) + 8,
        y: Number(r.getAttribute('y')) + 8,
      }));
    }, svg);
    for (const k of key) {
      const s = swatches.find((w) => w.label === k.name);
      assert.ok(s, `${k.name} in the SVG legend: ${JSON.stringify(swatches)}`);
      assert.equal(s.fill, k.color, `${k.name}'s colour`);
    }
    // The PNG (the SVG at 2×) shows the same swatches: each swatch's centre has its colour.
    const pixels = await page.evaluate(async ([b64, points]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return points.map(({ x, y }) => `rgb(${[...ctx.getImageData(2 * x, 2 * y, 1, 1).data.slice(0, 3)].join(',')})`);
    }, [png.toString('base64'), swatches]);
    swatches.forEach((s, i) => {
      if (s.fill !== 'none') assert.equal(pixels[i], s.fill, `PNG swatch of ${s.label}`);
    });
    await page.keyboard.press('Escape');

    // A continuous colour: the export carries the scale and the grey of divergent cells.
    await page.selectOption('#phase-metric', 'finalLoss');
    const loss = await phaseSpec(page);
    assert.match(loss.colorbar.label, /final training loss/);
    assert.ok(loss.colorbar.log && loss.colorbar.lo < loss.colorbar.hi, JSON.stringify(loss.colorbar));
    await page.click('text=Export…');
    const lossSvg = (await downloadOf(page, page.locator('#export-dialog .export-row[data-plot="phase"] button:text-is("SVG")'))).bytes.toString('utf8');
    assert.match(lossSvg, /<linearGradient id="colorbar-gradient"/);
    assert.match(lossSvg, /final training loss \(log scale\)/);
    assert.match(lossSvg, /divergent \(no final value\)/);
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('fourteen exports pressed in a row all reach the browser', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('index.html', 'play=0&width=32&seed=4'));
    await page.waitForFunction(() => window.descent.lastReport != null, null, { timeout: 60000 });
    await page.evaluate(() => window.descent.step(5));
    await page.waitForFunction(() => window.descent.lastReport?.step === 5);
    await page.click('text=Export…');
    const names = [];
    page.on('download', (d) => names.push(d.suggestedFilename()));
    const buttons = page.locator('#export-dialog .export-row button');
    const n = await buttons.count();
    const pressed = [];
    // Every plot button, then Settings and Report, then the plot buttons again: 2 + 2n presses
    // as fast as the reader could click (Chromium drops a page's 11th download within a second).
    for (const i of [...Array(n).keys(), -1, -2, ...Array(n).keys()].slice(0, 14)) {
      const b = i === -1 ? page.locator('button:text-is("Settings (JSON)")')
        : i === -2 ? page.locator('button:text-is("Report (JSON)")') : buttons.nth(i);
      pressed.push(await b.textContent());
      await b.click();
    }
    assert.equal(pressed.length, 14);
    const deadline = Date.now() + 20000;
    while (names.length < 14 && Date.now() < deadline) await page.waitForTimeout(100);
    assert.equal(names.length, 14, `downloads: ${names.join(' ')}`);
    assert.equal(new Set(names).size, 10, 'ten different files, four of them twice');
    // The dialog says Saved only once the file was handed over, and what to do if it is blocked.
    await page.waitForFunction(() => /^Saved /.test(document.querySelector('#export-status').textContent));
    assert.match(await page.textContent('#export-status'), /may be blocking multiple downloads/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('every slider at its maximum, the other settings at their defaults, is accepted', async () => {
    const checked = [];
    for (const { page: scene } of Object.values(SCENES)) {
      const first = await openPage(site.browser.context);
      await first.page.goto(url(scene, 'play=0'));
      const sliders = await first.page.evaluate(() => window.descent.controls
        .filter((c) => ['log-slider', 'int-slider', 'slider'].includes(c.kind) && c.max > c.default)
        .map((c) => ({ name: c.name, max: c.max })));
      await first.page.close();
      for (const { name, max } of sliders) {
        // A page of its own for each (leaving a page while its workers load aborts requests).
        const { page, errors } = await openPage(site.browser.context);
        await page.goto(url(scene, `play=0&${name}=${max}`));
        // A first result (a report, or the first seed of the sweep) or a refusal.
        await page.waitForFunction(() => {
          const d = window.descent;
          return document.body.dataset.status === 'refused' || (d.lastReport ?? d.report ?? d.pooled) != null;
        }, null, { timeout: 120000, polling: 100 });
        const shown = await page.evaluate(() => ({
          status: document.body.dataset.status, alert: document.querySelector('#alert')?.textContent ?? '',
        }));
        assert.notEqual(shown.status, 'refused', `${scene}?${name}=${max}: ${shown.alert}`);
        assert.deepEqual(errors, [], `${scene}?${name}=${max}`);
        checked.push(`${scene}:${name}`);
        await page.close();
      }
    }
    assert.ok(checked.includes('step.html:depth') && checked.includes('double-descent.html:nTrain'), checked.join(' '));
  });

  test('a refusal names the setting the reader moved and this scene’s own fixes', async () => {
    const { page, errors } = await openPage(site.browser.context);
    // Beyond the slider (a link may ask for it): the sweep is too large for the default 5 seeds.
    await page.goto(url('double-descent.html', 'nTrain=1000'));
    await page.waitForFunction(() => document.body.dataset.status === 'refused', null, { timeout: 60000 });
    const text = await page.textContent('#alert');
    // The engine names settings by their URL keys; the page adds the labels of its controls.
    assert.match(text, /lower Training points n \(`nTrain`\), Seeds \(`seeds`\)/);
    assert.doesNotMatch(text, /width|depth/i);

    // The step-size diagram of a deeper network than the default: too costly, and the
    // refusal names the depth the reader raised, not the diagram's widest width.
    await page.goto(url('step.html', 'play=0&depth=2'));
    await page.waitForFunction(() => window.descent.report != null, null, { timeout: 60000 });
    await page.click('#btn-phase');
    await page.waitForFunction(() => document.body.dataset.phase === 'failed', null, { timeout: 30000 });
    const phase = await page.textContent('#phase-status');
    assert.match(phase, /invalid setting Hidden layers \(`depth`\): this 13 × 9 diagram would take/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
