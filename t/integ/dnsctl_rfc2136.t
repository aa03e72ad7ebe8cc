# SPDX-License-Identifier: MIT
# relaykit-dnsctl against a real BIND 9 on loopback, by RFC 2136 dynamic
# update signed with TSIG (hmac-sha256): apply creates every record and
# dig/drill read them back; a second apply changes nothing; a wrong key is
# refused with a clear error; foreign records and SPF terms survive; check
# compares the published DKIM key with the key on disk and finds a missing
# DMARC record; wait, the change guard, conflicts and --adopt.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/dnsctl_lib.sh"
need named nsupdate dig drill
cd "$T" || exit 1

Z=example.test
bind_start $Z transfer \
	'@ IN TXT "v=spf1 ip4:198.51.100.7 include:_spf.example.test ~all"' \
	'@ IN TXT "google-site-verification=abc123"' \
	'_spf IN TXT "v=spf1 a mx ip4:198.51.100.0/24 -all"' \
	'www IN A 192.0.2.80' 'ftp IN A 192.0.2.81' 'old IN A 192.0.2.82'
dkim_key $Z s1
rfc2136_yaml $Z 192.0.2.25 2001:db8::25 >rk.yaml
SECRET=$(cat "$TSIG_FILE")
upd() { # nsupdate with the key: upd 'update add ...'...
	{ printf 'server 127.0.0.1 %s\nzone %s\n' "$DNS_PORT" $Z
	  for l in "$@"; do printf '%s\n' "$l"; done; printf 'send\n'; } |
		nsupdate -y "hmac-sha256:$TSIG_NAME:$SECRET" >/dev/null 2>&1
}
joined() { tr -d '\n' | sed 's/" "//g; s/^"//; s/"$//'; }

# ------------------------------------------------------------- create
dc -c rk.yaml plan
is "$RC" 2 "plan on a fresh zone: exit 2 (changes)"
like "$OUT" '\+ mail\.example\.test 300 A 192\.0\.2\.25' "plan: + A"
like "$OUT" '\+ mail\.example\.test 300 AAAA 2001:db8::25' "plan: + AAAA"
like "$OUT" '~ example\.test 300 TXT "v=spf1 ip4:198\.51\.100\.7' "plan: the SPF record is edited, not added"
like "$OUT" '-> "v=spf1 ip4:198\.51\.100\.7 include:_spf\.example\.test ip4:192\.0\.2\.25 ip6:2001:db8::25 ~all"' \
	"plan: old -> new, ours before ~all"
dc -c rk.yaml apply
is "$RC" 0 "apply: exit 0"
like "$ERR" '7 changes applied \(rfc2136\)' "apply: says how many"
is "$(q A mail.$Z)" 192.0.2.25 "dig: A"
is "$(q AAAA mail.$Z)" 2001:db8::25 "dig: AAAA"
is "$(q MX $Z)" "10 mail.$Z." "dig: MX"
is "$(q TXT _dmarc.$Z)" '"v=DMARC1; p=none; rua=mailto:dmarc@example.test"' "dig: DMARC"
spf=$(q TXT $Z | grep spf1)
is "$spf" '"v=spf1 ip4:198.51.100.7 include:_spf.example.test ip4:192.0.2.25 ip6:2001:db8::25 ~all"' \
	"dig: one SPF record, the foreign terms kept"
like "$(q TXT $Z)" 'google-site-verification=abc123' "a foreign TXT record is untouched"
want=$("$KG" --print -K keys -d $Z -s s1 -f text 2>/dev/null)
dk=$(dig +short -p "$DNS_PORT" @127.0.0.1 TXT s1._domainkey.$Z)
is "$(printf '%s' "$dk" | joined)" "$want" "dig: the DKIM value is relaykit-keygen's"
like "$dk" '^"[^"]{255}" "' "dig: the DKIM value is split into 255-byte strings"
dr=$(drill -p "$DNS_PORT" @127.0.0.1 TXT s1._domainkey.$Z | grep -v '^;' | grep TXT)
like "$dr" 'v=DKIM1; k=rsa; p=' "drill: the DKIM record"
like "$(q TXT _relaykit-dnsctl.$Z)" 'owner=mail.example.test;' "the ownership record lists this relay"

# ------------------------------------------------------- idempotence
dc -c rk.yaml apply
is "$RC" 0 "second apply: exit 0"
like "$OUT" 'zone example.test: 0 changes' "second apply: nothing to change"
serial=$(q SOA $Z | cut -d' ' -f3)
dc -c rk.yaml plan
is "$RC" 0 "plan after apply: exit 0 (no change)"
is "$(q SOA $Z | cut -d' ' -f3)" "$serial" "the zone's serial did not move"

# ------------------------------------------------------------- check
dc -c rk.yaml check
is "$RC" 0 "check: exit 0"
like "$OUT" "OK +s1\\._domainkey\\.example\\.test TXT @127\\.0\\.0\\.1:$DNS_PORT: key OK" \
	"check: key OK, like opendkim-testkey"
like "$OUT" 'OK +example\.test TXT .*\(3 lookups\)' "check: SPF lookups counted through include:"
sed 's/^  enabled: true$/  enabled: false/' rk.yaml >off.yaml
dc -c off.yaml check
is "$RC" 0 "check with dns.enabled false: the DKIM keys only (opendkim-testkey's job)"
is "$(printf '%s\n' "$OUT" | grep -vc '_domainkey')" 0 "... no other record is checked"
like "$ERR" 'checking the DKIM keys only' "... and it says so"
cp keys/$Z/s1.pem s1.good
"$KG" -K keys -d $Z -s s1 --force >/dev/null 2>&1
dc -c rk.yaml check
is "$RC" 2 "check: a DKIM record that is not the key on disk: exit 2"
like "$OUT" 'DIFFERENT +s1\._domainkey\.example\.test TXT .*not the key on disk' \
	"check: says the published key is not the key on disk"
dc -c rk.yaml apply
like "$OUT" '~ s1\._domainkey\.example\.test' "apply publishes the new key in place"
dc -c rk.yaml check
is "$RC" 0 "check: the new key is OK"
upd "update delete _dmarc.$Z TXT"
dc -c rk.yaml check
is "$RC" 2 "check: a missing DMARC record: exit 2"
like "$OUT" 'MISSING +_dmarc\.example\.test TXT .*no DMARC record' "check: names the missing DMARC record"

# -------------------------------------------------------------- wait
dc -c rk.yaml wait --timeout 2s
is "$RC" 1 "wait: times out while DMARC is missing"
like "$ERR" 'timed out after .*_dmarc\.example\.test' "wait: says what it waits for"
dc -c rk.yaml apply
dc -c rk.yaml wait --timeout 20s
is "$RC" 0 "wait: every record visible after apply"

# ----------------------------------------------- addresses change
sed -i 's/static: \[.*\]/static: [192.0.2.26]/' rk.yaml
dc -c rk.yaml apply
is "$RC" 0 "new address: applied"
like "$OUT" '~ mail\.example\.test 300 A 192\.0\.2\.25
      -> 192\.0\.2\.26' "new address: the A record is edited"
like "$OUT" '- mail\.example\.test 300 AAAA 2001:db8::25' "the address no longer wanted goes (it is ours)"
is "$(q A mail.$Z)" 192.0.2.26 "dig: the new A"
is "$(q TXT $Z | grep spf1)" \
	'"v=spf1 ip4:198.51.100.7 include:_spf.example.test ip4:192.0.2.26 ~all"' \
	"dig: SPF: our old terms out, the new one in, the foreign ones kept"

# ----------------------------------------------- conflicts, --adopt
upd "update add mail.$Z 300 A 203.0.113.9"
dc -c rk.yaml plan
is "$RC" 0 "a foreign address at the host: nothing planned"
like "$OUT" '! mail\.example\.test A 203\.0\.113\.9: not created by relaykit-dnsctl' \
	"plan: reports the conflict"
dc -c rk.yaml --adopt plan
like "$OUT" '- mail\.example\.test 300 A 203\.0\.113\.9' "--adopt: the foreign address would go"
upd "update delete mail.$Z A 203.0.113.9"

# ------------------------------------------------------------- guard
sed -i 's/static: \[.*\]/static: [192.0.2.27]/' rk.yaml
printf '  maxChangePercent: 10\n' >>rk.yaml
dc -c rk.yaml apply
is "$RC" 1 "guard: a plan over dns.maxChangePercent is refused"
like "$ERR" 'changes or deletes 2 of its 1[0-9] records, more than dns\.maxChangePercent \(10%\)' \
	"guard: says why"
is "$(q A mail.$Z)" 192.0.2.26 "guard: nothing was changed"
dc -c rk.yaml --force apply
is "$RC" 0 "guard: --force applies it"
is "$(q A mail.$Z)" 192.0.2.27 "guard: --force changed the record"

# --------------------------------------------------------- wrong keys
printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' >"$TSIG_FILE"
sed -i 's/static: \[.*\]/static: [192.0.2.28]/' rk.yaml
dc -c rk.yaml --force apply
is "$RC" 1 "a wrong TSIG secret: exit 1"
like "$ERR" "127\\.0\\.0\\.1:$DNS_PORT refused the TSIG key ddns-key\\.example\\.test\\. .*BADSIG \\(a wrong dns\\.rfc2136\\.tsigSecret\\)" \
	"a wrong TSIG secret: a clear error (BADSIG)"
printf '%s' "$SECRET" >"$TSIG_FILE"
sed -i "s/tsigKeyName: .*/tsigKeyName: other.example.test/" rk.yaml
dc -c rk.yaml --force apply
like "$ERR" 'refused the TSIG key other\.example\.test\. .*BADKEY' "an unknown TSIG key: BADKEY"
is "$(q A mail.$Z)" 192.0.2.27 "nothing changed with a refused key"
ok "the update log shows no change without the key" \
	grep -q 'update.*denied\|request has invalid signature\|tsig verify failure' "$SERVER_LOG"

# ----------------------------------------------------------- valgrind
sed -i "s/tsigKeyName: .*/tsigKeyName: $TSIG_NAME/" rk.yaml
sed -i 's/static: \[.*\]/static: [192.0.2.29, 2001:db8::29]/' rk.yaml
if [ -n "$VG_OK" ]; then
	vg -c rk.yaml --force apply
	is "$RC" 0 "valgrind: transfer, plan and TSIG-signed update are clean"
	vg -c rk.yaml check
	is "$RC" 0 "valgrind: check is clean"
else
	ok "no valgrind pass in an AddressSanitizer build" true
	ok "(the sanitizers check this build)" true
fi

# ------------------------------------------------------------ secrets
ok "the TSIG secret never appears in any output" \
	sh -c "! grep -qF -- '$SECRET' '$T/dc.all'"
done_testing
