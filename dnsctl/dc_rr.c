/* SPDX-License-Identifier: MIT */
/*
 * dc_rr: the record, name and address lists every part of dnsctl shares.
 * Pure; single-threaded like the rest of dnsctl.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

static const char *const type_names[] = { "A", "AAAA", "MX", "TXT", "?" };

const char *
dc_type_name(int type)
{
	return type >= DC_A && type <= DC_OTHER ? type_names[type] : "?";
}

int
dc_type_parse(const char *s)
{
	for (int t = DC_A; t < DC_OTHER; t++)
		if (rk_str_case_eq(s, type_names[t]))
			return t;
	return -1;
}

void
dc_rr_clear(struct dc_rr *rr)
{
	if (rr == NULL)
		return;
	free(rr->name);
	free(rr->value);
	free(rr->id);
	free(rr->raw);
	memset(rr, 0, sizeof(*rr));
}

void
dc_rr_copy(struct dc_rr *dst, const struct dc_rr *src)
{
	dst->name = rk_strdup(src->name);
	dst->type = src->type;
	dst->ttl = src->ttl;
	dst->value = rk_strdup(src->value);
	dst->id = src->id ? rk_strdup(src->id) : NULL;
	dst->raw = src->raw ? rk_strdup(src->raw) : NULL;
}

void
dc_rrs_add(struct dc_rrs *rrs, const char *name, int type, uint32_t ttl,
    const char *value, const char *id)
{
	struct dc_rr *rr;

	rrs->v = rk_reallocarray(rrs->v, rrs->n + 1, sizeof(*rrs->v));
	rr = &rrs->v[rrs->n++];
	rr->name = rk_strdup(name);
	dc_name_norm(rr->name);
	rr->type = type;
	rr->ttl = ttl;
	rr->value = rk_strdup(value);
	rr->id = id ? rk_strdup(id) : NULL;
	rr->raw = NULL;
}

void
dc_rrs_free(struct dc_rrs *rrs)
{
	for (size_t i = 0; i < rrs->n; i++)
		dc_rr_clear(&rrs->v[i]);
	free(rrs->v);
	rrs->v = NULL;
	rrs->n = 0;
}

void
dc_name_norm(char *name)
{
	size_t len = strlen(name);

	rk_str_lower(name);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
}

bool
dc_name_in(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	if (nl == zl)
		return strcmp(name, zone) == 0;
	return nl > zl && name[nl - zl - 1] == '.' &&
	    strcmp(name + nl - zl, zone) == 0;
}

char *
dc_name_rel(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	if (strcmp(name, zone) == 0)
		return rk_strdup("@");
	if (!dc_name_in(name, zone))
		return rk_strdup(name);
	return rk_strndup(name, nl - zl - 1);
}

char *
dc_name_abs(const char *rel, const char *zone)
{
	struct rk_buf b;

	if (strcmp(rel, "@") == 0)
		return rk_strdup(zone);
	rk_buf_init(&b);
	rk_buf_printf(&b, "%s.%s", rel, zone);
	dc_name_norm(b.data);
	return rk_buf_steal(&b);
}

/* ---------------------------------------------------------- addresses */

static int
ip_cmp(const void *a, const void *b)
{
	const struct rk_ip *x = a, *y = b;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

void
dc_ips_add(struct dc_ips *ips, const struct rk_ip *ip)
{
	for (size_t i = 0; i < ips->n; i++)
		if (ip_cmp(&ips->v[i], ip) == 0)
			return;
	ips->v = rk_reallocarray(ips->v, ips->n + 1, sizeof(*ips->v));
	ips->v[ips->n++] = *ip;
}

void
dc_ips_sort(struct dc_ips *ips)
{
	if (ips->n > 1)
		qsort(ips->v, ips->n, sizeof(*ips->v), ip_cmp);
}

bool
dc_ips_equal(const struct dc_ips *a, const struct dc_ips *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (ip_cmp(&a->v[i], &b->v[i]) != 0)
			return false;
	return true;
}

void
dc_ips_free(struct dc_ips *ips)
{
	free(ips->v);
	ips->v = NULL;
	ips->n = 0;
}

void
dc_ips_format(const struct dc_ips *ips, struct rk_buf *b)
{
	for (size_t i = 0; i < ips->n; i++) {
		char buf[INET6_ADDRSTRLEN];

		inet_ntop(ips->v[i].family, ips->v[i].addr, buf, sizeof(buf));
		rk_buf_printf(b, "%s%s", i ? ", " : "", buf);
	}
	if (ips->n == 0)
		rk_buf_puts(b, "none");
}
