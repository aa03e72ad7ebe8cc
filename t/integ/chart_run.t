# SPDX-License-Identifier: MIT
# The chart run for real: `helm template` of helm/ with test values,
# handed to `podman kube play` (../shared/containers.md).  It starts the
# relay pod (the keys init container, stock Postfix, the milter, policyd,
# eventd and webhookd sidecars) and the bundled Redis, all in the host's
# network on loopback ports only.  A message from the host goes to a
# capture sink on the host, signed, and python3-dkim verifies it with the
# key the init container made; its delivery reaches a webhook receiver on
# the host through eventd, Redis and webhookd.  `kube down` and a second
# `kube play` (a restart of the pod) keep the DKIM key on its volume;
# `kube down` leaves no pod or container behind.
#
# What kube play 4.3 cannot do is done another way and said: Secrets are
# run as ConfigMaps (a secret volume crashes it), and Services,
# NetworkPolicies and the rest that only a cluster acts on are left out
# (chart_render.t validates them).  The Redis image is built from the
# same Debian base (t/integ/redis.Containerfile): redis:7 cannot be pulled.
. "$top_srcdir/t/integ/lib.sh"
from_source_only "the chart's image"
. "$top_srcdir/t/integ/container_lib.sh"
. "$top_srcdir/t/integ/chart_lib.sh"
ct_need swaks catatonit
[ -x "$PY" ] && $PY -c 'import dkim, yaml' 2>/dev/null ||
	ct_bail "python3-dkim and python3-yaml are needed (t/deps/milter.txt, dnsctl.txt)"
chart_need
ct_image
ct_redis_image
ct_stamp_check chart_run "$RK_IMAGE $RK_REDIS_IMAGE" "$CHART"
t_start=$SECONDS

SMTP=$(free_port) SINKP=$(free_port) HOOKP=$(free_port) RP=$(free_port)
M1=$(free_port) M2=$(free_port) M3=$(free_port) M4=$(free_port)
start_sink "$SINKP"
$PY "$top_srcdir/t/integ/wh_receiver.py" "$HOOKP" "$T/hooks.jsonl" >"$T/receiver.log" 2>&1 &
track $!
wait_for "port_open $HOOKP" 10 || ct_bail "the webhook receiver does not start"

REL=rk$$
FULL=$REL-relaykit
cat >"$T/values.yaml" <<YAML
# chart_run.t: the relay on this host's loopback, every port a free one
image: {repository: ${RK_IMAGE%:*}, tag: "${RK_IMAGE##*:}", pullPolicy: Never}
hostNetwork: true
terminationGracePeriodSeconds: 10
postfix:
  smtpListen: "127.0.0.1:$SMTP"
  extraConfig:
    - -e inet_protocols=ipv4
    - -e queue_run_delay=1s minimal_backoff_time=1s maximal_backoff_time=2s
mail:
  hostname: relay.example.test
  domains:
    - {name: example.test, dkimSelector: kube}
  trustedNetworks: [127.0.0.0/8]
  relay: {enabled: true, host: 127.0.0.1, port: $SINKP, tls: false}
  tls: {level: none}
rateLimit:
  enabled: true
  rules:
    - {name: per-sender, key: sender, rate: 100/1m}
webhooks:
  enabled: true
  endpoints:
    - name: host
      url: http://127.0.0.1:$HOOKP/ok
      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
redis:
  host: 127.0.0.1
  port: $RP
  keyPrefix: "$REL:"
  bundled:
    image: $RK_REDIS_IMAGE
    bind: 127.0.0.1
metrics:
  address: 127.0.0.1
  milterPort: $M1
  policydPort: $M2
  eventdPort: $M3
  webhookdPort: $M4
services:
  - {type: ClusterIP, port: 25, targetPort: $SMTP}
YAML
"$HELM" template "$REL" "$CHART" -f "$T/values.yaml" >"$T/all.yaml" 2>"$T/helm.err"
ok "helm template renders the test values" test -s "$T/all.yaml" -a ! -s "$T/helm.err"
[ -s "$T/helm.err" ] && sed 's/^/# /' "$T/helm.err"
left=$(kube_yaml "$T/all.yaml" "$T/kube.yaml") || ct_bail "cannot convert the manifests for kube play"
diag "kube play runs the Deployments, ConfigMaps and PVCs; Secrets as ConfigMaps; left out: $left"

ct_track_kube "$T/kube.yaml"
ct_track_volumes "$REL-"
# kube play names a Deployment's pod NAME-pod-0, its containers POD-NAME
POD=$FULL-pod-0 RPOD=$FULL-redis-pod-0
# the restart: the claims exist by then, as in a cluster (kube play would
# refuse to make their volumes again)
$PY -c 'import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d["kind"] != "PersistentVolumeClaim"]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)' "$T/kube.yaml" "$T/kube-again.yaml"

play() { # play FILE
	local t0=$SECONDS
	pm kube play "$1" >"$T/play.log" 2>&1 || { sed 's/^/# /' "$T/play.log"; return 1; }
	wait_for "port_open $SMTP" 90 || return 1
	diag "kube play to the SMTP greeting: $((SECONDS - t0)) s"
}
pod_logs() {
	local c
	for c in $(pm ps -a --format '{{.Names}}' --filter "pod=$POD" --filter "pod=$RPOD"); do
		diag "--- $c"
		ct_logs "$c" 15
	done
}

ok "podman kube play starts the pods; Postfix greets on 127.0.0.1:$SMTP" play "$T/kube.yaml"
# nothing below can pass without the pod
[ $_tap_fail = 0 ] || { pod_logs; done_testing; exit 1; }
names=$(pm ps --format '{{.Names}}' --filter "pod=$POD" | sort | tr '\n' ' ')
for c in postfix milter policyd eventd webhookd; do
	like "$names" "$POD-$c " "the $c container runs"
done
like "$(pm ps --format '{{.Names}}' --filter "pod=$RPOD")" "$RPOD-redis" "the bundled Redis runs"
ok "Redis answers on 127.0.0.1:$RP" wait_for "redis-cli -p $RP ping 2>/dev/null | grep -q PONG" 20
banner=$(l=""; exec 3<>"/dev/tcp/127.0.0.1/$SMTP" && read -r -t 5 l <&3 && printf 'QUIT\r\n' >&3; echo "$l")
like "$banner" '^220 relay.example.test ESMTP' "the greeting names mail.hostname"
for p in $SMTP $M1 $M2 $M3 $M4 $RP; do
	ok "port $p is bound, on loopback only" \
		sh -c "ss -Htln 'sport = :$p' | grep -q . && ! ss -Htln 'sport = :$p' | awk '{print \$4}' | grep -qv '^127\\.0\\.0\\.1:'"
done

# --- the probes, run as the kubelet would: kube play 4.3 schedules its
# health checks with systemd timers, which this machine has not
$PY -c 'import shlex, sys, yaml
seen = set()
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d["kind"] != "Deployment":
        continue
    pod = d["metadata"]["name"] + "-pod-0"
    for c in d["spec"]["template"]["spec"]["containers"]:
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            cmd = (c.get(kind) or {}).get("exec", {}).get("command")
            if cmd and (c["name"], str(cmd)) not in seen:
                seen.add((c["name"], str(cmd)))
                print(pod + "-" + c["name"], kind, " ".join(shlex.quote(a) for a in cmd))' \
	"$T/kube.yaml" >"$T/probes"
nprobes=0
while read -r name kind cmd; do
	nprobes=$((nprobes + 1))
	ok "${name#"$REL"-}: its $kind passes" eval "pm exec $name $cmd >/dev/null 2>&1"
done <"$T/probes"
ok "every container has a probe that checks something ($nprobes)" test "$nprobes" -ge 6

# --- the init container's key, on the dkim volume; the sidecars' lot
kdir=$(pm volume inspect -f '{{.Mountpoint}}' "$FULL-dkim" 2>/dev/null)
ok "the keys init container made the key on the PVC's volume" test -s "$kdir/example.test/kube.pem"
key1=$(sha256sum <"$kdir/example.test/kube.pem" 2>/dev/null)
pm exec "$POD-milter" relaykit-keygen --print -c /etc/relaykit/conf/relaykit.yaml \
	-d example.test -f text >"$T/txt" 2>"$T/txt.err"
ok "its public key, as the milter sidecar sees it" grep -q '^v=DKIM1; k=rsa; p=' "$T/txt"
printf 'kube._domainkey.example.test %s\n' "$(cat "$T/txt")" >"$T/dnskeys"
is "$(pm exec "$POD-milter" id -u 2>&1)" 10001 "the milter runs as the relaykit user"
is "$(pm exec "$POD-postfix" stat -c '%a %U %G' /run/relaykit/milter.sock /run/relaykit/policy.sock 2>&1 | sort -u)" \
	"660 relaykit postfix" "the sockets are 0660, group postfix, in the shared volume"
ok "with a read-only root filesystem" sh -c "! pm exec '$POD-policyd' touch /etc/x 2>/dev/null" 
bnd=$(pm exec "$POD-postfix" sh -c 'for p in /proc/[0-9]*; do grep -q "^master" $p/comm 2>/dev/null &&
	awk "/^Uid:/{u=\$2} /^CapBnd:/{b=\$2} END{print u, b}" $p/status; done' 2>&1 | head -1)
is "$bnd" "0 00000000000004eb" "Postfix's master keeps only postfix.capabilities (7)"
eff=$(pm exec "$POD-eventd" awk '/^CapEff:/{print $2}' /proc/1/status 2>&1)
is "$eff" 0000000000000000 "eventd runs without any capability"

# --- a message through the pod, signed, verified independently
send() { # send TO SUBJECT LOG
	swaks --server "127.0.0.1:$SMTP" --from app@example.test --to "$1" \
		--h-Subject "$2" --body "through the chart's pod" >"$3" 2>&1
}
send someone@example.org "through the chart" "$T/swaks1.log"
ok "the pod accepts a message from the host" grep -q '250 2.0.0 Ok: queued' "$T/swaks1.log"
ok "the sink on the host receives it" wait_for "[ -e $SINK/1.eml ]" 30
[ -e "$SINK/1.eml" ] || pod_logs
v=$($PY "$top_srcdir/t/integ/milter_verify.py" "$T/dnskeys" "$SINK/1.eml" 2>&1)
like "$v" '^rsa-sha256 pass d=example.test s=kube$' "python3-dkim verifies its signature: $v"
# hook_events: the "event" of each request the receiver got
hook_events() {
	$PY -c 'import json, sys
for line in open(sys.argv[1]):
    b = json.loads(json.loads(line)["body"])
    print(b.get("event") or b.get("type"))' "$T/hooks.jsonl" 2>/dev/null
}
ok "its delivery reaches the webhook receiver (eventd, Redis, webhookd)" \
	wait_for "hook_events | grep -qx delivered" 30
[ -s "$T/hooks.jsonl" ] || { ct_logs "$POD-eventd" 10; ct_logs "$POD-webhookd" 10; }

# --- a restart of the pod: the key stays
t0=$SECONDS
pm kube down "$T/kube.yaml" >"$T/down.log" 2>&1
ok "podman kube down stops the pods" test -z "$(pm pod ps -q --filter "name=$FULL")"
diag "kube down: $((SECONDS - t0)) s"
ok "the key's volume outlives the pod" pm volume exists "$FULL-dkim"
ok "the pod starts again (its claims kept)" play "$T/kube-again.yaml"
[ $_tap_fail = 0 ] || { pod_logs; done_testing; exit 1; }
key2=$(sha256sum <"$kdir/example.test/kube.pem" 2>/dev/null)
is "$key2" "$key1" "the keys init container kept the key"
send other@example.org "after the restart" "$T/swaks2.log"
ok "the restarted pod accepts a message" grep -q '250 2.0.0 Ok: queued' "$T/swaks2.log"
ok "it is delivered" wait_for "[ -e $SINK/2.eml ]" 30
v=$($PY "$top_srcdir/t/integ/milter_verify.py" "$T/dnskeys" "$SINK/2.eml" 2>&1)
like "$v" '^rsa-sha256 pass d=example.test s=kube$' "signed with the key of the first start: $v"

# --- kube down cleans up
pm kube down "$T/kube.yaml" >"$T/down.log" 2>&1
ok "podman kube down removes every pod" test -z "$(pm pod ps -q --filter "name=$FULL")"
ok "... and every container" test -z "$(pm ps -aq --filter "name=$FULL")"
ok "... and nothing listens on the relay's port any more" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$SMTP) 2>/dev/null"
diag "chart_run: $((SECONDS - t_start)) s after the images were ready"
ct_stamp_done
