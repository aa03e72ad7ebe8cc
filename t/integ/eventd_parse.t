# SPDX-License-Identifier: MIT
# relaykit-eventd --parse and the formats it reads.  Golden files: log
# lines (t/data/eventd/*.log: a real Postfix 3.7 log written by postlogd,
# and a catalog of the shapes other setups write: RFC 3339 timestamps,
# postfix-out and submission syslog names, long queue ids, orig_to,
# conn_use, tls=, IPv6, relay=none, flattened multi-line replies, a line
# cut by syslog, lmtp, local, virtual, pipe, the error agent) each with
# the events they must give (*.json).  The real log rewritten with RFC 3339
# and journald timestamps gives the same events; postfix_exporter's test
# fixtures are all read or counted as unparsed; every event validates
# against the JSON Schema; and a log on standard input (as `postfix
# start-fg` writes it in a container) reaches the Redis stream.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need redis-server redis-cli
$PY -c 'import jsonschema' 2>/dev/null || skip_all "python3-jsonschema missing"
D=$top_srcdir/t/data/eventd
FIX=$top_srcdir/../shared/corpus/postfix-logs/postfix_exporter-fixtures.log
NOW=1796015668 # 2026-11-30T05:14:28Z: dates the BSD timestamps
export TZ=UTC
parse() { "$EV_BIN" --parse --now "$NOW" "$@"; }

for g in "$D"/*.log; do
	name=$(basename "$g" .log)
	parse "$g" >"$T/$name.json"
	ok "golden: $name.log gives $name.json" cmp -s "$T/$name.json" "$D/$name.json"
	cmp -s "$T/$name.json" "$D/$name.json" || diff "$D/$name.json" "$T/$name.json" | head -10 | sed 's/^/# /'
	ok "golden: $name: every event validates against the schema" ev_schema_check "$T/$name.json"
done

# the same log with RFC 3339 and journald timestamps: the same events
$PY - "$D/postfix-3.7.log" "$T" <<'P'
import sys, time
src, out = sys.argv[1], sys.argv[2]
with open(src) as f, open(out + "/rfc3339.log", "w") as a, open(out + "/journald.log", "w") as b:
    for line in f:
        t = time.strptime("2026 " + line[:15], "%Y %b %d %H:%M:%S")
        rest = line[16:]
        a.write(time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00 ", t) + rest)
        b.write(time.strftime("%Y-%m-%dT%H:%M:%S+0000 ", t) + rest)
P
parse "$T/rfc3339.log" >"$T/rfc3339.json"
parse "$T/journald.log" >"$T/journald.json"
ok "RFC 3339 timestamps: the same events" cmp -s "$T/rfc3339.json" "$D/postfix-3.7.json"
ok "journald short-iso timestamps: the same events" cmp -s "$T/journald.json" "$D/postfix-3.7.json"

# postfix_exporter's fixtures: every line read or counted as unparsed
if [ -f "$FIX" ]; then
	out=$(parse --stats "$FIX")
	n=$(wc -l <"$FIX")
	like "$out" "^# relaykit_eventd_lines_total $n\$" "exporter fixtures: all $n lines read"
	unparsed=$(printf '%s\n' "$out" | awk '/^# relaykit_eventd_unparsed_lines_total/ { s += $NF } END { print s + 0 }')
	diag "exporter fixtures: $unparsed lines not understood (counted by program)"
	ok "the ones not understood are counted by program" test "$unparsed" -gt 0 -a "$unparsed" -lt "$n"
	printf '%s\n' "$out" | grep -v '^#' >"$T/fix.json"
	ok "their events validate" ev_schema_check "$T/fix.json"
	is "$(grep -c '"event":"delivered"' "$T/fix.json")" 4 "exporter fixtures: 4 delivered"
else
	ok "exporter fixtures present (../shared)" false
fi
# hostile lines: never fatal
printf 'garbage\n\n\000\377\nNov 30 05:10:00 h postfix/smtp[1]: 1234567: to=<\n%s\n' \
	"$(head -c 30000 /dev/zero | tr '\0' x)" | parse --stats >"$T/junk.out" 2>&1
is "$?" 0 "junk lines: exit 0"
like "$(cat "$T/junk.out")" '^# relaykit_eventd_lines_total 5$' "junk lines: counted"

# standard input, as a container's postfix start-fg writes it
rp=$(free_port)
ok "redis starts" start_redis "$rp"
cat >"$T/stdin.yaml" <<Y
redis: {port: $rp}
metrics: {enabled: false}
eventd: {logFile: "-"}
Y
"$EV_BIN" -f -c "$T/stdin.yaml" <"$D/formats.log" >"$T/stdin.log" 2>&1
is "$?" 0 "a log on standard input: eventd exits 0 at its end"
is "$(ev_count "$rp")" "$(wc -l <"$D/formats.json")" "and every event is in the stream"

# the program's face
"$EV_BIN" -n -c "$T/stdin.yaml" >"$T/n.out" 2>&1
like "$(cat "$T/n.out")" 'configuration OK' "-n checks the configuration"
like "$("$EV_BIN" --help)" '^usage: relaykit-eventd' "--help"
like "$("$EV_BIN" --version)" '^relaykit-eventd [0-9]' "--version"
"$EV_BIN" --bogus >/dev/null 2>&1
is "$?" 64 "a bad option: EX_USAGE"
done_testing
