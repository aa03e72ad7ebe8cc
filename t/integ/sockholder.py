#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What systemd does for a service with a .socket unit and Restart=always,
for tests on machines where systemd is not PID 1: bind the sockets once,
start COMMAND with them (LISTEN_FDS, LISTEN_PID, fds from 3), start it
again 100 ms after it exits (systemd's default RestartSec), stop it on
SIGTERM.  Writes each child's pid to PIDFILE.

usage: sockholder.py PIDFILE unix:/path|inet:HOST:PORT ... -- COMMAND...
"""
import os
import signal
import socket
import sys
import time


def bind(spec):
    kind, _, rest = spec.partition(":")
    if kind == "unix":
        if os.path.exists(rest):
            os.unlink(rest)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(rest)
        os.chmod(rest, 0o666)
    else:
        host, _, port = rest.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
    s.listen(511)
    return s


def spawn(socks, cmd):
    pid = os.fork()
    if pid:
        return pid
    for i, s in enumerate(socks):
        os.dup2(s.fileno(), 3 + i)
        os.set_inheritable(3 + i, True)
    env = dict(os.environ, LISTEN_FDS=str(len(socks)),
               LISTEN_PID=str(os.getpid()))
    os.execvpe(cmd[0], cmd, env)


def main():
    pidfile = sys.argv[1]
    sep = sys.argv.index("--")
    socks = [bind(s) for s in sys.argv[2:sep]]
    cmd = sys.argv[sep + 1:]
    stopping, child = [], [0]

    def term(*_):
        stopping.append(1)
        if child[0]:
            os.kill(child[0], signal.SIGTERM)

    signal.signal(signal.SIGTERM, term)
    while not stopping:
        child[0] = spawn(socks, cmd)
        with open(pidfile, "w") as f:
            f.write("%d\n" % child[0])
        try:
            os.waitpid(child[0], 0)
        except ChildProcessError:
            pass
        child[0] = 0
        if not stopping:
            time.sleep(0.1)


if __name__ == "__main__":
    main()
