#!/bin/sh
# Torrent creation throughput: torrentfile.Create on ~2 GB of nested files in
# the page cache, compared with `openssl speed -evp sha1 -multi $(nproc)`,
# then aria2c hash-checks the data against the created torrent (offline).
# Run as root from the repository root (aria2c runs in a private network
# namespace):  bench/create.sh
set -eu
cd "$(dirname "$0")/.."
N=$(nproc)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/archivd-bench-create.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DATA="$WORK/data"

# ~2 GB: 3 levels of directories, sizes that are not multiples of any piece
# length, a zero-length and a hidden file.
i=0
for d in a a/b a/b/c d e; do
	mkdir -p "$DATA/$d"
	for f in 1 2 3; do
		i=$((i + 1))
		head -c $((130 * 1024 * 1024 + i * 12345)) /dev/urandom >"$DATA/$d/f$f.bin"
	done
done
head -c 777 /dev/urandom >"$DATA/.hidden"
: >"$DATA/a/empty"
cat $(find "$DATA" -type f) >/dev/null # warm the page cache
TOTAL=$(du -sb "$DATA" | cut -f1)
echo "data: $TOTAL bytes in $(find "$DATA" -type f | wc -l) files"

# openssl: last column of the sha1 line is the 16384-byte block rate in kB/s.
OSSL_K=$(openssl speed -evp sha1 -multi "$N" -seconds 3 2>/dev/null | awk '/^sha1 /{v=$NF} END{sub(/k$/,"",v); print v}')
OSSL=$(awk -v k="$OSSL_K" 'BEGIN{printf "%.0f", k*1000}')
echo "openssl speed -evp sha1 -multi $N (16384-byte blocks): $(awk -v b="$OSSL" 'BEGIN{printf "%.0f", b/1e6}') MB/s"

OUT=$(ARCHIVD_BENCH_CREATE_DIR="$DATA" ARCHIVD_BENCH_CREATE_OUT="$WORK/data.torrent" \
	unshare --net sh -c 'ip link set lo up && go test -run XXX -bench "^BenchmarkCreate$" -benchtime 3x -count 1 ./internal/torrentfile')
echo "$OUT" | grep Benchmark
GO_MB=$(echo "$OUT" | awk '/^BenchmarkCreate/{for(i=1;i<=NF;i++) if($i=="MB/s") v=$(i-1)} END{print v}')
NS=$(echo "$OUT" | awk '/^BenchmarkCreate/{print $3}')
echo "Create: $GO_MB MB/s, $(awk -v n="$NS" 'BEGIN{printf "%.2f", n/1e9}') s per run"
awk -v g="$GO_MB" -v o="$OSSL" 'BEGIN{printf "ratio Create/openssl: %.2f\n", g*1e6/o}'

# Offline hash check by another client: must report success and exit 0.
START=$(date +%s.%N)
if unshare --net sh -c "ip link set lo up && aria2c -V --dir='$WORK' --bt-enable-lpd=false \
	--enable-dht=false --enable-dht6=false --enable-peer-exchange=false \
	--bt-seed-unverified=false --seed-time=0 --bt-stop-timeout=2 --summary-interval=0 \
	--console-log-level=notice '$WORK/data.torrent'" >"$WORK/aria2.log" 2>&1 &&
	grep -q 'Verification finished successfully' "$WORK/aria2.log"; then
	echo "aria2c -V: verified all pieces in $(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
else
	echo "aria2c -V: FAILED"; cat "$WORK/aria2.log"; exit 1
fi
