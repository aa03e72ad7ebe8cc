# SPDX-License-Identifier: MIT
"""SMTP load for relaykit-policyd's Postfix tests.

  policyd_smtp.py HOST:PORT SECONDS CONNECTIONS SENDER RCPT

Keeps CONNECTIONS SMTP sessions open and runs MAIL, RCPT, RSET on each as
fast as Postfix answers, for SECONDS from the first RCPT on, and prints
"accepted N of M" (RCPTs answered 250 of those sent).  No DATA: the
limits are decided at RCPT, and the queue stays empty.
"""
import smtplib
import sys
import threading
import time


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    secs, conns = float(sys.argv[2]), int(sys.argv[3])
    sender, rcpt = sys.argv[4], sys.argv[5]
    sessions = [smtplib.SMTP(host, int(port), timeout=30) for _ in range(conns)]
    for s in sessions:
        s.ehlo("load.test")
    counts = [[0, 0] for _ in range(conns)]
    start = time.monotonic()
    stop = start + secs

    def run(i):
        s = sessions[i]
        while time.monotonic() < stop:
            s.mail(sender)
            code, _ = s.rcpt(rcpt)
            counts[i][1] += 1
            if code == 250:
                counts[i][0] += 1
            s.rset()
        s.quit()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("accepted %d of %d" % (sum(c[0] for c in counts),
                                 sum(c[1] for c in counts)))


if __name__ == "__main__":
    main()
