#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# json.sh: --json output of every command that has it is one JSON document
# with the fields of docs/cli.md; progress appears on a terminal only.
. "$(dirname "$0")/lib.sh"
setup
init_repo
me=$(pubid "$COFFRE_IDENTITY")

MiB=$((1024 * 1024))
SRC=$T/src
mkdir -p "$SRC/d/e"
rand_file "$SRC/d/a.bin" $((3 * MiB))
text_file "$SRC/d/b.txt" 300000
printf 'quote " backslash \\ tab \t end\n' >"$SRC/d/e/weird.txt"
ln -s ../d/a.bin "$SRC/d/e/link"
chmod 0640 "$SRC/d/b.txt"
touch -d '2011-11-11 11:11:11' "$SRC/d/b.txt"
# a name that needs escaping in JSON
printf 'x\n' >"$SRC/d/name \"quoted\" \\ back"
printf 'y\n' >"$SRC/d/e/ctl"$'\n'"new"$'\t'"tab"$'\x01'"soh"
printf 'z\n' >"$SRC/d/e/latin1-"$'\xe9'"t"$'\xe9'

# --- backup --json
cf --json backup --tag json-test "$SRC"
cp "$T/last.out" "$T/backup.json"
json_one_doc "$T/backup.json" object
json_has_keys "$T/backup.json" snapshot files_new files_changed files_unchanged dirs \
	bytes_read bytes_total bytes_added bytes_stored errors duration_seconds
snap=$(json_get "$T/backup.json" snapshot)
[[ $snap =~ ^[0-9a-f]{64}$ ]] || fail "backup --json snapshot is not 64 hex: $snap"
assert_eq "$(json_get "$T/backup.json" files_new)" 6 "backup --json files_new"
assert_eq "$(json_get "$T/backup.json" errors)" 0 "backup --json errors"
for k in bytes_read bytes_total bytes_added bytes_stored dirs; do
	[[ $(json_get "$T/backup.json" $k) =~ ^[0-9]+$ ]] || fail "backup --json $k is not an integer"
done
[[ $(json_get "$T/backup.json" duration_seconds) =~ ^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] ||
	fail "backup --json duration_seconds is not a number"
((bt = $(json_get "$T/backup.json" bytes_total), bt >= 3 * MiB)) || fail "backup --json bytes_total too small: $bt"
[[ -z $(grep -v -E '^[[:space:]]*$' "$T/last.err" || true) ]] ||
	note "backup --json wrote on stderr: $(head -n 3 "$T/last.err")"

# --- snapshots --json
cf --json snapshots
cp "$T/last.out" "$T/snapshots.json"
json_one_doc "$T/snapshots.json" array
json_has_keys "$T/snapshots.json" id time hostname username paths tags tree author \
	author_name author_member files dirs bytes
assert_eq "$(json_count "$T/snapshots.json" id)" 1 "snapshots --json elements"
assert_eq "$(json_get "$T/snapshots.json" id)" "$snap" "snapshots --json id"
assert_eq "$(json_get "$T/snapshots.json" author)" "$me" "snapshots --json author"
assert_eq "$(json_get "$T/snapshots.json" author_member)" true "snapshots --json author_member"
assert_eq "$(json_get "$T/snapshots.json" author_name)" owner "snapshots --json author_name"
[[ $(json_get "$T/snapshots.json" time) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|\+00:00)$ ]] ||
	fail "snapshots --json time is not RFC 3339 UTC: $(json_get "$T/snapshots.json" time)"
assert_eq "$(json_get "$T/snapshots.json" hostname)" "$(uname -n)" "snapshots --json hostname"
grep -q -F '"json-test"' "$T/snapshots.json" || fail "snapshots --json does not list the tag"
grep -q -F "\"$SRC\"" "$T/snapshots.json" || fail "snapshots --json does not list the path $SRC"
if have_jq; then
	[[ $(jq -r '.[0].files' "$T/snapshots.json") =~ ^[67]$ ]] || fail "snapshots --json files: $(jq -r '.[0].files' "$T/snapshots.json"), expected 6 (or 7 counting the symlink)"
	assert_eq "$(jq -r '.[0].paths | length' "$T/snapshots.json")" 1 "snapshots --json paths"
fi

# --- ls --json
cf --json ls latest "$SRC"
cp "$T/last.out" "$T/ls.json"
json_one_doc "$T/ls.json" array
json_has_keys "$T/ls.json" path type mode size mtime uid gid target
if have_jq; then
	assert_eq "$(jq -r --arg p "$SRC/d/e/link" '.[] | select(.path == $p) | .type' "$T/ls.json")" symlink "ls --json type of a symlink"
	assert_eq "$(jq -r --arg p "$SRC/d/e/link" '.[] | select(.path == $p) | .target' "$T/ls.json")" ../d/a.bin "ls --json symlink target"
	assert_eq "$(jq -r --arg p "$SRC/d/b.txt" '.[] | select(.path == $p) | .mode' "$T/ls.json")" 0640 "ls --json mode (octal string)"
	assert_eq "$(jq -r --arg p "$SRC/d/b.txt" '.[] | select(.path == $p) | .size' "$T/ls.json")" 300000 "ls --json size"
	assert_eq "$(jq -r --arg p "$SRC/d/b.txt" '.[] | select(.path == $p) | .type' "$T/ls.json")" file "ls --json type of a file"
	lsm=$(jq -r --arg p "$SRC/d/b.txt" '.[] | select(.path == $p) | .mtime' "$T/ls.json")
	[[ $lsm =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] ||
		fail "ls --json mtime is not RFC 3339: $lsm"
	assert_eq "$(date -d "$lsm" +%s)" "$(date -d '2011-11-11 11:11:11' +%s)" "ls --json mtime ($lsm)"
	assert_eq "$(jq -r --arg p "$SRC/d/e" '.[] | select(.path == $p or .path == $p + "/") | .type' "$T/ls.json")" dir "ls --json type of a directory"
	assert_eq "$(jq -r --arg p "$SRC/d/name \"quoted\" \\ back" '[.[] | select(.path == $p)] | length' "$T/ls.json")" 1 "ls --json escaping of a name with quotes and backslash"
	assert_eq "$(jq -r --arg p "$SRC/d/e/ctl"$'\n'"new"$'\t'"tab"$'\x01'"soh" '[.[] | select(.path == $p)] | length' "$T/ls.json")" 1 "ls --json escaping of control characters"
	assert_eq "$(jq -r --arg p "$SRC/" '[.[] | select(.path | startswith($p))] | length' "$T/ls.json")" \
		"$(find "$SRC" -mindepth 1 -printf . | wc -c)" "ls --json entries under $SRC"
else
	grep -q -E '"type"[[:space:]]*:[[:space:]]*"symlink"' "$T/ls.json" || fail "ls --json has no symlink entry"
	grep -q -E '"mode"[[:space:]]*:[[:space:]]*"0?640"' "$T/ls.json" || fail "ls --json has no mode \"0640\""
fi

# --- check --json, with and without --read-data
cf --json check
cp "$T/last.out" "$T/check.json"
json_one_doc "$T/check.json" object
json_has_keys "$T/check.json" ok errors snapshots packs blobs read_data
assert_eq "$(json_get "$T/check.json" ok)" true "check --json ok"
assert_eq "$(json_get "$T/check.json" read_data)" false "check --json read_data"
assert_eq "$(json_get "$T/check.json" snapshots)" 1 "check --json snapshots"
cf --json check --read-data
json_one_doc "$T/last.out" object
assert_eq "$(json_get "$T/last.out" read_data)" true "check --json --read-data read_data"
# a damaged repository: ok false, errors listed, exit 3
cp -a "$T/repo" "$T/bad"
p=$(packs "$T/bad" | head -n 1)
flip_byte "$p" 200
expect_exit 3 -r "$T/bad" --json check --read-data
json_one_doc "$T/last.out" object
assert_eq "$(json_get "$T/last.out" ok)" false "check --json ok on a damaged repository"
if have_jq; then
	(($(jq -r '.errors | length' "$T/last.out") >= 1)) || fail "check --json lists no error on a damaged repository"
fi

# --- member list --json
cf --json member list
json_one_doc "$T/last.out" array
json_has_keys "$T/last.out" public role name fingerprint added verified
assert_eq "$(json_get "$T/last.out" public)" "$me" "member list --json public"
assert_eq "$(json_get "$T/last.out" role)" full "member list --json role"
assert_eq "$(json_get "$T/last.out" verified)" true "member list --json verified"

# --- id show --json
cf --json id show
json_one_doc "$T/last.out" object
json_has_keys "$T/last.out" public fingerprint name file

# --- progress: on a terminal (stderr a tty) a progress line with a rate
# or ETA; without a terminal, none.  Enough data for the progress to tick.
PSRC=$T/psrc
mkdir -p "$PSRC"
head -c $((96 * MiB)) /dev/urandom | split -b $((2 * MiB)) -a 3 - "$PSRC/part-"
# a progress line: files and bytes done; after a while a rate and an ETA
progress_re='ETA|[0-9]+:[0-9]{2} left|[0-9.]+ ?[KMGT]?i?B/s|[0-9]+(/[0-9]+)? files'
rate_re='ETA|[0-9]+:[0-9]{2} left|[0-9.]+ ?[KMGT]?i?B/s'
cmd=$(printf '%q ' "$COFFRE" --cache-dir "$T/pcache1" backup "$PSRC")
timeout 300 script -qec "$cmd >$(printf '%q' "$T/tty.stdout")" /dev/null </dev/null >"$T/tty.out" 2>&1 ||
	fail "backup under script(1) failed: $(tail -c 600 "$T/tty.out")"
assert_contains "$T/tty.out" "$progress_re" "progress on a terminal (stderr)"
assert_contains "$T/tty.stdout" '^snapshot [0-9a-f]{8} saved' "summary on stdout under a terminal"
secs=$(sed -n -E 's/^read: .* in ([0-9]+)(\.[0-9]+)? s.*/\1/p' "$T/tty.stdout")
if [[ $secs =~ ^[0-9]+$ ]] && ((secs >= 3)); then
	assert_contains "$T/tty.out" "$rate_re" "rate or ETA in the progress of a ${secs} s backup"
fi
# --quiet on a terminal: no progress, no summary
cmd=$(printf '%q ' "$COFFRE" --cache-dir "$T/pcache2" -q backup "$PSRC")
timeout 300 script -qec "$cmd >$(printf '%q' "$T/tty-q.stdout")" /dev/null </dev/null >"$T/tty-q.out" 2>&1 ||
	fail "backup -q under script(1) failed: $(tail -c 600 "$T/tty-q.out")"
assert_not_contains "$T/tty-q.out" "$progress_re" "progress with --quiet"
[[ ! -s $T/tty-q.stdout ]] || fail "backup --quiet printed a summary: $(head -n 3 "$T/tty-q.stdout")"
# no terminal: stderr holds no progress
cf --cache-dir "$T/pcache3" backup "$PSRC"
assert_not_contains "$T/last.err" "$progress_re" "progress without a terminal"
assert_not_contains "$T/last.err" $'\r' "carriage returns without a terminal"
assert_contains "$T/last.out" '^snapshot [0-9a-f]{8} saved' "summary without a terminal"
# --json on a terminal: stdout is still exactly one JSON document
cmd=$(printf '%q ' "$COFFRE" --cache-dir "$T/pcache4" --json backup "$PSRC")
timeout 300 script -qec "$cmd >$(printf '%q' "$T/tty-json.stdout")" /dev/null </dev/null >"$T/tty-json.out" 2>&1 ||
	fail "backup --json under script(1) failed"
json_one_doc "$T/tty-json.stdout" object

pass
