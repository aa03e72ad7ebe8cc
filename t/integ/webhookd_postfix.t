# SPDX-License-Identifier: MIT
# Webhooks end to end on a real Postfix wired by relaykit-postconf: the
# milter records each message's client id, relaykit-eventd follows the
# log, relaykit-bounce takes the DSNs that come back to the VERP
# addresses, relaykit-webhookd sends it all to the application.  One
# message delivered and one refused with 550 by a loopback MX give a
# signed "delivered" webhook and a signed "bounced" one, then a
# "bounce_received" for the DSN Postfix sent back, each carrying the
# client id the application set, each valid against the JSON Schema.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/webhookd_lib.sh"
need postfix swaks
$PY -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema missing"
MILTER=$top_builddir/milter/relaykit-milter
BOUNCE=$top_builddir/events/relaykit-bounce
su -s /bin/sh nobody -c "test -x '$BOUNCE'" 2>/dev/null ||
	skip_all "relaykit-bounce is not reachable by user nobody"

rp=$(free_port) mxp=$(free_port) pp=$(free_port) hp=$(free_port)
ok "redis starts" start_redis "$rp"
ok "receiver listens" wh_receiver "$hp"
ok "the MX (550 for reject-*) listens" start_sink "$mxp"
chmod 755 "$T"
S=whsec_$(head -c 24 /dev/urandom | base64)
printf '%s\n' "$S" >"$T/whsec"
chmod 600 "$T/whsec"
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
    hmacSecret: "webhook-test-bounce-secret-0123"
redis: {port: $rp}
milter:
  listen: unix:$T/milter.sock
metrics: {enabled: false}
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
      events: [delivered, bounced, bounce_received]
      secretFile: $T/whsec
Y
chmod 644 "$T/rk.yaml"
(umask 0111; exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
track $!
ok "milter starts" wait_for "[ -S $T/milter.sock ]" 10
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$mxp"
export RELAYKIT_BOUNCE=$BOUNCE
ok "relaykit-postconf wires it" pf_apply "$T/rk.yaml"
ok "eventd starts" ev_start "$T/rk.yaml"
ok "webhookd starts" wh_start "$T/rk.yaml" relay1

send() { # send TO CLIENT-ID
	swaks --server "127.0.0.1:$pp" --from app@example.com --to "$1" \
		--h-Subject "Order $2" --add-header "X-Message-ID: $2" 2>&1
}
like "$(send user@example.org order-1)" '<- +250 2\.0\.0 Ok: queued' "a message is accepted"
like "$(send reject-user@example.org order-2)" '<- +250 2\.0\.0 Ok: queued' \
	"a message the MX will refuse is accepted"
H=$T/hooks-$hp.jsonl
# hook EVENT CLIENT-ID: the body of that webhook, once it arrived
hook() {
	[ -f "$H" ] && $PY - "$H" "$1" "$2" <<'P'
import json, sys
for line in open(sys.argv[1]):
    b = json.loads(json.loads(line)["body"])
    if b["event"] == sys.argv[2] and b.get("client_id") == sys.argv[3]:
        print(json.dumps(b, separators=(",", ":")))
        sys.exit(0)
sys.exit(1)
P
}
ok "a delivered webhook arrives" wait_for "hook delivered order-1 >/dev/null" 30
j=$(hook delivered order-1)
like "$j" '"recipient":"user@example\.org"' "delivered: to the recipient"
like "$j" '"dsn":"2\.0\.0"' "delivered: with its DSN"
like "$j" '"subject":"Order order-1"' "delivered: and subject"
ok "a bounced webhook arrives" wait_for "hook bounced order-2 >/dev/null" 30
j=$(hook bounced order-2)
like "$j" '"dsn":"5\.1\.1"' "bounced: 5.1.1"
like "$j" '"response":"[^"]*550 5\.1\.1' "bounced: with the MX's reply"
ok "the DSN Postfix sent back gives a bounce_received webhook" \
	wait_for "hook bounce_received order-2 >/dev/null" 40
j=$(hook bounce_received order-2)
like "$j" '"reason":"userunknown"' "bounce_received: the reason"
ok "every signature verifies (secret from a file)" wh_verify "$S" "$H"
wh_bodies "$H" "$T/bodies.json"
ok "every body validates against the JSON Schema" ev_schema_check "$T/bodies.json"
ok "no queued events (the endpoint did not ask)" sh -c "! grep -q '\"event\": \"queued\"' $T/bodies.json"
done_testing
