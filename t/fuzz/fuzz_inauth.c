/* SPDX-License-Identifier: MIT */
/*
 * t/fuzz/fuzz_inauth.c: lib/rk_inauth on any message: the header split,
 * From parsing, line-ending conversion, and what libopendkim and
 * libopendmarc make of the DKIM-Signature fields and the From domain it
 * hands them.  DNS is a fixed table (no network): every _dmarc name has
 * p=reject, every selector the same RSA key, everything else NXDOMAIN.
 * The first input line is "IP HELO MAIL-FROM", the rest the message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rk_inauth.h"
#include "rk_mem.h"

/* A throw-away 1024-bit test key, made for this target. */
static const char dkim_key[] =
    "v=DKIM1; k=rsa; "
    "p="
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCxbpxtD9d7UqgaCCCN15q903YliNehr7KqOO"
    "9vXVEw2cVguHcsRxx6fTCtnWXC7vM9smVEd032FeVpMjvNgtG6EKXlEidcUHJgnkwJVjQjzcGU"
    "JJP1eWoqV5VjTgMcUevRpwVuRn2DSa6Z028MpuZVt9KRjHVxmFdGLVWu66L44wIDAQAB";

static enum rk_dns_status
fixed(
    void *arg, const char *name, enum rk_dns_type type, char ***rrs, size_t *n)
{
	const char *rec = NULL;

	(void)arg;
	*rrs = NULL;
	*n = 0;
	if (type == RK_DNS_TXT && strncmp(name, "_dmarc.", 7) == 0)
		rec = "v=DMARC1; p=reject; adkim=r; aspf=r";
	else if (type == RK_DNS_TXT && strstr(name, "._domainkey.") != NULL)
		rec = dkim_key;
	else if (type == RK_DNS_TXT && strstr(name, "tempfail") != NULL)
		return RK_DNS_TEMPFAIL;
	else if (type == RK_DNS_TXT)
		rec = "v=spf1 ip4:192.0.2.0/24 a mx include:spf.example -all";
	else if (type == RK_DNS_A)
		rec = "192.0.2.7";
	if (rec == NULL)
		return RK_DNS_NXDOMAIN;
	*rrs = rk_malloc(sizeof(**rrs));
	(*rrs)[0] = rk_strdup(rec);
	*n = 1;
	return RK_DNS_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rk_inauth_dns dns = { fixed, NULL };
	struct rk_inauth_opts o = { true, true, true, NULL, &dns };
	struct rk_inauth_result r;
	struct rk_inauth *a;
	char *s = fuzz_cstr(data, size, 1u << 20), *nl, ip[64], helo[256],
	     from[256], code[4], xcode[8], text[256];

	if (s == NULL)
		return 0;
	ip[0] = helo[0] = from[0] = '\0';
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		/* the fields are never longer than the buffers */
		(void)sscanf(s, "%63s %255s %255s", ip, helo, from);
	}
	if ((a = rk_inauth_new(&o, NULL)) != NULL) {
		const char *msg = nl ? nl + 1 : s;

		rk_inauth_check(a, ip[0] ? ip : "192.0.2.1", helo, from, msg,
		    size - (size_t)(msg - s), &r);
		(void)rk_inauth_refusal(
		    &r, true, true, code, xcode, text, sizeof(text));
		rk_inauth_free(a);
	}
	free(s);
	return 0;
}
