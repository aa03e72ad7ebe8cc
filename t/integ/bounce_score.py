# SPDX-License-Identifier: MIT
"""Scores relaykit-bounce --parse output against the bounce corpus.

usage: bounce_score.py CORPUS_DIR PARSE_OUTPUT.jsonl [--quiet]

Scoring follows the corpus README: rows are matched per file by
recipient (case-insensitive; recipient_alt also accepted where the two
sisimai implementations differ; a row whose recipient is empty matches
any record of its file).  A matched row agrees when the status is equal,
scored only where sisimai's status is a real code and not one of its
X.0.9NN pseudo codes, or else when the reason is equal (reason_alt and
status_alt are accepted on disputed rows).  Prints per-file
disagreements and one summary line per class, and a final line
"score TOTAL_PCT CLASS=PCT..." that the test reads.
"""
import collections
import csv
import json
import re
import sys


def pseudo(status):
    return bool(re.match(r"^\d\.0\.9\d\d$", status or ""))


def load_expected(corpus):
    rows = []
    with open(f"{corpus}/expected.tsv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
    return rows


def load_output(path):
    recs = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            name = o["file"].rsplit("/", 1)[-1]
            recs[name].append(o)
    return recs


def row_class(name):
    for c in ("rfc3464", "arf", "lhost-postfix"):
        if name.startswith(c + "-"):
            return c
    return "other"


def match(row, records):
    want = (row["recipient"] or "").lower()
    alts = {want}
    if row["recipient_alt"]:
        alts.add(row["recipient_alt"].lower())
    for o in records:
        got = (o.get("recipient") or "").lower()
        if not want or got in alts:
            return o
    return None


def agrees(row, o):
    statuses = {row["status"]} | ({row["status_alt"]} if row["status_alt"] else set())
    reasons = {row["reason"]} | ({row["reason_alt"]} if row["reason_alt"] else set())
    if any(s and not pseudo(s) and o.get("status") == s for s in statuses):
        return True
    return o.get("reason") in reasons


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    quiet = "--quiet" in sys.argv
    rows = load_expected(corpus)
    recs = load_output(out)
    total = collections.Counter()
    good = collections.Counter()
    reason_good = 0
    bad_files = collections.defaultdict(list)
    for row in rows:
        cls = row_class(row["file"])
        total[cls] += 1
        o = match(row, recs.get(row["file"], []))
        if o is not None and agrees(row, o):
            good[cls] += 1
            if o.get("reason") == row["reason"] or o.get("reason") == row["reason_alt"]:
                reason_good += 1
            continue
        got = ("no record" if o is None else
               f"status={o.get('status')} reason={o.get('reason')}")
        have = ",".join(sorted({(r.get('recipient') or '') for r in recs.get(row['file'], [])}))
        bad_files[row["file"]].append(
            f"want {row['recipient'] or '(any)'} status={row['status']} "
            f"reason={row['reason']}; got {got} [records: {have}]")
    negatives = [l.strip() for l in open(f"{corpus}/negatives.txt") if l.strip()]
    neg_bad = [n for n in negatives if recs.get(n)]
    for f in sorted(bad_files):
        for d in bad_files[f]:
            if not quiet:
                print(f"# disagree {f}: {d}")
    for n in neg_bad:
        print(f"# not a bounce, yet records: {n}")
    n_all, g_all = sum(total.values()), sum(good.values())
    parts = []
    for cls in sorted(total):
        parts.append(f"{cls}={100.0 * good[cls] / total[cls]:.2f}")
        print(f"# {cls}: {good[cls]}/{total[cls]} rows agree")
    print(f"# all: {g_all}/{n_all} rows agree; reason equal on {reason_good}")
    print(f"# negatives with records: {len(neg_bad)}")
    print(f"score {100.0 * g_all / n_all:.2f} negatives={len(neg_bad)} " + " ".join(parts))


if __name__ == "__main__":
    main()
