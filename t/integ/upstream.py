#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An upstream SMTP relay for relaykit's tests: STARTTLS required before
AUTH, AUTH (PLAIN, LOGIN) required before MAIL, one user.

usage: upstream.py PORT OUTDIR CERT KEY USER PASSWORD
Messages are stored as OUTDIR/N.eml with OUTDIR/N.env like sink.py.
"""
import asyncio
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir, self.count = outdir, 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, "%d" % self.count)
        with open(base + ".env", "w") as f:
            f.write("MAIL FROM:<%s>\n" % envelope.mail_from)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as upstream%d" % self.count


def main():
    port, outdir, cert, key, user, password = sys.argv[1:7]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ctl = Controller(Handler(outdir), hostname="127.0.0.1", port=int(port),
                     tls_context=ctx, require_starttls=True,
                     authenticator=authenticator, auth_required=True,
                     auth_require_tls=True, server_hostname="upstream.test")
    ctl.start()
    print("ready", flush=True)
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
