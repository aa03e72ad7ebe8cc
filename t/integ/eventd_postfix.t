# SPDX-License-Identifier: MIT
# relaykit-eventd on a real Postfix: a private instance (with relaykit's
# milter recording each message's metadata) delivers to loopback MXs that
# answer 250, 421 4.7.28 then 250, 451, 550, and never (a timeout), and to
# a domain whose messages expire; every recipient's outcome arrives in the
# Redis stream as the right event with its DSN and reply text, joined
# with the client id the application set, exactly once per outcome line
# of Postfix's log.  Every event validates against the JSON Schema.  The
# totals agree with pflogsumm's, and the metrics with Debian's
# prometheus-postfix-exporter where both count the same thing.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need postfix swaks redis-server redis-cli pflogsumm prometheus-postfix-exporter
$PY -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema missing"
MILTER=$top_builddir/milter/relaykit-milter

rp=$(free_port) sp=$(free_port) tp=$(free_port) pp=$(free_port)
mp=$(free_port) ep=$(free_port) xp=$(free_port)
ok "redis starts" start_redis "$rp"
ok "sink (the internet's MXs) listens" start_sink "$sp"
ok "a silent MX listens" start_silent "$tp"
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
dkim: {enabled: false}
redis: {port: $rp}
milter:
  listen: unix:$T/milter.sock
metrics:
  milterPort: $mp
  eventdPort: $ep
eventd:
  logFile: $T/pf-main/maillog
  startAt: beginning
  pollInterval: 50ms
log: {level: info}
Y
(exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
track $!
ok "milter starts" wait_for "[ -S $T/milter.sock ]" 10
printf '%s\n' "timeout.test smtp:[127.0.0.1]:$tp" "refused.test smtp:[127.0.0.1]:$xp" \
	"expire.test smtp:[127.0.0.1]:$xp" >"$T/transport"
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$sp" \
	"smtpd_milters = unix:$T/milter.sock" "milter_protocol = 6" \
	"milter_default_action = tempfail" "transport_maps = texthash:$T/transport" \
	"smtp_connect_timeout = 2s" "smtp_helo_timeout = 2s" \
	"maximal_queue_lifetime = 12s" "bounce_queue_lifetime = 12s"
ok "eventd starts" ev_start "$T/rk.yaml"

send() { # send TO CLIENT-ID
	swaks --server "127.0.0.1:$pp" --from app@example.com --to "$1" \
		--h-Subject "Order $2" --add-header "X-Message-ID: $2" 2>&1 |
		sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Z]*\).*/\1/p'
}
q_ok=$(send ok@ok.test order-1)
q_grey=$(send grey@slow.test order-2)
q_defer=$(send defer@later.test order-3)
q_rej=$(send reject@gone.test order-4)
q_to=$(send x@timeout.test order-5)
q_exp=$(send x@expire.test order-6)
q_multi=$(send "a@ok.test,reject-b@gone.test" order-7)
ok "seven messages accepted" test -n "$q_ok" -a -n "$q_grey" -a -n "$q_defer" \
	-a -n "$q_rej" -a -n "$q_to" -a -n "$q_exp" -a -n "$q_multi"

# ev QUEUE-ID EVENT [FIELD-REGEX]: an event of that message in the stream
ev() {
	ev_stream "$rp" >"$T/stream.json"
	grep "\"queue_id\":\"$1\"" "$T/stream.json" | grep "\"event\":\"$2\"" |
		grep -qE -- "${3:-.}"
}
ok "queued, with the client id the milter stored" \
	wait_for "ev $q_ok queued '\"client_id\":\"order-1\"'" 20
ok "delivered: 250 from the MX, dsn 2.0.0, client id, subject, attempt 1" \
	wait_for "ev $q_ok delivered '\"dsn\":\"2\\.0\\.0\".*\"response\":\"250 2\\.0\\.0 Ok: queued as sink[0-9]+\".*\"attempt\":1'" 20
ok "... and the application's fields" \
	ev "$q_ok" delivered '"client_id":"order-1","from":"app@example.com","to":\["ok@ok.test"\]'
ok "421 4.7.28: deferred with the provider's reply, attempt 1" \
	wait_for "ev $q_grey deferred '\"dsn\":\"4\\.7\\.28\".*421 4\\.7\\.28 Rate limited.*\"attempt\":1'" 20
ok "then delivered on the retry, attempt 2" \
	wait_for "ev $q_grey delivered '\"attempt\":2'" 30
ok "451: deferred" wait_for "ev $q_defer deferred '\"dsn\":\"4\\.7\\.1\".*451 4\\.7\\.1'" 20
ok "550: bounced with the reply" \
	wait_for "ev $q_rej bounced '\"dsn\":\"5\\.1\\.1\".*550 5\\.1\\.1 No such user'" 20
ok "a silent MX: deferred after the timeout" \
	wait_for "ev $q_to deferred 'timed out'" 30
ok "refused connections until the queue lifetime: expired, per recipient" \
	wait_for "ev $q_exp expired '\"recipient\":\"x@expire\\.test\"'" 40
ok "two recipients of one message: one delivered" ev "$q_multi" delivered '"a@ok.test"'
ok "and one bounced" ev "$q_multi" bounced '"reject-b@gone.test"'

# exactly once: every outcome line of the log is one event, no id twice.
# Postfix stops first, so the log, pflogsumm, the exporter and eventd all
# count one fixed log (the deferred messages would go on being retried);
# then eventd is given the time to reach its end.
postfix -c "$PF/etc" stop >/dev/null 2>&1
outcomes() { grep -cE 'postfix/(smtp|error|local|virtual|lmtp|pipe)\[[0-9]+\]: [0-9A-Z]+: to=<.*status=(sent|deferred|bounced|expired)' "$PF/maillog"; }
caught_up() {
	ev_stream "$rp" >"$T/stream.json"
	[ "$(grep -cE '"event":"(delivered|deferred|bounced|expired)"' "$T/stream.json")" -ge \
		$(( $(outcomes) + $(grep -c 'status=expired, returned to sender' "$PF/maillog") )) ]
}
wait_for caught_up 20
sleep 1
ev_stream "$rp" >"$T/stream.json"
lines=$(grep -cE 'postfix/(smtp|error|local|virtual|lmtp|pipe)\[[0-9]+\]: [0-9A-Z]+: to=<.*status=(sent|deferred|bounced|expired)' "$PF/maillog")
evs=$(grep -cE '"event":"(delivered|deferred|bounced|expired)"' "$T/stream.json")
exp_lines=$(grep -c 'status=expired, returned to sender' "$PF/maillog")
diag "log: $lines outcome lines, $exp_lines expiries; stream: $evs outcome events"
ok "each outcome line is one event (+ one per expired recipient)" \
	test "$evs" -eq $((lines + exp_lines))
is "$(grep -o '"id":"evt_[0-9a-f]*"' "$T/stream.json" | sort | uniq -d | wc -l)" 0 "no id twice"
queued=$(grep -c 'queue active' "$PF/maillog")
ok "one queued event per message, not per queue run" \
	test "$(grep -c '"event":"queued"' "$T/stream.json")" -le "$queued"
ok "every event validates against the JSON Schema" ev_schema_check "$T/stream.json"
pos=$(redis-cli -p "$rp" --raw keys 'rk:eventd:pos:*')
ok "the log position is kept in Redis ($pos)" test -n "$pos"

# Independent counts: pflogsumm reads the same log
pfl=$(pflogsumm --smtpd-stats -e "$PF/maillog" 2>/dev/null)
pf_delivered=$(printf '%s\n' "$pfl" | awk '$2 == "delivered" { print $1; exit }')
pf_deferred=$(printf '%s\n' "$pfl" | awk '$2 == "deferred" { print $1; exit }')
pf_bounced=$(printf '%s\n' "$pfl" | awk '$2 == "bounced" { print $1; exit }')
diag "pflogsumm: delivered $pf_delivered, deferred $pf_deferred, bounced $pf_bounced"
is "$(grep -c '"event":"delivered"' "$T/stream.json")" "$pf_delivered" "delivered = pflogsumm's"
is "$(grep -c '"event":"bounced"' "$T/stream.json")" "$pf_bounced" "bounced = pflogsumm's"
# pflogsumm's "deferrals" counts deferral lines, as the events do
pf_deferrals=$(printf '%s\n' "$pfl" | sed -n 's/.* deferred *(\([0-9]*\) *deferrals).*/\1/p' | head -1)
is "$(grep -c '"event":"deferred"' "$T/stream.json")" "$pf_deferrals" "deferred = pflogsumm's deferrals"

# The exporter, fed the same log, counts the same things the same way
xe=$(free_port)
: >"$T/exporter.log"
prometheus-postfix-exporter --web.listen-address="127.0.0.1:$xe" \
	--postfix.logfile_path="$T/exporter.log" --postfix.showq_path=/nonexistent \
	>"$T/exporter.out" 2>&1 &
track $!
wait_for "port_open $xe" 10
cat "$PF/maillog" >>"$T/exporter.log"
sleep 2
curl -s "http://127.0.0.1:$xe/metrics" >"$T/exporter.prom"
curl -s "http://127.0.0.1:$ep/metrics" >"$T/eventd.prom"
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }
# (Debian's exporter, 0.3, lacks some of the maintained fork's counters;
# those are compared where it has them)
for m in 'postfix_cleanup_messages_processed_total' \
	'postfix_qmgr_messages_removed_total' \
	'postfix_qmgr_messages_inserted_size_bytes_count' \
	'postfix_qmgr_messages_inserted_size_bytes_sum' \
	'postfix_qmgr_messages_inserted_receipients_count' \
	'postfix_qmgr_messages_inserted_receipients_sum' \
	'postfix_smtp_status_deferred' \
	'postfix_smtpd_connects_total' \
	'postfix_smtpd_disconnects_total' \
	'postfix_smtpd_connections_lost_total{after_stage="CONNECT"}'; do
	is "$(val "$T/eventd.prom" "$m")" "$(val "$T/exporter.prom" "$m")" "metric agrees with postfix_exporter: $m"
done
# the exporter labels every smtp delay stage "": ours sum to its total
ours=$(awk '/^postfix_smtp_delivery_delay_seconds_count/ { s += $2 } END { print s + 0 }' "$T/eventd.prom")
is "$ours" "$(val "$T/exporter.prom" 'postfix_smtp_delivery_delay_seconds_count{stage=""}')" \
	"delay observations over all stages = the exporter's"
like "$(cat "$T/eventd.prom")" 'relaykit_eventd_events_written_total\{event="delivered"\} [1-9]' \
	"eventd's own metrics: events written"
like "$(curl -s "http://127.0.0.1:$ep/readyz")" '^ready' "/readyz: ready"
kill "$EV_PID"; wait "$EV_PID" 2>/dev/null
like "$(tail -1 "$T/eventd.log")" 'signal 15: exiting' "SIGTERM: clean exit"
done_testing
