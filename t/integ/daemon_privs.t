# SPDX-License-Identifier: MIT
# Least privilege of the daemons (issue 17): the milter's and policyd's
# unix sockets are group postfix, mode 0660, in a folder they make 0750
# when missing; a process running as nobody cannot connect, one running
# as postfix (what smtpd runs as) can; started as root with daemon.user,
# each daemon runs as that user once bound (policyd's parent and child
# alike); each tells systemd READY=1, RELOADING=1 and READY=1 around a
# SIGHUP, STOPPING=1 at the end, over $NOTIFY_SOCKET; a missing user
# stops the start with a clear error instead of running as root.
. "$top_srcdir/t/integ/lib.sh"
. "$top_srcdir/t/integ/milter_lib.sh"
need redis-server setpriv
getent group postfix >/dev/null || skip_all "no postfix group"

chmod 711 "$T"
rp=$(free_port)
ok "redis starts" start_redis "$rp"
mk_key rsa example.com mail
S=$T/sock # made by the daemons
cat >"$T/rk.yaml" <<YAML
mail:
  domains: [example.com]
dkim:
  keyDir: $KEYS
redis:
  port: $rp
metrics:
  enabled: false
milter:
  listen: unix:$S/milter.sock
policyd:
  listen: [unix:$S/policy.sock]
rateLimit:
  enabled: true
  rules:
    - {name: r, key: sender, rate: 100/1m}
daemon:
  user: nobody
  socketGroup: postfix
YAML

# A datagram socket standing in for systemd's notify socket.
NOTE=$T/notify.sock NOTES=$T/notes
$PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
import os; os.chmod(sys.argv[1], 0o666)  # like the one of systemd
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$NOTE" "$NOTES" &
track $!
wait_for "[ -S $NOTE ]" 10

NOTIFY_SOCKET=$NOTE "$MILTER" -f -c "$T/rk.yaml" 2>"$T/milter.log" &
MP=$!
track $MP
NOTIFY_SOCKET=$NOTE "$top_builddir/policyd/relaykit-policyd" -f \
	-c "$T/rk.yaml" 2>"$T/policyd.log" &
PP=$!
track $PP
wait_for "[ \$(grep -c READY=1 $NOTES 2>/dev/null) -ge 2 ]" 20
is "$(grep -c '^READY=1' "$NOTES")" 2 "both daemons told systemd READY=1"

for s in milter policy; do
	is "$(stat -c '%a %G' "$S/$s.sock")" "660 postfix" "$s.sock: mode 0660, group postfix"
done
is "$(stat -c '%a %G' "$S")" "750 postfix" "the socket folder was made 0750, group postfix"

uid_of() { awk '/^Uid:/ { print $2 "," $3 "," $4 }' "/proc/$1/status"; }
nb=$(id -u nobody)
is "$(uid_of $MP)" "$nb,$nb,$nb" "the milter runs as nobody"
is "$(uid_of $PP)" "$nb,$nb,$nb" "policyd's parent runs as nobody"
child=$(pgrep -P $PP | head -1)
is "$(uid_of "$child")" "$nb,$nb,$nb" "policyd's worker runs as nobody"
like "$(cat "$T/milter.log")" 'running as nobody' "the milter says whom it runs as"

connect() { # connect USER GROUP PATH: connect() as that user
	setpriv --reuid="$1" --regid="$2" --init-groups -- \
		$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print(e.strerror)' "$3" 2>&1
}
# the folder is postfix's group only, so nobody fails at the folder
# already; with an open folder, the socket's own mode still refuses it
for s in milter policy; do
	is "$(connect nobody nogroup "$S/$s.sock")" "Permission denied" \
		"nobody cannot connect to $s.sock"
	is "$(connect postfix postfix "$S/$s.sock")" "connected" \
		"postfix (smtpd's user) connects to $s.sock"
done
chmod 755 "$S"
for s in milter policy; do
	is "$(connect nobody nogroup "$S/$s.sock")" "Permission denied" \
		"nobody cannot connect to $s.sock in an open folder either"
done

# reload and stop, as systemd sees them
: >"$NOTES"
kill -HUP $MP $PP
wait_for "[ \$(grep -c READY=1 $NOTES) -ge 2 ]" 10
is "$(grep -c '^RELOADING=1 MONOTONIC_USEC=[0-9]' "$NOTES")" 2 "SIGHUP: RELOADING=1 with MONOTONIC_USEC from both"
is "$(grep -c '^READY=1' "$NOTES")" 2 "then READY=1 from both"
kill -TERM $MP $PP
wait $MP $PP 2>/dev/null
is "$(grep -c '^STOPPING=1' "$NOTES")" 2 "SIGTERM: STOPPING=1 from both"

# a user that does not exist: no start as root
sed -i 's/user: nobody/user: rk-no-such-user/' "$T/rk.yaml"
"$top_builddir/policyd/relaykit-policyd" -f -c "$T/rk.yaml" 2>"$T/nouser.log"
is "$?" 78 "policyd with a missing daemon.user exits EX_CONFIG"
like "$(cat "$T/nouser.log")" 'no user "rk-no-such-user"' "and names the user"
"$MILTER" -f -c "$T/rk.yaml" 2>"$T/nouser-m.log"
is "$?" 78 "so does the milter"
done_testing
