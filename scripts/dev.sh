#!/usr/bin/env bash
# The first README command: install what is missing, build, and serve the site on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec node scripts/serve.mjs dist
