#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# t/integ/auth_client.py: talks Postfix's side of the Dovecot
# authentication protocol to relaykit-policyd, for the auth tests.
#
#   auth_client.py ENDPOINT handshake           prints the server's lines
#   auth_client.py ENDPOINT plain USER PASS [secured] [RIP]
#   auth_client.py ENDPOINT login USER PASS [secured] [RIP]
#   auth_client.py ENDPOINT raw TEXT            sends TEXT (\t \n escapes)
#                                               after the handshake, prints
#                                               what comes back until EOF
#   auth_client.py ENDPOINT burst N USER PASS    N PLAIN logins on one
#                                               connection, one result each
#   auth_client.py ENDPOINT idle SECONDS USER PASS  a PLAIN login after
#                                               SECONDS of silence
# ENDPOINT: unix:/path or inet:host:port.  Results: OK user=..., FAIL
# reason=..., or EOF (the server closed the connection).
import base64
import socket
import sys
import time


def connect(ep):
    if ep.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(ep[5:])
    else:
        host, port = ep[5:].rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(10)
    return s


class Conn:
    def __init__(self, ep):
        self.s = connect(ep)
        self.buf = b""
        self.id = 0

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.decode("utf-8", "replace")

    def send(self, text):
        try:
            self.s.sendall(text.encode() if isinstance(text, str) else text)
        except OSError:
            pass  # the server closed: line() reports EOF

    def handshake(self):
        self.send("VERSION\t1\t0\nCPID\t%d\n" % 4242)
        lines = []
        while True:
            ln = self.line()
            if ln is None:
                break
            lines.append(ln)
            if ln == "DONE":
                break
        return lines

    def auth(self, mech, steps, secured, rip, initial=True):
        self.id += 1
        req = "AUTH\t%d\t%s\tservice=smtp\tnologin\tlip=127.0.0.1\trip=%s" % (
            self.id, mech, rip)
        if secured:
            req += "\tsecured"
        steps = list(steps)
        if initial and steps:
            req += "\tresp=" + base64.b64encode(steps.pop(0)).decode()
        self.send(req + "\n")
        while True:
            ln = self.line()
            if ln is None:
                return "EOF"
            f = ln.split("\t")
            if f[0] == "CONT":
                if not steps:
                    return "CONT unexpected"
                self.send("CONT\t%d\t%s\n" % (
                    self.id, base64.b64encode(steps.pop(0)).decode()))
                continue
            return " ".join([f[0]] + f[2:])


def main():
    ep, cmd = sys.argv[1], sys.argv[2]
    c = Conn(ep)
    if cmd == "handshake":
        print("\n".join(c.handshake()))
        return
    c.handshake()
    if cmd == "raw":
        c.send(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
        c.s.settimeout(float(sys.argv[4]) if len(sys.argv) > 4 else 10)
        while True:
            try:
                ln = c.line()
            except socket.timeout:
                print("TIMEOUT")
                return
            except OSError as e:
                print("RESET %s" % e)
                return
            if ln is None:
                print("EOF")
                return
            print(ln)
    if cmd == "burst":
        n, user, pw = int(sys.argv[3]), sys.argv[4], sys.argv[5]
        msg = b"\0" + user.encode() + b"\0" + pw.encode()
        for _ in range(n):
            print(c.auth("PLAIN", [msg], True, "127.0.0.1"))
        return
    if cmd == "idle":
        time.sleep(float(sys.argv[3]))
        msg = b"\0" + sys.argv[4].encode() + b"\0" + sys.argv[5].encode()
        print(c.auth("PLAIN", [msg], True, "127.0.0.1"))
        return
    user, pw = sys.argv[3].encode(), sys.argv[4].encode()
    secured = len(sys.argv) > 5 and sys.argv[5] == "secured"
    rip = sys.argv[6] if len(sys.argv) > 6 else "127.0.0.1"
    if cmd == "plain":
        print(c.auth("PLAIN", [b"\0" + user + b"\0" + pw], secured, rip))
    elif cmd == "plain-cont":
        print(c.auth("PLAIN", [b"\0" + user + b"\0" + pw], secured, rip,
                     initial=False))
    elif cmd == "login":
        print(c.auth("LOGIN", [user, pw], secured, rip, initial=False))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
