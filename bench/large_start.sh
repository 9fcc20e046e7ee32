#!/bin/sh
# Start archivd serve on the catalog of $CONFIG (default ./cfg.yaml, with
# http.listen 127.0.0.1:18899), report seconds to "archivd serving", when
# /readyz first says ready, RSS, then SIGTERM after 5 s and seconds to exit.
# usage: bench/large_start.sh ARCHIVD_BINARY [LOG]
bin=$1; log=${2:-serve.log}; cfg=${CONFIG:-./cfg.yaml}
$bin --config "$cfg" serve > "$log" 2>&1 &
pid=$!
start=$(date +%s.%N)
ready=""
while ! grep -q "archivd serving" "$log"; do
  sleep 0.5
  [ -z "$ready" ] && [ "$(curl -s -m 2 127.0.0.1:18899/readyz)" = "ready" ] && ready="/readyz ready at $(echo "$(date +%s.%N) - $start" | bc)s"
  kill -0 $pid 2>/dev/null || { echo "serve exited"; exit 1; }
done
echo "serving after $(echo "$(date +%s.%N) - $start" | bc)s; $ready; rss $(ps -o rss= -p $pid) KiB"
sleep 5
t=$(date +%s.%N); kill -TERM $pid
while kill -0 $pid 2>/dev/null; do sleep 0.2; done
echo "exited $(echo "$(date +%s.%N) - $t" | bc)s after SIGTERM"
