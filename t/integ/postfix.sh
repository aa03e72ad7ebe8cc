# SPDX-License-Identifier: MIT
# t/integ/postfix.sh: the configuration of a private Postfix instance on
# loopback, shared by the integration tests (lib.sh) and ./run.
#
# pf_configure DIR PORT [MAIN.CF LINES...]: config in DIR/etc, queue in
# DIR/queue, log in DIR/maillog; smtpd on 127.0.0.1:PORT, no chroot, no
# DNS (nothing leaves the machine: tests and ./run set relayhost to their
# sink), fast retries.  Postfix is then started with
# "postfix -c DIR/etc start" and never touches the system's instance.
pf_configure() {
	local dir=$1 port=$2; shift 2
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
	chown postfix "$dir/data"
	cat >"$dir/etc/main.cf" <<-CF
		compatibility_level = 3.6
		queue_directory = $dir/queue
		data_directory = $dir/data
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = relay.test
		mydomain = relay.test
		myorigin = relay.test
		mydestination =
		inet_interfaces = 127.0.0.1
		inet_protocols = ipv4
		mynetworks = 127.0.0.1/32
		smtp_dns_support_level = disabled
		smtpd_peername_lookup = no
		smtp_host_lookup = native
		smtpd_banner = \$myhostname ESMTP
		alias_maps =
		alias_database =
		local_recipient_maps =
		biff = no
		maillog_file_prefixes = $dir
		maillog_file = $dir/maillog
		smtp_tls_security_level = none
		smtpd_tls_security_level = none
		queue_run_delay = 1s
		minimal_backoff_time = 1s
		maximal_backoff_time = 2s
		delay_warning_time = 0
		smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
	CF
	for line in "$@"; do # a line for a parameter set above replaces it
		sed -i "/^${line%% *} = /d" "$dir/etc/main.cf"
		printf '%s\n' "$line" >>"$dir/etc/main.cf"
	done
	sed -e 's/^\(\S*\s\+\S\+\s\+\S\+\s\+\S\+\s\+\)y/\1n/' \
		-e "s/^smtp\(\s\+\)inet/127.0.0.1:$port\1inet/" \
		/usr/share/postfix/master.cf.dist >"$dir/etc/master.cf"
}
