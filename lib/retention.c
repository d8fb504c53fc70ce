/*
 * retention.c: which snapshots a keep policy keeps (see cf_retention_apply
 * in repo.h).  Pure: it looks only at the snapshots' times.
 *
 * Restic's rule: walking from the newest snapshot to the oldest, keep-last
 * N keeps the first N; each time rule (hourly ... yearly) with N > 0 keeps
 * a snapshot when its time bucket differs from that of the last snapshot
 * this rule kept, until the rule has kept N.  So keep-daily 7 keeps the
 * newest snapshot of each of the 7 most recent days that have one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repo.h"

enum { RULE_HOURLY, RULE_DAILY, RULE_WEEKLY, RULE_MONTHLY, RULE_YEARLY,
    RULE_COUNT };

/* iso_weeks(y): 52 or 53, the number of ISO 8601 weeks in year ${y}. */
static int
iso_weeks(int64_t y)
{
	/* p(y) is the weekday (0 = Sunday) of 31 December of year y. */
#define P(y) ((((y) + (y) / 4 - (y) / 100 + (y) / 400) % 7 + 7) % 7)
	return (P(y) == 4 || P(y - 1) == 3) ? 53 : 52;
#undef P
}

/*
 * buckets(t, b): the hour, day, ISO week, month and year that Unix time
 * ${t} falls in, in local time, each as one number.
 */
static void
buckets(int64_t t, int64_t b[RULE_COUNT])
{
	time_t tt = (time_t)t;
	struct tm tm;
	int64_t year, wyear;
	int wday, week;

	memset(&tm, 0, sizeof(tm));
	/* A time localtime cannot represent lands in year 1900's buckets. */
	if ((int64_t)tt != t || localtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	year = (int64_t)tm.tm_year + 1900;

	/* ISO week: weeks start on Monday; week 1 holds the first Thursday. */
	wday = (tm.tm_wday + 6) % 7;                    /* Monday = 0 */
	week = (tm.tm_yday - wday + 10) / 7;
	wyear = year;
	if (week < 1) {
		wyear = year - 1;
		week = iso_weeks(wyear);
	} else if (week > iso_weeks(year)) {
		wyear = year + 1;
		week = 1;
	}

	b[RULE_HOURLY] = (year * 1000 + tm.tm_yday) * 100 + tm.tm_hour;
	b[RULE_DAILY] = year * 1000 + tm.tm_yday;
	b[RULE_WEEKLY] = wyear * 100 + week;
	b[RULE_MONTHLY] = year * 100 + tm.tm_mon;
	b[RULE_YEARLY] = year;
}

/*
 * apply_group(policy, list, idx, m, keep): the policy over the ${m}
 * snapshots list[idx[0..m)], oldest first.
 */
static void
apply_group(const struct cf_retention *policy, const struct cf_snapshot *list,
    const size_t *idx, size_t m, int *keep)
{
	int budget[RULE_COUNT] = { policy->hourly, policy->daily,
	    policy->weekly, policy->monthly, policy->yearly };
	int64_t last[RULE_COUNT];
	int have_last[RULE_COUNT] = { 0 };
	int last_budget = policy->last;

	for (int r = 0; r < RULE_COUNT; r++)
		last[r] = 0;
	for (size_t k = m; k-- > 0;) {
		size_t i = idx[k];
		int64_t b[RULE_COUNT];

		if (last_budget > 0) {
			keep[i] = 1;
			last_budget--;
		}
		buckets(list[i].time_sec, b);
		for (int r = 0; r < RULE_COUNT; r++) {
			if (budget[r] <= 0 || (have_last[r] && b[r] == last[r]))
				continue;
			keep[i] = 1;
			last[r] = b[r];
			have_last[r] = 1;
			budget[r]--;
		}
	}
}

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* same_group(a, b): 1 if two snapshots are of one host and one path set. */
static int
same_group(const struct cf_snapshot *a, const struct cf_snapshot *b)
{
	if (!str_eq(a->hostname, b->hostname) || a->npaths != b->npaths)
		return 0;
	for (size_t k = 0; k < a->npaths; k++)
		if (!str_eq(a->paths[k], b->paths[k]))
			return 0;
	return 1;
}

void
cf_retention_apply(const struct cf_retention *policy,
    const struct cf_snapshot *list, size_t n, int *keep)
{
	int any = policy->last > 0 || policy->hourly > 0 ||
	    policy->daily > 0 || policy->weekly > 0 || policy->monthly > 0 ||
	    policy->yearly > 0;
	size_t *idx;
	uint8_t *done;

	for (size_t i = 0; i < n; i++)
		keep[i] = 1;
	if (!any || n == 0)
		return;
	/* Without memory to group, keeping everything is the safe answer. */
	if ((idx = malloc(n * sizeof(*idx))) == NULL)
		return;
	if ((done = calloc(n, 1)) == NULL) {
		free(idx);
		return;
	}
	for (size_t i = 0; i < n; i++)
		keep[i] = 0;
	/* Each machine's backup of each set of paths has its own history:
	 * one must not crowd out another's. */
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < n; j++)
			if (!done[j] && same_group(&list[i], &list[j])) {
				done[j] = 1;
				idx[m++] = j;
			}
		apply_group(policy, list, idx, m, keep);
	}
	free(done);
	free(idx);
}
