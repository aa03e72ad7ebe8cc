/* SPDX-License-Identifier: MIT */
/*
 * rk_cfg: the loader.  YAML tree (rk_yaml) + schema (rk_cfg_schema.c) ->
 * typed structs, collecting every error with its position.  Defaults are
 * applied first, from the schema's text, through the same value parsers
 * as the file.  Nothing here exits; callers decide (rk_cfg_check_main).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "rk_addr.h"
#include "rk_cfg_impl.h"
#include "rk_log.h"
#include "rk_mem.h"
#include "rk_str.h"

#define CFG_PATH_MAX   512
#define CFG_SECRET_MAX (64u << 10)

struct cfg_ctx {
	const char *name;    /* file name for messages */
	const char *basedir; /* for relative paths; NULL = cwd */
	unsigned flags;
	struct rk_cfg_diag *diag;
	bool defaults; /* applying schema defaults: an error is our bug */
};

/* ------------------------------------------------------------ errors */

void
cfg_error(struct cfg_ctx *ctx, const struct rk_ynode *at, const char *path,
    const char *fmt, ...)
{
	struct rk_buf b;
	va_list ap;

	rk_buf_init(&b);
	va_start(ap, fmt);
	rk_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (ctx->defaults)
		rk_panic("schema default for %s: %s", path, b.data);
	{
		char *msg = b.data;

		rk_buf_init(&b);
		rk_buf_printf(&b, "%s:%zu:%zu: %s%s%s", ctx->name,
		    at ? at->line : 1, at ? at->col : 1, path ? path : "",
		    path ? ": " : "", msg);
		free(msg);
	}
	ctx->diag->msgs = rk_reallocarray(
	    ctx->diag->msgs, ctx->diag->n + 1, sizeof(*ctx->diag->msgs));
	ctx->diag->msgs[ctx->diag->n++] = rk_buf_steal(&b);
}

const struct rk_ynode *
cfg_node(const struct rk_ynode *map, const char *key)
{
	return rk_ynode_get(map, key);
}

int
cfg_ctx_flags(const struct cfg_ctx *ctx)
{
	return (int)ctx->flags;
}

/* The value as it may be echoed: printable, at most 60 characters. */
static char *
cfg_shown(const struct rk_ynode *node, char *buf, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < node->len && o + 5 < n; i++) {
		unsigned char c = (unsigned char)node->value[i];

		if (i >= 60) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------ scalar types */

struct cfg_scalar {
	const char *want; /* "want %s" */
	int (*parse)(struct cfg_ctx *ctx, const struct cfg_field *f,
	    const char *s, void *dst, struct rk_err *err);
	size_t size;           /* storage size, for lists */
	bool takes_plain_only; /* booleans and numbers */
};

/* A failure whose "want" says it all: no extra reason. */
static int
cfg_fail(struct rk_err *err)
{
	if (err != NULL)
		err->msg[0] = '\0';
	return -1;
}

static int
cfg_parse_str(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	char **out = dst;

	if ((f->flags & F_NONEMPTY) && *s == '\0')
		return rk_err_set(err, "must not be empty");
	free(*out);
	if ((f->flags & F_PATH) && s[0] != '/' && ctx->basedir != NULL &&
	    *s != '\0' && strcmp(s, "-") != 0) {
		struct rk_buf b;

		rk_buf_init(&b);
		rk_buf_printf(&b, "%s/%s", ctx->basedir, s);
		*out = rk_buf_steal(&b);
	} else {
		*out = rk_strdup(s);
	}
	return 0;
}

static int
cfg_parse_bool(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	(void)ctx;
	(void)f;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*(bool *)dst = strcmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return cfg_fail(err);
}

static int
cfg_range(const struct cfg_field *f, uint64_t v, struct rk_err *err)
{
	if (f->min == 0 && f->max == 0)
		return 0;
	if ((int64_t)v < f->min || (f->max > 0 && v > (uint64_t)f->max))
		return cfg_fail(err); /* "want … in MIN..MAX" says it */
	return 0;
}

static int
cfg_parse_int(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	const char *p = s;
	bool neg = *p == '-';
	uint64_t v;

	(void)ctx;
	if (neg)
		p++;
	if (rk_u64_parse(p, INT64_MAX, &v, err) != 0)
		return -1;
	if (neg ? -(int64_t)v < f->min
	        : (int64_t)v < f->min || (int64_t)v > f->max)
		return cfg_fail(err);
	*(int64_t *)dst = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int
cfg_parse_double(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	double v;

	(void)ctx;
	if (rk_double_parse(s, &v, err) != 0)
		return -1;
	if (v < f->dmin || v > f->dmax)
		return cfg_fail(err);
	*(double *)dst = v;
	return 0;
}

static int
cfg_parse_enum(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	(void)ctx;
	for (int i = 0; f->names[i] != NULL; i++) {
		if (strcmp(s, f->names[i]) == 0) {
			*(int *)dst = i;
			return 0;
		}
	}
	return cfg_fail(err);
}

static int
cfg_parse_duration(struct cfg_ctx *ctx, const struct cfg_field *f,
    const char *s, void *dst, struct rk_err *err)
{
	uint64_t v;

	(void)ctx;
	/* "idleTimeout: 300": seconds or milliseconds?  A bare number is
	   taken only where the seeds' charts give one (F_BARE); elsewhere
	   it is refused, except 0, the same in every unit. */
	if (rk_duration_parse(s,
	        (f->flags & F_BARE) || strcmp(s, "0") == 0 ? f->unit : 0, &v,
	        err) != 0 ||
	    cfg_range(f, v, err) != 0)
		return -1;
	*(uint64_t *)dst = v;
	return 0;
}

static int
cfg_parse_size(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	uint64_t v;

	(void)ctx;
	if (rk_size_parse(s, &v, err) != 0 || cfg_range(f, v, err) != 0)
		return -1;
	*(uint64_t *)dst = v;
	return 0;
}

static int
cfg_parse_rate(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	(void)ctx;
	(void)f;
	return rk_rate_parse(s, dst, err);
}

static int
cfg_parse_cidr(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	(void)ctx;
	(void)f;
	return rk_cidr_parse(s, dst, err);
}

static int
cfg_parse_ip(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	(void)ctx;
	(void)f;
	return rk_ip_parse(s, dst, err);
}

static int
cfg_parse_addr(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	struct rk_addr a;
	char buf[RK_ADDR_PATH_MAX * 2];

	(void)ctx;
	(void)f;
	if (rk_addr_parse(s, strlen(s), RK_ADDR_UTF8, &a, err) != 0)
		return -1;
	free(*(char **)dst);
	*(char **)dst = rk_strdup(rk_addr_format(&a, buf, sizeof(buf)));
	return 0;
}

static int
cfg_parse_domain(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	char *d;

	(void)ctx;
	(void)f;
	if (rk_domain_check(s, strlen(s), RK_ADDR_UTF8, err) != 0)
		return -1;
	d = rk_strdup(s);
	rk_domain_normalize(d);
	free(*(char **)dst);
	*(char **)dst = d;
	return 0;
}

static int
cfg_parse_host(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	struct rk_ip ip;

	if (rk_ip_parse(s, &ip, NULL) == 0 ||
	    (*s == '\0' && (f->flags & F_EMPTY_OK))) {
		free(*(char **)dst);
		*(char **)dst = rk_strdup(s);
		return 0;
	}
	return cfg_parse_domain(ctx, f, s, dst, err);
}

static int
cfg_parse_url(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	struct rk_url u;

	(void)ctx;
	(void)f;
	if (rk_url_parse(s, &u, err) != 0)
		return -1;
	free(*(char **)dst);
	*(char **)dst = rk_strdup(s);
	return 0;
}

static int
cfg_parse_endpoint(struct cfg_ctx *ctx, const struct cfg_field *f,
    const char *s, void *dst, struct rk_err *err)
{
	char buf[300];

	(void)ctx;
	if (f == NULL || !(f->flags & F_INET))
		return rk_endpoint_parse(s, dst, err);
	if (strncmp(s, "unix:", 5) == 0)
		return rk_err_set(err, "not a unix socket");
	if (strncmp(s, "inet:", 5) == 0)
		s += 5;
	if (snprintf(buf, sizeof(buf), "inet:%s", s) >= (int)sizeof(buf))
		return rk_err_set(err, "too long");
	return rk_endpoint_parse(buf, dst, err);
}

static int
cfg_parse_pattern(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	struct rk_cfg_pattern *p = dst;
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '/' && s[len - 1] == '/') {
		char *src = rk_strndup(s + 1, len - 2);
		regex_t re;
		int rc =
		    regcomp(&re, src, REG_EXTENDED | REG_ICASE | REG_NOSUB);

		if (rc != 0) {
			char msg[128];

			regerror(rc, &re, msg, sizeof(msg));
			free(src);
			return rk_err_set(
			    err, "bad regular expression: %s", msg);
		}
		regfree(&re);
		free(p->text);
		p->kind = RK_PAT_REGEX;
		p->text = src;
		return 0;
	}
	p->kind = strchr(s, '@') != NULL ? RK_PAT_ADDRESS : RK_PAT_DOMAIN;
	return p->kind == RK_PAT_ADDRESS
	    ? cfg_parse_addr(ctx, f, s, &p->text, err)
	    : cfg_parse_domain(ctx, f, s, &p->text, err);
}

static int
cfg_parse_header(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	size_t len = strlen(s);

	(void)ctx;
	(void)f;
	if (len == 0 || len > 128)
		return rk_err_set(err, "must be 1..128 characters");
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 32 || s[i] >= 127 || s[i] == ':')
			return rk_err_set(
			    err, "only printable ASCII without spaces or ':'");
	free(*(char **)dst);
	*(char **)dst = rk_strdup(s);
	return 0;
}

static int
cfg_parse_sender(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	char *d = NULL;

	if (s[0] != '@')
		return cfg_parse_addr(ctx, f, s, dst, err);
	if (cfg_parse_domain(ctx, f, s + 1, &d, err) != 0)
		return -1;
	free(*(char **)dst);
	*(char **)dst = rk_memdup0("@", 1);
	*(char **)dst = rk_reallocarray(*(char **)dst, strlen(d) + 2, 1);
	strcpy(*(char **)dst + 1, d);
	free(d);
	return 0;
}

static int
cfg_parse_regex(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	regex_t re;
	int rc = regcomp(&re, s, REG_EXTENDED | REG_ICASE | REG_NOSUB);

	(void)ctx;
	(void)f;
	if (rc != 0) {
		char msg[128];

		regerror(rc, &re, msg, sizeof(msg));
		return rk_err_set(err, "bad regular expression: %s", msg);
	}
	regfree(&re);
	free(*(char **)dst);
	*(char **)dst = rk_strdup(s);
	return 0;
}

/* A calendar date, YYYY-MM-DD, that exists. */
static int
cfg_parse_date(struct cfg_ctx *ctx, const struct cfg_field *f, const char *s,
    void *dst, struct rk_err *err)
{
	struct tm tm;
	const char *end;

	(void)ctx;
	(void)f;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (strlen(s) != 10 || end == NULL || *end != '\0' ||
	    tm.tm_year < 100 || tm.tm_year > 1100)
		return rk_err_set(err, "not a date");
	{
		struct tm back = tm;

		if (timegm(&back) == (time_t)-1 || back.tm_mday != tm.tm_mday)
			return rk_err_set(err, "no such day");
	}
	free(*(char **)dst);
	*(char **)dst = rk_strdup(s);
	return 0;
}

static const struct cfg_scalar scalars[CT_NTYPES] = {
	[CT_STR] = { "a string", cfg_parse_str, sizeof(char *), false },
	[CT_BOOL] = { "true or false", cfg_parse_bool, sizeof(bool), true },
	[CT_INT] = { "an integer", cfg_parse_int, sizeof(int64_t), true },
	[CT_DOUBLE] = { "a number", cfg_parse_double, sizeof(double), true },
	[CT_ENUM] = { "one of", cfg_parse_enum, sizeof(int), false },
	[CT_DURATION] = { "a duration like 30s, 5m or 1h30m",
	    cfg_parse_duration, sizeof(uint64_t), false },
	[CT_SIZE] = { "a size like 26214400, 512k or 25M", cfg_parse_size,
	    sizeof(uint64_t), false },
	[CT_RATE] = { "N/PERIOD like 10/1m", cfg_parse_rate,
	    sizeof(struct rk_rate), false },
	[CT_CIDR] = { "an IP address or network like 10.0.0.0/8",
	    cfg_parse_cidr, sizeof(struct rk_cidr), false },
	[CT_IP] = { "an IP address", cfg_parse_ip, sizeof(struct rk_ip),
	    false },
	[CT_ADDR] = { "a mail address like user@example.com", cfg_parse_addr,
	    sizeof(char *), false },
	[CT_DOMAIN] = { "a domain name", cfg_parse_domain, sizeof(char *),
	    false },
	[CT_HOST] = { "a host name or IP address", cfg_parse_host,
	    sizeof(char *), false },
	[CT_URL] = { "an http:// or https:// URL", cfg_parse_url,
	    sizeof(char *), false },
	[CT_ENDPOINT] = { "unix:/path or inet:host:port", cfg_parse_endpoint,
	    sizeof(struct rk_endpoint), false },
	[CT_PATTERN] = { "an address, a domain or a /regex/", cfg_parse_pattern,
	    sizeof(struct rk_cfg_pattern), false },
	[CT_HEADER] = { "a header field name", cfg_parse_header, sizeof(char *),
	    false },
	[CT_SENDER] = { "an address or @domain", cfg_parse_sender,
	    sizeof(char *), false },
	[CT_REGEX] = { "a regular expression (POSIX extended)", cfg_parse_regex,
	    sizeof(char *), false },
	[CT_DATE] = { "a date like 2026-12-01", cfg_parse_date, sizeof(char *),
	    false },
};

/* "want …" for a field, with the bounds or choices it has. */
static void
cfg_want(const struct cfg_field *f, enum cfg_type t, struct rk_buf *b)
{
	rk_buf_puts(b,
	    t == CT_ENDPOINT && (f->flags & F_INET) ? "host:port"
	                                            : scalars[t].want);
	if (t == CT_ENUM) {
		for (int i = 0; f->names[i] != NULL; i++)
			rk_buf_printf(b, "%s%s", i ? ", " : " ", f->names[i]);
	} else if (t == CT_INT) {
		rk_buf_printf(
		    b, " in %lld..%lld", (long long)f->min, (long long)f->max);
	} else if (t == CT_DOUBLE) {
		rk_buf_printf(b, " in %g..%g", f->dmin, f->dmax);
	} else if ((t == CT_DURATION || t == CT_SIZE) && f->max > 0) {
		char lo[32], hi[32];

		if (t == CT_DURATION)
			rk_buf_printf(b, " in %s..%s",
			    rk_duration_format((uint64_t)f->min, lo, 32),
			    rk_duration_format((uint64_t)f->max, hi, 32));
		else
			rk_buf_printf(b, " in %lld..%lld bytes",
			    (long long)f->min, (long long)f->max);
	}
}

/*
 * Why a secret value cannot be right, or NULL.  A password, token or HMAC
 * secret is one line: a second line (a secret file with two) or white
 * space at either end would be written into Postfix maps or headers
 * as something else (sasl_passwd takes one line per host).
 */
static const char *
secret_problem(const char *v, size_t len)
{
	if (strlen(v) != len)
		return "may not hold a NUL byte";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return "must be one line without control characters";
	if (len > 0 && (v[0] == ' ' || v[len - 1] == ' '))
		return "may not begin or end with white space";
	return NULL;
}

/* Parses one scalar node of type t into dst; reports errors itself. */
static int
cfg_scalar(struct cfg_ctx *ctx, const struct cfg_field *f, enum cfg_type t,
    const struct rk_ynode *node, void *dst, const char *path)
{
	struct rk_err err = { "" };
	struct rk_buf want;
	char shown[512];
	const char *why;
	int rc;

	if ((f->flags & F_SECRET) && node->kind == RK_Y_SCALAR &&
	    (why = secret_problem(node->value, node->len)) != NULL) {
		cfg_error(ctx, node, path, "a secret %s", why);
		return -1;
	}
	if (node->kind == RK_Y_SCALAR &&
	    (!scalars[t].takes_plain_only || node->plain) &&
	    strlen(node->value) == node->len) {
		rc = scalars[t].parse(ctx, f, node->value, dst, &err);
		if (rc == 0)
			return 0;
	}
	rk_buf_init(&want);
	cfg_want(f, t, &want);
	if (node->kind != RK_Y_SCALAR)
		cfg_error(ctx, node, path, "want %s, got %s", want.data,
		    rk_ynode_describe(node));
	else if (f->flags & F_SECRET) /* never echo a secret */
		cfg_error(ctx, node, path, "want %s, got something else%s%s",
		    want.data, err.msg[0] ? ": " : "", err.msg);
	else if (scalars[t].takes_plain_only && !node->plain)
		cfg_error(ctx, node, path,
		    "want %s, got a quoted string \"%s\"", want.data,
		    cfg_shown(node, shown, sizeof(shown)));
	else
		cfg_error(ctx, node, path, "want %s, got \"%s\"%s%s", want.data,
		    cfg_shown(node, shown, sizeof(shown)),
		    err.msg[0] ? ": " : "", err.msg);
	rk_buf_free(&want);
	return -1;
}

/* ------------------------------------------------------- freeing */

static void cfg_free_struct(const struct cfg_struct *st, void *obj);

static void
cfg_free_value(enum cfg_type t, const struct cfg_field *f, void *p)
{
	switch (t) {
	case CT_STR:
	case CT_ADDR:
	case CT_DOMAIN:
	case CT_HOST:
	case CT_URL:
	case CT_HEADER:
	case CT_SENDER:
	case CT_REGEX:
	case CT_DATE:
		if (f != NULL && (f->flags & F_SECRET))
			rk_free_secret(*(char **)p);
		else
			free(*(char **)p);
		*(char **)p = NULL;
		break;
	case CT_PATTERN:
		free(((struct rk_cfg_pattern *)p)->text);
		((struct rk_cfg_pattern *)p)->text = NULL;
		break;
	default:
		break;
	}
}

static size_t
cfg_elem_size(const struct cfg_field *f)
{
	if (f->sub != NULL)
		return f->sub->size;
	if (f->type == CT_MAP)
		return sizeof(struct rk_cfg_kv);
	return scalars[f->elem].size;
}

static void
cfg_free_array(const struct cfg_field *f, void *obj)
{
	char **arr = (char **)((char *)obj + f->off);
	size_t *count = (size_t *)((char *)obj + f->count_off);
	size_t esz = cfg_elem_size(f);

	for (size_t i = 0; i < *count; i++) {
		char *e = *arr + i * esz;

		if (f->sub != NULL) {
			cfg_free_struct(f->sub, e);
		} else if (f->type == CT_MAP) {
			struct rk_cfg_kv *kv = (struct rk_cfg_kv *)(void *)e;

			free(kv->key);
			rk_free_secret(kv->value);
		} else {
			cfg_free_value(f->elem, NULL, e);
		}
	}
	free(*arr);
	*arr = NULL;
	*count = 0;
}

static void
cfg_free_struct(const struct cfg_struct *st, void *obj)
{
	if (st->key_off != CFG_NO_KEY) {
		char **key = (char **)((char *)obj + st->key_off);

		free(*key);
		*key = NULL;
	}
	for (const struct cfg_field *f = st->fields; f->name; f++) {
		void *p = (char *)obj + f->off;

		if (f->type == CT_STRUCT)
			cfg_free_struct(f->sub, p);
		else if (f->type == CT_LIST || f->type == CT_MAP)
			cfg_free_array(f, obj);
		else
			cfg_free_value(f->type, f, p);
	}
}

/* ------------------------------------------------------- defaults */

static void cfg_defaults(struct cfg_ctx *ctx, const struct cfg_struct *st,
    void *obj, const char *path);
static void cfg_list_from_text(struct cfg_ctx *ctx, const struct cfg_field *f,
    void *obj, const struct rk_ynode *at, const char *text, const char *path);

static void
cfg_field_default(
    struct cfg_ctx *ctx, const struct cfg_field *f, void *obj, const char *path)
{
	struct rk_ynode n = { .kind = RK_Y_SCALAR, .plain = true };

	if (f->type == CT_STRUCT) {
		cfg_defaults(ctx, f->sub, (char *)obj + f->off, path);
		return;
	}
	if (f->def == NULL)
		return;
	if (f->type == CT_LIST) {
		cfg_list_from_text(ctx, f, obj, NULL, f->def, path);
		return;
	}
	n.value = (char *)(uintptr_t)f->def;
	n.len = strlen(f->def);
	cfg_scalar(ctx, f, f->type, &n, (char *)obj + f->off, path);
}

static void
cfg_defaults(struct cfg_ctx *ctx, const struct cfg_struct *st, void *obj,
    const char *path)
{
	bool saved = ctx->defaults;

	ctx->defaults = true;
	for (const struct cfg_field *f = st->fields; f->name; f++)
		cfg_field_default(ctx, f, obj, path);
	ctx->defaults = saved;
}

/* ------------------------------------------------------- walking */

static int cfg_struct_node(struct cfg_ctx *ctx, const struct cfg_struct *st,
    const struct rk_ynode *node, void *obj, const char *path);

static void
cfg_path(char *out, const char *path, const char *key)
{
	snprintf(out, CFG_PATH_MAX, "%s%s%s", path, *path ? "." : "", key);
}

/* Grows the array of f in obj by one zeroed element; returns it. */
static void *
cfg_array_push(const struct cfg_field *f, void *obj)
{
	char **arr = (char **)((char *)obj + f->off);
	size_t *count = (size_t *)((char *)obj + f->count_off);
	size_t esz = cfg_elem_size(f);
	char *e;

	*arr = rk_reallocarray(*arr, *count + 1, esz);
	e = *arr + *count * esz;
	memset(e, 0, esz);
	(*count)++;
	return e;
}

/* One list item: a struct (defaults first) or a scalar. */
static int
cfg_list_item(struct cfg_ctx *ctx, const struct cfg_field *f, void *obj,
    const struct rk_ynode *item, const char *path)
{
	void *e = cfg_array_push(f, obj);

	if (f->sub != NULL) {
		if (f->sub->key_off != CFG_NO_KEY)
			*(char **)((char *)e + f->sub->key_off) = NULL;
		cfg_defaults(ctx, f->sub, e, path);
		return cfg_struct_node(ctx, f->sub, item, e, path);
	}
	return cfg_scalar(ctx, f, f->elem, item, e, path);
}

static void
cfg_list_from_text(struct cfg_ctx *ctx, const struct cfg_field *f, void *obj,
    const struct rk_ynode *at, const char *text, const char *path)
{
	char *copy = rk_strdup(text), *save = NULL;
	size_t i = 0;

	cfg_free_array(f, obj);
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), i++) {
		struct rk_ynode n = { .kind = RK_Y_SCALAR, .plain = true };
		char ipath[CFG_PATH_MAX];

		while (*tok == ' ' || *tok == '\t')
			tok++;
		for (char *end = tok + strlen(tok);
		     end > tok && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		n.value = tok;
		n.len = strlen(tok);
		n.line = at ? at->line : 0;
		n.col = at ? at->col : 0;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		cfg_list_item(ctx, f, obj, &n, ipath);
	}
	free(copy);
}

static int
cfg_list(struct cfg_ctx *ctx, const struct cfg_field *f, void *obj,
    const struct rk_ynode *node, const char *path)
{
	int rc = 0;

	if (rk_ynode_is_null(node))
		return 0; /* an empty value keeps the default, as for scalars */
	cfg_free_array(f, obj);
	if (node->kind == RK_Y_SCALAR && (f->flags & F_CSV)) {
		size_t before = ctx->diag->n;

		cfg_list_from_text(ctx, f, obj, node, node->value, path);
		return ctx->diag->n == before ? 0 : -1;
	}
	if (node->kind != RK_Y_SEQ) {
		cfg_error(ctx, node, path, "want a list, got %s",
		    rk_ynode_describe(node));
		return -1;
	}
	for (size_t i = 0; i < node->n; i++) {
		char ipath[CFG_PATH_MAX];

		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (cfg_list_item(ctx, f, obj, node->items[i], ipath) != 0)
			rc = -1;
	}
	return rc;
}

static int
cfg_map_key(struct cfg_ctx *ctx, const struct cfg_field *f,
    const struct rk_ynode *key, char **out, const char *path)
{
	struct cfg_field kf = {
		.name = f->name, .type = f->keytype, .flags = F_NONEMPTY
	};

	return cfg_scalar(ctx, &kf, f->keytype, key, out, path);
}

static int
cfg_map(struct cfg_ctx *ctx, const struct cfg_field *f, void *obj,
    const struct rk_ynode *node, const char *path)
{
	int rc = 0;

	if (rk_ynode_is_null(node))
		return 0;
	cfg_free_array(f, obj);
	if (node->kind != RK_Y_MAP) {
		cfg_error(ctx, node, path, "want a mapping, got %s",
		    rk_ynode_describe(node));
		return -1;
	}
	for (size_t i = 0; i < node->n; i++) {
		char ipath[CFG_PATH_MAX];
		char *e = cfg_array_push(f, obj);

		cfg_path(ipath, path, node->keys[i]->value);
		if (f->sub == NULL) {
			struct rk_cfg_kv *kv = (struct rk_cfg_kv *)(void *)e;
			struct cfg_field vf = { .name = f->name,
				.type = f->elem,
				.flags = f->flags };

			if (cfg_map_key(
			        ctx, f, node->keys[i], &kv->key, ipath) != 0 ||
			    cfg_scalar(ctx, &vf, f->elem, node->items[i],
			        &kv->value, ipath) != 0)
				rc = -1;
			continue;
		}
		cfg_defaults(ctx, f->sub, e, ipath);
		if (cfg_map_key(ctx, f, node->keys[i],
		        (char **)(e + f->sub->key_off), ipath) != 0 ||
		    cfg_struct_node(ctx, f->sub, node->items[i], e, ipath) != 0)
			rc = -1;
	}
	return rc;
}

static int
cfg_value(struct cfg_ctx *ctx, const struct cfg_field *f, void *obj,
    const struct rk_ynode *node, const char *path)
{
	switch (f->type) {
	case CT_STRUCT:
		return cfg_struct_node(
		    ctx, f->sub, node, (char *)obj + f->off, path);
	case CT_LIST:
		return cfg_list(ctx, f, obj, node, path);
	case CT_MAP:
		return cfg_map(ctx, f, obj, node, path);
	default:
		if (rk_ynode_is_null(node))
			return 0; /* an empty value keeps the default */
		if ((f->flags & F_SECRET) && node->kind == RK_Y_SCALAR &&
		    node->len == 0)
			return 0; /* "" is unset, as the chart's values write it
			           */
		return cfg_scalar(
		    ctx, f, f->type, node, (char *)obj + f->off, path);
	}
}

/* ------------------------------------------------------- secrets */

static char *
cfg_resolve(const struct cfg_ctx *ctx, const char *file)
{
	struct rk_buf b;

	if (file[0] == '/' || ctx->basedir == NULL)
		return rk_strdup(file);
	rk_buf_init(&b);
	rk_buf_printf(&b, "%s/%s", ctx->basedir, file);
	return rk_buf_steal(&b);
}

/*
 * Reads a secret file: a regular file of at most 64 KiB, one trailing
 * newline dropped.  Returns the value (caller wipes and frees) or NULL
 * with a reason in err.
 */
static char *
cfg_read_secret(const char *path, struct rk_err *err)
{
	struct rk_buf b;
	struct stat st;
	char chunk[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		rk_err_set(err, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)CFG_SECRET_MAX) {
		rk_err_set(
		    err, "%s is not a regular file of at most 64 KiB", path);
		close(fd);
		return NULL;
	}
	rk_buf_init(&b);
	while (
	    (r = read(fd, chunk, sizeof(chunk))) > 0 && b.len < CFG_SECRET_MAX)
		rk_buf_append(&b, chunk, (size_t)r);
	rk_memzero(chunk, sizeof(chunk));
	close(fd);
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	if (b.data == NULL || strlen(b.data) != b.len) {
		rk_err_set(err, "%s is empty or holds a NUL byte", path);
		if (b.data != NULL)
			rk_memzero(b.data, b.len);
		rk_buf_free(&b);
		return NULL;
	}
	return rk_buf_steal(&b);
}

/* KEYFile for a secret field: reads the file into the field. */
/* Whether this program reads the secret at path (see RK_CFG_SECRETS). */
static bool
cfg_secret_wanted(const struct cfg_ctx *ctx, const char *path)
{
	static const struct {
		const char *section;
		unsigned bit;
	} map[] = {
		{ "mail", RK_CFG_SEC_MAIL },
		{ "auth", RK_CFG_SEC_AUTH },
		{ "inbound", RK_CFG_SEC_INBOUND },
		{ "webhooks", RK_CFG_SEC_WEBHOOKS },
		{ "dns", RK_CFG_SEC_DNS },
		{ "redis", RK_CFG_SEC_REDIS },
		{ "dashboard", RK_CFG_SEC_DASHBOARD },
	};
	size_t n = strcspn(path, ".[");

	if (!(ctx->flags & RK_CFG_SECRETS))
		return true;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].section) == n &&
		    strncmp(path, map[i].section, n) == 0)
			return (ctx->flags & map[i].bit) != 0;
	return false;
}

static int
cfg_secret_file(struct cfg_ctx *ctx, const struct cfg_field *f, void *obj,
    const struct rk_ynode *node, const char *path)
{
	struct rk_ynode tmp = { .kind = RK_Y_SCALAR };
	struct rk_err err;
	char *file = NULL, *val, *full;
	struct cfg_field ff = {
		.name = f->name, .type = CT_STR, .flags = F_NONEMPTY
	};

	if (cfg_scalar(ctx, &ff, CT_STR, node, &file, path) != 0)
		return -1;
	if ((ctx->flags & RK_CFG_NO_FILES) || !cfg_secret_wanted(ctx, path)) {
		free(file);
		val = rk_strdup("secret-from-file-not-read-here!!");
	} else {
		full = cfg_resolve(ctx, file);
		free(file);
		val = cfg_read_secret(full, &err);
		free(full);
		if (val == NULL) {
			cfg_error(ctx, node, path, "%s", err.msg);
			return -1;
		}
	}
	tmp.value = val;
	tmp.len = strlen(val);
	tmp.line = node->line; /* errors point at the *File key's value */
	tmp.col = node->col;
	{
		struct cfg_field sf = *f;
		int rc;

		sf.flags |= F_SECRET;
		rc = cfg_scalar(
		    ctx, &sf, f->type, &tmp, (char *)obj + f->off, path);
		rk_free_secret(val);
		return rc;
	}
}

/* ------------------------------------------------------- structs */

static const struct cfg_field *
cfg_find(const struct cfg_struct *st, const char *key, bool *is_file)
{
	size_t klen = strlen(key);

	*is_file = false;
	for (const struct cfg_field *f = st->fields; f->name; f++)
		if (strcmp(f->name, key) == 0)
			return f;
	if (klen <= 4 || strcmp(key + klen - 4, "File") != 0)
		return NULL;
	for (const struct cfg_field *f = st->fields; f->name; f++) {
		if ((f->flags & F_SECRET) && strlen(f->name) == klen - 4 &&
		    strncmp(f->name, key, klen - 4) == 0) {
			*is_file = true;
			return f;
		}
	}
	return NULL;
}

static void
cfg_unknown(struct cfg_ctx *ctx, const struct cfg_struct *st,
    const struct rk_ynode *key, const char *path)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (const struct cfg_field *f = st->fields; f->name; f++) {
		size_t d = rk_str_distance(key->value, f->name, 2);

		if (d < bestd) {
			bestd = d;
			best = f->name;
		}
	}
	if (best != NULL)
		cfg_error(
		    ctx, key, path, "unknown key (did you mean %s?)", best);
	else
		cfg_error(ctx, key, path, "unknown key");
}

static int
cfg_struct_key(struct cfg_ctx *ctx, const struct cfg_struct *st,
    const struct rk_ynode *node, size_t i, void *obj, const char *path)
{
	const struct rk_ynode *key = node->keys[i];
	char kpath[CFG_PATH_MAX];
	bool is_file;
	const struct cfg_field *f = cfg_find(st, key->value, &is_file);

	cfg_path(kpath, path, key->value);
	if (f == NULL) {
		cfg_unknown(ctx, st, key, kpath);
		return -1;
	}
	if (!is_file)
		return cfg_value(ctx, f, obj, node->items[i], kpath);
	if (rk_ynode_get(node, f->name) != NULL &&
	    !rk_ynode_is_null(rk_ynode_get(node, f->name))) {
		cfg_error(ctx, key, kpath, "set %s or %s, not both", f->name,
		    key->value);
		return -1;
	}
	if (rk_ynode_is_null(node->items[i]))
		return 0;
	return cfg_secret_file(ctx, f, obj, node->items[i], kpath);
}

static bool
cfg_present(const struct rk_ynode *node, const struct cfg_field *f)
{
	char fkey[128];

	if (!rk_ynode_is_null(rk_ynode_get(node, f->name)))
		return true;
	if (!(f->flags & F_SECRET))
		return false;
	snprintf(fkey, sizeof(fkey), "%sFile", f->name);
	return !rk_ynode_is_null(rk_ynode_get(node, fkey));
}

static int
cfg_struct_node(struct cfg_ctx *ctx, const struct cfg_struct *st,
    const struct rk_ynode *node, void *obj, const char *path)
{
	size_t before = ctx->diag->n;
	bool short_form = false;

	if (node != NULL && node->kind == RK_Y_SCALAR && st->shorthand &&
	    !rk_ynode_is_null(node)) {
		const struct cfg_field *f;
		bool is_file;

		f = cfg_find(st, st->shorthand, &is_file);
		cfg_value(ctx, f, obj, node, path);
		short_form = true;
		node = NULL; /* nothing else given: required checks below */
	} else if (rk_ynode_is_null(node)) {
		node = NULL;
	} else if (node->kind != RK_Y_MAP) {
		cfg_error(ctx, node, *path ? path : "(top level)",
		    "want a mapping, got %s", rk_ynode_describe(node));
		return -1;
	}
	for (size_t i = 0; node != NULL && i < node->n; i++)
		cfg_struct_key(ctx, st, node, i, obj, path);
	for (const struct cfg_field *f = st->fields; f->name; f++) {
		char kpath[CFG_PATH_MAX];

		if (!(f->flags & F_REQUIRED) || cfg_present(node, f) ||
		    (short_form && strcmp(f->name, st->shorthand) == 0))
			continue;
		cfg_path(kpath, path, f->name);
		cfg_error(ctx, node, kpath, "required key missing");
	}
	if (ctx->diag->n == before && st->check != NULL)
		st->check(ctx, node, obj, path);
	return ctx->diag->n == before ? 0 : -1;
}

/* ------------------------------------------------------- public */

struct rk_cfg *
rk_cfg_load_buf(const char *name, const char *basedir, const char *buf,
    size_t len, unsigned flags, struct rk_cfg_diag *diag)
{
	struct cfg_ctx ctx = { name, basedir, flags, diag, false };
	struct rk_yaml_error yerr;
	struct rk_ynode *root = NULL;
	struct rk_cfg *cfg;

	diag->msgs = NULL;
	diag->n = 0;
	if (rk_yaml_parse(buf, len, &root, &yerr) != 0) {
		struct rk_ynode at = { .line = yerr.line, .col = yerr.col };

		cfg_error(&ctx, &at, NULL, "%s", yerr.msg);
		return NULL;
	}
	cfg = rk_calloc(1, sizeof(*cfg));
	cfg_defaults(&ctx, &rk_cfg_schema_root, cfg, "");
	cfg_struct_node(&ctx, &rk_cfg_schema_root, root, cfg, "");
	rk_ynode_free(root);
	if (diag->n > 0) {
		cfg_free_struct(&rk_cfg_schema_root, cfg);
		free(cfg);
		return NULL;
	}
	cfg->path = rk_strdup(name);
	atomic_init(&cfg->refs, 1);
	return cfg;
}

struct rk_cfg *
rk_cfg_load_file(const char *path, unsigned flags, struct rk_cfg_diag *diag)
{
	struct rk_buf b;
	struct rk_cfg *cfg;
	char chunk[8192], *dir, *slash;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	diag->msgs = NULL;
	diag->n = 0;
	if (fd < 0) {
		struct rk_buf m;

		rk_buf_init(&m);
		rk_buf_printf(&m, "%s: cannot read: %s", path, strerror(errno));
		diag->msgs = rk_calloc(1, sizeof(*diag->msgs));
		diag->msgs[diag->n++] = rk_buf_steal(&m);
		return NULL;
	}
	rk_buf_init(&b);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0 &&
	    b.len <= RK_YAML_MAX_INPUT)
		rk_buf_append(&b, chunk, (size_t)r);
	close(fd);
	dir = rk_strdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	cfg = rk_cfg_load_buf(
	    path, slash ? dir : NULL, b.data ? b.data : "", b.len, flags, diag);
	free(dir);
	rk_buf_free(&b);
	return cfg;
}

struct rk_cfg *
rk_cfg_ref(struct rk_cfg *cfg)
{
	atomic_fetch_add(&cfg->refs, 1);
	return cfg;
}

void
rk_cfg_unref(struct rk_cfg *cfg)
{
	if (cfg == NULL || atomic_fetch_sub(&cfg->refs, 1) != 1)
		return;
	cfg_free_struct(&rk_cfg_schema_root, cfg);
	free(cfg->path);
	free(cfg);
}

void
rk_cfg_diag_print(const struct rk_cfg_diag *diag, FILE *fp)
{
	for (size_t i = 0; i < diag->n; i++)
		fprintf(fp, "%s\n", diag->msgs[i]);
}

void
rk_cfg_diag_free(struct rk_cfg_diag *diag)
{
	if (diag == NULL)
		return;
	for (size_t i = 0; i < diag->n; i++)
		free(diag->msgs[i]);
	free(diag->msgs);
	diag->msgs = NULL;
	diag->n = 0;
}

static void
cfg_keys_struct(const struct cfg_struct *st, const char *path,
    void (*fn)(const char *, void *), void *arg)
{
	for (const struct cfg_field *f = st->fields; f->name; f++) {
		char kpath[CFG_PATH_MAX];

		cfg_path(kpath, path, f->name);
		if (f->flags & F_SECRET) {
			char fpath[CFG_PATH_MAX + 8];

			snprintf(fpath, sizeof(fpath), "%sFile", kpath);
			fn(kpath, arg);
			fn(fpath, arg);
		} else if (f->type == CT_STRUCT) {
			cfg_keys_struct(f->sub, kpath, fn, arg);
		} else if (f->type == CT_LIST && f->sub != NULL) {
			strncat(kpath, "[]", sizeof(kpath) - strlen(kpath) - 1);
			cfg_keys_struct(f->sub, kpath, fn, arg);
		} else if (f->type == CT_MAP && f->sub != NULL) {
			strncat(kpath, ".*", sizeof(kpath) - strlen(kpath) - 1);
			cfg_keys_struct(f->sub, kpath, fn, arg);
		} else {
			fn(kpath, arg);
		}
	}
}

void
rk_cfg_keys(void (*fn)(const char *path, void *arg), void *arg)
{
	cfg_keys_struct(&rk_cfg_schema_root, "", fn, arg);
}

int
rk_cfg_check_main(const char *path, FILE *out, FILE *err)
{
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg = rk_cfg_load_file(path, 0, &diag);

	if (cfg == NULL) {
		rk_cfg_diag_print(&diag, err);
		fprintf(err, "%s: %zu error%s\n", path, diag.n,
		    diag.n == 1 ? "" : "s");
		rk_cfg_diag_free(&diag);
		return EX_CONFIG;
	}
	if (rk_cfg_check_dump)
		rk_cfg_dump(cfg, out);
	fprintf(out, "configuration OK\n");
	rk_cfg_unref(cfg);
	return 0;
}

struct rk_cfg *
rk_cfg_load_logged(const char *path, unsigned flags)
{
	struct rk_cfg_diag diag;
	struct rk_cfg *cfg = rk_cfg_load_file(path, flags, &diag);

	if (cfg != NULL)
		return cfg;
	for (size_t i = 0; i < diag.n; i++)
		rk_log_errorx("%s", diag.msgs[i]);
	rk_log_errorx("%s: %zu error%s", path, diag.n, diag.n == 1 ? "" : "s");
	rk_cfg_diag_free(&diag);
	return NULL;
}

/* ------------------------------------------------------------- dumping */

bool rk_cfg_check_dump;

static const char *
dump_scalar(enum cfg_type t, const struct cfg_field *f, const void *p,
    char *buf, size_t n)
{
	switch (t) {
	case CT_BOOL:
		return *(const bool *)p ? "true" : "false";
	case CT_INT:
		snprintf(buf, n, "%lld", (long long)*(const int64_t *)p);
		return buf;
	case CT_DOUBLE:
		snprintf(buf, n, "%g", *(const double *)p);
		return buf;
	case CT_ENUM:
		return f != NULL && f->names != NULL ? f->names[*(const int *)p]
		                                     : "?";
	case CT_DURATION:
		return rk_duration_format(*(const uint64_t *)p, buf, n);
	case CT_SIZE:
		snprintf(
		    buf, n, "%llu", (unsigned long long)*(const uint64_t *)p);
		return buf;
	case CT_RATE:
		return ((const struct rk_rate *)p)->count == 0
		    ? "(unset)"
		    : rk_rate_format((const struct rk_rate *)p, buf, n);
	case CT_CIDR:
		return rk_cidr_format((const struct rk_cidr *)p, buf, n);
	case CT_IP: {
		const struct rk_ip *ip = p;

		if (ip->family == 0 ||
		    inet_ntop(ip->family, ip->addr, buf, (socklen_t)n) == NULL)
			return "(unset)";
		return buf;
	}
	case CT_ENDPOINT:
		return rk_endpoint_format(
		    (const struct rk_endpoint *)p, buf, n);
	case CT_PATTERN: {
		const char *s = ((const struct rk_cfg_pattern *)p)->text;

		return s ? s : "(unset)";
	}
	default: {
		const char *s = *(char *const *)p;

		return s ? s : "(unset)";
	}
	}
}

static void dump_struct(
    const struct cfg_struct *st, const void *obj, const char *path, FILE *out);

static void
dump_array(
    const struct cfg_field *f, const void *obj, const char *path, FILE *out)
{
	const char *arr = *(char *const *)((const char *)obj + f->off);
	size_t count = *(const size_t *)((const char *)obj + f->count_off);
	size_t esz = cfg_elem_size(f);
	char sub[2 * CFG_PATH_MAX + 32], buf[512];

	if (count == 0 && f->sub == NULL) {
		fprintf(out, "%s = []\n", path);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		const char *e = arr + i * esz;

		if (f->type == CT_MAP && f->sub == NULL) {
			const struct rk_cfg_kv *kv = (const void *)e;

			fprintf(
			    out, "%s.%s = (set, not shown)\n", path, kv->key);
		} else if (f->sub != NULL && f->sub->key_off != CFG_NO_KEY) {
			snprintf(sub, sizeof(sub), "%s.%s", path,
			    *(char *const *)(e + f->sub->key_off));
			dump_struct(f->sub, e, sub, out);
		} else if (f->sub != NULL) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			dump_struct(f->sub, e, sub, out);
		} else {
			fprintf(out, "%s[%zu] = %s\n", path, i,
			    dump_scalar(f->elem, NULL, e, buf, sizeof(buf)));
		}
	}
}

static void
dump_struct(
    const struct cfg_struct *st, const void *obj, const char *path, FILE *out)
{
	char p[CFG_PATH_MAX], buf[512];

	for (const struct cfg_field *f = st->fields; f->name != NULL; f++) {
		const void *v = (const char *)obj + f->off;

		cfg_path(p, path, f->name);
		if (f->type == CT_STRUCT)
			dump_struct(f->sub, v, p, out);
		else if (f->type == CT_LIST || f->type == CT_MAP)
			dump_array(f, obj, p, out);
		else if (f->flags & F_SECRET)
			fprintf(out, "%s = %s\n", p,
			    *(char *const *)v ? "(set, not shown)" : "(unset)");
		else
			fprintf(out, "%s = %s\n", p,
			    dump_scalar(f->type, f, v, buf, sizeof(buf)));
	}
}

void
rk_cfg_dump(const struct rk_cfg *cfg, FILE *out)
{
	dump_struct(&rk_cfg_schema_root, cfg, "", out);
}
