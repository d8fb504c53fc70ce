#!/usr/bin/env bash
# server_auth.sh: coffred refuses every request that is not signed as
# docs/protocol.md section 3 says, with 401 and a JSON body, and stores
# nothing: a replayed request (same process, and the nonce reused by a new
# one), a time more than 300 s off either way, a corrupted signature, a signature over
# another target, an unknown identity, a key of another tenant, each header
# missing, each header malformed or sent twice, a body that does not match
# Coffre-Body, a bodiless request claiming a body.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup
srv_tenant clinic
srv_tenant other
srv_grant clinic app append
srv_grant other stranger admin
srv_identity unknown
srv_start

head -c 50000 /dev/urandom >"$T/body"
IDX=index/$(h64 "$T/body")

# --- a good request, for comparison
expect_status 200 app GET /v1/clinic/info --out "$T/info.json"
assert_contains "$T/info.json" '"tenant":"clinic"' "info"
assert_contains "$T/info.json" '"rights":"append"' "info"

before=$(store_digest clinic)

# refused REASON CODE ARGS...: the request gets CODE and a JSON error body
# naming the error, and the store is unchanged.
refused() {
	local what=$1 code=$2
	shift 2
	expect_status "$code" "$@" --out "$T/err.json"
	assert_contains "$T/err.json" '^\{"error":"[a-z_]+","message":"[^"]*"\}$' "$what: JSON error"
	[[ "$(store_digest clinic)" == "$before" ]] || fail "$what: the store changed"
	[[ $(tmp_count clinic) == 0 ]] || fail "$what: a temporary file was left"
}

# --- replay: the identical request twice
req app --repeat 2 GET /v1/clinic/info
[[ "$(grep -c '^STATUS ' "$T/req.out")" == 2 ]] || fail "replay: two requests expected"
[[ "$(sed -n 1p "$T/req.out")" == "STATUS 200" ]] || fail "replay: first not 200"
[[ "$(sed -n 2p "$T/req.out")" == "STATUS 401" ]] || fail "replay: second not 401
$(cat "$T/req.out")"
# a PUT replayed after it succeeded: 401, not 409 (the nonce is checked first)
req app --repeat 2 --body "$T/body" PUT "/v1/clinic/o/$IDX"
[[ "$(tr '\n' ' ' <"$T/req.out")" == "STATUS 201 STATUS 401 " ]] ||
	fail "replayed PUT: $(cat "$T/req.out")"
before=$(store_digest clinic)
# the same nonce in a new request (new time, new signature)
N=00112233445566778899aabbccddeeff
expect_status 200 app --nonce $N GET /v1/clinic/info
refused "nonce reused" 401 app --nonce $N GET "/v1/clinic/list?dir=index"
assert_contains "$T/err.json" 'nonce' "replay reason"
# the nonce is the identity's: another identity may use the same one
srv_grant clinic app2 read
expect_status 200 app2 --nonce $N GET /v1/clinic/info

# --- time window
refused "time -302" 401 app --time-offset -302 GET /v1/clinic/info
assert_contains "$T/err.json" 'clock' "stale time reason"
refused "time +305" 401 app --time-offset 305 GET /v1/clinic/info
expect_status 200 app --time-offset -280 GET /v1/clinic/info
expect_status 200 app --time-offset 280 GET /v1/clinic/info

# --- signature
refused "bad signature" 401 app --corrupt-sig GET /v1/clinic/info
refused "bad signature on PUT" 401 app --corrupt-sig --body "$T/body" PUT "/v1/clinic/o/index/$(h64 "$T/body" | tr 0-9a-f 1-9a-f0)"
refused "signed for another target" 401 app --sign-target "/v1/clinic/list?dir=keys" GET /v1/clinic/info
refused "signed for another tenant" 401 app --sign-target /v1/other/info GET /v1/clinic/info
expect_status 401 app --sign-target /v1/clinic/info HEAD /v1/clinic/o/config

# --- identities
refused "unknown identity" 401 unknown GET /v1/clinic/info
assert_contains "$T/err.json" 'not registered' "unknown identity reason"
refused "another tenant's identity" 401 stranger GET /v1/clinic/info
refused "another tenant's identity (list)" 401 stranger GET "/v1/clinic/list?dir=index"
head -c 100 /dev/urandom >"$T/b2"
refused "another tenant's identity (put)" 401 stranger --body "$T/b2" --content-name PUT /v1/clinic/o/index
refused "another tenant's identity (delete)" 401 stranger DELETE "/v1/clinic/o/$IDX"
refused "no such tenant" 401 app GET /v1/nobody/info

# --- missing and malformed headers
for h in Key Time Nonce Body Signature; do
	refused "missing Coffre-$h" 401 app --omit "$h" GET /v1/clinic/info
	assert_contains "$T/err.json" 'missing' "missing $h reason"
done
KEYHEX=$(od -An -tx1 -v -N 32 /dev/urandom | tr -d ' \n')
refused "Coffre-Key twice" 401 app --header "Coffre-Key: $KEYHEX" GET /v1/clinic/info
refused "Coffre-Time twice" 401 app --header "Coffre-Time: 1" GET /v1/clinic/info
refused "Coffre-Key malformed" 401 app --omit Key --header "Coffre-Key: ${KEYHEX^^}" GET /v1/clinic/info
refused "Coffre-Time malformed" 401 app --omit Time --header "Coffre-Time: 0$(date +%s)" GET /v1/clinic/info
refused "Coffre-Time not a number" 401 app --omit Time --header "Coffre-Time: now" GET /v1/clinic/info
refused "Coffre-Nonce short" 401 app --omit Nonce --header "Coffre-Nonce: 0011" GET /v1/clinic/info
refused "Coffre-Signature empty" 401 app --omit Signature --header "Coffre-Signature:" GET /v1/clinic/info

# --- the body
refused "body does not match Coffre-Body" 401 app --body "$T/b2" \
	--body-hash "$(h64 "$T/body")" PUT "/v1/clinic/o/index/$(h64 "$T/b2")"
assert_contains "$T/err.json" 'Coffre-Body' "body hash reason"
refused "bodiless request claiming a body" 401 app --body-hash "$(h64 "$T/body")" GET /v1/clinic/info
refused "GET with a body" 400 app --body "$T/b2" GET /v1/clinic/info

# --- the tenant's log has the authenticated refusal, nothing stored
srv log clinic
grep "$(h64 "$T/b2")" "$T/srv.out" >"$T/b2.log" || true
[[ -s $T/b2.log ]] || fail "the refused upload of app is not in the access log"
assert_not_contains "$T/b2.log" ' 20[0-9] ' "a refused upload logged as a success"
grep -q 'refused a request from 127.0.0.1: 401' "$SRV/serve.err" ||
	fail "refusals are not reported on stderr"
srv_stop
pass
