# SPDX-License-Identifier: MIT
# relaykit-verp with a real Redis: short and long client ids round-trip
# (long ones through Redis), tampered, truncated and expired addresses are
# refused with their own status, Redis down is a temporary failure.
. "$top_srcdir/t/integ/lib.sh"
need redis-server redis-cli
V=$top_builddir/events/relaykit-verp
rp=$(free_port)
start_redis "$rp"
cat >"$T/rk.yaml" <<YAML
mail:
  domains: [example.com]
inbound:
  bounce:
    enabled: true
    hmacSecret: "0123456789abcdef-test-secret"
    maxAgeDays: 7
redis:
  port: $rp
  keyPrefix: "t1:"
YAML
addr=$("$V" -c "$T/rk.yaml" encode order-123)
like "$addr" '^bounce\+[a-z2-7]+@example\.com$' "encode: bounce+<base32>@example.com"
is "$("$V" -c "$T/rk.yaml" decode "$addr" | cut -d' ' -f1-2)" "status=ok id=order-123" "decode gives the client id back"
long=$(printf 'x%.0s' $(seq 200))
laddr=$("$V" -c "$T/rk.yaml" encode -d Bounce.Example.COM "$long")
like "$laddr" '@bounce\.example\.com$' "domain from -d, lower-cased"
local=${laddr%@*}
ok "a 200-byte id still gives a local part of at most 64 octets (${#local})" test "${#local}" -le 64
is "$(redis-cli -p "$rp" --scan --pattern 't1:verp:*' | wc -l)" 1 "the long id is stored in redis under the prefix"
ttl=$(redis-cli -p "$rp" ttl "$(redis-cli -p "$rp" --scan --pattern 't1:verp:*')")
ok "and expires with maxAgeDays (ttl $ttl)" test "$ttl" -gt 600000 -a "$ttl" -le 604800
out=$("$V" -c "$T/rk.yaml" decode "$laddr")
like "$out" "^status=ok id=$long ref=[0-9a-f]{20} " "decode finds the long id in redis"
tampered=$(printf '%s' "$addr" | sed 's/^\(bounce+...\)./\1a/; t; s/^/x/')
[ "$tampered" = "$addr" ] && tampered=$(printf '%s' "$addr" | sed 's/^\(bounce+...\)./\1b/')
out=$("$V" -c "$T/rk.yaml" decode "$tampered"); rc=$?
is "$out $rc" "status=bad_mac 1" "tampered: bad_mac, exit 1"
out=$("$V" -c "$T/rk.yaml" decode "${addr%@*}"); rc=$?
is "$out $rc" "status=not_verp 1" "no domain: not a VERP address"
short=$(printf '%s' "${addr%@*}" | head -c 20)@example.com
out=$("$V" -c "$T/rk.yaml" decode "$short"); rc=$?
is "$out $rc" "status=malformed 1" "truncated: malformed"
out=$("$V" -c "$T/rk.yaml" decode -t $(( $(date +%s) + 8 * 86400 )) "$addr"); rc=$?
is "$out $rc" "status=expired 1" "eight days later: expired"
out=$("$V" -c "$T/rk.yaml" decode "${addr%@*}@other.example"); rc=$?
is "$out $rc" "status=bad_mac 1" "moved to another domain: bad_mac"
kill "$REDIS_PID"; wait_for "! port_open $rp" 5
"$V" -c "$T/rk.yaml" encode "$long-2" >/dev/null 2>"$T/err"; rc=$?
is "$rc" 75 "redis down: a long id is a temporary failure (EX_TEMPFAIL)"
like "$(cat "$T/err")" 'cannot store the client id in redis' "and says so"
printf 'mail:\n  domains: [example.com]\n' >"$T/nosecret.yaml"
"$V" -c "$T/nosecret.yaml" encode x >/dev/null 2>"$T/err"; rc=$?
is "$rc" 78 "no secret configured: EX_CONFIG"
like "$(cat "$T/err")" 'inbound\.bounce\.hmacSecret \(or hmacSecretFile\) is not set' "and names the key"
is "$("$V" -n -c "$T/rk.yaml")" "configuration OK" "-n checks the config"
done_testing
