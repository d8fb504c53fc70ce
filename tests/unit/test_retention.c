/* test_retention.c: cf_retention_apply (keep policies, restic semantics). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "repo.h"

#define MAXSNAP 512

static struct cf_snapshot snaps[MAXSNAP];
static int keep[MAXSNAP];
static size_t nsnaps;

/* days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* ut(y, m, d, h, min): Unix time of that UTC date and time. */
static int64_t
ut(int y, int m, int d, int h, int min)
{
	return days_from_civil(y, m, d) * 86400 + h * 3600 + min * 60;
}

static void
reset(void)
{
	memset(snaps, 0, sizeof(snaps));
	nsnaps = 0;
}

static void
add(int64_t t)
{
	if (nsnaps == MAXSNAP)
		abort();
	snaps[nsnaps++].time_sec = t;
}

/* apply(p): run the policy; returns how many are kept. */
static size_t
apply(struct cf_retention p)
{
	size_t k = 0, bad = 0;

	for (size_t i = 0; i < MAXSNAP; i++)
		keep[i] = -1;
	cf_retention_apply(&p, snaps, nsnaps, keep);
	/* Only the first n entries are written, each 0 or 1. */
	for (size_t i = 0; i < MAXSNAP; i++) {
		if (i < nsnaps)
			bad += keep[i] != 0 && keep[i] != 1;
		else
			bad += keep[i] != -1;
		k += i < nsnaps && keep[i] == 1;
	}
	CHECK(bad == 0);
	return k;
}

/* kept(t): whether the snapshot taken at ${t} was kept. */
static int
kept(int64_t t)
{
	for (size_t i = 0; i < nsnaps; i++)
		if (snaps[i].time_sec == t)
			return keep[i] == 1;
	abort();
}

static void
test_empty_and_all(void)
{
	reset();
	CHECK(apply((struct cf_retention){ .daily = 7, .last = 3 }) == 0);
	CHECK(apply((struct cf_retention){ 0 }) == 0);

	for (int d = 1; d <= 10; d++)
		add(ut(2024, 1, d, 12, 0));
	CHECK(apply((struct cf_retention){ 0 }) == 10);
	/* Negative counts are unused, like 0. */
	CHECK(apply((struct cf_retention){ .last = -1, .daily = -1 }) == 10);
}

static void
test_last(void)
{
	reset();
	for (int d = 1; d <= 10; d++)
		add(ut(2024, 1, d, 12, 0));
	CHECK(apply((struct cf_retention){ .last = 3 }) == 3);
	for (size_t i = 0; i < nsnaps; i++)
		CHECK(keep[i] == (i >= 7));
	CHECK(apply((struct cf_retention){ .last = 100 }) == 10);
	CHECK(apply((struct cf_retention){ .last = 1 }) == 1);
	CHECK(keep[9] == 1);

	/* keep-last counts snapshots, not distinct times. */
	reset();
	add(ut(2024, 1, 1, 12, 0));
	add(ut(2024, 1, 1, 12, 0));
	add(ut(2024, 1, 1, 12, 0));
	CHECK(apply((struct cf_retention){ .last = 2 }) == 2);
	CHECK(keep[0] == 0 && keep[1] == 1 && keep[2] == 1);
	CHECK(apply((struct cf_retention){ .daily = 2 }) == 1);
	CHECK(keep[2] == 1);
}

static void
test_daily(void)
{
	reset();
	for (int d = 1; d <= 30; d++)
		add(ut(2024, 1, d, 12, 0));
	CHECK(apply((struct cf_retention){ .daily = 7 }) == 7);
	for (size_t i = 0; i < nsnaps; i++)
		CHECK(keep[i] == (i >= 23));

	/* Two a day: the newest of each of the last 5 days. */
	reset();
	for (int d = 1; d <= 10; d++) {
		add(ut(2024, 3, d, 8, 0));
		add(ut(2024, 3, d, 20, 0));
	}
	CHECK(apply((struct cf_retention){ .daily = 5 }) == 5);
	for (int d = 1; d <= 10; d++) {
		CHECK(!kept(ut(2024, 3, d, 8, 0)));
		CHECK(kept(ut(2024, 3, d, 20, 0)) == (d >= 6));
	}

	/* Days without a snapshot do not use up the budget. */
	reset();
	add(ut(2024, 1, 1, 12, 0));
	add(ut(2024, 1, 5, 12, 0));
	add(ut(2024, 2, 1, 12, 0));
	add(ut(2024, 2, 1, 13, 0));
	CHECK(apply((struct cf_retention){ .daily = 3 }) == 3);
	CHECK(kept(ut(2024, 1, 1, 12, 0)) && kept(ut(2024, 1, 5, 12, 0)));
	CHECK(!kept(ut(2024, 2, 1, 12, 0)) && kept(ut(2024, 2, 1, 13, 0)));

	/* The same day of two years is two days. */
	reset();
	add(ut(2023, 3, 1, 12, 0));
	add(ut(2024, 2, 29, 12, 0));    /* day 59 of both years */
	add(ut(2025, 3, 1, 12, 0));
	CHECK(apply((struct cf_retention){ .daily = 10 }) == 3);

	/* 23:59 and 00:00 are two days. */
	reset();
	add(ut(2024, 1, 1, 23, 59));
	add(ut(2024, 1, 2, 0, 0));
	CHECK(apply((struct cf_retention){ .daily = 2 }) == 2);
}

static void
test_hourly(void)
{
	reset();
	for (int h = 9; h < 14; h++)
		for (int m = 0; m < 60; m += 20)
			add(ut(2024, 5, 6, h, m));
	CHECK(apply((struct cf_retention){ .hourly = 3 }) == 3);
	CHECK(kept(ut(2024, 5, 6, 13, 40)));
	CHECK(kept(ut(2024, 5, 6, 12, 40)));
	CHECK(kept(ut(2024, 5, 6, 11, 40)));
	CHECK(!kept(ut(2024, 5, 6, 10, 40)));
	CHECK(!kept(ut(2024, 5, 6, 13, 20)));

	/* The same hour on two days is two buckets. */
	reset();
	add(ut(2024, 5, 6, 10, 0));
	add(ut(2024, 5, 7, 10, 0));
	add(ut(2025, 5, 7, 10, 0));
	CHECK(apply((struct cf_retention){ .hourly = 10 }) == 3);
}

static void
test_weekly(void)
{
	/*
	 * ISO weeks around a new year: Fri 2020-12-25 is in 2020-W52,
	 * Mon 2020-12-28 .. Sun 2021-01-03 is 2020-W53, 2021-01-04 .. 01-10
	 * is 2021-W01, 01-11 and 01-12 are in W02.
	 */
	reset();
	for (int d = 25; d <= 31; d++)
		add(ut(2020, 12, d, 12, 0));
	for (int d = 1; d <= 12; d++)
		add(ut(2021, 1, d, 12, 0));
	CHECK(apply((struct cf_retention){ .weekly = 3 }) == 3);
	CHECK(kept(ut(2021, 1, 12, 12, 0)));
	CHECK(kept(ut(2021, 1, 10, 12, 0)));
	CHECK(kept(ut(2021, 1, 3, 12, 0)));
	CHECK(!kept(ut(2020, 12, 31, 12, 0)));
	CHECK(!kept(ut(2021, 1, 1, 12, 0)));
	CHECK(apply((struct cf_retention){ .weekly = 10 }) == 4);
	CHECK(kept(ut(2020, 12, 27, 12, 0)));
	CHECK(!kept(ut(2020, 12, 25, 12, 0)));

	/* Mon 2019-12-30 already belongs to 2020-W01. */
	reset();
	add(ut(2019, 12, 29, 12, 0));   /* Sun, 2019-W52 */
	add(ut(2019, 12, 30, 12, 0));   /* Mon, 2020-W01 */
	add(ut(2020, 1, 2, 12, 0));     /* Thu, 2020-W01 */
	CHECK(apply((struct cf_retention){ .weekly = 5 }) == 2);
	CHECK(kept(ut(2020, 1, 2, 12, 0)));
	CHECK(!kept(ut(2019, 12, 30, 12, 0)));
	CHECK(kept(ut(2019, 12, 29, 12, 0)));

	/* A week spans Sunday to Monday boundaries correctly. */
	reset();
	add(ut(2024, 6, 2, 12, 0));     /* Sun, W22 */
	add(ut(2024, 6, 3, 0, 0));      /* Mon, W23 */
	add(ut(2024, 6, 9, 23, 59));    /* Sun, W23 */
	CHECK(apply((struct cf_retention){ .weekly = 5 }) == 2);
	CHECK(kept(ut(2024, 6, 2, 12, 0)));
	CHECK(!kept(ut(2024, 6, 3, 0, 0)));
}

static void
test_monthly_yearly(void)
{
	reset();
	for (int m = 1; m <= 12; m++) {
		add(ut(2023, m, 1, 12, 0));
		add(ut(2023, m, 15, 12, 0));
	}
	CHECK(apply((struct cf_retention){ .monthly = 3 }) == 3);
	CHECK(kept(ut(2023, 12, 15, 12, 0)));
	CHECK(kept(ut(2023, 11, 15, 12, 0)));
	CHECK(kept(ut(2023, 10, 15, 12, 0)));
	CHECK(!kept(ut(2023, 12, 1, 12, 0)));
	CHECK(apply((struct cf_retention){ .monthly = 100 }) == 12);

	reset();
	for (int y = 2018; y <= 2023; y++) {
		add(ut(y, 1, 1, 12, 0));
		add(ut(y, 7, 1, 12, 0));
	}
	CHECK(apply((struct cf_retention){ .yearly = 4 }) == 4);
	for (int y = 2018; y <= 2023; y++) {
		CHECK(!kept(ut(y, 1, 1, 12, 0)));
		CHECK(kept(ut(y, 7, 1, 12, 0)) == (y >= 2020));
	}
	/* The same month in two years is two buckets. */
	CHECK(apply((struct cf_retention){ .monthly = 24 }) == 12);
}

static void
test_combined(void)
{
	/* Every day of 2024's first quarter. */
	reset();
	for (int m = 1; m <= 3; m++)
		for (int d = 1; d <= 31; d++) {
			if ((m == 2 && d > 29) || (m == 3 && d > 31))
				break;
			add(ut(2024, m, d, 12, 0));
		}
	CHECK(nsnaps == 91);
	CHECK(apply((struct cf_retention){ .last = 2, .monthly = 3 }) == 4);
	CHECK(kept(ut(2024, 3, 31, 12, 0)));
	CHECK(kept(ut(2024, 3, 30, 12, 0)));
	CHECK(kept(ut(2024, 2, 29, 12, 0)));
	CHECK(kept(ut(2024, 1, 31, 12, 0)));
	CHECK(!kept(ut(2024, 3, 29, 12, 0)));

	/*
	 * Each rule counts on its own: daily 7 keeps Mar 25..31, weekly 4
	 * keeps the Sundays Mar 31 (W13), 24, 17, 10; monthly 2 keeps Mar 31
	 * and Feb 29; yearly 1 keeps Mar 31.
	 */
	CHECK(apply((struct cf_retention){ .daily = 7, .weekly = 4,
	    .monthly = 2, .yearly = 1 }) == 7 + 3 + 1);
	CHECK(kept(ut(2024, 3, 24, 12, 0)));
	CHECK(kept(ut(2024, 3, 17, 12, 0)));
	CHECK(kept(ut(2024, 3, 10, 12, 0)));
	CHECK(!kept(ut(2024, 3, 3, 12, 0)));
	CHECK(kept(ut(2024, 2, 29, 12, 0)));
	CHECK(!kept(ut(2024, 1, 31, 12, 0)));
}

/* Buckets follow local time. */
static void
test_local_time(void)
{
	reset();
	add(ut(2024, 1, 1, 23, 30));
	add(ut(2024, 1, 2, 0, 30));
	CHECK(apply((struct cf_retention){ .daily = 10 }) == 2);

	/* One hour east of UTC, both are on 2 January. */
	setenv("TZ", "CET-1", 1);
	tzset();
	CHECK(apply((struct cf_retention){ .daily = 10 }) == 1);
	CHECK(kept(ut(2024, 1, 2, 0, 30)));
	setenv("TZ", "UTC", 1);
	tzset();
}

/*
 * Two machines back up into one repository, interleaved: each keeps its own
 * history (a policy applies per host and set of paths).
 */
static void
test_groups(void)
{
	static char host_a[] = "reception", host_b[] = "radiology";
	static char path_a[] = "/srv/cabinet", path_b[] = "/srv/imaging";
	static char *pa[] = { path_a }, *pb[] = { path_b };
	size_t a_kept = 0, b_kept = 0;

	reset();
	for (int d = 1; d <= 10; d++) {
		add(ut(2026, 3, d, 12, 0));
		snaps[nsnaps - 1].hostname = host_a;
		snaps[nsnaps - 1].paths = pa;
		snaps[nsnaps - 1].npaths = 1;
		add(ut(2026, 3, d, 13, 0));
		snaps[nsnaps - 1].hostname = host_b;
		snaps[nsnaps - 1].paths = pb;
		snaps[nsnaps - 1].npaths = 1;
	}
	CHECK(apply((struct cf_retention){ .daily = 3 }) == 6);
	for (size_t i = 0; i < nsnaps; i++) {
		a_kept += keep[i] && snaps[i].hostname == host_a;
		b_kept += keep[i] && snaps[i].hostname == host_b;
	}
	CHECK(a_kept == 3 && b_kept == 3);
	CHECK(kept(ut(2026, 3, 10, 12, 0)) && kept(ut(2026, 3, 8, 12, 0)));
	CHECK(!kept(ut(2026, 3, 7, 12, 0)) && !kept(ut(2026, 3, 7, 13, 0)));
	/* Same host, other paths: a group of its own (three groups now). */
	snaps[nsnaps - 1].hostname = host_a;
	CHECK(apply((struct cf_retention){ .last = 1 }) == 3);
	reset();
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_empty_and_all();
	test_last();
	test_daily();
	test_hourly();
	test_weekly();
	test_monthly_yearly();
	test_combined();
	test_local_time();
	test_groups();
	return check_done("retention");
}
