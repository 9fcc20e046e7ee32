# Shared set-up of bench/scrub.sh and bench/scrub_v2.sh, sourced by them
# (run as root from the repository root, the data directory as $1):
# re-executes the caller inside a fresh network namespace (loopback only),
# so no client can reach anything but 127.0.0.1; builds cmd/scrubbench as
# $BIN; makes the data set once in $DATA (~2 GB, 8 files of 256 MiB,
# 4 MiB pieces) with its v1 torrent $TOR, kept between runs in $DIR; says
# which machine and how many bytes ($BYTES).
set -eu
if [ -z "${SCRUB_BENCH_NETNS:-}" ]; then
	SCRUB_BENCH_NETNS=1 exec unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
REPO=$(pwd)
DIR=${1:-/tmp/archivd-scrubbench}
DATA=$DIR/data
TOR=$DIR/data.torrent
BIN=$DIR/scrubbench
RUNS=${RUNS:-3}
mkdir -p "$DIR"
go build -o "$BIN" "$REPO/cmd/scrubbench"
[ -f "$TOR" ] || "$BIN" -mode make -dir "$DATA" -torrent "$TOR"
BYTES=$(cat "$DATA"/* | wc -c)
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), sha_ni: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $BYTES bytes in $(ls "$DATA" | wc -l) files"
