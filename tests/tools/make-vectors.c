/*
 * make-vectors: regenerates the vectors of docs/format.md section 10 after a
 * deliberate format change; the output is pasted into the page.
 *
 *   ninja -C BUILD && BUILD/tests/make-vectors > new-blocks.txt
 *
 * prints, in the page's order, the blocks that depend on the blob-id and
 * object-name hashes: chunk-id, object-hash (twice), then tree, pack,
 * index-file and snapshot (which sit after config in the page).  The inputs
 * are those of the published vectors (the chunk-id key 00 01 .. 1f, the
 * keys 03.., 04.., 05.., the identity of seed 01.., the same tree nodes and
 * snapshot fields).  The objects are made by the library's own encoders, so
 * the pack, index file and snapshot hold fresh random nonces: each run gives
 * other, equally valid, bytes.  tests/unit/test_vectors.c checks the page.
 * The other vectors (config, envelope, lock, identity-file, ...) do not
 * depend on these hashes and are not printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "crypto.h"
#include "identity.h"
#include "index.h"
#include "pack.h"
#include "snapshot.h"
#include "tree.h"

/* A value line longer than this moves its hex to the next line. */
#define LINE_MAX_COLS 76
/* Hex digits per continuation line. */
#define HEX_PER_LINE 64

static void
try(cf_status rc, const char *what)
{
	if (rc != CF_OK) {
		fprintf(stderr, "make-vectors: %s: %s\n", what,
		    cf_error_message());
		exit(1);
	}
}

static void
die(const char *what)
{
	fprintf(stderr, "make-vectors: %s failed\n", what);
	exit(1);
}

/* hex(key, p, n): "key = <hex>", split as section 10.1 shows. */
static void
hex(const char *key, const uint8_t *p, size_t n)
{
	char h[HEX_PER_LINE + 1];
	size_t per = HEX_PER_LINE / 2;

	if (n <= per && strlen(key) + 3 + 2 * n <= LINE_MAX_COLS) {
		cf_hex_encode(h, p, n);
		printf("%s = %s\n", key, h);
		return;
	}
	printf("%s = \\\n", key);
	for (size_t i = 0; i < n; i += per) {
		size_t k = n - i < per ? n - i : per;

		cf_hex_encode(h, p + i, k);
		printf("    %s%s\n", h, i + k < n ? "\\" : "");
	}
}

static void
text(const char *key, const char *s)
{
	printf("%s = \"%s\"\n", key, s);
}

/* entry(prefix, i, e): pack entry ${i}, as pack and index-file list it. */
static void
entry(const char *prefix, size_t i, const struct cf_pack_entry *e)
{
	char k[64];

	printf("%sblob%zu.type = %u\n", prefix, i, e->type);
	snprintf(k, sizeof(k), "%sblob%zu.id", prefix, i);
	hex(k, e->id, CF_HASH_BYTES);
	printf("%sblob%zu.offset = %u\n", prefix, i, e->offset);
	printf("%sblob%zu.length = %u\n", prefix, i, e->length);
	printf("%sblob%zu.raw_length = %u\n", prefix, i, e->raw_length);
}

/*
 * seed_identity(seed): the identity of ${seed}.  The library only makes
 * random identities, so an identity file (cheapest KDF, empty passphrase,
 * no name) is assembled as identity.h describes and decoded.
 */
static struct cf_identity *
seed_identity(const uint8_t seed[32])
{
	uint8_t pk[CF_SIGN_PK_BYTES], sk[CF_SIGN_SK_BYTES];
	uint8_t salt[16] = { 0 }, key[32], box[32 + CF_AEAD_OVERHEAD];
	uint64_t ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
	uint64_t mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
	struct cf_identity *id = NULL;
	struct cf_buf f;

	crypto_sign_seed_keypair(pk, sk, seed);
	cf_buf_init(&f, 4096);
	try(cf_buf_append(&f, "COFFREID", 8), "identity");
	try(cf_buf_add_u8(&f, 1), "identity");          /* version */
	try(cf_buf_add_u8(&f, 1), "identity");          /* Argon2id v1.3 */
	try(cf_buf_add_u16(&f, 0), "identity");
	try(cf_buf_add_u64(&f, ops), "identity");
	try(cf_buf_add_u64(&f, mem), "identity");
	try(cf_buf_append(&f, salt, sizeof(salt)), "identity");
	try(cf_buf_add_u8(&f, 0), "identity");          /* no name */
	try(cf_buf_append(&f, pk, sizeof(pk)), "identity");
	if (crypto_pwhash(key, sizeof(key), "", 0, salt, ops, (size_t)mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		die("Argon2id");
	cf_aead_seal(box, key, f.p, f.len, seed, 32);
	try(cf_buf_append(&f, box, sizeof(box)), "identity");
	try(cf_identity_decode(f.p, f.len, "", 0, &id), "identity");
	sodium_memzero(key, sizeof(key));
	sodium_memzero(sk, sizeof(sk));
	cf_buf_free(&f);
	return id;
}

int
main(void)
{
	uint8_t chunk_key[CF_KEY_BYTES], id_key[CF_KEY_BYTES];
	uint8_t index_key[CF_KEY_BYTES], repo_sk[CF_BOX_SK_BYTES];
	uint8_t repo_pk[CF_BOX_PK_BYTES], seed[32], h[CF_HASH_BYTES];
	uint8_t chunks[2][CF_HASH_BYTES], tree_id[CF_HASH_BYTES];
	uint8_t pack_id[CF_HASH_BYTES];
	static const char *const chunk_data[2] = { "chunk one", "chunk two" };
	static const char *const object_data[2] = { "abc", "" };
	char hx[2 * CF_HASH_BYTES + 1], name[96];
	struct cf_node nd[3];
	struct cf_tree t;
	struct cf_buf tb, ib, sb;
	struct cf_pack_writer *w = NULL;
	const struct cf_pack_entry *e;
	const uint8_t *pack;
	size_t pack_len, count;
	struct cf_index_pack ip;
	struct cf_identity *author;
	struct cf_snapshot s;
	/* Writable copies: the structs hold char *, literals are const. */
	char dir[] = "Patients", lnk[] = "latest", file[] = "report.pdf";
	char target[] = "Patients/2025", host[] = "cabinet-pc";
	char user[] = "backup", path0[] = "/srv/patients";
	char tag0[] = "nightly", tag1[] = "vector";
	char *paths[] = { path0 }, *tags[] = { tag0, tag1 };

	try(cf_crypto_init(), "init");
	for (int i = 0; i < CF_KEY_BYTES; i++)
		chunk_key[i] = (uint8_t)i;
	memset(id_key, 0x03, sizeof(id_key));
	memset(index_key, 0x04, sizeof(index_key));
	memset(repo_sk, 0x05, sizeof(repo_sk));
	memset(seed, 0x01, sizeof(seed));
	if (crypto_scalarmult_base(repo_pk, repo_sk) != 0)
		die("repo_pk");

	/* chunk-id, object-hash */
	cf_blob_id(h, chunk_key, CF_BLOB_DATA, (const uint8_t *)"coffre", 6);
	printf("```vector chunk-id\n");
	hex("id_key", chunk_key, sizeof(chunk_key));
	printf("type = %d\n", CF_BLOB_DATA);
	text("data", "coffre");
	hex("id", h, sizeof(h));
	printf("```\n");
	for (int i = 0; i < 2; i++) {
		cf_name_hash(h, object_data[i], strlen(object_data[i]));
		printf("\n```vector object-hash\n");
		text("data", object_data[i]);
		hex("hash", h, sizeof(h));
		printf("```\n");
	}

	/* tree: a directory, a symbolic link and a file of two chunks */
	for (int i = 0; i < 2; i++)
		cf_blob_id(chunks[i], id_key, CF_BLOB_DATA,
		    (const uint8_t *)chunk_data[i], strlen(chunk_data[i]));
	nd[0] = (struct cf_node){ .kind = CF_NODE_DIR, .name = dir,
	    .mode = 0750, .uid = 1000, .gid = 1000, .mtime_sec = 1735603200,
	    .inode = 42, .device = 2049, .nlink = 3 };
	memset(nd[0].subtree, 0xab, CF_HASH_BYTES);
	nd[1] = (struct cf_node){ .kind = CF_NODE_SYMLINK, .name = lnk,
	    .mode = 0777, .mtime_sec = -1, .mtime_nsec = 999999999,
	    .size = 13, .inode = 43, .device = 2049, .nlink = 1,
	    .target = target };
	nd[2] = (struct cf_node){ .kind = CF_NODE_FILE, .name = file,
	    .mode = 0640, .uid = 1000, .gid = 1000, .mtime_sec = 1735689600,
	    .mtime_nsec = 123456789, .size = 18, .inode = 1234567,
	    .device = 2049, .nlink = 1, .nchunks = 2, .chunks = chunks };
	cf_tree_init(&t);
	cf_buf_init(&tb, CF_BLOB_MAX);
	for (int i = 0; i < 3; i++)
		try(cf_tree_add(&t, &nd[i]), "tree");
	try(cf_tree_encode(&t, &tb), "tree");
	cf_blob_id(tree_id, id_key, CF_BLOB_TREE, tb.p, tb.len);
	printf("\n```vector tree\n");
	hex("tree", tb.p, tb.len);
	printf("count = %zu\n", t.count);
	for (size_t i = 0; i < t.count; i++) {
		const struct cf_node *n = &t.nodes[i];
		char k[64];

		printf("node%zu.kind = %u\n", i, n->kind);
		snprintf(k, sizeof(k), "node%zu.name", i);
		text(k, n->name);
		printf("node%zu.mode = %u\n", i, n->mode);
		printf("node%zu.uid = %u\n", i, n->uid);
		printf("node%zu.gid = %u\n", i, n->gid);
		printf("node%zu.mtime_sec = %lld\n", i,
		    (long long)n->mtime_sec);
		printf("node%zu.mtime_nsec = %u\n", i, n->mtime_nsec);
		printf("node%zu.size = %llu\n", i,
		    (unsigned long long)n->size);
		printf("node%zu.inode = %llu\n", i,
		    (unsigned long long)n->inode);
		printf("node%zu.device = %llu\n", i,
		    (unsigned long long)n->device);
		printf("node%zu.nlink = %u\n", i, n->nlink);
		if (n->kind == CF_NODE_FILE) {
			snprintf(k, sizeof(k), "node%zu.chunks", i);
			hex(k, n->chunks[0], (size_t)n->nchunks *
			    CF_HASH_BYTES);
		} else if (n->kind == CF_NODE_DIR) {
			snprintf(k, sizeof(k), "node%zu.subtree", i);
			hex(k, n->subtree, CF_HASH_BYTES);
		} else {
			snprintf(k, sizeof(k), "node%zu.target", i);
			text(k, n->target);
		}
	}
	printf("```\n");

	/* pack: the two chunks and the tree (zstd level 3, as the config) */
	try(cf_pack_writer_new(repo_pk, index_key, 3, &w), "pack");
	for (int i = 0; i < 2; i++)
		try(cf_pack_writer_add(w, CF_BLOB_DATA, chunks[i],
		    (const uint8_t *)chunk_data[i], strlen(chunk_data[i])),
		    "pack");
	try(cf_pack_writer_add(w, CF_BLOB_TREE, tree_id, tb.p, tb.len),
	    "pack");
	try(cf_pack_writer_finish(w, pack_id, &pack, &pack_len, &e, &count),
	    "pack");
	cf_pack_object_name(name, pack_id);
	printf("\n```vector pack\n");
	hex("repo_sk", repo_sk, sizeof(repo_sk));
	hex("repo_pk", repo_pk, sizeof(repo_pk));
	hex("id_key", id_key, sizeof(id_key));
	hex("index_key", index_key, sizeof(index_key));
	hex("pack", pack, pack_len);
	text("name", name);
	/* Blobs, header (nonce, count, entries, tag), trailer. */
	printf("unpadded_size = %zu\n", (size_t)(e[count - 1].offset +
	    e[count - 1].length) + 40 + 4 + CF_PACK_ENTRY_BYTES * count + 4);
	printf("count = %zu\n", count);
	for (size_t i = 0; i < count; i++) {
		char k[64];

		entry("", i, &e[i]);
		/* Stored blobs are 1 + data + 40 bytes; others are zstd. */
		printf("blob%zu.compression = %d\n", i,
		    e[i].length == e[i].raw_length + 41 ? 0 : 1);
		snprintf(k, sizeof(k), "blob%zu.data", i);
		if (i < 2)
			text(k, chunk_data[i]);
		else
			hex(k, tb.p, tb.len);
	}
	printf("```\n");

	/* index-file: that one pack */
	memcpy(ip.id, pack_id, CF_HASH_BYTES);
	ip.entries = e;
	ip.count = count;
	cf_buf_init(&ib, CF_INDEX_FILE_MAX);
	try(cf_index_file_encode(index_key, &ip, 1, &ib), "index file");
	cf_name_hash(h, ib.p, ib.len);
	cf_hex_encode(hx, h, sizeof(h));
	printf("\n```vector index-file\n");
	hex("index_key", index_key, sizeof(index_key));
	hex("file", ib.p, ib.len);
	printf("name = \"index/%s\"\n", hx);
	printf("npacks = 1\n");
	hex("pack0.id", pack_id, CF_HASH_BYTES);
	printf("pack0.count = %zu\n", count);
	for (size_t i = 0; i < count; i++)
		entry("pack0.", i, &e[i]);
	printf("```\n");

	/* snapshot: the tree as root, by the identity of seed 01.. */
	author = seed_identity(seed);
	memset(&s, 0, sizeof(s));
	s.time_sec = 1735693200;
	s.time_nsec = 500000000;
	memcpy(s.tree, tree_id, CF_HASH_BYTES);
	s.hostname = host;
	s.username = user;
	s.paths = paths;
	s.npaths = 1;
	s.tags = tags;
	s.ntags = 2;
	s.files = 1;
	s.dirs = 2;
	s.bytes = 18;
	cf_buf_init(&sb, CF_SNAPSHOT_MAX);
	try(cf_snapshot_encode(&s, author, repo_pk, &sb), "snapshot");
	cf_hex_encode(hx, s.id, sizeof(s.id));
	printf("\n```vector snapshot\n");
	hex("repo_sk", repo_sk, sizeof(repo_sk));
	hex("repo_pk", repo_pk, sizeof(repo_pk));
	hex("snapshot", sb.p, sb.len);
	printf("name = \"snapshots/%s\"\n", hx);
	printf("time_sec = %lld\n", (long long)s.time_sec);
	printf("time_nsec = %u\n", s.time_nsec);
	hex("tree", s.tree, CF_HASH_BYTES);
	hex("author", s.author, CF_SIGN_PK_BYTES);
	text("hostname", s.hostname);
	text("username", s.username);
	printf("npaths = %zu\n", s.npaths);
	printf("path0 = \"%s\"\n", s.paths[0]);
	printf("ntags = %zu\n", s.ntags);
	for (size_t i = 0; i < s.ntags; i++)
		printf("tag%zu = \"%s\"\n", i, s.tags[i]);
	printf("files = %llu\n", (unsigned long long)s.files);
	printf("dirs = %llu\n", (unsigned long long)s.dirs);
	printf("bytes = %llu\n", (unsigned long long)s.bytes);
	printf("```\n");

	cf_identity_free(author);
	cf_buf_free(&sb);
	cf_buf_free(&ib);
	cf_pack_writer_free(w);
	cf_buf_free(&tb);
	cf_tree_free(&t);
	sodium_memzero(repo_sk, sizeof(repo_sk));
	return 0;
}
