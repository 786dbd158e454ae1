// End-to-end tests of the lazy-or-rich page in headless Chromium, against the built site in dist/.
// Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canvasStats, openPage, setRange, useSite, waitForStep } from './helpers.mjs';

// Series colours (plots/common.js MODEL_STYLES and the lazy measures in scenes/lazy/page.js).
const RGB = {
  network: [0, 114, 178],
  linearized: [213, 94, 0],
  ntk: [0, 158, 115],
  weightChange: [123, 50, 148],
  kernelDistance: [199, 124, 0],
};

describe('Lazy or rich', () => {
  const site = useSite();

  const url = (query = '') => `${site.server.url}lazy.html${query ? `?${query}` : ''}`;

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
    const { page, errors } = await openPage(site.browser.context);
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
    const { page, errors } = await openPage(site.browser.context);
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
    const { page, errors } = await openPage(site.browser.context);
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
    // The runs were trained apart over a pool of at least two workers, in any order: the same
    // sweep as one worker's, number for number.
    assert.ok(sweep.workers >= 2, `workers ${sweep.workers}`);
    assert.match(await page.textContent('#sweep-status'), new RegExp(`on ${sweep.workers} workers\\.$`));
    await page.evaluate(() => { window.descent.sweep.poolSize = 1; });
    await page.click('#btn-sweep');
    await page.waitForFunction(() => document.body.dataset.sweep === 'finished', null, { timeout: 20000, polling: 100 });
    const alone = await page.evaluate(() => window.descent.sweep);
    assert.equal(alone.workers, 1);
    assert.deepEqual([alone.points, alone.slopes, alone.runs], [sweep.points, sweep.slopes, sweep.runs]);
    await page.evaluate(() => { window.descent.sweep.poolSize = null; });

    // A long sweep, cancelled after its first width: nothing more arrives.
    await page.selectOption('#sweep-max', '4096');
    await page.selectOption('#sweep-steps', '1000');
    await page.click('#btn-sweep');
    await page.waitForFunction(() => window.descent.sweep.points.length >= 1, null, { timeout: 20000, polling: 50 });
    await page.click('#btn-sweep-cancel');
    assert.equal(await page.getAttribute('body', 'data-sweep'), 'cancelled');
    const done = await page.evaluate(() => window.descent.sweep.points.length);
    assert.match(await page.textContent('#sweep-status'), /Cancelled after \d+ of \d+ networks/);
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => window.descent.sweep.points.length), done, 'no width after Cancel');
    assert.ok(await page.isEnabled('#btn-sweep'), 'a new sweep can start');

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('2-D data shows four decision boundaries; a huge step size diverges in words', async () => {
    const { page, errors } = await openPage(site.browser.context);
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
  test('the width sweep averages several seeds, draws slopes −½ and −1, and reads out what theory expects', async () => {
    const { page, errors } = await openPage(site.browser.context);
    // An old link without sweepSeeds: three seeds per width.
    await page.goto(url('play=0&sweepMax=256&sweepSteps=100'));
    await waitForStep(page, 0);
    const expectErf = 'Expected for erf, one hidden layer: weight change slope −½, kernel distance slope −1.';
    await page.waitForFunction((t) => document.getElementById('sweep-slopes').textContent.includes(t), expectErf, { timeout: 10000 });
    const caption = await page.textContent('#sweep-caption');
    assert.ok(!/both measures\s+fall like 1\/√width/.test(caption), caption);
    for (const claim of ['only an upper bound', 'like 1/width with two or more', 'kernel distance falls like 1/width', 'for ReLU more slowly']) {
      assert.ok(caption.replace(/\s+/g, ' ').includes(claim), `caption says “${claim}”: ${caption}`);
    }

    await page.click('#btn-sweep');
    await page.waitForFunction(() => document.body.dataset.sweep === 'finished', null, { timeout: 60000, polling: 100 });
    const sweep = await page.evaluate(() => ({ ...window.descent.sweep }));
    assert.equal(sweep.seeds, 3);
    assert.equal(sweep.runs.length, 15);
    assert.deepEqual(sweep.runs.slice(0, 3).map((r) => r.width), [16, 16, 16]);
    assert.equal(new Set(sweep.runs.slice(0, 3).map((r) => r.seed)).size, 3, 'three different seeds');
    assert.deepEqual(sweep.points.map((p) => [p.width, p.runs]), [[16, 3], [32, 3], [64, 3], [128, 3], [256, 3]]);
    for (const p of sweep.points) {
      for (const k of ['weightChange', 'kernelDistance']) {
        const runs = sweep.runs.filter((r) => r.width === p.width).map((r) => r[k]);
        const geo = Math.exp(runs.reduce((a, v) => a + Math.log(v), 0) / runs.length);
        assert.ok(Math.abs(p[k] - geo) < 1e-9 * geo, `${k} at ${p.width}: ${p[k]} vs geometric mean ${geo}`);
        assert.equal(p[`${k}Min`], Math.min(...runs));
        assert.equal(p[`${k}Max`], Math.max(...runs));
      }
    }
    const readout = await page.textContent('#sweep-slopes');
    assert.match(readout, /Fitted on widths ≥ 64, 3 seeds each: weight change slope −\d\.\d\d, kernel distance slope −\d\.\d\d\./);
    assert.ok(readout.includes(expectErf), readout);
    assert.match(await page.textContent('#sweep-status'), /Done: 5 widths × 3 seeds, 100 steps each, on \d+ workers\./);

    // What the plot draws: the means, bars over the seeds' range, and two reference lines whose
    // slopes are −½ and −1 on the log–log axes.
    const drawn = await page.evaluate(() => {
      const p = window.descent.plots.sweep;
      return {
        labels: p.opts.series.map((c) => c.label),
        data: p.u.data.map((a) => Array.from(a)),
        errors: p.errors.map((e) => (e ? { lo: Array.from(e.lo), hi: Array.from(e.hi) } : null)),
      };
    });
    assert.deepEqual(drawn.labels.slice(2), ['slope −½: ∝ 1/√width', 'slope −1: ∝ 1/width']);
    const [xs, wc, , half, one] = drawn.data;
    const slopeOf = (ys) => Math.log(ys[4] / ys[2]) / Math.log(xs[4] / xs[2]);
    assert.ok(Math.abs(slopeOf(half) + 0.5) < 1e-9, `reference −½: ${slopeOf(half)}`);
    assert.ok(Math.abs(slopeOf(one) + 1) < 1e-9, `reference −1: ${slopeOf(one)}`);
    for (let i = 0; i < xs.length; i++) {
      const [lo, hi] = [drawn.errors[0].lo[i], drawn.errors[0].hi[i]];
      assert.ok(lo < wc[i] && wc[i] < hi, `weight-change bar at ${xs[i]}: ${lo} < ${wc[i]} < ${hi}`);
    }

    // Another activation and depth: the readout names their slopes; one seed keeps its key.
    await page.goto(url('play=0&activation=relu&depth=2&sweepSeeds=1'));
    await waitForStep(page, 0);
    await page.waitForFunction(() => document.getElementById('sweep-slopes').textContent.includes('Expected for ReLU'), null, { timeout: 10000 });
    const relu = await page.textContent('#sweep-slopes');
    assert.ok(relu.includes('Expected for ReLU, 2 hidden layers: weight change slope −1, kernel distance slope −½.'), relu);
    assert.ok(relu.includes('falls more slowly') && relu.includes('seed noise, not a trend'), relu);
    assert.equal(await page.inputValue('#sweep-seeds'), '1');
    assert.equal(new URL(page.url()).searchParams.get('sweepSeeds'), '1');
    await page.goto(url('play=0&parametrization=meanField'));
    await waitForStep(page, 0);
    await page.waitForFunction(() => /mean-field parametrisation the network does not become lazy/.test(document.getElementById('sweep-slopes').textContent), null, { timeout: 10000 });

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the NTK spectrum leaves out the empirical eigenvalues below the f32 rounding floor', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=0'));
    await waitForStep(page, 0);
    await page.waitForFunction(() => window.descent.state.gram?.eigInit, null, { timeout: 15000 });
    await page.waitForTimeout(200);
    const s = await page.evaluate(() => {
      const g = window.descent.state.gram;
      const p = window.descent.plots.spectrum;
      return {
        floor: g.eigFloor,
        eigInit: Array.from(g.eigInit),
        eigNow: Array.from(g.eigNow),
        eigAnalytic: Array.from(g.eigAnalytic),
        drawn: p.u.data.map((a) => Array.from(a)),
        markers: p.markers,
      };
    });
    const n = s.eigInit.length;
    assert.equal(n, 64);
    // n · ε_f32 with ε_f32 = 2⁻²³.
    assert.ok(Math.abs(s.floor - 64 * 2 ** -23) < 1e-15, `floor ${s.floor}`);
    const [, init, now, analytic] = s.drawn;
    for (const [name, drawn, raw] of [['θ₀', init, s.eigInit], ['now', now, s.eigNow]]) {
      const cut = s.floor * raw[0];
      const shown = drawn.filter((v) => v != null);
      assert.ok(shown.length >= 5, `${name}: ${shown.length} eigenvalues drawn`);
      assert.ok(shown.every((v) => v >= cut), `${name}: nothing drawn below ${cut}: ${shown}`);
      assert.ok(raw.filter((v) => v < cut).length > n / 2, `${name}: most of the tail is rounding noise and left out`);
      assert.equal(shown.length, raw.filter((v) => v >= cut).length, `${name}: everything above the floor is drawn`);
    }
    // The analytic (f64) spectrum is drawn below that floor.
    assert.ok(analytic.some((v) => v != null && v < s.floor * s.eigAnalytic[0]), 'analytic values below the f32 floor');
    assert.equal(s.markers.length, 1);
    assert.ok(Math.abs(s.markers[0].y - s.floor * s.eigInit[0]) < 1e-12 * s.eigInit[0]);
    assert.match((await page.textContent('#fig-spectrum .caption')).replace(/\s+/g, ' '), /single precision \(f32\).*rounding noise and are left out/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('subscripts sit right after their letter (K₀, Kₜ), also in flex headings', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=0'));
    await waitForStep(page, 0);
    await page.waitForFunction(() => window.descent.state.gram, null, { timeout: 15000 });
    const check = () => page.evaluate(() => {
      const out = [];
      for (const sub of document.querySelectorAll('#fig-gram sub, .metrics-lazy sub, #fig-lazy sub')) {
        const prev = sub.previousSibling;
        if (!prev || prev.nodeType !== Node.TEXT_NODE || !prev.textContent.length) continue;
        const r = document.createRange();
        r.setStart(prev, prev.textContent.length - 1);
        r.setEnd(prev, prev.textContent.length);
        const letter = r.getBoundingClientRect();
        const box = sub.getBoundingClientRect();
        if (!letter.width || !box.width) continue; // not shown
        out.push({ text: `${prev.textContent.slice(-1)}${sub.textContent}`, gap: box.left - letter.right, where: sub.parentElement.id || sub.parentElement.className });
      }
      return out;
    });
    let subs = await check();
    const names = subs.map((s) => s.text);
    for (const want of ['K0', 'Kt']) assert.ok(names.includes(want), `${want} among ${names}`);
    for (const s of subs) assert.ok(Math.abs(s.gap) < 1.5, `${s.text} in ${s.where}: ${s.gap.toFixed(1)} px between letter and subscript`);
    assert.equal((await page.textContent('#gram-now-title')).trim(), 'now Kt');
    await page.check('#gram-diff');
    subs = await check();
    for (const s of subs) assert.ok(Math.abs(s.gap) < 1.5, `${s.text} in ${s.where}: ${s.gap.toFixed(1)} px (difference shown)`);
    assert.equal((await page.textContent('#gram-now-title')).trim(), 'change Kt − K0');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the training points are drawn on top of the four fitted curves', async () => {
    const { page, errors } = await openPage(site.browser.context);
    // Trained until the curves run through the points: each point's centre must still show its fill.
    await reportAt(page, 'width=256', 300);
    await page.waitForTimeout(300);
    const res = await page.evaluate(() => {
      const u = window.descent.plots.fit.u;
      const c = u.root.querySelector('canvas');
      const ctx = c.getContext('2d');
      const { trainX, trainY } = window.descent.state.setup;
      const seen = [];
      for (let i = 0; i < trainX.length; i++) {
        const px = Math.round(u.valToPos(trainX[i], 'x', true));
        const py = Math.round(u.valToPos(trainY[i], 'y', true));
        seen.push(Array.from(ctx.getImageData(px, py, 1, 1).data.slice(0, 3)));
      }
      return { seen, legend: Array.from(u.root.querySelectorAll('.u-legend .u-series')).map((e) => e.textContent.trim()) };
    });
    assert.ok(res.legend.some((l) => l.includes('training points')), JSON.stringify(res.legend));
    const fill = [213, 94, 0]; // COLORS.test, the training points' fill
    const isFill = (rgb) => rgb.every((v, k) => Math.abs(v - fill[k]) <= 30);
    const shown = res.seen.filter(isFill).length;
    assert.ok(shown >= 0.95 * res.seen.length, `${shown} of ${res.seen.length} training points visible: ${JSON.stringify(res.seen.filter((c) => !isFill(c)))}`);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
