# SPDX-License-Identifier: MIT
"""A policy delegation client for relaykit-policyd's integration tests.

  policyd_client.py ADDR req [NAME=VALUE...]     one request; prints the action
  policyd_client.py ADDR reqs N [NAME=VALUE...]  N requests on one connection
                                                 ({i} in a value is the index;
                                                 PD_GAP=S sleeps between them)
  policyd_client.py ADDR raw [--shut] [--wait S] bytes from stdin; prints what
                                                 comes back until close or S s
  policyd_client.py ADDR many N [NAME=VALUE...]  N connections open at once,
                                                 a request on each
  policyd_client.py ADDR hold S                  connects, sends half a request,
                                                 stays silent; prints how long
                                                 until the server closed

ADDR is unix:/path or inet:host:port.  Exit status 0 unless the connection
failed.
"""
import os
import socket
import sys
import time


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
    else:
        host, port = addr[5:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s


def request(attrs, i=0):
    base = {
        "request": "smtpd_access_policy",
        "protocol_state": "RCPT",
        "protocol_name": "ESMTP",
        "client_address": "127.0.0.1",
        "sender": "app@example.com",
        "recipient": "user@example.org",
        "instance": "inst.%d" % i,
        "sasl_username": "",
    }
    for a in attrs:
        k, v = a.split("=", 1)
        base[k] = v.replace("{i}", str(i))
    return "".join("%s=%s\n" % kv for kv in base.items()) + "\n"


def read_answer(s, buf):
    while b"\n\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed")
        buf += d
    ans, rest = buf.split(b"\n\n", 1)
    return ans.decode("utf-8", "replace"), rest


def main():
    addr, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    s = connect(addr)
    if cmd == "req":
        s.sendall(request(args).encode())
        ans, _ = read_answer(s, b"")
        print(ans.removeprefix("action="))
    elif cmd == "reqs":
        n, buf = int(args[0]), b""
        gap = float(os.environ.get("PD_GAP", "0"))
        for i in range(n):
            if i and gap:
                time.sleep(gap)
            s.sendall(request(args[1:], i).encode())
            ans, buf = read_answer(s, buf)
            print(ans.removeprefix("action="), flush=True)
    elif cmd == "raw":
        shut = "--shut" in args
        wait = float(args[args.index("--wait") + 1]) if "--wait" in args else 5
        data = sys.stdin.buffer.read()
        try:
            s.sendall(data)
        except OSError as e:
            print("send: %s" % e.strerror)
        if shut:
            s.shutdown(socket.SHUT_WR)
        s.settimeout(wait)
        got = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    got += b"<closed>"
                    break
                got += d
        except socket.timeout:
            got += b"<open>"
        except OSError as e:
            got += ("<%s>" % e.strerror).encode()
        print(got.decode("utf-8", "replace").replace("\n", "|"))
    elif cmd == "many":
        # N connections open at once, then one request on each.
        import resource
        n = int(args[0])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n + 64:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
        conns = [s] + [connect(addr) for _ in range(n - 1)]
        for i, c in enumerate(conns):
            c.sendall(request(args[1:], i).encode())
        answered = 0
        for c in conns:
            ans, _ = read_answer(c, b"")
            answered += ans.startswith("action=")
        print("%d of %d answered" % (answered, n))
    elif cmd == "hold":
        s.sendall(b"request=smtpd_access_policy\nprotocol_state=RC")
        t0 = time.monotonic()
        s.settimeout(float(args[0]))
        try:
            d = s.recv(100)
            print("closed after %.1f s%s" % (time.monotonic() - t0,
                  "" if not d else " with %r" % d))
        except socket.timeout:
            print("still open")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError) as e:
        print("error: %s" % e)
        sys.exit(1)
