# SPDX-License-Identifier: MIT
# t/deps/install.sh: installs the Debian packages listed in t/deps/*.txt
# that are missing; quiet when everything is there.  Sourced by ./test and
# ./run.  rk_install_deps TOP LOGFILE WHO: returns non-zero on failure.
rk_install_deps() {
	local top=$1 log=$2 who=$3 missing="" p pkgs
	pkgs=$(sed 's/#.*//' "$top"/t/deps/*.txt | tr -s ' \n' ' ')
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "$who: missing packages:$missing (run as root to install them)"
		return 0
	fi
	echo "$who: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Debian's Postfix must not configure or start a system instance:
	# relaykit's tests and ./run use private instances of their own.
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	# another apt run (unattended upgrades) may hold the lock for a while
	apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$log" 2>&1 &&
		apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
			--no-install-recommends $missing >>"$log" 2>&1 || {
		echo "$who: apt-get failed (see $log)"
		return 1
	}
}

# rk_install_npm TOP LOGFILE WHO: installs the npm packages listed in
# t/deps/npm/*.txt (one file per area) that are missing into
# TOP/_build/npm (one project-local prefix; tests find the commands with
# npm_bin in t/integ/lib.sh).  Quiet and idempotent: nothing runs when
# every package is there.
rk_install_npm() {
	local top=$1 log=$2 who=$3 prefix=$1/_build/npm missing="" all="" p name
	ls "$top"/t/deps/npm/*.txt >/dev/null 2>&1 || return 0
	for p in $(sed 's/#.*//' "$top"/t/deps/npm/*.txt | sort -u); do
		all="$all $p"
		name=${p%@*}
		[ -n "$name" ] || name=$p # a scoped name without a version
		[ -f "$prefix/node_modules/$name/package.json" ] || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ]; then
		apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
			--no-install-recommends npm >>"$log" 2>&1
	fi
	command -v npm >/dev/null || { echo "$who: npm missing; cannot install:$missing"; return 0; }
	echo "$who: npm installing$missing"
	mkdir -p "$prefix"
	# Every listed package in one install, saved in the prefix's
	# package.json: npm removes from node_modules what that file does
	# not name, so installing only the missing ones would drop the rest.
	npm install --prefix "$prefix" --no-audit --no-fund --save-exact \
		--loglevel=error $all >>"$log" 2>&1 || {
		echo "$who: npm install failed (see $log)"
		return 1
	}
}
