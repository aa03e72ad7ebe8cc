# SPDX-License-Identifier: MIT
"""A local stand-in for the Cloudflare API v4 DNS endpoints dnsctl uses.

Cloudflare is paid and remote, so it is the one service the tests fake.
The fake follows the documented API (see the project's dns-notes): the
response envelope {success, errors, messages, result, result_info}, page
and per_page with result_info.total_pages, bearer tokens (6003/6111 for a
malformed header, 9109 for an unknown token), 81058 for an identical
record, 81044 for a missing one, 7003/7000 for a bad route, the batch
endpoint as one transaction (deletes, patches, puts, posts), and 429 with
retry-after.

usage: dnsctl_cf_fake.py PORT STATE.json LOG [options]
  STATE.json: {"token": T, "zones": [{"id", "name", "records": [...]}]};
  rewritten after every change, so the test reads the zone from it.
  --max-per-page N   the largest page (default 5000)
  --fail-429 N       the Nth request (1-based) answers 429, retry-after: 1
  --fail-502 N       the Nth request answers 502
  --no-batch         the batch endpoint does not exist (404, 7000)
  --hide NAME        listings leave out records of NAME (another writer)
Every request is logged as "METHOD PATH?QUERY STATUS" in LOG.
"""
import argparse
import copy
import datetime
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BASE = "/client/v4"
LOCK = threading.Lock()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


class ApiError(Exception):
    def __init__(self, status, code, message, chain=None):
        super().__init__(message)
        self.status, self.code, self.message, self.chain = (
            status, code, message, chain)


def envelope(result, info=None):
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    return body


class Api:
    def __init__(self, args):
        self.args = args
        with open(args.state) as f:
            self.state = json.load(f)
        self.requests = 0

    def save(self):
        with open(self.args.state + ".tmp", "w") as f:
            json.dump(self.state, f, indent=1)
        import os
        os.replace(self.args.state + ".tmp", self.args.state)

    def zone(self, zid):
        for z in self.state["zones"]:
            if z["id"] == zid:
                return z
        raise ApiError(404, 7003, "Could not route to /zones/%s/dns_records,"
                       " perhaps your object identifier is invalid?" % zid,
                       [{"code": 7000, "message": "No route for that URI"}])

    # -------------------------------------------------------- records
    def check_record(self, zone, rec, records, skip_id=None):
        for k in ("type", "name", "content"):
            if not isinstance(rec.get(k), str) or not rec[k]:
                raise ApiError(400, 9005 if k == "content" else 9000,
                               "DNS record %s is required" % k)
        ttl = rec.get("ttl", 1)
        if not isinstance(ttl, int) or not (ttl == 1 or 60 <= ttl <= 86400):
            raise ApiError(400, 9021, "Invalid TTL. Must be between 60 and "
                           "86400 seconds, or 1 for Automatic.")
        name = rec["name"].rstrip(".").lower()
        if name != zone["name"] and not name.endswith("." + zone["name"]):
            raise ApiError(400, 9007, "Content for record is invalid. "
                           "Name must be in the zone.")
        if rec["type"] == "MX" and not isinstance(rec.get("priority"), int):
            raise ApiError(400, 9100, "MX records require a priority.")
        if rec["type"] == "TXT" and len(rec["content"]) > 4096:
            raise ApiError(400, 9004, "content too long")
        for r in records:
            if r["id"] == skip_id:
                continue
            if (r["type"], r["name"], r["content"], r.get("priority")) == (
                    rec["type"], name, rec["content"], rec.get("priority")):
                raise ApiError(400, 81058,
                               "An identical record already exists.")
        return name

    def make_record(self, zone, rec, records):
        name = self.check_record(zone, rec, records)
        r = {"id": uuid.uuid4().hex, "zone_id": zone["id"],
             "zone_name": zone["name"], "name": name, "type": rec["type"],
             "content": rec["content"], "proxiable": rec["type"] in (
                 "A", "AAAA", "CNAME"),
             "proxied": bool(rec.get("proxied", False)),
             "ttl": rec.get("ttl", 1), "settings": {}, "meta": {},
             "comment": rec.get("comment"), "tags": rec.get("tags", []),
             "created_on": now(), "modified_on": now()}
        if rec["type"] == "MX":
            r["priority"] = rec["priority"]
        return r

    def find(self, records, rid):
        for r in records:
            if r["id"] == rid:
                return r
        raise ApiError(404, 81044, "Record does not exist.")

    def patch(self, zone, records, rid, fields, full):
        r = self.find(records, rid)
        new = ({"type": r["type"], "name": r["name"]} if full else dict(r))
        new.update({k: v for k, v in fields.items() if k != "id"})
        name = self.check_record(zone, new, records, skip_id=rid)
        r.update({k: v for k, v in new.items()
                  if k in ("type", "content", "ttl", "proxied", "priority",
                           "comment", "tags")})
        r["name"] = name
        r["modified_on"] = now()
        return r

    # ------------------------------------------------------ endpoints
    def list_zones(self, q):
        zones = [{"id": z["id"], "name": z["name"], "status": "active"}
                 for z in self.state["zones"]
                 if "name" not in q or z["name"] == q["name"][0]]
        return envelope(zones, {"page": 1, "per_page": 20,
                                "count": len(zones),
                                "total_count": len(zones),
                                "total_pages": 1})

    def list_records(self, zone, q):
        recs = [r for r in zone["records"]
                if r["name"] not in self.args.hide
                and ("type" not in q or r["type"] == q["type"][0])
                and ("name" not in q or r["name"] == q["name"][0])]
        per = int(q.get("per_page", ["100"])[0])
        per = max(1, min(per, self.args.max_per_page))
        page = max(1, int(q.get("page", ["1"])[0]))
        pages = max(1, (len(recs) + per - 1) // per)
        chunk = recs[(page - 1) * per:page * per]
        return envelope(chunk, {"page": page, "per_page": per,
                                "count": len(chunk), "total_count": len(recs),
                                "total_pages": pages})

    def batch(self, zone, body):
        if self.args.no_batch:
            raise ApiError(404, 7000, "No route for that URI")
        records = copy.deepcopy(zone["records"])
        out = {"deletes": [], "patches": [], "puts": [], "posts": []}
        for d in body.get("deletes") or []:
            r = self.find(records, d.get("id"))
            records.remove(r)
            out["deletes"].append(r)
        for p in body.get("patches") or []:
            out["patches"].append(self.patch(zone, records, p.get("id"), p,
                                             False))
        for p in body.get("puts") or []:
            out["puts"].append(self.patch(zone, records, p.get("id"), p,
                                          True))
        for p in body.get("posts") or []:
            r = self.make_record(zone, p, records)
            records.append(r)
            out["posts"].append(r)
        zone["records"] = records  # the transaction commits
        return envelope(out)

    def route(self, method, path, q, body):
        if path == BASE + "/zones" and method == "GET":
            return self.list_zones(q)
        m = re.fullmatch(BASE + r"/zones/([^/]+)/dns_records(?:/([^/]+))?",
                         path)
        if not m:
            raise ApiError(404, 7000, "No route for that URI")
        zone, rid = self.zone(m.group(1)), m.group(2)
        if rid is None and method == "GET":
            return self.list_records(zone, q)
        if rid is None and method == "POST":
            r = self.make_record(zone, body, zone["records"])
            zone["records"].append(r)
            return envelope(r)
        if rid == "batch" and method == "POST":
            return self.batch(zone, body)
        if rid is not None and method == "GET":
            return envelope(self.find(zone["records"], rid))
        if rid is not None and method in ("PATCH", "PUT"):
            return envelope(self.patch(zone, zone["records"], rid, body,
                                       method == "PUT"))
        if rid is not None and method == "DELETE":
            zone["records"].remove(self.find(zone["records"], rid))
            return envelope({"id": rid})
        raise ApiError(405, 10405, "Method not allowed")

    def auth(self, header):
        if header is None or not header.startswith("Bearer ") or \
                not header[7:].strip():
            raise ApiError(400, 6003, "Invalid request headers",
                           [{"code": 6111, "message":
                             "Invalid format for Authorization header"}])
        if header[7:] != self.state["token"]:
            raise ApiError(403, 9109, "Invalid access token")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Ratelimit", '"default";r=1199;t=300')
        self.send_header("Ratelimit-Policy", '"burst";q=1200;w=300')
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        api = self.server.api
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with LOCK:
            api.requests += 1
            n = api.requests
            status, body, headers = self.answer(api, n, url, raw)
            with open(api.args.log, "a") as f:
                f.write("%s %s%s %d\n" % (self.command, url.path,
                                          "?" + url.query if url.query
                                          else "", status))
        self.reply(status, body, headers)

    def answer(self, api, n, url, raw):
        fail = {"success": False, "messages": [], "result": None}
        if n == api.args.fail_429:
            return 429, dict(fail, errors=[{
                "code": 971, "message": "Please wait and consider "
                "throttling your request speed"}]), [("Retry-After", "1")]
        if n == api.args.fail_502:
            return 502, dict(fail, errors=[{"code": 502,
                                            "message": "Bad gateway"}]), []
        try:
            api.auth(self.headers.get("Authorization"))
            body = json.loads(raw) if raw else {}
            before = json.dumps(api.state)
            out = api.route(self.command, url.path, parse_qs(url.query),
                            body)
            if json.dumps(api.state) != before:
                api.save()
            return 200, out, []
        except ApiError as e:
            err = {"code": e.code, "message": e.message}
            if e.chain:
                err["error_chain"] = e.chain
            return e.status, dict(fail, errors=[err]), []
        except (ValueError, KeyError, TypeError) as e:
            return 400, dict(fail, errors=[{"code": 9207, "message":
                                            "Request body is invalid: %s"
                                            % e}]), []

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("state")
    p.add_argument("log")
    p.add_argument("--max-per-page", type=int, default=5000)
    p.add_argument("--fail-429", type=int, default=0)
    p.add_argument("--fail-502", type=int, default=0)
    p.add_argument("--no-batch", action="store_true")
    p.add_argument("--hide", action="append", default=[])
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.api = Api(args)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
