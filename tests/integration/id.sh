#!/usr/bin/env bash
# id.sh: `coffre id new` and `coffre id show` (docs/cli.md).
. "$(dirname "$0")/lib.sh"
setup

# --- id new at the default path: directory 0700, file 0600, whatever the umask
unset COFFRE_IDENTITY
def=$XDG_CONFIG_HOME/coffre/identity
(
	umask 000
	cf id new --kdf interactive --name "Dr Alice Test"
)
cp "$T/last.out" "$T/new.out"
[[ -f $def ]] || fail "id new did not create the default identity $def"
assert_eq "$(stat -c %a "$def")" 600 "mode of the identity file (umask 000)"
assert_eq "$(stat -c %a "$(dirname "$def")")" 700 "mode of the identity directory (umask 000)"
if grep -a -q 'correct horse' "$def"; then
	fail "the identity file holds the passphrase in clear"
fi

# --- id show: no passphrase needed (no passphrase file, no terminal)
(
	unset COFFRE_PASSPHRASE_FILE
	cf id show
)
cp "$T/last.out" "$T/show.out"
assert_eq "$(wc -l <"$T/show.out" | tr -d ' ')" 3 "number of lines of id show"
line1=$(sed -n 1p "$T/show.out")
[[ $line1 =~ ^coffre1[a-z2-7]{56}$ ]] || fail "id show line 1 is not a public identity string: '$line1'"
line2=$(sed -n 2p "$T/show.out")
[[ $line2 =~ ^fingerprint:\ [0-9]{5}(\ [0-9]{5}){7}$ ]] || fail "bad fingerprint line: '$line2'"
assert_eq "$(sed -n 3p "$T/show.out")" "name: Dr Alice Test" "name line"
# id new printed the same three lines
cmp -s "$T/new.out" "$T/show.out" || fail "id new output differs from id show:
$(diff "$T/new.out" "$T/show.out")"
# stable
cf id show
cmp -s "$T/last.out" "$T/show.out" || fail "id show is not stable"

# --- id show --json
cf --json id show
json_one_doc "$T/last.out" object
json_has_keys "$T/last.out" public fingerprint name file
assert_eq "$(json_get "$T/last.out" public)" "$line1" "id show --json public"
assert_eq "$(json_get "$T/last.out" fingerprint)" "${line2#fingerprint: }" "id show --json fingerprint"
assert_eq "$(json_get "$T/last.out" name)" "Dr Alice Test" "id show --json name"
file_json=$(json_get "$T/last.out" file)
[[ $file_json -ef $def ]] || fail "id show --json file '$file_json' is not $def"

# --- refuses to overwrite an existing identity
sum=$(sha256sum <"$def")
expect_exit 1 id new --kdf interactive --name other
assert_error_format
assert_eq "$(sha256sum <"$def")" "$sum" "identity file after a refused id new"

# --- a second identity, given by -i and by COFFRE_IDENTITY, differs
cf -i "$T/ids/bob" id new --kdf interactive --name bob
assert_eq "$(stat -c %a "$T/ids/bob")" 600 "mode of identity created with -i"
bob=$(head -n 1 "$T/last.out")
[[ $bob =~ ^coffre1[a-z2-7]{56}$ && $bob != "$line1" ]] || fail "second identity not distinct: '$bob'"
COFFRE_IDENTITY=$T/ids/bob cf id show
assert_eq "$(head -n 1 "$T/last.out")" "$bob" "id show with COFFRE_IDENTITY"
assert_contains "$T/last.out" '^name: bob$' "name of the second identity"

# --- the passphrase: first line of the file; wrong one refused with exit 4
printf 'correct horse battery staple\nsecond line is ignored\n' >"$T/pass2"
cf --passphrase-file "$T/pass2" -r "$T/repo-a" init
printf 'correct horse battery staple' >"$T/pass3" # no newline
cf --passphrase-file "$T/pass3" -r "$T/repo-a" snapshots
expect_exit 4 --passphrase-file "$T/wrongpass" -r "$T/repo-b" init
assert_error_format
assert_contains "$T/last.err" 'passphrase' "wrong-passphrase message"
[[ ! -e $T/repo-b/config ]] || fail "init with a wrong passphrase created a repository"
COFFRE_PASSPHRASE_FILE=$T/wrongpass expect_exit 4 -r "$T/repo-a" snapshots
assert_contains "$T/last.err" 'passphrase' "wrong-passphrase message (snapshots)"
# the passphrase is never printed
if grep -a -q 'wrong horse' "$T/last.err" "$T/last.out"; then
	fail "the passphrase appears in the output"
fi

# --- missing identity: exit 1 with a hint naming `coffre id new`
expect_exit 1 -i "$T/ids/nobody" id show
assert_error_format
assert_contains "$T/last.err" 'coffre id new' "hint for a missing identity (id show)"
expect_exit 1 -i "$T/ids/nobody" -r "$T/repo-c" init
assert_contains "$T/last.err" 'coffre id new' "hint for a missing identity (init)"
[[ ! -e $T/repo-c/config ]] || fail "init without an identity created a repository"

# --- a file that is not an identity is refused, not crashed on
head -c 200 /dev/urandom >"$T/ids/garbage"
run_cf -i "$T/ids/garbage" id show
[[ $RC == 1 || $RC == 3 ]] || fail "id show of a garbage file exited $RC, expected 1 or 3
$(show_last)"
assert_error_format

# --- no passphrase file and no terminal: exit 1, hint naming --passphrase-file
(
	unset COFFRE_PASSPHRASE_FILE
	expect_exit 1 -i "$T/ids/carol" id new --kdf interactive
	assert_contains "$T/last.err" '--passphrase-file' "hint without terminal"
	[[ ! -e $T/ids/carol ]] || fail "id new without a passphrase created a file"
)

# --- on a real terminal: passphrase asked twice, without echo
tty_pass='terminal-pass-9f3'
cmd=$(printf '%q ' "$COFFRE" -i "$T/ids/tty" id new --kdf interactive --name tty)
(
	unset COFFRE_PASSPHRASE_FILE
	{
		sleep 2
		printf '%s\n' "$tty_pass"
		sleep 1
		printf '%s\n' "$tty_pass"
		sleep 1
	} | timeout 120 script -qec "$cmd" /dev/null >"$T/tty.out" 2>&1 || true
)
[[ -f $T/ids/tty ]] || fail "id new on a terminal did not create the identity:
$(head -c 600 "$T/tty.out")"
if grep -a -q "$tty_pass" "$T/tty.out"; then
	fail "the passphrase typed on the terminal was echoed"
fi
printf '%s\n' "$tty_pass" >"$T/ttypass"
cf -i "$T/ids/tty" --passphrase-file "$T/ttypass" -r "$T/repo-tty" init

# --- bad --kdf value: usage error
expect_exit 2 -i "$T/ids/dave" id new --kdf ludicrous
[[ ! -e $T/ids/dave ]] || fail "id new with a bad --kdf created a file"

pass
