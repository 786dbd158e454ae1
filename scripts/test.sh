#!/usr/bin/env bash
# The second README command: install what is missing (including Chromium and its driver),
# then run every test: formatting and lints, native unit and integration tests, browser
# tests of the wasm build (wasm-bindgen-test in headless Chromium), and end-to-end tests of
# the built site (Playwright driving headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The GPU-backend tests must run here (on lavapipe without a GPU), never skip.
unset DESCENT_ALLOW_NO_GPU

step "setup"
bash scripts/setup.sh --test

step "format and lints"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings

step "native tests"
cargo test

step "browser tests (wasm-bindgen-test, headless Chromium)"
# wasm-bindgen-test's limit is for a whole headless run (20 s by default); the GPU suite on
# SwiftShader takes about that on a busy 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"
wasm-pack --log-level warn test --headless --chrome --test web 2>&1 | grep -v 'failed to get wasm-pack version'
# The GPU backend on the browser's WebGPU (SwiftShader; webdriver.json passes --enable-unsafe-webgpu).
wasm-pack --log-level warn test --headless --chrome --test web_gpu 2>&1 | grep -v 'failed to get wasm-pack version'

step "build the site"
bash scripts/build.sh
# The crash-test site (target/dist-crash/) for tests/e2e/crash.test.mjs: the same site with an
# engine that panics on request; only the descent crate is compiled again.
bash scripts/build.sh --crash-test

step "end-to-end tests (Playwright, headless Chromium)"
node --test --test-concurrency=1 tests/e2e/
