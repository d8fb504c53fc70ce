#!/usr/bin/env bash
# server_backup.sh: coffre through coffred, end to end.  A practice's
# repository lives on the server (https://.../TENANT?pin=...): a tree backed
# up by the practice's backup machine (server right: append) restores
# bit-exact and checks with --read-data; that machine cannot forget or
# prune (the server refuses, coffre exits 4 and the store is unchanged) and
# the repository still checks; the owner (admin) can.  No plaintext
# reaches the server: a patient's name in file contents and file names
# appears nowhere in the server's store, database or access log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup max_object_size=64M
srv_tenant practice
SRC=$T/src
OWNER=$T/ids/owner
BACKUP=$T/ids/backup
PATIENT=Marguerite-Dupont-Zyqwx

new_identity "$OWNER" owner
OWNER_ID=$(pubid "$OWNER")
new_identity "$BACKUP" backup-pc
BACKUP_ID=$(pubid "$BACKUP")
srv identity add practice "$OWNER_ID" --rights admin --label owner
srv identity add practice "$BACKUP_ID" --rights append --label backup-pc
srv_start
URL="https://127.0.0.1:$SRV_PORT/practice?pin=$SRV_PIN"

make_rich_tree "$SRC" 0
mkdir -p "$SRC/patients/$PATIENT"
for i in 1 2 3; do
	printf 'Patient: %s\nVisit %s: blood pressure 12/8, %s is well.\n' \
		"$PATIENT" "$i" "$PATIENT" >"$SRC/patients/$PATIENT/visit-$i-$PATIENT.txt"
done
text_file "$SRC/patients/$PATIENT/history.txt" 400000 "$PATIENT"

# --- the owner creates the repository on the server, the backup machine
# joins it, and backs up
cf -i "$OWNER" -r "$URL" init
cf -i "$OWNER" -r "$URL" member add "$BACKUP_ID" --name backup-pc
cf -i "$BACKUP" -r "$URL" backup "$SRC"
printf 'Visit 4: %s\n' "$PATIENT" >"$SRC/patients/$PATIENT/visit-4.txt"
cf -i "$BACKUP" -r "$URL" backup "$SRC"
cf -i "$BACKUP" -r "$URL" --json snapshots
[[ $(json_count "$T/last.out" id) == 2 ]] || fail "two snapshots expected"

# --- restore bit-exact, check everything
cf -i "$OWNER" -r "$URL" restore latest --target "$T/r1"
compare_trees "$SRC" "$T/r1$SRC"
cf -i "$BACKUP" -r "$URL" check --read-data

# --- the append identity cannot forget or prune; nothing changes
before=$(store_digest practice)
expect_exit 4 -i "$BACKUP" -r "$URL" forget --keep-last 1 --prune
assert_contains "$T/last.err" 'forbidden|may not delete|rights|denied' "forget refused"
expect_exit 4 -i "$BACKUP" -r "$URL" prune
note "prune as append: $(grep -m1 error "$T/last.err")"
# (locks come and go; a prune may have written new objects before its
# first delete was refused: only removals and changes matter)
lost=$(comm -23 <(grep -v ' \./locks/' <<<"$before" | LC_ALL=C sort) \
	<(store_digest practice | LC_ALL=C sort))
[[ -z $lost ]] || fail "a refused forget/prune removed or changed objects:
$lost"
cf -i "$OWNER" -r "$URL" check --read-data
cf -i "$BACKUP" -r "$URL" --json snapshots
[[ $(json_count "$T/last.out" id) == 2 ]] || fail "a snapshot was forgotten"
srv log practice --json
assert_contains "$T/srv.out" '"action":"delete","object":"snapshots/[0-9a-f]{64}","bytes":0,"status":403' "refused delete logged"

# --- the owner (admin) can
cf -i "$OWNER" -r "$URL" forget --keep-last 1 --prune
cf -i "$OWNER" -r "$URL" --json snapshots
[[ $(json_count "$T/last.out" id) == 1 ]] || fail "forget as admin"
cf -i "$OWNER" -r "$URL" check --read-data
cf -i "$OWNER" -r "$URL" restore latest --target "$T/r2"
compare_trees "$SRC" "$T/r2$SRC"

# --- no plaintext on the server
srv log practice
cat "$T/srv.out" >"$T/access.log"
srv_stop
hits=$(grep -r -a -l -i -- "$PATIENT" "$STATE" "$T/access.log" "$SRV/serve.err" || true)
[[ -z $hits ]] || fail "the patient's name reached the server: $hits"
hits=$(grep -r -a -l -- "MIDDLE-OF-SPARSE" "$STATE" || true)
[[ -z $hits ]] || fail "file contents reached the server in clear: $hits"
find "$STATE" | grep -i -q -- "$PATIENT" && fail "a server file name holds the patient's name"
pass
