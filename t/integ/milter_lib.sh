# SPDX-License-Identifier: MIT
# t/integ/milter_lib.sh: what the relaykit-milter tests share, on top of
# lib.sh: test keys made with openssl (not relaykit-keygen: the tests must
# not depend on it), a config, the milter on a unix socket in $T, a
# private Postfix that uses it, and three independent verifiers that get
# the public keys handed over instead of asking DNS.
MILTER=$top_builddir/milter/relaykit-milter
KEYS=$T/keys
DNSKEYS=$T/dnskeys.txt

need postfix swaks openssl perl opendkim
[ -x "$MILTER" ] || skip_all "relaykit-milter not built"
$PY -c 'import dkim, nacl' 2>/dev/null || skip_all "python3-dkim/python3-nacl missing"
perl -MMail::DKIM::Verifier -e 1 2>/dev/null || skip_all "libmail-dkim-perl missing"

# mk_key ALG DOMAIN SELECTOR: a private key at the default path and its
# TXT record in $DNSKEYS (and OpenDKIM's test key file).
mk_key() {
	local alg=$1 dom=$2 sel=$3 pem=$KEYS/$2/$3.pem p
	mkdir -p "$KEYS/$dom"
	if [ "$alg" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$pem" 2>/dev/null
		p=$(openssl pkey -in "$pem" -pubout -outform DER | base64 -w0)
	else
		openssl genpkey -algorithm ed25519 -out "$pem" 2>/dev/null
		p=$(openssl pkey -in "$pem" -pubout -outform DER | tail -c 32 |
			base64 -w0)
	fi
	chmod 600 "$pem"
	printf '%s._domainkey.%s v=DKIM1; k=%s; p=%s\n' "$sel" "$dom" \
		"$([ "$alg" = rsa ] && echo rsa || echo ed25519)" "$p" >>"$DNSKEYS"
}

# milter_start CONFIG: starts the milter (socket writable by Postfix's
# smtpd, which runs as user postfix); sets MILTER_PID.
milter_start() {
	rm -f "$T/milter.sock"
	(umask 0111; ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
		exec "$MILTER" -f -c "$1") >>"$T/milter.log" 2>&1 &
	MILTER_PID=$!
	track $MILTER_PID
	wait_for "[ -S $T/milter.sock ]" 10
}

# Postfix lines that put the milter in front of everything it accepts.
PF_MILTER_LINES="smtpd_milters = unix:$T/milter.sock
non_smtpd_milters = unix:$T/milter.sock
milter_default_action = tempfail
milter_protocol = 6"

# The three verifiers: each prints its per-signature lines.
v_python() { $PY "$top_srcdir/t/integ/milter_verify.py" "$DNSKEYS" "$1"; }
v_perl() { perl "$top_srcdir/t/integ/milter_verify.pl" "$DNSKEYS" "$1"; }
# OpenDKIM in test mode (-t), keys from TestPublicKeys: v_opendkim ALG
# FILE judges the signature of algorithm ALG (opendkim -t reports one
# signature, so the others are left out of its copy; no signature covers
# DKIM-Signature fields, so this changes nothing for the one judged).
v_opendkim() {
	local alg=$1 f=$2 conf=$T/opendkim-verify.conf out
	[ -f "$conf" ] || {
		printf 'Mode v\nSyslog no\nTestPublicKeys %s\n' "$T/opendkim.keys" >"$conf"
		cp "$DNSKEYS" "$T/opendkim.keys"
	}
	$PY -c '
import re, sys
alg, src, dst = sys.argv[1:]
raw = open(src, "rb").read()
head, sep, body = raw.partition(b"\r\n\r\n")
fields = re.split(rb"\r\n(?![ \t])", head)
keep = [f for f in fields if not (f.lower().startswith(b"dkim-signature:")
        and (b"a=" + alg.encode() + b";") not in f)]
open(dst, "wb").write(b"\r\n".join(keep) + sep + body)' "$alg" "$f" "$T/od.eml"
	out=$(timeout 60 opendkim -x "$conf" -t "$T/od.eml" 2>&1)
	printf '%s\n' "$out"
	printf '%s\n' "$out" | grep -q 'verification (s=.*) succeeded'
}

# swaks_send FILE [MORE SWAKS ARGS]: submits FILE as the whole DATA.
swaks_send() {
	local f=$1; shift
	swaks --server "127.0.0.1:$PF_PORT" --from sender@example.net \
		--to user@example.org --data "@$f" "$@" 2>&1
}
