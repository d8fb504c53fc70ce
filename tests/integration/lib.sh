# shellcheck shell=bash disable=SC2059
#
# lib.sh: helpers shared by the integration tests (sourced, not run).
#
# Every test:
#   . "$(dirname "$0")/lib.sh"
#   setup           # scratch dir $T, isolated environment, trap cleanup
#   ...assertions...
#   pass            # prints "PASS <test>" and exits 0
#
# Environment given by tests/meson.build: COFFRE (path of the binary) and
# SRCDIR (source root).  Only bash, coreutils, findutils, diffutils, grep
# and util-linux are needed; jq is used when installed, with a fallback.

set -euo pipefail
shopt -s nullglob

TEST_NAME=$(basename "$0" .sh)
T=
_BG_PIDS=()

# ---------------------------------------------------------------- reporting

# fail MSG...: report a failed assertion and exit 1.
fail() {
	printf 'FAIL %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# note MSG...: informational line on stderr.
note() {
	printf '# %s: %s\n' "$TEST_NAME" "$*" >&2
}

pass() {
	printf 'PASS %s\n' "$TEST_NAME"
	exit 0
}

# show_last: the output of the last run_cf / expect_exit, for messages.
show_last() {
	local f
	for f in "$T/last.out" "$T/last.err"; do
		[[ -f $f ]] || continue
		printf -- '--- %s (first 40 lines)\n' "${f##*/}"
		head -n 40 "$f" | cut -c1-300
	done
}

# ------------------------------------------------------------------- setup

_cleanup() {
	local rc=$? p
	for p in "${_BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	if [[ -n ${T:-} && -d $T ]]; then
		if [[ -n ${COFFRE_IT_KEEP:-} ]]; then
			printf '# %s: scratch directory kept: %s\n' "$TEST_NAME" "$T" >&2
		else
			chmod -R u+rwX "$T" 2>/dev/null || true
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# setup: make the scratch directory $T (resolved, no symlink in its path),
# isolate the environment and give the default identity/repository paths.
setup() {
	[[ -n ${COFFRE:-} ]] || fail "COFFRE is not set (path of the coffre binary)"
	[[ $COFFRE == /* ]] || COFFRE=$PWD/$COFFRE
	[[ -x $COFFRE ]] || fail "COFFRE=$COFFRE is not an executable file"
	export COFFRE
	umask 022
	T=$(mktemp -d "${TMPDIR:-/tmp}/coffre-it-$TEST_NAME.XXXXXX")
	T=$(cd "$T" && pwd -P)
	trap _cleanup EXIT
	trap 'exit 130' INT TERM
	export HOME=$T/home
	export XDG_CONFIG_HOME=$T/home/.config
	export XDG_CACHE_HOME=$T/home/.cache
	mkdir -p "$HOME"
	unset COFFRE_CACHE_DIR
	export LC_ALL=C
	mkdir -p "$T/ids"
	printf 'correct horse battery staple\n' >"$T/pass"
	printf 'wrong horse battery staple\n' >"$T/wrongpass"
	chmod 600 "$T/pass" "$T/wrongpass"
	export COFFRE_PASSPHRASE_FILE=$T/pass
	export COFFRE_IDENTITY=$T/ids/owner
	export COFFRE_REPOSITORY=$T/repo
	cd "$T"
}

# ------------------------------------------------------------ running coffre

CF_TIMEOUT=${COFFRE_IT_TIMEOUT:-240}
# CF_WRAP: an optional command put in front of coffre by run_cf (e.g.
# setpriv to drop capabilities).
CF_WRAP=()

# run_cf ARGS...: run coffre (stdin /dev/null, no controlling terminal,
# time-limited); stdout in $T/last.out, stderr in $T/last.err, exit code in
# $RC.  Never fails itself.
run_cf() {
	RC=0
	setsid -w timeout -k 5 "$CF_TIMEOUT" "${CF_WRAP[@]}" "$COFFRE" "$@" </dev/null >"$T/last.out" 2>"$T/last.err" || RC=$?
	if [[ $RC == 124 || $RC == 137 ]]; then
		note "coffre $* timed out after ${CF_TIMEOUT}s (exit $RC)"
	fi
	return 0
}

# expect_exit CODE ARGS...: run coffre with ARGS, fail unless it exits CODE.
# CODE may be "nonzero".
expect_exit() {
	local want=$1
	shift
	run_cf "$@"
	if [[ $want == nonzero ]]; then
		[[ $RC != 0 ]] && return 0
	elif [[ $RC == "$want" ]]; then
		return 0
	fi
	fail "coffre $* exited $RC, expected $want
$(show_last)"
}

# cf ARGS...: coffre that must succeed (exit 0); output as run_cf.
cf() {
	expect_exit 0 "$@"
}

# assert_contains FILE REGEX [WHAT]: grep -E -i REGEX must match in FILE.
assert_contains() {
	local file=$1 re=$2 what=${3:-}
	grep -E -i -q -a -- "$re" "$file" ||
		fail "${what:+$what: }${file##*/} does not match /$re/
$(head -n 20 "$file" | cut -c1-300)"
}

# assert_not_contains FILE REGEX [WHAT]
assert_not_contains() {
	local file=$1 re=$2 what=${3:-}
	if grep -E -i -q -a -- "$re" "$file"; then
		fail "${what:+$what: }${file##*/} matches /$re/ but must not:
$(grep -E -i -a -- "$re" "$file" | head -n 5 | cut -c1-300)"
	fi
}

# assert_eq GOT WANT WHAT
assert_eq() {
	[[ $1 == "$2" ]] || fail "$3: got '$1', expected '$2'"
}

# assert_error_format: the last command's stderr has a "coffre: error: "
# line (the contract's error format).
assert_error_format() {
	grep -q '^coffre: error: ' "$T/last.err" ||
		fail "stderr has no 'coffre: error: ' line
$(show_last)"
}

# new_identity FILE [NAME]: create an identity (cheap KDF) at FILE.
new_identity() {
	local file=$1 name=${2:-}
	if [[ -n $name ]]; then
		cf -i "$file" id new --kdf interactive --name "$name"
	else
		cf -i "$file" id new --kdf interactive
	fi
	[[ -f $file ]] || fail "coffre id new did not create $file"
}

# pubid FILE: the public identity string of identity FILE.
pubid() {
	cf -i "$1" id show
	head -n 1 "$T/last.out"
}

# init_repo [REPO] [IDENTITY]: identity (created if missing) + repository.
init_repo() {
	local repo=${1:-$COFFRE_REPOSITORY} id=${2:-$COFFRE_IDENTITY}
	[[ -f $id ]] || new_identity "$id" "owner"
	cf -r "$repo" -i "$id" init
	assert_contains "$T/last.out" '^created repository [0-9a-f]{32} at ' "init output"
	[[ -f $repo/config ]] || fail "init did not create $repo/config"
}

# backup_json ARGS...: coffre --json backup ARGS (must exit 0); the JSON is
# kept in $T/backup.json and the snapshot id in $SNAP.
backup_json() {
	cf --json backup "$@"
	cp "$T/last.out" "$T/backup.json"
	SNAP=$(json_get "$T/backup.json" snapshot)
	[[ $SNAP =~ ^[0-9a-f]{64}$ ]] ||
		fail "backup --json gave no 64-hex snapshot id: '$SNAP'
$(show_last)"
}

# start_bg ARGS...: start coffre ARGS in the background (no timeout
# wrapper, so that the pid is coffre's own); pid in $BG_PID; output in
# $T/bg.out / $T/bg.err.
start_bg() {
	"$COFFRE" "$@" </dev/null >"$T/bg.out" 2>"$T/bg.err" &
	BG_PID=$!
	_BG_PIDS+=("$BG_PID")
}

# ------------------------------------------------------------------- JSON

have_jq() {
	[[ -z ${COFFRE_IT_NO_JQ:-} ]] && command -v jq >/dev/null 2>&1
}

# json_one_doc FILE object|array: FILE holds exactly one JSON document of
# that kind (jq when installed; otherwise first/last non-blank character).
json_one_doc() {
	local file=$1 kind=$2 first last n
	[[ -s $file ]] || fail "expected a JSON $kind, got empty output"
	if have_jq; then
		n=$(jq -s 'length' <"$file" 2>/dev/null) ||
			fail "output is not valid JSON:
$(head -c 600 "$file")"
		[[ $n == 1 ]] || fail "expected one JSON document, found $n"
		local t
		t=$(jq -r 'type' <"$file")
		[[ $t == "$kind" ]] || fail "expected a JSON $kind, got $t"
	fi
	first=$(tr -d ' \t\r\n' <"$file" | head -c 1)
	last=$(tr -d ' \t\r\n' <"$file" | tail -c 1)
	if [[ $kind == object ]]; then
		[[ $first == '{' && $last == '}' ]] ||
			fail "JSON object expected; starts with '$first', ends with '$last'"
	else
		[[ $first == '[' && $last == ']' ]] ||
			fail "JSON array expected; starts with '$first', ends with '$last'"
	fi
}

# json_has_keys FILE KEY...: every KEY appears as "KEY": in FILE.
json_has_keys() {
	local file=$1 k
	shift
	for k in "$@"; do
		grep -q -E "\"$k\"[[:space:]]*:" "$file" ||
			fail "JSON has no field \"$k\":
$(head -c 600 "$file")"
	done
}

# json_get FILE KEY: value of the first "KEY" in a flat object (string
# without quotes, number, true/false/null).
json_get() {
	local file=$1 key=$2
	if have_jq; then
		jq -r --arg k "$key" 'if type == "array" then .[0][$k] else .[$k] end
			| if . == null then "null" else tostring end' <"$file"
		return
	fi
	tr -d '\n' <"$file" |
		grep -o -E "\"$key\"[[:space:]]*:[[:space:]]*(\"([^\"\\\\]|\\\\.)*\"|[^,}]*)" |
		head -n 1 |
		sed -E "s/^\"$key\"[[:space:]]*:[[:space:]]*//; s/^\"(.*)\"\$/\\1/; s/[[:space:]]+\$//"
}

# json_count FILE KEY: how many times "KEY": occurs (array length by a key
# every element has exactly once).
json_count() {
	local file=$1 key=$2
	if have_jq; then
		jq -r 'length' <"$file"
		return
	fi
	grep -o -E "\"$key\"[[:space:]]*:" "$file" | wc -l | tr -d ' '
}

# json_array_values FILE KEY: the string values of KEY in each element of
# a flat array of objects, one per line.
json_array_values() {
	local file=$1 key=$2
	if have_jq; then
		jq -r --arg k "$key" '.[] | .[$k] | tostring' <"$file"
		return
	fi
	tr -d '\n' <"$file" |
		grep -o -E "\"$key\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" |
		sed -E "s/^\"$key\"[[:space:]]*:[[:space:]]*\"//; s/\"\$//"
}

# ---------------------------------------------------------- repositories

# repo_digest DIR: checksums of every file (sorted names), to show that a
# refused command changed nothing.
repo_digest() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# du_bytes DIR: apparent size in bytes.
du_bytes() {
	du -sb "$1" | cut -f1
}

# packs REPO: pack files, largest first.
packs() {
	find "$1/data" -type f -printf '%s %p\n' | sort -k1,1nr -k2 | cut -d' ' -f2-
}

# flip_byte FILE OFFSET: invert every bit of the byte at OFFSET.
flip_byte() {
	local file=$1 off=$2 hex
	hex=$(od -An -v -tx1 -j "$off" -N 1 "$file" | tr -d ' \n')
	[[ -n $hex ]] || fail "flip_byte: $file has no byte at $off"
	chmod u+w "$file"
	printf "\\x$(printf '%02x' $((0x$hex ^ 0xff)))" |
		dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# set_byte FILE OFFSET VALUE(0-255)
set_byte() {
	chmod u+w "$1"
	printf "\\x$(printf '%02x' "$3")" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# ------------------------------------------------------------------- data

# rand_file FILE BYTES: random content.
rand_file() {
	head -c "$2" /dev/urandom >"$1"
}

# text_file FILE BYTES [WORD]: compressible, deterministic text.
text_file() {
	local word=${3:-lorem}
	seq 1 100000000 | awk -v w="$word" '{ print w " line " $1 " of a compressible medical record text" }' |
		head -c "$2" >"$1" || true
	[[ $(stat -c %s "$1") == "$2" ]] || fail "text_file: could not write $2 bytes to $1"
}

# count_entries DIR: number of entries below and including DIR.
count_entries() {
	find "$1" -printf . | wc -c | tr -d ' '
}

# ----------------------------------------------------------- tree compare

# compare_trees A B: B (a restore) equals A (the original): same entries
# (none missing, none extra), and for each: type; permission bits (not for
# symlinks); owner and group; mtime to the nanosecond (as the filesystem
# keeps it, %T@); size (files, symlinks); symlink target; content bit-exact
# (cmp); hard-link grouping (files that share an inode in A share one in B,
# and only those); a file that is sparse in A (allocated < half its size,
# size >= 1 MiB) is sparse in B.  The roots are compared too (mode, mtime).
compare_trees() {
	local a=$1 b=$2
	[[ -d $a ]] || fail "compare_trees: original $a is not a directory"
	[[ -d $b ]] || fail "compare_trees: restored $b is not a directory"
	local -A ty=() mo=() sz=() mt=() ow=() ino=() blk=() tg=()
	local -A tyb=() mob=() szb=() mtb=() owb=() inob=() blkb=() tgb=()
	local rel y m s t u g i bl l k
	while IFS= read -r -d '' rel && IFS= read -r -d '' y && IFS= read -r -d '' m &&
		IFS= read -r -d '' s && IFS= read -r -d '' t && IFS= read -r -d '' u &&
		IFS= read -r -d '' g && IFS= read -r -d '' i && IFS= read -r -d '' bl &&
		IFS= read -r -d '' l; do
		k="/$rel"
		ty[$k]=$y mo[$k]=$m sz[$k]=$s mt[$k]=$t ow[$k]=$u:$g ino[$k]=$i blk[$k]=$bl tg[$k]=$l
	done < <(find "$a" -printf '%P\0%y\0%m\0%s\0%T@\0%U\0%G\0%i\0%b\0%l\0')
	while IFS= read -r -d '' rel && IFS= read -r -d '' y && IFS= read -r -d '' m &&
		IFS= read -r -d '' s && IFS= read -r -d '' t && IFS= read -r -d '' u &&
		IFS= read -r -d '' g && IFS= read -r -d '' i && IFS= read -r -d '' bl &&
		IFS= read -r -d '' l; do
		k="/$rel"
		tyb[$k]=$y mob[$k]=$m szb[$k]=$s mtb[$k]=$t owb[$k]=$u:$g inob[$k]=$i blkb[$k]=$bl tgb[$k]=$l
	done < <(find "$b" -printf '%P\0%y\0%m\0%s\0%T@\0%U\0%G\0%i\0%b\0%l\0')

	local -a keys=()
	mapfile -d '' -t keys < <(printf '%s\0' "${!ty[@]}" | LC_ALL=C sort -z)
	local -A repa=() repb=()
	local nfail=0 msgs=""
	_ct() { nfail=$((nfail + 1)); msgs+="  $(printf '%q' "$1"): $2"$'\n'; }
	for k in "${keys[@]}"; do
		if [[ -z ${tyb[$k]+x} ]]; then
			_ct "$k" "missing in the restored tree"
			continue
		fi
		if [[ ${ty[$k]} != "${tyb[$k]}" ]]; then
			_ct "$k" "type ${ty[$k]} restored as ${tyb[$k]}"
			continue
		fi
		if [[ ${ty[$k]} != l && ${mo[$k]} != "${mob[$k]}" ]]; then
			_ct "$k" "mode ${mo[$k]} restored as ${mob[$k]}"
		fi
		[[ ${ow[$k]} == "${owb[$k]}" ]] || _ct "$k" "owner ${ow[$k]} restored as ${owb[$k]}"
		[[ ${mt[$k]} == "${mtb[$k]}" ]] || _ct "$k" "mtime ${mt[$k]} restored as ${mtb[$k]}"
		case ${ty[$k]} in
		f)
			if [[ ${sz[$k]} != "${szb[$k]}" ]]; then
				_ct "$k" "size ${sz[$k]} restored as ${szb[$k]}"
			elif ! cmp -s -- "$a$k" "$b$k"; then
				_ct "$k" "content differs"
			fi
			s=${sz[$k]} bl=${blk[$k]} i=${blkb[$k]}
			if ((s >= 1048576 && bl * 512 < s / 2 && i * 512 >= s / 2)); then
				_ct "$k" "sparse file (${blk[$k]} blocks) restored dense (${blkb[$k]} blocks of 512 for ${sz[$k]} bytes)"
			fi
			[[ -n ${repa[${ino[$k]}]+x} ]] || repa[${ino[$k]}]=$k
			[[ -n ${repb[${inob[$k]}]+x} ]] || repb[${inob[$k]}]=$k
			if [[ ${repa[${ino[$k]}]} != "${repb[${inob[$k]}]}" ]]; then
				if [[ ${repa[${ino[$k]}]} != "$k" ]]; then
					_ct "$k" "was a hard link to ${repa[${ino[$k]}]}, restored as a hard link to ${repb[${inob[$k]}]}"
				else
					_ct "$k" "was not a hard link to an earlier file, restored as a hard link to ${repb[${inob[$k]}]}"
				fi
			fi
			;;
		l)
			[[ ${tg[$k]} == "${tgb[$k]}" ]] ||
				_ct "$k" "symlink target $(printf '%q' "${tg[$k]}") restored as $(printf '%q' "${tgb[$k]}")"
			;;
		esac
	done
	for k in "${!tyb[@]}"; do
		[[ -n ${ty[$k]+x} ]] || _ct "$k" "extra entry in the restored tree"
	done
	unset -f _ct
	if ((nfail > 0)); then
		fail "compare_trees $a $b: $nfail difference(s):
$(printf '%s' "$msgs" | head -n 40)"
	fi
}

# check_partial_restore ORIG TARGETSUB: the rule for restores that failed
# (tampering): every regular file present under TARGETSUB whose size equals
# that of the original file must be bit-exact.  A file of another size is
# accepted as a partial file left by the failed restore; a file of the same
# size with other content is a silent wrong result, the one thing never
# allowed.  Files that do not exist in ORIG are an error too.
check_partial_restore() {
	local orig=$1 sub=$2 rel n=0 bad=""
	[[ -d $sub ]] || return 0
	while IFS= read -r -d '' rel; do
		if [[ ! -f $orig/$rel || -L $orig/$rel ]]; then
			bad+="  $(printf '%q' "$rel"): restored file that is no regular file in the original"$'\n'
			continue
		fi
		if [[ $(stat -c %s -- "$sub/$rel") == "$(stat -c %s -- "$orig/$rel")" ]]; then
			n=$((n + 1))
			cmp -s -- "$orig/$rel" "$sub/$rel" ||
				bad+="  $(printf '%q' "$rel"): full-size file with WRONG content"$'\n'
		fi
	done < <(find "$sub" -type f -printf '%P\0')
	[[ -z $bad ]] || fail "restore from a tampered repository left wrong files:
$bad"
	note "failed restore left $n full-size file(s), all bit-exact"
}

# make_rich_tree DIR [BIG]: a tree with every kind of entry the format
# knows: large random and compressible files (BIG=1: 20 MiB + 10 MiB,
# else 2 MiB + 1 MiB), small and empty files, a sparse file, awkward names
# (UTF-8, spaces, newline, leading dash, backslash, a non-UTF-8 byte),
# symlinks (relative, absolute, dangling), hard links (two names in one
# directory, one in another), empty directories, various modes and mtimes
# in the past.  When run as root, one file belongs to another owner.
make_rich_tree() {
	local d=$1 big=${2:-1}
	mkdir -p "$d"/{docs,media,names,links,empty1,empty2/nested-empty,private,sub/deeper/deepest}
	if [[ $big == 1 ]]; then
		rand_file "$d/media/scan-random.bin" $((20 * 1024 * 1024))
		text_file "$d/docs/records.txt" $((10 * 1024 * 1024))
	else
		rand_file "$d/media/scan-random.bin" $((2 * 1024 * 1024))
		text_file "$d/docs/records.txt" $((1024 * 1024))
	fi
	printf 'hello\n' >"$d/docs/small.txt"
	printf 'x' >"$d/docs/one-byte"
	: >"$d/docs/empty-file"
	: >"$d/empty2/empty-in-dir"
	rand_file "$d/sub/deeper/deepest/leaf.bin" 70000
	text_file "$d/sub/notes.txt" 300000 note
	# sparse: 50 MiB with a few bytes in the middle, and a pure hole
	truncate -s 50M "$d/media/sparse.img"
	printf 'MIDDLE-OF-SPARSE' | dd of="$d/media/sparse.img" bs=1 seek=$((25 * 1024 * 1024)) conv=notrunc status=none
	truncate -s 8M "$d/media/all-hole.img"
	# names
	printf 'accent\n' >"$d/names/été café.txt"
	printf 'japanese\n' >"$d/names/日本語のファイル"
	printf 'emoji\n' >"$d/names/smile 🙂 ok"
	printf 'spaces\n' >"$d/names/  two  leading spaces"
	printf 'newline\n' >"$d/names/new"$'\n'"line"
	printf 'dash\n' >"$d/names/-rf --help"
	printf 'backslash\n' >"$d/names/back\\slash"
	printf 'latin1\n' >"$d/names/bad"$'\xff'"byte"
	printf 'tab\n' >"$d/names/tab"$'\t'"name"
	mkdir "$d/names/répertoire 日本"
	printf 'inside\n' >"$d/names/répertoire 日本/fichier"
	# symlinks
	ln -s ../docs/small.txt "$d/links/relative"
	ln -s "$d/docs/small.txt" "$d/links/absolute"
	ln -s does/not/exist "$d/links/dangling"
	ln -s ../sub "$d/links/to-dir"
	ln -s "été café.txt" "$d/names/link to accent"
	# hard links: two names in one directory and one in another
	printf 'hard linked content\n' >"$d/docs/hard-a"
	ln "$d/docs/hard-a" "$d/docs/hard-b"
	ln "$d/docs/hard-a" "$d/sub/hard-c"
	rand_file "$d/media/hard-big" 300000
	ln "$d/media/hard-big" "$d/links/hard-big-2"
	# modes
	printf 'secret\n' >"$d/private/0600"
	chmod 0600 "$d/private/0600"
	printf '#!/bin/sh\necho hi\n' >"$d/docs/script.sh"
	chmod 0755 "$d/docs/script.sh"
	printf 'read only\n' >"$d/docs/readonly"
	chmod 0444 "$d/docs/readonly"
	printf 'setgid-ish\n' >"$d/docs/mode-2750"
	chmod 2750 "$d/docs/mode-2750"
	chmod 0700 "$d/private"
	printf 'setuid\n' >"$d/docs/mode-4755"
	chmod 4755 "$d/docs/mode-4755"
	if [[ $(id -u) == 0 ]]; then # others could not read it back up
		printf 'no permission at all\n' >"$d/docs/mode-0000"
		chmod 0000 "$d/docs/mode-0000"
	fi
	mkdir -p "$d/readonly-dir" "$d/sticky-dir"
	printf 'in a read-only directory\n' >"$d/readonly-dir/inside"
	chmod 0555 "$d/readonly-dir"
	chmod 1777 "$d/sticky-dir"
	chmod 0750 "$d/sub/deeper"
	if [[ $(id -u) == 0 ]]; then
		printf 'owned by someone else\n' >"$d/docs/other-owner"
		chown 1234:5678 "$d/docs/other-owner"
	fi
	# mtimes in the past (files, symlinks, then directories bottom-up)
	touch -d '2001-02-03 04:05:06' "$d/docs/small.txt" "$d/docs/empty-file"
	touch -d '1999-12-31 23:59:59.123456789' "$d/media/scan-random.bin"
	touch -d '2010-06-15 12:00:00.5' "$d/names/été café.txt" "$d/docs/readonly"
	touch -h -d '2005-05-05 05:05:05' "$d/links/relative" "$d/links/dangling"
	touch -d '2003-03-03 03:03:03' "$d/empty1" "$d/empty2/nested-empty"
	touch -d '2004-04-04 04:04:04.000000001' "$d/sub/deeper/deepest" "$d/private"
	touch -d '1960-07-01 12:00:00' "$d/docs/one-byte"        # before 1970
	touch -d '2100-01-01 00:00:00.999999999' "$d/docs/hard-a" # far future
	touch -d '2002-02-02 02:02:02' "$d/names" "$d/docs" "$d/readonly-dir"
}

# kill_delays DURATION_MS FRACTIONS...: delays (seconds) for kill tests:
# 0.05 0.2 0.5 1 2 when shorter than the measured duration, plus the given
# fractions of it; sorted, without delays closer than 0.1 s to a kept one.
kill_delays() {
	local dur=$1
	shift
	{
		for d in 0.05 0.2 0.5 1 2; do
			awk -v d="$d" -v m="$dur" 'BEGIN { if (d * 1000 < m) print d }'
		done
		for f in "$@"; do
			awk -v f="$f" -v m="$dur" 'BEGIN { printf "%.3f\n", f * m / 1000 }'
		done
	} | sort -g | awk 'NR == 1 || $1 - last >= 0.1 { print; last = $1 }'
}

# assert_no_tmp_leftovers REPO WHAT: after a prune (which holds the
# exclusive lock, so no writer runs), nothing is left in tmp/ by killed
# processes.
assert_no_tmp_leftovers() {
	local n bytes
	[[ -d $1/tmp ]] || return 0
	n=$(find "$1/tmp" -type f | wc -l | tr -d ' ')
	bytes=$(find "$1/tmp" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	((n == 0)) || fail "$2: tmp/ still holds $n file(s), $bytes bytes, left by killed processes"
}

# kill_when_tmp REPO PID: SIGKILL PID as soon as a file appears in REPO/tmp
# (an object being written); 0 if killed so, 1 if PID ended first.
kill_when_tmp() {
	local repo=$1 pid=$2
	while kill -0 "$pid" 2>/dev/null; do
		if [[ -n $(find "$repo/tmp" -type f -print -quit 2>/dev/null) ]]; then
			kill -9 "$pid" 2>/dev/null || return 1
			return 0
		fi
		sleep 0.005
	done
	return 1
}
