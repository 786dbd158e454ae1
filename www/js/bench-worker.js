// Benchmark worker: times full-batch training of the benchmark MLPs with the same engine the
// Playground uses. Message in: {type:'run', only?: 'substring of "depthxwidth"'}.
// Messages out: {type:'result', result, total}, {type:'done', info}, {type:'error', message}.

import init, { Playground, buildInfo, KernelRegressionBench, EmpiricalNtkBench, DoubleDescent } from '../pkg/descent.js';

// (hidden layers, width): the configurations of the native benchmark (benches/train.rs).
const CONFIGS = [[1, 64], [1, 256], [1, 1024], [1, 4096], [3, 64], [3, 256], [3, 1024]];

function stepsPerSecond(pg) {
  pg.trainSteps(3);
  const rates = [];
  let chunk = 1;
  const start = performance.now();
  while (performance.now() - start < 1500 || rates.length < 5) {
    const t = performance.now();
    const done = pg.trainSteps(chunk);
    if (done !== chunk) throw new Error('the benchmark run diverged');
    const dt = (performance.now() - t) / 1000;
    if (dt < 0.05) {
      chunk *= 2;
      continue;
    }
    rates.push(chunk / dt);
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

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

// Kernel workloads with the targets the scenes need to stay interactive.
function kernelResults() {
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

self.onmessage = async ({ data }) => {
  if (data.type !== 'run') return;
  try {
    await init();
    const configs = CONFIGS.filter(([d, w]) => !data.only || `${d}x${w}`.includes(data.only));
    for (const [depth, width] of configs) {
      const pg = new Playground({ dataset: 'circles', nTrain: 256, width, depth, lr: 1e-3 });
      const result = { config: `${depth}x${width}`, depth, width, params: pg.paramCount, stepsPerSecond: stepsPerSecond(pg) };
      pg.free();
      self.postMessage({ type: 'result', result, total: configs.length });
    }
    const kernels = !data.only || 'kernels'.includes(data.only) ? kernelResults() : [];
    self.postMessage({ type: 'done', info: buildInfo(), kernels });
  } catch (e) {
    self.postMessage({ type: 'error', message: String(e?.message ?? e) });
  }
};
