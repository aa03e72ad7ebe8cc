# SPDX-License-Identifier: MIT
# Adaptive pacing end to end on a real Postfix wired by relaykit-postconf:
# a loopback MX answers 421 4.7.28 for gmail.test for a while, then 250.
# relaykit-eventd turns each outcome into the destination's delay in
# Redis; relaykit-policyd routes gmail.test through the ladder transport
# of that delay over the socketmap the queue manager asks.  The delay
# climbs to maxDelay while the MX refuses, comes down after successes,
# never leaves minDelay..maxDelay; Postfix really uses the slower
# transports then the faster ones again, keeps each tier's spacing;
# other.test is not paced; nothing bounces, nothing is lost.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need postfix swaks redis-server redis-cli

rp=$(free_port) mxp=$(free_port) pp=$(free_port) pm=$(free_port) em=$(free_port)
ok "redis starts" start_redis "$rp"
ok "the MX listens" start_sink "$mxp"
echo gmail.test >"$SINK/throttle"
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
  trustedNetworks: [127.0.0.1/32]
  tls: {level: none}
  relay: {enabled: true, host: 127.0.0.1, port: $mxp, tls: false}
dkim: {enabled: false}
redis: {port: $rp}
policyd:
  listen: unix:$T/policy.sock
  socketmapListen: unix:$T/sm.sock
metrics: {policydPort: $pm, eventdPort: $em}
eventd: {logFile: $T/pf-main/maillog, startAt: beginning, pollInterval: 50ms}
adaptiveRate:
  enabled: true
  defaults: {enabled: false}
  tiers: [1s, 2s, 3s, 4s]
  domains:
    gmail.test:
      enabled: true
      minDelay: 1s
      maxDelay: 4s
      initialDelay: 1s
      backoffMultiplier: 2
      severeBackoffMultiplier: 2
      recoveryRate: 0.5
      successThreshold: 2
Y
# backoff long enough that a retry never races its own delivery agent
ok "postfix starts" pf_start main "$pp" "minimal_backoff_time = 3s" \
	"maximal_backoff_time = 6s"
ok "policyd starts" pd_start rk
ok "the socketmap listens" wait_for "[ -S $T/sm.sock ]" 10
ok "relaykit-postconf wires the ladder" pf_apply "$T/rk.yaml"
like "$(postconf -c "$PF/etc" -M qmgr/unix)" 'rewrite_service_name=rk_rewrite' \
	"the queue manager asks relaykit's trivial-rewrite"
like "$(postconf -c "$PF/etc" -M rk_rewrite/unix)" "transport_maps=socketmap:unix:$T/sm.sock:pace" \
	"which ends its transport_maps with the socketmap"
ok "eventd starts" ev_start "$T/rk.yaml"

# the delay in Redis, sampled while mail flows
(while :; do
	redis-cli -p "$rp" hget rk:pace:gmail.test delay
	sleep 0.3
done >"$T/delays" 2>/dev/null) &
track $!
sent=0 other=0
for i in $(seq 1 16); do
	swaks --server "127.0.0.1:$pp" --from app@example.com --to "u$i@gmail.test" \
		>/dev/null 2>&1 && sent=$((sent + 1))
	if [ $((i % 4)) = 0 ]; then
		swaks --server "127.0.0.1:$pp" --from app@example.com --to "o$i@other.test" \
			>/dev/null 2>&1 && other=$((other + 1))
	fi
	[ "$i" = 6 ] && rm -f "$SINK/throttle" # the provider relents
	sleep 0.8
done
is "$sent $other" "16 4" "20 messages accepted (16 to gmail.test, 4 to other.test)"
ok "every message is delivered" wait_for "[ \$(sink_count) -ge 20 ]" 150
sleep 1
like "$(grep -c 'status=bounced' "$PF/maillog")" '^0$' "nothing bounced"

# the delay's course
$PY - "$T/delays" >"$T/course" <<'P'
import sys
v = [int(l) for l in open(sys.argv[1]) if l.strip().isdigit()]
peak = v.index(max(v)) if v else 0
print("min=%d max=%d last=%d rose=%s fell=%s" % (
    min(v), max(v), v[-1], any(b > a for a, b in zip(v, v[1:peak + 1])),
    v[-1] < max(v)))
P
diag "delay samples: $(tr '\n' ' ' <"$T/delays" | head -c 400)"
like "$(cat "$T/course")" '^min=1000 max=4000 last=[0-9]+ rose=True fell=True$' \
	"the delay climbed to maxDelay and came down, never out of 1s..4s"

# what Postfix did: the transports gmail.test went through, in order
grep -E 'postfix/rk_pace_[0-9]+s/smtp\[[0-9]+\]: [0-9A-F]+: to=<u[0-9]+@gmail\.test>' \
	"$PF/maillog" | sed 's/.*postfix\/\(rk_pace_[0-9]*s\)\/smtp.*/\1/' >"$T/tiers"
diag "tiers in order: $(uniq "$T/tiers" | tr '\n' ' ')"
like "$(uniq "$T/tiers" | tr '\n' ' ')" 'rk_pace_4s .*rk_pace_[12]s' \
	"gmail.test went through the slowest tier, then faster ones again"
like "$(grep -c 'to=<o[0-9]*@other.test>.*status=sent' "$PF/maillog")" '^4$' \
	"other.test delivered"
ok "other.test never paced" sh -c "! grep -q 'rk_pace_.*to=<o[0-9]*@other.test>' $PF/maillog"
ok "other.test never refused by the MX" sh -c "! grep -q 'other.test 421' $SINK/attempts.log"
# Postfix keeps each tier's spacing (log times have 1 s resolution)
$PY - "$PF/maillog" >"$T/spacing" <<'P'
import re, sys, collections, time
last = {}
bad = []
for line in open(sys.argv[1]):
    m = re.match(r'(\w+ +\d+ [\d:]+) \S+ postfix/rk_pace_(\d+)s/smtp\[\d+\]: \w+: to=<[^>]*@gmail\.test>', line)
    if not m:
        continue
    t = time.mktime(time.strptime("2026 " + m.group(1), "%Y %b %d %H:%M:%S"))
    tier = int(m.group(2))
    if tier in last and t - last[tier] < tier - 1:
        bad.append("%ds tier: %.0f s apart" % (tier, t - last[tier]))
    last[tier] = t
print("ok" if not bad else "; ".join(bad))
P
is "$(cat "$T/spacing")" "ok" "attempts in one tier are at least its delay apart"

M=$(pd_metrics "$pm")
like "$M" 'relaykit_pace_lookups_total\{result="paced"\} [1-9]' "policyd: paced lookups counted"
like "$M" 'relaykit_pace_delay_seconds\{destination="gmail.test"\} [0-9.]+' \
	"policyd: the destination's delay"
like "$(curl -s "http://127.0.0.1:$em/metrics")" \
	'relaykit_pace_outcomes_total\{destination="gmail.test",kind="severe"\} [1-9]' \
	"eventd: the 4.7.28 replies counted"
P_OUT=$("$PD_BIN" -c "$T/rk.yaml" --pacing)
like "$P_OUT" 'gmail\.test +[0-9.]+s +rk_pace_[0-9]+s +[0-9]+ +[1-9][0-9]*' \
	"relaykit-policyd --pacing shows the destination's state"
printf '%s\n' "$P_OUT" | sed 's/^/# /'
done_testing
