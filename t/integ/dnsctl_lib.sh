# SPDX-License-Identifier: MIT
# t/integ/dnsctl_lib.sh: what the relaykit-dnsctl tests share, on top of
# lib.sh: a real authoritative server on loopback (BIND or Knot) for a
# zone, with a TSIG key allowed to update it (and to transfer it, unless
# told not to), a DKIM key made by relaykit-keygen, and a runner.
#
#   . "$top_srcdir/t/integ/dnsctl_lib.sh"
#   bind_start example.test "$ZONE_RECORDS"     # or knot_start
#   dc -c "$T/rk.yaml" apply; is "$RC" 0 "applied"
#   is "$(q TXT _dmarc.example.test)" '"v=DMARC1; p=none"' "DMARC"

DC_SRC=$(cd "$top_srcdir" && pwd)
DC=$top_builddir/dnsctl/relaykit-dnsctl
KG=$top_builddir/keygen/relaykit-keygen
[ -x "$DC" ] || skip_all "$DC not built"
TSIG_NAME=ddns-key.example.test
TSIG_FILE=$T/tsig.secret

# dc ARGS...: runs dnsctl; stdout in $OUT, stderr in $ERR, status in $RC.
dc() {
	"$DC" "$@" >"$T/dc.out" 2>"$T/dc.err"
	RC=$?
	OUT=$(cat "$T/dc.out") ERR=$(cat "$T/dc.err")
	cat "$T/dc.out" "$T/dc.err" >>"$T/dc.all"
}

# vg ARGS...: dnsctl under valgrind (exit 99 on a memory error or leak);
# status in $RC.  VG_OK: valgrind runs here (not in an ASan build, where
# the sanitizers check instead).
VG_OK=1
command -v valgrind >/dev/null || VG_OK=""
grep -qa __asan_init "$DC" 2>/dev/null && VG_OK=""
vg() {
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 "$DC" "$@" >"$T/vg.out" 2>"$T/vg.err"
	RC=$?
	cat "$T/vg.out" "$T/vg.err" >>"$T/dc.all"
}

# q TYPE NAME: what the server answers, one record a line (dig +short).
q() { dig +short +norec +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$1" "$2" | sort; }

# dkim_key DOMAIN SELECTOR: an RSA key in $T/keys, made by relaykit-keygen.
dkim_key() {
	"$KG" -K "$T/keys" -d "$1" -s "$2" -f text >/dev/null 2>&1
}

# zone_file ZONE EXTRA...: a zone with SOA, NS and the extra lines.
zone_file() {
	local zone=$1; shift
	printf '$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. ( 1 3600 600 86400 300 )\n' \
		"$zone" "$zone"
	printf '  IN NS ns1.%s.\nns1 IN A 127.0.0.1\n' "$zone"
	for l in "$@"; do printf '%s\n' "$l"; done
}

# bind_start ZONE [transfer|notransfer] LINES...: named -g on a free port.
bind_start() {
	local zone=$1 xfer=$2 dir=$T/bind; shift 2
	need named tsig-keygen dig
	mkdir -p "$dir"
	DNS_PORT=$(free_port)
	tsig-keygen -a hmac-sha256 "$TSIG_NAME" >"$dir/tsig.key"
	sed -n 's/.*secret "\(.*\)";.*/\1/p' "$dir/tsig.key" | tr -d '\n' >"$TSIG_FILE"
	chmod 600 "$TSIG_FILE"
	zone_file "$zone" "$@" >"$dir/$zone.zone"
	local allow="none;"
	[ "$xfer" = transfer ] && allow="key $TSIG_NAME;"
	cat >"$dir/named.conf" <<EOF
include "$dir/tsig.key";
options {
	directory "$dir"; pid-file "$dir/named.pid";
	session-keyfile "$dir/session.key"; managed-keys-directory "$dir";
	listen-on port $DNS_PORT { 127.0.0.1; }; listen-on-v6 { none; };
	recursion no; allow-query { 127.0.0.1; }; allow-transfer { $allow };
	notify no; dnssec-validation no;
};
controls { };
logging { channel l { stderr; severity info; print-time yes; };
	category default { l; }; category update { l; }; category update-security { l; }; };
zone "$zone" { type primary; file "$dir/$zone.zone"; journal "$dir/$zone.jnl";
	update-policy { grant $TSIG_NAME zonesub ANY; }; };
EOF
	named -g -c "$dir/named.conf" >"$dir/named.log" 2>&1 &
	NAMED_PID=$!
	track $NAMED_PID
	# a query sent before "running" is dropped (and costs a timeout)
	wait_for "grep -qs ' running\$' '$dir/named.log'" 20 ||
		{ sed 's/^/# /' "$dir/named.log"; return 1; }
	SERVER_LOG=$dir/named.log
}

# knot_start ZONE [transfer|notransfer] LINES...: knotd on a free port.
knot_start() {
	local zone=$1 xfer=$2 dir=$T/knot; shift 2
	need knotd keymgr kdig
	mkdir -p "$dir/zones" "$dir/db" "$dir/run"
	DNS_PORT=$(free_port)
	keymgr -t "$TSIG_NAME" hmac-sha256 >"$dir/key.yaml"
	sed -n 's/^ *secret: *//p' "$dir/key.yaml" | tr -d '\n' >"$TSIG_FILE"
	chmod 600 "$TSIG_FILE"
	zone_file "$zone" "$@" >"$dir/zones/$zone.zone"
	local action="update"
	[ "$xfer" = transfer ] && action="[update, transfer]"
	{
		printf 'server:\n  rundir: "%s"\n  listen: 127.0.0.1@%s\n' "$dir/run" "$DNS_PORT"
		printf 'log:\n  - target: stderr\n    any: info\n'
		printf 'database:\n  storage: "%s"\n' "$dir/db"
		cat "$dir/key.yaml"
		printf 'acl:\n  - id: tsig\n    key: %s\n    action: %s\n' "$TSIG_NAME" "$action"
		printf 'zone:\n  - domain: %s\n    storage: "%s"\n    file: "%s.zone"\n' \
			"$zone" "$dir/zones" "$zone"
		printf '    acl: tsig\n    zonefile-sync: -1\n'
	} >"$dir/knot.conf"
	knotd -c "$dir/knot.conf" >"$dir/knotd.log" 2>&1 &
	NAMED_PID=$!
	track $NAMED_PID
	wait_for "grep -qs 'server started' '$dir/knotd.log' &&
		grep -qs '\\[$zone.\\] loaded' '$dir/knotd.log'" 20 ||
		{ sed 's/^/# /' "$dir/knotd.log"; return 1; }
	SERVER_LOG=$dir/knotd.log
}

# rfc2136_yaml ZONE IP...: a relaykit.yaml for the server started above.
rfc2136_yaml() {
	local zone=$1; shift
	cat <<EOF
mail:
  hostname: mail.$zone
  domains:
    - name: $zone
      dkimSelector: s1
dkim:
  keyDir: $T/keys
dns:
  enabled: true
  provider: rfc2136
  rfc2136:
    server: 127.0.0.1:$DNS_PORT
    zone: $zone
    tsigKeyName: $TSIG_NAME
    tsigSecretFile: $TSIG_FILE
  dmarcRua: dmarc@$zone
  nameservers: [127.0.0.1:$DNS_PORT]
  ip:
    fromService: false
    static: [$(echo "$@" | tr ' ' ',')]
EOF
}
