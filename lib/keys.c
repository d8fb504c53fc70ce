/* keys.c: a member's repository keys in guarded memory (see keys.h). */
#include "keys.h"

#include <string.h>

#include <sodium.h>

cf_status
cf_keys_new(struct cf_keys **out)
{
	struct cf_keys *k;

	*out = NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return cf_error_set(CF_ERR_NOMEM, "out of guarded memory");
	sodium_memzero(k, sizeof(*k));
	*out = k;
	return CF_OK;
}

void
cf_keys_generate(struct cf_keys *k)
{
	randombytes_buf(k->repo_id, sizeof(k->repo_id));
	randombytes_buf(k->id_key, sizeof(k->id_key));
	randombytes_buf(k->gear_key, sizeof(k->gear_key));
	randombytes_buf(k->index_key, sizeof(k->index_key));
	crypto_box_keypair(k->repo_pk, k->repo_sk);
	k->has_repo_sk = 1;
}

void
cf_keys_free(struct cf_keys *k)
{
	if (k == NULL)
		return;
	sodium_free(k);         /* sodium_free wipes before releasing */
}
