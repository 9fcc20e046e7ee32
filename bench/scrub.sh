#!/bin/sh
# Scrub benchmark: archivd's scrubber against openssl's SHA-1 speed, the
# torrent engine's own VerifyData, libtorrent's force_recheck, transmission's
# verify, and cold reads against cat. Run as root from the repository root:
#   bench/scrub.sh [data-dir]
# It re-executes itself inside a fresh network namespace (loopback only), so
# no client can reach anything but 127.0.0.1. Data: ~2 GB, 8 files, 4 MiB
# pieces, kept between runs in $DIR.
. bench/scrub_data.sh

warm() { cat "$DATA"/* >/dev/null; }
rate() { awk -v b="$BYTES" -v s="$1" -v w="$2" 'BEGIN { printf "%-24s %6.2f GB in %6.2fs = %7.1f MB/s\n", w, b/1e9, s, b/1e6/s }'; }
now() { date +%s.%N; }

ossl() { openssl speed -evp sha1 "$@" -seconds 3 2>/dev/null | awk '/^sha1/ { printf "%.1f", $NF/1000 }'; }
echo "== page cache (warm); openssl and the scrubber alternate, $RUNS rounds"
echo "   (cpu = user+sys seconds of the scrubber: load from other work on the machine does not change it)"
warm
for _ in $(seq "$RUNS"); do
	echo "openssl sha1 -multi $(nproc)     $(ossl -multi "$(nproc)") MB/s    (one core: $(ossl) MB/s)"
	for m in "" -map; do
		/usr/bin/time -f "    cpu %U user + %S sys, wall %e s" "$BIN" -mode scrub $m -dir "$DATA" -torrent "$TOR" 2>&1
	done
done
warm
TORRENT_STORAGE_DEFAULT_FILE_IO=classic /usr/bin/time -f "    cpu %U user + %S sys, wall %e s (whole process)" \
	"$BIN" -mode anacrolix -dir "$DATA" -torrent "$TOR" 2>&1 | grep -E "^anacrolix|cpu"

warm
/usr/bin/time -f "    cpu %U user + %S sys, wall %e s (whole process)" /usr/bin/python3 - "$TOR" "$DIR" <<'PY'
# No resume data: adding the torrent makes libtorrent check every piece of
# the existing files (the same work as force_recheck), timed to seeding.
import sys, time, libtorrent as lt
s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
                'enable_upnp': False, 'enable_natpmp': False})
ti = lt.torrent_info(sys.argv[1])
p = lt.add_torrent_params(); p.ti = ti; p.save_path = sys.argv[2]
p.flags &= ~(lt.torrent_flags.auto_managed | lt.torrent_flags.paused)
t0 = time.time()
h = s.add_torrent(p)
deadline = t0 + 600
while time.time() < deadline and h.status().state not in (lt.torrent_status.seeding, lt.torrent_status.finished):
    time.sleep(0.005)
d = time.time() - t0
n = ti.total_size()
print("%-24s %6.2f GB in %6.2fs = %7.1f MB/s (pieces %d/%d)" % ("libtorrent check", n/1e9, d, n/1e6/d, h.status().num_pieces, ti.num_pieces()))
PY

warm
TR=$DIR/transmission; rm -rf "$TR"; mkdir -p "$TR"
transmission-daemon -f -g "$TR" -w "$DIR" -r 127.0.0.1 -p 19391 -T --no-dht --no-lpd --no-portmap --no-utp -P 51519 \
	--bind-address-ipv4 127.0.0.1 >"$TR/log" 2>&1 &
TPID=$!
RPC="transmission-remote 127.0.0.1:19391"
for _ in $(seq 100); do $RPC -l >/dev/null 2>&1 && break; sleep 0.1; done
$RPC --start-paused -a "$TOR" >/dev/null
for _ in $(seq 6000); do $RPC -t 1 -i | grep -q 'State: Stopped' && break; sleep 0.1; done
T0=$(now); $RPC -t 1 -v >/dev/null
for _ in $(seq 60000); do
	I=$($RPC -t 1 -i)
	echo "$I" | grep -q 'State: Stopped' && echo "$I" | grep -q 'Percent Done: 100%' && break
	sleep 0.01
done
T1=$(now)
rate "$(echo "$T1 - $T0" | bc)" "transmission verify"
kill "$TPID"; wait "$TPID" 2>/dev/null || true

echo "== cold (echo 3 > /proc/sys/vm/drop_caches before each)"
for _ in $(seq "$RUNS"); do
	sync; echo 3 >/proc/sys/vm/drop_caches
	T0=$(now); cat "$DATA"/* >/dev/null; T1=$(now)
	rate "$(echo "$T1 - $T0" | bc)" "cat (cold)"
	sync; echo 3 >/proc/sys/vm/drop_caches
	"$BIN" -mode scrub -dir "$DATA" -torrent "$TOR" | sed 's/(pread)/(pread, cold)/'
	sync; echo 3 >/proc/sys/vm/drop_caches
	"$BIN" -mode scrub -map -dir "$DATA" -torrent "$TOR" | sed 's/(mmap)/(mmap, cold)/'
done
