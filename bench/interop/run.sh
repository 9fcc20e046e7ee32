#!/bin/sh
# Interoperability throughput: archivd vs libtorrent vs aria2c on loopback.
# Usage: bench/interop/run.sh [MiB]   (default 256)
# Runs inside a private network namespace (root needed for unshare).
set -eu
cd "$(dirname "$0")/../.."
export ARCHIVD_INTEROP_BENCH_MB="${1:-256}"
exec unshare --net sh -c 'ip link set lo up && go test -tags interopbench -run TestInteropBench -count=1 -v -timeout 45m ./interop/ 2>&1 | grep -E "BENCH|^(---|ok|FAIL)"'
