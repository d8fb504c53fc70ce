#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# dedup.sh: an unchanged tree, a copied file and a shifted file add (almost)
# nothing; the files cache recognises unchanged files; a modified tree backs
# up and restores correctly.
. "$(dirname "$0")/lib.sh"
setup
init_repo

MiB=$((1024 * 1024))
SRC=$T/src
mkdir -p "$SRC"/{media,docs,small/a,small/b}
rand_file "$SRC/media/a.bin" $((10 * MiB))
rand_file "$SRC/media/b.bin" $((6 * MiB))
rand_file "$SRC/media/c.bin" $((3 * MiB + 12345))
for i in 1 2 3 4 5 6 7 8; do
	text_file "$SRC/docs/record-$i.txt" $((MiB + i * 1000)) "record$i"
done
for i in $(seq 1 120); do
	if ((i % 2)); then
		rand_file "$SRC/small/a/f$i" $((i * 997))
	else
		text_file "$SRC/small/b/f$i" $((i * 1301)) "small$i"
	fi
done
rand_file "$SRC/media/d.bin" $((4 * MiB))
touch -d '2020-01-01 10:00:00' "$SRC"/media/* "$SRC"/docs/*
sleep 1.2 # no file changed within the second of the backup (racy-cache rule)

total=$(du -sb "$SRC" | cut -f1)
nfiles=$(find "$SRC" -type f | wc -l | tr -d ' ')
note "source: $nfiles files, $total bytes"

# --- first backup
backup_json "$SRC"
snap1=$SNAP
json_one_doc "$T/backup.json" object
assert_eq "$(json_get "$T/backup.json" files_new)" "$nfiles" "files_new of the first backup"
added1=$(json_get "$T/backup.json" bytes_added)
((added1 >= total * 9 / 10)) || fail "first backup added only $added1 bytes of $total"
size1=$(du_bytes "$T/repo")

# --- second backup of the same data: < 1% added, every file unchanged
backup_json "$SRC"
assert_eq "$(json_get "$T/backup.json" files_unchanged)" "$nfiles" "files_unchanged of the second backup (files cache)"
assert_eq "$(json_get "$T/backup.json" files_new)" 0 "files_new of the second backup"
assert_eq "$(json_get "$T/backup.json" files_changed)" 0 "files_changed of the second backup"
added2=$(json_get "$T/backup.json" bytes_added)
((added2 * 100 < total)) || fail "second backup of unchanged data added $added2 bytes (>= 1% of $total)"
size2=$(du_bytes "$T/repo")
(((size2 - size1) * 100 < total)) || fail "repository grew by $((size2 - size1)) bytes on an unchanged backup (>= 1% of $total)"
[[ $SNAP != "$snap1" ]] || fail "the second backup reused the first snapshot's id"

# --- the same data without the files cache: dedup through the index
backup_json --cache-dir "$T/other-cache" "$SRC"
added3=$(json_get "$T/backup.json" bytes_added)
((added3 * 100 < total)) || fail "backup with an empty files cache added $added3 bytes (>= 1% of $total): no dedup through the index"
size3=$(du_bytes "$T/repo")
(((size3 - size2) * 100 < total)) || fail "repository grew by $((size3 - size2)) bytes on a backup without files cache"

# --- a new 8 MiB file, then a copy of it under another name
rand_file "$SRC/media/new.bin" $((8 * MiB))
sleep 1.2
backup_json "$SRC"
added4=$(json_get "$T/backup.json" bytes_added)
((added4 >= 7 * MiB)) || fail "backup of a new 8 MiB random file reports bytes_added=$added4"
assert_eq "$(json_get "$T/backup.json" files_new)" 1 "files_new after adding one file"
size4=$(du_bytes "$T/repo")
cp "$SRC/media/new.bin" "$SRC/docs/copy of new.bin"
sleep 1.2
backup_json "$SRC"
added5=$(json_get "$T/backup.json" bytes_added)
((added5 * 20 < 8 * MiB)) || fail "backup of a copy of an 8 MiB file added $added5 bytes (>= 5%)"
size5=$(du_bytes "$T/repo")
(((size5 - size4) * 20 < 8 * MiB)) || fail "repository grew by $((size5 - size4)) bytes for a copied file (>= 5% of 8 MiB)"

# --- a 16 MiB file with 100 bytes inserted in the middle: content-defined
# chunking re-uses all but the chunks around the insertion
rand_file "$SRC/media/big16.bin" $((16 * MiB))
sleep 1.2
backup_json "$SRC"
{
	head -c $((8 * MiB)) "$SRC/media/big16.bin"
	head -c 100 /dev/urandom
	tail -c +$((8 * MiB + 1)) "$SRC/media/big16.bin"
} >"$SRC/media/big16-shifted.bin"
sleep 1.2
backup_json "$SRC"
added6=$(json_get "$T/backup.json" bytes_added)
((added6 * 2 < 16 * MiB)) || fail "a 16 MiB file with 100 inserted bytes added $added6 bytes (>= 50%): chunking is not content-defined"
note "insert of 100 bytes in 16 MiB added $added6 bytes"

# --- a modified tree: append to one file, change one, delete one
printf 'appended line\n' >>"$SRC/docs/record-3.txt"
rand_file "$SRC/small/a/f7" 5000
rm "$SRC/small/b/f8"
backup_json "$SRC"
assert_eq "$(json_get "$T/backup.json" files_changed)" 2 "files_changed after modifying two files"
cf restore "$SNAP" --target "$T/restored"
compare_trees "$SRC" "$T/restored$SRC"

# the first snapshot still restores as it was (record-3 without the line)
cf restore "$snap1" --target "$T/restored1" --include "$SRC/docs/record-3.txt"
cmp -s <(head -c -14 "$SRC/docs/record-3.txt") "$T/restored1$SRC/docs/record-3.txt" ||
	fail "the first snapshot's record-3.txt does not restore to its old content"

cf check --read-data

# --- two backups at once (shared locks): both succeed, both restore
mkdir -p "$T/par1" "$T/par2"
rand_file "$T/par1/one.bin" $((6 * MiB))
rand_file "$T/par2/two.bin" $((6 * MiB))
cp "$SRC/media/a.bin" "$T/par1/shared-copy.bin"
cp "$SRC/media/a.bin" "$T/par2/shared-copy.bin"
"$COFFRE" --json --cache-dir "$T/pc1" backup "$T/par1" </dev/null >"$T/par1.json" 2>"$T/par1.err" &
p1=$!
"$COFFRE" --json --cache-dir "$T/pc2" backup "$T/par2" </dev/null >"$T/par2.json" 2>"$T/par2.err" &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
[[ $rc1 == 0 && $rc2 == 0 ]] || fail "concurrent backups exited $rc1 and $rc2:
$(cat "$T/par1.err" "$T/par2.err")"
for k in 1 2; do
	s=$(json_get "$T/par$k.json" snapshot)
	cf restore "$s" --target "$T/par-restore$k"
	compare_trees "$T/par$k" "$T/par-restore$k$T/par$k"
done
cf check --read-data
pass
