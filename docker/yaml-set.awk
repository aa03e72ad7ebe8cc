# SPDX-License-Identifier: MIT
# docker/yaml-set.awk: sets one key of a block-style YAML file, keeping
# every other line (comments included) as it is.  The image's entrypoint
# uses it to lay environment variables over a mounted relaykit.yaml.
#
#   awk -v path=mail.relay.host -v value='"smtp.example.net"' \
#       [-v mode=default] -f yaml-set.awk FILE > NEW
#
# path: keys separated by dots (mappings only, never into a list).
# value: the new value, one line of YAML (a scalar or a flow list/map).
# mode=set (default) replaces the key's value wherever it is, or adds the
# key (and missing parents) at the end of its parent; mode=default only
# adds it when it is absent.  A parent written in flow style
# ("mail: {hostname: x}") or holding a scalar cannot be descended into:
# exit 2 with a message on standard error, the file is not printed.
function indent_of(s) {
	match(s, /^ */)
	return RLENGTH
}
function blank(s) {
	return s ~ /^[ \t]*(#.*)?$/ || s ~ /^(---|\.\.\.)[ \t]*$/
}
# The key of a mapping line ("  key: v" -> "key"), or "" for other lines.
function key_of(s,    k) {
	sub(/^ */, "", s)
	if (s ~ /^-( |$)/)
		return ""
	if (match(s, /^"[^"]*"[ \t]*:( |$)/) || match(s, /^'[^']*'[ \t]*:( |$)/)) {
		k = substr(s, 2, RLENGTH)
		sub(/["'][ \t]*:( )?$/, "", k)
		return k
	}
	if (match(s, /^[^:#"'{}\[\], \t][^:#]*:( |$)/)) {
		k = substr(s, 1, RLENGTH)
		sub(/[ \t]*:( )?$/, "", k)
		return k
	}
	return ""
}
# What follows "key:" on its line, without a trailing comment.
function inline_of(s) {
	sub(/^[^:]*:[ \t]*/, "", s)
	sub(/[ \t]+#.*$/, "", s)
	if (s ~ /^#/)
		s = ""
	return s
}
# The last line of the block of the key on line k (at indentation ind).
function block_end(k, ind, hi,    j, e) {
	e = k
	for (j = k + 1; j <= hi; j++) {
		if (blank(L[j]))
			continue
		if (indent_of(L[j]) < ind)
			break
		if (indent_of(L[j]) == ind && L[j] !~ /^ *-( |$)/)
			break
		e = j
	}
	return e
}
function sp(n,    s) {
	s = ""
	while (n-- > 0)
		s = s " "
	return s
}
function fail(msg) {
	printf "yaml-set: %s: %s\n", path, msg > "/dev/stderr"
	failed = 1
	exit 2
}
BEGIN {
	if (mode == "")
		mode = "set"
	n = split(path, P, ".")
}
{ L[NR] = $0 }
END {
	if (failed)
		exit 2
	lo = 1; hi = NR; pind = -1; parent = 0
	for (d = 1; d <= n; d++) {
		found = 0; cind = -1
		for (i = lo; i <= hi; i++) {
			if (blank(L[i]))
				continue
			if (cind < 0)
				cind = indent_of(L[i])
			if (indent_of(L[i]) != cind)
				continue
			if (key_of(L[i]) == P[d]) {
				found = i
				break
			}
		}
		if (!found)
			break
		e = block_end(found, cind, hi)
		if (d == n)
			break
		v = inline_of(L[found])
		if (v != "" && v != "~" && v != "null" && v != "{}")
			fail(P[d] " holds " (v ~ /^\{/ ? "a flow-style mapping" : "a value") \
			    " on its line; write it in block style to combine it with environment variables")
		if (v != "") # "key: {}" or "key: ~": an empty mapping to fill
			L[found] = sp(cind) P[d] ":"
		parent = found; pind = cind; lo = found + 1; hi = e
	}
	if (found && mode == "default") {
		for (i = 1; i <= NR; i++)
			print L[i]
		exit 0
	}
	if (found) {
		# replace the key's line and its nested lines
		for (i = 1; i < found; i++)
			print L[i]
		print sp(cind) P[n] ": " value
		for (i = e + 1; i <= NR; i++)
			print L[i]
		exit 0
	}
	# add P[d..n] after the block of the deepest parent found (or at the end)
	at = parent ? hi : NR
	ind = cind >= 0 && lo <= hi ? cind : (parent ? pind + 2 : 0)
	for (i = 1; i <= at; i++)
		print L[i]
	for (k = d; k <= n; k++) {
		if (k < n)
			print sp(ind) P[k] ":"
		else
			print sp(ind) P[k] ": " value
		ind += 2
	}
	for (i = at + 1; i <= NR; i++)
		print L[i]
}
