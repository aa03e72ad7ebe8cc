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
	_tap_n=$((_tap_n + 1))
	printf 'not ok %d - %s\n1..%d\n' $_tap_n "$*" $_tap_n
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
_ct_names="" _ct_volumes="" _ct_kube="" _ct_vprefix=""
ct_track() { _ct_names="$_ct_names $1"; }
ct_track_volume() { _ct_volumes="$_ct_volumes $1"; }
ct_track_kube() { _ct_kube="$_ct_kube $1"; }
# ct_track_volumes PREFIX: every volume whose name starts with PREFIX
# (kube play makes one per PVC and per ConfigMap, and kube down keeps them)
ct_track_volumes() { _ct_vprefix="$_ct_vprefix $1"; }
ct_cleanup() {
	local n
	for n in $_ct_kube; do pm kube down "$n" >/dev/null 2>&1 || true; done
	for n in $_ct_names; do pm rm -f -t 2 "$n" >/dev/null 2>&1 || true; done
	for n in $_ct_vprefix; do
		_ct_volumes="$_ct_volumes $(pm volume ls -q 2>/dev/null | grep "^$n")"
	done
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
# What the image never holds (the chart, contrib/, the integration tests
# and their data, the top-level documents, as docker/Containerfile's first
# stage drops them) stays out, so editing a test, the chart or the README
# reuses the image.
_ct_context() {
	local list=$T/ctx.list
	if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$top_srcdir" ls-files -z --cached --others --exclude-standard |
			tr '\0' '\n'
	else
		(cd "$top_srcdir" && find . -type f ! -path './_build/*' ! -path './.git/*' \
			! -path './_run/*' ! -path './autom4te.cache/*' | sed 's|^\./||')
	fi | grep -vE '^(helm/|contrib/|t/integ/|t/data/|t/deps/|\.ci/|[^/]*\.md$)' |
		while IFS= read -r f; do [ -f "$top_srcdir/$f" ] && printf '%s\n' "$f"; done |
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

# ct_redis_image: RK_REDIS_IMAGE, a Redis image from the same base
# (t/integ/redis.Containerfile), for the chart's bundled Redis.
_ct_build_redis() {
	local base=$1 tag=$2 start=$SECONDS
	pm image exists "$tag" && return 0
	mkdir -p "$T/redis-ctx"
	nice -n 10 env CONTAINERS_CONF=$CT_CONF podman --runtime runc build \
		--network host --build-arg BASE="$base" --label org.relaykit.test-cache=1 \
		-f "$top_srcdir/t/integ/redis.Containerfile" -t "$tag" "$T/redis-ctx" >"$T/redis-build.log" 2>&1 || {
		tail -30 "$T/redis-build.log" | sed 's/^/# /'
		return 1
	}
	diag "Redis image $tag built in $((SECONDS - start)) s"
}
ct_redis_image() {
	local base hash
	base=localhost/relaykit-base:bookworm-$(_ct_hash <"$top_srcdir/docker/mkbase.sh")
	ct_lock _ct_base "$base" || ct_bail "cannot make the Debian 12 base image (docker/mkbase.sh)"
	hash=$({ pm image inspect -f '{{.Id}}' "$base"; cat "$top_srcdir/t/integ/redis.Containerfile"; } | _ct_hash)
	RK_REDIS_IMAGE=localhost/relaykit-test-redis:$hash
	ct_lock _ct_build_redis "$base" "$RK_REDIS_IMAGE" ||
		ct_bail "the Redis image does not build (t/integ/redis.Containerfile)"
}

# The sanitizer pass (./test's second make check, RK_SANITIZERS=1) would
# run the same image again: the image builds its own programs, so a
# sanitizer build of the tree changes nothing in it.  A test that passed
# in full writes a stamp named by the hash of its images, its own text,
# the harness and what else it runs (the chart); the sanitizer pass finds
# the stamp and reports the earlier pass instead of running the
# containers again.  Without a stamp (or outside the sanitizer pass) the
# test runs.
CT_STAMPS=${RK_CONTAINER_STAMPS:-/var/tmp/relaykit-container-passed}
# ct_stamp_check NAME "IMAGES" [PATH...]
ct_stamp_check() {
	local name=$1 images=$2 key p
	shift 2
	key=$({
		echo "$images"
		cat "$0" "$top_srcdir"/t/integ/lib.sh "$top_srcdir"/t/integ/*_lib.sh
		for p in "$@"; do
			(cd "$p" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum)
		done
	} | _ct_hash)
	CT_STAMP=$CT_STAMPS/$name-$key
	if [ "${RK_SANITIZERS:-}" = 1 ] && [ -f "$CT_STAMP" ]; then
		printf 'ok 1 - %s passed in the normal pass with the same image and test (%s: %s); not run again under the sanitizers, the image is built without them\n1..1\n' \
			"$name" "$CT_STAMP" "$(cat "$CT_STAMP")"
		exit 0
	fi
}
# ct_stamp_done: done_testing, and the stamp when every test passed.
ct_stamp_done() {
	if done_testing; then
		mkdir -p "$CT_STAMPS" && date -u '+%Y-%m-%dT%H:%M:%SZ' >"$CT_STAMP"
		return 0
	fi
	return 1
}

# ct_logs NAME: a container's log, as TAP comments.
ct_logs() { pm logs "$1" 2>&1 | tail -${2:-40} | sed 's/^/# /'; }
