/* SPDX-License-Identifier: MIT */
/*
 * t/unit/inauth_check: lib/rk_inauth on one message file, for
 * t/integ/inauth_dns.t.  Prints the results and the refusal
 * rejectFail/rejectOnFail would give, one key=value per line.
 *
 * usage: inauth_check RESOLVER CLIENT-IP HELO MAIL-FROM FILE
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "rk_inauth.h"
#include "rk_mem.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct rk_buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	rk_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rk_buf_append(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	return rk_buf_steal(&b);
}

int
main(int argc, char **argv)
{
	struct rk_inauth_opts o = { .spf = true, .dkim = true, .dmarc = true };
	struct rk_inauth_result r;
	struct rk_inauth_dns *dns;
	struct rk_inauth *a;
	struct rk_err err;
	char code[4], xcode[8], text[256], *buf;
	size_t len;

	if (argc != 6) {
		fprintf(
		    stderr, "usage: inauth_check RESOLVER IP HELO FROM FILE\n");
		return 2;
	}
	if ((dns = rk_inauth_dns_ldns(argv[1], &err)) == NULL ||
	    (o.dns = dns, a = rk_inauth_new(&o, &err)) == NULL) {
		fprintf(stderr, "inauth_check: %s\n", err.msg);
		return 1;
	}
	if ((buf = slurp(argv[5], &len)) == NULL) {
		perror(argv[5]);
		return 1;
	}
	rk_inauth_check(a, argv[2], argv[3], argv[4], buf, len, &r);
	printf("spf=%s\nspf_domain=%s\ndkim=%s\ndkim_domain=%s\n",
	    rk_auth_name(r.spf), r.spf_domain, rk_auth_name(r.dkim),
	    r.dkim_domain);
	printf("dmarc=%s\ndmarc_policy=%s\nfrom_domain=%s\n",
	    rk_auth_name(r.dmarc), r.dmarc_policy, r.from_domain);
	if (rk_inauth_refusal(&r, true, true, code, xcode, text, sizeof(text)))
		printf("refusal=%s %s %s\n", code, xcode, text);
	else
		printf("refusal=none\n");
	free(buf);
	rk_inauth_free(a);
	rk_inauth_dns_ldns_free(dns);
	return 0;
}
