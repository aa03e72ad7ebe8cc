#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bounce/run.sh BUILD_DIR [CORPUS_DIR] [ROUNDS]: messages per second
# of relaykit-bounce --parse over the bounce corpus against sisimai
# (Debian's libsisimai-perl) on the same files in the same run, and how
# often the two agree on recipient and reason.  Not a test: it prints.
set -eu
B=${1:?usage: run.sh BUILD_DIR [CORPUS] [ROUNDS]}/events/relaykit-bounce
C=${2:-$(dirname "$0")/../../../shared/corpus/bounces}
R=${3:-20}
command -v perl >/dev/null && perl -MSisimai -e 1 2>/dev/null || {
	echo "sisimai missing: apt-get install libsisimai-perl" >&2; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
n=$(ls "$C"/*.eml | wc -l)
# the files R times over, so both programs read the same bytes
for i in $(seq "$R"); do ls "$C"/*.eml; done >"$T/list"

t0=$(date +%s.%N)
xargs "$B" --parse <"$T/list" >"$T/rk.jsonl"
t1=$(date +%s.%N)
perl -MSisimai -MJSON::PP -e '
	my $js = JSON::PP->new->canonical;
	while (my $f = <STDIN>) {
		chomp $f;
		my $v = Sisimai->make($f) or next;
		for my $e (@$v) {
			print $js->encode({ file => $f, recipient => $e->recipient->address,
				reason => $e->reason, status => $e->deliverystatus }), "\n";
		}
	}' <"$T/list" >"$T/sisimai.jsonl"
t2=$(date +%s.%N)

/usr/bin/python3 - "$T/rk.jsonl" "$T/sisimai.jsonl" "$n" "$R" "$t0" "$t1" "$t2" <<'PY'
import json, sys
rk, ss, n, r, t0, t1, t2 = sys.argv[1:]
n, r = int(n), int(r)
t0, t1, t2 = float(t0), float(t1), float(t2)
def load(p):
    d = {}
    for l in open(p):
        o = json.loads(l)
        d.setdefault(o["file"], {})[(o.get("recipient") or "").lower()] = o
    return d
a, b = load(rk), load(ss)
pairs = agree = 0
for f, recs in b.items():
    for rcpt, o in recs.items():
        pairs += 1
        mine = a.get(f, {}).get(rcpt)
        if mine and mine.get("reason") == o.get("reason"):
            agree += 1
rk_rate = n * r / (t1 - t0)
ss_rate = n * r / (t2 - t1)
print(f"files: {n} x {r} rounds")
print(f"relaykit-bounce: {rk_rate:10.0f} messages/s")
print(f"sisimai {''}(libsisimai-perl): {ss_rate:10.0f} messages/s")
print(f"ratio: {rk_rate / ss_rate:.1f}x")
print(f"agreement with sisimai (recipient and reason): {agree}/{pairs} = {100.0 * agree / max(pairs, 1):.1f}%")
PY
