#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the edge-case messages the milter signing tests send, From a
given domain, one file per case into DIR (name = case), each carrying an
X-Case header so the captured copy can be matched to its case.

    milter_msgs.py DOMAIN DIR [CORPUS_FILE...]
"""
import base64
import os
import random
import re
import sys


def msg(case, dom, headers, body, final_crlf=True):
    h = ["From: Joe Sender <joe@%s>" % dom, "To: user@example.org",
         "Subject: %s" % case, "X-Case: %s" % case] + headers
    text = "\r\n".join(h) + "\r\n\r\n" + body
    if final_crlf and body and not body.endswith("\r\n"):
        text += "\r\n"
    return text.encode("utf-8") if isinstance(text, str) else text


def cases(dom):
    long_subject = "Subject-X: " + " ".join("word%03d" % i for i in range(300))
    folded = long_subject[:70] + "\r\n\t" + long_subject[70:400] + \
        "\r\n        " + long_subject[400:]
    many_to = "Cc: " + ",\r\n  ".join("user%02d@example.org" % i
                                      for i in range(40))
    rnd = random.Random(7)
    att = base64.encodebytes(rnd.randbytes(10 * 1024 * 1024))
    att = att.decode().replace("\n", "\r\n")
    mime = ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
            "boundary=\"b1\"")
    return {
        "plain": msg("plain", dom, [], "Hello.\r\n"),
        "long-folded-headers": msg("long-folded-headers", dom,
                                   [folded, many_to, "References: " +
                                    "\r\n ".join("<id%d@example.org>" % i
                                                 for i in range(60))],
                                   "Body.\r\n"),
        "utf8": msg("utf8", dom,
                    ["Subject: Gr\u00fc\u00dfe aus K\u00f6ln \u2014 "
                     "\u65e5\u672c\u8a9e", "Content-Type: text/plain; "
                     "charset=utf-8", "Content-Transfer-Encoding: 8bit",
                     "MIME-Version: 1.0"],
                    "Sch\u00f6ne Gr\u00fc\u00dfe \u2603\r\n\u00e9t\u00e9 "
                    " \t \r\n"),
        "empty-body": msg("empty-body", dom, [], ""),
        "no-final-crlf": msg("no-final-crlf", dom, [], "last line",
                             final_crlf=False),
        "trailing-space": msg("trailing-space", dom, [],
                              "a  \t\r\n\r\n  b \r\n \r\n\r\n\t\r\n\r\n"),
        "duplicate-headers": msg("duplicate-headers", dom,
                                 ["Subject: second subject", "To: b@example.org",
                                  "Reply-To: r1@example.org",
                                  "Reply-To: r2@example.org",
                                  "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000",
                                  "Received: from c by d; Mon, 1 Jan 2024 00:00:00 +0000"],
                                 "dup\r\n"),
        "attachment-10mb": msg("attachment-10mb", dom, [mime],
                               "--b1\r\nContent-Type: text/plain\r\n\r\n"
                               "See attached.\r\n--b1\r\nContent-Type: "
                               "application/octet-stream\r\n"
                               "Content-Transfer-Encoding: base64\r\n\r\n" +
                               att + "--b1--\r\n"),
    }


def from_corpus(path, dom):
    """A real-world message with its From replaced by one of ours and
    foreign DKIM-Signature fields dropped (their keys are not ours)."""
    raw = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    fields, cur = [], []
    for line in lines:
        if line[:1] in (b" ", b"\t") and cur:
            cur.append(line)
        else:
            if cur:
                fields.append(cur)
            cur = [line]
    if cur:
        fields.append(cur)
    name = os.path.basename(path)[:-4]
    keep = [f for f in fields
            if not re.match(rb"(?i)(from|dkim-signature|x-case)\s*:", f[0])]
    out = [b"From: Corpus <corpus@" + dom.encode() + b">",
           b"X-Case: corpus-" + name.encode()]
    for f in keep:
        out.extend(f)
    return "corpus-" + name, (b"\r\n".join(out) + b"\r\n\r\n" +
                              body.replace(b"\n", b"\r\n"))


def main():
    dom, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for name, data in cases(dom).items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    for path in sys.argv[3:]:
        name, data = from_corpus(path, dom)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


main()
