# SPDX-License-Identifier: MIT
# t/integ/eventd_lib.sh: what the relaykit-eventd tests share, on top of
# lib.sh.
#
#   ev_start YAML [ARGS...]     starts eventd -f -c YAML; sets EV_PID, log
#                               in $T/eventd.log
#   ev_stream PORT [PREFIX]     the stream's JSON events, one per line
#   ev_count PORT [PREFIX]      how many events the stream holds
#   ev_schema_check FILE        every line of FILE validates against
#                               man/relaykit-event.schema.json

EV_BIN=$top_builddir/events/relaykit-eventd
[ -x "$EV_BIN" ] || skip_all "relaykit-eventd not built"

ev_start() {
	local yaml=$1; shift
	"$EV_BIN" -f -c "$yaml" "$@" >>"$T/eventd.log" 2>&1 &
	EV_PID=$!
	track $EV_PID
	wait_for "grep -q 'started: following' $T/eventd.log" 20
}

ev_stream() {
	redis-cli -p "$1" --raw xrange "${2:-rk:}events" - + |
		grep '^{"id":"evt_'
}

ev_count() { redis-cli -p "$1" xlen "${2:-rk:}events"; }

ev_schema_check() {
	$PY - "$top_srcdir/man/relaykit-event.schema.json" "$1" <<'P'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft7Validator(schema)
bad = 0
for n, line in enumerate(open(sys.argv[2]), 1):
    for e in v.iter_errors(json.loads(line)):
        print("# line %d: %s" % (n, e.message))
        bad += 1
sys.exit(1 if bad else 0)
P
}

# ev_start_as NAME YAML [ARGS...]: one more eventd (one per relay host),
# its log in $T/eventd-NAME.log; sets EV_PID.
ev_start_as() {
	local name=$1 yaml=$2; shift 2
	"$EV_BIN" -f -c "$yaml" "$@" >>"$T/eventd-$name.log" 2>&1 &
	EV_PID=$!
	track $EV_PID
	wait_for "grep -q 'started: following' $T/eventd-$name.log" 20
}
