#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SMTP client that opens with a PROXY protocol header (v1 text or v2
binary) claiming another source address, then sends one message.  With
version "none" it sends no header.  Prints every server reply, or CLOSED
when the server hangs up; exits 0.  BIND, when given, is the local
address the connection really comes from (127.0.0.2: an untrusted host).

usage: proxy_client.py v1|v2|none CLAIMED_IP PORT FROM TO [BIND]
"""
import socket
import struct
import sys


def header(version, src, port):
    if version == "v1":
        return ("PROXY TCP4 %s 127.0.0.1 40000 %d\r\n" % (src, port)).encode()
    if version == "v2":
        addrs = socket.inet_aton(src) + socket.inet_aton("127.0.0.1")
        body = addrs + struct.pack("!HH", 40000, port)
        return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11])
                + struct.pack("!H", len(body)) + body)
    return b""


def main():
    version, src, port, mfrom, rcpt = sys.argv[1:6]
    bind = sys.argv[6] if len(sys.argv) > 6 else None
    port = int(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(bind, 0) if bind else None)
    f = s.makefile("rb")
    try:
        s.sendall(header(version, src, port))
    except (BrokenPipeError, ConnectionResetError):
        print("CLOSED")
        return
    if version == "none":
        s.sendall(b"EHLO client.test\r\n")

    def reply():
        lines = []
        while True:
            line = f.readline()
            if not line:
                print("CLOSED")
                sys.exit(0)
            lines.append(line.decode(errors="replace").rstrip())
            if len(line) < 4 or line[3:4] != b"-":
                print("\n".join(lines))
                return lines[-1]

    try:
        reply()
        if version == "none":
            reply()
            return
        for cmd in ("EHLO client.test", "MAIL FROM:<%s>" % mfrom,
                    "RCPT TO:<%s>" % rcpt):
            s.sendall((cmd + "\r\n").encode())
            last = reply()
        if not last.startswith("250"):
            return
        s.sendall(b"DATA\r\n")
        reply()
        s.sendall(b"Subject: proxied\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        reply()
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        print("CLOSED")


if __name__ == "__main__":
    main()
