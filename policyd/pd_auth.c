/* SPDX-License-Identifier: MIT */
/*
 * pd_auth: checks one login and password for the SASL service.
 *
 * 1. The user list: auth.users plus auth.usersFile ("login:hash" lines),
 *    built with the rest of the state, so SIGHUP reloads it.  A stored
 *    value that libxcrypt accepts as a crypt(3) setting is a hash; anything
 *    else is a clear-text password (accepted, with a warning per load).
 * 2. The lockout, in Redis: failures counted per client address and per
 *    login within auth.lockout.window; at maxFailures the address or the
 *    login is locked for auth.lockout.duration.  Redis failing locks nobody
 *    out (logged once a minute, counted).
 * 3. The password check: crypt_rn() is slow by design (yescrypt, bcrypt),
 *    so it runs in a small pool of worker threads; a pipe wakes the loop
 *    with the results.  Unknown logins are hashed too, against a dummy
 *    setting, so the time taken does not tell which logins exist.  The
 *    comparison is constant-time.
 *
 * Threading: everything except the workers' crypt_rn runs on the loop.  A
 * job is owned by the queue, then by one worker, then by the done list;
 * the loop frees it.  Secrets: passwords are copied into the job and wiped
 * when it is freed; no password or hash is ever logged.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "rk_mem.h"
#include "rk_str.h"
#include "policyd.h"
#include "pd_sasl.h"

#define PD_CRYPT_THREADS  2
#define PD_USERS_FILE_MAX (16 << 20)

/* ------------------------------------------------------------- users */

static bool
is_hash(const char *s)
{
	int r;

	if (s[0] != '$')
		return false;
	r = crypt_checksalt(s);
	return r == CRYPT_SALT_OK || r == CRYPT_SALT_METHOD_LEGACY;
}

static void
users_add(struct pd_state *st, const char *login, size_t llen,
    const char *secret, size_t slen)
{
	struct pd_user *u;

	for (size_t i = 0; i < st->nusers; i++)
		if (strlen(st->users[i].login) == llen &&
		    rk_mem_case_eq(st->users[i].login, login, llen))
			return; /* auth.users wins over the file */
	st->users =
	    rk_reallocarray(st->users, st->nusers + 1, sizeof(*st->users));
	u = &st->users[st->nusers++];
	u->login = rk_strndup(login, llen);
	u->secret = rk_strndup(secret, slen);
	u->hashed = is_hash(u->secret);
}

/* One "login:hash" line (no LF); 0 or -1 with err. */
static int
users_line(struct pd_state *st, const char *path, size_t lineno, const char *p,
    size_t n, struct rk_err *err)
{
	const char *colon;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0 || p[0] == '#')
		return 0;
	colon = memchr(p, ':', n);
	if (colon == NULL || colon == p || colon + 1 == p + n)
		return rk_err_set(err, "auth.usersFile %s:%zu: want login:hash",
		    path, lineno);
	for (const char *c = p; c < colon; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return rk_err_set(err,
			    "auth.usersFile %s:%zu: a login may not hold "
			    "white space or control characters",
			    path, lineno);
	users_add(
	    st, p, (size_t)(colon - p), colon + 1, n - (size_t)(colon + 1 - p));
	return 0;
}

static int
users_file(struct pd_state *st, const char *path, struct rk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL;
	size_t off = 0, lineno = 0;
	ssize_t r;
	int rc = -1;

	if (fd < 0)
		return rk_err_set(
		    err, "auth.usersFile %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || sb.st_size > PD_USERS_FILE_MAX) {
		rk_err_set(err, "auth.usersFile %s: too large", path);
		goto out;
	}
	if (sb.st_mode & S_IROTH)
		rk_log_warnx("auth.usersFile %s is readable by everyone", path);
	buf = rk_malloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size &&
	    (r = read(fd, buf + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)r;
	buf[off] = '\0';
	for (size_t i = 0; i < off;) {
		const char *nl = memchr(buf + i, '\n', off - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : off - i;

		if (users_line(st, path, ++lineno, buf + i, n, err) != 0)
			goto out;
		i += n + 1;
	}
	rc = 0;
out:
	if (buf != NULL) {
		rk_memzero(buf, off);
		free(buf);
	}
	close(fd);
	return rc;
}

int
pd_users_load(struct pd_state *st, struct rk_err *err)
{
	const struct rk_cfg_auth *a = &st->cfg->auth;
	size_t plain = 0;

	for (size_t i = 0; i < a->nusers; i++)
		users_add(st, a->users[i].name, strlen(a->users[i].name),
		    a->users[i].password, strlen(a->users[i].password));
	if (a->usersFile != NULL && users_file(st, a->usersFile, err) != 0)
		return -1;
	for (size_t i = 0; i < st->nusers; i++)
		plain += !st->users[i].hashed;
	if (a->enabled && plain > 0)
		rk_log_warnx("auth: %zu of %zu users have a clear-text "
		             "password; store crypt(3) hashes instead "
		             "(relaykit-policyd --hash)",
		    plain, st->nusers);
	return 0;
}

void
pd_users_free(struct pd_state *st)
{
	for (size_t i = 0; i < st->nusers; i++) {
		free(st->users[i].login);
		rk_free_secret(st->users[i].secret);
	}
	free(st->users);
	st->users = NULL;
	st->nusers = 0;
}

const struct pd_user *
pd_user_find(const struct pd_state *st, const char *login)
{
	for (size_t i = 0; i < st->nusers; i++)
		if (rk_str_case_eq(st->users[i].login, login))
			return &st->users[i];
	return NULL;
}

/* -------------------------------------------------------- crypt pool */

struct pd_crypt_job {
	char *password;
	char *secret; /* hash or clear text */
	bool hashed;
	bool known; /* the login exists */
	bool ok;
	bool cancelled; /* loop thread only */
	pd_crypt_cb *cb;
	void *arg;
	struct pd_crypt_job *next;
};

struct pd_crypt_pool {
	pthread_t th[PD_CRYPT_THREADS];
	size_t nth;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pd_crypt_job *queue, **queue_tail;
	struct pd_crypt_job *done;
	bool stop;
	int pipe[2];
	struct event *ev;
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE]; /* for unknown logins */
};

static bool
ct_equal_str(const char *a, const char *b)
{
	unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];

	/* Digests first, so the comparison does not leak the length. */
	SHA256((const unsigned char *)a, strlen(a), da);
	SHA256((const unsigned char *)b, strlen(b), db);
	return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

static void
job_run(struct pd_crypt_pool *p, struct pd_crypt_job *j, struct crypt_data *cd)
{
	const char *setting = j->known && j->hashed ? j->secret : p->dummy;
	const char *out;

	if (j->known && !j->hashed) {
		j->ok = ct_equal_str(j->password, j->secret);
		return;
	}
	memset(cd, 0, sizeof(*cd));
	out = crypt_rn(j->password, setting, cd, (int)sizeof(*cd));
	j->ok = j->known && out != NULL && out[0] != '*' &&
	    ct_equal_str(out, j->secret);
	rk_memzero(cd, sizeof(*cd));
}

static void *
worker(void *arg)
{
	struct pd_crypt_pool *p = arg;
	struct crypt_data *cd = rk_calloc(1, sizeof(*cd));

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pd_crypt_job *j;

		while (p->queue == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		j = p->queue;
		p->queue = j->next;
		if (p->queue == NULL)
			p->queue_tail = &p->queue;
		pthread_mutex_unlock(&p->mu);
		job_run(p, j, cd);
		pthread_mutex_lock(&p->mu);
		j->next = p->done;
		p->done = j;
		(void)!write(p->pipe[1], "", 1);
	}
	pthread_mutex_unlock(&p->mu);
	free(cd);
	return NULL;
}

static void
job_free(struct pd_crypt_job *j)
{
	rk_free_secret(j->password);
	rk_free_secret(j->secret);
	free(j);
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct pd_crypt_pool *p = arg;
	struct pd_crypt_job *list;
	char drain[64];

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->mu);
	while (list != NULL) {
		struct pd_crypt_job *j = list;

		list = j->next;
		if (!j->cancelled)
			j->cb(j->arg, j->ok);
		job_free(j);
	}
}

struct pd_crypt_pool *
pd_crypt_pool_new(struct event_base *base)
{
	struct pd_crypt_pool *p = rk_calloc(1, sizeof(*p));

	if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		rk_log_fatal("pipe");
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, p->dummy, sizeof(p->dummy)) ==
	    NULL)
		strcpy(p->dummy, "$6$rounds=5000$relaykitdummy");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->queue_tail = &p->queue;
	p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST, on_done, p);
	event_add(p->ev, NULL);
	for (; p->nth < PD_CRYPT_THREADS; p->nth++)
		if (pthread_create(&p->th[p->nth], NULL, worker, p) != 0)
			rk_log_fatalx("pthread_create failed");
	return p;
}

void
pd_crypt_pool_free(struct pd_crypt_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	for (struct pd_crypt_job *l = p->queue, *n; l != NULL; l = n) {
		n = l->next;
		job_free(l);
	}
	for (struct pd_crypt_job *l = p->done, *n; l != NULL; l = n) {
		n = l->next;
		job_free(l);
	}
	event_free(p->ev);
	close(p->pipe[0]);
	close(p->pipe[1]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

struct pd_crypt_job *
pd_crypt_check(struct pd_crypt_pool *p, const struct pd_user *u,
    const char *password, pd_crypt_cb *cb, void *arg)
{
	struct pd_crypt_job *j = rk_calloc(1, sizeof(*j));

	j->password = rk_strdup(password);
	j->known = u != NULL;
	j->secret = rk_strdup(u != NULL ? u->secret : "");
	j->hashed = u != NULL && u->hashed;
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	*p->queue_tail = j;
	p->queue_tail = &j->next;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return j;
}

void
pd_crypt_cancel(struct pd_crypt_job *j)
{
	if (j != NULL)
		j->cancelled = true; /* freed when the worker is done */
}

/* ------------------------------------------------------ hash command */

int
pd_hash_main(FILE *in, FILE *out, FILE *errf)
{
	char pw[PD_SASL_CRED_MAX + 2], salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = rk_calloc(1, sizeof(*cd));
	const char *h;
	size_t n;
	int rc = 1;

	if (fgets(pw, sizeof(pw), in) == NULL) {
		fprintf(errf,
		    "relaykit-policyd: no password on standard "
		    "input\n");
		goto out;
	}
	n = strcspn(pw, "\r\n");
	if (pw[n] == '\0' && n == sizeof(pw) - 1) {
		fprintf(errf,
		    "relaykit-policyd: password longer than %d "
		    "bytes\n",
		    PD_SASL_CRED_MAX);
		goto out;
	}
	pw[n] = '\0';
	if (n == 0) {
		fprintf(errf, "relaykit-policyd: empty password\n");
		goto out;
	}
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (h = crypt_rn(pw, salt, cd, (int)sizeof(*cd))) == NULL ||
	    h[0] == '*') {
		fprintf(errf, "relaykit-policyd: crypt failed: %s\n",
		    strerror(errno));
		goto out;
	}
	fprintf(out, "%s\n", h);
	rc = fflush(out) == 0 ? 0 : 1;
out:
	rk_memzero(pw, sizeof(pw));
	rk_memzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}
