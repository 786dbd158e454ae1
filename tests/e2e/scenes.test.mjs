// The one list of scenes (www/js/scenes/index.js) drives the pages: every scene's page renders the nav
// with a link to every scene, in the list's order, and marks itself; its header and title name it
// as the list does; a live scene has Play and Step; an embed hides the nav; the npm package ships
// every page. Run from the repository root after building: node --test tests/e2e/scenes.test.mjs

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SCENES, TOUR } from '../../www/js/scenes/index.js';
import { DIST, openPage, useSite } from './helpers.mjs';

describe('The scene list drives every page', () => {
  const site = useSite();

  for (const [id, scene] of Object.entries(SCENES)) {
    test(`${id}: the nav links every scene and marks this one; the header names it; embed hides the nav`, async () => {
      const { page, errors } = await openPage(site.browser.context);
      await page.goto(`${site.server.url}${scene.page}?play=0`);
      await page.waitForFunction(() => document.body.dataset.status && document.body.dataset.status !== 'loading',
        null, { timeout: 60000 });
      const seen = await page.evaluate(() => ({
        links: [...document.querySelectorAll('header nav.scene-nav a')].map((a) => ({
          href: a.getAttribute('href'), text: a.textContent, current: a.getAttribute('aria-current'), visible: a.getClientRects().length > 0,
        })),
        label: document.querySelector('header nav.scene-nav').getAttribute('aria-label'),
        header: document.querySelector('.site-header .scene').textContent,
        title: document.title,
        live: ['#btn-play', '#btn-step'].map((s) => !!document.querySelector(s)?.getClientRects().length),
      }));
      assert.deepEqual(seen.links, [{ href: TOUR.page, text: TOUR.title, current: null, visible: true },
        ...Object.entries(SCENES).map(([k, s]) => ({
          href: s.page, text: s.title, current: k === id ? 'page' : null, visible: true,
        }))], `${id}: the nav (the guided tour first)`);
      assert.equal(seen.label, 'Scenes');
      assert.equal(seen.header, scene.title, `${id}: the header names the scene`);
      assert.equal(seen.title, `Descent · ${scene.title}`);
      assert.deepEqual(seen.live, [scene.live, scene.live], `${id}: Play and Step ${scene.live ? '' : 'not '}shown`);

      // An embed has no nav: the header is hidden.
      const embed = await openPage(site.browser.context);
      await embed.page.goto(`${site.server.url}${scene.page}?embed`);
      await embed.page.waitForFunction(() => document.body.dataset.status && document.body.dataset.status !== 'loading',
        null, { timeout: 60000 });
      assert.equal(await embed.page.evaluate(() => document.querySelector('nav.scene-nav').getClientRects().length), 0,
        `${id}: embed hides the nav`);
      assert.deepEqual(embed.errors, [], `${id} embed`);
      await embed.page.close();
      assert.deepEqual(errors, [], id);

      // The nav leads to the next scene's page, which marks itself (leaving a page while its
      // workers load aborts requests: no error check after this).
      const [, next] = Object.entries(SCENES).find(([k]) => k !== id);
      await Promise.all([page.waitForURL((u) => u.pathname.endsWith(`/${next.page}`)), page.click(`nav.scene-nav a[href="${next.page}"]`)]);
      await page.waitForFunction((t) => document.querySelector('nav.scene-nav a[aria-current="page"]')?.textContent === t,
        next.title, { timeout: 30000 });
      await page.close();
    });
  }

  test('the npm package of the site ships every scene page', async () => {
    const pkg = JSON.parse(await readFile(join(DIST, 'package.json'), 'utf8'));
    for (const { page } of [TOUR, ...Object.values(SCENES)]) assert.ok(pkg.files.includes(page), `package.json files: ${page}`);
  });
});
