#!/bin/sh
# Installs the workspace on a machine that has only Node.js 20 and npm, then builds it.
# Idempotent: a second run only checks that everything is in place.
set -eu
cd "$(dirname "$0")/../.."
PNPM_VERSION=12.4.2
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
