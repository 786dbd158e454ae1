// End-to-end tests of the page layout, in headless Chromium against the built site in dist/:
// embeds fit their frame, the headline controls sit by the plots on a phone, the step-size
// numbers fit their cards, and no drop-down cuts its text. Everything is measured from bounding
// boxes (CSS px; a tolerance of 1 px absorbs sub-pixel rounding).
// Run from the repository root: node --test tests/e2e/layout.test.mjs   (build first)

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { openPage, startBrowser, startServer } from './helpers.mjs';

const PX = 1; // sub-pixel rounding of bounding boxes

/** Waits until the page answered (its status left "loading") and then `ms` more. */
async function settle(page, ms = 1500) {
  await page.waitForFunction(() => document.body.dataset.status && document.body.dataset.status !== 'loading',
    null, { timeout: 60000 });
  await page.waitForTimeout(ms);
  // Layout is done when two measurements a frame apart agree.
  await page.waitForFunction(() => new Promise((resolve) => {
    const sig = () => [...document.querySelectorAll('.plots .plot, .stage > *, .panel')]
      .map((e) => { const r = e.getBoundingClientRect(); return `${r.top},${r.height}`; }).join(';');
    const a = sig();
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(sig() === a)));
  }), null, { timeout: 10000, polling: 100 });
}

/**
 * What an embed shows in its first screen: the frame size, the first row of plot cards (and
 * their charts), the blocks of chrome above them, the kept controls, the step-size ruler labels.
 */
function embedLayout() {
  const box = (e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, width: r.width }; };
  const shown = (e) => e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const cards = [...document.querySelectorAll('.plots > *')].filter(shown);
  const top = Math.min(...cards.map((c) => box(c).top));
  const row = cards.filter((c) => box(c).top < top + 4);
  const blocks = [document.querySelector('.panel'), ...document.querySelectorAll('.stage > :not(.plots)'), ...row]
    .filter(shown).map((e) => ({ name: e.id || e.className.split(' ')[0], ...box(e) }));
  return {
    inner: { width: innerWidth, height: innerHeight },
    scrollY,
    row: row.map((c) => ({
      id: c.id,
      ...box(c),
      charts: [...c.querySelectorAll('.plot')].filter(shown).map((p) => ({ id: p.id, ...box(p.querySelector('.u-wrap') ?? p) })),
    })),
    blocks,
    controls: [...document.querySelectorAll('[data-control]')].filter(shown).map((e) => ({ name: e.dataset.control, ...box(e) })),
    helps: [...document.querySelectorAll('.control .help')].filter(shown).length,
    labels: ['ruler-bound-label', 'ruler-cat-label'].map((id) => document.getElementById(id)).filter(shown)
      .map((e) => ({ id: e.id, ...box(e), card: box(e.closest('.card')) })),
  };
}

const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > PX
  && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > PX;

/** The assertions every embed meets in a frame of its size. */
function checkEmbed(m, what) {
  assert.equal(m.scrollY, 0, `${what}: starts unscrolled`);
  assert.ok(m.row.length >= 1, `${what}: a plot is shown`);
  for (const card of m.row) {
    assert.ok(card.top >= -PX && card.bottom <= m.inner.height + PX,
      `${what}: the plot card ${card.id} (${card.top.toFixed(0)}–${card.bottom.toFixed(0)} px) lies within the ${m.inner.height} px frame`);
    assert.ok(card.charts.length >= 1, `${what}: ${card.id} has a chart`);
    for (const c of card.charts) {
      // A chart squeezed below 150 px is no longer a readable plot.
      assert.ok(c.height >= 150, `${what}: ${c.id} is ${c.height.toFixed(0)} px high`);
      assert.ok(c.bottom <= m.inner.height + PX && c.right <= m.inner.width + PX, `${what}: ${c.id} is inside the frame`);
    }
  }
  for (let i = 0; i < m.blocks.length; i++) {
    for (let j = i + 1; j < m.blocks.length; j++) {
      assert.ok(!overlap(m.blocks[i], m.blocks[j]), `${what}: ${m.blocks[i].name} and ${m.blocks[j].name} overlap`);
    }
  }
  for (const l of m.labels) {
    assert.ok(l.top >= l.card.top - PX && l.bottom <= l.card.bottom + PX, `${what}: the ruler label ${l.id} stays inside its card`);
    for (const b of m.blocks) {
      if (b.name !== 'card') assert.ok(!overlap(l, b), `${what}: the ruler label ${l.id} overlaps ${b.name}`);
    }
  }
  // The kept controls are compact: one line each (label, slider, value), no help text, and all of
  // them together take at most a quarter of the frame.
  for (const c of m.controls) assert.ok(c.height <= 44, `${what}: the control ${c.name} is ${c.height.toFixed(0)} px high`);
  assert.equal(m.helps, 0, `${what}: no help text`);
  if (m.controls.length) {
    const span = Math.max(...m.controls.map((c) => c.bottom)) - Math.min(...m.controls.map((c) => c.top));
    assert.ok(span <= m.inner.height / 4, `${what}: the controls take ${span.toFixed(0)} px`);
  }
}

/** A host page on another origin (served by the test), for the web component. */
async function startHost(siteOrigin) {
  let body = '';
  const server = createServer((req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; frame-src ${siteOrigin}; script-src ${siteOrigin}; style-src 'unsafe-inline'`,
    });
    res.end(`<!doctype html><html><head><title>host</title></head><body style="margin: 0">${body}</body></html>`);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    set(next) { body = next; },
    close: () => new Promise((r) => {
      server.close(r);
      server.closeAllConnections(); // the browser keeps idle connections open
    }),
  };
}

describe('Layout', () => {
  let server;
  let browser;
  let dialogSize;

  before(async () => {
    server = await startServer();
    browser = await startBrowser();
    // The size the embed dialog suggests.
    const { page } = await openPage(browser.context);
    await page.goto(`${server.url}step.html?play=0`);
    await page.waitForFunction(() => document.body.dataset.status === 'paused', null, { timeout: 30000 });
    await page.click('text=Embed…');
    dialogSize = { width: Number(await page.inputValue('#embed-width')), height: Number(await page.inputValue('#embed-height')) };
    await page.close();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('every embed shows its first row of plots in the frame, at the dialog size and at 640 × 480', async () => {
    assert.ok(dialogSize.width >= 240 && dialogSize.height >= 200, `the dialog suggests ${dialogSize.width} × ${dialogSize.height}`);
    for (const size of [dialogSize, { width: 640, height: 480 }]) {
      for (const [scene, { page: file, headline }] of Object.entries(SCENES)) {
        const variants = ['', `&controls=${headline.join(',')}`];
        if (scene === 'step') variants.push('&controls=lrMultiple');
        for (const v of variants) {
          const what = `${scene} ${size.width}×${size.height}${v}`;
          const page = await browser.context.newPage();
          const errors = [];
          page.on('pageerror', (e) => errors.push(e.message));
          page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
          await page.setViewportSize(size);
          // Playing: the numbers change length as training goes, and the layout must follow.
          await page.goto(`${server.url}${file}?embed${v}&play=1`);
          await settle(page, 2000);
          checkEmbed(await page.evaluate(embedLayout), what);
          if (v) {
            const shown = (await page.evaluate(embedLayout)).controls.map((c) => c.name).sort();
            assert.deepEqual(shown, new URLSearchParams(v.slice(1)).get('controls').split(',').sort(), `${what}: the kept controls`);
          }
          assert.deepEqual(errors, [], what);
          await page.close();
        }
      }
    }
  });

  test('the web component fills its element, and the embed inside refits when the element changes size', async () => {
    const siteOrigin = server.url.replace(/\/$/, '');
    const host = await startHost(siteOrigin);
    try {
      const { page, errors } = await openPage(browser.context);
      await page.setViewportSize({ width: 1100, height: 900 });
      host.set(`<script type="module" src="${siteOrigin}/embed/descent-scene.js"></script>`
        + `<descent-scene id="s" scene="step" controls="lrMultiple" play="1" style="display: block; width: ${dialogSize.width}px; max-width: 100%; height: ${dialogSize.height}px"></descent-scene>`);
      await page.goto(host.url);
      let frame = null;
      for (let i = 0; i < 100 && !frame; i++) {
        frame = page.frames().find((f) => f.url().includes('step.html'));
        if (!frame) await page.waitForTimeout(100);
      }
      assert.ok(frame, 'the component made its frame');
      for (const height of [dialogSize.height, 480]) {
        await page.evaluate((h) => { document.getElementById('s').style.height = `${h}px`; }, height);
        await settle(frame, 1500);
        const el = await page.evaluate(() => {
          const r = document.getElementById('s').getBoundingClientRect();
          return { width: r.width, height: r.height };
        });
        const m = await frame.evaluate(embedLayout);
        assert.ok(Math.abs(m.inner.width - el.width) <= PX && Math.abs(m.inner.height - el.height) <= PX,
          `the frame (${m.inner.width} × ${m.inner.height}) fills the element (${el.width} × ${el.height})`);
        assert.equal(el.height, height);
        checkEmbed(m, `<descent-scene> ${el.width}×${el.height}`);
      }
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await host.close();
    }
  });

  test('on a phone the headline controls are in the first screen or directly above the main plot; the step-size ruler labels fit', async () => {
    for (const [scene, { page: file, headline }] of Object.entries(SCENES)) {
      const { page, errors } = await openPage(browser.context);
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${server.url}${file}?play=0`);
      // The step-size ruler: wait for the catapult bound and its label.
      if (scene === 'step') await page.waitForFunction(() => !document.getElementById('ruler-mark-cat').hidden, null, { timeout: 30000 });
      await settle(page, 500);
      const m = await page.evaluate(() => {
        const box = (e) => { const r = e.getBoundingClientRect(); return { top: r.top + scrollY, bottom: r.bottom + scrollY }; };
        const group = document.querySelector('.controls fieldset');
        const card = [...document.querySelectorAll('.plots > *')].find((e) => e.getClientRects().length);
        return {
          names: [...group.querySelectorAll('[data-control]')].map((e) => e.dataset.control),
          inputs: [...group.querySelectorAll('input, select')].map((e) => ({ name: e.name, ...box(e) })),
          group: box(group),
          card: box(card),
          width: document.documentElement.scrollWidth,
          // The step-size ruler's labels: each within the card, none over another.
          ruler: [...document.querySelectorAll('.ruler-card .ruler-mark span, .ruler-card .ruler-scale span')]
            .filter((e) => e.getClientRects().length).map((e) => {
              const r = e.getBoundingClientRect();
              const c = e.closest('.card').getBoundingClientRect();
              return { text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom, inside: r.left >= c.left - 1 && r.right <= c.right + 1 };
            }),
        };
      });
      assert.deepEqual(m.names, headline, `${scene}: the first group holds the headline controls`);
      assert.ok(m.width <= 390, `${scene}: nothing sticks out sideways (${m.width} px)`);
      for (const [i, a] of m.ruler.entries()) {
        assert.ok(a.inside, `${scene}: the ruler label "${a.text}" lies within its card`);
        for (const b of m.ruler.slice(i + 1)) assert.ok(!overlap(a, b), `${scene}: the ruler labels "${a.text}" and "${b.text}" overlap`);
      }
      const firstScreen = m.inputs.every((i) => i.bottom <= 844);
      // Directly above the main plot: nothing between the group and the plot's card (the gap of
      // the column, 0.9rem, and no more).
      const gap = m.card.top - m.group.bottom;
      const beside = gap >= 0 && gap <= 24;
      assert.ok(firstScreen || beside,
        `${scene}: headline controls at ${m.group.top.toFixed(0)}–${m.group.bottom.toFixed(0)} px, main plot card at ${m.card.top.toFixed(0)} px`);
      assert.deepEqual(errors, [], scene);
      await page.close();
    }
  });

  test('the step-size numbers fit their cards at 1280 × 900: one row, at most two lines, nothing cut', async () => {
    const { page, errors } = await openPage(browser.context);
    await page.setViewportSize({ width: 1280, height: 900 });
    // The default run is a catapult: the linearised loss diverges within a few steps, so the
    // cards show their longest texts ("diverged at step N", "s (2/η = x)").
    await page.goto(`${server.url}step.html?play=1`);
    await page.waitForFunction(() => /diverged at step/.test(document.getElementById('m-lin').textContent)
      && /2\/η/.test(document.getElementById('m-sharp').textContent), null, { timeout: 30000 });
    await settle(page, 300);
    const cards = await page.evaluate(() => [...document.querySelectorAll('.metrics-step .metric')].map((c) => {
      const lines = (e) => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight));
      const v = c.querySelector('.metric-value');
      const l = c.querySelector('.metric-label');
      return {
        text: v.textContent,
        top: c.getBoundingClientRect().top,
        valueLines: lines(v),
        labelLines: lines(l),
        cut: v.scrollWidth > v.clientWidth + 1 || l.scrollWidth > l.clientWidth + 1 || c.scrollWidth > c.clientWidth + 1,
      };
    }));
    assert.equal(cards.length, 5);
    for (const c of cards) {
      assert.ok(Math.abs(c.top - cards[0].top) <= PX, `"${c.text}" is in the one row of cards`);
      assert.ok(c.valueLines <= 2 && c.labelLines <= 2, `"${c.text}" takes ${c.valueLines} lines (label ${c.labelLines})`);
      assert.equal(c.cut, false, `"${c.text}" is not cut`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('no drop-down on any scene cuts the text of any of its options', async () => {
    const pages = [...Object.values(SCENES).map((s) => s.page), 'step.html?embed&controls=activation,parametrization,dataset',
      'double-descent.html?embed&controls=sweep,data,features,teacher'];
    for (const size of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
      for (const file of pages) {
        const { page, errors } = await openPage(browser.context);
        await page.setViewportSize(size);
        await page.goto(`${server.url}${file}${file.includes('?') ? '&' : '?'}play=0`);
        await settle(page, 300);
        // Each option, alone in a copy of its select that is as wide as its content (same place,
        // same styles), gives the width that option needs; the select must be at least as wide.
        const cut = await page.evaluate(() => {
          const out = [];
          let count = 0;
          for (const s of document.querySelectorAll('select')) {
            if (!s.getClientRects().length) continue;
            count++;
            const have = s.getBoundingClientRect().width;
            for (const o of s.options) {
              const c = s.cloneNode(false);
              c.removeAttribute('id');
              c.removeAttribute('name');
              c.style.cssText += ';position:absolute;visibility:hidden;width:auto;min-width:0;max-width:none;flex:none';
              c.append(o.cloneNode(true));
              s.after(c);
              const need = c.getBoundingClientRect().width;
              c.remove();
              if (need > have + 0.5) out.push(`${s.id || s.name}: "${o.textContent}" needs ${need.toFixed(0)} px, has ${have.toFixed(0)}`);
            }
          }
          return { out, count };
        });
        assert.ok(cut.count >= 1, `${file}: has drop-downs to check`);
        assert.deepEqual(cut.out, [], `${file} at ${size.width} px`);
        assert.deepEqual(errors, [], file);
        await page.close();
      }
    }
  });
});
