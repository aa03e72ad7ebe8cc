#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/webhookd/run.sh: relaykit-webhookd delivering a backlog of events
# to a loopback receiver (sink.c: libevent, 200 to every POST), against
# that receiver's own ceiling measured with wrk in the same run, with the
# same body and the same numbers of concurrent connections:
#   wrk -c N             requests/s the receiver takes (the ceiling)
#   webhookd at N        events/s delivered (signed, filed in Redis: each
#                        event fanned out, taken, acknowledged), CPU per
#                        event of webhookd and of Redis, ratio to wrk
# for N = 1, 10, 100; then a backlog of BIG events (default 1000000)
# drained at 100, webhookd's resident memory sampled every second: it
# should stay flat while Redis holds the backlog.
#
#   bench/webhookd/run.sh [BUILDDIR] [EVENTS] [BIG]
# A benchmark, not a test: it asserts nothing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/_build/normal}
n=${2:-50000}
big=${3:-1000000}
WH=$build/events/relaykit-webhookd
EV=$build/events/relaykit-eventd
[ -x "$WH" ] && [ -x "$EV" ] || { echo "no $WH: build first" >&2; exit 1; }
for p in wrk redis-server; do
	command -v "$p" >/dev/null ||
		{ [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null 2>&1; }
done
T=$(mktemp -d /tmp/rk-bench.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }

cc -O2 -o "$T/sink" "$top/bench/webhookd/sink.c" $(pkg-config --cflags --libs libevent) ||
	exit 1
rp=$(port) hp=$(port)
redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --dir "$T" >/dev/null 2>&1 &
RPID=$!
pids="$pids $RPID"
"$T/sink" "$hp" &
pids="$pids $!"
sleep 0.5
count() { curl -s "http://127.0.0.1:$hp/count"; }

# Real events: a replayed Postfix log through eventd --parse, then copied
# with fresh ids into a stream by redis-cli --pipe.
/usr/bin/python3 "$top/bench/eventd/mklog.py" 60000 | "$EV" --parse |
	grep -v '"event":"queued"' >"$T/events.json"
body=$(head -1 "$T/events.json")
echo "events: $(wc -l <"$T/events.json") distinct, $(wc -c <"$T/events.json" | awk -v n="$(wc -l <"$T/events.json")" '{ printf "%d", $1 / n }') bytes each on average"
# fill PREFIX COUNT
fill() {
	/usr/bin/python3 - "$T/events.json" "$1" "$2" <<'P' | redis-cli -p "$rp" --pipe >/dev/null
import json, sys, os
evs = [l.rstrip("\n") for l in open(sys.argv[1])]
key, n = (sys.argv[2] + "events").encode(), int(sys.argv[3])
out = sys.stdout.buffer
def resp(*args):
    b = [b"*%d\r\n" % len(args)]
    for a in args:
        b.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(b)
for i in range(n):
    e = evs[i % len(evs)]
    e = ('{"id":"evt_%032x"' % i) + e[e.index('",') + 1:]
    t = json.loads(e)["event"]
    out.write(resp(b"XADD", key, b"*", b"type", t.encode(), b"json", e.encode()))
P
}
cfg() { # cfg PREFIX CONCURRENCY
	cat >"$T/$1.yaml" <<Y
redis: {port: $rp, keyPrefix: "$1"}
metrics: {enabled: false}
log: {destination: stderr, level: warn}
webhooks:
  enabled: true
  startAt: beginning
  concurrency: $2
  endpoints:
    - name: app
      url: http://127.0.0.1:$hp/hook
      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
Y
}
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' \
	"$body" >"$T/post.lua"

printf '\n%-14s %10s %12s %14s %14s %8s\n' "concurrency" "wrk req/s" "webhookd ev/s" "webhookd CPU/ev" "redis CPU/ev" "ratio"
for c in 1 10 100; do
	ceiling=$(wrk -t 1 -c "$c" -d 5s -s "$T/post.lua" "http://127.0.0.1:$hp/hook" |
		awk '/Requests\/sec/ { printf "%d", $2 }')
	pre="c$c:"
	fill "$pre" "$n"
	cfg "$pre" "$c"
	base=$(count) r0=$(cpu "$RPID") t0=$(now)
	"$WH" -f -c "$T/$pre.yaml" --consumer bench 2>"$T/$c.err" &
	W=$!
	while [ $(( $(count) - base )) -lt "$n" ]; do sleep 0.05; done
	t1=$(now) w1=$(cpu "$W") r1=$(cpu "$RPID")
	kill "$W"; wait "$W" 2>/dev/null
	rate=$(echo "$n / ($t1 - $t0)" | bc -l)
	printf '%-14s %10d %12.0f %12.1f us %12.1f us %7.2f\n' "$c" "$ceiling" "$rate" \
		"$(echo "$w1 * 1000000 / $n" | bc -l)" "$(echo "($r1 - $r0) * 1000000 / $n" | bc -l)" \
		"$(echo "$rate / $ceiling" | bc -l)"
	redis-cli -p "$rp" --scan --pattern "$pre*" | xargs redis-cli -p "$rp" del >/dev/null
done

echo
echo "backlog: $big events in the stream, drained at concurrency 100"
fill big: "$big"
echo "redis used_memory with the backlog: $(redis-cli -p "$rp" info memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')"
cfg big: 100
base=$(count) t0=$(now)
"$WH" -f -c "$T/big:.yaml" --consumer bench 2>"$T/big.err" &
W=$!
peak=0 first=""
while [ $(( $(count) - base )) -lt "$big" ]; do
	sleep 1
	m=$(rss "$W")
	[ -z "$first" ] && [ $(( $(count) - base )) -gt 10000 ] && first=$m
	[ "$m" -gt "$peak" ] && peak=$m
	done_n=$(( $(count) - base ))
	printf '\r  %8d delivered, webhookd RSS %6d kB, queue %8s' "$done_n" "$m" \
		"$(redis-cli -p "$rp" xlen big:wh:q:app)"
done
t1=$(now)
echo
printf 'drained %d events in %.1f s (%.0f events/s); webhookd RSS %s kB early, %d kB peak, %d kB at the end\n' \
	"$big" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$big / ($t1 - $t0)" | bc -l)" "${first:-?}" "$peak" "$(rss "$W")"
kill "$W"
