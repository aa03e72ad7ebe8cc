# SPDX-License-Identifier: MIT
# A Postfix wired by relaykit-postconf is no open relay: a client outside
# trustedNetworks (127.0.0.2 while only 127.0.0.1/32 is trusted) gets
# "554 5.7.1 Relay access denied"; the trusted one is relayed.
#
# PROXY protocol (issue 10): Postfix believes a PROXY header from whoever
# connects, so the public PROXY port belongs to relaykit-policyd's gate,
# which forwards only mail.proxyTrustedNetworks (here the "load balancer"
# 127.0.0.3) to Postfix on 127.0.0.1:backendPort.  The probe from an
# untrusted source (127.0.0.2) claiming to be 127.0.0.1 is disconnected
# without a banner and relays nothing; through the trusted proxy Postfix
# sees the claimed address in its log and the Received header.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need postfix swaks
PROBE="$PY $top_srcdir/t/integ/proxy_client.py"
sp=$(free_port); start_sink "$sp"
pp=$(free_port); xp=$(free_port); bp=$(free_port); mp=$(free_port)
# the host trusts only itself; relaykit adds its trustedNetworks
pf_start relay "$pp" "relayhost = [127.0.0.1]:$sp" "mynetworks = 127.0.0.1/32"
cat >"$T/rk.yaml" <<YAML
mail:
  hostname: relay.example.test
  trustedNetworks: [127.0.0.1/32, 192.0.2.0/24]
  tls: {level: none}
  listeners:
    - {address: 127.0.0.1, port: $xp, proxyProtocol: true, backendPort: $bp}
  proxyTrustedNetworks: [127.0.0.3/32]
dkim: {enabled: false}
policyd:
  listen: unix:$T/policy.sock
metrics:
  policydPort: $mp
YAML
ok "relaykit-postconf applies to the running instance" pf_apply "$T/rk.yaml"
cp "$T/rk.yaml" "$T/gate.yaml"
pd_start gate
ok "policyd started with its PROXY gate" wait_for "grep -q '1 PROXY gates' $T/gate.log" 10

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
	out=$($PROBE $v 127.0.0.1 "$xp" app@example.com "victim-$v@example.org" 127.0.0.2)
	like "$out" '^CLOSED$' "probe: PROXY $v from untrusted 127.0.0.2 claiming 127.0.0.1: disconnected"
	is "$(printf '%s\n' "$out" | grep -c '^220')" 0 "probe $v: no banner"
	sleep 0.5
	is "$(sink_count)" "$n" "probe $v: nothing relayed"
	out=$($PROBE $v 192.0.2.7 "$xp" app@example.com "proxied-$v@example.org" 127.0.0.3)
	like "$out" '250 2\.0\.0 Ok: queued' "PROXY $v through the trusted proxy 127.0.0.3, client 192.0.2.7: accepted"
	ok "PROXY $v: delivered" wait_for "[ \$(sink_count) -gt $n ]"
	like "$(cat "$SINK/$((n + 1)).eml" 2>/dev/null)" 'from client\.test \(unknown \[192\.0\.2\.7\]\)' \
		"PROXY $v: Received header names the claimed address"
	out=$($PROBE $v 203.0.113.9 "$xp" app@example.com victim@example.org 127.0.0.3)
	like "$out" '554 5\.7\.1 <victim@example\.org>: Relay access denied' \
		"PROXY $v, trusted proxy, untrusted client 203.0.113.9: relay denied"
done
like "$(pf_log)" 'connect from unknown\[192\.0\.2\.7\]' "the log shows the claimed client"
out=$($PROBE none 127.0.0.1 "$xp" a@b c@d 127.0.0.3)
like "$out" '^CLOSED$' "a plain connection through the proxy gets no SMTP session"
is "$(printf '%s\n' "$out" | grep -c '^220')" 0 "and no banner"
like "$(cat "$T/gate.log")" 'gate: refused client=127\.0\.0\.2 reason=not_a_trusted_proxy' \
	"policyd logs the refused probe"
is "$(metric_value "$mp" 'relaykit_policyd_gate_total{result="refused"}')" 2 \
	"and counts it"
ok "Postfix's PROXY listener is bound to loopback only" \
	test -n "$(postconf -c "$PF/etc" -M "127.0.0.1:$bp/inet")"
done_testing
