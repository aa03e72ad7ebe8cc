# SPDX-License-Identifier: MIT
# relaykit-eventd follows Postfix's log through every rotation users do,
# and through kill -9, while Postfix writes: postfix logrotate (rename,
# reopen, gzip), rename + new file, delete + recreate, copytruncate, and
# kill -9 of eventd mid-stream then a restart.  At the end the stream
# holds exactly one delivered event per delivery line of the log (all its
# rotated pieces counted), no id twice, and as many as the deliveries the
# sink saw: a line Postfix wrote into a file deleted before it reopened
# is in no file any more, but eventd had it open and read it.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/eventd_lib.sh"
need postfix smtp-source redis-server redis-cli gzip
rp=$(free_port) sp=$(free_port) pp=$(free_port) ep=$(free_port)
ok "redis starts" start_redis "$rp"
ok "sink listens" start_sink "$sp"
ok "postfix starts" pf_start main "$pp" "relayhost = [127.0.0.1]:$sp" \
	"default_process_limit = 20"
LOG=$PF/maillog
cat >"$T/rk.yaml" <<Y
redis: {port: $rp}
metrics: {eventdPort: $ep}
milter: {metadata: false}
eventd:
  logFile: $LOG
  startAt: beginning
  pollInterval: 50ms
Y
ok "eventd starts" ev_start "$T/rk.yaml"

# load N: N messages from 2 sessions while the test rotates
load() {
	smtp-source -c -m "$1" -s 2 -l 300 -f app@example.com -t ok@ok.test \
		"127.0.0.1:$pp" >/dev/null 2>&1 &
	LOAD=$!
}
sent=0
settle() { # waits until Postfix has delivered everything sent so far
	wait "$LOAD"
	wait_for "[ \$(sink_count) -ge $sent ]" 60
	sleep 0.3
}

load 150; sent=$((sent + 150)); sleep 0.5
ok "postfix logrotate while Postfix writes" postfix -c "$PF/etc" logrotate
settle
load 150; sent=$((sent + 150)); sleep 0.5
mv "$LOG" "$LOG.renamed" && postfix -c "$PF/etc" reload >/dev/null 2>&1
ok "rename + new file (the writer reopens on reload)" test -e "$LOG.renamed"
settle
rm -f "$LOG"; postfix -c "$PF/etc" reload >/dev/null 2>&1
ok "delete + recreate" true
load 150; sent=$((sent + 150)); settle
# copytruncate loses, for every reader, what is written between the copy
# and the truncation: do it between two bursts, as logrotate's manual
# warns
cp "$LOG" "$LOG.ct" && : >"$LOG"
ok "copytruncate" true
like "$(curl -s "http://127.0.0.1:$ep/metrics")" 'relaykit_eventd_log_rotations_total\{how="(rename|recreate)"\} [1-9]' \
	"rotations are counted"
load 150; sent=$((sent + 150)); sleep 0.5
kill -9 "$EV_PID"
ok "kill -9 of eventd mid-stream" true
sleep 1
ok "eventd restarts and resumes from its position" ev_start "$T/rk.yaml"
settle
ok "everything delivered ($sent)" test "$(sink_count)" -ge "$sent"

lines() { # delivery lines in the log and every rotated piece
	for f in "$PF"/maillog*; do
		case $f in *.gz) zcat "$f" ;; *) cat "$f" ;; esac
	done | grep -cE 'postfix/smtp\[[0-9]+\]: [0-9A-Z]+: to=<ok@ok.test>.*status=sent'
}
ok "eventd caught up" wait_for \
	"[ \$(ev_stream $rp | grep -c '\"event\":\"delivered\"') -ge $sent ]" 60
sleep 1
ev_stream "$rp" >"$T/stream.json"
n_lines=$(lines)
n_events=$(grep -c '"event":"delivered"' "$T/stream.json")
diag "delivery lines left in the log's pieces: $n_lines; delivered events: $n_events; deliveries at the sink: $(sink_count)"
is "$n_events" "$(sink_count)" "exactly one event per delivery"
ok "and at least one per line still in the files" test "$n_events" -ge "$n_lines"
is "$(grep -o '"id":"evt_[0-9a-f]*"' "$T/stream.json" | sort | uniq -d | wc -l)" 0 "no event twice"
like "$(cat "$T/eventd.log")" 'following .* again from its start \((rename|recreate)\)' \
	"eventd says when it followed a rotation"
done_testing
