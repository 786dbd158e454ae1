// Descent's benchmark worker: times full-batch training of the benchmark MLPs with the same
// engine the Playground uses, the engine's GEMM on square products, the measured wasm SIMD128
// peak, and the kernel workloads the scenes need.
//
// Requests in: {id, op, args} with op 'info' | 'mlp' {depth, width} | 'gemm' {trans, n} |
// 'peak' | 'kernels'. Replies out: {id, result} or {id, error}.

import init, { Playground, buildInfo, GemmBench, KernelRegressionBench, EmpiricalNtkBench, DoubleDescent } from '../../pkg/descent.js';
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

const OPS = {
  info: () => buildInfo(),
  mlp,
  gemm,
  peak: () => measureSimdPeak(),
  kernels,
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
