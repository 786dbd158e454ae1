// End-to-end tests of Lazy or rich's ensemble mode in headless Chromium, against the built site in
// dist/: finite networks over seeds against the infinite-width band, the distance readout, the
// width sweep of the distance, refusals, and the export.
// Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canvasStats, openPage, setRange, useSite, waitForStep } from './helpers.mjs';

// The band's edge and the networks' colour (plots/ensemble.js ENSEMBLE_STYLES).
const BAND_EDGE = [0, 158, 115];
const ENSEMBLE_MEAN = [11, 61, 102];

describe('Lazy or rich: ensemble mode', () => {
  const site = useSite();
  const url = (query) => `${site.server.url}lazy.html?${query}`;

  test('draws the networks inside the band with their distance, and follows the step size while paused', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('ensemble=8&width=256&seed=3&play=0'));
    await waitForStep(page, 0);
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    await page.evaluate(() => window.descent.step(40));
    await page.waitForFunction(() => window.descent.ensemble?.step === 40, null, { timeout: 20000, polling: 50 });
    const e = await page.evaluate(() => {
      const x = window.descent.ensemble;
      return { ...x, members: x.members.length, grid: x.bandSd.length, sd: Array.from(x.bandSd), mean: Array.from(x.mean) };
    });
    assert.equal(e.live, 8);
    assert.equal(e.diverged, 0);
    assert.equal(e.members, 8 * e.grid, 'one curve per network over the grid');
    assert.ok(e.sd.every((v) => Number.isFinite(v) && v >= 0), 'σ finite and ≥ 0');
    assert.ok(e.sd.some((v) => v > 0), 'the band has a width');
    assert.ok(e.mean.every(Number.isFinite));
    // The distance and its sampling floors for 8 networks: 1/√14 and 1/√8.
    assert.ok(Number.isFinite(e.distance.spread) && e.distance.spread >= 0);
    assert.ok(Math.abs(e.distance.spreadFloor - 1 / Math.sqrt(14)) < 1e-12);
    assert.ok(Math.abs(e.distance.meanFloor - 1 / Math.sqrt(8)) < 1e-12);
    await page.waitForTimeout(150);
    const readout = await page.textContent('#ensemble-readout');
    assert.match(readout, /Step 40, 8 networks: spread distance [\d.]+ \(sampling noise alone ≈ 0\.27\)/);
    assert.equal(await page.isHidden('#plot-ensemble'), false);
    assert.equal(await page.isHidden('#ensemble-off'), true, 'the turn-on button is hidden once on');
    const band = await canvasStats(page, '#plot-ensemble', BAND_EDGE, 30);
    assert.ok(band && band.near > 40, `band edges drawn: ${JSON.stringify(band)}`);
    const mean = await canvasStats(page, '#plot-ensemble', ENSEMBLE_MEAN, 25);
    assert.ok(mean && mean.near > 40, `ensemble mean drawn: ${JSON.stringify(mean)}`);

    // A new step size while paused moves the band at once (the same step, a new filter).
    const before = e.sd;
    await setRange(page, 'lr', 0); // the slider's first position: a much smaller step size
    await page.waitForFunction((b) => {
      const x = window.descent.ensemble;
      return x && x.step === 40 && x.bandSd && Array.from(x.bandSd).some((v, i) => Math.abs(v - b[i]) > 1e-6 * (1 + b[i]));
    }, before, { timeout: 15000, polling: 50 });

    // The export: the band as an area, one line per network, and the table's columns.
    const spec = await page.evaluate(() => window.descent.shell.opts.plots().find((p) => p.id === 'ensemble').plot.exportSpec());
    assert.equal(spec.layers.filter((l) => l.type === 'area').length, 1);
    assert.ok(spec.layers.filter((l) => l.type === 'line').length >= 8 + 4);
    assert.deepEqual(spec.table.columns.slice(0, 7), ['x', 'band μ − 2σ', 'band μ', 'band μ + 2σ', 'ensemble mean', 'ensemble μ̂ − 2σ̂', 'ensemble μ̂ + 2σ̂']);
    assert.equal(spec.table.columns.length, 7 + 8);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('is off by default; its button turns it on, and settings it does not describe are refused by name', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('width=64&play=0'));
    await waitForStep(page, 0);
    assert.equal(await page.isHidden('#plot-ensemble'), true);
    assert.equal(await page.isVisible('#btn-ensemble-on'), true);
    await page.waitForFunction(() => !document.getElementById('btn-ensemble-on').disabled);
    await page.click('#btn-ensemble-on');
    await page.waitForFunction(() => window.descent.ensemble?.live === 16, null, { timeout: 20000, polling: 50 });
    assert.match(page.url(), /[?&]ensemble=16(&|$)/);

    // α ≠ 1: refused, naming the setting; the previous run stays.
    await page.goto(url('ensemble=8&alpha=10&play=0'));
    await page.waitForFunction(() => document.getElementById('alert').textContent.includes('α'), null, { timeout: 20000 });
    assert.match(await page.textContent('#alert'), /[Ee]nsemble/);
    // A 2-D dataset: the card says why, and its button is disabled.
    await page.goto(url('dataset=circles&play=0'));
    await waitForStep(page, 0);
    await page.waitForTimeout(100);
    assert.match(await page.textContent('#ensemble-readout'), /1-D dataset/);
    assert.equal(await page.isDisabled('#btn-ensemble-on'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('sweeps the distance across widths in the background, with progress', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('ensemble=8&width=64&play=0'));
    await waitForStep(page, 0);
    await page.selectOption('#ens-sweep-max', '256');
    await page.selectOption('#ens-sweep-steps', '100');
    await page.waitForFunction(() => !document.getElementById('btn-ens-sweep').disabled);
    await page.click('#btn-ens-sweep');
    await page.waitForFunction(() => document.body.dataset.ensembleSweep === 'running');
    assert.equal(await page.isVisible('#ens-sweep-progress'), true);
    await page.waitForFunction(() => document.body.dataset.ensembleSweep === 'finished', null, { timeout: 60000, polling: 100 });
    const es = await page.evaluate(() => window.descent.ensembleSweep);
    assert.deepEqual(es.points.map((p) => p.width), [16, 32, 64, 128, 256]);
    for (const p of es.points) {
      assert.ok(Number.isFinite(p.distance.spread) && Number.isFinite(p.distance.mean), JSON.stringify(p));
      assert.equal(p.distance.networks, 8);
    }
    assert.match(await page.textContent('#ens-sweep-status'), /Done: 5 widths × 8 networks, 100 steps each/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
