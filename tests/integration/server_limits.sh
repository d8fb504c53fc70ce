#!/usr/bin/env bash
# server_limits.sh: coffred's limits and object semantics.  413 for a body
# above max_object_size, 411 without Content-Length, 431 for headers above
# max_header_bytes, 422 for a content-named object whose body does not hash
# to its name, 409 for an existing name (unchanged), 507 above the quota,
# 404, HEAD, ranges (206, 416, 400), listing pages (Coffre-Next), 503
# above max_connections and a refused connection above the per-address
# limit, and a
# 64 MiB object streamed in and out without the server's memory growing
# by anything like its size.  Nothing is stored by a refused request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup max_object_size=70M max_header_bytes=8K max_connections=3 \
	max_connections_per_ip=6
srv_tenant clinic
srv_tenant small 3M
srv_grant clinic adm admin
srv_grant small app append
srv_start

before=$(store_digest clinic)
unchanged() {
	[[ "$(store_digest clinic)" == "$before" ]] || fail "$1: the store changed"
	[[ $(tmp_count clinic) == 0 ]] || fail "$1: a temporary file was left"
}

# --- 413: refused from Content-Length, before the body is read
expect_status 413 adm --gen-body $((71 * 1024 * 1024)) --content-name --out "$T/err.json" PUT /v1/clinic/o/data
assert_contains "$T/err.json" '"error":"too_large"' "413 body"
unchanged "413"
# --- 411: a chunked upload has no Content-Length
expect_status 411 adm --gen-body 1000 --content-name --chunked --out "$T/err.json" PUT /v1/clinic/o/index
assert_contains "$T/err.json" '"error":"length_required"' "411 body"
unchanged "411"

# --- 431: headers above the limit (ours, with a JSON body) ...
expect_status 431 adm --pad-header 9000 --out "$T/err.json" GET /v1/clinic/info
assert_contains "$T/err.json" '"error":"headers_too_large"' "431 body"
expect_status 431 adm --pad-header 9000 --gen-body 1000 --content-name PUT /v1/clinic/o/index
unchanged "431 on PUT"
# ... and far above it (refused by the HTTP layer itself, before any handler)
req adm --pad-header 300000 GET /v1/clinic/info
[[ $STATUS == 431 || $STATUS == 413 || $STATUS == 400 || -z $STATUS || $STATUS == 0 ]] ||
	fail "a 300 kB header: status $STATUS"
expect_status 200 adm --pad-header 4000 GET /v1/clinic/info

# --- 422: content-named objects must hash to their name
head -c 20000 /dev/urandom >"$T/a"
head -c 20000 /dev/urandom >"$T/b"
HA=$(h64 "$T/a")
HB=$(h64 "$T/b")
for name in "index/$HA" "snapshots/$HA" "locks/$HA" "data/${HA:0:2}/$HA"; do
	expect_status 422 adm --body "$T/b" --out "$T/err.json" PUT "/v1/clinic/o/$name"
	assert_contains "$T/err.json" '"error":"content_mismatch"' "422 body"
	unchanged "422 $name"
done
# config and keys/ are named otherwise: any body
expect_status 201 adm --body "$T/b" PUT /v1/clinic/o/config
expect_status 201 adm --body "$T/b" PUT "/v1/clinic/o/keys/$HA"

# --- 409: an existing name is never replaced
expect_status 201 adm --body "$T/a" PUT "/v1/clinic/o/index/$HA"
expect_status 409 adm --body "$T/a" --out "$T/err.json" PUT "/v1/clinic/o/index/$HA"
assert_contains "$T/err.json" '"error":"exists"' "409 body"
expect_status 409 adm --body "$T/a" PUT /v1/clinic/o/config
expect_status 200 adm GET /v1/clinic/o/config --out "$T/got"
cmp -s "$T/got" "$T/b" || fail "config was replaced"
before=$(store_digest clinic)

# --- 404, HEAD
expect_status 404 adm --out "$T/err.json" GET "/v1/clinic/o/index/$HB"
assert_contains "$T/err.json" '"error":"not_found"' "404 body"
expect_status 404 adm HEAD "/v1/clinic/o/index/$HB"
expect_status 404 adm DELETE "/v1/clinic/o/index/$HB"
expect_status 200 adm --headers-out "$T/h" HEAD "/v1/clinic/o/index/$HA"
assert_contains "$T/h" '^Content-Length: 20000' "HEAD size"

# --- ranges
expect_status 206 adm --range bytes=100-199 --headers-out "$T/h" --out "$T/r" GET "/v1/clinic/o/index/$HA"
assert_contains "$T/h" '^Content-Range: bytes 100-199/20000' "Content-Range"
cmp -s "$T/r" <(tail -c +101 "$T/a" | head -c 100) || fail "range 100-199: wrong bytes"
expect_status 206 adm --range bytes=19990- --out "$T/r" GET "/v1/clinic/o/index/$HA"
cmp -s "$T/r" <(tail -c 10 "$T/a") || fail "range 19990-: wrong bytes"
expect_status 206 adm --range bytes=19999-99999999 --out "$T/r" GET "/v1/clinic/o/index/$HA"
[[ $(stat -c %s "$T/r") == 1 ]] || fail "a range past the end is not clamped"
expect_status 416 adm --range bytes=20000- --headers-out "$T/h" --out "$T/err.json" GET "/v1/clinic/o/index/$HA"
assert_contains "$T/err.json" '"error":"bad_range"' "416 body"
assert_contains "$T/h" '^Content-Range: bytes \*/20000' "416 Content-Range"
for r in bytes=5-1 bytes=-5 bytes=0-1,3-4 'bytes= 0-1' items=0-1 bytes=0x10-; do
	expect_status 400 adm --range "$r" GET "/v1/clinic/o/index/$HA"
done
expect_status 400 adm --range bytes=0-1 HEAD "/v1/clinic/o/index/$HA"

# --- listing pages
: >"$T/names"
for i in 1 2 3 4 5 6 7; do
	head -c 3000 /dev/urandom >"$T/o$i"
	expect_status 201 adm --body "$T/o$i" --content-name PUT /v1/clinic/o/data
	echo "$NAME" >>"$T/names"
done
LC_ALL=C sort "$T/names" >"$T/names.sorted"
: >"$T/listed"
after=
pages=0
while :; do
	q="dir=data&limit=3"
	[[ -n $after ]] && q="dir=data&after=$after&limit=3"
	expect_status 200 adm --headers-out "$T/h" --out "$T/page" GET "/v1/clinic/list?$q"
	cat "$T/page" >>"$T/listed"
	pages=$((pages + 1))
	after=$(sed -n 's/^Coffre-Next: \([a-z0-9/]*\).*$/\1/p' "$T/h" | tr -d '\r')
	[[ -n $after ]] || break
	[[ $after == "$(tail -n 1 "$T/page")" ]] || fail "Coffre-Next is not the last name of the page"
	((pages < 10)) || fail "listing does not end"
done
diff "$T/names.sorted" "$T/listed" >/dev/null || fail "paged listing differs:
$(diff "$T/names.sorted" "$T/listed")"
[[ $pages == 3 ]] || fail "7 names in pages of 3: $pages pages"
expect_status 200 adm --headers-out "$T/h" --out "$T/page" GET "/v1/clinic/list?dir=data"
cmp -s "$T/page" "$T/names.sorted" || fail "full listing differs"
assert_not_contains "$T/h" '^Coffre-Next' "complete listing"
expect_status 200 adm --out "$T/page" GET "/v1/clinic/list?dir=index&after=index/$HA"
[[ ! -s $T/page ]] || fail "after= the last name lists something"

# --- 507: the quota counts stored bytes and uploads under way
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/two"
head -c $((1024 * 1024 + 1)) /dev/urandom >"$T/one"
expect_status 201 app --body "$T/two" --content-name PUT /v1/small/o/data
expect_status 507 app --body "$T/one" --content-name --out "$T/err.json" PUT /v1/small/o/data
assert_contains "$T/err.json" '"error":"quota_exceeded"' "507 body"
expect_status 200 app --out "$T/info.json" GET /v1/small/info
assert_contains "$T/info.json" "\"quota\":3145728,\"used\":2097152" "usage"
[[ $(tmp_count small) == 0 ]] || fail "507 left a temporary file"
[[ $(find "$STATE/tenants/small/data" -type f | wc -l) == 1 ]] || fail "507 stored something"
head -c 1000 /dev/urandom >"$T/kb"
expect_status 201 app --body "$T/kb" --content-name PUT /v1/small/o/data

# --- a 64 MiB object streams: the server's peak memory stays far below it
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$SRV_PID/status"; }
h0=$(hwm)
expect_status 201 adm --gen-body $((64 * 1024 * 1024)) --seed 7 --content-name PUT /v1/clinic/o/data
big=$NAME
h1=$(hwm)
expect_status 200 adm --out "$T/big" GET "/v1/clinic/o/$big"
h2=$(hwm)
[[ $(stat -c %s "$T/big") == $((64 * 1024 * 1024)) ]] || fail "64 MiB GET: wrong size"
[[ "data/$(h64 "$T/big" | cut -c1-2)/$(h64 "$T/big")" == "$big" ]] || fail "64 MiB GET: wrong bytes"
note "peak RSS: ${h0} kB at start, ${h1} kB after a 64 MiB PUT, ${h2} kB after its GET"
((h1 - h0 < 24 * 1024 && h2 - h0 < 24 * 1024)) ||
	fail "the server's memory grew by more than 24 MiB for a 64 MiB object (${h0} -> ${h1} -> ${h2} kB)"

# --- connection limits: 503 above max_connections (3), and the seventh
# connection from one address is refused outright (max_connections_per_ip)
if command -v openssl >/dev/null; then
	idle=()
	hold() {
		openssl s_client -connect "127.0.0.1:$SRV_PORT" -quiet -ign_eof \
			</dev/null >/dev/null 2>&1 &
		idle+=($!)
		_BG_PIDS+=($!)
	}
	hold; hold; hold
	sleep 1
	expect_status 503 adm --out "$T/err.json" GET /v1/clinic/info
	assert_contains "$T/err.json" '"error":"busy"' "503 body"
	hold; hold; hold
	sleep 1
	req adm GET /v1/clinic/info
	[[ -z $STATUS || $STATUS == 0 ]] || fail "a 7th connection from one address: status $STATUS"
	for p in "${idle[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for ((i = 0; i < 50; i++)); do
		req adm GET /v1/clinic/info
		[[ $STATUS == 200 ]] && break
		sleep 0.2
	done
	[[ $STATUS == 200 ]] || fail "the server did not recover from the connection limit: $STATUS"
fi
srv_stop
pass
