/* SPDX-License-Identifier: MIT */
/*
 * relaykit-bounce: main.  Two modes: --parse FILE... prints what each
 * file reports (offline use, tests), and the pipe(8) mode Postfix runs
 * for every message to a VERP, fbl, postmaster or abuse address
 * (bn_pipe.c).  Single-threaded, one message per process.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_mem.h"

#include "bn.h"
#include "bn_out.h"
#include "bn_pipe.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relaykit-bounce [-c FILE] [-f] -s SENDER -r RECIPIENT "
	    "[-a CLIENT-ADDRESS] [-H HELO] < MESSAGE\n"
	    "       relaykit-bounce [-c FILE] --parse FILE...\n"
	    "       relaykit-bounce -n [-c FILE] | -V | --help\n"
	    "\n"
	    "  -c FILE      relaykit.yaml (default %s)\n"
	    "  -s SENDER    envelope sender of the report (Postfix ${sender})\n"
	    "  -r RCPT      the address it came to (Postfix ${recipient})\n"
	    "  -a ADDRESS   the client that sent it (${client_address})\n"
	    "  -H NAME      its HELO name (${client_helo})\n"
	    "  -f           log to stderr instead of syslog\n"
	    "  --parse      print each file's records as JSON lines; no "
	    "Redis,\n"
	    "               no config needed (-c adds clientIdHeader)\n"
	    "  -n           check the configuration and exit\n"
	    "  -v       with -n: print every key's value too (secrets masked)\n"
	    "Exit: 0 done (also for refused reports); 75 try again later "
	    "(Redis\n"
	    "or another fault: Postfix keeps the message); 64 usage.\n",
	    RK_CFG_DEFAULT_PATH);
}

/* Reads a whole file, up to BN_MAX_INPUT bytes; caller frees. */
char *
bn_read_all(FILE *fp, size_t *len)
{
	struct rk_buf b;
	char tmp[65536];
	size_t n;

	rk_buf_init(&b);
	rk_buf_puts(&b, "");
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		if (b.len < BN_MAX_INPUT)
			rk_buf_append(&b, tmp, n);
	*len = b.len;
	if (ferror(fp)) {
		rk_buf_free(&b);
		return NULL;
	}
	return rk_buf_steal(&b);
}

static int
parse_file(const char *path, const struct bn_opts *o)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct bn_report r;
	size_t len;
	char *buf;

	if (fp == NULL) {
		fprintf(
		    stderr, "relaykit-bounce: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = bn_read_all(fp, &len);
	if (fp != stdin)
		fclose(fp);
	if (buf == NULL) {
		fprintf(stderr, "relaykit-bounce: %s: read error\n", path);
		return -1;
	}
	bn_parse(buf, len, o, &r);
	for (size_t i = 0; r.kind != BN_NONE && i < r.nrcpts; i++) {
		char *line = bn_out_record(path, &r, i);

		if (line != NULL)
			printf("%s\n", line);
		free(line);
	}
	bn_report_free(&r);
	free(buf);
	return 0;
}

static int
parse_files(const char *cfgpath, bool cfg_given, int n, char **files)
{
	struct bn_opts o = { "X-Message-ID" };
	struct rk_cfg *cfg = NULL;
	struct rk_cfg_diag diag;
	int rc = 0;

	if (cfg_given) {
		if ((cfg = rk_cfg_load_file(cfgpath,
		         RK_CFG_SECRETS | RK_CFG_SEC_REDIS | RK_CFG_SEC_INBOUND,
		         &diag)) == NULL) {
			rk_cfg_diag_print(&diag, stderr);
			rk_cfg_diag_free(&diag);
			return EX_CONFIG;
		}
		o.client_id_header = cfg->inbound.clientIdHeader;
	}
	for (int i = 0; i < n; i++)
		if (parse_file(files[i], &o) != 0)
			rc = EX_NOINPUT;
	rk_cfg_unref(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "parse", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct bn_pipe_args pa = { 0 };
	const char *cfgpath = RK_CFG_DEFAULT_PATH;
	bool check = false, parse = false, cfg_given = false;
	int ch;

	while ((ch = getopt_long(
	            argc, argv, "c:s:r:a:H:fnVvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			cfg_given = true;
			break;
		case 's':
			pa.sender = optarg;
			break;
		case 'r':
			pa.recipient = optarg;
			break;
		case 'a':
			pa.client_address = optarg;
			break;
		case 'H':
			pa.helo = optarg;
			break;
		case 'f':
			pa.foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'P':
			parse = true;
			break;
		case 'v':
			rk_cfg_check_dump = true;
			break;
		case 'V':
			printf("relaykit-bounce %s\n", PACKAGE_VERSION);
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
	if (parse) {
		if (optind >= argc) {
			usage(stderr);
			return EX_USAGE;
		}
		return parse_files(
		    cfgpath, cfg_given, argc - optind, argv + optind);
	}
	if (optind != argc || pa.recipient == NULL || pa.sender == NULL) {
		usage(stderr);
		return EX_USAGE;
	}
	pa.cfgpath = cfgpath;
	return bn_pipe_main(&pa);
}
