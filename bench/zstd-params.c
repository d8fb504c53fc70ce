/*
 * zstd-params: what a compression setting costs and saves on a tree of
 * files, compressed as coffre stores them: each file cut into 1 MiB pieces,
 * each piece compressed alone, stored as it is when that saves less than
 * 1/32.  Prints the bytes in, the bytes stored and the CPU time spent in
 * zstd (one thread).  The measurements of docs/performance.md, section 4.
 *
 *   zstd-params PATH LEVEL zstd|zstd-sample|coffre
 *
 * zstd: zstd's own parameters for LEVEL; zstd-sample: the same, each piece
 * over 128 KiB first tried on its first 64 KiB (the rule coffre dropped);
 * coffre: the parameters lib/pack_write.c uses for LEVEL.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#define PIECE (1u << 20)
#define SAMPLE_ABOVE (128u * 1024)
#define SAMPLE_BYTES (64u * 1024)

static unsigned char *piece, *dst;
static size_t dst_cap;
static ZSTD_CCtx *cctx;
static int sample;
static unsigned long long bytes_in, bytes_out;
static double cpu;

static double
cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* stored(n): the bytes coffre stores for a piece of n bytes. */
static size_t
stored(size_t n)
{
	size_t z;

	if (sample && n > SAMPLE_ABOVE) {
		z = ZSTD_compress2(cctx, dst, dst_cap, piece, SAMPLE_BYTES);
		if (ZSTD_isError(z) || z + SAMPLE_BYTES / 32 >= SAMPLE_BYTES)
			return n;
	}
	z = ZSTD_compress2(cctx, dst, dst_cap, piece, n);
	return ZSTD_isError(z) || z + n / 32 >= n ? n : z;
}

static int
one_file(const char *path, const struct stat *st, int type, struct FTW *f)
{
	ssize_t n;
	int fd;

	(void)st;
	(void)f;
	if (type != FTW_F)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		perror(path);
		return 1;
	}
	while ((n = read(fd, piece, PIECE)) > 0) {
		double t0 = cpu_now();
		bytes_out += stored((size_t)n);
		cpu += cpu_now() - t0;
		bytes_in += (unsigned long long)n;
	}
	close(fd);
	if (n < 0) {
		perror(path);
		return 1;
	}
	return 0;
}

static int
set(ZSTD_cParameter p, int v)
{
	return !ZSTD_isError(ZSTD_CCtx_setParameter(cctx, p, v));
}

int
main(int argc, char **argv)
{
	int level, ok;

	if (argc != 4 || (strcmp(argv[3], "zstd") != 0 &&
	    strcmp(argv[3], "zstd-sample") != 0 &&
	    strcmp(argv[3], "coffre") != 0)) {
		fputs("usage: zstd-params PATH LEVEL zstd|zstd-sample|coffre\n",
		    stderr);
		return 2;
	}
	level = atoi(argv[2]);
	sample = strcmp(argv[3], "zstd-sample") == 0;
	dst_cap = ZSTD_compressBound(PIECE);
	piece = malloc(PIECE);
	dst = malloc(dst_cap);
	if (piece == NULL || dst == NULL || (cctx = ZSTD_createCCtx()) == NULL) {
		fputs("zstd-params: out of memory\n", stderr);
		return 1;
	}
	ok = set(ZSTD_c_compressionLevel, level) &&
	    set(ZSTD_c_contentSizeFlag, 1);
	/* Keep in step with lib/pack_write.c (TUNED_*). */
	if (ok && strcmp(argv[3], "coffre") == 0 && level == 3)
		ok = set(ZSTD_c_strategy, ZSTD_fast) &&
		    set(ZSTD_c_hashLog, 17) && set(ZSTD_c_minMatch, 5);
	if (!ok) {
		fputs("zstd-params: zstd refused the parameters\n", stderr);
		return 1;
	}
	if (nftw(argv[1], one_file, 16, FTW_PHYS) != 0)
		return 1;
	printf("level=%d setting=%s in=%llu stored=%llu ratio=%.4f "
	    "zstd_cpu_s=%.2f\n", level, argv[3], bytes_in, bytes_out,
	    bytes_in ? (double)bytes_out / (double)bytes_in : 0.0, cpu);
	ZSTD_freeCCtx(cctx);
	free(piece);
	free(dst);
	return 0;
}
