# SPDX-License-Identifier: MIT
# The Grafana dashboard (contrib/grafana/relaykit.json) against the real
# thing: every daemon runs (milter, policyd behind a private Postfix,
# eventd, webhookd with a loopback endpoint), a real Prometheus (Debian's)
# scrapes their metrics ports, some traffic goes through (delivered,
# deferred, bounced, over a rate limit, webhooks), then every query of
# every panel is evaluated through Prometheus' HTTP API and must return
# data, and every metric name the dashboard uses must be one a daemon
# exposes.  On the way: /healthz and /readyz answer on every metrics
# port, and promtool finds nothing to lint in any /metrics.
. "$top_srcdir/t/integ/lib.sh"
need postfix swaks redis-server redis-cli prometheus promtool curl
MILTER=$top_builddir/milter/relaykit-milter
PD=$top_builddir/policyd/relaykit-policyd
EV=$top_builddir/events/relaykit-eventd
WH=$top_builddir/events/relaykit-webhookd
DASH=$top_srcdir/contrib/grafana/relaykit.json
for b in "$MILTER" "$PD" "$EV" "$WH"; do
	[ -x "$b" ] || skip_all "$b not built"
done

rp=$(free_port) sp=$(free_port) hp=$(free_port) pp=$(free_port)
mp=$(free_port) dp=$(free_port) ep=$(free_port) wp=$(free_port)
prom=$(free_port)
ok "redis starts" start_redis "$rp"
ok "sink (the MXs) listens" start_sink "$sp"
echo slow.test >"$SINK/throttle" # 421 4.7.28 to all its recipients
$PY "$top_srcdir/t/integ/wh_receiver.py" "$hp" "$T/hooks.jsonl" >"$T/receiver.log" 2>&1 &
track $!
ok "webhook receiver listens" wait_for "port_open $hp" 10
cat >"$T/rk.yaml" <<Y
mail:
  domains: [example.com]
dkim: {enabled: false}
redis: {port: $rp}
milter:
  listen: unix:$T/milter.sock
policyd:
  listen: unix:$T/policy.sock
  saslListen: unix:$T/auth.sock
  socketmapListen: unix:$T/socketmap.sock
rateLimit:
  enabled: true
  rules:
    - {name: burst, key: sender, rate: 2/1m, match: [burst@example.com]}
adaptiveRate:
  enabled: true
  defaults: {enabled: false}
  domains:
    later.test: {enabled: true, minDelay: 1s, maxDelay: 1m, initialDelay: 2s}
    slow.test: {enabled: true, minDelay: 1s, maxDelay: 1m, initialDelay: 2s}
metrics:
  milterPort: $mp
  policydPort: $dp
  eventdPort: $ep
  webhookdPort: $wp
eventd:
  logFile: $T/pf-main/maillog
  startAt: beginning
  pollInterval: 50ms
webhooks:
  enabled: true
  startAt: beginning
  endpoints:
    - name: app
      url: http://127.0.0.1:$hp/ok
      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
log: {level: info}
Y
(exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
track $!
"$PD" -f -c "$T/rk.yaml" >>"$T/policyd.log" 2>&1 &
track $!
ok "milter and policyd start" wait_for "[ -S $T/milter.sock ] && [ -S $T/policy.sock ]" 20
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$sp" \
	"smtpd_milters = unix:$T/milter.sock" "milter_protocol = 6" \
	"milter_default_action = tempfail" \
	"smtpd_recipient_restrictions = check_policy_service unix:$T/policy.sock, permit_mynetworks, reject"
"$EV" -f -c "$T/rk.yaml" >>"$T/eventd.log" 2>&1 &
track $!
"$WH" -f -c "$T/rk.yaml" --consumer grafana >>"$T/webhookd.log" 2>&1 &
track $!

# Health and lint on every metrics port
for p in "$mp:milter" "$dp:policyd" "$ep:eventd" "$wp:webhookd"; do
	port=${p%%:*} name=${p#*:}
	ok "$name: /healthz" wait_for "curl -sf http://127.0.0.1:$port/healthz >/dev/null" 20
	ok "$name: /readyz" wait_for "curl -sf http://127.0.0.1:$port/readyz >/dev/null" 20
	curl -s "http://127.0.0.1:$port/metrics" >"$T/$name.prom"
	lint=$(promtool check metrics <"$T/$name.prom" 2>&1)
	is "$lint" "" "$name: promtool check metrics finds nothing"
	like "$(cat "$T/$name.prom")" "relaykit_build_info\\{program=\"relaykit-$name\",version=\"[^\"]+\"\\} 1" \
		"$name: relaykit_build_info"
	like "$(cat "$T/$name.prom")" 'process_resident_memory_bytes [1-9]' "$name: process metrics"
	like "$(cat "$T/$name.prom")" 'relaykit_config_last_reload_successful 1' "$name: last reload"
done
like "$(curl -s "http://127.0.0.1:$dp/metrics")" 'relaykit_policyd_rule_hits_total\{rule="burst"\} 0' \
	"a configured rule's series exists from the start, at 0"

cat >"$T/prometheus.yml" <<Y
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - {job_name: relaykit-milter, static_configs: [{targets: ["127.0.0.1:$mp"]}]}
  - {job_name: relaykit-policyd, static_configs: [{targets: ["127.0.0.1:$dp"]}]}
  - {job_name: relaykit-eventd, static_configs: [{targets: ["127.0.0.1:$ep"]}]}
  - {job_name: relaykit-webhookd, static_configs: [{targets: ["127.0.0.1:$wp"]}]}
Y
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$prom" --log.level=warn \
	>"$T/prometheus.log" 2>&1 &
track $!
ok "prometheus starts" wait_for "curl -sf http://127.0.0.1:$prom/-/ready >/dev/null" 40

send() { # FROM TO
	swaks --server "127.0.0.1:$pp" --from "$1" --to "$2" --h-Subject grafana \
		--timeout 20 2>&1
}
like "$(send app@example.com someone@ok.test)" '250 2\.0\.0 Ok: queued' "a message to deliver"
like "$(send app@example.com defer-x@later.test)" '250 2\.0\.0 Ok: queued' "one the MX defers"
like "$(send app@example.com x@slow.test)" '250 2\.0\.0 Ok: queued' "one a throttling MX defers (421 4.7.28)"
like "$(send app@example.com reject-x@gone.test)" '250 2\.0\.0 Ok: queued' "one the MX refuses"
send burst@example.com a@ok.test >/dev/null
send burst@example.com b@ok.test >/dev/null
like "$(send burst@example.com c@ok.test)" '450 4\.7\.1' "one over the rate limit"
ok "a webhook arrives" wait_for '[ -s "$T/hooks.jsonl" ]' 30

# q EXPR: how many series Prometheus returns for EXPR now
q() {
	curl -s --data-urlencode "query=$1" "http://127.0.0.1:$prom/api/v1/query" |
		$PY -c 'import json, sys; print(len(json.load(sys.stdin)["data"]["result"]))'
}
ok "prometheus has scraped the bounce" \
	wait_for "[ \"\$(q 'relaykit_eventd_events_total{event=\"bounced\"} > 0')\" -ge 1 ]" 30
ok "... and the webhook" \
	wait_for "[ \"\$(q 'relaykit_webhookd_deliveries_total{result=\"ok\"} > 0')\" -ge 1 ]" 30
sleep 3 # a few more scrapes: rates over two samples at least

# every query of every panel, through Prometheus' API
$PY - "$DASH" "http://127.0.0.1:$prom" >"$T/panels.out" 2>&1 <<'P'
import json, sys, urllib.parse, urllib.request
dash = json.load(open(sys.argv[1]))
for p in dash["panels"]:
    for t in p.get("targets", []):
        expr = t["expr"].replace("$__rate_interval", "1m")
        url = sys.argv[2] + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        r = json.load(urllib.request.urlopen(url, timeout=10))
        n = len(r["data"]["result"]) if r.get("status") == "success" else -1
        print("%d\t%s\t%s" % (n, t["refId"], p["title"]))
P
npanels=$($PY -c 'import json, sys; print(sum(1 for p in json.load(open(sys.argv[1]))["panels"] if p["type"] != "row"))' "$DASH")
ntargets=$(wc -l <"$T/panels.out")
diag "dashboard: $npanels panels, $ntargets queries"
ok "the dashboard has panels ($npanels)" test "$npanels" -ge 20
while IFS="$(printf '\t')" read -r n ref title; do
	ok "panel \"$title\" ($ref) returns data ($n series)" test "$n" -gt 0
done <"$T/panels.out"

# every metric name the dashboard names is one a daemon exposes
cat "$T"/*.prom | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' | sort -u >"$T/exposed"
$PY - "$DASH" <<'P' | sort -u >"$T/used"
import json, re, sys
words = set()
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p.get("targets", []):
        e = re.sub(r'"[^"]*"', "", t["expr"])
        for w in re.findall(r"[a-z_][a-z0-9_]*(?=\s*[\[{)]|\s*\*|\s*$)", e):
            if "_" in w and w not in ("group_left", "histogram_quantile"):
                words.add(re.sub(r"_bucket$", "", w))
print("\n".join(sorted(words)))
P
diag "metric names used: $(wc -l <"$T/used")"
is "$(comm -23 "$T/used" "$T/exposed" | tr '\n' ' ')" "" "no panel uses a metric no daemon exposes"
done_testing
