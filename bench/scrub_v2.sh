#!/bin/sh
# v2 scrub benchmark: the scrubber on the same data as bench/scrub.sh with
# its v1 torrent (SHA-1), a v2-only torrent (BEP 52 SHA-256 piece layers)
# and a hybrid (both), against openssl's SHA-1 and SHA-256 speed on all
# cores. The v2 and hybrid torrents are made by libtorrent. Run as root
# from the repository root:
#   bench/scrub_v2.sh [data-dir]
# Re-executes itself in a fresh network namespace (loopback only). Data:
# ~2 GB, 8 files of 256 MiB, 4 MiB pieces (files are piece-aligned, so v1
# and v2 pieces cover the same bytes), kept between runs in $DIR.
. bench/scrub_data.sh
for kind in v2 hybrid; do
	[ -f "$DIR/$kind.torrent" ] && continue
	/usr/bin/python3 - "$DATA" "$DIR/$kind.torrent" "$kind" <<'PY'
import sys, libtorrent as lt
fs = lt.file_storage(); lt.add_files(fs, sys.argv[1])
flags = lt.create_torrent.v2_only if sys.argv[3] == "v2" else 0
ct = lt.create_torrent(fs, 4 << 20, flags=flags)
lt.set_piece_hashes(ct, sys.argv[1].rstrip("/").rsplit("/", 1)[0])
open(sys.argv[2], "wb").write(lt.bencode(ct.generate()))
PY
done
# openssl's 16 KiB-block column (the v2 leaf size), all cores or one ($2 = -1).
ossl() {
	if [ "${2:-}" = -1 ]; then set -- "$1"; else set -- "$1" -multi "$(nproc)"; fi
	openssl speed -evp "$@" -seconds 3 2>/dev/null | awk -v a="$1" '$1 == a { printf "%.1f", $NF/1000 }'
}
cat "$DATA"/* >/dev/null
echo "== page cache (warm), $RUNS rounds; cpu = user+sys seconds of the scrubber"
for _ in $(seq "$RUNS"); do
	echo "openssl sha1 -multi $(nproc)      $(ossl sha1) MB/s    (one core: $(ossl sha1 -1) MB/s)"
	echo "openssl sha256 -multi $(nproc)    $(ossl sha256) MB/s    (one core: $(ossl sha256 -1) MB/s)"
	for t in data v2 hybrid; do
		for m in "" -map; do
			/usr/bin/time -f "    cpu %U user + %S sys, wall %e s" "$BIN" -mode scrub $m -dir "$DATA" -torrent "$DIR/$t.torrent" 2>&1
		done
	done
done
