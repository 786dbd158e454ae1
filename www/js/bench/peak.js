// The measured one-core wasm SIMD128 peak: a tiny wasm module, assembled here byte by byte,
// whose loop does only independent f32x4.mul and f32x4.add (K chains of t ← t·m and
// acc ← acc + t, unrolled), so its GFLOP/s is the most this browser's wasm SIMD code can do on
// one core with mul + add (8 flops per chain per iteration: 4 lanes × (mul + add)). The best
// over a few chain counts is reported, so the figure does not depend on one register
// allocation.

import { median } from './timing.js';

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
const simd = (op) => [0xfd, ...leb(op)];
const F32X4_SPLAT = 0x13;
const F32X4_EXTRACT_LANE = 0x1f;
const F32X4_ADD = 0xe4;
const F32X4_MUL = 0xe6;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;

/** Bytes of a module exporting `peak(iters: i32, m: f32, t0: f32) -> f32`. */
export function peakModuleBytes(chains, unroll) {
  // Params 0 iters, 1 m, 2 t0; then the v128 locals t_i, acc_i (zero-initialised) and m.
  const t = (i) => 3 + i;
  const acc = (i) => 3 + chains + i;
  const mv = 3 + 2 * chains;
  const code = [];
  for (let i = 0; i < chains; i++) code.push(LOCAL_GET, 2, ...simd(F32X4_SPLAT), LOCAL_SET, t(i));
  code.push(LOCAL_GET, 1, ...simd(F32X4_SPLAT), LOCAL_SET, mv);
  code.push(0x03, 0x40); // loop (no result)
  for (let u = 0; u < unroll; u++) {
    for (let i = 0; i < chains; i++) {
      code.push(LOCAL_GET, acc(i), LOCAL_GET, t(i), ...simd(F32X4_ADD), LOCAL_SET, acc(i));
      code.push(LOCAL_GET, t(i), LOCAL_GET, mv, ...simd(F32X4_MUL), LOCAL_SET, t(i));
    }
  }
  // iters -= 1; continue while non-zero
  code.push(LOCAL_GET, 0, 0x41, 1, 0x6b, LOCAL_TEE, 0, 0x0d, 0);
  code.push(0x0b); // end loop
  code.push(LOCAL_GET, acc(0));
  for (let i = 1; i < chains; i++) code.push(LOCAL_GET, acc(i), ...simd(F32X4_ADD));
  code.push(...simd(F32X4_EXTRACT_LANE), 0, 0x0b);
  const body = [1, ...leb(2 * chains + 1), 0x7b, ...code];
  const name = [...'peak'].map((c) => c.charCodeAt(0));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7d, 0x7d, 1, 0x7d]), // (i32, f32, f32) -> f32
    ...section(3, [1, 0]),
    ...section(7, [1, name.length, ...name, 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** GFLOP/s of the loop with `chains` chains: median of 7 timed calls of about 100 ms. */
async function measure(chains, unroll = 4) {
  const { instance } = await WebAssembly.instantiate(peakModuleBytes(chains, unroll));
  const peak = instance.exports.peak;
  const flopsPerIter = chains * unroll * 8;
  // Warm-up calls, so the optimising tier compiles the function before it is timed.
  for (let i = 0; i < 20; i++) peak(20000, 1, 1e-30);
  let iters = 1 << 16;
  for (;;) {
    const t = performance.now();
    peak(iters, 1, 1e-30);
    const ms = performance.now() - t;
    if (ms > 20) {
      iters = Math.max(1, Math.round((iters * 100) / ms));
      break;
    }
    iters *= 4;
  }
  const rates = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    const v = peak(iters, 1, 1e-30);
    const s = (performance.now() - t) / 1000;
    if (!Number.isFinite(v)) throw new Error('the SIMD peak loop overflowed');
    rates.push((iters * flopsPerIter) / s / 1e9);
  }
  return median(rates);
}

/** `{ gflops, chains, byChains }`: the best over 4, 6, 7 and 8 chains. */
export async function measureSimdPeak() {
  const byChains = {};
  for (const k of [4, 6, 7, 8]) byChains[k] = await measure(k);
  const best = Object.entries(byChains).reduce((a, b) => (b[1] > a[1] ? b : a));
  return { gflops: best[1], chains: Number(best[0]), byChains };
}
