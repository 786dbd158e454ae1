// The benchmark page: starts the benchmark worker, shows each result as it arrives, and
// exposes the finished results as `window.benchResults` (and `data-done` on <body>) for
// scripts/bench.mjs.

const rows = document.getElementById('rows');
const status = document.getElementById('status');
const button = document.getElementById('run');
const kernelRows = document.getElementById('kernel-rows');

// Multiply-adds of one step: forward (1×), weight gradient (1×) and input gradient (1×,
// absent for the input layer) of every layer, 2 FLOP each.
function flopsPerStep(depth, width, n = 256, d = 2) {
  const dims = [d, ...Array(depth).fill(width), 1];
  let f = 0;
  for (let l = 0; l + 1 < dims.length; l++) {
    const macs = n * dims[l] * dims[l + 1];
    f += 2 * macs * (l === 0 ? 2 : 3);
  }
  return f;
}

function run() {
  button.disabled = true;
  rows.textContent = '';
  kernelRows.textContent = '';
  document.body.dataset.done = '';
  status.textContent = 'loading…';
  const worker = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
  const results = [];
  worker.onmessage = ({ data }) => {
    if (data.type === 'result') {
      const r = data.result;
      r.gflops = (r.stepsPerSecond * flopsPerStep(r.depth, r.width)) / 1e9;
      results.push(r);
      const tr = document.createElement('tr');
      for (const v of [`${r.depth} × ${r.width}`, r.params.toLocaleString('en'), r.stepsPerSecond.toFixed(1), r.gflops.toFixed(1)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      rows.append(tr);
      status.textContent = `measured ${results.length} of ${data.total}…`;
    } else if (data.type === 'done') {
      status.textContent = `done (${data.info.simd ? 'wasm SIMD' : 'wasm without SIMD'}, Descent ${data.info.version}).`;
      window.benchResults = { userAgent: navigator.userAgent, info: data.info, results, kernels: data.kernels };
      for (const k of data.kernels) {
        const tr = document.createElement('tr');
        for (const v of [k.name, '', `${k.ms.toFixed(1)} ms`, k.targetMs ? `target < ${k.targetMs} ms` : '']) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.append(td);
        }
        kernelRows.append(tr);
      }
      document.body.dataset.done = 'true';
      button.disabled = false;
      worker.terminate();
    } else if (data.type === 'error') {
      status.textContent = `benchmark failed: ${data.message}`;
      window.benchResults = { error: data.message, results };
      document.body.dataset.done = 'error';
      button.disabled = false;
    }
  };
  const only = new URLSearchParams(location.search).get('only');
  worker.postMessage({ type: 'run', only });
}

button.addEventListener('click', run);
if (new URLSearchParams(location.search).has('run')) run();
