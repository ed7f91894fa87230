#!/usr/bin/env bash
# arm64.sh: falcocw on arm64 (Graviton) from an amd64 machine. It cross-builds
# the plugin for arm64 (build/falcocw-arm64.so, with Debian's
# gcc-aarch64-linux-gnu for cgo) and runs the core's tests built for arm64
# under qemu-aarch64 (Debian's qemu-user), -short: the fast paths' arm64
# code (segmentio/asm's NEON) and the fallbacks of the amd64-only ones
# (sha256x2) run as on a Graviton. Installs what it needs with apt when it
# is missing (root, Debian's archive).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
need=""
command -v qemu-aarch64 >/dev/null || need="$need qemu-user"
command -v aarch64-linux-gnu-gcc >/dev/null || need="$need gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
if [ -n "$need" ]; then
  echo "arm64.sh: installing$need" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
mkdir -p build
GOARCH=arm64 CGO_ENABLED=1 CC=aarch64-linux-gnu-gcc "$GO" build -buildmode=c-shared -trimpath -o build/falcocw-arm64.so ./plugin
rm -f build/falcocw-arm64.h
readelf -h build/falcocw-arm64.so | grep -q 'AArch64' || { echo "arm64.sh: build/falcocw-arm64.so is not an AArch64 object" >&2; exit 1; }
for sym in FLBPluginRegister FLBPluginInit FLBPluginFlushCtx FLBPluginExit; do
  aarch64-linux-gnu-nm -D --defined-only build/falcocw-arm64.so | grep -qw "$sym" ||
    { echo "arm64.sh: build/falcocw-arm64.so does not export $sym" >&2; exit 1; }
done
echo "arm64.sh: build/falcocw-arm64.so ($(du -m build/falcocw-arm64.so | cut -f1) MB) exports Fluent Bit's entry points"
GOARCH=arm64 CGO_ENABLED=0 "$GO" test -short -count=1 -exec qemu-aarch64 ./falcocw/...
