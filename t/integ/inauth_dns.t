# SPDX-License-Identifier: MIT
# lib/rk_inauth (inbound.security) against real DNS records served by a
# loopback BIND: SPF (libspf2) pass and fail, the null sender checked at
# its HELO name, DKIM (libopendkim) pass and fail on a tampered body,
# DMARC (libopendmarc) pass and fail under p=reject, and what
# rejectFail / rejectOnFail make of them: 550 5.7.1, or 451 4.7.1 when
# DNS fails (a name the server refuses, a server that is not there).
# libspf2 passes every loopback client unasked, so the clients checked
# here are documentation addresses (192.0.2.0/24): only SPF evaluates
# them, no packet goes there.
. "$top_srcdir/t/integ/lib.sh"
need named openssl
C=$top_builddir/t/unit/inauth_check
[ -x "$C" ] || skip_all "inauth_check not built"
$PY -c 'import dkim' 2>/dev/null || skip_all "python3-dkim missing"
[ -f /usr/share/publicsuffix/public_suffix_list.dat ] ||
	skip_all "publicsuffix missing"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$T/s1.pem" 2>/dev/null
p=$(openssl pkey -in "$T/s1.pem" -pubout -outform DER | base64 -w0)
# a TXT over 255 octets is several strings; verifiers join them
txt=$(printf 'v=DKIM1; k=rsa; p=%s' "$p" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' ')
cat >"$T/sender.test.zone" <<Z
\$TTL 300
@ IN SOA ns.sender.test. root.sender.test. 1 3600 600 86400 300
@ IN NS ns.sender.test.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:192.0.2.1 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
s1._domainkey IN TXT $txt
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
R=127.0.0.1:$dp

printf 'From: A <a@sender.test>\r\nTo: postmaster@example.com\r\nSubject: report\r\nMessage-ID: <1@sender.test>\r\n\r\nHello.\r\n' >"$T/plain.eml"
$PY - "$T/s1.pem" "$T/plain.eml" "$T/signed.eml" <<'PY'
import sys, dkim
key, src, dst = sys.argv[1:]
msg = open(src, "rb").read()
sig = dkim.sign(msg, b"s1", b"sender.test", open(key, "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"message-id"])
open(dst, "wb").write(sig + msg)
PY
sed 's/^Hello\./Hello, changed./' "$T/signed.eml" >"$T/tampered.eml"

out=$("$C" "$R" 192.0.2.1 mail.sender.test a@sender.test "$T/signed.eml" 2>&1)
like "$out" "spf=pass" "SPF pass: the client is in sender.test's record"
like "$out" "dkim=pass" "DKIM pass: the signature verifies with the DNS key"
like "$out" "dkim_domain=sender.test" "DKIM: d= reported"
like "$out" "dmarc=pass" "DMARC pass: aligned SPF and DKIM"
like "$out" "refusal=none" "a pass is not refused"

out=$("$C" "$R" 192.0.2.9 mail.sender.test a@sender.test "$T/signed.eml" 2>&1)
like "$out" "spf=fail" "SPF fail: the client is not in the record (-all)"
like "$out" "dmarc=pass" "DMARC still passes on the aligned DKIM signature"
like "$out" "refusal=550 5.7.1 SPF check failed" "rejectFail: 550 5.7.1 on an SPF fail"

out=$("$C" "$R" 192.0.2.2 mx.test "" "$T/tampered.eml" 2>&1)
like "$out" "spf=pass" "null sender: SPF checks postmaster@HELO (mx.test, pass)"
like "$out" "spf_domain=mx.test" "null sender: the identity is the HELO name"
like "$out" "dkim=fail" "DKIM fail: the body was changed after signing"
like "$out" "dmarc=fail" "DMARC fail: nothing aligned with sender.test"
like "$out" "dmarc_policy=reject" "DMARC policy read: p=reject"
like "$out" "refusal=550 5.7.1 DMARC policy of sender.test" "rejectOnFail: 550 5.7.1 on a DMARC fail under p=reject"

out=$("$C" "$R" 192.0.2.2 mx.test "" "$T/signed.eml" 2>&1)
like "$out" "dmarc=pass" "DMARC pass on DKIM alone (SPF not aligned)"

out=$("$C" "$R" 192.0.2.2 mx.test a@elsewhere.example "$T/plain.eml" 2>&1)
like "$out" "spf=temperror" "a name the server refuses is a DNS error: temperror"
like "$out" "refusal=451 4.7.1" "a DNS error is refused for now: 451 4.7.1"

np=$(free_port)
out=$("$C" "127.0.0.1:$np" 192.0.2.1 mail.sender.test a@sender.test "$T/plain.eml" 2>&1)
like "$out" "spf=temperror" "no DNS server at all: temperror"
done_testing
