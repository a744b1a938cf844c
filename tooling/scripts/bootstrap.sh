#!/bin/sh
# Installs and builds the workspace on a machine that has only Node.js 20 and npm.
# Idempotent: a second run only checks that everything is in place.
#   --with-browser  also make sure Chromium is there for the browser tests (Debian's package,
#                   installed with apt-get when running as root; otherwise says what to run).
#   --with-redis    also make sure redis-server is there for the server's scan tests (Debian's
#                   package, the same way; the tests start their own on a loopback port).
set -eu
cd "$(dirname "$0")/../.."
PNPM_VERSION=12.4.2

# need_debian_package <command> <package> <what for>: installs the package unless the command exists.
apt_updated=no
need_debian_package() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's $2 for $3"
    if [ "$apt_updated" = no ]; then apt-get update -qq >/dev/null; apt_updated=yes; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  else
    echo "bootstrap: $3 need $1 (Debian: sudo apt-get install $2)" >&2
    exit 1
  fi
}
for option in "$@"; do
  case "$option" in
    --with-browser) need_debian_package chromium chromium "the browser tests" ;;
    --with-redis) need_debian_package redis-server redis-server "the server's scan tests" ;;
    *) echo "bootstrap: unknown option $option" >&2; exit 2 ;;
  esac
done

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
