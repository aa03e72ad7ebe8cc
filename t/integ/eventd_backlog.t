# SPDX-License-Identifier: MIT
# relaykit-eventd through a backlog: a 200k-line log (a real Postfix's
# lines replayed by bench/eventd/mklog.py) read into Redis in many full
# batches, where each batch's transaction is in flight while the next
# batch is tracked.  Three runs on the same log:
#   - undisturbed;
#   - the Redis connection killed again and again (CLIENT KILL), so
#     transactions are lost in flight, and some run but go unanswered;
#   - kill -9 of eventd twice mid-log, then a restart.
# Each time the stream holds exactly the events `relaykit-eventd --parse`
# prints for the same log, in its order: none lost, none twice.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need redis-server redis-cli
rp=$(free_port)
ok "redis starts" start_redis "$rp"
LOG=$T/maillog
$PY "$top_srcdir/bench/eventd/mklog.py" 200000 >"$LOG"
"$EV_BIN" --parse "$LOG" >"$T/want.json"
want=$(wc -l <"$T/want.json")
ok "--parse gives the events to expect ($want)" test "$want" -gt 30000

# conf PREFIX: eventd reading the whole log into PREFIX's stream
conf() {
	cat >"$T/$1.yaml" <<Y
redis: {port: $rp, keyPrefix: "$1:"}
metrics: {enabled: false}
milter: {metadata: false}
eventd:
  logFile: $LOG
  startAt: beginning
  pollInterval: 50ms
Y
}
# same PREFIX WHAT: the stream is the expected events, in order
same() {
	ev_stream "$rp" "$1:" >"$T/$1.json"
	is "$(wc -l <"$T/$1.json")" "$want" "$2: every event, once"
	is "$(grep -o '"id":"evt_[0-9a-f]*"' "$T/$1.json" | sort | uniq -d | wc -l)" 0 \
		"$2: no id twice"
	ok "$2: the same events as --parse, in the log's order" \
		cmp -s "$T/want.json" "$T/$1.json"
}
caught_up() { wait_for "[ \$(ev_count $rp $1:) -ge $want ]" 120 && sleep 0.5; }
stop_ev() { kill "$EV_PID"; wait "$EV_PID" 2>/dev/null; untrack "$EV_PID"; }

conf calm
ok "eventd starts" ev_start "$T/calm.yaml"
ok "it reads the backlog" caught_up calm
stop_ev
same calm "undisturbed"

conf kills
ok "eventd starts again" ev_start "$T/kills.yaml"
killed=0
while [ "$(ev_count "$rp" kills:)" -lt $((want * 3 / 4)) ] && [ $killed -lt 100 ]; do
	redis-cli -p "$rp" client kill type normal >/dev/null 2>&1
	killed=$((killed + 1))
	sleep 0.02
done
diag "connections killed $killed times while the backlog was read"
ok "it reads the backlog through the kills" caught_up kills
stop_ev
like "$(cat "$T/eventd.log")" 'events are written again' "eventd says Redis works again"
diag "transactions run but unanswered, so the log was re-read from Redis's position: $(grep -c 're-reading the log' "$T/eventd.log")"
same kills "connection killed mid-transaction"

conf crash
ok "eventd starts a third time" ev_start "$T/crash.yaml"
for part in 4 2; do
	wait_for "[ \$(ev_count $rp crash:) -ge $((want / part)) ]" 60
	kill -9 "$EV_PID"
	wait "$EV_PID" 2>/dev/null
	untrack "$EV_PID"
	ok "kill -9 at $(ev_count "$rp" crash:) events; it restarts" ev_start "$T/crash.yaml"
done
ok "it reads the rest" caught_up crash
stop_ev
same crash "kill -9 twice"
done_testing
