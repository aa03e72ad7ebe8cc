/* SPDX-License-Identifier: MIT */
/*
 * t/unit/mime_test.c: lib/rk_mime's reading of Content-Type as bounces
 * write it, including the broken forms (a folded parameter with no
 * semicolon, space around the slash, no subtype), and that a multipart
 * split by such a header still finds its parts.
 */
#include "config.h"

#include <string.h>

#include "rk_mime.h"
#include "tap.h"

struct ct_case {
	const char *name;
	const char *header; /* the Content-Type line(s), folded as sent */
	const char *type;
	const char *charset; /* NULL: none */
};

static const struct ct_case ct_cases[] = {
	{ "plain", "Content-Type: text/plain; charset=us-ascii", "text/plain",
	    "us-ascii" },
	{ "upper case and quotes", "Content-Type: Text/HTML; CHARSET=\"UTF-8\"",
	    "text/html", "utf-8" },
	{ "folded parameter without its semicolon",
	    "Content-Type: text/plain\n   charset=\"iso-2022-jp\"",
	    "text/plain", "iso-2022-jp" },
	{ "space around the slash", "Content-Type: message / rfc822",
	    "message/rfc822", NULL },
	{ "no subtype keeps the default", "Content-Type: text", "text/plain",
	    NULL },
	{ "trailing comment", "Content-Type: text/plain (a comment)",
	    "text/plain", NULL },
	{ "type only, then a semicolon", "Content-Type: text/html;",
	    "text/html", NULL },
};

static void
test_content_types(void)
{
	for (size_t i = 0; i < sizeof(ct_cases) / sizeof(ct_cases[0]); i++) {
		const struct ct_case *c = &ct_cases[i];
		char msg[512];
		struct rk_mime_part *p;

		snprintf(msg, sizeof(msg), "%s\n\nbody\n", c->header);
		p = rk_mime_parse(msg, strlen(msg));
		is_str(p->type, c->type, "%s: type", c->name);
		is_str(p->charset, c->charset, "%s: charset", c->name);
		rk_mime_free(p);
	}
}

/* A part whose Content-Type lost its semicolon is still text/plain. */
static void
test_multipart_part(void)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=\"b\"\n"
	    "\n"
	    "--b\n"
	    "Content-Type: text/plain\n"
	    "   charset=\"us-ascii\"\n"
	    "\n"
	    "a@example.org [User unknown]\n"
	    "--b--\n";
	struct rk_mime_part *p = rk_mime_parse(msg, sizeof(msg) - 1);

	if (ok(p->nkids == 1, "multipart: one part")) {
		is_str(p->kids[0]->type, "text/plain", "multipart: part type");
		ok(strstr(p->kids[0]->body, "User unknown") != NULL,
		    "multipart: part body");
	}
	rk_mime_free(p);
}

int
main(void)
{
	test_content_types();
	test_multipart_part();
	return done_testing();
}
