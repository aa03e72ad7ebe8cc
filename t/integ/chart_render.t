# SPDX-License-Identifier: MIT
# The chart (helm/) without a cluster: helm lint --strict and helm template
# over every helm/ci/*.yaml; every rendered object checked offline against
# the Kubernetes API's own schemas; the rendered relaykit.yaml accepted by
# relaykit itself; values.schema.json compiled strictly by ajv and
# refusing the typical mistakes (so does helm); the chart's own refusals;
# values.schema.json and README.md as their generators make them.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/container_lib.sh"
. "$top_srcdir/t/integ/chart_lib.sh"
chart_need
PC=$top_builddir/postfix-conf/relaykit-postconf
# ajv_check FILE...: chart_ajv.js over the chart's defaults, one node start
ajv_check() {
	node "$top_srcdir/t/integ/chart_ajv.js" "$NODE_MODULES" "$CHART/values.schema.json" \
		"$CHART/values.yaml" "$@" 2>&1
}

# --- the generated files are current
ok "values.schema.json is what helm/schema.py makes from relaykit.yaml(5)" \
	cmp -s "$CHART/values.schema.json" <($PY "$CHART/schema.py" "$top_srcdir/man/relaykit.yaml.5")
ok "README.md is what helm/readme.py makes from values.yaml" \
	cmp -s "$CHART/README.md" <($PY "$CHART/readme.py")
like "$(cat "$CHART/README.md")" 'Security: do not run an open relay' "the README carries the open-relay warning"

# --- the schema itself, strictly, and every ci values file over the defaults
ajv=$(ajv_check "$CHART"/ci/*.yaml)
like "$ajv" '^compiled strict' "ajv compiles values.schema.json in strict mode"

# dummy secret files where the chart mounts Secrets, for relaykit's check
mkdir -p "$T/secrets"
for d in relay auth verp cloudflare tsig redis redis-sentinel dashboard webhook-0; do mkdir -p "$T/secrets/$d"; done
echo 'user:$y$j9T$abcdefghijklmnopqrstu$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO' >"$T/secrets/auth/users"
for f in relay/password redis/password redis-sentinel/password dashboard/password cloudflare/apiToken tsig/tsigSecret; do echo s3cret-s3cret-s3cret >"$T/secrets/$f"; done
echo 0123456789abcdef0123456789abcdef >"$T/secrets/verp/hmacSecret"
echo whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw >"$T/secrets/webhook-0/secret"

# same_daemons NAME: the chart runs the sidecars relaykit-postconf
# --daemons names for the relaykit.yaml it rendered (the image's
# standalone mode starts those)
same_daemons() {
	local want got
	want=$("$PC" --daemons -c "$T/$1.relaykit.yaml" 2>&1 | sort | tr '\n' ' ')
	got=$($PY -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] in ("Deployment", "StatefulSet") and d["metadata"]["name"].endswith("-relaykit"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["name"] in ("milter", "policyd", "eventd", "webhookd"):
                print(c["name"])' "$T/$1.yaml" | sort | tr '\n' ' ')
	is "$got" "$want" "$1: the pod's sidecars are the daemons relaykit-postconf --daemons names ($want)"
}

# --- every ci values file
for f in "$CHART"/ci/*.yaml; do
	n=$(basename "$f" .yaml)
	out=$("$HELM" lint --strict "$CHART" -f "$f" 2>&1)
	like "$out" '1 chart\(s\) linted, 0 chart\(s\) failed' "$n: helm lint --strict"
	"$HELM" template rk "$CHART" -f "$f" >"$T/$n.yaml" 2>"$T/$n.err"
	ok "$n: helm template" test -s "$T/$n.yaml" -a ! -s "$T/$n.err"
	out=$(node "$top_srcdir/t/integ/chart_validate.js" "$NODE_MODULES" "$T/$n.yaml" 2>&1)
	like "$out" ' 0 invalid$' "$n: every object valid against the Kubernetes schemas ($(echo "$out" | tail -1))"
	[ $? = 0 ] || printf '%s\n' "$out" | grep INVALID | sed 's/^/# /'
	like "$ajv" "^valid $f\$" "$n: ajv accepts the values (over values.yaml)"
	relaykit_yaml "$T/$n.yaml" "$T/$n.relaykit.yaml"
	sed -i "s|/etc/relaykit/secrets/|$T/secrets/|" "$T/$n.relaykit.yaml"
	out=$("$PC" -n -c "$T/$n.relaykit.yaml" 2>&1)
	is "$out" "configuration OK" "$n: relaykit accepts the relaykit.yaml the chart rendered"
	same_daemons "$n"
done

# --- the daemons of single features, beyond the ci files
feature() { # feature NAME YAML
	printf '%s\n' "mail: {hostname: mail.example.com, domains: [example.com]}" "$2" >"$T/f-$1.values"
	"$HELM" template rk "$CHART" -f "$T/f-$1.values" >"$T/f-$1.yaml" 2>&1
	relaykit_yaml "$T/f-$1.yaml" "$T/f-$1.relaykit.yaml"
	same_daemons "f-$1"
}
feature dashboard "dashboard: {watch: {enabled: true}}"
feature no-dkim "dkim: {enabled: false}"
feature auth "auth: {enabled: true, existingSecret: users}"
feature pacing "adaptiveRate: {enabled: true}"

# --- what each file is about, in the rendered objects
full=$(cat "$T/full-values.yaml")
like "$full" 'kind: StatefulSet' "full: a StatefulSet"
like "$full" 'kind: ServiceMonitor' "full: a ServiceMonitor"
like "$full" 'kind: PodDisruptionBudget' "full: a PodDisruptionBudget"
for c in postfix milter policyd eventd webhookd; do
	like "$full" "- name: $c\$" "full: a $c container"
done
like "$full" 'readOnlyRootFilesystem: true' "full: read-only sidecars"
like "$full" 'supplementalGroups: \[990\]' "full: the sidecars join the image's postfix group, their sockets' group"
like "$(cat "$T/full-values.relaykit.yaml")" 'listen: unix:/run/relaykit/milter.sock' \
	"full: the milter's socket in the pod's shared volume"
mounts=$($PY -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "StatefulSet":
        for c in d["spec"]["template"]["spec"]["containers"]:
            print(c["name"] + ":", *sorted(m["name"][7:] for m in c["volumeMounts"]
                                          if m["name"].startswith("secret-")))' "$T/full-values.yaml" | tr '\n' ' ')
is "$mounts" "postfix: redis relay verp milter: redis verp policyd: auth redis eventd: dashboard redis webhookd: redis webhook-0 " \
	"full: each container mounts only the secrets its programs read"
like "$full" 'passwordFile: /etc/relaykit/secrets/relay/password' "full: existingSecret becomes the File twin"
ok "full: no existingSecret key reaches relaykit.yaml" sh -c "! grep -q existingSecret '$T/full-values.relaykit.yaml'"
like "$(cat "$T/external-redis-values.yaml")" 'host: redis.shared.svc.cluster.local' "external Redis: its host in relaykit.yaml"
ok "external Redis: no bundled Redis" sh -c "! grep -q 'component: redis' '$T/external-redis-values.yaml'"
sent=$(cat "$T/sentinel-values.relaykit.yaml")
like "$sent" "sentinelPasswordFile: $T/secrets/redis-sentinel/password" "Sentinel: the sentinels' password from its Secret"
like "$sent" 'masterName: relaykit' "Sentinel: sentinels and master name reach relaykit.yaml"
ok "Sentinel: no host added for a bundled Redis" sh -c "! grep -q '^  host:' '$T/sentinel-values.relaykit.yaml'"
proxy=$(cat "$T/proxy-protocol-values.yaml")
like "$proxy" 'targetPort: 2525' "PROXY: the LoadBalancer targets the gate's port"
like "$proxy" 'cidr: 10.0.0.5/32' "PROXY: the NetworkPolicy admits the trusted proxies to it"
like "$(cat "$T/external-dns-values.yaml")" 'v=spf1 a:mail.example.com -all' "external-dns: a DNSEndpoint with the SPF record"
like "$(cat "$T/minimal-values.yaml")" '- name: keys' "minimal: the keys init container"
dns=$(cat "$T/dns-rfc2136-values.yaml")
for c in dns dns-wait dns-watch; do
	like "$dns" "- name: $c\$" "RFC 2136: the $c container (relaykit-dnsctl)"
done
like "$dns" 'kind: RoleBinding' "RFC 2136: the service account may read the Service's address"
like "$dns" 'tsigSecretFile: /etc/relaykit/secrets/tsig/tsigSecret' "RFC 2136: the TSIG secret from its Secret"
like "$full" 'name: dashboard, containerPort: 9705' "full: eventd serves the live dashboard"
like "$full" 'grafana_dashboard: "1"' "full: the Grafana dashboard's ConfigMap, labelled for Grafana's sidecar"
ok "the chart's Grafana dashboard is contrib/grafana/relaykit.json" \
	cmp -s "$CHART/dashboards/relaykit.json" "$top_srcdir/contrib/grafana/relaykit.json"

# --- the validator does reject a broken object
sed 's/protocol: TCP/protocol: 7/' "$T/minimal-values.yaml" >"$T/broken.yaml"
out=$(node "$top_srcdir/t/integ/chart_validate.js" "$NODE_MODULES" "$T/broken.yaml" 2>&1)
like "$out" 'INVALID' "a manifest with a wrong field type is found invalid"

# --- typical mistakes: refused by the schema (ajv and helm alike)
nm=0
mistake() { # mistake NAME YAML: helm's verdict now, ajv's below
	nm=$((nm + 1))
	printf '%s\n' "$2" >"$T/m$nm.yaml"
	printf '%s\n' "$1" >"$T/m$nm.name"
	out=$("$HELM" template rk "$CHART" -f "$T/m$nm.yaml" 2>&1)
	like "$out" 'values don.t meet the specifications of the schema' "helm refuses: $1"
}
base='mail: {hostname: mail.example.com, domains: [example.com]}'
mistake "a misspelt relaykit key" "mail: {hostname: mail.example.com, domains: [example.com], trustedNetwork: [10.0.0.0/16]}"
mistake "a misspelt chart key" "$base
servics: []"
mistake "an RSA size relaykit has not" "$base
dkim: {keySize: 1000}"
mistake "an unknown algorithm" "$base
dkim: {algorithm: rsa}"
mistake "a quoted boolean" "$base
rateLimit: {enabled: \"true\"}"
mistake "a port out of range" "$base
redis: {port: 70000}"
mistake "a Service type misspelt" "$base
services: [{type: Loadbalancer, port: 25}]"
mistake "users as a list" "$base
auth: {enabled: true, users: [alice]}"
mistake "a webhook endpoint key misspelt" "$base
webhooks: {enabled: true, endpoints: [{name: a, url: 'https://a.example', secrett: x}]}"
mistake "a volume size without unit syntax" "$base
persistence: {queue: {size: 2GB}}"
mistake "a CIDR with two prefixes" "$base
networkPolicy: {allowedCidrs: [10.0.0.0/8/16]}"
mistake "a dashboard key misspelt" "$base
dashboard: {watch: {enable: true}}"
mistake "a milter order relaykit has not" "$base
milter: {order: first}"
mistake "a duration without its unit" "$base
policyd: {requestTimeout: 10}"
ajv=$(ajv_check $(seq -f "$T/m%g.yaml" 1 $nm))
for i in $(seq 1 $nm); do
	like "$ajv" "^invalid $T/m$i.yaml: " "ajv refuses: $(cat "$T/m$i.name")"
done

# --- mistakes only the chart (or relaykit) can see
refuse() { # refuse NAME REGEX YAML
	printf '%s\n' "$3" >"$T/m.yaml"
	out=$("$HELM" template rk "$CHART" -f "$T/m.yaml" 2>&1)
	like "$out" "$2" "the chart refuses: $1"
}
refuse "three pods on one queue volume" 'use controller: StatefulSet' "$base
replicaCount: 3"
refuse "a Service to a port nobody listens on" 'no listener there' "$base
services: [{type: ClusterIP, port: 25, targetPort: 2525}]"
refuse "PROXY protocol on the Service only" 'proxyProtocol must match' "$base
services: [{type: LoadBalancer, port: 25, targetPort: 25, proxyProtocol: true}]"
printf '%s\n' "$base" "mail: {hostname: mail.example.com, domains: [example.com], trustedNetworks: [0.0.0.0/0]}" |
	tail -1 >"$T/m.yaml"
"$HELM" template rk "$CHART" -f "$T/m.yaml" >"$T/wide.yaml" 2>&1
relaykit_yaml "$T/wide.yaml" "$T/wide.relaykit.yaml"
like "$("$PC" -n -c "$T/wide.relaykit.yaml" 2>&1)" 'wider than /8' \
	"relaykit refuses the open relay a chart value would make (0.0.0.0/0)"
done_testing
