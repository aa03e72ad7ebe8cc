# SPDX-License-Identifier: MIT
# A Postfix wired by relaykit-postconf is no open relay: a client outside
# trustedNetworks (127.0.0.2 while only 127.0.0.1/32 is trusted) gets
# "554 5.7.1 Relay access denied"; the trusted one is relayed.  On a PROXY
# listener Postfix sees the address the v1 or v2 header claims, in its
# log and the Received header, and refuses a connection without one.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks
sp=$(free_port); start_sink "$sp"
pp=$(free_port); xp=$(free_port)
pf_start relay "$pp" "relayhost = [127.0.0.1]:$sp"
cat >"$T/rk.yaml" <<YAML
mail:
  hostname: relay.example.test
  trustedNetworks: [127.0.0.1/32, 192.0.2.0/24]
  tls: {level: none}
  listeners:
    - {address: 127.0.0.1, port: $xp, proxyProtocol: true}
dkim: {enabled: false}
YAML
ok "relaykit-postconf applies to the running instance" pf_apply "$T/rk.yaml"

out=$(swaks --server "127.0.0.1:$pp" --local-interface 127.0.0.2 \
	--from app@example.com --to victim@example.org 2>&1)
like "$out" '<\*\* +554 5\.7\.1 <victim@example\.org>: Relay access denied' \
	"untrusted 127.0.0.2: 554 5.7.1 Relay access denied"
out=$(swaks --server "127.0.0.1:$pp" --local-interface 127.0.0.1 \
	--from app@example.com --to user@example.org 2>&1)
like "$out" '<- +250 2\.0\.0 Ok: queued' "trusted 127.0.0.1: accepted"
ok "and relayed" wait_for '[ "$(sink_count)" -ge 1 ]'

for v in v1 v2; do
	n=$(sink_count)
	out=$($PY "$top_srcdir/t/integ/proxy_client.py" $v 192.0.2.7 "$xp" \
		app@example.com "proxied-$v@example.org")
	like "$out" '250 2\.0\.0 Ok: queued' "PROXY $v from a trusted 192.0.2.7: accepted"
	ok "PROXY $v: delivered" wait_for "[ \$(sink_count) -gt $n ]"
	like "$(cat "$SINK/$((n + 1)).eml" 2>/dev/null)" 'from client\.test \(unknown \[192\.0\.2\.7\]\)' \
		"PROXY $v: Received header names the claimed address"
	out=$($PY "$top_srcdir/t/integ/proxy_client.py" $v 203.0.113.9 "$xp" \
		app@example.com victim@example.org)
	like "$out" '554 5\.7\.1 <victim@example\.org>: Relay access denied' \
		"PROXY $v from an untrusted 203.0.113.9: relay denied"
done
like "$(pf_log)" 'connect from unknown\[192\.0\.2\.7\]' "the log shows the claimed client"
out=$($PY "$top_srcdir/t/integ/proxy_client.py" none 127.0.0.1 "$xp" a@b c@d)
like "$out" '^CLOSED$' "a plain connection on the PROXY port is refused"
unlike_banner=$(printf '%s\n' "$out" | grep -c '^220')
is "$unlike_banner" 0 "and gets no banner"
done_testing
