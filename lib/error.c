/* error.c: per-thread error messages (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_MAX 1024

static _Thread_local char err_msg[MSG_MAX];
static _Thread_local cf_status err_code;

cf_status
cf_error_set(cf_status code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	err_code = code;
	return code;
}

cf_status
cf_error_prefix(const char *fmt, ...)
{
	char old[MSG_MAX];
	va_list ap;
	int n;

	memcpy(old, err_msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(err_msg))
		snprintf(err_msg + n, sizeof(err_msg) - (size_t)n, "%s", old);
	return err_code;
}

const char *
cf_error_message(void)
{
	return err_msg;
}

cf_status
cf_error_code(void)
{
	return err_code;
}

void
cf_error_clear(void)
{
	err_msg[0] = '\0';
	err_code = CF_OK;
}

const char *
cf_strerror(cf_status code)
{
	switch (code) {
	case CF_OK: return "success";
	case CF_ERR_NOMEM: return "out of memory or size limit exceeded";
	case CF_ERR_IO: return "input/output error";
	case CF_ERR_CORRUPT: return "data is corrupt or was tampered with";
	case CF_ERR_NOTFOUND: return "not found";
	case CF_ERR_EXISTS: return "already exists";
	case CF_ERR_VERSION: return "unsupported format version";
	case CF_ERR_PASSPHRASE: return "wrong passphrase";
	case CF_ERR_ACCESS: return "access refused";
	case CF_ERR_INVALID: return "invalid argument";
	case CF_ERR_LOCKED: return "repository is locked";
	case CF_ERR_NOTMEMBER: return "not a member of this repository";
	case CF_ERR_CANCELLED: return "interrupted";
	case CF_ERR_AMBIGUOUS: return "ambiguous prefix";
	}
	return "unknown error";
}
