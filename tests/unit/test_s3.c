/*
 * test_s3.c: the S3 backend's readers of outside bytes (lib/s3_xml.c) and
 * what cf_backend_s3_open refuses before it sends anything (location,
 * credentials, settings).
 *
 * With COFFRE_S3_TEST_LOCATION set (tests/integration/s3.sh sets it to a
 * prefix of a real S3 server, Swift, with credentials in
 * COFFRE_S3_ACCESS_KEY / COFFRE_S3_SECRET_KEY), it also drives the backend
 * against that server: put-if-absent, listing across many pages, byte
 * ranges at and past the end, empty objects, multipart upload, deletion,
 * several threads at once, and a wrong secret.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "s3_xml.h"

#define HEX64 "0123456789abcdef0123456789abcdef" \
    "0123456789abcdef0123456789abcdef"
/* S(lit): a string literal and its length. */
#define S(lit) (lit), strlen(lit)

static const char page1[] =
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bucket</Name><Prefix>p/data/</Prefix>"
    "<NextContinuationToken>cC9kYXRh&amp;+/=</NextContinuationToken>"
    "<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/data/01/" HEX64 "</Key>"
    "<LastModified>2026-11-23T13:15:47.000Z</LastModified>"
    "<ETag>\"b1946ac92492d2347c6235b4d2611184\"</ETag><Size>6</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/data/ff/" HEX64 "</Key><Size>7</Size></Contents>"
    "</ListBucketResult>";

/* The same, pretty-printed with a comment, as some servers write it. */
static const char page2[] =
    "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<!-- listing -->\n"
    "<ListBucketResult xmlns='http://s3.amazonaws.com/doc/2006-03-01/'>\n"
    "  <Name>bucket</Name>\n"
    "  <IsTruncated>false</IsTruncated>\n"
    "  <Contents>\n"
    "    <Key>p/data/01/" HEX64 "</Key>\n"
    "    <Owner><ID>x</ID><DisplayName/></Owner>\n"
    "  </Contents>\n"
    "</ListBucketResult>\n";

static cf_status
parse(const char *xml, struct cf_s3_list *l)
{
	return cf_s3_list_parse(xml, strlen(xml), "p/", "data", l);
}

/* page(keys...): a one-page listing of the given keys (NULL-ended). */
static char *
page_of(const char *trunc, const char *const *keys)
{
	static char buf[65536];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "<ListBucketResult>"
	    "<IsTruncated>%s</IsTruncated>", trunc);
	for (; *keys != NULL; keys++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "<Contents><Key>%s</Key></Contents>", *keys);
	snprintf(buf + n, sizeof(buf) - n, "</ListBucketResult>");
	return buf;
}

static void
test_list_good(void)
{
	struct cf_s3_list l;
	const char *names;

	cf_s3_list_init(&l);
	CHECK_OK(parse(page1, &l));
	CHECK(l.count == 2);
	CHECK(l.truncated == 1);
	CHECK(strcmp(l.token, "cC9kYXRh&+/=") == 0);
	names = (const char *)l.names.p;
	CHECK(strcmp(names, "data/01/" HEX64) == 0);
	CHECK(strcmp(names + strlen(names) + 1, "data/ff/" HEX64) == 0);

	CHECK_OK(parse(page2, &l));
	CHECK(l.count == 1 && l.truncated == 0 && l.token[0] == '\0');

	/* No prefix at all. */
	{
		const char *k[] = { "keys/" HEX64, NULL };

		CHECK_OK(cf_s3_list_parse(page_of("false", k),
		    strlen(page_of("false", k)), "", "keys", &l));
		CHECK(l.count == 1);
		CHECK(strcmp((const char *)l.names.p, "keys/" HEX64) == 0);
	}
	/* An empty page. */
	CHECK_OK(parse("<ListBucketResult><IsTruncated>false</IsTruncated>"
	    "<KeyCount>0</KeyCount></ListBucketResult>", &l));
	CHECK(l.count == 0);
	/* Character references for printable ASCII. */
	CHECK_OK(parse("<ListBucketResult><IsTruncated>true</IsTruncated>"
	    "<NextContinuationToken>&#65;&#x42;&#x63;</NextContinuationToken>"
	    "</ListBucketResult>", &l));
	CHECK(strcmp(l.token, "ABc") == 0);
	cf_s3_list_free(&l);
}

static void
expect_corrupt(const char *what, const char *xml)
{
	struct cf_s3_list l;
	cf_status rc;

	cf_s3_list_init(&l);
	rc = parse(xml, &l);
	if (rc != CF_ERR_CORRUPT)
		fprintf(stderr, "not refused: %s\n", what);
	CHECK(rc == CF_ERR_CORRUPT);
	CHECK(l.count == 0 && l.names.len == 0 && l.token[0] == '\0');
	CHECK(strstr(cf_error_message(), "S3") != NULL);
	cf_s3_list_free(&l);
}

static void
test_list_bad(void)
{
	const char *outside[] = { "q/data/01/" HEX64, NULL };
	const char *dirty[] = { "p/data/01/" HEX64 "/x/y", NULL };
	const char *upper[] = { "p/data/01/" "ABC", NULL };
	const char *otherdir[] = { "p/index/" HEX64, NULL };
	const char *bare[] = { "p/data", NULL };
	const char *dotdot[] = { "p/data/../config", NULL };
	const char *empty[] = { "", NULL };
	const char *amp[] = { "p/data/a&amp;b", NULL };
	const char *noprefix[] = { "data/01/" HEX64, NULL };
	char *many;
	size_t n = 0, cap = (size_t)(CF_S3_LIST_KEYS_MAX + 1) * 120 + 200;

	expect_corrupt("key outside the prefix", page_of("false", outside));
	expect_corrupt("key without the prefix", page_of("false", noprefix));
	expect_corrupt("too many segments", page_of("false", dirty));
	expect_corrupt("uppercase", page_of("false", upper));
	expect_corrupt("another directory", page_of("false", otherdir));
	expect_corrupt("the directory itself", page_of("false", bare));
	expect_corrupt("dot-dot", page_of("false", dotdot));
	expect_corrupt("empty key", page_of("false", empty));
	expect_corrupt("ampersand", page_of("false", amp));
	expect_corrupt("not a boolean", page_of("yes", bare + 1));
	expect_corrupt("truncated without token", page_of("true", bare + 1));
	expect_corrupt("no IsTruncated",
	    "<ListBucketResult></ListBucketResult>");
	expect_corrupt("IsTruncated twice", "<ListBucketResult><IsTruncated>"
	    "false</IsTruncated><IsTruncated>false</IsTruncated>"
	    "</ListBucketResult>");
	expect_corrupt("token twice", "<ListBucketResult><IsTruncated>true"
	    "</IsTruncated><NextContinuationToken>a</NextContinuationToken>"
	    "<NextContinuationToken>b</NextContinuationToken>"
	    "</ListBucketResult>");
	expect_corrupt("token with a space", "<ListBucketResult><IsTruncated>"
	    "true</IsTruncated><NextContinuationToken>a b"
	    "</NextContinuationToken></ListBucketResult>");
	expect_corrupt("empty token", "<ListBucketResult><IsTruncated>true"
	    "</IsTruncated><NextContinuationToken></NextContinuationToken>"
	    "</ListBucketResult>");
	expect_corrupt("other root", "<Error><IsTruncated>false</IsTruncated>"
	    "</Error>");
	expect_corrupt("DOCTYPE", "<!DOCTYPE x [<!ENTITY e \"p/data/x\">]>"
	    "<ListBucketResult><IsTruncated>false</IsTruncated>"
	    "</ListBucketResult>");
	expect_corrupt("CDATA", "<ListBucketResult><IsTruncated><![CDATA["
	    "false]]></IsTruncated></ListBucketResult>");
	expect_corrupt("unknown entity", "<ListBucketResult><IsTruncated>"
	    "false&nbsp;</IsTruncated></ListBucketResult>");
	expect_corrupt("NUL reference", "<ListBucketResult><IsTruncated>"
	    "false&#0;</IsTruncated></ListBucketResult>");
	expect_corrupt("non-ASCII reference", "<ListBucketResult>"
	    "<IsTruncated>false&#xe9;</IsTruncated></ListBucketResult>");
	expect_corrupt("huge reference", "<ListBucketResult><IsTruncated>"
	    "false&#99999999999;</IsTruncated></ListBucketResult>");
	expect_corrupt("unterminated reference", "<ListBucketResult>"
	    "<IsTruncated>false&#65</IsTruncated></ListBucketResult>");
	expect_corrupt("mismatched end tag", "<ListBucketResult><IsTruncated>"
	    "false</IsTruncatedX></ListBucketResult>");
	expect_corrupt("unclosed root", "<ListBucketResult><IsTruncated>"
	    "false</IsTruncated>");
	expect_corrupt("two roots", "<ListBucketResult><IsTruncated>false"
	    "</IsTruncated></ListBucketResult><ListBucketResult>"
	    "</ListBucketResult>");
	expect_corrupt("text outside", "x<ListBucketResult><IsTruncated>"
	    "false</IsTruncated></ListBucketResult>");
	expect_corrupt("mixed content", "<ListBucketResult>x<IsTruncated>"
	    "false</IsTruncated></ListBucketResult>");
	expect_corrupt("mixed content after", "<ListBucketResult><IsTruncated>"
	    "false</IsTruncated>x</ListBucketResult>");
	expect_corrupt("control byte", "<ListBucketResult><IsTruncated>"
	    "fal\x01se</IsTruncated></ListBucketResult>");
	expect_corrupt("too deep", "<ListBucketResult><a><b><c><d><e><f><g>"
	    "<h>x</h></g></f></e></d></c></b></a></ListBucketResult>");
	expect_corrupt("bad attribute", "<ListBucketResult a=b>"
	    "<IsTruncated>false</IsTruncated></ListBucketResult>");
	expect_corrupt("'<' in attribute", "<ListBucketResult a='<'>"
	    "<IsTruncated>false</IsTruncated></ListBucketResult>");
	expect_corrupt("empty", "");
	expect_corrupt("whitespace only", " \n");
	expect_corrupt("unterminated comment", "<!-- <ListBucketResult>");

	/* More keys than one page may hold. */
	if ((many = malloc(cap)) == NULL)
		abort();
	n += (size_t)snprintf(many + n, cap - n, "<ListBucketResult>"
	    "<IsTruncated>false</IsTruncated>");
	for (int i = 0; i <= CF_S3_LIST_KEYS_MAX; i++)
		n += (size_t)snprintf(many + n, cap - n,
		    "<Contents><Key>p/data/00/%064x</Key></Contents>", i);
	snprintf(many + n, cap - n, "</ListBucketResult>");
	expect_corrupt("too many keys", many);
	free(many);

	/* A text longer than the limit. */
	{
		static char big[CF_S3_XML_TEXT_MAX + 200];
		int k = snprintf(big, sizeof(big), "<ListBucketResult>"
		    "<IsTruncated>true</IsTruncated><NextContinuationToken>");

		memset(big + k, 'a', CF_S3_XML_TEXT_MAX + 1);
		memcpy(big + k + CF_S3_XML_TEXT_MAX + 1,
		    "</NextContinuationToken></ListBucketResult>", 44);
		expect_corrupt("long text", big);
	}
}

/* Every strict prefix of a good page is refused (a cut reply). */
static void
test_list_truncations(void)
{
	struct cf_s3_list l;
	size_t n = strlen(page1), refused = 0;

	cf_s3_list_init(&l);
	for (size_t k = 0; k < n; k++)
		if (cf_s3_list_parse(page1, k, "p/", "data", &l) ==
		    CF_ERR_CORRUPT && l.count == 0)
			refused++;
	CHECK(refused == n);
	cf_s3_list_free(&l);
}

static void
test_error(void)
{
	static const char e1[] = "<?xml version='1.0' encoding='UTF-8'?>\n"
	    "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
	    "signature we calculated does not match\x1b[31m</Message>"
	    "<RequestId>tx1</RequestId></Error>";
	struct cf_s3_error e;

	cf_s3_error_parse(e1, strlen(e1), &e);
	CHECK(strcmp(e.code, "SignatureDoesNotMatch") == 0);
	/* Control bytes are refused by the reader: no message then. */
	CHECK(strchr(e.message, '\x1b') == NULL);

	cf_s3_error_parse(S("<Error><Code>NoSuchKey</Code><Message>a &amp; "
	    "b</Message></Error>"), &e);
	CHECK(strcmp(e.code, "NoSuchKey") == 0);
	CHECK(strcmp(e.message, "a & b") == 0);

	/* Cut short (an error body is kept up to 4 KiB): the code stays. */
	cf_s3_error_parse(S("<Error><Code>NoSuchBucket</Code><Message>The "
	    "sp"), &e);
	CHECK(strcmp(e.code, "NoSuchBucket") == 0);

	cf_s3_error_parse(S("<NotError><Code>NoSuchBucket</Code>"
	    "</NotError>"), &e);
	CHECK(e.code[0] == '\0');
	cf_s3_error_parse(S("<Error><Code>No Such</Code></Error>"), &e);
	CHECK(e.code[0] == '\0');
	cf_s3_error_parse(S("not xml at all"), &e);
	CHECK(e.code[0] == '\0' && e.message[0] == '\0');
	cf_s3_error_parse(NULL, 0, &e);
	CHECK(e.code[0] == '\0');
}

static void
test_multipart_replies(void)
{
	static const char init[] = "<?xml version=\"1.0\"?>"
	    "<InitiateMultipartUploadResult xmlns=\"x\"><Bucket>b</Bucket>"
	    "<Key>p/data/01/x</Key><UploadId>ZjQ1N2Y-MzQ=</UploadId>"
	    "</InitiateMultipartUploadResult>";
	char id[CF_S3_UPLOAD_ID_MAX + 1];
	struct cf_s3_error e;

	CHECK_OK(cf_s3_upload_id_parse(init, strlen(init), id));
	CHECK(strcmp(id, "ZjQ1N2Y-MzQ=") == 0);
	CHECK_ERR(cf_s3_upload_id_parse(S("<InitiateMultipartUploadResult>"
	    "</InitiateMultipartUploadResult>"), id), CF_ERR_CORRUPT);
	CHECK(id[0] == '\0');
	CHECK_ERR(cf_s3_upload_id_parse(S("<X><UploadId>a</UploadId></X>"),
	    id), CF_ERR_CORRUPT);
	CHECK_ERR(cf_s3_upload_id_parse(S("<InitiateMultipartUploadResult>"
	    "<UploadId>a</UploadId><UploadId>b</UploadId>"
	    "</InitiateMultipartUploadResult>"), id), CF_ERR_CORRUPT);
	CHECK_ERR(cf_s3_upload_id_parse(S("<InitiateMultipartUploadResult>"
	    "<UploadId>a&amp;b c</UploadId>"
	    "</InitiateMultipartUploadResult>"), id), CF_ERR_CORRUPT);

	CHECK_OK(cf_s3_complete_parse(S("<CompleteMultipartUploadResult>"
	    "<Location>x</Location><ETag>\"a-2\"</ETag>"
	    "</CompleteMultipartUploadResult>"), &e));
	CHECK_ERR(cf_s3_complete_parse(S("<Error><Code>InternalError</Code>"
	    "</Error>"), &e), CF_ERR_IO);
	CHECK(strcmp(e.code, "InternalError") == 0);
	CHECK_ERR(cf_s3_complete_parse(S("<Other/>"), &e), CF_ERR_CORRUPT);
	CHECK_ERR(cf_s3_complete_parse(S(""), &e), CF_ERR_CORRUPT);
}

/* ---- cf_backend_s3_open: what is refused before any request ---- */

static void
clear_env(void)
{
	static const char *const vars[] = {
		"COFFRE_S3_CREDENTIALS", "COFFRE_S3_ACCESS_KEY",
		"COFFRE_S3_SECRET_KEY", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "COFFRE_S3_REGION",
		"COFFRE_S3_ADDRESSING", "COFFRE_S3_ALLOW_HTTP",
		"COFFRE_S3_MULTIPART_THRESHOLD", "COFFRE_S3_PART_SIZE",
		"COFFRE_S3_LIST_PAGE", "COFFRE_S3_CA_FILE",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static cf_status
open_fails(const char *loc, const char *want)
{
	struct cf_backend *b = (struct cf_backend *)1;
	cf_status rc;

	rc = cf_backend_s3_open(loc, 0, NULL, &b);
	CHECK(rc != CF_OK);
	CHECK(b == NULL);
	if (rc == CF_OK)
		cf_backend_close(b);
	if (want != NULL && strstr(cf_error_message(), want) == NULL) {
		fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", loc,
		    cf_error_message(), want);
		CHECK(0);
	}
	return rc;
}

static void
test_open_location(void)
{
	clear_env();
	setenv("COFFRE_S3_ACCESS_KEY", "AKIDEXAMPLE", 1);
	setenv("COFFRE_S3_SECRET_KEY", "wJalrXUtnFEMI/K7MDENG", 1);

	CHECK_ERR(open_fails("s3://", "invalid S3 location"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host", "no bucket"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/", "3 to 63"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/ab", "3 to 63"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/Bucket", "a-z"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/-bucket", "starts and ends"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/bucket/a//b", "segment"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/bucket/a/../b", "segment"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/bucket/./b", "segment"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/bucket/a b", "prefix holds"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host/bucket?x=1", "query"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host:0/bucket", "port"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host:65536/bucket", "port"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://host:/bucket", "port"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://ho_st/bucket", "host"), CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3://[::1/bucket", "IPv6"), CF_ERR_INVALID);
	/* Credentials in the location: refused, and not echoed. */
	CHECK_ERR(open_fails("s3://AKID:SECRETXYZ@host/bucket",
	    "do not belong"), CF_ERR_INVALID);
	CHECK(strstr(cf_error_message(), "SECRETXYZ") == NULL);
	/* Plain HTTP only to loopback. */
	CHECK_ERR(open_fails("s3+http://192.0.2.1:9000/bucket", "HTTPS"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3+http://example.org/bucket", "HTTPS"),
	    CF_ERR_INVALID);
	CHECK_ERR(open_fails("s3+http://127.0.0.1.example.org/bucket",
	    "HTTPS"), CF_ERR_INVALID);
	/* Virtual-host addressing needs a name. */
	setenv("COFFRE_S3_ADDRESSING", "virtual", 1);
	CHECK_ERR(open_fails("s3://192.0.2.1/bucket", "host name"),
	    CF_ERR_INVALID);
	setenv("COFFRE_S3_ADDRESSING", "sideways", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "COFFRE_S3_ADDRESSING"),
	    CF_ERR_INVALID);
	unsetenv("COFFRE_S3_ADDRESSING");
	/* Tuning knobs. */
	setenv("COFFRE_S3_PART_SIZE", "1000", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "COFFRE_S3_PART_SIZE"),
	    CF_ERR_INVALID);
	unsetenv("COFFRE_S3_PART_SIZE");
	setenv("COFFRE_S3_LIST_PAGE", "7x", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "COFFRE_S3_LIST_PAGE"),
	    CF_ERR_INVALID);
	setenv("COFFRE_S3_LIST_PAGE", "1001", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "COFFRE_S3_LIST_PAGE"),
	    CF_ERR_INVALID);
	unsetenv("COFFRE_S3_LIST_PAGE");
	setenv("COFFRE_S3_REGION", "EU West", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "COFFRE_S3_REGION"),
	    CF_ERR_INVALID);
	unsetenv("COFFRE_S3_REGION");
}

static void
write_creds(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
test_open_credentials(void)
{
	char dir[] = "/tmp/coffre-test-s3.XXXXXX", path[64];

	clear_env();
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/creds", dir);

	CHECK_ERR(open_fails("s3://host/bucket", "no S3 credentials"),
	    CF_ERR_ACCESS);
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "AWS_SECRET_ACCESS_KEY"),
	    CF_ERR_INVALID);
	setenv("AWS_SECRET_ACCESS_KEY", "bad secret with spaces", 1);
	CHECK_ERR(open_fails("s3://host/bucket", "not a valid key"),
	    CF_ERR_INVALID);
	CHECK(strstr(cf_error_message(), "spaces") == NULL);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	setenv("COFFRE_S3_CREDENTIALS", path, 1);
	CHECK_ERR(open_fails("s3://host/bucket", "cannot open"),
	    CF_ERR_NOTFOUND);
	write_creds(path, "access_key = AKID\nsecret_key = S3CR3T\n", 0644);
	CHECK_ERR(open_fails("s3://host/bucket", "chmod 600"), CF_ERR_ACCESS);
	CHECK(strstr(cf_error_message(), "S3CR3T") == NULL);
	write_creds(path, "access_key = AKID\nsecret_key = S3CR3T\n", 0640);
	CHECK_ERR(open_fails("s3://host/bucket", "chmod 600"), CF_ERR_ACCESS);
	write_creds(path, "access_key = AKID\n", 0600);
	CHECK_ERR(open_fails("s3://host/bucket", "lacks secret_key"),
	    CF_ERR_INVALID);
	write_creds(path, "access_key = AKID\nsecret_key = S3CR3T\n"
	    "token = XYZZY\n", 0600);
	CHECK_ERR(open_fails("s3://host/bucket", "unknown key \"token\""),
	    CF_ERR_INVALID);
	CHECK(strstr(cf_error_message(), "XYZZY") == NULL);
	write_creds(path, "access_key = AKID\naccess_key = AKID2\n"
	    "secret_key = S3CR3T\n", 0600);
	CHECK_ERR(open_fails("s3://host/bucket", "twice"), CF_ERR_INVALID);
	write_creds(path, "access_key AKID\nsecret_key = S3CR3T\n", 0600);
	CHECK_ERR(open_fails("s3://host/bucket", "line 1"), CF_ERR_INVALID);
	write_creds(path, "access_key = AKID\nsecret_key = S3 CR3T\n", 0600);
	CHECK_ERR(open_fails("s3://host/bucket", "line 2"), CF_ERR_INVALID);
	CHECK(strstr(cf_error_message(), "CR3T") == NULL);
	write_creds(path, "access_key = AKID\r\nsecret_key = S3CR3T\r\n",
	    0600);
	CHECK_ERR(open_fails("s3://host/bucket", "CR"), CF_ERR_INVALID);
	write_creds(path, "# comment\n\naccess_key = AKID\nsecret_key = "
	    "S3CR3T\nregion = Not A Region\n", 0600);
	CHECK_ERR(open_fails("s3://host/bucket", "region"), CF_ERR_INVALID);

	unlink(path);
	rmdir(dir);
	clear_env();
}

/* ---- against a real server (COFFRE_S3_TEST_LOCATION) ---- */

#define LIVE_LOCKS 60
#define LIVE_THREADS 4

struct seen {
	int n[LIVE_LOCKS];
	int other;
	int stop_after;
	int calls;
};

static cf_status
count_lock(void *arg, const char *name)
{
	struct seen *s = arg;
	unsigned i;

	s->calls++;
	if (sscanf(name, "locks/%64x", &i) == 1 && i < LIVE_LOCKS &&
	    strlen(name) == 6 + 64)
		s->n[i]++;
	else
		s->other++;
	if (s->stop_after > 0 && s->calls >= s->stop_after)
		return CF_ERR_CANCELLED;
	return CF_OK;
}

static void
lock_name(char *out, size_t n, unsigned i)
{
	snprintf(out, n, "locks/%064x", i);
}

static int
get_is(struct cf_backend *b, const char *name, uint64_t off, uint64_t len,
    const char *want)
{
	struct cf_buf o;
	int ok;

	cf_buf_init(&o, 1 << 20);
	ok = cf_backend_get(b, name, off, len, &o) == CF_OK &&
	    o.len == strlen(want) &&
	    (o.len == 0 || memcmp(o.p, want, o.len) == 0);
	if (!ok)
		fprintf(stderr, "get %s [%llu, +%llu): got %zu bytes (%s)\n",
		    name, (unsigned long long)off, (unsigned long long)len,
		    o.len, cf_error_message());
	cf_buf_free(&o);
	return ok;
}

struct worker {
	struct cf_backend *b;
	unsigned id;
	int failures;
};

/* worker_run: store the locks i = id (mod LIVE_THREADS), read each back. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char name[96], body[32];

	for (unsigned i = w->id; i < LIVE_LOCKS; i += LIVE_THREADS) {
		lock_name(name, sizeof(name), i);
		snprintf(body, sizeof(body), "lock %u", i);
		if (cf_backend_put(w->b, name, body, strlen(body)) != CF_OK ||
		    !get_is(w->b, name, 0, CF_BACKEND_TO_END, body))
			w->failures++;
	}
	return NULL;
}

static void
test_live(const char *loc)
{
	struct cf_backend *b = NULL, *b2 = NULL;
	struct seen seen;
	struct cf_buf o;
	char name[96], other[256];
	uint8_t *big;
	size_t bigsz = 13u * 1024 * 1024 + 12345;
	uint64_t size;
	const char *p;

	setenv("COFFRE_S3_LIST_PAGE", "7", 1);
	setenv("COFFRE_S3_MULTIPART_THRESHOLD", "6291456", 1);
	setenv("COFFRE_S3_PART_SIZE", "5242880", 1);

	/* A fresh prefix (the bucket is made if it is missing). */
	CHECK_OK(cf_backend_s3_open(loc, 1, NULL, &b));
	if (b == NULL)
		return;
	memset(&seen, 0, sizeof(seen));
	CHECK_OK(cf_backend_list(b, "locks", count_lock, &seen));
	CHECK(seen.calls == 0);

	/* put-if-absent, config (conditional) and content-named alike */
	CHECK_OK(cf_backend_put(b, "config", "cfg", 3));
	CHECK_ERR(cf_backend_put(b, "config", "cfg2", 4), CF_ERR_EXISTS);
	CHECK(get_is(b, "config", 0, CF_BACKEND_TO_END, "cfg"));
	CHECK_ERR(cf_backend_s3_open(loc, 1, NULL, &b2), CF_ERR_EXISTS);
	CHECK(strstr(cf_error_message(), "already exists") != NULL);
	CHECK_OK(cf_backend_s3_open(loc, 0, NULL, &b2));
	cf_backend_close(b2);

	/*
	 * Many objects, stored by several threads at once on one backend,
	 * then listed in 9 pages of 7.
	 */
	{
		pthread_t t[LIVE_THREADS];
		struct worker w[LIVE_THREADS];

		for (unsigned i = 0; i < LIVE_THREADS; i++) {
			w[i].b = b;
			w[i].id = i;
			w[i].failures = 0;
			CHECK(pthread_create(&t[i], NULL, worker_run, &w[i]) ==
			    0);
		}
		for (unsigned i = 0; i < LIVE_THREADS; i++) {
			pthread_join(t[i], NULL);
			CHECK(w[i].failures == 0);
		}
	}
	lock_name(name, sizeof(name), 7);
	CHECK_ERR(cf_backend_put(b, name, "lock 7", 6), CF_ERR_EXISTS);
	memset(&seen, 0, sizeof(seen));
	CHECK_OK(cf_backend_list(b, "locks", count_lock, &seen));
	CHECK(seen.calls == LIVE_LOCKS && seen.other == 0);
	for (unsigned i = 0; i < LIVE_LOCKS; i++)
		CHECK(seen.n[i] == 1);
	/* The callback stops the listing. */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 10;
	CHECK_ERR(cf_backend_list(b, "locks", count_lock, &seen),
	    CF_ERR_CANCELLED);
	CHECK(seen.calls == 10);
	/* Other directories are not mixed in. */
	memset(&seen, 0, sizeof(seen));
	CHECK_OK(cf_backend_list(b, "keys", count_lock, &seen));
	CHECK(seen.calls == 0);

	/* Byte ranges: inside, across the end, at and past the end. */
	lock_name(name, sizeof(name), 10);      /* "lock 10" */
	CHECK(get_is(b, name, 0, CF_BACKEND_TO_END, "lock 10"));
	CHECK(get_is(b, name, 2, 3, "ck "));
	CHECK(get_is(b, name, 5, 100, "10"));
	CHECK(get_is(b, name, 5, CF_BACKEND_TO_END, "10"));
	CHECK(get_is(b, name, 6, 1, "0"));
	CHECK(get_is(b, name, 7, 1, ""));
	CHECK(get_is(b, name, 7, CF_BACKEND_TO_END, ""));
	CHECK(get_is(b, name, 1000, 5, ""));
	CHECK_OK(cf_backend_stat(b, name, &size));
	CHECK(size == 7);
	/* A buffer too small for the object: refused, not overrun. */
	cf_buf_init(&o, 3);
	CHECK_ERR(cf_backend_get(b, name, 0, CF_BACKEND_TO_END, &o),
	    CF_ERR_NOMEM);
	CHECK(o.len == 0);
	cf_buf_free(&o);

	/* An empty object. */
	snprintf(other, sizeof(other), "index/%064x", 1u);
	CHECK_OK(cf_backend_put(b, other, "", 0));
	CHECK(get_is(b, other, 0, CF_BACKEND_TO_END, ""));
	CHECK(get_is(b, other, 0, 10, ""));
	CHECK_OK(cf_backend_stat(b, other, &size));
	CHECK(size == 0);

	/* Absent objects. */
	snprintf(other, sizeof(other), "snapshots/%064x", 2u);
	cf_buf_init(&o, 100);
	CHECK_ERR(cf_backend_get(b, other, 0, CF_BACKEND_TO_END, &o),
	    CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_get(b, other, 5, 5, &o), CF_ERR_NOTFOUND);
	cf_buf_free(&o);
	CHECK_ERR(cf_backend_stat(b, other, &size), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_del(b, other), CF_ERR_NOTFOUND);

	/* Deletion. */
	CHECK_OK(cf_backend_del(b, name));
	CHECK_ERR(cf_backend_stat(b, name, &size), CF_ERR_NOTFOUND);
	CHECK_ERR(cf_backend_del(b, name), CF_ERR_NOTFOUND);
	memset(&seen, 0, sizeof(seen));
	CHECK_OK(cf_backend_list(b, "locks", count_lock, &seen));
	CHECK(seen.calls == LIVE_LOCKS - 1 && seen.n[10] == 0);

	/* Multipart: 13 MiB in parts of 5 MiB. */
	if ((big = malloc(bigsz)) == NULL)
		abort();
	for (size_t i = 0; i < bigsz; i++)
		big[i] = (uint8_t)(i * 2654435761u >> 13);
	snprintf(other, sizeof(other), "data/ab/%064x", 3u);
	CHECK_OK(cf_backend_put(b, other, big, bigsz));
	CHECK_ERR(cf_backend_put(b, other, big, bigsz), CF_ERR_EXISTS);
	CHECK_OK(cf_backend_stat(b, other, &size));
	CHECK(size == bigsz);
	cf_buf_init(&o, bigsz);
	CHECK_OK(cf_backend_get(b, other, 0, CF_BACKEND_TO_END, &o));
	CHECK(o.len == bigsz && memcmp(o.p, big, bigsz) == 0);
	cf_buf_reset(&o);
	/* Across the boundary of parts 1 and 2. */
	CHECK_OK(cf_backend_get(b, other, 5242880 - 100, 200, &o));
	CHECK(o.len == 200 && memcmp(o.p, big + 5242880 - 100, 200) == 0);
	cf_buf_free(&o);
	free(big);

	cf_backend_close(b);

	/* Another prefix of the same bucket holds no repository. */
	p = strrchr(loc, '/');
	snprintf(other, sizeof(other), "%.*s/elsewhere", (int)(p - loc), loc);
	CHECK_ERR(cf_backend_s3_open(other, 0, NULL, &b2), CF_ERR_NOTFOUND);
	CHECK(strstr(cf_error_message(), "no repository") != NULL);

	/* A wrong secret is refused, and the message says so. */
	setenv("COFFRE_S3_SECRET_KEY", "not-the-secret", 1);
	CHECK_ERR(cf_backend_s3_open(loc, 0, NULL, &b2), CF_ERR_ACCESS);
	CHECK(strstr(cf_error_message(), "refused the credentials") != NULL);
	CHECK(strstr(cf_error_message(), "not-the-secret") == NULL);
	fprintf(stderr, "wrong secret: %s\n", cf_error_message());
}

int
main(void)
{
	const char *live = getenv("COFFRE_S3_TEST_LOCATION");
	char *loc = NULL, *id = NULL, *secret = NULL;

	/* The offline tests clear the environment: keep the live settings. */
	if (live != NULL && live[0] != '\0') {
		loc = strdup(live);
		id = strdup(getenv("COFFRE_S3_ACCESS_KEY") != NULL ?
		    getenv("COFFRE_S3_ACCESS_KEY") : "");
		secret = strdup(getenv("COFFRE_S3_SECRET_KEY") != NULL ?
		    getenv("COFFRE_S3_SECRET_KEY") : "");
		if (loc == NULL || id == NULL || secret == NULL)
			abort();
	}
	test_list_good();
	test_list_bad();
	test_list_truncations();
	test_error();
	test_multipart_replies();
	test_open_location();
	test_open_credentials();
	if (loc != NULL) {
		clear_env();
		setenv("COFFRE_S3_ACCESS_KEY", id, 1);
		setenv("COFFRE_S3_SECRET_KEY", secret, 1);
		test_live(loc);
		free(loc);
		free(id);
		free(secret);
	}
	return check_done("s3");
}
