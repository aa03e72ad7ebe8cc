#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes a large Postfix log made of the lines a real Postfix 3.7
wrote (t/data/eventd/postfix-3.7.log): each message's life (smtpd,
cleanup, qmgr, deliveries, removal) replayed with fresh queue ids and
times, in the mix of that log: mostly delivered, some deferred then
delivered, some bounced.  usage: mklog.py LINES > FILE"""
import random
import sys

random.seed(7)
want = int(sys.argv[1])
out = sys.stdout
n = 0
t = 0
host = "relay1"
HEX = "0123456789ABCDEF"


def ts(sec):
    return "Nov 30 %02d:%02d:%02d" % ((sec // 3600) % 24, (sec // 60) % 60, sec % 60)


def qid():
    return "".join(random.choice(HEX) for _ in range(11))


def line(prog, pid, text):
    global n
    out.write("%s %s postfix/%s[%d]: %s\n" % (ts(t), host, prog, pid, text))
    n += 1


while n < want:
    t += 1 if random.random() < 0.05 else 0
    q = qid()
    rcpt = "user%d@dest%d.example" % (random.randrange(100000), random.randrange(50))
    line("smtpd", 5577, "connect from app.internal[10.0.0.%d]" % random.randrange(1, 250))
    line("smtpd", 5577, "%s: client=app.internal[10.0.0.5]" % q)
    line("cleanup", 5587, "%s: message-id=<%d.%s@app.example.com>" % (q, n, q))
    line("qmgr", 5574, "%s: from=<app@example.com>, size=%d, nrcpt=1 (queue active)"
         % (q, random.randrange(800, 40000)))
    line("smtpd", 5577, "disconnect from app.internal[10.0.0.5] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")
    r = random.random()
    if r < 0.08:
        line("smtp", 5591, "%s: to=<%s>, relay=mx.dest.example[192.0.2.10]:25, delay=0.13, "
             "delays=0.01/0/0.02/0.1, dsn=4.7.28, status=deferred (host mx.dest.example"
             "[192.0.2.10] said: 421 4.7.28 Rate limited, try again later (in reply to RCPT TO command))"
             % (q, rcpt))
        line("qmgr", 5574, "%s: from=<app@example.com>, size=1200, nrcpt=1 (queue active)" % q)
    if r < 0.03:
        line("smtp", 5591, "%s: to=<%s>, relay=mx.dest.example[192.0.2.10]:25, delay=0.13, "
             "delays=0.02/0/0.02/0.09, dsn=5.1.1, status=bounced (host mx.dest.example[192.0.2.10] "
             "said: 550 5.1.1 No such user (in reply to RCPT TO command))" % (q, rcpt))
        line("bounce", 5602, "%s: sender non-delivery notification: %s" % (q, qid()))
    else:
        line("smtp", 5591, "%s: to=<%s>, relay=mx.dest.example[192.0.2.10]:25, delay=0.23, "
             "delays=0.11/0.1/0.01/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)"
             % (q, rcpt, qid()))
    line("qmgr", 5574, "%s: removed" % q)
