#!/usr/bin/env bash
# Builds the wasm package into pkg/ and assembles the static site in dist/:
#   dist/            the files of www/, verbatim
#   dist/pkg/        descent.js + descent_bg.wasm (wasm-bindgen, --target web), optimised by wasm-opt,
#                    and settings.js: the engine's settings tables for the page (scripts/settings.mjs)
#   dist/vendor/     uPlot, from node_modules (and the benchmark page's peers, TensorFlow.js and
#                    jax-js, where node_modules has them)
#   dist/sw.js       the service worker (www/sw.js) with the offline copy's version and file list
#                    (scripts/offline.mjs)
#
# `bash scripts/build.sh --crash-test` builds the test site instead: the same files in
# target/dist-crash/, from an engine built with the `crash-test` feature (its debugPanic export,
# which tests/e2e/crash.test.mjs uses to kill a worker's engine), in target/pkg-crash/. Only the
# descent crate is compiled again; its dependencies are those of the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

crash=0
case "${1:-}" in
  '') ;;
  --crash-test) crash=1 ;;
  *) echo "usage: bash scripts/build.sh [--crash-test]" >&2; exit 2 ;;
esac
if [ "$crash" = 1 ]; then
  pkg=target/pkg-crash out=target/dist-crash features=(-- --features crash-test)
else
  pkg=pkg out=dist features=()
fi

# Both builds write the engine to the same file in Cargo's target directory (a cdylib's name has
# no hash), and Cargo, which keeps a fingerprint per feature set, would take a file the other
# build left there as up to date. The crash-test build therefore removes that file before it
# builds and again when it ends, so that each build compiles its own.
target_dir=${CARGO_TARGET_DIR:-target}
forget_engine() {
  rm -f "$target_dir/wasm32-unknown-unknown/release/descent.wasm" \
    "$target_dir/wasm32-unknown-unknown/release/deps/descent.wasm"
}
if [ "$crash" = 1 ]; then
  forget_engine
  trap forget_engine EXIT
fi

# A failed build must stop here: remove the old package first so nothing stale is served.
rm -rf "$pkg"
log=$(mktemp)
if ! wasm-pack --log-level warn build --target web --release --out-dir "$pkg" --out-name descent "${features[@]}" >"$log" 2>&1; then
  grep -v 'failed to get wasm-pack version' "$log" >&2
  rm -f "$log"
  echo "wasm build failed" >&2
  exit 1
fi
grep -v -e 'failed to get wasm-pack version' -e 'origin crate has no README' "$log" || true
rm -f "$log"
test -f "$pkg/descent_bg.wasm" || { echo "wasm build produced no package" >&2; exit 1; }
# The site's engine must never carry the crash-test export; the test site's must.
if [ "$crash" = 1 ]; then
  grep -q 'debugPanic' "$pkg/descent.js" || { echo "the crash-test build has no debugPanic export" >&2; exit 1; }
elif grep -q 'debugPanic' "$pkg/descent.js"; then
  forget_engine
  echo "the engine was built with the crash-test feature; run this script again" >&2
  exit 1
fi

# binaryen from npm: Debian's wasm-opt (binaryen 108) produces modules that fail to load.
node_modules/.bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$pkg/descent_bg.wasm" -o "$pkg/descent_bg.wasm"

# The settings tables the page builds its controls from, read from the engine just built.
node scripts/settings.mjs "$pkg" >/dev/null

rm -rf "$out"
mkdir -p "$out/pkg" "$out/vendor"
cp -r www/. "$out/"
cp "$pkg/descent.js" "$pkg/descent_bg.wasm" "$pkg/settings.js" "$out/pkg/"
mkdir -p "$out/data"
cp data/digits.csv data/README.md "$out/data/"
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css "$out/vendor/"
# TensorFlow.js, the benchmark page's peer (www/js/bench/tfjs-worker.js): its ES2017 UMD bundles
# (the ES5 ones need CSP unsafe-eval) and wasm binaries, in dist/vendor/tfjs/. Not in any scene.
if [ -d node_modules/@tensorflow/tfjs-backend-wasm ]; then
  mkdir -p "$out/vendor/tfjs"
  cp node_modules/@tensorflow/tfjs/dist/tf.es2017.min.js \
    node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js \
    node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/vendor/tfjs/"
fi
# jax-js, the benchmark page's second peer (www/js/bench/jaxjs-worker.js): its ES module build
# (index.js and the chunks it imports, all dist/*.js; it compiles its wasm kernels at run time,
# so there is no .wasm file) and its licence, in dist/vendor/jax-js/. Not in any scene.
if [ -d node_modules/@jax-js/jax/dist ]; then
  mkdir -p "$out/vendor/jax-js"
  cp node_modules/@jax-js/jax/dist/*.js node_modules/@jax-js/jax/LICENSE "$out/vendor/jax-js/"
fi
# The offline copy: its file list and version go into dist/sw.js, once every file is in place.
node scripts/offline.mjs "$out"
echo "built $out/ ($(du -sh "$out" | cut -f1); wasm $(du -h "$out/pkg/descent_bg.wasm" | cut -f1))"
