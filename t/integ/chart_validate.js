// SPDX-License-Identifier: MIT
// Validates every manifest of a `helm template` output offline against the
// Kubernetes API's own OpenAPI schemas (kubernetes-models), the Prometheus
// Operator's for ServiceMonitor, and external-dns's CRD for DNSEndpoint.
// Prints one line per object; exits 1 if any is invalid or unknown.
//
//   node chart_validate.js NODE_MODULES MANIFESTS.yaml
"use strict";
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");
const modules = process.argv[2];
const yaml = require(path.join(modules, "js-yaml"));

// the models are ES modules: imported by file, from the given folder
async function model(apiVersion, kind) {
	const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
	const dir = group === "monitoring.coreos.com"
		? path.join(modules, "@kubernetes-models/prometheus-operator", group, version)
		: group === "" ? path.join(modules, "kubernetes-models", version)
		: path.join(modules, "kubernetes-models", group, version);
	try {
		return (await import(pathToFileURL(path.join(dir, "index.js")).href))[kind];
	} catch (e) {
		return undefined;
	}
}

// external-dns's DNSEndpoint: the CRD's schema as relaykit-dnsctl's tests
// keep it (dnsctl_dnsendpoint.schema.json), compiled with ajv
const Ajv = require(path.join(modules, "ajv"));
const dnsEndpoint = new Ajv({ allErrors: true, strict: false }).compile(
	JSON.parse(fs.readFileSync(path.join(__dirname, "dnsctl_dnsendpoint.schema.json"), "utf8")));

async function main() {
let bad = 0;
const docs = yaml.loadAll(fs.readFileSync(process.argv[3], "utf8")).filter((d) => d);
for (const o of docs) {
	const name = `${o.kind}/${o.metadata && o.metadata.name}`;
	try {
		if (o.kind === "DNSEndpoint") {
			if (!dnsEndpoint(o))
				throw new Error(JSON.stringify(dnsEndpoint.errors));
		} else {
			const M = await model(o.apiVersion, o.kind);
			if (!M) throw new Error(`unknown ${o.apiVersion} ${o.kind}`);
			new M(o).validate();
		}
		console.log(`valid ${name}`);
	} catch (e) {
		bad++;
		console.log(`INVALID ${name}: ${String(e.message || e).slice(0, 600)}`);
	}
}
console.log(`${docs.length} objects, ${bad} invalid`);
process.exit(bad ? 1 : 0);
}
main();
