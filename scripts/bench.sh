#!/usr/bin/env bash
# The benchmark command: build the site, then time training in headless Chromium and natively.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
bash scripts/build.sh
node scripts/bench.mjs "$@"
