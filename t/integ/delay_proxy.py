#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A TCP proxy on loopback that delays every answer of its upstream:
a server that is up but slow.  Each chunk the upstream sends waits the
number of milliseconds written in DELAY_FILE (read again for every chunk,
so a test changes it while connections stay open; missing or empty: 0).

    delay_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_FILE
"""
import socket
import sys
import threading
import time

LISTEN, UPSTREAM, DELAY_FILE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def delay_s():
    try:
        with open(DELAY_FILE) as f:
            return int(f.read().strip() or 0) / 1000.0
    except (OSError, ValueError):
        return 0.0


def pump(src, dst, slow):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if slow:
                d = delay_s()
                if d > 0:
                    time.sleep(d)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    try:
        up = socket.create_connection(("127.0.0.1", UPSTREAM))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, up, False), daemon=True).start()
    threading.Thread(target=pump, args=(up, client, True), daemon=True).start()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", LISTEN))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        serve(c)


if __name__ == "__main__":
    main()
