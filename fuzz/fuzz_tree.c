/*
 * fuzz_tree.c: directory listings (cf_tree_decode).  A listing that decodes
 * must re-encode to the same bytes (the encoding is canonical), and every
 * name in it must be found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_tree t;
	struct cf_buf b;

	if (cf_tree_decode(data, size, &t) != CF_OK) {
		if (t.count != 0 || t.nodes != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < t.count; i++)
		if (cf_tree_find(&t, t.nodes[i].name) != &t.nodes[i])
			abort();
	cf_buf_init(&b, size + 1);
	if (cf_tree_encode(&t, &b) != CF_OK || b.len != size ||
	    memcmp(b.p, data, size) != 0)
		abort();
	cf_buf_free(&b);
	cf_tree_free(&t);
	return 0;
}
