#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes helm/values.schema.json.

The relaykit sections come from relaykit.yaml(5), whose entries are the
configuration schema itself (t/unit/cfg_doc_test keeps both equal): every
key relaykit knows, with its kind, bounds and choices, and nothing else, so
a misspelt key fails at `helm install` as it would in relaykit.  The
chart's own keys are described below.

    helm/schema.py [MAN-PAGE] > helm/values.schema.json
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "man", "relaykit.yaml.5")
SECTIONS = ["mail", "dkim", "senderValidation", "auth", "rateLimit",
            "adaptiveRate", "inbound", "webhooks", "dns", "redis", "metrics",
            "dashboard", "milter", "policyd", "eventd", "log", "daemon"]


def entries(text):
    """(path, first lines of the description) for each .TP/.B entry."""
    lines = text.split("\n")
    for i in range(len(lines) - 1):
        if lines[i] == ".TP" and lines[i + 1].startswith(".B "):
            path = lines[i + 1][3:].strip()
            desc = []
            for line in lines[i + 2:i + 14]:
                if line in (".TP", ".SS") or line.startswith(".SH"):
                    break
                desc.append(line)
            yield path, desc


def words(desc):
    """The description's words, troff fonts and escapes removed."""
    out = []
    for line in desc:
        if line.startswith(".\\\""):
            continue
        line = re.sub(r"^\.(B|I|BR|IR|RB|BI|IB)\s+", "", line)
        line = line.replace("\\-", "-").replace("\\(dq", '"')
        line = re.sub(r"\\f[BIRP]", "", line).replace("\\", "")
        out.append(line)
    return " ".join(out)


def kind(path, desc):
    """A JSON schema for one leaf key."""
    text = words(desc)
    first = text.split(";")[0].strip()
    low = first.lower()
    if low.startswith("boolean"):
        return {"type": "boolean"}
    if low.startswith("choice of"):
        m = re.match(r"Choice of (.*)", first)
        choices = [c.strip(' ,"') for c in re.split(r"[ ,]+", m.group(1))
                   if c.strip(' ,"') and c.strip(' ,"') != "or"]
        if choices:
            return {"type": "string", "enum": choices}
        return {"type": "string"}
    if low.startswith("integer") and "one of" not in low:
        s = {"type": "integer"}
        m = re.search(r"(-?\d+)\.\.(-?\d+)", first)
        if m:
            s["minimum"], s["maximum"] = int(m.group(1)), int(m.group(2))
        return s
    if low.startswith("integer"):
        return {"type": "integer",
                "enum": [int(x) for x in re.findall(r"\d{3,}", first)]}
    if low.startswith("number"):
        return {"type": "number"}
    if low.startswith("duration") and "bare number" not in low:
        # "30s": relaykit refuses a bare number, except where the manual
        # names its unit
        return {"type": "string"}
    if low.startswith("duration") or low.startswith("size"):
        # "30s", "25M", or a bare number where relaykit takes one
        return {"type": ["string", "integer"]}
    if low.startswith("comma list"):
        return {"type": ["array", "string"]}
    if low.startswith("list"):
        return {"type": ["array", "string"]}
    if low.startswith("map"):
        return {"type": "object"}
    return {"type": "string"}


def put(tree, parts, leaf):
    """Adds path parts (with [] and * steps) to a schema tree."""
    node = tree
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.endswith("[]"):
            name = part[:-2]
            props = node.setdefault("properties", {})
            arr = props.setdefault(name, {"type": "array", "items": {
                "type": "object", "additionalProperties": False}})
            node = arr["items"]
            continue
        if part == "*":
            if not isinstance(node.get("additionalProperties"), dict):
                node["additionalProperties"] = {
                    "type": ["object", "null"], "additionalProperties": False}
            node.pop("properties", None) if not node.get("properties") else None
            node = node["additionalProperties"]
            continue
        props = node.setdefault("properties", {})
        if last:
            old = props.get(part, {})
            if old.get("properties") or isinstance(
                    old.get("additionalProperties"), dict):
                continue
            props[part] = leaf
        else:
            cur = props.get(part)
            if cur is None or not (cur.get("properties") or isinstance(
                    cur.get("additionalProperties"), dict)):
                # a map given as a leaf first ("Map of ...") gets its keys
                props[part] = {"type": ["object", "null"],
                               "additionalProperties": False}
            node = props[part]


def relaykit_sections():
    tree = {}
    for path, desc in entries(open(MAN, encoding="utf-8").read()):
        parts = path.split(".")
        if parts[0] not in SECTIONS:
            continue
        put(tree, parts, kind(path, desc))
    return tree.get("properties", {})


def secret_ref(what):
    return {"type": "string",
            "description": "A Secret (chart): " + what}


def chart_keys(props):
    """The chart's keys inside relaykit sections, and its own sections."""
    p = props
    p["dkim"]["properties"]["existingSecret"] = secret_ref(
        "keys named DOMAIN.SELECTOR.pem")
    p["auth"]["properties"]["existingSecret"] = secret_ref("key users")
    relay = p["mail"]["properties"]["relay"]["properties"]["auth"]
    relay["properties"]["existingSecret"] = secret_ref("key password")
    bounce = p["inbound"]["properties"]["bounce"]
    bounce["properties"]["existingSecret"] = secret_ref("key hmacSecret")
    ep = p["webhooks"]["properties"]["endpoints"]["items"]
    ep["properties"]["existingSecret"] = secret_ref("key secret")
    dns = p["dns"]["properties"]
    dns["cloudflare"]["properties"]["existingSecret"] = secret_ref(
        "key apiToken")
    dns["rfc2136"]["properties"]["existingSecret"] = secret_ref(
        "key tsigSecret")
    p["redis"]["properties"]["existingSecret"] = secret_ref("key password")
    p["redis"]["properties"]["sentinelExistingSecret"] = secret_ref(
        "key password, the sentinels' own")
    p["dashboard"]["properties"]["auth"]["properties"]["existingSecret"] = \
        secret_ref("key password")
    p["redis"]["properties"]["bundled"] = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "enabled": {"type": "boolean"},
            "image": {"type": "string", "minLength": 1},
            "bind": {"type": "string", "minLength": 1},
            "resources": {"type": "object"},
            "persistence": {"type": "object", "additionalProperties": False,
                            "properties": {
                                "enabled": {"type": "boolean"},
                                "size": {"type": "string"},
                                "storageClass": {"type": "string"}}}}}
    # a domain may be written as its bare name
    dom = p["mail"]["properties"]["domains"]["items"]
    dom["type"] = ["object", "string"]
    dom["required"] = ["name"]


def cidr():
    return {"type": "string",
            "pattern": r"^[0-9a-fA-F:.]+(/[0-9]{1,3})?$"}


def pvc(extra=None):
    s = {"type": "object", "additionalProperties": False, "properties": {
        "enabled": {"type": "boolean"},
        "size": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"},
        "storageClass": {"type": "string"},
        "accessModes": {"type": "array", "minItems": 1, "items": {
            "enum": ["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod",
                     "ReadOnlyMany"]}},
        "existingClaim": {"type": "string"}}}
    return s


def main():
    props = relaykit_sections()
    chart_keys(props)
    obj = {"type": "object"}
    port = {"type": "integer", "minimum": 1, "maximum": 65535}
    props.update({
        "image": {"type": "object", "additionalProperties": False,
                  "required": ["repository"], "properties": {
                      "repository": {"type": "string", "minLength": 1},
                      "tag": {"type": "string"},
                      "pullPolicy": {"enum": ["Always", "IfNotPresent",
                                             "Never"]}}},
        "imagePullSecrets": {"type": "array"},
        "nameOverride": {"type": "string"},
        "fullnameOverride": {"type": "string"},
        "controller": {"enum": ["Deployment", "StatefulSet"]},
        "replicaCount": {"type": "integer", "minimum": 0},
        "hostNetwork": {"type": "boolean"},
        "terminationGracePeriodSeconds": {"type": "integer", "minimum": 1},
        "podAnnotations": obj, "podLabels": obj, "nodeSelector": obj,
        "tolerations": {"type": "array"}, "affinity": obj,
        "priorityClassName": {"type": "string"},
        "postfix": {"type": "object", "additionalProperties": False,
                    "properties": {
                        "smtpListen": {"type": ["string", "integer"],
                                       "pattern": r"^(smtp|([0-9.]+:|\[[0-9a-fA-F:]+\]:)?[0-9]+)$"},
                        "extraConfig": {"type": "array", "items": {
                            "type": "string", "pattern": "^-"}},
                        "capabilities": {"type": "array", "items": {
                            "type": "string", "pattern": "^[A-Z_]+$"}},
                        "resources": obj}},
        "sidecars": {"type": "object", "additionalProperties": False,
                     "properties": {"resources": obj,
                                    "runAsUser": {"type": "integer",
                                                  "minimum": 1},
                                    "postfixGid": {"type": "integer",
                                                   "minimum": 1}}},
        "services": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["port"], "properties": {
                "name": {"type": "string",
                         "pattern": "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"},
                "type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                "port": port, "targetPort": port, "nodePort": port,
                "proxyProtocol": {"type": "boolean"},
                "externalTrafficPolicy": {"enum": ["Cluster", "Local"]},
                "loadBalancerClass": {"type": "string"},
                "loadBalancerSourceRanges": {"type": "array",
                                             "items": cidr()},
                "annotations": obj}}},
        "networkPolicy": {"type": "object", "additionalProperties": False,
                          "properties": {
                              "enabled": {"type": "boolean"},
                              "allowedCidrs": {"type": "array",
                                               "items": cidr()},
                              "metricsFrom": {"type": "array"},
                              "smtpPorts": {"type": "array", "items": port},
                              "extraEgress": {"type": "array"}}},
        "podDisruptionBudget": {"type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "enabled": {"type": "boolean"},
                                    "minAvailable": {"type": ["integer",
                                                              "string"]}}},
        "persistence": {"type": "object", "additionalProperties": False,
                        "properties": {"queue": pvc(), "dkim": pvc()}},
        "extraVolumes": {"type": "array"},
        "extraVolumeMounts": {"type": "array"},
    })
    # the chart's values are objects where relaykit allows null
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "relaykit chart values (generated by helm/schema.py)",
        "type": "object",
        "additionalProperties": False,
        "required": ["image", "mail", "services"],
        "properties": props,
    }
    props["mail"]["required"] = ["hostname", "domains"]
    json.dump(schema, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
