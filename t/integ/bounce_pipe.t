# SPDX-License-Identifier: MIT
# relaykit-bounce end to end on a real Postfix wired by relaykit-postconf:
# a message relayed through the milter with a VERP Return-Path bounces at
# a loopback MX that answers 550; the DSN Postfix itself writes goes back
# to the VERP address, through the pipe transport to relaykit-bounce, and
# gives exactly one bounce_received event naming the client id (valid
# against the event schema).  A stranger (127.0.0.2) may send to the
# inbound addresses and to nothing else.  A forged and an expired VERP
# address give no event.  With Redis down the bounce stays in Postfix's
# queue (exit 75) and is delivered as an event once Redis is back.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks redis-server redis-cli postqueue
MILTER=$top_builddir/milter/relaykit-milter
BOUNCE=$top_builddir/events/relaykit-bounce
V=$top_builddir/events/relaykit-verp
[ -x "$MILTER" ] && [ -x "$BOUNCE" ] || skip_all "programs not built"
$PY -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema missing"
# the pipe runs relaykit-bounce as an unprivileged user: it must reach it
su -s /bin/sh nobody -c "test -x '$BOUNCE'" 2>/dev/null ||
	skip_all "relaykit-bounce is not reachable by user nobody"

rp=$(free_port); mxp=$(free_port); pp=$(free_port)
start_redis "$rp"
chmod 755 "$T"
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
  trustedNetworks: [127.0.0.1/32]
  tls: {level: none}
dkim: {enabled: false}
inbound:
  enabled: true
  bounce:
    enabled: true
    hmacSecret: "bounce-test-secret-0123456789"
    maxAgeDays: 7
redis:
  port: $rp
milter:
  listen: unix:$T/milter.sock
metrics:
  enabled: false
Y
chmod 644 "$T/rk.yaml"
(umask 0111; exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
track $!
ok "milter starts" wait_for "[ -S $T/milter.sock ]" 10
# the "remote MX": the test sink answers reject-* recipients with 550 5.1.1
ok "the 550 MX listens" start_sink "$mxp"
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$mxp"
export RELAYKIT_BOUNCE=$BOUNCE
ok "relaykit-postconf wires inbound" pf_apply "$T/rk.yaml"
postconf -c "$PF/etc" -P 'relaykit-bounce/unix/argv' >/dev/null 2>&1 ||
	diag "$(postconf -c "$PF/etc" -M relaykit-bounce/unix)"
like "$(postconf -c "$PF/etc" -M relaykit-bounce/unix)" 'pipe .*user=(nobody|relaykit) ' \
	"master.cf: the pipe service runs as an unprivileged user"

events() { redis-cli -p "$rp" xlen rk:events 2>/dev/null; }
last_json() { redis-cli -p "$rp" --raw xrevrange rk:events + - COUNT 1 | sed -n '5p'; }

# a stranger may reach the inbound addresses, and nothing else
out=$(swaks --server "127.0.0.1:$pp" --local-interface 127.0.0.2 --from '<>' \
	--to postmaster@example.com --quit-after RCPT 2>&1)
like "$out" '<- +250 2\.1\.5' "untrusted client: postmaster@example.com accepted"
out=$(swaks --server "127.0.0.1:$pp" --local-interface 127.0.0.2 \
	--from x@example.net --to victim@example.org --quit-after RCPT 2>&1)
like "$out" '<\*\* +554 5\.7\.1 .*Relay access denied' "untrusted client: foreign domain refused"

out=$(swaks --server "127.0.0.1:$pp" --from app@example.com --to reject-user@example.org \
	--add-header "X-Message-ID: order-42" --h-Subject "Your order" 2>&1)
like "$out" '<- +250 2\.0\.0 Ok: queued' "the application's message is accepted"
ok "its bounce comes back as one event" wait_for '[ "$(events)" = 1 ]' 40
pf_log | grep -E 'relaykit-bounce|status=bounced' | sed 's/^/# /' | tail -5
j=$(last_json)
like "$j" '"event":"bounce_received"' "the event is bounce_received"
like "$j" '"client_id":"order-42"' "it names the client id"
like "$j" '"recipient":"reject-user@example\.org"' "and the bounced recipient"
like "$j" '"reason":"userunknown"' "with the reason"
like "$j" '"queue_id":"[0-9A-Z]+"' "joined with the milter's metadata (queue id)"
like "$j" '"subject":"Your order"' "and subject"
like "$j" '"verp":"bounce\+[a-z2-7]+@example\.com"' "and the VERP address"
printf '%s\n' "$j" >"$T/ev.json"
ok "the event is valid against relaykit-event.schema.json" $PY -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
	"$top_srcdir/man/relaykit-event.schema.json" "$T/ev.json"
sleep 1
is "$(events)" 1 "exactly one event"

dsn() { # dsn VERP-ADDRESS: a DSN sent straight to the relay by a stranger
	cat >"$T/dsn.eml" <<M
From: MAILER-DAEMON@mx.example.org
To: $1
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

<user@example.org>: host mx.example.org said: 550 5.1.1 User unknown

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; user@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b--
M
	swaks --server "127.0.0.1:$pp" --local-interface 127.0.0.2 --from '<>' \
		--to "$1" --data "@$T/dsn.eml" 2>&1
}
good=$("$V" -c "$T/rk.yaml" encode -d example.com forged-1)
# the same token with its last character changed: the MAC fails
l=${good%@*}; c=${l#"${l%?}"}; [ "$c" = a ] && n=b || n=a
forged="${l%?}$n@example.com"
out=$(dsn "$forged")
like "$out" '<- +250 2\.0\.0 Ok: queued' "a forged VERP address is accepted by smtpd"
old=$(( $(date +%s) - 30 * 86400 ))
expired=$("$V" -c "$T/rk.yaml" encode -d example.com -t "$old" old-1)
out=$(dsn "$expired")
like "$out" '<- +250 2\.0\.0 Ok: queued' "an expired one too"
ok "both are discarded, never bounced back" wait_for \
	'[ "$(redis-cli -p '"$rp"' hget rk:stats:bounce verp_bad_mac)" = 1 ] && [ "$(redis-cli -p '"$rp"' hget rk:stats:bounce verp_expired)" = 1 ]' 30
is "$(events)" 1 "and give no event"
ok "nothing waits in the queue" wait_for '[ -z "$(postqueue -c "$PF/etc" -p | grep -v "Mail queue is empty")" ]' 20

kill "$REDIS_PID"; wait_for "! port_open $rp" 5
out=$(dsn "$("$V" -c "$T/rk.yaml" encode -d example.com down-1)")
like "$out" '<- +250 2\.0\.0 Ok: queued' "Redis down: a valid bounce is accepted"
ok "and deferred by the pipe (EX_TEMPFAIL), not lost" wait_for \
	'pf_log | grep -q "relay=relaykit-bounce.*status=deferred"' 30
like "$(postqueue -c "$PF/etc" -p)" 'bounce\+' "it stays in Postfix's queue"
start_redis "$rp"
postqueue -c "$PF/etc" -f
ok "Redis back (empty): the retry delivers it as an event" wait_for '[ "$(events)" = 1 ]' 40
done_testing
