#!/usr/bin/env bash
# cpus.sh: the core's fast paths on the x86-64 CPUs users run, with and
# without each instruction set they use. The core's tests run under
# qemu-x86_64 (Debian's qemu-user, TCG) as
#   Nehalem: no AVX2, no SHA extensions (segmentio/asm's and sha256x2's
#            fallbacks, chosen at run time)
#   Haswell: AVX2 without the SHA extensions (segmentio/asm's AVX2 code,
#            sha256x2's fallback)
# beside make test's own runs: this machine's CPU (every fast path it has;
# sha256x2's SHA-NI code where the CPU has it, as TCG has none) and
# -tags purego (every fast path compiled out). arm64 is scripts/arm64.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
if ! command -v qemu-x86_64 >/dev/null; then
  echo "cpus.sh: installing qemu-user" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi
# The features TCG lacks are turned off, so that qemu does not warn of
# each at every start.
for cpu in "Nehalem" "Haswell,-hle,-rtm,-pcid,-x2apic,-tsc-deadline,-invpcid"; do
  echo "cpus.sh: the core's tests on a ${cpu%%,*} (qemu-x86_64 -cpu $cpu)"
  CGO_ENABLED=0 "$GO" test -short -count=1 -exec "qemu-x86_64 -cpu $cpu" ./falcocw/...
done
