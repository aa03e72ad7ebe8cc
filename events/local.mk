# events/: relaykit-verp now; relaykit-eventd and relaykit-bounce to come.
bin_PROGRAMS += events/relaykit-verp
events_relaykit_verp_SOURCES = events/verp.c
events_relaykit_verp_LDADD = $(RK_LIBS)
INTEG_TESTS += t/integ/verp_cli.t
dist_man_MANS += man/relaykit-verp.1
