/*
 * test_coffred_live.c: the coffred backend against a running coffred,
 * through the backend table: put-if-absent, get with ranges, stat, del,
 * listing across pages (more than 1000 names), a body that does not match
 * its name, a large object, several threads at once.
 *
 * Skipped (exit 77) unless tests/integration/remote_backup.sh runs it with
 *   COFFRE_TEST_COFFRED     a location of an empty tenant (admin right)
 *   COFFRE_TEST_IDENTITY    the identity file registered there
 *   COFFRE_TEST_PASSFILE    a file whose first line is its passphrase
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "crypto.h"
#include "identity.h"

#define NLOCKS 2100
#define THREADS 4

static struct cf_backend *be;

static void
content_name(char *out, size_t n, const char *dir, const void *p, size_t len)
{
	uint8_t h[CF_HASH_BYTES];
	char hex[2 * CF_HASH_BYTES + 1];

	cf_name_hash(h, p, len);
	cf_hex_encode(hex, h, sizeof(h));
	if (strcmp(dir, "data") == 0)
		snprintf(out, n, "data/%.2s/%s", hex, hex);
	else
		snprintf(out, n, "%s/%s", dir, hex);
}

static void
lock_body(uint8_t *b, int i)
{
	memset(b, 0, 16);
	memcpy(b, &i, sizeof(i));
}

struct job {
	int first, step, del, fails;
};

static void *
lock_worker(void *arg)
{
	struct job *j = arg;
	char name[CF_OBJECT_NAME_MAX + 1];
	uint8_t b[16];

	for (int i = j->first; i < NLOCKS; i += j->step) {
		lock_body(b, i);
		content_name(name, sizeof(name), "locks", b, sizeof(b));
		if ((j->del ? cf_backend_del(be, name) :
		    cf_backend_put(be, name, b, sizeof(b))) != CF_OK) {
			fprintf(stderr, "%s %s: %s\n", j->del ? "del" : "put",
			    name, cf_error_message());
			j->fails++;
		}
	}
	return NULL;
}

static void
many(int del)
{
	struct job j[THREADS];
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		j[i] = (struct job){ i, THREADS, del, 0 };
		CHECK(pthread_create(&t[i], NULL, lock_worker, &j[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(j[i].fails == 0);
	}
}

struct seen {
	int n, order_breaks, bad;
	char last[CF_OBJECT_NAME_MAX + 1];
};

static cf_status
collect(void *arg, const char *name)
{
	struct seen *s = arg;

	if (strncmp(name, "locks/", 6) != 0 || !cf_backend_name_ok(name))
		s->bad++;
	if (s->n > 0 && strcmp(name, s->last) <= 0)
		s->order_breaks++;
	snprintf(s->last, sizeof(s->last), "%s", name);
	s->n++;
	return CF_OK;
}

static cf_status
stop_at_3(void *arg, const char *name)
{
	int *n = arg;

	(void)name;
	return ++*n == 3 ? CF_ERR_CANCELLED : CF_OK;
}

static void
test_objects(void)
{
	const char *key = "keys/0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	uint8_t small[100], *big;
	size_t bign = 20 * 1024 * 1024 + 3;
	char name[CF_OBJECT_NAME_MAX + 1];
	struct cf_buf b;
	uint64_t size;

	for (size_t i = 0; i < sizeof(small); i++)
		small[i] = (uint8_t)i;
	cf_buf_init(&b, 64 * 1024 * 1024);
	CHECK_OK(cf_backend_put(be, key, small, sizeof(small)));
	CHECK_ERR(cf_backend_put(be, key, small, sizeof(small)),
	    CF_ERR_EXISTS);
	CHECK_ERR(cf_backend_put(be, key, "other", 5), CF_ERR_EXISTS);
	CHECK_OK(cf_backend_get(be, key, 0, CF_BACKEND_TO_END, &b));
	CHECK(b.len == 100 && memcmp(b.p, small, 100) == 0);
	cf_buf_reset(&b);
	CHECK_OK(cf_backend_get(be, key, 10, 20, &b));
	CHECK(b.len == 20 && memcmp(b.p, small + 10, 20) == 0);
	cf_buf_reset(&b);
	CHECK_OK(cf_backend_get(be, key, 90, 100, &b));
	CHECK(b.len == 10 && memcmp(b.p, small + 90, 10) == 0);
	cf_buf_reset(&b);
	CHECK_OK(cf_backend_get(be, key, 0, 7, &b));
	CHECK(b.len == 7 && memcmp(b.p, small, 7) == 0);
	/* Appends after what the buffer holds. */
	CHECK_OK(cf_backend_get(be, key, 7, CF_BACKEND_TO_END, &b));
	CHECK(b.len == 100 && memcmp(b.p, small, 100) == 0);
	cf_buf_reset(&b);
	CHECK_OK(cf_backend_get(be, key, 100, 5, &b));
	CHECK(b.len == 0);
	CHECK_OK(cf_backend_get(be, key, 5000, CF_BACKEND_TO_END, &b));
	CHECK(b.len == 0);
	CHECK_OK(cf_backend_stat(be, key, &size));
	CHECK(size == 100);
	CHECK_OK(cf_backend_del(be, key));
	CHECK_ERR(cf_backend_del(be, key), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_stat(be, key, &size), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_get(be, key, 0, CF_BACKEND_TO_END, &b),
	    CF_ERR_NOTFOUND);
	CHECK(b.len == 0);

	/* A content-named object whose body is not its name: refused. */
	content_name(name, sizeof(name), "data", "abc", 3);
	CHECK_ERR(cf_backend_put(be, name, "abd", 3), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_stat(be, name, &size), CF_ERR_NOTFOUND);

	/* A large object, and ranges inside it. */
	big = malloc(bign);
	for (size_t i = 0; i < bign; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 11));
	content_name(name, sizeof(name), "data", big, bign);
	CHECK_OK(cf_backend_put(be, name, big, bign));
	CHECK_OK(cf_backend_stat(be, name, &size));
	CHECK(size == bign);
	CHECK_OK(cf_backend_get(be, name, 0, CF_BACKEND_TO_END, &b));
	CHECK(b.len == bign && memcmp(b.p, big, bign) == 0);
	cf_buf_reset(&b);
	CHECK_OK(cf_backend_get(be, name, 12345678, 1000000, &b));
	CHECK(b.len == 1000000 && memcmp(b.p, big + 12345678, 1000000) == 0);
	/* A buffer too small for the range: an error, never an overflow. */
	cf_buf_free(&b);
	cf_buf_init(&b, 1000);
	CHECK(cf_backend_get(be, name, 0, 5000, &b) != CF_OK);
	CHECK(b.len == 0);
	CHECK_OK(cf_backend_del(be, name));
	free(big);
	cf_buf_free(&b);
}

static void
test_listing(void)
{
	struct seen s = { 0 };
	int n = 0;

	many(0);
	CHECK_OK(cf_backend_list(be, "locks", collect, &s));
	CHECK(s.n == NLOCKS && s.bad == 0 && s.order_breaks == 0);
	/* A callback's refusal stops the listing and is returned. */
	CHECK_ERR(cf_backend_list(be, "locks", stop_at_3, &n),
	    CF_ERR_CANCELLED);
	CHECK(n == 3);
	many(1);
	memset(&s, 0, sizeof(s));
	CHECK_OK(cf_backend_list(be, "locks", collect, &s));
	CHECK(s.n == 0);
}

static char *
read_line(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL || fgets(buf, sizeof(buf), f) == NULL)
		return NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

int
main(void)
{
	const char *loc = getenv("COFFRE_TEST_COFFRED");
	const char *idp = getenv("COFFRE_TEST_IDENTITY");
	const char *passf = getenv("COFFRE_TEST_PASSFILE");
	struct cf_backend_opts opts = { 0 };
	struct cf_identity *id = NULL;
	char *pass;

	if (loc == NULL || idp == NULL || passf == NULL) {
		printf("coffred_live: skipped (no server given)\n");
		return 77;
	}
	CHECK_OK(cf_crypto_init());
	if ((pass = read_line(passf)) == NULL) {
		fprintf(stderr, "cannot read %s\n", passf);
		return 1;
	}
	if (cf_identity_load(idp, pass, strlen(pass), &id) != CF_OK) {
		fprintf(stderr, "identity: %s\n", cf_error_message());
		return 1;
	}
	opts.identity = id;
	/* An empty tenant: open fails, create succeeds. */
	CHECK_ERR(cf_backend_open(loc, 0, &opts, &be), CF_ERR_NOTFOUND);
	if (cf_backend_open(loc, 1, &opts, &be) != CF_OK) {
		fprintf(stderr, "open: %s\n", cf_error_message());
		return 1;
	}
	test_objects();
	test_listing();
	cf_backend_close(be);
	cf_identity_free(id);
	return check_done("coffred_live");
}
