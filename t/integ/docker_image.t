# SPDX-License-Identifier: MIT
# The image (docker/Containerfile) run for real, standalone, as a user
# would run it: environment variables over a mounted relaykit.yaml and a
# mounted postfix.d, DKIM key made on first start into a volume.  A message
# from the host goes through it to a capture sink on the host and is
# verified by python3-dkim with the key the container published; Postfix
# keeps only its capabilities and relaykit's daemons none; SIGTERM stops
# it at once with a deferred message kept in the queue volume, which a
# second container on the same volumes delivers, signed with the same key.
. "$top_srcdir/t/integ/lib.sh"
from_source_only "the image"
. "$top_srcdir/t/integ/container_lib.sh"
ct_need swaks
[ -x "$PY" ] && $PY -c 'import dkim' 2>/dev/null || ct_bail "python3-dkim is not installed"

ct_image
ct_stamp_check docker_image "$RK_IMAGE"
t_start=$SECONDS
ok "the image is built (or reused)" pm image exists "$RK_IMAGE"
is "$(pm image inspect -f '{{len .Config.Volumes}}' "$RK_IMAGE" 2>&1)" 0 \
	"it declares no VOLUME (no anonymous volume left behind by each container)"

# --- no configuration at all: a clear refusal, not a broken relay
out=$(pm run --rm --network none "$RK_IMAGE" 2>&1); rc=$?
is "$rc" 78 "without a configuration the container exits 78"
like "$out" 'no configuration: mount /etc/relaykit/relaykit.yaml or set RK_DOMAINS' "and says what to do"

# --- a bad value from the environment is reported with the file's lines
out=$(pm run --rm --network none -e RK_DOMAINS=example.test -e RK_TRUSTED_NETWORKS=0.0.0.0/0 \
	"$RK_IMAGE" 2>&1); rc=$?
is "$rc" 78 "a wide trusted network from the environment is refused (78)"
like "$out" 'mail.trustedNetworks\[0\]: 0.0.0.0/0 is wider than /8' "with relaykit's own message"

# --- Redis Sentinel and an ACL user from the environment
out=$(pm run --rm --network none -e RK_DOMAINS=example.test \
	-e RK_REDIS_SENTINELS='10.0.0.11:26379, 10.0.0.12:26379' -e RK_REDIS_MASTER_NAME=relay \
	-e RK_REDIS_USERNAME=relaykit -e RK_REDIS_PASSWORD=rk-pass -e RK_REDIS_SENTINEL_PASSWORD=s-pass \
	"$RK_IMAGE" config 2>&1)
like "$out" 'sentinels: \["10.0.0.11:26379", "10.0.0.12:26379"\]' "RK_REDIS_SENTINELS becomes redis.sentinels"
like "$out" 'masterName: "relay"' "RK_REDIS_MASTER_NAME becomes redis.masterName"
like "$out" 'username: "relaykit"' "RK_REDIS_USERNAME becomes redis.username"
like "$out" 'sentinelPasswordFile: ' "the sentinels' password goes to a file"
ok "no password in the printed configuration" sh -c "! printf '%s' \"\$1\" | grep -q 'rk-pass\\|s-pass'" _ "$out"

# --- standalone, for real
SMTP=$(free_port) SINKP=$(free_port)
M1=$(free_port) M2=$(free_port) M3=$(free_port) M4=$(free_port)
start_sink "$SINKP"
mkdir -p "$T/etc/postfix.d"
# the mounted file: what the environment does not say
cat >"$T/etc/relaykit.yaml" <<YAML
# mounted by the test; RK_* variables are laid over it
mail:
  hostname: mounted.example.test
  tls:
    level: none
dkim:
  algorithm: rsa-sha256
metrics:
  milterPort: $M1
  policydPort: $M2
  eventdPort: $M3
  webhookdPort: $M4
YAML
# postconf passthrough: fast retries, so the kept message leaves quickly
cat >"$T/etc/postfix.d/10-test.conf" <<'CONF'
# one postconf command line per line
-e queue_run_delay=1s
-e minimal_backoff_time=1s maximal_backoff_time=2s
-e inet_protocols=ipv4
CONF
QV=$CT_NAME-queue KV=$CT_NAME-keys
ct_track_volume "$QV"; ct_track_volume "$KV"
POSTFIX_CAPS="CHOWN DAC_OVERRIDE FOWNER SETUID SETGID NET_BIND_SERVICE KILL"
run_relay() { # run_relay NAME [default]: the relay container, detached,
	# with --cap-drop all and Postfix's capabilities, or podman's defaults
	local caps="--cap-drop all" c
	for c in $POSTFIX_CAPS; do caps="$caps --cap-add $c"; done
	[ "${2:-}" = default ] && caps=""
	ct_track "$1"
	# shellcheck disable=SC2086
	pm run -d --name "$1" --network host $caps \
		-v "$QV:/var/spool/postfix" -v "$KV:/var/lib/relaykit" \
		-v "$T/etc/relaykit.yaml:/etc/relaykit/relaykit.yaml:ro" \
		-v "$T/etc/postfix.d:/etc/relaykit/postfix.d:ro" \
		-e RK_HOSTNAME=relay.example.test \
		-e RK_DOMAINS=example.test:itest \
		-e RK_TRUSTED_NETWORKS=127.0.0.0/8 \
		-e RK_RELAY_HOST="127.0.0.1:$SINKP" -e RK_RELAY_TLS=false \
		-e RK_SMTP_LISTEN="127.0.0.1:$SMTP" \
		"$RK_IMAGE" >/dev/null
}
C1=$CT_NAME-relay
t0=$SECONDS
run_relay "$C1"
ok "the relay listens on 127.0.0.1:$SMTP" wait_for "port_open $SMTP" 60
diag "started in $((SECONDS - t0)) s"
# host networking: what the container binds, the host binds
for p in $SMTP $M1; do
	ok "port $p is bound on loopback only" \
		sh -c "ss -Htln 'sport = :$p' | grep -q . && ! ss -Htln 'sport = :$p' | awk '{print \$4}' | grep -qv '^127\\.0\\.0\\.1:'"
done
[ $_tap_fail = 0 ] || ct_logs "$C1"

conf=$(pm exec "$C1" cat /run/relaykit-config/relaykit.yaml 2>&1)
like "$conf" 'hostname: "relay.example.test"' "the environment wins over the mounted file"
like "$conf" "milterPort: $M1" "the mounted file's other keys are kept"
like "$conf" 'name: "example.test", dkimSelector: "itest"' "RK_DOMAINS becomes mail.domains"
like "$(pm logs "$C1" 2>&1)" 'applied /etc/relaykit/postfix.d/10-test.conf' "postfix.d lines applied"
is "$(pm exec "$C1" postconf -h minimal_backoff_time 2>&1)" 1s "... and in effect"

# the key made on first start, in the volume, as the relaykit user
pm exec "$C1" relaykit-keygen --print -c /run/relaykit-config/relaykit.yaml \
	-d example.test -f text >"$T/txt" 2>"$T/txt.err"
ok "DKIM key made on first start" grep -q '^v=DKIM1; k=rsa; p=' "$T/txt"
printf 'itest._domainkey.example.test %s\n' "$(cat "$T/txt")" >"$T/dnskeys"
keyls=$(pm exec "$C1" ls -ln /var/lib/relaykit/dkim/example.test/itest.pem 2>&1)
like "$keyls" '^-rw------- 1 10001 10001 ' "the key is 0600 and the relaykit user's"
is "$(pm exec "$C1" stat -c '%a %U %G' /run/relaykit/milter.sock 2>&1)" "660 relaykit postfix" \
	"the milter's socket is 0660, group postfix (Postfix reaches it, nobody else)"

# who runs what, with which capabilities
procs=$(pm exec "$C1" sh -c 'for p in /proc/[0-9]*; do
	n=$(tr "\0" " " <$p/cmdline 2>/dev/null | cut -c1-40); [ -n "$n" ] || continue
	echo "$(awk "/^Uid:/{u=\$2} /^CapEff:/{e=\$2} /^CapBnd:/{b=\$2} END{print u, e, b}" $p/status) $n"
done' 2>&1 | tr -d '\0')
like "$procs" '^10001 0000000000000000 [0-9a-f]+ relaykit-milter ' \
	"relaykit-milter runs as relaykit, without any capability"
# CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID NET_BIND_SERVICE = 0x4eb
like "$(printf '%s\n' "$procs" | grep -E '^0 .*master' | head -1)" '^0 [0-9a-f]+ 00000000000004eb ' \
	"Postfix's master runs with those 7 capabilities (--cap-drop all --cap-add ...)"
[ $_tap_fail = 0 ] || printf '%s\n' "$procs" | sed 's/^/# /'

# --- a message from the host, signed, verified independently
swaks --server "127.0.0.1:$SMTP" --from app@example.test --to someone@example.org \
	--h-Subject "from the host" --body "through the relaykit image" >"$T/swaks.log" 2>&1
ok "the relay accepts the message" grep -q '250 2.0.0 Ok: queued' "$T/swaks.log"
ok "the sink receives it" wait_for "[ -e $SINK/1.eml ]" 30
v=$($PY "$top_srcdir/t/integ/milter_verify.py" "$T/dnskeys" "$SINK/1.eml" 2>&1)
like "$v" '^rsa-sha256 pass d=example.test s=itest$' "python3-dkim verifies its signature: $v"

# --- SIGTERM with a message waiting: it stays in the queue volume
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
swaks --server "127.0.0.1:$SMTP" --from app@example.test --to later@example.org \
	--h-Subject "kept in the queue" --body "delivered after a restart" >"$T/swaks2.log" 2>&1
ok "a second message is accepted while the sink is down" grep -q '250 2.0.0 Ok: queued' "$T/swaks2.log"
ok "... and deferred" wait_for "pm exec $C1 postqueue -p 2>/dev/null | grep -q later@example.org" 30
t0=$SECONDS
pm stop -t 30 "$C1" >/dev/null 2>&1
took=$((SECONDS - t0))
ok "SIGTERM stops the container within 10 s (took ${took}s)" test "$took" -lt 10
is "$(pm inspect -f '{{.State.ExitCode}}' "$C1")" 0 "and it exits 0"
like "$(pm logs "$C1" 2>&1 | tail -20)" 'relaykit-entrypoint: stopping' "the entrypoint stopped everything"
qdir=$(pm volume inspect -f '{{.Mountpoint}}' "$QV")
ok "the deferred message is in the queue volume" test -n "$(find "$qdir/deferred" -type f 2>/dev/null)"

# --- a new container on the same volumes delivers it with the same key
mv "$SINK" "$T/sink-first" # the new sink counts from 1 again
start_sink "$SINKP"
C2=$CT_NAME-relay2
run_relay "$C2" default
ok "the second container starts (podman's default capabilities)" wait_for "port_open $SMTP" 60
master=$(pm exec "$C2" sh -c 'for p in /proc/[0-9]*; do grep -q master $p/cmdline 2>/dev/null &&
	awk "/^Uid:/{u=\$2} /^CapBnd:/{b=\$2} END{print u, b}" $p/status; done' 2>&1 | head -1)
is "$master" "0 00000000000004eb" "the entrypoint shrinks Postfix's bounding set to the same 7"
ok "the kept message is delivered" wait_for "[ -e $SINK/1.eml ]" 60
[ -e "$SINK/1.eml" ] || ct_logs "$C2"
ok "it is the kept one" grep -q 'Subject: kept in the queue' "$SINK/1.eml"
v=$($PY "$top_srcdir/t/integ/milter_verify.py" "$T/dnskeys" "$SINK/1.eml" 2>&1)
like "$v" '^rsa-sha256 pass d=example.test s=itest$' "signed with the key made by the first container"
pm stop -t 30 "$C2" >/dev/null 2>&1
diag "docker_image: $((SECONDS - t_start)) s after the image was ready"
ct_stamp_done
