# milter: see Makefile.am for the conventions.
sbin_PROGRAMS += milter/relaykit-milter
milter_relaykit_milter_SOURCES = milter/milter.c milter/milter.h \
	milter/mlt_conn.c milter/mlt_dkim.c milter/mlt_dkim.h \
	milter/mlt_keys.c milter/mlt_keys.h \
	milter/mlt_sender.c milter/mlt_inbound.c milter/mlt_sign.c milter/mlt_verp.c
milter_relaykit_milter_CPPFLAGS = $(AM_CPPFLAGS) $(MILTER_CFLAGS) \
	$(OPENSSL_CFLAGS) $(EVENT_CFLAGS)
milter_relaykit_milter_LDADD = $(MILTER_LIBS) $(RK_LIBS) $(RK_INAUTH_LIBS) \
	$(EVENT_LIBS)

UNIT_TESTS += t/unit/mlt_dkim_test
t_unit_mlt_dkim_test_SOURCES = t/unit/mlt_dkim_test.c t/tap.h \
	milter/mlt_dkim.c milter/mlt_dkim.h

INTEG_TESTS += t/integ/daemon_privs.t
INTEG_TESTS += t/integ/milter_sign.t t/integ/milter_policy.t \
	t/integ/milter_valgrind.t t/integ/milter_miltertest.t \
	t/integ/milter_sender.t t/integ/milter_verp.t t/integ/milter_wire.t \
	t/integ/milter_inbound.t
EXTRA_DIST += t/integ/milter_lib.sh t/integ/milter_msgs.py \
	t/integ/milter_miltertest.lua \
	t/integ/milter_verify.py t/integ/milter_verify.pl

# Fuzzing: canonicalization and From parsing (t/fuzz/fuzz_dkim.c).
FUZZ_NAMES += dkim
t/fuzz/fuzz_dkim: FUZZ_EXTRA = milter/mlt_dkim.c
t/fuzz/fuzz_dkim: $(top_srcdir)/milter/mlt_dkim.c $(top_srcdir)/milter/mlt_dkim.h
FUZZ_REPLAY += t/fuzz/replay_dkim
t_fuzz_replay_dkim_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_dkim.c \
	milter/mlt_dkim.c
t_fuzz_replay_dkim_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"dkim"'
dist_man_MANS += man/relaykit-milter.8
