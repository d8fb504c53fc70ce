#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# forget.sh: forget by policy and by id, --dry-run, --prune.
. "$(dirname "$0")/lib.sh"
setup
init_repo

MiB=$((1024 * 1024))
SRC=$T/src
mkdir -p "$SRC/stable" "$SRC/changing" "$T/states"
rand_file "$SRC/stable/base.bin" $((2 * MiB))
text_file "$SRC/stable/notes.txt" 200000

ids=()
snap_round() { # N: new unique data, backup, remember the state
	rm -f "$SRC"/changing/*
	rand_file "$SRC/changing/round-$1.bin" $((3 * MiB))
	printf 'round %s\n' "$1" >"$SRC/changing/round.txt"
	backup_json --tag "round$1" "$SRC"
	ids+=("$SNAP")
	cp -a "$SRC" "$T/states/$1"
	sleep 1.1 # distinct seconds
}

snapshot_ids() { # the ids listed by snapshots --json, oldest first
	cf --json snapshots
	json_one_doc "$T/last.out" array
	json_array_values "$T/last.out" id
}

for n in 1 2 3 4; do snap_round "$n"; done
mapfile -t listed < <(snapshot_ids)
assert_eq "${#listed[@]}" 4 "snapshots after 4 backups"
for i in 0 1 2 3; do
	[[ ${ids[i]} == "${listed[i]}"* || ${listed[i]} == "${ids[i]}"* ]] ||
		fail "snapshots --json not oldest first: position $i is ${listed[i]}, expected ${ids[i]}"
done

# --- --dry-run changes nothing
repo_digest "$T/repo" >"$T/d0"
cf forget --keep-last 2 --dry-run
assert_contains "$T/last.out" "forget +${ids[0]:0:8}" "forget --dry-run output"
repo_digest "$T/repo" >"$T/d1"
diff -q "$T/d0" "$T/d1" >/dev/null || fail "forget --dry-run changed the repository"

# --- --keep-last 2 keeps exactly the two newest
cf forget --keep-last 2
for i in 0 1; do assert_contains "$T/last.out" "^forget +${ids[i]:0:8}" "forget output"; done
for i in 2 3; do assert_contains "$T/last.out" "^keep +${ids[i]:0:8}" "forget output"; done
mapfile -t listed < <(snapshot_ids)
assert_eq "${#listed[@]}" 2 "snapshots after forget --keep-last 2"
[[ ${listed[0]} == "${ids[2]:0:8}"* && ${listed[1]} == "${ids[3]:0:8}"* ]] ||
	fail "forget --keep-last 2 kept ${listed[*]}, expected ${ids[2]:0:8} ${ids[3]:0:8}"
# forget without prune frees no data: the forgotten snapshot's data is
# still there (prune removes it), and the kept ones restore
cf restore "${ids[3]}" --target "$T/r4"
compare_trees "$T/states/4" "$T/r4$SRC"

# --- forget by id (8-digit prefix)
cf forget "${ids[2]:0:8}"
mapfile -t listed < <(snapshot_ids)
assert_eq "${#listed[@]}" 1 "snapshots after forgetting one by id"
[[ ${listed[0]} == "${ids[3]:0:8}"* ]] || fail "forget by id removed the wrong snapshot: left ${listed[0]}"
expect_exit 1 restore "${ids[2]:0:8}" --target "$T/gone"

# --- more snapshots, then --keep-last 1 --prune shrinks the repository
for n in 5 6 7; do snap_round "$n"; done
cf check
size_before=$(du_bytes "$T/repo")
cf forget --keep-last 1 --prune
assert_contains "$T/last.out" 'removed [0-9]+ packs' "forget --prune output (prune summary)"
mapfile -t listed < <(snapshot_ids)
assert_eq "${#listed[@]}" 1 "snapshots after forget --keep-last 1 --prune"
[[ ${listed[0]} == "${ids[6]:0:8}"* ]] || fail "forget --keep-last 1 kept ${listed[0]}, expected ${ids[6]:0:8}"
size_after=$(du_bytes "$T/repo")
# rounds 4, 5, 6 had 3 MiB of unique random data each
((size_before - size_after > 6 * MiB)) ||
	fail "forget --prune freed only $((size_before - size_after)) bytes ($size_before -> $size_after); at least 9 MiB of data became unused"
cf check --read-data
cf restore latest --target "$T/r7"
compare_trees "$T/states/7" "$T/r7$SRC"

# --- a policy that keeps everything: nothing forgotten
snap_round 8
cf forget --keep-last 10
assert_not_contains "$T/last.out" '^forget ' "forget --keep-last 10 with 2 snapshots"
mapfile -t listed < <(snapshot_ids)
assert_eq "${#listed[@]}" 2 "snapshots after forget --keep-last 10"

# --- --keep-daily 1: both snapshots are of today, only the newest is kept
cf forget --keep-daily 1
mapfile -t listed < <(snapshot_ids)
assert_eq "${#listed[@]}" 1 "snapshots after forget --keep-daily 1 (same day)"
[[ ${listed[0]} == "${ids[7]:0:8}"* ]] || fail "forget --keep-daily 1 kept ${listed[0]}, expected the newest ${ids[7]:0:8}"

pass
