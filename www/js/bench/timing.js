// Timing shared by the benchmark workers (Descent's and its peers'), so every figure on the
// benchmark page is measured the same way, and the workers' one message loop.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/**
 * Units per second of `work(k)` (which does k units: training steps, products, …): the median
 * rate over timed chunks after a warm-up. The warm-up is 3 units (1 when a unit takes over a
 * second). Chunks double until one lasts at least `minChunkMs`; chunks are then timed for
 * `budgetMs` and at least `minChunks` (3 when a single unit takes over half a second, so a slow
 * peer does not take minutes), stopping anyway after `capMs` with what was measured. Also
 * returns the best chunk's rate (`best`), which shows how much a busy machine took away.
 */
export function unitsPerSecond(work, { minChunkMs = 50, budgetMs = 1500, minChunks = 5, capMs = 20000 } = {}) {
  let t = performance.now();
  work(1);
  const first = performance.now() - t;
  if (first < 1000) work(2);
  let chunks = first > 500 ? 3 : minChunks;
  const rates = [];
  let chunk = 1;
  const start = performance.now();
  while (performance.now() - start < budgetMs || rates.length < chunks) {
    t = performance.now();
    work(chunk);
    const ms = performance.now() - t;
    if (ms < minChunkMs) {
      chunk *= 2;
      continue;
    }
    rates.push((chunk * 1000) / ms);
    if (ms > 500) chunks = Math.min(chunks, 3);
    if (performance.now() - start > capMs && rates.length >= 1) break;
  }
  return { rate: median(rates), best: Math.max(...rates), chunks: rates.length, warmupMs: first };
}

// (hidden layers, width): the configurations of the native benchmark (benches/train.rs).
export const MLP_CONFIGS = [[1, 64], [1, 256], [1, 1024], [1, 4096], [3, 64], [3, 256], [3, 1024]];

// Square products n×n·n×n in every transposition ("TN": A transposed, B as stored).
export const GEMM_SIZES = [128, 256, 512, 1024];
export const GEMM_TRANS = ['NN', 'NT', 'TN', 'TT'];

/** The training data of every MLP benchmark: n = 256 points, d = 2. */
export const N_POINTS = 256;
export const INPUT_DIM = 2;

// Many classes: K = 10 one-hot classes on the MLP data's shapes, one hidden layer of these
// widths; the digits (64 inputs, 10 classes) on 1,024 of the 1,797 images, one hidden layer.
export const LOSS_WIDTHS = [64, 256, 1024];
// The Lazy-or-rich ensemble: networks per batch, and the widths timed against one network.
export const ENSEMBLE_NETWORKS = 32;
export const ENSEMBLE_WIDTHS = [64, 512];
export const ENSEMBLE_N_TRAIN = 64; // the scene's default training set
export const ENSEMBLE_BAND_N = [64, 512]; // training sets at which the band's recomputation is timed (512: the scene's largest)
export const LOSS_CLASSES = 10;
export const DIGITS_N_TRAIN = 1024;
export const DIGITS_WIDTH = 256;

/** The size of the generated CSV the table parser reads. */
export const TABLE_BYTES = 10_000_000;

// Weak labels: the scene's defaults on the digits (1,024 instances in bags, bag sizes 1 … 512,
// 3 seeds), written out so the figures do not move with the page's defaults unnoticed; the
// live run at width 256 (DLLP, bags of 16).
export const WEAK_CONFIG = { data: 'digits', instances: 1024, seeds: 3, seed: 1, width: 64, steps: 200, bag: 16, learner: 'dllp' };
export const WEAK_LIVE_WIDTH = 256;

/** A seeded uniform stream in [-1, 1) (the peers' data and weights; the values do not matter for speed). */
export function uniform(len, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * A benchmark worker's message loop: each request {id, op, args} runs `ops[op](args)` once
 * `ready` has settled and is answered {id, result} or {id, error}.
 */
export function serveOps(ops, ready) {
  self.onmessage = async ({ data }) => {
    const { id, op, args } = data;
    try {
      await ready;
      if (!ops[op]) throw new Error(`unknown benchmark op ${op}`);
      self.postMessage({ id, result: await ops[op](args ?? {}) });
    } catch (e) {
      self.postMessage({ id, error: String(e?.message ?? e) });
    }
  };
}
