#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A webhook receiver for the relaykit-webhookd tests: an HTTP server on
127.0.0.1 that records every request it gets (one JSON line each: path,
headers, body, the status it answered, when) and answers by path, so a
test can provoke each failure a real endpoint shows:

  /ok       200
  /flaky    500 the first time it sees a webhook-id, then 200
  /limited  429 with Retry-After: 3 the first time, then 200
  /gone     410 Gone
  /hang     the first time: no answer for 30 s; then 200
  /bad      400 (a refusal for good)
  /slow     200 after 20 ms, or ?ms=N (keeps requests in flight)

usage: wh_receiver.py PORT LOGFILE"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
seen = set()
log = None


def first_time(key):
    with lock:
        if key in seen:
            return False
        seen.add(key)
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connection reuse shows

    def log_message(self, *args):
        pass

    def answer(self, status, extra=None):
        body = b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(200)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "surrogateescape")
        path, _, query = self.path.partition("?")
        wid = self.headers.get("webhook-id", "")
        status, extra = 200, None
        if path == "/flaky" and first_time(("flaky", wid)):
            status = 500
        elif path == "/limited" and first_time(("limited", wid)):
            status, extra = 429, {"Retry-After": "3"}
        elif path == "/gone":
            status = 410
        elif path == "/bad":
            status = 400
        elif path == "/hang" and first_time(("hang", wid)):
            status = 0
        elif path == "/slow":
            ms = query[3:] if query.startswith("ms=") else "20"
            time.sleep(int(ms) / 1000)
        rec = {"path": path, "t": time.time(), "status": status,
               "port": self.client_address[1],
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body}
        with lock:
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if status == 0:
            time.sleep(30)
            self.close_connection = True
            return
        self.answer(status, extra)


def main():
    global log
    log = open(sys.argv[2], "a")
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.serve_forever()


main()
