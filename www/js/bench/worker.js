// Descent's benchmark worker: times full-batch training of the benchmark MLPs with the same
// engine the Playground uses, the engine's GEMM on square products, the measured wasm SIMD128
// peak, and the kernel workloads the scenes need.
//
// Requests in: {id, op, args} with op 'info' | 'mlp' {depth, width} | 'gemm' {trans, n} |
// 'peak' | 'kernels' | 'loss' {depth, width, n, dim, classes} | 'digits' {depth, width, nTrain} |
// 'table' {bytes} | 'weakCurve' {config} | 'weakLive' {config} | 'ensemble' {width, networks}. Replies out: {id, result} or
// {id, error}.

import init, {
  Playground, buildInfo, GemmBench, KernelRegressionBench, EmpiricalNtkBench, DoubleDescent, LossBench, benchCsv, benchParseTable,
  setDigits, hasDigits, WeakLabels, weakMeanMapCurve, weakBagSizes, benchWeakNearestMeanCurve, EnsembleBench,
} from '../../pkg/descent.js';
import { median, unitsPerSecond, N_POINTS, serveOps, ENSEMBLE_N_TRAIN } from './timing.js';
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
async function digitsText() {
  digitsCsv ??= await fetch(new URL('../../data/digits.csv', import.meta.url)).then((r) => {
    if (!r.ok) throw new Error(`data/digits.csv: HTTP ${r.status}`);
    return r.text();
  });
  return digitsCsv;
}

async function digits({ depth, width, nTrain }) {
  const text = await digitsText();
  return lossPair((l) => LossBench.digits(text, l, depth, width, nTrain));
}

/** Hands this engine instance the digits (as the scene's workers do), once. */
async function weakDigits() {
  if (!hasDigits()) setDigits(await digitsText());
}

/**
 * Weak labels: the mean map's curve over every bag size and seed (`weakMeanMapCurve`, what the
 * scene's worker computes on every settings change) and its peer, the same curve with the
 * labels known (`benchWeakNearestMeanCurve`: the same pools, class means from the true labels,
 * the same nearest-mean prediction). Timed curve, peer, peer, curve, each a median of 5 after a
 * warm-up; each figure the mean of its two medians.
 */
async function weakCurve({ config }) {
  await weakDigits();
  const runs = { curve: [], nearestMean: [] };
  let points = null;
  for (const which of ['curve', 'nearestMean', 'nearestMean', 'curve']) {
    runs[which].push(which === 'curve' ? timeMs(() => (points = weakMeanMapCurve({ ...config }))) : timeMs(() => benchWeakNearestMeanCurve({ ...config })));
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    sizes: Array.from(weakBagSizes({ ...config }), Number),
    seeds: config.seeds,
    ms: mean(runs.curve),
    nearestMeanMs: mean(runs.nearestMean),
    runs,
    refused: Array.from(points, (p) => p.refused != null).filter(Boolean).length,
  };
}

/**
 * Weak labels: the live run (`WeakLabels`, the scene's learner) against supervised
 * cross-entropy training of the same network shape on as many digits (`LossBench.digits`).
 * The live run is stepped as the scene's worker steps it: `advance(k)` (a report: the bag loss
 * and the instance accuracies on the training and test sets) then `confusion()`, with k
 * adapted so that a call takes about 30 ms (www/js/scenes/weak-labels/worker.js). Timed live,
 * cross-entropy, cross-entropy, live; each figure the mean of its two window medians. Also the
 * live run's rate in long runs of steps (one report per timed chunk), which shows what the
 * reports cost.
 */
async function weakLive({ config }) {
  await weakDigits();
  const text = await digitsText();
  const live = (paced) => {
    const run = new WeakLabels({ ...config });
    let k = 1;
    try {
      const r = unitsPerSecond((steps) => {
        let left = steps;
        while (left > 0) {
          const s = paced ? Math.min(k, left) : left;
          const t = performance.now();
          const rep = run.advance(s);
          if (rep.diverged != null) throw new Error(`the live run ${rep.diverged}`);
          if (paced) {
            run.confusion();
            const dt = performance.now() - t;
            k = Math.max(1, Math.round(s * Math.min(2, Math.max(0.5, 30 / Math.max(dt, 1e-3)))));
          }
          left -= s;
        }
      });
      return { rate: r.rate, best: r.best, stepsPerReport: paced ? k : null };
    } finally {
      run.free();
    }
  };
  const runs = { live: [], crossEntropy: [] };
  for (const which of ['live', 'crossEntropy', 'crossEntropy', 'live']) {
    if (which === 'live') runs.live.push(live(true));
    else {
      const r = lossRate(() => LossBench.digits(text, 'crossEntropy', 1, config.width, config.instances));
      runs.crossEntropy.push({ rate: r.rate, best: r.best });
    }
  }
  const longRuns = live(false);
  const mean = (rs) => rs.reduce((a, r) => a + r.rate, 0) / rs.length;
  return {
    stepsPerSecond: mean(runs.live),
    crossEntropy: mean(runs.crossEntropy),
    longRuns: longRuns.rate,
    stepsPerReport: runs.live.map((r) => r.stepsPerReport),
    runs: { live: runs.live.map((r) => r.rate), crossEntropy: runs.crossEntropy.map((r) => r.rate) },
    best: { live: Math.max(...runs.live.map((r) => r.best)), crossEntropy: Math.max(...runs.crossEntropy.map((r) => r.best)) },
  };
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

/** Steps/s of an EnsembleBench of `networks` networks (0: the scene's single network), freed after. */
function ensembleRate(networks, width) {
  const b = new EnsembleBench(networks, width, ENSEMBLE_N_TRAIN);
  try {
    let step = 0;
    return unitsPerSecond((k) => {
      const to = b.steps(k);
      if (to !== step + k) throw new Error('the benchmark run diverged');
      step = to;
    }).rate;
  } finally {
    b.free();
  }
}

/**
 * The Lazy-or-rich ensemble of `networks` networks of `width` (one batched trainer) against the
 * scene's single network at the same settings, timed single, ensemble, ensemble, single; each
 * figure the mean of its two medians.
 */
function ensemble({ width, networks }) {
  const single = [];
  const batch = [];
  for (const n of [0, networks, networks, 0]) (n ? batch : single).push(ensembleRate(n, width));
  const mean = (a) => (a[0] + a[1]) / 2;
  return { single: mean(single), ensemble: mean(batch), singleRuns: single, ensembleRuns: batch };
}

/**
 * Milliseconds to recompute the band (μ_t, σ_t on the plotting grid) for a new step size, from the
 * cached factorisation, at the scene's default and largest training sets: the median of 21 step
 * sizes.
 */
function ensembleBand({ nTrain }) {
  const b = new EnsembleBench(2, 64, nTrain);
  try {
    const ts = [];
    for (let i = 0; i <= 20; i++) {
      const t = performance.now();
      if (!Number.isFinite(b.band(0.05 * (1 + i), 100 + 10 * i))) throw new Error('the band is not finite');
      ts.push(performance.now() - t);
    }
    return { nTrain, ms: median(ts), worstMs: Math.max(...ts) };
  } finally {
    b.free();
  }
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
  weakCurve,
  weakLive,
  ensemble,
  ensembleBand,
};

serveOps(OPS, init());
