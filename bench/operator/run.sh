#!/bin/sh
# Whole-process benchmarks: archivd processes against libtorrent (Debian's
# python3-libtorrent), openssl and cat on the same data, in one run, in a
# loopback-only network namespace. Root needed (unshare, drop_caches).
#
# Usage: bench/operator/run.sh FIGURE...
#   restart    BENCH_TORRENTS torrents of 1 MiB (default 300; issue 11: 1000):
#              first start and restart, torrent_dir and add, vs libtorrent
#   adopt      first start on BENCH_ADOPT_MB of existing data (default 1024;
#              issue 11: 4096) vs openssl speed -multi -elapsed (wall clock)
#              and libtorrent check; also MB hashed per CPU-second
#   create     `archivd add -c C DIR` on the adopt data set (makes the torrent,
#              records it verified) vs mktorrent -t NCPU, transmission-create,
#              libtorrent create_torrent and openssl sha1 of the files (not part of all)
#   verify     verify --offline cold (vs cat cold) and warm (vs openssl)
#   seed       seeding to 1 and 2 libtorrent leechers vs libtorrent seeding
#              (BENCH_SEED_COLD=1: page cache dropped before each transfer)
#   scrubseed  seeding to 1 leecher while the daemon scrubs vs idle
#   devices    BENCH_DEVICES loop devices (default 3) limited to
#              BENCH_DEVICE_RATE_MB MB/s of reads each (default 50) by the block
#              cgroup, BENCH_DEVICE_MB each (default 256): verify --offline cold
#              over one and over all, vs the limits (not part of all)
#   sigkill    an archivd node seeds the data set; an archivd downloader and
#              then a libtorrent one are SIGKILLed at half and restarted: bytes
#              the seed sent beyond the size (not part of all)
#   many       BENCH_MANY one-piece torrents of 16 KiB (default 100,000) recorded
#              complete by cmd/manytorrents: start after a clean stop until all
#              seed, and peak RSS, vs issue 11's 10 s and 2 GiB; then the idle CPU
#              over BENCH_IDLE_SECS (default 20) and SIGTERM to exit (not part of all)
#   fleetscale issue 12's catalog scale: BENCH_FLEET_NODES (default 10) nodes and
#              BENCH_FLEET_TORRENTS (default 100,000) torrents at 3 replicas made by
#              cmd/fleetrows, one archivd serve as node1 (the others synthetic rows):
#              its full reconcile, the planner's pass, placing as many new torrents,
#              vs 5 s, 10 s, 60 s (not part of all; run it alone)
#   pgidle     PostgreSQL's CPU per minute while one node with a 16 MiB torrent
#              idles BENCH_IDLE_SECS (default 20), the database's jit on (stock):
#              archivd's sessions vs jit=on in the URL (not part of all)
#   all        restart adopt verify seed scrubseed, in that order
# BENCH_PROFILE=1 saves a CPU profile (pprof) of the first round of many.
# BENCH_PERF=1 records perf profiles of both seeds in the first round of
# seed ($BENCH_DIR/perf-SEED-LEECHERS.data).
# BENCH_ROUNDS (default 3) rounds; medians and ratios are printed as
# RESULT lines; logs of every process in $BENCH_DIR/logs (default
# /tmp/archivd-operator-bench, deleted at the start of a run).
set -eu
cd "$(dirname "$0")/../.."
out=$(mktemp -d /tmp/archivd-operator-bin.XXXXXX)
trap 'rm -rf "$out"' EXIT
go build -o "$out/archivd" ./cmd/archivd
go build -o "$out/operator" ./bench/operator
go build -o "$out/manytorrents" ./cmd/manytorrents
go build -o "$out/fleetrows" ./cmd/fleetrows
export ARCHIVD_BIN="$out/archivd" MANYTORRENTS_BIN="$out/manytorrents" FLEETROWS_BIN="$out/fleetrows" LTDRIVE="$PWD/interop/testdata/ltdrive.py"
unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' "$out/operator" "${@:-all}"
