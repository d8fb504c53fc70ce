#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# roundtrip.sh: backup then restore of a tree with every kind of entry,
# compared bit-exactly with its metadata; --include, --overwrite, ls.
. "$(dirname "$0")/lib.sh"
setup

SRC=$T/src
make_rich_tree "$SRC" 1
init_repo

cf backup "$SRC"
assert_contains "$T/last.out" '^snapshot [0-9a-f]{8} saved' "backup summary"
assert_contains "$T/last.out" '^files: ' "backup summary"
cf snapshots
assert_eq "$(grep -c -E '^[0-9a-f]{8} ' "$T/last.out")" 1 "snapshot lines in 'snapshots'"

# --- full restore
cf restore latest --target "$T/r1"
assert_contains "$T/last.out" '^restored [0-9]+ files, [0-9]+ directories, [0-9]+ bytes' "restore summary"
compare_trees "$SRC" "$T/r1$SRC"

# --- the same restore as root without the capability to bypass
# permissions (as an ordinary user restores): read-only directories must
# still receive their contents
NOCAP=()
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null 2>&1; then
	# shellcheck disable=SC2054 # one argument with commas
	NOCAP=(setpriv --bounding-set=-dac_override,-dac_read_search)
	CF_WRAP=("${NOCAP[@]}")
	cf restore latest --target "$T/r1-nocap"
	CF_WRAP=()
	compare_trees "$SRC" "$T/r1-nocap$SRC"
	rm -rf "$T/r1-nocap"
fi

# --- the restore target holds nothing but the ancestors of $SRC and $SRC
while IFS= read -r -d '' p; do
	rel=${p#"$T/r1"}
	[[ $SRC/ == "$rel"/* || $rel == "$SRC" || $rel == "$SRC"/* ]] ||
		fail "restore wrote $(printf '%q' "$p"), outside the backed-up path"
done < <(find "$T/r1" -mindepth 1 -print0)

# --- restore --include of one subdirectory restores only that
cf restore latest --target "$T/r2" --include "$SRC/sub"
compare_trees "$SRC/sub" "$T/r2$SRC/sub"
while IFS= read -r -d '' p; do
	rel=${p#"$T/r2"}
	[[ $SRC/sub/ == "$rel"/* || $rel == "$SRC/sub" || $rel == "$SRC/sub"/* ]] ||
		fail "restore --include $SRC/sub also restored $(printf '%q' "$rel")"
done < <(find "$T/r2" -mindepth 1 -print0)
[[ -f $T/r2$SRC/sub/hard-c ]] || fail "--include: hard link whose other names are outside was not restored"

# --include of a single file with an awkward name
cf restore latest --target "$T/r3" --include "$SRC/names/new"$'\n'"line"
[[ -f $T/r3$SRC/names/new$'\n'line ]] || fail "--include of a single file did not restore it"
cmp -s "$SRC/names/new"$'\n'"line" "$T/r3$SRC/names/new"$'\n'"line" || fail "--include of a single file: content differs"
assert_eq "$(find "$T/r3" -type f -printf . | wc -c | tr -d ' ')" 1 "files restored by --include of one file"

# --include of a path the snapshot does not hold is an error, not silence
expect_exit 1 restore latest --target "$T/r4" --include "$SRC/no-such-file"
grep -q "not in this snapshot" "$T/last.err" || fail "--include of a missing path: no clear message"

# --- restore into an existing target: refused without --overwrite
victim="$T/r1$SRC/docs/small.txt"
chmod u+w "$victim"
printf 'changed locally after the restore\n' >"$victim"
sum=$(sha256sum <"$victim")
expect_exit 1 restore latest --target "$T/r1"
assert_error_format
assert_eq "$(sha256sum <"$victim")" "$sum" "existing file after a restore without --overwrite"
# ... and done with --overwrite, also over the read-only directory the
# first restore made (as root: without the capability to bypass
# permissions, as an ordinary user runs it)
[[ ${#NOCAP[@]} == 0 ]] || CF_WRAP=("${NOCAP[@]}")
cf restore latest --target "$T/r1" --overwrite
CF_WRAP=()
compare_trees "$SRC" "$T/r1$SRC"

# --- symlinks planted in the target are never followed, even with
# --overwrite: nothing is written outside the target
mkdir -p "$T/outside-dir" "$T/r5$SRC/docs"
printf 'outside, must stay\n' >"$T/outside.txt"
ln -s "$T/outside.txt" "$T/r5$SRC/docs/small.txt"
ln -s "$T/outside-dir" "$T/r5$SRC/sub"
run_cf restore latest --target "$T/r5" --overwrite
assert_eq "$(cat "$T/outside.txt")" "outside, must stay" "file outside the target after restore --overwrite over a symlink"
[[ -z $(find "$T/outside-dir" -mindepth 1) ]] || fail "restore --overwrite wrote through a symlink planted in the target: $(find "$T/outside-dir" -mindepth 1 | head -n 3)"
rm -rf "$T/r5" "$T/outside-dir" "$T/outside.txt"

# --- ls latest: every entry, one line each, absolute paths
cf ls latest
cp "$T/last.out" "$T/ls.all"
n_src=$(count_entries "$SRC")
n_ls_exact=$(awk -v p="$SRC/" 'index($0, p) == 1' "$T/ls.all" | wc -l | tr -d ' ')
assert_eq "$n_ls_exact" "$n_src" "lines of 'ls latest' under $SRC (entries in the tree: find)"
# lines outside $SRC are only its ancestor directories
while IFS= read -r line; do
	[[ $line == /* ]] || fail "ls line is not an absolute path: '$line'"
	case $line in
	"$SRC"/*) ;;
	*) [[ $SRC/ == "$line"* && $line == */ ]] || fail "ls lists '$line', not under $SRC nor an ancestor directory" ;;
	esac
done <"$T/ls.all"
grep -q -x -F "$SRC/" "$T/ls.all" || fail "ls does not list $SRC/ (directories end in /)"
grep -q -x -F "$SRC/empty2/nested-empty/" "$T/ls.all" || fail "ls does not list an empty directory with a trailing /"
grep -q -x -F "$SRC/docs/small.txt" "$T/ls.all" || fail "ls does not list $SRC/docs/small.txt"
grep -q -x -F "$SRC/names/new\\nline" "$T/ls.all" || fail "ls does not show a newline in a name as \\n"
grep -q -x -F "$SRC/names/back\\\\slash" "$T/ls.all" || fail "ls does not show a backslash as \\\\"
grep -q -x -F "$SRC/names/bad\\xffbyte" "$T/ls.all" || fail "ls does not show byte 0xff as \\xff"
grep -q -x -F "$SRC/names/tab\\tname" "$T/ls.all" || fail "ls does not show a tab as \\t"
grep -q -F -- "$SRC/names/-rf --help" "$T/ls.all" || fail "ls does not list the name with a leading dash"
if LC_ALL=C grep -q '[[:cntrl:]]' "$T/ls.all"; then
	fail "ls output contains raw control characters"
fi

# --- ls latest PATH filters
cf ls latest "$SRC/sub"
cp "$T/last.out" "$T/ls.sub"
while IFS= read -r line; do
	[[ $line == "$SRC/sub"/* ]] || fail "ls latest $SRC/sub printed '$line'"
done <"$T/ls.sub"
n_sub=$(grep -c -v -x -F "$SRC/sub/" "$T/ls.sub" || true)
assert_eq "$n_sub" "$(find "$SRC/sub" -mindepth 1 -printf . | wc -c)" "entries listed by ls latest $SRC/sub"
grep -q -x -F "$SRC/sub/deeper/deepest/leaf.bin" "$T/ls.sub" || fail "ls latest $SRC/sub misses a deep file"

# --- ls -l: five fields and the path
cf ls -l latest "$SRC/docs"
grep -E -q "^[^ ]+ +[0-9]+ +[0-9-]+ +[0-9:]+ +$SRC/docs/small.txt\$" "$T/last.out" ||
	fail "ls -l line for small.txt not 'MODE SIZE DATE TIME PATH':
$(grep -F small.txt "$T/last.out")"
grep -E -q " 6 +2001-02-03 +[0-9:]+ +$SRC/docs/small.txt\$" "$T/last.out" ||
	note "ls -l shows small.txt (6 bytes, 2001-02-03) as: $(grep -F small.txt "$T/last.out")"

# --- a second backup of the same tree, and restore by id prefix
cf --json backup "$SRC"
id2=$(json_get "$T/last.out" snapshot)
cf restore "${id2:0:8}" --target "$T/r4"
compare_trees "$SRC" "$T/r4$SRC"

# --- --exclude: a base-name pattern and an absolute path
cf --json backup --exclude '*.bin' --exclude "$SRC/names" "$SRC"
idx=$(json_get "$T/last.out" snapshot)
cf ls "${idx:0:8}"
assert_not_contains "$T/last.out" '\.bin$' "ls of a backup with --exclude '*.bin'"
assert_not_contains "$T/last.out" "^$SRC/names/" "ls of a backup with --exclude $SRC/names"
assert_contains "$T/last.out" "^$SRC/docs/small\\.txt\$" "ls of a backup with --exclude"
assert_contains "$T/last.out" "^$SRC/media/sparse\\.img\$" "ls of a backup with --exclude"

pass
