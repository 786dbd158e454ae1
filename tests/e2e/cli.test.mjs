// The `descent` command line against the page: for the same link, the numbers of a native CPU
// run (report.json) and of the wasm build in headless Chromium (window.descent) agree within
// tolerances derived from where the two builds round differently. docs/cli.md ("The command line
// and the page") states the same reasoning with the measured differences.
//
// Native and wasm run the same arithmetic in the same order except in three places:
//   - the f32 matrix products (src/backend/cpu/gemm.rs): an AVX2+FMA micro-kernel natively, a
//     simd128 one without FMA in wasm, with different register blocking; each product of inner
//     dimension k is within γ_k ≈ k·u of the exact one on either side (u = 2⁻²⁴, the f32 unit
//     roundoff, relative to Σ|a_i b_i|), so the two differ by at most 2k·u of that;
//   - the platform's libm against the wasm build's (exp, ln, cos, tanh…): at most an ulp each;
//   - the f64 matrix products (nalgebra's, through matrixmultiply: Grams, the isotropic model's
//     solves), also with FMA natively: within 2k·2⁻⁵³ of each other;
//   - nothing else: the rest of the f64 code (tridiagonal reductions and solves, closed forms)
//     runs the same operations in the same order on both, carrying the differences above.
// Each test derives how far those differences can travel through its computation. The measured
// differences are printed as diagnostics (node --test shows them).
//
// The binary is target/debug/descent (under CARGO_TARGET_DIR when set), which `cargo test` builds
// before this step of scripts/test.sh; `cargo build --profile test --bin descent` here shares
// that build (it finds it fresh), and builds the binary when it is missing or stale.
// Run from the repository root: node --test tests/e2e/cli.test.mjs   (build the site first)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPage, useSite } from './helpers.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The f32 unit roundoff. */
const U = 2 ** -24;

/**
 * The debug binary, brought up to date with the profile `cargo test` uses: after `cargo test`
 * (as in scripts/test.sh) this finds it fresh and returns at once (0.2 s); a missing or stale
 * binary is built here, so the test never runs an old one.
 */
let built = null;
function binary() {
  if (built) return built;
  const target = resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target');
  const env = { ...process.env, PATH: `${join(homedir(), '.cargo', 'bin')}${delimiter}${process.env.PATH}` };
  execFileSync('cargo', ['build', '--profile', 'test', '--bin', 'descent'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  built = join(target, 'debug', 'descent');
  assert.ok(existsSync(built), `cargo built no ${built}`);
  return built;
}

/** Runs `descent run …args` on the CPU into a fresh directory; returns its report.json. */
function cli(...args) {
  const out = mkdtempSync(join(tmpdir(), 'descent-cli-'));
  try {
    execFileSync(binary(), ['run', ...args, '--backend', 'cpu', '--quiet', '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Compares `cli` with `page` (numbers or arrays of numbers, null where neither has one) within
 * `tol(i, cliValue)`, an absolute tolerance per element; returns the largest absolute and
 * relative differences.
 */
function close(name, cliValues, pageValues, tol) {
  const a = [cliValues].flat();
  const b = [pageValues].flat();
  assert.equal(a.length, b.length, `${name}: ${a.length} numbers natively, ${b.length} in the page`);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] == null || b[i] == null || !Number.isFinite(b[i])) {
      assert.ok((a[i] == null || !Number.isFinite(a[i])) && (b[i] == null || !Number.isFinite(b[i])), `${name}[${i}]: ${a[i]} natively, ${b[i]} in the page`);
      continue;
    }
    const d = Math.abs(a[i] - b[i]);
    const t = tol(i, a[i]);
    assert.ok(d <= t, `${name}[${i}]: ${a[i]} natively, ${b[i]} in the page: |Δ| = ${d.toExponential(2)} > ${t.toExponential(2)}`);
    abs = Math.max(abs, d);
    if (a[i] !== 0) rel = Math.max(rel, d / Math.abs(a[i]));
  }
  return { name, abs, rel };
}

function show(t, rows) {
  for (const r of rows) t.diagnostic(`${r.name}: max |Δ| ${r.abs.toExponential(2)}, max |Δ|/|x| ${r.rel.toExponential(2)}`);
}

describe('The command line against the page', () => {
  const site = useSite();

  test('the settings the command line reads from a link are the page\'s controls', async () => {
    // `descent settings` marks the settings a page has no control for: a link keeps their
    // defaults there, and so does `descent run` reading that link. The marks must be exactly
    // the table's settings missing from the page's controls.
    const { SCENES } = await import('../../www/js/scenes/index.js');
    const { page } = await openPage(site.browser.context);
    for (const [id, { page: file }] of Object.entries(SCENES)) {
      const text = execFileSync(binary(), ['settings', id], { cwd: ROOT, encoding: 'utf8' });
      // The table's settings (a view option of the page, kind `view`, is not one: see link.rs).
      const rows = text.split('\n').slice(2).filter((l) => l.trim() && l.trim().split(/\s+/)[1] !== 'view')
        .map((l) => l.trim().split(/\s+/)[0]);
      const marked = text.split('\n').filter((l) => l.includes('[no control on the page')).map((l) => l.trim().split(/\s+/)[0]);
      await page.goto(site.server.url + file);
      await page.waitForFunction(() => window.descent?.controls ?? window.descent?.shell?.controls, null, { timeout: 30000 });
      const controls = await page.evaluate(() => (window.descent.controls ?? window.descent.shell.controls).map((c) => c.name));
      assert.deepEqual(marked.sort(), rows.filter((n) => !controls.includes(n)).sort(), `${id}: settings without a control`);
    }
  });

  test('double descent: the pooled curves, the theory and the isotropic panel', async (t) => {
    // A small sweep with a ridge, where the solve is well conditioned (below).
    const d = 20;
    const ridge = 2;
    const signal = 1;
    const link = `double-descent.html?nTrain=40&dim=${d}&ridge=${ridge}&seeds=2&seed=3`;
    const { page, errors } = await openPage(site.browser.context);
    await page.goto(site.server.url + link);
    // Every seed pooled, and the isotropic panel's 15 Monte-Carlo points (14, and γ = 1 with a ridge).
    await page.waitForFunction(() => document.body.dataset.status === 'done' && window.descent.pooled != null
      && window.descent.pooled.seedsDone === window.descent.pooled.seeds
      && window.descent.iso.curves != null && window.descent.iso.points.filter(Boolean).length >= 15, null, { timeout: 60000, polling: 100 });
    const web = await page.evaluate(() => {
      const p = window.descent.pooled;
      const arr = (a) => (a ? Array.from(a) : null);
      const iso = window.descent.iso;
      return {
        ratio: arr(p.base.ratio),
        params: arr(p.base.params),
        theory: arr(p.base.theory),
        seeds: p.rows.map((r) => r.seed),
        perSeedTest: p.rows.map((r) => arr(r.testMse)),
        test: arr(p.test.mean),
        train: arr(p.train.mean),
        norm: arr(p.norm.mean),
        isoCurves: { ridge: arr(iso.curves.ridge), minNorm: arr(iso.curves.minNorm) },
        isoPoints: iso.points.map((x) => ({ gamma: x.gamma, mean: x.mean, se: x.se })),
      };
    });
    const r = cli(site.server.url + link);
    // The link report.json gives is the one the page writes for itself.
    const query = (q) => [...new URLSearchParams(q)].sort();
    assert.equal(r.link.split('?')[0], 'double-descent.html');
    assert.deepEqual(query(r.link.split('?')[1]), query(await page.evaluate(() => location.search)));
    const p = r.report.pooled;
    assert.deepEqual(p.base.ratio, web.ratio, 'the same sizes');
    assert.deepEqual(p.base.params, web.params);
    assert.deepEqual(p.base.perSeed.map((s) => s.seed), web.seeds, 'the same seeds');

    // The fit (dual or primal) solves (A + ρI)x = b with A the Gram of the features, ρ = n·p·λ/d.
    // The features are f32 products of inner dimension d, and the test predictions of the dual
    // sizes f32 products of inner dimension p ≤ p_max, the Grams f64 products of inner dimension
    // n or p: the two builds' inputs to the solve differ relatively by at most
    // ε = 2(d + p_max)·u + 2(n + p_max)·2⁻⁵³. A relative perturbation ε of the system
    // moves the solution by at most κ·ε, κ the condition number of A + ρI; the ReLU features
    // have E φ² = 1/2 on the sphere, so λ_max(A) ≤ trace A ≈ n·p/2 (with a factor 2 to spare:
    // n·p) and κ ≤ 1 + (n·p)/(n·p·λ/d) = 1 + d/λ. The fitted function f then moves by
    // ‖δf‖ ≤ κε‖f‖, and a squared error R = ‖f − f*‖²/n_test by 2‖δf‖‖f − f*‖/n_test, i.e.
    // δR/R ≤ 2κε·‖f‖/‖f − f*‖ ≤ 2κε(1 + √(F₁²/R)) (‖f‖ ≤ ‖f*‖ + ‖f − f*‖, ‖f*‖² ≈ n_test·F₁²;
    // train errors against labels of power F₁² + σ²). The weight norm ‖a‖² moves by 2κε
    // relatively. Means over seeds keep the largest relative bound of their terms.
    const pMax = Math.max(...p.base.p);
    const eps = 2 * (d + pMax) * U + 2 * (r.settings.nTrain + pMax) * 2 ** -53;
    const kappa = 1 + d / ridge;
    const noise = r.settings.noise;
    const mse = (power) => (i, x) => 2 * kappa * eps * (1 + Math.sqrt(power / Math.abs(x))) * Math.abs(x);
    const rows = [
      close('test MSE (mean)', p.test.mean, web.test, mse(signal)),
      close('train MSE (mean)', p.train.mean, web.train, (i, x) => Math.max(mse(signal + noise ** 2)(i, x), 1e-12)),
      close('weight norm (mean)', p.norm.mean, web.norm, (i, x) => 2 * kappa * eps * Math.abs(x)),
      ...p.base.perSeed.map((s, k) => close(`test MSE (seed ${s.seed})`, s.testMse, web.perSeedTest[k], mse(signal))),
      // The theory is f64 closed forms of the settings alone: only libm's last bits differ.
      close('theory', p.base.theory, web.theory, (i, x) => 1e-12 * Math.abs(x)),
    ];
    // The isotropic panel is f64 throughout (Gaussian draws by the polar method, whose ln is
    // libm's, then a ridge solve with shift nλ): a libm ulp (2⁻⁵³ relative) per draw and the
    // products' 2n·2⁻⁵³, amplified by κ ≤ 1 + (1 + √γ)²/λ (λ_max(XᵀX) ≤ (√n + √p)²) and summed
    // over the n·p entries of X: at most 2κ·n·p·2⁻⁵³ relative, at the page's n = 100.
    const iso = r.report.isotropic;
    const f64 = 2 ** -53;
    const isoN = 100;
    const isoKappa = (g) => 1 + (1 + Math.sqrt(g)) ** 2 / ridge;
    rows.push(
      close('isotropic curves (ridge)', iso.curves.ridge, web.isoCurves.ridge, (i, x) => 1e-12 * Math.abs(x)),
      close('isotropic curves (minimum norm)', iso.curves.minNorm, web.isoCurves.minNorm, (i, x) => 1e-12 * Math.abs(x)),
    );
    assert.deepEqual(iso.points.map((x) => x.gamma), web.isoPoints.map((x) => x.gamma));
    rows.push(close('isotropic Monte Carlo', iso.points.map((x) => x.mean), web.isoPoints.map((x) => x.mean),
      (i, x) => 2 * isoKappa(iso.points[i].gamma) * isoN * Math.round(isoN * iso.points[i].gamma) * f64 * Math.abs(x)));
    t.diagnostic(`tolerance: ε = ${eps.toExponential(2)}, κ ≤ ${kappa}, test MSE ${(mse(signal)(0, p.test.mean[0]) / p.test.mean[0]).toExponential(2)} relative at the first size`);
    show(t, rows);
    assert.deepEqual(errors, []);
    await page.close();
  });

  /**
   * Opens `link` paused, takes exactly `k` steps with the page's step hook and returns its
   * report (`window.descent[key]`).
   */
  async function pageSteps(page, link, k, key) {
    await page.goto(`${site.server.url}${link}&play=0`);
    await page.waitForFunction((at) => window.descent?.[at]?.step === 0 && document.body.dataset.status !== 'loading',
      key, { timeout: 60000, polling: 100 });
    await page.evaluate((n) => window.descent.step(n), k);
    await page.waitForFunction(([at, n]) => window.descent[at]?.step === n, [key, k], { timeout: 60000, polling: 100 });
    return page.evaluate((at) => window.descent[at], key);
  }

  // A short full-batch run in f32. Each step computes the same update on both builds up to the
  // rounding of its products, of inner dimension at most k (the width, or the training points a
  // gradient sums over): the updates differ by at most 2k·u relatively, and storing the new
  // parameters adds u. With a step size that trains stably (η·λ_max(H) < 2, so I − ηH does not
  // expand a difference), the differences add up: after t steps the parameters differ
  // relatively by at most e = t·(2k + 1)·u. The outputs of a network with two weight layers then
  // move by at most 2e relatively, and a mean squared error L against targets of power P by
  // δL/L ≤ 2·2e·‖f‖/‖f − y‖ ≤ 4e(1 + √(P/L)). A prediction flips only where a point's margin is
  // below the outputs' difference: at most one point of the set is allowed to.
  const trainedWithin = (t, k) => t * (2 * k + 1) * U;

  test('playground: the losses and accuracies after k full-batch steps', async (t) => {
    const steps = 100;
    const link = 'index.html?seed=2';
    const { page, errors } = await openPage(site.browser.context);
    const web = await pageSteps(page, link, steps, 'lastReport');
    const r = cli(site.server.url + link, '--steps', String(steps));
    const rep = r.report.report;
    assert.equal(rep.step, steps);
    assert.equal(r.report.setup.outputs, 1, 'one ±1 output: targets of power P = 1');
    const s = r.settings;
    const e = trainedWithin(steps, Math.max(s.width, s.nTrain));
    const loss = (i, x) => 4 * e * (1 + Math.sqrt(1 / x)) * x;
    const nTest = rep.confusion.reduce((a, b) => a + b, 0);
    const rows = [
      close('train loss', rep.trainLoss, web.trainLoss, loss),
      close('test loss', rep.testLoss, web.testLoss, loss),
      close('train accuracy', rep.trainAcc, web.trainAcc, () => 1 / s.nTrain + 1e-12),
      close('test accuracy', rep.testAcc, web.testAcc, () => 1 / nTest + 1e-12),
    ];
    t.diagnostic(`tolerance: parameters e = ${e.toExponential(2)}, losses ${(loss(0, rep.trainLoss) / rep.trainLoss).toExponential(2)} relative`);
    show(t, rows);
    assert.deepEqual(errors, []);
    await page.close();
  });

  // The same reasoning for the live learner of Weak labels (one hidden layer of the width, full
  // batch over the instances). Its bag loss is the cross-entropy of each bag's proportions
  // against the mean of its instances' softmax outputs; the log of a softmax output moves by at
  // most 2‖δz‖∞ for logits moved by δz, and so does the log of a mean of them, so
  // δL ≤ 2‖δz‖∞ ≤ 4e‖z‖∞. After a few steps from a small initialisation the logits stay below
  // Z = 10 (the loss is still above its floor of the prior, far from confident predictions).
  test('weak labels: the live run after k steps', async (t) => {
    const steps = 10;
    const link = 'weak-labels.html?steps=5&seeds=1';
    const { page, errors } = await openPage(site.browser.context);
    const web = await pageSteps(page, link, steps, 'report');
    const r = cli(site.server.url + link, '--steps', String(steps));
    const rep = r.report.report;
    assert.equal(rep.step, steps);
    const s = r.settings;
    const e = trainedWithin(steps, Math.max(s.width, s.instances));
    const nTest = r.report.confusion.counts.reduce((a, b) => a + b, 0);
    const rows = [
      close('bag loss', rep.bagLoss, web.bagLoss, () => 4 * e * 10),
      close('train accuracy', rep.trainAccuracy, web.trainAccuracy, () => 1 / s.instances + 1e-12),
      close('test accuracy', rep.testAccuracy, web.testAccuracy, () => 1 / nTest + 1e-12),
    ];
    // The bag-size sweep: one seed, every network `steps` steps (the same bound with t = 5), the
    // accuracies of test instances within one instance; the mean map's closed form likewise.
    await page.click('#btn-sweep');
    await page.waitForFunction(() => document.body.dataset.sweep === 'done' && document.body.dataset.curve === 'ready',
      null, { timeout: 60000, polling: 100 });
    const sw = await page.evaluate(() => ({ ...window.descent.sweep, curve: window.descent.curve.points }));
    const cs = r.report.sweep;
    assert.deepEqual(cs.bags, sw.bags, 'the same bag sizes');
    assert.deepEqual(cs.seeds, sw.seeds, 'the same seeds');
    const one = () => 1 / nTest + 1e-12;
    const cells = (c, key) => c.cells.flat().map((x) => x[key]);
    rows.push(
      close('sweep: DLLP accuracy', cells(cs, 'dllp'), cells(sw, 'dllp'), one),
      close('sweep: EasyLLP accuracy', cells(cs, 'easyllp'), cells(sw, 'easyllp'), one),
      close('sweep: supervised ceiling', cs.references.map((x) => x.ceiling), sw.references.map((x) => x.ceiling), one),
      close('sweep: prior floor', cs.references.map((x) => x.floor), sw.references.map((x) => x.floor), one),
      close('mean map over bag sizes', r.report.curve.map((x) => x.mean), sw.curve.map((x) => x.mean), one),
    );
    t.diagnostic(`tolerance: parameters e = ${e.toExponential(2)}, bag loss ${(4 * e * 10).toExponential(2)}`);
    show(t, rows);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
