# SPDX-License-Identifier: MIT
# The integration harness itself: a private Postfix instance on loopback
# relays a swaks message to the capturing sink, envelope intact, and stops
# cleanly.  Every other integration test stands on this.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks redis-server

sp=$(free_port)
ok "sink listens" start_sink "$sp"
pp=$(free_port)
ok "private postfix starts on 127.0.0.1:$pp" pf_start main "$pp" \
	"relayhost = [127.0.0.1]:$sp"
out=$(swaks --server "127.0.0.1:$pp" --from app@example.com \
	--to user@example.org --h-Subject harness 2>&1)
like "$out" '<- *250 2\.0\.0 Ok: queued as' "postfix accepts the message"
ok "the sink receives it" wait_for '[ "$(sink_count)" -ge 1 ]'
is "$(cat "$SINK/1.env" 2>/dev/null)" "$(printf 'MAIL FROM:<app@example.com>\nRCPT TO:<user@example.org>')" \
	"envelope as sent"
like "$(cat "$SINK/1.eml" 2>/dev/null)" '^Subject: harness' "headers as sent"
like "$(pf_log)" 'status=sent \(250 2\.0\.0 Ok: queued as sink1\)' "postfix logs the delivery"
rp=$(free_port)
ok "redis starts" start_redis "$rp"
is "$(redis-cli -p "$rp" ping)" "PONG" "redis answers"
done_testing
