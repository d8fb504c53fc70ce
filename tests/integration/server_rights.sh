#!/usr/bin/env bash
# server_rights.sh: rights per identity (docs/protocol.md section 4) and
# tenants kept apart.  An append identity adds objects but cannot delete
# (403) or overwrite (409) one, except locks; a read identity only reads;
# an admin deletes.  A refused request leaves the object bit-exact.  One
# tenant's identities (even admin) cannot list, read, write or delete
# another tenant's objects, and one key registered with two tenants has
# the right given for each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup
srv_tenant clinic
srv_tenant other
srv_grant clinic app append
srv_grant clinic rd read
srv_grant clinic adm admin
srv_grant other oadm admin
srv_grant other oapp append
srv_start

head -c 30000 /dev/urandom >"$T/pack"
head -c 500 /dev/urandom >"$T/lock"
head -c 700 /dev/urandom >"$T/snap"
head -c 900 /dev/urandom >"$T/other"

# --- append: create
expect_status 201 app --body "$T/pack" --content-name PUT /v1/clinic/o/data
PACK=$NAME
expect_status 201 app --body "$T/snap" --content-name PUT /v1/clinic/o/snapshots
SNAP=$NAME
expect_status 201 app --body "$T/lock" --content-name PUT /v1/clinic/o/locks
LOCK=$NAME
expect_status 201 app --body "$T/snap" PUT /v1/clinic/o/config
before=$(store_digest clinic)

# --- append: never delete (but locks), never overwrite
for n in "$PACK" "$SNAP" config; do
	expect_status 403 app --out "$T/err.json" DELETE "/v1/clinic/o/$n"
	assert_contains "$T/err.json" '"error":"forbidden"' "403 body"
done
expect_status 409 app --body "$T/pack" PUT "/v1/clinic/o/$PACK"
expect_status 409 app --body "$T/pack" PUT /v1/clinic/o/config
# a different body under an existing content name: refused, whichever check
# comes first (422 or 409), and the object is unchanged
req app --body "$T/other" PUT "/v1/clinic/o/$PACK"
[[ $STATUS == 409 || $STATUS == 422 ]] || fail "overwrite attempt: status $STATUS"
[[ "$(store_digest clinic)" == "$before" ]] || fail "append identity changed existing objects"
expect_status 200 app --out "$T/got" GET "/v1/clinic/o/$PACK"
cmp -s "$T/got" "$T/pack" || fail "pack changed"
# locks hold no data: an append identity removes its stale lock
expect_status 204 app DELETE "/v1/clinic/o/$LOCK"
expect_status 404 app DELETE "/v1/clinic/o/$LOCK"

# --- read: reads only
expect_status 200 rd GET "/v1/clinic/o/$PACK"
expect_status 200 rd HEAD "/v1/clinic/o/$PACK"
expect_status 200 rd GET "/v1/clinic/list?dir=data"
expect_status 200 rd --out "$T/info.json" GET /v1/clinic/info
assert_contains "$T/info.json" '"rights":"read"' "read info"
expect_status 403 rd --body "$T/other" --content-name PUT /v1/clinic/o/index
expect_status 201 app --body "$T/lock" --content-name PUT /v1/clinic/o/locks
expect_status 403 rd DELETE "/v1/clinic/o/$LOCK"
expect_status 403 rd DELETE "/v1/clinic/o/$PACK"

# --- admin: deletes, and usage follows
expect_status 200 adm --out "$T/info.json" GET /v1/clinic/info
used0=$(json_get "$T/info.json" used)
expect_status 204 adm DELETE "/v1/clinic/o/$PACK"
expect_status 404 adm GET "/v1/clinic/o/$PACK"
expect_status 200 adm --out "$T/info.json" GET /v1/clinic/info
used1=$(json_get "$T/info.json" used)
[[ $((used0 - used1)) == 30000 ]] || fail "usage after deleting 30000 bytes: $used0 -> $used1"
expect_status 201 adm --body "$T/pack" --content-name PUT /v1/clinic/o/data

# --- tenants are apart
before=$(store_digest clinic)
for who in oadm oapp; do
	expect_status 401 $who GET /v1/clinic/info
	expect_status 401 $who GET "/v1/clinic/list?dir=data"
	expect_status 401 $who GET "/v1/clinic/o/$PACK"
	expect_status 401 $who HEAD "/v1/clinic/o/$PACK"
	expect_status 401 $who DELETE "/v1/clinic/o/$PACK"
	expect_status 401 $who --body "$T/other" --content-name PUT /v1/clinic/o/index
	expect_status 401 $who --body "$T/other" PUT /v1/clinic/o/keys/0000000000000000000000000000000000000000000000000000000000000000
done
[[ "$(store_digest clinic)" == "$before" ]] || fail "another tenant changed clinic's store"
# the other tenant's own space is separate: same name, its own object
expect_status 404 oadm GET "/v1/other/o/$PACK"
expect_status 201 oapp --body "$T/pack" PUT "/v1/other/o/$PACK"
expect_status 200 oadm --out "$T/list" GET "/v1/other/list?dir=data"
[[ "$(cat "$T/list")" == "$PACK" ]] || fail "other's listing: $(cat "$T/list")"
expect_status 204 oadm DELETE "/v1/other/o/$PACK"
expect_status 200 adm GET "/v1/clinic/o/$PACK"

# --- one key, two tenants, a right for each
srv_identity rd
srv identity add other "$PUBID" --rights admin
expect_status 403 rd DELETE "/v1/clinic/o/$PACK"
expect_status 201 oapp --body "$T/pack" PUT "/v1/other/o/$PACK"
expect_status 204 rd DELETE "/v1/other/o/$PACK"
# a removed identity is refused at once
srv identity remove clinic "$PUBID"
expect_status 401 rd GET /v1/clinic/info
expect_status 200 rd GET /v1/other/info
srv_stop
pass
