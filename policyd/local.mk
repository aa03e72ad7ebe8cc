# policyd: see Makefile.am for the conventions.
sbin_PROGRAMS += policyd/relaykit-policyd
policyd_relaykit_policyd_SOURCES = policyd/policyd.c policyd/policyd.h \
	policyd/pd_request.c policyd/pd_policy.c policyd/pd_ratelimit.lua.h \
	policyd/pd_redis.c policyd/pd_server.c policyd/pd_metrics.c \
	policyd/pd_sasl.h policyd/pd_sasl_proto.c policyd/pd_sasl.c \
	policyd/pd_auth.c policyd/pd_gate.c policyd/pd_sockmap.h \
	policyd/pd_sockmap_proto.c policyd/pd_sockmap.c policyd/pd_pace.c \
	policyd/pd_pace_status.c
policyd_relaykit_policyd_CPPFLAGS = $(AM_CPPFLAGS) $(EVENT_CFLAGS) \
	$(HIREDIS_CFLAGS)
policyd_relaykit_policyd_LDADD = $(RK_LIBS) $(EVENT_LIBS) -lcrypt
dist_man_MANS += man/relaykit-policyd.8

check_PROGRAMS += t/unit/pd_request_test
TESTS += t/unit/pd_request_test
t_unit_pd_request_test_SOURCES = t/unit/pd_request_test.c t/tap.h \
	policyd/pd_request.c
t_unit_pd_request_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/policyd \
	$(HIREDIS_CFLAGS)

FUZZ_NAMES += policy
check_PROGRAMS += t/fuzz/replay_policy
TESTS += t/fuzz/replay_policy
t_fuzz_replay_policy_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_policy.c \
	policyd/pd_request.c
t_fuzz_replay_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/policyd \
	-DFUZZ_NAME='"policy"'
t/fuzz/fuzz_policy: FUZZ_EXTRA = policyd/pd_request.c
t/fuzz/fuzz_policy: FUZZ_CFLAGS += -I$(top_srcdir)/policyd
t/fuzz/fuzz_policy: $(top_srcdir)/policyd/pd_request.c

check_PROGRAMS += t/unit/pd_sasl_test
TESTS += t/unit/pd_sasl_test
t_unit_pd_sasl_test_SOURCES = t/unit/pd_sasl_test.c t/tap.h \
	policyd/pd_sasl_proto.c
t_unit_pd_sasl_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/policyd

FUZZ_NAMES += sasl
check_PROGRAMS += t/fuzz/replay_sasl
TESTS += t/fuzz/replay_sasl
t_fuzz_replay_sasl_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_sasl.c \
	policyd/pd_sasl_proto.c
t_fuzz_replay_sasl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/policyd \
	-DFUZZ_NAME='"sasl"'
t/fuzz/fuzz_sasl: FUZZ_EXTRA = policyd/pd_sasl_proto.c
t/fuzz/fuzz_sasl: FUZZ_CFLAGS += -I$(top_srcdir)/policyd
t/fuzz/fuzz_sasl: $(top_srcdir)/policyd/pd_sasl_proto.c

check_PROGRAMS += t/unit/pd_sockmap_test
TESTS += t/unit/pd_sockmap_test
t_unit_pd_sockmap_test_SOURCES = t/unit/pd_sockmap_test.c t/tap.h \
	policyd/pd_sockmap_proto.c
t_unit_pd_sockmap_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/policyd

FUZZ_NAMES += sockmap
check_PROGRAMS += t/fuzz/replay_sockmap
TESTS += t/fuzz/replay_sockmap
t_fuzz_replay_sockmap_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_sockmap.c \
	policyd/pd_sockmap_proto.c
t_fuzz_replay_sockmap_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/policyd \
	-DFUZZ_NAME='"sockmap"'
t/fuzz/fuzz_sockmap: FUZZ_EXTRA = policyd/pd_sockmap_proto.c
t/fuzz/fuzz_sockmap: FUZZ_CFLAGS += -I$(top_srcdir)/policyd
t/fuzz/fuzz_sockmap: $(top_srcdir)/policyd/pd_sockmap_proto.c

INTEG_TESTS += t/integ/pacing.t t/integ/pacing_warmup.t
INTEG_TESTS += t/integ/policyd_protocol.t t/integ/policyd_postfix.t \
	t/integ/auth_sasl.t t/integ/auth_postfix.t t/integ/auth_postfix_tcp.t \
	t/integ/auth_restart.t
EXTRA_DIST += t/integ/auth_client.py t/integ/auth_load.py \
	t/integ/sockholder.py
EXTRA_DIST += t/integ/policyd_lib.sh t/integ/policyd_client.py \
	t/integ/policyd_smtp.py
EXTRA_DIST += bench/policy/run bench/policy/loadgen.c
