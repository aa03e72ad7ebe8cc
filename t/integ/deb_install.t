# SPDX-License-Identifier: MIT
# The .deb on this machine, as a new user would use it on a host whose
# Postfix already signs with OpenDKIM, with a certificate and networks of
# its own: build the package (cached by a hash of the source tree), install
# it with dpkg, follow the README's four steps (install, edit the config,
# relaykit-postconf --dry-run then apply, start the daemons), with the
# daemons started from the installed units' own command lines, user and
# groups (systemd is not PID 1 here).  Mail comes out signed by relaykit and
# by OpenDKIM; the host's settings stay; nobody but Postfix reaches the
# sockets; --remove and dpkg --purge leave main.cf as it was and the
# system as it was.  Each unit passes systemd-analyze verify, and its
# exposure score is printed.
#
# The host's Postfix is a private instance on loopback (postfix -c DIR),
# as in every test: the system's /etc/postfix is never touched.  Needs root
# (dpkg); refuses to run where relaykit is already installed.
. "$top_srcdir/t/integ/lib.sh"
from_source_only "the Debian package"
SRC=$(cd "$top_srcdir" && pwd)
# bail REASON: a failure with its reason (a skip would hide it).
bail() { printf 'not ok %d - %s\n1..%d\n' $((_tap_n + 1)) "$*" $((_tap_n + 1)); exit 1; }
[ "$(id -u)" = 0 ] || bail "needs root: dpkg installs the package"
for c in dpkg-buildpackage dh postfix postconf opendkim redis-server swaks \
    setpriv systemd-analyze openssl; do
	command -v "$c" >/dev/null 2>&1 || bail "$c not installed (t/deps/*.txt)"
done
$PY -c 'import dkim' 2>/dev/null || bail "python3-dkim not installed"
UNITS="milter policyd eventd webhookd dnsctl"
CONF=/etc/relaykit/relaykit.yaml
SOCKDIR=/var/spool/postfix/relaykit
# what the package and this test may leave on the system, checked before
# and after
footprint() {
	getent passwd relaykit; getent group relaykit
	ls -ld /etc/relaykit /var/lib/relaykit "$SOCKDIR" /lib/systemd/system/relaykit-* 2>/dev/null
	dpkg-statoverride --list | grep relaykit
	dpkg-query -W -f='${Status}\n' relaykit 2>/dev/null | grep -v not-installed
	md5sum /etc/postfix/main.cf /etc/postfix/master.cf 2>/dev/null
}
footprint >"$T/system.before" 2>&1
grep -q relaykit "$T/system.before" &&
	bail "relaykit is already on this machine: $(grep relaykit "$T/system.before" | head -1)"

# ---------------------------------------------------------------- build
# The package of this source tree, built once per content: the tree's files
# (tracked and untracked, not ignored; not the integration tests) hashed, the .deb kept under
# _build/deb/HASH so the ASan pass reuses it.
deb_build() {
	local files hash dir work t0
	files=$(cd "$SRC" && { git ls-files -co --exclude-standard 2>/dev/null ||
		find . -path ./_build -prune -o -path ./.git -prune -o -type f -print; } |
		sed 's|^\./||' | sort | while read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done)
	[ -n "$files" ] || return 1
	# t/integ/ (this test among them) does not go into the package
	hash=$(cd "$SRC" && printf '%s\n' "$files" | grep -v '^t/integ/' | tr '\n' '\0' |
		xargs -0 sha256sum | sha256sum | cut -c1-16)
	dir=${RK_DEB_CACHE:-$SRC/_build/deb}/$hash
	DEB=$(ls "$dir"/relaykit_*.deb 2>/dev/null | head -1)
	if [ -n "$DEB" ]; then diag "package cached: $DEB"; return 0; fi
	work=$dir.work.$$
	# older trees' packages go: one cache entry per source tree
	rm -rf "${dir%/*}"; mkdir -p "$work/relaykit"
	(cd "$SRC" && printf '%s\n' "$files" | tr '\n' '\0' |
		xargs -0 cp --parents -t "$work/relaykit") || return 1
	t0=$(date +%s)
	(cd "$work/relaykit" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" \
		dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
		tail -30 "$work/build.log" | sed 's/^/# /'; return 1; }
	diag "package built in $(($(date +%s) - t0)) s"
	mkdir -p "$dir" && mv "$work"/relaykit_*.deb "$work/build.log" "$dir/" &&
		rm -rf "$work"
	DEB=$(ls "$dir"/relaykit_*.deb | head -1)
}
deb_build || bail "dpkg-buildpackage failed (log above)"
ok "the .deb is built" test -s "$DEB"
out=$(lintian --fail-on error,warning "$DEB" 2>&1); rc=$?
is "$rc" 0 "lintian: no error or warning (overrides say why)"
printf '%s\n' "$out" | grep -v 'root privileges' | sed 's/^/# lintian: /'

# ---------------------------------------------------------------- the host
# A Postfix that already signs with OpenDKIM (inet, as a host would run
# it), its own certificate and a wider mynetworks; mail goes to the sink.
SINKP=$(free_port); start_sink "$SINKP"
ODP=$(free_port)
# OpenDKIM refuses a config or key below a world-writable folder (/tmp)
OD=$(mktemp -d -p /run)
openssl genrsa -out "$OD/odkim.key" 2048 >/dev/null 2>&1
chmod 600 "$OD/odkim.key"
printf 'Syslog no\nMode s\nDomain example.com\nSelector odkim\nKeyFile %s\nSocket inet:%s@127.0.0.1\nInternalHosts 127.0.0.0/8\nCanonicalization relaxed/relaxed\nPidFile %s\n' \
	"$OD/odkim.key" "$ODP" "$OD/opendkim.pid" >"$OD/opendkim.conf"
opendkim -f -x "$OD/opendkim.conf" >"$T/opendkim.log" 2>&1 &
ODPID=$!
track $ODPID
trap 'kill "$ODPID" 2>/dev/null; rm -rf "$OD"; _cleanup' EXIT
wait_for "port_open $ODP" 10 || bail "OpenDKIM did not start: $(cat "$T/opendkim.log")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=mx.host.test -keyout "$T/host.key" -out "$T/host.pem" >/dev/null 2>&1
SMTPP=$(free_port)
pf_start host "$SMTPP" "relayhost = [127.0.0.1]:$SINKP" \
	"smtpd_milters = inet:127.0.0.1:$ODP" 'non_smtpd_milters = $smtpd_milters' \
	"milter_default_action = accept" "smtpd_tls_cert_file = $T/host.pem" \
	"smtpd_tls_key_file = $T/host.key" "mynetworks = 127.0.0.0/8, 10.20.0.0/16" ||
	bail "the host's Postfix did not start"
# its log as Debian's rsyslog keeps /var/log/mail.log: root:adm 0640
wait_for "test -f '$PF/maillog'" 10
chgrp adm "$PF/maillog" && chmod 0640 "$PF/maillog"
cp "$PF/etc/main.cf" "$T/main.cf.before"
cp "$PF/etc/master.cf" "$T/master.cf.before"

stop_daemons() {
	local p
	for p in $RK_PIDS; do kill "$p" 2>/dev/null; done
	for p in $RK_PIDS; do wait_for "! kill -0 $p 2>/dev/null" 10 || kill -9 "$p" 2>/dev/null; done
	RK_PIDS=""
}
# dpkg ARGS...: waits for another apt or dpkg run to let go of the lock
dpkg_locked() {
	local i=0 out rc
	while :; do
		out=$(dpkg "$@" 2>&1); rc=$?
		[ $rc = 0 ] || ! printf '%s' "$out" | grep -q 'lock' || [ $i -ge 120 ] && break
		sleep 1; i=$((i + 1))
	done
	printf '%s\n' "$out"; return $rc
}
# relaykit's own undo on any exit: daemons, the package, its user and keys
deb_cleanup() {
	stop_daemons
	if dpkg-query -W -f='${Status}' relaykit 2>/dev/null | grep -q installed; then
		dpkg_locked --purge relaykit >/dev/null 2>&1
	fi
	getent passwd relaykit >/dev/null && deluser --quiet relaykit >/dev/null 2>&1
	getent group relaykit >/dev/null && delgroup --quiet relaykit >/dev/null 2>&1
	rm -rf /var/lib/relaykit
	# OpenDKIM takes longer than the harness waits before SIGKILL
	kill "$ODPID" 2>/dev/null && wait_for "! kill -0 $ODPID 2>/dev/null" 10
	rm -rf "$OD"
}
RK_PIDS=""
trap 'deb_cleanup; _cleanup' EXIT

# ---------------------------------------------------------------- 1. install
out=$(dpkg_locked -i "$DEB"); rc=$?
is "$rc" 0 "step 1: dpkg -i installs the package on top of Debian's Postfix"
[ "$rc" = 0 ] || bail "dpkg -i failed: $out"
ok "the relaykit user exists" eval 'getent passwd relaykit >/dev/null'
like "$(dpkg-query -W -f='${Conffiles}' relaykit)" " $CONF [0-9a-f]{32}" \
	"$CONF is a conffile"
is "$(stat -c '%a %U:%G' "$CONF")" "640 root:relaykit" \
	"the config (secrets) is readable by relaykit only"
is "$(stat -c '%a %U:%G' "$SOCKDIR")" "750 relaykit:postfix" \
	"the socket folder: relaykit's, group postfix may enter (tmpfiles.d)"
for u in $UNITS; do
	f=/lib/systemd/system/relaykit-$u.service
	ok "relaykit-$u.service installed" test -f "$f"
	out=$(systemd-analyze verify "$f" 2>&1)
	is "$?:$out" "0:" "systemd-analyze verify relaykit-$u.service"
	score=$(systemd-analyze security --offline=true "$f" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	diag "relaykit-$u.service exposure: ${score:-?}"
	ok "relaykit-$u.service exposure ${score:-?} <= 2.0" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
done

# ---------------------------------------------------------------- 2. edit
# What a user edits: Redis (here a private one), rate limits on, metrics off
# (fixed ports other tests may hold).  Socket paths keep their defaults
# (older samples said /run/relaykit: moved into Postfix's queue folder).
REDISP=$(free_port); start_redis "$REDISP" || bail "redis did not start"
sed -i -e "s|^  port: 6379|  port: $REDISP|" \
	-e "s|unix:/run/relaykit/|unix:$SOCKDIR/|g" \
	-e 's|^    - 127\.0\.0\.0/8$|    - 127.0.0.0/8\n    - 10.20.0.0/16|' \
	-e '/^rateLimit:/,/enabled:/ s/enabled: false/enabled: true/' \
	-e '/^metrics:/,/enabled:/ s/enabled: true/enabled: false/' \
	-e "s|^  logFile: /var/log/mail.log|  logFile: $PF/maillog|" \
	-e '/^  relay:/,/tls:/ { s/enabled: false/enabled: true/; s/host: .*/host: 127.0.0.1/; s/port: 587/port: '"$SINKP"'/; s/tls: true/tls: false/ }' \
	"$CONF"
# the key, made as relaykit (as the README says), where the milter reads it
out=$(runuser -u relaykit -- relaykit-keygen -c "$CONF" -d example.com 2>&1); rc=$?
is "$rc" 0 "relaykit-keygen makes example.com's key as relaykit"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
like "$(relaykit-milter -n -c "$CONF" 2>&1)" "configuration OK" \
	"step 2: the edited config is valid"
KEYF=/var/lib/relaykit/dkim/example.com/mail.pem
{
	printf 'mail._domainkey.example.com v=DKIM1; k=rsa; p=%s\n' \
		"$(openssl pkey -in "$KEYF" -pubout -outform DER 2>/dev/null | base64 -w0)"
	printf 'odkim._domainkey.example.com v=DKIM1; k=rsa; p=%s\n' \
		"$(openssl pkey -in "$OD/odkim.key" -pubout -outform DER | base64 -w0)"
} >"$T/dkim.keys"

# ---------------------------------------------------------------- 3. postconf
out=$(relaykit-postconf -c "$CONF" -C "$PF/etc" --dry-run 2>&1)
is "$?" 0 "step 3: relaykit-postconf --dry-run"
ok "--dry-run changes nothing" cmp -s "$PF/etc/main.cf" "$T/main.cf.before"
like "$out" "smtpd_milters" "--dry-run shows the milter change"
out=$(relaykit-postconf -c "$CONF" -C "$PF/etc" 2>&1); rc=$?
is "$rc" 0 "relaykit-postconf applies"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
like "$out" "postfix -c $PF/etc reload" "and says to reload Postfix"
n=$(postconf -c "$PF/etc" -n)
like "$n" "^smtpd_milters = inet:127\\.0\\.0\\.1:$ODP, \\{ unix:$SOCKDIR/milter\\.sock" \
	"OpenDKIM kept, relaykit's milter after it"
like "$n" "^smtpd_tls_cert_file = $T/host\\.pem\$" "the host's certificate kept"
like "$n" '^mynetworks = 127\.0\.0\.0/8, 10\.20\.0\.0/16' "the host's networks kept"
like "$n" "^relayhost = \\[127\\.0\\.0\\.1\\]:$SINKP\$" "the host's relayhost kept"
postfix -c "$PF/etc" reload >/dev/null 2>&1

# ---------------------------------------------------------------- 4. start
# systemctl enable --now, by hand: each unit's ExecStartPre and ExecStart
# run as its User, Group and SupplementaryGroups, with its UMask, no
# capabilities and no new privileges.  NOTIFY_SOCKET gets READY=1.
unit_get() { sed -n "s/^$2=//p" "/lib/systemd/system/relaykit-$1.service"; }
# run_as CMD...: replaces the (sub)shell with CMD as the unit's user; the
# caller forks, so $! is the daemon itself
run_as() {
	umask "${umask:-0022}"
	exec setpriv --reuid="$user" --regid="$group" "$GROUPS_OPT" \
		--no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"
}
start_unit() { # NAME
	local cmd supp
	user=$(unit_get "$1" User); group=$(unit_get "$1" Group)
	supp=$(unit_get "$1" SupplementaryGroups | tr ' ' ,)
	umask=$(unit_get "$1" UMask)
	GROUPS_OPT=--clear-groups
	[ -n "$supp" ] && GROUPS_OPT=--groups=$supp
	unit_get "$1" ExecStartPre | while read -r cmd; do
		# shellcheck disable=SC2086
		(run_as $cmd) >>"$T/$1.log" 2>&1 || exit 1
	done || return 1
	cmd=$(unit_get "$1" ExecStart)
	rm -f "$T/$1.notify"
	# shellcheck disable=SC2086
	(export NOTIFY_SOCKET=$T/$1.notify-sock; run_as $cmd) >>"$T/$1.log" 2>&1 &
	RK_PIDS="$RK_PIDS $!"
}
# a listener for sd_notify datagrams, one file of messages per daemon
notify_listen() {
	$PY -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
while True:
    m = s.recv(4096).decode(errors="replace")
    with open(sys.argv[2], "a") as f: f.write(m.replace("\n", " ") + "\n")' \
		"$T/$1.notify-sock" "$T/$1.notify" &
	track $!
	wait_for "test -S '$T/$1.notify-sock'" 5
}
for u in milter policyd; do
	notify_listen "$u"
	start_unit "$u"
	ok "step 4: relaykit-$u starts from its unit's command line as relaykit" \
		wait_for "grep -q 'READY=1' '$T/$u.notify' 2>/dev/null || test -S $SOCKDIR/$u.sock -o -S $SOCKDIR/policy.sock" 15
	ok "relaykit-$u runs as relaykit" wait_for \
		"pgrep -u relaykit -f 'relaykit-$u -f -c $CONF' >/dev/null" 5
	ok "relaykit-$u says READY=1 on \$NOTIFY_SOCKET" \
		wait_for "grep -q 'READY=1' '$T/$u.notify'" 15
done
wait_for "test -S $SOCKDIR/milter.sock -a -S $SOCKDIR/policy.sock" 10
notify_listen eventd
start_unit eventd
ok "relaykit-eventd starts from its unit (relaykit, group adm reads the log)" \
	wait_for "grep -q 'following $PF/maillog' '$T/eventd.log'" 15
# Nothing configured for them here: their units' config check passes
for u in webhookd dnsctl; do
	cmd=$(unit_get $u ExecStartPre)
	user=$(unit_get $u User); group=$(unit_get $u Group); GROUPS_OPT=--clear-groups
	# shellcheck disable=SC2086
	out=$( (run_as $cmd) 2>&1)
	like "$out" "configuration OK" "relaykit-$u's ExecStartPre check passes as relaykit"
done
for s in milter policy; do
	st=$(stat -c '%a %U:%G' "$SOCKDIR/$s.sock" 2>&1)
	diag "$s.sock: $st"
	is "$st" "660 relaykit:postfix" "$s.sock: mode 0660, group postfix"
done
# a socket connect as USER[:GROUP...]: 0 when connected
sock_try() { # USER GROUPS SOCKET
	setpriv --reuid="$1" --regid="${2%%,*}" --groups="$2" -- \
		$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$3" 2>/dev/null
}
for s in milter policy; do
	ok "nobody cannot connect to $s.sock" eval "! sock_try nobody nogroup $SOCKDIR/$s.sock"
	ok "Postfix (user postfix) can connect to $s.sock" \
		sock_try postfix postfix "$SOCKDIR/$s.sock"
done

# ---------------------------------------------------------------- mail
out=$(swaks --server 127.0.0.1:"$SMTPP" --from app@example.com --to user@dest.test \
	--header "Subject: deb install" --body "signed twice" 2>&1)
like "$out" '<[-~]  250 2\.0\.0 Ok: queued' "the host's Postfix accepts mail from its network"
ok "it is relayed" wait_for "test \$(sink_count) -ge 1" 30
m=$(ls "$SINK"/*.eml 2>/dev/null | head -1)
v=$($PY "$SRC/t/integ/milter_verify.py" "$T/dkim.keys" "${m:-/dev/null}" 2>&1)
like "$v" '^rsa-sha256 pass d=example\.com s=mail$' "signed by relaykit (python3-dkim: pass)"
like "$v" '^rsa-sha256 pass d=example\.com s=odkim$' "and by the host's OpenDKIM (pass)"
[ -n "$m" ] || pf_log | tail -15 | sed 's/^/# /'
ok "relaykit-eventd writes its delivery event to Redis" \
	wait_for "[ \$(redis-cli -p $REDISP XLEN rk:events) -ge 1 ]" 20

# the config stays the user's across a reinstall (conffile, changed)
dpkg_locked -i "$DEB" >"$T/reinstall.log" 2>&1
ok "a reinstall keeps the edited config" grep -q "port: $REDISP" "$CONF"

# ---------------------------------------------------------------- removal
stop_daemons
ok "the daemons stop on SIGTERM" test -z "$(ps -u relaykit -o pid= 2>/dev/null)"
out=$(relaykit-postconf -c "$CONF" -C "$PF/etc" --remove 2>&1); rc=$?
is "$rc" 0 "relaykit-postconf --remove"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
ok "main.cf byte-identical to before" cmp "$PF/etc/main.cf" "$T/main.cf.before"
ok "master.cf byte-identical to before" cmp "$PF/etc/master.cf" "$T/master.cf.before"
out=$(dpkg_locked --purge relaykit); rc=$?
is "$rc" 0 "dpkg --purge relaykit"
[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
ok "purge leaves no config and no socket folder" \
	test ! -e /etc/relaykit -a ! -e "$SOCKDIR"
ok "main.cf still as it was" cmp "$PF/etc/main.cf" "$T/main.cf.before"
# Debian keeps system users and the keys on purge: a user deletes them
deb_cleanup
is "$(footprint 2>&1)" "$(cat "$T/system.before")" \
	"the system is as it was (user, folders, units, statoverrides, /etc/postfix)"
done_testing
