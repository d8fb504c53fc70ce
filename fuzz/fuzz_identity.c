/*
 * fuzz_identity.c: identity files (cf_identity_peek, cf_identity_decode) and
 * public identity strings (cf_pubid_decode).
 *
 * cf_identity_decode runs Argon2id at the cost the file asks for, and a
 * valid file may legitimately ask for up to 64 passes over 4 GiB: one such
 * input would stall the fuzzer for minutes or exhaust its memory limit
 * without finding anything, since the cost is the format working as
 * designed (the hostile-cost bounds themselves are checked in the unit test
 * and by peek below).  So decode only runs on inputs whose header asks for
 * at most 3 passes and 1 MiB; those fields are read here directly from
 * their fixed offsets (12 and 20), before the library sees the bytes.
 * Shorter inputs fail before any key derivation and always run.
 * Seed files in corpus/identity are encoded with the passphrase "fuzz", so
 * the authenticated path is reached too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

#define FUZZ_OPS_MAX 3
#define FUZZ_MEM_MAX (UINT64_C(1) << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pk[CF_SIGN_PK_BYTES];
	char name[CF_NAME_MAX + 1];
	struct cf_identity *id;
	char *s;

	if (cf_crypto_init() != CF_OK)
		return 0;

	if (cf_identity_peek(data, size, pk, name) == CF_OK) {
		char pub[CF_PUBID_LEN + 1];
		if (strlen(name) > CF_NAME_MAX)
			abort();
		cf_pubid_encode(pk, pub);
		if (cf_pubid_decode(pub, pk) != CF_OK)
			abort();
	}

	if (size < 28 || (cf_get_u64(data + 12) <= FUZZ_OPS_MAX &&
	    cf_get_u64(data + 20) <= FUZZ_MEM_MAX)) {
		if (cf_identity_decode(data, size, "fuzz", 4, &id) == CF_OK) {
			uint8_t sig[CF_SIG_BYTES];
			cf_identity_sign(id, data, size, sig);
			if (cf_sig_verify(cf_identity_public(id), data, size,
			    sig) != CF_OK)
				abort();
			cf_identity_free(id);
		}
	}

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	(void)cf_pubid_decode(s, pk);
	free(s);
	return 0;
}
