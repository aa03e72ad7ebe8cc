#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A capturing SMTP sink for relaykit's integration tests.

Listens on 127.0.0.1:PORT and stands in for the internet: every message is
stored byte for byte as DIR/N.eml, with its envelope in DIR/N.env
("MAIL FROM:<...>" then one "RCPT TO:<...>" line per recipient).  A
recipient whose local part starts with "defer" gets 451 4.7.1, one
starting with "reject" gets 550 5.1.1, and one starting with "grey" gets
421 4.7.28 (a provider's rate limiting) the first time it is tried and
250 afterwards, so tests can provoke deferrals, bounces and retries.
While DIR/throttle lists a domain (one per line), its recipients get
421-4.7.28 (a provider slowing a sender down).  Every RCPT is logged in
DIR/attempts.log as "TIME ADDRESS CODE".  Lines of any length are accepted (up to 1 MiB), as many real
receivers do, so a test sees exactly what the relay sent instead of the
sink refusing lines over 1000 octets.  Runs until killed.
"""
import asyncio
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

SMTP.line_length_limit = 1 << 20


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.tried = set()

    def throttled(self, address):
        try:
            with open(os.path.join(self.outdir, "throttle")) as f:
                domains = f.read().split()
        except OSError:
            return False
        return address.rsplit("@", 1)[-1].lower() in domains

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answer(envelope, address)
        with open(os.path.join(self.outdir, "attempts.log"), "a") as f:
            f.write("%.3f %s %s\n" % (time.time(), address, answer[:3]))
        return answer

    def answer(self, envelope, address):
        local = address.split("@", 1)[0].lower()
        if self.throttled(address):
            return ("421 4.7.28 [127.0.0.1] Our system has detected an "
                    "unusual rate of unsolicited mail (test sink)")
        if local.startswith("defer"):
            return "451 4.7.1 Try again later (test sink)"
        if local.startswith("reject"):
            return "550 5.1.1 No such user (test sink)"
        if local.startswith("grey") and address.lower() not in self.tried:
            self.tried.add(address.lower())
            return "421 4.7.28 Rate limited, try again later (test sink)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, "%d" % self.count)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".env", "w") as f:
            # aiosmtpd reports the null sender as "<>"
            sender = "" if envelope.mail_from == "<>" else envelope.mail_from
            f.write("MAIL FROM:<%s>\n" % sender)
            for r in envelope.rcpt_tos:
                f.write("RCPT TO:<%s>\n" % r)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as sink%d" % self.count


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    ctl = Controller(Handler(outdir), hostname="127.0.0.1", port=port,
                     decode_data=False, data_size_limit=64 << 20,
                     server_hostname="sink.test")
    ctl.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
