/* SPDX-License-Identifier: MIT */
/*
 * relaykit-verp: encodes and decodes VERP return paths with the secret of
 * relaykit.yaml, for operators (what is this bounce address?) and tests.
 * Client ids too long for the address live in Redis under
 * <redis.keyPrefix>verp:<reference>, as the milter stores them.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_redis.h"
#include "rk_verp.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relaykit-verp [-c FILE] encode [-d DOMAIN] [-t TIME] "
	    "CLIENT-ID\n"
	    "       relaykit-verp [-c FILE] decode [-t TIME] ADDRESS\n"
	    "       relaykit-verp -n [-c FILE] | -V | --help\n"
	    "\n"
	    "  -c FILE    relaykit.yaml (default %s): inbound.bounce's "
	    "secret,\n"
	    "             prefix and maxAgeDays, redis for long client ids\n"
	    "  -d DOMAIN  the address's domain (default: inbound.bounce.domain,"
	    "\n"
	    "             else the first of mail.domains)\n"
	    "  -t TIME    pretend the time is TIME (seconds since the epoch)\n"
	    "  -n         check the configuration and exit\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "Exit: 0 ok; 1 the address is refused (status=...); 75 Redis is "
	    "down; 78 config.\n",
	    RK_CFG_DEFAULT_PATH);
}

/* The key of a long client id, as the milter writes it. */
static const char *
ref_key(struct rk_redis *r, struct rk_buf *b, const char *ref_hex)
{
	return rk_redis_key(r, b, "verp:%s", ref_hex);
}

static struct rk_redis *
redis_open(const struct rk_cfg *cfg)
{
	struct rk_redis_opts o;
	struct rk_err err;
	struct rk_redis *r;

	rk_redis_opts_from_cfg(&o, &cfg->redis);
	r = rk_redis_new(&o, &err);
	if (r == NULL)
		fprintf(stderr, "relaykit-verp: redis: %s\n", err.msg);
	return r;
}

static int
encode(const struct rk_cfg *cfg, const struct rk_verp_opts *vo,
    const char *domain, time_t now, const char *id)
{
	struct rk_verp_encoded e;
	struct rk_err err;
	struct rk_redis *r;
	struct rk_buf key;
	redisReply *rep;
	int rc = 0;

	if (rk_verp_encode(vo, id, strlen(id), domain, now, &e, &err) != 0) {
		fprintf(stderr, "relaykit-verp: %s\n", err.msg);
		return EX_DATAERR;
	}
	if (e.kind == RK_VERP_REF) {
		if ((r = redis_open(cfg)) == NULL)
			return EX_TEMPFAIL;
		rk_buf_init(&key);
		rep = rk_redis_command(r, &err, "SET %s %s EX %llu",
		    ref_key(r, &key, e.ref_hex), id,
		    (unsigned long long)vo->max_age_s);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			fprintf(stderr,
			    "relaykit-verp: cannot store the client id in "
			    "redis (%s): %s\n",
			    rk_redis_where(r), rep ? rep->str : err.msg);
			rc = EX_TEMPFAIL;
		}
		if (rep)
			freeReplyObject(rep);
		rk_buf_free(&key);
		rk_redis_free(r);
	}
	if (rc == 0)
		printf("%s\n", e.address);
	return rc;
}

static int
lookup(const struct rk_cfg *cfg, const char *ref_hex, char *id, size_t n)
{
	struct rk_redis *r = redis_open(cfg);
	struct rk_buf key;
	struct rk_err err;
	redisReply *rep;
	int rc = -1;

	if (r == NULL)
		return -1;
	rk_buf_init(&key);
	rep = rk_redis_command(r, &err, "GET %s", ref_key(r, &key, ref_hex));
	if (rep == NULL)
		fprintf(stderr, "relaykit-verp: redis (%s): %s\n",
		    rk_redis_where(r), err.msg);
	else if (rep->type == REDIS_REPLY_STRING) {
		snprintf(id, n, "%s", rep->str);
		rc = 0;
	} else {
		snprintf(id, n, "(not in redis: expired or never stored)");
		rc = 0;
	}
	if (rep)
		freeReplyObject(rep);
	rk_buf_free(&key);
	rk_redis_free(r);
	return rc;
}

static int
decode(const struct rk_cfg *cfg, const struct rk_verp_opts *vo, time_t now,
    const char *addr)
{
	struct rk_verp_decoded d;
	enum rk_verp_status st =
	    rk_verp_decode(vo, addr, strlen(addr), now, &d);
	char stamp[32], id[RK_VERP_ID_MAX + 64];
	struct tm tm;

	if (st != RK_VERP_OK) {
		printf("status=%s\n", rk_verp_status_name(st));
		return 1;
	}
	gmtime_r(&d.stamped, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (d.kind == RK_VERP_INLINE) {
		printf("status=ok id=%s stamped=%s\n", d.id, stamp);
		return 0;
	}
	if (lookup(cfg, d.ref_hex, id, sizeof(id)) != 0)
		return EX_TEMPFAIL;
	printf("status=ok id=%s ref=%s stamped=%s\n", id, d.ref_hex, stamp);
	return 0;
}

static const char *
default_domain(const struct rk_cfg *cfg)
{
	if (cfg->inbound.bounce.domain != NULL)
		return cfg->inbound.bounce.domain;
	return cfg->mail.ndomains ? cfg->mail.domains[0].name : NULL;
}

static int
run(const struct rk_cfg *cfg, const char *cmd, const char *arg,
    const char *domain, time_t now)
{
	struct rk_verp_opts vo = { cfg->inbound.bounce.verpPrefix,
		cfg->inbound.bounce.hmacSecret, 0,
		(uint64_t)cfg->inbound.bounce.maxAgeDays * 86400 };

	if (vo.secret == NULL) {
		fprintf(stderr,
		    "relaykit-verp: %s: inbound.bounce.hmacSecret "
		    "(or hmacSecretFile) is not set\n",
		    cfg->path);
		return EX_CONFIG;
	}
	vo.secret_len = strlen(cfg->inbound.bounce.hmacSecret);
	if (strcmp(cmd, "decode") == 0)
		return decode(cfg, &vo, now, arg);
	if (domain == NULL && (domain = default_domain(cfg)) == NULL) {
		fprintf(stderr, "relaykit-verp: no domain: give -d DOMAIN\n");
		return EX_USAGE;
	}
	return encode(cfg, &vo, domain, now, arg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = RK_CFG_DEFAULT_PATH, *domain = NULL;
	time_t now = time(NULL);
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg;
	bool check = false;
	int ch, rc;

	rk_log_open("relaykit-verp", RK_LOG_STDERR, RK_LOG_WARN);
	while ((ch = getopt_long(argc, argv, "+c:d:t:nVhv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 't':
			now = (time_t)strtoll(optarg, NULL, 10);
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf("relaykit-verp %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (check)
		return rk_cfg_check_main(cfgpath, stdout, stderr);
	/* options may also follow the command: encode -d example.com ID */
	if (argc - optind >= 1) {
		const char *cmd = argv[optind];

		optind++;
		while ((ch = getopt_long(
		            argc, argv, "+d:t:", longopts, NULL)) != -1) {
			if (ch == 'd')
				domain = optarg;
			else if (ch == 't')
				now = (time_t)strtoll(optarg, NULL, 10);
			else
				return EX_USAGE;
		}
		if (argc - optind != 1 ||
		    (strcmp(cmd, "encode") && strcmp(cmd, "decode"))) {
			usage(stderr);
			return EX_USAGE;
		}
		cfg = rk_cfg_load_file(
		    cfgpath, RK_CFG_SECRETS | RK_CFG_SEC_INBOUND, &diag);
		if (cfg == NULL) {
			rk_cfg_diag_print(&diag, stderr);
			rk_cfg_diag_free(&diag);
			return EX_CONFIG;
		}
		rc = run(cfg, cmd, argv[optind], domain, now);
		rk_cfg_unref(cfg);
		return rc;
	}
	usage(stderr);
	return EX_USAGE;
}
