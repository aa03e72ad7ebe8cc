# SPDX-License-Identifier: MIT
"""t/integ/dash_inject.py PORT PREFIX RATE SECONDS: appends RATE events a
second to the Redis stream PREFIXevents for SECONDS, in batches every
100 ms, as relaykit-eventd would (fields "type" and "json", every key of
man/relaykit-event.schema.json), and prints how many it wrote.  Redis is
spoken directly (RESP), so nothing beyond Python's standard library is
needed."""
import json
import random
import socket
import sys
import time

port, prefix, rate, seconds = (int(sys.argv[1]), sys.argv[2],
                               int(sys.argv[3]), float(sys.argv[4]))
key = (prefix + "events").encode()
rnd = random.Random(7)
DOMAINS = ["gmail.test", "yahoo.test", "outlook.test", "corp%d.test"]
KINDS = [("delivered", "sent", "2.0.0", "250 2.0.0 Ok"),
         ("deferred", "deferred", "4.7.28", "421 4.7.28 Rate limited"),
         ("bounced", "bounced", "5.1.1", "550 5.1.1 No such user"),
         ("queued", "queued", None, None)]
WEIGHTS = [80, 10, 4, 6]


def event(n):
    kind, status, dsn, resp = rnd.choices(KINDS, WEIGHTS)[0]
    dom = rnd.choice(DOMAINS)
    if "%" in dom:
        dom = dom % rnd.randrange(50)
    now = time.time()
    rcpt = "user%d@%s" % (n, dom)
    return kind, {
        "id": "evt_%032x" % rnd.getrandbits(128), "event": kind,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) +
        ".%03dZ" % int(now * 1000 % 1000),
        "host": "load", "source": "eventd",
        "queue_id": "L%010X" % n, "message_id": "<%d@load>" % n,
        "client_id": "load-%d" % n, "from": "app%d@example.com" % (n % 7),
        "to": [rcpt], "recipient": rcpt, "orig_to": None, "subject": None,
        "relay": "mx.%s[192.0.2.1]:25" % dom, "dsn": dsn, "status": status,
        "response": resp, "tls": None, "delay": 120,
        "delays": {"before_queue": 0, "queue_manager": 10,
                   "connection": 50, "transmission": 60},
        "attempt": 1, "size": 1234, "nrcpt": None, "report": None}


def resp_cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def drain(sock, replies):
    buf = b""
    while buf.count(b"\r\n") < 2 * replies:  # "$N\r\nID\r\n" each
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("redis closed the connection")
        buf += chunk


def main():
    sock = socket.create_connection(("127.0.0.1", port))
    per_tick = rate / 10.0
    owed, n, start = 0.0, 0, time.monotonic()
    while time.monotonic() - start < seconds:
        owed += per_tick
        cmds = []
        while owed >= 1:
            kind, ev = event(n)
            cmds.append(resp_cmd("XADD", key, "MAXLEN", "~", "100000", "*",
                                 "type", kind, "json",
                                 json.dumps(ev, separators=(",", ":"))))
            owed -= 1
            n += 1
        if cmds:
            sock.sendall(b"".join(cmds))
            drain(sock, len(cmds))
        next_tick = start + (n / rate)
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(n)


main()
