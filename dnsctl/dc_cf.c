/* SPDX-License-Identifier: MIT */
/*
 * dc_cf: the Cloudflare API v4 backend.
 *
 * Zones come from dns.cloudflare.zoneIds or GET /zones?name= (walking up
 * the name); a zone is read whole, page by page (GET
 * /zones/{id}/dns_records, following result_info.total_pages), so the
 * change guard knows its size.  A plan of several changes is one call to
 * the batch endpoint (one transaction: deletes, patches, posts); one of a
 * single change, or a batch the API refuses, goes call by call, where
 * "an identical record already exists" (81057, 81058) means the record
 * is there and is not an error.  Every failure is printed as Cloudflare's
 * "code: message" pairs.  The token is sent as a bearer token and never
 * printed.  429 and 5xx are retried by dc_http.  Single-threaded.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define CF_PER_PAGE  100
#define CF_PAGES_MAX 1000
#define CF_TRIES     5
#define CF_COMMENT   "managed by relaykit-dnsctl"

struct cf_zone {
	char *name, *id;
};

struct cf {
	const char *base; /* borrowed from the config */
	const char *token;
	struct cf_zone *zones;
	size_t nzones;
};

static struct cf *
state(struct dc_ctx *ctx)
{
	struct cf *s = ctx->state;

	if (s == NULL) {
		s = rk_calloc(1, sizeof(*s));
		s->base = ctx->cfg->dns.cloudflare.apiUrl;
		s->token = ctx->cfg->dns.cloudflare.apiToken;
		ctx->state = s;
	}
	return s;
}

/* ------------------------------------------------------------ parsing */

static void
error_list(json_t *errs, struct rk_buf *b)
{
	for (size_t i = 0; i < json_array_size(errs); i++) {
		json_t *e = json_array_get(errs, i);
		json_t *code = json_object_get(e, "code");
		json_t *msg = json_object_get(e, "message");

		rk_buf_printf(b, "%s%lld: %s", b->len ? "; " : "",
		    json_is_integer(code) ? (long long)json_integer_value(code)
		                          : 0LL,
		    json_is_string(msg) ? json_string_value(msg) : "?");
		error_list(json_object_get(e, "error_chain"), b);
	}
}

void
dc_cf_errors(const char *json, size_t len, struct rk_buf *b)
{
	json_t *root = json_loadb(json, len, 0, NULL);

	error_list(json_object_get(root, "errors"), b);
	json_decref(root);
}

/* true if the body names one of the codes. */
static bool
has_code(const struct rk_buf *body, const long *codes, size_t n)
{
	json_t *root = json_loadb(body->data, body->len, 0, NULL);
	json_t *errs = json_object_get(root, "errors");
	bool found = false;

	for (size_t i = 0; i < json_array_size(errs); i++) {
		json_t *e = json_array_get(errs, i);
		json_int_t c = json_integer_value(json_object_get(e, "code"));

		for (size_t k = 0; k < n; k++)
			found = found || c == codes[k];
	}
	json_decref(root);
	return found;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One record object into rrs; other types only count. */
static int
parse_record(json_t *r, struct dc_rrs *out, struct rk_err *err)
{
	const char *type = jstr(r, "type"), *name = jstr(r, "name");
	const char *content = jstr(r, "content"), *id = jstr(r, "id");
	json_t *ttl = json_object_get(r, "ttl");
	int t = type ? dc_type_parse(type) : -1;
	struct rk_buf v;
	struct rk_ip ip;
	char *txt = NULL, buf[INET6_ADDRSTRLEN];

	if (name == NULL || content == NULL || id == NULL || type == NULL ||
	    !json_is_integer(ttl) || strlen(name) > DC_NAME_MAX)
		return rk_err_set(err,
		    "record without type, name, content, "
		    "ttl or id");
	if (t == -1)
		return 0;
	rk_buf_init(&v);
	if (t == DC_A || t == DC_AAAA) {
		if (rk_ip_parse(content, &ip, err) == -1)
			goto bad;
		rk_buf_puts(
		    &v, inet_ntop(ip.family, ip.addr, buf, sizeof(buf)));
	} else if (t == DC_MX) {
		json_t *prio = json_object_get(r, "priority");

		if (!json_is_integer(prio))
			goto bad;
		rk_buf_printf(&v, "%lld %s",
		    (long long)json_integer_value(prio), content);
		dc_name_norm(v.data);
	} else {
		if (dc_txt_unquote(content, strlen(content), &txt, err) == -1)
			goto bad;
		rk_buf_puts(&v, txt);
		free(txt);
	}
	dc_rrs_add(out, name, t, (uint32_t)json_integer_value(ttl), v.data, id);
	rk_buf_free(&v);
	return 0;
bad:
	rk_buf_free(&v);
	return rk_err_set(err, "%s record %s: content \"%.60s\" not understood",
	    type, name, content);
}

int
dc_cf_parse_page(const char *json, size_t len, struct dc_rrs *out,
    size_t *total_pages, size_t *total_count, struct rk_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *result, *info;
	int rc = 0;

	if (root == NULL)
		return rk_err_set(err, "answer is not JSON: %s", jerr.text);
	result = json_object_get(root, "result");
	info = json_object_get(root, "result_info");
	if (!json_is_true(json_object_get(root, "success")) ||
	    !json_is_array(result)) {
		json_decref(root);
		return rk_err_set(err,
		    "answer without success and a result "
		    "list");
	}
	*total_pages =
	    (size_t)json_integer_value(json_object_get(info, "total_pages"));
	*total_count =
	    (size_t)json_integer_value(json_object_get(info, "total_count"));
	for (size_t i = 0; i < json_array_size(result) && rc == 0; i++)
		rc = parse_record(json_array_get(result, i), out, err);
	json_decref(root);
	return rc;
}

/* -------------------------------------------------------------- calls */

/* One API call; 0 with the body, or -1 with "code: message" in err. */
static int
call(struct cf *s, const char *method, const char *path, const char *body,
    struct dc_http_resp *resp, struct rk_err *err)
{
	struct rk_buf url, msg;
	struct dc_http_req req = { method, NULL, s->token, body, NULL, 30000,
		CF_TRIES };
	int rc;

	rk_buf_init(&url);
	rk_buf_printf(&url, "%s%s", s->base, path);
	req.url = url.data;
	rc = dc_http_do(&req, resp, err);
	if (rc == 0 && resp->status >= 200 && resp->status < 300) {
		rk_buf_free(&url);
		return 0;
	}
	if (rc == 0) {
		rk_buf_init(&msg);
		dc_cf_errors(resp->body.data, resp->body.len, &msg);
		rk_err_set(err, "cloudflare: %s %s: HTTP %ld: %s", method, path,
		    resp->status, msg.len ? msg.data : "no error given");
		rk_buf_free(&msg);
	}
	rk_buf_free(&url);
	return -1;
}

/* The zone whose name is exactly name, or none. */
static int
zone_lookup(struct cf *s, const char *name, char **id, struct rk_err *err)
{
	struct dc_http_resp resp = { 0 };
	struct rk_buf path;
	json_t *root, *first;
	int rc;

	*id = NULL;
	rk_buf_init(&path);
	rk_buf_printf(&path, "/zones?name=%s", name);
	rc = call(s, "GET", path.data, NULL, &resp, err);
	rk_buf_free(&path);
	if (rc == -1) {
		dc_http_resp_free(&resp);
		return -1;
	}
	root = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	first = json_array_get(json_object_get(root, "result"), 0);
	if (jstr(first, "id") != NULL && jstr(first, "name") != NULL &&
	    rk_str_case_eq(jstr(first, "name"), name))
		*id = rk_strdup(jstr(first, "id"));
	json_decref(root);
	dc_http_resp_free(&resp);
	return 0;
}

static void
cache(struct cf *s, const char *name, const char *id)
{
	s->zones = rk_reallocarray(s->zones, s->nzones + 1, sizeof(*s->zones));
	s->zones[s->nzones].name = rk_strdup(name);
	s->zones[s->nzones++].id = rk_strdup(id);
}

static int
cf_zone_of(struct dc_ctx *ctx, const char *name, char **zone, char **id,
    struct rk_err *err)
{
	const struct rk_cfg_dns *d = &ctx->cfg->dns;
	struct cf *s = state(ctx);
	const char *best = NULL, *best_id = NULL;

	for (size_t i = 0; i < d->cloudflare.nzoneIds; i++) {
		const struct rk_cfg_kv *kv = &d->cloudflare.zoneIds[i];

		if (dc_name_in(name, kv->key) &&
		    (best == NULL || strlen(kv->key) > strlen(best)))
			best = kv->key, best_id = kv->value;
	}
	for (size_t i = 0; i < s->nzones; i++)
		if (dc_name_in(name, s->zones[i].name) &&
		    (best == NULL || strlen(s->zones[i].name) > strlen(best)))
			best = s->zones[i].name, best_id = s->zones[i].id;
	if (best != NULL) {
		*zone = rk_strdup(best);
		*id = rk_strdup(best_id);
		return 0;
	}
	/* Walk up: mail.example.com, example.com (never a bare TLD). */
	for (const char *p = name; strchr(p, '.') != NULL;
	     p = strchr(p, '.') + 1) {
		if (zone_lookup(s, p, id, err) == -1)
			return -1;
		if (*id != NULL) {
			*zone = rk_strdup(p);
			cache(s, p, *id);
			return 0;
		}
	}
	return rk_err_set(err,
	    "cloudflare: no zone the token can see holds %s (or set "
	    "dns.cloudflare.zoneIds)",
	    name);
}

static int
cf_read(struct dc_ctx *ctx, struct dc_zone *z, struct rk_err *err)
{
	struct cf *s = state(ctx);
	size_t pages = 1, count = 0;

	for (size_t page = 1; page <= pages && page <= CF_PAGES_MAX; page++) {
		struct dc_http_resp resp = { 0 };
		struct rk_buf path;
		int rc;

		rk_buf_init(&path);
		rk_buf_printf(&path,
		    "/zones/%s/dns_records?per_page=%d&page=%zu", z->id,
		    CF_PER_PAGE, page);
		rc = call(s, "GET", path.data, NULL, &resp, err);
		if (rc == 0)
			rc = dc_cf_parse_page(resp.body.data, resp.body.len,
			    &z->rrs, &pages, &count, err);
		rk_buf_free(&path);
		dc_http_resp_free(&resp);
		if (rc == -1)
			return -1;
	}
	z->total = count;
	return 0;
}

/* --------------------------------------------------------------- apply */

/* The record's fields as the API wants them. */
static json_t *
record_json(const struct dc_rr *rr, bool with_id)
{
	json_t *o = json_object();
	char *q = NULL;

	if (with_id)
		json_object_set_new(o, "id", json_string(rr->id));
	json_object_set_new(o, "type", json_string(dc_type_name(rr->type)));
	json_object_set_new(o, "name", json_string(rr->name));
	json_object_set_new(o, "ttl", json_integer(rr->ttl));
	if (rr->type == DC_MX) {
		const char *sp = strchr(rr->value, ' ');

		json_object_set_new(
		    o, "priority", json_integer(strtol(rr->value, NULL, 10)));
		json_object_set_new(
		    o, "content", json_string(sp ? sp + 1 : rr->value));
	} else if (rr->type == DC_TXT) {
		q = dc_txt_quote(rr->value);
		json_object_set_new(o, "content", json_string(q));
	} else {
		json_object_set_new(o, "content", json_string(rr->value));
		json_object_set_new(o, "proxied", json_false());
	}
	json_object_set_new(o, "comment", json_string(CF_COMMENT));
	free(q);
	return o;
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (s == NULL)
		rk_panic("json_dumps: out of memory");
	return s;
}

static int
batch(struct cf *s, const struct dc_zone *z, const struct dc_plan *p,
    struct rk_err *err)
{
	json_t *b = json_object(), *dels = json_array(),
	       *patches = json_array(), *posts = json_array();
	struct dc_http_resp resp = { 0 };
	struct rk_buf path;
	char *body;
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		const struct dc_change *c = &p->v[i];

		if (c->op == DC_OP_DEL)
			json_array_append_new(
			    dels, json_pack("{s:s}", "id", c->old.id));
		else if (c->op == DC_OP_UPDATE)
			json_array_append_new(
			    patches, record_json(&c->rr, true));
		else
			json_array_append_new(
			    posts, record_json(&c->rr, false));
	}
	json_object_set_new(b, "deletes", dels);
	json_object_set_new(b, "patches", patches);
	json_object_set_new(b, "posts", posts);
	body = dump(b);
	rk_buf_init(&path);
	rk_buf_printf(&path, "/zones/%s/dns_records/batch", z->id);
	rc = call(s, "POST", path.data, body, &resp, err);
	free(body);
	rk_buf_free(&path);
	dc_http_resp_free(&resp);
	return rc;
}

static int
one(struct cf *s, const struct dc_zone *z, const struct dc_change *c, FILE *log,
    struct rk_err *err)
{
	static const long exists[] = { 81057, 81058 };
	struct dc_http_resp resp = { 0 };
	struct rk_buf path;
	char *body = NULL;
	int rc;

	rk_buf_init(&path);
	rk_buf_printf(&path, "/zones/%s/dns_records", z->id);
	if (c->op != DC_OP_ADD)
		rk_buf_printf(&path, "/%s", c->old.id);
	if (c->op != DC_OP_DEL)
		body = dump(record_json(&c->rr, false));
	rc = call(s,
	    c->op == DC_OP_ADD       ? "POST"
	        : c->op == DC_OP_DEL ? "DELETE"
	                             : "PATCH",
	    path.data, body, &resp, err);
	if (rc == -1 && c->op == DC_OP_ADD && resp.status == 400 &&
	    has_code(&resp.body, exists, 2)) {
		fprintf(log, "%s: %s %s: already there (%s)\n", DC_PROG,
		    c->rr.name, dc_type_name(c->rr.type), err->msg);
		rc = 0;
	}
	free(body);
	rk_buf_free(&path);
	dc_http_resp_free(&resp);
	return rc;
}

static int
cf_apply(struct dc_ctx *ctx, const struct dc_zone *z, const struct dc_plan *p,
    struct rk_err *err)
{
	struct cf *s = state(ctx);

	if (p->n == 0)
		return 0;
	if (p->n > 1) {
		struct rk_err why;

		if (batch(s, z, p, &why) == 0)
			return 0;
		fprintf(ctx->log,
		    "%s: batch refused (%s); one call per change\n", DC_PROG,
		    why.msg);
	}
	for (size_t i = 0; i < p->n; i++)
		if (one(s, z, &p->v[i], ctx->log, err) == -1)
			return -1;
	return 0;
}

static void
cf_close(struct dc_ctx *ctx)
{
	struct cf *s = ctx->state;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nzones; i++) {
		free(s->zones[i].name);
		free(s->zones[i].id);
	}
	free(s->zones);
	free(s);
	ctx->state = NULL;
}

const struct dc_backend dc_backend_cloudflare = {
	"cloudflare",
	cf_zone_of,
	cf_read,
	cf_apply,
	NULL,
	cf_close,
};
