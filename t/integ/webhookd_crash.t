# SPDX-License-Identifier: MIT
# relaykit-webhookd through crashes: at least once, whatever dies.
#   1. kill -9 of the only dispatcher mid-batch, restarted at once under
#      its name: it sends again what it had taken, without waiting for
#      claimAfter (60 s here).
#   2. two dispatchers share one stream; kill -9 of one mid-batch (the
#      other claims its events after claimAfter), then kill -9 of Redis
#      (appendfsync always) and a restart.
# After each, every event reached the receiver at least once, duplicates
# carry the same webhook-id, every signature verifies, and nothing is
# left pending in Redis.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/webhookd_lib.sh"

rp=$(free_port) hp=$(free_port)
# redis_up: Redis with every write on disk before it answers, so a kill -9
# loses nothing it acknowledged
redis_up() {
	mkdir -p "$T/redis"
	redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync always --dir "$T/redis" --daemonize no \
		--logfile "$T/redis/log" &
	REDIS_PID=$!
	track $REDIS_PID
	wait_for "redis-cli -p $rp ping >/dev/null 2>&1" 10
}
ok "redis starts" redis_up
ok "receiver listens" wh_receiver "$hp"
H=$T/hooks-$hp.jsonl
S=whsec_$(head -c 24 /dev/urandom | base64)

# conf NAME PREFIX CLAIM-AFTER PATH METRICS-PORT
conf() {
	cat >"$T/$1.yaml" <<Y
redis: {port: $rp, keyPrefix: "$2"}
metrics: {webhookdPort: $5}
webhooks:
  enabled: true
  startAt: beginning
  concurrency: 8
  timeout: 2s
  claimAfter: $3
  retrySchedule: 1s
  endpoints:
    - {name: app, url: "http://127.0.0.1:$hp$4", secret: "$S"}
Y
}
# inject PREFIX LINES: events into PREFIX's stream; their ids in
# $T/PREFIX.ids
inject() {
	printf 'redis: {port: %s, keyPrefix: "%s"}\nmetrics: {enabled: false}\neventd: {logFile: "-"}\n' \
		"$rp" "$1" >"$T/inject-$1.yaml"
	wh_inject "$T/inject-$1.yaml" "$2"
	ev_stream "$rp" "$1" | grep -v '"event":"queued"' |
		sed 's/^{"id":"\([^"]*\)".*/\1/' | sort >"$T/$1.ids"
}
got() { grep -c "\"path\": \"/slow\"" "$H"; }
# received PREFIX: every id of PREFIX's stream is at the receiver
received() {
	[ -f "$H" ] || return 1
	[ -z "$(wh_ids "$H" /slow | sort -u | comm -13 - "$T/$1.ids")" ]
}
# settled PREFIX: nothing pending or queued in Redis
settled() {
	local q=${1}wh:q:app
	[ "$(redis-cli -p "$rp" xlen "$q")" = 0 ] &&
		[ "$(redis-cli -p "$rp" xpending "$q" webhooks | head -1)" = 0 ] &&
		[ "$(redis-cli -p "$rp" xpending "${1}events" webhooks | head -1)" = 0 ] &&
		[ "$(redis-cli -p "$rp" zcard "${1}wh:retry:app")" = 0 ]
}
dups() { wh_ids "$H" /slow | sort | uniq -d | wc -l; }

# 1. one dispatcher, killed and restarted under its name
conf one p1: 60s "/slow?ms=100" "$(free_port)"
ok "1: events in the stream" inject p1: 2000
n1=$(wc -l <"$T/p1:.ids")
diag "1: $n1 events"
ok "1: dispatcher a starts" wh_start "$T/one.yaml" a
ok "1: deliveries under way" wait_for "[ \$(got) -ge 40 ]" 20
kill -9 "$WH_PID"
ok "1: kill -9 mid-batch" true
ok "1: restarted under the same name" wh_start "$T/one.yaml" a
ok "1: every event arrived, well before claimAfter (60 s)" wait_for "received p1:" 40
ok "1: nothing left pending" wait_for "settled p1:" 10
diag "1: $(got) requests for $n1 events, $(dups) ids twice"
kill "$WH_PID"
: >"$H"

# 2. two dispatchers, one killed, then Redis killed
mA=$(free_port) mB=$(free_port)
conf a2 p2: 3s "/slow?ms=40" "$mA"
conf b2 p2: 3s "/slow?ms=40" "$mB"
ok "2: events in the stream" inject p2: 14000
n2=$(wc -l <"$T/p2:.ids")
diag "2: $n2 events"
ok "2: dispatcher a starts" wh_start "$T/a2.yaml" a
A=$WH_PID
ok "2: dispatcher b starts" wh_start "$T/b2.yaml" b
B=$WH_PID
ok "2: deliveries under way" wait_for "[ \$(got) -ge 300 ]" 30
okA=$(curl -s "http://127.0.0.1:$mA/metrics" | sed -n 's/^relaykit_webhookd_deliveries_total{endpoint="app",result="ok"} //p')
okB=$(curl -s "http://127.0.0.1:$mB/metrics" | sed -n 's/^relaykit_webhookd_deliveries_total{endpoint="app",result="ok"} //p')
diag "2: a delivered $okA, b $okB"
ok "2: both dispatchers share the work" test "${okA:-0}" -gt 0 -a "${okB:-0}" -gt 0
kill -9 "$A"
ok "2: kill -9 of dispatcher a mid-batch" true
ok "2: b goes on" wait_for "[ \$(got) -ge 900 ]" 30
kill -9 "$REDIS_PID"
ok "2: kill -9 of Redis" true
sleep 2
ok "2: Redis restarts from its append-only file" redis_up
ok "2: every event arrived" wait_for "received p2:" 90
ok "2: nothing left pending (a's events were claimed)" wait_for "settled p2:" 20
ok "2: the duplicates' signatures verify, and their ids are the events'" wh_verify "$S" "$H" /slow
like "$(cat "$T/webhookd-b.log")" 'redis: .* failed' "2: b logged Redis's failure"
like "$(curl -s "http://127.0.0.1:$mB/metrics")" 'relaykit_webhookd_redis_errors_total\{what="(read|write)"\} [1-9]' \
	"2: and counted it"
diag "2: $(got) requests for $n2 events, $(dups) ids twice"
done_testing
