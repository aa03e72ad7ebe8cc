# SPDX-License-Identifier: MIT
# relaykit-dnsctl's external-dns output: a DNSEndpoint resource, validated
# with ajv (npm, t/deps/npm/dnsctl.txt) against the CRD's schema
# (t/integ/dnsctl_dnsendpoint.schema.json), read back with python's yaml,
# and holding the SPF record merged with what a real BIND serves.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/dnsctl_lib.sh"
need dig
AJV=$(npm_bin ajv)
[ -n "$AJV" ] || skip_all "ajv not installed (./test installs t/deps/npm/*.txt)"
$PY -c 'import yaml' 2>/dev/null || skip_all "python3-yaml not installed"
cd "$T" || exit 1
SCHEMA=$DC_SRC/t/integ/dnsctl_dnsendpoint.schema.json

Z=example.test
bind_start $Z notransfer '@ IN TXT "v=spf1 ip4:198.51.100.7 -all"'
dkim_key $Z s1
cat >rk.yaml <<EOF
mail:
  hostname: mail.$Z
  domains:
    - name: $Z
      dkimSelector: s1
dkim:
  keyDir: $T/keys
dns:
  enabled: true
  provider: external-dns
  externalDns:
    namespace: mail
    outputFile: $T/endpoints.yaml
  nameservers: [127.0.0.1:$DNS_PORT]
  spfInclude: [_spf.mailer.example]
  ip:
    fromService: false
    static: [192.0.2.25, 2001:db8::25]
EOF
val() { # val EXPR: a python expression over the endpoints e
	$PY -c "import yaml,sys; d=list(yaml.safe_load_all(open('$1')))
e=d[0]['spec']['endpoints']
def t(name, typ): return [x['targets'] for x in e if x['dnsName']==name and x['recordType']==typ]
print($2)"
}

dc -c rk.yaml plan
is "$RC" 2 "plan: exit 2"
ok "plan writes no file" test ! -e endpoints.yaml
dc -c rk.yaml apply
is "$RC" 0 "apply: exit 0"
ok "apply wrote dns.externalDns.outputFile" test -s endpoints.yaml
ok "ajv: the output is valid against the DNSEndpoint CRD's schema" \
	"$AJV" validate --spec=draft7 -s "$SCHEMA" -d endpoints.yaml
is "$(val endpoints.yaml "d[0]['metadata']['name'], d[0]['metadata']['namespace']")" \
	"relaykit-mail-example-test mail" "metadata: name from the host, the namespace"
is "$(val endpoints.yaml "t('mail.$Z', 'A'), t('mail.$Z', 'AAAA')")" \
	"[['192.0.2.25']] [['2001:db8::25']]" "A and AAAA"
is "$(val endpoints.yaml "t('$Z', 'MX')")" "[['10 mail.example.test']]" "MX as \"PRIO host\""
is "$(val endpoints.yaml "t('$Z', 'TXT')")" \
	"[['v=spf1 ip4:198.51.100.7 ip4:192.0.2.25 ip6:2001:db8::25 include:_spf.mailer.example -all']]" \
	"TXT: the published SPF record merged (its -all kept)"
want=$("$KG" --print -K keys -d $Z -s s1 -f text 2>/dev/null)
is "$(val endpoints.yaml "t('s1._domainkey.$Z', 'TXT')[0][0]")" "$want" \
	"DKIM: the whole value as one target (external-dns splits it)"
is "$(val endpoints.yaml "t('_dmarc.$Z', 'TXT')")" "[['v=DMARC1; p=none']]" "DMARC"
like "$(val endpoints.yaml "t('_relaykit-dnsctl.$Z', 'TXT')")" 'owner=mail.example.test' \
	"the ownership record goes with the rest"
is "$(val endpoints.yaml "sorted(set(x['recordTTL'] for x in e))")" "[300]" "recordTTL: dns.ttl"

dc -c rk.yaml -o - apply
is "$RC" 0 "-o -: exit 0"
printf '%s\n' "$OUT" >stdout.yaml
ok "-o -: the same document on standard output" cmp -s stdout.yaml endpoints.yaml
like "$ERR" 'zone example\.test: ' "-o -: the plan goes to standard error"

# The schema bites: a document it must refuse.
sed 's/recordType: MX/recordType: SPF/' endpoints.yaml >bad.yaml
ok "ajv refuses a recordType the CRD does not allow" \
	sh -c "! '$AJV' validate --spec=draft7 -s '$SCHEMA' -d bad.yaml >/dev/null 2>&1"
done_testing
