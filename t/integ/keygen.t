# SPDX-License-Identifier: MIT
# relaykit-keygen against independent tools: openssl checks every key and
# recomputes every published p=, a signature made with the private key
# verifies against the key rebuilt from the DNS value alone, python's json
# reads the JSON, BIND's named-checkzone reads the zone output.
. "$top_srcdir/t/integ/lib.sh"
need openssl

K=$top_builddir/keygen/relaykit-keygen
[ -x "$K" ] || skip_all "$K not built"
cd "$T" || exit 1
HAVE_CHECKZONE=$(command -v named-checkzone || true)

# kg ARGS...: runs keygen; stdout in $OUT, stderr in $ERR, status in $RC.
kg() {
	"$K" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
}
mode() { stat -c %a "$1"; }
q() { "$@" >/dev/null 2>&1; } # quiet: openssl talks on success
sum() { sha256sum "$1" | cut -d' ' -f1; }

# The value of a zone/text record: every quoted string, joined.
joined() { printf '%s\n' "$1" | grep -o '"[^"]*"' | tr -d '"\n'; }
p_of() { printf '%s\n' "$1" | sed -n 's/.*p=\([A-Za-z0-9+\/=]*\).*/\1/p'; }

# pub_expected KEY: the p= computed by openssl alone (RFC 6376 3.6.1:
# SubjectPublicKeyInfo for rsa; RFC 8463 4.2: the raw 32 bytes for
# ed25519, the tail of its 44-byte SPKI).
pub_expected() {
	if openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q ED25519; then
		openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0
	else
		openssl pkey -in "$1" -pubout -outform DER | base64 -w0
	fi
}

# dns_pubkey P ALG OUT.pem: a public key built only from the DNS value.
dns_pubkey() {
	if [ "$2" = ed25519 ]; then
		{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'
		  printf '%s' "$1" | base64 -d; } >"$3.der"
	else
		printf '%s' "$1" | base64 -d >"$3.der"
	fi
	openssl pkey -pubin -inform DER -in "$3.der" -out "$3" 2>/dev/null
}

# ---------------------------------------------------------------- basics
kg --help
is "$RC" 0 "--help exits 0"
like "$OUT" '--rotate' "--help lists the options"
kg -V
like "$OUT" '^relaykit-keygen [0-9]' "-V prints the version"
kg -d example.com -b 1000
is "$RC" 64 "-b 1000 is a usage error (64)"
kg -d 'exa mple.com'
is "$RC" 64 "a bad domain is a usage error"
kg -K keys -d example.com -s ../evil
is "$RC" 64 "a selector that would leave the key folder is refused"
ok "... and nothing was written" test ! -e evil.pem -a ! -e keys

# ------------------------------------------------- every algorithm/size
printf 'hello, DKIM\n' >msg
for spec in rsa:1024 rsa:2048 rsa:3072 rsa:4096 ed25519:0; do
	alg=${spec%:*} bits=${spec#*:}
	sel=s-$alg-$bits
	if [ "$alg" = rsa ]; then kg -K keys -d example.com -s "$sel" -b "$bits" -f text
	else kg -K keys -d example.com -s "$sel" -a ed25519 -f text; fi
	key=keys/example.com/$sel.pem
	is "$RC" 0 "$alg $bits: created"
	ok "$alg $bits: openssl pkey -check accepts it" \
		q openssl pkey -in "$key" -check -noout
	ok "$alg $bits: PKCS#8 PEM" grep -q '^-----BEGIN PRIVATE KEY-----$' "$key"
	text=$(openssl pkey -in "$key" -noout -text 2>&1 | head -1)
	if [ "$alg" = rsa ]; then
		like "$text" "^Private-Key: \\($bits bit" "$alg $bits: an RSA key of $bits bits"
	else
		like "$text" '^ED25519 Private-Key' "ed25519: an Ed25519 key"
	fi
	is "$(mode "$key")" 600 "$alg $bits: mode 0600"
	like "$OUT" "^v=DKIM1; k=$alg; p=[A-Za-z0-9+/]+=*\$" "$alg $bits: the TXT value"
	p=$(p_of "$OUT")
	is "$p" "$(pub_expected "$key")" "$alg $bits: p= is the public key openssl computes"
	dns_pubkey "$p" "$alg" "$T/dns-$sel.pem"
	if [ "$alg" = rsa ]; then
		openssl pkeyutl -sign -rawin -digest sha256 -inkey "$key" -in msg \
			-out "sig-$sel" 2>/dev/null
		ok "$alg $bits: a signature verifies against the published key" \
			q openssl pkeyutl -verify -rawin -digest sha256 -pubin \
			-inkey "dns-$sel.pem" -in msg -sigfile "sig-$sel"
	else
		openssl pkeyutl -sign -rawin -inkey "$key" -in msg -out "sig-$sel"
		ok "$alg: a signature verifies against the published key" \
			q openssl pkeyutl -verify -rawin -pubin -inkey "dns-$sel.pem" \
			-in msg -sigfile "sig-$sel"
	fi
	printf 'tampered\n' >>msg
	if [ "$alg" = rsa ]; then
		! openssl pkeyutl -verify -rawin -digest sha256 -pubin -inkey \
			"dns-$sel.pem" -in msg -sigfile "sig-$sel" >/dev/null 2>&1
	else
		! openssl pkeyutl -verify -rawin -pubin -inkey "dns-$sel.pem" \
			-in msg -sigfile "sig-$sel" >/dev/null 2>&1
	fi
	is "$?" 0 "$alg $bits: ... and fails on a changed message"
	printf 'hello, DKIM\n' >msg
done
is "$(mode keys)" 700 "the key folder is created 0700"
is "$(mode keys/example.com)" 700 "the domain folder is created 0700"

kg -K keys -d example.org -f text
is "$(openssl pkey -in keys/example.org/mail.pem -noout -text | head -1)" \
	"Private-Key: (2048 bit, 2 primes)" "default: rsa 2048, selector mail"
kg -K keys -d example.org -a ed25519 -f text
ok "default ed25519 selector: mail-ed25519" test -f keys/example.org/mail-ed25519.pem
ok "no temp files left behind" test -z "$(find keys -name '*.tmp.*')"

# ---------------------------------------------- overwrite, force, rotate
key=keys/example.org/mail.pem
before=$(sum "$key")
kg -K keys -d example.org
is "$RC" 73 "an existing key is not overwritten (exit 73)"
like "$ERR" 'exists: not overwritten' "... and says so"
is "$(sum "$key")" "$before" "... and the file is unchanged"
kg -K keys -d example.org --force
is "$RC" 0 "--force replaces it"
ok "... with a new key" test "$(sum "$key")" != "$before"
is "$(mode "$key")" 600 "... still mode 0600"

before=$(sum "$key")
today=$(date -u +%Y%m%d)
kg -K keys -d example.org --rotate -f text
is "$RC" 0 "--rotate"
is "$(sum "$key")" "$before" "--rotate keeps the old key"
ok "--rotate writes the dated selector s$today" test -f "keys/example.org/s$today.pem"
like "$ERR" "new key for example.org selector s$today" "--rotate prints the new selector"
like "$ERR" "keeping old key of example.org selector mail" "... and the old one"
is "$(p_of "$OUT")" "$(pub_expected "keys/example.org/s$today.pem")" "... and the new record"
s1=$(sum "keys/example.org/s$today.pem")
kg -K keys -d example.org --rotate -f text
ok "a second --rotate the same day takes s$today-2" test -f "keys/example.org/s$today-2.pem"
is "$(sum "keys/example.org/s$today.pem")" "$s1" "... and keeps the first rotation"
kg -K keys -d example.org -a ed25519 --rotate
ok "ed25519 --rotate: s$today-ed25519" test -f "keys/example.org/s$today-ed25519.pem"
kg -K keys -d example.org --rotate=mail2026
ok "--rotate=SEL names the selector" test -f keys/example.org/mail2026.pem
kg -K keys -d example.org --rotate=mail2026
is "$RC" 73 "--rotate=SEL never overwrites either"
kg -K keys -d example.org --rotate --force
is "$RC" 64 "--rotate with --force is refused"

# ---------------------------------------------------------------- print
kg --print -K keys -d example.org -s mail -f text
is "$RC" 0 "--print reads an existing key"
is "$(p_of "$OUT")" "$(pub_expected "$key")" "--print: p= matches openssl"
kg --print -K keys -d example.org -s mail -a ed25519
is "$RC" 65 "--print: a key of the wrong type is an error (65)"
kg --print -K keys -d example.org -s nosuch
is "$RC" 66 "--print: a missing key exits 66"
printf 'not a key\n' >junk.pem
kg --print -k junk.pem -d example.org
is "$RC" 65 "--print: a file that is not a key exits 65"
chmod 644 "$key"
kg --print -K keys -d example.org -f text
like "$ERR" 'readable by others' "--print warns about a world-readable key"
chmod 600 "$key"

# ----------------------------------------------------------------- zone
# zone_ok OUTPUT VALUE NAME: every string <= 255 bytes, joined = VALUE.
zone_ok() {
	local s bad=0
	for s in $(printf '%s\n' "$1" | grep -o '"[^"]*"' | tr ' ' '_'); do
		[ $(( ${#s} - 2 )) -le 255 ] || bad=1
	done
	is "$bad" 0 "$3: every string <= 255 bytes"
	is "$(joined "$1")" "$2" "$3: the strings join to the value"
}
for sel in s-rsa-1024 s-rsa-2048 s-rsa-4096 s-ed25519-0; do
	kg --print -K keys -d example.com -s "$sel" -a "$(case $sel in *ed*) echo ed25519;; *) echo rsa;; esac)" -f text
	value=$OUT
	kg --print -K keys -d example.com -s "$sel" -a "$(case $sel in *ed*) echo ed25519;; *) echo rsa;; esac)"
	zone=$OUT
	like "$zone" "^$sel\\._domainkey\\.example\\.com\\. IN TXT \\( \"" "$sel: zone record name"
	zone_ok "$zone" "$value" "$sel"
	printf '%s\n' "$zone" >>records.zone
	[ "$sel" = s-rsa-4096 ] && { z4096=$zone; v4096=$value; }
done
n=$(printf '%s\n' "$z4096" | grep -o '"[^"]*"' | wc -l)
is "$n" $(( (${#v4096} + 254) / 255 )) "4096-bit record: ${#v4096} bytes in $n strings"
first=$(printf '%s\n' "$z4096" | grep -o '"[^"]*"' | head -1)
is "$(( ${#first} - 2 ))" 255 "4096-bit record: the first string is exactly 255 bytes"

if [ -n "$HAVE_CHECKZONE" ]; then
	{
		printf '$TTL 300\n@ IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300\n'
		printf '@ IN NS ns.example.com.\nns IN A 192.0.2.1\n'
		cat records.zone
	} >example.com.zone
	ok "named-checkzone accepts the zone output" \
		named-checkzone -q example.com example.com.zone
	named-compilezone -q -o compiled.zone example.com example.com.zone 2>/dev/null
	got=$(grep '^s-rsa-4096\._domainkey' compiled.zone | sed 's/^[^"]*//' |
		grep -o '"[^"]*"' | tr -d '"\n')
	is "$got" "$v4096" "BIND reads the 4096-bit record back as the value"
else
	skip "named-checkzone not installed (bind9-utils)"
	skip "named-checkzone not installed (bind9-utils)"
fi

# ----------------------------------------------------------------- json
kg --print -K keys -d example.com -s s-ed25519-0 -a ed25519 -f json
printf '%s\n' "$OUT" >one.json
ok "JSON parses with python's json" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and len(d) == 1, d
o = d[0]
assert set(o) == {"domain", "selector", "algorithm", "name", "value", "keyFile"}, o
assert o["domain"] == "example.com" and o["selector"] == "s-ed25519-0", o
assert o["algorithm"] == "ed25519-sha256", o
assert o["name"] == "s-ed25519-0._domainkey.example.com", o
assert o["value"].startswith("v=DKIM1; k=ed25519; p="), o
assert o["keyFile"] == "keys/example.com/s-ed25519-0.pem", o
' one.json

# ------------------------------------------------------------------ --all
mkdir -p conf
cat >conf/relaykit.yaml <<-'EOF'
	mail:
	  domains:
	    - name: a.example
	    - name: B.Example
	      keys:
	        - selector: k1
	          algorithm: ed25519-sha256
	        - selector: k2
	          keySize: 1024
	          keyFile: other/k2.pem
	    - name: c.example
	      dkimSelector: c1
	      ed25519Selector: c2
	dkim:
	  algorithm: both
	  keySize: 3072
	  keyDir: dkim
EOF
kg -n -c conf/relaykit.yaml
is "$OUT" "configuration OK" "-n checks the config"
kg -c conf/relaykit.yaml -K conf/dkim -d a.example
ok "one key made beforehand" test -f conf/dkim/a.example/mail.pem
pre=$(sum conf/dkim/a.example/mail.pem)
kg --all -c conf/relaykit.yaml -f json
is "$RC" 0 "--all creates the missing keys"
files=$(cd conf && find dkim other -type f | sort | tr '\n' ' ')
is "$files" "dkim/a.example/mail-ed25519.pem dkim/a.example/mail.pem dkim/b.example/k1.pem dkim/c.example/c1.pem dkim/c.example/c2.pem other/k2.pem " \
	"--all: exactly the keys the config names"
is "$(sum conf/dkim/a.example/mail.pem)" "$pre" "--all leaves the existing key alone"
printf '%s\n' "$OUT" >all.json
ok "--all -f json lists the 5 created keys" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = sorted((o["domain"], o["selector"], o["algorithm"]) for o in d)
assert got == [("a.example", "mail-ed25519", "ed25519-sha256"),
    ("b.example", "k1", "ed25519-sha256"), ("b.example", "k2", "rsa-sha256"),
    ("c.example", "c1", "rsa-sha256"), ("c.example", "c2", "ed25519-sha256")], got
' all.json
like "$(openssl pkey -in conf/other/k2.pem -noout -text | head -1)" '1024 bit' \
	"--all: keys[].keySize"
like "$(openssl pkey -in conf/dkim/c.example/c1.pem -noout -text | head -1)" '3072 bit' \
	"--all: dkim.keySize"
is "$(mode conf/other/k2.pem)" 600 "--all: keys are 0600"
state=$(cd conf && find dkim other -printf '%p %m %s %T@\n' | sort)
kg --all -c conf/relaykit.yaml
is "$RC" 0 "a second --all succeeds"
is "$OUT" "" "... prints no record"
like "$ERR" '6 keys in the config: 0 created, 6 present, 0 failed' "... says all are present"
is "$(cd conf && find dkim other -printf '%p %m %s %T@\n' | sort)" "$state" \
	"... and changes nothing"
kg --all --print -c conf/relaykit.yaml -f text
is "$(printf '%s\n' "$OUT" | wc -l)" 6 "--all --print: one record per key"
rm conf/dkim/c.example/c2.pem
kg --all -c conf/relaykit.yaml
like "$ERR" '1 created, 5 present' "--all re-creates a deleted key only"

# --all when a key cannot be written: clear error, non-zero exit.
mkdir -p conf/dkim/d.example
cat >conf/ro.yaml <<-'EOF'
	mail:
	  domains:
	    - name: d.example
	dkim:
	  keyDir: dkim
EOF
mkdir conf/dkim/d.example/mail.pem
kg --all -c conf/ro.yaml
is "$RC" 73 "--all: a key path that is not a file exits 73"
like "$ERR" 'mail.pem: exists and is not a file' "... and names it"

# --all with signing off: no keys are needed, none are made.
printf 'mail:\n  domains:\n    - name: off.example\ndkim:\n  enabled: false\n  keyDir: off\n' >conf/off.yaml
kg --all -c conf/off.yaml
is "$RC" 0 "--all with dkim.enabled false succeeds"
ok "... and creates nothing" test ! -e conf/off

# ------------------------------------------------------- config errors
cat >conf/bad.yaml <<-'EOF'
	mail:
	  domains:
	    - name: a.example
	dkim:
	  keySize: 5000
	  algoritm: both
EOF
kg --all -c conf/bad.yaml
is "$RC" 78 "--all: a config error exits 78"
like "$ERR" '^conf/bad.yaml:5:12: dkim.keySize' "... naming FILE:LINE:COL"
like "$ERR" 'conf/bad.yaml:6:3: dkim.algoritm: unknown key' "... every error"
kg -n -c conf/bad.yaml
is "$RC" 78 "-n on a bad config exits 78"
printf 'mail:\n  domains:\n    - name: a.example\n      dkimSelector: "../x"\n' >conf/sel.yaml
kg --all -c conf/sel.yaml
is "$RC" 78 "--all: a selector that cannot name a file exits 78"
like "$ERR" 'a.example: selector "../x"' "... and says which"
kg --all -c conf/missing.yaml
is "$RC" 78 "--all: a missing config exits 78"

done_testing
