# SPDX-License-Identifier: MIT
# Issue 10.4: a policyd restart must not stall mail when SMTP AUTH is on.
# A Postfix smtpd that cannot connect to its SASL server exits fatally
# ("no SASL authentication mechanisms") and master(8) throttles the whole
# service for 60 s.  Under an AUTH load (STARTTLS + AUTH + one message per
# session, 4 clients), policyd is killed twice: kill -9 of its worker
# (its supervisor starts another on the same sockets) and kill -9 of the
# whole daemon, restarted the way systemd does with a .socket unit
# (sockholder.py keeps the sockets and passes them in, LISTEN_FDS).
# The test prints what the clients saw and the worst gap without a
# successful session; it fails on a gap over 5 s, on smtpd's fatal error
# or on Postfix throttling the service.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need postfix redis-server openssl
rp=$(free_port) sp=$(free_port) pp=$(free_port) subp=$(free_port)
ok "redis starts" start_redis "$rp"
ok "sink listens" start_sink "$sp"
apph=$(printf 'app-secret\n' | "$PD_BIN" --hash)
pd_config rk <<YAML
mail:
  trustedNetworks: []
  tls: {level: may}
  listeners:
    - {address: 127.0.0.1, port: $subp, submission: true}
dkim: {enabled: false}
auth:
  enabled: true
  users:
    app@example.com: {password: "$apph"}
redis: {port: $rp, keyPrefix: "ar:"}
metrics: {policydPort: $(free_port)}
policyd:
  listen: unix:$T/policy.sock
  saslListen: unix:$T/auth.sock
YAML
$PY "$top_srcdir/t/integ/sockholder.py" "$T/pd.pid" "unix:$T/policy.sock" \
	"unix:$T/auth.sock" -- "$PD_BIN" -f -c "$T/rk.yaml" 2>"$T/pd.log" &
track $!
ok "policyd starts on sockets held for it (socket activation)" \
	wait_for "grep -q 'info: started' $T/pd.log" 20
ok "postfix starts" pf_start sub "$pp" "relayhost = [127.0.0.1]:$sp"
ok "relaykit-postconf wires AUTH" pf_apply "$T/rk.yaml"
ok "the submission listener is up" wait_for "port_open $subp" 20

$PY "$top_srcdir/t/integ/auth_load.py" 127.0.0.1 "$subp" app@example.com \
	app-secret 4 14 "$T/load.log" >"$T/load.out" 2>&1 &
load=$!
sleep 3
p1=$(cat "$T/pd.pid"); w1=$(pgrep -P "$p1")
ok "policyd runs a worker under its supervisor ($p1 -> $w1)" test -n "$w1"
kill -9 "$w1"
ok "kill -9 of the worker: the supervisor starts another" \
	wait_for "grep -q 'worker killed by signal 9' $T/pd.log" 5
w2=$(pgrep -P "$p1")
ok "a new worker serves ($w2)" test -n "$w2" -a "$w2" != "$w1"
sleep 4
kill -9 "$w2" "$p1"
ok "kill -9 of the whole daemon: started again on the held sockets" \
	wait_for "[ \"\$(cat $T/pd.pid)\" != $p1 ] && pgrep -P \$(cat $T/pd.pid) >/dev/null" 5
wait "$load"
sum=$(cat "$T/load.out")
diag "clients saw: $sum"
diag "failures: $(grep -v ' ok ' "$T/load.log" | cut -d' ' -f2- | sort | uniq -c | head -5 | tr '\n' ';')"
gap=$(printf '%s\n' "$sum" | sed -n 's/.*worst_gap=\([0-9.]*\).*/\1/p')
okn=$(printf '%s\n' "$sum" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
ok "sessions succeeded through both kills ($okn)" test "${okn:-0}" -gt 20
ok "worst gap without a successful session: ${gap}s (no 60 s stall)" \
	awk -v g="${gap:-99}" 'BEGIN { exit !(g < 5) }'
unlike() { ! printf '%s\n' "$1" | grep -qE -- "$2"; }
ok "smtpd never died for want of SASL mechanisms" unlike "$(pf_log)" 'no SASL authentication mechanisms'
ok "master never throttled the service" unlike "$(pf_log)" 'throttling'
done_testing
