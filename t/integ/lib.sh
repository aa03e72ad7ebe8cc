# SPDX-License-Identifier: MIT
# t/integ/lib.sh: the shell harness every integration test sources.
#
# A test gets its own temp dir ($T), free loopback ports, and servers it
# starts itself (Redis, a private Postfix instance, a capturing sink, our
# daemons), all stopped by PID when it exits.  Output is TAP.  Nothing
# listens on or talks to anything but 127.0.0.1.
#
#   . "$top_srcdir/t/integ/lib.sh"
#   need postfix swaks          # skip_all with the reason when missing
#   port=$(free_port); start_sink "$port"
#   pf_start 25 "relayhost = [127.0.0.1]:$port"
#   ok "message delivered" wait_for "sink_count -ge 1"
#   done_testing

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
top_builddir=$(cd "$top_builddir" && pwd)
PY=/usr/bin/python3

_tap_n=0 _tap_fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/rk-integ.XXXXXX")
chmod 755 "$T"
_pids=""
_pf_dirs=""

diag() { printf '# %s\n' "$*"; }

# ok NAME CMD...: one test point, passing when CMD succeeds.
ok() {
	local name=$1; shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then printf 'ok %d - %s\n' $_tap_n "$name"
	else printf 'not ok %d - %s\n' $_tap_n "$name"; _tap_fail=$((_tap_fail + 1)); fi
}
# is GOT WANT NAME
is() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then printf 'ok %d - %s\n' $_tap_n "$3"
	else printf 'not ok %d - %s\n#   got:  "%s"\n#   want: "%s"\n' $_tap_n "$3" "$1" "$2"
		_tap_fail=$((_tap_fail + 1)); fi
}
# like TEXT REGEX NAME (grep -E)
like() {
	_tap_n=$((_tap_n + 1))
	if printf '%s\n' "$1" | grep -qE -- "$2"; then printf 'ok %d - %s\n' $_tap_n "$3"
	else printf 'not ok %d - %s\n#   got:  "%s"\n#   want: /%s/\n' $_tap_n "$3" \
		"$(printf '%s' "$1" | head -c 2000)" "$2"; _tap_fail=$((_tap_fail + 1)); fi
}
skip() { _tap_n=$((_tap_n + 1)); printf 'ok %d # SKIP %s\n' $_tap_n "$*"; }
skip_all() { printf '1..0 # SKIP %s\n' "$*"; exit 0; }
done_testing() { printf '1..%d\n' $_tap_n; [ $_tap_fail -eq 0 ]; }

# npm_bin NAME: the command NAME of an npm package t/deps/npm/*.txt list
# (installed by ./test into the source tree's _build/npm), or "".
_rk_npm=${RK_NPM_PREFIX:-$(cd "$top_srcdir" && pwd)/_build/npm}
npm_bin() {
	[ -x "$_rk_npm/node_modules/.bin/$1" ] && echo "$_rk_npm/node_modules/.bin/$1"
}

# need CMD...: skip the whole test unless every command is there.
need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"
	done
}

_cleanup() {
	local d p
	for d in $_pf_dirs; do
		postfix -c "$d/etc" stop >/dev/null 2>&1 || true
	done
	for p in $_pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in $_pids; do kill -9 "$p" 2>/dev/null || true; done
	if [ "${RK_KEEP_TMP:-}" ]; then diag "kept $T"; else rm -rf "$T"; fi
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

# track PID: stopped at exit.
track() { _pids="$_pids $1"; }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for "TEST EXPR" [SECONDS]: polls a shell condition every 0.1 s.
wait_for() {
	local cond=$1 limit=${2:-20} i=0
	while [ $i -lt $((limit * 10)) ]; do
		eval "$cond" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_redis PORT: a private redis-server; sets REDIS_PID.
start_redis() {
	local port=$1 dir=$T/redis-$1
	mkdir -p "$dir"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$dir" --daemonize no --logfile "$dir/log" &
	REDIS_PID=$!
	track $REDIS_PID
	wait_for "redis-cli -p $port ping >/dev/null 2>&1" 10
}

# start_sink PORT: the capturing SMTP sink, messages in $T/sink/N.eml.
SINK=$T/sink
start_sink() {
	mkdir -p "$SINK"
	$PY "$top_srcdir/t/integ/sink.py" "$1" "$SINK" >"$T/sink.log" 2>&1 &
	SINK_PID=$!
	track $SINK_PID
	wait_for "port_open $1" 10
}
sink_count() { ls "$SINK"/*.eml 2>/dev/null | wc -l; }
# start_silent PORT: a server that accepts connections and never answers
# (an MX that times out).
start_silent() {
	$PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$1" >/dev/null 2>&1 &
	track $!
	wait_for "port_open $1" 10
}

# pf_start NAME PORT [MAIN.CF LINES...]: a private Postfix instance in
# $T/pf-NAME (config, queue, log), smtpd on 127.0.0.1:PORT.  Sets PF.
. "$top_srcdir/t/integ/postfix.sh"
pf_start() {
	local name=$1 port=$2; shift 2
	PF=$T/pf-$name
	pf_configure "$PF" "$port" "$@"
	postfix -c "$PF/etc" start >"$PF/start.log" 2>&1 ||
		{ sed 's/^/# /' "$PF/start.log"; return 1; }
	_pf_dirs="$_pf_dirs $PF"
	wait_for "port_open $port" 20
}
pf_log() { cat "$PF/maillog" 2>/dev/null; }

# pf_apply YAML: relaykit-postconf applies YAML to the running instance,
# which then reloads.
pf_apply() {
	"$top_builddir/postfix-conf/relaykit-postconf" -c "$1" -C "$PF/etc" \
		>"$PF/postconf.out" 2>&1 || { sed 's/^/# /' "$PF/postconf.out"; return 1; }
	postfix -c "$PF/etc" reload >/dev/null 2>&1
	sleep 0.5
}

# start_named PORT ZONEFILE...: a private authoritative BIND on
# 127.0.0.1:PORT serving each ZONEFILE (named ORIGIN.zone, origin from
# its name); no recursion, so any other name is REFUSED (a DNS error).
# Waits for named's "running" line: a query sent before it is lost.
start_named() {
	local port=$1 dir=$T/named-$1 z n
	shift
	mkdir -p "$dir"
	{
		printf 'options { directory "%s"; pid-file "%s/pid";\n' "$dir" "$dir"
		printf '  listen-on port %s { 127.0.0.1; }; listen-on-v6 { none; };\n' "$port"
		printf '  recursion no; dnssec-validation no; notify no;\n'
		printf '  session-keyfile "%s/session.key"; };\n' "$dir"
		printf 'controls { };\n'
		for z in "$@"; do
			n=$(basename "$z" .zone)
			printf 'zone "%s" { type primary; file "%s"; };\n' "$n" "$z"
		done
	} >"$dir/named.conf"
	named -g -u root -c "$dir/named.conf" >"$dir/log" 2>&1 &
	NAMED_PID=$!
	track $NAMED_PID
	wait_for "grep -q ' running' '$dir/log'" 20
}

# port_open_at ADDRESS PORT: something listens on ADDRESS:PORT (a loopback
# address other than 127.0.0.1, e.g. 127.0.0.2).
port_open_at() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# pf_start_at NAME ADDRESS PORT [MAIN.CF LINES...]: pf_start, but smtpd
# listens on ADDRESS:PORT, a loopback address of its own (127.0.0.2,
# 127.0.0.3, ...): one more relay host on this machine.  Only master.cf
# names the address: Linux routes all of 127/8 to lo, so smtpd can bind
# it, but Postfix refuses an inet_interfaces that no interface carries
# ("no local interface found for 127.0.0.2"), so that stays 127.0.0.1.
# Sets PF.
pf_start_at() {
	local name=$1 addr=$2 port=$3; shift 3
	case $addr in 127.*) ;; *) diag "pf_start_at: $addr is not a loopback address"; return 1 ;; esac
	PF=$T/pf-$name
	pf_configure "$PF" "$port" "$@"
	sed -i "s/^127\.0\.0\.1:$port\([[:space:]]\)/$addr:$port\1/" "$PF/etc/master.cf"
	postfix -c "$PF/etc" start >"$PF/start.log" 2>&1 ||
		{ sed 's/^/# /' "$PF/start.log"; return 1; }
	_pf_dirs="$_pf_dirs $PF"
	wait_for "port_open_at $addr $port" 20
}

# wait_until "TEST EXPR" [SECONDS]: wait_for by the clock, for a test
# that takes a while itself (reading a stream, a log): gives up once
# SECONDS have passed, however many polls that was.
wait_until() {
	local cond=$1 end=$((SECONDS + ${2:-20}))
	while :; do
		eval "$cond" && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# untrack PID: a tracked process the test killed itself, so that the
# cleanup never signals whatever process gets its PID next.
untrack() { _pids=$(printf ' %s ' $_pids | sed "s/ $1 / /"); }

# sanitizer_build: this build's programs carry AddressSanitizer (./test's
# second pass).
sanitizer_build() {
	ldd "$top_builddir/milter/relaykit-milter" 2>/dev/null | grep -q libasan
}

# from_source_only WHAT: for a test of an artifact built from the source
# tree (the package, the image), not from this build: in the sanitizer
# pass it would build and test the very same thing again, so it says so
# and ends there.
from_source_only() {
	if sanitizer_build; then
		ok "$1 is built from the source tree, not from this build: the normal pass tested it" true
		done_testing
		exit
	fi
}
