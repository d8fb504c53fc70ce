/* profile.c: the config file's named profiles; see profile.h. */
#include "profile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 4095
#define NAME_MAX_BYTES 64
#define KEEP_MAX 1000000
/* Names of the other profiles listed in a "not found" message. */
#define LIST_MAX 512

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Control characters (C0 and DEL) have no place in a value or a name. */
static int
has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			if (s[i] != '\t')
				return 1;
	return 0;
}

/* trim(s, n): drop blanks at both ends of s[0..*n); returns the start. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && is_space(s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

static cf_status
set_once(char **slot, const char *v, size_t n, size_t line, const char *key)
{
	if (*slot != NULL)
		return cf_error_set(CF_ERR_INVALID,
		    "line %zu: '%s' is given twice in this profile", line, key);
	if ((*slot = strndup(v, n)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	return CF_OK;
}

static cf_status
add_to(char **v, size_t *count, size_t max, const char *s, size_t n,
    size_t line, const char *key)
{
	if (*count == max)
		return cf_error_set(CF_ERR_INVALID,
		    "line %zu: at most %zu '%s' lines in a profile", line, max,
		    key);
	if ((v[*count] = strndup(s, n)) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of memory");
	(*count)++;
	return CF_OK;
}

static cf_status
set_keep(int *slot, const char *v, size_t n, size_t line, const char *key)
{
	uint32_t x = 0;

	if (*slot != -1)
		return cf_error_set(CF_ERR_INVALID,
		    "line %zu: '%s' is given twice in this profile", line, key);
	if (n == 0 || n > 7)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		x = x * 10 + (uint32_t)(v[i] - '0');
	}
	if (x > KEEP_MAX)
		goto bad;
	*slot = (int)x;
	return CF_OK;
bad:
	return cf_error_set(CF_ERR_INVALID, "line %zu: '%s' needs a whole "
	    "number from 0 to %d", line, key, KEEP_MAX);
}

/*
 * apply(pr, key, v, n, line): one "key = value" of the wanted section.
 * Unknown keys are refused by the caller for every section.
 */
static cf_status
apply(struct cf_profile *pr, const char *key, const char *v, size_t n,
    size_t line)
{
	if (strcmp(key, "repository") == 0)
		return add_to(pr->repositories, &pr->nrepositories,
		    CF_DESTINATIONS_MAX, v, n, line, key);
	if (strcmp(key, "path") == 0)
		return add_to(pr->paths, &pr->npaths, CF_PROFILE_PATHS_MAX, v,
		    n, line, key);
	if (strcmp(key, "exclude") == 0)
		return add_to(pr->excludes, &pr->nexcludes,
		    CF_PROFILE_EXCLUDES_MAX, v, n, line, key);
	if (strcmp(key, "identity") == 0)
		return set_once(&pr->identity, v, n, line, key);
	if (strcmp(key, "passphrase-file") == 0)
		return set_once(&pr->passphrase_file, v, n, line, key);
	if (strcmp(key, "cache-dir") == 0)
		return set_once(&pr->cache_dir, v, n, line, key);
	if (strcmp(key, "s3-credentials") == 0)
		return set_once(&pr->s3_credentials, v, n, line, key);
	if (strcmp(key, "keep-last") == 0)
		return set_keep(&pr->keep_last, v, n, line, key);
	if (strcmp(key, "keep-hourly") == 0)
		return set_keep(&pr->keep_hourly, v, n, line, key);
	if (strcmp(key, "keep-daily") == 0)
		return set_keep(&pr->keep_daily, v, n, line, key);
	if (strcmp(key, "keep-weekly") == 0)
		return set_keep(&pr->keep_weekly, v, n, line, key);
	if (strcmp(key, "keep-monthly") == 0)
		return set_keep(&pr->keep_monthly, v, n, line, key);
	if (strcmp(key, "keep-yearly") == 0)
		return set_keep(&pr->keep_yearly, v, n, line, key);
	return cf_error_set(CF_ERR_INVALID, "line %zu: unknown key '%s'",
	    line, key);
}

static int
known_key(const char *key)
{
	static const char *const keys[] = {
		"repository", "path", "exclude", "identity",
		"passphrase-file", "cache-dir", "s3-credentials", "keep-last",
		"keep-hourly", "keep-daily", "keep-weekly", "keep-monthly",
		"keep-yearly",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

/* A list of section names seen, to refuse duplicates and to suggest. */
struct seen {
	char names[LIST_MAX];
	size_t len;
	size_t count;
};

static int
seen_has(const struct seen *s, const char *name, size_t n)
{
	const char *p = s->names;

	while (p < s->names + s->len) {
		size_t l = strlen(p);

		if (l == n && memcmp(p, name, n) == 0)
			return 1;
		p += l + 1;
	}
	return 0;
}

static void
seen_add(struct seen *s, const char *name, size_t n)
{
	s->count++;
	if (s->len + n + 1 > sizeof(s->names))
		return;
	memcpy(s->names + s->len, name, n);
	s->names[s->len + n] = '\0';
	s->len += n + 1;
}

/*
 * section(l, n, line, name_out, name_len): parse "[profile NAME]"; CF_OK
 * with the name's position, or CF_ERR_INVALID.
 */
static cf_status
section(const char *l, size_t n, size_t line, const char **name_out,
    size_t *name_len)
{
	const char *name;
	size_t k;

	if (n < 2 || l[n - 1] != ']' || n < sizeof("[profile ]") ||
	    memcmp(l, "[profile", 8) != 0 || !is_space(l[8]))
		return cf_error_set(CF_ERR_INVALID, "line %zu: a section "
		    "is written [profile NAME]", line);
	k = n - 10;
	name = trim(l + 9, &k);
	if (k == 0 || k > NAME_MAX_BYTES)
		return cf_error_set(CF_ERR_INVALID, "line %zu: a profile name "
		    "has 1 to %d characters", line, NAME_MAX_BYTES);
	for (size_t i = 0; i < k; i++)
		if (!name_char(name[i]))
			return cf_error_set(CF_ERR_INVALID, "line %zu: a "
			    "profile name has only letters, digits, '.', "
			    "'_' and '-'", line);
	*name_out = name;
	*name_len = k;
	return CF_OK;
}

cf_status
cf_profile_parse(const char *p, size_t n, const char *name,
    struct cf_profile *out)
{
	struct seen seen = { .len = 0 };
	char key[32];
	size_t line = 0, pos = 0, wanted_len = strlen(name);
	int in_wanted = 0, found = 0, in_section = 0;
	cf_status rc;

	memset(out, 0, sizeof(*out));
	out->keep_last = out->keep_hourly = out->keep_daily = -1;
	out->keep_weekly = out->keep_monthly = out->keep_yearly = -1;
	if (n > CF_PROFILE_FILE_MAX)
		return cf_error_set(CF_ERR_INVALID, "the config file is larger "
		    "than %d bytes", CF_PROFILE_FILE_MAX);
	while (pos < n) {
		const char *l = p + pos, *eol = memchr(l, '\n', n - pos);
		size_t len = eol != NULL ? (size_t)(eol - l) : n - pos;
		const char *t, *eq, *v;
		size_t tl, kl, vl;

		pos += len + (eol != NULL);
		line++;
		if (len > LINE_MAX_BYTES)
			return cf_error_set(CF_ERR_INVALID, "line %zu is longer "
			    "than %d bytes", line, LINE_MAX_BYTES);
		if (len > 0 && l[len - 1] == '\r')
			len--;
		if (has_control(l, len) || memchr(l, '\0', len) != NULL)
			return cf_error_set(CF_ERR_INVALID, "line %zu: control "
			    "characters are not allowed", line);
		tl = len;
		t = trim(l, &tl);
		if (tl == 0 || t[0] == '#')
			continue;
		if (t[0] == '[') {
			const char *sn = NULL;
			size_t sl = 0;

			if ((rc = section(t, tl, line, &sn, &sl)) != CF_OK)
				return rc;
			if (seen_has(&seen, sn, sl))
				return cf_error_set(CF_ERR_INVALID, "line %zu: "
				    "profile '%.*s' is defined twice", line,
				    (int)sl, sn);
			seen_add(&seen, sn, sl);
			in_section = 1;
			in_wanted = sl == wanted_len &&
			    memcmp(sn, name, sl) == 0;
			found |= in_wanted;
			continue;
		}
		if ((eq = memchr(t, '=', tl)) == NULL)
			return cf_error_set(CF_ERR_INVALID, "line %zu: expected "
			    "'key = value'", line);
		kl = (size_t)(eq - t);
		t = trim(t, &kl);
		if (kl == 0 || kl >= sizeof(key))
			return cf_error_set(CF_ERR_INVALID, "line %zu: expected "
			    "'key = value'", line);
		memcpy(key, t, kl);
		key[kl] = '\0';
		if (!known_key(key))
			return cf_error_set(CF_ERR_INVALID, "line %zu: unknown "
			    "key '%s'", line, key);
		if (!in_section)
			return cf_error_set(CF_ERR_INVALID, "line %zu: '%s' "
			    "outside a [profile NAME] section", line, key);
		vl = (size_t)(l + len - (eq + 1));
		v = trim(eq + 1, &vl);
		if (vl == 0)
			return cf_error_set(CF_ERR_INVALID, "line %zu: '%s' "
			    "needs a value", line, key);
		if (in_wanted && (rc = apply(out, key, v, vl, line)) != CF_OK)
			return rc;
	}
	if (!found) {
		char list[LIST_MAX + 16] = "";
		size_t off = 0;

		for (const char *q = seen.names; q < seen.names + seen.len;
		    q += strlen(q) + 1) {
			int w = snprintf(list + off, sizeof(list) - off, "%s%s",
			    off > 0 ? ", " : "", q);

			if (w < 0 || (size_t)w >= sizeof(list) - off)
				break;
			off += (size_t)w;
		}
		if (seen.count == 0)
			return cf_error_set(CF_ERR_NOTFOUND, "no profile '%s': "
			    "the config file defines none", name);
		return cf_error_set(CF_ERR_NOTFOUND, "no profile '%s' (the "
		    "config file defines: %s)", name, list);
	}
	if (out->nrepositories == 0)
		return cf_error_set(CF_ERR_INVALID, "profile '%s' names no "
		    "repository: add a line 'repository = LOCATION'", name);
	return CF_OK;
}

static void
free_all(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

void
cf_profile_free(struct cf_profile *pr)
{
	free_all(pr->repositories, pr->nrepositories);
	free_all(pr->paths, pr->npaths);
	free_all(pr->excludes, pr->nexcludes);
	free(pr->identity);
	free(pr->passphrase_file);
	free(pr->cache_dir);
	free(pr->s3_credentials);
	memset(pr, 0, sizeof(*pr));
}
