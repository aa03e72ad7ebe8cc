/* SPDX-License-Identifier: MIT */
/*
 * kg_txt: the DKIM TXT record (RFC 6376 3.6.1, RFC 8463 4.2) in the forms
 * people paste into DNS: a zone-file record, the bare value, or JSON for
 * tools.
 *
 * A TXT record is a list of character-strings of at most 255 bytes each
 * (RFC 1035 3.3); a 2048-bit RSA value is about 400 bytes, so the zone
 * form splits it and verifiers join the strings back (RFC 6376 3.6.2.2).
 * The values hold only base64 and "v=DKIM1; k=…; p=", never '"' or '\',
 * so no escaping is needed in any form.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "keygen.h"

#define KG_TXT_CHUNK 255

int
kg_format_parse(const char *s, int *fmt)
{
	static const struct {
		const char *name;
		int fmt;
	} names[] = {
		{ "zone", KG_FMT_ZONE },
		{ "text", KG_FMT_TEXT },
		{ "plain", KG_FMT_TEXT },
		{ "json", KG_FMT_JSON },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*fmt = names[i].fmt;
			return 0;
		}
	}
	return -1;
}

static void
print_zone(FILE *fp, const char *name, const char *value)
{
	size_t len = strlen(value);

	fprintf(fp, "%s. IN TXT (", name);
	for (size_t off = 0; off < len; off += KG_TXT_CHUNK) {
		size_t n = len - off < KG_TXT_CHUNK ? len - off : KG_TXT_CHUNK;

		fprintf(fp, "%s\"%.*s\"", off == 0 ? " " : "\n\t", (int)n,
		    value + off);
	}
	fprintf(fp, " )\n");
}

/* JSON string: our values are printable ASCII, paths may not be. */
static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void
print_json(FILE *fp, const struct kg_record *r, const char *name,
    const char *value, bool last)
{
	const char *keys[] = { "domain", "selector", "algorithm", "name",
		"value", "keyFile" };
	const char *vals[] = { r->domain, r->selector,
		rk_dkimkey_alg_name(r->alg), name, value, r->path };

	fputs("  {", fp);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(fp, "%s\"%s\": ", i ? ", " : "", keys[i]);
		json_str(fp, vals[i] != NULL ? vals[i] : "");
	}
	fprintf(fp, "}%s\n", last ? "" : ",");
}

void
kg_txt_print(FILE *fp, int fmt, const struct kg_record *recs, size_t n)
{
	if (fmt == KG_FMT_JSON)
		fputs("[\n", fp);
	for (size_t i = 0; i < n; i++) {
		char *name =
		    rk_dkimkey_txt_name(recs[i].domain, recs[i].selector);
		char *value =
		    rk_dkimkey_txt_value(recs[i].alg, recs[i].pub_b64);

		if (fmt == KG_FMT_ZONE)
			print_zone(fp, name, value);
		else if (fmt == KG_FMT_TEXT)
			fprintf(fp, "%s\n", value);
		else
			print_json(fp, &recs[i], name, value, i + 1 == n);
		free(name);
		free(value);
	}
	if (fmt == KG_FMT_JSON)
		fputs("]\n", fp);
}
