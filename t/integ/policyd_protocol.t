# SPDX-License-Identifier: MIT
# relaykit-policyd against its own client: the policy protocol on unix and
# TCP, rate-limit answers, auth-sender rules, the malformed-request catalog
# (no blank line, 1 MB line, binary, 10k attributes, half a request then
# silence) while another connection keeps being served, metrics, SIGHUP
# reload without dropping connections, Redis down in both fail modes, two
# processes sharing a limit, SIGTERM.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need redis-server redis-cli

rp=$(free_port) tp=$(free_port) mp=$(free_port)
ok "redis starts" start_redis "$rp"
SOCK=$T/policy.sock U=unix:$SOCK I=inet:127.0.0.1:$tp
write_cfg() { # write_cfg FAILMODE RATE
	pd_config main <<-YAML
	auth:
	  constrainSender: true
	  users:
	    app@example.com:
	      password: x
	    billing:
	      password: x
	      allowedFrom: ["@billing.example", "boss@example.com"]
	rateLimit:
	  enabled: true
	  failMode: $1
	  rules:
	    - name: per-sender
	      key: sender
	      rate: $2
	      match: [limited@example.com]
	    - name: per-domain-rcpt
	      key: recipientDomain
	      rate: 2/1m
	      count: recipient
	      action: reject
	      match: [tiny.example]
	    - name: per-msg
	      key: clientAddress
	      rate: 2/1m
	      match: [10.9.0.0/16]
	redis:
	  port: $rp
	  keyPrefix: "proto:"
	  commandTimeout: 300ms
	metrics:
	  address: 127.0.0.1
	  policydPort: $mp
	policyd:
	  listen: $U, inet:127.0.0.1:$tp
	  requestTimeout: 1s
	  idleTimeout: 30s
	log:
	  level: debug
	YAML
}
write_cfg open 3/1m

is "$("$PD_BIN" -n -c "$T/main.yaml")" "configuration OK" "-n accepts the config"
printf 'policyd:\n  listen: nowhere\n' >"$T/bad.yaml"
"$PD_BIN" -n -c "$T/bad.yaml" >/dev/null 2>&1
is "$?" 78 "-n refuses a bad config with EX_CONFIG"
like "$("$PD_BIN" --help)" '^usage: relaykit-policyd' "--help"
like "$("$PD_BIN" -V)" '^relaykit-policyd [0-9]' "-V"

ok "policyd starts" pd_start main
is "$($PD_CLIENT "$U" req)" "DUNNO" "unix: a request under no limit gets DUNNO"
is "$($PD_CLIENT "$I" req)" "DUNNO" "TCP: the same"
is "$($PD_CLIENT "$U" req protocol_state=CONNECT)" "DUNNO" "CONNECT state: DUNNO"

out=$($PD_CLIENT "$U" reqs 5 sender=limited@example.com)
is "$(printf '%s\n' "$out" | grep -c '^DUNNO$')" 3 "per-sender 3/1m: three admitted on one connection"
like "$(printf '%s\n' "$out" | sed -n 4p)" \
	'^DEFER_IF_PERMIT 4\.7\.1 Rate limit "per-sender" exceeded: 3/1m per sender; try again in [0-9][0-9a-z]*$' \
	"the fourth is deferred, naming the rule, the limit and when to retry"
like "$($PD_CLIENT "$I" req sender=LIMITED@Example.COM)" '"per-sender" exceeded' \
	"counters ignore case and are shared by unix and TCP clients"
is "$($PD_CLIENT "$U" req sender=other@example.com)" "DUNNO" "a sender not in match is not limited"

out=$($PD_CLIENT "$U" reqs 3 recipient=u{i}@tiny.example)
like "$(printf '%s\n' "$out" | sed -n 3p)" '^REJECT 5\.7\.1 Rate limit "per-domain-rcpt" exceeded: 2/1m per recipientDomain' \
	"count: recipient with action: reject refuses the third recipient"

# Per message: three recipients of one message (same instance) count once.
out=$($PD_CLIENT "$U" reqs 3 client_address=10.9.1.1 instance=msg1 recipient=r{i}@x.example)
is "$(printf '%s\n' "$out" | grep -c '^DUNNO$')" 3 "per message: three recipients of one message count once"
is "$($PD_CLIENT "$U" reqs 1 client_address=10.9.1.1 instance=msg2)" "DUNNO" "the second message is admitted"
like "$($PD_CLIENT "$U" reqs 1 client_address=10.9.1.1 instance=msg3)" "per-msg" "the third message is deferred"
is "$(redis-cli -p "$rp" zcard proto:rl:per-msg:10.9.1.1)" 2 "redis holds one entry per admitted message"

is "$($PD_CLIENT "$U" many 3000)" "3000 of 3000 answered" "3000 connections open at once, each answered"
like "$(metric_value "$mp" relaykit_policyd_connections)" '^[0-9]+$' "metrics: open connections"

# Auth-sender rules.
is "$($PD_CLIENT "$U" req sasl_username=app@example.com sender=app@example.com)" "DUNNO" \
	"a login may send as itself"
is "$($PD_CLIENT "$U" req sasl_username=app@example.com sender=other@example.com)" \
	"REJECT 5.7.1 Sender address <other@example.com> is not owned by login app@example.com" \
	"and not as another address, named with the login"
is "$($PD_CLIENT "$U" req sasl_username=billing sender=x@billing.example)" "DUNNO" "allowedFrom @domain"
is "$($PD_CLIENT "$U" req sasl_username=billing sender=boss@example.com)" "DUNNO" "allowedFrom address"
like "$($PD_CLIENT "$U" req sasl_username=billing sender=boss2@example.com)" "^REJECT 5\.7\.1" "allowedFrom, other address"
like "$($PD_CLIENT "$U" req protocol_state=MAIL sasl_username=billing 'sender=')" "^REJECT 5\.7\.1" "the null sender is not owned"
is "$($PD_CLIENT "$U" req sender=ceo@example.com)" "DUNNO" "unauthenticated clients are not constrained"
like "$(cat "$T/main.log")" 'reason=sender_not_owned login=app@example\.com sender=other@example\.com' \
	"the refusal is logged with the login and the sender in fields of their own"

# The malformed-request catalog, each while a steady client keeps asking.
PD_GAP=0.01 $PD_CLIENT "$U" reqs 400 >"$T/steady.out" 2>&1 &
steady_pid=$!
DEF='action=DEFER_IF_PERMIT 4.3.0 Malformed policy request, try again later||<closed>'
is "$(printf 'request=smtpd_access_policy\nsender=a@b\n' | $PD_CLIENT "$U" raw --shut)" "$DEF" \
	"no blank line, then end of file: malformedAction, closed"
is "$($PY -c 'import sys; sys.stdout.write("request=smtpd_access_policy\nsender=" + "a" * (1 << 20) + "\n\n")' |
	$PD_CLIENT "$U" raw)" "$DEF" "a 1 MB line: malformedAction, closed"
is "$(head -c 3000 /dev/urandom | tr '\n' x | $PD_CLIENT "$U" raw)" "$DEF" "binary: malformedAction, closed"
is "$($PY -c 'import sys; sys.stdout.write("request=smtpd_access_policy\n" + "".join("a%d=b\n" % i for i in range(10000)) + "\n")' |
	$PD_CLIENT "$U" raw)" "$DEF" "10k attributes: malformedAction, closed"
t0=$(date +%s%N)
like "$($PD_CLIENT "$U" hold 5)" '^closed after 1\.[0-9] s$' "half a request then silence: closed after requestTimeout"
trickle() { for i in $(seq 30); do printf x; sleep 0.1; done; }
like "$( (printf 'request=smtpd_access_policy\nsender='; trickle) | $PD_CLIENT "$U" raw --wait 5 2>&1)" \
	'<closed>|<Connection reset by peer>|send: ' "a client trickling bytes is closed at the deadline too"
is "$($PD_CLIENT "$I" req)" "DUNNO" "meanwhile a new client is served"
wait $steady_pid
is "$(grep -c '^DUNNO$' "$T/steady.out")" 400 "a steady client got all 400 answers during the catalog"
like "$(metric_value "$mp" 'relaykit_policyd_malformed_total{reason="line_too_long"}')" '^[1-9]' \
	"metrics: malformed requests by reason"
like "$(metric_value "$mp" 'relaykit_policyd_timeouts_total{kind="request"}')" '^[1-9]' "metrics: request timeouts"
like "$(metric_value "$mp" 'relaykit_policyd_requests_total{state="RCPT",action="defer"}')" '^[1-9]' \
	"metrics: requests by state and action"
like "$(metric_value "$mp" 'relaykit_policyd_rule_hits_total{rule="per-sender"}')" '^[1-9]' "metrics: rule hits"
like "$(metric_value "$mp" relaykit_policyd_redis_latency_seconds_count)" '^[1-9]' "metrics: redis latency histogram"
like "$($PY -c 'import urllib.request as u, sys
try: u.urlopen("http://127.0.0.1:%s/other" % sys.argv[1], timeout=5)
except Exception as e: print(e)' "$mp")" '404' "metrics: other paths are 404"

# SIGHUP: a new rate, the open connection survives.
PD_GAP=1 $PD_CLIENT "$U" reqs 2 >"$T/held.out" 2>&1 &
held_pid=$!
sleep 0.3
write_cfg open 1/1m
sed -i 's/match: \[limited@example.com\]/match: [reload@example.com]/' "$T/main.yaml"
kill -HUP $PD_PID
ok "reload logged" wait_for "grep -q 'reloaded' '$T/main.log'" 5
wait $held_pid
is "$(cat "$T/held.out")" "$(printf 'DUNNO\nDUNNO')" "a connection open across SIGHUP keeps being served"
out=$($PD_CLIENT "$U" reqs 2 sender=reload@example.com)
like "$(printf '%s\n' "$out" | sed -n 2p)" '1/1m per sender' "after SIGHUP the new rate applies"
printf 'rateLimit: {rules: [{name: x}]}\n' >>"$T/main.yaml"
kill -HUP $PD_PID
ok "a bad config on SIGHUP is refused" wait_for "grep -q 'reload failed' '$T/main.log'" 5
is "$($PD_CLIENT "$U" req)" "DUNNO" "and the running one kept"
write_cfg open 1/1m
sed -i "s/policydPort: $mp/policydPort: $(free_port)/" "$T/main.yaml"
kill -HUP $PD_PID
ok "a listener change on SIGHUP says it needs a restart" \
	wait_for "grep -q 'metrics listener changed; restart to apply' '$T/main.log'" 5
like "$(metric_value "$mp" 'relaykit_policyd_reloads_total{result="ok"}')" '^[1-9]' \
	"metrics stay on the old port until then; reloads counted"
write_cfg open 3/1m
kill -HUP $PD_PID
ok "reloaded again" wait_for "[ \$(grep -c 'reloaded' '$T/main.log') -ge 2 ]" 5

# Redis down: open, then closed; recovery by itself.
kill $REDIS_PID; wait $REDIS_PID 2>/dev/null
is "$($PD_CLIENT "$U" req sender=limited@example.com)" "DUNNO" "failMode open: Redis down, DUNNO"
like "$(cat "$T/main.log")" 'rate limits unavailable: redis .* failMode=open' "and a log line"
like "$(metric_value "$mp" 'relaykit_policyd_fail_mode_total{mode="open"}')" '^[1-9]' "and a metric"
write_cfg closed 3/1m
kill -HUP $PD_PID; sleep 0.3
is "$($PD_CLIENT "$U" req sender=limited@example.com)" \
	"DEFER_IF_PERMIT 4.3.0 Rate limit service unavailable, try again later" "failMode closed: deferred"
is "$($PD_CLIENT "$U" req sender=nobody@example.com)" "DUNNO" "a request no rule applies to needs no Redis"
start_redis "$rp"
ok "Redis back: decisions recover by themselves" \
	wait_for "[ \"\$($PD_CLIENT '$U' req sender=limited@example.com)\" = DUNNO ]" 10
like "$(cat "$T/main.log")" 'status=up' "recovery logged"

# A hung Redis (SIGSTOP: the kernel still completes the TCP handshake) is
# down, not up: decisions keep coming in the fail mode instead of each
# waiting the command timeout (300 ms here: 100 decisions would take 30 s).
ups=$(grep -c 'status=up' "$T/main.log")
kill -STOP "$REDIS_PID"
$PD_CLIENT "$U" req sender=limited@example.com >/dev/null # learns it, once
t0=$(date +%s%N)
out=$(timeout 20 $PD_CLIENT "$U" reqs 100 sender=limited@example.com | sort | uniq -c)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "100 decisions with Redis stopped: $ms ms"
like "$out" '^ *100 DEFER_IF_PERMIT 4\.3\.0' "Redis hung: every decision answered in the fail mode"
ok "and without waiting out the timeout each time ($ms ms < 5000)" test "$ms" -lt 5000
is "$(grep -c 'status=up' "$T/main.log")" "$ups" "a hung Redis is never logged as up"
kill -CONT "$REDIS_PID"
ok "Redis answers again: decisions recover" \
	wait_for "[ \"\$($PD_CLIENT '$U' req sender=limited@example.com)\" = DUNNO ]" 15

# Two processes, one Redis: one combined limit.
pd_config second <<-YAML
$(sed -e "s|$SOCK|$T/second.sock|" -e "s|127.0.0.1:$tp|127.0.0.1:$(free_port)|" \
	-e "s|policydPort: $mp|policydPort: $(free_port)|" "$T/main.yaml")
YAML
PID1=$PD_PID
pd_start second
PID2=$PD_PID
redis-cli -p "$rp" del proto:rl:per-sender:limited@example.com >/dev/null
n=0
for i in 1 2 3; do
	for s in "$U" "unix:$T/second.sock"; do
		[ "$($PD_CLIENT "$s" req sender=limited@example.com)" = DUNNO ] && n=$((n + 1))
	done
done
is "$n" 3 "two policyd processes on one Redis enforce one limit (3 of 6 admitted)"

# Under valgrind: requests, a rate-limit answer, malformed input, a
# reload and a clean exit leave no error and no leak.
if sanitizer_build; then
	# ASan and valgrind do not mix; this build's own checks ran above.
	ok "no valgrind pass in an AddressSanitizer build" true
elif command -v valgrind >/dev/null 2>&1; then
	pd_config vg <<-YAML
	$(sed -e "s|$SOCK|$T/vg.sock|" -e "s|127.0.0.1:$tp|127.0.0.1:$(free_port)|" \
		-e "s|policydPort: $mp|policydPort: $(free_port)|" "$T/main.yaml")
	YAML
	pd_start vg valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
	VG=unix:$T/vg.sock
	$PD_CLIENT "$VG" reqs 5 sender=limited@example.com >/dev/null
	$PD_CLIENT "$VG" req sasl_username=app@example.com sender=x@y >/dev/null
	printf 'junk\n\n' | $PD_CLIENT "$VG" raw >/dev/null
	printf 'request=smtpd_access_policy\n' | $PD_CLIENT "$VG" raw --shut >/dev/null
	kill -HUP $PD_PID; sleep 1
	$PD_CLIENT "$VG" req >/dev/null
	kill -TERM $PD_PID; wait $PD_PID
	is "$?" 0 "valgrind: no errors, no leaks$(grep '==' "$T/vg.log" | head -3 | tr '\n' ' ')"
else
	skip "valgrind not installed"
fi

# SIGTERM: clean exit, socket removed.
kill -TERM $PID2; wait $PID2; is "$?" 0 "second policyd exits 0 on SIGTERM"
kill -TERM $PID1; wait $PID1; is "$?" 0 "first policyd exits 0 on SIGTERM"
ok "unix socket removed" [ ! -e "$SOCK" ]
done_testing
