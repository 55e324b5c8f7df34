#!/bin/sh
# test_compare.sh - `iommusim compare` on files whose differences are
# constructed: the stats writer driver writes a file with closed-form values
# (tests/stats/stats_writer_driver.c), h5edit.py changes chosen values in a
# copy, and the command must report exactly those, with the right relative
# change, honour --rtol/--atol/--only/--expect and exit 0/1/2.
. "${top_srcdir:-.}/tests/cli/lib.sh"

DRIVER="$top_builddir/tests/stats/stats_writer_driver"
PY=/usr/bin/python3
EDIT="$top_srcdir/tests/sweep/h5edit.py"

mkdir -p "$TMP/a"
"$DRIVER" "$TMP/a" --dumps 50 --reset-after 20 --flush-interval 0 2>"$TMP/err" \
    || bad "driver writes the baseline" "$(cat "$TMP/err")"
A="$TMP/a/stats.h5"

# --- Identical files: exit 0, even with zero tolerance (NaN == NaN) ----------
expect_status 0 "a file against itself" -- "$IOMMUSIM" compare "$A" "$A"
expect_grep "$TMP/out" '^all [0-9]+ values within tolerance' "identical: the summary line"
expect_status 0 "a file against itself, rtol 0 atol 0 (the NaN rate equals itself)" -- \
    "$IOMMUSIM" compare --rtol 0 --atol 0 "$A" "$A"

# --- One counter changed: hits is sum(21..50) = 1065 (reset after dump 20) ---
cp "$A" "$TMP/b.h5"
"$PY" "$EDIT" "$TMP/b.h5" set /stats/system/iommu/iotlb/hits -1 1171
expect_status 1 "a changed counter: exit 1" -- "$IOMMUSIM" compare "$A" "$TMP/b.h5"
expect_grep "$TMP/out" '^system\.iommu\.iotlb\.hits +1065 +1171 +\+9\.953%$' \
    "the row: path, baseline 1065, new 1171, change 106/1065 = +9.953%"
[ "$(grep -c '^system\.' "$TMP/out")" -eq 1 ] && ok "only the changed value is listed" \
    || bad "only the changed value is listed" "$(cat "$TMP/out")"
expect_grep "$TMP/out" '^1 of [0-9]+ values differ beyond tolerance' "differ: the summary line"
expect_status 0 "--rtol 0.1 accepts a 9.95% change" -- "$IOMMUSIM" compare --rtol 0.1 "$A" "$TMP/b.h5"
expect_status 1 "--rtol 0.099 does not" -- "$IOMMUSIM" compare --rtol 0.099 "$A" "$TMP/b.h5"
expect_status 0 "--atol 106 accepts a change of 106" -- "$IOMMUSIM" compare --atol 106 "$A" "$TMP/b.h5"
expect_status 1 "--atol 105 does not" -- "$IOMMUSIM" compare --atol 105 "$A" "$TMP/b.h5"
expect_status 0 "--only system.dev0.* skips the change" -- \
    "$IOMMUSIM" compare --only 'system.dev0.*' "$A" "$TMP/b.h5"
expect_status 1 "--only iotlb (substring) sees it" -- "$IOMMUSIM" compare --only iotlb "$A" "$TMP/b.h5"
expect_status 2 "--only matching nothing is a usage error" -- \
    "$IOMMUSIM" compare --only nosuchstat "$A" "$TMP/b.h5"

# --- Expectations file --------------------------------------------------------
printf '# tolerances\nsystem.iommu.iotlb.hits  rtol=0.1\n' >"$TMP/ok.exp"
expect_status 0 "--expect: a per-stat rtol" -- "$IOMMUSIM" compare --expect "$TMP/ok.exp" "$A" "$TMP/b.h5"
printf 'system.iommu.*  rtol=0.01\nsystem.iommu.iotlb.hits rtol=0.5\n' >"$TMP/first.exp"
expect_status 1 "--expect: the first matching rule wins" -- \
    "$IOMMUSIM" compare --expect "$TMP/first.exp" "$A" "$TMP/b.h5"
printf '*.hits ignore\n' >"$TMP/ign.exp"
expect_status 0 "--expect: ignore" -- "$IOMMUSIM" compare --expect "$TMP/ign.exp" "$A" "$TMP/b.h5"
printf 'system.dev0.reqs rtol=0.5\nsystem.x rtol=abc\n' >"$TMP/bad.exp"
expect_status 2 "--expect: a malformed rule is a usage error" -- \
    "$IOMMUSIM" compare --expect "$TMP/bad.exp" "$A" "$TMP/b.h5"
expect_grep "$TMP/err" "bad\.exp:2: rtol must be a finite number >= 0 \(got 'abc'\)" \
    "malformed rule: file, line and reason"

# --- Tiny noise passes the default rtol, fails an exact compare ---------------
# dev0.bytes = 64 * sum(21..50) = 68160; 68160 * (1 + 1e-12) is within 1e-9.
cp "$A" "$TMP/n.h5"
"$PY" "$EDIT" "$TMP/n.h5" set /stats/system/dev0/bytes -1 68160.00000007
expect_status 0 "relative noise of 1e-12 is within the default rtol" -- "$IOMMUSIM" compare "$A" "$TMP/n.h5"
expect_status 1 "... but not within rtol 0" -- "$IOMMUSIM" compare --rtol 0 "$A" "$TMP/n.h5"

# --- Vector element, histogram percentile, removed stat -----------------------
cp "$A" "$TMP/v.h5"
# maps[2M] += 2 per dump since the reset: 2 * 30 = 60; make it 61.
"$PY" "$EDIT" "$TMP/v.h5" set /stats/system/iommu/maps -1 1 61
"$PY" "$EDIT" "$TMP/v.h5" set /stats/system/dev0/lat/summary -1 8 5000
"$PY" "$EDIT" "$TMP/v.h5" del /stats/system/dev0/queue_depth
expect_status 1 "vector, histogram and removed stat: exit 1" -- "$IOMMUSIM" compare "$A" "$TMP/v.h5"
expect_grep "$TMP/out" '^system\.iommu\.maps::2M +60 +61 +\+1\.667%$' "vector element 2M: 60 -> 61"
expect_grep "$TMP/out" '^system\.iommu\.maps::total +' "vector total follows"
expect_grep "$TMP/out" '^system\.dev0\.lat::p99 +[0-9.]+ +5000 ' "histogram p99 (summary column 8)"
expect_grep "$TMP/out" '^system\.dev0\.queue_depth +[0-9.]+ +- +removed$' "removed stat"
expect_grep "$TMP/out" '^4 of ' "four values differ"

# --- Text values files (the stats/baselines format) ----------------------------
PYTHONPATH="$top_srcdir/python" "$PY" -m iommusim.compare --write-values "$A" "$TMP/a.txt"
expect_grep "$TMP/a.txt" '^# iommusim stats values 1$' "values file: header"
expect_grep "$TMP/a.txt" "$(printf '^system\\.iommu\\.iotlb\\.hits\t1065\\.0$')" "values file: path TAB value"
expect_status 0 "values file against its own stats.h5, rtol 0 (NaN kept)" -- \
    "$IOMMUSIM" compare --rtol 0 "$TMP/a.txt" "$A"
expect_status 1 "values file against a changed file" -- "$IOMMUSIM" compare "$TMP/a.txt" "$TMP/b.h5"
expect_grep "$TMP/out" '^system\.iommu\.iotlb\.hits +1065 +1171 +\+9\.953%$' "values file: the same row"
printf '# iommusim stats values 1\nsystem.x 12\n' >"$TMP/bad.txt"
expect_status 2 "malformed values file" -- "$IOMMUSIM" compare "$TMP/bad.txt" "$A"
expect_grep "$TMP/err" 'bad\.txt:2: malformed line' "malformed values file: file and line"

# --- Bad input: one line, exit 2 ----------------------------------------------
expect_status 2 "missing file" -- "$IOMMUSIM" compare "$A" "$TMP/missing.h5"
expect_grep "$TMP/err" "missing\.h5: No such file or directory" "missing file: named"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "missing file: one line" || bad "one line" "$(cat "$TMP/err")"
echo "not hdf5" >"$TMP/text.h5"
expect_status 2 "not an HDF5 file" -- "$IOMMUSIM" compare "$TMP/text.h5" "$A"
expect_grep "$TMP/err" "text\.h5: not an HDF5 file" "not HDF5: named"
expect_status 2 "bad --rtol" -- "$IOMMUSIM" compare --rtol -1 "$A" "$A"
expect_status 2 "one file only" -- "$IOMMUSIM" compare "$A"
finish
