// The Playground's backends in headless Chromium: WebGPU when asked for (SwiftShader here, with
// --enable-unsafe-webgpu), the CPU with a note when the browser has no WebGPU, and a GPU lost
// mid-run handing the run to the CPU without losing its steps.
// Run from the repository root after building: node --test tests/e2e/

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openPage, startBrowser, startServer, waitForStep } from './helpers.mjs';

// A small full-batch network, so SwiftShader (a CPU emulating a GPU) trains it quickly.
const SMALL = 'dataset=circles&nTrain=64&width=32&lr=0.5';

describe('Backends', () => {
  let server;
  let gpuBrowser;
  let plainBrowser;

  before(async () => {
    server = await startServer();
    gpuBrowser = await startBrowser(['--enable-unsafe-webgpu']);
    plainBrowser = await startBrowser();
  });

  after(async () => {
    await gpuBrowser?.close();
    await plainBrowser?.close();
    await server?.close();
  });

  const backend = (page) => page.evaluate(() => document.body.dataset.backend);

  test('backend=gpu trains on WebGPU and shows it', async () => {
    const { page, errors } = await openPage(gpuBrowser.context);
    await page.goto(`${server.url}?${SMALL}&backend=gpu`);
    await waitForStep(page, 20, 60000);
    assert.equal(await backend(page), 'webgpu');
    assert.match(await page.textContent('#stat-backend'), /GPU · WebGPU/);
    // SwiftShader is a GPU emulated on the CPU: the page says the CPU path would be faster.
    assert.match(await page.textContent('#backend-note'), /software emulation on the CPU .*much slower than the CPU path/);
    const first = await page.evaluate(() => window.descent.firstReport);
    await page.waitForFunction(
      (l0) => window.descent.lastReport && window.descent.lastReport.trainLoss < 0.8 * l0,
      first.trainLoss,
      { timeout: 60000, polling: 200 },
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a lost GPU hands the run to the CPU, which goes on from its steps and says so', async () => {
    const { page, errors } = await openPage(gpuBrowser.context);
    await page.goto(`${server.url}?${SMALL}&backend=gpu`);
    await waitForStep(page, 30, 60000);
    assert.equal(await backend(page), 'webgpu');
    // Paused, the page's last report is the worker's step (while playing the worker runs
    // ahead of the page, and may have taken a later snapshot than the page has seen).
    await page.click('#btn-play');
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    // The worker's pause report arrives after the button's state: read until the step holds.
    let before = -1;
    for (let seen = -2; seen !== before; ) {
      seen = before;
      await page.waitForTimeout(400);
      before = await page.evaluate(() => window.descent.lastReport.step);
    }
    await page.evaluate(() => window.descent.loseDevice());
    await page.click('#btn-play');
    await page.waitForFunction(() => document.body.dataset.backend === 'cpu', null, { timeout: 30000 });
    const note = await page.textContent('#backend-note');
    assert.ok(await page.isVisible('#backend-note'), 'the move is shown');
    assert.match(note, /GPU stopped working .*continues on the CPU from step \d+/);
    const from = Number(note.match(/from step (\d+)/)[1]);
    assert.ok(from <= before, `resumed from a snapshot (step ${from}) no later than the GPU got (${before})`);
    // Training goes on past where the GPU stopped, with finite losses and no NaN on the page.
    await waitForStep(page, before + 50, 30000);
    const r = await page.evaluate(() => window.descent.lastReport);
    assert.ok(Number.isFinite(r.trainLoss), `train loss ${r.trainLoss}`);
    assert.equal(r.diverged, null);
    assert.doesNotMatch(await page.textContent('body'), /NaN/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  /** Console messages of `type` ('info', 'warning', …) the page logs from now on. */
  const consoleOf = (page, type) => {
    const out = [];
    page.on('console', (m) => {
      if (m.type() === type) out.push(m.text());
    });
    return out;
  };

  test('without WebGPU, backend=gpu trains on the CPU and the page says why', async () => {
    const { page, errors } = await openPage(plainBrowser.context);
    const infos = consoleOf(page, 'info');
    await page.goto(`${server.url}?${SMALL}&backend=gpu`);
    await waitForStep(page, 5, 30000);
    assert.equal(await backend(page), 'cpu');
    assert.match(await page.textContent('#stat-backend'), /CPU · wasm/);
    assert.ok(await page.isVisible('#backend-note'));
    // Plain words on the page; the technical reason only in the console.
    assert.equal(await page.textContent('#backend-note'), 'This browser does not offer WebGPU, so training runs on the CPU.');
    assert.ok(infos.some((t) => /navigator\.gpu is missing or requestAdapter\(\) returned null/.test(t)), `console: ${infos}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('auto passes over a software WebGPU for a large network and says why', async () => {
    const { page, errors } = await openPage(gpuBrowser.context);
    await page.goto(`${server.url}?dataset=circles&nTrain=512&width=2048&depth=1&play=0`);
    await page.waitForFunction(() => document.body.dataset.backend != null, null, { timeout: 60000 });
    assert.equal(await backend(page), 'cpu');
    assert.match(await page.textContent('#backend-note'), /^The GPU here is a software emulation on the CPU \(.+\), slower than the CPU path, so training runs on the CPU; choose the GPU backend to use it anyway\.$/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('auto keeps a small network on the CPU without a note', async () => {
    const { page, errors } = await openPage(gpuBrowser.context);
    await page.goto(`${server.url}?${SMALL}`);
    await waitForStep(page, 5, 30000);
    assert.equal(await backend(page), 'cpu');
    assert.ok(!(await page.isVisible('#backend-note')));
    assert.deepEqual(errors, []);
    await page.close();
  });

  // The step-size page's phase diagram: each width's networks train as one batch, on WebGPU when
  // asked for. On SwiftShader the whole diagram would take minutes, so the GPU is lost as soon as
  // a width trains on it, and the CPU finishes the diagram.
  const phaseState = (page) => page.evaluate(() => ({
    status: document.body.dataset.phase,
    backend: document.body.dataset.phaseBackend,
    shown: document.querySelector('#phase-backend-now').textContent,
    note: document.querySelector('#phase-note').hidden ? null : document.querySelector('#phase-note').textContent,
    regime: window.descent.phase.report?.regime ?? null,
  }));

  test('a phase diagram on WebGPU shows it, and a lost GPU hands the diagram to the CPU', async () => {
    const { page, errors } = await openPage(gpuBrowser.context);
    await page.goto(`${server.url}step.html?play=0&phaseBackend=gpu`);
    await page.waitForFunction(() => window.descent.report != null, null, { timeout: 60000 });
    await page.click('#btn-phase');
    await page.waitForFunction(() => document.body.dataset.phaseBackend === 'webgpu', null, { timeout: 60000, polling: 20 });
    assert.match((await phaseState(page)).shown, /GPU · WebGPU/);
    await page.evaluate(() => window.descent.loseDevice());
    await page.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 180000, polling: 200 });
    const s = await phaseState(page);
    assert.equal(s.backend, 'cpu');
    assert.match(s.shown, /CPU · wasm SIMD/);
    assert.match(s.note ?? '', /^The GPU stopped working .*; the phase diagram continues on the CPU from width \d+\.$/);
    assert.equal(s.regime.length, 9 * 13);
    assert.ok(s.regime.every((c) => c != null));
    // Small steps are stable at every width; 16 η₀ diverges at every width.
    assert.ok(s.regime.slice(0, 9).every((c) => c === 0), `bottom row ${s.regime.slice(0, 9)}`);
    assert.ok(s.regime.slice(-9).every((c) => c === 2), `top row ${s.regime.slice(-9)}`);
    assert.doesNotMatch(await page.textContent('#fig-phase'), /NaN|Infinity/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('without WebGPU a phase diagram asked for on the GPU trains on the CPU and says why', async () => {
    const { page, errors } = await openPage(plainBrowser.context);
    const infos = consoleOf(page, 'info');
    await page.goto(`${server.url}step.html?play=0&phaseBackend=gpu`);
    await page.waitForFunction(() => window.descent.report != null, null, { timeout: 60000 });
    await page.click('#btn-phase');
    await page.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 120000, polling: 200 });
    const s = await phaseState(page);
    assert.equal(s.backend, 'cpu');
    assert.match(s.note ?? '', /^This browser does not offer WebGPU, so the phase diagram trains on the CPU\.$/);
    assert.ok(infos.some((t) => /navigator\.gpu is missing or requestAdapter\(\) returned null/.test(t)), `console: ${infos}`);
    assert.ok(s.regime.every((c) => c != null));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
