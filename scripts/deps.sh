#!/usr/bin/env bash
# Installs what archivd needs on a Debian machine: PostgreSQL server binaries
# (the embedded default runs a private cluster from them), and for the tests
# the real BitTorrent clients archivd is checked against. Then downloads the
# Go modules. Idempotent; installs only what is missing.
#   scripts/deps.sh run    # what `archivd serve` needs
#   scripts/deps.sh test   # plus the test tools
set -euo pipefail
mode=${1:-test}
need=()
have_pg() { command -v initdb >/dev/null || command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
have_pg || need+=(postgresql)
if [ "$mode" = test ]; then
  command -v transmission-daemon >/dev/null || need+=(transmission-daemon)
  command -v transmission-cli >/dev/null || need+=(transmission-cli)
  command -v aria2c >/dev/null || need+=(aria2)
  command -v opentracker >/dev/null || need+=(opentracker)
  command -v mktorrent >/dev/null || need+=(mktorrent)
  command -v pgbouncer >/dev/null || need+=(pgbouncer)  # e2e: daemon and CLI through a transaction-mode pooler
  command -v openssl >/dev/null || need+=(openssl)
  command -v unshare >/dev/null || need+=(util-linux)
  command -v ip >/dev/null || need+=(iproute2)
  command -v chromium >/dev/null || need+=(chromium)
  command -v promtool >/dev/null || need+=(prometheus)  # promtool: metrics, alert rules and their unit tests
  command -v ansible-playbook >/dev/null || need+=(ansible-core)  # the example role in deploy/ansible is run by a test
  /usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need+=(python3-libtorrent)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing ${need[*]}: run as root, or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's postgresql package starts a system cluster; archivd does not use it.
command -v go >/dev/null || { echo "deps: Go 1.26 is required (https://go.dev/dl)" >&2; exit 1; }
go mod download
