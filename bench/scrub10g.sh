#!/usr/bin/env bash
# CPU time and peak resident memory of `archivd verify --offline` over
# 10 GiB (page cache warm), next to `sha1sum` over the same files.
#   bench/scrub10g.sh [WORKDIR]     (default /tmp/scrub10g; needs ~11 GB free)
# Runs archivd on its embedded PostgreSQL under WORKDIR; as root, inside a
# loopback-only network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/scrub10g}
if [ "$(id -u)" = 0 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare --net env IN_NETNS=1 sh -c "ip link set lo up && exec bash $0 $work"
fi
mkdir -p "$work" && chmod 755 "$work"
go build -o "$work/archivd" ./cmd/archivd
data=$work/data
if [ ! -d "$data" ]; then
  mkdir -p "$data"
  for i in $(seq 0 9); do
    head -c $((1024*1024*1024)) /dev/urandom > "$data/part-$i.bin"
  done
fi
cat > "$work/archivd.yaml" <<YAML
state_dir: $work/state
database: {auto_migrate: true}
log: {level: warn}
YAML
a() { "$work/archivd" --config "$work/archivd.yaml" "$@"; }
a collection show ten >/dev/null 2>&1 || a collection create ten >/dev/null
a show data >/dev/null 2>&1 || a add -c ten "$data" --piece-length 8MiB >/dev/null
cat "$data"/* > /dev/null # warm the page cache
echo "== sha1sum (one core) over the same 10 GiB"
/usr/bin/time -f "wall %e s, cpu %U+%S s, max rss %M KiB" sha1sum "$data"/* > /dev/null
echo "== archivd verify --offline"
/usr/bin/time -f "wall %e s, cpu %U+%S s, max rss %M KiB" "$work/archivd" --config "$work/archivd.yaml" verify --offline -c ten
