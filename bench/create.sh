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
		# 8 MiB writes, as cp/rsync/readahead would leave large page-cache
		# folios; data written in small writes (head -c alone) hashes ~12%
		# slower per CPU because read(2) then walks 4 KiB pages.
		head -c $((130 * 1024 * 1024 + i * 12345)) /dev/urandom |
			dd of="$DATA/$d/f$f.bin" bs=8M iflag=fullblock status=none
	done
done
head -c 777 /dev/urandom >"$DATA/.hidden"
: >"$DATA/a/empty"
cat $(find "$DATA" -type f) >/dev/null # warm the page cache
TOTAL=$(du -sb "$DATA" | cut -f1)
echo "data: $TOTAL bytes in $(find "$DATA" -type f | wc -l) files"

# The machine may be shared, so openssl and Create are measured in
# alternating rounds and each round's ratio uses the two adjacent numbers.
# Wall-clock ratio: Create MB/s over `openssl speed -evp sha1 -multi N`
# (meaningful only when nothing else runs). CPU ratio (robust to other load):
# Create's bytes per CPU-second over single-process `openssl speed -evp sha1`,
# which openssl divides by user CPU time.
go test -c -o "$WORK/torrentfile.test" ./internal/torrentfile
openssl_bps() { # last column of the sha1 line: 16384-byte blocks, in kB/s
	openssl speed -evp sha1 "$@" -seconds 3 2>/dev/null |
		awk '/^sha1 /{v=$NF} END{sub(/k$/,"",v); printf "%.0f", v*1000}'
}
create_bench() { # prints: MB/s ns/op MB/cpu-s
	ARCHIVD_BENCH_CREATE_DIR="$DATA" ARCHIVD_BENCH_CREATE_OUT="$WORK/data.torrent" \
		unshare --net sh -c "ip link set lo up && '$WORK/torrentfile.test' -test.run XXX \
		-test.bench '^BenchmarkCreate\$' -test.benchtime 3x" |
		awk '/^BenchmarkCreate/{for(i=1;i<=NF;i++){if($i=="MB/s") v=$(i-1); if($i=="MB/cpu-s") c=$(i-1)}; ns=$3}
			END{print v, ns, c}'
}
for round in 1 2 3; do
	OM=$(openssl_bps -multi "$N")
	set -- $(create_bench)
	O1=$(openssl_bps)
	awk -v r="$round" -v om="$OM" -v o1="$O1" -v g="$1" -v ns="$2" -v c="$3" -v n="$N" 'BEGIN{
		printf "round %d: openssl -multi %d: %.0f MB/s, Create: %.0f MB/s (%.2f s/run), wall ratio %.2f | openssl 1 proc: %.0f MB/user-s, Create: %.0f MB/cpu-s, cpu ratio %.2f\n",
			r, n, om/1e6, g, ns/1e9, g*1e6/om, o1/1e6, c, c*1e6/o1 }'
done

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
