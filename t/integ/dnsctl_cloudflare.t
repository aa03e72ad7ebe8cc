# SPDX-License-Identifier: MIT
# relaykit-dnsctl against a faithful local fake of the Cloudflare API v4
# (t/integ/dnsctl_cf_fake.py; Cloudflare is paid and remote): zones by
# name and by id, pagination, the batch endpoint and the fallback without
# it, 429 with retry-after then success, a 502 retried, an identical
# record (81058) taken as done, a bad token reported as "code: message".
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/dnsctl_lib.sh"
cd "$T" || exit 1

PORT=$(free_port)
COM=0123456789abcdef0123456789abcdef ORG=fedcba9876543210fedcba9876543210
TOKEN=cf-test-token-$$-secret
printf '%s\n' "$TOKEN" >token
$PY - "$COM" "$ORG" "$TOKEN" >state.json <<'EOF'
import json, sys
com, org, token = sys.argv[1:4]
recs = [{"id": "f%031d" % i, "zone_id": com, "zone_name": "example.com",
         "name": "h%02d.example.com" % i, "type": "A",
         "content": "198.51.100.%d" % i, "proxiable": True,
         "proxied": False, "ttl": 1} for i in range(12)]
recs.append({"id": "f" * 32, "zone_id": com, "zone_name": "example.com",
             "name": "example.com", "type": "TXT",
             "content": "\"v=spf1 ip4:198.51.100.7 mx ~all\"",
             "proxiable": False, "proxied": False, "ttl": 3600})
json.dump({"token": token, "zones": [
    {"id": com, "name": "example.com", "records": recs},
    {"id": org, "name": "example.org", "records": []}]}, sys.stdout)
EOF
dkim_key example.com s1
dkim_key example.org s1
cat >rk.yaml <<EOF
mail:
  hostname: mail.example.com
  domains:
    - name: example.com
      dkimSelector: s1
    - name: example.org
      dkimSelector: s1
dkim:
  keyDir: $T/keys
dns:
  enabled: true
  provider: cloudflare
  cloudflare:
    apiTokenFile: $T/token
    apiUrl: http://127.0.0.1:$PORT/client/v4
    zoneIds:
      example.org: $ORG
  nameservers: [127.0.0.1:1]
  ip:
    fromService: false
    static: [192.0.2.25]
EOF

CF_PID=""
cf_start() { # cf_start FAKE-OPTIONS...: (re)starts the fake, same state
	[ -n "$CF_PID" ] && kill "$CF_PID" 2>/dev/null && wait "$CF_PID" 2>/dev/null
	: >cf.log
	$PY "$DC_SRC/t/integ/dnsctl_cf_fake.py" "$PORT" state.json cf.log "$@" &
	CF_PID=$!
	track $CF_PID
	wait_for "port_open $PORT" 10
}
field() { # field PYTHON-EXPR over zone Z's records r: prints the result
	$PY -c "import json,sys; s=json.load(open('state.json'))
z=[z for z in s['zones'] if z['name']=='$1'][0]; r=z['records']
print($2)"
}

# ------------------------------------------------------------ bad token
cf_start
printf 'not-the-token\n' >token
dc -c rk.yaml plan
is "$RC" 1 "a bad token: exit 1"
like "$ERR" 'cloudflare: GET /zones\?name=.*: HTTP 403: 9109: Invalid access token' \
	"a bad token: Cloudflare's code: message"
printf '%s\n' "$TOKEN" >token

# --------------------------------------------------- plan, pagination
cf_start --max-per-page 5
dc -c rk.yaml plan
is "$RC" 2 "plan: exit 2"
like "$OUT" '~ example\.com 3600 TXT "v=spf1 ip4:198\.51\.100\.7 mx ~all"
      -> "v=spf1 ip4:198\.51\.100\.7 mx ip4:192\.0\.2\.25 ~all"' "plan: the SPF record merged"
like "$OUT" 'zone example\.org: 5 changes' "plan: the zone named by zoneIds"
is "$(grep -c 'GET /client/v4/zones?name=' cf.log)" 2 "zone of mail.example.com looked up by name (walking up)"
is "$(grep -c '/zones/'$COM'/dns_records?per_page=100&page=[0-9]* 200' cf.log)" 3 \
	"pagination: 13 records at 5 a page read as 3 pages"

# -------------------------------------------- apply: 429, then batch
cf_start --fail-429 4
dc -c rk.yaml apply
is "$RC" 0 "apply: exit 0 despite a 429"
like "$(sed -n 4p cf.log)" ' 429$' "the 4th request got 429"
is "$(sed -n 5p cf.log | cut -d' ' -f1,2)" "$(sed -n 4p cf.log | cut -d' ' -f1,2)" \
	"... and was sent again after retry-after"
is "$(grep -c 'POST /client/v4/zones/[0-9a-f]*/dns_records/batch 200' cf.log)" 2 "one batch per zone"
is "$(field example.com "[x['content'] for x in r if x['name']=='mail.example.com']")" \
	"['192.0.2.25']" "the A record is there"
is "$(field example.com "[x['proxied'] for x in r if x['name']=='mail.example.com']")" \
	"[False]" "... not proxied (mail needs the address itself)"
is "$(field example.org "[(x['priority'], x['content']) for x in r if x['type']=='MX']")" \
	"[(10, 'mail.example.com')]" "MX: priority and host"
is "$(field example.com "[x['content'] for x in r if 'spf1' in x['content']]")" \
	"['\"v=spf1 ip4:198.51.100.7 mx ip4:192.0.2.25 ~all\"']" \
	"one SPF record, the foreign terms kept"
like "$(field example.com "[x['content'] for x in r if x['name']=='s1._domainkey.example.com'][0]")" \
	'^"v=DKIM1; k=rsa; p=[^"]{237}" "[^"]+"$' "DKIM: quoted strings of at most 255 bytes"
is "$(field example.com "len([x for x in r if x.get('comment')=='managed by relaykit-dnsctl'])")" \
	6 "records carry a comment that says who manages them"

# ------------------------------------------------------ idempotence
cf_start
dc -c rk.yaml apply
is "$RC" 0 "second apply: exit 0"
is "$(grep -cv '^GET ' cf.log)" 0 "second apply: no change sent"
like "$OUT" 'zone example\.com: 0 changes' "second apply: 0 changes"

# ------------------------ another writer: an identical record exists
cf_start --hide mail.example.com
sed -i 's/^dns:$/dns:\n  dmarcPolicy: reject/' rk.yaml
dc -c rk.yaml apply
is "$RC" 0 "an identical record (81058): not an error"
like "$ERR" 'batch refused .*81058: An identical record already exists' \
	"the batch was refused whole (one transaction)"
like "$ERR" 'mail\.example\.com A: already there .*81058' "... and the single POST taken as done"
is "$(field example.com "[x['content'] for x in r if x['name']=='_dmarc.example.com']")" \
	"['\"v=DMARC1; p=reject\"']" "the other change went through"
is "$(field example.com "len([x for x in r if x['name']=='mail.example.com'])")" 1 \
	"no duplicate A record"

# ---------------------------------- no batch endpoint; a 502 retried
cf_start --no-batch --fail-502 3
sed -i 's/static: \[.*\]/static: [192.0.2.26]/' rk.yaml
dc -c rk.yaml apply
is "$RC" 0 "without the batch endpoint: exit 0"
like "$(cat cf.log)" 'POST /client/v4/zones/[0-9a-f]*/dns_records/batch 404' "the batch endpoint answered 404"
like "$(cat cf.log)" 'PATCH /client/v4/zones/[0-9a-f]*/dns_records/[0-9a-f]* 200' "then one PATCH per change"
like "$(sed -n 3p cf.log)" ' 502$' "a 502 ..."
is "$(field example.com "[x['content'] for x in r if x['name']=='mail.example.com']")" \
	"['192.0.2.26']" "... was retried: the A record moved"
is "$(field example.com "len(r)")" 18 "no record of anyone else's was deleted"

if [ -n "$VG_OK" ]; then
	cf_start --max-per-page 5
	sed -i 's/static: \[.*\]/static: [192.0.2.27]/' rk.yaml
	vg -c rk.yaml apply
	is "$RC" 0 "valgrind: apply through the API is clean (pages, batch)"
else
	ok "no valgrind pass in an AddressSanitizer build" true
fi
ok "the token never appears in any output" sh -c "! grep -qF -- '$TOKEN' '$T/dc.all'"
done_testing
