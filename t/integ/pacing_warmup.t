# SPDX-License-Identifier: MIT
# Warm-up caps and the socketmap itself, on a real Postfix wired by
# relaykit-postconf.  With a cap of 5 a day for gmail.test and 15
# messages queued, exactly 5 are delivered today; the rest wait in
# Postfix's queue, deferred through its retry transport with the reason
# relaykit documents, and are neither bounced nor counted as the
# destination's doing.  "Tomorrow" (startDate moved back a day, so the
# schedule's day 2 cap of 15 applies, and a reload) they go out.  The
# socketmap answers Postfix's own client (postmap -q) and raw netstrings:
# paced, not paced, wrong map, malformed, garbage, and keeps serving.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need postfix postmap swaks redis-server redis-cli

rp=$(free_port) mxp=$(free_port) pp=$(free_port) pm=$(free_port) em=$(free_port)
ok "redis starts" start_redis "$rp"
ok "the MX listens" start_sink "$mxp"
conf() { # conf START-DATE
	cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
  trustedNetworks: [127.0.0.1/32]
  tls: {level: none}
  relay: {enabled: true, host: 127.0.0.1, port: $mxp, tls: false}
dkim: {enabled: false}
redis: {port: $rp}
policyd:
  listen: unix:$T/policy.sock
  socketmapListen: unix:$T/sm.sock
metrics: {policydPort: $pm, eventdPort: $em}
eventd: {logFile: $T/pf-main/maillog, startAt: beginning, pollInterval: 50ms}
adaptiveRate:
  enabled: true
  defaults: {enabled: false}
  tiers: [1s, 2s]
  domains:
    gmail.test: {enabled: true, minDelay: 1s, maxDelay: 2s, initialDelay: 1s}
  warmup:
    enabled: true
    startDate: $1
    schedule: [5, 15]
Y
}
conf "$(date -u +%F)"
ok "postfix starts" pf_start main "$pp" "minimal_backoff_time = 3s" \
	"maximal_backoff_time = 6s"
ok "policyd starts" pd_start rk
ok "the socketmap listens" wait_for "[ -S $T/sm.sock ]" 10
ok "relaykit-postconf wires the ladder" pf_apply "$T/rk.yaml"
ok "eventd starts" ev_start "$T/rk.yaml"

# the socketmap, asked by Postfix's own client and by hand
q() { postmap -c "$PF/etc" -q "$1" "socketmap:unix:$T/sm.sock:$2" 2>&1; }
# raw BYTES [all]: sends BYTES, prints the answer (one netstring, or all
# until the server closes); ns PAYLOAD: PAYLOAD as a netstring
raw() { $PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(sys.argv[2].encode("latin-1"))
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        out += d
        if sys.argv[3] == "one" and out.endswith(b","): break
except socket.timeout:
    out += b"(timeout)"
print(out.decode("latin-1"))' "$T/sm.sock" "$1" "${2:-one}"; }
ns() { printf '%d:%s,' "${#1}" "$1"; }
is "$(q probe@other.test pace)" "" "postmap -q: a domain that is not paced: not found"
like "$(q probe@other.test nosuchmap)" 'socketmap server permanent error: no such map: nosuchmap' \
	"postmap -q: another map: a permanent error, not an answer"
like "$(raw "$(ns 'pace user@gmail.test')")" '^[0-9]+:OK rk_pace_1s:\[127\.0\.0\.1\]:[0-9]+,$' \
	"raw: a paced domain: its tier, through mail.relay"
like "$(raw "$(ns 'pace u@GMAIL.test.')")" '^[0-9]+:OK rk_pace_1s:' \
	"raw: any case, a final dot"
is "$(raw "$(ns 'pace user@other.test')")" "9:NOTFOUND ," "raw: not paced: NOTFOUND"
like "$(raw "$(ns 'user@gmail.test')")" '^[0-9]+:PERM malformed request' \
	"raw: no map name: PERM, the connection goes on"
like "$(raw "$(ns 'bad user')")" '^[0-9]+:PERM no such map: bad' "raw: another map: PERM"
like "$(raw 'GET / HTTP/1.0

' all)" '^[0-9]+:PERM not a netstring' "raw: garbage: PERM, then closed"
like "$(raw '99999:x' all)" '^[0-9]+:PERM request of 99999 bytes' "raw: too long: PERM, closed"
like "$(raw "$(ns 'pace user@gmail.test')$(ns 'pace b@gmail.test')")" '^[0-9]+:OK' \
	"and it keeps serving"
# those lookups granted warm-up places: start the day afresh
redis-cli -p "$rp" --scan --pattern 'rk:warm:*' | xargs -r redis-cli -p "$rp" del >/dev/null
kill -HUP "$PD_PID"
sleep 1.5

sent=0
for i in $(seq 1 15); do
	swaks --server "127.0.0.1:$pp" --from app@example.com --to "u$i@gmail.test" \
		>/dev/null 2>&1 && sent=$((sent + 1))
done
is "$sent" 15 "15 messages to gmail.test accepted"
ok "the day's cap is delivered" wait_for "[ \$(sink_count) -ge 5 ]" 30
sleep 8
is "$(sink_count)" 5 "and no more: 5 today"
like "$(grep 'to=<u[0-9]*@gmail.test>.*status=deferred' "$PF/maillog" | tail -1)" \
	'relay=none, .*dsn=4\.7\.0, status=deferred \(relaykit pacing: the warm-up cap of gmail\.test \(5 a day\) is used up; deferred until tomorrow \(UTC\)\)' \
	"the rest is deferred, with the documented reason"
is "$(redis-cli -p "$rp" get "rk:warm:gmail.test:$(date -u +%Y%m%d)")" 5 \
	"Redis counts 5 for today"
like "$(pd_metrics "$pm")" 'relaykit_warmup_used\{destination="gmail.test"\} 5' \
	"the metric: 5 used"
like "$(pd_metrics "$pm")" 'relaykit_pace_lookups_total\{result="warmup_deferred"\} [1-9]' \
	"the metric: deferred lookups"
is "$(redis-cli -p "$rp" hget rk:pace:gmail.test limited)" 0 \
	"relaykit's own deferrals are not rate limits"
like "$("$PD_BIN" -c "$T/rk.yaml" --pacing)" 'gmail\.test .* 5/5' "--pacing shows 5/5"

# tomorrow: the schedule's second day, 15
conf "$(date -u -d yesterday +%F)"
kill -HUP "$PD_PID"
ok "day 2: the rest goes out" wait_for "[ \$(sink_count) -ge 15 ]" 60
sleep 2
is "$(sink_count)" 15 "15 delivered, none twice"
is "$(grep -c 'status=bounced' "$PF/maillog")" 0 "nothing bounced"
like "$("$PD_BIN" -c "$T/rk.yaml" --pacing)" 'gmail\.test .* 15/15' "--pacing shows 15/15"
done_testing
