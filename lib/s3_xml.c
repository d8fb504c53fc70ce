/*
 * s3_xml.c: the S3 server's XML replies, read strictly and within bounds.
 * See s3_xml.h for what is accepted.
 *
 * walk() tokenizes the reply once, front to back, and calls a function
 * for each leaf element with its path ("ListBucketResult/Contents/Key")
 * and its decoded text; the readers of each reply pick the paths they
 * want.  No allocation happens in walk(): the path, the stack and the
 * text are fixed arrays, so a hostile reply can cost at most its own
 * length in time and nothing in memory.
 */
#include "s3_xml.h"

#include <string.h>

#include "backend.h"
#include "http.h"

#define PATH_MAX_BYTES (CF_S3_XML_DEPTH_MAX * (CF_S3_XML_NAME_MAX + 1) + 1)

typedef cf_status (*leaf_fn)(void *arg, const char *path, const char *text,
    size_t len);

struct walker {
	const uint8_t *p;
	size_t n, i;
	int depth;
	size_t plen[CF_S3_XML_DEPTH_MAX + 1];   /* path length per depth */
	int has_child[CF_S3_XML_DEPTH_MAX + 1];
	char path[PATH_MAX_BYTES];
	char root[CF_S3_XML_NAME_MAX + 1];
	char text[CF_S3_XML_TEXT_MAX + 1];
	size_t tlen;
	int text_nonws;
	const char *err;        /* what was wrong, static text */
	leaf_fn fn;
	void *arg;
};

static int
is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_name_char(uint8_t c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return 1;
	if (first)
		return 0;
	return (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
}

static cf_status
bad(struct walker *w, const char *why)
{
	w->err = why;
	return CF_ERR_CORRUPT;
}

/* starts(w, s): the input at the cursor begins with ${s}. */
static int
starts(const struct walker *w, const char *s)
{
	size_t k = strlen(s);

	return w->n - w->i >= k && memcmp(w->p + w->i, s, k) == 0;
}

/* skip_past(w, s): move the cursor past the next ${s}; 0 if none. */
static int
skip_past(struct walker *w, const char *s)
{
	size_t k = strlen(s);

	for (size_t j = w->i; j + k <= w->n; j++)
		if (memcmp(w->p + j, s, k) == 0) {
			w->i = j + k;
			return 1;
		}
	return 0;
}

/* read_name(w, out): an element or attribute name into ${out}. */
static cf_status
read_name(struct walker *w, char out[CF_S3_XML_NAME_MAX + 1])
{
	size_t k = 0;

	if (w->i >= w->n || !is_name_char(w->p[w->i], 1))
		return bad(w, "invalid element name");
	while (w->i < w->n && is_name_char(w->p[w->i], 0)) {
		if (k >= CF_S3_XML_NAME_MAX)
			return bad(w, "element name too long");
		out[k++] = (char)w->p[w->i++];
	}
	out[k] = '\0';
	return CF_OK;
}

static void
skip_ws(struct walker *w)
{
	while (w->i < w->n && is_ws(w->p[w->i]))
		w->i++;
}

/* text_add(w, c): append one decoded byte to the current leaf's text. */
static cf_status
text_add(struct walker *w, uint8_t c)
{
	if (w->tlen >= CF_S3_XML_TEXT_MAX)
		return bad(w, "element text too long");
	w->text[w->tlen++] = (char)c;
	if (!is_ws(c))
		w->text_nonws = 1;
	return CF_OK;
}

/* entity(w): decode the reference at the cursor ('&'), append it. */
static cf_status
entity(struct walker *w)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	uint32_t v = 0;
	size_t j, digits = 0;
	int hex;

	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
		if (starts(w, named[k].name)) {
			w->i += strlen(named[k].name);
			return text_add(w, (uint8_t)named[k].c);
		}
	if (!starts(w, "&#"))
		return bad(w, "unknown entity reference");
	j = w->i + 2;
	hex = j < w->n && w->p[j] == 'x';
	if (hex)
		j++;
	for (; j < w->n && w->p[j] != ';'; j++, digits++) {
		uint8_t c = w->p[j];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (hex && c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return bad(w, "invalid character reference");
		if (digits >= 6)
			return bad(w, "invalid character reference");
		v = v * (hex ? 16 : 10) + d;
	}
	if (j >= w->n || digits == 0)
		return bad(w, "invalid character reference");
	if (!(v == '\t' || v == '\n' || v == '\r' || (v >= 0x20 && v <= 0x7e)))
		return bad(w, "character reference outside printable ASCII");
	w->i = j + 1;
	return text_add(w, (uint8_t)v);
}

/* start_tag(w): at "<name", push the element (and pop it if "/>"). */
static cf_status
start_tag(struct walker *w)
{
	char name[CF_S3_XML_NAME_MAX + 1], attr[CF_S3_XML_NAME_MAX + 1];
	size_t nlen, at;
	int self_close = 0;
	cf_status rc;

	if (w->depth == 0 && w->root[0] != '\0')
		return bad(w, "more than one root element");
	if (w->depth > 0) {
		if (w->text_nonws)
			return bad(w, "text mixed with elements");
		w->has_child[w->depth] = 1;
	}
	if (w->depth >= CF_S3_XML_DEPTH_MAX)
		return bad(w, "elements nested too deep");
	w->i++;                 /* '<' */
	if ((rc = read_name(w, name)) != CF_OK)
		return rc;
	/* Attributes: name = "value" or 'value', skipped. */
	for (;;) {
		int had_ws = w->i < w->n && is_ws(w->p[w->i]);

		skip_ws(w);
		if (w->i >= w->n)
			return bad(w, "truncated start tag");
		if (w->p[w->i] == '>') {
			w->i++;
			break;
		}
		if (w->p[w->i] == '/') {
			if (w->i + 1 >= w->n || w->p[w->i + 1] != '>')
				return bad(w, "invalid start tag");
			w->i += 2;
			self_close = 1;
			break;
		}
		if (!had_ws)
			return bad(w, "invalid start tag");
		if ((rc = read_name(w, attr)) != CF_OK)
			return rc;
		skip_ws(w);
		if (w->i >= w->n || w->p[w->i] != '=')
			return bad(w, "invalid attribute");
		w->i++;
		skip_ws(w);
		if (w->i >= w->n || (w->p[w->i] != '"' && w->p[w->i] != '\''))
			return bad(w, "invalid attribute");
		{
			uint8_t q = w->p[w->i++];

			while (w->i < w->n && w->p[w->i] != q) {
				if (w->p[w->i] == '<' || w->p[w->i] < 0x09)
					return bad(w,
					    "invalid attribute value");
				w->i++;
			}
			if (w->i >= w->n)
				return bad(w, "truncated attribute value");
			w->i++;
		}
	}

	if (w->depth == 0)
		memcpy(w->root, name, strlen(name) + 1);
	at = w->plen[w->depth];
	nlen = strlen(name);
	/* The array holds DEPTH_MAX names of NAME_MAX and separators. */
	if (at > 0)
		w->path[at++] = '/';
	memcpy(w->path + at, name, nlen + 1);
	w->depth++;
	w->plen[w->depth] = at + nlen;
	w->has_child[w->depth] = 0;
	w->tlen = 0;
	w->text_nonws = 0;
	if (self_close) {
		w->text[0] = '\0';
		if ((rc = w->fn(w->arg, w->path, w->text, 0)) != CF_OK)
			return rc;
		w->depth--;
		w->path[w->plen[w->depth]] = '\0';
	}
	return CF_OK;
}

/* end_tag(w): at "</name>", pop the element, report it if a leaf. */
static cf_status
end_tag(struct walker *w)
{
	char name[CF_S3_XML_NAME_MAX + 1];
	const char *top;
	cf_status rc;

	w->i += 2;              /* "</" */
	if ((rc = read_name(w, name)) != CF_OK)
		return rc;
	skip_ws(w);
	if (w->i >= w->n || w->p[w->i] != '>')
		return bad(w, "invalid end tag");
	w->i++;
	if (w->depth == 0)
		return bad(w, "end tag without start tag");
	top = w->path + w->plen[w->depth - 1] + (w->depth > 1 ? 1 : 0);
	if (strcmp(top, name) != 0)
		return bad(w, "end tag does not match its start tag");
	if (!w->has_child[w->depth]) {
		w->text[w->tlen] = '\0';
		if ((rc = w->fn(w->arg, w->path, w->text, w->tlen)) != CF_OK)
			return rc;
	} else if (w->text_nonws) {
		return bad(w, "text mixed with elements");
	}
	w->depth--;
	w->path[w->plen[w->depth]] = '\0';
	/* The parent's text (whitespace) continues after its child. */
	w->tlen = 0;
	w->text_nonws = 0;
	return CF_OK;
}

/*
 * walk(xml, n, fn, arg, w): tokenize ${xml}, calling ${fn} for each leaf.
 * CF_ERR_CORRUPT with w->err set when the reply is not acceptable; what
 * ${fn} returns otherwise.  Sets no error message (the callers do).
 */
static cf_status
walk(const void *xml, size_t n, leaf_fn fn, void *arg, struct walker *w)
{
	cf_status rc;

	memset(w, 0, sizeof(*w));
	w->p = xml;
	w->n = n;
	w->fn = fn;
	w->arg = arg;
	w->err = "";
	if (xml == NULL)
		return bad(w, "no reply body");
	if (starts(w, "\xef\xbb\xbf"))          /* UTF-8 byte order mark */
		w->i = 3;
	while (w->i < w->n) {
		uint8_t c = w->p[w->i];

		if (c == '<') {
			if (starts(w, "<?")) {
				if (!skip_past(w, "?>"))
					return bad(w, "truncated processing "
					    "instruction");
			} else if (starts(w, "<!--")) {
				w->i += 4;
				if (!skip_past(w, "-->"))
					return bad(w, "truncated comment");
			} else if (starts(w, "<!")) {
				return bad(w, "DOCTYPE, CDATA or other "
				    "declaration refused");
			} else if (starts(w, "</")) {
				if ((rc = end_tag(w)) != CF_OK)
					return rc;
			} else if ((rc = start_tag(w)) != CF_OK) {
				return rc;
			}
			continue;
		}
		if (c < 0x20 && !is_ws(c))
			return bad(w, "control byte in the reply");
		if (c == 0x7f)
			return bad(w, "control byte in the reply");
		if (w->depth == 0 || w->has_child[w->depth]) {
			/* Between elements: only whitespace. */
			if (!is_ws(c))
				return bad(w, w->depth == 0 ?
				    "text outside the root element" :
				    "text mixed with elements");
			w->i++;
			continue;
		}
		if (c == '&') {
			if ((rc = entity(w)) != CF_OK)
				return rc;
			continue;
		}
		if ((rc = text_add(w, c)) != CF_OK)
			return rc;
		w->i++;
	}
	if (w->root[0] == '\0')
		return bad(w, "no root element");
	if (w->depth != 0)
		return bad(w, "truncated reply");
	return CF_OK;
}

static cf_status
walk_error(const struct walker *w, const char *what)
{
	return cf_error_set(CF_ERR_CORRUPT,
	    "malformed %s from the S3 server: %s (at byte %zu)", what, w->err,
	    w->i);
}

/* token_ok(s, n, max): 1 to ${max} bytes of printable ASCII, no space. */
static int
token_ok(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* ---- ListObjectsV2 ---- */

void
cf_s3_list_init(struct cf_s3_list *l)
{
	memset(l, 0, sizeof(*l));
	/* Names of at most CF_OBJECT_NAME_MAX bytes, NUL each. */
	cf_buf_init(&l->names,
	    (size_t)CF_S3_LIST_KEYS_MAX * (CF_OBJECT_NAME_MAX + 1));
}

void
cf_s3_list_free(struct cf_s3_list *l)
{
	cf_buf_free(&l->names);
	l->count = 0;
}

struct list_ctx {
	const char *prefix;
	size_t plen;
	const char *dir;
	size_t dlen;
	struct cf_s3_list *l;
	int seen_truncated, seen_token;
	const char *err;
};

static cf_status
list_leaf(void *arg, const char *path, const char *text, size_t len)
{
	struct list_ctx *c = arg;
	struct cf_s3_list *l = c->l;

	if (strcmp(path, "ListBucketResult/Contents/Key") == 0) {
		const char *name = text + c->plen;

		if (len != strlen(text)) {
			c->err = "a key holds a NUL byte";
			return CF_ERR_CORRUPT;
		}
		if (len < c->plen || memcmp(text, c->prefix, c->plen) != 0) {
			c->err = "a key outside the listed prefix";
			return CF_ERR_CORRUPT;
		}
		if (!cf_backend_name_ok(name) ||
		    strncmp(name, c->dir, c->dlen) != 0 ||
		    name[c->dlen] != '/') {
			c->err = "a key that is not a repository object name";
			return CF_ERR_CORRUPT;
		}
		if (l->count >= CF_S3_LIST_KEYS_MAX) {
			c->err = "too many keys in one page";
			return CF_ERR_CORRUPT;
		}
		if (cf_buf_append(&l->names, name, len - c->plen + 1) !=
		    CF_OK)
			return cf_error_code();
		l->count++;
	} else if (strcmp(path, "ListBucketResult/IsTruncated") == 0) {
		if (c->seen_truncated++) {
			c->err = "IsTruncated given twice";
			return CF_ERR_CORRUPT;
		}
		if (strcmp(text, "true") == 0) {
			l->truncated = 1;
		} else if (strcmp(text, "false") == 0) {
			l->truncated = 0;
		} else {
			c->err = "IsTruncated is neither true nor false";
			return CF_ERR_CORRUPT;
		}
	} else if (strcmp(path, "ListBucketResult/NextContinuationToken") ==
	    0) {
		if (c->seen_token++) {
			c->err = "NextContinuationToken given twice";
			return CF_ERR_CORRUPT;
		}
		if (!token_ok(text, len, CF_S3_TOKEN_MAX)) {
			c->err = "invalid NextContinuationToken";
			return CF_ERR_CORRUPT;
		}
		memcpy(l->token, text, len + 1);
	}
	return CF_OK;
}

cf_status
cf_s3_list_parse(const void *xml, size_t n, const char *prefix,
    const char *dir, struct cf_s3_list *l)
{
	struct list_ctx c;
	struct walker w;
	cf_status rc;

	cf_buf_reset(&l->names);
	l->count = 0;
	l->truncated = 0;
	l->token[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.prefix = prefix;
	c.plen = strlen(prefix);
	c.dir = dir;
	c.dlen = strlen(dir);
	c.l = l;
	rc = walk(xml, n, list_leaf, &c, &w);
	if (rc == CF_OK && strcmp(w.root, "ListBucketResult") != 0) {
		c.err = "the root element is not ListBucketResult";
		rc = CF_ERR_CORRUPT;
	}
	if (rc == CF_OK && !c.seen_truncated) {
		c.err = "no IsTruncated";
		rc = CF_ERR_CORRUPT;
	}
	if (rc == CF_OK && l->truncated && l->token[0] == '\0') {
		c.err = "IsTruncated without NextContinuationToken";
		rc = CF_ERR_CORRUPT;
	}
	if (rc != CF_OK) {
		cf_buf_reset(&l->names);
		l->count = 0;
		l->truncated = 0;
		l->token[0] = '\0';
		if (rc != CF_ERR_CORRUPT)
			return rc;
		if (c.err != NULL)
			return cf_error_set(CF_ERR_CORRUPT,
			    "invalid object listing from the S3 server: %s",
			    c.err);
		return walk_error(&w, "object listing");
	}
	return CF_OK;
}

/* ---- <Error> ---- */

struct error_ctx {
	struct cf_s3_error *e;
};

static int
code_ok(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof(((struct cf_s3_error *)0)->code))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return 0;
	return 1;
}

static cf_status
error_leaf(void *arg, const char *path, const char *text, size_t len)
{
	struct error_ctx *c = arg;

	if (strcmp(path, "Error/Code") == 0 && c->e->code[0] == '\0' &&
	    code_ok(text, len))
		memcpy(c->e->code, text, len + 1);
	else if (strcmp(path, "Error/Message") == 0 &&
	    c->e->message[0] == '\0')
		cf_http_text(c->e->message, sizeof(c->e->message), text, len);
	return CF_OK;
}

void
cf_s3_error_parse(const void *xml, size_t n, struct cf_s3_error *e)
{
	struct error_ctx c = { e };
	struct walker w;

	memset(e, 0, sizeof(*e));
	/*
	 * What was read before a failure is kept: the body of an error
	 * reply is truncated (CF_HTTP_ERRBODY_MAX), and the code comes
	 * first.  It only chooses the wording of an error.
	 */
	(void)walk(xml, n, error_leaf, &c, &w);
	if (w.root[0] != '\0' && strcmp(w.root, "Error") != 0)
		memset(e, 0, sizeof(*e));
}

/* ---- multipart upload ---- */

struct upload_ctx {
	char *id;
	int seen;
	const char *err;
};

static cf_status
upload_leaf(void *arg, const char *path, const char *text, size_t len)
{
	struct upload_ctx *c = arg;

	if (strcmp(path, "InitiateMultipartUploadResult/UploadId") != 0)
		return CF_OK;
	if (c->seen++) {
		c->err = "UploadId given twice";
		return CF_ERR_CORRUPT;
	}
	if (!token_ok(text, len, CF_S3_UPLOAD_ID_MAX)) {
		c->err = "invalid UploadId";
		return CF_ERR_CORRUPT;
	}
	memcpy(c->id, text, len + 1);
	return CF_OK;
}

cf_status
cf_s3_upload_id_parse(const void *xml, size_t n, char *id)
{
	struct upload_ctx c = { id, 0, NULL };
	struct walker w;
	cf_status rc;

	id[0] = '\0';
	rc = walk(xml, n, upload_leaf, &c, &w);
	if (rc == CF_OK &&
	    strcmp(w.root, "InitiateMultipartUploadResult") != 0) {
		c.err = "the root element is not "
		    "InitiateMultipartUploadResult";
		rc = CF_ERR_CORRUPT;
	}
	if (rc == CF_OK && !c.seen) {
		c.err = "no UploadId";
		rc = CF_ERR_CORRUPT;
	}
	if (rc == CF_OK)
		return CF_OK;
	id[0] = '\0';
	if (rc != CF_ERR_CORRUPT)
		return rc;
	if (c.err != NULL)
		return cf_error_set(CF_ERR_CORRUPT, "invalid reply to a "
		    "multipart upload's start from the S3 server: %s", c.err);
	return walk_error(&w, "reply to a multipart upload's start");
}

static cf_status
ignore_leaf(void *arg, const char *path, const char *text, size_t len)
{
	(void)arg;
	(void)path;
	(void)text;
	(void)len;
	return CF_OK;
}

cf_status
cf_s3_complete_parse(const void *xml, size_t n, struct cf_s3_error *e)
{
	struct walker w;

	memset(e, 0, sizeof(*e));
	if (walk(xml, n, ignore_leaf, NULL, &w) != CF_OK)
		return walk_error(&w, "reply to a multipart upload's "
		    "completion");
	if (strcmp(w.root, "CompleteMultipartUploadResult") == 0)
		return CF_OK;
	if (strcmp(w.root, "Error") == 0) {
		cf_s3_error_parse(xml, n, e);
		return CF_ERR_IO;
	}
	return cf_error_set(CF_ERR_CORRUPT, "invalid reply to a multipart "
	    "upload's completion from the S3 server: the root element is "
	    "not CompleteMultipartUploadResult");
}
