# SPDX-License-Identifier: MIT
# Redis Sentinel and ACL users, with real servers on loopback: a master,
# a replica and three sentinels (quorum 2), every server behind a
# password and relaykit logged in as an ACL user limited to its prefix.
# relaykit-policyd and relaykit-eventd find the master through the
# sentinels; the master is killed with SIGKILL while the replica has
# missed eventd's latest transactions.  After the failover, without a
# restart: the rate limit is enforced again (the counter replicated),
# decisions kept answering in the fail mode meanwhile, and the stream on
# the new master holds exactly one event per event of the log: eventd saw
# that Redis had lost its latest writes and read the log again from the
# position the new master kept; and webhookd, following the same failover,
# has delivered every one of them to the receiver.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/webhookd_lib.sh"
need redis-server redis-cli

mp=$(free_port) rp=$(free_port) s1=$(free_port) s2=$(free_port) s3=$(free_port)
ADMIN=adminpw
# rcli PORT ARGS...: as the admin (default) user
rcli() { local p=$1; shift; redis-cli -p "$p" -a "$ADMIN" --no-auth-warning "$@"; }
# scli PORT ARGS...: a sentinel, which has its own password
scli() { local p=$1; shift; redis-cli -p "$p" -a sentpw --no-auth-warning "$@"; }

# redis_node PORT [replicaof args]: a server with the relaykit ACL user
redis_node() {
	local port=$1 dir=$T/redis-$1; shift
	mkdir -p "$dir"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$dir" --daemonize no --logfile "$dir/log" \
		--requirepass "$ADMIN" --masterauth "$ADMIN" \
		--user relaykit on '>rk-secret' '~rk:*' '+@all' '-@dangerous' '+role' \
		"$@" &
	NODE_PID=$!
	track $NODE_PID
	wait_for "rcli $port ping >/dev/null 2>&1" 10
}
sentinel() {
	local port=$1 dir=$T/sentinel-$1
	mkdir -p "$dir"
	cat >"$dir/sentinel.conf" <<-EOF
	port $port
	bind 127.0.0.1
	dir $dir
	logfile $dir/log
	requirepass sentpw
	sentinel sentinel-pass sentpw
	sentinel monitor mymaster 127.0.0.1 $mp 2
	sentinel auth-pass mymaster $ADMIN
	sentinel down-after-milliseconds mymaster 1000
	sentinel failover-timeout mymaster 6000
	sentinel parallel-syncs mymaster 1
	EOF
	redis-server "$dir/sentinel.conf" --sentinel &
	track $!
	wait_for "scli $port ping >/dev/null 2>&1" 10
}

ok "master starts" redis_node "$mp"
MASTER_PID=$NODE_PID
ok "replica starts" redis_node "$rp" --replicaof 127.0.0.1 "$mp"
REPLICA_PID=$NODE_PID
ok "three sentinels start" eval 'sentinel $s1 && sentinel $s2 && sentinel $s3'
ok "the replica is in sync" \
	wait_for "rcli $rp info replication | grep -q 'master_link_status:up'" 20
ok "the sentinels know the replica and each other" \
	wait_for "[ \$(scli $s1 sentinel replicas mymaster | grep -c '^ip\$') -ge 1 ] &&
		[ \$(scli $s1 sentinel sentinels mymaster | grep -c '^ip\$') -ge 2 ]" 30

printf 'rk-secret\n' >"$T/redis.pass"
printf 'sentpw\n' >"$T/sentinel.pass"
chmod 600 "$T/redis.pass" "$T/sentinel.pass"
redis_cfg="redis:
  sentinels: 127.0.0.1:$s1, 127.0.0.1:$s2, 127.0.0.1:$s3
  masterName: mymaster
  username: relaykit
  passwordFile: $T/redis.pass
  sentinelPasswordFile: $T/sentinel.pass
  connectTimeout: 300ms
  commandTimeout: 300ms"

# ---------------------------------------------------------------- policyd
SOCK=$T/policy.sock U=unix:$SOCK
pd_config pd <<-YAML
$redis_cfg
rateLimit:
  enabled: true
  failMode: closed
  rules:
    - name: per-sender
      key: sender
      rate: 3/1h
      match: [limited@example.com]
metrics: {policydPort: $(free_port)}
policyd:
  listen: $U
YAML
is "$("$PD_BIN" -n -c "$T/pd.yaml")" "configuration OK" "-n accepts sentinels, an ACL user and password files"
printf 'redis:\n  sentinels: 127.0.0.1:%s\n' "$s1" >"$T/bad.yaml"
like "$("$PD_BIN" -n -c "$T/bad.yaml" 2>&1)" 'redis.masterName.*master.s name' \
	"sentinels without masterName: a config error"
ok "policyd starts" pd_start pd
ok "policyd finds the master through the sentinels" \
	wait_for "[ \"\$($PD_CLIENT '$U' req sender=other@example.com)\" = DUNNO ]" 15
out=$($PD_CLIENT "$U" reqs 4 sender=limited@example.com)
is "$(printf '%s\n' "$out" | grep -c '^DUNNO$')" 3 "3/1h: three admitted"
like "$(printf '%s\n' "$out" | sed -n 4p)" '"per-sender" exceeded' "the fourth is deferred"
is "$(rcli "$mp" --raw keys 'rk:rl:*' | wc -l)" 1 "the counter is on the master, under the ACL user's prefix"

# ----------------------------------------------------------------- eventd
LOG=$T/maillog
/usr/bin/python3 "$top_srcdir/bench/eventd/mklog.py" 3000 >"$T/all.log"
want=$("$EV_BIN" --parse "$T/all.log" | wc -l)
head -1000 "$T/all.log" >"$LOG"
cat >"$T/ev.yaml" <<Y
$redis_cfg
metrics: {eventdPort: $(free_port)}
milter: {metadata: false}
eventd:
  logFile: $LOG
  startAt: beginning
  pollInterval: 50ms
Y
ok "eventd starts" ev_start "$T/ev.yaml"
hp=$(free_port)
ok "the webhook receiver listens" wh_receiver "$hp"
printf 'whsec_%s\n' "$(head -c 24 /dev/urandom | base64)" >"$T/whsec"
cat >"$T/wh.yaml" <<Y
$redis_cfg
metrics: {webhookdPort: $(free_port)}
webhooks:
  enabled: true
  startAt: beginning
  endpoints:
    - name: app
      url: http://127.0.0.1:$hp/ok
      secretFile: $T/whsec
Y
ok "webhookd starts" wh_start "$T/wh.yaml" w1
evcount() { rcli "$1" xlen rk:events; }
first=$("$EV_BIN" --parse <(head -1000 "$T/all.log") | wc -l)
ok "the first part's events reach the master" \
	wait_for "[ \"\$(evcount $mp)\" = $first ]" 30
ok "and the replica" wait_for "[ \"\$(evcount $rp)\" = $first ]" 10

# The replica stops reading; 32 MB for it fill the socket buffers between
# them (a few MB on loopback), so what eventd writes next waits in the
# master's memory, and dies with it: asynchronous replication's loss.
kill -STOP "$REPLICA_PID"
head -c 32000000 /dev/zero | tr '\0' x | rcli "$mp" -x set rk:filler >/dev/null
sed -n '1001,2000p' "$T/all.log" >>"$LOG"
second=$("$EV_BIN" --parse <(head -2000 "$T/all.log") | wc -l)
ok "the second part reaches the master only" \
	wait_for "[ \"\$(evcount $mp)\" = $second ]" 30
kill -KILL "$MASTER_PID"
kill -CONT "$REPLICA_PID"
diag "events: $first replicated, $second on the master when it died"

# While no master answers, policyd keeps its fail mode (closed: defer),
# and answers at once.
t0=$(date +%s%N)
out=$($PD_CLIENT "$U" req sender=limited@example.com)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
like "$out" '^DEFER_IF_PERMIT 4\.3\.0' "master gone: failMode closed defers"
ok "and answers without waiting ($ms ms < 1000)" test "$ms" -lt 1000

ok "the sentinels promote the replica" \
	wait_for "scli $s1 sentinel get-master-addr-by-name mymaster | grep -qx $rp" 40
ok "policyd follows the failover without a restart: the limit is enforced again" \
	wait_for "$PD_CLIENT '$U' req sender=limited@example.com | grep -q 'per-sender. exceeded'" 20
like "$(cat "$T/pd.log")" "redis=mymaster@127.0.0.1:$rp status=up" \
	"policyd logs the new master"

sed -n '2001,$p' "$T/all.log" >>"$LOG"
ok "eventd re-reads what Redis lost: the new master holds every event" \
	wait_for "[ \"\$(evcount $rp)\" -ge $want ]" 40
sleep 0.5
is "$(evcount "$rp")" "$want" "exactly one event per event of the log ($want)"
rcli "$rp" --raw xrange rk:events - + | grep '^{"id":"evt_' >"$T/stream.json"
ids=$(grep -o '^{"id":"evt_[^"]*"' "$T/stream.json" | sort)
is "$(printf '%s\n' "$ids" | uniq | wc -l)" "$want" "no event id twice"
like "$(cat "$T/eventd.log")" 'Redis lost writes.*re-reading the log' \
	"eventd says why it read the log again"
# the endpoint wants every type but queued (the default)
grep -v '"event":"queued"' "$T/stream.json" | cut -d'"' -f4 | sort -u >"$T/stream.ids"
missing() { wh_ids "$T/hooks-$hp.jsonl" /ok | sort -u | comm -23 "$T/stream.ids" - | wc -l; }
ok "webhooks resume through the failover: every event of the new master's stream reached the receiver" \
	wait_until "[ \$(missing) -eq 0 ]" 60
diag "webhooks: $(wh_ids "$T/hooks-$hp.jsonl" /ok | wc -l) requests for $(wc -l <"$T/stream.ids") events ($(missing) missing)"
pos=$(rcli "$rp" --raw get "$(rcli "$rp" --raw keys 'rk:eventd:pos:*' | head -1)")
is "$(printf '%s' "$pos" | cut -d: -f3)" "$(stat -c %s "$LOG")" \
	"its position is the log's end"

kill "$PD_PID" "$EV_PID" "$WH_PID"
done_testing
