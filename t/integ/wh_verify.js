// SPDX-License-Identifier: MIT
// Checks the webhooks wh_receiver.py recorded with the reference
// Standard Webhooks library (npm "standardwebhooks"): every request's
// webhook-signature verifies with SECRET over its body, webhook-id and
// webhook-timestamp, and the id in the body is the webhook-id.
// usage: node wh_verify.js MODULE_DIR SECRET RECORDS.jsonl [PATH]
// Prints "verified N, bad M" and exits 1 when M > 0 or N == 0.
"use strict";
const fs = require("fs");
const path = require("path");
const { Webhook } = require(path.join(process.argv[2], "standardwebhooks"));

const wh = new Webhook(process.argv[3]);
const only = process.argv[5];
let good = 0, bad = 0;
for (const line of fs.readFileSync(process.argv[4], "utf8").split("\n")) {
	if (line === "")
		continue;
	const r = JSON.parse(line);
	if (only && r.path !== only)
		continue;
	try {
		const ev = wh.verify(r.body, r.headers);
		if (ev.id !== r.headers["webhook-id"])
			throw new Error("body id " + ev.id + " is not the webhook-id");
		good++;
	} catch (e) {
		bad++;
		if (bad <= 5)
			console.log("# " + r.path + " " + r.headers["webhook-id"] + ": " + e.message);
	}
}
console.log("verified " + good + ", bad " + bad);
process.exit(bad > 0 || good === 0 ? 1 : 0);
