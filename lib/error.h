/*
 * error.h: the one error convention of the coffre library.
 *
 * Every fallible library function returns a cf_status (0 on success, a
 * negative-free positive code on failure) and records a human-readable
 * message for the caller with cf_error_set().  The library never prints and
 * never exits; the CLI prints cf_error_message().  Messages never contain a
 * secret.  Codes are only ever appended, never renumbered.
 */
#ifndef COFFRE_ERROR_H
#define COFFRE_ERROR_H

typedef enum cf_status {
	CF_OK = 0,
	CF_ERR_NOMEM = 1,     /* allocation failed or a size limit was hit */
	CF_ERR_IO = 2,        /* an operating-system or backend I/O error */
	CF_ERR_CORRUPT = 3,   /* bytes failed to parse or to authenticate */
	CF_ERR_NOTFOUND = 4,  /* the object / file / snapshot does not exist */
	CF_ERR_EXISTS = 5,    /* put-if-absent found the object present */
	CF_ERR_VERSION = 6,   /* a format version this build does not read */
	CF_ERR_PASSPHRASE = 7,/* wrong passphrase for an identity file */
	CF_ERR_ACCESS = 8,    /* the identity lacks the key or right needed */
	CF_ERR_INVALID = 9,   /* an invalid argument from the caller / user */
	CF_ERR_LOCKED = 10,   /* the repository is locked by another process */
	CF_ERR_NOTMEMBER = 11,/* the identity is not a member of the repository */
	CF_ERR_CANCELLED = 12,/* the operation was interrupted */
	CF_ERR_AMBIGUOUS = 13,/* a prefix matched more than one object */
} cf_status;

/*
 * cf_error_set(code, fmt, ...): record a message for the current thread and
 * return ${code}, so that callers write `return cf_error_set(...)`.
 */
cf_status cf_error_set(cf_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * cf_error_prefix(fmt, ...): put context in front of the current message
 * ("reading pack 3f2a...: " + old message).  Returns the current code.
 */
cf_status cf_error_prefix(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* cf_error_message(): the current thread's last message ("" if none). */
const char *cf_error_message(void);

/* cf_error_code(): the current thread's last code. */
cf_status cf_error_code(void);

/* cf_error_clear(): forget the current thread's message. */
void cf_error_clear(void);

/* cf_strerror(code): a short static description of ${code}. */
const char *cf_strerror(cf_status code);

#endif
