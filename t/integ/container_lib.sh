# SPDX-License-Identifier: MIT
# t/integ/container_lib.sh: podman for the image and chart tests, after
# lib.sh.  No registry is reachable here (../shared/containers.md): the
# Debian 12 base is made with docker/mkbase.sh (debootstrap), the relaykit
# image is built from docker/Containerfile.  Both are built once and kept
# in podman's store under tags that are content hashes, so a run whose
# sources did not change reuses them; one lock keeps two tests (or two
# trees) from building at once.
#
#   . "$top_srcdir/t/integ/container_lib.sh"
#   ct_need                 fail the whole test (never skip) without podman
#   ct_image                sets RK_IMAGE, building it when needed
#   pm run ...              podman with runc and this machine's settings
#
# Whatever a test starts is named "rk-test-$$-..." and removed by its trap
# (ct_cleanup, chained to lib.sh's).

# The test fails, saying why: CI counts a skip as a failure anyway, and a
# container test that cannot run has not shown anything.
ct_bail() {
	printf 'not ok 1 - %s\n1..1\n' "$*"
	exit 1
}

CT_CONF=$T/containers.conf
cat >"$CT_CONF" <<-'CONF'
	[containers]
	default_ulimits = []
	pids_limit = 0
	[engine]
	cgroup_manager = "cgroupfs"
CONF
pm() { CONTAINERS_CONF=$CT_CONF podman --runtime runc "$@"; }

ct_need() {
	local c
	[ "$(id -u)" = 0 ] || ct_bail "container tests need root (rootful podman)"
	for c in podman runc debootstrap "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			ct_bail "$c is not installed (t/deps/container.txt lists it)"
	done
}

CT_NAME=rk-test-$$
_ct_names="" _ct_volumes="" _ct_kube=""
ct_track() { _ct_names="$_ct_names $1"; }
ct_track_volume() { _ct_volumes="$_ct_volumes $1"; }
ct_track_kube() { _ct_kube="$_ct_kube $1"; }
ct_cleanup() {
	local n
	for n in $_ct_kube; do pm kube down "$n" >/dev/null 2>&1 || true; done
	for n in $_ct_names; do pm rm -f -t 2 "$n" >/dev/null 2>&1 || true; done
	for n in $_ct_volumes; do pm volume rm -f "$n" >/dev/null 2>&1 || true; done
	_cleanup
}
trap ct_cleanup EXIT

# ct_lock CMD...: CMD under the one image-building lock of this machine.
ct_lock() {
	(
		flock -w 1800 9 || exit 1
		"$@"
	) 9>"${TMPDIR:-/tmp}/relaykit-image.lock"
}

_ct_hash() { sha256sum | cut -c1-16; }

# The base: a Debian 12 image from debootstrap, made again only when
# docker/mkbase.sh changes.
_ct_base() {
	local tag=$1
	pm image exists "$tag" && return 0
	diag "making the Debian 12 base image $tag (debootstrap)"
	CONTAINERS_CONF=$CT_CONF ENGINE="podman --runtime runc" \
		nice "$top_srcdir/docker/mkbase.sh" "$tag" >"$T/mkbase.log" 2>&1 || {
		sed 's/^/# /' "$T/mkbase.log" | tail -20
		return 1
	}
	pm image exists "$tag"
}

# The build context: the tree's files as git knows them (tracked, and
# new ones it does not ignore), or every file but builds when there is no
# git; written to $T/ctx.tar in a stable order, so its hash names it.
_ct_context() {
	local list=$T/ctx.list
	if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$top_srcdir" ls-files -z --cached --others --exclude-standard |
			tr '\0' '\n'
	else
		(cd "$top_srcdir" && find . -type f ! -path './_build/*' ! -path './.git/*' \
			! -path './_run/*' ! -path './autom4te.cache/*' | sed 's|^\./||')
	fi | while IFS= read -r f; do [ -f "$top_srcdir/$f" ] && printf '%s\n' "$f"; done |
		LC_ALL=C sort >"$list"
	tar -C "$top_srcdir" -c --no-recursion --sort=name --mtime=@0 --owner=0 \
		--group=0 --numeric-owner --mode=go-w -f "$T/ctx.tar" -T "$list"
}

_ct_build() {
	local base=$1 tag=$2 start=$SECONDS
	pm image exists "$tag" && { diag "image $tag: cached"; return 0; }
	diag "building image $tag from $base"
	rm -rf "$T/ctx" && mkdir -p "$T/ctx" && tar -C "$T/ctx" -xf "$T/ctx.tar"
	# niced: the compile inside must not starve the tests beside it
	nice -n 10 env CONTAINERS_CONF=$CT_CONF podman --runtime runc build \
		--network host --build-arg BASE="$base" --label org.relaykit.test-cache=1 \
		-f "$T/ctx/docker/Containerfile" -t "$tag" "$T/ctx" >"$T/build.log" 2>&1 || {
		tail -30 "$T/build.log" | sed 's/^/# /'
		return 1
	}
	rm -rf "$T/ctx"
	diag "image $tag built in $((SECONDS - start)) s"
	# images of older sources, unused for a day, go
	pm image prune -a -f --filter label=org.relaykit.test-cache=1 \
		--filter until=24h >/dev/null 2>&1 || true
}

# ct_image: RK_IMAGE, the relaykit image of these sources.
ct_image() {
	local base hash start=$SECONDS
	base=localhost/relaykit-base:bookworm-$(_ct_hash <"$top_srcdir/docker/mkbase.sh")
	ct_lock _ct_base "$base" || ct_bail "cannot make the Debian 12 base image (docker/mkbase.sh)"
	_ct_context || ct_bail "cannot collect the build context"
	hash=$({ pm image inspect -f '{{.Id}}' "$base"; cat "$T/ctx.tar"; } | _ct_hash)
	RK_IMAGE=localhost/relaykit:$hash
	ct_lock _ct_build "$base" "$RK_IMAGE" || ct_bail "the image does not build (docker/Containerfile)"
	rm -f "$T/ctx.tar"
	diag "image ready in $((SECONDS - start)) s: $RK_IMAGE"
}

# ct_logs NAME: a container's log, as TAP comments.
ct_logs() { pm logs "$1" 2>&1 | tail -${2:-40} | sed 's/^/# /'; }
