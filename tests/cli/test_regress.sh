#!/bin/sh
# test_regress.sh - `make regress` inside `make check`: every example case of
# stats/baselines/cases.txt matches its committed baseline; a deliberately
# changed model parameter (the quick start's memory latency, 80 -> 81 ns) is
# caught, naming the quick start and its memory latency stats, while the
# other cases still pass; `make baselines` writes what `make regress` reads.
. "${top_srcdir:-.}/tests/cli/lib.sh"

REG="$top_srcdir/stats/regress.sh"

expect_status 0 "every example matches its baseline (make regress)" -- \
    sh "$REG" check "$top_builddir" "$top_srcdir"
expect_grep "$TMP/out" '^regress: [0-9]+ cases, 0 failed$' "summary: no case failed"

REGRESS_SET="quickstart:system.mem.latency=81ns" expect_status 1 \
    "a changed model parameter is caught" -- sh "$REG" check "$top_builddir" "$top_srcdir"
expect_grep "$TMP/out" '^regress: quickstart: DIFFERS from ' "the changed case is named"
# More fixed memory latency can only raise the mean memory latency.
expect_grep "$TMP/out" '^    system\.mem\.mean_latency +[0-9.]+ +[0-9.]+ +\+[0-9.]+%$' \
    "mean memory latency up"
expect_grep "$TMP/out" '^regress: quickstart_strict: all [0-9]+ values within tolerance' \
    "the other cases still pass"
expect_grep "$TMP/out" '^regress: [0-9]+ cases, 1 failed$' "summary: one case failed"

# `make baselines` into another directory reproduces the committed files.
REGRESS_BASELINES="$TMP/base" expect_status 0 "baselines written (make baselines)" -- \
    sh "$REG" baselines "$top_builddir" "$top_srcdir"
if diff -r -x cases.txt -x expect.txt "$top_srcdir/stats/baselines" "$TMP/base" >"$TMP/diff"; then
    ok "fresh baselines equal the committed ones"
else bad "fresh baselines equal the committed ones" "$(head -c 600 "$TMP/diff")"; fi
REGRESS_BASELINES="$TMP/empty" expect_status 1 "a missing baseline fails" -- \
    sh "$REG" check "$top_builddir" "$top_srcdir"
expect_grep "$TMP/out" "no baseline .*/empty/quickstart\.txt \(run 'make baselines'\)" \
    "missing baseline: says how to make it"
finish
