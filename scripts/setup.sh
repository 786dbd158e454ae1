#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Descent needs and is missing:
# the wasm32 target, the wasm-bindgen CLI matching the crate, wasm-pack, the npm packages,
# and with --test Chromium and its WebDriver and Mesa's software Vulkan from the system
# packages. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # keep equal to the `wasm-bindgen = "=…"` pin in Cargo.toml
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v cargo >/dev/null; then
  echo "cargo is not installed: install Rust (https://rustup.rs) and re-run." >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node and npm are not installed: install Node.js 18 or newer and re-run." >&2
  exit 1
fi

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (a few minutes, once)"
  cargo install wasm-pack
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
fi

if [ "$want_test" = 1 ]; then
  pkgs=()
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    pkgs+=(chromium chromium-driver)
  fi
  # Mesa's software Vulkan (lavapipe): the native GPU-backend tests run on it without a GPU.
  if ! compgen -G "/usr/share/vulkan/icd.d/lvp_icd*.json" >/dev/null || ! command -v vulkaninfo >/dev/null; then
    pkgs+=(mesa-vulkan-drivers vulkan-tools)
  fi
  if [ "${#pkgs[@]}" -gt 0 ]; then
    say "installing ${pkgs[*]} from the system packages"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${pkgs[@]}"
  fi
fi
say "ready"
