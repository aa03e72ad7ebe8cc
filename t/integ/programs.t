# SPDX-License-Identifier: MIT
# What every relaykit program answers the same way (issue 17): --version
# and -V print "NAME VERSION" and exit 0, --help prints a usage and exits
# 0, an unknown option exits 64 (EX_USAGE) with the usage on standard
# error, and each has its manual page.
. "$top_srcdir/t/integ/lib.sh"
B=$top_builddir
ver=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$B/config.h")
for p in milter/relaykit-milter policyd/relaykit-policyd \
	events/relaykit-eventd events/relaykit-webhookd events/relaykit-bounce \
	events/relaykit-verp \
	keygen/relaykit-keygen dnsctl/relaykit-dnsctl \
	postfix-conf/relaykit-postconf; do
	n=$(basename "$p")
	is "$("$B/$p" --version 2>&1)" "$n $ver" "$n --version"
	is "$("$B/$p" -V 2>&1)" "$n $ver" "$n -V"
	out=$("$B/$p" --help 2>&1)
	is "$?" 0 "$n --help exits 0"
	like "$out" "usage: $n" "$n --help prints its usage"
	out=$("$B/$p" --no-such-option 2>&1 >/dev/null)
	is "$?" 64 "$n --no-such-option exits 64"
	like "$out" "usage: $n" "and prints the usage on standard error"
	ok "$n has a manual page" test -s "$(ls "$top_srcdir/man/$n".[18] 2>/dev/null)"
done

# -n -v: the effective configuration, defaults included, secrets masked
cat >"$T/rk.yaml" <<'YAML'
mail: {domains: [example.com]}
auth:
  enabled: true
  users:
    app: {password: "$y$j9T$supersecret-hash-XYZ"}
redis: {password: redis-pw-XYZ}
webhooks:
  endpoints:
    - name: app
      url: https://hooks.example.com/rk
      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
YAML
for p in policyd/relaykit-policyd events/relaykit-webhookd; do
	n=$(basename "$p")
	out=$("$B/$p" -n -v -c "$T/rk.yaml" 2>&1)
	is "$?" 0 "$n -n -v exits 0"
	like "$out" '^policyd\.idleTimeout = 5m$' "$n -n -v shows a default (policyd.idleTimeout = 5m)"
	like "$out" 'auth\.users\.app\.password = \(set, not shown\)' "$n: a password is masked"
	like "$out" 'redis\.password = \(set, not shown\)' "$n: the Redis password is masked"
	ok "$n: no secret appears" sh -c '! printf "%s" "$1" | grep -qE "XYZ|MfKQ9r8G"' - "$out"
	like "$out" 'configuration OK$' "$n: and says the configuration is OK"
done
done_testing
