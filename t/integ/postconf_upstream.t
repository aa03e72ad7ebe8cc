# SPDX-License-Identifier: MIT
# Delivery through an upstream relay that requires AUTH over STARTTLS
# (mail.relay), wired by relaykit-postconf: the right password delivers;
# a wrong one keeps the message queued with a clear log line.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks openssl
up=$(free_port); pp=$(free_port)
mkdir -p "$T/up"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=upstream.test -keyout "$T/up.key" -out "$T/up.crt" >/dev/null 2>&1
$PY "$top_srcdir/t/integ/upstream.py" "$up" "$T/up" "$T/up.crt" "$T/up.key" \
	relayuser 'right horse' >"$T/up.log" 2>&1 &
track $!
ok "upstream (STARTTLS + AUTH required) listens" wait_for "port_open $up" 10
pf_start client "$pp"
relay_yaml() {
	cat <<YAML
mail:
  trustedNetworks: [127.0.0.1/32]
  tls: {level: none}
  relay:
    enabled: true
    host: 127.0.0.1
    port: $up
    tls: true
    auth: {enabled: true, username: relayuser, passwordFile: $T/pw}
dkim: {enabled: false}
YAML
}
printf 'right horse\n' >"$T/pw"
relay_yaml >"$T/rk.yaml"
ok "relaykit-postconf wires the relay" pf_apply "$T/rk.yaml"
out=$(swaks --server "127.0.0.1:$pp" --from app@example.com --to user@example.org \
	--h-Subject via-upstream 2>&1)
like "$out" '<- +250 2\.0\.0 Ok: queued' "accepted"
ok "delivered through the upstream" wait_for '[ -e "$T/up/1.eml" ]'
like "$(pf_log)" 'relay=127\.0\.0\.1\[127\.0\.0\.1\]:'"$up"'.*status=sent \(250 2\.0\.0 Ok: queued as upstream1\)' \
	"postfix logs the relay and its answer"
like "$(pf_log)" 'Trusted TLS connection established|Untrusted TLS connection established|Anonymous TLS connection established' \
	"over TLS"

printf 'wrong horse\n' >"$T/pw"
ok "re-applied with a wrong password" pf_apply "$T/rk.yaml"
swaks --server "127.0.0.1:$pp" --from app@example.com --to user2@example.org >/dev/null 2>&1
ok "the upstream refuses the login and postfix says so" \
	wait_for "pf_log | grep -q 'SASL authentication failed; server 127.0.0.1\[127.0.0.1\] said: 535'" 20
like "$(pf_log | grep 'user2@example.org')" 'status=deferred' "the message stays queued (deferred), not lost"
ok "nothing more reached the upstream" test ! -e "$T/up/2.eml"
done_testing
