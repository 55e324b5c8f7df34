# lib.sh - helpers for the command-line integration tests.
# Each test script sources this, calls check/expect_* and ends with `finish`,
# which prints "N passed, N failed" and sets the exit status.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
IOMMUSIM="$top_builddir/iommusim"
pass=0
fail=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/iommusim-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()  { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$1"; [ $# -gt 1 ] && printf '     %s\n' "$2"; }

# expect_status WANT NAME -- CMD...: run CMD, capture output in $TMP/out, $TMP/err
expect_status() {
    want=$1; name=$2; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"; got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else
        bad "$name" "exit $got, expected $want; stderr: $(head -c 400 "$TMP/err")"; fi
}

# expect_grep FILE REGEX NAME
expect_grep() {
    if grep -Eq -- "$2" "$1"; then ok "$3"; else
        bad "$3" "no line matching /$2/ in: $(head -c 400 "$1")"; fi
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
