// Runs the training benchmark in headless Chromium (dist/bench.html) and natively
// (`cargo bench --bench train`, the same Rust code compiled for this CPU), prints both with
// their ratio, and writes target/bench/train.json. Build the site first (scripts/build.sh);
// scripts/bench.sh does both.
//
//   node scripts/bench.mjs [--only 1x4096] [--no-native]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const withNative = !args.includes('--no-native');

const server = await serve('dist', 0);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
let browserResults;
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error('[page]', m.text()));
  const url = `${server.url}bench.html?run${only ? `&only=${encodeURIComponent(only)}` : ''}`;
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.done, null, { timeout: 300_000 });
  browserResults = await page.evaluate(() => window.benchResults);
} finally {
  await browser.close();
  await server.close();
}
if (browserResults.error) {
  console.error(`browser benchmark failed: ${browserResults.error}`);
  process.exit(1);
}

let native = [];
if (withNative) {
  const out = spawnSync('cargo', ['bench', '--quiet', '--bench', 'train', '--', ...(only ? [only] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (out.status !== 0) {
    console.error('native benchmark failed');
    process.exit(1);
  }
  native = JSON.parse(out.stdout).native;
}

const rows = browserResults.results.map((r) => {
  const n = native.find((x) => x.config === r.config);
  return { ...r, nativeStepsPerSecond: n?.stepsPerSecond ?? null, ratioToNative: n ? r.stepsPerSecond / n.stepsPerSecond : null };
});
console.log(`\nChromium (${browserResults.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'unknown'}), wasm SIMD ${browserResults.info.simd ? 'on' : 'off'}, one thread`);
console.log('config   | params     | Chromium steps/s | GFLOP/s | native steps/s | Chromium / native');
console.log('---------|------------|------------------|---------|----------------|------------------');
for (const r of rows) {
  console.log(
    [
      r.config.padEnd(8),
      String(r.params).padStart(10),
      r.stepsPerSecond.toFixed(1).padStart(16),
      r.gflops.toFixed(1).padStart(7),
      (r.nativeStepsPerSecond?.toFixed(1) ?? '-').padStart(14),
      (r.ratioToNative?.toFixed(2) ?? '-').padStart(17),
    ].join(' | '),
  );
}
if (browserResults.kernels?.length) {
  console.log('\nkernels (Chromium, median of 5)');
  for (const k of browserResults.kernels) {
    const verdict = k.targetMs ? `  target < ${k.targetMs} ms: ${k.ms < k.targetMs ? 'met' : 'NOT met'}` : '';
    console.log(`  ${k.name.padEnd(92)} ${k.ms.toFixed(1).padStart(8)} ms${verdict}`);
  }
}
mkdirSync('target/bench', { recursive: true });
writeFileSync('target/bench/train.json', JSON.stringify({ date: new Date().toISOString(), userAgent: browserResults.userAgent, rows, kernels: browserResults.kernels }, null, 2));
console.log('\nwrote target/bench/train.json');
