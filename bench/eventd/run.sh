#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/eventd/run.sh: relaykit-eventd against what a user would run
# instead on the same log: Debian's prometheus-postfix-exporter (the
# metrics) and pflogsumm (the counts).  One log of LINES lines (default
# 1000000) replayed from a real Postfix log (mklog.py); prints lines/s and
# CPU per line for each and the ratios:
#   eventd --dry-run    parse, track, count events, write nothing
#   eventd into Redis   events pipelined into a loopback Redis, exactly
#                       once (a transaction per batch with the position)
#   exporter            time until its counters saw the whole log
#   pflogsumm           one pass over the file
# and eventd's peak memory for the log and for a log ten times shorter.
#
#   bench/eventd/run.sh [BUILDDIR] [LINES]
# A benchmark, not a test: it asserts nothing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/_build/normal}
lines=${2:-1000000}
EV=$build/events/relaykit-eventd
[ -x "$EV" ] || { echo "no $EV: build first" >&2; exit 1; }
for p in prometheus-postfix-exporter pflogsumm redis-server; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		{ [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null 2>&1; }
done
T=$(mktemp -d /tmp/rk-bench.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# cpu PID: user+system seconds of a process (from /proc, clock ticks)
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
now() { date +%s.%N; }

/usr/bin/python3 "$top/bench/eventd/mklog.py" "$lines" >"$T/mail.log"
head -n $((lines / 10)) "$T/mail.log" >"$T/small.log"
n=$(wc -l <"$T/mail.log")
outcomes=$(grep -c 'status=' "$T/mail.log")
echo "log: $n lines, $outcomes outcome lines, $(du -m "$T/mail.log" | cut -f1) MB"

rp=$(port)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --dir "$T" >/dev/null 2>&1 &
pids="$pids $!"
sleep 0.5
cfg() { printf 'redis: {port: %s, keyPrefix: "b%s:"}\nmetrics: {enabled: false}\neventd: {logFile: "-", streamMaxLen: 2000000}\nlog: {destination: stderr, level: warn}\n' "$rp" "$1" >"$T/$1.yaml"; }
# run LABEL CMD...: wall and CPU seconds (children included) of CMD
run() {
	local label=$1; shift
	/usr/bin/time -f "%e %U %S %M" -o "$T/$label.time" "$@" >/dev/null 2>"$T/$label.err"
	read -r wall u s rss <"$T/$label.time"
	printf '%-22s %8.2f s  %10.0f lines/s  %7.3f us CPU/line  peak %6d kB\n' "$label" \
		"$wall" "$(echo "$n / $wall" | bc -l)" "$(echo "($u + $s) * 1000000 / $n" | bc -l)" "$rss"
	echo "$wall $(echo "$u + $s" | bc -l) $rss" >"$T/$label.res"
}
cfg dry; cfg redis; cfg small
run "eventd --dry-run" "$EV" --dry-run -c "$T/dry.yaml" <"$T/mail.log"
run "eventd into Redis" "$EV" -c "$T/redis.yaml" <"$T/mail.log"
stored=$(redis-cli -p "$rp" xlen bredis:events)
evs=$(echo "$stored / $(cut -d' ' -f1 "$T/eventd into Redis.res")" | bc)
echo "  events stored: $stored ($evs events/s end to end)"
# Redis's own ceiling for the same writes: redis-benchmark pipelining
# XADDs of the stream's average entry, on the same Redis (no parsing, no
# transaction, no trimming, no message state): what no writer to one
# Redis can beat.
avg=$(redis-cli -p "$rp" --raw xrange bredis:events - + COUNT 2000 | grep '^{' |
	awk '{ n++; s += length($0) } END { printf "%d", s / n }')
body=$(head -c "$avg" /dev/zero | tr '\0' x)
ceil=$(redis-benchmark -p "$rp" -P 64 -n 300000 -q XADD bench:s '*' \
	type delivered json "$body" 2>/dev/null | tr '\r' '\n' | tail -1 |
	sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p')
redis-cli -p "$rp" del bench:s >/dev/null
[ -n "$ceil" ] && printf '  Redis alone (redis-benchmark -P 64, XADD of %d bytes): %.0f/s; eventd reaches %.0f%% of it\n' \
	"$avg" "$ceil" "$(echo "100 * $evs / $ceil" | bc -l)"
run "eventd-small" "$EV" --dry-run -c "$T/small.yaml" <"$T/small.log"
run "pflogsumm" pflogsumm "$T/mail.log"

# the exporter tails a file: time until it counted every removal
xp=$(port)
: >"$T/x.log"
prometheus-postfix-exporter --web.listen-address="127.0.0.1:$xp" \
	--postfix.logfile_path="$T/x.log" --postfix.showq_path=/nonexistent >/dev/null 2>&1 &
xpid=$!; pids="$pids $xpid"
sleep 1
removed=$(grep -c ': removed$' "$T/mail.log")
c0=$(cpu "$xpid"); t0=$(now)
cat "$T/mail.log" >>"$T/x.log"
while :; do
	got=$(curl -s "http://127.0.0.1:$xp/metrics" | awk '$1 == "postfix_qmgr_messages_removed_total" { print $2 }')
	[ "${got%.*}" -ge "$removed" ] 2>/dev/null && break
	sleep 0.2
done
wall=$(echo "$(now) - $t0" | bc -l); c=$(echo "$(cpu "$xpid") - $c0" | bc -l)
printf '%-22s %8.2f s  %10.0f lines/s  %7.3f us CPU/line\n' "exporter" "$wall" \
	"$(echo "$n / $wall" | bc -l)" "$(echo "$c * 1000000 / $n" | bc -l)"
echo "$wall $c 0" >"$T/exporter.res"

read -r dw dc drss <"$T/eventd --dry-run.res"
read -r ew ec _ <"$T/exporter.res"
read -r pw pc _ <"$T/pflogsumm.res"
read -r _ _ srss <"$T/eventd-small.res"
printf 'ratios: eventd --dry-run is %.1fx the exporter (lines/s), %.1fx pflogsumm; CPU per line %.1fx less than the exporter\n' \
	"$(echo "$ew / $dw" | bc -l)" "$(echo "$pw / $dw" | bc -l)" "$(echo "$ec / $dc" | bc -l)"
echo "memory: peak $drss kB for $n lines, $srss kB for $((n / 10)) (flat in log size)"
