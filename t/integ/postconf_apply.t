# SPDX-License-Identifier: MIT
# relaykit-postconf on a real Postfix configuration directory: dry run
# changes nothing, apply passes postfix check and postconf -n shows the
# values, a second apply changes nothing, remove restores every parameter
# and service, dangerous results are refused.
. "$top_srcdir/t/integ/lib.sh"
need postfix postconf
PC=$top_builddir/postfix-conf/relaykit-postconf
D=$T/postfix
mkdir -p "$D" "$T/queue"
printf 'compatibility_level = 3.6\nmyhostname = before.test\nqueue_directory = %s\nsmtpd_banner = before ESMTP\n' \
	"$T/queue" >"$D/main.cf"
cp /usr/share/postfix/master.cf.dist "$D/master.cf"
cat >"$T/rk.yaml" <<YAML
mail:
  hostname: relay.example.test
  trustedNetworks: [127.0.0.1/32, "::1"]
  maxMessageSize: 10M
  tls: {level: may}
  listeners:
    - {port: 587, submission: true}
    - {port: 10025, proxyProtocol: true}
  proxyTrustedNetworks: [10.1.0.0/16]
  relay:
    enabled: true
    host: smtp.upstream.test
    port: 587
    auth: {enabled: true, username: relayuser, password: "s3cret!"}
rateLimit:
  enabled: true
  domains:
    gmail.com: {maxConnections: 1, maxPerConnection: 3, rate: 1/20s}
auth:
  enabled: true
  users: {app@example.test: "\$y\$j9T\$abc"}
milter:
  listen: unix:$T/queue/relaykit/milter.sock
policyd:
  listen: inet:127.0.0.1:10040
  saslListen: unix:$T/queue/relaykit/auth.sock
YAML
snap() { postconf -c "$D" -n; postconf -c "$D" -M; }
before=$(snap)

out=$("$PC" -c "$T/rk.yaml" -C "$D" --dry-run 2>&1); rc=$?
is "$rc" 0 "dry run exits 0"
like "$out" '^main\.cf: myhostname: before\.test -> relay\.example\.test$' "dry run shows old -> new"
like "$out" '^master\.cf: 587/inet: \(unset\) -> 587 inet n - n - - smtpd ' "dry run shows new services"
like "$out" 'changes \(dry run: nothing changed\)$' "dry run says it changed nothing"
is "$(snap)" "$before" "dry run left main.cf and master.cf alone"
ok "dry run wrote no state" test ! -e "$D/relaykit-postconf.state"

out=$("$PC" -c "$T/rk.yaml" -C "$D" --check 2>&1); rc=$?
is "$rc" 0 "apply with --check exits 0"
like "$out" 'postfix check passed' "postfix check passes on the result"
n=$(postconf -c "$D" -n)
like "$n" '^myhostname = relay\.example\.test$' "myhostname"
like "$n" '^mynetworks = 127\.0\.0\.1/32, \[::1\]/128$' "mynetworks from trustedNetworks"
like "$n" '^smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination$' \
	"relay restrictions in the safe order"
like "$n" '^smtpd_recipient_restrictions = check_policy_service \{ inet:127\.0\.0\.1:10040, timeout=10s, default_action=DUNNO \}, permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination$' \
	"policy service first, then the safe order"
like "$n" '^smtpd_milters = \{ unix:relaykit/milter\.sock, default_action=tempfail, protocol=6 \}$' \
	"milter relative to the chroot, its failures tempfail (said for it alone)"
ok "the global milter_default_action is left to the host" \
	eval "! printf '%s\n' \"\$n\" | grep -q '^milter_default_action'"
like "$n" '^relayhost = \[smtp\.upstream\.test\]:587$' "relayhost"
like "$n" '^smtp_tls_security_level = encrypt$' "TLS required to the relay"
like "$n" '^message_size_limit = 10485760$' "message size"
like "$n" '^rk_gmail_com_destination_rate_delay = 20s$' "gmail rate delay from 1/20s"
like "$(postconf -c "$D" -M rk_gmail_com/unix)" 'rk_gmail_com +unix +- +- +n +- +1 +smtp' "gmail transport, one process"
like "$(postconf -c "$D" -P 587/inet/smtpd_tls_auth_only)" '= yes' "submission requires TLS for AUTH"
like "$n" '^smtpd_sasl_auth_enable = yes$' "auth.enabled: SMTP AUTH on"
like "$n" '^smtpd_sasl_type = dovecot$' "served by relaykit-policyd's Dovecot SASL side"
like "$n" '^smtpd_sasl_path = unix:relaykit/auth\.sock$' "SASL socket relative to the chroot"
like "$n" '^smtpd_sasl_security_options = noanonymous$' "no anonymous logins"
like "$n" '^smtpd_tls_auth_only = yes$' "auth.requireTls: AUTH only after STARTTLS"
ok "broken_sasl_auth_clients left alone" eval "! printf '%s\n' \"\$n\" | grep -q '^broken_sasl_auth_clients'"
like "$(postconf -c "$D" -P 127.0.0.1:20025/inet/smtpd_upstream_proxy_protocol)" '= haproxy' \
	"PROXY listener on loopback only, behind policyd's gate (port + 10000)"
ok "no public PROXY listener" test -z "$(postconf -c "$D" -M 10025/inet 2>/dev/null)"
is "$(stat -c %a "$D/relaykit/sasl_passwd")" 600 "password map is private"
ok "password map built with postmap" test -e "$D/relaykit/sasl_passwd.db"
is "$(postmap -c "$D" -q '[smtp.upstream.test]:587' "hash:$D/relaykit/sasl_passwd")" \
	"relayuser:s3cret!" "password map answers for the relay"
is "$(postmap -c "$D" -q gmail.com "hash:$D/relaykit/transport")" \
	"rk_gmail_com:[smtp.upstream.test]:587" "transport map: the domain's transport, through the relay"
ok "self-signed certificate generated" openssl x509 -in "$D/relaykit/tls-cert.pem" -noout

applied=$(snap)
out=$("$PC" -c "$T/rk.yaml" -C "$D" 2>&1)
is "$out" "relaykit-postconf: nothing to change" "second apply changes nothing"
is "$(snap)" "$applied" "second apply left the files alone"

# SASL over TCP, AUTH also without TLS, then no AUTH at all
sed -e 's|^  saslListen: .*|  saslListen: inet:127.0.0.1:10041|' \
	-e 's|^  users: {app@|  requireTls: false\n&|' "$T/rk.yaml" >"$T/tcp.yaml"
"$PC" -c "$T/tcp.yaml" -C "$D" >"$T/tcp.out" 2>&1 || sed 's/^/# /' "$T/tcp.out"
n=$(postconf -c "$D" -n)
like "$n" '^smtpd_sasl_path = inet:127\.0\.0\.1:10041$' "a TCP saslListen"
like "$n" '^smtpd_tls_auth_only = no$' "auth.requireTls false: AUTH before STARTTLS too"
sed -e 's|^  saslListen: .*|  saslListen: unix:/run/elsewhere/auth.sock|' "$T/rk.yaml" >"$T/outside.yaml"
out=$("$PC" -c "$T/outside.yaml" -C "$D" 2>&1); rc=$?
is "$rc" 78 "a SASL socket outside smtpd's chroot is refused"
like "$out" 'SASL socket /run/elsewhere/auth\.sock is outside the chroot' "and says why"
awk '/^auth:/ { skip = 1; next } skip && /^  / { next } { skip = 0; print }' "$T/rk.yaml" >"$T/noauth.yaml"
out=$("$PC" -c "$T/noauth.yaml" -C "$D" 2>&1)
like "$out" 'main\.cf: smtpd_sasl_type: dovecot -> \(unset\)' "auth disabled: the SASL settings go back"
"$PC" -c "$T/rk.yaml" -C "$D" >/dev/null 2>&1

# a config that no longer wants the relay puts its settings back
sed 's/^    enabled: true$/    enabled: false/' "$T/rk.yaml" >"$T/norelay.yaml"
out=$("$PC" -c "$T/norelay.yaml" -C "$D" 2>&1)
like "$out" 'main\.cf: relayhost: \[smtp\.upstream\.test\]:587 -> \(unset\)' "dropped relay is unset again"
"$PC" -c "$T/rk.yaml" -C "$D" >/dev/null 2>&1

out=$("$PC" -c "$T/rk.yaml" -C "$D" --remove 2>&1); rc=$?
is "$rc" 0 "remove exits 0"
is "$(snap)" "$before" "remove restores every parameter and service"
ok "remove deletes the record" test ! -e "$D/relaykit-postconf.state"

# refused: an existing service that relays for anyone
postconf -c "$D" -M '2525/inet=2525 inet n - n - - smtpd -o smtpd_relay_restrictions=permit -o smtpd_recipient_restrictions=permit_auth_destination,permit'
out=$("$PC" -c "$T/rk.yaml" -C "$D" 2>&1); rc=$?
is "$rc" 78 "open relay refused with EX_CONFIG"
like "$out" 'master\.cf service 2525/inet overrides the restrictions so that it relays for anyone' "and says why"
postconf -c "$D" -MX 2525/inet
is "$(snap)" "$before" "a refused run changes nothing"

# refused: every way a master.cf override could widen who is trusted
refuse_override() { # NAME ENTRY WANT-REGEX
	postconf -c "$D" -M "2526/inet=$2"
	out=$("$PC" -c "$T/rk.yaml" -C "$D" 2>&1); rc=$?
	is "$rc" 78 "$1: refused with EX_CONFIG"
	like "$out" "$3" "$1: says why"
	postconf -c "$D" -MX 2526/inet
}
refuse_override "-o mynetworks=0.0.0.0/0" \
	'2526 inet n - n - - smtpd -o mynetworks=0.0.0.0/0' \
	'master\.cf service 2526/inet: mynetworks trusts 0\.0\.0\.0/0, wider than /8'
refuse_override "-o mynetworks with IPv6 ::/0" \
	'2526 inet n - n - - smtpd -o mynetworks=127.0.0.1,[::]/0' \
	'mynetworks trusts \[::\]/0'
refuse_override "-o { mynetworks = a, b } braces" \
	'2526 inet n - n - - smtpd -o { mynetworks = 127.0.0.1, 0.0.0.0/4 }' \
	'mynetworks trusts 0\.0\.0\.0/4'
refuse_override "XCLIENT for everyone" \
	'2526 inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=0.0.0.0/0' \
	'smtpd_authorized_xclient_hosts trusts 0\.0\.0\.0/0'
refuse_override "a public PROXY listener" \
	'2526 inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy' \
	'service 2526/inet speaks the PROXY protocol on a public address'
refuse_override "anonymous SASL" \
	'2526 inet n - n - - smtpd -o smtpd_sasl_security_options=noplaintext' \
	'service 2526/inet enables SMTP AUTH without noanonymous'
postconf -c "$D" -M '127.0.0.1:2527/inet=127.0.0.1:2527 inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy -o mynetworks=10.0.0.0/8'
out=$("$PC" -c "$T/rk.yaml" -C "$D" 2>&1); rc=$?
is "$rc" 0 "a loopback PROXY listener and a /8 are accepted"
"$PC" -c "$T/rk.yaml" -C "$D" --remove >/dev/null 2>&1
postconf -c "$D" -MX 127.0.0.1:2527/inet
is "$(snap)" "$before" "refused runs changed nothing"

# eventd.configurePostfix: Postfix's own log file for relaykit-eventd
printf 'eventd: {logFile: %s/mail.log, configurePostfix: true}\ndkim: {enabled: false}\n' "$T" >"$T/log.yaml"
"$PC" -c "$T/log.yaml" -C "$D" >/dev/null 2>&1
is "$(postconf -c "$D" -h maillog_file)" "$T/mail.log" "eventd.configurePostfix: maillog_file = eventd.logFile"
"$PC" -c "$T/log.yaml" -C "$D" --remove >/dev/null 2>&1
is "$(snap)" "$before" "and --remove puts it back"

# refused: the whole internet trusted, and an unreadable TLS key
printf 'mail:\n  trustedNetworks: ["0.0.0.0/0"]\n' >"$T/wide.yaml"
out=$("$PC" -c "$T/wide.yaml" -C "$D" 2>&1); rc=$?
is "$rc" 78 "0.0.0.0/0 refused"
like "$out" 'wide\.yaml:2:21: mail\.trustedNetworks\[0\]: 0\.0\.0\.0/0 is wider than /8' "names the file, line and why"
printf 'mail:\n  tls: {certFile: /nonexistent/c.pem, keyFile: /nonexistent/k.pem}\ndkim: {enabled: false}\n' >"$T/tls.yaml"
out=$("$PC" -c "$T/tls.yaml" -C "$D" 2>&1); rc=$?
is "$rc" 78 "unreadable TLS files refused"
like "$out" 'TLS certificate /nonexistent/c\.pem is unreadable: No such file or directory' "names the file"
is "$(snap)" "$before" "refused runs changed nothing"
done_testing
