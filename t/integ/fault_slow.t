# SPDX-License-Identifier: MIT
# Faults that are not outages: a Redis that answers, but slowly (a proxy
# that delays every answer by 1 s, above redis.commandTimeout), and a
# Postfix queue on a full disk (a small tmpfs).  Each is survived with a
# clear log line and a metric, and nothing is lost:
#   - policyd keeps answering in its fail mode, at once, and enforces the
#     limit again when Redis is quick again;
#   - eventd retries the same batch (the log is the buffer) and, once Redis
#     is quick, the stream holds exactly the log's events;
#   - with the queue's disk full, clients get a 4xx, what was accepted
#     before is delivered, and mail flows again once space is freed.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need redis-server redis-cli postfix swaks

rp=$(free_port) xp=$(free_port) mp=$(free_port) ep=$(free_port)
ok "redis starts" start_redis "$rp"
echo 0 >"$T/delay"
$PY "$top_srcdir/t/integ/delay_proxy.py" "$xp" "$rp" "$T/delay" &
track $!
ok "the delaying proxy listens" wait_for "port_open $xp" 10

# ------------------------------------------------------- slow Redis: policyd
SOCK=$T/policy.sock U=unix:$SOCK
pd_config pd <<-YAML
redis:
  port: $xp
  commandTimeout: 200ms
rateLimit:
  enabled: true
  failMode: open
  rules:
    - name: per-sender
      key: sender
      rate: 3/1h
      match: [limited@example.com]
metrics: {policydPort: $mp}
policyd:
  listen: $U
YAML
ok "policyd starts" pd_start pd
out=$($PD_CLIENT "$U" reqs 4 sender=limited@example.com)
is "$(printf '%s\n' "$out" | grep -c '^DUNNO$')" 3 "quick Redis: three admitted"

echo 1000 >"$T/delay"
t0=$(date +%s%N)
out=$(timeout 30 $PD_CLIENT "$U" reqs 20 sender=limited@example.com | sort | uniq -c)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "20 decisions with every Redis answer 1 s late: $ms ms"
like "$out" '^ *20 DUNNO$' "slow Redis: every decision in the fail mode (open)"
ok "without waiting out the 200 ms timeout each time ($ms ms < 2000)" test "$ms" -lt 2000
like "$(cat "$T/pd.log")" 'status=down reason="command timeout"' "slow Redis: logged as down, naming the timeout"
ok "slow Redis: counted by relaykit_policyd_redis_errors_total{kind=\"timeout\"}" \
	test "$(metric_value "$mp" 'relaykit_policyd_redis_errors_total{kind="timeout"}')" -ge 1
ok "and by relaykit_policyd_fail_mode_total{mode=\"open\"}" \
	test "$(metric_value "$mp" 'relaykit_policyd_fail_mode_total{mode="open"}')" -ge 1
echo 0 >"$T/delay"
ok "quick again: the limit is enforced again" \
	wait_for "$PD_CLIENT '$U' req sender=limited@example.com | grep -q 'per-sender. exceeded'" 20
kill "$PD_PID"

# -------------------------------------------------------- slow Redis: eventd
LOG=$T/maillog
/usr/bin/python3 "$top_srcdir/bench/eventd/mklog.py" 1200 >"$T/all.log"
want=$("$EV_BIN" --parse "$T/all.log" | wc -l)
: >"$LOG"
cat >"$T/ev.yaml" <<Y
redis: {port: $xp, commandTimeout: 200ms}
metrics: {eventdPort: $ep}
milter: {metadata: false}
eventd:
  logFile: $LOG
  startAt: beginning
  pollInterval: 50ms
Y
ok "eventd starts" ev_start "$T/ev.yaml"
echo 1000 >"$T/delay"
cat "$T/all.log" >>"$LOG"
ok "slow Redis: eventd says its writes fail and the log waits" \
	wait_for "grep -q 'failed: .*timed out.*the log waits, nothing is lost' '$T/eventd.log'" 20
ok "slow Redis: counted by relaykit_eventd_redis_errors_total" \
	wait_for "[ \"\$(metric_value $ep 'relaykit_eventd_redis_errors_total{what=\"write\"}')\" -ge 1 ] ||
		[ \"\$(metric_value $ep 'relaykit_eventd_redis_errors_total{what=\"read\"}')\" -ge 1 ]" 10
is "$(metric_value "$ep" relaykit_eventd_up)" 0 "relaykit_eventd_up says 0 meanwhile"
echo 0 >"$T/delay"
ok "quick again: every event arrives" wait_for "[ \"\$(ev_count $rp)\" -ge $want ]" 30
sleep 0.5
is "$(ev_count "$rp")" "$want" "exactly the log's $want events, none twice"
ok "and eventd says writing works again" grep -q 'events are written again' "$T/eventd.log"
kill "$EV_PID"

# ------------------------------------------------------ full disk: the queue
sp=$(free_port) pp=$(free_port)
ok "sink listens" start_sink "$sp"
QD=$T/pf-full/queue
mkdir -p "$QD"
if mount -t tmpfs -o size=8m,mode=0755 rk-queue "$QD" 2>"$T/mount.err"; then
	trap 'umount -l "$QD" 2>/dev/null; _cleanup' EXIT
	ok "postfix starts with its queue on an 8 MB tmpfs" pf_start full "$pp" \
		"relayhost = [127.0.0.1]:$sp" "message_size_limit = 1000000" \
		"defer_transports = smtp"
	send() { swaks --server "127.0.0.1:$pp" --from app@example.com --to "$1@example.org" \
		--body "$2" 2>&1; }
	like "$(send before "first")" '250 2.0.0 Ok: queued' "a message is accepted (held: defer_transports)"
	# fill the disk but a few KB
	dd if=/dev/zero of="$QD/filler" bs=64k 2>/dev/null
	out=$(send during "x")
	like "$out" '<\*\* 4[0-9][0-9] 4\.3\.[0-9]' "disk full: the client gets a 4xx, not an accepted-and-lost message"
	like "$(pf_log)" 'Insufficient system storage|No space left on device|queue file write error' \
		"disk full: Postfix's log says why"
	rm -f "$QD/filler"
	like "$(send after "after")" '250 2.0.0 Ok: queued' "space freed: mail is accepted again"
	postconf -c "$PF/etc" -e defer_transports= >/dev/null
	postfix -c "$PF/etc" reload >/dev/null 2>&1
	# a message whose defer log could not be written while the disk was
	# full waits for its next retry: flush until both are out
	queued() { postqueue -c "$PF/etc" -p 2>/dev/null | grep -c '^[0-9A-F]'; }
	flushed() {
		postqueue -c "$PF/etc" -f >/dev/null 2>&1
		sleep 1
		[ "$(sink_count)" -ge 2 ] && [ "$(queued)" -eq 0 ]
	}
	ok "what was accepted is delivered: 2 at the sink" wait_until flushed 90
	is "$(queued)" 0 "and the queue is empty: nothing lost"
	if [ "$(sink_count)" -lt 2 ] || [ "$(queued)" -ne 0 ]; then
		postqueue -c "$PF/etc" -p 2>&1 | sed 's/^/# queue: /'
		pf_log | tail -25 | sed 's/^/# log: /'
	fi
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	umount -l "$QD"
else
	diag "mount: $(cat "$T/mount.err")"
	ok "a tmpfs can be mounted for the queue (root needed)" false
fi
done_testing
