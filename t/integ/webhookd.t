# SPDX-License-Identifier: MIT
# relaykit-webhookd against a real HTTP receiver on loopback that fails
# the way real endpoints do.  Events come from relaykit-eventd reading a
# Postfix log into Redis.  Every request's signature verifies with the
# reference standardwebhooks library (with the secret and, during a
# rotation, the previous one), every body validates against the event's
# JSON Schema, and:
#   ok        every event once, connections reused, extra headers sent
#   flaky     500 then 200: retried, the same webhook-id both times
#   limited   429 Retry-After: 3: the retry waits 3 s, not the schedule's 1 s
#   gone      410: the endpoint is disabled (log, metric, Redis), and
#             --enable enables it again
#   hang      no answer: timed out after 2 s, retried, delivered; the
#             other endpoints are not held up meanwhile
#   bad       400: a dead letter at once, listed by --dead-letters
#   refused   nobody listening: retried, then dead letters; --replay sends
#             them once a receiver is there
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/webhookd_lib.sh"
$PY -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema missing"

rp=$(free_port) hp=$(free_port) xp=$(free_port) mp=$(free_port)
ok "redis starts" start_redis "$rp"
ok "receiver listens" wh_receiver "$hp"
S1=whsec_$(head -c 24 /dev/urandom | base64)
S0=whsec_$(head -c 24 /dev/urandom | base64)
printf 'Bearer from-a-file\n' >"$T/token"
chmod 600 "$T/token"
u=http://127.0.0.1:$hp
cat >"$T/rk.yaml" <<Y
redis: {port: $rp}
metrics: {webhookdPort: $mp}
webhooks:
  enabled: true
  startAt: beginning
  retrySchedule: 1s,2s
  maxRetries: 3
  timeout: 2s
  claimAfter: 5s
  endpoints:
    - name: ok
      url: $u/ok
      secret: "$S1"
      previousSecret: "$S0"
      headers: {X-Tenant: acme}
      headerFiles: {Authorization: $T/token}
    - {name: flaky, url: $u/flaky, secret: "$S1"}
    - {name: limited, url: $u/limited, secret: "$S1"}
    - {name: gone, url: $u/gone, secret: "$S1"}
    - {name: hang, url: $u/hang, secret: "$S1"}
    - {name: bad, url: $u/bad, secret: "$S1", events: [delivered]}
    - {name: refused, url: "http://127.0.0.1:$xp/ok", secret: "$S1"}
Y
cat >"$T/inject.yaml" <<Y
redis: {port: $rp}
metrics: {enabled: false}
eventd: {logFile: "-"}
Y
ok "the configuration checks" "$WH_BIN" -n -c "$T/rk.yaml"
ok "events in the stream" wh_inject "$T/inject.yaml" 200
ev_stream "$rp" >"$T/stream.json"
all=$(grep -vc '"event":"queued"' "$T/stream.json")
ndel=$(grep -c '"event":"delivered"' "$T/stream.json")
grep -v '"event":"queued"' "$T/stream.json" | sed 's/^{"id":"\([^"]*\)".*/\1/' | sort >"$T/want.ids"
diag "$all events to deliver ($ndel delivered)"
ok "webhookd starts" wh_start "$T/rk.yaml" w1
H=$T/hooks-$hp.jsonl
n_path() { grep -c "\"path\": \"/$1\"" "$H"; }
ok "ok: every event arrives" wait_for "[ \$(n_path ok) -ge $all ]" 30
t_ok_done=$(date +%s.%N)
is "$(wh_ids "$H" /ok | sort)" "$(cat "$T/want.ids")" "ok: each event exactly once"
ok "hang: its first requests are still waiting then" \
	test "$(grep '"path": "/hang"' "$H" | grep -c '"status": 200')" -eq 0
ok "ok: signatures verify with the secret" wh_verify "$S1" "$H" /ok
ok "ok: and with the previous secret (rotation)" wh_verify "$S0" "$H" /ok
$PY - "$H" >"$T/ok.hdr" <<'P'
import json, sys
ports = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/ok":
        h = r["headers"]
        print(h.get("x-tenant"), h.get("authorization"), h.get("content-type"),
              h.get("user-agent", "").split("/")[0], len(h["webhook-signature"].split(" ")))
P
is "$(sort -u "$T/ok.hdr")" "acme Bearer from-a-file application/json relaykit-webhookd 2" \
	"ok: extra headers, header from a file, JSON, two signatures"

ok "flaky: retried until 200" wait_for "[ \$(n_path flaky) -ge $((2 * all)) ]" 30
$PY - "$H" >"$T/flaky.out" <<'P'
import json, sys, collections
seq = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/flaky":
        seq[r["headers"]["webhook-id"]].append(r["status"])
print(collections.Counter(tuple(v) for v in seq.values()))
P
is "$(cat "$T/flaky.out")" "Counter({(500, 200): $all})" \
	"flaky: each id got 500 then 200, under the same webhook-id"
ok "flaky: signatures verify" wh_verify "$S1" "$H" /flaky

ok "limited: retried" wait_for "[ \$(n_path limited) -ge $((2 * all)) ]" 30
$PY - "$H" >"$T/limited.out" <<'P'
import json, sys, collections
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/limited":
        t[r["headers"]["webhook-id"]].append(r["t"])
gaps = [v[1] - v[0] for v in t.values() if len(v) == 2]
print(len(gaps), "min %.1f" % min(gaps) if gaps else "none")
P
like "$(cat "$T/limited.out")" "^$all min (3|4)\.[0-9]" \
	"limited: each retry waited Retry-After's 3 s (schedule says 1 s)"

ok "gone: the endpoint is disabled" wait_for \
	"redis-cli -p $rp get rk:wh:disabled:gone | grep -q 410" 10
per=$((64 / 7))
ok "gone: no more than one round of requests ($(n_path gone) <= $per)" \
	test "$(n_path gone)" -le "$per"
like "$(cat "$T/webhookd-w1.log")" 'endpoint=gone answered 410 Gone: disabled' \
	"gone: logged"
ok "gone: the metric says so" wait_for \
	"curl -s http://127.0.0.1:$mp/metrics | grep -q 'relaykit_webhookd_endpoint_disabled{endpoint=\"gone\"} 1'" 10
ok "gone: --enable" "$WH_BIN" -c "$T/rk.yaml" --enable gone
is "$(redis-cli -p "$rp" exists rk:wh:disabled:gone)" 0 "gone: enabled again"

ok "hang: delivered on the retry" wait_for \
	"[ \$(grep '\"path\": \"/hang\"' $H | grep -c '\"status\": 200') -ge $all ]" 40
like "$(cat "$T/webhookd-w1.log")" 'endpoint=hang id=evt_[0-9a-f]+ attempt=1 result=retry reason="?Operation timed out' \
	"hang: the timeout is logged"
$PY - "$H" "$t_ok_done" >"$T/hol.out" <<'P'
import json, sys
ok_last = hang_first_ok = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/ok":
        ok_last = max(ok_last, r["t"])
    if r["path"] == "/hang" and r["status"] == 200:
        hang_first_ok = r["t"] if not hang_first_ok else min(hang_first_ok, r["t"])
print("held up" if ok_last > hang_first_ok else "not held up")
P
is "$(cat "$T/hol.out")" "not held up" "no head-of-line blocking: ok was done before hang's first retry"

ok "bad: one request per delivered event" wait_for "[ \$(n_path bad) -ge $ndel ]" 20
"$WH_BIN" -c "$T/rk.yaml" --dead-letters --endpoint bad >"$T/dead-bad.json"
is "$(grep -c '"error":"HTTP 400"' "$T/dead-bad.json")" "$ndel" \
	"bad: every event is a dead letter, with the answer"
ok "bad: each listed line is JSON with its id" $PY -c 'import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l); assert d["id"].startswith("evt_") and d["endpoint"] == "bad"' "$T/dead-bad.json"

ok "refused: dead letters after 4 attempts" wait_for \
	"[ \$($WH_BIN -c $T/rk.yaml --dead-letters --endpoint refused | grep -c '\"attempts\":\"4\"') -eq $all ]" 40
like "$(cat "$T/webhookd-w1.log")" 'endpoint=refused .*attempt=1 result=retry reason=.*(onnect|refused)' \
	"refused: logged with curl's reason"
ok "a receiver comes up where nobody was" wh_receiver "$xp"
"$WH_BIN" -c "$T/rk.yaml" --replay all --endpoint refused 2>"$T/replay.err"
like "$(cat "$T/replay.err")" "$all dead letters queued again" "--replay all --endpoint refused"
X=$T/hooks-$xp.jsonl
ok "refused: the replayed events arrive" wait_for "[ -f $X ] && [ \$(wc -l <$X) -ge $all ]" 20
is "$(wh_ids "$X" | sort)" "$(cat "$T/want.ids")" "refused: every event, once"
ok "refused: signatures verify" wh_verify "$S1" "$X"
is "$("$WH_BIN" -c "$T/rk.yaml" --dead-letters --endpoint refused | wc -l)" 0 \
	"refused: no dead letters left"
is "$("$WH_BIN" -c "$T/rk.yaml" --dead-letters | wc -l)" "$ndel" "only bad's are left"

wh_bodies "$H" "$T/bodies.json"
ok "every body validates against the JSON Schema" ev_schema_check "$T/bodies.json"
$PY - "$H" >"$T/ports.out" <<'P'
import json, sys
n, ports = 0, set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == "/ok":
        n += 1
        ports.add(r["port"])
print("reused" if len(ports) < n else "%d connections for %d requests" % (len(ports), n))
P
is "$(cat "$T/ports.out")" "reused" "ok: connections are reused"
M=$(curl -s "http://127.0.0.1:$mp/metrics")
like "$M" "relaykit_webhookd_deliveries_total\\{endpoint=\"ok\",result=\"ok\"\\} $all" \
	"metrics: deliveries by endpoint and result"
like "$M" "relaykit_webhookd_deliveries_total\\{endpoint=\"flaky\",result=\"retry\"\\} $all" \
	"metrics: retries"
like "$M" "relaykit_webhookd_dead_letters_total\\{endpoint=\"bad\"\\} $ndel" "metrics: dead letters"
like "$M" 'relaykit_webhookd_request_seconds_bucket\{endpoint="ok",le="[0-9.]+"\} [1-9]' \
	"metrics: a latency histogram per endpoint"
ok "metrics: ok's backlog drains to 0" wait_for \
	"curl -s http://127.0.0.1:$mp/metrics | grep -q 'relaykit_webhookd_backlog{endpoint=\"ok\"} 0'" 10
like "$(curl -s "http://127.0.0.1:$mp/readyz")" 'ok|ready' "readyz"

# the program's face
like "$("$WH_BIN" --help)" '^usage: relaykit-webhookd' "--help"
like "$("$WH_BIN" --version)" '^relaykit-webhookd [0-9]' "--version"
"$WH_BIN" --bogus >/dev/null 2>&1
is "$?" 64 "a bad option: EX_USAGE"
kill "$WH_PID"
ok "SIGTERM: exits" wait_for "! kill -0 $WH_PID 2>/dev/null" 10
ok "and says so" grep -q 'signal: exiting' "$T/webhookd-w1.log"
ok "no secret in the log" sh -c "! grep -qF -e '${S1#whsec_}' -e from-a-file $T/webhookd-w1.log"
done_testing
