// The benchmark (issue #7), in one run so every ratio compares figures taken minutes apart on
// the same machine:
//   1. initial load of the Playground (index.html): every file it requests until the first
//      trained frame, raw and gzip sizes; time from navigation start to the first frame that
//      shows step ≥ 1 (median of several fresh loads);
//   2. dist/bench.html in headless Chromium: the measured wasm SIMD128 one-core peak, square
//      matmul GFLOP/s in all four transpositions (n = 128…1024) and full-batch GD steps/s of
//      the benchmark MLPs, for Descent's wasm engine and, in the same session, TensorFlow.js
//      4.22 (wasm backend with SIMD on one thread, and CPU backend); the kernel workloads;
//      Many classes: steps/s under the squared loss (one-hot targets) and under softmax
//      cross-entropy at the same shapes (K = 10, n = 256, d = 2, one hidden layer of 64, 256,
//      1024; the digits, 1,024 images, width 256), and a generated 10 MB CSV through the
//      table parser;
//   3. natively, the same Rust code: `cargo bench --bench gemm -- --json`,
//      `cargo bench --bench train`, `cargo bench --bench loss` and `cargo bench --bench table`.
// Prints every figure with the peer's figure and the ratio, checks the targets, and
// writes target/bench/bench.json (everything) and target/bench/train.json (the MLP rows).
// Build the site first (scripts/build.sh); scripts/bench.sh does both.
//
//   node scripts/bench.mjs [--only mlp,gemm NN,peak,kernels,loss,digits,table] [--no-native] [--no-peers]
//                          [--no-load] [--loads 5]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync, constants as zlib } from 'node:zlib';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback = null) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const only = opt('--only');
const withNative = !args.includes('--no-native');
const withPeers = !args.includes('--no-peers');
const withLoad = !args.includes('--no-load');
const loads = Number(opt('--loads', 5));
const started = Date.now();
const loadStart = loadavg();

if (!existsSync('dist/bench.html')) {
  console.error('dist/ is not built: run scripts/build.sh (or scripts/bench.sh)');
  process.exit(1);
}
if (withPeers && !existsSync('dist/vendor/tfjs/tf.es2017.min.js')) {
  console.error('dist/vendor/tfjs/ is missing: run `npm ci` (TensorFlow.js is a devDependency), then scripts/build.sh');
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const kb = (b) => `${(b / 1024).toFixed(1)} KiB`;
const f = (x, d = 1) => (x == null || !Number.isFinite(x) ? '-' : x >= 1000 ? Math.round(x).toString() : x.toFixed(d));
const r = (a, b) => (a == null || b == null || !b ? null : a / b);
const rf = (x) => (x == null ? '-' : `${x.toFixed(x >= 10 ? 1 : 2)}×`);
const pct = (x) => (x == null ? '-' : `${(100 * x).toFixed(0)} %`);

function table(head, rows) {
  const cells = [head, ...rows].map((row) => row.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of cells.slice(1)) console.log(line(row));
}

const chromiumArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const server = await serve('dist', 0);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs });
const chromiumVersion = browser.version();

// ---------------------------------------------------------------------------------------------
// 1. Initial load of the Playground.

/** One fresh load of index.html: the files requested and the first-trained-frame times. */
async function loadOnce() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const files = new Set();
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === new URL(server.url).origin) files.add(u.pathname);
  });
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === new URL(server.url).origin) files.add(u.pathname);
  });
  // Records when body[data-step] first reaches 1 (the page sets it in the animation frame that
  // draws a report) and the start of the next frame (that frame on screen).
  await page.addInitScript(() => {
    window.__firstFrame = null;
    new MutationObserver(() => {
      if (window.__firstFrame == null && Number(document.body?.dataset.step) >= 1) {
        window.__firstFrame = { stepSet: performance.now(), step: Number(document.body.dataset.step) };
        requestAnimationFrame(() => (window.__firstFrame.nextFrame = performance.now()));
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-step'] });
  });
  await page.goto(server.url, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__firstFrame?.nextFrame != null, null, { timeout: 30_000, polling: 20 });
  const t = await page.evaluate(() => ({
    ...window.__firstFrame,
    domContentLoaded: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd,
  }));
  await context.close();
  return { ...t, files: [...files].sort() };
}

function sizes(paths) {
  const files = paths
    .map((p) => (p.endsWith('/') ? `${p}index.html` : p))
    .filter((p) => existsSync(join('dist', p)))
    .map((p) => {
      const body = readFileSync(join('dist', p));
      return { path: p, raw: body.length, gzip: gzipSync(body, { level: zlib.Z_BEST_COMPRESSION }).length };
    });
  const group = (name, test) => {
    const g = files.filter((x) => test(x.path));
    return { name, files: g.length, raw: g.reduce((s, x) => s + x.raw, 0), gzip: g.reduce((s, x) => s + x.gzip, 0) };
  };
  return {
    files,
    groups: [
      group('wasm (pkg/descent_bg.wasm)', (p) => p.endsWith('.wasm')),
      group('wasm-bindgen glue (pkg/descent.js)', (p) => p === '/pkg/descent.js'),
      group('site JS modules (js/**/*.js, page + worker)', (p) => p.startsWith('/js/')),
      group('uPlot (vendor/uPlot.esm.js + .min.css)', (p) => p.startsWith('/vendor/')),
      group('HTML, CSS, icon', (p) => !p.endsWith('.wasm') && !p.startsWith('/pkg/') && !p.startsWith('/js/') && !p.startsWith('/vendor/')),
      group('total', () => true),
    ],
  };
}

let load = null;
let browserResults;
try {
  if (withLoad) {
    console.log(`timing ${loads} loads of the Playground…`);
    const runs = [];
    for (let i = 0; i < loads; i++) runs.push(await loadOnce());
    const bundle = sizes(runs[0].files);
    load = {
      runs: runs.map(({ files, ...t }) => t),
      firstFrameMs: median(runs.map((x) => x.stepSet)),
      firstFrameNextFrameMs: median(runs.map((x) => x.nextFrame)),
      bundle,
    };
  }

  // -------------------------------------------------------------------------------------------
  // 2. The benchmark page.
  console.log('running dist/bench.html (a few minutes)…');
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error('[page]', m.text()));
  page.on('pageerror', (e) => console.error('[page]', e.message));
  const q = new URLSearchParams({ run: '1' });
  if (only) q.set('only', only);
  if (!withPeers) q.set('peers', '0');
  await page.goto(`${server.url}bench.html?${q}`);
  let lastStatus = '';
  const poll = setInterval(async () => {
    const s = await page.evaluate(() => document.getElementById('status')?.textContent).catch(() => '');
    if (s && s !== lastStatus) process.stderr.write(`  ${(lastStatus = s)}\n`);
  }, 2000);
  try {
    await page.waitForFunction(() => document.body.dataset.done, null, { timeout: 1_500_000, polling: 500 });
  } finally {
    clearInterval(poll);
  }
  browserResults = await page.evaluate(() => window.benchResults);
} finally {
  await browser.close();
  await server.close();
}
if (browserResults.error) {
  console.error(`browser benchmark failed: ${browserResults.error}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// 3. Natively.

function cargoBench(name, extra) {
  console.log(`cargo bench --bench ${name}…`);
  const out = spawnSync('cargo', ['bench', '--quiet', '--bench', name, '--', ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.status !== 0) {
    console.error(`native benchmark ${name} failed`);
    process.exit(1);
  }
  return JSON.parse(out.stdout).native;
}
const nativeGemm = withNative && browserResults.gemm.length ? cargoBench('gemm', ['--json']) : [];
const nativeTrain = withNative && browserResults.mlp.length ? cargoBench('train', browserResults.mlp.map((m) => m.config)) : [];

/** Runs a native bench that prints lines of text; returns stdout and stderr. */
function cargoBenchText(name) {
  console.log(`cargo bench --bench ${name}…`);
  const out = spawnSync('cargo', ['bench', '--quiet', '--bench', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (out.status !== 0) {
    console.error(out.stderr);
    console.error(`native benchmark ${name} failed`);
    process.exit(1);
  }
  return out.stdout + out.stderr;
}
// benches/loss.rs: "native 1x64 K=10: squared X steps/s, cross-entropy Y steps/s (…)".
const nativeLoss =
  withNative && browserResults.loss?.some((l) => l.data === 'random')
    ? [...cargoBenchText('loss').matchAll(/native (\d+)x(\d+) K=(\d+): squared\s+([\d.]+) steps\/s, cross-entropy\s+([\d.]+) steps\/s/g)].map((m) => ({
        config: `${m[1]}x${m[2]}`,
        classes: Number(m[3]),
        squared: Number(m[4]),
        crossEntropy: Number(m[5]),
      }))
    : [];
// benches/table.rs: "table: 10.0 MB, … parse 70.1 ms (143 MB/s), …".
const nativeTable = withNative && browserResults.table?.length ? (() => {
  const m = cargoBenchText('table').match(/table: ([\d.]+) MB.*?parse ([\d.]+) ms/);
  return m ? { mb: Number(m[1]), ms: Number(m[2]) } : null;
})() : null;

// ---------------------------------------------------------------------------------------------
// Figures, ratios, targets.

const peak = browserResults.peak?.gflops ?? null;
const gemm = browserResults.gemm.map((g) => {
  const native = nativeGemm.find((x) => x.trans === g.trans && x.n === g.n)?.gflops ?? null;
  return {
    ...g,
    native,
    ofPeak: r(g.descent, peak),
    vsTfjsWasm: r(g.descent, g.tfjsWasm),
    vsTfjsCpu: r(g.descent, g.tfjsCpu),
    nativeOverWasm: r(native, g.descent),
  };
});
const mlp = browserResults.mlp.map((m) => {
  const native = nativeTrain.find((x) => x.config === m.config)?.stepsPerSecond ?? null;
  const gflops = (m.descent * m.flopsPerStep) / 1e9;
  return {
    ...m,
    gflops,
    ofPeak: r(gflops, peak),
    native,
    vsTfjsWasm: r(m.descent, m.tfjsWasm),
    vsTfjsCpu: r(m.descent, m.tfjsCpu),
    nativeOverWasm: r(native, m.descent),
  };
});

const loss = (browserResults.loss ?? []).map((l) => {
  const native = l.data === 'random' ? nativeLoss.find((x) => x.config === `${l.depth}x${l.width}`) ?? null : null;
  return {
    ...l,
    squaredOverCe: r(l.squared, l.crossEntropy),
    bestCeOverSquared: r(l.crossEntropyBest, l.squaredBest),
    nativeSquared: native?.squared ?? null,
    nativeCrossEntropy: native?.crossEntropy ?? null,
    nativeCeOverSquared: native ? r(native.crossEntropy, native.squared) : null,
  };
});
const tableRows = (browserResults.table ?? []).map((t) => ({
  ...t,
  mbPerSecond: t.bytes / 1e3 / t.ms,
  nativeMs: nativeTable?.ms ?? null,
  wasmOverNative: r(t.ms, nativeTable?.ms),
}));

const info = browserResults.info;
const loadEnd = loadavg();
const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`\nChromium ${chromiumVersion} (headless), ${browserResults.hardwareConcurrency} logical cores; Descent ${info.descent.version} wasm${info.descent.simd ? ' SIMD128' : ''}, one thread` + (info.tfjsWasm ? `; TensorFlow.js ${info.tfjsWasm.version} wasm (SIMD ${info.tfjsWasm.simd ? 'on' : 'off'}, ${info.tfjsWasm.threads} thread) and cpu` : ''));
console.log(`load average (1, 5, 15 min) at the start ${la(loadStart)}, at the end ${la(loadEnd)}, on ${browserResults.hardwareConcurrency} cores: above ~1, other processes took time from these figures`);
if (peak) {
  const runs = browserResults.peak.runs.map((p) => p.gflops.toFixed(1)).join(', ');
  console.log(`\nmeasured wasm SIMD128 one-core peak (f32x4 mul + add): ${peak.toFixed(1)} GFLOP/s (best of ${runs}: ${browserResults.peak.chains} chains)`);
}
if (gemm.length) {
  console.log('\nsquare matmul n×n · n×n, GFLOP/s (NT: B transposed, TN: A transposed)');
  table(
    ['product', 'Descent wasm', '% of peak', 'TF.js wasm', 'Descent ÷ TF.js wasm', 'TF.js CPU', 'Descent ÷ TF.js CPU', 'native', 'native ÷ wasm'],
    gemm.map((g) => [`${g.trans} ${g.n}`, f(g.descent), pct(g.ofPeak), f(g.tfjsWasm, 2), rf(g.vsTfjsWasm), f(g.tfjsCpu, 2), rf(g.vsTfjsCpu), f(g.native), rf(g.nativeOverWasm)]),
  );
}
if (mlp.length) {
  console.log('\nfull-batch GD steps/s: n = 256, d = 2, ReLU, MSE, one output (hidden layers x width)');
  table(
    ['MLP', 'params', 'Descent wasm', 'GFLOP/s', '% of peak', 'TF.js wasm', 'Descent ÷ TF.js wasm', 'TF.js CPU', 'Descent ÷ TF.js CPU', 'native', 'native ÷ wasm'],
    mlp.map((m) => [m.config, m.params, f(m.descent), f(m.gflops), pct(m.ofPeak), f(m.tfjsWasm, 2), rf(m.vsTfjsWasm), f(m.tfjsCpu, 2), rf(m.vsTfjsCpu), f(m.native), rf(m.nativeOverWasm)]),
  );
}
if (browserResults.kernels?.length) {
  console.log('\nkernel workloads (Chromium, median of 5)');
  for (const k of browserResults.kernels) {
    const verdict = k.targetMs ? `  target < ${k.targetMs} ms: ${k.ms < k.targetMs ? 'met' : 'NOT met'}` : '';
    console.log(`  ${k.name.padEnd(80)} ${k.ms.toFixed(1).padStart(8)} ms${verdict}`);
  }
}
if (loss.length) {
  console.log('\nmany classes: full-batch GD steps/s, ReLU, NTK, K = 10 outputs, squared loss (one-hot) and cross-entropy; timed squared, CE, CE, squared, mean of the two medians; best chunks: the fastest chunk of either window');
  table(
    ['MLP', 'data', 'params', 'squared', 'cross-entropy', 'CE ÷ squared', 'squared ÷ CE', 'runs (sq; CE)', 'best chunks (sq; CE)', 'best CE ÷ sq', 'native sq', 'native CE', 'native CE ÷ sq'],
    loss.map((l) => [
      `1x${l.width}`,
      l.data === 'digits' ? `digits n=${l.nTrain} d=64` : `random n=${l.n} d=${l.dim}`,
      l.params,
      f(l.squared),
      f(l.crossEntropy),
      rf(l.ceOverSquared),
      rf(l.squaredOverCe),
      `${l.squaredRuns.map((x) => f(x)).join(', ')}; ${l.crossEntropyRuns.map((x) => f(x)).join(', ')}`,
      `${f(l.squaredBest)}; ${f(l.crossEntropyBest)}`,
      rf(l.bestCeOverSquared),
      f(l.nativeSquared),
      f(l.nativeCrossEntropy),
      rf(l.nativeCeOverSquared),
    ]),
  );
}
for (const t of tableRows) {
  console.log(`\ngenerated CSV, ${(t.bytes / 1e6).toFixed(1)} MB, ${t.rows} rows, through the release wasm (median of 5): ${t.ms.toFixed(1)} ms, ${t.mbPerSecond.toFixed(0)} MB/s (runs ${t.runs.map((x) => x.toFixed(1)).join(', ')} ms)` + (t.nativeMs != null ? `; native ${t.nativeMs.toFixed(1)} ms, wasm ÷ native ${rf(t.wasmOverNative)}` : ''));
}
if (load) {
  console.log('\ninitial load of the Playground (every file requested until the first trained frame; gzip -9)');
  table(
    ['part', 'files', 'raw', 'gzip'],
    load.bundle.groups.map((g) => [g.name, g.files, kb(g.raw), kb(g.gzip)]),
  );
  console.log(`first trained frame (navigation start → body[data-step] ≥ 1 set in the frame that draws it), median of ${load.runs.length}: ${load.firstFrameMs.toFixed(0)} ms (next frame ${load.firstFrameNextFrameMs.toFixed(0)} ms; runs ${load.runs.map((x) => x.stepSet.toFixed(0)).join(', ')} ms)`);
}

// The targets.
const targets = [];
const check = (name, met, detail) => targets.push({ name, met, detail });
const big = gemm.filter((g) => g.n >= 256);
if (big.length && peak) {
  const worst = big.reduce((a, b) => (b.ofPeak < a.ofPeak ? b : a));
  check('matmul, every transposition, n ≥ 256, ≥ 60 % of the measured SIMD128 peak', big.every((g) => g.ofPeak >= 0.6), `lowest ${worst.trans} ${worst.n}: ${pct(worst.ofPeak)}`);
}
if (mlp.length && mlp.every((m) => m.vsTfjsWasm != null)) {
  const worst = mlp.reduce((a, b) => (b.vsTfjsWasm < a.vsTfjsWasm ? b : a));
  check('MLP steps/s ≥ 2× TF.js wasm on every configuration', mlp.every((m) => m.vsTfjsWasm >= 2), `lowest ${worst.config}: ${rf(worst.vsTfjsWasm)}`);
  const deep = mlp.filter((m) => m.config === '3x256' || m.config === '3x1024');
  if (deep.length) check('MLP steps/s ≥ 10× TF.js wasm on 3x256 and 3x1024', deep.every((m) => m.vsTfjsWasm >= 10), deep.map((m) => `${m.config}: ${rf(m.vsTfjsWasm)}`).join(', '));
}
const withNat = [...gemm.map((g) => ({ name: `matmul ${g.trans} ${g.n}`, x: g.nativeOverWasm })), ...mlp.map((m) => ({ name: `MLP ${m.config}`, x: m.nativeOverWasm }))].filter((x) => x.x != null);
if (withNat.length) {
  const worst = withNat.reduce((a, b) => (b.x > a.x ? b : a));
  check('within 3× of native (native ÷ wasm ≤ 3 for every figure)', withNat.every((x) => x.x <= 3), `largest ${worst.name}: ${rf(worst.x)}`);
}
if (load) {
  const total = load.bundle.groups.find((g) => g.name === 'total');
  check('initial load < 1.5 MB gzip', total.gzip < 1.5e6, `${kb(total.gzip)} gzip (${kb(total.raw)} raw)`);
  check('first trained frame < 1.5 s', load.firstFrameMs < 1500, `${load.firstFrameMs.toFixed(0)} ms`);
}
const lossRandom = loss.filter((l) => l.data === 'random');
if (lossRandom.length) {
  const worst = lossRandom.reduce((a, b) => (b.squaredOverCe > a.squaredOverCe ? b : a));
  check('cross-entropy steps/s within 1.2× of the squared loss at the same shapes', lossRandom.every((l) => l.squaredOverCe <= 1.2), `largest squared ÷ CE 1x${worst.width}: ${rf(worst.squaredOverCe)}`);
}
for (const l of loss.filter((x) => x.data === 'digits')) {
  check(`digits, 1 × ${l.width}, full batch (n = ${l.nTrain}), cross-entropy ≥ 150 steps/s`, l.crossEntropy >= 150, `${f(l.crossEntropy)} steps/s (squared ${f(l.squared)}; squared ÷ CE ${rf(l.squaredOverCe)})`);
}
for (const t of tableRows) check(`a ${(t.bytes / 1e6).toFixed(0)} MB CSV parsed in under 1 s`, t.ms < 1000, `${t.ms.toFixed(1)} ms`);
if (targets.length) {
  console.log("\nthe issue's targets");
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.name}: ${t.detail}`);
}

const seconds = (Date.now() - started) / 1000;
console.log(`\nbenchmark took ${seconds.toFixed(0)} s`);
mkdirSync('target/bench', { recursive: true });
const date = new Date().toISOString();
writeFileSync(
  'target/bench/bench.json',
  JSON.stringify({ date, seconds, chromium: chromiumVersion, userAgent: browserResults.userAgent, hardwareConcurrency: browserResults.hardwareConcurrency, loadavg: { start: loadStart, end: loadEnd }, info, peak: browserResults.peak, gemm, mlp, kernels: browserResults.kernels, loss, table: tableRows, load, targets }, null, 2),
);
writeFileSync('target/bench/train.json', JSON.stringify({ date, userAgent: browserResults.userAgent, rows: mlp, kernels: browserResults.kernels }, null, 2));
console.log('wrote target/bench/bench.json and target/bench/train.json');
