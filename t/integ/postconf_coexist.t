# SPDX-License-Identifier: MIT
# relaykit-postconf on a host that already does things its own way: an
# OpenDKIM milter, a certificate of its own, its own networks and
# restrictions.  relaykit adds its milter after the host's (or before,
# with milter.order), keeps the certificate, adds its networks to the
# host's and says so, puts its policy check before the host's
# restrictions instead of replacing them, says to reload Postfix (or does
# it with --reload), and --remove restores everything exactly.
. "$top_srcdir/t/integ/lib.sh"
need postfix postconf openssl
PC=$top_builddir/postfix-conf/relaykit-postconf
D=$T/postfix
mkdir -p "$D" "$T/queue/relaykit"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=mx.host.test -keyout "$D/host.key" -out "$D/host.pem" >/dev/null 2>&1
cat >"$D/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $T/queue
smtpd_milters = inet:127.0.0.1:8891
non_smtpd_milters = \$smtpd_milters
milter_default_action = accept
smtpd_tls_cert_file = $D/host.pem
smtpd_tls_key_file = $D/host.key
mynetworks = 127.0.0.0/8, 10.20.0.0/16
smtpd_relay_restrictions = permit_mynetworks, defer_unauth_destination
smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_unknown_recipient_domain
CF
cp /usr/share/postfix/master.cf.dist "$D/master.cf"
snapshot() { postconf -c "$D" -n; postconf -c "$D" -M; }
snapshot >"$T/before"
NETS="127.0.0.0/8, 10.20.0.0/16, 192.0.2.0/24"
conf() { # conf ORDER
	cat >"$T/rk.yaml" <<YAML
mail:
  trustedNetworks: [$NETS]
  tls: {level: may}
dkim: {enabled: true, keyDir: $T/keys}
rateLimit: {enabled: true}
auth: {enabled: true, users: {app: "\$y\$j9T\$abc"}}
milter:
  listen: unix:$T/queue/relaykit/milter.sock
  order: $1
policyd:
  listen: unix:$T/queue/relaykit/policy.sock
  saslListen: unix:$T/queue/relaykit/auth.sock
YAML
}
# the host relays for 10.20.0.0/16 too: relaykit, which would not sign
# that mail (milter.outboundOnly), leaves it out and says so
NETS="127.0.0.1/32" conf after
out=$("$PC" -c "$T/rk.yaml" -C "$D" --dry-run 2>&1)
is "$?" 0 "host networks relaykit would not sign for: applied"
like "$out" "warning: mynetworks: the host's 127\\.0\\.0\\.0/8, 10\\.20\\.0\\.0/16 left out: .*add it to mail\\.trustedNetworks" \
	"it names the networks it leaves out and what to do"
like "$out" "main\\.cf: mynetworks: 127\\.0\\.0\\.0/8, 10\\.20\\.0\\.0/16 -> 127\\.0\\.0\\.1/32" "only the network relaykit signs for relays"

conf after
out=$("$PC" -c "$T/rk.yaml" -C "$D" --check 2>&1)
is "$?" 0 "apply, and postfix check passes"
n=$(postconf -c "$D" -n)
like "$n" '^smtpd_milters = inet:127\.0\.0\.1:8891, \{ unix:relaykit/milter\.sock, default_action=tempfail, protocol=6 \}$' \
	"relaykit's milter after the host's OpenDKIM, tempfail for it alone"
like "$n" '^non_smtpd_milters = \$smtpd_milters, \{ unix:relaykit/milter\.sock' \
	"non_smtpd_milters: the host's kept too"
like "$n" '^milter_default_action = accept$' "the host's milter_default_action untouched"
like "$n" "^smtpd_tls_cert_file = $D/host\\.pem\$" "the host's certificate kept"
ok "no self-signed certificate made" test ! -e "$D/relaykit/tls-cert.pem"
like "$n" '^mynetworks = 127\.0\.0\.0/8, 10\.20\.0\.0/16, 192\.0\.2\.0/24$' \
	"mynetworks: the host's kept, relaykit's added"
like "$out" 'mynetworks: the host.s networks kept, added 192\.0\.2\.0/24' \
	"and it says what it added"
like "$n" '^smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination$' \
	"the host's relay restrictions kept, relaykit's SMTP AUTH users let through"
like "$n" '^smtpd_recipient_restrictions = check_policy_service \{ unix:relaykit/policy\.sock, [^}]*\}, reject_non_fqdn_recipient, reject_unknown_recipient_domain$' \
	"the policy check before the host's recipient restrictions, which stay"
like "$out" "run 'postfix -c $D reload' \\(or relaykit-postconf --reload\\)" "says to reload Postfix"
like "$("$PC" -c "$T/rk.yaml" -C "$D" 2>&1)" 'nothing to change' "a second run changes nothing"
like "$("$PC" -c "$T/rk.yaml" -C "$D" --reload 2>&1)" 'nothing to change' \
	"nothing to change: no reload needed"
"$PC" -c "$T/rk.yaml" -C "$D" --remove >/dev/null 2>&1
is "$(snapshot)" "$(cat "$T/before")" "--remove restores main.cf and master.cf exactly"

conf before
"$PC" -c "$T/rk.yaml" -C "$D" >/dev/null 2>&1
like "$(postconf -c "$D" -h smtpd_milters)" '^\{ unix:relaykit/milter\.sock, default_action=tempfail, protocol=6 \}, inet:127\.0\.0\.1:8891$' \
	"milter.order: before"
"$PC" -c "$T/rk.yaml" -C "$D" --remove >/dev/null 2>&1
is "$(snapshot)" "$(cat "$T/before")" "removed again, exactly"
done_testing
