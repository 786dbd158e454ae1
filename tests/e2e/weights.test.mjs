// End-to-end test of the trained weights on the Playground: export (the engine's file, through
// the export dialog), rewind to θ₀, import (settings, URL and step restored, training goes on),
// and a bad file refused with its message while the run goes on.
// Run from the repository root: node --test tests/e2e/weights.test.mjs (build first).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { openPage, useSite, waitForStep } from './helpers.mjs';

describe('Trained weights', () => {
  const site = useSite();

  const url = (query = '') => `${site.server.url}${query ? `?${query}` : ''}`;
  const sceneUrl = (path) => `${site.server.url}${path}`;
  const report = (page) => page.evaluate(() => window.descent.lastReport);

  /** Chooses `content` (a string) as the file of the "Import weights…" chooser. */
  async function chooseFile(page, name, content) {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#btn-import-weights')]);
    await chooser.setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(content) });
  }

  test('export, rewind to θ₀, import and continue; a bad file is refused and the run goes on', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(url('play=0&width=24&seed=5&lr=0.7'));
    await waitForStep(page, 0);
    const first = await page.evaluate(() => window.descent.firstReport);
    await page.evaluate(() => window.descent.step(30));
    await page.waitForFunction(() => window.descent.lastReport?.step === 30);
    const at30 = await report(page);

    // Export: the file downloaded is the engine's.
    await page.click('text=Export…');
    const button = page.locator('#export-dialog button:text-is("Weights (JSON)")');
    assert.ok(!(await button.isDisabled()), 'the Playground exports its weights');
    const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
    assert.equal(dl.suggestedFilename(), 'descent-playground-weights.json');
    const text = (await readFile(await dl.path())).toString('utf8');
    const file = JSON.parse(text);
    assert.equal(file.format, 'descent-weights');
    assert.equal(file.version, 1);
    assert.equal(file.scene, 'playground');
    assert.equal(file.step, 30);
    assert.equal(file.seed, 5);
    assert.equal(file.settings.width, 24);
    assert.equal(file.settings.lr, 0.7);
    assert.deepEqual(file.architecture.hidden, [24]);
    assert.equal(file.architecture.outputs, 1);
    assert.deepEqual(file.layers.map((l) => l.W.shape), [[2, 24], [24, 1]]);
    assert.equal(file.layers[0].W.data.length, 48);
    await page.keyboard.press('Escape');

    // Rewind: step 0, the first report again, the history starts over.
    await page.click('#btn-rewind');
    await page.waitForFunction(() => window.descent.lastReport?.step === 0 && document.body.dataset.step === '0');
    const rewound = await report(page);
    assert.equal(rewound.trainLoss, first.trainLoss, 'θ₀ again: the first loss, exactly');
    assert.equal(rewound.testLoss, first.testLoss);
    assert.equal(await page.evaluate(() => window.descent.history.step.length), 1);

    // Change a setting, then import: the file's settings come back (controls and URL) and the
    // run stands at the file's step with the losses it had there.
    await page.goto(url('play=0&width=40&seed=2'));
    await waitForStep(page, 0);
    await chooseFile(page, 'w.json', text);
    await page.waitForFunction(() => window.descent.lastReport?.step === 30, null, { timeout: 20000 });
    const imported = await report(page);
    assert.equal(imported.trainLoss, at30.trainLoss, 'the imported run is where the exported one was');
    assert.equal(imported.testLoss, at30.testLoss);
    await page.waitForFunction(() => document.getElementById('stat-step').textContent === '30');
    const query = new URL(page.url()).searchParams;
    assert.equal(query.get('width'), '24');
    assert.equal(query.get('seed'), '5');
    assert.equal(query.get('lr'), '0.7');
    assert.equal(await page.evaluate(() => window.descent.shell.api.values.width), 24);

    // Training continues from there.
    await page.evaluate(() => window.descent.step(5));
    await page.waitForFunction(() => window.descent.lastReport?.step === 35);
    await page.waitForFunction(() => document.getElementById('stat-step').textContent === '35');

    // A bad file: its message on the page, the run kept (step and settings unchanged).
    await chooseFile(page, 'bad.json', JSON.stringify({ ...file, layers: file.layers.slice(0, 1) }));
    await page.waitForFunction(() => /not imported/.test(document.getElementById('alert').textContent));
    const alert = await page.textContent('#alert');
    assert.match(alert, /The weights were not imported: this weights file cannot be used: it has 1 layers, the architecture needs 2/);
    assert.match(alert, /The current run goes on\./);
    assert.ok(await page.isVisible('#alert'));
    await chooseFile(page, 'junk.json', 'not json');
    await page.waitForFunction(() => /it is not JSON/.test(document.getElementById('alert').textContent));
    assert.equal((await report(page)).step, 35, 'the run is kept');
    assert.equal(new URL(page.url()).searchParams.get('width'), '24');
    await page.evaluate(() => window.descent.step(2));
    await page.waitForFunction(() => window.descent.lastReport?.step === 37);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Lazy or rich exports and imports its network; Step size exports its live run', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(sceneUrl('lazy.html?play=0&width=32&nTrain=24'));
    await page.waitForFunction(() => document.body.dataset.status === 'paused', null, { timeout: 60000 });
    await page.evaluate(() => window.descent.step(10));
    await page.waitForFunction(() => window.descent.lastReport?.step === 10, null, { timeout: 30000 });
    await page.click('text=Export…');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-dialog button:text-is("Weights (JSON)")')]);
    const text = (await readFile(await dl.path())).toString('utf8');
    const file = JSON.parse(text);
    assert.equal(file.scene, 'lazy');
    assert.equal(file.step, 10);
    assert.equal(file.settings.width, 32);
    assert.equal(typeof file.settings.ridge, 'number');
    await page.keyboard.press('Escape');

    await page.goto(sceneUrl('lazy.html?play=0&width=16&nTrain=24'));
    await page.waitForFunction(() => document.body.dataset.status === 'paused', null, { timeout: 60000 });
    await chooseFile(page, 'lazy.json', text);
    await page.waitForFunction(() => window.descent.lastReport?.step === 10, null, { timeout: 30000 });
    assert.equal(new URL(page.url()).searchParams.get('width'), '32');
    // A Playground file is refused here, by name.
    await chooseFile(page, 'pg.json', JSON.stringify({ ...file, scene: 'playground' }));
    await page.waitForFunction(() => /not imported/.test(document.getElementById('alert').textContent));
    assert.match(await page.textContent('#alert'), /a network of the “playground” scene, not of “lazy”/);
    assert.equal((await report(page)).step, 10);

    await page.goto(sceneUrl('step.html?width=32&nTrain=16'));
    await page.waitForFunction(() => Number(document.body.dataset.step) > 10, null, { timeout: 60000 });
    assert.equal(await page.locator('#btn-import-weights').count(), 0, 'Step size imports no weights');
    assert.equal(await page.locator('#btn-rewind').count(), 1);
    await page.click('text=Export…');
    const [sdl] = await Promise.all([page.waitForEvent('download'), page.click('#export-dialog button:text-is("Weights (JSON)")')]);
    const stepFile = JSON.parse((await readFile(await sdl.path())).toString('utf8'));
    assert.equal(stepFile.scene, 'step');
    assert.ok(stepFile.step > 10);
    assert.deepEqual(stepFile.architecture.hidden, [32]);
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
