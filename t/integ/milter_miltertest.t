# SPDX-License-Identifier: MIT
# relaykit-milter spoken to directly with miltertest (no Postfix): the
# signature is inserted at end of message, bad From is refused at end of
# headers, other domains are accepted early, and several messages on one
# connection (one aborted half-way) do not disturb each other.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"
need miltertest

mk_key rsa rsa.example r1
cat >"$T/rk.yaml" <<Y
mail:
  domains:
    - name: rsa.example
      keys: [{selector: r1, algorithm: rsa-sha256}]
dkim:
  keyDir: $KEYS
  expiration: 1d
milter:
  listen: unix:$T/milter.sock
metrics:
  enabled: false
Y
ok "milter starts" milter_start "$T/rk.yaml"
out=$(SOCK="unix:$T/milter.sock" timeout 60 miltertest \
	-s "$top_srcdir/t/integ/milter_miltertest.lua" 2>&1)
like "$out" "sign_reply_accept=true" "signed message: accepted at end of message"
like "$out" "sign_inserted=true" "signed message: DKIM-Signature inserted"
like "$out" "sign_value= ?v=1; a=rsa-sha256; c=relaxed/relaxed; d=rsa.example; s=r1; t=[0-9]+; x=[0-9]+; h=from:from:subject; bh=" \
	"signature tags in order, From oversigned"
t=$(printf '%s\n' "$out" | sed -n 's/^sign_value=.* t=\([0-9]*\);.*/\1/p')
x=$(printf '%s\n' "$out" | sed -n 's/^sign_value=.* x=\([0-9]*\);.*/\1/p')
is "$(( ${x:-0} - ${t:-0} ))" 86400 "dkim.expiration 1d: x= is t= + 86400"
now=$(date +%s)
age=$(( now - ${t:-0} ))
ok "t= is now" [ "$age" -ge 0 -a "$age" -lt 120 ]
like "$out" "nofrom_replycode=true" "no From: refused with a reply code"
like "$out" "twofrom_replycode=true" "two From: refused with a reply code"
like "$out" "other_accept=true" "other domain: accepted at end of headers"
like "$out" "after_abort_accept=true" "after an abort: next message accepted"
like "$out" "after_abort_inserted=true" "after an abort: next message signed"
log=$(cat "$T/milter.log")
like "$log" "queue_id=MT1 action=signed domain=rsa.example" "log: MT1 signed"
like "$log" "queue_id=MT2 action=reject reason=no_from" "log: MT2 no_from"
like "$log" "queue_id=MT3 action=reject reason=multiple_from" "log: MT3 multiple_from"
like "$log" "queue_id=MT4 action=unsigned reason=domain_not_configured" "log: MT4 unsigned"
like "$log" "queue_id=MT6 action=signed" "log: MT6 signed"
done_testing
