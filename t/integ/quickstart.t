# SPDX-License-Identifier: MIT
# The README's first command, as CI runs it: ./run --once starts the whole
# relay on loopback, relays one message that an independent verifier
# finds signed, shows its delivery event from relaykit-eventd and the
# live dashboard answering, and stops everything.  Run twice, to show a second start
# (over the first one's leftovers) works.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks redis-server
for i in 1 2; do
	out=$(RK_RUN_DIR=$T/run RK_BUILD_DIR=$top_builddir RK_PORT=$(free_port) \
		RK_DASH_PORT=$(free_port) \
		"$top_srcdir/run" --once 2>&1); rc=$?
	is "$rc" 0 "./run --once exits 0 (start $i)"
	like "$out" 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;' "shows the delivered DKIM-Signature"
	like "$out" 'DKIM verdict from python3-dkim \(an independent verifier\): pass' "verifier says pass"
	like "$out" '"event":"delivered"' "shows the message's delivery event"
	like "$out" 'live dashboard: http://127\.0\.0\.1:[0-9]+/ answers' "the live dashboard answers"
	like "$out" 'ok: one message relayed, signed and verified, its delivery event recorded; everything stopped' "stops cleanly"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
done
ok "no relaykit process left behind" test -z "$(pgrep -f "$T/run/relaykit.yaml")"
ok "no postfix left behind" test ! -e "$T/run/postfix/queue/pid/master.pid" -o -z "$(pgrep -F "$T/run/postfix/queue/pid/master.pid" 2>/dev/null)"
done_testing
