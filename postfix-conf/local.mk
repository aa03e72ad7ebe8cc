# relaykit-postconf: wires relaykit into Postfix through postconf(1).
sbin_PROGRAMS += postfix-conf/relaykit-postconf
postfix_conf_relaykit_postconf_SOURCES = postfix-conf/postconf.c \
	postfix-conf/pc.h postfix-conf/pc_desired.c postfix-conf/pc_postfix.c \
	postfix-conf/pc_safety.c postfix-conf/pc_state.c postfix-conf/pc_tls.c
postfix_conf_relaykit_postconf_LDADD = $(RK_LIBS)
# where relaykit-bounce is installed, for the pipe service it writes
postfix_conf_relaykit_postconf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DRK_BINDIR='"$(bindir)"'
INTEG_TESTS += t/integ/postconf_apply.t t/integ/postconf_relay.t \
	t/integ/postconf_upstream.t t/integ/quickstart.t \
	t/integ/postconf_pacing.t t/integ/postconf_coexist.t
dist_man_MANS += man/relaykit-postconf.8
