// The guided tour (tour.html): its chapters and links, its figures (each a scene embedded with
// <descent-scene>, created near the viewport, training only while in view, at most two at once),
// reduced motion, the print handout, and the numbers its prose gives, each checked against the
// engine at the setting the prose names.
// Run from the repository root: node --test tests/e2e/tour.test.mjs   (build first: bash scripts/build.sh)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openPage, useSite } from './helpers.mjs';

const CHAPTERS = [
  { id: 'kernels', scene: 'lazy.html', settings: 'dataset=circles&width=64&alpha=0.1', controls: 'alpha' },
  { id: 'ntk', scene: 'lazy.html', settings: 'width=4096', controls: 'width' },
  { id: 'width', scene: 'lazy.html', settings: 'width=16&ensemble=16', controls: 'width' },
  { id: 'step-size', scene: 'step.html', settings: 'lrmultiple=1.5', controls: 'lrMultiple' },
  { id: 'initialisation', scene: 'index.html', settings: 'width=256&parametrization=meanField&initscale=0.1&lr=0.02&logx=1', controls: 'initScale,parametrization' },
  { id: 'double-descent', scene: 'double-descent.html', settings: '', controls: 'ridge', computed: true },
  { id: 'weak-labels', scene: 'weak-labels.html', settings: '', controls: 'bag,purified' },
];

/** The tour's own view of its figures (tour.js window.descentTour). */
const figures = (page) => page.evaluate(() => window.descentTour.figures);

/** The frame of chapter `id`'s figure (the iframe in the <descent-scene>'s open shadow root). */
async function frameOf(page, id) {
  const handle = await page.locator(`#${id} descent-scene iframe`).elementHandle();
  const frame = await handle?.contentFrame();
  assert.ok(frame, `${id}: its figure has a frame`);
  return frame;
}

/** Scrolls chapter `id` into view and waits until its figure trains (or, computed once, is computed). */
async function visit(page, id, computed = false) {
  await page.evaluate((c) => document.getElementById(c).scrollIntoView(), id);
  await page.waitForFunction(([c, once]) => {
    const f = window.descentTour.figures.find((x) => x.chapter === c);
    return once ? f.status === 'done' : f.status === 'playing' && f.step > 0;
  }, [id, computed], { timeout: 60000, polling: 100 });
}

describe('Guided tour', () => {
  const site = useSite();
  let tour; // the page the scrolling test leaves for the print test
  let tourErrors;

  test('chapters in order, 150–300 words each, with a try-this line, references and their links', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}tour.html`);
    await page.waitForFunction(() => window.descentTour != null);
    const seen = await page.evaluate(() => ({
      headings: [...document.querySelectorAll('h1, h2, h3, h4')].map((h) => h.tagName),
      nav: [...document.querySelectorAll('nav.scene-nav a')].map((a) => [a.getAttribute('href'), a.getAttribute('aria-current')]),
      chapters: [...document.querySelectorAll('section.chapter')].map((c) => {
        const prose = [...c.querySelectorAll('.chapter-text > p:not(.try):not(.refs)')].map((p) => p.textContent).join(' ');
        const fig = c.querySelector('figure.tour-figure');
        return {
          id: c.id,
          words: prose.split(/\s+/).filter((w) => /\p{L}|\d/u.test(w)).length,
          tries: [...c.querySelectorAll('.try')].map((p) => p.textContent.trim()),
          refs: c.querySelector('.refs')?.textContent ?? '',
          chapterLink: c.querySelector('a.chapter-link')?.getAttribute('href'),
          present: c.querySelector('a.present-link')?.href,
          full: c.querySelector('a.scene-link')?.href,
          described: !!fig && document.getElementById(fig.getAttribute('aria-describedby'))?.textContent.length > 0,
          tocLink: !!document.querySelector(`.tour-toc a[href="#${c.id}"]`),
        };
      }),
    }));
    assert.equal(seen.headings[0], 'H1');
    assert.ok(seen.headings.slice(1).every((h) => h === 'H2'), `headings in order: ${seen.headings}`);
    assert.deepEqual(seen.nav[0], ['tour.html', 'page'], 'the tour first in the nav, marked current');
    assert.deepEqual(seen.nav.slice(1).map(([h]) => h), ['index.html', 'lazy.html', 'double-descent.html', 'step.html', 'weak-labels.html']);
    assert.deepEqual(seen.chapters.map((c) => c.id), CHAPTERS.map((c) => c.id));
    for (const [i, c] of seen.chapters.entries()) {
      assert.ok(c.words >= 150 && c.words <= 300, `${c.id}: ${c.words} words`);
      assert.equal(c.tries.length, 1, `${c.id}: one try-this line`);
      assert.match(c.tries[0], /^Try this:/);
      assert.match(c.refs, /\(\d{4}\)/, `${c.id}: references with years`);
      assert.equal(c.chapterLink, `#${c.id}`);
      const want = CHAPTERS[i];
      const full = new URL(c.full);
      assert.ok(full.pathname.endsWith(`/${want.scene}`), `${c.id}: ${c.full}`);
      assert.equal(full.search.toLowerCase(), want.settings ? `?${want.settings}`.toLowerCase() : '');
      assert.ok(new URL(c.present).searchParams.has('present'), `${c.id}: presenter link ${c.present}`);
      assert.ok(c.described, `${c.id}: the figure has a text description`);
      assert.ok(c.tocLink, `${c.id}: in the table of contents`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('figures train in view and pause out of it, at most two at once; the first trains at once', async (t) => {
    const { page, errors } = await openPage(site.browser.context);
    tour = page;
    tourErrors = errors;
    await page.addInitScript(() => {
      window.tourProbe = { longest: 0, longTasks: [], maxPlaying: 0 };
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          window.tourProbe.longTasks.push([Math.round(e.duration), e.attribution?.map((a) => `${a.containerType}:${a.containerSrc}`).join(' ')]);
          window.tourProbe.longest = Math.max(window.tourProbe.longest, e.duration);
        }
      }).observe({ type: 'longtask', buffered: true });
      setInterval(() => {
        const n = window.descentTour?.figures.filter((f) => f.status === 'playing').length ?? 0;
        window.tourProbe.maxPlaying = Math.max(window.tourProbe.maxPlaying, n);
      }, 50);
    });
    const t0 = Date.now();
    await page.goto(`${site.server.url}tour.html`);
    await page.waitForFunction(() => window.descentTour?.figures[0].step > 0, null, { timeout: 60000, polling: 20 });
    const firstMs = Date.now() - t0;
    t.diagnostic(`first figure trained ${firstMs} ms after navigation`);

    // At load only the figures near the viewport exist: never all seven.
    const atLoad = await figures(page);
    assert.ok(atLoad.filter((f) => f.created).length <= 2, `frames at load: ${atLoad.filter((f) => f.created).map((f) => f.chapter)}`);

    // Each frame carries its chapter's settings and controls, in embed mode, paused by default.
    let previous = null;
    for (const c of CHAPTERS) {
      await visit(page, c.id, c.computed);
      const figs = await figures(page);
      const f = figs.find((x) => x.chapter === c.id);
      const src = new URL(f.src);
      assert.ok(src.pathname.endsWith(`/${c.scene}`), `${c.id}: ${f.src}`);
      for (const [k, v] of new URLSearchParams(c.settings)) assert.equal(src.searchParams.get(k), v, `${c.id}: ${k}`);
      assert.equal(src.searchParams.get('controls'), c.controls);
      assert.ok(src.searchParams.has('embed') && !src.searchParams.has('play'), `${c.id}: an embed that starts paused`);
      assert.ok(f.text.length > 0 || c.computed, `${c.id}: the figure describes what it shows`);
      if (previous && !previous.computed) {
        // The chapter left behind stops training.
        await page.waitForFunction((p) => window.descentTour.figures.find((x) => x.chapter === p).status !== 'playing',
          previous.id, { timeout: 10000 });
        const before = (await figures(page)).find((x) => x.chapter === previous.id).step;
        await page.waitForTimeout(2500);
        const after = (await figures(page)).find((x) => x.chapter === previous.id).step;
        assert.equal(after, before, `${previous.id}: paused out of view`);
      }
      previous = c;
    }
    assert.ok(await page.evaluate(() => window.tourProbe.maxPlaying) <= 2, 'never more than two figures train');

    // Scrolling back to the top by wheel, as a reader would: the main thread never stalls long.
    await page.evaluate(() => {
      window.tourProbe.longest = 0;
      window.tourProbe.longTasks = [];
    });
    await page.mouse.move(300, 400);
    for (let i = 0; i < 60; i++) {
      await page.mouse.wheel(0, -250);
      await page.waitForTimeout(60);
    }
    await page.waitForTimeout(1000);
    const probe = await page.evaluate(() => window.tourProbe);
    t.diagnostic(`scrolling: ${JSON.stringify(probe.longTasks)} long tasks, longest ${Math.round(probe.longest)} ms; at most ${probe.maxPlaying} figures trained at once`);
    assert.ok(probe.maxPlaying <= 2, 'never more than two figures train');
    const top = await figures(page);
    assert.ok(top.filter((f) => f.status === 'playing').length <= 2);
    assert.deepEqual(errors, []);
  });

  test('the print view: each figure that ran as a picture, the others as their link; a PDF renders', async () => {
    const page = tour;
    await page.waitForFunction(() => window.descentTour.figures.filter((f) => f.printed).length >= 5, null, { timeout: 20000 });
    await page.emulateMedia({ media: 'print' });
    const seen = await page.evaluate(() => [...document.querySelectorAll('figure.tour-figure')].map((f) => {
      const img = f.querySelector('.tour-print img');
      return {
        frame: f.querySelector('.tour-frame').getClientRects().length > 0,
        img: !img.hidden && img.getClientRects().length > 0 && img.complete && img.naturalWidth > 0,
        link: f.querySelector('.print-link').getClientRects().length > 0,
        nav: document.querySelector('nav.scene-nav').getClientRects().length > 0,
      };
    }));
    for (const [i, s] of seen.entries()) {
      assert.equal(s.frame, false, `figure ${i + 1}: no live frame in print`);
      assert.ok(s.link, `figure ${i + 1}: its link printed`);
      assert.equal(s.nav, false);
    }
    assert.ok(seen.filter((s) => s.img).length >= 5, `pictures: ${seen.map((s) => s.img)}`);
    const pdf = await page.pdf({ format: 'A4' });
    assert.ok(pdf.length > 20000, `a PDF of ${pdf.length} bytes`);
    await page.emulateMedia({ media: 'screen' });
    assert.deepEqual(tourErrors, []);
    await page.close();
  });

  test('a chapter link opens its chapter, and only the figures near it load', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}tour.html#double-descent`);
    await page.waitForFunction(() => window.descentTour?.figures.find((f) => f.chapter === 'double-descent').status === 'done',
      null, { timeout: 60000 });
    const seen = await page.evaluate(() => ({
      top: document.getElementById('double-descent').getBoundingClientRect().top,
      created: window.descentTour.figures.filter((f) => f.created).map((f) => f.chapter),
    }));
    assert.ok(Math.abs(seen.top) < 40, `the chapter at the top of the window: ${seen.top}`);
    assert.ok(!seen.created.includes('kernels'), `chapter 1's figure not loaded: ${seen.created}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('with reduced motion every figure starts paused; the embed heeds play and pause from its parent only', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(`${site.server.url}tour.html`);
    await page.waitForFunction(() => window.descentTour?.figures[0].status === 'paused', null, { timeout: 60000 });
    await page.waitForTimeout(2500);
    const f = (await figures(page))[0];
    assert.equal(f.status, 'paused');
    assert.equal(f.step, 0);
    assert.equal(f.want, false);
    const frame = await frameOf(page, 'kernels');
    assert.equal(await frame.evaluate(() => document.getElementById('btn-play').textContent.trim()), 'Play');
    assert.match(await page.textContent('#kernels-now'), /press Play/);

    // The embed's host channel: a play from any window but its parent is ignored; the parent's is heard.
    await frame.evaluate(() => window.postMessage({ descent: 1, type: 'play' }, '*'));
    await page.waitForTimeout(1500);
    assert.equal(await frame.evaluate(() => document.body.dataset.status), 'paused', 'a play from the frame itself is ignored');
    await page.evaluate(() => document.querySelector('#kernels descent-scene').frame.contentWindow.postMessage({ descent: 1, type: 'play' }, '*'));
    await frame.waitForFunction(() => Number(document.body.dataset.step) > 0, null, { timeout: 20000 });
    await page.evaluate(() => document.querySelector('#kernels descent-scene').frame.contentWindow.postMessage({ descent: 1, type: 'pause' }, '*'));
    await frame.waitForFunction(() => document.body.dataset.status === 'paused', null, { timeout: 10000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the numbers in the prose are what the engine gives at those settings', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(`${site.server.url}tour.html`);
    const text = (id) => page.textContent(`#${id} .chapter-text`);

    // Chapter 1, circles, width 64: at α = 0.1 the kernel moves far from Θ₀ (more than 100 %).
    assert.match(await text('kernels'), /width 64/);
    assert.match(await text('kernels'), /α = 0\.1/);
    await visit(page, 'kernels');
    const ch1 = await frameOf(page, 'kernels');
    await ch1.waitForFunction(() => window.descent.lastReport?.step >= 500, null, { timeout: 30000 });
    const rich = await ch1.evaluate(() => window.descent.lastReport.kernelDistance);
    assert.ok(rich > 1, `α = 0.1: kernel distance ${rich}`);

    // Chapter 2, sine, width 4096, step size 0.1: after 500 steps the weights moved < 5 %, the kernel < 1 %.
    assert.match(await text('ntk'), /after 500 steps, the weights have moved by less than 5% and the kernel by less\s+than 1%/);
    assert.match(await text('ntk'), /width 4,096/);
    assert.match(await text('ntk'), /64 noisy samples/);
    assert.match(await text('ntk'), /step size 0\.1/);
    await visit(page, 'ntk');
    const ch2 = await frameOf(page, 'ntk');
    await ch2.waitForFunction(() => window.descent.lastReport?.step >= 500, null, { timeout: 60000 });
    const v2 = await ch2.evaluate(() => window.descent.state.values);
    assert.deepEqual([v2.width, v2.nTrain, v2.lr], [4096, 64, 0.1]);
    const r2 = await ch2.evaluate(() => ({ step: window.descent.lastReport.step, wc: window.descent.lastReport.weightChange, kd: window.descent.lastReport.kernelDistance }));
    assert.ok(r2.step >= 500 && r2.step < 2000 && r2.wc < 0.05 && r2.kd < 0.01, `width 4096 at step ${r2.step}: weights ${r2.wc}, kernel ${r2.kd}`);

    // Chapter 3, width 16: by step 20,000 the weights moved > ½ their norm, the kernel > 2× its own.
    assert.match(await text('width'), /width 16\. By step 20,000 its readouts show the weights moved by more\s+than half their initial norm and the kernel by more than twice its own size/);
    await visit(page, 'width');
    const ch3 = await frameOf(page, 'width');
    await ch3.waitForFunction(() => window.descent.lastReport?.step >= 20000, null, { timeout: 60000 });
    const r3 = await ch3.evaluate(() => ({ step: window.descent.lastReport.step, wc: window.descent.lastReport.weightChange, kd: window.descent.lastReport.kernelDistance, width: window.descent.state.values.width }));
    assert.equal(r3.width, 16);
    assert.ok(r3.wc > 0.5 && r3.kd > 2, `width 16 at step ${r3.step}: weights ${r3.wc}, kernel ${r3.kd}`);

    // Chapter 4, width 1,024, 32 samples, η = 1.5 η₀: the linearisation diverges, the network's
    // loss spikes above its start and ends below 0.05 after the run's 4,000 steps (a catapult).
    assert.match(await text('step-size'), /width 1,024 on 32 sine\s+samples at η = 1\.5 η₀/);
    assert.match(await text('step-size'), /4,000 steps the network's\s+loss is below 0\.05/);
    await visit(page, 'step-size');
    const ch4 = await frameOf(page, 'step-size');
    await ch4.waitForFunction(() => document.body.dataset.status === 'finished', null, { timeout: 60000 });
    const r4 = await ch4.evaluate(() => {
      const r = window.descent.lastReport;
      return { step: r.step, loss: Array.from(r.loss), lin: r.linearizedDiverged, regime: document.getElementById('regime-name').textContent, width: window.descent.state.values.width, n: window.descent.state.values.nTrain };
    });
    assert.equal(r4.step, 4000);
    assert.deepEqual([r4.width, r4.n], [1024, 32]);
    assert.ok(r4.lin != null, 'the linearisation diverged');
    assert.ok(Math.max(...r4.loss) > r4.loss[0] && r4.loss.at(-1) < 0.05, `loss from ${r4.loss[0]} up to ${Math.max(...r4.loss)}, ending ${r4.loss.at(-1)}`);
    assert.match(r4.regime, /catapult/i);

    // Chapter 5, mean-field, width 256, s = 0.1, η = 0.02: the plateau (loss still ≥ 0.49 at step 100) and the drop.
    assert.match(await text('initialisation'), /width 256, initialisation scale s = 0\.1 and\s+step size 0\.02/);
    await visit(page, 'initialisation');
    const ch5 = await frameOf(page, 'initialisation');
    await ch5.waitForFunction(() => window.descent.history.step.at(-1) >= 20000, null, { timeout: 60000 });
    const r5 = await ch5.evaluate(() => {
      const h = window.descent.history;
      const at = (s) => h.train[h.step.findIndex((x) => x >= s)];
      return { start: h.train[0], at100: at(100), at20k: at(20000) };
    });
    assert.ok(r5.at100 >= 0.49 && r5.at100 >= 0.97 * r5.start, `plateau: ${JSON.stringify(r5)}`);
    assert.ok(r5.at20k < 0.15, `then the drop: ${JSON.stringify(r5)}`);

    // Chapter 6, n = 300, d = 100, σ = 0.5, p/n from 0.1 to 10, five seeds: the peak at p/n = 1; the best ridge 0.051.
    const t6 = await text('double-descent');
    for (const re of [/inputs in 100 dimensions/, /n = 300 training points/, /standard\s+deviation 0\.5/, /p\/n\s+from 0\.1 to 10/, /over five seeds/, /peaks at p\/n = 1/, /ridge to 0\.051/]) assert.match(t6, re);
    await visit(page, 'double-descent', true);
    const ch6 = await frameOf(page, 'double-descent');
    const r6 = await ch6.evaluate(() => {
      const p = window.descent.pooled;
      const test = Array.from(p.test.mean);
      const peak = test.reduce((b, v, i) => (v > test[b] ? i : b), 0);
      const v = window.descent.state.values;
      return { ratio: Array.from(p.base.ratio), peak: p.base.ratio[peak], n: v.nTrain, best: p.base.theoryOptimalRidge, seeds: p.seedsDone, dim: v.dim, noise: v.noise };
    });
    assert.equal(r6.peak, 1);
    assert.deepEqual([r6.n, r6.dim, r6.noise, r6.seeds], [300, 100, 0.5, 5]);
    assert.ok(Math.abs(r6.ratio[0] - 0.1) < 1e-9 && Math.abs(r6.ratio.at(-1) - 10) < 1e-9);
    assert.equal(r6.best.toFixed(3), '0.051');

    // Chapter 7: 1,024 digits in 64 bags of 16, width 64.
    assert.match(await text('weak-labels'), /width 64 by DLLP on 8×8\s+handwritten digits \(10 classes, 1,024 training\s+images in 64 bags of 16\)/);
    await visit(page, 'weak-labels');
    const ch7 = await frameOf(page, 'weak-labels');
    const r7 = await ch7.evaluate(() => ({ ...window.descent.state.values, setup: window.descent.state.setup }));
    assert.deepEqual([r7.instances, r7.bag, r7.width, r7.learner], [1024, 16, 64, 'dllp']);
    assert.equal(Math.floor(r7.instances / r7.bag), 64);

    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the other half of the try-this lines: α = 100 keeps the kernel still; η = 0.9 η₀ is stable, 12 η₀ diverges', async () => {
    const { page, errors } = await openPage(site.browser.context);
    // Chapter 1's try-this: at α = 100 the kernel barely moves.
    await page.goto(`${site.server.url}lazy.html?dataset=circles&width=64&alpha=100&play=1`);
    await page.waitForFunction(() => window.descent?.lastReport?.step >= 500, null, { timeout: 60000 });
    const lazy = await page.evaluate(() => window.descent.lastReport.kernelDistance);
    assert.ok(lazy < 0.05, `α = 100: kernel distance ${lazy}`);
    // Chapter 4's: 0.9 η₀ no spike, the linearisation converges; 12 η₀ the network diverges too.
    for (const [m, diverges] of [[0.9, false], [12, true]]) {
      await page.goto(`${site.server.url}step.html?lrMultiple=${m}&play=1`);
      await page.waitForFunction(() => ['finished', 'diverged'].includes(document.body.dataset.status), null, { timeout: 60000 });
      const r = await page.evaluate(() => {
        const x = window.descent.lastReport;
        return { loss: Array.from(x.loss), lin: x.linearizedDiverged, diverged: x.diverged };
      });
      if (diverges) assert.ok(r.diverged != null, `${m} η₀: the network diverges`);
      else {
        assert.equal(r.diverged ?? null, null);
        assert.equal(r.lin ?? null, null, `${m} η₀: the linearisation converges`);
        assert.ok(Math.max(...r.loss) <= r.loss[0] * 1.0001, `${m} η₀: no spike`);
      }
    }
    assert.match(await (async () => {
      await page.goto(`${site.server.url}tour.html`);
      return page.textContent('#step-size .try');
    })(), /0\.9 η₀ \(stable, no spike\), then to 12 η₀ \(the network\s+diverges too\)/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
