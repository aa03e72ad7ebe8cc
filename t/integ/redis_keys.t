# SPDX-License-Identifier: MIT
# Every Redis key relaykit writes expires or is bounded (ARCHITECTURE.md,
# "State in Redis"; relaykit.yaml(5), REDIS KEYS).  The programs run
# briefly against a private Redis: policyd's rate limits (a sliding
# window and a GCRA counter), SMTP AUTH failures and a lockout, a pacing
# warm-up grant through the socketmap; relaykit-verp storing a long client
# id; eventd reading a log of more events than eventd.streamMaxLen, with
# adaptive pacing on; webhookd filing them for an endpoint nobody answers,
# more dead letters than webhooks.deadLetterMaxLen and retries waiting.
# Then every key is scanned: it has a TTL, or it is one of the documented
# bounded kinds, checked against its bound.  (The milter's msg:<queue id>
# is the key eventd writes here, with the same expiry.)
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need redis-server redis-cli
WH_BIN=$top_builddir/events/relaykit-webhookd
V=$top_builddir/events/relaykit-verp
AC="$PY $top_srcdir/t/integ/auth_client.py"
[ -x "$WH_BIN" ] && [ -x "$V" ] || skip_all "programs not built"

P="keys:"
MAXLEN=1000 DEADMAX=100
rp=$(free_port) mp=$(free_port) em=$(free_port) wm=$(free_port) xp=$(free_port)
ok "redis starts" start_redis "$rp"
R() { redis-cli -p "$rp" "$@"; }

$PY "$top_srcdir/bench/eventd/mklog.py" 6000 >"$T/mail.log"
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
auth:
  enabled: true
  requireTls: false
  users:
    app: app-secret
  lockout: {maxFailures: 3, window: 1h, duration: 1h}
rateLimit:
  enabled: true
  rules:
    - {name: window, key: sender, rate: 5/1h}
    - {name: gcra, key: clientAddress, rate: 5000/1d}
adaptiveRate:
  enabled: true
  defaults: {enabled: true}
  tiers: [1s, 2s]
  warmup:
    enabled: true
    startDate: $(date -u +%F)
    schedule: [5, 15]
inbound:
  bounce:
    enabled: true
    hmacSecret: "0123456789abcdef-test-secret"
    maxAgeDays: 7
webhooks:
  enabled: true
  startAt: beginning
  maxRetries: 0
  deadLetterMaxLen: $DEADMAX
  endpoints:
    - {name: nobody, url: "http://127.0.0.1:$xp/", secret: "whsec_$(head -c 24 /dev/urandom | base64)"}
redis: {port: $rp, keyPrefix: "$P"}
metrics: {policydPort: $mp, eventdPort: $em, webhookdPort: $wm}
policyd:
  listen: unix:$T/policy.sock
  saslListen: unix:$T/auth.sock
  socketmapListen: unix:$T/sm.sock
eventd: {logFile: $T/mail.log, startAt: beginning, pollInterval: 50ms,
  streamMaxLen: $MAXLEN, name: keys-test}
Y
ok "the configuration checks" "$PD_BIN" -n -c "$T/rk.yaml"
cp "$T/rk.yaml" "$T/pd.yaml"

# policyd: limits, AUTH, a warm-up grant
ok "policyd starts" pd_start pd
ok "the SASL and socketmap sockets are there" \
	wait_for "[ -S $T/auth.sock ] && [ -S $T/sm.sock ]" 10
U=unix:$T/policy.sock
out=$($PD_CLIENT "$U" reqs 7 sender=a@example.com client_address=10.1.2.3)
is "$(printf '%s\n' "$out" | grep -c '^DUNNO$')" 5 "rate limit: 5 admitted, the rest deferred"
for i in 1 2 3; do $AC "unix:$T/auth.sock" plain app bad secured 10.7.0.1 >/dev/null; done
$AC "unix:$T/auth.sock" plain other bad secured 10.7.0.2 >/dev/null
ok "AUTH: the lock is in Redis" test "$(R exists "${P}auth:lock:user:app")" = 1
ok "AUTH: a failure is counted" test "$(R exists "${P}auth:fail:ip:10.7.0.2")" = 1
ns() { printf '%d:%s,' "${#1}" "$1"; }
$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(sys.argv[2].encode()); print(s.recv(4096).decode())' \
	"$T/sm.sock" "$(ns 'pace u@gmail.test')" >"$T/sm.out"
ok "pacing: a warm-up grant is counted" \
	wait_for "[ -n \"\$(R --scan --pattern '${P}warm:*')\" ]" 5

# relaykit-verp: a client id too long for the address goes to Redis
long=$(printf 'x%.0s' $(seq 200))
ok "verp: a long id is encoded" eval "\"\$V\" -c \"\$T/rk.yaml\" encode \"\$long\" >/dev/null"

# eventd: more events than the stream keeps
t0=$(date +%s)
ok "eventd starts" ev_start "$T/rk.yaml"
ok "eventd reads the whole log" wait_for \
	"grep -q \"\$(wc -c <$T/mail.log)\" <<<\"\$(R get ${P}eventd:pos:keys-test:$T/mail.log)\"" 180
written=$(pd_metrics "$em" | awk '/^relaykit_eventd_events_written_total/ { n += $2 } END { print n + 0 }')
diag "eventd: $(($(date +%s) - t0)) s, $(grep -c . "$T/mail.log") lines, $written events"
ok "more events written ($written) than eventd.streamMaxLen" test "$written" -gt "$MAXLEN"
kill "$EV_PID"

# webhookd: every event fails at once into the dead letters
"$WH_BIN" -f -c "$T/rk.yaml" --consumer keys >"$T/webhookd.log" 2>&1 &
WH_PID=$!
track $WH_PID
ok "webhookd files more than deadLetterMaxLen dead letters" \
	wait_for "[ \$(R xlen ${P}wh:dead) -ge $((DEADMAX + 1)) ] && grep -q . <<<\"\$(R xinfo groups ${P}events)\"" 30
sleep 1
kill "$WH_PID"
kill "$PD_PID"
# a retry waiting, as webhookd files one (webhooks.maxRetries > 0)
R zadd "${P}wh:retry:nobody" $(($(date +%s) * 1000 + 3600000)) $'2\nevt_x\ndelivered\n{}' >/dev/null

# every key: a TTL, or a documented bound
R --scan >"$T/keys"
diag "$(wc -l <"$T/keys") keys: $(sed "s/^$P//; s/:.*//" "$T/keys" | sort | uniq -c | tr -s ' \n' ' ')"
bad=0 kinds=
while IFS= read -r k; do
	ttl=$(R ttl "$k") type=$(R type "$k") why=
	case ${k#"$P"} in
	events) why=$(R xlen "$k"); [ "$why" -gt "$MAXLEN" ] && [ "$why" -gt $((MAXLEN + 100)) ] &&
		why="stream of $why > $MAXLEN + a node"; [ "$type" = stream ] || why="a $type" ;;
	wh:dead) why=$(R xlen "$k"); [ "$why" -gt $((DEADMAX + 100)) ] &&
		why="stream of $why > $DEADMAX + a node"; [ "$type" = stream ] || why="a $type" ;;
	wh:q:nobody | wh:retry:nobody | wh:disabled:nobody) ;; # one per endpoint
	stats:bounce) [ "$(R hlen "$k")" -le 20 ] || why="$(R hlen "$k") fields" ;;
	*) [ "$ttl" -gt 0 ] || why="no TTL ($ttl)" ;;
	esac
	case $why in '' | [0-9]*) ;; *) diag "$k: $why"; bad=$((bad + 1)) ;; esac
	kinds="$kinds ${k#"$P"}"
done <"$T/keys"
is "$bad" 0 "every key expires or is bounded (events: $(R xlen "${P}events"), wh:dead: $(R xlen "${P}wh:dead"))"
for want in 'rl:window:' 'rl:gcra:' 'auth:fail:ip:' 'auth:lock:ip:' 'auth:lock:user:' \
	'auth:fail:user:other' 'warm:gmail.test:' 'verp:' 'msg:' 'pace:' 'eventd:pos:' \
	'events ' 'wh:dead' 'wh:q:nobody'; do
	like "$kinds " " $want" "seen: $want"
done
like "$(R ttl "${P}eventd:pos:keys-test:$T/mail.log")" '^2[0-9]{6}$' \
	"the log position expires in about 30 days"
like "$(R object encoding "$(grep -m1 "^${P}rl:gcra:" "$T/keys")")" 'embstr|int|raw' \
	"a counter over 1000 is one GCRA value, not a set"
done_testing
