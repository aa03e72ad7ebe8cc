# SPDX-License-Identifier: MIT
# SMTP AUTH end to end: real Postfix wired by relaykit-postconf (a
# submission listener with STARTTLS and a self-signed certificate,
# smtpd_sasl_type = dovecot) checking logins with relaykit-policyd, driven
# by swaks: the right password gets 235 and the message relays, a wrong
# one 535 5.7.8, PLAIN and LOGIN, no AUTH before STARTTLS, the auth-sender
# rule refuses a sender the login does not own, and the lockout gives 454
# 4.7.0 after N failures and lifts after its duration, with no other
# login failing for it.  auth_postfix_tcp.t runs it all with policyd on
# TCP (AUTH_SASL=tcp) instead of a unix socket.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need postfix swaks redis-server redis-cli openssl

rp=$(free_port) sp=$(free_port) pp=$(free_port) subp=$(free_port)
if [ "${AUTH_SASL:-unix}" = tcp ]; then
	SASL=inet:127.0.0.1:$(free_port) SASL_PATH=$SASL
else
	SASL=unix:$T/auth.sock SASL_PATH=$SASL
fi
ok "redis starts" start_redis "$rp"
ok "sink listens" start_sink "$sp"
apph=$(printf 'app-secret\n' | "$PD_BIN" --hash)
vich=$(printf 'victim-pw\n' | "$PD_BIN" --hash)
printf 'victim:%s\n' "$vich" >"$T/users"
chmod 600 "$T/users"
pd_config rk <<YAML
mail:
  trustedNetworks: []
  tls: {level: may}
  listeners:
    - {address: 127.0.0.1, port: $subp, submission: true}
dkim: {enabled: false}
senderValidation: {enabled: false}
auth:
  enabled: true
  users:
    app@example.com:
      password: "$apph"
      allowedFrom: ["@billing.example"]
  usersFile: $T/users
  lockout: {maxFailures: 3, window: 1m, duration: 3s}
redis:
  port: $rp
  keyPrefix: "ap:"
metrics:
  address: 127.0.0.1
  policydPort: $(free_port)
policyd:
  listen: unix:$T/policy.sock
  saslListen: $SASL
YAML
ok "policyd starts" pd_start rk
ok "postfix starts" pf_start sub "$pp" "relayhost = [127.0.0.1]:$sp" \
	"smtpd_soft_error_limit = 1000" "smtpd_hard_error_limit = 1000" \
	"smtpd_error_sleep_time = 0" "smtpd_junk_command_limit = 1000"
ok "relaykit-postconf wires AUTH and the submission listener" pf_apply "$T/rk.yaml"
ok "the submission listener is up" wait_for "port_open $subp" 20
is "$(postconf -c "$PF/etc" -h smtpd_sasl_path)" "$SASL_PATH" "smtpd_sasl_path points at policyd ($SASL)"

sub() { # sub ARGS...: swaks on the submission port with STARTTLS
	swaks --server "127.0.0.1:$subp" --tls --to user@example.org \
		--h-Subject auth --timeout 20 "$@" 2>&1
}
out=$(sub --from app@example.com --auth PLAIN --auth-user app@example.com --auth-password app-secret)
like "$out" '<~ +235 2\.7\.0 Authentication successful' "PLAIN, right password: 235 2.7.0"
like "$out" '<~ +250 2\.0\.0 Ok: queued' "and the message is accepted"
ok "and relayed" wait_for '[ "$(sink_count)" -ge 1 ]'
like "$(sub --from app@example.com --auth LOGIN --auth-user app@example.com --auth-password app-secret)" \
	'<~ +235 2\.7\.0 Authentication successful' "LOGIN, right password: 235 2.7.0"
like "$(sub --from victim@example.com --auth PLAIN --auth-user app@example.com --auth-password nope)" \
	'<~\* +535 5\.7\.8 Error: authentication failed: Invalid user name or password' "wrong password: 535 5.7.8"
like "$(sub --auth LOGIN --auth-user nobody --auth-password nope)" \
	'<~\* +535 5\.7\.8 Error: authentication failed' "unknown login, LOGIN: 535 5.7.8"
like "$(pf_log)" 'sasl_username=app@example\.com' "postfix logs the login policyd returned"

# no AUTH before STARTTLS (auth.requireTls -> smtpd_tls_auth_only)
out=$(swaks --server "127.0.0.1:$pp" --ehlo client.test --quit-after EHLO 2>&1)
ok "the plain port offers no AUTH before STARTTLS" eval "! printf '%s\n' \"\$out\" | grep -q '250-AUTH\|250 AUTH'"
like "$(swaks --server "127.0.0.1:$pp" --tls --quit-after EHLO 2>&1)" '<~ +250[- ]AUTH PLAIN LOGIN' \
	"after STARTTLS it offers AUTH PLAIN LOGIN"
like "$($PY - "$pp" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rwb")
def cmd(c):
    if c: f.write(c.encode() + b"\r\n"); f.flush()
    while True:
        l = f.readline().decode()
        if l[3:4] != "-": return l.strip()
cmd(None); cmd("EHLO client.test")
print(cmd("AUTH PLAIN AGFwcEBleGFtcGxlLmNvbQBhcHAtc2VjcmV0"))
PY
)" '^5[0-9][0-9] 5\.' "AUTH sent anyway before STARTTLS: refused with 5xx"

# the auth-sender rule: a login sends only as what it owns
like "$(sub --from boss@billing.example --auth PLAIN --auth-user app@example.com --auth-password app-secret)" \
	'<~ +250 2\.0\.0 Ok: queued' "an allowedFrom domain is accepted"
like "$(sub --from ceo@example.com --auth PLAIN --auth-user app@example.com --auth-password app-secret)" \
	'<~\* +5[0-9][0-9] 5\.7\.1 .*Sender address <ceo@example\.com> is not owned by login app@example\.com' \
	"a sender the login does not own is refused with the rule's text"

# lockout: 3 failures, then even the right password gets 454 4.7.0
redis-cli -p "$rp" --scan --pattern 'ap:auth:*' | xargs -r redis-cli -p "$rp" del >/dev/null
for i in 1 2 3; do
	like "$(sub --quit-after AUTH --auth PLAIN --auth-user victim --auth-password bad)" \
		'<~\* +535 5\.7\.8' "failure $i of 3: 535 5.7.8"
done
out=$(sub --quit-after AUTH --auth PLAIN --auth-user victim --auth-password victim-pw)
like "$out" '<~\* +454 4\.7\.0 Temporary authentication failure' "locked out: 454 4.7.0"
like "$(cat "$T/rk.log")" 'sasl action=lockout login=victim client=127\.0\.0\.1 duration_ms=3000' "policyd logs the lockout"
like "$(sub --quit-after AUTH --auth LOGIN --auth-user app@example.com --auth-password app-secret)" \
	'<~\* +454 4\.7\.0' "the address is locked for every login"
is "$(grep -c 'Connection lost to authentication server' "$PF/maillog")" \
	"$(grep -c 'result=locked' "$T/rk.log")" "each 454 is a locked request, none collateral"
sleep 3.3
out=$(sub --quit-after AUTH --auth PLAIN --auth-user victim --auth-password victim-pw)
like "$out" '<~ +235 2\.7\.0 Authentication successful' "after auth.lockout.duration the login works again"
like "$(sub --from app@example.com --auth LOGIN --auth-user app@example.com --auth-password app-secret)" \
	'<~ +235 2\.7\.0' "and so does everyone else from that address"
done_testing
