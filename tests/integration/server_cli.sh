#!/usr/bin/env bash
# server_cli.sh: coffred's operator commands and configuration.  The
# configuration file is parsed strictly (unknown key, duplicate, bad number,
# host name for listen: refused with the line number); tenants and
# identities are added, listed (text and JSON), changed and removed with
# clear messages; a removed identity or tenant is refused at once; the
# certificate's pin matches what curl pins; TLS below 1.2 is refused; a
# second server on the same state directory, and a key that does not match
# its certificate, are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup

# --- usage
"$COFFRED" --help >"$T/help" || fail "--help"
assert_contains "$T/help" 'coffred identity add TENANT PUBID' "help"
"$COFFRED" --version >"$T/v" || fail "--version"
assert_contains "$T/v" '^coffred [0-9]' "version"
rc=0; "$COFFRED" --config "$SRV_CONF" frobnicate 2>"$T/e" || rc=$?
[[ $rc == 2 ]] || fail "unknown command: exit $rc"
rc=0; "$COFFRED" --config "$SRV_CONF" tenant 2>"$T/e" || rc=$?
[[ $rc == 2 ]] || fail "exit $rc, expected 2"
assert_contains "$T/e" 'add, list, quota or remove' "tenant alone"
rc=0; "$COFFRED" --config "$SRV_CONF" tenant list --rights read 2>"$T/e" || rc=$?
[[ $rc == 2 ]] || fail "exit $rc, expected 2"
assert_contains "$T/e" 'does not apply' "option of another command"

# --- configuration strictness
badconf() {
	local what=$1 line=$2
	shift 2
	printf '%s\n' "$@" >"$T/bad.conf"
	rc=0
	"$COFFRED" --config "$T/bad.conf" tenant list >"$T/o" 2>"$T/e" || rc=$?
	[[ $rc == 1 ]] || fail "config with $what: exit $rc"
	assert_contains "$T/e" "bad.conf: line $line: " "config with $what"
}
badconf "an unknown key" 2 "state_dir = $STATE" "colour = blue"
badconf "a duplicate" 2 "port = 1" "port = 2"
badconf "no =" 1 "port 8443"
badconf "an empty value" 1 "port ="
badconf "a port out of range" 1 "port = 65536"
badconf "a negative number" 1 "max_connections = -1"
badconf "a size out of range" 1 "max_header_bytes = 1G"
badconf "a host name to listen on" 3 "# comment" "" "listen = localhost"
badconf "a control character" 1 $'cert_file = a\x01b'
printf 'state_dir = %s\n\n   # indented comment\n\tport\t=\t0\r\nmax_object_size = 1G\n' "$STATE" >"$T/ok.conf"
"$COFFRED" --config "$T/ok.conf" tenant list >"$T/o" 2>"$T/e" || fail "a valid config is refused: $(cat "$T/e")"
rc=0; "$COFFRED" --config "$T/missing.conf" tenant list 2>"$T/e" || rc=$?
[[ $rc == 1 ]] || fail "exit $rc, expected 1"
assert_contains "$T/e" 'does not exist' "missing --config"

# --- tenants
srv tenant list
assert_contains "$T/srv.out" 'no tenant yet' "empty list"
srv tenant add clinic --quota 10G
assert_contains "$T/srv.out" 'added tenant clinic' "tenant add"
assert_contains "$T/srv.out" 'coffred identity add clinic' "tenant add: what next"
srv_expect_fail tenant add clinic
assert_contains "$T/srv.err" 'exists already' "duplicate tenant"
srv_expect_fail tenant add Bad_Name
srv_expect_fail tenant add -x
srv_expect_fail tenant add "$(printf 'a%.0s' {1..33})"
srv_expect_fail tenant add other --quota 12X
srv tenant add other
srv tenant list --json
json_one_doc "$T/srv.out" array
assert_contains "$T/srv.out" '"tenant":"clinic","quota":10737418240,"used":0,"identities":0' "tenant list json"
srv tenant quota other 5M
srv tenant list
assert_contains "$T/srv.out" '^other +5242880 ' "quota set"
srv_expect_fail tenant quota nobody 1M
assert_contains "$T/srv.err" 'no tenant named nobody' "quota of a missing tenant"

# --- identities
srv_identity alice
ALICE=$PUBID
srv_expect_fail identity add clinic "$ALICE"
assert_contains "$T/srv.err" 'rights' "identity add without --rights"
srv_expect_fail identity add clinic "$ALICE" --rights write
srv_expect_fail identity add clinic "${ALICE:0:20}x${ALICE:21}" --rights read
assert_contains "$T/srv.err" 'coffre1' "typo in a public identity"
srv_expect_fail identity add nobody "$ALICE" --rights read
srv identity add clinic "$ALICE" --rights append --label "reception PC"
assert_contains "$T/srv.out" 'fingerprint: [0-9]{5}( [0-9]{5}){7}' "identity add shows the fingerprint"
srv_expect_fail identity add clinic "$ALICE" --rights admin
assert_contains "$T/srv.err" 'already' "duplicate identity"
srv_expect_fail identity add clinic "$ALICE" --rights read --label $'bad\tlabel'
srv identity list clinic --json
json_one_doc "$T/srv.out" array
assert_contains "$T/srv.out" "\"identity\":\"$ALICE\"" "identity list json"
assert_contains "$T/srv.out" '"rights":"append","label":"reception PC"' "identity list json"
srv identity list other
assert_contains "$T/srv.out" 'no identity yet' "empty identity list"

# --- the server sees changes at once
srv_start
expect_status 200 alice GET /v1/clinic/info
srv identity remove clinic "$ALICE"
expect_status 401 alice GET /v1/clinic/info
srv_expect_fail identity remove clinic "$ALICE"
srv identity add clinic "$ALICE" --rights read
expect_status 200 alice GET /v1/clinic/info
head -c 100 /dev/urandom >"$T/b"
srv identity add other "$ALICE" --rights append
expect_status 201 alice --body "$T/b" PUT /v1/other/o/config
srv tenant remove other
assert_contains "$T/srv.out" 'tenants/other' "tenant remove says where the objects are"
expect_status 401 alice GET /v1/other/info
[[ -f $STATE/tenants/other/config ]] || fail "tenant remove deleted objects"
srv_expect_fail tenant add other
assert_contains "$T/srv.err" 'adopt' "re-adding needs --adopt"
srv tenant add other --adopt
srv log other --json
assert_contains "$T/srv.out" '"status":201' "the log outlives the tenant's removal"

# --- TLS: the pin is curl's, TLS 1.1 is refused
srv fingerprint
[[ "$(cat "$T/srv.out")" == "$SRV_PIN" ]] || fail "fingerprint differs from the served pin"
if command -v openssl >/dev/null; then
	want=sha256//$(openssl x509 -in "$SRV/cert.pem" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
	[[ $want == "$SRV_PIN" ]] || fail "pin $SRV_PIN, openssl says $want"
fi
if command -v curl >/dev/null; then
	curl -sS --insecure --pinnedpubkey "$SRV_PIN" "https://127.0.0.1:$SRV_PORT/v1/clinic/info" >"$T/c" 2>&1 ||
		fail "curl with the pin: $(cat "$T/c")"
	assert_contains "$T/c" '"error":"unauthenticated"' "curl reaches the server"
	if curl -sS --insecure --pinnedpubkey "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" \
		"https://127.0.0.1:$SRV_PORT/v1/clinic/info" >"$T/c" 2>&1; then
		fail "curl accepted a wrong pin"
	fi
	if curl -sS --insecure --tlsv1.0 --tls-max 1.1 "https://127.0.0.1:$SRV_PORT/v1/clinic/info" >"$T/c" 2>&1; then
		fail "TLS 1.1 was accepted"
	fi
	curl -sS --insecure --tlsv1.2 --tls-max 1.2 "https://127.0.0.1:$SRV_PORT/v1/clinic/info" >"$T/c" 2>&1 ||
		fail "TLS 1.2 refused: $(cat "$T/c")"
fi
"$COFFRED" --config "$SRV_CONF" cert --cert "$SRV/cert.pem" --key "$T/k2.pem" >"$T/o" 2>"$T/e" &&
	fail "cert overwrote an existing certificate"
assert_contains "$T/e" 'exists already' "cert refuses to overwrite"
[[ ! -e $T/k2.pem ]] || fail "cert left a key behind"

# --- a second server on the same state directory
rc=0; "$COFFRED" --config "$SRV_CONF" serve >"$T/o" 2>"$T/e" || rc=$?
[[ $rc == 1 ]] || fail "exit $rc, expected 1"
assert_contains "$T/e" 'another coffred serves' "second server"
srv_stop

# --- a key that does not belong to the certificate
"$COFFRED" cert --cert "$T/c2.pem" --key "$T/k2.pem" --name localhost >/dev/null || fail "cert"
sed -i "s|^key_file = .*|key_file = $T/k2.pem|" "$SRV_CONF"
rc=0; "$COFFRED" --config "$SRV_CONF" serve >"$T/o" 2>"$T/e" || rc=$?
[[ $rc == 1 ]] || fail "mismatched key: exit $rc"
assert_contains "$T/e" 'cannot be used together' "mismatched key"
[[ "$(stat -c %a "$T/k2.pem")" == 600 ]] || fail "key file mode $(stat -c %a "$T/k2.pem")"

# --- the state directory belongs to the server's user
if [[ $(id -u) == 0 ]] && id nobody >/dev/null 2>&1; then
	chown nobody "$STATE"
	rc=0; "$COFFRED" --config "$SRV_CONF" tenant list >"$T/o" 2>"$T/e" || rc=$?
	[[ $rc == 1 ]] || fail "exit $rc, expected 1"
assert_contains "$T/e" 'sudo -u' "state directory of another user"
	chown root "$STATE"
fi
pass
