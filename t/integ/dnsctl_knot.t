# SPDX-License-Identifier: MIT
# relaykit-dnsctl against Knot DNS, a second RFC 2136 implementation, to
# catch assumptions about BIND: Knot here refuses zone transfers, so
# dnsctl reads the zone name by name.  apply creates every record (kdig
# and drill read them back), a second apply changes nothing, a foreign
# SPF term survives, and a wrong TSIG key is refused with a clear error.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/dnsctl_lib.sh"
need knotd kdig drill
cd "$T" || exit 1

Z=example.test
knot_start $Z notransfer '@ IN TXT "v=spf1 include:_spf.mailer.example -all"' \
	'@ IN MX 10 mail.example.test.'
dkim_key $Z s1
"$KG" -K keys -d $Z -s s2 -a ed25519 >/dev/null 2>&1
rfc2136_yaml $Z 192.0.2.25 >rk.yaml
cat >>rk.yaml <<EOF
  spfPolicy: "-all"
  dmarcPolicy: quarantine
EOF
sed -i 's/      dkimSelector: s1/      keys:\n        - selector: s1\n        - selector: s2\n          algorithm: ed25519-sha256/' rk.yaml
kq() { kdig +short +norec -p "$DNS_PORT" @127.0.0.1 "$@" | sort; }

dc -c rk.yaml apply
is "$RC" 0 "apply: exit 0"
like "$ERR" 'zone transfer of example\.test refused: .*; reading name by name' \
	"a refused zone transfer: read name by name"
is "$(kq A mail.$Z)" 192.0.2.25 "kdig: A"
is "$(kq MX $Z)" "10 mail.$Z." "kdig: the MX that was there already is adopted, not doubled"
is "$(kq TXT $Z)" '"v=spf1 include:_spf.mailer.example ip4:192.0.2.25 -all"' \
	"kdig: the foreign include: survives, ours joins before -all"
is "$(kq TXT _dmarc.$Z)" '"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"' "kdig: DMARC"
ed=$("$KG" --print -K keys -d $Z -s s2 -a ed25519 -f text 2>/dev/null)
is "$(kq TXT s2._domainkey.$Z)" "\"$ed\"" "kdig: the ed25519 key (one string)"
rsa=$(drill -p "$DNS_PORT" @127.0.0.1 TXT s1._domainkey.$Z | grep -c 'v=DKIM1; k=rsa')
is "$rsa" 1 "drill: the rsa key"
dc -c rk.yaml apply
is "$RC" 0 "second apply: exit 0"
like "$OUT" 'zone example\.test: 0 changes' "second apply: nothing to change"
dc -c rk.yaml check
is "$RC" 0 "check: exit 0"
like "$OUT" 'OK +s2\._domainkey\.example\.test TXT .*key OK' "check: the ed25519 key matches"

# a wrong secret: Knot answers NOTAUTH with a TSIG error
SECRET=$(cat "$TSIG_FILE")
printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' >"$TSIG_FILE"
sed -i 's/static: \[.*\]/static: [192.0.2.26]/' rk.yaml
dc -c rk.yaml apply
is "$RC" 1 "a wrong TSIG secret: exit 1"
like "$ERR" 'refused the TSIG key ddns-key\.example\.test\. .*BADSIG' "a wrong TSIG secret: BADSIG"
is "$(kq A mail.$Z)" 192.0.2.25 "nothing changed"
printf '%s' "$SECRET" >"$TSIG_FILE"
dc -c rk.yaml apply
is "$(kq A mail.$Z)" 192.0.2.26 "with the right key the new address is in"
is "$(kq TXT $Z)" '"v=spf1 include:_spf.mailer.example ip4:192.0.2.26 -all"' \
	"and the SPF record follows it"
done_testing
