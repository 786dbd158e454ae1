// Descent's benchmark worker: times full-batch training of the benchmark MLPs with the same
// engine the Playground uses, the engine's GEMM on square products, the measured wasm SIMD128
// peak, and the kernel workloads the scenes need.
//
// Requests in: {id, op, args} with op 'info' | 'mlp' {depth, width} | 'gemm' {trans, n} |
// 'peak' | 'kernels' | 'loss' {depth, width, n, dim, classes} | 'digits' {depth, width, nTrain} |
// 'table' {bytes}. Replies out: {id, result} or {id, error}.

import init, { Playground, buildInfo, GemmBench, KernelRegressionBench, EmpiricalNtkBench, DoubleDescent, LossBench, benchCsv, benchParseTable } from '../../pkg/descent.js';
import { median, unitsPerSecond, N_POINTS } from './timing.js';
import { measureSimdPeak } from './peak.js';

/** Milliseconds of `fn()`, median of `runs` runs after one warm-up. */
function timeMs(fn, runs = 5) {
  fn();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

function mlp({ depth, width }) {
  const pg = new Playground({ dataset: 'circles', nTrain: N_POINTS, width, depth, lr: 1e-3 });
  try {
    const r = unitsPerSecond((k) => {
      if (pg.trainSteps(k) !== k) throw new Error('the benchmark run diverged');
    });
    return { stepsPerSecond: r.rate, best: r.best, chunks: r.chunks, params: pg.paramCount };
  } finally {
    pg.free();
  }
}

function gemm({ trans, n }) {
  const g = new GemmBench(trans, n, n, n);
  try {
    const r = unitsPerSecond((k) => g.run(k));
    return { gflops: (r.rate * g.flops) / 1e9, best: (r.best * g.flops) / 1e9, chunks: r.chunks };
  } finally {
    g.free();
  }
}

// Kernel workloads with the targets the scenes need to stay interactive.
function kernels() {
  const out = [];
  const krr = new KernelRegressionBench(1000, 4096, 2);
  const kernelMs = timeMs(() => krr.kernels());
  const solveMs = timeMs(() => krr.solve(1e-3));
  krr.free();
  out.push({ name: 'analytic NTK kernel regression, 1000 train / 4096 test, ReLU depth 2: kernels', ms: kernelMs });
  out.push({ name: '… Cholesky, solve and predict', ms: solveMs });
  out.push({ name: '… total', ms: kernelMs + solveMs, targetMs: 200 });
  const ntk = new EmpiricalNtkBench(1024, 256);
  out.push({ name: 'empirical NTK, 1 hidden layer of width 1024, 256 points', ms: timeMs(() => ntk.run()), targetMs: 50 });
  ntk.free();
  // One random-features double-descent curve: n = 300, 41 sizes up to p = 10n, 5 seeds, 1000
  // test points (the engine's defaults), then a ridge redraw of all of it.
  let dd = null;
  const curveMs = timeMs(() => {
    dd?.free();
    dd = new DoubleDescent({});
    while (!dd.advance());
  }, 3);
  out.push({ name: 'double-descent curve: RF ReLU, n 300, 41 sizes to 10n, 5 seeds, 1000 test', ms: curveMs, targetMs: 300 });
  let r = 0;
  out.push({ name: '… ridge redraw (all sizes and seeds)', ms: timeMs(() => dd.setRidge((r = (r + 1) % 7) * 1e-3 + 1e-3)), targetMs: 16 });
  dd.free();
  return out;
}

/** Steps/s of one LossBench (built by `make`), freed afterwards. */
function lossRate(make) {
  const b = make();
  try {
    const r = unitsPerSecond((k) => {
      if (!Number.isFinite(b.steps(k))) throw new Error('the benchmark run diverged');
    });
    return { rate: r.rate, best: r.best, chunks: r.chunks, params: b.params };
  } finally {
    b.free();
  }
}

/**
 * The squared loss (on one-hot targets) and cross-entropy at the same shapes, timed in the
 * order squared, cross-entropy, cross-entropy, squared so that drift in the machine's load hits
 * both alike; each figure is the mean of its two medians.
 */
function lossPair(make) {
  const runs = { squared: [], crossEntropy: [] };
  for (const loss of ['squared', 'crossEntropy', 'crossEntropy', 'squared']) runs[loss].push(lossRate(() => make(loss)));
  const mean = (rs, key) => rs.reduce((a, r) => a + r[key], 0) / rs.length;
  const out = { params: runs.squared[0].params };
  for (const [loss, rs] of Object.entries(runs)) {
    out[loss] = mean(rs, 'rate');
    out[`${loss}Runs`] = rs.map((r) => r.rate);
    out[`${loss}Best`] = Math.max(...rs.map((r) => r.best));
  }
  return out;
}

function loss({ depth, width, n, dim, classes }) {
  return lossPair((l) => new LossBench(l, depth, width, n, dim, classes));
}

let digitsCsv = null;
async function digits({ depth, width, nTrain }) {
  digitsCsv ??= await fetch(new URL('../../data/digits.csv', import.meta.url)).then((r) => {
    if (!r.ok) throw new Error(`data/digits.csv: HTTP ${r.status}`);
    return r.text();
  });
  return lossPair((l) => LossBench.digits(digitsCsv, l, depth, width, nTrain));
}

// A generated CSV (the file of benches/table.rs) parsed by the table parser the Playground
// uses for a reader's file: the string is passed into wasm each time, as the page does.
function table({ bytes }) {
  const text = benchCsv(bytes);
  let rows = 0;
  const runs = [];
  const ms = timeMs(() => {
    const t = performance.now();
    rows = benchParseTable(text);
    runs.push(performance.now() - t);
  });
  return { bytes: text.length, rows, ms, runs: runs.slice(1) };
}

const OPS = {
  info: () => buildInfo(),
  mlp,
  gemm,
  peak: () => measureSimdPeak(),
  kernels,
  loss,
  digits,
  table,
};

const ready = init();

self.onmessage = async ({ data }) => {
  const { id, op, args } = data;
  try {
    await ready;
    if (!OPS[op]) throw new Error(`unknown benchmark op ${op}`);
    self.postMessage({ id, result: await OPS[op](args ?? {}) });
  } catch (e) {
    self.postMessage({ id, error: String(e?.message ?? e) });
  }
};
