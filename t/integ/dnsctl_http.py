# SPDX-License-Identifier: MIT
"""The two HTTP services dnsctl detects addresses through, on loopback.

No Kubernetes API server can run on the test machines, so this answers the
one call dnsctl makes exactly as the Kubernetes API documents it: GET
/api/v1/namespaces/NS/services/NAME with the service account's bearer
token, a v1 Service object (status.loadBalancer.ingress[].ip) on success,
and a v1 Status object (kind Status, status Failure, reason, code,
message) for 401 and 404.  It also serves an echo endpoint, GET /ip, that
answers with an address as plain text, like the public "what is my IP"
services.  Both read their answers from files at every request, so a test
changes the detected address by writing a file.

usage: dnsctl_http.py PORT DIR [CERT KEY]
  DIR/ip       the echo answer
  DIR/lb       load-balancer addresses, one per line
  DIR/token    the token the API accepts
  DIR/requests one line per request: METHOD PATH AUTHORIZED
With CERT and KEY it speaks HTTPS (as the API server does).
"""
import json
import os
import re
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status_object(self, code, reason, message):
        return json.dumps({"kind": "Status", "apiVersion": "v1",
                           "metadata": {}, "status": "Failure",
                           "message": message, "reason": reason,
                           "code": code})

    def service(self, ns, name):
        d = self.server.dir
        ips = [line for line in (read(os.path.join(d, "lb")) or "").split()
               if line]
        return json.dumps({
            "kind": "Service", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns,
                         "uid": "0b6f2f4e-6c1b-4e8e-9d2e-000000000001",
                         "resourceVersion": "4711"},
            "spec": {"type": "LoadBalancer", "ports": [
                {"name": "smtp", "protocol": "TCP", "port": 25,
                 "targetPort": 25, "nodePort": 30025}],
                "selector": {"app": "relaykit"},
                "clusterIP": "10.96.0.25"},
            "status": {"loadBalancer": {"ingress": [{"ip": ip,
                                                     "ipMode": "VIP"}
                                                    for ip in ips]}}})

    def do_GET(self):
        d = self.server.dir
        auth = self.headers.get("Authorization")
        token = read(os.path.join(d, "token"))
        ok = token is not None and auth == "Bearer " + token
        with open(os.path.join(d, "requests"), "a") as f:
            f.write("GET %s %s\n" % (self.path, "yes" if ok else "no"))
        if self.path == "/ip":
            return self.send(200, (read(os.path.join(d, "ip")) or "") + "\n",
                             "text/plain")
        m = re.fullmatch(r"/api/v1/namespaces/([a-z0-9-]+)/services/"
                         r"([a-z0-9-]+)", self.path)
        if not ok:
            return self.send(401, self.status_object(401, "Unauthorized",
                                                     "Unauthorized"))
        if not m or m.group(2) != "relaykit":
            name = m.group(2) if m else self.path
            return self.send(404, self.status_object(
                404, "NotFound", 'services "%s" not found' % name))
        return self.send(200, self.service(m.group(1), m.group(2)))


def main():
    port, d = int(sys.argv[1]), sys.argv[2]
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.dir = d
    if len(sys.argv) > 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
