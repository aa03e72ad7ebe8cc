# SPDX-License-Identifier: MIT
# milter.outboundOnly on a real Postfix (issue 17): mail from the trusted
# client (127.0.0.1/32) is relayed signed and VERP'd; mail from an
# untrusted client (127.0.0.2, or an XCLIENT address) passes untouched,
# to an ordinary address and to postmaster@ alike (no refusal, no VERP,
# no DKIM-Signature), except that mail to inbound.recipients gets the
# inbound checks, whose rejectFail / rejectOnFail refuse at SMTP time:
# 550 5.7.1 for an SPF fail or a DMARC fail under p=reject, 451 4.7.1 on
# a DNS error.  SPF/DMARC records come from a loopback BIND.  libspf2
# passes loopback clients unasked, so the SPF cases give Postfix another
# client address through XCLIENT (no packet leaves loopback).
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"
need named redis-server redis-cli

cat >"$T/sender.test.zone" <<Z
\$TTL 300
@ IN SOA ns.sender.test. root.sender.test. 1 3600 600 86400 300
@ IN NS ns.sender.test.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:192.0.2.1 ip4:127.0.0.0/8 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
Z
cat >"$T/mx.test.zone" <<Z
\$TTL 300
@ IN SOA ns.mx.test. root.mx.test. 1 3600 600 86400 300
@ IN NS ns.mx.test.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:192.0.2.2 -all"
Z
dp=$(free_port)
ok "BIND serves the test zones" start_named "$dp" "$T/sender.test.zone" "$T/mx.test.zone"

mk_key rsa example.com r1
rp=$(free_port)
start_redis "$rp"
cat >"$T/rk.yaml" <<Y
mail:
  domains:
    - name: example.com
      keys: [{selector: r1, algorithm: rsa-sha256}]
  trustedNetworks: [127.0.0.1/32]
dkim:
  keyDir: $KEYS
inbound:
  enabled: true
  bounce:
    enabled: true
    hmacSecret: "inbound-test-secret-0123456789"
  security:
    resolver: 127.0.0.1:$dp
redis:
  port: $rp
milter:
  listen: unix:$T/milter.sock
metrics:
  enabled: false
Y
ok "milter starts" milter_start "$T/rk.yaml"
sp=$(free_port); start_sink "$sp"
pp=$(free_port)
ok "postfix starts (mynetworks 127.0.0.1/32, MX for example.com, local.test)" \
	pf_start main "$pp" "relayhost = [127.0.0.1]:$sp" \
	"mynetworks = 127.0.0.1/32" "relay_domains = example.com, local.test" \
	"smtpd_authorized_xclient_hosts = 127.0.0.0/8" "$PF_MILTER_LINES"

env_from() { sed -n 's/^MAIL FROM:<\(.*\)>$/\1/p' "$SINK/$1.env"; }
n=0
delivered() { n=$((n + 1)); wait_for "[ -e '$SINK/$n.eml' ]" 20; }
# smtp FROM TO HEADER-FROM [SWAKS ARGS]
smtp() {
	local from=$1 to=$2 hfrom=$3; shift 3
	swaks --server "127.0.0.1:$pp" --from "$from" --to "$to" \
		--h-From "$hfrom" --h-Subject "inbound test" "$@" 2>&1
}

out=$(smtp app@example.com user@local.test app@example.com)
like "$out" '<- +250 2\.0\.0 Ok: queued' "trusted client: relayed"
ok "trusted client: delivered" delivered
ok "trusted client: signed" grep -q '^DKIM-Signature:' "$SINK/$n.eml"
like "$(env_from $n)" '^bounce\+[a-z2-7]+@example\.com$' "trusted client: VERP return path"

# Postfix's own submission (sendmail, non_smtpd_milters) is outbound
printf 'From: app@example.com\nTo: user@local.test\nSubject: local\n\nhi\n' |
	sendmail -C "$PF/etc" -f app@example.com user@local.test
ok "sendmail(1) submission: delivered" delivered
ok "sendmail(1) submission: signed" grep -q '^DKIM-Signature:' "$SINK/$n.eml"
like "$(env_from $n)" '^bounce\+[a-z2-7]+@example\.com$' "sendmail(1) submission: VERP return path"

out=$(smtp someone@example.com user@local.test someone@example.com \
	--local-interface 127.0.0.2)
like "$out" '<- +250 2\.0\.0 Ok: queued' "untrusted client to a local address: accepted"
ok "untrusted client to a local address: delivered" delivered
ok "... untouched: no DKIM-Signature" sh -c "! grep -q '^DKIM-Signature:' '$SINK/$n.eml'"
is "$(env_from $n)" someone@example.com "... untouched: the return path as sent (no VERP)"

# an authenticated client is ours wherever it connects from
out=$(smtp app@example.com user@local.test app@example.com \
	--local-interface 127.0.0.2 --xclient-addr 192.0.2.9 --xclient-login alice)
like "$out" '<- +250 2\.0\.0 Ok: queued' "authenticated client ({auth_authen}): relayed"
ok "authenticated client: delivered" delivered
ok "authenticated client: signed" grep -q '^DKIM-Signature:' "$SINK/$n.eml"

out=$(smtp x@sender.test postmaster@example.com x@sender.test \
	--local-interface 127.0.0.2)
like "$out" '<- +250 2\.0\.0 Ok: queued' "untrusted client to postmaster@ (SPF, DMARC pass): accepted"
ok "... delivered" delivered
ok "... untouched: no DKIM-Signature" sh -c "! grep -q '^DKIM-Signature:' '$SINK/$n.eml'"
is "$(env_from $n)" x@sender.test "... untouched: no VERP"
like "$(cat "$T/milter.log")" "direction=inbound spf=pass spf_domain=sender.test dkim=none dkim_domain=- dmarc=pass" \
	"the milter logs the inbound checks"

out=$(smtp x@sender.test postmaster@example.com x@sender.test \
	--local-interface 127.0.0.2 --xclient-addr 192.0.2.9 --xclient-name unknown)
like "$out" '<\*\* +550 5\.7\.1 SPF check failed' "rejectFail: an SPF fail to postmaster@ is refused at SMTP time"

out=$(smtp '<>' postmaster@example.com x@sender.test --local-interface 127.0.0.2 \
	--xclient-addr 192.0.2.2 --xclient-name unknown --ehlo mx.test)
like "$out" '<\*\* +550 5\.7\.1 DMARC policy of sender\.test' \
	"rejectOnFail: a bounce (null sender, SPF pass at HELO) whose From fails DMARC p=reject is refused"

out=$(smtp x@nowhere.example abuse@example.com x@nowhere.example \
	--local-interface 127.0.0.2 --xclient-addr 192.0.2.9 --xclient-name unknown)
like "$out" '<\*\* +451 4\.7\.1 ' "a DNS error: 451 4.7.1, try again later"

out=$(smtp x@nowhere.example user@local.test x@nowhere.example \
	--local-interface 127.0.0.2 --xclient-addr 192.0.2.9 --xclient-name unknown)
like "$out" '<- +250 2\.0\.0 Ok: queued' "no inbound checks for addresses outside inbound.recipients"
ok "... delivered" delivered
done_testing
