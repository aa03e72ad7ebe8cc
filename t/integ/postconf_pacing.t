# SPDX-License-Identifier: MIT
# relaykit-postconf and pacing on a real Postfix configuration directory
# (Debian's stock master.cf, with its chroots) that already has a
# transport table of its own: the ladder, relaykit's trivial-rewrite for
# the queue manager and the static per-domain transports are added
# without clobbering the host's transport_maps, postfix check passes, a
# second run changes nothing, --dry-run shows it all, --remove restores
# main.cf and master.cf exactly.  With an upstream relay, static and paced
# transports go through it; a relayhost relaykit does not know about is
# refused rather than routed around.
. "$top_srcdir/t/integ/lib.sh"
need postfix postconf postmap
PC=$top_builddir/postfix-conf/relaykit-postconf
D=$T/postfix
mkdir -p "$D" "$T/queue"
printf 'compatibility_level = 3.6\nqueue_directory = %s\ntransport_maps = hash:%s/host_transport\n' \
	"$T/queue" "$D" >"$D/main.cf"
cp /usr/share/postfix/master.cf.dist "$D/master.cf"
printf 'legacy.example smtp:[127.0.0.1]:2626\n' >"$D/host_transport"
postmap -c "$D" "$D/host_transport"
snapshot() { postconf -c "$D" -n; postconf -c "$D" -M; }
snapshot >"$T/before"
cat >"$T/rk.yaml" <<YAML
mail:
  relay: {enabled: true, host: smtp.upstream.test, port: 587}
rateLimit:
  enabled: true
  domains:
    outlook.com: {maxConnections: 2, rate: 1/10s}
adaptiveRate:
  enabled: true
  tiers: [1s, 5s, 30s]
  domains: {gmail.com: {enabled: true}}
dkim: {enabled: false}
milter:
  listen: unix:$T/queue/relaykit/milter.sock
policyd:
  listen: inet:127.0.0.1:10040
  socketmapListen: unix:$T/sm.sock
YAML

"$PC" -c "$T/rk.yaml" -C "$D" --dry-run >"$T/dry" 2>&1
is "$?" 0 "--dry-run"
like "$(cat "$T/dry")" 'master\.cf: rk_pace_5s/unix: \(unset\) -> rk_pace_5s unix - - y - - smtp -o syslog_name=postfix/rk_pace_5s' \
	"--dry-run shows the ladder (like the host's smtp, chrooted)"
like "$(cat "$T/dry")" 'main\.cf: rk_pace_30s_destination_rate_delay: \(unset\) -> 30s' \
	"--dry-run shows each tier's rate delay"
like "$(cat "$T/dry")" "master\.cf: rk_rewrite/unix: \(unset\) -> rk_rewrite unix - - n - - trivial-rewrite -o transport_maps=\\\$default_database_type:$D/relaykit/transport,hash:$D/host_transport,socketmap:unix:$T/sm.sock:pace" \
	"--dry-run shows relaykit's trivial-rewrite: relaykit's table, the host's, then the socketmap"
like "$(cat "$T/dry")" 'master\.cf: qmgr/unix: .* -> qmgr unix n - n 300 1 qmgr -o rewrite_service_name=rk_rewrite' \
	"--dry-run shows the queue manager using it"
is "$(snapshot)" "$(cat "$T/before")" "--dry-run changed nothing"

"$PC" -c "$T/rk.yaml" -C "$D" --check >"$T/apply" 2>&1
is "$?" 0 "apply, and postfix check passes"
like "$(postconf -c "$D" -h transport_maps)" "^\\\$default_database_type:$D/relaykit/transport, hash:$D/host_transport\$" \
	"the host's transport_maps are kept, after relaykit's table"
like "$(cat "$D/relaykit/transport")" '^outlook\.com rk_outlook_com:\[smtp\.upstream\.test\]:587$' \
	"a static transport goes through the upstream relay too"
like "$("$PC" -c "$T/rk.yaml" -C "$D" 2>&1)" 'nothing to change' "a second apply changes nothing"
"$PC" -c "$T/rk.yaml" -C "$D" --remove >"$T/remove" 2>&1
is "$?" 0 "--remove"
is "$(snapshot)" "$(cat "$T/before")" "--remove restores main.cf and master.cf exactly"

# a relayhost relaykit does not manage: refused, not routed around
postconf -c "$D" -e "relayhost = [10.9.9.9]:25"
snapshot >"$T/before2"
sed -i '/^  relay:/d' "$T/rk.yaml"
"$PC" -c "$T/rk.yaml" -C "$D" >"$T/refused" 2>&1
is "$?" 78 "a relayhost without mail.relay: refused"
like "$(cat "$T/refused")" 'main\.cf sets relayhost = \[10\.9\.9\.9\]:25, but relaykit\.yaml has no mail\.relay' \
	"and says why"
is "$(snapshot)" "$(cat "$T/before2")" "and changes nothing"
done_testing
