# SPDX-License-Identifier: MIT
# relaykit-dnsctl's dns.ip.fromService: the relay's address from its
# Kubernetes Service.  No API server can run here, so a local HTTPS server
# (t/integ/dnsctl_http.py) answers GET /api/v1/namespaces/NS/services/NAME
# exactly as the Kubernetes API documents it: a v1 Service with
# status.loadBalancer.ingress, or a v1 Status for 401 and 404.  dnsctl
# uses the pod's service account as in a pod: the token, ca.crt (a CA
# made here with openssl) and namespace files, and the API address from
# KUBERNETES_SERVICE_HOST/PORT.  The records go to a real BIND.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/dnsctl_lib.sh"
need dig openssl
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
cd "$T" || exit 1

Z=example.test
bind_start $Z transfer
dkim_key $Z s1
mkdir -p sa http
q_openssl() { openssl "$@" >/dev/null 2>&1; }
q_openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
	-keyout ca.key -out sa/ca.crt
q_openssl req -newkey rsa:2048 -nodes -subj /CN=kubernetes -keyout api.key -out api.csr
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
q_openssl x509 -req -in api.csr -CA sa/ca.crt -CAkey ca.key -CAcreateserial \
	-days 2 -extfile san.ext -out api.crt
TOKEN=sa-token-$$-secret
printf '%s\n' "$TOKEN" >sa/token
printf '%s' "$TOKEN" >http/token
printf 'mail' >sa/namespace
printf '192.0.2.40\n2001:db8::40\n' >http/lb
KP=$(free_port)
$PY "$DC_SRC/t/integ/dnsctl_http.py" "$KP" "$T/http" api.crt api.key &
track $!
wait_for "port_open $KP" 10

rfc2136_yaml $Z >rk.yaml
sed -i "s|    fromService: false|    fromService: true\n    service: relaykit\n    serviceAccountDir: $T/sa|; s|    static: \[\]||" rk.yaml
kube() { env KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$KP" "$@"; }

dc -c rk.yaml plan
is "$RC" 1 "outside Kubernetes fromService is skipped: no address, exit 1"
like "$ERR" 'no public address' "... and says so"

kube "$DC" -c rk.yaml apply >out 2>err
is "$?" 0 "in a pod: applied"
is "$(q A mail.$Z)" 192.0.2.40 "A from the Service's load balancer"
is "$(q AAAA mail.$Z)" 2001:db8::40 "AAAA from the Service's load balancer"
is "$(grep -c 'GET /api/v1/namespaces/mail/services/relaykit yes' http/requests)" 1 \
	"one GET, in the pod's namespace, with the service account's token"

printf 'rotated-%s\n' "$TOKEN" >sa/token
kube "$DC" -c rk.yaml plan >out 2>err
is "$?" 1 "a token the API does not take: exit 1"
like "$(cat err)" 'HTTP 401: Unauthorized' "... with the API's Status message"
printf 'rotated-%s' "$TOKEN" >http/token
kube "$DC" -c rk.yaml plan >out 2>err
is "$?" 0 "a rotated token is read again at the next use"

sed -i 's|    service: relaykit|    service: other/nosuch|' rk.yaml
kube "$DC" -c rk.yaml plan >out 2>err
like "$(cat err)" 'namespaces/other/services/nosuch: HTTP 404: services "nosuch" not found' \
	"namespace/name; a missing Service: the API's 404 Status"
sed -i 's|    service: other/nosuch|    service: relaykit|' rk.yaml
printf '\n' >http/lb
kube "$DC" -c rk.yaml plan >out 2>err
like "$(cat err)" 'no load-balancer address' "a Service still waiting for its address"

mv sa/ca.crt sa/other.crt
printf '192.0.2.40\n' >http/lb
kube "$DC" -c rk.yaml plan >out 2>err
is "$?" 1 "without the CA certificate the API's certificate is not trusted"
ok "the token never appears in any output" \
	sh -c "! grep -rqF -- '$TOKEN' out err '$T/dc.all'"
done_testing
