# SPDX-License-Identifier: MIT
# relaykit-milter signs what a real Postfix relays, and independent
# verifiers agree: for rsa-sha256, ed25519-sha256 and both at once, across
# edge-case messages (long folded and duplicate headers, UTF-8, empty
# body, no final CRLF, trailing whitespace, a 10 MB attachment, real
# bounces from the corpus), each captured message passes python3-dkim and
# Mail::DKIM (rsa) or OpenDKIM (ed25519); a changed byte fails them all.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"

CORPUS=${RK_CORPUS:-$top_srcdir/../shared/corpus/bounces}
corpus=""
for f in arf-01 lhost-postfix-17 lhost-exim-01 lhost-gmail-01 rfc3464-01 \
	lhost-sendmail-01; do
	[ -f "$CORPUS/$f.eml" ] && corpus="$corpus $CORPUS/$f.eml"
done

mk_key rsa rsa.example r1
mk_key ed25519 ed.example e1
mk_key rsa dual.example mail
mk_key ed25519 dual.example mail-ed25519
cat >"$T/rk.yaml" <<Y
mail:
  domains:
    - name: rsa.example
      keys: [{selector: r1, algorithm: rsa-sha256}]
    - name: ed.example
      keys: [{selector: e1, algorithm: ed25519-sha256}]
    - dual.example
dkim:
  algorithm: both
  keyDir: $KEYS
milter:
  listen: unix:$T/milter.sock
metrics:
  enabled: false
Y
ok "milter starts" milter_start "$T/rk.yaml"
sp=$(free_port)
ok "sink listens" start_sink "$sp"
PF_PORT=$(free_port)
ok "postfix starts with the milter" pf_start main "$PF_PORT" \
	"relayhost = [127.0.0.1]:$sp" "message_size_limit = 0" \
	"$PF_MILTER_LINES"

sent=0
for dom in rsa.example ed.example dual.example; do
	$PY "$top_srcdir/t/integ/milter_msgs.py" "$dom" "$T/msgs-$dom" $corpus
	for f in "$T/msgs-$dom"/*; do
		case $(basename "$f") in
		no-final-crlf)
			# sendmail(1) keeps the missing newline up to Postfix's
			# cleanup: the non_smtpd_milters path.
			tr -d '\r' <"$f" | sendmail -C "$PF/etc" \
				-f sender@example.net user@example.org
			r=$? ;;
		*)
			swaks_send "$f" >"$T/swaks.out"
			grep -q '^<-  *250 2.0.0 Ok: queued' "$T/swaks.out"
			r=$? ;;
		esac
		[ $r -eq 0 ] || diag "$dom $(basename "$f"): not accepted"
		sent=$((sent + 1))
	done
done
ok "all $sent messages captured" wait_for "[ \$(sink_count) -ge $sent ]" 120

# The body hash is streamed: three 14 MB messages later, the milter's peak
# resident size is still far below one message.
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$MILTER_PID/status")
diag "milter peak RSS after the 10 MB messages: ${hwm} kB"
limit=12288
# ASan's shadow memory and allocator cost more; its quarantine is off
# for the milter (milter_start), so freed chunks do not pile up.
grep -qa __asan_init "$MILTER" && limit=65536
ok "memory does not grow with message size (peak ${hwm} kB < $limit kB)" \
	[ "${hwm:-999999}" -lt $limit ]

# Each captured message, named by its X-Case and From domain.
for m in "$SINK"/*.eml; do
	c=$(grep -m1 -i '^X-Case:' "$m" | tr -d '\r' | sed 's/^[^:]*: *//')
	d=$(grep -m1 -i '^From:' "$m" | tr -d '\r' | sed 's/.*@\([^>]*\)>.*/\1/')
	n=$(sed '/^\r\{0,1\}$/q' "$m" | grep -ci '^DKIM-Signature:')
	case $d in
	dual.example) want=2 ;;
	*) want=1 ;;
	esac
	is "$n" "$want" "$d $c: $want signature(s)"
	out=$(v_python "$m"); r=$?
	ok "$d $c: python3-dkim verifies every signature" [ $r -eq 0 ]
	[ $r -eq 0 ] || diag "$out"
	if [ "$d" != ed.example ]; then
		out=$(v_perl "$m"); r=$?
		ok "$d $c: Mail::DKIM verifies rsa-sha256" [ $r -eq 0 ]
		[ $r -eq 0 ] || diag "$out"
	fi
	if [ "$d" != rsa.example ]; then
		out=$(v_opendkim ed25519-sha256 "$m"); r=$?
		ok "$d $c: OpenDKIM verifies ed25519-sha256" [ $r -eq 0 ]
		[ $r -eq 0 ] || diag "$out"
	fi
done

fails() { ! "$@" >/dev/null 2>&1; }
# Negative control: one changed byte in the body, then in a signed header.
for m in $(grep -l '^X-Case: plain' "$SINK"/*.eml); do
	d=$(grep -m1 -i '^From:' "$m" | tr -d '\r' | sed 's/.*@\([^>]*\)>.*/\1/')
	for what in body header; do
		t=$T/tampered.eml
		if [ $what = body ]; then
			sed 's/^Hello\./Hellp./' "$m" >"$t"
		else
			sed 's/^Subject: plain/Subject: plaim/' "$m" >"$t"
		fi
		ok "$d tampered $what: the file did change" fails cmp -s "$m" "$t"
		ok "$d tampered $what: python3-dkim fails" fails v_python "$t"
		[ "$d" = ed.example ] ||
			ok "$d tampered $what: Mail::DKIM fails" fails v_perl "$t"
		[ "$d" = rsa.example ] ||
			ok "$d tampered $what: OpenDKIM fails" \
				fails v_opendkim ed25519-sha256 "$t"
	done
done
like "$(cat "$T/milter.log")" "action=signed domain=dual.example selectors=mail-ed25519,mail" \
	"the milter logs each signed message"
done_testing
