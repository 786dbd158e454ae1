// The second peer's benchmark worker: jax-js 0.1.25 on its wasm backend (the CPU), on the same
// MLPs and products as Descent's worker (bench/worker.js) and the TensorFlow.js worker
// (bench/tfjs-worker.js), timed the same way (bench/timing.js), written as a jax-js user writes
// it: the training step is one `jit`-compiled function of the parameters (forward pass, mean
// squared error, `valueAndGrad`, plain SGD on every weight and bias), the products are
// `jit`-compiled `np.matmul`s. Also Cholesky and `eigh` of a 1000 × 1000 symmetric
// positive-definite matrix in float64 (np.linalg), which Descent's benchmark worker does not time
// on their own.
//
// jax-js is served from dist/vendor/jax-js/ (its ES module build, copied there by
// scripts/build.sh). Its wasm backend compiles its kernels to wasm modules at run time (CSP
// 'wasm-unsafe-eval') and runs them on this worker's thread; it would spread them over a pool
// of workers only where SharedArrayBuffer exists (a cross-origin-isolated page, which the
// benchmark page is not).
//
// jax-js arrays are reference-counted: every operation takes ownership of its arguments
// (consumes them) and `a.ref` adds a reference for a second use; reading an array (`item`,
// `dataSync`) consumes it too. Every array made here is consumed or disposed, so long timing
// runs hold a constant number of buffers.
//
// Requests in: {id, op, args} with op 'info' | 'mlp' {depth, width} | 'gemm' {trans, n} |
// 'linalg' {n}. Replies out: {id, result} or {id, error}.

import { numpy as np, nn, jit, valueAndGrad, tree, init, defaultDevice } from '../../vendor/jax-js/index.js';
import { median, uniform, unitsPerSecond, N_POINTS, INPUT_DIM, serveOps } from './timing.js';

const VERSION = '0.1.25';

async function setup() {
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error('jax-js could not start its wasm backend');
  defaultDevice('wasm');
}

const LR = 1e-3;

/** Mean squared error of the MLP `params` ([{w, b}, …], ReLU between layers) on (x, y). */
function mse(params, x, y) {
  let h = x;
  params.forEach(({ w, b }, l) => {
    const z = np.matmul(h, w).add(b);
    h = l + 1 < params.length ? nn.relu(z) : z;
  });
  return np.mean(np.square(h.sub(y)));
}

/** One full-batch SGD step, compiled once per network shape: (params, x, y) → [params', loss]. */
const sgdStep = jit((params, x, y) => {
  const [loss, grads] = valueAndGrad(mse)(tree.ref(params), x, y);
  const next = tree.map((p, g) => p.sub(g.mul(LR)), params, grads);
  return [next, loss];
});

/**
 * Full-batch gradient descent on an MLP with `depth` ReLU hidden layers of `width` units,
 * n = 256 points in d = 2, one output, mean squared error, plain SGD on all weights and biases:
 * optimizer steps per second. Each step's loss is read (jax-js queues work lazily until an
 * array is read, and its queue grows with every unread step: reading the loss every step, as a
 * training loop that watches its loss does, is also its fastest way to run).
 */
function mlp({ depth, width }) {
  const dims = [INPUT_DIM, ...Array(depth).fill(width), 1];
  const xs = uniform(N_POINTS * INPUT_DIM, 1);
  const ys = new Float32Array(N_POINTS);
  for (let i = 0; i < N_POINTS; i++) ys[i] = xs[2 * i] ** 2 + xs[2 * i + 1] ** 2 < 0.5 ? 1 : -1;
  const x = np.array(xs).reshape([N_POINTS, INPUT_DIM]);
  const y = np.array(ys).reshape([N_POINTS, 1]);
  let params = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const w = np.array(uniform(dims[l] * dims[l + 1], 100 + l)).reshape([dims[l], dims[l + 1]]).mul(Math.sqrt(3 / dims[l]));
    params.push({ w, b: np.zeros([dims[l + 1]]) });
  }
  const paramCount = params.reduce((s, { w, b }) => s + w.size + b.size, 0);
  let first = null;
  let last = null;
  const steps = (k) => {
    for (let i = 0; i < k; i++) {
      const [next, loss] = sgdStep(params, x.ref, y.ref);
      params = next;
      last = loss.item();
      first ??= last;
    }
  };
  try {
    const r = unitsPerSecond(steps);
    if (!Number.isFinite(last) || !(last < first)) throw new Error(`the jax-js benchmark run diverged (loss ${first} → ${last})`);
    return { stepsPerSecond: r.rate, best: r.best, chunks: r.chunks, params: paramCount, loss: [first, last] };
  } finally {
    tree.dispose(params);
    x.dispose();
    y.dispose();
  }
}

/**
 * op(A)·op(B) of n×n float32 matrices as a jit-compiled np.matmul of the (transposed) operands:
 * GFLOP/s. Each product is read back (`dataSync`, which runs the queued kernels; the copy is n²
 * floats against the product's n³ multiply-adds).
 */
function gemm({ trans, n }) {
  const a = np.array(uniform(n * n, 7)).reshape([n, n]);
  const b = np.array(uniform(n * n, 11)).reshape([n, n]);
  const ta = trans[0] === 'T';
  const tb = trans[1] === 'T';
  const product = jit((a, b) => np.matmul(ta ? a.transpose() : a, tb ? b.transpose() : b));
  try {
    const r = unitsPerSecond((k) => {
      for (let i = 0; i < k; i++) product(a.ref, b.ref).dataSync();
    });
    return { gflops: (r.rate * 2 * n ** 3) / 1e9, best: (r.best * 2 * n ** 3) / 1e9, chunks: r.chunks };
  } finally {
    product.dispose();
    a.dispose();
    b.dispose();
  }
}

/** Milliseconds of each of `runs` calls of `fn()` after `warmup` calls. */
function timeRuns(fn, runs, warmup) {
  for (let i = 0; i < warmup; i++) fn();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return ts;
}

/**
 * Cholesky (np.linalg.cholesky) and the symmetric eigendecomposition (np.linalg.eigh,
 * eigenvalues and eigenvectors) of A = M·Mᵀ/n + I, M uniform in [-1, 1), n × n, float64.
 * Cholesky: median of 5 after a warm-up; eigh: `eighRuns` runs without a warm-up (jax-js's
 * eigh is a cyclic Jacobi method: at n = 1000 one run takes more than a minute). Checks the
 * factor (‖L·Lᵀ − A‖∞) and the eigenvalues (all ≥ 1, as they are for this A).
 */
async function linalg({ n = 1000, eighRuns = 1 }) {
  const m = np.array(uniform(n * n, 3)).reshape([n, n]);
  const a = np.matmul(m.ref, m.transpose()).div(n).add(np.eye(n)).astype(np.float64);
  await a.blockUntilReady();
  try {
    const cholRuns = timeRuns(() => np.linalg.cholesky(a.ref).dataSync(), 5, 1);
    const l = np.linalg.cholesky(a.ref);
    const cholError = np.max(np.abs(np.matmul(l.ref, l.transpose()).sub(a.ref))).item();
    if (!(cholError < 1e-8)) throw new Error(`jax-js's Cholesky factor is off: ‖L·Lᵀ − A‖∞ = ${cholError}`);
    let lowest = null;
    const eighRunsMs = timeRuns(() => {
      const [w, v] = np.linalg.eigh(a.ref);
      v.dataSync();
      lowest = w.dataSync()[0];
    }, eighRuns, 0);
    if (!(lowest > 1 - 1e-6)) throw new Error(`jax-js's eigh is off: lowest eigenvalue ${lowest}, expected ≥ 1`);
    return { n, dtype: 'float64', choleskyMs: median(cholRuns), choleskyRuns: cholRuns, cholError, eighMs: median(eighRunsMs), eighRuns: eighRunsMs, lowestEigenvalue: lowest };
  } finally {
    a.dispose();
  }
}

/** Whether this browser offers WebGPU to a worker, and its adapter (not timed here). */
async function webgpu() {
  if (!self.navigator?.gpu) return 'absent';
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return 'no adapter';
    const i = adapter.info ?? {};
    return `adapter ${[i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed'}`;
  } catch (e) {
    return `no adapter (${e?.message ?? e})`;
  }
}

/**
 * Whether this browser's wasm has relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`),
 * which jax-js's generated matmul kernels use where it validates (Descent's kernels and the
 * measured peak use `f32x4.mul` and `f32x4.add`): a module of one function (v128, v128, v128)
 * → v128 whose body is that one instruction.
 */
function hasRelaxedMadd() {
  const type = [0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b];
  const func = [0x03, 0x02, 0x01, 0x00];
  const body = [0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b];
  const code = [0x0a, body.length + 2, 0x01, body.length, ...body];
  return WebAssembly.validate(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...func, ...code]));
}

const OPS = {
  info: async () => ({
    version: VERSION,
    backend: defaultDevice(),
    threads: typeof SharedArrayBuffer === 'undefined' ? 1 : self.navigator?.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated === true,
    relaxedMadd: hasRelaxedMadd(),
    webgpu: await webgpu(),
  }),
  mlp,
  gemm,
  linalg,
};

serveOps(OPS, setup());
