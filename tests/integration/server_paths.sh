#!/usr/bin/env bash
# server_paths.sh: no request target leads outside a tenant's objects.
# Targets with "..", percent-encoding ("%2f", "%2e%2e"), "//", an absolute
# form, other characters, names outside docs/format.md section 4 (tmp/,
# upper case, a pack in the wrong directory, a trailing '/'), bad list
# queries: each refused with 400 and a JSON body, nothing written anywhere
# (the state directory and a canary directory beside it are unchanged).
# Symbolic links planted in the store are never followed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup
srv_tenant clinic
srv_grant clinic adm admin
srv_start

mkdir -p "$T/outside"
printf 'canary\n' >"$T/outside/canary"
head -c 1000 /dev/urandom >"$T/body"
H=$(h64 "$T/body")
WRONG=00            # a pack directory that is not the hash's first byte
[[ ${H:0:2} != 00 ]] || WRONG=01
expect_status 201 adm --body "$T/body" PUT "/v1/clinic/o/index/$H"

# state_digest: every file below $T except the test's own scratch files.
state_digest() {
	(cd "$T" && find srv/state outside -type f ! -name '*.db-wal' \
		! -name '*.db-shm' ! -name '*.db' -print0 | LC_ALL=C sort -z |
		xargs -0 -r sha256sum)
	(cd "$T" && find srv/state outside | LC_ALL=C sort)
}
before=$(state_digest)

bad() {
	local method=$1 target=$2
	shift 2
	expect_status 400 adm "$@" --out "$T/err.json" "$method" "$target"
	assert_contains "$T/err.json" '^\{"error":"bad_request","message":"[^"]*"\}$' "$method $target"
	[[ "$(state_digest)" == "$before" ]] || fail "$method $target changed the state directory"
}

for m in GET PUT DELETE; do
	args=()
	[[ $m == PUT ]] && args=(--body "$T/body")
	bad $m "/v1/clinic/o/../../../outside/canary" "${args[@]}"
	bad $m "/v1/clinic/o/index/../../../../outside/canary" "${args[@]}"
	bad $m "/v1/../v1/clinic/o/index/$H" "${args[@]}"
	bad $m "/v1/clinic/o/index%2f$H" "${args[@]}"
	bad $m "/v1/clinic/o/%2e%2e/%2e%2e/outside/canary" "${args[@]}"
	bad $m "/v1/clinic/o/index/%2E%2E" "${args[@]}"
	bad $m "/v1/clinic/o//index/$H" "${args[@]}"
	bad $m "//v1/clinic/o/index/$H" "${args[@]}"
	bad $m "/v1/clinic//o/index/$H" "${args[@]}"
	bad $m "https://127.0.0.1/v1/clinic/o/index/$H" "${args[@]}"
	bad $m "$T/outside/canary" "${args[@]}"
	bad $m "/v1/clinic/o/tmp/$H" "${args[@]}"
	bad $m "/v1/clinic/o/index/$H/" "${args[@]}"
	bad $m "/v1/clinic/o/INDEX/$H" "${args[@]}"
	bad $m "/v1/clinic/o/index/${H^^}" "${args[@]}"
	bad $m "/v1/clinic/o/data/$WRONG/$H" "${args[@]}"
	bad $m "/v1/clinic/o/data/${H:0:2}" "${args[@]}"
	bad $m "/v1/clinic/o/keys/abc" "${args[@]}"
	bad $m "/v1/clinic/o/config/x" "${args[@]}"
	bad $m "/v1/clinic/o/index/$H?x=1" "${args[@]}"
	bad $m "/v1/clinic/o/index/$H~" "${args[@]}"
	bad $m "/v1/Clinic/o/index/$H" "${args[@]}"
	bad $m "/v1/-clinic/o/index/$H" "${args[@]}"
	bad $m "/v1/clinic\\o/index/$H" "${args[@]}"
done
bad GET "/v1/clinic/list?dir=tmp"
bad GET "/v1/clinic/list?dir=../outside"
bad GET "/v1/clinic/list?dir=data%2f00"
bad GET "/v1/clinic/list?dir=data&dir=keys"
bad GET "/v1/clinic/list?dir=index&limit=0"
bad GET "/v1/clinic/list?dir=index&limit=1001"
bad GET "/v1/clinic/list?dir=index&limit=010"
bad GET "/v1/clinic/list?dir=index&after=keys/$H"
bad GET "/v1/clinic/list?dir=index&after=index/../x"
bad GET "/v1/clinic/list?dir=index&colour=blue"
bad GET "/v1/clinic/list?dir=index&"
bad GET "/v1/clinic/list?"
bad GET "/v1/clinic/list"
bad GET "/v1/clinic/info?x=1"
# well-formed, but no such endpoint or method: 404 / 405
expect_status 404 adm GET /v1/clinic/objects
expect_status 404 adm GET /v1/clinic/o
expect_status 405 adm DELETE /v1/clinic/info
expect_status 405 adm POST "/v1/clinic/o/index/$H"
[[ "$(state_digest)" == "$before" ]] || fail "the state directory changed"

# --- the object is still there and intact
expect_status 200 adm GET "/v1/clinic/o/index/$H" --out "$T/got"
cmp -s "$T/body" "$T/got" || fail "object changed"

# --- symbolic links planted in the store are not followed
srv_stop
D=$STATE/tenants/clinic
mv "$D/index" "$D/index.real"
ln -s "$T/outside" "$D/index"
mkdir -p "$D/snapshots"
ln -s "$T/outside/canary" "$D/snapshots/$H"
srv_start
expect_status 404 adm GET "/v1/clinic/o/index/$H"
expect_status 404 adm GET "/v1/clinic/o/snapshots/$H"
expect_status 404 adm DELETE "/v1/clinic/o/snapshots/$H"
expect_status 200 adm GET "/v1/clinic/list?dir=index" --out "$T/list"
[[ ! -s $T/list ]] || fail "a listing followed a symbolic link: $(cat "$T/list")"
expect_status 200 adm GET "/v1/clinic/list?dir=snapshots" --out "$T/list"
[[ ! -s $T/list ]] || fail "a symbolic link was listed as an object"
req adm --body "$T/body" PUT "/v1/clinic/o/index/$H"
[[ $STATUS == 500 || $STATUS == 409 ]] || fail "PUT through a symlinked directory: status $STATUS"
[[ "$(ls "$T/outside")" == canary ]] || fail "a PUT wrote outside the store: $(ls "$T/outside")"
[[ "$(cat "$T/outside/canary")" == canary ]] || fail "the canary changed"
[[ -L $D/snapshots/$H ]] || fail "DELETE removed a symbolic link"
# a tenant directory that is a symbolic link cannot be adopted
ln -s "$T/outside" "$STATE/tenants/evil"
srv_expect_fail tenant add evil --adopt
srv_stop
pass
