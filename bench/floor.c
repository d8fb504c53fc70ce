/*
 * coffre-floor: the speed floor of a backup on this machine.
 *
 * Reads every regular file under the PATHs (symbolic links are not followed)
 * in 1 MiB pieces and, in the default "crypto" mode, does to each piece what
 * a backup must do at the very least: a keyed BLAKE2b-256 (the chunk id) and
 * an XChaCha20-Poly1305 IETF encryption (the stored blob), with libsodium.
 * No chunking, no compression, no writing: any backup of the same bytes on
 * the same machine does more work than this.  This is the floor the
 * benchmark's incompressible-data target is stated against.
 *
 * "crypto-sha" mode does what coffre's own primitives must do to each piece:
 * an HMAC-SHA-256 keyed by a 32-byte key (Nettle, which uses the CPU's SHA
 * instructions when it has them: coffre's blob id) and the same
 * XChaCha20-Poly1305 encryption (libsodium).  "read" mode only reads.
 *
 * Work runs on one thread per processor (or --threads N).  The files are cut
 * into segments of at most 8 MiB and the threads take the next segment as
 * they become free, so a single large file does not leave a core idle.
 *
 *   coffre-floor [--mode crypto|crypto-sha|read] [--threads N] [--json]
 *       PATH...
 *
 * Prints one line, `mode=MODE bytes=B files=F threads=N seconds=S mbps=M`
 * (MB = 10^6 bytes), or the same as a JSON object with --json.  Exit 0 on
 * success, 1 on an I/O or crypto error, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nettle/hmac.h>
#include <sodium.h>

#define PIECE ((size_t)1 << 20)     /* bytes hashed and encrypted at once */
#define SEGMENT ((uint64_t)8 << 20) /* bytes a thread takes at once */
#define MAX_THREADS 1024

enum mode { MODE_CRYPTO, MODE_CRYPTO_SHA, MODE_READ };

struct file {
	char *path;
	uint64_t size;
};

struct segment {
	size_t file;     /* index in files[] */
	uint64_t offset;
	uint64_t len;
};

/* The file list is built by nftw(), whose callback takes no context. */
static struct file *files;
static size_t nfiles, capfiles;
static int walk_failed;

static struct segment *segments;
static size_t nsegments;
static atomic_size_t next_segment;
static atomic_int failed;

static enum mode mode = MODE_CRYPTO;
static unsigned char hash_key[32];
static unsigned char hmac_key[32];
static unsigned char aead_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];

struct worker {
	pthread_t thread;
	uint64_t bytes;
	unsigned char *in;
	unsigned char *out;
};

static void usage(FILE *f)
{
	fputs("usage: coffre-floor [--mode crypto|crypto-sha|read] [--threads N] "
	    "[--json] PATH...\n"
	    "  --mode crypto      keyed BLAKE2b-256 + XChaCha20-Poly1305 of every "
	    "1 MiB piece\n"
	    "                     (libsodium; default)\n"
	    "  --mode crypto-sha  HMAC-SHA-256 (Nettle) + XChaCha20-Poly1305 of "
	    "every 1 MiB\n"
	    "                     piece: coffre's own primitives\n"
	    "  --mode read        only read the files\n"
	    "  --threads N        worker threads (default: one per processor)\n"
	    "  --json             print a JSON object instead of key=value\n", f);
}

static int add_file(const char *path, uint64_t size)
{
	if (nfiles == capfiles) {
		size_t cap = capfiles ? capfiles * 2 : 1024;
		struct file *n;

		if (cap > SIZE_MAX / sizeof(*files))
			return -1;
		n = realloc(files, cap * sizeof(*files));
		if (n == NULL)
			return -1;
		files = n;
		capfiles = cap;
	}
	files[nfiles].path = strdup(path);
	if (files[nfiles].path == NULL)
		return -1;
	files[nfiles].size = size;
	nfiles++;
	return 0;
}

static int walk_cb(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)ftw;
	switch (type) {
	case FTW_F:
		if (S_ISREG(st->st_mode) &&
		    add_file(path, (uint64_t)st->st_size) != 0) {
			fprintf(stderr, "coffre-floor: out of memory\n");
			walk_failed = 1;
			return 1;
		}
		return 0;
	case FTW_DNR:
	case FTW_NS:
		fprintf(stderr, "coffre-floor: cannot read %s\n", path);
		walk_failed = 1;
		return 1;
	default:
		return 0;
	}
}

static int build_segments(void)
{
	size_t i, n = 0, k = 0;

	for (i = 0; i < nfiles; i++)
		n += (size_t)((files[i].size + SEGMENT - 1) / SEGMENT);
	if (n == 0)
		return 0;
	segments = calloc(n, sizeof(*segments));
	if (segments == NULL)
		return -1;
	for (i = 0; i < nfiles; i++) {
		uint64_t off;

		for (off = 0; off < files[i].size; off += SEGMENT) {
			uint64_t left = files[i].size - off;

			segments[k].file = i;
			segments[k].offset = off;
			segments[k].len = left < SEGMENT ? left : SEGMENT;
			k++;
		}
	}
	nsegments = k;
	return 0;
}

/* Read len bytes at off; 0 on success, -1 on error (message printed). */
static int read_full(int fd, const char *path, unsigned char *buf, size_t len,
    uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, buf + done, len - done,
		    (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "coffre-floor: read %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
		if (r == 0) {
			fprintf(stderr, "coffre-floor: %s shrank while read\n",
			    path);
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

static const char *mode_name(void)
{
	switch (mode) {
	case MODE_CRYPTO:
		return "crypto";
	case MODE_CRYPTO_SHA:
		return "crypto-sha";
	case MODE_READ:
		return "read";
	}
	return "?";
}

static int process_piece(struct worker *w, size_t len)
{
	unsigned char id[32];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long long clen = 0;

	if (mode == MODE_READ)
		return 0;
	if (mode == MODE_CRYPTO_SHA) {
		/* as coffre's blob id: a fresh HMAC state per blob */
		struct hmac_sha256_ctx ctx;

		hmac_sha256_set_key(&ctx, sizeof(hmac_key), hmac_key);
		hmac_sha256_update(&ctx, len, w->in);
		hmac_sha256_digest(&ctx, sizeof(id), id);
		sodium_memzero(&ctx, sizeof(ctx));
	} else if (crypto_generichash(id, sizeof(id), w->in, len, hash_key,
	    sizeof(hash_key)) != 0) {
		fprintf(stderr, "coffre-floor: crypto_generichash failed\n");
		return -1;
	}
	randombytes_buf(nonce, sizeof(nonce));
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(w->out, &clen, w->in,
	    len, id, sizeof(id), NULL, nonce, aead_key) != 0 ||
	    clen != len + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		fprintf(stderr, "coffre-floor: encryption failed\n");
		return -1;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t open_file = SIZE_MAX;
	int fd = -1;

	for (;;) {
		size_t s;
		const struct segment *seg;
		uint64_t done;

		if (atomic_load(&failed))
			break;
		s = atomic_fetch_add(&next_segment, 1);
		if (s >= nsegments)
			break;
		seg = &segments[s];
		if (seg->file != open_file) {
			if (fd >= 0 && close(fd) != 0) {
				fprintf(stderr, "coffre-floor: close: %s\n",
				    strerror(errno));
				atomic_store(&failed, 1);
				fd = -1;
				break;
			}
			fd = open(files[seg->file].path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				fprintf(stderr, "coffre-floor: open %s: %s\n",
				    files[seg->file].path, strerror(errno));
				atomic_store(&failed, 1);
				break;
			}
			open_file = seg->file;
		}
		for (done = 0; done < seg->len;) {
			uint64_t left = seg->len - done;
			size_t n = left < PIECE ? (size_t)left : PIECE;

			if (read_full(fd, files[seg->file].path, w->in, n,
			    seg->offset + done) != 0 ||
			    process_piece(w, n) != 0) {
				atomic_store(&failed, 1);
				break;
			}
			done += n;
			w->bytes += n;
		}
	}
	if (fd >= 0 && close(fd) != 0) {
		fprintf(stderr, "coffre-floor: close: %s\n", strerror(errno));
		atomic_store(&failed, 1);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_threads(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_THREADS)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	struct worker *workers = NULL;
	long nthreads = 0;
	int json = 0, first_path = argc, i, rc = 1;
	long started = 0, t;
	uint64_t total = 0;
	double t0, secs;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "crypto") == 0)
				mode = MODE_CRYPTO;
			else if (strcmp(argv[i], "crypto-sha") == 0)
				mode = MODE_CRYPTO_SHA;
			else if (strcmp(argv[i], "read") == 0)
				mode = MODE_READ;
			else {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
			nthreads = parse_threads(argv[++i]);
			if (nthreads < 0) {
				fprintf(stderr, "coffre-floor: --threads takes "
				    "1 to %d\n", MAX_THREADS);
				return 2;
			}
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--") == 0) {
			first_path = i + 1;
			break;
		} else if (argv[i][0] == '-') {
			usage(stderr);
			return 2;
		} else {
			first_path = i;
			break;
		}
	}
	if (first_path >= argc) {
		usage(stderr);
		return 2;
	}
	if (nthreads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : n);
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "coffre-floor: sodium_init failed\n");
		return 1;
	}
	randombytes_buf(hash_key, sizeof(hash_key));
	randombytes_buf(hmac_key, sizeof(hmac_key));
	crypto_aead_xchacha20poly1305_ietf_keygen(aead_key);

	t0 = now();
	for (i = first_path; i < argc; i++) {
		if (nftw(argv[i], walk_cb, 64, FTW_PHYS) != 0 || walk_failed) {
			if (!walk_failed)
				fprintf(stderr, "coffre-floor: cannot walk "
				    "%s: %s\n", argv[i], strerror(errno));
			goto out;
		}
	}
	if (build_segments() != 0) {
		fprintf(stderr, "coffre-floor: out of memory\n");
		goto out;
	}
	workers = calloc((size_t)nthreads, sizeof(*workers));
	if (workers == NULL) {
		fprintf(stderr, "coffre-floor: out of memory\n");
		goto out;
	}
	for (t = 0; t < nthreads; t++) {
		workers[t].in = malloc(PIECE);
		workers[t].out = malloc(PIECE +
		    crypto_aead_xchacha20poly1305_ietf_ABYTES);
		if (workers[t].in == NULL || workers[t].out == NULL) {
			fprintf(stderr, "coffre-floor: out of memory\n");
			goto join;
		}
	}
	for (t = 0; t < nthreads; t++) {
		int e = pthread_create(&workers[t].thread, NULL, worker_main,
		    &workers[t]);

		if (e != 0) {
			fprintf(stderr, "coffre-floor: pthread_create: %s\n",
			    strerror(e));
			atomic_store(&failed, 1);
			break;
		}
		started++;
	}
join:
	for (t = 0; t < started; t++) {
		int e = pthread_join(workers[t].thread, NULL);

		if (e != 0) {
			fprintf(stderr, "coffre-floor: pthread_join: %s\n",
			    strerror(e));
			atomic_store(&failed, 1);
		}
		total += workers[t].bytes;
	}
	secs = now() - t0;
	if (started < nthreads || atomic_load(&failed))
		goto out;
	if (secs <= 0.0)
		secs = 1e-9;
	if (json)
		printf("{\"mode\":\"%s\",\"bytes\":%llu,\"files\":%zu,"
		    "\"threads\":%ld,\"seconds\":%.6f,\"mbps\":%.1f}\n",
		    mode_name(),
		    (unsigned long long)total, nfiles, nthreads, secs,
		    (double)total / 1e6 / secs);
	else
		printf("mode=%s bytes=%llu files=%zu threads=%ld seconds=%.6f "
		    "mbps=%.1f\n", mode_name(),
		    (unsigned long long)total, nfiles, nthreads, secs,
		    (double)total / 1e6 / secs);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "coffre-floor: cannot write the result\n");
		goto out;
	}
	rc = 0;
out:
	if (workers != NULL) {
		for (t = 0; t < nthreads; t++) {
			if (workers[t].in != NULL)
				sodium_memzero(workers[t].in, PIECE);
			free(workers[t].in);
			free(workers[t].out);
		}
		free(workers);
	}
	for (size_t k = 0; k < nfiles; k++)
		free(files[k].path);
	free(files);
	free(segments);
	sodium_memzero(hash_key, sizeof(hash_key));
	sodium_memzero(hmac_key, sizeof(hmac_key));
	sodium_memzero(aead_key, sizeof(aead_key));
	return rc;
}
