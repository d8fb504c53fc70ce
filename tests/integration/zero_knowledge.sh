#!/usr/bin/env bash
# shellcheck disable=SC2119 # init_repo without arguments: the defaults
# zero_knowledge.sh: nothing of a patient's name reaches the repository in
# clear: not in contents (UTF-8 or UTF-16LE), file names, directory names,
# the host name or tags.
. "$(dirname "$0")/lib.sh"
setup
init_repo

NAME='Marie-Thérèse Quellec-Ozanne'
SRC=$T/src
pdir="$SRC/patients/Quellec-Ozanne Marie-Thérèse"
mkdir -p "$pdir/imagerie" "$SRC/courriers"

# a large compressible text that repeats the name
for i in $(seq 1 60000); do
	printf 'Consultation %d: patiente %s, née le 12/03/1961, suivi cardiologique.\n' "$i" "$NAME"
done >"$pdir/dossier complet.txt"
# a small file that names her once
printf 'Compte rendu pour %s.\n' "$NAME" >"$SRC/courriers/lettre.txt"
# a file whose content is the name in UTF-16LE (as in a .doc or Windows db)
utf16le() { # STRING -> hex of its UTF-16LE bytes (ASCII, é and è)
	local s=$1 i c
	s=${s//é/@1}
	s=${s//è/@2}
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if [[ $c == @ ]]; then
			i=$((i + 1))
			case ${s:i:1} in
			1) printf 'e900' ;;
			2) printf 'e800' ;;
			esac
		else
			printf '%02x00' "'$c"
		fi
	done
}
NAME16_HEX=$(utf16le "$NAME")
QUELLEC16_HEX=$(utf16le Quellec)
[[ ${#NAME16_HEX} == $((28 * 4)) ]] || fail "setup: UTF-16LE of the name has ${#NAME16_HEX} hex digits, expected 112"
hex_to_bytes() { # HEX -> bytes
	local h=$1 i
	# shellcheck disable=SC2059
	for ((i = 0; i < ${#h}; i += 2)); do printf "\\x${h:i:2}"; done
}
{
	head -c 4096 /dev/urandom
	for i in $(seq 1 200); do
		hex_to_bytes "$NAME16_HEX"
		hex_to_bytes 0d000a00
	done
} >"$pdir/fiche.doc"
# names: files and directories named after her
printf 'x-ray\n' >"$pdir/imagerie/radio Quellec-Ozanne 2023.dcm"
rand_file "$pdir/imagerie/scanner.bin" $((2 * 1024 * 1024))
mkdir -p "$SRC/archives/Marie-Thérèse"
printf 'old\n' >"$SRC/archives/Marie-Thérèse/ozanne-1998.txt"

# search helpers: count files under DIR containing the byte string
hex_of_file() { od -An -v -tx1 "$1" | tr -d ' \n'; }
files_with_hex() { # DIR HEX
	local f n=0
	while IFS= read -r -d '' f; do
		if hex_of_file "$f" | grep -q -F "$2"; then
			printf '%s\n' "$f"
			n=$((n + 1))
		fi
	done < <(find "$1" -type f -print0)
	return 0
}

# sanity: the searches find the name in the source
LC_ALL=C grep -r -a -i -q 'quellec' "$SRC" || fail "setup: grep does not find the name in the source"
[[ -n $(files_with_hex "$pdir" "$NAME16_HEX") ]] || fail "setup: the UTF-16LE search does not find the name in the source"

cf backup --host cabinet-quellec-ozanne --tag patiente-quellec-ozanne --tag "$NAME" "$SRC"

# sanity: the data is in the repository (ls shows the names)
cf ls latest
assert_contains "$T/last.out" 'Quellec-Ozanne Marie-Th' "ls of the snapshot"
assert_contains "$T/last.out" 'radio Quellec-Ozanne 2023\.dcm' "ls of the snapshot"
cf snapshots
assert_contains "$T/last.out" 'cabinet-quellec-ozanne' "snapshots shows the host"
cf restore latest --target "$T/restored"
compare_trees "$SRC" "$T/restored$SRC"

# --- nothing in the repository, under any case, in any file
R=$T/repo
for word in "$NAME" 'Marie-Thérèse' 'Thérèse' 'quellec' 'ozanne' 'cabinet' 'patiente' 'dossier complet' 'imagerie' 'archives' 'courriers' 'Consultation' 'cardiologique' "$(basename "$T")"; do
	if LC_ALL=C grep -r -a -i -l -F -- "$word" "$R" >"$T/hits" 2>/dev/null; then
		fail "'$word' found in clear in the repository: $(head -n 3 "$T/hits")"
	fi
done
# object names are hex only (no file name leaks through naming)
while IFS= read -r -d '' f; do
	rel=${f#"$R"/}
	[[ $rel =~ ^(config|keys/[0-9a-f]{64}|data/[0-9a-f]{2}/[0-9a-f]{64}|index/[0-9a-f]{64}|snapshots/[0-9a-f]{64}|locks/[0-9a-f]{64})$ ]] ||
		fail "unexpected object name in the repository: $rel"
done < <(find "$R" -type f -print0)
# the UTF-16LE forms
hits=$(files_with_hex "$R" "$NAME16_HEX")
[[ -z $hits ]] || fail "the name in UTF-16LE found in the repository: $hits"
hits=$(files_with_hex "$R" "$QUELLEC16_HEX")
[[ -z $hits ]] || fail "'Quellec' in UTF-16LE found in the repository: $hits"
# no object is a plain (unencrypted) zstd frame or text: the zstd magic
# must not open any object (contents compressed then encrypted)
while IFS= read -r -d '' f; do
	[[ $(head -c 4 "$f" | od -An -tx1 | tr -d ' ') != 28b52ffd ]] || fail "object $f starts with a zstd frame: not encrypted"
done < <(find "$R/data" "$R/index" "$R/snapshots" -type f -print0)

# the local cache is not the repository, but say if it holds the name
if [[ -d $XDG_CACHE_HOME ]] && LC_ALL=C grep -r -a -i -q -F quellec "$XDG_CACHE_HOME"; then
	note "the local files cache ($XDG_CACHE_HOME) holds path names in clear (local only)"
fi
pass
