# SPDX-License-Identifier: MIT
# relaykit-milter under valgrind: many messages (RK_VALGRIND_MSGS, default
# 300; 10,000 for a release) validated, dual-signed and VERPed through a
# real Postfix, some refused, then SIGHUP; at exit no leak, no invalid access.  Nothing may
# carry over from one message to the next.  Mail from an untrusted client
# (127.0.0.2) to postmaster@ runs the inbound SPF/DKIM/DMARC checks
# (libspf2, libopendkim, libopendmarc; records from a loopback BIND),
# passed, refused and unanswered by DNS.  (The stop does not join
# libmilter's threads, so their stacks show as "possibly lost": only
# definite and indirect leaks count.)
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"
need valgrind smtp-source
if grep -qa __asan_init "$MILTER"; then
	# ASan and valgrind do not mix; the other milter tests run this
	# build's own checks over the same paths.
	ok "no valgrind pass in an AddressSanitizer build" true
	done_testing
	exit
fi
N=${RK_VALGRIND_MSGS:-300}
quiet() { "$@" >/dev/null 2>&1; }

mk_key rsa dual.example mail
mk_key ed25519 dual.example mail-ed25519
need redis-server named
rp=$(free_port)
start_redis "$rp"
cat >"$T/sender.test.zone" <<Z
\$TTL 300
@ IN SOA ns.sender.test. root.sender.test. 1 3600 600 86400 300
@ IN NS ns.sender.test.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:192.0.2.1 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
Z
dp=$(free_port)
ok "BIND serves sender.test" start_named "$dp" "$T/sender.test.zone"
# every check of the pipeline: sender validation, dual signing, VERP
# with its Redis writes
cat >"$T/rk.yaml" <<Y
mail:
  domains: [dual.example]
  trustedNetworks: [127.0.0.1/32]
senderValidation: {enabled: true, checkFromHeader: true}
inbound:
  enabled: true
  bounce: {enabled: true, hmacSecret: valgrind-secret-0123456789}
  security: {resolver: "127.0.0.1:$dp"}
redis: {port: $rp}
dkim:
  algorithm: both
  keyDir: $KEYS
milter:
  listen: unix:$T/milter.sock
metrics:
  enabled: false
Y
rm -f "$T/milter.sock"
(umask 0111; exec valgrind --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--log-file="$T/valgrind.log" "$MILTER" -f -c "$T/rk.yaml") \
	>>"$T/milter.log" 2>&1 &
VPID=$!
ok "milter starts under valgrind" wait_for "[ -S $T/milter.sock ]" 60
sp=$(free_port)
ok "sink listens" start_sink "$sp"
PF_PORT=$(free_port)
ok "postfix starts" pf_start main "$PF_PORT" "relayhost = [127.0.0.1]:$sp" \
	"$PF_MILTER_LINES" "milter_command_timeout = 120s" \
	"smtpd_authorized_xclient_hosts = 127.0.0.0/8" "relay_domains = dual.example" \
	"milter_content_timeout = 300s"
smtp-source -c -m "$N" -s 4 -l 2048 -f sender@dual.example \
	-t user@example.org "127.0.0.1:$PF_PORT" >/dev/null 2>&1
printf 'From: a@dual.example\r\nFrom: b@dual.example\r\n\r\nx\r\n' >"$T/two.eml"
swaks_send "$T/two.eml" >"$T/two.out"
like "$(cat "$T/two.out")" '550 5\.7\.1' "a refused message in between"
inb() { # inbound to postmaster@: FROM HEADER-FROM [SWAKS ARGS]
	local f=$1 h=$2; shift 2
	swaks --server "127.0.0.1:$PF_PORT" --local-interface 127.0.0.2 \
		--from "$f" --to postmaster@dual.example --h-From "$h" "$@" 2>&1
}
like "$(inb a@sender.test a@sender.test)" '250 2\.0\.0' "inbound checks: a pass is accepted"
like "$(inb a@sender.test a@sender.test --xclient-addr 192.0.2.9 --xclient-name unknown)" \
	'550 5\.7\.1 ' "inbound checks: an SPF and DMARC fail is refused"
like "$(inb a@nowhere.example a@nowhere.example --xclient-addr 192.0.2.9 \
	--xclient-name unknown)" '451 4\.7\.1' "inbound checks: a DNS error is deferred"
ok "all $N messages and the inbound one delivered" wait_for "[ \$(sink_count) -ge $((N + 1)) ]" 600
is "$(grep -c 'action=signed' "$T/milter.log")" "$N" "$N messages signed"
is "$(grep -c 'action=verp ' "$T/milter.log")" "$N" "$N return paths rewritten"
is "$(redis-cli -p "$rp" --scan --pattern 'rk:msg:*' | wc -l)" "$N" "$N metadata records"
m=$(grep -l "^DKIM-Signature:" "$SINK"/*.eml | tail -1)
ok "the last one verifies (python3-dkim)" quiet $PY "$top_srcdir/t/integ/milter_verify.py" "$DNSKEYS" "$m"
kill -HUP $VPID
ok "reload under valgrind" wait_for 'grep -q "action=reload result=ok" "$T/milter.log"' 30
# Stop the milter the way libmilter does it cleanly (SIGINT to its own
# signal thread would abort): close Postfix, then SIGTERM and wait.
postfix -c "$PF/etc" stop >/dev/null 2>&1
kill -TERM $VPID
wait $VPID
r=$?
diag "$(grep -E 'ERROR SUMMARY|definitely|indirectly|possibly' "$T/valgrind.log" | sed 's/^==[0-9]*== //' | tr '\n' ';')"
ok "valgrind: no errors, no leaks (exit $r)" [ $r -eq 0 ]
ok "valgrind: error summary 0" grep -q 'ERROR SUMMARY: 0 errors' "$T/valgrind.log"
done_testing
