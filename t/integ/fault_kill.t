# SPDX-License-Identifier: MIT
# kill -9 under load (issue 19): one Postfix wired by relaykit-postconf
# (DKIM signing, VERP, a rate limit that never bites), relaykit-milter,
# relaykit-policyd, relaykit-eventd, relaykit-webhookd, one Redis.  In
# each round smtp-source sends 200 messages (20 sessions, one message a
# second each) while one part is killed with SIGKILL 3 s in, left dead
# for 2 s, and started again; then the load finishes and the queue
# drains.  Each round prints and checks:
#   - accepted (distinct queue ids in qmgr's from= lines) = delivered to
#     the sink + still queued (postqueue -p): nothing lost;
#   - what smtp-source saw: accepted = sent - refused, and how many 4xx
#     it got (a tempfail while the milter is down: relaykit-postconf sets
#     default_action=tempfail for it; none in the other rounds, since
#     policyd's check_policy_service has default_action=DUNNO with
#     rateLimit.failMode open, and the milter signs without Redis);
#   - no message reaches the sink without a DKIM-Signature;
#   - delivered events in the stream = deliveries in Postfix's log,
#     exactly, no id twice (eventd's kill included), and each has reached
#     the webhook receiver at least once (webhookd's kill may repeat one,
#     with the same webhook-id).
# Redis runs as start_redis runs it, with nothing on disk: its kill -9
# loses all its data (the stream so far, eventd's position, the webhook
# queues and consumer groups, the rate-limit counters, the milter's
# metadata).  Mail must not notice; eventd finds no position of its own
# in the new Redis ("Redis lost writes"), reads its log again from the
# start and so writes every delivery again, with the same ids (checked
# against the stream as it was right before the kill, read under CLIENT
# PAUSE WRITE so that nothing was committed in between); webhookd must
# go on delivering the events written after Redis came back.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/webhookd_lib.sh"
need postfix postconf postqueue smtp-source redis-server redis-cli curl
MILTER=$top_builddir/milter/relaykit-milter
PD_BIN=$top_builddir/policyd/relaykit-policyd
KEYGEN=$top_builddir/keygen/relaykit-keygen
BOUNCE=$top_builddir/events/relaykit-bounce
for b in "$MILTER" "$PD_BIN" "$KEYGEN" "$BOUNCE"; do
	[ -x "$b" ] || skip_all "$(basename "$b") not built"
done
su -s /bin/sh nobody -c "test -x '$BOUNCE'" 2>/dev/null ||
	skip_all "relaykit-bounce is not reachable by user nobody"
started=$(date +%s)

MSGS=${RK_FAULT_MSGS:-200} SESSIONS=20
rp=$(free_port) sp=$(free_port) hp=$(free_port) pp=$(free_port) whp=$(free_port)
ok "redis starts" start_redis "$rp"
ok "sink listens" start_sink "$sp"
ok "webhook receiver listens" wh_receiver "$hp"
S=whsec_$(head -c 24 /dev/urandom | base64)
printf '%s\n' "$S" >"$T/whsec"
chmod 600 "$T/whsec"
cat >"$T/rk.yaml" <<Y
mail:
  hostname: relay.test
  domains: [example.com]
  trustedNetworks: [127.0.0.1/32]
  tls: {level: none}
dkim: {keyDir: $T/dkim}
inbound:
  enabled: true
  bounce: {enabled: true, hmacSecret: "fault-kill-test-secret-0123456789"}
rateLimit:
  enabled: true
  failMode: open
  rules:
    - {name: per-sender, key: sender, rate: 1000/1h}
redis: {port: $rp}
milter: {listen: "unix:$T/milter.sock"}
policyd:
  listen: [unix:$T/policy.sock]
  saslListen: [unix:$T/auth.sock]
  socketmapListen: [unix:$T/socketmap.sock]
metrics:
  milterPort: $(free_port)
  policydPort: $(free_port)
  eventdPort: $(free_port)
  webhookdPort: $whp
log: {destination: stderr}
eventd:
  logFile: $T/pf-main/maillog
  startAt: beginning
  pollInterval: 50ms
webhooks:
  enabled: true
  startAt: beginning
  endpoints:
    - name: app
      url: http://127.0.0.1:$hp/ok
      events: [delivered]
      secretFile: $T/whsec
Y
chmod 644 "$T/rk.yaml"
"$KEYGEN" --all -c "$T/rk.yaml" >"$T/dkim.txt" 2>&1
ok "DKIM key made" test -s "$T/dkim.txt"

# up NAME READY-REGEX CMD...: starts a daemon, log in $T/NAME.log, and
# waits for one more line matching READY-REGEX there; sets PID_<NAME>
up() {
	local name=$1 ready=$2 n; shift 2
	n=$(grep -cE "$ready" "$T/$name.log" 2>/dev/null)
	(umask 0111; exec "$@") >>"$T/$name.log" 2>&1 &
	eval "PID_$name=$!"
	track $!
	wait_for "[ \$(grep -cE '$ready' '$T/$name.log') -gt ${n:-0} ]" 20
}
milter_up() { up milter 'action=start listen=' "$MILTER" -f -c "$T/rk.yaml"; }
policyd_up() { up policyd 'started: ' "$PD_BIN" -f -c "$T/rk.yaml"; }
eventd_up() { up eventd 'started: following' "$EV_BIN" -f -c "$T/rk.yaml"; }
webhookd_up() { up webhookd 'started: ' "$WH_BIN" -f -c "$T/rk.yaml" --consumer wh1; }
redis_up() { start_redis "$rp"; }

ok "milter starts" milter_up
ok "policyd starts" policyd_up
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$sp" \
	"default_process_limit = 60"
export RELAYKIT_BOUNCE=$BOUNCE
ok "relaykit-postconf wires it" pf_apply "$T/rk.yaml"
like "$(postconf -c "$PF/etc" -h smtpd_milters)" 'default_action=tempfail' \
	"the milter's default_action is tempfail"
like "$(postconf -c "$PF/etc" -h smtpd_recipient_restrictions)" \
	'check_policy_service \{ unix:[^ ]*policy\.sock, timeout=10s, default_action=DUNNO \}' \
	"the policy service's default_action is DUNNO (failMode open)"
ok "eventd starts" eventd_up
ok "webhookd starts" webhookd_up
LOG=$PF/maillog
H=$T/hooks-$hp.jsonl

# counts over everything so far
accepted_ids() { # queue ids qmgr took in, one per accepted message
	grep -E 'postfix/qmgr\[[0-9]+\]: [0-9A-Z]+: from=<' "$LOG" |
		sed -E 's/.*qmgr\[[0-9]+\]: ([0-9A-Z]+): .*/\1/' | sort -u
}
queued() { postqueue -c "$PF/etc" -p 2>/dev/null | grep -cE '^[0-9A-F]{6,}[*!]?[[:space:]]'; }
log_deliveries() { # ROUND: delivery lines of the log to that round's recipient
	grep -cE "postfix/smtp\[[0-9]+\]: [0-9A-Z]+: to=<$1@ok\.test>.*status=sent" "$LOG"
}
sink_round() { grep -l "^RCPT TO:<$1@ok\.test>" "$SINK"/*.env 2>/dev/null | wc -l; }
events_round() { # ROUND: the stream's delivered events to that round's recipient
	ev_stream "$rp" | grep '"event":"delivered"' | grep "\"recipient\":\"$1@ok\.test\""
}
# lines of the log matching REGEX
log_count() { grep -cE "$1" "$LOG"; }
hook_ids() { [ -f "$H" ] && wh_ids "$H" /ok; }

# load ROUND: MSGS messages from ROUND@example.com to ROUND@ok.test in
# the background
load() {
	smtp-source -A -m "$MSGS" -s $SESSIONS -w 1 -l 600 -S "round $1" \
		-f "$1@example.com" -t "$1@ok.test" "127.0.0.1:$pp" \
		>"$T/load-$1.out" 2>&1 &
	LOAD=$!
	track $LOAD
}

# round NAME KILL-PID RESTART-FUNCTION
round() {
	local r=$1 pid=$2 restart=$3 acc0 acc1 acc sink q ref tf ld ev dup miss hdup t0 mw0 pw0
	diag "---- round $r: kill -9 of $r (pid $pid) under load"
	t0=$(date +%s)
	acc0=$(accepted_ids | wc -l)
	mw0=$(log_count 'warning: connect to Milter service') pw0=$(log_count 'warning: connect to .*policy\.sock')
	load "$r"
	sleep 3
	[ "$r" = redis ] && redis_snapshot
	kill -9 "$pid"
	wait "$pid" 2>/dev/null # no "Killed" notice in the output
	ok "$r: kill -9" wait_for "! kill -0 $pid 2>/dev/null" 5
	untrack "$pid"
	[ "$r" = policyd ] && [ -n "${PD_WORKER:-}" ] &&
		ok "policyd: its worker ($PD_WORKER) went with it" \
			wait_for "! kill -0 $PD_WORKER 2>/dev/null" 5
	sleep 2
	ok "$r: restarts (in the middle of the load)" $restart
	ok "$r: the load finishes" wait_for "! kill -0 $LOAD 2>/dev/null" 90
	wait "$LOAD" 2>/dev/null
	untrack "$LOAD"
	acc1=$(accepted_ids | wc -l)
	acc=$((acc1 - acc0))
	ok "$r: the queue drains" wait_until "[ \$(queued) -eq 0 ] && [ \$(sink_round $r) -ge $acc ]" 60
	sink=$(sink_round "$r") q=$(queued)
	ref=$(grep -c 'warning: .*rejected' "$T/load-$r.out")
	tf=$(grep -cE 'warning: .*rejected: 4[0-9][0-9] ' "$T/load-$r.out")
	diag "$r: sent $MSGS; accepted $acc (qmgr), delivered $sink, still queued $q, lost $((acc - sink - q))"
	diag "$r: smtp-source saw $ref refusals, $tf of them 4xx: $(grep -E 'warning: ' "$T/load-$r.out" |
		sed -E 's/.*warning: //' | sort | uniq -c | sort -rn | head -3 | sed 's/^ *//' | paste -sd';' -)"
	diag "$r: smtpd could not reach the milter $(($(log_count 'warning: connect to Milter service') - mw0)) times, policyd $(($(log_count 'warning: connect to .*policy\.sock') - pw0)) times"
	is "$((sink + q))" "$acc" "$r: accepted = delivered + queued: 0 lost"
	is "$((MSGS - ref))" "$acc" "$r: what smtp-source saw accepted is what Postfix took in"
	case $r in
	milter) ok "$r: clients got 4xx while it was down ($tf)" test "$tf" -gt 0 ;;
	*) is "$tf" 0 "$r: no client saw a 4xx" ;;
	esac
	is "$(grep -L '^DKIM-Signature:' "$SINK"/*.eml 2>/dev/null | wc -l)" 0 \
		"$r: no message at the sink without a DKIM-Signature"
	ld=$(log_deliveries "$r")
	wait_until "[ \$(events_round $r | wc -l) -ge $ld ]" 30
	events_round "$r" >"$T/events-$r.json"
	ev=$(wc -l <"$T/events-$r.json")
	dup=$(grep -o '"id":"evt_[0-9a-f]*"' "$T/events-$r.json" | sort | uniq -d | wc -l)
	diag "$r: deliveries in Postfix's log $ld, delivered events in the stream $ev, ids twice $dup"
	is "$ev" "$ld" "$r: delivered events in the stream = deliveries in the log"
	is "$dup" 0 "$r: no event twice"
	grep -o '"id":"evt_[0-9a-f]*"' "$T/events-$r.json" | cut -d'"' -f4 | sort -u >"$T/ids-$r"
	wait_until "[ \$(hook_ids | sort -u | comm -23 '$T/ids-$r' - | wc -l) -eq 0 ]" 30
	miss=$(hook_ids | sort -u | comm -23 "$T/ids-$r" - | wc -l)
	hdup=$(hook_ids | sort | uniq -d | comm -12 "$T/ids-$r" - | wc -l)
	diag "$r: webhooks: $((ev - miss)) of the $ev events arrived, $hdup of them more than once"
	is "$miss" 0 "$r: every delivered event reached the webhook receiver"
	[ "$r" = redis ] && like "$(cat "$T/webhookd.log")" 'consumer groups were gone .*made again' \
		"redis: webhookd made its consumer groups again, and says so"
	diag "$r: round took $(($(date +%s) - t0)) s"
}

# Redis's round: what the stream held right before the kill, with writes
# paused so that nothing is committed between this read and the kill
redis_snapshot() {
	redis-cli -p "$rp" client pause 5000 write >/dev/null
	ev_stream "$rp" | grep '"event":"delivered"' >"$T/before-redis.json"
}

round milter "$PID_milter" milter_up
PD_WORKER=$(pgrep -P "$PID_policyd" | head -1)
round policyd "$PID_policyd" policyd_up
round eventd "$PID_eventd" eventd_up
round webhookd "$PID_webhookd" webhookd_up
diag "---- round redis: Redis keeps nothing on disk here, so its kill -9 loses its data"
round redis "$REDIS_PID" redis_up
# Redis lost everything: eventd finds no position of its own there
# ("Redis lost writes") and reads its log again from the start, so the
# new stream holds every delivery of the log again, with the same ids
all=$(log_count 'postfix/smtp\[[0-9]+\]: [0-9A-Z]+: to=<.*status=sent')
ev_stream "$rp" | grep '"event":"delivered"' >"$T/after-redis.json"
ids() { grep -o '"id":"evt_[0-9a-f]*"' "$1" | cut -d'"' -f4 | sort; }
before=$(wc -l <"$T/before-redis.json") after=$(wc -l <"$T/after-redis.json")
ids "$T/after-redis.json" | sort -u >"$T/ids-after"
gone=$(ids "$T/before-redis.json" | sort -u | comm -23 - "$T/ids-after" | wc -l)
diag "redis: deliveries in the whole log $all; delivered events read right before the kill $before, in the stream now $after; of those before, $gone not in the stream now"
like "$(cat "$T/eventd.log")" 'Redis lost writes' "redis: eventd noticed that Redis lost its writes"
is "$after" "$all" "redis: the new stream holds every delivery of the whole log (eventd read it again)"
is "$(ids "$T/after-redis.json" | uniq -d | wc -l)" 0 "redis: none twice"
is "$gone" 0 "redis: the events from before the kill came back with the same ids"
n=$(redis-cli -p "$rp" zcard rk:rl:per-sender:redis@example.com)
ok "redis: policyd counts in the new Redis again ($n admissions since it came back)" \
	test "${n:-0}" -gt 0 -a "${n:-0}" -le "$MSGS"
verp=$(redis-cli -p "$rp" eval "local n = 0
for _, k in ipairs(redis.call('KEYS', 'rk:msg:*')) do
  n = n + redis.call('HEXISTS', k, 'verp') end
return n" 0)
ok "redis: the milter records metadata in the new Redis ($verp messages)" test "${verp:-0}" -gt 0
is "$(queued)" 0 "at the end nothing is left in the queue"
is "$(sink_count)" "$(accepted_ids | wc -l)" "at the end every accepted message was delivered"
diag "run time: $(($(date +%s) - started)) s"
done_testing
