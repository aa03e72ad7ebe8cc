# SPDX-License-Identifier: MIT
# VERP on a real Postfix: the sink sees MAIL FROM rewritten to
# bounce+<token>@<sender domain>; relaykit-verp decodes the token back to
# the X-Message-ID (a 200-byte id too, through Redis, with a local part of
# at most 64 octets); the message's metadata is in Redis under
# rk:msg:<queue id> with its expiry; the null sender keeps <>; with Redis
# stopped mail still passes, with one log line and a metric.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks redis-server redis-cli curl
MILTER=$top_builddir/milter/relaykit-milter
V=$top_builddir/events/relaykit-verp
[ -x "$MILTER" ] || skip_all "relaykit-milter not built"
rp=$(free_port); mp=$(free_port)
start_redis "$rp"
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
dkim: {enabled: false}
inbound:
  enabled: true
  bounce:
    enabled: true
    hmacSecret: "verp-test-secret-0123456789"
    maxAgeDays: 7
redis:
  port: $rp
milter:
  listen: unix:$T/milter.sock
metrics:
  milterPort: $mp
Y
(umask 0111; exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
track $!
ok "milter starts" wait_for "[ -S $T/milter.sock ]" 10
sp=$(free_port); start_sink "$sp"
pp=$(free_port)
ok "postfix starts with the milter" pf_start main "$pp" \
	"relayhost = [127.0.0.1]:$sp" "smtpd_milters = unix:$T/milter.sock" \
	"milter_default_action = tempfail" "milter_protocol = 6"

send() { # send FROM MESSAGE-ID-HEADER-VALUE
	swaks --server "127.0.0.1:$pp" --from "$1" \
		--to user@example.org,other@example.net --h-Subject "Order confirmation" \
		${2:+--add-header "X-Message-ID: $2"} 2>&1
}
qid() { printf '%s\n' "$1" | sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Z]*\).*/\1/p'; }
env_from() { sed -n 's/^MAIL FROM:<\(.*\)>$/\1/p' "$SINK/$1.env"; }

out=$(send app@example.com order-123); q1=$(qid "$out")
ok "accepted (queue id $q1)" test -n "$q1"
ok "delivered" wait_for '[ -e "$SINK/1.eml" ]'
r1=$(env_from 1)
like "$r1" '^bounce\+[a-z2-7]+@example\.com$' "the sink sees MAIL FROM:<bounce+token@sender-domain>"
is "$("$V" -c "$T/rk.yaml" decode "$r1" | cut -d' ' -f1-2)" "status=ok id=order-123" \
	"the token decodes back to the X-Message-ID"
long=$(printf 'L%.0s' $(seq 200))
send app@example.com "$long" >/dev/null
ok "a 200-byte client id is delivered" wait_for '[ -e "$SINK/2.eml" ]'
r2=$(env_from 2); l2=${r2%@*}
ok "its local part has ${#l2} <= 64 octets" test "${#l2}" -le 64
like "$("$V" -c "$T/rk.yaml" decode "$r2")" "^status=ok id=$long ref=" "and round-trips through Redis"
send app@example.com >/dev/null
ok "no X-Message-ID: delivered" wait_for '[ -e "$SINK/3.eml" ]'
like "$("$V" -c "$T/rk.yaml" decode "$(env_from 3)")" '^status=ok id=[0-9A-Z]+ ' "the queue id stands in"

h=$(redis-cli -p "$rp" hgetall "rk:msg:$q1" | paste -sd'|')
like "$h" '(^|\|)client_id\|order-123(\||$)' "metadata: client id under rk:msg:<queue id>"
like "$h" '\|sender\|app@example\.com(\||$)' "metadata: envelope sender"
like "$h" '\|rcpt\|user@example\.org,other@example\.net(\||$)' "metadata: recipients"
like "$h" '\|subject\|Order confirmation(\||$)' "metadata: Subject"
like "$h" '\|message_id\|<[^|]+>(\||$)' "metadata: Message-ID"
like "$h" '\|size\|[1-9][0-9]*(\||$)' "metadata: size"
like "$h" "\|verp\|$(printf '%s' "$r1" | sed 's/+/\\+/')" "metadata: the return path"
ttl=$(redis-cli -p "$rp" ttl "rk:msg:$q1")
ok "metadata expires after maxAgeDays (ttl $ttl)" test "$ttl" -gt 604000 -a "$ttl" -le 604800

swaks --server "127.0.0.1:$pp" --from '<>' --to user@example.org >/dev/null 2>&1
ok "a bounce is delivered" wait_for '[ -e "$SINK/4.eml" ]'
is "$(head -1 "$SINK/4.env")" "MAIL FROM:<>" "the null sender keeps <>"

# a sender in a domain the relay does not own: its bounces must not be
# sent to bounce+...@that-domain, where someone else would get them
out=$(send app@foreign.example order-foreign); qf=$(qid "$out")
ok "a foreign sender domain is delivered" wait_for '[ -e "$SINK/5.eml" ]'
is "$(env_from 5)" "app@foreign.example" "its return path stays its own: no VERP to a domain outside mail.domains"
like "$(cat "$T/milter.log")" "queue_id=$qf action=verp_skipped reason=foreign_sender_domain" \
	"the milter says why"
like "$(redis-cli -p "$rp" hget "rk:msg:$qf" client_id)" '^order-foreign$' \
	"its metadata is still recorded for the events"

kill "$REDIS_PID"; wait_for "! port_open $rp" 5
out=$(send app@example.com "$long-down")
like "$out" '<- +250 2\.0\.0 Ok: queued' "redis stopped: mail is still accepted"
ok "and delivered" wait_for '[ -e "$SINK/6.eml" ]'
r5=$(env_from 6)
like "$("$V" -c "$T/rk.yaml" decode "$r5")" '^status=ok id=[0-9A-Z]+ ' \
	"with the queue id in the token, since the long id could not be stored"
send app@example.com order-9 >/dev/null
ok "another message passes too" wait_for '[ -e "$SINK/7.eml" ]'
is "$(grep -c 'redis: .* failed' "$T/milter.log")" 1 "one log line for the outage, not one per message"
like "$(curl -s "http://127.0.0.1:$mp/metrics")" 'relaykit_milter_redis_errors_total\{what="verp_store"\} [1-9]' \
	"the outage is counted in a metric"
done_testing
