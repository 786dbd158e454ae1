// The peer's benchmark worker: TensorFlow.js 4.22 on the same MLPs and products as Descent's
// worker (bench/worker.js), timed the same way (bench/timing.js). The backend comes from the
// worker URL: `bench/tfjs-worker.js?backend=wasm` (SIMD, one thread) or `?backend=cpu`.
// TensorFlow.js is served from dist/vendor/tfjs/ (copied there by scripts/build.sh); its UMD
// bundles set `globalThis.tf` when imported.
//
// Requests in: {id, op, args} with op 'info' | 'mlp' {depth, width} | 'gemm' {trans, n}.
// Replies out: {id, result} or {id, error}.

import '../../vendor/tfjs/tf.es2017.min.js';
import '../../vendor/tfjs/tf-backend-wasm.es2017.min.js';
import { uniform, unitsPerSecond, N_POINTS, INPUT_DIM, serveOps } from './timing.js';

const tf = globalThis.tf;
const backend = new URLSearchParams(self.location.search).get('backend') ?? 'wasm';

async function setup() {
  if (backend === 'wasm') {
    tf.wasm.setWasmPaths(new URL('../../vendor/tfjs/', import.meta.url).href);
    tf.wasm.setThreadsCount(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend`);
  await tf.ready();
}

/**
 * Full-batch gradient descent on an MLP with `depth` ReLU hidden layers of `width` units,
 * n = 256 points in d = 2, one output, mean squared error, plain SGD (tf.train.sgd) on all
 * weights and biases: optimizer steps per second.
 */
function mlp({ depth, width }) {
  const dims = [INPUT_DIM, ...Array(depth).fill(width), 1];
  const x = tf.tensor2d(uniform(N_POINTS * INPUT_DIM, 1), [N_POINTS, INPUT_DIM]);
  const xs = x.arraySync();
  const y = tf.tensor2d(xs.map(([a, b]) => [a * a + b * b < 0.5 ? 1 : -1]), [N_POINTS, 1]);
  const vars = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const w = tf.mul(tf.tensor2d(uniform(dims[l] * dims[l + 1], 100 + l), [dims[l], dims[l + 1]]), Math.sqrt(3 / dims[l]));
    vars.push({ w: tf.variable(w), b: tf.variable(tf.zeros([dims[l + 1]])) });
    w.dispose();
  }
  const opt = tf.train.sgd(1e-3);
  const loss = () => {
    let h = x;
    vars.forEach(({ w, b }, l) => {
      const z = tf.add(tf.matMul(h, w), b);
      h = l + 1 < vars.length ? tf.relu(z) : z;
    });
    return tf.mean(tf.squaredDifference(h, y));
  };
  try {
    const r = unitsPerSecond((k) => {
      for (let i = 0; i < k; i++) tf.tidy(() => opt.minimize(loss));
    });
    const last = tf.tidy(loss).dataSync()[0];
    if (!Number.isFinite(last)) throw new Error('the TensorFlow.js benchmark run diverged');
    const params = vars.reduce((s, { w, b }) => s + w.size + b.size, 0);
    return { stepsPerSecond: r.rate, best: r.best, chunks: r.chunks, params };
  } finally {
    opt.dispose();
    for (const { w, b } of vars) {
      w.dispose();
      b.dispose();
    }
    x.dispose();
    y.dispose();
  }
}

/** tf.matMul(A, B, transposeA, transposeB) of n×n matrices: GFLOP/s. */
function gemm({ trans, n }) {
  const a = tf.tensor2d(uniform(n * n, 7), [n, n]);
  const b = tf.tensor2d(uniform(n * n, 11), [n, n]);
  const ta = trans[0] === 'T';
  const tb = trans[1] === 'T';
  try {
    const r = unitsPerSecond((k) => {
      for (let i = 0; i < k; i++) tf.matMul(a, b, ta, tb).dispose();
    });
    return { gflops: (r.rate * 2 * n ** 3) / 1e9, best: (r.best * 2 * n ** 3) / 1e9, chunks: r.chunks };
  } finally {
    a.dispose();
    b.dispose();
  }
}

const OPS = {
  info: async () => ({
    version: tf.version.tfjs,
    backend: tf.getBackend(),
    threads: backend === 'wasm' ? tf.wasm.getThreadsCount() : 1,
    simd: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : false,
  }),
  mlp,
  gemm,
};

serveOps(OPS, setup());
