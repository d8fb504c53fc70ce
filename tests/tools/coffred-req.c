/*
 * coffred-req: send coffred requests for the integration tests, signed
 * exactly as docs/protocol.md says, with knobs to break each part of a
 * request, and a bounded load generator.
 *
 *   coffred-req keygen FILE           a test identity (passphrase "test",
 *                                     cheapest KDF); prints its public id
 *   coffred-req pubid FILE            prints the public id of FILE
 *   coffred-req name KIND FILE        the content name of FILE's bytes
 *                                     (KIND: data, index, snapshots, locks)
 *   coffred-req [OPTIONS] METHOD TARGET
 *       Sends one request to --url with the request target TARGET exactly
 *       as given (no normalisation).  Prints "STATUS <code>" per request
 *       (and "NAME <name>" with --content-name) on stdout; exit 0 if a
 *       response came, 1 if not.
 *   coffred-req load [OPTIONS] --tenant T
 *       --clients N threads, each PUTting --count objects of --size random
 *       bytes (content-named data/ objects) then GETting and checking them
 *       all, for at most --seconds; prints one line of totals.
 *
 * OPTIONS: --url URL --pin PIN --id FILE --body FILE --gen-body N
 *   --seed S --content-name --out FILE --headers-out FILE --time-offset N
 *   --nonce HEX --corrupt-sig --omit NAME (Key, Time, Nonce, Body,
 *   Signature; repeatable) --body-hash HEX --range R --header "K: V"
 *   (repeatable) --pad-header N --repeat N --chunked --sign-target T
 *
 * Test identity seeds live in guarded memory (cf_identity) and are wiped
 * on exit; this tool is for tests only.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "backend.h"
#include "bytes.h"
#include "crypto.h"
#include "identity.h"
#include "reqsig.h"

#define PASS "test"
#define MAX_EXTRA 8

struct opts {
	const char *url, *pin, *idfile, *body_file, *out, *headers_out;
	const char *nonce_hex, *body_hash_hex, *range, *sign_target;
	const char *tenant;
	const char *extra[MAX_EXTRA];
	int nextra;
	uint64_t gen_body, seed;
	int gen;
	long long time_offset;
	int corrupt_sig, chunked, content_name;
	unsigned omit;          /* bit per header */
	size_t pad;
	int repeat;
	unsigned clients, count, seconds;
	size_t size;
};

static struct cf_identity *identity;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
    noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "coffred-req: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	cf_identity_free(identity);
	exit(2);
}

/* ------------------------------------------------------------- bodies */

/* A body: bytes in memory, or generated (ChaCha20 keystream of a seed). */
struct body {
	uint8_t *p;
	size_t len;
	int gen;
	uint8_t key[32];
	size_t off;             /* read position */
};

static void
gen_block(const struct body *b, uint64_t block, uint8_t out[64])
{
	uint8_t nonce[8];

	cf_put_u64(nonce, block);
	memset(out, 0, 64);
	crypto_stream_chacha20_xor(out, out, 64, nonce, b->key);
}

static size_t
body_read(struct body *b, uint8_t *dst, size_t n)
{
	size_t left = b->len - b->off;

	if (n > left)
		n = left;
	if (!b->gen) {
		memcpy(dst, b->p + b->off, n);
	} else {
		for (size_t i = 0; i < n;) {
			uint8_t blk[64];
			uint64_t pos = b->off + i;
			size_t in = (size_t)(pos % 64), k = 64 - in;
			gen_block(b, pos / 64, blk);
			if (k > n - i)
				k = n - i;
			memcpy(dst + i, blk + in, k);
			i += k;
		}
	}
	b->off += n;
	return n;
}

static void
body_hash(struct body *b, uint8_t out[CF_HASH_BYTES])
{
	struct cf_name_hasher st;
	uint8_t buf[65536];
	size_t n;

	b->off = 0;
	cf_name_hash_init(&st);
	while ((n = body_read(b, buf, sizeof(buf))) > 0)
		cf_name_hash_update(&st, buf, n);
	cf_name_hash_final(&st, out);
	b->off = 0;
}

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	return body_read(arg, (uint8_t *)dst, size * nmemb);
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		die("cannot open %s", path);
	for (;;) {
		size_t r;
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((p = realloc(p, cap)) == NULL)
				die("out of memory");
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	*len = n;
	return p;
}

/* kind/.. content name of a hash. */
static void
content_name(const char *kind, const uint8_t h[CF_HASH_BYTES], char *out,
    size_t size)
{
	char hex[2 * CF_HASH_BYTES + 1];

	cf_hex_encode(hex, h, CF_HASH_BYTES);
	if (strcmp(kind, "data") == 0)
		snprintf(out, size, "data/%.2s/%s", hex, hex);
	else
		snprintf(out, size, "%s/%s", kind, hex);
}

/* ------------------------------------------------------------ requests */

struct sink {
	FILE *f;
	struct cf_name_hasher hash;
	uint64_t bytes;
};

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->f != NULL && fwrite(p, 1, n, s->f) != n)
		return 0;
	cf_name_hash_update(&s->hash, (const uint8_t *)p, n);
	s->bytes += n;
	return n;
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	FILE *f = arg;
	size_t n = size * nmemb;

	if (f != NULL)
		fwrite(p, 1, n, f);
	return n;
}

static void
setup_tls(CURL *h, const struct opts *o)
{
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	if (o->pin != NULL)
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, o->pin);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
}

/*
 * one_request(h, o, method, target, b, sink, status): sign and send; the
 * HTTP status in ${status} (0: no response).  ${target} is sent as is.
 */
static int
one_request(CURL *h, const struct opts *o, const char *method,
    const char *target, struct body *b, struct sink *sink, long *status,
    const struct cf_reqsig_headers *fixed, struct cf_reqsig_headers *used)
{
	struct cf_reqsig_headers hd;
	struct curl_slist *hl = NULL;
	char line[4096], path[CF_REQSIG_PATH_MAX + 64], *q;
	const char *sign = o->sign_target != NULL ? o->sign_target : target;
	uint8_t bh[CF_HASH_BYTES];
	char url[1024];
	CURLcode cr;

	*status = 0;
	if (fixed != NULL) {
		hd = *fixed;
	} else {
		uint8_t nonce[CF_REQSIG_NONCE_BYTES];
		int64_t t = (int64_t)time(NULL) + o->time_offset;

		if (b != NULL)
			body_hash(b, bh);
		else
			cf_name_hash(bh, "", 0);
		if (o->body_hash_hex != NULL &&
		    cf_hex_decode(bh, sizeof(bh), o->body_hash_hex) != CF_OK)
			die("--body-hash: 64 hex digits");
		if (o->nonce_hex != NULL) {
			if (cf_hex_decode(nonce, sizeof(nonce), o->nonce_hex)
			    != CF_OK)
				die("--nonce: 32 hex digits");
		} else {
			cf_random(nonce, sizeof(nonce));
		}
		snprintf(path, sizeof(path), "%s", sign);
		q = strchr(path, '?');
		if (q != NULL)
			*q++ = '\0';
		if (cf_reqsig_sign_nonce(identity, method, path, q, bh,
		    t < 0 ? 0 : (uint64_t)t, nonce, &hd) != CF_OK) {
			/* Unsignable (a target the protocol refuses): send
			 * well-formed but meaningless values. */
			struct cf_reqsig z;
			memset(&z, 0, sizeof(z));
			memcpy(z.key, cf_identity_public(identity), 32);
			z.time = (uint64_t)t;
			memcpy(z.nonce, nonce, sizeof(z.nonce));
			memcpy(z.body, bh, sizeof(z.body));
			cf_reqsig_format(&z, &hd);
		}
		if (o->corrupt_sig)
			hd.signature[10] = hd.signature[10] == '0' ? '1' : '0';
	}
	if (used != NULL)
		*used = hd;

#define ADD(name, bit, val) do { if (!(o->omit & (bit))) { \
	snprintf(line, sizeof(line), "%s: %s", name, val); \
	hl = curl_slist_append(hl, line); } } while (0)
	ADD(CF_REQSIG_H_KEY, 1u, hd.key);
	ADD(CF_REQSIG_H_TIME, 2u, hd.time);
	ADD(CF_REQSIG_H_NONCE, 4u, hd.nonce);
	ADD(CF_REQSIG_H_BODY, 8u, hd.body);
	ADD(CF_REQSIG_H_SIGNATURE, 16u, hd.signature);
#undef ADD
	for (int i = 0; i < o->nextra; i++)
		hl = curl_slist_append(hl, o->extra[i]);
	if (o->pad > 0) {
		char *pad = malloc(o->pad + 8);
		if (pad == NULL)
			die("out of memory");
		memcpy(pad, "X-Pad: ", 7);
		memset(pad + 7, 'a', o->pad);
		pad[7 + o->pad] = '\0';
		hl = curl_slist_append(hl, pad);
		free(pad);
	}
	if (o->range != NULL) {
		snprintf(line, sizeof(line), "Range: %s", o->range);
		hl = curl_slist_append(hl, line);
	}
	if (o->chunked)
		hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
	hl = curl_slist_append(hl, "Accept:");

	snprintf(url, sizeof(url), "%s/", o->url);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_REQUEST_TARGET, target);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ?
	    1L : 0L);
	if (b != NULL) {
		b->off = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, b);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, o->chunked ?
		    (curl_off_t)-1 : (curl_off_t)b->len);
	} else {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 0L);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	cr = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hl);
	if (cr != CURLE_OK && *status == 0) {
		fprintf(stderr, "coffred-req: %s\n", curl_easy_strerror(cr));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- load */

struct load {
	const struct opts *o;
	unsigned id;
	uint64_t requests, errors, bytes;
	double deadline;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
load_client(void *arg)
{
	struct load *l = arg;
	const struct opts *o = l->o;
	char (*names)[CF_OBJECT_NAME_MAX + 1];
	char target[256];
	struct body b;
	unsigned done = 0;
	CURL *h = curl_easy_init();

	names = calloc(o->count, sizeof(*names));
	memset(&b, 0, sizeof(b));
	b.len = o->size;
	if ((b.p = malloc(o->size)) == NULL || names == NULL || h == NULL) {
		l->errors++;
		goto out;
	}
	setup_tls(h, o);
	for (unsigned i = 0; i < o->count && now_s() < l->deadline; i++) {
		struct sink s = { .f = NULL };
		uint8_t hh[CF_HASH_BYTES];
		long status;

		cf_random(b.p, b.len);
		cf_name_hash(hh, b.p, b.len);
		content_name("data", hh, names[i], sizeof(names[i]));
		snprintf(target, sizeof(target), "/v1/%s/o/%s", o->tenant,
		    names[i]);
		cf_name_hash_init(&s.hash);
		l->requests++;
		if (one_request(h, o, "PUT", target, &b, &s, &status, NULL,
		    NULL) != 0 || status != 201) {
			fprintf(stderr, "client %u: PUT %u: status %ld\n",
			    l->id, i, status);
			l->errors++;
			continue;
		}
		l->bytes += b.len;
		done = i + 1;
	}
	for (unsigned i = 0; i < done && now_s() < l->deadline; i++) {
		struct sink s = { .f = NULL };
		uint8_t hh[CF_HASH_BYTES];
		char hex[2 * CF_HASH_BYTES + 1];
		long status;

		if (names[i][0] == '\0')
			continue;
		snprintf(target, sizeof(target), "/v1/%s/o/%s", o->tenant,
		    names[i]);
		cf_name_hash_init(&s.hash);
		l->requests++;
		if (one_request(h, o, "GET", target, NULL, &s, &status, NULL,
		    NULL) != 0 || status != 200) {
			fprintf(stderr, "client %u: GET %u: status %ld\n",
			    l->id, i, status);
			l->errors++;
			continue;
		}
		cf_name_hash_final(&s.hash, hh);
		cf_hex_encode(hex, hh, CF_HASH_BYTES);
		if (strcmp(hex, names[i] + 8) != 0) {
			fprintf(stderr, "client %u: GET %u: wrong bytes\n",
			    l->id, i);
			l->errors++;
		}
		l->bytes += s.bytes;
	}
out:
	free(names);
	free(b.p);
	if (h != NULL)
		curl_easy_cleanup(h);
	return NULL;
}

static int
run_load(const struct opts *o)
{
	pthread_t th[64];
	struct load ls[64];
	uint64_t req = 0, err = 0, bytes = 0;
	double t0 = now_s(), dt;

	if (o->tenant == NULL || o->clients == 0 || o->clients > 64 ||
	    o->count == 0 || o->size == 0)
		die("load needs --tenant, --clients 1..64, --count, --size");
	for (unsigned i = 0; i < o->clients; i++) {
		memset(&ls[i], 0, sizeof(ls[i]));
		ls[i].o = o;
		ls[i].id = i;
		ls[i].deadline = t0 + o->seconds;
		pthread_create(&th[i], NULL, load_client, &ls[i]);
	}
	for (unsigned i = 0; i < o->clients; i++) {
		pthread_join(th[i], NULL);
		req += ls[i].requests;
		err += ls[i].errors;
		bytes += ls[i].bytes;
	}
	dt = now_s() - t0;
	printf("requests %" PRIu64 " errors %" PRIu64 " seconds %.2f "
	    "req_per_s %.1f mb_per_s %.1f\n", req, err, dt, (double)req / dt,
	    (double)bytes / dt / 1e6);
	return err == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static unsigned
omit_bit(const char *s)
{
	static const char *const names[] = {
		"Key", "Time", "Nonce", "Body", "Signature",
	};
	for (unsigned i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return 1u << i;
	die("--omit: Key, Time, Nonce, Body or Signature, not %s", s);
}

static unsigned long long
num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '\0')
		die("not a number: %s", s);
	return v;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *pos[4];
	int npos = 0, rc = 0;

	memset(&o, 0, sizeof(o));
	o.repeat = 1;
	o.clients = 8;
	o.seconds = 20;
	if (cf_crypto_init() != CF_OK)
		die("%s", cf_error_message());
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() do { if (v == NULL) die("%s needs a value", a); i++; } while (0)
		if (strcmp(a, "--url") == 0) { VAL(); o.url = v; }
		else if (strcmp(a, "--pin") == 0) { VAL(); o.pin = v; }
		else if (strcmp(a, "--id") == 0) { VAL(); o.idfile = v; }
		else if (strcmp(a, "--body") == 0) { VAL(); o.body_file = v; }
		else if (strcmp(a, "--gen-body") == 0) {
			VAL(); o.gen_body = num(v); o.gen = 1;
		}
		else if (strcmp(a, "--seed") == 0) { VAL(); o.seed = num(v); }
		else if (strcmp(a, "--content-name") == 0) o.content_name = 1;
		else if (strcmp(a, "--out") == 0) { VAL(); o.out = v; }
		else if (strcmp(a, "--headers-out") == 0) {
			VAL(); o.headers_out = v;
		}
		else if (strcmp(a, "--time-offset") == 0) {
			VAL(); o.time_offset = strtoll(v, NULL, 10);
		}
		else if (strcmp(a, "--nonce") == 0) { VAL(); o.nonce_hex = v; }
		else if (strcmp(a, "--corrupt-sig") == 0) o.corrupt_sig = 1;
		else if (strcmp(a, "--omit") == 0) { VAL(); o.omit |= omit_bit(v); }
		else if (strcmp(a, "--body-hash") == 0) {
			VAL(); o.body_hash_hex = v;
		}
		else if (strcmp(a, "--range") == 0) { VAL(); o.range = v; }
		else if (strcmp(a, "--header") == 0) {
			VAL();
			if (o.nextra >= MAX_EXTRA)
				die("too many --header");
			o.extra[o.nextra++] = v;
		}
		else if (strcmp(a, "--pad-header") == 0) {
			VAL(); o.pad = (size_t)num(v);
		}
		else if (strcmp(a, "--repeat") == 0) {
			VAL(); o.repeat = (int)num(v);
		}
		else if (strcmp(a, "--chunked") == 0) o.chunked = 1;
		else if (strcmp(a, "--sign-target") == 0) {
			VAL(); o.sign_target = v;
		}
		else if (strcmp(a, "--tenant") == 0) { VAL(); o.tenant = v; }
		else if (strcmp(a, "--clients") == 0) {
			VAL(); o.clients = (unsigned)num(v);
		}
		else if (strcmp(a, "--count") == 0) {
			VAL(); o.count = (unsigned)num(v);
		}
		else if (strcmp(a, "--size") == 0) {
			VAL(); o.size = (size_t)num(v);
		}
		else if (strcmp(a, "--seconds") == 0) {
			VAL(); o.seconds = (unsigned)num(v);
		}
		else if (a[0] == '-' && a[1] == '-')
			die("unknown option %s", a);
		else if (npos < 4)
			pos[npos++] = a;
		else
			die("too many arguments");
#undef VAL
	}
	if (npos == 0)
		die("usage: see the comment at the top of coffred-req.c");

	if (strcmp(pos[0], "keygen") == 0 && npos == 2) {
		char pubid[CF_PUBID_LEN + 1];
		if (cf_identity_generate("test", &identity) != CF_OK ||
		    cf_identity_save(identity, pos[1], PASS, strlen(PASS), 1,
		    8192) != CF_OK)
			die("%s", cf_error_message());
		cf_pubid_encode(cf_identity_public(identity), pubid);
		printf("%s\n", pubid);
		cf_identity_free(identity);
		return 0;
	}
	if (strcmp(pos[0], "pubid") == 0 && npos == 2) {
		char pubid[CF_PUBID_LEN + 1];
		if (cf_identity_load(pos[1], PASS, strlen(PASS), &identity) !=
		    CF_OK)
			die("%s", cf_error_message());
		cf_pubid_encode(cf_identity_public(identity), pubid);
		printf("%s\n", pubid);
		cf_identity_free(identity);
		return 0;
	}
	if (strcmp(pos[0], "name") == 0 && npos == 3) {
		uint8_t h[CF_HASH_BYTES];
		char name[CF_OBJECT_NAME_MAX + 1];
		size_t len;
		uint8_t *p = slurp(pos[2], &len);
		cf_name_hash(h, p, len);
		free(p);
		content_name(pos[1], h, name, sizeof(name));
		printf("%s\n", name);
		return 0;
	}

	if (o.url == NULL || o.idfile == NULL)
		die("--url and --id are needed");
	if (cf_identity_load(o.idfile, PASS, strlen(PASS), &identity) != CF_OK)
		die("%s", cf_error_message());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(pos[0], "load") == 0) {
		rc = run_load(&o);
	} else if (npos == 2) {
		struct body b, *bp = NULL;
		struct cf_reqsig_headers first;
		char target[2048];
		FILE *out = NULL, *hout = NULL;
		CURL *h = curl_easy_init();

		memset(&b, 0, sizeof(b));
		if (o.body_file != NULL) {
			b.p = slurp(o.body_file, &b.len);
			bp = &b;
		} else if (o.gen) {
			uint8_t seed[8];
			b.gen = 1;
			b.len = (size_t)o.gen_body;
			cf_put_u64(seed, o.seed);
			cf_hash(b.key, seed, sizeof(seed));
			bp = &b;
		}
		snprintf(target, sizeof(target), "%s", pos[1]);
		if (o.content_name) {
			uint8_t hh[CF_HASH_BYTES];
			char *slash = strrchr(target, '/');
			char name[CF_OBJECT_NAME_MAX + 1];
			if (bp == NULL || slash == NULL)
				die("--content-name needs a body and a target "
				    "ending in /KIND");
			body_hash(bp, hh);
			content_name(slash + 1, hh, name, sizeof(name));
			snprintf(slash + 1, sizeof(target) -
			    (size_t)(slash + 1 - target), "%s", name);
			printf("NAME %s\n", name);
		}
		if (o.out != NULL && (out = fopen(o.out, "wb")) == NULL)
			die("cannot create %s", o.out);
		if (o.headers_out != NULL &&
		    (hout = fopen(o.headers_out, "wb")) == NULL)
			die("cannot create %s", o.headers_out);
		setup_tls(h, &o);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, hout);
		for (int i = 0; i < o.repeat; i++) {
			struct sink s = { .f = out };
			long status;
			cf_name_hash_init(&s.hash);
			if (one_request(h, &o, pos[0], target, bp, &s, &status,
			    i > 0 ? &first : NULL, i == 0 ? &first : NULL) !=
			    0)
				rc = 1;
			printf("STATUS %ld\n", status);
			fflush(stdout);
		}
		if (out != NULL)
			fclose(out);
		if (hout != NULL)
			fclose(hout);
		free(b.p);
		curl_easy_cleanup(h);
	} else {
		die("usage: see the comment at the top of coffred-req.c");
	}
	curl_global_cleanup();
	cf_identity_free(identity);
	return rc;
}
