#!/usr/bin/env bash
# The benchmark command (BENCHMARKS.md): build the site, then, in one run, time Descent's wasm
# engine in headless Chromium beside TensorFlow.js (wasm and CPU backends) in the same browser
# session, the measured wasm SIMD128 peak, the Playground's initial load and first trained
# frame, and the same Rust code natively (cargo bench). Prints every figure with its ratios and
# writes target/bench/bench.json. Arguments go to scripts/bench.mjs (e.g. --only mlp,peak).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh --test
bash scripts/build.sh
node scripts/bench.mjs "$@"
