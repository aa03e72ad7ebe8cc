#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SMTP AUTH load for restart tests: THREADS clients loop for SECONDS,
each session STARTTLS, AUTH PLAIN, one message, QUIT, as a submitting
application does.  Prints one line per session to LOG ("time result
detail") and a summary: sessions, ok, failed by first reply code, and the
longest time without a successful session (the worst gap), in seconds.

usage: auth_load.py HOST PORT USER PASSWORD THREADS SECONDS LOG
"""
import smtplib
import ssl
import sys
import threading
import time


def session(host, port, user, pw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with smtplib.SMTP(host, port, timeout=20) as s:
            s.ehlo("load.test")
            s.starttls(context=ctx)
            s.ehlo("load.test")
            s.login(user, pw)
            s.sendmail(user, ["rcpt@example.org"],
                       "Subject: load\r\n\r\nrestart test\r\n")
        return "ok", ""
    except smtplib.SMTPResponseException as e:
        return str(e.smtp_code), e.smtp_error.decode(errors="replace")
    except (OSError, smtplib.SMTPException) as e:
        return "conn", type(e).__name__ + ": " + str(e)


def main():
    host, port, user, pw, threads, secs, log = sys.argv[1:8]
    port, threads, secs = int(port), int(threads), float(secs)
    start = time.monotonic()
    results = []
    lock = threading.Lock()

    def worker():
        while time.monotonic() - start < secs:
            r, detail = session(host, port, user, pw)
            with lock:
                results.append((time.monotonic() - start, r, detail))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    results.sort()
    with open(log, "w") as f:
        for t, r, d in results:
            f.write("%.3f %s %s\n" % (t, r, d))
    oks = [t for t, r, _ in results if r == "ok"]
    gaps = [b - a for a, b in zip([0.0] + oks, oks + [secs])]
    fails = {}
    for _, r, _ in results:
        if r != "ok":
            fails[r] = fails.get(r, 0) + 1
    print("sessions=%d ok=%d failed=%s worst_gap=%.3f" % (
        len(results), len(oks),
        ",".join("%s:%d" % kv for kv in sorted(fails.items())) or "0",
        max(gaps) if gaps else secs))


if __name__ == "__main__":
    main()
