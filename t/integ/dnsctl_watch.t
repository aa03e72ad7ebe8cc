# SPDX-License-Identifier: MIT
# relaykit-dnsctl watch, the sidecar: it asks an echo service (a local
# HTTP server, like the public "what is my address" ones) every interval,
# and when the answer changes the A and SPF records at a real BIND follow
# within one interval.  SIGTERM stops it at once.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/dnsctl_lib.sh"
need dig
cd "$T" || exit 1

Z=example.test
bind_start $Z transfer '@ IN TXT "v=spf1 mx -all"'
dkim_key $Z s1
HP=$(free_port)
mkdir -p http
printf '192.0.2.31\n' >http/ip
$PY "$DC_SRC/t/integ/dnsctl_http.py" "$HP" "$T/http" &
track $!
wait_for "port_open $HP" 10
rfc2136_yaml $Z >rk.yaml
sed -i "s|    static: \[\]|    detectOutbound: true\n    echoUrls: [http://127.0.0.1:$HP/ip]|" rk.yaml
cat >>rk.yaml <<EOF
  watcher:
    enabled: true
    interval: 2s
EOF

"$DC" -c rk.yaml watch >watch.out 2>watch.err &
WPID=$!
track $WPID
ok "watch: the first round applies the detected address" \
	wait_for '[ "$(q A mail.$Z)" = 192.0.2.31 ]' 10
is "$(q TXT $Z)" '"v=spf1 mx ip4:192.0.2.31 -all"' "watch: ... and the SPF record"
sleep 2.5 # a round without a change
before=$(grep -c 'action=apply' watch.err)
is "$before" 1 "watch: an unchanged address applies nothing"

printf '192.0.2.32\n' >http/ip
start=$(date +%s%N)
ok "the new address reaches the A record" \
	wait_for '[ "$(q A mail.$Z)" = 192.0.2.32 ]' 10
ok "... and the SPF record" \
	wait_for '[ "$(q TXT $Z)" = "\"v=spf1 mx ip4:192.0.2.32 -all\"" ]' 5
ms=$(( ($(date +%s%N) - start) / 1000000 ))
diag "the records followed the address in $ms ms (interval 2000 ms)"
ok "within one interval (+0.5 s for the update itself)" test "$ms" -le 2500
like "$(cat watch.err)" 'action=apply addresses="192\.0\.2\.32" result=ok' "watch logs the apply"
ok "the old address is gone" test "$(q A mail.$Z | wc -l)" -eq 1

printf 'not an address\n' >http/ip
sleep 2.5
like "$(cat watch.err)" 'warning: action=detect error="GET http://127\.0\.0\.1:[0-9]+/ip: ' \
	"a bad echo answer is logged ..."
ok "... the process keeps running" kill -0 $WPID
is "$(q A mail.$Z)" 192.0.2.32 "... and the records stay"

t0=$(date +%s%N)
kill -TERM $WPID
wait $WPID
is "$?" 0 "SIGTERM: exit 0"
ok "SIGTERM: stops at once, not at the end of the interval" \
	test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000
done_testing
