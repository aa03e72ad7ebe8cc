// SPDX-License-Identifier: MIT
// Compiles helm/values.schema.json with ajv in strict mode (draft-07,
// union types allowed, as Helm's schemas use them) and validates value
// files against it: one node start for all of them, where ajv-cli would
// take one per file.  Each file is laid over DEFAULTS (the chart's
// values.yaml) as Helm does before it checks the schema: maps merge, any
// other value replaces, null removes the key.  Prints "compiled strict" or
// the compile error (exit 2), then per file "valid FILE" or
// "invalid FILE: ERRORS".
//
//   node chart_ajv.js NODE_MODULES SCHEMA.json DEFAULTS.yaml VALUES.yaml...
"use strict";
const fs = require("fs");
const path = require("path");
const modules = process.argv[2];
const Ajv = require(path.join(modules, "ajv"));
const yaml = require(path.join(modules, "js-yaml"));

let validate;
try {
	const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
	validate = ajv.compile(JSON.parse(fs.readFileSync(process.argv[3], "utf8")));
	console.log("compiled strict");
} catch (e) {
	console.log(`compile error: ${e.message}`);
	process.exit(2);
}
function isMap(x) {
	return x !== null && typeof x === "object" && !Array.isArray(x);
}
function over(base, top) {
	const out = { ...base };
	for (const [k, v] of Object.entries(top)) {
		if (v === null) delete out[k];
		else if (isMap(v) && isMap(out[k])) out[k] = over(out[k], v);
		else out[k] = v;
	}
	return out;
}
const defaults = yaml.load(fs.readFileSync(process.argv[4], "utf8")) || {};
for (const f of process.argv.slice(5)) {
	const v = over(defaults, yaml.load(fs.readFileSync(f, "utf8")) || {});
	if (validate(v)) {
		console.log(`valid ${f}`);
	} else {
		const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
		console.log(`invalid ${f}: ${why}`);
	}
}
