#!/usr/bin/env bash
# crash_backup.sh: a backup killed with SIGKILL at any moment leaves a
# valid repository; the next backup completes (stale lock of the dead
# process ignored), re-uses what the killed run had stored, and restores
# bit-exact.
. "$(dirname "$0")/lib.sh"
setup

MiB=$((1024 * 1024))
SRC=$T/src
# ~64 MiB in many files: 40 MiB random split in 160 files, 16 MiB of text
# in 16 files, 8 MiB random in 4 files, plus small files
mkdir -p "$SRC/rand" "$SRC/text" "$SRC/big" "$SRC/small"
head -c $((40 * MiB)) /dev/urandom | split -b $((256 * 1024)) -a 3 - "$SRC/rand/part-"
for i in $(seq 1 16); do text_file "$SRC/text/t$i.txt" "$MiB" "text$i"; done
for i in 1 2 3 4; do rand_file "$SRC/big/b$i.bin" $((2 * MiB)); done
for i in $(seq 1 200); do printf 'small %d\n' "$i" >"$SRC/small/s$i"; done
nfiles=$(find "$SRC" -type f | wc -l | tr -d ' ')
note "source: $nfiles files, $(du -sb "$SRC" | cut -f1) bytes"

new_identity "$COFFRE_IDENTITY" owner
cf -r "$T/empty" init
# the pin (trust on first use) is recorded by init: copies of this empty
# repository have its id and key
cp -a "$T/empty" "$T/empty.orig"

# --- baseline: one complete backup, to know its duration and size
cp -a "$T/empty.orig" "$T/base"
start=$(date +%s%N)
cf -r "$T/base" --cache-dir "$T/cache-base" backup "$SRC"
dur_ms=$((($(date +%s%N) - start) / 1000000))
full=$(du_bytes "$T/base/data")
note "complete backup: ${dur_ms} ms, data/ $full bytes"
rm -rf "$T/base" "$T/cache-base"

# kill delays: the fixed ones shorter than the baseline, and fractions of it
mapfile -t delays < <(kill_delays "$dur_ms" 0.3 0.6 0.85)
note "kill delays: ${delays[*]}"

killed_mid=0 reuse_checked=0
# the delays, then "tmp": killed the moment an object is being written
for d in "${delays[@]}" tmp; do
	R=$T/r-$d C=$T/cache-$d
	cp -a "$T/empty.orig" "$R"
	start_bg -r "$R" --cache-dir "$C" backup "$SRC"
	bgpid=$BG_PID
	at="${d}s"
	[[ $d != tmp ]] || at="the moment tmp/ held a file"
	if [[ $d == tmp ]]; then
		if kill_when_tmp "$R" "$bgpid"; then
			state=killed
			killed_mid=$((killed_mid + 1))
		else
			state=finished
		fi
	else
		sleep "$d"
		if kill -0 "$bgpid" 2>/dev/null; then
			kill -9 "$bgpid"
			state=killed
			killed_mid=$((killed_mid + 1))
		else
			state=finished
		fi
	fi
	wait "$bgpid" 2>/dev/null || true
	grown=$(du_bytes "$R/data")
	npacks=$(find "$R/data" -type f | wc -l | tr -d ' ')
	nidx=$(find "$R/index" -type f | wc -l | tr -d ' ')
	nsnap=$(find "$R/snapshots" -type f | wc -l | tr -d ' ')
	nlocks=$(find "$R/locks" -type f | wc -l | tr -d ' ')
	note "delay $at: $state; $npacks packs ($grown bytes), $nidx index files, $nsnap snapshots, $nlocks locks"

	# the repository is valid
	expect_exit 0 -r "$R" check
	if ((nsnap > 0)); then
		cf -r "$R" snapshots
	fi

	# the next backup completes and re-uses the stored data
	cf -r "$R" --cache-dir "$C" --json backup "$SRC"
	cp "$T/last.out" "$T/backup.json"
	snap=$(json_get "$T/backup.json" snapshot)
	after=$(du_bytes "$R/data")
	growth=$((after - grown))
	note "delay $at: completing backup added $growth bytes to data/"
	if [[ $state == killed ]] && ((grown > 4 * MiB)); then
		reuse_checked=$((reuse_checked + 1))
		((growth < full - grown / 2)) ||
			fail "after a kill at $at that left $grown bytes in data/, the completing backup still added $growth bytes (a complete backup is $full): the killed run's packs were not re-used"
	fi

	cf -r "$R" restore "$snap" --target "$T/restore-$d"
	compare_trees "$SRC" "$T/restore-$d$SRC"
	cf -r "$R" check --read-data
	# an exclusive lock can be taken: no live lock left (the dead process's
	# lock is stale), and prune of the killed run's leftovers works
	cf -r "$R" prune
	cf -r "$R" check
	assert_no_tmp_leftovers "$R" "after a backup killed at $at, completed, then prune"
	[[ -z $(find "$R/locks" -type f) ]] || fail "locks remain after prune: $(ls "$R/locks")"
	rm -rf "$R" "$C" "$T/restore-$d"
done

((killed_mid >= 2)) || fail "only $killed_mid backup(s) could be killed while running (delays: ${delays[*]})"
note "$killed_mid kills while running; re-use checked after $reuse_checked of them"

# --- kill twice in a row, then complete
R=$T/twice
cp -a "$T/empty.orig" "$R"
for d in "${delays[1]:-${delays[0]}}" "${delays[-1]}"; do
	start_bg -r "$R" backup "$SRC"
	bgpid=$BG_PID
	sleep "$d"
	kill -9 "$bgpid" 2>/dev/null || true
	wait "$bgpid" 2>/dev/null || true
	cf -r "$R" check
done
cf -r "$R" backup "$SRC"
cf -r "$R" restore latest --target "$T/restore-twice"
compare_trees "$SRC" "$T/restore-twice$SRC"
cf -r "$R" check --read-data

# --- a kill between storing a pack and storing its index file leaves packs
# no index names.  Made deterministic here: a complete backup whose index
# files are then all lost.  The next backup, even by a write-only member
# (who cannot open pack keys), must index those packs from their headers
# and re-use them rather than store the data again.
R=$T/orphans
cp -a "$T/empty.orig" "$R"
cf -r "$R" --cache-dir "$T/cache-orphans" backup "$SRC"
rm -f "$R"/index/*
rm -f "$R"/snapshots/*
before=$(du_bytes "$R/data")
WO=$T/ids/orphans-wo
new_identity "$WO" orphans-wo
cf -r "$R" member add "$(pubid "$WO")" --write-only --name orphans-wo
COFFRE_IDENTITY=$WO cf -r "$R" --cache-dir "$T/cache-orphans-wo" backup "$SRC"
after=$(du_bytes "$R/data")
note "orphan packs: data/ was $before bytes, the backup after losing every index file added $((after - before))"
((after - before < before / 100)) ||
	fail "packs without index files were not re-used: data/ grew from $before to $after bytes"
cf -r "$R" check --read-data
cf -r "$R" restore latest --target "$T/restore-orphans"
compare_trees "$SRC" "$T/restore-orphans$SRC"

pass
