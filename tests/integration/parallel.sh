#!/usr/bin/env bash
# parallel.sh: the parallel pipeline means the same as the sequential one.
# One tree is backed up with --threads 1 (no worker thread: the reference)
# and with --threads 4 into two copies of one empty repository (same keys,
# so the same chunks and ids): both store the same number of
# unique blobs of the same total size, give the same snapshot tree, and
# restore (with one thread and with four) to the same, exact tree; check
# --read-data finds nothing with one thread or four.  The tree has what
# makes workers race: the same chunks in several files at once (a blob must
# be stored once even when two workers meet it together), many small and
# empty files, large files of many chunks, sparse files and hard links.
. "$(dirname "$0")/lib.sh"
setup

MiB=$((1024 * 1024))
SRC=$T/src
make_rich_tree "$SRC" 0
mkdir -p "$SRC"/{dup,many,big}
# the same 6 MiB of random data under four names, and inside a larger file
rand_file "$SRC/dup/one.bin" $((6 * MiB))
for n in two three four; do cp "$SRC/dup/one.bin" "$SRC/dup/$n.bin"; done
{ rand_file /dev/stdout $((3 * MiB)); cat "$SRC/dup/one.bin"; } >"$SRC/dup/embedded.bin"
# large files of many chunks, compressible and not
text_file "$SRC/big/records.txt" $((12 * MiB)) big
rand_file "$SRC/big/photo.raw" $((9 * MiB + 4321))
# many small files (each one job), some identical, some empty
for i in $(seq 1 400); do
	case $((i % 4)) in
	0) printf 'same small content\n' >"$SRC/many/f$i" ;;
	1) : >"$SRC/many/f$i" ;;
	2) rand_file "$SRC/many/f$i" $((i * 37)) ;;
	3) text_file "$SRC/many/f$i" $((i * 211)) "small$i" ;;
	esac
done
touch -d '2020-01-01 10:00:00' "$SRC"/dup/* "$SRC"/big/*
nfiles=$(find "$SRC" -type f | wc -l | tr -d ' ')
note "source: $nfiles files, $(du -sb --apparent-size "$SRC" | cut -f1) bytes"

new_identity "$COFFRE_IDENTITY" owner
cf -r "$T/empty" init
for t in 1 4; do
	cp -a "$T/empty" "$T/repo$t"
done
for t in 1 4; do
	cf -r "$T/repo$t" --json --cache-dir "$T/cache$t" backup --threads "$t" "$SRC"
	cp "$T/last.out" "$T/backup$t.json"
	cf -r "$T/repo$t" --json check --read-data --threads "$t"
	cp "$T/last.out" "$T/check$t.json"
	assert_eq "$(json_get "$T/check$t.json" error_count)" 0 "problems found by check --threads $t"
	cf -r "$T/repo$t" ls latest
	# the listing minus the snapshot id line
	grep -v '^snapshot ' "$T/last.out" >"$T/ls$t" || true
done

for k in files_new dirs bytes_read bytes_total bytes_added errors; do
	assert_eq "$(json_get "$T/backup4.json" $k)" "$(json_get "$T/backup1.json" $k)" \
		"$k of the backup with 4 threads (1 thread gave the reference)"
done
assert_eq "$(json_get "$T/check4.json" blobs)" "$(json_get "$T/check1.json" blobs)" \
	"unique blobs stored with 4 threads and with 1"
cmp -s "$T/ls1" "$T/ls4" || fail "the snapshots list different trees:
$(diff "$T/ls1" "$T/ls4" | head -n 20)"
# every blob is found again by a second backup without the files cache:
# only the trees of the directories above $SRC, whose mtimes moved, are new
cf -r "$T/repo4" --json --cache-dir "$T/cache-none" backup --threads 4 "$SRC"
added=$(json_get "$T/last.out" bytes_added)
((added < 4096)) || fail "a second backup with 4 threads (no files cache) added $added bytes"

# restores with 1 and 4 threads, from both repositories
for t in 1 4; do
	for r in 1 4; do
		cf -r "$T/repo$r" restore latest --target "$T/out$r-$t" --threads "$t"
		compare_trees "$SRC" "$T/out$r-$t$SRC"
	done
done
pass
