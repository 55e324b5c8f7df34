#!/bin/sh
# test_bench_smoke.sh - `make bench` cannot rot: bench/run-bench, in quick
# mode at N = 100, runs every peer that this build has (engine and reference
# always; SimPy when the system Python imports simpy; ns-3 when configure
# built bench/ns3_hold), prints a table whose cells are numbers and whose
# ratios are the quotients of its own events/s cells, reports the targets and
# keeps the raw lines. Speed is never asserted: a loaded machine must not fail
# this test.
. "${top_srcdir:-.}/tests/cli/lib.sh"
# The quick-start section runs iommusim, which embeds CPython, whose own
# allocations at exit are not ours to leak-check (docs/configs.md), so this
# smoke test runs without leak checks; the engine and the models are
# leak-checked by the unit tests.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS

RUNBENCH="$top_srcdir/bench/run-bench"
PY=${SYSTEM_PYTHON3:-/usr/bin/python3}
NUM='[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?'

have_simpy=0
[ -x "$PY" ] && "$PY" -c 'import simpy' 2>/dev/null && have_simpy=1
have_ns3=0
[ -x "$top_builddir/bench/ns3_hold" ] && have_ns3=1
echo "peers: simpy=$have_simpy ns3=$have_ns3"

if [ "$have_simpy" = 1 ]; then py=$PY; else py=; fi
BENCH_OUT="$TMP/results.txt" BENCH_QUICK=1 \
    expect_status 0 "run-bench quick run at N=100" -- \
    sh "$RUNBENCH" "$top_builddir" "$top_srcdir" "$py" --reps 1 100
cp "$TMP/out" "$TMP/table"
cat "$TMP/table"

# section TITLE-REGEX: the N=100 row of the table section under that title.
section() {
    awk -v t="$1" '$0 ~ t { on = 1; next } on && /^$/ { on = 0 } on && $1 == "100"' "$TMP/table"
}
section '^events/s' >"$TMP/rate"
section '^ratios' >"$TMP/ratio"
section '^peak RSS' >"$TMP/rss"

# Columns: N engine reference simpy ns3-map ns3-heap ("-" when not run).
want_cols="engine reference"
[ "$have_simpy" = 1 ] && want_cols="$want_cols simpy"
[ "$have_ns3" = 1 ] && want_cols="$want_cols ns3-map ns3-heap"
col() { case $1 in engine) echo 2 ;; reference) echo 3 ;; simpy) echo 4 ;; ns3-map) echo 5 ;; ns3-heap) echo 6 ;; esac; }
for c in $want_cols; do
    i=$(col "$c")
    v=$(awk -v i="$i" '{ print $i }' "$TMP/rate")
    if echo "$v" | grep -Eqx "$NUM" && awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then
        ok "events/s for $c is a positive number ($v)"
    else bad "events/s for $c" "got '$v' in row: $(cat "$TMP/rate")"; fi
    m=$(awk -v i="$i" '{ print $i }' "$TMP/rss")
    if echo "$m" | grep -Eqx '[1-9][0-9]*'; then ok "peak RSS for $c is a positive integer ($m KiB)"
    else bad "peak RSS for $c" "got '$m' in row: $(cat "$TMP/rss")"; fi
    expect_grep "$TMP/results.txt" "^hold N=100 $c +events/s=$NUM peak_rss_kib=[0-9]+\$" \
        "raw results keep the $c line"
done
[ "$have_simpy" = 1 ] || expect_grep "$TMP/table" '^== simpy: skipped' "simpy skip is reported"
[ "$have_ns3" = 1 ] || expect_grep "$TMP/table" '^== ns-3: skipped' "ns-3 skip is reported"

# Ratios are engine events/s over each peer's, from the table's own cells
# (rounded to 4 significant digits there, so compare to 1%).
for c in $want_cols; do
    [ "$c" = engine ] && continue
    i=$(col "$c")
    e=$(awk '{ print $2 }' "$TMP/rate")
    p=$(awk -v i="$i" '{ print $i }' "$TMP/rate")
    r=$(awk -v i="$i" '{ print $(i - 1) }' "$TMP/ratio")
    if awk -v e="$e" -v p="$p" -v r="$r" 'BEGIN { q = e / p; exit !(r > 0 && r > 0.99 * q - 0.01 && r < 1.01 * q + 0.01) }'; then
        ok "engine/$c ratio $r = $e / $p"
    else bad "engine/$c ratio" "ratio '$r', events/s engine '$e' $c '$p'"; fi
done

expect_grep "$TMP/table" "^(PASS|FAIL) engine/reference >= 1\.0 at N=100: $NUM\$" "target at N=100 reported"
expect_grep "$TMP/table" '^SKIP engine/reference >= 2\.0 at N=1000000: not measured' "unmeasured target reported as such"
expect_grep "$TMP/table" 'QUICK' "quick run says so"

# Bad input: one-line error, non-zero exit, nothing run.
expect_status 2 "run-bench refuses --reps 0" -- sh "$RUNBENCH" "$top_builddir" "$top_srcdir" "" --reps 0
expect_grep "$TMP/err" "^run-bench: --reps: expected a positive integer \(got '0'\)\$" "--reps error message"
expect_status 2 "run-bench refuses N=ten" -- sh "$RUNBENCH" "$top_builddir" "$top_srcdir" "" ten
expect_grep "$TMP/err" "N: expected a positive integer \(got 'ten'\)" "bad N error message"
expect_status 1 "run-bench without a built bench_hold" -- sh "$RUNBENCH" "$TMP/nowhere" "$top_srcdir" ""
expect_grep "$TMP/err" "nowhere/bench/bench_hold: not built" "missing program is named"
expect_status 2 "bench_hold refuses a bad size" -- "$top_builddir/bench/bench_hold" 0
if [ "$have_simpy" = 1 ]; then
    expect_status 2 "simpy_hold.py refuses N=0" -- "$PY" "$top_srcdir/bench/simpy_hold.py" 0
fi
if [ "$have_ns3" = 1 ]; then
    expect_status 2 "ns3_hold refuses an unknown scheduler" -- "$top_builddir/bench/ns3_hold" --scheduler calendar
    expect_grep "$TMP/err" "expected map or heap \(got 'calendar'\)" "scheduler error message"
fi
finish
