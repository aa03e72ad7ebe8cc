# SPDX-License-Identifier: MIT
# Many relays, one state (issue 19): two relay hosts on this machine, each
# a private Postfix of its own (smtpd on 127.0.0.2 and on 127.0.0.3,
# queues and logs of their own, myhostname relay-a / relay-b) wired by
# relaykit-postconf to its own relaykit-milter (DKIM), relaykit-policyd
# and relaykit-eventd (eventd.name host-a / host-b, each following its own
# instance's log); both relay to one loopback sink and share one Redis,
# from which one relaykit-webhookd sends the shared stream to a receiver.
#
# A 5/1h per-sender limit holds across the hosts: 6 messages per host from
# that sender, both hosts at once, give 5 (+- 1) accepted in total and a
# 450 4.7.1 for every other one.  Both hosts' events arrive in the one
# stream (host relay-a and relay-b), every accepted message is delivered,
# signed, has one delivered event and exactly one delivered webhook per
# event id at the receiver: accepted = delivered = events = webhooks.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
. "$top_srcdir/t/integ/webhookd_lib.sh"
need postfix postconf swaks redis-server redis-cli
MILTER=$top_builddir/milter/relaykit-milter
PD_BIN=$top_builddir/policyd/relaykit-policyd
KEYGEN=$top_builddir/keygen/relaykit-keygen
for b in "$MILTER" "$PD_BIN" "$KEYGEN"; do
	[ -x "$b" ] || skip_all "$(basename "$b") not built"
done
$PY -c 'import socket
for a in ("127.0.0.2", "127.0.0.3"): socket.socket().bind((a, 0))' 2>/dev/null ||
	skip_all "cannot bind 127.0.0.2 and 127.0.0.3"
started=$(date +%s)

LIMIT=5 PER_HOST=6 FREE=3 # limited sends per host, then unlimited ones
rp=$(free_port) sp=$(free_port) hp=$(free_port)
ok "one redis starts" start_redis "$rp"
ok "one sink listens" start_sink "$sp"
ok "one webhook receiver listens" wh_receiver "$hp"
S=whsec_$(head -c 24 /dev/urandom | base64)
printf '%s\n' "$S" >"$T/whsec"
chmod 600 "$T/whsec"

# host_yaml NAME: host NAME's relaykit.yaml (the shared parts identical)
host_yaml() {
	mkdir -p "$T/$1"
	chmod 755 "$T/$1"
	cat >"$T/$1.yaml" <<-Y
	mail:
	  hostname: relay-$1.test
	  domains: [example.com]
	  trustedNetworks: [127.0.0.0/8]
	  tls: {level: none}
	dkim: {keyDir: $T/dkim}
	rateLimit:
	  enabled: true
	  rules:
	    - {name: per-sender, key: sender, rate: $LIMIT/1h, match: [limited@example.com]}
	redis: {port: $rp}
	milter: {listen: "unix:$T/$1/milter.sock"}
	policyd:
	  listen: [unix:$T/$1/policy.sock]
	  saslListen: [unix:$T/$1/auth.sock]
	  socketmapListen: [unix:$T/$1/socketmap.sock]
	metrics: {enabled: false}
	log: {destination: stderr}
	eventd:
	  name: host-$1
	  logFile: $T/pf-$1/maillog
	  startAt: beginning
	  pollInterval: 50ms
	webhooks:
	  enabled: true
	  startAt: beginning
	  endpoints:
	    - name: app
	      url: http://127.0.0.1:$hp/ok
	      events: [delivered]
	      secretFile: $T/whsec
	Y
	chmod 644 "$T/$1.yaml"
}

# host NAME ADDRESS: milter, policyd, Postfix wired by relaykit-postconf,
# eventd; sets PORT_<NAME>
host() {
	local h=$1 addr=$2 port
	port=$(free_port)
	eval "PORT_$h=$port"
	host_yaml "$h"
	(umask 0111; exec "$MILTER" -f -c "$T/$h.yaml") >>"$T/milter-$h.log" 2>&1 &
	track $!
	ok "$h: milter starts" wait_for "[ -S $T/$h/milter.sock ]" 10
	"$PD_BIN" -f -c "$T/$h.yaml" >>"$T/policyd-$h.log" 2>&1 &
	track $!
	ok "$h: policyd starts" wait_for "[ -S $T/$h/policy.sock ]" 10
	ok "$h: postfix starts, smtpd on $addr:$port" pf_start_at "$h" "$addr" "$port" \
		"relayhost = [127.0.0.1]:$sp"
	ok "$h: relaykit-postconf wires it" pf_apply "$T/$h.yaml"
	like "$(postconf -c "$PF/etc" -h smtpd_recipient_restrictions)" \
		"check_policy_service \{ unix:$T/$h/policy\.sock" "$h: smtpd asks its own policyd"
	like "$(postconf -c "$PF/etc" -h smtpd_milters)" "unix:$T/$h/milter\.sock" \
		"$h: and its own milter"
	ok "$h: eventd (name host-$h) follows $h's log" ev_start_as "$h" "$T/$h.yaml"
}
host_yaml a # for keygen: the key is the one both hosts sign with
"$KEYGEN" --all -c "$T/a.yaml" >"$T/dkim.txt" 2>&1
ok "DKIM key made" test -s "$T/dkim.txt"
host a 127.0.0.2
host b 127.0.0.3
ok "one webhookd for the shared stream" wh_start "$T/a.yaml" wh1

# send NAME FROM ID: one message through host NAME, swaks's transcript in
# $T/out/ID
mkdir -p "$T/out"
send() {
	local addr port
	addr=127.0.0.$([ "$1" = a ] && echo 2 || echo 3)
	eval "port=\$PORT_$1"
	swaks --server "$addr:$port" --from "$2" --to user@example.org \
		--h-Subject "multi $3" --add-header "X-Message-ID: $3" \
		--timeout 30 >"$T/out/$3" 2>&1
}
burst() { # burst NAME: the host's sends, one after the other
	local i
	for i in $(seq $PER_HOST); do send "$1" limited@example.com "$1-lim-$i"; done
	for i in $(seq $FREE); do send "$1" free@example.com "$1-free-$i"; done
}
burst a &
ba=$!
burst b &
bb=$!
wait $ba $bb

accepted() { grep -l '<- *250 2\.0\.0 Ok: queued as' "$@" 2>/dev/null | wc -l; }
deferred() { grep -l '<\*\* *450 4\.7\.1 .*Rate limit "per-sender" exceeded' "$@" 2>/dev/null | wc -l; }
la=$(accepted "$T"/out/a-lim-*) lb=$(accepted "$T"/out/b-lim-*)
lim=$((la + lb))
lim_def=$(deferred "$T"/out/a-lim-* "$T"/out/b-lim-*)
fr=$(accepted "$T"/out/*-free-*)
acc=$(accepted "$T"/out/*)
acc_a=$(accepted "$T"/out/a-*) acc_b=$(accepted "$T"/out/b-*)
diag "limited@example.com: $((2 * PER_HOST)) sent (half per host, both at once): accepted $la on a + $lb on b = $lim, 450 4.7.1: $lim_def"
diag "free@example.com: accepted $fr of $((2 * FREE)); accepted in all: $acc (a $acc_a, b $acc_b)"
ok "a $LIMIT/1h per-sender limit holds across both hosts: $lim accepted (want $LIMIT +- 1)" \
	test "$lim" -ge $((LIMIT - 1)) -a "$lim" -le $((LIMIT + 1))
is "$lim_def" "$((2 * PER_HOST - lim))" "every other message from that sender got 450 4.7.1 naming the rule"
is "$fr" "$((2 * FREE))" "other senders are not limited"
is "$(redis-cli -p "$rp" zcard "rk:rl:per-sender:limited@example.com")" "$lim" \
	"one counter in Redis for both hosts holds every admission"
rejects() { grep -c 'NOQUEUE: reject: RCPT .*450 4\.7\.1 .*Rate limit "per-sender" exceeded' "$T/pf-$1/maillog"; }
is "$(rejects a)" "$(deferred "$T"/out/a-lim-*)" "a's log has a reject for each 450 a's client saw"
is "$(rejects b)" "$(deferred "$T"/out/b-lim-*)" "b's log has a reject for each 450 b's client saw"
ok "both hosts' logs show deliveries" \
	eval "grep -q 'status=sent' '$T/pf-a/maillog' && grep -q 'status=sent' '$T/pf-b/maillog'"

ok "every accepted message reaches the sink ($acc)" wait_until "[ \$(sink_count) -ge $acc ]" 60
delivered_events() { ev_stream "$rp" | grep '"event":"delivered"'; }
ok "every delivery has its event in the one stream" \
	wait_until "[ \$(delivered_events | wc -l) -ge $acc ]" 30
H=$T/hooks-$hp.jsonl
ok "and its webhook" wait_until "[ \$(wh_ids '$H' /ok 2>/dev/null | sort -u | wc -l) -ge $acc ]" 30
sleep 2 # room for a duplicate to show up
n_sink=$(sink_count)
is "$n_sink" "$acc" "accepted = delivered to the sink"
unsigned=$(grep -L '^DKIM-Signature:' "$SINK"/*.eml 2>/dev/null | wc -l)
is "$unsigned" 0 "every delivered message is DKIM-signed"

delivered_events >"$T/delivered.json"
n_ev=$(wc -l <"$T/delivered.json")
ev_a=$(grep -c '"host":"relay-a"' "$T/delivered.json")
ev_b=$(grep -c '"host":"relay-b"' "$T/delivered.json")
diag "delivered events: $n_ev (host relay-a: $ev_a, relay-b: $ev_b); stream length $(ev_count "$rp")"
is "$n_ev" "$acc" "one delivered event per accepted message"
is "$ev_a" "$acc_a" "host a's deliveries carry host relay-a"
is "$ev_b" "$acc_b" "host b's deliveries carry host relay-b"
ok "both hosts' queued events are in the same stream" eval \
	"ev_stream $rp | grep '\"event\":\"queued\"' | grep -q '\"host\":\"relay-a\"' &&
	 ev_stream $rp | grep '\"event\":\"queued\"' | grep -q '\"host\":\"relay-b\"'"
keys=$(redis-cli -p "$rp" --scan --pattern 'rk:eventd:pos:*')
like "$keys" '^rk:eventd:pos:host-a:' "eventd host-a keeps its own position"
like "$keys" 'rk:eventd:pos:host-b:' "eventd host-b keeps its own position"

wh_ids "$H" /ok | sort >"$T/hook-ids"
grep -o '"id":"evt_[0-9a-f]*"' "$T/delivered.json" | cut -d'"' -f4 | sort >"$T/event-ids"
n_hooks=$(wc -l <"$T/hook-ids")
dups=$(uniq -d "$T/hook-ids" | wc -l)
diag "webhooks received: $n_hooks, distinct webhook-ids: $(sort -u "$T/hook-ids" | wc -l), duplicated: $dups"
is "$dups" 0 "no event id delivered twice"
is "$n_hooks" "$acc" "exactly one delivered webhook per accepted message"
ok "the webhook ids are the stream's delivered event ids" cmp -s "$T/hook-ids" "$T/event-ids"
wh_bodies "$H" "$T/bodies.json"
is "$($PY -c 'import json, sys
print(" ".join(sorted({json.loads(l)["host"] for l in open(sys.argv[1])})))' "$T/bodies.json")" \
	"relay-a relay-b" "the webhooks name both hosts"
want_ids=$(cd "$T/out" && grep -l '<- *250 2\.0\.0 Ok: queued as' * | LC_ALL=C sort | paste -sd' ')
got_ids=$($PY -c 'import json, sys
print(" ".join(sorted(json.loads(l).get("client_id") or "?" for l in open(sys.argv[1]))))' "$T/bodies.json")
is "$got_ids" "$want_ids" "one webhook per accepted client id, none for a deferred one"
ok "every signature verifies" wh_verify "$S" "$H"
diag "run time: $(($(date +%s) - started)) s"
done_testing
