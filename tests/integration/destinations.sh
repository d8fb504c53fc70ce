#!/usr/bin/env bash
# destinations.sh: one repository kept at two destinations (two directories).
# init and backup write both, and either restores alone; an unplugged
# destination, and one that fills up in the middle of a backup, leave the
# backup complete on the other with exit 7 and the lag named; sync brings
# them level and adds a third destination; 1,000 byte flips, truncations and
# deletions spread over one destination are each found and repaired from the
# other; a profile names the destinations.
. "$(dirname "$0")/lib.sh"
setup

A=$T/a
B=$T/b
SRC=$T/src
SMALL=$T/small
mounted=0
# Unmount the small file system before the scratch directory goes.
trap 'rc=$?; set +e; [[ $mounted == 1 ]] && umount -l "$SMALL" 2>/dev/null; (exit $rc); _cleanup' EXIT

# objects DIR: the repository's objects in DIR with their checksums.
objects() {
	(cd "$1" && find config keys data index snapshots -type f -print0 |
		LC_ALL=C sort -z | xargs -0 sha256sum)
}

make_rich_tree "$SRC" 0
new_identity "$COFFRE_IDENTITY" owner
cf -r "$A" -r "$B" init
[[ -f $A/config && -f $B/config ]] || fail "init did not create both destinations"
cf -r "$A" -r "$B" backup "$SRC"
[[ "$(objects "$A")" == "$(objects "$B")" ]] || fail "the destinations differ after a backup"

# --- either destination alone restores everything
cf -r "$A" restore latest --target "$T/ra"
compare_trees "$SRC" "$T/ra$SRC"
cf -r "$B" restore latest --target "$T/rb"
compare_trees "$SRC" "$T/rb$SRC"

# --- an unplugged destination: the backup completes on the other (exit 7)
mv "$B" "$T/b.away"
printf 'new letter\n' >"$SRC/docs/new-letter.txt"
expect_exit 7 -r "$A" -r "$B" backup "$SRC"
assert_contains "$T/last.err" "destination $B lags" "lag named"
assert_contains "$T/last.err" 'coffre sync' "what to do next"
assert_contains "$T/last.out" '^snapshot [0-9a-f]{8} saved' "backup summary"
mv "$T/b.away" "$B"
cf -r "$A" -r "$B" sync
assert_contains "$T/last.out" 'copies made' "sync summary"
[[ "$(objects "$A")" == "$(objects "$B")" ]] || fail "sync did not bring b level"
cf -r "$A" -r "$B" sync
assert_contains "$T/last.out" ': 0 copies made' "a second sync has nothing to do"

# --- a destination that fills up in the middle of a backup
mkdir -p "$SMALL"
need=$(du -sk "$B" | cut -f1)
if mount -t tmpfs -o size=$((need + 2048))k coffre-test "$SMALL" 2>/dev/null; then
	mounted=1
	cp -a "$B/." "$SMALL/"
	rand_file "$SRC/media/new-scan.bin" $((6 * 1024 * 1024))
	expect_exit 7 -r "$A" -r "$SMALL" backup "$SRC"
	assert_contains "$T/last.err" "destination $SMALL lags: [1-9][0-9]* objects" "lag counted"
	note "full destination: $(grep -o 'lags: [^;]*' "$T/last.err" | head -1)"
	cp "$T/last.err" "$T/full.err"
	cf -r "$SMALL" check
	umount -l "$SMALL"
	mounted=0
	cf -r "$A" -r "$B" sync
else
	note "no tmpfs mount here (not root?): the disk-full case is skipped"
	rand_file "$SRC/media/new-scan.bin" $((6 * 1024 * 1024))
	cf -r "$A" -r "$B" backup "$SRC"
fi
[[ "$(objects "$A")" == "$(objects "$B")" ]] || fail "a and b differ after the disk-full case"

# --- adding a destination: sync fills an empty one
C=$T/c
cf -r "$A" -r "$B" -r "$C" sync
[[ "$(objects "$A")" == "$(objects "$C")" ]] || fail "sync did not fill the new destination"
cf -r "$C" check --read-data

# --- damage spread over b: flips, truncations, deletions
for i in 1 2 3 4 5 6 7 8 9 10; do    # more objects to spread over
	rand_file "$SRC/docs/scan-$i.bin" $((100 * 1024 + i))
	cf -r "$A" -r "$B" backup "$SRC"
done
cp -a "$B" "$T/b.orig"
python3 - "$B" "$T/b.orig" >"$T/damage.txt" <<'EOF'
import os, random, sys
root, orig = sys.argv[1], sys.argv[2]
rng = random.Random(20261123)
files = []
for d in ("data", "index", "snapshots"):
    for dp, _, fs in os.walk(os.path.join(root, d)):
        files += [os.path.join(dp, f) for f in fs]
files.sort()
for _ in range(1000):
    f = rng.choice(files)
    if not os.path.exists(f):
        continue
    op = rng.random()
    size = os.path.getsize(f)
    if op < 0.01:
        os.unlink(f)
    elif op < 0.05 and size > 1:
        with open(f, "r+b") as h:
            h.truncate(rng.randrange(size))
    elif size > 0:
        with open(f, "r+b") as h:
            pos = rng.randrange(size)
            h.seek(pos)
            b = h.read(1)[0]
            h.seek(pos)
            h.write(bytes([b ^ (1 << rng.randrange(8))]))
missing = damaged = 0
for f in files:
    o = os.path.join(orig, os.path.relpath(f, root))
    if not os.path.exists(f):
        missing += 1
    elif open(f, "rb").read() != open(o, "rb").read():
        damaged += 1
print(missing, damaged, len(files))
EOF
read -r missing damaged total <"$T/damage.txt"
note "1000 damage operations over $total objects of b: $missing objects deleted, $damaged damaged"
(( missing + damaged > 0 )) || fail "the damage left nothing to find"

expect_exit 3 -r "$B" check --read-data
# Compared across destinations: every damaged or missing copy is named.
expect_exit 3 --json -r "$A" -r "$B" check --read-data
found=$(json_get "$T/last.out" error_count)
(( found >= missing + damaged )) || fail "check named $found problems, $((missing + damaged)) objects are damaged or missing"
cf --json -r "$A" -r "$B" check --repair
assert_eq "$(json_get "$T/last.out" repaired)" $((missing + damaged)) "copies repaired by check --repair"
assert_eq "$(json_get "$T/last.out" error_count)" 0 "problems left after check --repair"
note "check found $found problems; --repair mended $((missing + damaged)) copies"
cf --json -r "$A" -r "$B" sync --verify
assert_eq "$(json_get "$T/last.out" copied)" 0 "sync --verify after the repair"
[[ "$(objects "$A")" == "$(objects "$B")" ]] || fail "b not repaired"
cf -r "$A" check --read-data
cf -r "$B" check --read-data
cf -r "$B" restore latest --target "$T/rb2"
compare_trees "$SRC" "$T/rb2$SRC"

# --- a profile names the destinations
mkdir -p "$XDG_CONFIG_HOME/coffre"
cat >"$XDG_CONFIG_HOME/coffre/config" <<EOF
# the practice's nightly backup
[profile cabinet]
repository = $A
repository = $B
path = $SRC
exclude = *.tmp
keep-daily = 7
EOF
printf 'scratch\n' >"$SRC/docs/draft.tmp"
cf --profile cabinet backup
assert_contains "$T/last.out" '^snapshot [0-9a-f]{8} saved' "backup of the profile's paths"
[[ "$(objects "$A")" == "$(objects "$B")" ]] || fail "the profile's backup did not reach both destinations"
cf --profile cabinet ls latest "$SRC/docs"
assert_not_contains "$T/last.out" 'draft\.tmp' "the profile's exclude"
assert_contains "$T/last.out" 'new-letter\.txt' "the profile's path"
cf --profile cabinet snapshots
assert_contains "$T/last.out" '^[0-9a-f]{8} ' "snapshots through a profile"
cf --profile cabinet forget --dry-run
assert_contains "$T/last.out" '^keep ' "the profile's retention policy is used"
expect_exit 2 --profile nosuch snapshots
assert_contains "$T/last.err" "no profile 'nosuch' \(the config file defines: cabinet\)" "unknown profile named"
printf '[profile typo]\nrepositry = /x\n' >>"$XDG_CONFIG_HOME/coffre/config"
expect_exit 2 --profile cabinet snapshots
assert_contains "$T/last.err" 'line 9: unknown key' "a typo in the config file is an error"

pass
