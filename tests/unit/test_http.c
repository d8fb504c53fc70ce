/*
 * test_http.c: the HTTP client (lib/http.h) against a small scripted
 * HTTP/1.1 server on loopback (plain http, allowed by allow_http): retries
 * and the prepare hook, bounded bodies, captured headers, error bodies,
 * redirects not followed, stalls, dropped connections, streamed and large
 * bodies, ranges, several threads at once.  TLS and pins are exercised
 * against the real coffred by tests/integration/remote_backup.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "http.h"

static int port;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int hits_flaky, hits_drop;
static char seen_range[256];

/* ---- the server ---- */

static int
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
reply(int fd, const char *status, const char *headers, const void *body,
    size_t n)
{
	char head[2048];
	int r;

	r = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu"
	    "\r\n%s\r\n", status, n, headers);
	if (r < 0 || (size_t)r >= sizeof(head))
		abort();
	if (send_all(fd, head, (size_t)r) != 0)
		return -1;
	return n > 0 ? send_all(fd, body, n) : 0;
}

/* header(req, name, out, outsz): a request header's value, or "". */
static void
header(const char *req, const char *name, char *out, size_t outsz)
{
	const char *p = req;
	size_t nl = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(out, outsz, "%.*s", (int)(e - v), v);
			return;
		}
	}
}

static void *
conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static char big[10000];
	char *buf = malloc(1 << 16), *body = NULL;

	memset(big, 'x', sizeof(big));
	for (;;) {
		size_t have = 0, blen;
		char method[16], path[256], v[256], *end;

		/* Read the request head. */
		for (;;) {
			ssize_t r;

			buf[have] = '\0';
			if ((end = strstr(buf, "\r\n\r\n")) != NULL)
				break;
			if (have >= (1 << 16) - 1)
				goto out;
			r = recv(fd, buf + have, (1 << 16) - 1 - have, 0);
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		if (sscanf(buf, "%15s %255s", method, path) != 2)
			goto out;
		header(buf, "Content-Length", v, sizeof(v));
		blen = (size_t)strtoull(v, NULL, 10);
		header(buf, "Expect", v, sizeof(v));
		if (strcasecmp(v, "100-continue") == 0 &&
		    send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
			goto out;
		free(body);
		if ((body = malloc(blen + 1)) == NULL)
			goto out;
		{
			size_t got = have - (size_t)(end + 4 - buf);

			memcpy(body, end + 4, got < blen ? got : blen);
			while (got < blen) {
				ssize_t r = recv(fd, body + got, blen - got, 0);

				if (r <= 0)
					goto out;
				got += (size_t)r;
			}
		}

		if (strcmp(path, "/ok") == 0) {
			if (reply(fd, "200 OK", "Coffre-Next: keys/b\r\n",
			    "hello", 5) != 0)
				goto out;
		} else if (strcmp(path, "/flaky") == 0) {
			int h;

			pthread_mutex_lock(&mu);
			h = ++hits_flaky;
			pthread_mutex_unlock(&mu);
			header(buf, "X-Attempt", v, sizeof(v));
			if (h <= 2) {
				if (reply(fd, "503 Busy", "Retry-After: 0\r\n",
				    "busy", 4) != 0)
					goto out;
			} else if (reply(fd, "200 OK", "", v, strlen(v)) != 0)
				goto out;
		} else if (strcmp(path, "/always503") == 0) {
			if (reply(fd, "503 Busy", "", "{}", 2) != 0)
				goto out;
		} else if (strcmp(path, "/big") == 0) {
			if (reply(fd, "200 OK", "", big, sizeof(big)) != 0)
				goto out;
		} else if (strcmp(path, "/err") == 0) {
			const char *j = "{\"error\":\"forbidden\","
			    "\"message\":\"no\"}";

			if (reply(fd, "403 Forbidden", "", j, strlen(j)) != 0)
				goto out;
		} else if (strcmp(path, "/bigerr") == 0) {
			if (reply(fd, "404 Not Found", "", big,
			    sizeof(big)) != 0)
				goto out;
		} else if (strcmp(path, "/redir") == 0) {
			if (reply(fd, "302 Found", "Location: http://127.0.0.1:"
			    "1/ok\r\n", "", 0) != 0)
				goto out;
		} else if (strcmp(path, "/drop") == 0) {
			int h;

			pthread_mutex_lock(&mu);
			h = ++hits_drop;
			pthread_mutex_unlock(&mu);
			if (h == 1)
				goto out;
			if (reply(fd, "200 OK", "", "ok", 2) != 0)
				goto out;
		} else if (strcmp(path, "/echo") == 0) {
			header(buf, "Range", v, sizeof(v));
			pthread_mutex_lock(&mu);
			snprintf(seen_range, sizeof(seen_range), "%s", v);
			pthread_mutex_unlock(&mu);
			if (reply(fd, "200 OK", "", body, blen) != 0)
				goto out;
		} else if (strcmp(path, "/dup") == 0) {
			if (reply(fd, "200 OK", "Coffre-Next: a\r\n"
			    "coffre-next: b\r\n", "", 0) != 0)
				goto out;
		} else if (strcmp(path, "/ctl") == 0) {
			if (reply(fd, "200 OK", "Coffre-Next: a\x01z\r\n", "",
			    0) != 0)
				goto out;
		} else if (strcmp(path, "/long") == 0) {
			char h[700];

			memset(h, 'a', sizeof(h));
			memcpy(h, "Coffre-Next: ", 13);
			memcpy(h + 600, "\r\n", 3);
			if (reply(fd, "200 OK", h, "", 0) != 0)
				goto out;
		} else if (strcmp(path, "/stall") == 0) {
			const char *s = "HTTP/1.1 200 OK\r\nContent-Length: "
			    "100\r\n\r\nabc";

			send_all(fd, s, strlen(s));
			sleep(3);
			goto out;
		} else {
			if (reply(fd, "404 Not Found", "", "", 0) != 0)
				goto out;
		}
	}
out:
	free(body);
	free(buf);
	close(fd);
	return NULL;
}

static void *
server_main(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pthread_create(&t, NULL, conn_main,
		    (void *)(intptr_t)fd) != 0) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}

static void
server_start(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);
	pthread_t t;
	int lfd;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, 64) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
		perror("test server");
		exit(1);
	}
	port = ntohs(a.sin_port);
	if (pthread_create(&t, NULL, server_main, (void *)(intptr_t)lfd) != 0)
		exit(1);
	pthread_detach(t);
}

/* ---- the client ---- */

static void
url(char *out, size_t n, const char *path)
{
	snprintf(out, n, "http://127.0.0.1:%d%s", port, path);
}

static struct cf_http *
client(unsigned attempts)
{
	struct cf_http_opts o = { 0 };
	struct cf_http *h = NULL;

	o.allow_http = 1;
	o.max_attempts = attempts;
	o.backoff_ms = 5;
	o.backoff_max_ms = 20;
	o.low_speed_time_s = 1;
	o.low_speed_bytes = 64;
	CHECK_OK(cf_http_new(&o, &h));
	return h;
}

struct counter {
	int n;
	int bad;        /* add a header with a newline */
};

static cf_status
prepare(void *arg, struct cf_http_hdrs *hd)
{
	struct counter *c = arg;
	char v[16];

	snprintf(v, sizeof(v), "%d", ++c->n);
	if (c->bad)
		return cf_http_hdrs_add(hd, "X-Evil", "a\r\nHost: x");
	return cf_http_hdrs_add(hd, "X-Attempt", v);
}

static cf_status
get(struct cf_http *h, const char *path, struct cf_buf *out,
    struct cf_http_capture *cap, size_t ncap, struct cf_http_resp *resp)
{
	struct cf_http_req r = { 0 };
	char u[128];

	url(u, sizeof(u), path);
	r.method = "GET";
	r.url = u;
	r.out = out;
	r.capture = cap;
	r.ncapture = ncap;
	return cf_http_do(h, &r, resp);
}

static void
test_basic(void)
{
	struct cf_http *h = client(3);
	struct cf_http_capture cap = { .name = "coffre-next" };
	struct cf_http_resp resp;
	struct cf_buf b;

	cf_buf_init(&b, 1 << 20);
	CHECK_OK(get(h, "/ok", &b, &cap, 1, &resp));
	CHECK(resp.status == 200 && resp.attempts == 1);
	CHECK(b.len == 5 && memcmp(b.p, "hello", 5) == 0);
	CHECK(cap.found && strcmp(cap.value, "keys/b") == 0);
	CHECK(resp.content_length == 5);
	/* Appends. */
	CHECK_OK(get(h, "/ok", &b, NULL, 0, &resp));
	CHECK(b.len == 10);

	/* Not found: a status, not an error; nothing appended. */
	cf_buf_reset(&b);
	CHECK_OK(get(h, "/nothing", &b, &cap, 1, &resp));
	CHECK(resp.status == 404 && b.len == 0 && !cap.found);

	/* An error body is kept apart, bounded. */
	CHECK_OK(get(h, "/err", &b, NULL, 0, &resp));
	CHECK(resp.status == 403 && b.len == 0);
	CHECK(resp.errbody_len == 36 &&
	    memcmp(resp.errbody, "{\"error\"", 8) == 0);
	CHECK_OK(get(h, "/bigerr", &b, NULL, 0, &resp));
	CHECK(resp.status == 404 && b.len == 0 &&
	    resp.errbody_len == CF_HTTP_ERRBODY_MAX);

	/* Redirects are returned, never followed. */
	CHECK_OK(get(h, "/redir", &b, NULL, 0, &resp));
	CHECK(resp.status == 302 && resp.attempts == 1);

	/* A reply larger than the buffer's max: an error, buffer intact. */
	cf_buf_free(&b);
	cf_buf_init(&b, 100);
	CHECK_OK(cf_buf_append(&b, "ab", 2));
	CHECK_ERR(get(h, "/big", &b, NULL, 0, &resp), CF_ERR_CORRUPT);
	CHECK(b.len == 2);
	CHECK(strstr(cf_error_message(), "larger than expected") != NULL);
	/* No body expected (out NULL): any body is an error. */
	CHECK_ERR(get(h, "/ok", NULL, NULL, 0, &resp), CF_ERR_CORRUPT);

	/* Bad captured headers. */
	CHECK_ERR(get(h, "/dup", &b, &cap, 1, &resp), CF_ERR_CORRUPT);
	CHECK_ERR(get(h, "/ctl", &b, &cap, 1, &resp), CF_ERR_CORRUPT);
	CHECK_ERR(get(h, "/long", &b, &cap, 1, &resp), CF_ERR_CORRUPT);
	/* ... but uncaptured ones are not our business. */
	CHECK_OK(get(h, "/dup", &b, NULL, 0, &resp));
	CHECK(resp.status == 200);
	cf_buf_free(&b);
	cf_http_free(h);
}

static void
test_retries(void)
{
	struct cf_http *h = client(5);
	struct counter cnt = { 0, 0 };
	struct cf_http_req r = { 0 };
	struct cf_http_resp resp;
	struct cf_buf b;
	char u[128];

	cf_buf_init(&b, 1 << 20);
	url(u, sizeof(u), "/flaky");
	r.method = "GET";
	r.url = u;
	r.out = &b;
	r.prepare = prepare;
	r.prepare_arg = &cnt;
	CHECK_OK(cf_http_do(h, &r, &resp));
	/* Two 503s, then the third attempt, with the third header. */
	CHECK(resp.status == 200 && resp.attempts == 3 && cnt.n == 3);
	CHECK(b.len == 1 && b.p[0] == '3');
	CHECK(!resp.maybe_applied);

	/* A status that lasts: returned as it is after every attempt. */
	cf_buf_reset(&b);
	cf_http_free(h);
	h = client(3);
	CHECK_OK(get(h, "/always503", &b, NULL, 0, &resp));
	CHECK(resp.status == 503 && resp.attempts == 3 && b.len == 0);

	/*
	 * A dropped connection is retried; it may have been applied.  (On a
	 * fresh client: curl itself silently retries once on a reused
	 * connection found dead.)
	 */
	cf_http_free(h);
	h = client(3);
	CHECK_OK(get(h, "/drop", &b, NULL, 0, &resp));
	CHECK(resp.status == 200 && resp.attempts == 2 && resp.maybe_applied);

	/* A stalled reply is cut by the low-speed limit, then retried. */
	cf_http_free(h);
	h = client(2);
	CHECK_ERR(get(h, "/stall", &b, NULL, 0, &resp), CF_ERR_IO);
	CHECK(resp.attempts == 2);
	CHECK(b.len == 2);      /* "ok" from before, nothing of the stall */

	/* A prepare hook's failure ends the request. */
	cnt.bad = 1;
	cnt.n = 0;
	url(u, sizeof(u), "/ok");
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_INVALID);
	CHECK(cnt.n == 1);

	/* Nobody listening: an I/O error after the attempts, naming the host. */
	cf_http_free(h);
	h = client(2);
	r.prepare = NULL;
	snprintf(u, sizeof(u), "http://127.0.0.1:1/x");
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_IO);
	CHECK(resp.attempts == 2);
	CHECK(strstr(cf_error_message(), "127.0.0.1:1") != NULL);
	cf_buf_free(&b);
	cf_http_free(h);
}

static cf_status
stream(void *arg, uint64_t off, void *buf, size_t n, size_t *got)
{
	const uint8_t *src = arg;

	/* Small pieces, to make curl come back often. */
	if (n > 1000)
		n = 1000;
	memcpy(buf, src + off, n);
	*got = n;
	return CF_OK;
}

static void
test_bodies(void)
{
	struct cf_http *h = client(2);
	struct cf_http_req r = { 0 };
	struct cf_http_resp resp;
	size_t n = 3 * 1024 * 1024 + 11;
	uint8_t *data = malloc(n);
	struct cf_buf b;
	char u[128];

	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 13));
	cf_buf_init(&b, n);
	url(u, sizeof(u), "/echo");
	r.method = "PUT";
	r.url = u;
	r.body = data;
	r.body_len = n;
	r.out = &b;
	CHECK_OK(cf_http_do(h, &r, &resp));
	CHECK(resp.status == 200 && b.len == n &&
	    memcmp(b.p, data, n) == 0);

	cf_buf_reset(&b);
	r.method = "POST";
	r.body = NULL;
	r.body_read = stream;
	r.body_arg = data;
	r.body_len = 100000;
	CHECK_OK(cf_http_do(h, &r, &resp));
	CHECK(resp.status == 200 && b.len == 100000 &&
	    memcmp(b.p, data, 100000) == 0);

	/* An empty PUT. */
	cf_buf_reset(&b);
	r.method = "PUT";
	r.body_read = NULL;
	r.body_len = 0;
	CHECK_OK(cf_http_do(h, &r, &resp));
	CHECK(resp.status == 200 && b.len == 0);

	/* Ranges. */
	r.method = "GET";
	r.has_range = 1;
	r.range_off = 5;
	r.range_len = 10;
	CHECK_OK(cf_http_do(h, &r, &resp));
	CHECK(strcmp(seen_range, "bytes=5-14") == 0);
	r.range_len = CF_HTTP_TO_END;
	CHECK_OK(cf_http_do(h, &r, &resp));
	CHECK(strcmp(seen_range, "bytes=5-") == 0);
	r.range_len = 0;
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_INVALID);
	r.range_off = UINT64_MAX - 1;
	r.range_len = 5;
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_INVALID);
	r.has_range = 0;

	/* Methods and URLs outside the policy. */
	r.method = "TRACE";
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_INVALID);
	r.method = "GET";
	r.url = "ftp://127.0.0.1/x";
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_INVALID);
	cf_http_free(h);

	/* Plain http is refused unless allowed. */
	CHECK_OK(cf_http_new(NULL, &h));
	r.url = u;
	CHECK_ERR(cf_http_do(h, &r, &resp), CF_ERR_INVALID);
	cf_http_free(h);

	cf_buf_free(&b);
	free(data);
}

struct worker {
	struct cf_http *h;
	int fails;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct cf_http_resp resp;
	struct cf_buf b;

	cf_buf_init(&b, 64);
	for (int i = 0; i < 25; i++) {
		cf_buf_reset(&b);
		if (get(w->h, "/ok", &b, NULL, 0, &resp) != CF_OK ||
		    resp.status != 200 || b.len != 5)
			w->fails++;
	}
	cf_buf_free(&b);
	return NULL;
}

static void
test_threads(void)
{
	struct cf_http *h = client(3);
	struct worker w[8];
	pthread_t t[8];

	/* Environment proxies are ignored. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	for (int i = 0; i < 8; i++) {
		w[i].h = h;
		w[i].fails = 0;
		CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].fails == 0);
	}
	unsetenv("http_proxy");
	unsetenv("ALL_PROXY");
	cf_http_free(h);
}

static void
test_helpers(void)
{
	struct cf_http_opts o = { 0 };
	struct cf_http *h;
	char out[16];

	CHECK(strcmp(cf_http_text(out, sizeof(out), "ab\x1b[2J\\", 7),
	    "ab\\x1b[2J\\\\") == 0);
	CHECK(strcmp(cf_http_text(out, sizeof(out), "0123456789abcdefghij",
	    20), "0123456789ab...") == 0);
	CHECK(strcmp(cf_http_text(out, sizeof(out), "0123456789abcde", 15),
	    "0123456789abcde") == 0);
	CHECK(strcmp(cf_http_text(out, sizeof(out), "\x01\x02\x03\x04", 4),
	    "\\x01\\x02\\x03...") == 0);
	CHECK(strcmp(cf_http_text(out, 4, "abcdef", 6), "...") == 0);
	CHECK(strcmp(cf_http_text(out, sizeof(out), "", 0), "") == 0);

	CHECK_OK(cf_http_uri_encode(out, sizeof(out), "a b/c~", 1));
	CHECK(strcmp(out, "a%20b/c~") == 0);
	CHECK_OK(cf_http_uri_encode(out, sizeof(out), "a/=+", 0));
	CHECK(strcmp(out, "a%2F%3D%2B") == 0);
	CHECK_ERR(cf_http_uri_encode(out, 4, "abcd", 0), CF_ERR_INVALID);
	CHECK_OK(cf_http_uri_encode(out, 4, "abc", 0));
	CHECK_ERR(cf_http_uri_encode(out, 4, "ab ", 0), CF_ERR_INVALID);

	o.pin = "md5//x";
	CHECK_ERR(cf_http_new(&o, &h), CF_ERR_INVALID);
	o.pin = NULL;
	o.max_attempts = 21;
	CHECK_ERR(cf_http_new(&o, &h), CF_ERR_INVALID);
	o.max_attempts = 0;
	o.user = "AKIA";
	CHECK_ERR(cf_http_new(&o, &h), CF_ERR_INVALID);
	o.password = "s3cr3t";
	o.aws_sigv4 = "aws:amz:us-east-1:s3";
	CHECK_OK(cf_http_new(&o, &h));
	cf_http_free(h);
	cf_http_free(NULL);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	server_start();
	test_helpers();
	test_basic();
	test_retries();
	test_bodies();
	test_threads();
	return check_done("http");
}
