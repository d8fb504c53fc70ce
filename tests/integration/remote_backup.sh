#!/usr/bin/env bash
# remote_backup.sh: a repository on a real coffred over TLS with a pinned
# key: the backend against the server (tests/unit/test_coffred_live.c),
# init, backup with an append-only identity, restore compared bit-exactly,
# check --read-data, prune refused to the append identity and done by the
# admin, and the refusals: wrong pin, no pin, unregistered identity, a
# mistyped location (before the passphrase), http://, a server that is down.
# Skipped (77) when coffred is not built.
. "$(dirname "$0")/lib.sh"
setup

COFFRED=${COFFRED:-${BUILDDIR:-}/server/coffred}
if [[ ! -x $COFFRED ]]; then
	echo "SKIP $TEST_NAME: no coffred at $COFFRED"
	exit 77
fi

# --- a server on loopback, self-signed, any free port
S=$T/srv
mkdir -p "$S"
cat >"$S/coffred.conf" <<EOF
state_dir = $S/state
cert_file = $S/cert.pem
key_file = $S/key.pem
listen = 127.0.0.1
port = 0
EOF
srv() { "$COFFRED" --config "$S/coffred.conf" "$@"; }
srv cert --name 127.0.0.1 >/dev/null || fail "coffred cert failed"
PIN=$(srv fingerprint | tail -n 1)
[[ $PIN =~ ^sha256//[A-Za-z0-9+/]{43}=$ ]] || fail "coffred fingerprint printed '$PIN'"
srv tenant add t1 >/dev/null || fail "tenant add t1"
srv tenant add live >/dev/null || fail "tenant add live"

OWNER=$T/ids/owner CLERK=$T/ids/clerk STRANGER=$T/ids/stranger
new_identity "$OWNER" owner
new_identity "$CLERK" clerk
new_identity "$STRANGER" stranger
owner_pub=$(pubid "$OWNER")
clerk_pub=$(pubid "$CLERK")
srv identity add t1 "$owner_pub" --rights admin >/dev/null || fail "identity add owner"
srv identity add t1 "$clerk_pub" --rights append >/dev/null || fail "identity add clerk"
srv identity add live "$owner_pub" --rights admin >/dev/null || fail "identity add live"

"$COFFRED" --config "$S/coffred.conf" serve >"$S/serve.log" 2>&1 &
SRV_PID=$!
_BG_PIDS+=("$SRV_PID")
PORT=
for _ in $(seq 1 100); do
	PORT=$(grep -o -E 'port [0-9]+' "$S/serve.log" | head -n 1 | cut -d' ' -f2 || true)
	[[ -n $PORT ]] && break
	kill -0 "$SRV_PID" 2>/dev/null || fail "coffred serve exited: $(cat "$S/serve.log")"
	sleep 0.1
done
[[ -n $PORT ]] || fail "coffred did not say which port it listens on"
BASE=https://127.0.0.1:$PORT
export COFFRE_REPOSITORY="$BASE/t1?pin=$PIN"
export COFFRE_IDENTITY=$OWNER

# --- the backend table against the server
LIVE=${BUILDDIR:-}/tests/test_coffred_live
if [[ -x $LIVE ]]; then
	COFFRE_TEST_COFFRED="$BASE/live?pin=$PIN" COFFRE_TEST_IDENTITY=$OWNER \
		COFFRE_TEST_PASSFILE=$T/pass timeout 300 "$LIVE" >"$T/live.out" 2>&1 ||
		fail "test_coffred_live failed:
$(tail -n 30 "$T/live.out")"
else
	note "no $LIVE: backend test skipped"
fi

# --- a mistyped location is found before the passphrase is asked (none
# can be: no terminal, no passphrase file), as is http://
(
	unset COFFRE_PASSPHRASE_FILE
	expect_exit 1 -r "$BASE/T1?pin=$PIN" snapshots
	assert_contains "$T/last.err" 'invalid tenant' "uppercase tenant"
	assert_not_contains "$T/last.err" 'passphrase' "asked for a passphrase"
	expect_exit 1 -r "http://127.0.0.1:$PORT/t1" snapshots
	assert_contains "$T/last.err" 'https' "http:// refused"
	expect_exit 1 -r "$BASE/t1?pin=sha256//nope" snapshots
	assert_contains "$T/last.err" 'pin' "malformed pin"
)

# --- init, a second init refused
cf init
assert_contains "$T/last.out" '^created repository [0-9a-f]{32} at ' "init output"
expect_exit 1 init
assert_contains "$T/last.err" 'already' "second init"
cf member add "$clerk_pub" --name clerk

# --- backup by the append-only identity, restore by the owner
SRC=$T/src
make_rich_tree "$SRC" 0
cf -i "$CLERK" backup "$SRC"
assert_contains "$T/last.out" '^snapshot [0-9a-f]{8} saved' "backup summary"
printf 'changed\n' >>"$SRC/docs/small.txt"
touch -d '2001-02-03 04:05:06' "$SRC/docs/small.txt"
cf -i "$CLERK" backup "$SRC"
cf snapshots
assert_eq "$(grep -c -E '^[0-9a-f]{8} ' "$T/last.out")" 2 "snapshots on the server"
cf restore latest --target "$T/r1"
compare_trees "$SRC" "$T/r1$SRC"
cf check --read-data
assert_contains "$T/last.out" 'no errors' "check --read-data"

# --- the append identity cannot destroy: forget --prune / prune refused
expect_exit 4 -i "$CLERK" forget --keep-last 1 --prune
assert_error_format
assert_contains "$T/last.err" 'denied|refused|forbidden|right' "append identity pruning"
expect_exit 4 -i "$CLERK" prune
cf check --read-data
cf restore latest --target "$T/r2"
compare_trees "$SRC" "$T/r2$SRC"
# ... the admin can
cf forget --keep-last 1 --prune
cf snapshots
assert_eq "$(grep -c -E '^[0-9a-f]{8} ' "$T/last.out")" 1 "snapshots after forget"
cf check --read-data
cf restore latest --target "$T/r3"
compare_trees "$SRC" "$T/r3$SRC"

# --- refusals
expect_exit 1 -r "$BASE/t1?pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" snapshots
assert_contains "$T/last.err" 'pinned' "wrong pin"
expect_exit 1 -r "$BASE/t1" snapshots
assert_contains "$T/last.err" 'certificate' "no pin, self-signed"
expect_exit 4 -i "$STRANGER" snapshots
assert_contains "$T/last.err" 'did not accept' "unregistered identity"
expect_exit 4 -r "$BASE/nosuch?pin=$PIN" snapshots
for f in "$T"/last.err; do
	assert_not_contains "$f" 'Coffre-Signature|[0-9a-f]{128}' "a signature in a message"
done

# --- a server that is gone: an error after the retries, not a hang
kill "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
expect_exit 1 snapshots
assert_contains "$T/last.err" '127\.0\.0\.1' "server down"

pass
