// The benchmark page: drives Descent's benchmark worker, two TensorFlow.js workers (wasm
// backend with SIMD on one thread, and CPU backend) and a jax-js worker (wasm backend, jit, one
// thread) through the same figures in one session, interleaved figure by figure so slow drift
// in the machine's load hits all of them alike; shows each result as it arrives and exposes the
// finished results as `window.benchResults` (and `data-done` on <body>) for scripts/bench.mjs.
//
// Query: ?run starts at once; &only=a,b keeps the figures whose name contains a or b (names:
// "peak", "gemm NN 256", "mlp 3x1024", "kernels", "linalg" (jax-js's Cholesky and eigh),
// "loss 1x256", "loss digits 1x256", "ensemble 32x512", "ensemble band n512", "table 10MB", "weak curve", "weak live"); &peers=0 leaves
// the peers (TensorFlow.js and jax-js) out.

import { scriptURL } from '../core/trusted.js';
import { MLP_CONFIGS, GEMM_SIZES, GEMM_TRANS, N_POINTS, INPUT_DIM, LOSS_WIDTHS, LOSS_CLASSES, DIGITS_N_TRAIN, DIGITS_WIDTH, TABLE_BYTES, WEAK_CONFIG, WEAK_LIVE_WIDTH, ENSEMBLE_NETWORKS, ENSEMBLE_WIDTHS, ENSEMBLE_BAND_N } from './timing.js';

const $ = (id) => document.getElementById(id);
const status = $('status');
const button = $('run');

/** A worker answering {id, op, args} with {id, result | error}, as promises. */
function rpcWorker(url) {
  const worker = new Worker(scriptURL(String(url)), { type: 'module' });
  const pending = new Map();
  let next = 0;
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (data.error !== undefined) p?.reject(new Error(data.error));
    else p?.resolve(data.result);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    for (const p of pending.values()) p.reject(new Error(`worker ${url} failed: ${e.message}`));
    pending.clear();
  };
  return {
    call: (op, args) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, op, args });
      }),
    terminate: () => worker.terminate(),
  };
}

// Multiply-adds of one step: forward (1×), weight gradient (1×) and input gradient (1×,
// absent for the input layer) of every layer, 2 FLOP each.
function flopsPerStep(depth, width, n = N_POINTS, d = INPUT_DIM) {
  const dims = [d, ...Array(depth).fill(width), 1];
  let f = 0;
  for (let l = 0; l + 1 < dims.length; l++) {
    const macs = n * dims[l] * dims[l + 1];
    f += 2 * macs * (l === 0 ? 2 : 3);
  }
  return f;
}

const fmt = (x, digits = 1) => (x == null ? '—' : x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(digits));
const ratio = (a, b) => (a == null || b == null ? '—' : `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}×`);

function addRow(tbody, cells) {
  const tr = document.createElement('tr');
  for (const v of cells) {
    const td = document.createElement('td');
    td.textContent = v;
    tr.append(td);
  }
  tbody.append(tr);
}

async function run() {
  button.disabled = true;
  for (const id of ['gemm-rows', 'mlp-rows', 'kernel-rows', 'loss-rows', 'table-rows', 'weak-rows', 'ensemble-rows']) $(id).textContent = '';
  $('peak').textContent = '…';
  document.body.dataset.done = '';
  const q = new URLSearchParams(location.search);
  const only = q.get('only')?.split(',').filter(Boolean) ?? null;
  const want = (name) => !only || only.some((o) => name.includes(o));
  const withPeers = q.get('peers') !== '0';

  const descent = rpcWorker(new URL('./worker.js', import.meta.url));
  const peers = withPeers
    ? {
        tfjsWasm: rpcWorker(new URL('./tfjs-worker.js?backend=wasm', import.meta.url)),
        tfjsCpu: rpcWorker(new URL('./tfjs-worker.js?backend=cpu', import.meta.url)),
        jaxjsWasm: rpcWorker(new URL('./jaxjs-worker.js', import.meta.url)),
      }
    : {};
  const results = { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, info: {}, peak: null, gemm: [], mlp: [], kernels: [], linalg: null, loss: [], table: [], weak: {}, ensemble: [], ensembleBand: [] };
  try {
    status.textContent = 'loading…';
    results.info.descent = await descent.call('info');
    for (const [name, w] of Object.entries(peers)) results.info[name] = await w.call('info');
    const info = results.info;
    $('engines').textContent =
      `Descent ${info.descent.version} (wasm${info.descent.simd ? ' SIMD128' : ''}, one thread)` +
      (withPeers ? `; TensorFlow.js ${info.tfjsWasm.version}: wasm backend (SIMD ${info.tfjsWasm.simd ? 'on' : 'off'}, ${info.tfjsWasm.threads} thread) and CPU backend` : '') +
      (withPeers ? `; jax-js ${info.jaxjsWasm.version}: ${info.jaxjsWasm.backend} backend, jit, ${info.jaxjsWasm.threads} thread (WebGPU: ${info.jaxjsWasm.webgpu}, not timed)` : '') +
      `; ${navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent}, ${navigator.hardwareConcurrency} logical cores.`;

    // The peak is measured before, between and after the other figures; the largest counts.
    const peaks = [];
    const measurePeak = async () => {
      if (!want('peak')) return;
      status.textContent = 'measuring the wasm SIMD128 peak…';
      peaks.push(await descent.call('peak'));
      const best = peaks.reduce((a, b) => (b.gflops > a.gflops ? b : a));
      results.peak = { gflops: best.gflops, chains: best.chains, runs: peaks };
      $('peak').textContent = `${best.gflops.toFixed(1)} GFLOP/s (best of ${peaks.length} measurements; ${best.chains} chains of f32x4 mul + add)`;
    };
    await measurePeak();

    const gemms = GEMM_SIZES.flatMap((n) => GEMM_TRANS.map((trans) => ({ n, trans }))).filter(({ n, trans }) => want(`gemm ${trans} ${n}`));
    for (const [i, { n, trans }] of gemms.entries()) {
      status.textContent = `matmul ${trans} ${n} (${i + 1} of ${gemms.length})…`;
      const d = await descent.call('gemm', { trans, n });
      const row = { trans, n, descent: d.gflops, best: { descent: d.best } };
      for (const [name, w] of Object.entries(peers)) {
        const r = await w.call('gemm', { trans, n });
        row[name] = r.gflops;
        row.best[name] = r.best;
      }
      results.gemm.push(row);
      const peak = results.peak?.gflops;
      addRow($('gemm-rows'), [`${trans} ${n}`, fmt(row.descent), fmt(row.tfjsWasm), fmt(row.tfjsCpu, 2), fmt(row.jaxjsWasm), ratio(row.descent, row.tfjsWasm), ratio(row.descent, row.jaxjsWasm), peak ? `${((100 * row.descent) / peak).toFixed(0)} %` : '—']);
    }

    if (gemms.length) await measurePeak();

    const mlps = MLP_CONFIGS.filter(([d, w]) => want(`mlp ${d}x${w}`));
    for (const [i, [depth, width]] of mlps.entries()) {
      status.textContent = `MLP ${depth} × ${width} (${i + 1} of ${mlps.length})…`;
      const d = await descent.call('mlp', { depth, width });
      const row = { config: `${depth}x${width}`, depth, width, params: d.params, flopsPerStep: flopsPerStep(depth, width), descent: d.stepsPerSecond, best: { descent: d.best } };
      for (const [name, w] of Object.entries(peers)) {
        const r = await w.call('mlp', { depth, width });
        row[name] = r.stepsPerSecond;
        row.best[name] = r.best;
        row[`${name}Params`] = r.params;
      }
      results.mlp.push(row);
      addRow($('mlp-rows'), [`${depth} × ${width}`, d.params.toLocaleString('en'), fmt(row.descent), fmt((row.descent * row.flopsPerStep) / 1e9), fmt(row.tfjsWasm, 2), fmt(row.tfjsCpu, 2), fmt(row.jaxjsWasm, 2), ratio(row.descent, row.tfjsWasm), ratio(row.descent, row.tfjsCpu), ratio(row.descent, row.jaxjsWasm)]);
    }

    if (want('kernels')) {
      status.textContent = 'kernel workloads…';
      results.kernels = await descent.call('kernels');
      for (const k of results.kernels) addRow($('kernel-rows'), [k.name, `${k.ms.toFixed(1)} ms`, k.targetMs ? `< ${k.targetMs} ms` : '']);
    }
    // jax-js's dense factorisations (the peer alone: Descent's worker times no Cholesky or eigh
    // on its own; its Cholesky is inside the kernel regression's solve above).
    if (peers.jaxjsWasm && want('linalg')) {
      status.textContent = 'jax-js: Cholesky and eigh, n = 1000 (eigh takes minutes)…';
      const l = (results.linalg = await peers.jaxjsWasm.call('linalg', { n: 1000 }));
      addRow($('kernel-rows'), [`jax-js wasm: Cholesky, ${l.n} × ${l.n} SPD, ${l.dtype} (no Descent figure)`, `${l.choleskyMs.toFixed(1)} ms`, '']);
      addRow($('kernel-rows'), [`jax-js wasm: eigh, ${l.n} × ${l.n}, ${l.dtype}, ${l.eighRuns.length === 1 ? 'one run' : `median of ${l.eighRuns.length}`} (no Descent figure)`, `${l.eighMs.toFixed(0)} ms`, '']);
    }
    // Many classes: the squared loss on one-hot targets against softmax cross-entropy, at the
    // same shapes (Descent only; the squared loss is the peer).
    const losses = [
      ...LOSS_WIDTHS.map((width) => ({ name: `loss 1x${width}`, data: 'random', args: { depth: 1, width, n: N_POINTS, dim: INPUT_DIM, classes: LOSS_CLASSES } })),
      { name: `loss digits 1x${DIGITS_WIDTH}`, data: 'digits', args: { depth: 1, width: DIGITS_WIDTH, nTrain: DIGITS_N_TRAIN } },
    ].filter((l) => want(l.name));
    for (const [i, l] of losses.entries()) {
      status.textContent = `${l.name}: squared and cross-entropy (${i + 1} of ${losses.length})…`;
      const d = await descent.call(l.data === 'digits' ? 'digits' : 'loss', l.args);
      const row = { name: l.name, data: l.data, ...l.args, ...d, ceOverSquared: d.crossEntropy / d.squared };
      results.loss.push(row);
      const shape = l.data === 'digits' ? `digits, n = ${l.args.nTrain}, d = 64, K = 10` : `random, n = ${l.args.n}, d = ${l.args.dim}, K = ${l.args.classes}`;
      addRow($('loss-rows'), [`1 × ${l.args.width}`, shape, d.params.toLocaleString('en'), fmt(d.squared), fmt(d.crossEntropy), ratio(d.crossEntropy, d.squared)]);
    }

    // The Lazy-or-rich scene's ensemble: N networks in one batched trainer against one network.
    for (const width of ENSEMBLE_WIDTHS) {
      const name = `ensemble ${ENSEMBLE_NETWORKS}x${width}`;
      if (!want(name)) continue;
      status.textContent = `${name}: the ensemble and one network…`;
      const e = await descent.call('ensemble', { width, networks: ENSEMBLE_NETWORKS });
      const row = { name, width, networks: ENSEMBLE_NETWORKS, ...e, ratio: e.ensemble / e.single };
      results.ensemble.push(row);
      addRow($('ensemble-rows'), [`${ENSEMBLE_NETWORKS} × width ${width}`, fmt(e.single), fmt(e.ensemble), ratio(e.ensemble, e.single), '≥ 0.125']);
    }

    for (const nTrain of ENSEMBLE_BAND_N) {
      if (!want(`ensemble band n${nTrain}`)) continue;
      status.textContent = `the ensemble's band for a new step size, n = ${nTrain}…`;
      const bnd = await descent.call('ensembleBand', { nTrain });
      results.ensembleBand.push(bnd);
      addRow($('ensemble-rows'), [`band for a new step size, n = ${nTrain}`, '', `${bnd.ms.toFixed(2)} ms (worst ${bnd.worstMs.toFixed(2)})`, '', '< 16 ms']);
    }

    if (want(`table ${TABLE_BYTES / 1e6}MB`)) {
      status.textContent = 'parsing a generated CSV…';
      const t = await descent.call('table', { bytes: TABLE_BYTES });
      results.table.push(t);
      addRow($('table-rows'), [`${(t.bytes / 1e6).toFixed(1)} MB, ${t.rows.toLocaleString('en')} rows × 9 columns`, `${t.ms.toFixed(1)} ms`, `${(t.bytes / 1e3 / t.ms).toFixed(0)} MB/s`, '< 1000 ms']);
    }
    // Weak labels (Descent only): the mean map's curve against the same curve with the labels
    // known; the live run against cross-entropy training at the same shape.
    if (want('weak curve')) {
      status.textContent = 'weak labels: the mean map’s curve…';
      const c = await descent.call('weakCurve', { config: WEAK_CONFIG });
      results.weak.curve = c;
      addRow($('weak-rows'), [`mean map’s curve, ${c.sizes.length} bag sizes × ${c.seeds} seeds`, `${c.ms.toFixed(1)} ms`, `labels known: ${c.nearestMeanMs.toFixed(1)} ms`, ratio(c.ms, c.nearestMeanMs), '< 200 ms']);
    }
    if (want('weak live')) {
      status.textContent = `weak labels: the live run at width ${WEAK_LIVE_WIDTH}…`;
      const l = await descent.call('weakLive', { config: { ...WEAK_CONFIG, width: WEAK_LIVE_WIDTH } });
      results.weak.live = { ...l, width: WEAK_LIVE_WIDTH, instances: WEAK_CONFIG.instances, bag: WEAK_CONFIG.bag };
      addRow($('weak-rows'), [`live run, DLLP, 1 × ${WEAK_LIVE_WIDTH}, ${WEAK_CONFIG.instances} digits in bags of ${WEAK_CONFIG.bag}`, `${fmt(l.stepsPerSecond)} steps/s`, `cross-entropy: ${fmt(l.crossEntropy)} steps/s`, ratio(l.stepsPerSecond, l.crossEntropy), '≥ 150 steps/s']);
    }
    await measurePeak();
    status.textContent = 'done.';
    window.benchResults = results;
    document.body.dataset.done = 'true';
  } catch (e) {
    status.textContent = `benchmark failed: ${e.message}`;
    window.benchResults = { ...results, error: e.message };
    document.body.dataset.done = 'error';
  } finally {
    descent.terminate();
    for (const w of Object.values(peers)) w.terminate();
    button.disabled = false;
  }
}

button.addEventListener('click', run);
if (new URLSearchParams(location.search).has('run')) run();
