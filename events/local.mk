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
events_relaykit_bounce_LDADD = $(RK_LIBS) $(RK_INAUTH_LIBS)
INTEG_TESTS += t/integ/bounce_pipe.t t/integ/bounce_parse.t
# lib/rk_inauth against a loopback BIND (inbound.security).
check_PROGRAMS += t/unit/inauth_check
t_unit_inauth_check_SOURCES = t/unit/inauth_check.c
t_unit_inauth_check_LDADD = $(RK_LIBS) $(RK_INAUTH_LIBS)
INTEG_TESTS += t/integ/inauth_dns.t
EXTRA_DIST += t/integ/bounce_score.py

# Fuzzing: the whole parser (t/fuzz/fuzz_bounce.c); seeds are a few
# corpus emails (BSD-2-Clause, sisimai's set-of-emails).
BN_PARSER = events/bn_parse.c events/bn_dsn.c events/bn_text.c \
	events/bn_arf.c events/bn_reason.c events/bn_json.c events/bn_out.c
FUZZ_NAMES += bounce
t/fuzz/fuzz_bounce: FUZZ_EXTRA = $(BN_PARSER) events/bn.h events/bn_out.h
t/fuzz/fuzz_bounce: $(BN_PARSER:%=$(top_srcdir)/%) $(top_srcdir)/events/bn.h
t/fuzz/fuzz_bounce: FUZZ_CFLAGS += -I$(top_srcdir)/events -I$(top_srcdir)/t
FUZZ_REPLAY += t/fuzz/replay_bounce
t_fuzz_replay_bounce_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_bounce.c \
	$(BN_PARSER)
t_fuzz_replay_bounce_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/events \
	$(JANSSON_CFLAGS) -DFUZZ_NAME='"bounce"'
dist_man_MANS += man/relaykit-bounce.8

# relaykit-eventd: the log follower that turns delivery outcomes into events.
sbin_PROGRAMS += events/relaykit-eventd
EV_CORE = events/ev_line.c events/ev_track.c events/ev_stats.c events/eventd.h
events_relaykit_eventd_SOURCES = events/eventd.c $(EV_CORE) \
	events/ev_follow.c events/ev_reader.c events/ev_store.c \
	events/ev_parse.c events/ev_pace.c $(EV_DASH)
nodist_events_relaykit_eventd_SOURCES = events/ev_dash_assets.c
events_relaykit_eventd_CPPFLAGS = $(AM_CPPFLAGS) $(EVENT_CFLAGS) \
	$(HIREDIS_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) \
	-I$(top_srcdir)/events
events_relaykit_eventd_LDADD = $(RK_LIBS) $(EVENT_LIBS)
dist_man_MANS += man/relaykit-eventd.8

UNIT_TESTS += t/unit/ev_line_test
t_unit_ev_line_test_SOURCES = t/unit/ev_line_test.c t/tap.h $(EV_CORE)
t_unit_ev_line_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/events \
	$(HIREDIS_CFLAGS)

# Fuzzing: the line parser and the tracker behind it.
FUZZ_NAMES += evline
t/fuzz/fuzz_evline: FUZZ_EXTRA = events/ev_line.c events/ev_track.c \
	events/ev_stats.c
t/fuzz/fuzz_evline: FUZZ_CFLAGS += -I$(top_srcdir)/events
FUZZ_REPLAY += t/fuzz/replay_evline
t_fuzz_replay_evline_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_evline.c $(EV_CORE)
t_fuzz_replay_evline_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/events \
	-DFUZZ_NAME='"evline"'
INTEG_TESTS += t/integ/eventd_postfix.t t/integ/eventd_rotate.t \
	t/integ/eventd_parse.t t/integ/eventd_backlog.t
EXTRA_DIST += t/integ/eventd_lib.sh
t/fuzz/fuzz_evline: $(top_srcdir)/events/ev_line.c \
	$(top_srcdir)/events/ev_track.c $(top_srcdir)/events/ev_stats.c \
	$(top_srcdir)/events/eventd.h

# relaykit-webhookd: the event stream to the application's endpoints.
sbin_PROGRAMS += events/relaykit-webhookd
events_relaykit_webhookd_SOURCES = events/webhookd.c events/wh.h \
	events/wh_sign.c events/wh_store.c events/wh_loop.c
events_relaykit_webhookd_CPPFLAGS = $(AM_CPPFLAGS) $(CURL_CFLAGS) \
	$(HIREDIS_CFLAGS) $(JANSSON_CFLAGS) $(EVENT_CFLAGS)
events_relaykit_webhookd_LDADD = $(RK_LIBS) $(CURL_LIBS) $(EVENT_LIBS)
dist_man_MANS += man/relaykit-webhookd.8

UNIT_TESTS += t/unit/wh_sign_test
t_unit_wh_sign_test_SOURCES = t/unit/wh_sign_test.c t/tap.h events/wh_sign.c
t_unit_wh_sign_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/events \
	$(HIREDIS_CFLAGS)
INTEG_TESTS += t/integ/webhookd.t t/integ/webhookd_crash.t \
	t/integ/webhookd_postfix.t
EXTRA_DIST += t/integ/webhookd_lib.sh t/integ/wh_receiver.py \
	t/integ/wh_verify.js
# Every Redis key the programs write expires or is bounded.
INTEG_TESTS += t/integ/redis_keys.t t/integ/redis_sentinel.t t/integ/fault_slow.t
# Issue 19: two relay hosts on one Redis; kill -9 of each part under load.
INTEG_TESTS += t/integ/multi_host.t t/integ/fault_kill.t
EXTRA_DIST += t/integ/delay_proxy.py

# The live dashboard (dashboard.watch) inside relaykit-eventd; its page
# (events/dash/) is compiled into the binary.
EV_DASH = events/ev_dash.c events/ev_dash.h events/ev_dash_auth.c \
	events/ev_dash_agg.c events/ev_dash_feed.c events/ev_dash_view.c
DASH_ASSETS = events/dash/index.html events/dash/dash.js \
	events/dash/dash.css
events/ev_dash_assets.c: $(DASH_ASSETS:%=$(top_srcdir)/%) \
	$(top_srcdir)/events/dash/mkassets.sh
	@$(MKDIR_P) events
	$(AM_V_GEN)$(SHELL) $(top_srcdir)/events/dash/mkassets.sh \
		$(top_srcdir)/events/dash >$@.tmp && mv $@.tmp $@
CLEANFILES += events/ev_dash_assets.c
EXTRA_DIST += $(DASH_ASSETS) events/dash/mkassets.sh

UNIT_TESTS += t/unit/ev_dash_test
t_unit_ev_dash_test_SOURCES = t/unit/ev_dash_test.c t/tap.h \
	events/ev_dash_auth.c events/ev_dash_agg.c events/ev_dash_view.c
t_unit_ev_dash_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/events \
	$(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
INTEG_TESTS += t/integ/dashboard.t t/integ/dashboard_load.t t/integ/grafana.t
EXTRA_DIST += t/integ/dash_browser.js t/integ/dash_inject.py \
	contrib/grafana/relaykit.json contrib/grafana/README.md
CLEANFILES += t/integ/artifacts/dashboard.png \
	t/integ/artifacts/dashboard-load.png

# Fuzzing: what the dashboard reads (stream events, login headers).
DASH_PARSER = events/ev_dash_view.c events/ev_dash_agg.c \
	events/ev_dash_auth.c
FUZZ_NAMES += dashview
t/fuzz/fuzz_dashview: FUZZ_EXTRA = $(DASH_PARSER)
t/fuzz/fuzz_dashview: FUZZ_CFLAGS += -I$(top_srcdir)/events
t/fuzz/fuzz_dashview: $(DASH_PARSER:%=$(top_srcdir)/%) \
	$(top_srcdir)/events/ev_dash.h
FUZZ_REPLAY += t/fuzz/replay_dashview
t_fuzz_replay_dashview_SOURCES = t/fuzz/replay.c t/fuzz/fuzz_dashview.c \
	$(DASH_PARSER)
t_fuzz_replay_dashview_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/events \
	$(JANSSON_CFLAGS) -DFUZZ_NAME='"dashview"'
