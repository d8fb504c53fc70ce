/* test_backend_local.c: object names and the local-directory backend. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "backend.h"
#include "check.h"
#include "crypto.h"

#define HEX64 "0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef"

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

/* Write a file directly (stray files, fake objects). */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	path_in(p, sizeof(p), dir, name);
	if ((f = fopen(p, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static int
count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static mode_t
mode_of(const char *dir, const char *name)
{
	char p[512];
	struct stat st;

	path_in(p, sizeof(p), dir, name);
	if (lstat(p, &st) != 0)
		return (mode_t)-1;
	return st.st_mode;
}

/* list collects names into one string "a,b,c," in sorted order. */
struct names {
	char *v[64];
	int n;
	int stop_after;
};

static cf_status
collect(void *arg, const char *name)
{
	struct names *s = arg;

	if (s->n < 64)
		s->v[s->n++] = strdup(name);
	if (s->stop_after > 0 && s->n >= s->stop_after)
		return CF_ERR_CANCELLED;
	return CF_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_join(struct names *s, char *out, size_t n)
{
	out[0] = '\0';
	qsort(s->v, (size_t)s->n, sizeof(s->v[0]), cmp_str);
	for (int i = 0; i < s->n; i++) {
		strncat(out, s->v[i], n - strlen(out) - 1);
		strncat(out, ",", n - strlen(out) - 1);
		free(s->v[i]);
	}
	s->n = 0;
}

static void
test_names(void)
{
	char longname[CF_OBJECT_NAME_MAX + 2];

	CHECK(cf_backend_name_ok("config"));
	CHECK(cf_backend_name_ok("keys/" HEX64));
	CHECK(cf_backend_name_ok("data/ab/" HEX64));
	CHECK(cf_backend_name_ok("snapshots/" HEX64));
	CHECK(cf_backend_name_ok("a/b/c"));
	CHECK(cf_backend_name_ok("0"));

	CHECK(!cf_backend_name_ok(NULL));
	CHECK(!cf_backend_name_ok(""));
	CHECK(!cf_backend_name_ok(".."));
	CHECK(!cf_backend_name_ok("."));
	CHECK(!cf_backend_name_ok("../x"));
	CHECK(!cf_backend_name_ok("data/../../etc"));
	CHECK(!cf_backend_name_ok("/etc/passwd"));
	CHECK(!cf_backend_name_ok("/x"));
	CHECK(!cf_backend_name_ok("x/"));
	CHECK(!cf_backend_name_ok("x//y"));
	CHECK(!cf_backend_name_ok("/"));
	CHECK(!cf_backend_name_ok("X"));
	CHECK(!cf_backend_name_ok("Keys/abc"));
	CHECK(!cf_backend_name_ok("keys/ABC"));
	CHECK(!cf_backend_name_ok("a/b/c/d"));
	CHECK(!cf_backend_name_ok("x.tmp"));
	CHECK(!cf_backend_name_ok("a-b"));
	CHECK(!cf_backend_name_ok("a b"));
	CHECK(!cf_backend_name_ok("a\\b"));
	CHECK(!cf_backend_name_ok("caf\xc3\xa9"));

	memset(longname, 'a', sizeof(longname));
	longname[CF_OBJECT_NAME_MAX] = '\0';
	CHECK(cf_backend_name_ok(longname));
	longname[CF_OBJECT_NAME_MAX] = 'a';
	longname[CF_OBJECT_NAME_MAX + 1] = '\0';
	CHECK(!cf_backend_name_ok(longname));
}

static void
test_open_create(void)
{
	char repo[256], p[512], file[256];
	struct cf_backend *b = (struct cf_backend *)1;
	mode_t m;

	path_in(repo, sizeof(repo), base, "repo");

	/* Nothing there yet. */
	CHECK_ERR(cf_backend_open(repo, 0, NULL, &b), CF_ERR_NOTFOUND);
	CHECK(b == NULL);
	CHECK(strstr(cf_error_message(), "no repository at") != NULL);

	CHECK_OK(cf_backend_open(repo, 1, NULL, &b));
	if (b == NULL)
		return;
	CHECK(strcmp(b->location, repo) == 0);
	CHECK((mode_of(base, "repo") & 0777) == 0700);
	m = mode_of(repo, "data/00");
	CHECK(S_ISDIR(m) && (m & 0777) == 0700);
	CHECK(S_ISDIR(mode_of(repo, "data/7f")));
	CHECK(S_ISDIR(mode_of(repo, "data/ff")));
	CHECK(S_ISDIR(mode_of(repo, "keys")));
	CHECK(S_ISDIR(mode_of(repo, "index")));
	CHECK(S_ISDIR(mode_of(repo, "snapshots")));
	CHECK(S_ISDIR(mode_of(repo, "locks")));
	CHECK(S_ISDIR(mode_of(repo, "tmp")));
	path_in(p, sizeof(p), repo, "data");
	CHECK(count_entries(p) == 256);

	/* The layout alone is not a repository: config makes it one. */
	CHECK_ERR(cf_backend_open(repo, 0, NULL, &(struct cf_backend *){ NULL }),
	    CF_ERR_NOTFOUND);
	CHECK_OK(cf_backend_put(b, "config", "cfg", 3));
	cf_backend_close(b);
	CHECK((mode_of(repo, "config") & 0777) == 0600);

	CHECK_OK(cf_backend_open(repo, 0, NULL, &b));
	cf_backend_close(b);
	CHECK_OK(cf_backend_local_open(repo, 0, &b));
	cf_backend_close(b);

	/* Create twice. */
	b = (struct cf_backend *)1;
	CHECK_ERR(cf_backend_open(repo, 1, NULL, &b), CF_ERR_EXISTS);
	CHECK(b == NULL);

	/* An existing empty directory is fine; a non-empty one is not. */
	path_in(p, sizeof(p), base, "empty");
	CHECK(mkdir(p, 0755) == 0);
	CHECK_OK(cf_backend_open(p, 1, NULL, &b));
	cf_backend_close(b);
	CHECK((mode_of(base, "empty") & 0777) == 0755);
	/* An interrupted init can be run again. */
	CHECK_OK(cf_backend_open(p, 1, NULL, &b));
	cf_backend_close(b);

	path_in(p, sizeof(p), base, "full");
	CHECK(mkdir(p, 0700) == 0);
	write_file(p, "notes.txt", "hello");
	CHECK_ERR(cf_backend_open(p, 1, NULL, &b), CF_ERR_EXISTS);
	CHECK(count_entries(p) == 1);

	/* A plain file is not a repository, and cannot become one. */
	path_in(file, sizeof(file), base, "plainfile");
	write_file(base, "plainfile", "x");
	CHECK_ERR(cf_backend_open(file, 0, NULL, &b), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_open(file, 1, NULL, &b), CF_ERR_IO);

	/* The parent must exist. */
	path_in(p, sizeof(p), base, "no/such/dir");
	CHECK_ERR(cf_backend_open(p, 1, NULL, &b), CF_ERR_IO);
	CHECK_ERR(cf_backend_open(p, 0, NULL, &b), CF_ERR_NOTFOUND);

	CHECK_ERR(cf_backend_open("", 0, NULL, &b), CF_ERR_INVALID);

	/* Unknown schemes are refused, and a URL's secrets are not echoed. */
	b = (struct cf_backend *)1;
	CHECK_ERR(cf_backend_open("ftp://AKIAX:s3cr3t@host/bucket", 1, NULL,
	    &b), CF_ERR_INVALID);
	CHECK(b == NULL);
	CHECK(strstr(cf_error_message(), "unsupported repository location")
	    != NULL);
	CHECK(strstr(cf_error_message(), "ftp") != NULL);
	CHECK(strstr(cf_error_message(), "s3cr3t") == NULL);
	/* s3:// goes to the S3 backend (or "not built in"): never echoed. */
	b = (struct cf_backend *)1;
	CHECK(cf_backend_open("s3://AKIAX:s3cr3t@127.0.0.1:1/bucket", 0, NULL,
	    &b) != CF_OK);
	CHECK(b == NULL);
	CHECK(strstr(cf_error_message(), "s3cr3t") == NULL);
	/* coffred: https only, and only with an identity. */
	CHECK_ERR(cf_backend_open("http://example.org/r", 0, NULL, &b),
	    CF_ERR_INVALID);
	CHECK_ERR(cf_backend_open("https://example.org/r", 0, NULL, &b),
	    CF_ERR_ACCESS);
	CHECK(cf_backend_needs_identity("https://example.org/r"));
	CHECK(!cf_backend_needs_identity(p));
}

static void
test_objects(void)
{
	char repo[256], p[512], joined[2048];
	struct cf_backend *b;
	struct names s = { .n = 0 };
	struct cf_buf buf;
	uint64_t size;
	size_t big = 3 * 1024 * 1024 + 17;
	uint8_t *bigdata = malloc(big);

	path_in(repo, sizeof(repo), base, "objs");
	CHECK_OK(cf_backend_open(repo, 1, NULL, &b));
	if (b == NULL || bigdata == NULL)
		return;
	cf_buf_init(&buf, 64 * 1024 * 1024);

	CHECK_OK(cf_backend_put(b, "keys/aaa", "0123456789", 10));
	CHECK((mode_of(repo, "keys/aaa") & 0777) == 0600);
	CHECK(S_ISREG(mode_of(repo, "keys/aaa")));

	/* Whole object, appended to what the buffer holds. */
	CHECK_OK(cf_buf_append(&buf, "xy", 2));
	CHECK_OK(cf_backend_get(b, "keys/aaa", 0, CF_BACKEND_TO_END, &buf));
	CHECK(buf.len == 12 && memcmp(buf.p, "xy0123456789", 12) == 0);

	/* Ranges. */
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "keys/aaa", 2, 3, &buf));
	CHECK(buf.len == 3 && memcmp(buf.p, "234", 3) == 0);
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "keys/aaa", 7, 100, &buf));
	CHECK(buf.len == 3 && memcmp(buf.p, "789", 3) == 0);
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "keys/aaa", 10, 5, &buf));
	CHECK(buf.len == 0);
	CHECK_OK(cf_backend_get(b, "keys/aaa", 1000, CF_BACKEND_TO_END, &buf));
	CHECK(buf.len == 0);
	CHECK_OK(cf_backend_get(b, "keys/aaa", UINT64_MAX, UINT64_MAX, &buf));
	CHECK(buf.len == 0);
	CHECK_OK(cf_backend_get(b, "keys/aaa", 3, 0, &buf));
	CHECK(buf.len == 0);

	/* The buffer's maximum is respected; nothing is appended then. */
	{
		struct cf_buf small;

		cf_buf_init(&small, 9);
		CHECK_ERR(cf_backend_get(b, "keys/aaa", 0, CF_BACKEND_TO_END,
		    &small), CF_ERR_NOMEM);
		CHECK(small.len == 0);
		CHECK_OK(cf_backend_get(b, "keys/aaa", 1, CF_BACKEND_TO_END,
		    &small));
		CHECK(small.len == 9);
		CHECK_ERR(cf_backend_get(b, "keys/aaa", 0, 1, &small),
		    CF_ERR_NOMEM);
		CHECK(small.len == 9);
		cf_buf_free(&small);
	}

	CHECK_OK(cf_backend_stat(b, "keys/aaa", &size));
	CHECK(size == 10);

	/* A big object and an empty one. */
	cf_random(bigdata, big);
	CHECK_OK(cf_backend_put(b, "data/ab/" HEX64, bigdata, big));
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "data/ab/" HEX64, 0, CF_BACKEND_TO_END,
	    &buf));
	CHECK(buf.len == big && memcmp(buf.p, bigdata, big) == 0);
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "data/ab/" HEX64, big - 5, 1000, &buf));
	CHECK(buf.len == 5 && memcmp(buf.p, bigdata + big - 5, 5) == 0);
	CHECK_OK(cf_backend_stat(b, "data/ab/" HEX64, &size));
	CHECK(size == big);
	CHECK_OK(cf_backend_put(b, "index/empty", "", 0));
	CHECK_OK(cf_backend_stat(b, "index/empty", &size));
	CHECK(size == 0);
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "index/empty", 0, CF_BACKEND_TO_END, &buf));
	CHECK(buf.len == 0);

	/* Put-if-absent: the first content stays, no temporary file left. */
	CHECK_OK(cf_backend_put(b, "locks/one", "first", 5));
	path_in(p, sizeof(p), repo, "tmp");
	CHECK(count_entries(p) == 0);
	CHECK_ERR(cf_backend_put(b, "locks/one", "second!", 7), CF_ERR_EXISTS);
	CHECK(count_entries(p) == 0);
	cf_buf_reset(&buf);
	CHECK_OK(cf_backend_get(b, "locks/one", 0, CF_BACKEND_TO_END, &buf));
	CHECK(buf.len == 5 && memcmp(buf.p, "first", 5) == 0);

	/* Missing objects. */
	cf_buf_reset(&buf);
	CHECK_ERR(cf_backend_get(b, "keys/nothere", 0, 10, &buf),
	    CF_ERR_NOTFOUND);
	CHECK(buf.len == 0);
	CHECK_ERR(cf_backend_get(b, "nosuchdir/x", 0, 10, &buf),
	    CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_get(b, "keys/aaa/x", 0, 10, &buf),
	    CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_get(b, "keys", 0, 10, &buf), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_stat(b, "keys/nothere", &size), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_stat(b, "keys", &size), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_del(b, "keys/nothere"), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_del(b, "keys"), CF_ERR_NOTFOUND);
	CHECK(S_ISDIR(mode_of(repo, "keys")));

	/* Invalid names never reach the file system. */
	{
		static const char *const bad[] = {
			"../x", "data/../../etc", "/etc/passwd", "Keys/aaa",
			"KEYS", "", "..", "keys/../config", "keys//aaa",
			"keys/aaa/", "tmp/x.tmp", "a/b/c/d",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			CHECK_ERR(cf_backend_put(b, bad[i], "x", 1),
			    CF_ERR_INVALID);
			CHECK_ERR(cf_backend_get(b, bad[i], 0, 1, &buf),
			    CF_ERR_INVALID);
			CHECK_ERR(cf_backend_stat(b, bad[i], &size),
			    CF_ERR_INVALID);
			CHECK_ERR(cf_backend_del(b, bad[i]), CF_ERR_INVALID);
			CHECK(strcmp(cf_error_message(), "invalid object name")
			    == 0);
		}
		CHECK_ERR(cf_backend_list(b, "../keys", collect, &s),
		    CF_ERR_INVALID);
		CHECK_ERR(cf_backend_list(b, "data/ab", collect, &s),
		    CF_ERR_INVALID);
		CHECK_ERR(cf_backend_list(b, "", collect, &s), CF_ERR_INVALID);
		CHECK(s.n == 0);
	}
	CHECK(mode_of(base, "x") == (mode_t)-1);
	CHECK(mode_of(repo, "Keys") == (mode_t)-1);

	/* list: stray files, temp files, symlinks and subdirs are skipped. */
	CHECK_OK(cf_backend_put(b, "keys/bbb", "b", 1));
	CHECK_OK(cf_backend_put(b, "data/cd/ddd", "d", 1));
	CHECK_OK(cf_backend_put(b, "snapshots/eee", "e", 1));
	path_in(p, sizeof(p), repo, "keys");
	write_file(p, "README.txt", "stray");
	write_file(p, "UPPER", "stray");
	path_in(p, sizeof(p), repo, "keys/sub");
	CHECK(mkdir(p, 0700) == 0);
	path_in(p, sizeof(p), repo, "keys/link");
	CHECK(symlink("/etc/passwd", p) == 0);
	path_in(p, sizeof(p), repo, "data/ab");
	write_file(p, "x.tmp", "stray");
	path_in(p, sizeof(p), repo, "data");
	write_file(p, "junk", "stray file directly in data/");
	write_file(base, "outside", "o");

	CHECK_OK(cf_backend_list(b, "keys", collect, &s));
	names_join(&s, joined, sizeof(joined));
	CHECK(strcmp(joined, "keys/aaa,keys/bbb,") == 0);
	CHECK_OK(cf_backend_list(b, "data", collect, &s));
	names_join(&s, joined, sizeof(joined));
	CHECK(strcmp(joined, "data/ab/" HEX64 ",data/cd/ddd,") == 0);
	CHECK_OK(cf_backend_list(b, "snapshots", collect, &s));
	names_join(&s, joined, sizeof(joined));
	CHECK(strcmp(joined, "snapshots/eee,") == 0);
	CHECK_OK(cf_backend_list(b, "index", collect, &s));
	names_join(&s, joined, sizeof(joined));
	CHECK(strcmp(joined, "index/empty,") == 0);
	CHECK_OK(cf_backend_list(b, "nosuchdir", collect, &s));
	CHECK(s.n == 0);

	/* The callback's error stops the listing and is returned. */
	s.stop_after = 1;
	CHECK_ERR(cf_backend_list(b, "keys", collect, &s), CF_ERR_CANCELLED);
	CHECK(s.n == 1);
	names_join(&s, joined, sizeof(joined));
	CHECK_ERR(cf_backend_list(b, "data", collect, &s), CF_ERR_CANCELLED);
	CHECK(s.n == 1);
	names_join(&s, joined, sizeof(joined));
	s.stop_after = 0;

	/* A symbolic link is never followed. */
	CHECK_ERR(cf_backend_get(b, "keys/link", 0, CF_BACKEND_TO_END, &buf),
	    CF_ERR_IO);
	CHECK_ERR(cf_backend_stat(b, "keys/link", &size), CF_ERR_IO);
	CHECK_ERR(cf_backend_put(b, "keys/link", "x", 1), CF_ERR_EXISTS);

	/* del, then the object is gone. */
	CHECK_OK(cf_backend_del(b, "keys/bbb"));
	CHECK_ERR(cf_backend_stat(b, "keys/bbb", &size), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_del(b, "keys/bbb"), CF_ERR_NOTFOUND);
	CHECK_OK(cf_backend_list(b, "keys", collect, &s));
	names_join(&s, joined, sizeof(joined));
	CHECK(strcmp(joined, "keys/aaa,") == 0);
	/* ... and can be written again. */
	CHECK_OK(cf_backend_put(b, "keys/bbb", "again", 5));

	/* A missing directory (repository copied without empty ones). */
	path_in(p, sizeof(p), repo, "data/ee");
	CHECK(rmdir(p) == 0);
	CHECK_OK(cf_backend_put(b, "data/ee/fff", "f", 1));
	CHECK(S_ISREG(mode_of(repo, "data/ee/fff")));

	path_in(p, sizeof(p), repo, "tmp");
	CHECK(count_entries(p) == 0);

	cf_buf_free(&buf);
	free(bigdata);
	cf_backend_close(b);
	cf_backend_close(NULL);
}

/* Opening removes temporary files a killed writer left over a day ago. */
static void
test_tmp_cleanup(void)
{
	static const char old_tmp[] = "0123456789abcdef0123456789abcdef.tmp";
	static const char new_tmp[] = "fedcba9876543210fedcba9876543210.tmp";
	char repo[256], tmp[512], p[600];
	struct timespec ts[2];
	struct cf_backend *b;

	path_in(repo, sizeof(repo), base, "tmprepo");
	CHECK_OK(cf_backend_open(repo, 1, NULL, &b));
	CHECK_OK(cf_backend_put(b, "config", "c", 1));
	cf_backend_close(b);

	path_in(tmp, sizeof(tmp), repo, "tmp");
	write_file(tmp, old_tmp, "partial");
	write_file(tmp, new_tmp, "partial");
	write_file(tmp, "keepme", "not ours");
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 2 * 24 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	path_in(p, sizeof(p), tmp, old_tmp);
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
	path_in(p, sizeof(p), tmp, "keepme");
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);

	CHECK_OK(cf_backend_open(repo, 0, NULL, &b));
	CHECK(mode_of(tmp, old_tmp) == (mode_t)-1);
	CHECK(S_ISREG(mode_of(tmp, new_tmp)));
	CHECK(S_ISREG(mode_of(tmp, "keepme")));
	cf_backend_close(b);

	/* A repository without tmp/ gets it back. */
	rm_rf(tmp);
	CHECK_OK(cf_backend_open(repo, 0, NULL, &b));
	CHECK(S_ISDIR(mode_of(repo, "tmp")));
	CHECK_OK(cf_backend_put(b, "keys/x", "x", 1));
	cf_backend_close(b);
}

/* get(b, name, text): whether object ${name} holds exactly ${text}. */
static int
holds(struct cf_backend *b, const char *name, const char *text)
{
	struct cf_buf buf;
	int same;

	cf_buf_init(&buf, 1 << 20);
	same = cf_backend_get(b, name, 0, CF_BACKEND_TO_END, &buf) == CF_OK &&
	    buf.len == strlen(text) && memcmp(buf.p, text, buf.len) == 0;
	cf_buf_free(&buf);
	return same;
}

/* Replace directory ${name} of ${repo} by a symbolic link to ${target}. */
static void
plant_symlink(const char *repo, const char *name, const char *target)
{
	char p[512];

	path_in(p, sizeof(p), repo, name);
	rm_rf(p);
	if (symlink(target, p) != 0)
		abort();
}

/*
 * Symbolic links planted in place of directories of the repository (by a
 * hostile server, say) are refused, never followed: nothing outside the
 * repository is written, read, listed or deleted.
 */
static void
test_symlinked_dirs(void)
{
	static const char old_tmp[] = "0123456789abcdef0123456789abcdef.tmp";
	char repo[256], out[256], bait[256], p[600];
	struct names s = { .n = 0 };
	struct timespec ts[2];
	struct cf_backend *b;
	struct cf_buf buf;
	uint64_t size;

	path_in(repo, sizeof(repo), base, "symrepo");
	path_in(out, sizeof(out), base, "evil");
	path_in(bait, sizeof(bait), base, "bait");
	CHECK(mkdir(out, 0700) == 0);
	CHECK(mkdir(bait, 0700) == 0);
	write_file(bait, HEX64, "secret");
	write_file(bait, old_tmp, "someone else's");
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 2 * 24 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	path_in(p, sizeof(p), bait, old_tmp);
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);

	CHECK_OK(cf_backend_open(repo, 1, NULL, &b));
	CHECK_OK(cf_backend_put(b, "config", "c", 1));
	cf_backend_close(b);
	plant_symlink(repo, "data/00", out);
	plant_symlink(repo, "data/01", bait);
	plant_symlink(repo, "snapshots", out);
	plant_symlink(repo, "index", bait);
	plant_symlink(repo, "keys", out);
	plant_symlink(repo, "tmp", bait);

	/* Opening neither follows tmp/ nor cleans the files it points to. */
	CHECK_OK(cf_backend_open(repo, 0, NULL, &b));
	CHECK(S_ISREG(mode_of(bait, old_tmp)));

	/* put: refused, whether through tmp/ or the object's directory. */
	CHECK_ERR(cf_backend_put(b, "data/00/" HEX64, "x", 1), CF_ERR_CORRUPT);
	CHECK(strstr(cf_error_message(), "symbolic link") != NULL);
	CHECK_ERR(cf_backend_put(b, "snapshots/" HEX64, "x", 1),
	    CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_put(b, "keys/" HEX64, "x", 1), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_put(b, "config", "x", 1), CF_ERR_CORRUPT);

	/* get, stat, del, list: refused; the bait is untouched. */
	cf_buf_init(&buf, 1 << 20);
	CHECK_ERR(cf_backend_get(b, "data/01/" HEX64, 0, CF_BACKEND_TO_END,
	    &buf), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_get(b, "index/" HEX64, 0, CF_BACKEND_TO_END,
	    &buf), CF_ERR_CORRUPT);
	CHECK(buf.len == 0);
	cf_buf_free(&buf);
	CHECK_ERR(cf_backend_stat(b, "data/01/" HEX64, &size), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_stat(b, "index/" HEX64, &size), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_del(b, "data/01/" HEX64), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_del(b, "index/" HEX64), CF_ERR_CORRUPT);
	CHECK(S_ISREG(mode_of(bait, HEX64)));
	CHECK_ERR(cf_backend_list(b, "data", collect, &s), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_list(b, "index", collect, &s), CF_ERR_CORRUPT);
	CHECK_ERR(cf_backend_list(b, "snapshots", collect, &s),
	    CF_ERR_CORRUPT);
	CHECK(s.n == 0);
	for (int i = 0; i < s.n; i++)
		free(s.v[i]);
	cf_backend_close(b);

	/* A fresh repository's tmp/ and data/xx are made, never followed. */
	rm_rf(repo);
	CHECK(mkdir(repo, 0700) == 0);
	plant_symlink(repo, "data", out);
	CHECK_ERR(cf_backend_open(repo, 1, NULL, &b), CF_ERR_CORRUPT);

	CHECK(count_entries(out) == 0);
	CHECK(count_entries(bait) == 2);
	rm_rf(repo);
	rm_rf(out);
	rm_rf(bait);
}

#if defined(__x86_64__)
/* install_filter(f, n): this process from now on runs under filter f. */
static int
install_filter(struct sock_filter *f, size_t n)
{
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return -1;
	return 0;
}
#endif

/*
 * deny_links(): in this process, make link/linkat fail with ENOSYS (as on
 * some FUSE mounts) and renameat2 with flags fail with ENOSYS (old
 * kernels), so that put takes its last-resort path.  -1 if unsupported.
 */
static int
deny_links(void)
{
#if defined(__x86_64__) && defined(SYS_renameat2)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_linkat, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_link, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_renameat2, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[4])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	return install_filter(f, sizeof(f) / sizeof(f[0]));
#else
	return -1;
#endif
}

/*
 * Without hard links nor renameat2, put is still put-if-absent for the
 * config and keys (which are not named by their content).  Run in a child,
 * where links are denied; exit status 0 ok, 1 failed, 77 skipped.
 */
static void
test_no_links(void)
{
	char repo[256], tmp[512];
	struct cf_backend *b;
	pid_t pid;
	int status = -1;

	path_in(repo, sizeof(repo), base, "nolinks");
	path_in(tmp, sizeof(tmp), repo, "tmp");
	CHECK_OK(cf_backend_open(repo, 1, NULL, &b));
	CHECK_OK(cf_backend_put(b, "config", "c", 1));
	cf_backend_close(b);

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (deny_links() != 0 ||
		    syscall(SYS_linkat, AT_FDCWD, "x", AT_FDCWD, "y", 0) == 0 ||
		    errno != ENOSYS)
			_exit(77);
		CHECK_OK(cf_backend_open(repo, 0, NULL, &b));
		CHECK_ERR(cf_backend_put(b, "config", "new", 3), CF_ERR_EXISTS);
		CHECK(holds(b, "config", "c"));
		CHECK_OK(cf_backend_put(b, "keys/" HEX64, "k1", 2));
		CHECK_ERR(cf_backend_put(b, "keys/" HEX64, "k2", 2),
		    CF_ERR_EXISTS);
		CHECK(holds(b, "keys/" HEX64, "k1"));
		CHECK_OK(cf_backend_put(b, "index/" HEX64, "i", 1));
		CHECK_ERR(cf_backend_put(b, "index/" HEX64, "j", 1),
		    CF_ERR_EXISTS);
		CHECK(holds(b, "index/" HEX64, "i"));
		CHECK_OK(cf_backend_put(b, "data/00/" HEX64, "d", 1));
		CHECK(holds(b, "data/00/" HEX64, "d"));
		CHECK(count_entries(tmp) == 0);
		cf_backend_close(b);
		fflush(NULL);
		_exit(check_failures == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("backend_local: no seccomp, link-less put not tested\n");
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rm_rf(repo);
}

/*
 * deny_direct(): make fcntl(F_SETFL) with O_DIRECT fail with EINVAL, as on
 * a file system without O_DIRECT.  0 when in place, -1 without seccomp.
 */
static int
deny_direct(void)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETFL, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_DIRECT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	return install_filter(f, sizeof(f) / sizeof(f[0]));
#else
	return -1;
#endif
}

/* put_large(b, i, p, n): store p[0..n) as pack i, read it back whole. */
static int
put_large(struct cf_backend *b, unsigned i, const uint8_t *p, size_t n)
{
	char name[80];
	struct cf_buf got;
	uint64_t size = 0;
	int same;

	snprintf(name, sizeof(name), "data/00/00%062x", i);
	if (cf_backend_put(b, name, p, n) != CF_OK ||
	    cf_backend_stat(b, name, &size) != CF_OK || size != n)
		return 0;
	cf_buf_init(&got, n + 1);
	same = cf_backend_get(b, name, 0, CF_BACKEND_TO_END, &got) == CF_OK &&
	    got.len == n && memcmp(got.p, p, n) == 0;
	cf_buf_free(&got);
	return same;
}

/*
 * Packs (page-aligned, 1 MiB and more) are written around the page cache,
 * their last partial block through it; anything else, and everything on a
 * file system that refuses O_DIRECT, through the page cache.  Every way
 * must store the same bytes and leave nothing in tmp/.
 */
static void
test_large_objects(void)
{
	static const size_t sizes[] = {
		(1u << 20) - 1, 1u << 20, (1u << 20) + 1, (3u << 20) + 4096,
		(8u << 20) + 123, (8u << 20) + 4095,
	};
	const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
	char repo[256], tmp[512];
	struct cf_backend *b;
	uint8_t *buf;
	unsigned i = 0;
	pid_t pid;
	int status = -1;

	path_in(repo, sizeof(repo), base, "large");
	path_in(tmp, sizeof(tmp), repo, "tmp");
	buf = aligned_alloc(4096, (9u << 20));
	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	cf_random(buf, 9u << 20);
	CHECK_OK(cf_backend_open(repo, 1, NULL, &b));
	CHECK_OK(cf_backend_put(b, "config", "c", 1));
	for (size_t k = 0; k < nsizes; k++) {
		CHECK(put_large(b, i++, buf, sizes[k]));     /* aligned */
		CHECK(put_large(b, i++, buf + 1, sizes[k])); /* not aligned */
	}
	CHECK(count_entries(tmp) == 0);
	cf_backend_close(b);

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (deny_direct() != 0)
			_exit(77);
		if (cf_backend_open(repo, 0, NULL, &b) != CF_OK)
			_exit(1);
		for (size_t k = 0; k < nsizes; k++)
			CHECK(put_large(b, 1000 + (unsigned)k, buf, sizes[k]));
		CHECK(count_entries(tmp) == 0);
		cf_backend_close(b);
		fflush(NULL);
		_exit(check_failures == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("backend_local: no seccomp, O_DIRECT refusal not "
		    "tested\n");
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(buf);
	rm_rf(repo);
}

int
main(void)
{
	const char *td = getenv("TMPDIR");
	int fds;

	if (cf_crypto_init() != CF_OK)
		return 1;
	umask(022);
	if (snprintf(base, sizeof(base), "%s/coffre-test-XXXXXX",
	    td != NULL && strlen(td) < 32 ? td : "/tmp") >= (int)sizeof(base) ||
	    mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	fds = count_entries("/proc/self/fd");
	test_names();
	test_open_create();
	test_objects();
	test_tmp_cleanup();
	test_symlinked_dirs();
	test_no_links();
	test_large_objects();
	/* No descriptor is leaked, on success or error paths. */
	CHECK(count_entries("/proc/self/fd") == fds);
	rm_rf(base);
	return check_done("backend_local");
}
