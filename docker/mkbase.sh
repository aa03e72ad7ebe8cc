#!/bin/sh
# SPDX-License-Identifier: MIT
# docker/mkbase.sh: a Debian 12 base image made from Debian's own archive
# with debootstrap, for machines that reach no container registry (CI).
# Elsewhere, build from debian:12 and skip this.
#
#   docker/mkbase.sh [TAG]       default localhost/debian:12
#
# The mirror is the one apt uses here (MIRROR= overrides it).  Needs root,
# debootstrap and podman (or docker: ENGINE=docker).
set -eu
tag=${1:-localhost/debian:12}
engine=${ENGINE:-podman}
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi
root=$(mktemp -d -p "${TMPDIR:-/tmp}")
# debootstrap mounts /proc and /sys inside; never delete through a mount
cleanup() {
	for m in proc sys dev/pts; do umount -l "$root/$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1 || {
	tail -20 "$root.log" >&2
	rm -f "$root.log"
	exit 1
}
rm -f "$root.log"
# the same sources a debian:12 image has, and no cached package lists
cat >"$root/etc/apt/sources.list" <<LIST
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
LIST
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | $engine import - "$tag" >/dev/null
echo "$tag"
