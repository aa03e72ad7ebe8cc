/* SPDX-License-Identifier: MIT */
/*
 * rk_cfg_impl.h: the schema machinery shared by the loader (rk_cfg.c) and
 * the schema tables (rk_cfg_schema.c).  Private to lib/.
 *
 * A struct schema is a table of fields; each field names its YAML key, its
 * type, where the value lands (offsetof) and its default as text, parsed
 * by the same code as the file so a default can never be invalid.
 */
#ifndef RK_CFG_IMPL_H
#define RK_CFG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "rk_cfg.h"
#include "rk_log.h"
#include "rk_yaml.h"

enum cfg_type {
	CT_STRUCT,   /* nested mapping -> struct (sub) */
	CT_LIST,     /* list of elem (or of sub structs) -> T *, size_t */
	CT_MAP,      /* map: key -> sub struct, or -> string (rk_cfg_kv) */
	CT_STR,      /* char * */
	CT_BOOL,     /* bool */
	CT_INT,      /* int64_t in [min, max] */
	CT_DOUBLE,   /* double in [dmin, dmax] */
	CT_ENUM,     /* int: index into names */
	CT_DURATION, /* uint64_t ms in [min, max] */
	CT_SIZE,     /* uint64_t bytes in [min, max] */
	CT_RATE,     /* struct rk_rate */
	CT_CIDR,     /* struct rk_cidr */
	CT_IP,       /* struct rk_ip */
	CT_ADDR,     /* char *: normalised local@domain */
	CT_DOMAIN,   /* char *: normalised domain */
	CT_HOST,     /* char *: domain name or IP literal */
	CT_URL,      /* char *: http(s) URL */
	CT_ENDPOINT, /* struct rk_endpoint */
	CT_PATTERN,  /* struct rk_cfg_pattern */
	CT_HEADER,   /* char *: header field name */
	CT_SENDER,   /* char *: local@domain or @domain */
	CT_REGEX,    /* char *: a POSIX extended regex (checked) */
	CT_DATE,     /* char *: YYYY-MM-DD (checked) */
	CT_NTYPES
};

enum {
	F_REQUIRED = 1 << 0, /* must be present (after *File) */
	F_SECRET = 1 << 1,   /* has a KEYFile alternative; never echoed */
	F_CSV = 1 << 2,      /* list may be one comma-separated string */
	F_PATH = 1 << 3,     /* relative paths resolve against basedir */
	F_NONEMPTY = 1 << 4, /* "" is not a value */
	F_EMPTY_OK = 1 << 5, /* CT_HOST: "" means every address */
	F_BARE = 1 << 6,     /* a duration the seeds give as a bare number */
	F_INET = 1 << 7,     /* CT_ENDPOINT: host:port, "inet:" optional */
};

struct cfg_ctx;
struct cfg_struct;

struct cfg_field {
	const char *name; /* YAML key */
	enum cfg_type type;
	size_t off;         /* value (or array pointer) offset */
	size_t count_off;   /* CT_LIST / CT_MAP: size_t count offset */
	enum cfg_type elem; /* CT_LIST / CT_MAP of scalars: element type */
	const struct cfg_struct *sub; /* CT_STRUCT; LIST/MAP of structs */
	const char *def;              /* default, as YAML text ("a,b" lists) */
	int64_t min, max;             /* INT, DURATION, SIZE (0,0: any) */
	double dmin, dmax;            /* DOUBLE */
	const char *const *names;     /* ENUM, NULL-terminated */
	unsigned flags;
	uint64_t unit;         /* DURATION: ms per bare number (0 = refuse) */
	enum cfg_type keytype; /* CT_MAP: CT_STR, CT_DOMAIN or CT_HEADER */
};

typedef int cfg_check_fn(struct cfg_ctx *ctx, const struct rk_ynode *node,
    void *obj, const char *path);

struct cfg_struct {
	size_t size;
	const struct cfg_field *fields; /* terminated by name == NULL */
	const char *shorthand;          /* scalar instead of mapping -> field */
	size_t key_off;                 /* map element: char * for the key */
	cfg_check_fn *check;            /* cross-field checks, after fields */
};

#define CFG_NO_KEY SIZE_MAX

/* The top of the schema: struct rk_cfg. */
extern const struct cfg_struct rk_cfg_schema_root;

/* For check hooks: report an error at node (or at the file start). */
void cfg_error(struct cfg_ctx *ctx, const struct rk_ynode *at, const char *path,
    const char *fmt, ...) RK_PRINTF(4, 5);
/* The node for key in a mapping node, for positions in check hooks. */
const struct rk_ynode *cfg_node(const struct rk_ynode *map, const char *key);
/* true if the loader was asked not to read files. */
int cfg_ctx_flags(const struct cfg_ctx *ctx);

#endif
