/*
 * test_multi.c: several destinations as one backend (backend_multi.c) and
 * comparing/repairing them (sync.c), on real local directories.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backend.h"
#include "backend_multi.h"
#include "check.h"
#include "crypto.h"
#include "sync.h"

static char base[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
path_in(char *out, size_t n, const char *a, const char *b)
{
	if (snprintf(out, n, "%s/%s", a, b) >= (int)n)
		abort();
}

/* content_name(out, prefix, p, n): "<prefix>/<hex H>", packs by byte. */
static void
content_name(char out[CF_OBJECT_NAME_MAX], const char *dir, const void *p,
    size_t n)
{
	uint8_t h[CF_HASH_BYTES];
	char hex[2 * CF_HASH_BYTES + 1];

	cf_name_hash(h, p, n);
	cf_hex_encode(hex, h, sizeof(h));
	if (strcmp(dir, "data") == 0)
		snprintf(out, CF_OBJECT_NAME_MAX, "data/%.2s/%s", hex, hex);
	else
		snprintf(out, CF_OBJECT_NAME_MAX, "%s/%s", dir, hex);
}

/* Damage a stored file in place: flip a byte, or cut it short. */
static void
damage(const char *dir, const char *name, int truncate_it)
{
	char p[512];
	int fd;
	unsigned char c;

	path_in(p, sizeof(p), dir, name);
	if ((fd = open(p, O_RDWR)) < 0)
		abort();
	if (truncate_it) {
		if (ftruncate(fd, 3) != 0)
			abort();
	} else {
		if (pread(fd, &c, 1, 5) != 1)
			abort();
		c ^= 0x40;
		if (pwrite(fd, &c, 1, 5) != 1)
			abort();
	}
	close(fd);
}

static void
drop(const char *dir, const char *name)
{
	char p[512];

	path_in(p, sizeof(p), dir, name);
	if (unlink(p) != 0)
		abort();
}

struct counts {
	int problems;
};

static void
count_report(void *arg, size_t dest, const char *name, const char *what)
{
	struct counts *c = arg;

	(void)dest;
	(void)name;
	(void)what;
	c->problems++;
}

#define NOBJ 20

static void
test_fanout_and_repair(void)
{
	char a[128], b[128], names[NOBJ][CF_OBJECT_NAME_MAX];
	const char *locs[2] = { a, b };
	uint8_t body[NOBJ][300];
	struct cf_backend *m, *one;
	struct cf_buf buf;
	struct cf_dest_status st;
	struct cf_sync_stats ss;
	struct counts c = { 0 };
	uint8_t cfg_hash[CF_HASH_BYTES];

	path_in(a, sizeof(a), base, "a");
	path_in(b, sizeof(b), base, "b");
	cf_buf_init(&buf, 1 << 20);

	CHECK_OK(cf_backend_open_many(locs, 2, CF_MULTI_CREATE, NULL, &m));
	CHECK(cf_backend_copies(m) == 2);
	CHECK_OK(cf_backend_put(m, "config", "config-bytes", 12));
	cf_hash(cfg_hash, "config-bytes", 12);
	for (int i = 0; i < NOBJ; i++) {
		randombytes_buf(body[i], sizeof(body[i]));
		content_name(names[i], i % 2 ? "data" : "index", body[i],
		    sizeof(body[i]));
		CHECK_OK(cf_backend_put(m, names[i], body[i],
		    sizeof(body[i])));
	}
	/* Each destination holds everything on its own. */
	for (size_t d = 0; d < 2; d++) {
		CHECK_OK(cf_backend_open(locs[d], 0, NULL, &one));
		for (int i = 0; i < NOBJ; i++) {
			cf_buf_reset(&buf);
			CHECK_OK(cf_backend_get(one, names[i], 0,
			    CF_BACKEND_TO_END, &buf));
			CHECK(buf.len == sizeof(body[i]) &&
			    memcmp(buf.p, body[i], buf.len) == 0);
		}
		cf_backend_close(one);
	}
	/* A put of an existing name is "exists" even through two copies. */
	CHECK_ERR(cf_backend_put(m, names[0], body[0], sizeof(body[0])),
	    CF_ERR_EXISTS);
	CHECK_OK(cf_sync_run(m, CF_SYNC_VERIFY, cfg_hash, count_report,
	    NULL, &c, &ss));
	CHECK(c.problems == 0 && ss.damaged == 0 && ss.missing == 0);
	CHECK(ss.objects == NOBJ + 1);
	cf_backend_close(m);

	/* Damage b: flips, a truncation, deletions; a damages one more. */
	damage(b, names[0], 0);
	damage(b, names[1], 1);
	drop(b, names[2]);
	drop(b, names[3]);
	damage(a, names[4], 0);
	CHECK_OK(cf_backend_open_many(locs, 2, 0, NULL, &m));

	/* A whole read falls back past the damaged copy on a. */
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(m, names[4], 0, CF_BACKEND_TO_END, &buf));
	CHECK(buf.len == sizeof(body[4]) &&
	    memcmp(buf.p, body[4], buf.len) == 0);
	cf_backend_copy_status(m, 0, &st);
	CHECK(st.bad_reads == 1 && st.online);
	/* A missing copy on b is found on a. */
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(m, names[2], 0, CF_BACKEND_TO_END, &buf));

	/* Compare without writing: every problem reported, none fixed. */
	c.problems = 0;
	CHECK_OK(cf_sync_run(m, CF_SYNC_VERIFY, cfg_hash, count_report,
	    NULL, &c, &ss));
	CHECK(ss.damaged == 3 && ss.missing == 2 && ss.copied == 0);
	CHECK(c.problems == 5);
	/* Names and sizes only: the truncation and deletions show. */
	CHECK_OK(cf_sync_run(m, 0, cfg_hash, NULL, NULL, NULL, &ss));
	CHECK(ss.missing == 2 && ss.damaged == 1);
	/* Repair, then nothing is left to find. */
	CHECK_OK(cf_sync_run(m, CF_SYNC_VERIFY | CF_SYNC_WRITE, cfg_hash,
	    NULL, NULL, NULL, &ss));
	CHECK(ss.copied == 5 && ss.unrepairable == 0 && ss.failed == 0);
	CHECK_OK(cf_sync_run(m, CF_SYNC_VERIFY, cfg_hash, NULL, NULL, NULL,
	    &ss));
	CHECK(ss.damaged == 0 && ss.missing == 0);

	/* Both copies bad: reported as beyond repair, and reads fail. */
	damage(a, names[5], 0);
	damage(b, names[5], 1);
	CHECK_OK(cf_sync_run(m, CF_SYNC_VERIFY | CF_SYNC_WRITE, cfg_hash,
	    NULL, NULL, NULL, &ss));
	CHECK(ss.unrepairable == 1);
	cf_buf_reset(&buf);
	CHECK_ERR(cf_backend_get(m, names[5], 0, CF_BACKEND_TO_END, &buf),
	    CF_ERR_CORRUPT);
	cf_backend_close(m);
	cf_buf_free(&buf);
}

static void
test_offline_and_lag(void)
{
	char a[128], b[128], c3[128], data[160];
	const char *locs[2] = { a, b };
	const char *three[3] = { a, b, c3 };
	struct cf_backend *m;
	struct cf_dest_status st;
	struct cf_sync_stats ss;
	char name[CF_OBJECT_NAME_MAX];
	uint8_t body[100];

	path_in(a, sizeof(a), base, "la");
	path_in(b, sizeof(b), base, "lb");
	path_in(c3, sizeof(c3), base, "lc");
	CHECK_OK(cf_backend_open_many(locs, 2, CF_MULTI_CREATE, NULL, &m));
	CHECK_OK(cf_backend_put(m, "config", "cfg", 3));
	cf_backend_close(m);

	/* b is gone (an unplugged disk): a works alone, b is reported. */
	path_in(data, sizeof(data), base, "lb.away");
	CHECK(rename(b, data) == 0);
	CHECK_OK(cf_backend_open_many(locs, 2, 0, NULL, &m));
	cf_backend_copy_status(m, 1, &st);
	CHECK(!st.opened && !st.online && st.error[0] != '\0');
	randombytes_buf(body, sizeof(body));
	content_name(name, "index", body, sizeof(body));
	CHECK_OK(cf_backend_put(m, name, body, sizeof(body)));
	cf_backend_copy_status(m, 1, &st);
	CHECK(st.missed_puts == 1 && st.missed_bytes == sizeof(body));
	CHECK(cf_backend_lagging(m) == 1);
	cf_backend_close(m);

	/* Back again: sync copies what it missed. */
	CHECK(rename(data, b) == 0);
	CHECK_OK(cf_backend_open_many(locs, 2, 0, NULL, &m));
	CHECK_OK(cf_sync_run(m, CF_SYNC_WRITE, NULL, NULL, NULL, NULL, &ss));
	CHECK(ss.missing == 1 && ss.copied == 1);
	cf_backend_close(m);

	/* Failing mid-run: b's index directory turns into a file. */
	CHECK_OK(cf_backend_open_many(locs, 2, 0, NULL, &m));
	path_in(data, sizeof(data), b, "index");
	rm_rf(data);
	CHECK(close(open(data, O_CREAT | O_WRONLY, 0600)) == 0);
	randombytes_buf(body, sizeof(body));
	content_name(name, "index", body, sizeof(body));
	CHECK_OK(cf_backend_put(m, name, body, sizeof(body)));
	cf_backend_copy_status(m, 1, &st);
	CHECK(st.opened && !st.online && st.missed_puts == 1);
	CHECK(strstr(st.error, "storing") != NULL);
	/* Later puts skip it without trying, and still count. */
	randombytes_buf(body, sizeof(body));
	content_name(name, "snapshots", body, sizeof(body));
	CHECK_OK(cf_backend_put(m, name, body, sizeof(body)));
	cf_backend_copy_status(m, 1, &st);
	CHECK(st.missed_puts == 2);
	cf_backend_close(m);
	CHECK(unlink(data) == 0 && mkdir(data, 0700) == 0);

	/* A new, empty destination is only filled by sync. */
	CHECK_OK(cf_backend_open_many(three, 3, 0, NULL, &m));
	cf_backend_copy_status(m, 2, &st);
	CHECK(!st.opened);
	cf_backend_close(m);
	CHECK_OK(cf_backend_open_many(three, 3, CF_MULTI_ADOPT_EMPTY, NULL,
	    &m));
	cf_backend_copy_status(m, 2, &st);
	CHECK(st.created && st.online);
	CHECK_OK(cf_sync_run(m, CF_SYNC_WRITE, NULL, NULL, NULL, NULL, &ss));
	/*
	 * To c: config, 2 index files, 1 snapshot; to b: the 2 index files
	 * (its index directory was removed above) and the snapshot.
	 */
	CHECK(ss.copied == 7 && ss.failed == 0);
	cf_backend_close(m);
	CHECK_OK(cf_backend_open_many(three, 3, 0, NULL, &m));
	CHECK_OK(cf_sync_run(m, CF_SYNC_VERIFY, NULL, NULL, NULL, NULL, &ss));
	CHECK(ss.missing == 0 && ss.damaged == 0 && ss.objects == 4);
	cf_backend_close(m);
}

static void
test_refusals(void)
{
	char a[128], b[128], p[160];
	const char *locs[2] = { a, b };
	const char *twice[2] = { a, a };
	struct cf_backend *m;
	FILE *f;

	path_in(a, sizeof(a), base, "ra");
	path_in(b, sizeof(b), base, "rb");
	CHECK_OK(cf_backend_open_many(locs, 2, CF_MULTI_CREATE, NULL, &m));
	CHECK_OK(cf_backend_put(m, "config", "one", 3));
	cf_backend_close(m);
	CHECK_ERR(cf_backend_open_many(twice, 2, 0, NULL, &m),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_backend_open_many(locs, 0, 0, NULL, &m), CF_ERR_INVALID);

	/* Another repository's config on b: refused, not merged. */
	path_in(p, sizeof(p), b, "config");
	CHECK((f = fopen(p, "w")) != NULL);
	if (f != NULL) {
		fputs("two", f);
		fclose(f);
	}
	CHECK_ERR(cf_backend_open_many(locs, 2, 0, NULL, &m), CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "different repositories") != NULL);

	/* Nothing reachable at all. */
	rm_rf(a);
	rm_rf(b);
	CHECK_ERR(cf_backend_open_many(locs, 2, 0, NULL, &m),
	    CF_ERR_NOTFOUND);
}

int
main(void)
{
	char tmpl[] = "/tmp/coffre-test-multi.XXXXXX";

	if (sodium_init() < 0 || mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(base, sizeof(base), "%s", tmpl);
	test_fanout_and_repair();
	test_offline_and_lag();
	test_refusals();
	rm_rf(base);
	return check_done("multi");
}
