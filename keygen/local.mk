# keygen: see Makefile.am for the conventions.

bin_PROGRAMS += keygen/relaykit-keygen
keygen_relaykit_keygen_SOURCES = keygen/keygen.c keygen/keygen.h \
	keygen/kg_key.c keygen/kg_txt.c
keygen_relaykit_keygen_CPPFLAGS = $(AM_CPPFLAGS) $(YAML_CFLAGS) \
	$(OPENSSL_CFLAGS)
dist_man_MANS += man/relaykit-keygen.8
INTEG_TESTS += t/integ/keygen.t

check_PROGRAMS += t/unit/kg_test
TESTS += t/unit/kg_test
t_unit_kg_test_SOURCES = t/unit/kg_test.c t/tap.h keygen/keygen.h \
	keygen/kg_key.c keygen/kg_txt.c
t_unit_kg_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/keygen \
	$(YAML_CFLAGS) $(OPENSSL_CFLAGS)
