#!/bin/bash
# sysmon-ab.sh [RUNS] [ALERTS]: what the Go runtime's system monitor
# (sysmon) costs falcocw inside real Fluent Bit. For measurement only:
# never ship a plugin built this way.
#
# sysmon is a thread of every Go runtime, also a Go plugin's. While Go code
# runs it wakes every 20 us (plus the thread's timer slack), doubling the
# pause after 50 wakes, and each time it was asleep because every P was
# idle and a syscall woke it, it starts again at 20 us: in a Fluent Bit
# plugin that is at the start of every flush (the callback takes an idle P)
# and at every answer read. This script builds the plugin twice, with the
# Go toolchain as installed and with a copy of it whose sysmon starts at
# 10 ms (two lines of src/runtime/proc.go), and runs both in turns in the
# bench's tail group with the host's own cost and the C pass-through, so
# that the difference is sysmon's wakes and nothing else.
set -euo pipefail
runs=${1:-5}
alerts=${2:-200000}
cd "$(dirname "$0")/.."
go=${GO:-go}
work=$(mktemp -d /tmp/falcocw-sysmon.XXXXXX)
trap 'rm -rf "$work"' EXIT

goroot=$("$go" env GOROOT)
echo "copying $goroot ($("$go" env GOVERSION)) to $work/go"
cp -a "$goroot" "$work/go"
proc=$work/go/src/runtime/proc.go
perl -0pi -e 's/(if idle == 0 \{ \/\/ start with 20us sleep\.\.\.\n\t+delay = )20\n/${1}10 * 1000 \/\/ falcocw sysmon-ab\n/; s/(if syscallWake \{\n\t+idle = 0\n\t+delay = )20\n/${1}10 * 1000 \/\/ falcocw sysmon-ab\n/' "$proc"
if [ "$(grep -c 'falcocw sysmon-ab' "$proc")" != 2 ]; then
	echo "sysmon-ab: $proc's sysmon is not the one this script patches (Go 1.26's two 'delay = 20' lines); update the patterns" >&2
	exit 1
fi

mkdir -p build
"$go" build -buildmode=c-shared -trimpath -o build/falcocw.so ./plugin
GOROOT=$work/go "$work/go/bin/go" build -buildmode=c-shared -trimpath -o "$work/falcocw-quiet-sysmon.so" ./plugin
echo "A: build/falcocw.so (Go as installed); B: $work/falcocw-quiet-sysmon.so (sysmon from 10 ms)"
"$go" run ./cmd/falcocw-bench -plugin build/falcocw.so -compare "$work/falcocw-quiet-sysmon.so" \
	-n "$alerts" -large 0 -runs "$runs" -only '^tail: (null|C cloudwatch_logs, log_key|falcocw)'
