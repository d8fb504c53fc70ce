#!/usr/bin/env bash
# server_crash.sh: coffred killed with SIGKILL while clients upload.  In
# each of three rounds six clients PUT objects of 1 to 8 MiB until the
# server dies mid-upload; after a restart every object acknowledged with 201
# is there and bit-exact, no partial object is visible (every file in the
# store, and every listed name, hashes to its name), the temporary files of
# the interrupted uploads are gone, and the tenant's usage is recounted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup max_object_size=16M
srv_tenant clinic
srv_grant clinic adm admin
D=$STATE/tenants/clinic

# client C ROUND: PUT objects until one is not acknowledged.
client() {
	local c=$1 round=$2 i size
	for ((i = 0; i < 40; i++)); do
		size=$(((1 + (c * 7 + i) % 8) * 1024 * 1024 - c * 1000 - i))
		"$COFFRED_REQ" --url "https://127.0.0.1:$SRV_PORT" --pin "$SRV_PIN" \
			--id "$T/ids/adm.id" --gen-body "$size" \
			--seed $((round * 10000 + c * 100 + i)) --content-name \
			PUT /v1/clinic/o/data >>"$T/c$c.log" 2>/dev/null || true
		tail -n 1 "$T/c$c.log" | grep -q '^STATUS 201$' || break
	done
}

# verify_store: every object file hashes to its name; tmp/ is empty.
verify_store() {
	local bad
	[[ -d $D/data ]] || return 0
	bad=$(find "$D/data" -type f -exec sha256sum {} + | awk -v d="$D/data/" '
		{ n = $2; sub(/.*\//, "", n); p = substr($2, length(d) + 1)
		  if (n != $1 || p != substr(n, 1, 2) "/" n) { print "partial or wrong: " p > "/dev/stderr"; bad++ } }
		END { print bad + 0 }')
	[[ $bad == 0 ]] || fail "the store holds objects that do not match their names"
	[[ $(tmp_count clinic) == 0 ]] ||
		fail "temporary files left after the restart: $(ls "$D/tmp")"
}

: >"$T/acked"
for round in 1 2 3; do
	srv_start
	rm -f "$T"/c*.log
	pids=()
	for c in 1 2 3 4 5 6; do
		client $c $round &
		pids+=($!)
	done
	# let this round acknowledge some objects (up to 30 s), then kill while
	# an upload is under way (a temporary file exists)
	for ((i = 0; i < 300; i++)); do
		(($(cat "$T"/c*.log 2>/dev/null | grep -c '^STATUS 201$') >= round * 2)) && break
		sleep 0.1
	done
	for ((i = 0; i < 500; i++)); do
		[[ -n $(find "$D/tmp" -type f -size +64k -print -quit 2>/dev/null) ]] && break
		sleep 0.01
	done
	srv_kill
	partial=$(find "$D/tmp" -type f 2>/dev/null | wc -l | tr -d ' ')
	for p in "${pids[@]}"; do
		wait "$p" || true
	done
	cat "$T"/c*.log | awk '/^NAME /{ n = $2 } /^STATUS 201$/{ print n }' >>"$T/acked"
	acked=$(wc -l <"$T/acked" | tr -d ' ')
	note "round $round: killed with $partial upload(s) under way; $acked acknowledged so far"
	[[ $partial -gt 0 ]] || note "round $round: no upload was under way at the kill"

	srv_start
	verify_store
	# every acknowledged object is there, bit-exact, through the server
	while read -r n; do
		[[ -f $D/$n ]] || fail "acknowledged object $n is missing after the crash"
	done <"$T/acked"
	for n in $(shuf -n 3 "$T/acked" 2>/dev/null || head -n 3 "$T/acked"); do
		expect_status 200 adm --out "$T/got" GET "/v1/clinic/o/$n"
		[[ "$(sha256sum "$T/got" | cut -d' ' -f1)" == "${n##*/}" ]] ||
			fail "GET $n after the crash: wrong bytes"
	done
	# the listing shows exactly the complete objects
	expect_status 200 adm --out "$T/list" GET "/v1/clinic/list?dir=data"
	(cd "$D" && find data -type f | LC_ALL=C sort) >"$T/files"
	diff "$T/files" "$T/list" >/dev/null || fail "listing and store differ:
$(diff "$T/files" "$T/list" | head)"
	# usage was recounted from the files
	expect_status 200 adm --out "$T/info.json" GET /v1/clinic/info
	used=$(json_get "$T/info.json" used)
	[[ $used == "$(find "$D" -path "$D/tmp" -prune -o -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')" ]] ||
		fail "usage after restart: $used"
	srv_stop
done
[[ $(wc -l <"$T/acked") -gt 0 ]] || fail "no upload was ever acknowledged"
pass
