// End-to-end tests of the double-descent page in headless Chromium, against the built site in
// dist/. Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canvasStats, openPage, setRange, setRanges, useSite } from './helpers.mjs';

const TEST_RGB = [213, 94, 0]; // COLORS.test in plots/common.js

describe('Double descent', () => {
  const site = useSite();

  const url = (query = '') => `${site.server.url}double-descent.html${query ? `?${query}` : ''}`;

  /** Opens the page and waits until every seed is computed; returns the pooled curves. */
  async function computed(page, query, timeout = 60000) {
    await page.goto(url(query));
    // `pooled` must exist: undefined === undefined would pass before the first seed is pooled.
    await page.waitForFunction(() => document.body.dataset.status === 'done' && window.descent.pooled != null
      && window.descent.pooled.seedsDone === window.descent.pooled.seeds, null, { timeout, polling: 100 });
    return pooled(page);
  }

  function pooled(page) {
    return page.evaluate(() => {
      const p = window.descent.pooled;
      const arr = (a) => (a ? Array.from(a) : null);
      return {
        ratio: arr(p.base.ratio),
        params: p.base.params,
        n: p.base.n,
        outputs: p.base.outputs,
        theory: arr(p.base.theory),
        optimalRidge: p.base.theoryOptimalRidge,
        seedsDone: p.seedsDone,
        seeds: p.rows.map((r) => r.seed),
        test: arr(p.test.mean),
        testSe: arr(p.test.se),
        train: arr(p.train.mean),
        norm: arr(p.norm.mean),
        testError: p.testError ? arr(p.testError.mean) : null,
      };
    });
  }

  const argmax = (a) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

  /** After two animation frames: the replies received so far are pooled and drawn. */
  const drawn = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

  test('computes the model-wise curve live: peak at p = n, theory on the measurements', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const c = await computed(page, '');

    // The page's defaults are the engine's.
    const { info, controls } = await page.evaluate(() => ({
      info: window.descent.state.info.defaults,
      controls: Object.fromEntries(window.descent.controls.map((x) => [x.name, x.default])),
    }));
    for (const [name, value] of Object.entries(controls)) {
      assert.equal(value, info[name], `default of ${name}: page ${value}, engine ${info[name]}`);
    }

    // 41 sizes from p/n = 0.1 to 10 (at least 40), five seeds pooled from however many workers.
    assert.ok(c.ratio.length >= 40, `${c.ratio.length} sizes`);
    assert.ok(Math.abs(c.ratio[0] - 0.1) < 0.01 && Math.abs(c.ratio.at(-1) - 10) < 0.01);
    assert.deepEqual(c.seeds, [1, 2, 3, 4, 5]);
    // Ridgeless: the test error peaks on the grid point p = n itself.
    const peak = argmax(c.test);
    assert.equal(c.ratio[peak], 1, `peak at p/n = ${c.ratio[peak]}`);
    assert.ok(c.test[peak] > 10 * c.test[0] && c.test[peak] > 10 * c.test.at(-1), 'a pronounced peak');
    // The norm of the fitted weights peaks there too.
    assert.equal(c.ratio[argmax(c.norm)], 1);
    // Past the threshold the fit interpolates: zero train error up to rounding.
    assert.ok(c.train.at(-1) < 1e-8, `train error at p = 10n: ${c.train.at(-1)}`);
    // Theory (Mei–Montanari, n → ∞ at the same ratios) on the measurements: away from the peak,
    // where finite-n fluctuations are small, within 25 % of the mean over five seeds.
    for (const i of [0, 5, c.ratio.length - 6, c.ratio.length - 1]) {
      const rel = Math.abs(c.theory[i] - c.test[i]) / c.theory[i];
      assert.ok(rel < 0.25, `p/n = ${c.ratio[i].toFixed(2)}: theory ${c.theory[i]}, measured ${c.test[i]}`);
    }
    const stats = await canvasStats(page, '#plot-curve', TEST_RGB);
    assert.ok(stats.near > 200, `test curve pixels: ${stats.near}`);
    const text = await page.textContent('#readout');
    assert.match(text, /interpolation threshold/);
    assert.doesNotMatch(await page.textContent('body'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the optimal ridge removes the peak, re-fitted without recomputing the features', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const before = await computed(page, '');
    const fullMs = await page.evaluate(() => window.descent.state.fullMs);
    assert.ok(Number.isFinite(before.optimalRidge) && before.optimalRidge > 0);
    await page.click('#btn-optimal');
    await page.waitForFunction((r) => window.descent.pooled?.base.ridge === r && window.descent.state.workers.every((w) => w.partVersion === window.descent.state.liveVersion),
      before.optimalRidge, { timeout: 10000, polling: 50 });
    const after = await pooled(page);
    // Monotone within noise: no size is above an earlier (smaller) one by more than two standard
    // errors of the two means combined.
    for (let i = 1; i < after.test.length; i++) {
      for (let j = 0; j < i; j++) {
        const slack = 2 * Math.hypot(after.testSe[i], after.testSe[j]);
        assert.ok(after.test[i] <= after.test[j] + slack,
          `test error rises from p/n = ${after.ratio[j].toFixed(2)} (${after.test[j]}) to ${after.ratio[i].toFixed(2)} (${after.test[i]})`);
      }
    }
    // A ridge is a re-fit: the same sweep (status and timing unchanged), same seeds.
    assert.equal(await page.evaluate(() => window.descent.state.fullMs), fullMs);
    assert.deepEqual(after.seeds, before.seeds);
    assert.match(page.url(), /ridge=0\.0/);
    // Back to ridge 0 restores the peak exactly.
    await page.click('#btn-ridgeless');
    await page.waitForFunction(() => window.descent.pooled?.base.ridge === 0 && window.descent.state.workers.every((w) => w.partVersion === window.descent.state.liveVersion),
      null, { timeout: 10000, polling: 50 });
    const again = await pooled(page);
    assert.deepEqual(again.test, before.test);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a link reproduces the same numbers; sample-wise peaks at n = p', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const query = 'sweep=samples&nFeatures=100&seeds=3&seed=7&noise=0.8';
    const a = await computed(page, query);
    const b = await computed(page, query);
    assert.deepEqual(a.test, b.test);
    assert.deepEqual(a.seeds, [7, 8, 9]);
    assert.deepEqual(a.n, a.ratio.map((r) => Math.round(r * 100)));
    assert.equal(a.ratio[argmax(a.test)], 1, 'more data hurts up to n = p');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('digits: ten outputs move the threshold to p·K = n·K parameters', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const c = await computed(page, 'data=digits&seeds=2&nTrain=200&x=params');
    assert.equal(c.outputs, 10);
    const peak = argmax(c.test);
    // In parameters per training point the peak sits at K = 10, not at 1.
    assert.equal(c.params[peak] / c.n[peak], 10, `peak at p·K/n = ${c.params[peak] / c.n[peak]}`);
    assert.ok(c.testError.every((e) => e >= 0 && e <= 1));
    assert.equal(await page.isVisible('#fig-class'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('trained networks: the width sweep fills in over a pool, equals one worker\'s, peaks near parameters = n, and cancels', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await computed(page, 'seeds=2&nTrain=100');
    /** Trains the sweep on `workers` workers (null: the page's pool). */
    const sweep = async (workers = null) => {
      await page.evaluate((w) => { window.descent.trained.workers = w; }, workers);
      await page.click('#fig-trained [data-role="start"]');
      await page.waitForFunction(() => document.body.dataset.trained === 'done', null, { timeout: 90000, polling: 200 });
      return page.evaluate(() => {
        const t = window.descent.trained;
        return {
          report: t.report, ratio: Array.from(t.report.ratio), test: Array.from(t.report.testMse.mean),
          train: Array.from(t.report.trainMse.mean), progress: t.progress,
          status: document.querySelector('#fig-trained [data-role="status"]').textContent,
        };
      });
    };
    const r = await sweep();
    // Every network trained apart in a pool of at least two workers, recorded in one sweep:
    // every number equals the one-worker sweep's.
    assert.ok(r.progress.workers >= 2, `workers ${r.progress.workers}`);
    assert.match(r.status, new RegExp(`networks trained in [\\d.]+ s on ${r.progress.workers} workers$`));
    const alone = await sweep(1);
    assert.equal(alone.progress.workers, 1);
    assert.deepEqual(r.report, alone.report);
    await page.evaluate(() => { window.descent.trained.workers = null; });
    assert.equal(r.progress.cellsDone, r.progress.cellsTotal);
    const peak = argmax(r.test);
    // The peak sits near p = n: within a factor of two (the grid of widths is coarse there), and
    // well above both ends.
    assert.ok(r.ratio[peak] >= 0.5 && r.ratio[peak] <= 2, `peak at p/n = ${r.ratio[peak]}`);
    assert.ok(r.test[peak] > 2 * r.test[0] && r.test[peak] > 2 * r.test.at(-1), `peak ${r.test[peak]}, ends ${r.test[0]}, ${r.test.at(-1)}`);
    assert.ok(r.train.at(-1) < 1e-2, 'the widest networks fit the noisy labels');
    // Start again and cancel: the networks trained so far stay, no more are trained.
    await page.click('#fig-trained [data-role="start"]');
    await page.waitForFunction(() => (window.descent.trained.progress?.cellsDone ?? 0) >= 2, null, { timeout: 30000, polling: 50 });
    await page.click('#fig-trained [data-role="cancel"]');
    await page.waitForFunction(() => document.body.dataset.trained === 'cancelled', null, { timeout: 10000 });
    const stopped = await page.evaluate(() => window.descent.trained.progress.cellsDone);
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.descent.trained.progress.cellsDone), stopped);
    assert.ok(stopped >= 2 && stopped < r.progress.cellsTotal);
    assert.match(await page.textContent('#fig-trained [data-role="status"]'), /cancelled/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a new sweep drops the replies of the one it replaces, in every worker of the pool', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await computed(page, 'seeds=4&nTrain=200');
    // Every frame, every worker's part must hold seeds of the newest sweep only (a reply of a
    // replaced sweep arriving late would put its seeds there).
    await page.evaluate(() => {
      window.foreignSeeds = [];
      const check = () => {
        const { values, workers } = window.descent.state;
        for (const w of workers) {
          for (const r of w.part?.perSeed ?? []) {
            if (r.seed < values.seed || r.seed >= values.seed + values.seeds) window.foreignSeeds.push(r.seed);
          }
        }
        requestAnimationFrame(check);
      };
      check();
    });
    const runId = await page.evaluate(() => window.descent.state.runId);
    // Three sweeps in a row: the first two are replaced while their seeds are computed.
    for (const seed of [20, 30]) {
      await setRanges(page, { seed });
      await page.waitForFunction(() => window.descent.state.workers.some((w) => w.part), null, { timeout: 20000, polling: 'raf' });
    }
    await setRanges(page, { seed: 40 });
    await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60000, polling: 50 });
    await drawn(page);
    const mixed = await pooled(page);
    assert.equal(await page.evaluate(() => window.descent.state.runId), runId + 3);
    assert.deepEqual(await page.evaluate(() => window.foreignSeeds), []);
    assert.deepEqual(mixed.seeds, [40, 41, 42, 43]);
    // The same curves as the sweep opened from its link.
    const fresh = await computed(page, 'seeds=4&nTrain=200&seed=40');
    assert.deepEqual(mixed.test, fresh.test);
    assert.deepEqual(mixed.norm, fresh.norm);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('live settings moved faster than the re-fits: one in flight per worker, the newest wins', async () => {
    const { page, errors } = await openPage(site.browser.context);
    const settled = async () => {
      await page.waitForFunction(() => {
        const { workers, liveVersion } = window.descent.state;
        return workers.every((w) => !w.active || w.partVersion === liveVersion);
      }, null, { timeout: 20000, polling: 50 });
      await drawn(page);
    };
    await computed(page, 'seeds=4&nTrain=200');
    const version = await page.evaluate(() => window.descent.state.liveVersion);
    // Eleven moves within one task: each worker gets the first at once and the newest (1.0) when
    // it answers, never more than one unanswered.
    await page.evaluate(() => {
      window.sets = [];
      window.maxInFlight = 0;
      const inFlight = new Map();
      for (const w of window.descent.state.workers) {
        const { worker } = w;
        const receive = worker.onmessage; // the page's handler: it may send the next SET at once
        worker.onmessage = (e) => {
          if (e.data.version >= (inFlight.get(worker) ?? Infinity)) inFlight.delete(worker);
          receive(e);
        };
        const post = worker.postMessage.bind(worker);
        worker.postMessage = (msg, ...rest) => {
          if (msg?.type === 'set') {
            window.sets.push({ worker: w.index, values: msg.values });
            window.maxInFlight = Math.max(window.maxInFlight, inFlight.has(worker) ? 2 : 1);
            inFlight.set(worker, msg.version);
          }
          return post(msg, ...rest);
        };
      }
      const el = document.querySelector('input[name="noise"]');
      for (let i = 0; i <= 10; i++) {
        el.value = (i / 10).toFixed(1);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }
    });
    await settled();
    assert.equal(await page.evaluate(() => window.descent.state.liveVersion), version + 11);
    assert.equal(await page.evaluate(() => window.maxInFlight), 1);
    const { sets, active } = await page.evaluate(() => ({
      sets: window.sets, active: window.descent.state.workers.filter((w) => w.active).map((w) => w.index),
    }));
    for (const j of active) {
      assert.deepEqual(sets.filter((x) => x.worker === j).map((x) => x.values), [{ noise: 0 }, { noise: 1 }], `worker ${j}`);
    }
    const swept = await pooled(page);
    await page.waitForURL(/noise=1(&|$)/, { timeout: 5000 }); // the URL follows within its write interval
    // The same fit as one move to the final value.
    await computed(page, 'seeds=4&nTrain=200');
    await setRanges(page, { noise: '1.0' });
    await settled();
    const once = await pooled(page);
    assert.deepEqual(swept.test, once.test);
    assert.deepEqual(swept.train, once.train);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('an oversize sweep is refused with its memory estimate and the page keeps working', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await computed(page, 'nTrain=40&seeds=1');
    // n = 1000 with ten seeds needs more than the memory limit (split over workers or not).
    await page.evaluate(() => {
      const set = (name, v) => {
        const el = document.querySelector(`[name="${name}"]`);
        el.value = String(v);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      };
      set('seeds', 10);
    });
    await page.waitForFunction(() => document.body.dataset.status !== 'computing', null, { timeout: 60000 });
    const nTrainMax = await page.evaluate(() => document.querySelector('[name="nTrain"]').max);
    await setRange(page, 'nTrain', Number(nTrainMax));
    await page.waitForFunction(() => document.body.dataset.status === 'refused', null, { timeout: 20000 });
    const alert = await page.textContent('#alert');
    assert.match(alert, /refused/);
    assert.match(alert, /MB/);
    // Back to a small sweep: computed again.
    await setRange(page, 'nTrain', 0);
    await page.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60000 });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
