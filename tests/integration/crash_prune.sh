#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# crash_prune.sh: a prune killed with SIGKILL at any moment loses nothing a
# remaining snapshot needs; a later prune (past the dead process's stale
# exclusive lock) completes and shrinks the repository.
. "$(dirname "$0")/lib.sh"
setup
init_repo

MiB=$((1024 * 1024))
SRC=$T/src
mkdir -p "$SRC/files" "$SRC/text" "$T/states"
for i in $(seq -w 1 24); do rand_file "$SRC/files/f$i.bin" "$MiB"; done
for i in 1 2 3 4; do text_file "$SRC/text/t$i.txt" $((MiB / 2)) "round0-$i"; done

# 5 snapshots; between them some files are replaced, one is added and an
# older addition deleted, so that forgotten data shares packs with kept data
ids=()
for round in 1 2 3 4 5; do
	if ((round > 1)); then
		for k in 1 2 3; do
			n=$(printf '%02d' $(((round * 5 + k * 7) % 24 + 1)))
			rand_file "$SRC/files/f$n.bin" "$MiB"
		done
		rand_file "$SRC/files/added-$round.bin" $((3 * MiB))
		rm -f "$SRC/files/added-$((round - 2)).bin"
		text_file "$SRC/text/t$round.txt" $((MiB / 2)) "round$round"
	fi
	backup_json "$SRC"
	ids+=("$SNAP")
	rm -rf "$T/states/$round"
	cp -a "$SRC" "$T/states/$round"
	sleep 1
done

expect_exit 0 forget --keep-last 2
cf --json snapshots
assert_eq "$(json_count "$T/last.out" id)" 2 "snapshots after forget --keep-last 2"
keep=(4 5)

restore_kept() { # REPO LABEL
	local r
	for r in "${keep[@]}"; do
		cf -r "$1" restore "${ids[r - 1]}" --target "$T/restore-$2-$r"
		compare_trees "$T/states/$r" "$T/restore-$2-$r$SRC"
		rm -rf "$T/restore-$2-$r"
	done
}

cp -a "$T/repo" "$T/pre"
size_before=$(du_bytes "$T/pre")

# --- baseline: a complete prune, for its duration
cp -a "$T/pre" "$T/base"
start=$(date +%s%N)
cf -r "$T/base" prune
dur_ms=$((($(date +%s%N) - start) / 1000000))
assert_contains "$T/last.out" 'removed [0-9]+ packs' "prune summary"
size_base=$(du_bytes "$T/base")
note "complete prune: ${dur_ms} ms, repository $size_before -> $size_base bytes: $(head -n 1 "$T/last.out")"
((size_base < size_before)) || fail "prune did not shrink the repository ($size_before -> $size_base bytes)"
cf -r "$T/base" check --read-data
restore_kept "$T/base" base
rm -rf "$T/base"

mapfile -t delays < <(kill_delays "$dur_ms" 0.2 0.5 0.8)
note "kill delays: ${delays[*]}"

killed_mid=0
W=
# the delays, then "tmp": killed the moment an object is being written
for d in "${delays[@]}" tmp; do
	[[ -z $W ]] || rm -rf "$W"
	W=$T/w-$d
	cp -a "$T/pre" "$W"
	start_bg -r "$W" prune
	bgpid=$BG_PID
	at="${d}s"
	[[ $d != tmp ]] || at="the moment tmp/ held a file"
	if [[ $d == tmp ]]; then
		if kill_when_tmp "$W" "$bgpid"; then
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
	note "delay $at: $state; $(find "$W/data" -type f | wc -l) packs, $(find "$W/index" -type f | wc -l) index files, $(find "$W/locks" -type f | wc -l) locks, $(du_bytes "$W") bytes"
	expect_exit 0 -r "$W" check --read-data
	cf -r "$W" --json snapshots
	assert_eq "$(json_count "$T/last.out" id)" 2 "snapshots after a prune killed at $at"
	restore_kept "$W" "$d"
	# a prune after the killed one (past its stale exclusive lock)
	# completes, cleans up after it, and the repository is smaller
	cf -r "$W" prune
	assert_no_tmp_leftovers "$W" "prune after a prune killed at $at"
	size_after=$(du_bytes "$W")
	((size_after < size_before)) || fail "the repository is not smaller after a prune that followed one killed at $at ($size_before -> $size_after bytes)"
	[[ -z $(find "$W/locks" -type f) ]] || fail "locks remain after the prune that followed one killed at $at"
	cf -r "$W" check
done
((killed_mid >= 1)) || fail "no prune could be killed while running (delays: ${delays[*]})"
note "$killed_mid prunes killed while running"

# --- the last repository: data intact after its completing prune
cf -r "$W" check --read-data
restore_kept "$W" final
# a second prune finds nothing more to remove
cf -r "$W" prune
size_again=$(du_bytes "$W")
((size_again <= size_after)) || fail "a second prune grew the repository ($size_after -> $size_again)"
# and a backup still works on the pruned repository
cf -r "$W" backup "$SRC"
cf -r "$W" check

pass
