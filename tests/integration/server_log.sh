#!/usr/bin/env bash
# server_log.sh: the access log.  Every authenticated request is recorded
# for its tenant (time, identity, action, object name, bytes, status,
# address), refusals included; `coffred log` shows it as text and JSON,
# --since and --limit select; requests that did not authenticate are not
# written to any tenant's log; no request body ever reaches the database
# or the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup
srv_tenant clinic
srv_tenant other
srv_grant clinic app append
srv_grant other oth append
srv_identity unknown
srv_start

MARK=PATIENT-DUPONT-MARKER-7Q
{
	printf '%s ' $MARK
	head -c 4000 /dev/urandom | od -An -tx1
} >"$T/body"
expect_status 201 app --body "$T/body" --content-name PUT /v1/clinic/o/index
IDX=$NAME
expect_status 201 app --body "$T/body" PUT /v1/clinic/o/config
expect_status 200 app GET "/v1/clinic/o/$IDX"
expect_status 206 app --range bytes=0-9 GET "/v1/clinic/o/$IDX"
expect_status 200 app HEAD /v1/clinic/o/config
expect_status 200 app GET "/v1/clinic/list?dir=index"
expect_status 200 app GET /v1/clinic/info
expect_status 403 app DELETE "/v1/clinic/o/$IDX"
expect_status 409 app --body "$T/body" PUT /v1/clinic/o/config
expect_status 201 oth --body "$T/body" PUT /v1/other/o/config
# not authenticated: not in any tenant's log
expect_status 401 unknown GET /v1/clinic/info
expect_status 401 app --corrupt-sig GET /v1/clinic/info
expect_status 400 app GET /v1/clinic/o/../x

SIZE=$(stat -c %s "$T/body")
srv log clinic --json
cp "$T/srv.out" "$T/log.json"
json_one_doc "$T/log.json" array
n=$(grep -c '"action"' "$T/log.json")
[[ $n == 9 ]] || fail "9 authenticated requests to clinic, $n logged:
$(cat "$T/log.json")"
json_has_keys "$T/log.json" time unix tenant identity action object bytes status address
assert_contains "$T/log.json" "\"action\":\"put\",\"object\":\"$IDX\",\"bytes\":$SIZE,\"status\":201" "put logged"
assert_contains "$T/log.json" "\"action\":\"get\",\"object\":\"$IDX\",\"bytes\":$SIZE,\"status\":200" "get logged"
assert_contains "$T/log.json" "\"action\":\"get\",\"object\":\"$IDX\",\"bytes\":10,\"status\":206" "range get logged"
assert_contains "$T/log.json" '"action":"head","object":"config","bytes":0,"status":200' "head logged"
assert_contains "$T/log.json" '"action":"list","object":"index","bytes":0,"status":200' "list logged"
assert_contains "$T/log.json" '"action":"info","object":"","bytes":0,"status":200' "info logged"
assert_contains "$T/log.json" "\"action\":\"delete\",\"object\":\"$IDX\",\"bytes\":0,\"status\":403" "refused delete logged"
assert_contains "$T/log.json" '"action":"put","object":"config","bytes":0,"status":409' "refused put logged"
srv_identity app
assert_contains "$T/log.json" "\"identity\":\"$PUBID\"" "identity logged"
assert_contains "$T/log.json" '"address":"127.0.0.1"' "address logged"
assert_not_contains "$T/log.json" '"tenant":"other"' "other tenant's requests"
if have_jq; then
	[[ $(jq 'map(select(.status == 201)) | length' <"$T/log.json") == 2 ]] ||
		fail "jq: two 201 entries expected"
fi

# --- text, --limit, --since
srv log clinic
assert_contains "$T/srv.out" "put +201 +$SIZE +$IDX" "text log"
[[ $(wc -l <"$T/srv.out") == 9 ]] || fail "text log: $(wc -l <"$T/srv.out") lines"
srv log clinic --limit 2 --json
[[ $(grep -c '"action"' "$T/srv.out") == 2 ]] || fail "--limit 2"
assert_contains "$T/srv.out" '"status":409' "--limit keeps the latest"
srv log clinic --since 1h --json
[[ $(grep -c '"action"' "$T/srv.out") == 9 ]] || fail "--since 1h"
srv log clinic --since 2000-01-01
[[ $(wc -l <"$T/srv.out") == 9 ]] || fail "--since 2000-01-01"
srv log clinic --since "@$(($(date +%s) + 3600))"
assert_contains "$T/srv.out" 'no access recorded' "--since the future"
srv_expect_fail log clinic --since yesterday
assert_contains "$T/srv.err" 'since' "bad --since"
srv log other --json
[[ $(grep -c '"action"' "$T/srv.out") == 1 ]] || fail "other's log"

# --- no body in the database or the log, only names
srv_stop
hits=$(grep -r -a -l -- "$MARK" "$STATE" | grep -v "^$STATE/tenants/" || true)
[[ -z $hits ]] || fail "a request body reached the database or log: $hits"
grep -q -a -- "$MARK" "$STATE/tenants/clinic/config" || fail "the object itself is missing"
pass
