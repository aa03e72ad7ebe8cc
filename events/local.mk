# events/: relaykit-verp now; relaykit-eventd and relaykit-bounce to come.
bin_PROGRAMS += events/relaykit-verp
events_relaykit_verp_SOURCES = events/verp.c
events_relaykit_verp_LDADD = $(RK_LIBS)
INTEG_TESTS += t/integ/verp_cli.t
dist_man_MANS += man/relaykit-verp.1

# relaykit-bounce: the pipe(8) transport for bounces and complaints.
bin_PROGRAMS += events/relaykit-bounce
events_relaykit_bounce_SOURCES = events/bounce.c events/bn.h \
	events/bn_parse.c events/bn_dsn.c events/bn_text.c events/bn_arf.c \
	events/bn_reason.c events/bn_json.c events/bn_out.c events/bn_out.h \
	events/bn_pipe.c events/bn_pipe.h
events_relaykit_bounce_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	$(HIREDIS_CFLAGS)
events_relaykit_bounce_LDADD = $(RK_LIBS)
INTEG_TESTS += t/integ/bounce_pipe.t t/integ/bounce_parse.t
EXTRA_DIST += t/integ/bounce_score.py
