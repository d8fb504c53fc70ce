/*
 * progress.c: one progress line on stderr, redrawn in place with "\r" and
 * erase-to-end-of-line, at most 4 times a second, cut to the terminal's
 * width so that it never wraps.  Shown only when stderr is a terminal and
 * neither --quiet nor --json was given; erased when the operation ends.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define REDRAW_NS (250 * 1000 * 1000LL)

struct progress {
	int enabled;
	int drawn;                      /* a line is on the screen */
	const char *verb;
	int64_t start, last;            /* monotonic nanoseconds */
	pthread_mutex_t mu;             /* warnings may come from workers */
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct progress *
progress_new(const struct cli *c, const char *verb)
{
	struct progress *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->enabled = !c->quiet && !c->json && isatty(STDERR_FILENO);
	p->verb = verb;
	p->start = now_ns();
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

int
progress_enabled(const struct progress *p)
{
	return p != NULL && p->enabled;
}

/* erase(p): remove the line, if shown. */
static void
erase(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->drawn = 0;
	}
}

/* fmt_duration(out, n, s): "0:42", "12:05", "3:02:10". */
static void
fmt_duration(char *out, size_t n, double s)
{
	uint64_t t = s > 0 ? (uint64_t)s : 0;

	if (t >= 3600)
		snprintf(out, n, "%" PRIu64 ":%02u:%02u", t / 3600,
		    (unsigned)(t / 60 % 60), (unsigned)(t % 60));
	else
		snprintf(out, n, "%u:%02u", (unsigned)(t / 60),
		    (unsigned)(t % 60));
}

/* term_width(): the width of the terminal on stderr, or 80. */
static size_t
term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* draw(p, cp, t): print the line for ${cp} at time ${t}. */
static void
draw(struct progress *p, const struct cf_progress *cp, int64_t t)
{
	char line[256], done[32], total[32], rate[32], eta[32];
	double secs = (double)(t - p->start) / 1e9, bps = 0;
	size_t len, width = term_width() - 1;
	int n;

	cli_human(done, sizeof(done), cp->bytes_done);
	if (cp->files_total > 0)
		n = snprintf(line, sizeof(line), "%s: %" PRIu64 "/%" PRIu64
		    " files", p->verb, cp->files_done, cp->files_total);
	else
		n = snprintf(line, sizeof(line), "%s: %" PRIu64 " files",
		    p->verb, cp->files_done);
	len = n > 0 ? (size_t)n : 0;
	if (cp->bytes_total > 0) {
		cli_human(total, sizeof(total), cp->bytes_total);
		n = snprintf(line + len, sizeof(line) - len, ", %s of %s",
		    done, total);
	} else {
		n = snprintf(line + len, sizeof(line) - len, ", %s", done);
	}
	len += n > 0 ? (size_t)n : 0;
	if (secs >= 1.0 && len < sizeof(line)) {
		bps = (double)cp->bytes_done / secs;
		cli_human(rate, sizeof(rate), (uint64_t)bps);
		n = snprintf(line + len, sizeof(line) - len, ", %s/s", rate);
		len += n > 0 ? (size_t)n : 0;
	}
	if (bps > 0 && cp->bytes_total > cp->bytes_done &&
	    len < sizeof(line)) {
		fmt_duration(eta, sizeof(eta),
		    (double)(cp->bytes_total - cp->bytes_done) / bps);
		n = snprintf(line + len, sizeof(line) - len, ", %s left", eta);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	if (len > width)
		len = width;
	line[len] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = 1;
	p->last = t;
}

void
progress_update(void *arg, const struct cf_progress *cp)
{
	struct progress *p = arg;
	int64_t t;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->enabled) {
		t = now_ns();
		if (!p->drawn || t - p->last >= REDRAW_NS)
			draw(p, cp, t);
	}
	pthread_mutex_unlock(&p->mu);
}

void
progress_warn(struct progress *p, const char *path, const char *msg)
{
	if (p != NULL) {
		pthread_mutex_lock(&p->mu);
		erase(p);
	}
	fputs("coffre: warning: ", stderr);
	if (path != NULL) {
		cli_print_escaped(stderr, path);
		fputs(": ", stderr);
	}
	cli_print_escaped(stderr, msg);
	fputc('\n', stderr);
	if (p != NULL)
		pthread_mutex_unlock(&p->mu);
}

void
progress_clear(struct progress *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	erase(p);
	pthread_mutex_unlock(&p->mu);
}

void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	erase(p);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
