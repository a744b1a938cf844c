#!/bin/sh
# Installs and builds the workspace on a machine that has only Node.js 20 and npm.
# Idempotent: a second run only checks that everything is in place.
#   --with-browser  also make sure Chromium is there for the browser tests (Debian's package,
#                   installed with apt-get when running as root; otherwise says what to run).
set -eu
cd "$(dirname "$0")/../.."
PNPM_VERSION=12.4.2

if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "bootstrap: the browser tests need Chromium at /usr/bin/chromium (Debian: sudo apt-get install chromium)" >&2
    exit 1
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION with npm"
  npm install --global "pnpm@$PNPM_VERSION" --no-audit --no-fund >/dev/null
fi
export TURBO_TELEMETRY_DISABLED=1
# onnxruntime-node's install step downloads CUDA libraries from outside npm; its CPU and WebGPU
# providers ship in the package itself. pnpm-workspace.yaml also denies that build script.
export ONNXRUNTIME_NODE_INSTALL=skip
pnpm install --frozen-lockfile --reporter=append-only
pnpm exec turbo run build --output-logs=errors-only
