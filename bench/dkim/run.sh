#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/dkim/run.sh: Postfix with no milter, with relaykit-milter and with
# OpenDKIM (same keys, relaxed/relaxed, unix socket; two chained OpenDKIM
# instances for rsa+ed25519) under smtp-source load, 2 KB and 100 KB
# messages, rsa-2048 / ed25519 / dual.  Prints per run: messages/s as
# Postfix accepts them, milter CPU ms per message (CPU seconds of the
# milter processes per 1000 messages), peak RSS, and relaykit/OpenDKIM
# ratios.  Not a test: numbers depend on the machine.
#
#   bench/dkim/run.sh [BUILDDIR]      (N2K=2000 N100K=500 SESSIONS=10
#                                      SIZES="2048 102400" ALGS="rsa-sha256
#                                      ed25519-sha256 both")
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=${1:-$top_srcdir/_build/milter}
export top_srcdir top_builddir
. "$top_srcdir/t/integ/lib.sh"
N2K=${N2K:-2000} N100K=${N100K:-500} SESSIONS=${SESSIONS:-10}
MILTER=$top_builddir/milter/relaykit-milter
KEYS=$T/keys
mkdir -p "$KEYS/bench.example"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$KEYS/bench.example/mail.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$KEYS/bench.example/mail-ed25519.pem" 2>/dev/null
chmod 600 "$KEYS"/bench.example/*.pem

sinkport=$(free_port)
smtp-sink -c "127.0.0.1:$sinkport" 1000 >/dev/null 2>&1 &
track $!

cpu_ticks() { # utime+stime of PIDs, in clock ticks
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo $t
}
hwm() { local t=0 p; for p in "$@"; do
	t=$((t + $(awk '/^VmHWM/ {print $2}' "/proc/$p/status"))); done; echo $t; }

start_relaykit() { # ALG [MORE YAML]
	cat >"$T/rk.yaml" <<-Y
	mail:
	  domains: [bench.example]
	dkim:
	  algorithm: $1
	  keyDir: $KEYS
	milter:
	  listen: unix:$T/m1.sock
	metrics:
	  enabled: false
	log:
	  level: warn
	${2:-}
	Y
	rm -f "$T/m1.sock"
	(umask 0111; exec "$MILTER" -f -c "$T/rk.yaml") >>"$T/milter.log" 2>&1 &
	MPIDS=$!
	wait_for "[ -S $T/m1.sock ]" 10
	MILTERS="unix:$T/m1.sock"
}
start_opendkim_one() { # N SELECTOR KEYFILE ALGORITHM
	cat >"$T/od$1.conf" <<-C
	Mode s
	SignatureAlgorithm $4
	Domain bench.example
	Selector $2
	KeyFile $3
	Socket local:$T/od$1.sock
	Canonicalization relaxed/relaxed
	Syslog no
	UMask 000
	UserID root
	PidFile $T/od$1.pid
	RequireSafeKeys false
	C
	rm -f "$T/od$1.sock"
	opendkim -f -x "$T/od$1.conf" >>"$T/od.log" 2>&1 &
	MPIDS="$MPIDS $!"
	wait_for "[ -S $T/od$1.sock ]" 10 || { cat "$T/od.log" >&2; exit 1; }
}
start_opendkim() { # ALG
	MPIDS=""
	case $1 in
	rsa-sha256) start_opendkim_one 1 mail "$KEYS/bench.example/mail.pem" rsa-sha256
		MILTERS="unix:$T/od1.sock" ;;
	ed25519-sha256) start_opendkim_one 2 mail-ed25519 "$KEYS/bench.example/mail-ed25519.pem" ed25519-sha256
		MILTERS="unix:$T/od2.sock" ;;
	both) start_opendkim_one 1 mail "$KEYS/bench.example/mail.pem" rsa-sha256
		start_opendkim_one 2 mail-ed25519 "$KEYS/bench.example/mail-ed25519.pem" ed25519-sha256
		MILTERS="unix:$T/od1.sock, unix:$T/od2.sock" ;;
	esac
}

RESULTS=$T/results
: >"$RESULTS"
# run NAME SIZE COUNT: one Postfix, load, figures.
run() {
	local name=$1 size=$2 n=$3 port t0 t1 c0 c1 rate cpu peak
	port=$(free_port)
	pf_start "$name-$size" "$port" "relayhost = [127.0.0.1]:$sinkport" \
		${MILTERS:+"smtpd_milters = $MILTERS"} \
		"milter_default_action = tempfail" "milter_protocol = 6" \
		"default_process_limit = 200" >/dev/null
	# warm up (connections, caches), then measure
	smtp-source -c -m 50 -s "$SESSIONS" -l "$size" -f sender@bench.example \
		-t rcpt@example.org "127.0.0.1:$port" >/dev/null 2>&1
	c0=$( [ -n "$MPIDS" ] && cpu_ticks $MPIDS || echo 0)
	t0=$(date +%s.%N)
	smtp-source -m "$n" -s "$SESSIONS" -l "$size" -f sender@bench.example \
		-t rcpt@example.org "127.0.0.1:$port" >/dev/null 2>&1
	t1=$(date +%s.%N)
	c1=$( [ -n "$MPIDS" ] && cpu_ticks $MPIDS || echo 0)
	peak=$( [ -n "$MPIDS" ] && hwm $MPIDS || echo 0)
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
	cpu=$(awk -v n="$n" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%.3f", c / hz * 1000 / n}')
	printf '%-10s %-16s %6s %8s %10s %9s\n' "$size" "$name" "$n" "$rate" \
		"$cpu" "$peak" | tee -a "$RESULTS"
}
stop_milters() { local p; for p in $MPIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5; for p in $MPIDS; do kill -9 "$p" 2>/dev/null; done; MPIDS=""; MILTERS=""; }

printf '%-10s %-16s %6s %8s %10s %9s\n' size setup msgs msg/s cpu_ms/msg peak_kB
for size in ${SIZES:-2048 102400}; do
	n=$N2K; [ $size = 102400 ] && n=$N100K
	MPIDS="" MILTERS=""
	run none "$size" "$n"
	for alg in ${ALGS:-rsa-sha256 ed25519-sha256 both}; do
		start_relaykit "$alg"; run "relaykit-$alg" "$size" "$n"; stop_milters
		start_opendkim "$alg"; run "opendkim-$alg" "$size" "$n"; stop_milters
	done
done
# Issue 3's row: sender validation + VERP (with its Redis writes) on top
# of rsa signing, against signing alone.
case " ${ALGS:-rsa-sha256} " in *" rsa-sha256 "*)
	rport=$(free_port)
	start_redis "$rport"
	FULL=$(printf '%s\n' \
		"senderValidation: {enabled: true, checkFromHeader: true}" \
		"inbound: {enabled: true, bounce: {enabled: true, hmacSecret: bench-secret-0123456789}}" \
		"redis: {port: $rport}")
	for size in ${SIZES:-2048 102400}; do
		n=$N2K; [ $size = 102400 ] && n=$N100K
		start_relaykit rsa-sha256 "$FULL"
		run "relaykit-full-rsa" "$size" "$n"; stop_milters
	done ;;
esac
echo
echo "sender validation + VERP on top of rsa-sha256 signing (CPU ms per message):"
awk '$2 == "relaykit-rsa-sha256" {base[$1] = $5}
$2 == "relaykit-full-rsa" {full[$1] = $5}
END {for (s in full) if (s in base)
	printf "%-8s +%.3f ms (%.3f vs %.3f)\n", s, full[s] - base[s], full[s], base[s]}' "$RESULTS"
echo
echo "ratios relaykit / OpenDKIM (msg/s; CPU ms per message):"
awk '{k=$1" "$2; rate[k]=$4; cpu[k]=$5}
END {for (s in rate) { split(s, a, " "); if (a[2] !~ /^relaykit-/) continue;
	alg=substr(a[2], 10); o=a[1]" opendkim-"alg;
	if (rate[o] > 0 && cpu[o] > 0)
		printf "%-8s %-16s msg/s x%.2f  cpu x%.3f (%.3f vs %.3f ms)\n", a[1], alg,
		    rate[s]/rate[o], cpu[s]/cpu[o], cpu[s], cpu[o] }}' "$RESULTS" | sort
