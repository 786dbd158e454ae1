#!/usr/bin/env bash
# Builds the wasm package into pkg/ and assembles the static site in dist/:
#   dist/            the files of www/, verbatim
#   dist/pkg/        descent.js + descent_bg.wasm (wasm-bindgen, --target web), optimised by wasm-opt,
#                    and settings.js: the engine's settings tables for the page (scripts/settings.mjs)
#   dist/vendor/     uPlot, from node_modules (and the benchmark page's peers, TensorFlow.js and
#                    jax-js, where node_modules has them)
#   dist/sw.js       the service worker (www/sw.js) with the offline copy's version and file list
#                    (scripts/offline.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# A failed build must stop here: remove the old package first so nothing stale is served.
rm -rf pkg
log=$(mktemp)
if ! wasm-pack --log-level warn build --target web --release --out-dir pkg --out-name descent >"$log" 2>&1; then
  grep -v 'failed to get wasm-pack version' "$log" >&2
  rm -f "$log"
  echo "wasm build failed" >&2
  exit 1
fi
grep -v -e 'failed to get wasm-pack version' -e 'origin crate has no README' "$log" || true
rm -f "$log"
test -f pkg/descent_bg.wasm || { echo "wasm build produced no package" >&2; exit 1; }

# binaryen from npm: Debian's wasm-opt (binaryen 108) produces modules that fail to load.
node_modules/.bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/descent_bg.wasm -o pkg/descent_bg.wasm

# The settings tables the page builds its controls from, read from the engine just built.
node scripts/settings.mjs pkg >/dev/null

rm -rf dist
mkdir -p dist/pkg dist/vendor
cp -r www/. dist/
cp pkg/descent.js pkg/descent_bg.wasm pkg/settings.js dist/pkg/
mkdir -p dist/data
cp data/digits.csv data/README.md dist/data/
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css dist/vendor/
# TensorFlow.js, the benchmark page's peer (www/js/bench/tfjs-worker.js): its ES2017 UMD bundles
# (the ES5 ones need CSP unsafe-eval) and wasm binaries, in dist/vendor/tfjs/. Not in any scene.
if [ -d node_modules/@tensorflow/tfjs-backend-wasm ]; then
  mkdir -p dist/vendor/tfjs
  cp node_modules/@tensorflow/tfjs/dist/tf.es2017.min.js \
    node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js \
    node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm dist/vendor/tfjs/
fi
# jax-js, the benchmark page's second peer (www/js/bench/jaxjs-worker.js): its ES module build
# (index.js and the chunks it imports, all dist/*.js; it compiles its wasm kernels at run time,
# so there is no .wasm file) and its licence, in dist/vendor/jax-js/. Not in any scene.
if [ -d node_modules/@jax-js/jax/dist ]; then
  mkdir -p dist/vendor/jax-js
  cp node_modules/@jax-js/jax/dist/*.js node_modules/@jax-js/jax/LICENSE dist/vendor/jax-js/
fi
# The offline copy: its file list and version go into dist/sw.js, once every file is in place.
node scripts/offline.mjs dist
echo "built dist/ ($(du -sh dist | cut -f1); wasm $(du -h dist/pkg/descent_bg.wasm | cut -f1))"
