#!/usr/bin/env bash
# shellcheck disable=SC2119 # helpers called without arguments: defaults
# s3.sh: a repository in an S3 object store: OpenStack Swift with s3api,
# started on loopback by scripts/swift-start (a real server: it checks
# every SigV4 signature).  init, backup, restore bit-exact and check
# --read-data against s3+http://127.0.0.1:PORT/BUCKET/PREFIX, with a pack
# large enough for multipart upload and listings cut in pages of 7; the
# backend's own scenarios (tests/unit/test_s3.c against the same server:
# 60 objects listed in pages, ranges, threads); a wrong secret refused
# (exit 4) with a message that names the cause; a credentials file
# readable by others refused; a pack replaced by other bytes in the store
# found by check and never restored as data.
# Skips (exit 77) only when Swift is not installed.
. "$(dirname "$0")/lib.sh"
setup

SW=$T/swift
# Stop Swift before the scratch directory goes (set +e: "(exit $rc)" must
# not end the trap before _cleanup, which exits with that status).
trap 'rc=$?; set +e; "$SRCDIR/scripts/swift-stop" "$SW" >/dev/null 2>&1; (exit $rc); _cleanup' EXIT

rc=0
"$SRCDIR/scripts/swift-start" "$SW" >"$T/swift.env" 2>"$T/swift.err" || rc=$?
if [[ $rc == 77 ]]; then
	note "$(cat "$T/swift.err")"
	exit 77
fi
[[ $rc == 0 ]] || fail "scripts/swift-start failed (exit $rc):
$(tail -n 30 "$T/swift.err")"
# S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION SWIFT_PY S3_REQ
eval "$(cat "$T/swift.env")"
export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION

# s3req METHOD PATH [QUERY] <BODY: a request signed outside coffre.
s3req() {
	"$SWIFT_PY" "$S3_REQ" "$@"
}

# Credentials from a file (0600), as an operator would give them.
printf '# test server\naccess_key = %s\nsecret_key = %s\nregion = %s\n' \
	"$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$S3_REGION" >"$T/s3.creds"
chmod 600 "$T/s3.creds"
export COFFRE_S3_CREDENTIALS=$T/s3.creds
# Multipart above 1 MiB in parts of 5 MiB (the smallest S3 allows; the
# packer's workers may each make a pack of ~5 MiB of the 10 MiB file), and
# listings in pages of 7 keys, so both are exercised with little data.
# (Uploads of several parts: tests/unit/test_s3.c, run below.)
export COFFRE_S3_MULTIPART_THRESHOLD=$((1024 * 1024))
export COFFRE_S3_PART_SIZE=$((5 * 1024 * 1024))
export COFFRE_S3_LIST_PAGE=7
REPO=s3+http://$S3_ENDPOINT/coffre-test/practice/site-1
export COFFRE_REPOSITORY=$REPO

# --- the backend's scenarios against this server
[[ -x $BUILDDIR/tests/test_s3 ]] || fail "$BUILDDIR/tests/test_s3 is not built"
COFFRE_S3_TEST_LOCATION=s3+http://$S3_ENDPOINT/coffre-unit/live \
	COFFRE_S3_ACCESS_KEY=$S3_ACCESS_KEY COFFRE_S3_SECRET_KEY=$S3_SECRET_KEY \
	"$BUILDDIR/tests/test_s3" >"$T/unit.out" 2>&1 ||
	fail "tests/test_s3 against Swift failed:
$(tail -n 30 "$T/unit.out")"

# --- init creates the bucket; a second init is refused
# A small tree (make_rich_tree's cases are roundtrip.sh's business), with
# one file large enough that its pack goes up in parts.
SRC=$T/src
mkdir -p "$SRC/media" "$SRC/docs/letters" "$SRC/empty"
rand_file "$SRC/media/large-scan.bin" $((10 * 1024 * 1024))
text_file "$SRC/docs/records.txt" $((1024 * 1024))
for i in $(seq 1 20); do
	printf 'letter %d to a patient\n' "$i" >"$SRC/docs/letters/$i.txt"
done
: >"$SRC/docs/empty-file"
ln -s ../media/large-scan.bin "$SRC/docs/scan-link"
chmod 600 "$SRC/docs/letters/7.txt"
touch -d '2001-02-03 04:05:06' "$SRC/docs/records.txt" "$SRC/docs"
init_output() {
	cf init
	assert_contains "$T/last.out" "^created repository [0-9a-f]{32} at s3\+http://" "init output"
}
new_identity "$COFFRE_IDENTITY" owner
init_output
s3req GET /coffre-test "list-type=2&prefix=practice%2Fsite-1%2Fconfig" >"$T/ls.xml" 2>/dev/null ||
	fail "the bucket was not created"
assert_contains "$T/ls.xml" "<Key>practice/site-1/config</Key>" "config object in the bucket"
expect_exit 1 init
assert_contains "$T/last.err" "already a repository|already exists" "second init"

# --- backup, restore bit-exact, check --read-data
cf backup "$SRC"
assert_contains "$T/last.out" '^snapshot [0-9a-f]{8} saved' "backup summary"
cf restore latest --target "$T/r1"
compare_trees "$SRC" "$T/r1$SRC"
cf check --read-data
assert_contains "$T/last.out" "no errors found" "check --read-data"

# The large file made packs above the threshold: uploaded in parts.
grep -q "coffre-test/practice/site-1/data/.*partNumber" "$SW/log/proxy-server.log" ||
	fail "no pack was uploaded in parts"
# Listings were read in pages: a continuation token was sent.
grep -q "continuation-token" "$SW/log/proxy-server.log" ||
	fail "no listing took more than one page"

cf snapshots
assert_eq "$(grep -c -E '^[0-9a-f]{8} ' "$T/last.out")" 1 "snapshots"

# --- virtual-host addressing (http://BUCKET.localhost:PORT/KEY): Swift
# is set up with storage_domain = localhost
COFFRE_S3_ADDRESSING=virtual cf -r "s3+http://localhost:${S3_ENDPOINT#*:}/coffre-virtual/x" init
COFFRE_S3_ADDRESSING=virtual cf -r "s3+http://localhost:${S3_ENDPOINT#*:}/coffre-virtual/x" snapshots
grep -q "PUT /x/keys/" "$SW/log/proxy-server.log" ||
	fail "virtual-host addressing: no request without the bucket in the path"

# --- only ciphertext reaches the store: no file name, no content
s3req GET /coffre-test "list-type=2&prefix=practice%2Fsite-1%2F" >"$T/all.xml" 2>/dev/null
assert_not_contains "$T/all.xml" "records|scan|letter" "object names"

# --- a wrong secret: exit 4, the cause named, the secret never shown
COFFRE_S3_SECRET_KEY=wrong-secret-value COFFRE_S3_ACCESS_KEY=$S3_ACCESS_KEY \
	COFFRE_S3_CREDENTIALS='' expect_exit 4 snapshots
assert_error_format
assert_contains "$T/last.err" "refused the credentials: check access key and secret" "wrong secret"
assert_not_contains "$T/last.err" "wrong-secret-value" "wrong secret"
assert_not_contains "$T/last.out" "wrong-secret-value" "wrong secret"

# --- a credentials file others can read is refused, with the fix
chmod 644 "$T/s3.creds"
expect_exit 4 snapshots
assert_contains "$T/last.err" "chmod 600" "credentials file readable by others"
chmod 600 "$T/s3.creds"

# --- plain HTTP to another host is refused
expect_exit 1 -r "s3+http://192.0.2.1:9000/coffre-test/x" snapshots
assert_contains "$T/last.err" "HTTPS" "plain HTTP to a remote host"

# --- a repository that is not there
expect_exit 1 -r "s3+http://$S3_ENDPOINT/coffre-test/practice/nothing-here" snapshots
assert_contains "$T/last.err" "no repository" "missing repository"

# --- garbage in the store: one pack replaced by other bytes of the same
# size is found by check --read-data and never restored as data
s3req GET /coffre-test "list-type=2&prefix=practice%2Fsite-1%2Fdata%2F" >"$T/packs.xml" 2>/dev/null
pack=$(grep -o '<Key>[^<]*</Key><LastModified>[^<]*</LastModified><ETag>[^<]*</ETag><Size>[0-9]*</Size>' "$T/packs.xml" |
	sed -E 's|<Key>([^<]*)</Key>.*<Size>([0-9]*)</Size>|\2 \1|' | sort -n | tail -n 1)
[[ -n $pack ]] || fail "no pack found in the listing"
size=${pack%% *} key=${pack#* }
note "replacing $key ($size bytes) with random bytes"
head -c "$size" /dev/urandom | s3req PUT "/coffre-test/$key" >/dev/null 2>&1 ||
	fail "could not overwrite $key"
expect_exit 3 check --read-data
assert_contains "$T/last.out" "[1-9][0-9]* errors? found" "check after tampering"
run_cf restore latest --target "$T/r2"
[[ $RC != 0 ]] || fail "restore from a store holding a tampered pack succeeded"
check_partial_restore "$SRC" "$T/r2$SRC"

pass
