// End-to-end test of the benchmark page (dist/bench.html, which scripts/bench.mjs drives): one
// small matmul and one small MLP on Descent and on both peers (TensorFlow.js's wasm and CPU
// backends, jax-js's wasm backend), under the page's Content-Security-Policy. The figures are
// speeds and are not checked against each other here (that is the benchmark's job); this checks
// that every engine loads from dist/vendor, runs, and reports a positive, finite figure.
// Run from the repository root: node --test tests/e2e/bench.test.mjs   (build first)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openPage, useSite } from './helpers.mjs';

describe('Benchmark page', () => {
  const site = useSite();

  test('Descent, TensorFlow.js and jax-js each run a product and an MLP on the page', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}bench.html?run=1&only=${encodeURIComponent('gemm NN 128,mlp 1x64')}`);
    await page.waitForFunction(() => document.body.dataset.done, null, { timeout: 240000, polling: 250 });
    const r = await page.evaluate(() => window.benchResults);
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual(errors, []);

    const engines = ['descent', 'tfjsWasm', 'tfjsCpu', 'jaxjsWasm'];
    const positive = (what, x) => assert.ok(Number.isFinite(x) && x > 0, `${what}: ${x}`);
    assert.equal(r.gemm.length, 1);
    assert.equal(r.mlp.length, 1);
    for (const e of engines) {
      positive(`matmul NN 128 on ${e}`, r.gemm[0][e]);
      positive(`MLP 1 × 64 on ${e}`, r.mlp[0][e]);
    }
    // The peers train the same network: one hidden layer of 64 units on 2 inputs, 257 parameters.
    assert.equal(r.mlp[0].params, 257);
    assert.equal(r.mlp[0].tfjsWasmParams, 257);
    assert.equal(r.mlp[0].jaxjsWasmParams, 257);
    // What the page says it ran: jax-js on one thread of its wasm backend.
    assert.equal(r.info.jaxjsWasm.backend, 'wasm');
    assert.equal(r.info.jaxjsWasm.threads, 1);
  });
});
