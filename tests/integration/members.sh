#!/usr/bin/env bash
# members.sh: full and write-only members; adding, listing, removing.
. "$(dirname "$0")/lib.sh"
setup

OWNER=$T/ids/owner BOB=$T/ids/bob CAROL=$T/ids/carol
new_identity "$OWNER" owner
new_identity "$BOB" bob
new_identity "$CAROL" carol
owner_pub=$(pubid "$OWNER")
bob_pub=$(pubid "$BOB")
carol_pub=$(pubid "$CAROL")
init_repo "$T/repo" "$OWNER"

MiB=$((1024 * 1024))
SRC=$T/src
mkdir -p "$SRC/x"
rand_file "$SRC/x/a.bin" $((6 * MiB))
text_file "$SRC/x/b.txt" $((2 * MiB))
printf 'small\n' >"$SRC/small.txt"
cf -i "$OWNER" backup "$SRC"

# --- before: one member; bob is not one
cf -i "$OWNER" member list
assert_eq "$(grep -c 'coffre1' "$T/last.out")" 1 "members before any add"
expect_exit 4 -i "$BOB" snapshots

# --- the owner adds bob as a full member
cf -i "$OWNER" member add "$bob_pub" --name bob
assert_contains "$T/last.out" 'added member bob \([0-9 ]+\) as full' "member add output"
cf -i "$OWNER" member list
assert_eq "$(grep -c 'coffre1' "$T/last.out")" 2 "members after adding bob"
grep -F "$bob_pub" "$T/last.out" | grep -q -w full || fail "member list does not show bob as full:
$(cat "$T/last.out")"
expect_exit nonzero -i "$OWNER" member add "$bob_pub" --name bob-again
cf -i "$OWNER" member list
assert_eq "$(grep -c 'coffre1' "$T/last.out")" 2 "members after adding bob twice"

# bob reads and restores the owner's snapshot
cf -i "$BOB" snapshots
assert_eq "$(grep -c -E '^[0-9a-f]{8} ' "$T/last.out")" 1 "snapshots seen by bob"
cf -i "$BOB" ls latest
assert_contains "$T/last.out" "^$SRC/x/a\\.bin\$" "ls by bob"
cf -i "$BOB" restore latest --target "$T/bob-restore"
compare_trees "$SRC" "$T/bob-restore$SRC"
cf -i "$BOB" check

# --- carol, write-only, added by bob (a full member can add members)
cf -i "$BOB" member add "$carol_pub" --write-only --name carol
assert_contains "$T/last.out" 'as write-only' "member add --write-only output"
cf -i "$OWNER" --json member list
json_one_doc "$T/last.out" array
assert_eq "$(json_count "$T/last.out" public)" 3 "members in member list --json"
if have_jq; then
	assert_eq "$(jq -r --arg p "$carol_pub" '.[] | select(.public == $p) | .role' "$T/last.out")" write-only "carol's role"
	assert_eq "$(jq -r '[.[] | .verified] | all' "$T/last.out")" true "every envelope verified"
fi

# carol backs up the owner's data: deduplicated through the index (own
# empty files cache), so she adds < 1%
total=$(du -sb "$SRC" | cut -f1)
backup_json -i "$CAROL" --cache-dir "$T/carol-cache" "$SRC"
carol_snap1=$SNAP
added=$(json_get "$T/backup.json" bytes_added)
((added * 100 < total)) || fail "write-only member's backup of existing data added $added bytes (>= 1% of $total)"

# carol backs up new data of her own, twice
CSRC=$T/carol-src
mkdir -p "$CSRC/deep"
rand_file "$CSRC/deep/new.bin" $((4 * MiB))
printf 'written by the write-only member\n' >"$CSRC/note.txt"
ln -s deep/new.bin "$CSRC/link"
sleep 1.1
backup_json -i "$CAROL" --cache-dir "$T/carol-cache" "$CSRC"
carol_snap2=$SNAP
added=$(json_get "$T/backup.json" bytes_added)
((added >= 4 * MiB)) || fail "write-only member's backup of 4 MiB new data reports bytes_added=$added"
ctotal=$(du -sb "$CSRC" | cut -f1)
size1=$(du_bytes "$T/repo")
backup_json -i "$CAROL" --cache-dir "$T/carol-cache" "$CSRC"
added=$(json_get "$T/backup.json" bytes_added)
((added * 100 < ctotal)) || fail "write-only member's second backup of the same data added $added bytes (>= 1%)"
size2=$(du_bytes "$T/repo")
(((size2 - size1) * 100 < ctotal)) || fail "repository grew by $((size2 - size1)) bytes on the write-only member's unchanged backup"

# --- carol cannot read anything, not even her own snapshots
expect_refusal() { # ARGS...
	expect_exit 4 -i "$CAROL" "$@"
	assert_error_format
	assert_contains "$T/last.err" 'write-only|write only' "refusal of 'coffre $*' for a write-only member"
}
expect_refusal snapshots
expect_refusal ls latest
expect_refusal ls "$carol_snap2"
expect_refusal restore "$carol_snap2" --target "$T/carol-restore"
[[ -z $(find "$T/carol-restore" -type f 2>/dev/null) ]] || fail "a write-only member's refused restore wrote files"
expect_refusal restore "$carol_snap1" --target "$T/carol-restore"
expect_refusal check --read-data
expect_refusal forget "$carol_snap2"
expect_refusal prune
expect_exit 4 -i "$CAROL" member add "$owner_pub" --name again
expect_exit 4 -i "$CAROL" member remove "$bob_pub"

# --- the owner sees carol's snapshots with her name and restores them
cf -i "$OWNER" snapshots
grep -E "^${carol_snap2:0:8} " "$T/last.out" | grep -q -w carol ||
	fail "snapshots does not show carol as the author of ${carol_snap2:0:8}:
$(cat "$T/last.out")"
cf -i "$OWNER" --json snapshots
if have_jq; then
	assert_eq "$(jq -r --arg s "$carol_snap2" '.[] | select(.id | startswith($s[0:8])) | .author_name' "$T/last.out")" carol "author_name of carol's snapshot"
	assert_eq "$(jq -r --arg s "$carol_snap2" '.[] | select(.id | startswith($s[0:8])) | .author' "$T/last.out")" "$carol_pub" "author of carol's snapshot"
else
	grep -q -F "\"$carol_pub\"" "$T/last.out" || fail "snapshots --json does not name carol's identity"
fi
cf -i "$OWNER" restore "$carol_snap2" --target "$T/owner-restore"
compare_trees "$CSRC" "$T/owner-restore$CSRC"
cf -i "$OWNER" restore "$carol_snap1" --target "$T/owner-restore1"
compare_trees "$SRC" "$T/owner-restore1$SRC"
cf -i "$OWNER" check --read-data

# --- carol's envelope holds no repository secret key: it is the
# shortest envelope kind (repo_sk zeroed inside the seal, so equal length),
# but its public role byte says write-only
env_carol=$(find "$T/repo/keys" -type f -size -2k -exec grep -l -a -F carol {} + | head -n 1)
[[ -n $env_carol ]] || fail "no envelope in keys/ names carol"
assert_eq "$(od -An -tu1 -j 9 -N 1 "$env_carol" | tr -d ' ')" 2 "role byte of carol's envelope"

# --- removing carol: her next backup is refused
cf -i "$OWNER" member remove "$carol_pub"
printf 'more\n' >>"$CSRC/note.txt"
repo_digest "$T/repo" >"$T/digest.before"
expect_exit 4 -i "$CAROL" --cache-dir "$T/carol-cache" backup "$CSRC"
assert_error_format
repo_digest "$T/repo" >"$T/digest.after"
diff -q "$T/digest.before" "$T/digest.after" >/dev/null || fail "a removed member's backup changed the repository"
cf -i "$OWNER" member list
assert_eq "$(grep -c 'coffre1' "$T/last.out")" 2 "members after removing carol"

# --- removing bob; then the owner, the last full member, is refused
cf -i "$OWNER" member remove "$bob_pub"
expect_exit 4 -i "$BOB" snapshots
run_cf -i "$OWNER" member remove "$owner_pub"
[[ $RC != 0 ]] || fail "removing the last full member was accepted"
assert_error_format
cf -i "$OWNER" member list
assert_eq "$(grep -c 'coffre1' "$T/last.out")" 1 "members after the refused removal"
cf -i "$OWNER" snapshots
cf -i "$OWNER" restore latest --target "$T/final"

pass
