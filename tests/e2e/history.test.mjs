// The Playground's loss history (www/js/core/history.js) without a browser: thinning keeps the early
// steps and every spike, and the convergence rule says "converged" only when the train loss has
// stopped moving. Run from the repository root: node --test tests/e2e/history.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONVERGENCE, EARLY_STEPS, settled, thinHistory } from '../../www/js/core/history.js';

/** A history of `n` points at steps `stepAt(i)` with train loss `lossAt(step)` (test = 2 × train). */
function history(n, stepAt, lossAt) {
  const h = { step: [], train: [], test: [] };
  for (let i = 0; i < n; i++) {
    const s = stepAt(i);
    h.step.push(s);
    h.train.push(lossAt(s));
    h.test.push(2 * lossAt(s));
  }
  return h;
}

describe('Loss history', () => {
  test('thinning keeps every early step and a spike, and halves the older points after them', () => {
    // Steps 0..EARLY_STEPS one by one, then every 10 steps; a catapult-like spike at step 3 and
    // a one-point spike late in the older half.
    const late = EARLY_STEPS + 10 * 400;
    const lossAt = (s) => (s === 3 ? 50 : s === late ? 7 : 1 / (1 + s));
    const h = history(EARLY_STEPS + 1 + 2000, (i) => (i <= EARLY_STEPS ? i : EARLY_STEPS + 10 * (i - EARLY_STEPS)), lossAt);
    const before = h.step.length;
    for (let round = 0; round < 3; round++) {
      const n = h.step.length;
      thinHistory(h);
      const after = n - EARLY_STEPS - 1;
      // The early steps stay; of the points after them, the older half is halved.
      assert.equal(h.step.length, EARLY_STEPS + 1 + Math.ceil(Math.floor(after / 2) / 2) + (after - Math.floor(after / 2)));
      assert.deepEqual(h.step.slice(0, EARLY_STEPS + 1), Array.from({ length: EARLY_STEPS + 1 }, (_, i) => i));
      assert.equal(h.train[3], 50, 'the early spike is kept');
      assert.ok(h.step.includes(late), `round ${round}: the late spike (step ${late}) survives`);
      assert.equal(h.train[h.step.indexOf(late)], 7);
      // Steps stay increasing, and each kept point keeps its own train and test losses.
      for (let i = 1; i < h.step.length; i++) assert.ok(h.step[i] > h.step[i - 1]);
      h.step.forEach((s, i) => {
        assert.equal(h.train[i], lossAt(s));
        assert.equal(h.test[i], 2 * lossAt(s));
      });
    }
    assert.ok(h.step.length < 0.8 * before);
  });

  test('converged: only once the train loss stayed within 0.1 % over the last half of training', () => {
    const every = (k) => (i) => i * k;
    // Exponential convergence to a floor: the rule holds from some step on, not before.
    const floor = (s) => 0.2 + 0.5 * Math.exp(-s / 300);
    const conv = history(400, every(25), floor);
    const firstSettled = conv.step.find((_, i) => settled({ step: conv.step.slice(0, i + 1), train: conv.train.slice(0, i + 1), test: [] }));
    // The rule by hand: |L(s/2) − L(s)| = 0.5 e^{−s/600}(1 − e^{−s/600}) ≤ 0.001 L(s) ≈ 2e-4 from s ≈ 4,700.
    assert.ok(firstSettled >= 4500 && firstSettled <= 5000, `settled from step ${firstSettled}`);
    assert.equal(settled(conv), true);

    // A loss still falling as a power law (the usual case) never counts as converged.
    const power = history(2000, every(500), (s) => 1 / Math.sqrt(1 + s));
    for (let n = 2; n <= power.step.length; n += 97) {
      assert.equal(settled({ step: power.step.slice(0, n), train: power.train.slice(0, n), test: [] }), false);
    }

    // Flat from the start (nothing learned yet): not converged, however long.
    assert.equal(settled(history(1000, every(100), () => 0.7)), false);

    // Flat, but before the first minStep steps: not judged yet.
    const early = history(100, every(9), (s) => (s === 0 ? 1 : 0.3));
    assert.ok(early.step.at(-1) < CONVERGENCE.minStep);
    assert.equal(settled(early), false);

    // Moving again in the window (a late drop) undoes it; a missing loss is never settled.
    const drop = history(400, every(25), (s) => (s < 9000 ? floor(s) : 0.1));
    assert.equal(settled(drop), false);
    const nan = history(400, every(25), (s) => (s === 9000 ? NaN : floor(s)));
    assert.equal(settled(nan), false);

    // The window starts at the last point at or before s/2, however sparse the points: here the
    // loss fell from 0.5 (step 600) to 0.2 (step 10,000), so it has not settled.
    assert.equal(settled({ step: [0, 600, 10000], train: [1, 0.5, 0.2], test: [] }), false);
    assert.equal(settled({ step: [0, 600, 10000], train: [1, 0.2, 0.2], test: [] }), true);
  });
});
