/*
 * check.h: the few macros unit tests use.  A failed CHECK prints where and
 * what, and makes the test exit non-zero at the end (tests keep going so
 * one run shows every failure).
 */
#ifndef COFFRE_TEST_CHECK_H
#define COFFRE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "error.h"

static int check_failures;
static int check_count;

#define CHECK(cond) do { \
	check_count++; \
	if (!(cond)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", \
		    __FILE__, __LINE__, #cond, cf_error_message()); \
	} \
} while (0)

#define CHECK_OK(expr) CHECK((expr) == CF_OK)
#define CHECK_ERR(expr, code) CHECK((expr) == (code))

static inline int
check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}

#endif
