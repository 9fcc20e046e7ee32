#!/bin/sh
# Build archivd_<version>_<arch>.deb from this repository with dpkg-deb,
# offline: binary, systemd unit (deploy/systemd), sysusers.d user archivd,
# tmpfiles.d /var/lib/archivd, /etc/archivd/archivd.yaml (a conffile), man
# pages and docs.
#   packaging/debian/build-deb.sh [OUTDIR]      (VERSION=1.2.3 to set it)
# DEB_COMPRESSION (xz; gzip, zstd, none) is dpkg-deb's -Z: xz takes ~40 s
# on 2 cores, so the package test builds with none.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/bin}
version=${VERSION:-$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)}
# Debian versions must start with a digit.
case $version in [0-9]*) debver=$version ;; *) debver=0~$(echo "$version" | tr -c 'A-Za-z0-9.+~\n' '+') ;; esac
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root

install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/usr/lib/sysusers.d" \
	"$root/usr/lib/tmpfiles.d" "$root/etc/archivd" "$root/usr/share/man/man1" "$root/usr/share/doc/archivd"
(cd "$repo" && go build -trimpath -ldflags "-X main.version=$version" -o "$root/usr/bin/archivd" ./cmd/archivd)
sed -e 's|/usr/local/bin/archivd|/usr/bin/archivd|' -e 's|^ReadWritePaths=/var/lib/archivd /srv/archivd|ReadWritePaths=/var/lib/archivd -/srv/archivd|' \
	"$repo/deploy/systemd/archivd.service" >"$root/usr/lib/systemd/system/archivd.service"
install -m 0644 "$here/sysusers.conf" "$root/usr/lib/sysusers.d/archivd.conf"
install -m 0644 "$here/tmpfiles.conf" "$root/usr/lib/tmpfiles.d/archivd.conf"
install -m 0640 "$here/archivd.yaml" "$root/etc/archivd/archivd.yaml"
"$root/usr/bin/archivd" man "$root/usr/share/man/man1" >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1
for f in README.md docs/OPERATIONS.md configs/archivd.example.yaml configs/archivd.production.yaml; do
	install -m 0644 "$repo/$f" "$root/usr/share/doc/archivd/"
done
for s in postinst prerm postrm; do install -m 0755 "$here/$s" "$root/DEBIAN/$s"; done
echo /etc/archivd/archivd.yaml >"$root/DEBIAN/conffiles"
size=$(du -sk "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: archivd
Version: $debver
Architecture: $arch
Maintainer: archivd maintainers <maintainers@archivd.invalid>
Installed-Size: $size
Depends: adduser | systemd
Recommends: postgresql
Section: net
Priority: optional
Homepage: https://github.com/archivd/archivd
Description: archival BitTorrent seeding server with a PostgreSQL catalog
 archivd keeps dataset collections seeded over BitTorrent for years,
 re-hashes every byte on a schedule and repairs bitrot from the swarm.
 Without database.url it runs a private PostgreSQL (postgresql package).
CONTROL
mkdir -p "$out"
deb=$out/archivd_${debver}_$arch.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
