# SPDX-License-Identifier: MIT
# The live dashboard in a real browser: Debian's chromium, headless,
# driven by puppeteer-core (t/integ/dash_browser.js), against a running
# relay (Postfix with relaykit's milter, relaykit-eventd with
# dashboard.watch and a bearer token from a file).  Without credentials
# there is no page and no feed; with the token, a message sent through
# Postfix appears with its status (timed: within 2 s), with the client id
# the milter recorded; filters by sender, domain and status hide and show
# it; deferrals put their destination among the top deferring ones, with
# the adaptive delay eventd's pacing keeps for it in Redis; a screenshot
# lands in the build dir (t/integ/artifacts/dashboard.png).  Above
# maxEventsPerSecond a page gets an even sample.  The token never
# reaches eventd's log.  (500 events/s in the browser: dashboard_load.t.)
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need postfix swaks redis-server redis-cli node chromium
PUP=$_rk_npm/node_modules
[ -f "$PUP/puppeteer-core/package.json" ] ||
	skip_all "npm package puppeteer-core missing (./test installs it)"
MILTER=$top_builddir/milter/relaykit-milter
ART=$top_builddir/t/integ/artifacts
mkdir -p "$ART"

rp=$(free_port) sp=$(free_port) pp=$(free_port) mp=$(free_port)
ep=$(free_port) dp=$(free_port)
token=tok-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$token" >"$T/dash.token"
chmod 600 "$T/dash.token"
ok "redis starts" start_redis "$rp"
ok "sink (the internet's MXs) listens" start_sink "$sp"
echo later.test >"$SINK/throttle" # 421 4.7.28: adaptive pacing slows down
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
dkim: {enabled: false}
inbound: {clientIdHeader: X-Message-ID}
redis: {port: $rp}
milter:
  listen: unix:$T/milter.sock
metrics:
  milterPort: $mp
  eventdPort: $ep
adaptiveRate:
  enabled: true
  defaults: {enabled: false}
  domains:
    later.test: {enabled: true, minDelay: 1s, maxDelay: 10m, initialDelay: 2s}
dashboard:
  watch: {enabled: true}
  port: $dp
  auth: {bearerTokenFile: $T/dash.token}
eventd:
  logFile: $T/pf-main/maillog
  pollInterval: 50ms
log: {level: info}
Y
(exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
track $!
ok "milter starts" wait_for "[ -S $T/milter.sock ]" 10
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$sp" \
	"smtpd_milters = unix:$T/milter.sock" "milter_protocol = 6" \
	"milter_default_action = tempfail"
ok "eventd starts" ev_start "$T/rk.yaml"
ok "the dashboard listens" wait_for "port_open $dp" 10
like "$(cat "$T/eventd.log")" "dashboard: serving http://127.0.0.1:$dp/ \(login: token\)" \
	"eventd says where the dashboard is"

diag "relay up at ${SECONDS}s"
# plain HTTP first: no token, no page and no feed
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
is "$(code "http://127.0.0.1:$dp/")" 401 "no token: 401"
is "$(code "http://127.0.0.1:$dp/events")" 401 "no token: no feed"
is "$(code -H "Authorization: Bearer wrong" "http://127.0.0.1:$dp/")" 401 "a wrong token: 401"
is "$(code -H "Authorization: Bearer $token" "http://127.0.0.1:$dp/")" 200 "the token: the page"
hdrs=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$dp/")
like "$hdrs" "Content-Security-Policy: default-src 'none'; script-src 'self'" \
	"the page may load nothing from elsewhere"
is "$(code "http://127.0.0.1:$dp/healthz")" 200 "the dashboard port answers probes too"
is "$(code "http://127.0.0.1:$ep/healthz")" 200 "... and the metrics port still does"

timeout 80 node "$top_srcdir/t/integ/dash_browser.js" relay "$PUP" \
	"http://127.0.0.1:$dp" "$token" "$pp" "$ART" \
	>"$T/browser.out" 2>"$T/browser.err"
diag "browser run done at ${SECONDS}s"
sed 's/^/# /' "$T/browser.out"
r() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$T/browser.out"; }
is "$(r error)" "" "the browser run ends without an error"
[ -s "$T/browser.err" ] && sed 's/^/# stderr: /' "$T/browser.err" | head -20

is "$(r noauth_status)" 401 "browser without the token: 401"
is "$(r noauth_table)" false "... and no dashboard in it"
is "$(r noauth_events)" 401 "... nor a feed"
is "$(r auth_status)" 200 "/?token=: the page (after the redirect)"
is "$(r auth_url)" "http://127.0.0.1:$dp/" "... and the token left the address bar"
is "$(r connected)" true "the page connects to the feed"
ok "the message's row appears within 2 s ($(r appear_ms) ms)" \
	test "$(r appear_ms)" -ge 0 -a "$(r appear_ms)" -le 2000
ok "... delivered within 2 s of acceptance ($(r delivered_ms) ms)" \
	test "$(r delivered_ms)" -ge 0 -a "$(r delivered_ms)" -le 2000
is "$(r row_client_id)" "order-dash-1" "... with the client id the milter recorded"
ok "a deferral shows ($(r defer_ms) ms)" test "$(r defer_ms)" -ge 0
is "$(r top_domain)" "later.test" "... and its destination tops the deferring ones"
like "$(r top_delay)" '^[0-9.]+ (ms|s|min)' \
	"... with its current adaptive delay ($(r top_delay); Redis: $(redis-cli -p "$rp" hget rk:pace:later.test delay) ms)"
for f in filter_from_hides filter_from_shows filter_domain_hides \
	filter_domain_shows filter_status_hides filter_server_hides \
	filter_reset_shows; do
	is "$(r $f)" true "filter: $f"
done
ok "screenshot saved" test -s "$ART/dashboard.png"

# faster than a page may be sent: an even sample, counted
timeout 4 curl -sN -H "Authorization: Bearer $token" \
	"http://127.0.0.1:$dp/events?domain=.test" >"$T/fast.sse" 2>/dev/null &
fast=$!
sleep 0.5
inj=$($PY "$top_srcdir/t/integ/dash_inject.py" "$rp" rk: 2000 2)
wait $fast
got=$($PY -c 'import json, sys
n = 0
for line in open(sys.argv[1]):
    if line.startswith("data: ["):
        n += len(json.loads(line[6:]))
print(n)' "$T/fast.sse")
diag "2000 events/s for 2 s: $inj injected, $got sent to one page"
ok "above maxEventsPerSecond the page gets a sample ($got of $inj)" \
	test "$got" -gt 1000 -a "$got" -lt $((inj * 2 / 3))
like "$(grep '^data: {"sent"' "$T/fast.sse" | tail -1)" '"sampled":[1-9]' \
	"... and is told how many were left out"

m=$(curl -s "http://127.0.0.1:$ep/metrics")
like "$m" 'relaykit_eventd_dashboard_denied_total [1-9]' "refused requests are counted"
like "$m" 'relaykit_eventd_dashboard_events_total\{result="sent"\} [1-9]' "sent events are counted"
like "$m" 'relaykit_eventd_dashboard_events_total\{result="sampled"\} [1-9]' "sampled ones too"
ok "the token is never logged" sh -c "! grep -q '$token' '$T/eventd.log'"
diag "checks done at ${SECONDS}s"
kill "$EV_PID"; wait "$EV_PID" 2>/dev/null
like "$(tail -1 "$T/eventd.log")" 'signal 15: exiting' "SIGTERM with a page open: clean exit"
done_testing
