/* SPDX-License-Identifier: MIT */
/*
 * dc_extdns: the external-dns backend: dnsctl writes the records it wants
 * as one DNSEndpoint resource (externaldns.k8s.io/v1alpha1) and
 * external-dns publishes them.
 *
 * The zones are read from their authoritative servers (dns.nameservers or
 * the NS records) so the SPF record is merged with what the domain
 * already publishes, and the ownership record goes into the resource like
 * any other.  The file is written whole (temp file, rename), to
 * dns.externalDns.outputFile, -o, or standard output.  Strings are
 * written as YAML double-quoted scalars.  Single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define ENDPOINTS_MAX 1000 /* the CRD's maxItems */

static int
ext_zone_of(struct dc_ctx *ctx, const char *name, char **zone, char **id,
    struct rk_err *err)
{
	struct dc_dns *dns = dc_dns_helper(ctx->cfg, err);
	int rc;

	*id = NULL;
	if (dns == NULL)
		return -1;
	rc = dc_dns_zone_of(dns, name, zone, err);
	dc_dns_free(dns);
	return rc;
}

static int
ext_read(struct dc_ctx *ctx, struct dc_zone *z, struct rk_err *err)
{
	struct dc_server *servers;
	struct dc_dns *dns;
	size_t n;
	int rc;

	if (dc_dns_authorities(ctx->cfg, z->name, &servers, &n, err) == -1)
		return -1;
	dns = dc_dns_new(&servers[0], false, NULL, err);
	free(servers);
	if (dns == NULL)
		return -1;
	rc = dc_dns_read_names(dns, z, err);
	dc_dns_free(dns);
	/* external-dns changes the zone, with its own policy: no guard. */
	z->total = 0;
	return rc;
}

static int
ext_apply(struct dc_ctx *ctx, const struct dc_zone *z, const struct dc_plan *p,
    struct rk_err *err)
{
	(void)z;
	(void)err;
	for (size_t i = 0; i < p->final.n; i++) {
		const struct dc_rr *rr = &p->final.v[i];

		dc_rrs_add(
		    &ctx->final, rr->name, rr->type, rr->ttl, rr->value, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------- YAML */

static void
yaml_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* metadata.name: an RFC 1123 subdomain made from the host name. */
static void
resource_name(const struct rk_cfg *cfg, char *buf, size_t n)
{
	char *host = dc_hostname(cfg);
	size_t len;

	snprintf(buf, n, "relaykit-%s", host);
	free(host);
	for (char *p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			*p = '-';
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '-')
		buf[--len] = '\0';
}

static bool
same_set(const struct dc_rr *a, const struct dc_rr *b)
{
	return a->type == b->type && strcmp(a->name, b->name) == 0;
}

/* One endpoint: every record of records[i]'s name and type. */
static void
write_endpoint(FILE *fp, const struct dc_rrs *records, size_t i)
{
	const struct dc_rr *rr = &records->v[i];

	fprintf(fp, "    - dnsName: ");
	yaml_str(fp, rr->name);
	fprintf(fp,
	    "\n      recordType: %s\n      recordTTL: %u\n"
	    "      targets:\n",
	    dc_type_name(rr->type), rr->ttl);
	for (size_t j = i; j < records->n; j++) {
		if (!same_set(rr, &records->v[j]))
			continue;
		fprintf(fp, "        - ");
		yaml_str(fp, records->v[j].value);
		fputc('\n', fp);
	}
}

static void
write_head(FILE *fp, const struct rk_cfg *cfg, size_t doc)
{
	char name[256];

	resource_name(cfg, name, sizeof(name));
	if (doc > 0)
		fprintf(fp, "---\n");
	fprintf(fp,
	    "apiVersion: externaldns.k8s.io/v1alpha1\n"
	    "kind: DNSEndpoint\nmetadata:\n  name: ");
	if (doc > 0) {
		char more[280];

		snprintf(more, sizeof(more), "%.240s-%zu", name, doc + 1);
		yaml_str(fp, more);
	} else {
		yaml_str(fp, name);
	}
	fprintf(fp, "\n  namespace: ");
	yaml_str(fp, cfg->dns.externalDns.namespace);
	fprintf(fp,
	    "\n  labels:\n    app.kubernetes.io/managed-by: "
	    "relaykit-dnsctl\nspec:\n  endpoints:\n");
}

void
dc_extdns_write(
    FILE *fp, const struct rk_cfg *cfg, const struct dc_rrs *records)
{
	size_t written = 0, doc = 0;

	fprintf(fp,
	    "# Written by %s: the DNS records of this relay, for "
	    "external-dns.\n",
	    DC_PROG);
	write_head(fp, cfg, doc);
	for (size_t i = 0; i < records->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = same_set(&records->v[i], &records->v[j]);
		if (seen)
			continue;
		if (written == ENDPOINTS_MAX) {
			write_head(fp, cfg, ++doc);
			written = 0;
		}
		write_endpoint(fp, records, i);
		written++;
	}
	if (records->n == 0)
		fprintf(fp, "    []\n");
}

static int
write_file(const char *path, const struct rk_cfg *cfg,
    const struct dc_rrs *records, struct rk_err *err)
{
	struct rk_buf tmp;
	FILE *fp;
	int rc = 0;

	rk_buf_init(&tmp);
	rk_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fp = fopen(tmp.data, "we");
	if (fp == NULL) {
		rc = rk_err_set(err, "%s: %s", tmp.data, strerror(errno));
		rk_buf_free(&tmp);
		return rc;
	}
	dc_extdns_write(fp, cfg, records);
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1)
		rc = rk_err_set(err, "%s: %s", tmp.data, strerror(errno));
	if (fclose(fp) == EOF && rc == 0)
		rc = rk_err_set(err, "%s: %s", tmp.data, strerror(errno));
	if (rc == 0 && rename(tmp.data, path) == -1)
		rc = rk_err_set(err, "%s: %s", path, strerror(errno));
	if (rc == -1)
		(void)unlink(tmp.data);
	rk_buf_free(&tmp);
	return rc;
}

static int
ext_finish(struct dc_ctx *ctx, struct rk_err *err)
{
	const char *path =
	    ctx->output ? ctx->output : ctx->cfg->dns.externalDns.outputFile;

	if (path == NULL || strcmp(path, "-") == 0) {
		dc_extdns_write(stdout, ctx->cfg, &ctx->final);
		return 0;
	}
	return write_file(path, ctx->cfg, &ctx->final, err);
}

static void
ext_close(struct dc_ctx *ctx)
{
	(void)ctx;
}

const struct dc_backend dc_backend_extdns = {
	"external-dns",
	ext_zone_of,
	ext_read,
	ext_apply,
	ext_finish,
	ext_close,
};
