# SPDX-License-Identifier: MIT
# relaykit-milter's decisions besides signing: a message without exactly
# one From is refused with a 550 5.7.1 that says why (or passed unsigned
# with dkim.badFromAction: accept); every unsigned message gets one log
# line with reason= and counts in the metric by reason; subdomains sign
# with the parent's key; a bad key refuses the start (EX_CONFIG) and a
# reload with one keeps the old keys; a reload never changes the state a
# message in flight started with.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"

mk_key rsa rsa.example r1
mp=$(free_port)
config() { # config BADFROMACTION [EXTRA DOMAIN ITEM]
	cat >"$T/rk.yaml" <<-Y
	mail:
	  domains:
	    - name: rsa.example
	      subdomains: true
	      keys: [{selector: r1, algorithm: rsa-sha256}]
	${2:-}
	dkim:
	  algorithm: rsa-sha256
	  keyDir: $KEYS
	  badFromAction: $1
	milter:
	  listen: unix:$T/milter.sock
	metrics:
	  address: 127.0.0.1
	  milterPort: $mp
	Y
}
scrape() { $PY -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode())' "$mp"; }
mlog() { cat "$T/milter.log"; }
quiet() { "$@" >/dev/null 2>&1; }

# -n and the start refuse a world-readable key.
config reject
chmod 644 "$KEYS/rsa.example/r1.pem"
out=$("$MILTER" -n -c "$T/rk.yaml" 2>&1); r=$?
is "$r" 78 "-n: world-readable key is EX_CONFIG"
like "$out" "world-readable private key refused" "-n says why"
"$MILTER" -f -c "$T/rk.yaml" >"$T/start.log" 2>&1; r=$?
is "$r" 78 "start with a world-readable key: EX_CONFIG"
chmod 600 "$KEYS/rsa.example/r1.pem"
is "$("$MILTER" -n -c "$T/rk.yaml" 2>&1)" "configuration OK" "-n with good keys"
mv "$KEYS/rsa.example/r1.pem" "$T/r1.pem"
"$MILTER" -f -c "$T/rk.yaml" >"$T/start.log" 2>&1; r=$?
is "$r" 78 "start with a missing key: EX_CONFIG"
like "$(cat "$T/start.log")" "selector=r1: .*No such file" "and names the key"
mv "$T/r1.pem" "$KEYS/rsa.example/r1.pem"
like "$("$MILTER" -h)" "usage: relaykit-milter" "-h prints usage"
like "$("$MILTER" --help)" "usage: relaykit-milter" "--help prints usage"
like "$("$MILTER" -V)" "^relaykit-milter [0-9]" "-V prints the version"

ok "milter starts" milter_start "$T/rk.yaml"
sp=$(free_port)
ok "sink listens" start_sink "$sp"
PF_PORT=$(free_port)
# No local header rewriting: Postfix would add the missing From itself.
ok "postfix starts" pf_start main "$PF_PORT" "relayhost = [127.0.0.1]:$sp" \
	"local_header_rewrite_clients =" "$PF_MILTER_LINES"

send() { # send NAME HEADERS...: a message with those header lines
	local f=$T/msg-$1; shift
	printf '%s\r\n' "$@" "X-Test: x" "" "body" >"$f"
	swaks_send "$f"
}
out=$(send nofrom "To: a@example.org" "Subject: no from")
like "$out" '<\*\* *550 5\.7\.1 .*no From header field' "no From: 550 5.7.1 with the reason"
out=$(send twofrom "From: a@rsa.example" "From: b@rsa.example" "Subject: two")
like "$out" '<\*\* *550 5\.7\.1 .*2 From header fields' "two From: 550 5.7.1 with the reason"
out=$(send badfrom "From: Joe Nobody" "Subject: bad")
like "$out" '<\*\* *550 5\.7\.1 .*does not hold exactly one' "From without address: 550 5.7.1"
out=$(send other "From: a@other.example" "Subject: other")
like "$out" '<- *250 2\.0\.0 Ok: queued' "unconfigured domain: accepted"
out=$(send sub "From: a@mail.rsa.example" "Subject: sub")
like "$out" '<- *250 2\.0\.0 Ok: queued' "subdomain: accepted"
ok "both accepted messages delivered" wait_for '[ $(sink_count) -ge 2 ]'
m=$(grep -l '^Subject: sub' "$SINK"/*.eml)
like "$(grep -A1 '^DKIM' "$m")" "d=rsa.example; s=r1" "subdomain signed with the parent's d= and key"
ok "subdomain signature verifies (python3-dkim)" quiet v_python "$m"
m=$(grep -l '^Subject: other' "$SINK"/*.eml)
is "$(grep -c '^DKIM-Signature' "$m")" 0 "unconfigured domain: unsigned"
like "$(mlog)" "action=unsigned reason=domain_not_configured from_domain=other.example" \
	"unsigned: one log line with reason="
like "$(mlog)" "action=reject reason=no_from" "reject logged: no_from"
like "$(mlog)" "action=reject reason=multiple_from" "reject logged: multiple_from"
like "$(mlog)" "action=reject reason=bad_from" "reject logged: bad_from"
met=$(scrape)
like "$met" 'relaykit_milter_unsigned_total\{reason="domain_not_configured"\} 1' "metric: domain_not_configured"
like "$met" 'relaykit_milter_unsigned_total\{reason="no_from"\} 1' "metric: no_from"
like "$met" 'relaykit_milter_messages_total\{result="signed"\} 1' "metric: signed"
like "$met" 'relaykit_milter_messages_total\{result="rejected"\} 3' "metric: rejected"

# Reload: badFromAction accept now passes a From-less message unsigned.
config accept
kill -HUP "$MILTER_PID"
ok "reload logged" wait_for 'mlog | grep -q "action=reload result=ok"' 10
out=$(send nofrom2 "To: a@example.org" "Subject: no from 2")
like "$out" '<- *250 2\.0\.0 Ok: queued' "after reload, badFromAction accept: no From accepted"
like "$(mlog)" "action=unsigned reason=no_from" "and logged unsigned with reason=no_from"
ok "milter survived SIGHUP" kill -0 "$MILTER_PID"

# A reload whose key is bad keeps the old state.
mkdir -p "$KEYS/new.example"
openssl genpkey -algorithm ed25519 -out "$KEYS/new.example/mail.pem" 2>/dev/null
chmod 644 "$KEYS/new.example/mail.pem"
config reject "    - new.example"
kill -HUP "$MILTER_PID"
ok "failed reload logged" wait_for 'mlog | grep -q "action=reload result=failed"' 10
out=$(send nofrom3 "To: a@example.org" "Subject: no from 3")
like "$out" '<- *250 2\.0\.0 Ok: queued' "old state kept: badFromAction still accept"
like "$(scrape)" 'relaykit_milter_reloads_total\{result="failed"\} 1' "metric: failed reload"

# A message in flight keeps the state it started with: MAIL FROM is sent
# to the milter at once, then the domain is dropped by a reload, then
# DATA: it must still be signed with the old key.
mk_key rsa rsa2.example mail
config reject "    - name: rsa2.example"
sed -i '/- name: rsa.example/,/keys:/d' "$T/rk.yaml"
$PY - "$PF_PORT" "$T" "$MILTER_PID" <<'PY' >"$T/inflight.out" 2>&1
import os, signal, smtplib, sys, time
port, tdir, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo("test")
s.mail("sender@example.net")
s.rcpt("user@example.org")
os.kill(pid, signal.SIGHUP)
for _ in range(100):
    if open(tdir + "/milter.log").read().count("action=reload result=ok") >= 2:
        break
    time.sleep(0.1)
print(s.data(b"From: a@rsa.example\r\nSubject: inflight\r\n\r\nbody\r\n"))
s.quit()
PY
is "$(mlog | grep -c 'action=reload result=ok')" 2 "reload during the message succeeded"
like "$(cat "$T/inflight.out")" "250" "in-flight message accepted"
ok "in-flight message delivered" wait_for 'grep -lq "^Subject: inflight" "$SINK"/*.eml'
m=$(grep -l '^Subject: inflight' "$SINK"/*.eml)
ok "in-flight message signed with the state it started with" quiet v_python "$m"
out=$(send after "From: a@rsa.example" "Subject: after")
ok "after the reload rsa.example is no longer signed" \
	wait_for 'mlog | grep -q "reason=domain_not_configured from_domain=rsa.example"' 10
done_testing
