# SPDX-License-Identifier: MIT
# t/integ/webhookd_lib.sh: what the relaykit-webhookd tests share, on top
# of lib.sh.
#
#   wh_receiver PORT               starts wh_receiver.py; requests land in
#                                  $T/hooks-PORT.jsonl; sets RCV_PID
#   wh_start YAML NAME [ARGS...]   starts webhookd -f -c YAML as consumer
#                                  NAME (log $T/webhookd-NAME.log); sets
#                                  WH_PID
#   wh_inject YAML LINES           events into the stream: a synthetic
#                                  Postfix log of LINES lines, read by
#                                  relaykit-eventd from standard input
#   wh_ids FILE [PATH]             the webhook-ids FILE recorded, sorted
#   wh_verify SECRET FILE [PATH]   every recorded request verifies with
#                                  the standardwebhooks npm library
#   wh_bodies FILE OUT             the recorded bodies, one per line

WH_BIN=$top_builddir/events/relaykit-webhookd
EV_BIN=$top_builddir/events/relaykit-eventd
[ -x "$WH_BIN" ] || skip_all "relaykit-webhookd not built"
need node redis-server redis-cli
SWH=$_rk_npm/node_modules
[ -f "$SWH/standardwebhooks/package.json" ] ||
	skip_all "npm package standardwebhooks missing (./test installs it)"

wh_receiver() {
	$PY "$top_srcdir/t/integ/wh_receiver.py" "$1" "$T/hooks-$1.jsonl" \
		>>"$T/receiver-$1.log" 2>&1 &
	RCV_PID=$!
	track $RCV_PID
	wait_for "port_open $1" 10
}

wh_start() {
	local yaml=$1 name=$2; shift 2
	"$WH_BIN" -f -c "$yaml" --consumer "$name" "$@" \
		>>"$T/webhookd-$name.log" 2>&1 &
	WH_PID=$!
	track $WH_PID
	wait_for "grep -qs 'started:' $T/webhookd-$name.log" 10
}

wh_inject() {
	$PY "$top_srcdir/bench/eventd/mklog.py" "$2" |
		"$EV_BIN" -f -c "$1" >>"$T/inject.log" 2>&1
}

wh_ids() {
	$PY - "$1" "${2:-}" <<'P'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if not sys.argv[2] or r["path"] == sys.argv[2]:
        print(r["headers"].get("webhook-id", ""))
P
}

wh_verify() {
	node "$top_srcdir/t/integ/wh_verify.js" "$SWH" "$@"
}

wh_bodies() {
	$PY -c 'import json, sys
for line in open(sys.argv[1]):
    print(json.dumps(json.loads(json.loads(line)["body"])))' "$1" >"$2"
}
