# dnsctl: see Makefile.am for the conventions.
DC_SOURCES = dnsctl/dc.h dnsctl/dc_check.c dnsctl/dc_cf.c \
	dnsctl/dc_desired.c dnsctl/dc_dns.c dnsctl/dc_extdns.c \
	dnsctl/dc_http.c dnsctl/dc_ip.c dnsctl/dc_plan.c \
	dnsctl/dc_rfc2136.c dnsctl/dc_rr.c dnsctl/dc_txt.c
DC_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dnsctl $(OPENSSL_CFLAGS) \
	$(LDNS_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
DC_LIBS = $(RK_LIBS) $(LDNS_LIBS) $(CURL_LIBS)

sbin_PROGRAMS += dnsctl/relaykit-dnsctl
dnsctl_relaykit_dnsctl_SOURCES = dnsctl/dnsctl.c $(DC_SOURCES)
dnsctl_relaykit_dnsctl_CPPFLAGS = $(DC_CPPFLAGS)
dnsctl_relaykit_dnsctl_LDADD = $(DC_LIBS)
dist_man_MANS += man/relaykit-dnsctl.8

INTEG_TESTS += t/integ/dnsctl_rfc2136.t t/integ/dnsctl_knot.t \
	t/integ/dnsctl_cloudflare.t t/integ/dnsctl_extdns.t \
	t/integ/dnsctl_watch.t t/integ/dnsctl_kube.t
EXTRA_DIST += t/integ/dnsctl_lib.sh t/integ/dnsctl_cf_fake.py \
	t/integ/dnsctl_http.py t/integ/dnsctl_dnsendpoint.schema.json

# Fuzzing: DNS answers, TXT text, SPF, ownership records, API answers.
FUZZ_NAMES += dns
DC_FUZZ_SRC = $(filter %.c,$(DC_SOURCES))
check_PROGRAMS += t/fuzz/replay_dns
TESTS += t/fuzz/replay_dns
t_fuzz_replay_dns_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_dns.c $(DC_SOURCES)
t_fuzz_replay_dns_CPPFLAGS = $(DC_CPPFLAGS) -DFUZZ_NAME='"dns"'
t_fuzz_replay_dns_LDADD = $(DC_LIBS)
t/fuzz/fuzz_dns: FUZZ_EXTRA = $(DC_FUZZ_SRC)
t/fuzz/fuzz_dns: FUZZ_CFLAGS += -I$(top_srcdir)/dnsctl $(LDNS_CFLAGS) \
	$(CURL_CFLAGS)
t/fuzz/fuzz_dns: FUZZ_LIBS = $(LDNS_LIBS) $(CURL_LIBS)
t/fuzz/fuzz_dns: $(DC_FUZZ_SRC:%=$(top_srcdir)/%)

check_PROGRAMS += t/unit/dc_test
TESTS += t/unit/dc_test
t_unit_dc_test_SOURCES = t/unit/dc_test.c t/tap.h $(DC_SOURCES)
t_unit_dc_test_CPPFLAGS = $(DC_CPPFLAGS)
t_unit_dc_test_LDADD = $(DC_LIBS)
