#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Verifies every DKIM-Signature of a message with python3-dkim (dkimpy),
the public keys handed over in a file of "NAME TXT-VALUE" lines instead of
DNS.  Prints "ALG pass|fail d=D s=S" per signature; exits 0 only when
there is at least one signature and every one verifies.

    milter_verify.py KEYS.txt MESSAGE.eml
"""
import sys

import dkim


def main():
    keys = {}
    with open(sys.argv[1]) as f:
        for line in f:
            name, txt = line.rstrip("\n").split(" ", 1)
            keys[name.rstrip(".") + "."] = txt.encode()
    msg = open(sys.argv[2], "rb").read()

    def dnsfunc(name, timeout=5):
        return keys.get(name.decode() if isinstance(name, bytes) else name)

    d = dkim.DKIM(msg)
    sigs = [v for k, v in dkim.rfc822_parse(msg)[0]
            if k.lower() == b"dkim-signature"]
    allok = bool(sigs)
    for i, sig in enumerate(sigs):
        tags = dkim.util.parse_tag_value(sig)
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except Exception as e:  # a verifier error is a failure
            print("# error: %s" % e)
            ok = False
        allok &= bool(ok)
        print("%s %s d=%s s=%s" % (tags.get(b"a", b"?").decode(),
                                   "pass" if ok else "fail",
                                   tags.get(b"d", b"?").decode(),
                                   tags.get(b"s", b"?").decode()))
    sys.exit(0 if allok else 1)


main()
