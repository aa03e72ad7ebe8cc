# SPDX-License-Identifier: MIT
# relaykit-policyd's SASL side against a client that speaks Postfix's half
# of the Dovecot authentication protocol (auth_client.py), on a unix
# socket and on TCP: the handshake, PLAIN and LOGIN, hashes from --hash
# (checked with the system's crypt), SHA-512-crypt and bcrypt, clear text,
# auth.usersFile and SIGHUP, auth.methods, auth.requireTls, the lockout per
# address and per login and its expiry, Redis down (nobody locked out),
# malformed and oversized exchanges answered while the daemon keeps
# serving, a partial line timed out but an idle connection kept, and no
# password or hash in the log.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/policyd_lib.sh"
need redis-server redis-cli
$PY -W ignore -c 'import crypt' 2>/dev/null || skip_all "python3 crypt module missing"
AC="$PY $top_srcdir/t/integ/auth_client.py"

rp=$(free_port) tp=$(free_port) mp=$(free_port)
ok "redis starts" start_redis "$rp"
U=unix:$T/auth.sock I=inet:127.0.0.1:$tp

# --hash: yescrypt by default, verified by the system's crypt(3)
h=$(printf 'app-secret\n' | "$PD_BIN" --hash)
like "$h" '^\$y\$' "--hash prints a yescrypt hash"
is "$($PY -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])' app-secret "$h")" \
	True "the system's crypt (python) verifies it"
if perl -e 'exit(crypt("x", q($y$j9T$abcdefghijklmnopqrstu.)) =~ /^\$y\$/ ? 0 : 1)' 2>/dev/null; then
	is "$(perl -e 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "yes" : "no"' app-secret "$h")" yes \
		"the system's crypt (perl) verifies it"
else skip "perl crypt without yescrypt"; fi
h2=$(printf 'app-secret\n' | "$PD_BIN" --hash)
ok "a new salt every time" [ "$h" != "$h2" ]
printf '' | "$PD_BIN" --hash >/dev/null 2>&1
ok "--hash refuses an empty standard input" [ $? -ne 0 ]
sha=$($PY -W ignore -c 'import crypt; print(crypt.crypt("sha-pw", crypt.mksalt(crypt.METHOD_SHA512)))')
bf=$($PY -W ignore -c 'import crypt; print(crypt.crypt("bf-pw", crypt.mksalt(crypt.METHOD_BLOWFISH)))')
fileh=$(printf 'file-pw\n' | "$PD_BIN" --hash)
vich=$(printf 'victim-pw\n' | "$PD_BIN" --hash)

printf '# users mounted from a secret\nfromfile:%s\nvictim:%s\n\nbystander:%s\n' \
	"$fileh" "$vich" "$vich" >"$T/users"
chmod 600 "$T/users"
write_cfg() { # write_cfg METHODS
	pd_config main <<-YAML
	auth:
	  enabled: true
	  methods: $1
	  users:
	    app@example.com:
	      password: "$h"
	    sha: "$sha"
	    bcrypt: "$bf"
	    clear: clear-pw
	  usersFile: $T/users
	  lockout: {maxFailures: 3, window: 1m, duration: 2s}
	redis:
	  port: $rp
	  keyPrefix: "auth:"
	  commandTimeout: 300ms
	metrics:
	  address: 127.0.0.1
	  policydPort: $mp
	policyd:
	  listen: unix:$T/policy.sock
	  saslListen: $U, $I
	  requestTimeout: 1s
	YAML
}
write_cfg "PLAIN, LOGIN"
ok "policyd starts" pd_start main
ok "the SASL socket is there" wait_for "[ -S '$T/auth.sock' ]" 10
# the worker warns once it has loaded the users: after the parent bound
# the socket, so wait for the line
ok "a clear-text password is warned about" \
	wait_for "grep -q '1 of 7 users have a clear-text password' '$T/main.log'" 10

hs=$($AC "$U" handshake)
like "$(printf '%s\n' "$hs" | head -1)" '^VERSION	1	2$' "handshake: VERSION 1 2"
like "$hs" 'MECH	PLAIN	plaintext' "handshake: PLAIN"
like "$hs" 'MECH	LOGIN	plaintext' "handshake: LOGIN"
like "$hs" 'SPID	[0-9]+' "handshake: SPID"
like "$hs" 'COOKIE	[0-9a-f]{32}' "handshake: COOKIE"
like "$(printf '%s\n' "$hs" | tail -1)" '^DONE$' "handshake ends with DONE"

is "$($AC "$U" plain app@example.com app-secret secured)" "OK user=app@example.com" "unix: PLAIN, yescrypt from --hash"
is "$($AC "$I" login app@example.com app-secret secured)" "OK user=app@example.com" "TCP: LOGIN"
is "$($AC "$U" plain-cont sha sha-pw secured)" "OK user=sha" "PLAIN without initial response, SHA-512-crypt"
is "$($AC "$U" plain bcrypt bf-pw secured)" "OK user=bcrypt" "bcrypt"
is "$($AC "$U" login clear clear-pw secured)" "OK user=clear" "clear text"
is "$($AC "$U" plain fromfile file-pw secured)" "OK user=fromfile" "a user from auth.usersFile"
is "$($AC "$U" plain APP@Example.COM app-secret secured 10.0.9.1)" "OK user=APP@Example.COM" "logins ignore case"
is "$($AC "$U" plain app@example.com wrong secured 10.0.9.2)" "FAIL reason=Invalid user name or password" "a wrong password: FAIL"
is "$($AC "$U" plain nobody wrong secured 10.0.9.3)" "FAIL reason=Invalid user name or password" "an unknown login: the same FAIL"
is "$($AC "$U" plain app@example.com app-secret)" "FAIL reason=Encryption required" "auth.requireTls: no AUTH without TLS"

# malformed and oversized exchanges: answered, the daemon keeps serving
is "$($AC "$U" raw 'AUTH\t1\tPLAIN\tsecured\tresp=%%%%\n' 2)" "$(printf 'FAIL\t1\treason=Invalid base64 data\nTIMEOUT')" "bad base64: FAIL"
is "$($AC "$U" raw 'AUTH\t1\tPLAIN\tsecured\tresp=YWJj\n' 2)" "$(printf 'FAIL\t1\treason=Invalid PLAIN message\nTIMEOUT')" "bad PLAIN message: FAIL"
is "$($AC "$U" raw 'AUTH\t2\tCRAM-MD5\tsecured\n' 2)" "$(printf 'FAIL\t2\treason=Unsupported authentication mechanism\nTIMEOUT')" "unknown mechanism: FAIL"
is "$($AC "$U" raw 'CONT\t9\tYQ==\n' 2)" "$(printf 'FAIL\t9\treason=Unexpected continuation\nTIMEOUT')" "CONT without AUTH: FAIL"
is "$($AC "$U" raw 'AUTH\t0\tPLAIN\n')" "EOF" "a malformed line: the connection is closed"
is "$($AC "$U" raw "$(head -c 20000 /dev/zero | tr '\0' A)")" "EOF" "a 20000-byte line: closed in order, no reset"
is "$($AC "$U" raw 'CPID\t1\0\1\2\n')" "EOF" "binary junk: closed"
is "$($PY -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"AUTH\t1\tPLAIN\n"); d=b""
while True:
    x=s.recv(4096)
    if not x: break
    d+=x
print("closed" if d.endswith(b"DONE\n") else d)' "$T/auth.sock")" closed "AUTH before VERSION: closed after the handshake"
is "$($AC "$U" raw 'AUTH\t1\tPL' 5)" "EOF" "a partial line: closed after policyd.requestTimeout"
is "$($AC "$U" idle 1.5 sha sha-pw)" "OK user=sha" "an idle connection between lines is kept"
like "$($AC "$U" burst 2 sha sha-pw)" '^OK user=sha
OK user=sha$' "the daemon keeps serving, several requests on one connection"
like "$(pd_metrics "$mp")" 'relaykit_policyd_sasl_malformed_total\{reason="too_long"\} 1' "malformed lines counted"

# lockout: 3 failures lock the address and the login for 2 s
for i in 1 2 3; do $AC "$U" plain victim bad secured 10.7.0.1 >/dev/null; done
is "$($AC "$U" plain victim victim-pw secured 10.7.0.1)" "EOF" "locked: even the right password gets no answer (Postfix: 454 4.7.0)"
is "$($AC "$U" plain bystander victim-pw secured 10.7.0.1)" "EOF" "the address is locked for every login"
is "$($AC "$U" plain victim victim-pw secured 10.7.0.2)" "EOF" "the login is locked from every address"
is "$($AC "$U" plain bystander victim-pw secured 10.7.0.2)" "OK user=bystander" "others are not affected"
like "$(redis-cli -p "$rp" pttl auth:auth:lock:user:victim)" '^[0-9]+$' "the lock lives in Redis with a TTL"
like "$(cat "$T/main.log")" 'sasl action=lockout login=victim client=10\.7\.0\.1 duration_ms=2000' "the lockout is logged"
sleep 2.2
is "$($AC "$U" plain victim victim-pw secured 10.7.0.1)" "OK user=victim" "after auth.lockout.duration the login works again"
for i in 1 2; do $AC "$U" plain victim bad secured 10.7.0.3 >/dev/null; done
$AC "$U" plain victim victim-pw secured 10.7.0.3 >/dev/null
$AC "$U" plain victim bad secured 10.7.0.4 >/dev/null
is "$($AC "$U" plain victim victim-pw secured 10.7.0.4)" "OK user=victim" "a success resets the login's failure count"

# SIGHUP: usersFile and auth.methods reload
printf 'newcomer:%s\n' "$fileh" >>"$T/users"
write_cfg PLAIN
kill -HUP $PD_PID
ok "SIGHUP reloads" wait_for "grep -q 'reloaded.*8 users' '$T/main.log'" 5
is "$($AC "$U" plain newcomer file-pw secured)" "OK user=newcomer" "a user added to auth.usersFile works after SIGHUP"
hs=$($AC "$U" handshake)
ok "auth.methods: PLAIN only offers no LOGIN" eval "! printf '%s\n' \"\$hs\" | grep -q LOGIN"
is "$($AC "$U" login sha sha-pw secured)" "FAIL reason=Unsupported authentication mechanism" "LOGIN refused when not in auth.methods"

# a broken usersFile on SIGHUP: refused, the running users stay
cp "$T/users" "$T/users.good"
printf 'no colon here\n' >>"$T/users"
kill -HUP $PD_PID
ok "a usersFile line without login:hash fails the reload" \
	wait_for "grep -q 'reload failed: auth.usersFile $T/users:7: want login:hash' '$T/main.log'" 5
is "$($AC "$U" plain newcomer file-pw secured)" "OK user=newcomer" "and the users loaded before still log in"
cp "$T/users.good" "$T/users"

# Redis down: nobody is locked out
kill $REDIS_PID; wait $REDIS_PID 2>/dev/null
for i in 1 2 3 4 5; do $AC "$U" plain sha bad secured 10.8.0.1 >/dev/null; done
is "$($AC "$U" plain sha sha-pw secured 10.8.0.1)" "OK user=sha" "Redis down: failures lock nobody out"
like "$(cat "$T/main.log")" 'auth lockout unavailable: redis [a-z]+; nobody is locked out' "and that is logged"
n=$(grep -c 'auth lockout unavailable' "$T/main.log")
is "$n" 1 "once per interval"
like "$(pd_metrics "$mp")" 'relaykit_policyd_auth_lockout_unavailable_total [1-9]' "and counted"
like "$(pd_metrics "$mp")" 'relaykit_policyd_auth_total\{mechanism="PLAIN",result="ok"\} [1-9]' "results counted by mechanism"

leak=0
for s in app-secret sha-pw bf-pw clear-pw file-pw victim-pw "$h" "$sha" "$bf" "$fileh" "$vich"; do
	grep -qF -- "$s" "$T/main.log" && { diag "log holds a secret: $s"; leak=1; }
done
is "$leak" 0 "no password or hash in the log"
kill $PD_PID; wait $PD_PID 2>/dev/null
ok "SIGTERM removes the SASL socket" [ ! -e "$T/auth.sock" ]
done_testing
