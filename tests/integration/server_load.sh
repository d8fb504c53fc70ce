#!/usr/bin/env bash
# server_load.sh: eight concurrent clients (a second process) each PUT
# then GET and check objects of 1 MiB, bounded in count and time (at most
# about 20 s in all).  No request may fail, and the server's resident
# memory after the main round stays within a few MiB of what it was after
# a warm-up round.  Prints requests/s, MB/s and the RSS figures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup
srv_setup max_connections=32
srv_tenant clinic
srv_grant clinic app append
srv_start

load() {
	"$COFFRED_REQ" --url "https://127.0.0.1:$SRV_PORT" --pin "$SRV_PIN" \
		--id "$T/ids/app.id" --tenant clinic --clients 8 --size 1048576 \
		--count "$1" --seconds "$2" load >"$T/load.out" 2>"$T/load.err" ||
		fail "load: $(cat "$T/load.out" "$T/load.err" | head -n 20)"
	cat "$T/load.out"
}

rss0=$(srv_rss_kb)
warm=$(load 4 8)
rss1=$(srv_rss_kb)
main=$(load 25 14)
rss2=$(srv_rss_kb)
note "warm-up: $warm"
note "main:    $main"
note "server RSS: ${rss0} kB at start, ${rss1} kB after the warm-up, ${rss2} kB after the main round"
[[ $(awk '{ print $4 }' <<<"$main") == 0 ]] || fail "errors under load: $main"
req=$(awk '{ print $2 }' <<<"$main")
((req >= 16)) || fail "too few requests completed: $main"
limit=$((8 * 1024))
srv_sanitized && limit=$((32 * 1024))   # ASan's quarantine and shadow
((rss2 - rss1 < limit)) || fail "server RSS grew by $((rss2 - rss1)) kB under load"
# everything stored is intact
srv_stop
bad=$(find "$STATE/tenants/clinic/data" -type f -exec sha256sum {} + |
	awk '{ n = $2; sub(/.*\//, "", n); if (n != $1) bad++ } END { print bad + 0 }')
((bad == 0)) || fail "$bad stored objects do not match their names"
pass
