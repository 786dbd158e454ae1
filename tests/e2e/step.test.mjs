// End-to-end tests of the step-size page in headless Chromium, against the built site in dist/.
// Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openPage, setRange, useSite } from './helpers.mjs';

describe('Step size', () => {
  const site = useSite();

  const url = (query = '') => `${site.server.url}step.html${query ? `?${query}` : ''}`;

  /** Opens the page and waits until the run has reached `steps` steps (or stopped by itself). */
  async function runTo(page, query, steps) {
    await page.goto(url(query));
    await page.waitForFunction((s) => {
      const r = window.descent.report;
      return r && (r.step >= s || document.body.dataset.status === 'finished');
    }, steps, { timeout: 60000, polling: 100 });
    return page.evaluate(() => {
      const r = window.descent.report;
      return { ...r, loss: Array.from(r.loss), linearizedLoss: Array.from(r.linearizedLoss), ntkTop: Array.from(r.ntkTop) };
    });
  }

  test('at 1.5 η₀ the linearisation diverges while the network catapults and converges', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const r = await runTo(page, '', 600);
    // The page's defaults are the engine's.
    const { info, controls } = await page.evaluate(() => ({
      info: window.descent.state.info.defaults,
      controls: Object.fromEntries(window.descent.controls.map((c) => [c.name, c.default])),
    }));
    for (const [name, value] of Object.entries(controls)) {
      assert.equal(value, info[name], `default of ${name}: page ${value}, engine ${info[name]}`);
    }
    assert.ok(Math.abs(r.lrMultiple - 1.5) < 1e-12);
    assert.ok(r.linearizedDiverged > 0, 'the linearised model diverges above η₀');
    assert.ok(r.peakLoss > 2 * r.initialLoss, `spike: peak ${r.peakLoss}, start ${r.initialLoss}`);
    assert.ok(r.loss.at(-1) < 0.5 * r.initialLoss, `converges: ${r.loss.at(-1)} against ${r.initialLoss}`);
    // The NTK's top eigenvalue ends below the 2/η the step allows.
    assert.ok(r.ntkTop.at(-1) < r.twoOverLr, `λ_max/n ${r.ntkTop.at(-1)} against 2/η ${r.twoOverLr}`);
    assert.equal(r.regime, 'catapult');
    assert.match(await page.textContent('#regime'), /catapult/i);
    assert.match(await page.textContent('#m-lin'), /diverged at step \d+/);
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('below η₀ the network follows its linearisation; far above, both diverge', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const stable = await runTo(page, 'lrMultiple=0.9', 300);
    assert.equal(stable.regime, 'stable');
    assert.equal(stable.linearizedDiverged, null);
    // No spike: the loss never rises above its start (1 % for rounding), and it falls.
    assert.ok(Math.max(...stable.loss) <= 1.01 * stable.initialLoss);
    assert.ok(stable.loss.at(-1) < 0.5 * stable.initialLoss);

    const div = await runTo(page, 'lrMultiple=12', 4000);
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'finished');
    assert.equal(div.regime, 'divergent');
    assert.ok(div.diverged > 0);
    assert.match(await page.textContent('#regime'), /diverg/i);
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('with cross-entropy the sharpness is tracked and the ruler shows the Hessian bound 2/S₀', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const r = await runTo(page, 'loss=crossEntropy&dataset=gaussians&width=256&lrMultiple=0.9', 200);
    const sharp = await page.evaluate(() => Array.from(window.descent.report.sharpness));
    assert.equal(r.lossKind, 'crossEntropy');
    assert.ok(r.sharpnessInit > 0, `S₀ ${r.sharpnessInit}`);
    assert.equal(sharp[0], r.sharpnessInit);
    assert.ok(sharp.length > 1 && sharp.every((v) => Number.isFinite(v) && v > 0), `sharpness ${sharp}`);
    assert.equal(r.regime, 'stable');
    assert.ok(r.loss.at(-1) < r.initialLoss);
    assert.equal(await page.inputValue('#ctl-loss'), 'crossEntropy');
    assert.match(await page.textContent('#ruler-bound-label'), /2\/S₀/);
    assert.match(await page.textContent('#regime-text'), /edge of stability/);
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the sharpness plot shows the top k Hessian and NTK eigenvalues, and exports them all', async () => {
    const { page, errors } = await openPage(site.browser.context);
    // To the end of the run, and one frame more, so that the plot shows the report read here (while
    // it plays, a report can arrive between the frame that draws and the reading).
    await runTo(page, 'topK=4&lrMultiple=1.5', Infinity);
    const got = await page.evaluate(async () => {
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      const r = window.descent.report;
      const spec = window.descent.shell.opts.plots().find((p) => p.id === 'sharpness').plot.exportSpec();
      return {
        hessian: r.hessianTop.map((row) => Array.from(row)),
        ntk: r.ntkSpectrum.map((row) => Array.from(row)),
        sharpness: Array.from(r.sharpness),
        ntkTop: Array.from(r.ntkTop),
        steps: r.trackSteps.length,
        legend: spec.legend.map((l) => l.label),
        columns: spec.table.columns,
        rows: spec.table.rows.length,
        last: spec.table.rows.at(-1),
        topK: document.querySelector('input[name="topK"]')?.value,
      };
    });
    const labels = [1, 2, 3, 4].map((i) => `Hessian λ${i}`).concat([1, 2, 3, 4].map((i) => `NTK λ${i} of Θ/n`));
    assert.deepEqual(got.legend, labels);
    assert.deepEqual(got.columns, ['step', ...labels]);
    assert.equal(got.rows, got.steps);
    assert.equal(got.hessian.length, got.steps);
    for (const [i, row] of got.hessian.entries()) {
      assert.equal(row.length, 4);
      assert.equal(row[0], got.sharpness[i]);
      assert.equal(got.ntk[i][0], got.ntkTop[i]);
      assert.ok(row.every((v, j) => Number.isFinite(v) && (j === 0 || v <= row[j - 1])), `descending: ${row}`);
    }
    // The table's last row: the step, then the last measurement's Hessian and NTK spectra.
    const lastH = got.hessian.at(-1);
    const lastN = got.ntk.at(-1);
    [...lastH, ...lastN].forEach((v, j) => assert.ok(Math.abs(Number(got.last[j + 1]) - v) <= 1e-6 * Math.abs(v), `column ${j + 1}`));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the step slider restarts from θ₀ with the same bounds and writes the URL', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const before = await runTo(page, 'play=0', 0);
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    const pos = await page.evaluate(() => document.querySelector('input[name="lrMultiple"]').value);
    await setRange(page, 'lrMultiple', Number(pos) - 10);
    await page.waitForFunction((m) => window.descent.report && window.descent.report.lrMultiple < m, before.lrMultiple, { timeout: 10000 });
    const after = await page.evaluate(() => window.descent.report);
    assert.equal(after.step, 0);
    assert.equal(after.stabilityBound, before.stabilityBound);
    assert.ok(Math.abs(after.lr - after.lrMultiple * after.stabilityBound) < 1e-9 * after.lr);
    await page.waitForFunction(() => /lrMultiple=/.test(location.search));
    // The step shortcut: exactly one gradient step per key press, paused.
    await page.locator('body').press('s');
    await page.waitForFunction(() => window.descent.report?.step === 1, null, { timeout: 10000 });
    await page.evaluate(() => window.descent.step(4));
    await page.waitForFunction(() => window.descent.report?.step === 5, null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'paused');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the phase diagram fills in over a pool of workers, equals the one-worker diagram, reproduces and can be cancelled', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=0'));
    await page.waitForFunction(() => window.descent.report != null);
    /** Computes a diagram on `workers` workers (null: the page's pool) and returns its report. */
    const diagram = async (workers = null) => {
      await page.evaluate((w) => { window.descent.phase.workers = w; }, workers);
      await page.click('#btn-phase');
      await page.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 120000, polling: 200 });
      return page.evaluate(() => ({
        report: window.descent.phase.report, workers: window.descent.phase.progress.workers,
        status: document.getElementById('phase-status').textContent,
      }));
    };
    const regimes = async () => (await diagram()).report.regime;
    const pooled = await diagram();
    // Every page gets a pool of at least two workers (core/task-pool.js poolSize); the columns
    // are computed apart and recorded in one diagram: every number equals the one-worker run's.
    assert.ok(pooled.workers >= 2, `workers ${pooled.workers}`);
    assert.match(pooled.status, new RegExp(`^117 runs in [\\d.]+ s on ${pooled.workers} workers$`));
    const alone = await diagram(1);
    assert.equal(alone.workers, 1);
    assert.match(alone.status, /^117 runs in [\d.]+ s$/);
    assert.deepEqual(pooled.report, alone.report);
    const a = pooled.report.regime;
    assert.equal(a.length, 9 * 13);
    assert.ok(a.every((c) => c != null));
    // Small steps are stable at every width; the largest multiple (16 η₀) diverges at every width.
    assert.ok(a.slice(0, 9).every((c) => c === 0), `bottom row ${a.slice(0, 9)}`);
    assert.ok(a.slice(-9).every((c) => c === 2), `top row ${a.slice(-9)}`);
    assert.deepEqual(await regimes(), a);
    // Cancelled once the pool's first column is in (16 × 16: the other columns take seconds more).
    await page.selectOption('#phase-size', '16');
    await page.click('#btn-phase');
    await page.waitForFunction(() => (window.descent.phase.progress?.done ?? 0) >= 1, null, { timeout: 60000, polling: 20 });
    await page.click('#btn-phase-cancel');
    await page.waitForFunction(() => document.body.dataset.phase === 'cancelled', null, { timeout: 10000 });
    const done = await page.evaluate(() => window.descent.phase.progress.done);
    assert.ok(done >= 16 && done < 16 * 16, `done ${done}`);
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.descent.phase.progress.done), done, 'nothing arrives after Cancel');
    assert.equal(await page.evaluate(() => document.body.dataset.phase), 'cancelled');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
