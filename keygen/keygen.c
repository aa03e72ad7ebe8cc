/* SPDX-License-Identifier: MIT */
/*
 * relaykit-keygen: DKIM keys for relaykit-milter, and the DNS records that
 * publish them.
 *
 * Modes: make one key (default), print the record of existing keys
 * (--print), make every key relaykit.yaml names that is missing (--all;
 * idempotent, for an init container), check the config (-n).  Records go
 * to standard output, everything else to standard error, so the output
 * can be piped into a zone file or a JSON tool.  Exits with sysexits(3)
 * codes.  Single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "rk_addr.h"
#include "rk_cfg.h"
#include "rk_mem.h"
#include "rk_str.h"
#include "keygen.h"

#define PROG "relaykit-keygen"

enum kg_mode {
	MODE_CREATE,
	MODE_PRINT,
	MODE_CHECK,
};

struct opts {
	int mode; /* enum kg_mode */
	bool all;
	bool force;
	bool rotate;
	int fmt;            /* enum kg_format */
	int alg;            /* -1: not given */
	int bits;           /* 0: not given */
	const char *config; /* NULL: not given */
	const char *domain; /* -d */
	const char *selector;
	const char *keyfile; /* -k */
	const char *keydir;  /* -K */
	const char *rotate_sel;
};

static void msg(const char *fmt, ...) RK_PRINTF(1, 2);

static void
msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-c FILE] [-a rsa|ed25519] [-b BITS] [-K DIR | -k "
	    "FILE]\n"
	    "           [-f zone|text|json] [--force | --rotate[=SEL]] -d "
	    "DOMAIN [-s SEL]\n"
	    "       %s --print [-c FILE] [-K DIR | -k FILE] [-f FMT] -d "
	    "DOMAIN [-s SEL]\n"
	    "       %s --all [--print] [-c FILE] [-f FMT]\n"
	    "       %s -n [-c FILE] | -V | --help\n"
	    "\n"
	    "  -d, --domain DOMAIN    the signing domain (d=)\n"
	    "  -s, --selector SEL     the selector (default: the domain's in "
	    "-c FILE,\n"
	    "                         else mail / mail-ed25519)\n"
	    "  -a, --algorithm ALG    rsa (default) or ed25519\n"
	    "  -b, --bits BITS        RSA size: 1024, 2048 (default), 3072, "
	    "4096\n"
	    "  -K, --key-dir DIR      key folder (default dkim.keyDir, "
	    "%s)\n"
	    "  -k, --key-file FILE    the key file itself\n"
	    "  -f, --format FMT       zone (default), text or json\n"
	    "      --force            replace an existing key\n"
	    "      --rotate[=SEL]     new key under a new selector (default "
	    "sYYYYMMDD),\n"
	    "                         keeping the old one\n"
	    "  -p, --print            print the record of existing keys\n"
	    "      --all              every key -c FILE names: create the "
	    "missing ones\n"
	    "  -c, --config FILE      relaykit.yaml (default %s)\n"
	    "  -n                     check the configuration and exit\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "  -V, --version          print the version and exit\n",
	    PROG, PROG, PROG, PROG, KG_DEFAULT_KEYDIR, RK_CFG_DEFAULT_PATH);
}

/* ------------------------------------------------------------ options */

static int
parse_value_opt(struct opts *o, int c, const char *arg)
{
	char *end;
	long v;

	switch (c) {
	case 'a':
		if (kg_alg_parse(arg, &o->alg) == 0)
			return 0;
		msg("-a %s: want rsa or ed25519", arg);
		return -1;
	case 'b':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno == 0 && *end == '\0' && kg_bits_ok(v)) {
			o->bits = (int)v;
			return 0;
		}
		msg("-b %s: want 1024, 2048, 3072 or 4096", arg);
		return -1;
	case 'f':
		if (kg_format_parse(arg, &o->fmt) == 0)
			return 0;
		msg("-f %s: want zone, text or json", arg);
		return -1;
	default:
		rk_panic("parse_value_opt: option %c", c);
	}
}

enum { OPT_FORCE = 256, OPT_ROTATE, OPT_ALL };

static const struct option long_opts[] = {
	{ "algorithm", required_argument, NULL, 'a' },
	{ "bits", required_argument, NULL, 'b' },
	{ "config", required_argument, NULL, 'c' },
	{ "domain", required_argument, NULL, 'd' },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "key-file", required_argument, NULL, 'k' },
	{ "key-dir", required_argument, NULL, 'K' },
	{ "print", no_argument, NULL, 'p' },
	{ "selector", required_argument, NULL, 's' },
	{ "version", no_argument, NULL, 'V' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "rotate", optional_argument, NULL, OPT_ROTATE },
	{ "all", no_argument, NULL, OPT_ALL },
	{ NULL, 0, NULL, 0 },
};

/* 0: run; -1: usage error; 1: done (help, version). */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "a:b:c:d:f:hk:K:nps:Vv", long_opts,
	            NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'b':
		case 'f':
			if (parse_value_opt(o, c, optarg) == -1)
				return -1;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->domain = optarg;
			break;
		case 'k':
			o->keyfile = optarg;
			break;
		case 'K':
			o->keydir = optarg;
			break;
		case 's':
			o->selector = optarg;
			break;
		case 'n':
			o->mode = MODE_CHECK;
			break;
		case 'p':
			o->mode = MODE_PRINT;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_ALL:
			o->all = true;
			break;
		case OPT_ROTATE:
			o->rotate = true;
			o->rotate_sel = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf("%s %s\n", PROG, PACKAGE_VERSION);
			return 1;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		msg("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	return 0;
}

/* Combinations that make no sense are refused rather than guessed at. */
static int
check_opts(const struct opts *o)
{
	if (o->mode == MODE_CHECK)
		return 0;
	if (o->force && o->rotate) {
		msg("--force and --rotate: choose one");
		return -1;
	}
	if (o->all &&
	    (o->domain || o->selector || o->keyfile || o->keydir || o->rotate ||
	        o->force || o->alg != -1 || o->bits)) {
		msg("--all takes its keys from the config: only -c, -f and "
		    "--print go with it");
		return -1;
	}
	if (!o->all && o->domain == NULL) {
		msg("-d DOMAIN is needed (or --all)");
		return -1;
	}
	if (o->mode == MODE_PRINT && (o->rotate || o->force || o->bits)) {
		msg("--print reads a key: --force, --rotate and -b do not "
		    "apply");
		return -1;
	}
	if (o->keyfile && o->keydir) {
		msg("-k and -K: choose one");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ config */

static struct rk_cfg *
load_config(const char *path)
{
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg = rk_cfg_load_file(path, RK_CFG_SECRETS, &diag);

	if (cfg == NULL) {
		rk_cfg_diag_print(&diag, stderr);
		fprintf(stderr, "%s: %zu error%s\n", path, diag.n,
		    diag.n == 1 ? "" : "s");
		rk_cfg_diag_free(&diag);
	}
	return cfg;
}

/* ------------------------------------------------------- one key spec */

/* The key the config gives for this domain (and selector / algorithm). */
static const struct rk_dkimkey_spec *
find_spec(const struct rk_dkimkey_spec *specs, size_t n, const char *domain,
    const struct opts *o)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(specs[i].domain, domain) != 0)
			continue;
		if (o->selector && strcmp(specs[i].selector, o->selector) != 0)
			continue;
		if (!o->selector && o->alg != -1 && specs[i].alg != o->alg)
			continue;
		return &specs[i];
	}
	return NULL;
}

/*
 * Fills spec from the options, then from the config's key for the domain
 * when -c was given, then from the built-in defaults (the schema's).
 */
static int
resolve_one(const struct opts *o, const struct rk_cfg *cfg,
    const struct rk_dkimkey_spec *specs, size_t nspecs,
    struct rk_dkimkey_spec *spec)
{
	char domain[RK_ADDR_DOMAIN_MAX + 1];
	const struct rk_dkimkey_spec *c;
	const char *keydir = KG_DEFAULT_KEYDIR;
	struct rk_err err;

	if (strlen(o->domain) >= sizeof(domain) ||
	    rk_domain_check(o->domain, strlen(o->domain), 0, &err) == -1) {
		msg("-d %s: not a domain name", o->domain);
		return -1;
	}
	strcpy(domain, o->domain);
	rk_domain_normalize(domain);
	c = find_spec(specs, nspecs, domain, o);
	spec->domain = rk_strdup(domain);
	spec->alg = o->alg != -1 ? o->alg
	    : c                  ? c->alg
	    : cfg && cfg->dkim.algorithm == RK_DKIM_ED25519_SHA256
	    ? RK_DKIMKEY_ED25519
	    : RK_DKIMKEY_RSA;
	spec->bits = o->bits ? o->bits
	    : c              ? c->bits
	    : cfg            ? (int)cfg->dkim.keySize
	                     : KG_DEFAULT_BITS;
	spec->selector = rk_strdup(o->selector    ? o->selector
	        : c                               ? c->selector
	        : spec->alg == RK_DKIMKEY_ED25519 ? "mail-ed25519"
	                                          : "mail");
	if (rk_dkimkey_selector_check(spec->selector, &err) == -1) {
		msg("%s", err.msg);
		return -1;
	}
	if (cfg != NULL)
		keydir = cfg->dkim.keyDir;
	if (o->keyfile)
		spec->path = rk_strdup(o->keyfile);
	else if (o->keydir)
		spec->path =
		    rk_dkimkey_default_path(o->keydir, domain, spec->selector);
	else if (c)
		spec->path = rk_strdup(c->path);
	else
		spec->path =
		    rk_dkimkey_default_path(keydir, domain, spec->selector);
	return 0;
}

/* ------------------------------------------------------------ actions */

/* Reads the key at spec->path and fills rec (pub_b64: caller frees). */
static int
read_record(const struct rk_dkimkey_spec *spec, struct kg_record *rec)
{
	struct rk_err err;
	struct stat st;
	EVP_PKEY *key = rk_dkimkey_read(spec->path, &err);
	int alg, bits;

	if (key == NULL) {
		msg("%s", err.msg);
		return -1;
	}
	if (stat(spec->path, &st) == 0 && (st.st_mode & 0077))
		msg("warning: %s is readable by others (mode %03o): chmod 600 "
		    "it",
		    spec->path, (unsigned)(st.st_mode & 0777));
	alg = rk_dkimkey_alg_of(key, &bits);
	if (alg != spec->alg) {
		msg("%s: holds a%s key, the selector %s wants %s", spec->path,
		    alg == RK_DKIMKEY_RSA           ? "n rsa"
		        : alg == RK_DKIMKEY_ED25519 ? "n ed25519"
		                                    : " non-DKIM",
		    spec->selector, rk_dkimkey_alg_tag(spec->alg));
		EVP_PKEY_free(key);
		return -1;
	}
	*rec = (struct kg_record){ spec->domain, spec->selector, spec->alg,
		rk_dkimkey_public_b64(key, &err), spec->path };
	EVP_PKEY_free(key);
	if (rec->pub_b64 == NULL) {
		msg("%s: %s", spec->path, err.msg);
		return -1;
	}
	return 0;
}

/*
 * Creates the key of spec; fills rec on success.  Returns 0, 1 when the
 * key exists (not overwritten), or -1.
 */
static int
create_key(
    const struct rk_dkimkey_spec *spec, bool force, struct kg_record *rec)
{
	struct rk_err err;
	EVP_PKEY *key = kg_key_generate(spec->alg, spec->bits, &err);
	enum kg_write w;

	if (key == NULL) {
		msg("%s", err.msg);
		return -1;
	}
	w = kg_key_write(spec->path, key, force, &err);
	if (w == KG_WRITE_OK) {
		*rec =
		    (struct kg_record){ spec->domain, spec->selector, spec->alg,
			    rk_dkimkey_public_b64(key, &err), spec->path };
		if (rec->pub_b64 == NULL) {
			msg("%s: %s", spec->path, err.msg);
			w = KG_WRITE_ERROR;
		}
	} else if (w == KG_WRITE_ERROR) {
		msg("%s", err.msg);
	}
	EVP_PKEY_free(key);
	return w == KG_WRITE_OK ? 0 : w == KG_WRITE_EXISTS ? 1 : -1;
}

static void
describe(const char *what, const struct rk_dkimkey_spec *s)
{
	if (s->alg == RK_DKIMKEY_RSA)
		msg("%s %s selector %s: rsa-sha256 %d bits in %s", what,
		    s->domain, s->selector, s->bits, s->path);
	else
		msg("%s %s selector %s: ed25519-sha256 in %s", what, s->domain,
		    s->selector, s->path);
}

/* "sYYYYMMDD", "sYYYYMMDD-2", …; "-ed25519" appended for ed25519 keys. */
static void
dated_selector(char *buf, size_t n, const char *date, int i, int alg)
{
	char nth[8] = "";

	if (i > 1)
		snprintf(nth, sizeof(nth), "-%d", i);
	snprintf(buf, n, "s%s%s%s", date, nth,
	    alg == RK_DKIMKEY_ED25519 ? "-ed25519" : "");
}

/* The new key's file: -k, or next to the old key. */
static char *
rotate_path(const struct opts *o, const char *old, const char *sel)
{
	const char *slash = strrchr(old, '/');
	struct rk_buf b;

	if (o->keyfile)
		return rk_strdup(o->keyfile);
	rk_buf_init(&b);
	if (slash != NULL)
		rk_buf_append(&b, old, (size_t)(slash - old + 1));
	rk_buf_printf(&b, "%s.pem", sel);
	return rk_buf_steal(&b);
}

/*
 * --rotate: the new selector (given, or derived from today's date and not
 * used yet) and its file.  The old key is not touched.
 */
static int
rotate_spec(const struct opts *o, struct rk_dkimkey_spec *spec)
{
	char date[16], sel[64];
	struct rk_err err;
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	for (int i = 1; i < 100; i++) {
		char *path;

		if (o->rotate_sel)
			snprintf(sel, sizeof(sel), "%s", o->rotate_sel);
		else
			dated_selector(sel, sizeof(sel), date, i, spec->alg);
		if (rk_dkimkey_selector_check(sel, &err) == -1) {
			msg("--rotate: %s", err.msg);
			return -1;
		}
		if (strcmp(sel, spec->selector) == 0) {
			if (o->rotate_sel) {
				msg("--rotate=%s: that is the current selector",
				    sel);
				return -1;
			}
			continue;
		}
		path = rotate_path(o, spec->path, sel);
		if (o->rotate_sel == NULL && lstat(path, &st) == 0) {
			free(path);
			continue;
		}
		if (lstat(spec->path, &st) == 0)
			describe("keeping old key of", spec);
		else
			msg("no old key at %s", spec->path);
		free(spec->selector);
		free(spec->path);
		spec->selector = rk_strdup(sel);
		spec->path = path;
		return 0;
	}
	msg("--rotate: 99 selectors for %s already used", date);
	return -1;
}

/* ------------------------------------------------------------ modes */

static int
run_one(const struct opts *o, const struct rk_dkimkey_spec *spec)
{
	struct kg_record rec;
	int rc;

	if (o->mode == MODE_PRINT) {
		if (read_record(spec, &rec) == -1)
			return access(spec->path, F_OK) == 0 ? EX_DATAERR
			                                     : EX_NOINPUT;
		kg_txt_print(stdout, o->fmt, &rec, 1);
		free(rec.pub_b64);
		return 0;
	}
	rc = create_key(spec, o->force, &rec);
	if (rc == 1) {
		msg("%s exists: not overwritten (--force replaces it, --rotate "
		    "adds a new selector)",
		    spec->path);
		return EX_CANTCREAT;
	}
	if (rc == -1)
		return EX_CANTCREAT;
	describe(o->rotate ? "new key for" : "created", spec);
	kg_txt_print(stdout, o->fmt, &rec, 1);
	free(rec.pub_b64);
	return 0;
}

/* --all: every key the config names; create or print. */
static int
run_all(const struct opts *o, const struct rk_dkimkey_spec *specs, size_t n)
{
	struct kg_record *recs = rk_calloc(n ? n : 1, sizeof(*recs));
	size_t nrecs = 0, created = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int rc;

		if (o->mode == MODE_PRINT) {
			if (read_record(&specs[i], &recs[nrecs]) == 0)
				nrecs++;
			else
				failed++;
			continue;
		}
		if (lstat(specs[i].path, &st) == 0) {
			if (!S_ISREG(st.st_mode)) {
				msg("%s: exists and is not a file",
				    specs[i].path);
				failed++;
			}
			continue;
		}
		rc = create_key(&specs[i], false, &recs[nrecs]);
		if (rc == 0) {
			describe("created", &specs[i]);
			nrecs++;
			created++;
		} else if (rc == -1) {
			failed++;
		}
	}
	kg_txt_print(stdout, o->fmt, recs, nrecs);
	for (size_t i = 0; i < nrecs; i++)
		free(recs[i].pub_b64);
	free(recs);
	if (o->mode != MODE_PRINT)
		msg("%zu key%s in the config: %zu created, %zu present, %zu "
		    "failed",
		    n, n == 1 ? "" : "s", created, n - created - failed,
		    failed);
	if (failed == 0)
		return 0;
	return o->mode == MODE_PRINT ? EX_NOINPUT : EX_CANTCREAT;
}

static int
run(const struct opts *o)
{
	struct rk_cfg *cfg = NULL;
	struct rk_dkimkey_spec *specs = NULL, one = { 0 };
	size_t nspecs = 0;
	struct rk_err err;
	int rc = EX_CONFIG;

	if (o->config != NULL || o->all) {
		cfg = load_config(o->config ? o->config : RK_CFG_DEFAULT_PATH);
		if (cfg == NULL)
			return EX_CONFIG;
		if (rk_dkimkey_plan(cfg, &specs, &nspecs, &err) == -1) {
			msg("%s: %s", cfg->path, err.msg);
			goto out;
		}
	}
	if (o->all) {
		if (!cfg->dkim.enabled && o->mode != MODE_PRINT) {
			msg("dkim.enabled is false: no keys needed");
			rc = 0;
			goto out;
		}
		rc = run_all(o, specs, nspecs);
		goto out;
	}
	rc = EX_USAGE;
	if (resolve_one(o, cfg, specs, nspecs, &one) == -1)
		goto out;
	rc = EX_CANTCREAT;
	if (o->rotate && rotate_spec(o, &one) == -1)
		goto out;
	rc = run_one(o, &one);
out:
	rk_dkimkey_spec_clear(&one);
	rk_dkimkey_specs_free(specs, nspecs);
	rk_cfg_unref(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o = { .mode = MODE_CREATE, .fmt = KG_FMT_ZONE, .alg = -1 };
	int rc = parse_opts(argc, argv, &o);

	if (rc == 1)
		return 0;
	if (rc == -1 || check_opts(&o) == -1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (o.mode == MODE_CHECK)
		return rk_cfg_check_main(
		    o.config ? o.config : RK_CFG_DEFAULT_PATH, stdout, stderr);
	rc = run(&o);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg("standard output: %s", strerror(errno));
		return EX_IOERR;
	}
	return rc;
}
