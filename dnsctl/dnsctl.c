/* SPDX-License-Identifier: MIT */
/*
 * relaykit-dnsctl: the relay's DNS records (A/AAAA, MX, SPF, DKIM, DMARC)
 * planned, applied, checked and watched, through the Cloudflare API, RFC
 * 2136 dynamic update or external-dns.
 *
 * Verbs: plan (the default: every change, old -> new; exit 0 none, 2
 * some, 1 error), apply, check (what the authoritative servers serve,
 * DKIM keys against the keys on disk), wait (until every record is
 * visible, for an init container) and watch (a sidecar: the addresses
 * again every interval, applied when they or the config change).  Plans
 * go to standard output, messages to standard error; secrets never
 * appear in either.  Single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include <curl/curl.h>

#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_parse.h"
#include "rk_str.h"
#include "dc.h"

enum verb { V_PLAN, V_APPLY, V_CHECK, V_WAIT, V_WATCH };

struct opts {
	int verb; /* enum verb */
	const char *config;
	const char *output;
	bool check_only; /* -n */
	bool force, adopt, prune;
	uint64_t timeout_ms; /* wait --timeout; 0: the config's */
};

static const struct {
	const char *name;
	int verb;
} verbs[] = {
	{ "plan", V_PLAN },
	{ "apply", V_APPLY },
	{ "check", V_CHECK },
	{ "wait", V_WAIT },
	{ "watch", V_WATCH },
};

static void msg(const char *fmt, ...) RK_PRINTF(1, 2);

static void
msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", DC_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-c FILE] [--force] [--adopt] [--prune] [-o FILE] "
	    "[plan | apply]\n"
	    "       %s [-c FILE] check\n"
	    "       %s [-c FILE] [--timeout DURATION] wait\n"
	    "       %s [-c FILE] [--force] [--adopt] watch\n"
	    "       %s -n [-c FILE] | -V | --help\n"
	    "\n"
	    "  plan        print every change, old -> new (exit 0: none, 2: "
	    "some, 1: error)\n"
	    "  apply       make the changes\n"
	    "  check       ask every authoritative server; DKIM keys against "
	    "the keys on disk\n"
	    "  wait        until every record is visible "
	    "(dns.waitForRecords.timeout)\n"
	    "  watch       detect the addresses every dns.watcher.interval; "
	    "apply changes\n"
	    "\n"
	    "  -c, --config FILE   relaykit.yaml (default %s)\n"
	    "      --force         apply a plan over dns.maxChangePercent\n"
	    "      --adopt         take over conflicting records nobody "
	    "owns\n"
	    "      --prune         delete own records the config no longer "
	    "names\n"
	    "  -o, --output FILE   external-dns: write the DNSEndpoint here "
	    "('-': stdout)\n"
	    "      --timeout DUR   wait this long (e.g. 90s, 10m)\n"
	    "  -n                  check the configuration and exit\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "  -V, --version       print the version and exit\n",
	    DC_PROG, DC_PROG, DC_PROG, DC_PROG, DC_PROG, RK_CFG_DEFAULT_PATH);
}

/* ------------------------------------------------------------ options */

enum { OPT_FORCE = 256, OPT_ADOPT, OPT_PRUNE, OPT_TIMEOUT };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "adopt", no_argument, NULL, OPT_ADOPT },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static int
parse_verb(const char *s, struct opts *o)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(s, verbs[i].name) == 0) {
			o->verb = verbs[i].verb;
			return 0;
		}
	}
	msg("unknown verb \"%s\" (plan, apply, check, wait, watch)", s);
	return -1;
}

static int
parse_timeout(const char *s, struct opts *o)
{
	struct rk_err err;

	if (rk_duration_parse(s, 0, &o->timeout_ms, &err) == 0)
		return 0;
	msg("--timeout %s: %s (write e.g. 90s or 10m)", s, err.msg);
	return -1;
}

/* 0: run; -1: usage error; 1: done (help, version). */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	while (
	    (c = getopt_long(argc, argv, "c:fho:nVv", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'f':
			break; /* messages always go to standard error */
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_ADOPT:
			o->adopt = true;
			break;
		case OPT_PRUNE:
			o->prune = true;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, o) == -1)
				return -1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf("%s %s\n", DC_PROG, PACKAGE_VERSION);
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc && parse_verb(argv[optind++], o) == -1)
		return -1;
	if (optind != argc) {
		msg("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ config */

static struct rk_cfg *
load_config(const char *path)
{
	struct rk_cfg_diag diag;
	/* Least privilege: only the dns section's secret files. */
	struct rk_cfg *cfg =
	    rk_cfg_load_file(path, RK_CFG_SECRETS | RK_CFG_SEC_DNS, &diag);

	if (cfg == NULL) {
		rk_cfg_diag_print(&diag, stderr);
		fprintf(stderr, "%s: %zu error%s\n", path, diag.n,
		    diag.n == 1 ? "" : "s");
		rk_cfg_diag_free(&diag);
	}
	return cfg;
}

static const struct dc_backend *
backend_of(const struct rk_cfg *cfg)
{
	static const struct dc_backend *const by_provider[] = {
		[RK_DNS_CLOUDFLARE] = &dc_backend_cloudflare,
		[RK_DNS_RFC2136] = &dc_backend_rfc2136,
		[RK_DNS_EXTERNAL_DNS] = &dc_backend_extdns,
	};

	return by_provider[cfg->dns.provider];
}

/*
 * The addresses (given, or detected) and the records they make; with
 * DNS management off, the DKIM records alone (for check).
 */
static int
desired(const struct rk_cfg *cfg, const struct dc_ips *given,
    struct dc_ips *ips, struct dc_desired *d, FILE *log, struct rk_err *err)
{
	bool dkim_only = !cfg->dns.enabled;

	if (given != NULL || dkim_only) {
		memset(ips, 0, sizeof(*ips));
		for (size_t i = 0; given != NULL && i < given->n; i++)
			dc_ips_add(ips, &given->v[i]);
	} else if (dc_ip_detect(cfg, ips, log, err) == -1) {
		return -1;
	}
	if (dc_desired_build(cfg, ips, dkim_only, d, err) == -1) {
		dc_ips_free(ips);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ plans */

/* Every zone the wants fall into, with the wants (borrowed) in each. */
struct zones {
	struct dc_zone *v;
	struct dc_plan *plans;
	size_t n;
};

static void
zones_free(struct zones *zs)
{
	for (size_t i = 0; i < zs->n; i++) {
		dc_zone_clear(&zs->v[i]);
		if (zs->plans != NULL)
			dc_plan_free(&zs->plans[i]);
	}
	free(zs->v);
	free(zs->plans);
	memset(zs, 0, sizeof(*zs));
}

static int
zones_group(struct dc_ctx *ctx, const struct dc_desired *d, struct zones *zs,
    struct rk_err *err)
{
	memset(zs, 0, sizeof(*zs));
	for (size_t i = 0; i < d->n; i++) {
		char *zone, *id;
		struct dc_zone *z = NULL;

		if (ctx->be->zone_of(ctx, d->v[i].name, &zone, &id, err) == -1)
			return -1;
		for (size_t j = 0; j < zs->n && z == NULL; j++)
			if (strcmp(zs->v[j].name, zone) == 0)
				z = &zs->v[j];
		if (z == NULL) {
			zs->v =
			    rk_reallocarray(zs->v, zs->n + 1, sizeof(*zs->v));
			z = &zs->v[zs->n++];
			memset(z, 0, sizeof(*z));
			z->name = zone;
			z->id = id;
		} else {
			free(zone);
			free(id);
		}
		z->wants =
		    rk_reallocarray(z->wants, z->nwants + 1, sizeof(*z->wants));
		z->wants[z->nwants++] = &d->v[i];
	}
	return 0;
}

/* Reads and plans every zone; prints the plans.  Total changes or -1. */
static long
plan_all(struct dc_ctx *ctx, const struct opts *o, const struct dc_desired *d,
    struct zones *zs, struct rk_err *err)
{
	struct dc_dns *helper = dc_dns_helper(ctx->cfg, err);
	struct dc_spf_fetch fetch = { dc_dns_spf_fetch, helper };
	struct dc_plan_opts po = { d->owner, d->ttl, o->adopt, o->prune,
		&fetch };
	long total = 0;

	if (helper == NULL || zones_group(ctx, d, zs, err) == -1) {
		dc_dns_free(helper);
		return -1;
	}
	zs->plans = rk_calloc(zs->n ? zs->n : 1, sizeof(*zs->plans));
	for (size_t i = 0; i < zs->n && total >= 0; i++) {
		if (ctx->be->read(ctx, &zs->v[i], err) == -1 ||
		    dc_plan_zone(&zs->v[i], &po, &zs->plans[i], err) == -1) {
			total = -1;
			break;
		}
		dc_plan_print(ctx->out, &zs->v[i], &zs->plans[i]);
		total += (long)zs->plans[i].n;
	}
	for (size_t i = 0; i < zs->n && total >= 0; i++)
		if (!o->force &&
		    dc_plan_too_big(&zs->v[i], &zs->plans[i],
		        ctx->cfg->dns.maxChangePercent, err))
			total = -1;
	dc_dns_free(helper);
	return total;
}

static int
apply_all(struct dc_ctx *ctx, struct zones *zs, struct rk_err *err)
{
	for (size_t i = 0; i < zs->n; i++)
		if (ctx->be->apply(ctx, &zs->v[i], &zs->plans[i], err) == -1)
			return -1;
	if (ctx->be->finish != NULL && ctx->be->finish(ctx, err) == -1)
		return -1;
	return 0;
}

/* plan or apply once (with the addresses given, or detected). */
static int
plan_apply(const struct rk_cfg *cfg, const struct opts *o, bool apply,
    FILE *out, const struct dc_ips *given)
{
	struct dc_ctx ctx = { cfg, backend_of(cfg), NULL, out, stderr,
		o->output, { NULL, 0 } };
	struct dc_ips ips = { NULL, 0 };
	struct dc_desired d;
	struct zones zs = { NULL, NULL, 0 };
	struct rk_err err;
	long n;
	int rc = DC_EXIT_ERROR;

	if (desired(cfg, given, &ips, &d, stderr, &err) == -1) {
		msg("%s", err.msg);
		return DC_EXIT_ERROR;
	}
	n = plan_all(&ctx, o, &d, &zs, &err);
	if (n < 0)
		msg("%s", err.msg);
	else if (!apply)
		rc = n > 0 ? DC_EXIT_CHANGES : DC_EXIT_OK;
	else if (apply_all(&ctx, &zs, &err) == -1)
		msg("%s", err.msg);
	else {
		msg("%ld change%s applied (%s)", n, n == 1 ? "" : "s",
		    ctx.be->name);
		rc = DC_EXIT_OK;
	}
	ctx.be->close(&ctx);
	dc_rrs_free(&ctx.final);
	zones_free(&zs);
	dc_desired_free(&d);
	dc_ips_free(&ips);
	return rc;
}

/* ------------------------------------------------------- check, wait */

static int
check_or_wait(const struct rk_cfg *cfg, const struct opts *o)
{
	struct dc_ips ips = { NULL, 0 };
	struct dc_desired d;
	struct rk_err err;
	uint64_t timeout =
	    o->timeout_ms ? o->timeout_ms : cfg->dns.waitForRecords.timeout;
	int rc;

	if (o->verb == V_WAIT && !cfg->dns.waitForRecords.enabled &&
	    o->timeout_ms == 0) {
		msg("dns.waitForRecords.enabled is false: not waiting");
		return DC_EXIT_OK;
	}
	if (desired(cfg, NULL, &ips, &d, stderr, &err) == -1) {
		msg("%s", err.msg);
		return DC_EXIT_ERROR;
	}
	rc = o->verb == V_CHECK ? dc_check(cfg, &d, stdout, stderr)
	                        : dc_wait(cfg, &d, timeout, stderr);
	dc_desired_free(&d);
	dc_ips_free(&ips);
	return rc;
}

/* -------------------------------------------------------------- watch */

struct watch {
	const char *path;
	struct rk_cfg *cfg;
	struct timespec mtime;
	struct dc_ips last; /* applied */
	bool dirty;         /* apply at the next round */
};

static bool
config_changed(struct watch *w)
{
	struct stat st;

	if (stat(w->path, &st) == -1)
		return false;
	return st.st_mtim.tv_sec != w->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != w->mtime.tv_nsec;
}

static void
config_reload(struct watch *w)
{
	struct stat st;
	struct rk_cfg *cfg;

	if (stat(w->path, &st) == 0)
		w->mtime = st.st_mtim;
	cfg = load_config(w->path);
	if (cfg == NULL) {
		rk_log_warnx(
		    "config=%s action=kept reason=\"errors above\"", w->path);
		return;
	}
	rk_cfg_unref(w->cfg);
	w->cfg = cfg;
	w->dirty = true;
	rk_log_info("config=%s action=reloaded", w->path);
}

static void
watch_round(struct watch *w, const struct opts *o)
{
	struct dc_ips ips;
	struct rk_err err;
	struct rk_buf b;
	int rc;

	if (dc_ip_detect(w->cfg, &ips, stderr, &err) == -1) {
		rk_log_warnx("action=detect error=\"%s\"", err.msg);
		return;
	}
	if (!w->dirty && dc_ips_equal(&ips, &w->last)) {
		dc_ips_free(&ips);
		return;
	}
	rk_buf_init(&b);
	dc_ips_format(&ips, &b);
	rc = plan_apply(w->cfg, o, true, stderr, &ips);
	rk_log_info("action=apply addresses=\"%s\" result=%s", b.data,
	    rc == DC_EXIT_OK ? "ok" : "failed, again next round");
	rk_buf_free(&b);
	if (rc != DC_EXIT_OK) {
		dc_ips_free(&ips);
		w->dirty = true;
		return;
	}
	dc_ips_free(&w->last);
	w->last = ips;
	w->dirty = false;
}

/* Sleeps ms, or less when a signal comes: its number, or 0. */
static int
wait_signal(const sigset_t *set, uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000L };
	int sig = sigtimedwait(set, NULL, &ts);

	return sig > 0 ? sig : 0;
}

static int
watch(struct rk_cfg *cfg, const struct opts *o, const char *path)
{
	struct watch w = { path, cfg, { 0, 0 }, { NULL, 0 }, true };
	struct stat st;
	sigset_t set;
	int sig = 0;

	if (!cfg->dns.watcher.enabled) {
		msg("dns.watcher.enabled is false: nothing to watch");
		return EX_CONFIG;
	}
	if (stat(path, &st) == 0)
		w.mtime = st.st_mtim;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	rk_log_info("action=watch interval=%llums provider=%s",
	    (unsigned long long)cfg->dns.watcher.interval,
	    backend_of(cfg)->name);
	while (sig != SIGTERM && sig != SIGINT) {
		if (sig == SIGHUP || config_changed(&w))
			config_reload(&w);
		watch_round(&w, o);
		sig = wait_signal(&set, w.cfg->dns.watcher.interval);
	}
	rk_log_info("action=stop signal=%d", sig);
	dc_ips_free(&w.last);
	if (w.cfg != cfg)
		rk_cfg_unref(w.cfg);
	return 0;
}

/* ------------------------------------------------------------- main */

static int
run(const struct opts *o)
{
	const char *path = o->config ? o->config : RK_CFG_DEFAULT_PATH;
	struct rk_cfg *cfg = load_config(path);
	int rc;

	if (cfg == NULL)
		return EX_CONFIG;
	if (!cfg->dns.enabled && o->verb != V_CHECK) {
		msg("dns.enabled is false in %s: no records to manage", path);
		rk_cfg_unref(cfg);
		return o->verb == V_WATCH ? EX_CONFIG : DC_EXIT_OK;
	}
	if (!cfg->dns.enabled)
		msg("dns.enabled is false: checking the DKIM keys only");
	rk_log_open(DC_PROG, RK_LOG_STDERR, (enum rk_log_level)cfg->log.level);
	switch (o->verb) {
	case V_CHECK:
	case V_WAIT:
		rc = check_or_wait(cfg, o);
		break;
	case V_WATCH:
		rc = watch(cfg, o, path);
		break;
	default:
		rc = plan_apply(cfg, o, o->verb == V_APPLY,
		    o->verb == V_APPLY &&
		            cfg->dns.provider == RK_DNS_EXTERNAL_DNS
		        ? stderr
		        : stdout,
		    NULL);
	}
	rk_cfg_unref(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o = { .verb = V_PLAN };
	int rc = parse_opts(argc, argv, &o);

	if (rc == 1)
		return 0;
	if (rc == -1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (o.check_only)
		return rk_cfg_check_main(
		    o.config ? o.config : RK_CFG_DEFAULT_PATH, stdout, stderr);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		msg("curl_global_init failed");
		return DC_EXIT_ERROR;
	}
	rc = run(&o);
	curl_global_cleanup();
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg("standard output: %s", strerror(errno));
		return EX_IOERR;
	}
	return rc;
}
