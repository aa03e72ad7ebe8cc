# SPDX-License-Identifier: MIT
# t/integ/policyd_lib.sh: helpers the relaykit-policyd tests share, on top
# of lib.sh.
#
#   pd_config NAME <<EOF ... EOF     writes $T/NAME.yaml (YAML from stdin)
#   pd_start NAME [VALGRIND...]      starts policyd -f -c $T/NAME.yaml;
#                                    sets PD_PID, log in $T/NAME.log
#   pd NAME req k=v...               the python client (policyd_client.py)
#   pd_metrics PORT                  GET /metrics

PD_BIN=$top_builddir/policyd/relaykit-policyd
PD_CLIENT="$PY $top_srcdir/t/integ/policyd_client.py"

pd_config() { cat >"$T/$1.yaml"; }

# pd_start NAME [WRAPPER...]: waits until the first listener answers.
pd_start() {
	local name=$1; shift
	"$@" "$PD_BIN" -f -c "$T/$name.yaml" 2>"$T/$name.log" &
	PD_PID=$!
	track $PD_PID
	local sock
	sock=$(sed -n 's/^ *listen: *\(unix:[^, ]*\).*/\1/p' "$T/$name.yaml")
	wait_for "[ -S '${sock#unix:}' ]" 30
}

pd_metrics() {
	$PY -c 'import sys, urllib.request as u
print(u.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$1"
}
# metric_value PORT 'name{labels}': the number, or 0
metric_value() {
	pd_metrics "$1" | awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}
