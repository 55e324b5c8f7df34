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

# --- Tests that run a model's configs from inside $TMP ----------------------
# (test_amdvi.sh, test_vtd.sh: the same steps, written once here.)

# enter_tmp: cd to $TMP with IOMMUSIM absolute and SRC the absolute source
# tree, so outputs are named relative to $TMP. The embedded CPython's own
# allocations are not ours to leak-check: with --enable-sanitizers,
# LeakSanitizer is off for these runs only (docs/configs.md).
enter_tmp() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
    cd "$TMP" || exit 1
    case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
    case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac
}

# expect_describe MODEL PARAM...: `--describe MODEL` succeeds and documents
# every PARAM; the description stays in $TMP/out for further greps.
expect_describe() {
    _model=$1; shift
    expect_status 0 "--describe $_model" -- "$IOMMUSIM" --describe "$_model"
    for _param in "$@"; do
        expect_grep "$TMP/out" "^  $_param " "--describe documents $_param"
    done
}

# field CASE N: field N of the row of $TMP/out whose first field is CASE.
field() { awk -v c="$1" -v n="$2" '$1 == c { print $n }' "$TMP/out"; }

# check NAME EXPR: passes when the shell arithmetic EXPR is 1 (over fields;
# a missing field, replaced by a default that cannot match, fails it).
check() {
    if [ "$(($2))" = 1 ] 2>/dev/null; then ok "$1"
    else bad "$1" "$(cat "$TMP/out")"; fi
}

# gbps CASE: the second field (a rate in Gb/s) of CASE's row of $TMP/out.
gbps() { awk -v c="$1" '$1 == c { print $2 }' "$TMP/out"; }

# within NAME GOT WANT: GOT is within 3% of WANT.
within() {
    if [ -n "$2" ] && awk -v g="$2" -v w="$3" 'BEGIN { exit !(g >= 0.97 * w && g <= 1.03 * w) }'
    then ok "$1 (got $2)"; else bad "$1" "got '$2', expected $3 +- 3%: $(cat "$TMP/out")"; fi
}

# expect_one_line NAME: the error in $TMP/err is one line.
expect_one_line() {
    [ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "$1" || bad "$1" "$(cat "$TMP/err")"
}

# interrupt_run -- CMD...: run CMD (an iommusim run with --progress), send it
# SIGINT at its first progress line (so it is simulating), and leave its
# exit status in $TMP/int.out and its stderr in $TMP/int.err ("did not stop"
# in int.out if it runs on 60 s later). The signal comes from a Python
# driver (a shell's background job ignores SIGINT) that gives the child
# SIGINT's default disposition: a make check started in the background
# would otherwise pass "ignored" down and the run would not stop.
interrupt_run() {
    shift
    /usr/bin/python3 - "$@" >"$TMP/int.out" 2>"$TMP/int.err" <<'PYEOF'
import signal, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
line = p.stderr.readline()          # the first progress line: simulating now
p.send_signal(signal.SIGINT)
try:
    err = line + p.stderr.read()
    code = p.wait(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    print("did not stop"); sys.exit(1)
print(code)
sys.stderr.write(err)
PYEOF
}
