# SPDX-License-Identifier: MIT
# Issue 10.2 and 10.3: what leaves a real Postfix (default settings) for a
# signing domain is signed, and the signature holds on the wire.
#
# Postfix's smtp(8) breaks lines longer than smtp_line_length_limit (998)
# by inserting CRLF SPACE, after the milter signed.  Messages with a
# 2000-character References header, a 1500-character Subject, long folded
# header lines and 5000-character body lines must reach the sink (which
# accepts long lines) with their lines broken and pass python3-dkim,
# Mail::DKIM and OpenDKIM; with Postfix's limit 0 (and the milter told so)
# they arrive unbroken and verify too.  A milter that ignored the breaking
# fails every verifier (the check is sensitive).  A message whose signed
# headers pass the milter's 4 MiB cap is refused with 552 5.3.4 when its
# From domain signs, and passes (unsigned) when it does not.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"

mk_key rsa wire.example mail
mk_key ed25519 wire.example mail-ed25519
config() { # LIMIT
	cat >"$T/rk.yaml" <<Y
mail:
  domains: [wire.example]
dkim:
  algorithm: both
  keyDir: $KEYS
  lineLengthLimit: $1
milter:
  listen: unix:$T/milter.sock
metrics:
  enabled: false
Y
}
config 998
ok "milter starts" milter_start "$T/rk.yaml"
sp=$(free_port)
ok "sink listens" start_sink "$sp"
PF_PORT=$(free_port)
ok "postfix starts with the milter, default smtp_line_length_limit" \
	pf_start main "$PF_PORT" "relayhost = [127.0.0.1]:$sp" \
	"message_size_limit = 0" "$PF_MILTER_LINES"
is "$(postconf -c "$PF/etc" -h smtp_line_length_limit)" 998 "Postfix breaks lines at 998"

# the messages: long lines in every place a signer looks
$PY - "$T/msgs" <<'P'
import os, sys
d = sys.argv[1]
os.makedirs(d)
refs = " ".join("<%040d@wire.example>" % i for i in range(46))
assert len(refs) > 1900
cases = {
    "references": ("References: %s\r\n" % refs, "short body\r\n"),
    "subject": ("Subject: %s\r\n" % ("s" * 1500), "body\r\n"),
    "folded": ("Subject: first\r\n\t%s\r\n\t%s\r\n" % ("a" * 1200, "b" * 2100),
               "body\r\n"),
    "body": ("Subject: long body\r\n",
             "%s\r\nshort\r\n%s\r\n%s\r\n" % ("x" * 5000, "y" * 998,
                                           "z" * 999)),
    "body-spaces": ("Subject: spaces at the breaks\r\n",
                    ("word " * 600) + "\r\n" + (" " * 997) + "tail\r\n"),
    "everything": ("References: %s\r\nSubject: %s\r\n" % (refs, "q" * 1100),
                   ("w" * 3000 + "\r\n") * 3),
}
for name, (hdrs, body) in cases.items():
    with open(os.path.join(d, name), "w", newline="") as f:
        f.write("From: App <app@wire.example>\r\nTo: user@example.org\r\n"
                "Date: Mon, 30 Nov 2026 05:00:00 +0000\r\n"
                "Message-ID: <%s@wire.example>\r\nX-Case: %s\r\n%s\r\n%s"
                % (name, name, hdrs, body))
P
n0=$(sink_count)
for f in "$T/msgs"/*; do swaks_send "$f" >/dev/null; done
ok "6 messages captured" wait_for "[ \$(sink_count) -ge $((n0 + 6)) ]" 60

maxline() { $PY -c 'import sys; print(max(len(l) for l in open(sys.argv[1], "rb").read().split(b"\r\n")))' "$1"; }
check_all() { # LABEL FIRST LAST WANT-MAX-LINE
	local label=$1 first=$2 last=$3 cmp=$4 i f c
	for i in $(seq "$first" "$last"); do
		f=$SINK/$i.eml
		c=$(sed -n 's/^X-Case: //p' "$f" | tr -d '\r')
		ok "$label $c: lines as Postfix sent them ($(maxline "$f") $cmp)" \
			test "$(maxline "$f")" $cmp
		ok "$label $c: python3-dkim verifies both signatures" v_python "$f"
		ok "$label $c: Mail::DKIM verifies rsa-sha256" v_perl "$f"
		ok "$label $c: OpenDKIM verifies ed25519-sha256" v_opendkim ed25519-sha256 "$f"
		ok "$label $c: OpenDKIM verifies rsa-sha256" v_opendkim rsa-sha256 "$f"
	done
}
check_all "limit 998:" $((n0 + 1)) $((n0 + 6)) "-le 998"

# Postfix told not to break (and the milter with it): long lines arrive
postconf -c "$PF/etc" -e smtp_line_length_limit=0
postfix -c "$PF/etc" reload >/dev/null 2>&1
config 0; kill -HUP "$MILTER_PID"
wait_for "grep -q 'reload' $T/milter.log" 5
sleep 0.5
n1=$(sink_count)
for f in "$T/msgs"/*; do swaks_send "$f" >/dev/null; done
ok "6 more captured" wait_for "[ \$(sink_count) -ge $((n1 + 6)) ]" 60
check_all "limit 0:" $((n1 + 1)) $((n1 + 6)) "-gt 998"

# sensitivity: the milter believes Postfix does not break, Postfix does
postconf -c "$PF/etc" -e smtp_line_length_limit=998
postfix -c "$PF/etc" reload >/dev/null 2>&1
sleep 0.5
n2=$(sink_count)
swaks_send "$T/msgs/references" >/dev/null
ok "a mismatched limit is delivered" wait_for "[ \$(sink_count) -gt $n2 ]" 30
ok "and fails python3-dkim: without the milter's breaking, long lines break signatures" \
	eval "! v_python $SINK/$((n2 + 1)).eml >/dev/null"
ok "and fails Mail::DKIM" eval "! v_perl $SINK/$((n2 + 1)).eml >/dev/null"
config 998; kill -HUP "$MILTER_PID"; sleep 0.5

# the header cap: 80 Subject fields of 60 KB = 4.8 MB of signed headers
$PY - "$T/huge" "$T/huge-foreign" <<'P'
import sys
subj = "".join("Subject: %s\r\n" % ("h" * 60000) for _ in range(80))
for path, dom in zip(sys.argv[1:], ("wire.example", "foreign.example")):
    with open(path, "w", newline="") as f:
        f.write("From: <app@%s>\r\nTo: user@example.org\r\n%s\r\nbody\r\n"
                % (dom, subj))
P
n3=$(sink_count)
out=$(swaks_send "$T/huge")
like "$out" '<\*\* +552 5\.3\.4 message header too large to be DKIM-signed' \
	"signed headers over 4 MiB for a signing domain: 552 5.3.4, never relayed unsigned"
like "$(cat "$T/milter.log")" 'action=reject reason=headers_too_large domain=wire\.example' \
	"the milter says why"
out=$(swaks_send "$T/huge-foreign")
like "$out" '<- +250 2\.0\.0 Ok: queued' "the same headers for a domain that does not sign pass"
ok "and only that one is delivered" wait_for "[ \$(sink_count) -eq $((n3 + 1)) ]" 30
ok "unsigned" eval "! grep -q '^DKIM-Signature' $SINK/$((n3 + 1)).eml"
done_testing
