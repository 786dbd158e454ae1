// End-to-end tests of sharing, embedding, exporting, presets, shortcuts and keyboard access, on
// every scene, in headless Chromium against the built site in dist/.
// Run from the repository root: node --test tests/e2e/   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { evaluateOffSite, openPage, startBrowser, startServer, waitForStep } from './helpers.mjs';

/**
 * A host page on another origin (another port, served by the test itself) under a strict CSP of
 * its own; `set(body, scriptSrc)` chooses what it serves next.
 */
async function startHost() {
  let page = { body: '', scriptSrc: "'none'", frameSrc: "'none'" };
  const server = createServer((req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; frame-src ${page.frameSrc}; script-src ${page.scriptSrc}; style-src 'unsafe-inline'`,
    });
    res.end(`<!doctype html><html><head><title>host</title></head><body>${page.body}</body></html>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    set(next) {
      page = { ...page, ...next };
    },
    close: () => new Promise((r) => {
      server.close(r);
      server.closeAllConnections(); // idle keep-alive connections would hold the close open
    }),
  };
}

describe('Embed, share, export', () => {
  let server;
  let browser;
  let host;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    host = await startHost();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await host?.close();
  });

  const url = (page, query = '') => `${server.url}${page}${query ? `?${query}` : ''}`;
  const origin = () => server.url.replace(/\/$/, '');

  /** Opens `body` as a page of the host (another origin), with a strict CSP that allows frames from the site. */
  async function hostPage(page, body, scriptSrc = "'none'") {
    host.set({ body, scriptSrc, frameSrc: origin() });
    await page.goto(host.url);
  }

  /** The frame (of any depth) whose URL contains `part`, once it exists. */
  async function frameWith(page, part, index = 0) {
    for (let i = 0; i < 100; i++) {
      const frames = page.frames().filter((f) => f.url().includes(part));
      if (frames[index]) return frames[index];
      await page.waitForTimeout(100);
    }
    throw new Error(`no frame with ${part}`);
  }

  const frameStep = (f) => f.evaluate(() => Number(document.body.dataset.step ?? -1));

  // -------------------------------------------------------------------------------------------

  test('a copied link reproduces the same numbers (Playground, Lazy or rich, Double descent)', async () => {
    const { page, errors } = await openPage(browser.context);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: origin() });

    // Playground: settings from the URL, one more changed by hand, 25 steps.
    await page.goto(url('', 'play=0&dataset=spirals&width=64&depth=2&lr=0.3&seed=7'));
    await waitForStep(page, 0);
    const run0 = Number(await page.getAttribute('body', 'data-run-id'));
    await page.selectOption('select[name="activation"]', 'tanh');
    await page.waitForFunction((r) => Number(document.body.dataset.runId) > r && document.body.dataset.status === 'paused', run0);
    await page.evaluate(() => window.descent.step(25));
    await page.waitForFunction(() => window.descent.lastReport.step === 25);
    const a = await page.evaluate(() => window.descent.lastReport);
    await page.click('text=Copy link');
    await page.waitForFunction(() => document.body.dataset.link);
    const link = await page.getAttribute('body', 'data-link');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, 'the link is on the clipboard');
    const q = new URL(link).searchParams;
    for (const [k, v] of Object.entries({ dataset: 'spirals', width: '64', depth: '2', lr: '0.3', seed: '7', activation: 'tanh' })) {
      assert.equal(q.get(k), v, `${k} in the link`);
    }
    assert.ok(!q.has('embed') && !q.has('play'), 'the link carries settings, not the page mode');

    const again = await browser.context.newPage();
    await again.goto(`${link}&play=0`);
    await waitForStep(again, 0);
    await again.evaluate(() => window.descent.step(25));
    await again.waitForFunction(() => window.descent.lastReport.step === 25);
    const b = await again.evaluate(() => window.descent.lastReport);
    assert.deepEqual(b, a, 'identical report after 25 steps');
    await again.close();

    // Lazy or rich: every model's numbers after 10 steps.
    await page.goto(url('lazy.html', 'play=0&width=32&alpha=0.3&seed=5&loss=train&logx=1'));
    await waitForStep(page, 0);
    await page.evaluate(() => window.descent.step(10));
    await page.waitForFunction(() => window.descent.lastReport?.step === 10);
    const la = await page.evaluate(() => window.descent.lastReport);
    assert.equal(await page.isChecked('input[name="loss-set"][value="train"]'), true, 'view state from the URL');
    assert.equal(await page.isChecked('#loss-logx'), true);
    await page.click('text=Copy link');
    await page.waitForFunction(() => document.body.dataset.link);
    const lazyLink = await page.getAttribute('body', 'data-link');
    assert.match(lazyLink, /loss=train/);
    const lazy2 = await browser.context.newPage();
    await lazy2.goto(`${lazyLink}&play=0`);
    await waitForStep(lazy2, 0);
    await lazy2.evaluate(() => window.descent.step(10));
    await lazy2.waitForFunction(() => window.descent.lastReport?.step === 10);
    assert.deepEqual(await lazy2.evaluate(() => window.descent.lastReport), la);
    await lazy2.close();

    // Double descent: the pooled curves, and the x-axis choice.
    const ddDone = (p) => p.waitForFunction(() => document.body.dataset.status === 'done'
      && window.descent.pooled?.seedsDone === window.descent.pooled?.seeds, null, { timeout: 60000 });
    const curves = (p) => p.evaluate(() => Array.from(window.descent.pooled.test.mean));
    await page.goto(url('double-descent.html', 'seeds=2&nTrain=100&seed=4&x=params'));
    await ddDone(page);
    const da = await curves(page);
    await page.click('text=Copy link');
    await page.waitForFunction(() => document.body.dataset.link);
    const ddLink = await page.getAttribute('body', 'data-link');
    assert.match(ddLink, /x=params/);
    const dd2 = await browser.context.newPage();
    await dd2.goto(ddLink);
    await ddDone(dd2);
    assert.deepEqual(await curves(dd2), da);
    assert.equal(await dd2.inputValue('#x-axis'), 'params');
    await dd2.close();

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('an embed in a sandboxed iframe under a strict CSP trains, with minimal chrome', async () => {
    const { page, errors } = await openPage(browser.context);
    const src = url('index.html', 'embed&controls=width,lr&play=1&width=64&seed=3');
    await hostPage(page, `<iframe src="${src.replace(/&/g, '&amp;')}" width="900" height="640" sandbox="allow-scripts" title="Descent"></iframe>`);
    const f = await frameWith(page, 'index.html');
    await f.waitForFunction(() => Number(document.body.dataset.step) > 20, null, { timeout: 20000 });
    assert.equal(await f.evaluate(() => self.origin), 'null', 'the embed runs in an opaque origin');
    assert.equal(await f.evaluate(() => window.descent.state.values.width), 64);
    // Minimal chrome: no header, nav, footer or hints; the two chosen controls only.
    for (const sel of ['.site-header', '.site-footer', '.hint', '#scene-tools button']) {
      assert.equal(await f.isVisible(sel), false, `${sel} hidden`);
    }
    const shown = await f.evaluate(() => [...document.querySelectorAll('[data-control]')].filter((e) => e.getClientRects().length).map((e) => e.dataset.control));
    assert.deepEqual(shown.sort(), ['lr', 'width']);
    assert.ok(await f.isVisible('#plot-loss canvas'), 'the loss plot is drawn');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('in a sandboxed embed the phase diagram still spreads over a pool of workers', async () => {
    // The scene's worker starts the pool's workers from an opaque origin too (each a one-line
    // data: module importing the real one, trusted.js moduleWorker).
    const { page, errors } = await openPage(browser.context);
    const src = url('step.html', 'embed&play=0');
    await hostPage(page, `<iframe src="${src.replace(/&/g, '&amp;')}" width="900" height="640" sandbox="allow-scripts" title="Descent"></iframe>`);
    const f = await frameWith(page, 'step.html');
    await f.waitForFunction(() => window.descent?.report != null, null, { timeout: 20000 });
    assert.equal(await f.evaluate(() => self.origin), 'null');
    await f.evaluate(() => document.getElementById('btn-phase').click());
    await f.waitForFunction(() => document.body.dataset.phase === 'done', null, { timeout: 120000, polling: 200 });
    const { workers, regime } = await f.evaluate(() => ({ workers: window.descent.phase.progress.workers, regime: window.descent.phase.report.regime }));
    assert.ok(workers >= 2, `workers ${workers}`);
    assert.ok(regime.every((c) => c != null));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('two embeds on one page run independently; the embed dialog makes a working snippet', async () => {
    const { page, errors } = await openPage(browser.context);
    // The snippet, as the dialog writes it.
    await page.goto(url('step.html', 'play=0&width=64&lrMultiple=0.9&seed=2'));
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    await page.click('text=Embed…');
    assert.ok(await page.isVisible('dialog#embed-dialog'), 'the dialog opens');
    assert.equal(await page.getAttribute('dialog#embed-dialog', 'aria-labelledby'), 'embed-dialog-title');
    await page.check('#embed-show-lrMultiple');
    const snippet = await page.inputValue('#embed-code');
    assert.match(snippet, /sandbox="allow-scripts"/);
    assert.match(snippet, /width="960" height="640"/);
    assert.match(snippet, /embed&amp;controls=lrMultiple/);
    await page.selectOption('#embed-kind', 'component');
    assert.match(await page.inputValue('#embed-code'), /<descent-scene scene="step" width="64" lrMultiple="0.9" seed="2" controls="lrMultiple"/);
    await page.keyboard.press('Escape');
    assert.equal(await page.isVisible('dialog#embed-dialog'), false, 'Escape closes the dialog');

    // Two embeds: that snippet (starts paused) and a Playground embed that plays.
    const play = url('index.html', 'embed&play=1&dataset=sine&seed=9');
    await hostPage(page, `${snippet}\n<iframe src="${play.replace(/&/g, '&amp;')}" width="700" height="500" sandbox="allow-scripts" title="second"></iframe>`);
    const step = await frameWith(page, 'step.html');
    const pg = await frameWith(page, 'index.html');
    await pg.waitForFunction(() => Number(document.body.dataset.step) > 20, null, { timeout: 20000 });
    // Paused from the engine's start, then its first report (step 0) arrives.
    await step.waitForFunction(() => document.body.dataset.status === 'paused' && document.body.dataset.step !== undefined,
      null, { timeout: 20000 });
    assert.equal(await frameStep(step), 0, 'the snippet embed starts paused');
    assert.equal(await step.evaluate(() => window.descent.state.values.lrMultiple), 0.9);
    assert.equal(await pg.getAttribute('body', 'data-task'), 'regression');
    // Playing one leaves the other as it is: pause the Playground, play the step-size scene.
    await pg.click('#btn-play');
    await pg.waitForFunction(() => document.body.dataset.status === 'paused');
    await page.waitForTimeout(300); // the chunk in flight when it paused
    const pgStep = await frameStep(pg);
    await step.click('#btn-play');
    await step.waitForFunction(() => Number(document.body.dataset.step) > 5, null, { timeout: 20000 });
    await page.waitForTimeout(300);
    assert.equal(await frameStep(pg), pgStep, 'the paused embed stays paused');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the <descent-scene> web component renders a sandboxed embed sized to itself', async () => {
    const { page, errors } = await openPage(browser.context);
    const script = `${server.url}embed/descent-scene.js`;
    await hostPage(page, `<script type="module" src="${script}"></script>
      <descent-scene id="a" scene="step" lrmultiple="0.9" width="64" seed="3" controls="lrMultiple" play="1"
        style="width: 720px; height: 520px"></descent-scene>
      <descent-scene id="b" scene="double-descent" seeds="1" ntrain="60" style="width: 600px; height: 400px"></descent-scene>`, origin());
    const frame = await frameWith(page, 'step.html');
    await frame.waitForFunction(() => Number(document.body.dataset.step) > 3, null, { timeout: 20000 });
    assert.equal(await frame.evaluate(() => window.descent.state.values.lrMultiple), 0.9, 'attributes are settings');
    assert.equal(await frame.evaluate(() => window.descent.state.values.width), 64);
    const box = await page.evaluate(() => {
      const el = document.getElementById('a');
      const f = el.shadowRoot.querySelector('iframe');
      const r = f.getBoundingClientRect();
      return { sandbox: f.getAttribute('sandbox'), w: r.width, h: r.height, title: f.title };
    });
    assert.deepEqual(box, { sandbox: 'allow-scripts', w: 720, h: 520, title: 'Descent: Step size' });
    const dd = await frameWith(page, 'double-descent.html');
    await dd.waitForFunction(() => document.body.dataset.status === 'done', null, { timeout: 60000 });
    assert.equal(await dd.evaluate(() => window.descent.state.values.nTrain), 60);
    // Changing an attribute reloads the frame with the new setting.
    await page.evaluate(() => document.getElementById('a').setAttribute('lrmultiple', '12'));
    await page.waitForFunction(() => document.getElementById('a').shadowRoot.querySelector('iframe').src.includes('lrmultiple=12'));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('every plot exports as PNG (2×), SVG, CSV and JSON; settings and report as JSON', async () => {
    const { page, errors } = await openPage(browser.context);

    /** Clicks `button` and returns the downloaded file: {name, bytes}. */
    async function downloadOf(button) {
      const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
      return { name: dl.suggestedFilename(), bytes: await readFile(await dl.path()) };
    }

    async function checkRow(row) {
      const id = await row.getAttribute('data-plot');
      const files = {};
      for (const kind of ['PNG', 'SVG', 'CSV', 'JSON']) {
        files[kind] = await downloadOf(row.locator(`button:text-is("${kind}")`));
        assert.ok(files[kind].bytes.length > 100, `${id}.${kind} is not empty`);
        assert.match(files[kind].name, new RegExp(`-${id}\\.${kind.toLowerCase()}$`));
      }
      // SVG: well-formed XML with drawn content.
      const svg = files.SVG.bytes.toString('utf8');
      const parsed = await evaluateOffSite(browser.context, (text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        const root = doc.documentElement;
        return {
          ok: root.nodeName === 'svg' && !doc.querySelector('parsererror'),
          width: Number(root.getAttribute('width')),
          height: Number(root.getAttribute('height')),
          marks: doc.querySelectorAll('path, rect, line').length,
          texts: doc.querySelectorAll('text').length,
        };
      }, svg);
      assert.ok(parsed.ok, `${id}.svg parses`);
      assert.ok(parsed.marks > 3 && parsed.texts > 3, `${id}.svg draws axes and data: ${JSON.stringify(parsed)}`);
      // PNG: the signature, and twice the SVG's size.
      const png = files.PNG.bytes;
      assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${id}.png signature`);
      assert.equal(png.readUInt32BE(16), 2 * parsed.width, `${id}.png is 2× wide`);
      assert.equal(png.readUInt32BE(20), 2 * parsed.height, `${id}.png is 2× high`);
      // CSV: a header and rows of the same length.
      const lines = files.CSV.bytes.toString('utf8').trim().split('\n');
      assert.ok(lines.length > 1, `${id}.csv has rows`);
      const cols = (line) => {
        let n = 1;
        let quoted = false;
        for (const ch of line) {
          if (ch === '"') quoted = !quoted;
          else if (ch === ',' && !quoted) n++;
        }
        return n;
      };
      assert.ok(lines.every((l) => cols(l) === cols(lines[0])), `${id}.csv is rectangular`);
      // JSON: parses, and holds the same columns.
      const json = JSON.parse(files.JSON.bytes.toString('utf8'));
      assert.equal(json.plot, id);
      assert.ok(Object.keys(json.data).length >= 2 && Object.values(json.data)[0].length === lines.length - 1, `${id}.json columns`);
      return id;
    }

    // The Playground: every plot on the page (the boundary and the loss).
    await page.goto(url('', 'play=0&width=32&seed=4'));
    await waitForStep(page, 0);
    await page.evaluate(() => window.descent.step(20));
    await page.waitForFunction(() => window.descent.lastReport.step === 20);
    await page.click('text=Export…');
    const rows = page.locator('#export-dialog .export-row');
    const ids = [];
    for (let i = 0; i < await rows.count(); i++) ids.push(await checkRow(rows.nth(i)));
    assert.deepEqual(ids, ['boundary', 'loss']);
    const settings = JSON.parse((await downloadOf(page.locator('button:text-is("Settings (JSON)")'))).bytes.toString('utf8'));
    assert.equal(settings.settings.width, 32);
    assert.equal(settings.settings.seed, 4);
    const report = JSON.parse((await downloadOf(page.locator('button:text-is("Report (JSON)")'))).bytes.toString('utf8'));
    assert.equal(report.report.report.step, 20);
    // The Playground's weights: the engine's file of the network at step 20.
    const weights = JSON.parse((await downloadOf(page.locator('button:text-is("Weights (JSON)")'))).bytes.toString('utf8'));
    assert.equal(weights.format, 'descent-weights');
    assert.equal(weights.step, 20);
    assert.equal(weights.settings.width, 32);
    await page.keyboard.press('Escape');

    // The other scenes: their first plot with data.
    for (const [scene, query, ready] of [
      ['lazy.html', 'play=0&width=32', () => document.body.dataset.status === 'paused'],
      // The step run to its end (4,000 steps, a few seconds): exported while it plays, the CSV
      // and the JSON, downloaded one after the other, would hold different steps.
      ['step.html', 'width=64&nTrain=16', () => document.body.dataset.status === 'finished'],
      ['double-descent.html', 'seeds=1&nTrain=60', () => document.body.dataset.status === 'done'],
    ]) {
      await page.goto(url(scene, query));
      await page.waitForFunction(ready, null, { timeout: 60000 });
      await page.click('text=Export…');
      await checkRow(page.locator('#export-dialog .export-row').first());
      if (scene === 'double-descent.html') {
        assert.ok(await page.isDisabled('button:text-is("Weights (JSON)")'), 'no weights: the engine does not expose them');
        assert.match(await page.textContent('#export-dialog'), /does not expose the trained weights/);
      }
      await page.keyboard.press('Escape');
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('malformed and hostile URL parameters leave every scene working and inject nothing', async () => {
    const hostile = [
      'seed=12', // the first of repeated keys counts
      'width=%3Cimg%20src%3Dx%20onerror%3D%22window.__pwned%3D1%22%3E',
      'dataset=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E',
      'lr=NaN', 'initScale=1e999', 'seed=-1e400', 'depth=2.5abc', 'nTrain=0x10', 'centerOutput=maybe',
      'sweep=%22%3E%3Csvg%20onload%3Dwindow.__pwned%3D1%3E', 'ridge=javascript:alert(1)',
      'lrMultiple=%00%01', 'alpha=1e-30', 'x=%3Ciframe%3E', 'preset=%3Cb%3Ex%3C%2Fb%3E',
      'controls=%3Cimg%20src%3Dx%3E,width', 'present=%3Cimg%3E',
      `long=${'A'.repeat(6000)}`, `width=${'9'.repeat(1000)}`,
      'constructor=1', '__proto__=1',
    ].join('&');
    for (const [scene, { page: page0 }] of Object.entries(SCENES)) {
      const { page, errors } = await openPage(browser.context);
      const warnings = [];
      page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
      await page.goto(url(page0, hostile));
      await page.waitForFunction(() => ['playing', 'paused', 'done', 'finished', 'computing'].includes(document.body.dataset.status),
        null, { timeout: 30000 });
      const seen = await page.evaluate(() => ({
        pwned: window.__pwned,
        injected: document.querySelectorAll('body img, body script, body svg[onload], body iframe, body b').length,
        handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
        seed: window.descent.shell.api.values.seed,
        status: document.body.dataset.status,
      }));
      assert.equal(seen.pwned, undefined, `${scene}: nothing ran`);
      assert.equal(seen.injected, 0, `${scene}: no markup from the URL`);
      assert.equal(seen.handlers, 0, `${scene}: no inline handlers`);
      assert.equal(seen.seed, 12, `${scene}: the valid seed is kept`);
      assert.ok(warnings.some((w) => /URL parameters were adjusted or ignored/.test(w) && /"long" is not a setting/.test(w)),
        `${scene}: a console note names what was dropped`);
      assert.ok(warnings.every((w) => w.length < 4000), `${scene}: the note quotes values briefly`);
      await page.waitForFunction(() => !new URLSearchParams(location.search).has('long'));
      assert.deepEqual(errors, [], scene);
      await page.close();
    }
  });

  test('presets, keyboard shortcuts, presenter mode and reduced motion', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.goto(url('', 'play=0&seed=3'));
    await waitForStep(page, 0);
    await page.focus('body');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.body.dataset.status === 'playing');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    await page.waitForTimeout(200);
    const s0 = await page.evaluate(() => window.descent.lastReport.step);
    await page.keyboard.press('s');
    await page.waitForFunction((s) => window.descent.lastReport.step === s + 1, s0);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((s) => window.descent.lastReport.step === s + 2, s0);
    const run = Number(await page.getAttribute('body', 'data-run-id'));
    await page.keyboard.press('r');
    await page.waitForFunction((r) => Number(document.body.dataset.runId) > r && window.descent.lastReport.step === 0, run);
    // n: the next preset, in the controls, the select and the URL (the seed is kept).
    await page.keyboard.press('n');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('width') === '2048');
    assert.equal(await page.inputValue('#preset-select'), '0');
    assert.equal(await page.textContent('[data-control="width"] output'), '2,048');
    assert.equal(await page.evaluate(() => new URLSearchParams(location.search).get('seed')), '3');
    await page.keyboard.press('n');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('parametrization') === 'meanField');
    // A control moved by hand is no longer that preset.
    await page.selectOption('select[name="activation"]', 'tanh');
    await page.waitForFunction(() => document.getElementById('preset-select').value === '');
    await page.keyboard.press('?');
    assert.ok(await page.isVisible('dialog#help-dialog'), '? opens the help');
    assert.match(await page.textContent('dialog#help-dialog'), /next preset/);
    await page.keyboard.press('Escape');
    assert.equal(await page.isVisible('dialog#help-dialog'), false);

    // A preset named in the URL, in presenter mode: paused, large type, high contrast.
    await page.goto(url('step.html', 'present&preset=divergent'));
    await page.waitForFunction(() => document.body.dataset.status === 'paused');
    assert.equal(await page.evaluate(() => window.descent.state.values.lrMultiple), 12);
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize), '22px');
    assert.equal(await page.isVisible('.hint'), false);
    assert.equal(await page.inputValue('#preset-select'), '2');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => Number(document.body.dataset.step ?? 0)), 0, 'presenter mode does not autoplay');

    // Reduced motion: no autoplay, even when the URL asks for it.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(url('', 'play=1'));
    await waitForStep(page, 0);
    await page.waitForTimeout(400);
    assert.equal(await page.getAttribute('body', 'data-status'), 'paused');
    assert.equal(await page.evaluate(() => window.descent.lastReport.step), 0);
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('keyboard alone reaches every control, with a visible focus; plots describe their state', async () => {
    for (const [scene, { page: page0 }] of Object.entries(SCENES)) {
      const { page, errors } = await openPage(browser.context);
      await page.goto(url(page0, 'play=0'));
      await page.waitForFunction(() => document.body.dataset.status !== 'loading', null, { timeout: 30000 });
      await page.waitForTimeout(300);
      // Every visible, enabled control; a radio group counts once.
      const wanted = await page.evaluate(() => {
        const els = [...document.querySelectorAll('input, select, button, textarea, a[href]')]
          .filter((e) => !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
        const keys = new Set();
        els.forEach((e, i) => {
          e.dataset.kbd = e.type === 'radio' ? `radio:${e.name}` : `el${i}`;
          keys.add(e.dataset.kbd);
        });
        return [...keys];
      });
      const reached = new Set();
      let unlabelled = [];
      let focusVisible = true;
      await page.focus('body');
      for (let i = 0; i < wanted.length + 40 && reached.size < wanted.length; i++) {
        await page.keyboard.press('Tab');
        const f = await page.evaluate(() => {
          const e = document.activeElement;
          if (!e || e === document.body) return null;
          const name = e.labels?.[0]?.textContent.trim() || e.getAttribute('aria-label') || e.textContent.trim() || e.title;
          const style = getComputedStyle(e);
          return { key: e.dataset.kbd, name, outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
        });
        if (!f) continue;
        if (f.key) reached.add(f.key);
        if (!f.name) unlabelled.push(f.key);
        if (!f.outline) focusVisible = false;
      }
      const missed = wanted.filter((k) => !reached.has(k));
      assert.deepEqual(missed, [], `${scene}: controls Tab does not reach`);
      unlabelled = [...new Set(unlabelled)];
      assert.deepEqual(unlabelled, [], `${scene}: controls without a name`);
      assert.ok(focusVisible, `${scene}: the focused control is outlined`);
      // The plots carry a text description of their current numbers.
      await page.waitForFunction(() => [...document.querySelectorAll('.plot-now')].some((p) => /\d/.test(p.textContent)), null, { timeout: 10000 });
      assert.deepEqual(errors, [], scene);
      await page.close();
    }
  });
});
