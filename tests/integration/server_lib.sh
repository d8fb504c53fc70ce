# shellcheck shell=bash
#
# server_lib.sh: helpers for the coffred scenarios (sourced after lib.sh).
#
#   srv_setup [SETTING=VALUE]...   state dir, self-signed cert, config in $T
#   srv_start / srv_stop / srv_kill
#   srv_tenant NAME [QUOTA]        coffred tenant add
#   srv_identity NAME              a test identity $T/ids/NAME.id; $PUBID
#   srv_grant TENANT NAME RIGHTS   coffred identity add
#   req NAME ARGS...               coffred-req with --url/--pin/--id; the
#                                  last status in $STATUS, output $T/req.out
#   expect_status CODE NAME ARGS...
#   store_digest TENANT            checksums of the tenant's objects
#
# Environment (tests/meson.build): COFFRED (the server), COFFRED_REQ
# (tests/tools/coffred-req.c).

[[ -n ${COFFRED:-} && -x ${COFFRED:-} ]] ||
	fail "COFFRED is not set to the coffred binary"
[[ -n ${COFFRED_REQ:-} && -x ${COFFRED_REQ:-} ]] ||
	fail "COFFRED_REQ is not set to the coffred-req test tool"

SRV_PID=
SRV_PORT=
SRV_PIN=

# srv_setup [KEY=VALUE]...: $T/srv/state, cert and key, $T/srv/coffred.conf
# listening on 127.0.0.1, any free port; extra settings as given.
srv_setup() {
	SRV=$T/srv
	STATE=$SRV/state
	mkdir -p "$SRV"
	"$COFFRED" cert --cert "$SRV/cert.pem" --key "$SRV/key.pem" \
		--name localhost --name 127.0.0.1 --days 2 >"$SRV/cert.out" ||
		fail "coffred cert failed"
	{
		printf 'state_dir = %s\n' "$STATE"
		printf 'cert_file = %s\nkey_file = %s\n' "$SRV/cert.pem" "$SRV/key.pem"
		printf 'listen = 127.0.0.1\nport = 0\n'
		local kv
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$SRV/coffred.conf"
	SRV_CONF=$SRV/coffred.conf
}

# srv ARGS...: an operator command (must succeed); output in $T/srv.out.
srv() {
	"$COFFRED" --config "$SRV_CONF" "$@" >"$T/srv.out" 2>"$T/srv.err" ||
		fail "coffred $* failed:
$(cat "$T/srv.err")"
}

# srv_expect_fail ARGS...: an operator command that must fail (exit != 0).
srv_expect_fail() {
	SRV_RC=0
	"$COFFRED" --config "$SRV_CONF" "$@" >"$T/srv.out" 2>"$T/srv.err" || SRV_RC=$?
	[[ $SRV_RC != 0 ]] || fail "coffred $* succeeded, expected a failure"
}

# srv_start: start the server, wait until it listens; $SRV_PORT, $SRV_PIN.
srv_start() {
	local i
	: >"$SRV/serve.err"
	# Under AddressSanitizer, freed memory is held in a quarantine (256 MiB
	# by default), which would hide whether the server's memory stays flat.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8 \
		"$COFFRED" --config "$SRV_CONF" serve </dev/null >"$SRV/serve.out" 2>>"$SRV/serve.err" &
	SRV_PID=$!
	_BG_PIDS+=("$SRV_PID")
	for ((i = 0; i < 200; i++)); do
		if grep -q 'serving .* port [0-9]' "$SRV/serve.err" 2>/dev/null; then
			SRV_PORT=$(grep -o 'port [0-9]*' "$SRV/serve.err" | tail -n 1 | cut -d' ' -f2)
			SRV_PIN=$(grep -o 'sha256//[A-Za-z0-9+/=]*' "$SRV/serve.err" | tail -n 1)
			return 0
		fi
		kill -0 "$SRV_PID" 2>/dev/null || fail "coffred serve exited:
$(cat "$SRV/serve.err")"
		sleep 0.05
	done
	fail "coffred serve did not start in 10 s:
$(cat "$SRV/serve.err")"
}

srv_stop() {
	local rc=0
	[[ -n $SRV_PID ]] || return 0
	kill -TERM "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || rc=$?
	SRV_PID=
	srv_sanitizer_check
	[[ $rc == 0 ]] || fail "coffred serve exited $rc on SIGTERM:
$(tail -n 20 "$SRV/serve.err")"
}

# srv_sanitizer_check: a sanitizer report of the server fails the test.
srv_sanitizer_check() {
	if grep -q -E 'Sanitizer|runtime error:' "$SRV/serve.err" 2>/dev/null; then
		fail "coffred: sanitizer report:
$(grep -E -A30 'Sanitizer|runtime error:' "$SRV/serve.err" | head -n 60)"
	fi
}

srv_kill() {
	[[ -n $SRV_PID ]] || return 0
	kill -KILL "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=
	srv_sanitizer_check
}

srv_tenant() {
	if [[ -n ${2:-} ]]; then
		srv tenant add "$1" --quota "$2"
	else
		srv tenant add "$1"
	fi
}

# srv_identity NAME: make $T/ids/NAME.id (if missing); $PUBID its public id.
srv_identity() {
	mkdir -p "$T/ids"
	if [[ ! -f $T/ids/$1.id ]]; then
		PUBID=$("$COFFRED_REQ" keygen "$T/ids/$1.id") || fail "keygen $1"
	else
		PUBID=$("$COFFRED_REQ" pubid "$T/ids/$1.id") || fail "pubid $1"
	fi
}

# srv_grant TENANT NAME RIGHTS
srv_grant() {
	srv_identity "$2"
	srv identity add "$1" "$PUBID" --rights "$3" --label "test $2"
}

# req NAME ARGS...: one request as identity NAME; $STATUS = last status.
req() {
	local who=$1
	shift
	STATUS=
	"$COFFRED_REQ" --url "https://127.0.0.1:$SRV_PORT" --pin "$SRV_PIN" \
		--id "$T/ids/$who.id" "$@" >"$T/req.out" 2>"$T/req.err" || true
	STATUS=$(sed -n 's/^STATUS //p' "$T/req.out" | tail -n 1)
	NAME=$(sed -n 's/^NAME //p' "$T/req.out" | tail -n 1)
}

# expect_status CODE NAME ARGS...
expect_status() {
	local want=$1
	shift
	req "$@"
	[[ $STATUS == "$want" ]] ||
		fail "request ${*:2} as $1: status '$STATUS', expected $want
$(cat "$T/req.err" 2>/dev/null | head -n 5)
$(tail -n 5 "$SRV/serve.err" 2>/dev/null)"
}

# store_digest TENANT: checksums of every file of the tenant (tmp/ too).
store_digest() {
	local d=$STATE/tenants/$1
	[[ -d $d ]] || return 0
	(cd "$d" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# tmp_count TENANT: files in the tenant's tmp/.
tmp_count() {
	local d=$STATE/tenants/$1/tmp
	[[ -d $d ]] || { echo 0; return; }
	find "$d" -type f | wc -l | tr -d ' '
}

# srv_sanitized: 0 if coffred was built with AddressSanitizer (slower, and
# with memory overheads of its own).
srv_sanitized() {
	ldd "$COFFRED" 2>/dev/null | grep -q 'libasan'
}

# srv_rss_kb: the server's resident set size (kB).
srv_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$SRV_PID/status"
}

# h64 FILE: the 64-hex SHA-256 content name part of FILE's bytes.
h64() {
	"$COFFRED_REQ" name index "$1" | cut -d/ -f2
}
