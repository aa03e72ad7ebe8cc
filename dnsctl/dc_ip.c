/* SPDX-License-Identifier: MIT */
/*
 * dc_ip: the relay's public addresses: dns.ip.static, the load-balancer
 * addresses of its Kubernetes Service (read through the API with the
 * pod's service account), and the address echo services see its
 * outgoing connections come from.
 *
 * The token is read again at every use (Kubernetes rotates it) and
 * wiped after.  Answers are parsed with jansson and rk_ip_parse; both
 * parsers are pure and fuzzed.  Single-threaded, blocking.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "dc.h"

#define ECHO_MAX  128
#define TOKEN_MAX 65536

int
dc_ip_parse_echo(
    const char *body, size_t len, struct rk_ip *out, struct rk_err *err)
{
	char buf[ECHO_MAX];
	size_t a = 0;

	while (len > 0 &&
	    (body[len - 1] == '\n' || body[len - 1] == '\r' ||
	        body[len - 1] == ' ' || body[len - 1] == '\t'))
		len--;
	while (a < len &&
	    (body[a] == ' ' || body[a] == '\t' || body[a] == '\n' ||
	        body[a] == '\r'))
		a++;
	if (len - a == 0 || len - a >= sizeof(buf))
		return rk_err_set(
		    err, "want one IP address, got %zu bytes", len - a);
	memcpy(buf, body + a, len - a);
	buf[len - a] = '\0';
	if (memchr(buf, '\0', len - a) != NULL)
		return rk_err_set(err, "want one IP address");
	return rk_ip_parse(buf, out, err);
}

static void
ingress_one(json_t *item, struct dc_ips *out, struct rk_buf *hosts)
{
	json_t *ip = json_object_get(item, "ip");
	json_t *host = json_object_get(item, "hostname");
	struct rk_ip addr;

	if (json_is_string(ip) &&
	    rk_ip_parse(json_string_value(ip), &addr, NULL) == 0)
		dc_ips_add(out, &addr);
	else if (json_is_string(host))
		rk_buf_printf(hosts, "%s%s", hosts->len ? ", " : "",
		    json_string_value(host));
}

int
dc_ip_parse_service(
    const char *json, size_t len, struct dc_ips *out, struct rk_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *ingress;
	struct rk_buf hosts;

	if (root == NULL)
		return rk_err_set(err, "Service: not JSON: %s", jerr.text);
	ingress = json_object_get(
	    json_object_get(json_object_get(root, "status"), "loadBalancer"),
	    "ingress");
	if (!json_is_array(ingress)) {
		json_decref(root);
		return rk_err_set(err,
		    "Service has no load-balancer address yet "
		    "(status.loadBalancer.ingress)");
	}
	rk_buf_init(&hosts);
	for (size_t i = 0; i < json_array_size(ingress); i++)
		ingress_one(json_array_get(ingress, i), out, &hosts);
	json_decref(root);
	if (out->n == 0 && hosts.len > 0) {
		rk_err_set(err,
		    "the Service's load balancer has host names (%s), not "
		    "addresses: set dns.ip.static",
		    hosts.data);
		rk_buf_free(&hosts);
		return -1;
	}
	rk_buf_free(&hosts);
	if (out->n == 0)
		return rk_err_set(err, "Service has no load-balancer address");
	return 0;
}

/* A small file's content without the trailing newline; caller frees. */
static char *
read_small(const char *path, size_t max, struct rk_err *err)
{
	FILE *fp = fopen(path, "re");
	struct rk_buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		rk_err_set(err, "%s: cannot read it", path);
		return NULL;
	}
	rk_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len <= max)
		rk_buf_append(&b, chunk, n);
	rk_memzero(chunk, sizeof(chunk));
	fclose(fp);
	if (b.len > max) {
		rk_memzero(b.data, b.len);
		rk_buf_free(&b);
		rk_err_set(err, "%s: too long", path);
		return NULL;
	}
	while (b.len > 0 &&
	    (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return rk_buf_steal(&b);
}

/* The API base: the config's, or the pod's environment; NULL outside. */
static char *
kube_api(const struct rk_cfg *cfg)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct rk_buf b;

	if (cfg->dns.ip.kubernetesApi != NULL)
		return rk_strdup(cfg->dns.ip.kubernetesApi);
	if (host == NULL || *host == '\0')
		return NULL;
	rk_buf_init(&b);
	rk_buf_printf(&b,
	    strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
	    port && *port ? port : "443");
	return rk_buf_steal(&b);
}

/* namespace and name of the Service; caller frees both. */
static int
kube_service(const struct rk_cfg *cfg, const char *sadir, char **ns,
    char **name, struct rk_err *err)
{
	const char *svc = cfg->dns.ip.service;
	const char *slash = svc ? strchr(svc, '/') : NULL;
	struct rk_buf path;

	if (svc == NULL)
		return rk_err_set(err,
		    "dns.ip.fromService: set dns.ip.service to the relay's "
		    "Service");
	if (slash != NULL) {
		*ns = rk_strndup(svc, (size_t)(slash - svc));
		*name = rk_strdup(slash + 1);
		return 0;
	}
	rk_buf_init(&path);
	rk_buf_printf(&path, "%s/namespace", sadir);
	*ns = read_small(path.data, 253, err);
	rk_buf_free(&path);
	if (*ns == NULL)
		return -1;
	*name = rk_strdup(svc);
	return 0;
}

/* A Kubernetes error: its Status message, or the HTTP status. */
static int
kube_error(const struct dc_http_resp *resp, const char *url, struct rk_err *err)
{
	json_t *root = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	json_t *m = json_object_get(root, "message");
	int rc = rk_err_set(err, "GET %s: HTTP %ld%s%s", url, resp->status,
	    json_is_string(m) ? ": " : "",
	    json_is_string(m) ? json_string_value(m) : "");

	json_decref(root);
	return rc;
}

static int
from_service(const struct rk_cfg *cfg, const char *api, struct dc_ips *out,
    struct rk_err *err)
{
	const char *sadir = cfg->dns.ip.serviceAccountDir;
	char *ns = NULL, *name = NULL, *token = NULL;
	struct rk_buf url, ca;
	struct dc_http_resp resp = { 0 };
	struct dc_http_req req = { "GET", NULL, NULL, NULL, NULL, 10000, 3 };
	int rc = -1;

	rk_buf_init(&url);
	rk_buf_init(&ca);
	rk_buf_printf(&ca, "%s/ca.crt", sadir);
	if (kube_service(cfg, sadir, &ns, &name, err) == -1)
		goto out;
	rk_buf_printf(&url, "%s/token", sadir);
	token = read_small(url.data, TOKEN_MAX, err);
	if (token == NULL)
		goto out;
	rk_buf_reset(&url);
	rk_buf_printf(
	    &url, "%s/api/v1/namespaces/%s/services/%s", api, ns, name);
	req.url = url.data;
	req.bearer = token;
	req.cafile = access(ca.data, R_OK) == 0 ? ca.data : NULL;
	if (dc_http_do(&req, &resp, err) == -1)
		goto out;
	if (resp.status != 200)
		kube_error(&resp, url.data, err);
	else
		rc = dc_ip_parse_service(
		    resp.body.data, resp.body.len, out, err);
out:
	rk_free_secret(token);
	dc_http_resp_free(&resp);
	rk_buf_free(&url);
	rk_buf_free(&ca);
	free(ns);
	free(name);
	return rc;
}

static int
from_echo(const char *url, struct dc_ips *out, struct rk_err *err)
{
	struct dc_http_req req = { "GET", url, NULL, NULL, NULL, 10000, 3 };
	struct dc_http_resp resp = { 0 };
	struct rk_ip ip;
	struct rk_err why;
	int rc = -1;

	if (dc_http_do(&req, &resp, err) == -1)
		goto out;
	if (resp.status != 200)
		rk_err_set(err, "GET %s: HTTP %ld", url, resp.status);
	else if (dc_ip_parse_echo(resp.body.data, resp.body.len, &ip, &why) ==
	    -1)
		rk_err_set(err, "GET %s: %s", url, why.msg);
	else {
		dc_ips_add(out, &ip);
		rc = 0;
	}
out:
	dc_http_resp_free(&resp);
	return rc;
}

int
dc_ip_detect(
    const struct rk_cfg *cfg, struct dc_ips *out, FILE *log, struct rk_err *err)
{
	const struct rk_cfg_dns *dns = &cfg->dns;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < dns->ip.nstaticIps; i++)
		dc_ips_add(out, &dns->ip.staticIps[i]);
	if (dns->ip.fromService) {
		char *api = kube_api(cfg);
		int rc = api ? from_service(cfg, api, out, err) : 0;

		free(api);
		if (rc == -1) {
			dc_ips_free(out);
			return -1;
		}
	}
	if (dns->ip.detectOutbound && dns->ip.nechoUrls == 0)
		fprintf(log,
		    "%s: dns.ip.detectOutbound: no dns.ip.echoUrls; "
		    "nothing detected\n",
		    DC_PROG);
	for (size_t i = 0; dns->ip.detectOutbound && i < dns->ip.nechoUrls;
	     i++) {
		if (from_echo(dns->ip.echoUrls[i], out, err) == -1) {
			dc_ips_free(out);
			return -1;
		}
	}
	dc_ips_sort(out);
	return 0;
}
