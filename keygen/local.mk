# keygen: see Makefile.am for the conventions.

bin_PROGRAMS += keygen/relaykit-keygen
keygen_relaykit_keygen_SOURCES = keygen/keygen.c keygen/keygen.h \
	keygen/kg_key.c keygen/kg_plan.c keygen/kg_txt.c
keygen_relaykit_keygen_CPPFLAGS = $(AM_CPPFLAGS) $(YAML_CFLAGS) \
	$(OPENSSL_CFLAGS)
dist_man_MANS += man/relaykit-keygen.8
INTEG_TESTS += t/integ/keygen.t
