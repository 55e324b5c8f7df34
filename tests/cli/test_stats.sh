#!/bin/sh
# test_stats.sh - the statistics file end to end: the C writer (through
# tests/stats/stats_writer_driver) writes stats.h5 and stats.txt; h5py reads
# back and checks every value and attribute against closed forms
# (check_stats_file.py); h5dump validates the structure; an SWMR reader
# follows a live file; kill -9 leaves only the .tmp; unwritable and full
# outputs fail with one line and exit 1; same input, bit-identical stats.
. "${top_srcdir:-.}/tests/cli/lib.sh"

DRIVER="$top_builddir/tests/stats/stats_writer_driver"
PY=/usr/bin/python3
PYPATH="$top_srcdir/python"
CHECK="$top_srcdir/tests/stats/check_stats_file.py"

# check_py NAME -- ARGS: run the checker, show its failures on error.
check_py() {
    name=$1; shift 2
    if "$PY" "$@" >"$TMP/py.out" 2>&1; then ok "$name"; else
        bad "$name" "$(grep -v '^[0-9]* checks' "$TMP/py.out" | head -c 600)"; fi
}

# --- Round trip: every dump flushed, with a reset in the middle ---------------
mkdir -p "$TMP/a"
expect_status 0 "driver writes stats.h5 (flush every dump, reset after 20)" -- \
    "$DRIVER" "$TMP/a" --dumps 50 --reset-after 20 --flush-interval 0 --wide 3
if [ -f "$TMP/a/stats.h5" ] && [ ! -e "$TMP/a/stats.h5.tmp" ]; then
    ok "stats.h5 renamed into place, no .tmp left"
else bad "stats.h5 renamed into place, no .tmp left" "$(ls "$TMP/a")"; fi
check_py "h5py reads back every value and attribute" -- "$CHECK" "$TMP/a/stats.h5" \
    --dumps 50 --reset-after 20 --wide 3 --txt "$TMP/a/stats.txt" --pythonpath "$PYPATH"

# --- Batched writes: 3000 dumps in batches of 512 (a partial last batch) -----
mkdir -p "$TMP/b"
expect_status 0 "driver writes 3000 batched dumps" -- \
    "$DRIVER" "$TMP/b" --dumps 3000 --batch 512 --flush-interval 1000
check_py "batched file checks out" -- "$CHECK" "$TMP/b/stats.h5" --dumps 3000 \
    --txt "$TMP/b/stats.txt" --pythonpath "$PYPATH"

# --- The same without the writer thread --------------------------------------
mkdir -p "$TMP/y"
expect_status 0 "driver writes without a writer thread (--sync)" -- \
    "$DRIVER" "$TMP/y" --dumps 700 --batch 64 --reset-after 300 --sync
check_py "synchronous file checks out" -- "$CHECK" "$TMP/y/stats.h5" --dumps 700 \
    --reset-after 300 --txt "$TMP/y/stats.txt" --pythonpath "$PYPATH"

# --- Structure, as h5dump sees it ---------------------------------------------
if h5dump -H "$TMP/a/stats.h5" >"$TMP/h5h" 2>&1; then ok "h5dump -H reads the file"
else bad "h5dump -H reads the file" "$(head -c 400 "$TMP/h5h")"; fi
for obj in 'GROUP "/"' 'ATTRIBUTE "schema_version"' 'ATTRIBUTE "config_json"' \
           'GROUP "dumps"' 'DATASET "tick"' 'DATASET "reset_tick"' 'GROUP "run"' \
           'DATASET "complete"' 'GROUP "stats"' 'GROUP "iotlb"' 'DATASET "hit_rate"' \
           'ATTRIBUTE "expr"' 'GROUP "lat"' 'DATASET "counts"' 'DATASET "edges"' \
           'DATASET "summary"' 'DATASET "maps"' 'ATTRIBUTE "elements"'; do
    expect_grep "$TMP/h5h" "$obj" "h5dump shows $obj"
done
expect_grep "$TMP/h5h" 'DATASPACE  SIMPLE \{ \( 50, 12 \) / \( H5S_UNLIMITED, 12 \) \}' \
    "histogram counts are (dumps x bins+2), extendible"
if h5dump "$TMP/a/stats.h5" >/dev/null 2>&1; then ok "h5dump reads all data"
else bad "h5dump reads all data"; fi

# --- stats.txt ----------------------------------------------------------------
expect_grep "$TMP/a/stats.txt" '^---------- Begin Simulation Statistics' "stats.txt header"
expect_grep "$TMP/a/stats.txt" '^system\.dev0\.reqs +[0-9]+ +# requests issued \(count\)$' \
    "stats.txt: name, value, # description (unit)"
expect_grep "$TMP/a/stats.txt" '^system\.dev0\.lat::p99\.9 ' "stats.txt has percentiles"

# --- Determinism --------------------------------------------------------------
mkdir -p "$TMP/c"
"$DRIVER" "$TMP/c" --dumps 50 --reset-after 20 --flush-interval 0 --wide 3 2>"$TMP/err"
check_py "same input gives bit-identical statistics" -- "$CHECK" \
    --same "$TMP/a/stats.h5" "$TMP/c/stats.h5"

# --- SWMR: h5py and the loader follow the file while it is written -----------
mkdir -p "$TMP/s"
"$DRIVER" "$TMP/s" --dumps 100 --sleep-us 20000 --flush-interval 0 2>"$TMP/s.err" &
wpid=$!
if "$PY" "$top_srcdir/tests/stats/swmr_reader.py" "$TMP/s" "$PYPATH" 60 >"$TMP/s.out" 2>&1
then ok "SWMR reader follows the live file ($(tail -1 "$TMP/s.out"))"
else bad "SWMR reader follows the live file" "$(head -c 600 "$TMP/s.out")"; fi
if wait "$wpid"; then ok "writer finishes while a reader has the file open"
else bad "writer finishes while a reader has the file open" "$(cat "$TMP/s.err")"; fi
[ -f "$TMP/s/stats.h5" ] && ok "live-read file renamed at the end" || bad "live-read file renamed"

# --- kill -9 mid-run: old stats.h5 untouched, only the .tmp is new -----------
mkdir -p "$TMP/k"
cp "$TMP/a/stats.h5" "$TMP/k/stats.h5"
"$DRIVER" "$TMP/k" --dumps 1000 --sleep-us 10000 --flush-interval 0 2>/dev/null &
kpid=$!
i=0
while [ ! -e "$TMP/k/stats.h5.tmp" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
sleep 0.3
kill -9 "$kpid"
wait "$kpid" 2>/dev/null
if cmp -s "$TMP/a/stats.h5" "$TMP/k/stats.h5"; then ok "kill -9 leaves the old stats.h5 untouched"
else bad "kill -9 leaves the old stats.h5 untouched"; fi
[ -e "$TMP/k/stats.h5.tmp" ] && ok "kill -9 leaves the .tmp" || bad "kill -9 leaves the .tmp"
if "$PY" -c "
import sys; sys.path.insert(0, '$PYPATH')
from iommusim.stats import load
s = load('$TMP/k/stats.h5.tmp')
assert s.n >= 1 and not s.complete, (s.n, s.complete)
assert list(s.series('system.dev0.reqs')['value']) == [i*(i+1)//2 for i in range(1, s.n+1)]
" 2>"$TMP/k.err"; then ok "a killed run's .tmp still reads up to its last flush"
else bad "a killed run's .tmp still reads up to its last flush" "$(tail -2 "$TMP/k.err")"; fi

# --- Unwritable output: one line, exit 1, nothing left behind -----------------
expect_status 1 "missing output directory fails" -- "$DRIVER" "$TMP/nope/deeper"
expect_grep "$TMP/err" "nope/deeper/stats.h5.tmp: input/output error \(cannot create: No such file or directory\)" \
    "missing directory: the message names the file and the reason"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "missing directory: one line" || bad "one line" "$(cat "$TMP/err")"
: >"$TMP/file"
expect_status 1 "output 'directory' that is a file fails" -- "$DRIVER" "$TMP/file"
expect_grep "$TMP/err" "Not a directory" "file as directory: the reason"

# --- Full disk: a file size limit makes writes fail with EFBIG ---------------
for mode in thread sync; do
    mkdir -p "$TMP/f$mode"
    cp "$TMP/a/stats.h5" "$TMP/f$mode/stats.h5"
    extra=; [ $mode = sync ] && extra=--sync
    (ulimit -f 256; trap '' XFSZ; exec "$DRIVER" "$TMP/f$mode" --dumps 3000 --wide 100 \
        --flush-interval 0 $extra) >"$TMP/out" 2>"$TMP/err"
    st=$?
    [ "$st" -eq 1 ] && ok "full disk ($mode): exit 1" || bad "full disk ($mode): exit 1" "exit $st: $(cat "$TMP/err")"
    expect_grep "$TMP/err" '^stats_writer_driver: .*stats\.h5\.tmp: input/output error \(.*File too large\)$' \
        "full disk ($mode): the message names the file and the reason"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "full disk ($mode): one line" \
        || bad "full disk ($mode): one line" "$(head -c 600 "$TMP/err")"
    cmp -s "$TMP/a/stats.h5" "$TMP/f$mode/stats.h5" && ok "full disk ($mode): old stats.h5 untouched" \
        || bad "full disk ($mode): old stats.h5 untouched"
    [ ! -e "$TMP/f$mode/stats.h5.tmp" ] && ok "full disk ($mode): .tmp removed" \
        || bad "full disk ($mode): .tmp removed"
done

# --- Full disk while the file is created: the writer thread lays the file out
# while the simulation starts (h5writer.c, create_file); a failure there is
# reported by the next hand-off or by close, as one line with exit 1. A 4 KiB
# size limit fails the layout's own writes.
for mode in thread sync; do
    mkdir -p "$TMP/c$mode"
    cp "$TMP/a/stats.h5" "$TMP/c$mode/stats.h5"
    extra=; [ $mode = sync ] && extra=--sync
    (ulimit -f 4; trap '' XFSZ; exec "$DRIVER" "$TMP/c$mode" --dumps 300 --wide 100 \
        --flush-interval 0 $extra) >"$TMP/out" 2>"$TMP/err"
    st=$?
    [ "$st" -eq 1 ] && ok "full disk at creation ($mode): exit 1" \
        || bad "full disk at creation ($mode): exit 1" "exit $st: $(cat "$TMP/err")"
    expect_grep "$TMP/err" '^stats_writer_driver: .*stats\.h5\.tmp: input/output error \(cannot lay out the statistics file: File too large\)$' \
        "full disk at creation ($mode): the message names the file and the reason"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "full disk at creation ($mode): one line" \
        || bad "full disk at creation ($mode): one line" "$(head -c 600 "$TMP/err")"
    cmp -s "$TMP/a/stats.h5" "$TMP/c$mode/stats.h5" && ok "full disk at creation ($mode): old stats.h5 untouched" \
        || bad "full disk at creation ($mode): old stats.h5 untouched"
    [ ! -e "$TMP/c$mode/stats.h5.tmp" ] && ok "full disk at creation ($mode): .tmp removed" \
        || bad "full disk at creation ($mode): .tmp removed"
done

# --- The loader's command line ------------------------------------------------
PYTHONPATH="$PYPATH" expect_status 0 "stats show" -- "$PY" -m iommusim.stats show \
    "$TMP/a/stats.h5" 'system.iommu.iotlb.*'
expect_grep "$TMP/out" '^system\.iommu\.iotlb\.hits +1065 count$' "stats show: hits (sum 21..50 = 1065)"
if grep -q 'system.dev0' "$TMP/out"; then bad "stats show filters by pattern"; else ok "stats show filters by pattern"; fi
PYTHONPATH="$PYPATH" expect_status 0 "stats export --csv" -- "$PY" -m iommusim.stats export \
    "$TMP/a/stats.h5" --csv
# 50 dumps x (9 scalar-like + 3 extra + 4 vector rows + 2 x 10 summary) + header
[ "$(wc -l <"$TMP/out")" -eq $((50 * 36 + 1)) ] && ok "export: one row per dump and value" \
    || bad "export: one row per dump and value" "$(wc -l <"$TMP/out") lines"
PYTHONPATH="$PYPATH" expect_status 1 "stats show on a missing file" -- "$PY" -m iommusim.stats \
    show "$TMP/missing.h5"
expect_grep "$TMP/err" "missing.h5: No such file or directory" "missing file: one-line reason"

# --- `iommusim stats`, the command's front end to the same reader --------------
expect_status 0 "iommusim stats show" -- "$IOMMUSIM" stats show "$TMP/a/stats.h5" 'system.dev0.*'
expect_grep "$TMP/out" '^system\.dev0\.reqs +1065 count$' "iommusim stats show: a counter"
expect_grep "$TMP/out" '^system\.dev0\.lat::p99 ' "iommusim stats show: a percentile"
expect_status 0 "iommusim stats export --csv" -- "$IOMMUSIM" stats export "$TMP/a/stats.h5" --csv
expect_grep "$TMP/out" '^49,50000000,5e-05,system\.dev0\.reqs,1065,count$' \
    "iommusim stats export: the last dump's counter"
expect_status 1 "iommusim stats show: missing file" -- "$IOMMUSIM" stats show "$TMP/missing.h5"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "missing file: one line" || bad "missing file: one line"
expect_status 1 "iommusim stats show: no match" -- "$IOMMUSIM" stats show "$TMP/a/stats.h5" nomatch
expect_status 2 "iommusim stats: unknown sub-command" -- "$IOMMUSIM" stats frobnicate x
expect_status 2 "iommusim stats export without --csv" -- "$IOMMUSIM" stats export "$TMP/a/stats.h5"
expect_status 0 "iommusim stats --help" -- "$IOMMUSIM" stats --help
expect_grep "$TMP/out" '^usage: iommusim stats show' "iommusim stats --help prints usage"
finish
