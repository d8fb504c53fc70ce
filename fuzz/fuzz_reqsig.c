/*
 * fuzz_reqsig.c: the signature headers of the coffred protocol
 * (lib/reqsig.c).
 *
 * Input: up to eight '\n'-separated fields: Coffre-Key, Coffre-Time,
 * Coffre-Nonce, Coffre-Body, Coffre-Signature, method, path, query.
 * Values that parse must be in their one strict spelling (formatting the
 * parsed values gives the input back); verification and the canonical
 * string must cope with anything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reqsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NF 8
#define FIELD_MAX 1024

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char f[NF][FIELD_MAX + 1];
	size_t len[NF], off = 0;
	int nf = 0;
	struct cf_reqsig rs;
	struct cf_reqsig_headers h;
	struct cf_buf b;

	memset(len, 0, sizeof(len));
	while (nf < NF) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
		if (n > FIELD_MAX)
			n = FIELD_MAX;
		memcpy(f[nf], data + off, n);
		f[nf][n] = '\0';
		len[nf] = n;
		nf++;
		if (nl == NULL)
			break;
		off = (size_t)(nl - data) + 1;
	}
	for (int i = nf; i < NF; i++) {
		f[i][0] = '\0';
		len[i] = 0;
	}
	/* Length-delimited (NULs possible) and missing fields. */
	if (cf_reqsig_parse_n(nf > 0 ? f[0] : NULL, len[0],
	    nf > 1 ? f[1] : NULL, len[1], nf > 2 ? f[2] : NULL, len[2],
	    nf > 3 ? f[3] : NULL, len[3], nf > 4 ? f[4] : NULL, len[4],
	    &rs) == CF_OK) {
		cf_reqsig_format(&rs, &h);
		if (strlen(h.key) != len[0] || memcmp(h.key, f[0], len[0]) ||
		    strlen(h.time) != len[1] || memcmp(h.time, f[1], len[1]) ||
		    strlen(h.nonce) != len[2] ||
		    memcmp(h.nonce, f[2], len[2]) ||
		    strlen(h.body) != len[3] || memcmp(h.body, f[3], len[3]) ||
		    strlen(h.signature) != len[4] ||
		    memcmp(h.signature, f[4], len[4]))
			abort();
		(void)cf_reqsig_verify(&rs, f[5], f[6], f[7]);
		cf_buf_init(&b, CF_REQSIG_CANON_MAX);
		if (cf_reqsig_canonical(f[5], f[6], f[7], &rs, &b) == CF_OK) {
			size_t nls = 0;
			for (size_t i = 0; i < b.len; i++)
				nls += b.p[i] == '\n';
			if (nls != 7 || b.len > CF_REQSIG_CANON_MAX)
				abort();
		}
		cf_buf_free(&b);
	}
	(void)cf_reqsig_parse(f[0], f[1], f[2], f[3], f[4], &rs);
	(void)cf_reqsig_time_ok(rs.time, (uint64_t)len[0] << 40, 300);
	return 0;
}
