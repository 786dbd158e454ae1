// A seeded fuzzer of the scenes' links: for every scene, LINKS random links (200 by default) built
// from the scene's own keys (its settings, view options and mode keys, read from the page at run
// time, so that a new setting is fuzzed as soon as it exists), each with valid values mixed with
// hostile ones (empty, huge, negative, NaN, Infinity, 1e308, -0, hex, whitespace, unicode, long
// strings, markup and script text, javascript: URLs, raw and broken percent-encoding), repeated
// keys, keys in other cases, and keys the scene does not know (__proto__, constructor, markup).
//
// After every link the test asserts: no uncaught error, no console error, no failed request, no
// CSP violation; no element made from the link's text (a canary: the markup in the links carries
// the marker "dfz", sets window.__dfz in its handlers, and a MutationObserver installed before the
// page's first script records any element or attribute that looks injected); no NaN, undefined or
// Infinity in the page's visible text; the address bar rewritten to a query that the page reads
// back with no note and the same settings; and the page settled in a state it can account for:
// it trains (the step counter advances past the run's first report), a computed scene has drawn a
// result, it waits paused on the link's run, the run ended, or the alert says why (refused,
// diverged). An engine failure (status "failed") fails the test.
//
// Two paths, both a link's own (shell.js readLink reads the query in both):
//   - LOADS links per scene (20 by default) are opened as pages (page.goto): createScene reads
//     location.search at load, with every mode key (embed, controls, present, play, preset);
//   - the others are reached with Back (history.back() to an entry pushed with the link's
//     query): shell.js followLink reads location.search with the same readLink and applies it
//     to the running page without a reload, half of them on a page that trains and half on a
//     paused one. These links leave out embed and present, which would reload the page. On the
//     double descent page three in four go on while their sweep computes (the fourth waits for
//     a result), as a reader's next change would.
// A page load takes about 1 s here (0.8 s on the playground to 1.7 s on double descent: modules,
// the engine's workers, the first report), a link followed by Back about 0.3 s (0.1–0.6 s):
// 1,000 loads would take most of twenty minutes on two cores.
//
// Measured on the 2-core development machine, shared (load average 8–11 throughout), with the
// defaults (5 × 200 links, 100 of them loads): 394 s in all (playground 61 s, lazy 74 s, double
// descent 125 s, step 71 s, weak labels 58 s), the test's node, browser and workers using 369 s
// of CPU between them; a live page trains all the while, so an unshared machine has a core more.
//   node --test --test-concurrency=1 tests/e2e/fuzz.test.mjs
//
// Reproducing a failure: the message names the seed, the scene, the link's index and its URL;
// open the URL (or rerun with DESCENT_FUZZ_SEED=<seed>). DESCENT_FUZZ_SEED (a number) sets the
// seed, DESCENT_FUZZ_LINKS the links per scene, DESCENT_FUZZ_LOADS how many of them are loads,
// DESCENT_FUZZ_SCENES (ids, comma-separated) the scenes; DESCENT_FUZZ_TRACE=1 logs every link's
// verdict and time.
// Run from the repository root after building: node --test tests/e2e/fuzz.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCENES } from '../../www/js/scenes/index.js';
import { openPage, useSite } from './helpers.mjs';

const SEED = envInt('DESCENT_FUZZ_SEED', 0x5eed2026);
const LINKS = envInt('DESCENT_FUZZ_LINKS', 200);
const LOADS = Math.min(LINKS, envInt('DESCENT_FUZZ_LOADS', 20));
const TRACE = !!process.env.DESCENT_FUZZ_TRACE;
const ONLY = process.env.DESCENT_FUZZ_SCENES?.split(',').map((x) => x.trim()).filter(Boolean) ?? null;
const SETTLE_MS = 30000;
const URL_WRITE_MS = 300;
const PATIENCE_MS = 1500;
const MAX_FAILURES = 5; // per scene: then the scene stops and reports them
const OPEN = { timeout: 60000 };

function envInt(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${v}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// The generator: mulberry32, seeded per scene from SEED and the scene's id.

function rngFor(seed, id) {
  let h = seed >>> 0;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 0x9e3779b1) >>> 0;
  let a = h;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick(list) {
      return list[Math.floor(next() * list.length)];
    },
    chance: (p) => next() < p,
  };
}

// Markup and script text. Each carries the marker "dfz" and sets window.__dfz if it ever runs.
const MARKUP = [
  '<script>window.__dfz=1</script>',
  '"><img src=x id=dfz onerror="window.__dfz=1">',
  '\'><svg/onload=window.__dfz=1 class=dfz>',
  '<dfz-x>text</dfz-x>',
  '<iframe srcdoc="<script>parent.__dfz=1</script>" name=dfz></iframe>',
  '<a href="javascript:window.__dfz=1" id=dfz>x</a>',
  '</textarea></select><b data-dfz=1 onmouseover=window.__dfz=1>b</b>',
  '{{constructor.constructor("window.__dfz=1")()}}',
  '${window.__dfz=1}',
];
const SCRIPT_URLS = ['javascript:window.__dfz=1', 'JaVaScRiPt:window.__dfz=1//', 'data:text/html,<script>window.__dfz=1</script>'];
const ODD_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then'];

/** Values no setting accepts as they are (some are clamped, most dropped). */
function hostileValues() {
  return [
    '', ' ', '\t', '  1  ', 'NaN', 'nan', 'Infinity', '-Infinity', '+Infinity', '1e308', '-1e308', '1e309', '1e-400',
    '-0', '+0', '0x10', '0b11', '0o7', '1_000', '1,5', '1.5.2', '1e', 'e5', '.', '-', '+', '--1', '++1', '0.', '.5',
    '٣', '１２', '½', '∞', '−1', '1\u00a0', 'true', 'false', 'null', 'undefined', '[]', '{}', '[1]', '1;2', '1&2',
    '9'.repeat(400), '0.'.padEnd(400, '0') + '1', 'a'.repeat(3000), 'é', 'e\u0301', '\u202e1', '🧪', '\u0000', '\u200b1',
    ...MARKUP, ...SCRIPT_URLS, ...ODD_NAMES,
  ];
}

/** Numbers in or near the engine's range of numeric control `c`, as text in several forms. */
function numberText(rng, c) {
  const lo = c.linkMin ?? c.min;
  const hi = c.linkMax ?? c.max;
  const span = [c.min, c.max];
  let x;
  switch (rng.int(6)) {
    case 0: x = rng.pick([lo, hi, span[0], span[1], c.default ?? lo]); break;
    case 1: x = rng.pick([hi * 10, hi + 1, lo - 1, -hi, lo / 10, 2 ** 53, -(2 ** 31), 2 ** 32]); break;
    case 2: {
      const a = Math.max(span[0], 1e-9);
      x = c.kind === 'log-slider' && span[1] > 0 ? a * (span[1] / a) ** rng.next() : span[0] + (span[1] - span[0]) * rng.next();
      break;
    }
    default: x = span[0] + (span[1] - span[0]) * rng.next();
  }
  if (c.integer || c.kind === 'int-slider' || c.kind === 'number') x = Math.round(x);
  if (!Number.isFinite(x)) x = 0;
  switch (rng.int(5)) {
    case 0: return x.toExponential(rng.int(4));
    case 1: return ` ${x} `;
    case 2: return Number(x.toPrecision(3)).toString();
    default: return String(x);
  }
}

/** A value for control or view option `c`: valid for its kind, or hostile. */
function valueFor(rng, c, hostile) {
  if (hostile) {
    if (rng.chance(0.15) && c.options) return rng.pick([c.options[0][1], c.options[0][0].toUpperCase(), ` ${c.options[0][0]}x`]);
    return rng.pick(hostileValues());
  }
  if (c.kind === 'checkbox') return rng.pick(['1', '0', 'true', 'false']);
  if (c.options) return rng.pick(c.options)[0];
  return numberText(rng, c);
}

/** A key name as a link might spell it: exact, or in another case (the scene matches either). */
function spell(rng, name) {
  if (!rng.chance(0.15)) return name;
  return rng.pick([name.toLowerCase(), name.toUpperCase(), ` ${name}`, `${name}[]`]);
}

/** One query entry, encoded as a link would carry it: percent-encoded, raw, or broken. */
function entry(rng, key, value) {
  const style = rng.int(10);
  if (style < 6) return `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
  if (style < 8) return `${rawText(key)}=${rawText(value)}`;
  // Broken percent-encoding: a lone %, a bad hex pair, a cut UTF-8 sequence, an encoded lone surrogate.
  const broken = rng.pick(['%', '%G1', '%E2%82', '%ED%A0%80', '%%', '%2', '%C0%AF', '%FF']);
  return rng.chance(0.5) ? `${encodeURIComponent(key)}=${encodeURIComponent(value)}${broken}` : `${encodeURIComponent(key)}${broken}=${encodeURIComponent(value)}`;
}

/** Text put into a URL as it is ('&', '=', '+' and '#' keep their meaning); a lone surrogate would not survive. */
function rawText(s) {
  return s.replace(/[\ud800-\udfff]/g, '');
}

/**
 * A random query for a scene whose keys are `keys` ({controls, view, modes, presets}).
 * `inPage`: the link is followed by Back, so it leaves out embed and present.
 */
function makeQuery(rng, keys, inPage) {
  const parts = [];
  const used = [];
  const count = rng.pick([0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 12]);
  for (let i = 0; i < count; i++) {
    const roll = rng.next();
    let key;
    let value;
    if (roll < 0.55) {
      const c = rng.pick(keys.controls);
      key = spell(rng, c.name);
      value = valueFor(rng, c, rng.chance(0.4));
    } else if (roll < 0.62 && keys.view.length) {
      const c = rng.pick(keys.view);
      key = spell(rng, c.name);
      value = valueFor(rng, c, rng.chance(0.4));
    } else if (roll < 0.75) {
      const modes = keys.modes.filter((m) => !inPage || (m !== 'embed' && m !== 'present'));
      key = rng.pick(modes);
      value = modeValue(rng, key, keys);
    } else if (roll < 0.87) {
      key = rng.pick([...ODD_NAMES, '', ' ', 'dfz', 'x'.repeat(2000), 'wídth', 'settings', 'a.b', 'a[b]=c', ...MARKUP]);
      value = rng.chance(0.5) ? rng.pick(hostileValues()) : valueFor(rng, rng.pick(keys.controls), false);
    } else if (used.length) {
      // The same key again, with another value (the first one counts).
      key = rng.pick(used);
      const c = keys.controls.find((x) => x.name.toLowerCase() === key.trim().toLowerCase());
      value = c ? valueFor(rng, c, rng.chance(0.5)) : rng.pick(hostileValues());
    } else {
      continue;
    }
    used.push(key);
    parts.push(entry(rng, key, value));
  }
  // Stray separators now and then: "&&", a trailing "&", a lone "=".
  if (rng.chance(0.1)) parts.splice(rng.int(parts.length + 1), 0, rng.pick(['', '=', '&', '=&=', ';']));
  return parts.join('&');
}

function modeValue(rng, key, keys) {
  switch (key) {
    case 'play': return rng.pick(['0', '1', '', 'true', 'yes', '2', ...hostileValues()]);
    case 'preset': return rng.chance(0.6) && keys.presets.length ? rng.pick(keys.presets) : rng.pick(hostileValues());
    case 'controls': {
      const names = Array.from({ length: rng.int(4) }, () => (rng.chance(0.7) ? spell(rng, rng.pick(keys.controls).name) : rng.pick(hostileValues())));
      return names.join(rng.pick([',', ', ', ',,']));
    }
    default: return rng.pick(['', '1', '0', 'false', 'no', 'yes', ...hostileValues()]);
  }
}

// ---------------------------------------------------------------------------------------------
// In the page.

/** Installed before the page's first script: CSP violations and injected-looking elements. */
function watch() {
  window.__fz = { violations: [], injected: [] };
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__fz.violations.push(`${e.violatedDirective}: ${e.blockedURI || e.sample}`);
  });
  // The markup in the links marks its elements (a dfz- tag, id, class, name or data- attribute),
  // and carries inline handlers, img src=x, inline scripts and javascript: URLs; none of the
  // page's own elements has any of these.
  const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc']);
  const bad = (n) => {
    if (/dfz/i.test(n.localName)) return n.localName;
    if (n.id === 'dfz' || n.classList.contains('dfz') || n.getAttribute('name') === 'dfz') return `${n.localName} marked dfz`;
    if (n.localName === 'img' && n.getAttribute('src') === 'x') return 'img[src=x]';
    if (n.localName === 'script' && !n.hasAttribute('src')) return 'an inline script';
    if (n.localName === 'iframe' && n.hasAttribute('srcdoc')) return 'iframe[srcdoc]';
    for (const a of n.attributes) {
      if (/^on/i.test(a.name) || /dfz/i.test(a.name) || (URL_ATTRS.has(a.name) && /^\s*javascript:/i.test(a.value))) {
        return `${n.localName} ${a.name}="${a.value.slice(0, 60)}"`;
      }
    }
    return null;
  };
  const record = (n) => {
    const why = bad(n);
    if (why) window.__fz.injected.push(why);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') record(r.target);
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        record(n);
        for (const d of n.querySelectorAll('*')) record(d);
      }
    }
  }).observe(document, { childList: true, subtree: true, attributes: true });
}

/** The scene's keys as the page defines them (its settings table, view options, presets, mode keys). */
function readKeys() {
  const { shell } = window.descent;
  const plainControl = (c) => ({
    name: c.name, kind: c.kind, options: c.options ?? null, min: c.min, max: c.max, linkMin: c.linkMin, linkMax: c.linkMax,
    integer: !!c.integer, default: c.default,
  });
  return {
    controls: shell.controls.map(plainControl),
    view: shell.view.map(plainControl),
    presets: shell.presets.map((p) => p.id),
    modes: [...shell.modeKeys],
  };
}

/**
 * Where the page stands after a link (window.__fzWait: {runBefore, step0, since}, set when the
 * link was applied): `settled` once the link's run trains (its step advances past the first one
 * seen), has drawn a result, waits paused, has ended, or the page says why it does not run.
 * A large network takes seconds per step, and a large sweep seconds per seed: after `patience`
 * ms a run that is shown and playing, a network still being built with the busy note shown, or a
 * sweep still computing with its progress line and busy note shown settle too (`slow`).
 * `quick`: a sweep computing for the link, saying so, settles at once (the next link then comes
 * while it computes, as a reader's next change would).
 */
function standing({ patience, quick }) {
  const d = window.descent;
  const s = d.state;
  const w = window.__fzWait;
  const alert = document.getElementById('alert');
  const said = alert && !alert.hidden ? alert.textContent.trim() : '';
  const busy = document.getElementById('busy');
  const busyShown = !!busy && !busy.hidden && busy.textContent.trim() !== '';
  const late = performance.now() - w.since > patience;
  const out = { status: s.status, said, playing: !!s.playing, runId: s.runId, settled: false, verdict: '', slow: false };
  if (w.runBefore != null && !(s.runId > w.runBefore)) return out; // the link's run is not sent yet
  const settle = (verdict, slow = false) => Object.assign(out, { settled: true, verdict, slow });
  if (!('shownRunId' in s)) {
    // Double descent: computes its curves once per setting, in a pool of workers.
    const progress = document.getElementById('seed-status')?.textContent ?? '';
    if (s.status === 'done' && d.pooled) settle('computed');
    else if (s.status === 'computing' && s.firstSeedMs != null && d.pooled) settle('computing, a result drawn');
    else if (s.status === 'computing' && (quick || late) && /computing/.test(progress) && busyShown) settle('computing, saying so', !quick);
    else if ((s.status === 'refused' || s.status === 'failed') && said) settle(s.status);
    return out;
  }
  const step = s.report?.step ?? s.firstReport?.step ?? null;
  const current = s.shownRunId === s.runId;
  Object.assign(out, { shown: s.shownRunId, step });
  if (['failed', 'refused', 'diverged'].includes(s.status)) {
    if (said) settle(s.status);
  } else if (!current) {
    if (late && busyShown) settle('building the network, saying so', true);
  } else if (s.status === 'finished') {
    settle('finished');
  } else if (s.status === 'paused' && !s.playing) {
    settle(said ? 'paused, saying why' : 'paused');
  } else if (s.status === 'playing' && step != null) {
    w.step0 ??= step;
    if (step > w.step0) settle('training');
    else if (late) settle('training, no step yet', true);
  }
  return out;
}

/** What a settled page shows and writes that the fuzzer checks. */
async function inspect() {
  const { shell } = window.descent;
  const { readLink } = await import('/js/core/shell.js');
  const back = readLink(location.search, shell);
  const text = document.body.innerText;
  const odd = text.match(/.{0,40}\b(NaN|undefined|Infinity|null)\b.{0,40}|.{0,40}\[object \w+\].{0,40}/);
  const known = new Set([...shell.controls, ...shell.view].map((c) => c.name.toLowerCase()).concat(shell.modeKeys));
  return {
    canary: window.__dfz ?? null,
    injected: window.__fz.injected.slice(),
    violations: window.__fz.violations.slice(),
    odd: odd ? odd[0] : null,
    search: location.search,
    unknownKeys: [...new URLSearchParams(location.search).keys()].filter((k) => !known.has(k.toLowerCase())),
    backNotes: back.notes,
    backDiffers: shell.controls.filter((c) => back.values[c.name] !== shell.api.values[c.name])
      .map((c) => `${c.name}: page ${shell.api.values[c.name]}, its URL ${back.values[c.name]}`),
  };
}

// ---------------------------------------------------------------------------------------------

describe('URL fuzzer: hostile links on every scene', () => {
  // Cached files: a load reuses the compiled modules and wasm, as a reader's second visit does.
  const site = useSite([], { cache: true });

  for (const [id, scene] of Object.entries(SCENES).filter(([k]) => !ONLY || ONLY.includes(k))) {
    test(`${id}: ${LINKS} seeded links (seed ${SEED}, ${LOADS} loads, the rest by Back)`, { timeout: 900000 }, async () => {
      const t0 = Date.now();
      const base = `${site.server.url}${scene.page}`;
      const { page, errors } = await openPage(site.browser.context);
      await page.addInitScript(watch);
      await page.addInitScript({ content: `window.__fzStanding = ${standing};` });

      // The scene's keys, from the page itself; then every link, before any is opened.
      await page.goto(`${base}?play=0`);
      await page.waitForFunction(() => window.descent?.shell?.api, null, OPEN);
      const keys = await page.evaluate(readKeys);
      assert.ok(keys.controls.length >= 8 && keys.modes.includes('embed'), `${id}: the page's keys`);
      const rng = rngFor(SEED, id);
      const links = Array.from({ length: LINKS }, (_, i) => makeQuery(rng, keys, i >= LOADS));

      // A failing link is recorded, and the scene goes on from a fresh page, up to MAX_FAILURES.
      const failures = [];
      class LinkFailed extends Error {}
      // `query`: what the page was opened or reached with (link #i, or the query a run of Back
      // links starts from). `leftComputing`: the index of the link before, when the page went on
      // from it while its sweep computed (what that sweep does next shows up at link #i).
      let query = '';
      let leftComputing = null;
      const fail = (i, how, what) => {
        const before = leftComputing === i - 1
          ? `\n  (the link before, #${i - 1}, was left while its sweep computed: ${base}?${links[i - 1]})` : '';
        failures.push(`link #${i} (${how}): ${what}\n  ${base}?${query}${before}`);
        throw new LinkFailed();
      };
      const report = () => `${id}, DESCENT_FUZZ_SEED=${SEED}: ${failures.length} failing link(s)\n${failures.join('\n')}`;

      /** Waits for the page to settle after link #i; `runBefore`: the run id before a link that changed a setting. */
      async function settle(i, how, runBefore = null, quick = false) {
        await page.evaluate((r) => { window.__fzWait = { runBefore: r, step0: null, since: performance.now() }; }, runBefore);
        const arg = { patience: PATIENCE_MS, quick };
        try {
          const handle = await page.waitForFunction((a) => { const st = window.__fzStanding(a); return st.settled && st; }, arg,
            { timeout: SETTLE_MS, polling: 20 });
          return await handle.jsonValue();
        } catch (e) {
          if (!/Timeout/.test(e.message)) throw e;
          return fail(i, how, `not settled after ${SETTLE_MS} ms: ${JSON.stringify(await page.evaluate(standing, arg))}`);
        }
      }

      /** Every check of a settled page; returns its verdict. */
      async function check(i, how, st) {
        if (st.status === 'failed') fail(i, how, `the engine failed: ${st.said}`);
        let seen = await page.evaluate(inspect);
        if (seen.unknownKeys.length || seen.backNotes.length || seen.backDiffers.length) {
          // The page writes its URL at most every 150 ms (controls.js writeQuery): the last write may be due.
          await page.waitForTimeout(URL_WRITE_MS);
          seen = await page.evaluate(inspect);
        }
        if (errors.length) fail(i, how, `errors:\n    ${errors.join('\n    ')}`);
        if (seen.canary != null) fail(i, how, 'an injected handler ran (window.__dfz is set)');
        if (seen.injected.length) fail(i, how, `injected elements: ${seen.injected.join('; ')}`);
        if (seen.violations.length) fail(i, how, `CSP violations: ${seen.violations.join('; ')}`);
        if (seen.odd) fail(i, how, `the page shows ${JSON.stringify(seen.odd)}`);
        if (seen.unknownKeys.length) fail(i, how, `the address bar keeps unknown keys: ${seen.unknownKeys.join(', ')}`);
        if (seen.backNotes.length) fail(i, how, `the page's own URL ${seen.search} reads back with notes: ${seen.backNotes.join('; ')}`);
        if (seen.backDiffers.length) fail(i, how, `the page's own URL ${seen.search} gives other settings: ${seen.backDiffers.join('; ')}`);
        return st.verdict;
      }

      /** Opens `q` as a page (after about:blank, so that the previous page's leftovers are not counted). */
      async function load(i, how, q) {
        query = q;
        leftComputing = null;
        await page.goto('about:blank');
        errors.length = 0; // what the previous page left (its workers' requests, cut at unload)
        await page.goto(`${base}?${q}`);
        return settle(i, how);
      }

      const verdicts = {};
      let tLink = Date.now();
      const outcome = async (i, how, st) => {
        const v = await check(i, how, st);
        verdicts[v] = (verdicts[v] ?? 0) + 1;
        if (TRACE) console.log(`${id} #${i} (${how}): ${v}, ${Date.now() - tLink} ms`);
        tLink = Date.now();
      };
      const attempt = async (f) => {
        try {
          await f();
          return true;
        } catch (e) {
          if (!(e instanceof LinkFailed)) throw e;
          return false;
        }
      };

      // Loads: each link opened as a page.
      for (let i = 0; i < LOADS && failures.length < MAX_FAILURES; i++) {
        await attempt(async () => outcome(i, 'load', await load(i, 'load', links[i])));
      }
      const loadSeconds = (Date.now() - t0) / 1000;

      // Back: each link pushed as an entry of a running page and reached with history.back(),
      // half on a page that trains and half on a paused one. The page is loaded afresh at first,
      // after a failing link, and after a slow one (so that its long steps do not hold up the next).
      const half = LOADS + Math.ceil((LINKS - LOADS) / 2);
      for (const [from, to, start, how] of [[LOADS, half, '', 'Back, on a training page'], [half, LINKS, 'play=0', 'Back, on a paused page']]) {
        let fresh = true;
        for (let i = from; i < to && failures.length < MAX_FAILURES; i++) {
          if (fresh && !(await attempt(() => load(i, `the page Back starts from: ?${start}`, start)))) break;
          fresh = !(await attempt(async () => {
            query = links[i];
            const before = await page.evaluate(async (q) => {
              const values = JSON.stringify(window.descent.shell.api.values);
              const runId = window.descent.state.runId;
              const path = location.pathname;
              const reached = new Promise((resolve) => addEventListener('popstate', () => setTimeout(resolve, 0), { once: true }));
              history.pushState(null, '', `${path}?${q}`);
              history.pushState(null, '', `${path}#fuzz-next`);
              history.back();
              await reached;
              return { runId, changed: values !== JSON.stringify(window.descent.shell.api.values) };
            }, links[i]);
            // Three links in four may be left while their sweep computes (double descent): the
            // fourth waits for a result (or PATIENCE_MS).
            const st = await settle(i, how, before.changed ? before.runId : null, i % 4 !== 0);
            await outcome(i, how, st);
            leftComputing = st.verdict === 'computing, saying so' && !st.slow ? i : null;
            if (st.slow) throw new LinkFailed(); // not a failure: the next link starts on a fresh page
          }));
        }
      }

      assert.equal(failures.length, 0, report());
      const seconds = (Date.now() - t0) / 1000;
      console.log(`${id}: ${LINKS} links in ${seconds.toFixed(1)} s (${LOADS} loads in ${loadSeconds.toFixed(1)} s): ${JSON.stringify(verdicts)}`);
      // Many links train or compute: the valid values mixed in reach the engine.
      const working = (verdicts.training ?? 0) + (verdicts.computed ?? 0) + (verdicts['computing, a result drawn'] ?? 0);
      assert.ok(working >= LINKS / 5, `${id}: only ${working} of ${LINKS} links trained or computed: ${JSON.stringify(verdicts)}`);
      await page.close();
    });
  }
});
