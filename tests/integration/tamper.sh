#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# tamper.sh: a host that alters the repository is caught.  Each attack runs
# on a fresh copy of one repository; `check --read-data` must exit 3 and
# name the damaged object, and `restore` must fail with exit 3 without
# leaving a wrong file behind.
#
# Rule for what a failed restore may leave in its target (check_partial_
# restore in lib.sh): a regular file whose size equals the original's must
# be bit-exact; a file of another size counts as a partial file of the
# failed restore.  A full-size file with wrong content (for example a
# preallocated file with a hole where the tampered chunk was, or
# unauthenticated bytes) is a failure.
. "$(dirname "$0")/lib.sh"
setup
init_repo

MiB=$((1024 * 1024))
SRC=$T/src
mkdir -p "$SRC/a" "$SRC/b"
rand_file "$SRC/a/big1.bin" $((18 * MiB))
rand_file "$SRC/b/big2.bin" $((14 * MiB))
rand_file "$SRC/a/mid.bin" $((5 * MiB))
text_file "$SRC/b/text.txt" $((3 * MiB))
for i in $(seq 1 30); do
	printf 'small file %d\n' "$i" >"$SRC/a/s$i.txt"
done

cf backup "$SRC"
cf check --read-data
assert_contains "$T/last.out" 'no errors found' "check of a clean repository"
cf --json check --read-data
assert_eq "$(json_get "$T/last.out" ok)" true "check --json ok on a clean repository"
cf restore latest --target "$T/clean-restore"
compare_trees "$SRC" "$T/clean-restore$SRC"
rm -rf "$T/clean-restore"

mapfile -t P < <(packs "$T/repo")
((${#P[@]} >= 2)) || fail "setup: expected at least 2 packs for ~40 MiB, found ${#P[@]}"
note "${#P[@]} packs"
cp -a "$T/repo" "$T/pristine"

# a second repository, same identity, same data
cf -r "$T/repo2" init
cf -r "$T/repo2" backup "$SRC"
cf -r "$T/repo2" check --read-data # (also catches a files cache shared across repositories)

objname() { basename "$1"; } # the hex name of an object file

# attack NAME RESTORE_RULE: run after "$W" (a fresh copy) was damaged;
# $NAMES holds hex names of which the check output must mention one
# (first 8 hex digits).  RESTORE_RULE: strict (restore must exit 3) or
# lenient (the damage may not touch restored data: exit 0 with a bit-exact
# tree, or exit 3).
attack() {
	local name=$1 rule=$2 n found=0
	expect_exit 3 -r "$W" check --read-data
	cat "$T/last.out" "$T/last.err" >"$T/check-$name.txt"
	assert_contains "$T/check-$name.txt" '[1-9][0-9]* errors? found' "check --read-data summary after '$name'"
	for n in $NAMES; do
		grep -q -a -i "${n:0:8}" "$T/check-$name.txt" && found=1
	done
	((found)) || fail "check --read-data after '$name' does not name the damaged object (${NAMES:0:8}...):
$(head -n 20 "$T/check-$name.txt")"
	run_cf -r "$W" restore latest --target "$T/tgt-$name"
	if [[ $rule == lenient && $RC == 0 ]]; then
		compare_trees "$SRC" "$T/tgt-$name$SRC"
	elif [[ $RC != 3 ]]; then
		fail "restore after '$name' exited $RC, expected 3
$(show_last)"
	fi
	if [[ $RC != 0 ]]; then
		assert_error_format
		check_partial_restore "$SRC" "$T/tgt-$name$SRC"
	fi
	rm -rf "$T/tgt-$name" "$W"
	note "attack '$name' detected"
}

fresh() {
	W=$T/work
	rm -rf "$W"
	cp -a "$T/pristine" "$W"
	mapfile -t WP < <(packs "$W")
}

# (a) one byte flipped inside the first blob of the largest pack
fresh
flip_byte "${WP[0]}" 170
NAMES=$(objname "${WP[0]}")
# a restore after a disaster goes on past the one damaged file: every
# other file comes back, bit-exact (checked by check_partial_restore)
run_cf -r "$W" restore latest --target "$T/tgt-goes-on"
[[ $RC == 3 ]] || fail "restore with one damaged blob exited $RC, expected 3"
grep -q "not restored because their stored data failed verification" "$T/last.err" ||
	fail "restore with one damaged blob does not say what was left out: $(show_last)"
nrestored=$(find "$T/tgt-goes-on" -type f | wc -l)
nsrc=$(find "$SRC" -type f | wc -l)
((nrestored >= nsrc - 2 && nrestored > 0)) ||
	fail "restore stopped at the damaged blob: $nrestored of $nsrc files restored"
check_partial_restore "$SRC" "$T/tgt-goes-on$SRC"
rm -rf "$T/tgt-goes-on"
attack flip-pack strict

# (a2) one byte flipped in the pack's trailer (header length)
fresh
flip_byte "${WP[0]}" $(($(stat -c %s "${WP[0]}") - 2))
NAMES=$(objname "${WP[0]}")
attack flip-pack-trailer lenient

# (b) the largest pack truncated to half
fresh
truncate -s $(($(stat -c %s "${WP[0]}") / 2)) "${WP[0]}"
NAMES=$(objname "${WP[0]}")
expect_exit 3 -r "$W" check # a size mismatch needs no --read-data
attack truncate-pack strict

# (c) two packs swapped (each renamed to the other's name)
fresh
mv "${WP[0]}" "$T/swap.tmp"
mv "${WP[1]}" "${WP[0]}"
mv "$T/swap.tmp" "${WP[1]}"
NAMES="$(objname "${WP[0]}") $(objname "${WP[1]}")"
attack swap-packs strict

# (d) a pack of the other repository (same identity, same data) copied
# over the largest pack, under the first repository's name
fresh
mapfile -t P2 < <(packs "$T/repo2")
cp "${P2[0]}" "${WP[0]}"
NAMES=$(objname "${WP[0]}")
attack foreign-pack strict

# (e) one byte flipped in the middle of an index file
fresh
mapfile -t IX < <(find "$W/index" -type f -printf '%s %p\n' | sort -nr | cut -d' ' -f2-)
((${#IX[@]} >= 1)) || fail "setup: no index file"
flip_byte "${IX[0]}" $(($(stat -c %s "${IX[0]}") / 2))
NAMES=$(objname "${IX[0]}")
expect_exit 3 -r "$W" check # an index is read by the structural check
attack flip-index strict

# (f) one byte flipped in the middle of the snapshot object
fresh
mapfile -t SN < <(find "$W/snapshots" -type f)
assert_eq "${#SN[@]}" 1 "snapshot objects"
flip_byte "${SN[0]}" $(($(stat -c %s "${SN[0]}") / 2))
NAMES=$(objname "${SN[0]}")
expect_exit 3 -r "$W" check
expect_exit 3 -r "$W" snapshots
attack flip-snapshot strict

# (g) a pack deleted: the structural check finds it; restore fails
fresh
rm "${WP[0]}"
NAMES=$(objname "${WP[0]}")
expect_exit 3 -r "$W" check
cat "$T/last.out" "$T/last.err" >"$T/check-missing.txt"
grep -q -a -i "${NAMES:0:8}" "$T/check-missing.txt" || fail "check does not name the missing pack ${NAMES:0:8}:
$(head -n 20 "$T/check-missing.txt")"
run_cf -r "$W" restore latest --target "$T/tgt-missing"
[[ $RC != 0 ]] || fail "restore with a missing pack exited 0"
check_partial_restore "$SRC" "$T/tgt-missing$SRC"
rm -rf "$T/tgt-missing"

# (h) the other repository's snapshot dropped into this one
fresh
mapfile -t SN2 < <(find "$T/repo2/snapshots" -type f)
cp "${SN2[0]}" "$W/snapshots/"
NAMES=$(objname "${SN2[0]}")
expect_exit 3 -r "$W" check
cat "$T/last.out" "$T/last.err" >"$T/check-foreign-snap.txt"
grep -q -a -i "${NAMES:0:8}" "$T/check-foreign-snap.txt" || fail "check does not name the foreign snapshot ${NAMES:0:8}"
expect_exit 3 -r "$W" snapshots

# (i) the host replaces the whole repository with one of its own, whose
# key it holds, naming the user as a full member, to collect the next
# backups: the key pinned on first use for this location must refuse it.
# (The host's repository is made with the host's own HOME: it is not
# pinned on the user's side.)
me=$(pubid "$COFFRE_IDENTITY")
(
	export HOME=$T/hosthome XDG_CONFIG_HOME=$T/hosthome/.config XDG_CACHE_HOME=$T/hosthome/.cache
	export COFFRE_IDENTITY=$T/ids/host
	mkdir -p "$HOME"
	new_identity "$COFFRE_IDENTITY" host
	cf -r "$T/hostrepo" init
	cf -r "$T/hostrepo" member add "$me" --name victim
)
fresh
rm -rf "${W:?}"/*
cp -a "$T/hostrepo/." "$W/"
run_cf -r "$W" backup "$SRC"
[[ $RC != 0 ]] || fail "a backup went into a repository the host swapped in (its own key, a new repository id) at the pinned location: the host can read it"
[[ -z $(find "$W/snapshots" -type f) ]] || fail "a snapshot was written into the host's swapped-in repository"
assert_error_format

# the pristine repository is still fine (the attacks worked on copies)
cf -r "$T/pristine" check --read-data
pass
