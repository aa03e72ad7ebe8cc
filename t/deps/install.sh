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
