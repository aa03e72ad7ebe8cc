#!/bin/bash
# SPDX-License-Identifier: MIT
# relaykit-entrypoint: the relaykit image's entrypoint (README.md, "Container image").
#
#   (no argument) | standalone   Postfix and the relaykit daemons the
#                                configuration needs, in one container
#   postfix                      Postfix alone (the daemons run in sidecars)
#   milter | policyd | eventd | webhookd
#                                one daemon in the foreground (sidecar)
#   keygen                       create the DKIM keys the configuration
#                                names that are missing, print the records
#   config                       print the relaykit.yaml it would use
#   COMMAND [ARG...]             run COMMAND
#
# The configuration: /etc/relaykit/relaykit.yaml when mounted, with the
# RK_* environment variables laid over it (or alone); see README.md, "Container image".
set -euo pipefail

BASE=${RK_CONFIG:-/etc/relaykit/relaykit.yaml}
GENDIR=/run/relaykit-config
SOCKDIR=/run/relaykit
KEYDIR=/var/lib/relaykit
SETAWK=/usr/share/relaykit/image/yaml-set.awk
PFDIST=/usr/share/relaykit/image/postfix
POSTFIX_D=${RK_POSTFIX_D:-/etc/relaykit/postfix.d}
MAILLOG=/var/log/postfix/mail.log
# what Postfix's master needs as root: bind port 25, switch to the postfix
# user, own and open its queue; nothing else (no chroot: see the image)
POSTFIX_CAPS=${RK_POSTFIX_CAPS:-chown,dac_override,fowner,setuid,setgid,net_bind_service,kill}

say() { printf 'relaykit-entrypoint: %s\n' "$*" >&2; }
die() { say "$*"; exit 78; }

# ------------------------------------------------------------ config
# yq_str TEXT: TEXT as a double-quoted YAML scalar.
yq_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# yq_list "a, b c": the items (split on commas and blanks) as quoted YAML
# scalars separated by ", ", for a flow list.
yq_list() {
	local list="" item items
	IFS=', ' read -r -a items <<<"$1"
	for item in "${items[@]}"; do
		[ -n "$item" ] && list="$list${list:+, }$(yq_str "$item")"
	done
	printf '%s' "$list"
}
# env_bool NAME: the variable as true/false, or die.
env_bool() {
	case "${!1,,}" in
	true | yes | 1) echo true ;;
	false | no | 0) echo false ;;
	*) die "$1=${!1}: want true or false" ;;
	esac
}
env_int() {
	[[ ${!1} =~ ^[0-9]+$ ]] || die "$1=${!1}: want a number"
	echo "${!1}"
}
# secret NAME FILE: the value of $NAME (or the file named by $NAME_FILE)
# into FILE (mode 0640, group relaykit); prints FILE, or nothing when unset.
secret() {
	local var=$1 file=$GENDIR/secrets/$2 fvar=${1}_FILE
	if [ -n "${!fvar:-}" ]; then
		echo "${!fvar}"
	elif [ -n "${!var:-}" ]; then
		mkdir -p "$GENDIR/secrets"
		(umask 027 && printf '%s\n' "${!var}" >"$file")
		chgrp relaykit "$file" 2>/dev/null || true
		echo "$file"
	fi
}

# overlay: "mode path value" lines, from the environment and the image.
overlay() {
	local v host port list item name sel f
	[ -n "${RK_HOSTNAME:-}" ] && echo "set mail.hostname $(yq_str "$RK_HOSTNAME")"
	if [ -n "${RK_DOMAINS:-}" ]; then
		# "example.com, example.org:s2026" -> a list of domains (selector)
		list=""
		IFS=', ' read -r -a items <<<"$RK_DOMAINS"
		for item in "${items[@]}"; do
			[ -n "$item" ] || continue
			name=${item%%:*} sel=""
			[ "$name" != "$item" ] && sel=", dkimSelector: $(yq_str "${item#*:}")"
			list="$list${list:+, }{name: $(yq_str "$name")$sel}"
		done
		echo "set mail.domains [$list]"
	fi
	[ -n "${RK_TRUSTED_NETWORKS:-}" ] &&
		echo "set mail.trustedNetworks $(yq_str "$RK_TRUSTED_NETWORKS")"
	[ -n "${RK_ALLOW_WIDE_NETWORKS:-}" ] &&
		echo "set mail.allowWideNetworks $(env_bool RK_ALLOW_WIDE_NETWORKS)"
	if [ -n "${RK_RELAY_HOST:-}" ]; then
		host=$RK_RELAY_HOST port=""
		if [[ $host =~ ^\[(.*)\]:([0-9]+)$ || $host =~ ^([^:]*):([0-9]+)$ ]]; then
			host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
		fi
		echo "set mail.relay.enabled true"
		echo "set mail.relay.host $(yq_str "$host")"
		[ -n "$port" ] && echo "set mail.relay.port $port"
	fi
	[ -n "${RK_RELAY_TLS:-}" ] && echo "set mail.relay.tls $(env_bool RK_RELAY_TLS)"
	if [ -n "${RK_RELAY_USERNAME:-}" ]; then
		echo "set mail.relay.auth.enabled true"
		echo "set mail.relay.auth.username $(yq_str "$RK_RELAY_USERNAME")"
		f=$(secret RK_RELAY_PASSWORD relay.pass)
		[ -n "$f" ] && echo "set mail.relay.auth.passwordFile $(yq_str "$f")"
	fi
	[ -n "${RK_MAX_MESSAGE_SIZE:-}" ] &&
		echo "set mail.maxMessageSize $(yq_str "$RK_MAX_MESSAGE_SIZE")"
	[ -n "${RK_TLS_LEVEL:-}" ] && echo "set mail.tls.level $(yq_str "$RK_TLS_LEVEL")"
	[ -n "${RK_TLS_CERT_FILE:-}" ] && echo "set mail.tls.certFile $(yq_str "$RK_TLS_CERT_FILE")"
	[ -n "${RK_TLS_KEY_FILE:-}" ] && echo "set mail.tls.keyFile $(yq_str "$RK_TLS_KEY_FILE")"
	[ -n "${RK_DKIM_ALGORITHM:-}" ] && echo "set dkim.algorithm $(yq_str "$RK_DKIM_ALGORITHM")"
	[ -n "${RK_DKIM_KEY_SIZE:-}" ] && echo "set dkim.keySize $(env_int RK_DKIM_KEY_SIZE)"
	if [ -n "${RK_SENDER_ALLOWED:-}" ]; then
		echo "set senderValidation.enabled true"
		echo "set senderValidation.allowedFrom [$(yq_list "$RK_SENDER_ALLOWED")]"
	fi
	if [ -n "${RK_AUTH_USERS:-}${RK_AUTH_USERS_FILE:-}" ]; then
		# "login:password login2:hash" (or a file of such lines)
		f=$(RK_AUTH_USERS=$(tr ', ' '\n\n' <<<"${RK_AUTH_USERS:-}" | sed '/^$/d') \
			secret RK_AUTH_USERS users)
		echo "set auth.enabled true"
		echo "set auth.usersFile $(yq_str "$f")"
		[ -n "${RK_AUTH_REQUIRE_TLS:-}" ] &&
			echo "set auth.requireTls $(env_bool RK_AUTH_REQUIRE_TLS)"
	fi
	if [ -n "${RK_REDIS_HOST:-}" ]; then
		host=$RK_REDIS_HOST port=""
		if [[ $host =~ ^([^:]*):([0-9]+)$ ]]; then
			host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
		fi
		echo "set redis.host $(yq_str "$host")"
		[ -n "$port" ] && echo "set redis.port $port"
	fi
	f=$(secret RK_REDIS_PASSWORD redis.pass)
	[ -n "$f" ] && echo "set redis.passwordFile $(yq_str "$f")"
	[ -n "${RK_REDIS_USERNAME:-}" ] &&
		echo "set redis.username $(yq_str "$RK_REDIS_USERNAME")"
	if [ -n "${RK_REDIS_SENTINELS:-}" ]; then
		# "host:26379, host2:26379": the master from the sentinels
		echo "set redis.sentinels [$(yq_list "$RK_REDIS_SENTINELS")]"
		echo "set redis.masterName $(yq_str "${RK_REDIS_MASTER_NAME:-mymaster}")"
	fi
	f=$(secret RK_REDIS_SENTINEL_PASSWORD sentinel.pass)
	[ -n "$f" ] && echo "set redis.sentinelPasswordFile $(yq_str "$f")"
	[ -n "${RK_METRICS_ADDRESS:-}" ] &&
		echo "set metrics.address $(yq_str "$RK_METRICS_ADDRESS")"
	[ -n "${RK_LOG_LEVEL:-}" ] && echo "set log.level $(yq_str "$RK_LOG_LEVEL")"
	# the image's own: logs on standard error, Postfix's log where eventd
	# reads it (when it runs), the sockets in their own folder rather than
	# in the queue volume (Postfix runs without chroot here)
	echo "default log.destination stderr"
	echo "default milter.listen $(yq_str "unix:$SOCKDIR/milter.sock")"
	echo "default policyd.listen $(yq_str "unix:$SOCKDIR/policy.sock")"
	echo "default policyd.saslListen $(yq_str "unix:$SOCKDIR/auth.sock")"
	echo "default policyd.socketmapListen $(yq_str "unix:$SOCKDIR/socketmap.sock")"
	echo "set eventd.logFile $MAILLOG"
	echo "set eventd.configurePostfix false"
}

# make_config: sets CONFIG to the file every program reads.
make_config() {
	local out=$GENDIR/relaykit.yaml tmp=$GENDIR/.relaykit.yaml mode path value
	mkdir -p "$GENDIR"
	chmod 0750 "$GENDIR"
	chgrp relaykit "$GENDIR" 2>/dev/null || true
	if [ -f "$BASE" ]; then cp "$BASE" "$tmp"; else : >"$tmp"; fi
	if [ ! -f "$BASE" ] && [ -z "${RK_DOMAINS:-}" ]; then
		die "no configuration: mount $BASE or set RK_DOMAINS (see the README, \"Container image\")"
	fi
	while read -r mode path value; do
		awk -v mode="$mode" -v path="$path" -v value="$value" -f "$SETAWK" \
			"$tmp" >"$tmp.new" || die "cannot combine $BASE with the environment"
		mv "$tmp.new" "$tmp"
	done < <(overlay)
	{
		echo "# Written by relaykit-entrypoint from ${BASE} and RK_* variables;"
		echo "# relative paths are relative to $(dirname "$BASE")."
		cat "$tmp"
	} >"$out"
	rm -f "$tmp"
	chmod 0640 "$out"
	chgrp relaykit "$out" 2>/dev/null || true
	CONFIG=$out
	# relative paths of the mounted file keep their meaning
	if [ -f "$BASE" ] && [ "$(dirname "$BASE")" != "$GENDIR" ] &&
		grep -qE '^[^#]*File: *[^/ "]' "$out"; then
		say "note: relative File paths in $BASE are read relative to $GENDIR; use absolute paths"
	fi
}

check_config() {
	local out
	if ! out=$(relaykit-postconf -n -c "$CONFIG" 2>&1); then
		say "the configuration has errors:"
		printf '%s\n' "$out" >&2
		say "the file ($CONFIG), with line numbers:"
		nl -ba "$CONFIG" >&2
		exit 78
	fi
}

# ------------------------------------------------------------ privileges
# have_setpcap: may we shrink capability bounding sets?
have_setpcap() {
	local eff
	eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(((0x$eff >> 8) & 1))
}
# as_relaykit CMD...: CMD as the unprivileged user relaykit, without any
# capability (when this runs as root; otherwise as we are).  Changing
# the uid from 0 clears every capability; no-new-privs keeps it so.
as_relaykit() {
	if [ "$(id -u)" = 0 ]; then
		local bnd=""
		have_setpcap && bnd=--bounding-set=-all
		setpriv --reuid=relaykit --regid=relaykit --init-groups \
			--inh-caps=-all $bnd --no-new-privs -- "$@"
	else
		"$@"
	fi
}
# with_postfix_caps CMD...: CMD with a capability bounding set of
# POSTFIX_CAPS only, when we are allowed to shrink it (CAP_SETPCAP).
with_postfix_caps() {
	if [ "$(id -u)" = 0 ] && have_setpcap; then
		local drop="-all" c
		for c in ${POSTFIX_CAPS//,/ }; do drop="$drop,+$c"; done
		setpriv --bounding-set="$drop" --inh-caps=-all -- "$@"
	else
		"$@"
	fi
}

# ------------------------------------------------------------ postfix
# postfix_setup LOGFILE: main.cf and master.cf from the image's, wired by
# relaykit-postconf, then the postconf lines of $POSTFIX_D; Postfix logs
# to LOGFILE (/dev/stdout, or a file eventd follows).
postfix_setup() {
	local log=$1 listen=${RK_SMTP_LISTEN:-smtp} f line
	cp "$PFDIST/main.cf" "$PFDIST/master.cf" /etc/postfix/
	rm -f /etc/postfix/relaykit-postconf.state
	if [ "$listen" != smtp ]; then
		# the relay's SMTP port elsewhere: [ADDRESS:]PORT
		postconf -MX smtp/inet
		postconf -M "$listen/inet=$listen inet n - n - - smtpd"
	fi
	relaykit-postconf -c "$CONFIG" >/run/relaykit-postconf.log 2>&1 || {
		cat /run/relaykit-postconf.log >&2
		die "relaykit-postconf refused the configuration"
	}
	# Postfix starts after this: no reload to ask for
	grep -v -e 'nothing to change' -e "run 'postfix" /run/relaykit-postconf.log >&2 || true
	postconf -e "maillog_file = $log"
	if [ -d "$POSTFIX_D" ]; then
		for f in "$POSTFIX_D"/*.conf "$POSTFIX_D"/*_conf; do
			[ -f "$f" ] || continue
			while IFS= read -r line || [ -n "$line" ]; do
				[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
				# one line = the arguments of one postconf command
				eval "postconf $line" || die "$f: postconf $line failed"
			done <"$f"
			say "applied $f"
		done
	fi
	postfix check || die "postfix check failed"
}

# ------------------------------------------------------------ daemons
pids=()
names=()
start() { # start NAME CMD...
	local name=$1; shift
	"$@" &
	pids+=($!)
	names+=("$name")
}

stopping=0
stop_all() {
	local i
	[ $stopping = 1 ] && return
	stopping=1
	say "stopping"
	# Postfix first (no new mail is accepted; the queue stays on disk),
	# then the daemons it talked to
	postfix stop >/dev/null 2>&1 || true
	for i in "${!pids[@]}"; do
		[ "${names[$i]}" = postfix ] || kill -TERM "${pids[$i]}" 2>/dev/null || true
	done
	for i in "${!pids[@]}"; do wait "${pids[$i]}" 2>/dev/null || true; done
}

# the sockets' folder: the daemons write, Postfix (group postfix) reaches
prepare_dirs() {
	mkdir -p "$SOCKDIR" "$KEYDIR/dkim" /var/log/postfix
	chown relaykit:relaykit "$KEYDIR" "$KEYDIR/dkim"
	chown relaykit:postfix "$SOCKDIR"
	chmod 0750 "$SOCKDIR"
	chmod 0700 "$KEYDIR/dkim"
}

daemon_cmd() { # the command line of daemon $1
	case $1 in
	milter) echo "relaykit-milter -f -c $CONFIG" ;;
	policyd) echo "relaykit-policyd -f -c $CONFIG" ;;
	eventd) echo "relaykit-eventd -f -c $CONFIG" ;;
	webhookd) echo "relaykit-webhookd -f -c $CONFIG" ;;
	*) die "unknown daemon $1" ;;
	esac
}

wait_socket() { # wait_socket PATH: up to 10 s
	local i
	for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
	return 1
}

# keygen: the keys the configuration names that are missing, made
# quietly; then every key's record, so that the log of any start (not
# only the first) shows what to publish in DNS.
keygen() {
	as_relaykit relaykit-keygen --all -c "$CONFIG" >/dev/null
	as_relaykit relaykit-keygen --all --print -c "$CONFIG"
}

standalone() {
	local daemons d log=/dev/stdout rc=0 i
	make_config
	check_config
	prepare_dirs
	daemons=${RK_DAEMONS:-auto}
	[ "$daemons" = auto ] && daemons=$(relaykit-postconf --daemons -c "$CONFIG" | tr '\n' ' ')
	say "daemons: ${daemons:-none}"
	keygen
	for d in $daemons; do
		[ "$d" = eventd ] && log=$MAILLOG
	done
	postfix_setup "$log"
	trap 'stop_all; exit 0' TERM INT
	for d in $daemons; do
		# shellcheck disable=SC2046
		start "$d" as_relaykit $(daemon_cmd "$d")
	done
	for d in $daemons; do
		case $d in
		milter) wait_socket "$SOCKDIR/milter.sock" || true ;;
		policyd) wait_socket "$SOCKDIR/policy.sock" || true ;;
		esac
	done
	if [ "$log" != /dev/stdout ]; then
		: >>"$log"
		start log tail -n 0 -F "$log"
	fi
	start postfix with_postfix_caps postfix start-fg
	say "running"
	# whichever stops first stops everything; the container's exit says so
	wait -n "${pids[@]}" || rc=$?
	[ $stopping = 1 ] && exit 0
	for i in "${!pids[@]}"; do
		kill -0 "${pids[$i]}" 2>/dev/null || say "${names[$i]} exited (status $rc)"
	done
	stop_all
	exit $((rc ? rc : 1))
}

postfix_only() {
	local log=${RK_MAILLOG:-/dev/stdout} rc=0
	CONFIG=$BASE
	[ -f "$BASE" ] || make_config
	postfix_setup "$log"
	trap 'stop_all; exit 0' TERM INT
	if [ "$log" != /dev/stdout ]; then
		: >>"$log"
		start log tail -n 0 -F "$log"
	fi
	start postfix with_postfix_caps postfix start-fg
	wait -n "${pids[@]}" || rc=$?
	[ $stopping = 1 ] && exit 0
	stop_all
	exit $((rc ? rc : 1))
}

case "${1:-standalone}" in
standalone) standalone ;;
postfix) postfix_only ;;
milter | policyd | eventd | webhookd)
	CONFIG=$BASE
	[ -f "$BASE" ] || make_config
	cmd=$(daemon_cmd "$1")
	# shellcheck disable=SC2086
	if [ "$(id -u)" = 0 ]; then
		prepare_dirs
		exec setpriv --reuid=relaykit --regid=relaykit --init-groups \
			--inh-caps=-all --no-new-privs -- $cmd
	fi
	exec $cmd ;;
keygen)
	CONFIG=$BASE
	[ -f "$BASE" ] || make_config
	keygen ;;
config)
	make_config
	cat "$CONFIG" ;;
*) exec "$@" ;;
esac
