// Trusted Types: every page's Content-Security-Policy requires them for script sinks
// (`require-trusted-types-for 'script'; trusted-types descent`). Every scene page, its embed and
// the benchmark page load and start their workers (and the scenes their service worker) with no
// CSP violation and no console error, and the browser enforces the rule there: a plain string
// reaches no HTML or script sink, and no policy other than the site's own can be made.
// Run from the repository root: node --test tests/e2e/trusted-types.test.mjs   (build first)

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { openPage, useSite } from './helpers.mjs';

/** Records the page's CSP violations into `window.cspViolations` from the first script on. */
async function watchViolations(page) {
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI || e.sample}`);
    });
  });
}

/** What the page's own scripts may not do under its CSP: each entry is whether it was refused. */
function sinksRefused() {
  const refused = (f) => {
    try {
      f();
      return false;
    } catch (e) {
      return e instanceof TypeError;
    }
  };
  return {
    innerHTML: refused(() => {
      document.createElement('div').innerHTML = '<img src=x onerror=alert(1)>';
    }),
    worker: refused(() => new Worker('data:text/javascript,postMessage(1)')),
    scriptSrc: refused(() => {
      document.createElement('script').src = 'https://example.invalid/x.js';
    }),
    otherPolicy: refused(() => trustedTypes.createPolicy('other', { createHTML: (s) => s })),
  };
}

const ALL_REFUSED = { innerHTML: true, worker: true, scriptSrc: true, otherPolicy: true };

describe('Trusted Types on every page', () => {
  const site = useSite();

  for (const [id, scene] of Object.entries(SCENES)) {
    for (const query of ['play=0', 'embed']) {
      test(`${id} (${query}): workers start with no violation, and raw strings reach no sink`, async () => {
        const { page, errors } = await openPage(site.browser.context);
        await watchViolations(page);
        await page.goto(`${site.server.url}${scene.page}?${query}`);
        await page.waitForFunction(() => document.body.dataset.status && document.body.dataset.status !== 'loading',
          null, { timeout: 60000 });
        assert.notEqual(await page.evaluate(() => document.body.dataset.status), 'failed', `${id}: the engine started`);
        // The service worker (the offline copy) registers through the policy too.
        await page.waitForFunction(() => document.body.dataset.offline === 'ready', null, { timeout: 30000 });
        assert.deepEqual(await page.evaluate(() => window.cspViolations), [], id);
        assert.deepEqual(errors, [], id);
        assert.deepEqual(await page.evaluate(sinksRefused), ALL_REFUSED, id);
        await page.close();
      });
    }
  }

  test('the benchmark page starts its three engines with no violation', async () => {
    const { page, errors } = await openPage(site.browser.context);
    await watchViolations(page);
    await page.goto(`${site.server.url}bench.html?run=1&only=${encodeURIComponent('mlp 1x64')}`);
    await page.waitForFunction(() => document.body.dataset.done, null, { timeout: 240000, polling: 250 });
    assert.equal(await page.evaluate(() => window.benchResults.error), undefined);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    assert.deepEqual(errors, []);
    assert.deepEqual(await page.evaluate(sinksRefused), ALL_REFUSED);
    await page.close();
  });
});
