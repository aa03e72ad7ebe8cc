# SPDX-License-Identifier: MIT
# Sender validation on a real Postfix: the allow/deny matrix (address,
# domain, regex, forbidden over allowed, mail.domains by default), the
# From header against the envelope in address and domain modes, and the
# null sender, each refusal a 550 5.7.1 that names the address and why.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks
MILTER=$top_builddir/milter/relaykit-milter
[ -x "$MILTER" ] || skip_all "relaykit-milter not built"

config() { # config FROM-MATCH ALLOWED-YAML
	cat >"$T/rk.yaml" <<-Y
		mail:
		  domains: [example.com]
		dkim: {enabled: false}
		senderValidation:
		  enabled: true
		  checkFromHeader: true
		  fromHeaderMatch: $1
		  allowedFrom: $2
		  forbiddenFrom: [ceo@example.com]
		milter:
		  listen: unix:$T/milter.sock
		metrics: {enabled: false}
	Y
}
send() { # send ENVELOPE-FROM [HEADER-FROM]
	swaks --server "127.0.0.1:$pp" --from "$1" --to user@example.org \
		--h-From "${2:-$1}" 2>&1
}
accepted() { printf '%s\n' "$1" | grep -q '^<-  *250 2\.0\.0 Ok: queued'; }

config address '[service@partner.com, partner2.com, "/.*@notifications\\./", example.com]'
(umask 0111; exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
mp=$!; track $mp
ok "milter starts" wait_for "[ -S $T/milter.sock ]" 10
sp=$(free_port); start_sink "$sp"
pp=$(free_port)
ok "postfix starts with the milter" pf_start main "$pp" \
	"relayhost = [127.0.0.1]:$sp" "smtpd_milters = unix:$T/milter.sock" \
	"milter_default_action = tempfail" "milter_protocol = 6"

ok "allowed address: service@partner.com" accepted "$(send service@partner.com)"
out=$(send other@partner.com)
like "$out" '<\*\* +550 5\.7\.1 Sender <other@partner\.com> is not allowed to send through this relay \(no allowedFrom pattern matches\)' \
	"same domain, other address: 550 5.7.1 naming it"
ok "allowed domain: anyone@partner2.com" accepted "$(send anyone@partner2.com)"
ok "domains are case-insensitive: x@PARTNER2.com" accepted "$(send x@PARTNER2.com)"
ok "regex: alerts@notifications.shop.test" accepted "$(send alerts@notifications.shop.test)"
ok "allowed domain example.com: app@example.com" accepted "$(send app@example.com)"
out=$(send ceo@example.com)
like "$out" '<\*\* +550 5\.7\.1 Sender <ceo@example\.com> is not allowed to send through this relay \(forbiddenFrom: ceo@example\.com\)' \
	"forbidden wins over an allowed domain"
out=$(send intruder@evil.test)
like "$out" '<\*\* +550 5\.7\.1 Sender <intruder@evil\.test>' "unknown domain refused"
ok "null sender (bounce) is never refused" accepted "$(swaks --server "127.0.0.1:$pp" --from '<>' --to user@example.org 2>&1)"

out=$(send service@partner.com boss@partner.com)
like "$out" '<\*\* +550 5\.7\.1 From header <boss@partner\.com> does not match the envelope sender <service@partner\.com>' \
	"address mode: another From address refused at end of headers"
ok "address mode: same address, other case in the domain" accepted "$(send service@partner.com service@Partner.COM)"

config domain '[partner.com]'
kill -HUP $mp; sleep 1
ok "domain mode: same domain, other local part" accepted "$(send service@partner.com boss@partner.com)"
out=$(send service@partner.com boss@evil.test)
like "$out" '<\*\* +550 5\.7\.1 From header <boss@evil\.test> does not match the envelope sender <service@partner\.com> \(different domain\)' \
	"domain mode: other domain refused"

config address '[]'
sed -i '/allowedFrom/d' "$T/rk.yaml"
kill -HUP $mp; sleep 1
ok "no allowedFrom: mail.domains allowed (app@example.com)" accepted "$(send app@example.com)"
out=$(send app@partner.com)
like "$out" '<\*\* +550 5\.7\.1 Sender <app@partner\.com> is not allowed to send through this relay' \
	"no allowedFrom: other domains refused"
like "$(cat "$T/milter.log")" 'action=reject reason=sender_forbidden sender=ceo@example\.com' \
	"every refusal has its log line"
done_testing
