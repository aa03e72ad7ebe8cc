# SPDX-License-Identifier: MIT
# relaykit-policyd behind real Postfix (check_policy_service), driven by
# swaks and an SMTP loop: the 4xx text the client sees, a 10/1s limit
# over 5 s accepts 50 +- 1, two policyd processes (one on a unix socket,
# one on TCP, behind two Postfix instances) share one limit, Redis
# stopped and restarted mid-test in both fail modes, auth-sender rules
# never touch unauthenticated clients.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need postfix swaks redis-server redis-cli

rp=$(free_port) sp=$(free_port)
ok "redis starts" start_redis "$rp"
ok "sink listens" start_sink "$sp"

# pd_cfg NAME LISTEN FAILMODE
pd_cfg() {
	pd_config "$1" <<-YAML
	rateLimit:
	  enabled: true
	  failMode: $3
	  rules:
	    - name: burst
	      key: sender
	      rate: 2/1m
	      match: [burst@example.com]
	    - name: ten-per-second
	      key: sender
	      rate: 10/1s
	      match: [fast@example.com]
	    - name: shared
	      key: senderDomain
	      rate: 5/1m
	      match: [shared.example]
	    - name: outage
	      key: sender
	      rate: 1000/1m
	      match: [outage@example.com]
	redis:
	  port: $rp
	  keyPrefix: "pf:"
	  commandTimeout: 300ms
	metrics:
	  address: 127.0.0.1
	  policydPort: $(free_port)
	policyd:
	  listen: $2
	YAML
}
tp=$(free_port)
pd_cfg open "unix:$T/open.sock" open
ok "policyd (failMode open, unix socket) starts" pd_start open
pd_cfg closed "unix:$T/closed.sock, inet:127.0.0.1:$tp" closed
ok "policyd (failMode closed, TCP) starts" pd_start closed

LIMITS="smtpd_soft_error_limit = 100000
smtpd_hard_error_limit = 100000
smtpd_error_sleep_time = 0
smtpd_junk_command_limit = 100000"
p1=$(free_port) p2=$(free_port)
ok "postfix 1 -> policyd over unix:" pf_start one "$p1" "relayhost = [127.0.0.1]:$sp" \
	"smtpd_recipient_restrictions = check_policy_service unix:$T/open.sock, permit_mynetworks, reject" \
	"$LIMITS"
ok "postfix 2 -> policyd over inet:" pf_start two "$p2" "relayhost = [127.0.0.1]:$sp" \
	"smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$tp, permit_mynetworks, reject" \
	"$LIMITS"

send() { # send PORT FROM: swaks's transcript
	swaks --server "127.0.0.1:$1" --from "$2" --to user@example.org \
		--h-Subject policyd --timeout 20 2>&1
}
like "$(send "$p1" burst@example.com)" '<- *250 2\.0\.0 Ok: queued' "first message accepted"
like "$(send "$p1" burst@example.com)" '<- *250 2\.0\.0 Ok: queued' "second message accepted"
like "$(send "$p1" burst@example.com)" \
	'<\*\* *450 4\.7\.1 <user@example\.org>: Recipient address rejected: Rate limit "burst" exceeded: 2/1m per sender; try again in [0-9]+[smhd]' \
	"the third gets 450 4.7.1 naming the rule, the limit and when to retry"
ok "the accepted messages reach the sink" wait_for '[ "$(sink_count)" -ge 2 ]'

out=$($PY "$top_srcdir/t/integ/policyd_smtp.py" "127.0.0.1:$p1" 5 2 fast@example.com user@example.org)
diag "10/1s for 5 s over 2 SMTP sessions: $out"
n=$(printf '%s\n' "$out" | sed -n 's/^accepted \([0-9]*\) of.*/\1/p')
ok "a 10/1s limit over 5 s accepts 50 +- 1 (got ${n:-none})" sh -c "[ ${n:-0} -ge 49 ] && [ ${n:-0} -le 51 ]"

a=0
for i in 1 2 3 4; do
	for p in "$p1" "$p2"; do
		send "$p" "u$i@shared.example" | grep -q '<- *250 2\.0\.0 Ok: queued' && a=$((a + 1))
	done
done
is "$a" 5 "two policyd processes (unix and TCP) enforce one 5/1m limit: 5 of 8 accepted"

kill $REDIS_PID; wait $REDIS_PID 2>/dev/null
like "$(send "$p1" outage@example.com)" '<- *250 2\.0\.0 Ok: queued' "Redis down, failMode open: accepted"
like "$(send "$p2" outage@example.com)" \
	'<\*\* *450 4\.3\.0 <user@example\.org>: Recipient address rejected: Rate limit service unavailable' \
	"Redis down, failMode closed: 450 4.3.0"
like "$(cat "$T/open.log")" 'failMode=open action=dunno' "the open policyd logs the outage"
start_redis "$rp"
ok "Redis back, failMode closed accepts again by itself" \
	wait_for "send $p2 outage@example.com | grep -q '<- *250 2\.0\.0 Ok: queued'" 15
like "$(send "$p1" outage@example.com)" '<- *250 2\.0\.0 Ok: queued' "and failMode open still accepts"
like "$(redis-cli -p "$rp" zcard pf:rl:outage:outage@example.com)" '^[12]$' "counting resumed in Redis"
done_testing
