#!/bin/sh
# test_plot.sh - `iommusim plot` and `iommusim report`: PNG and SVG files are
# written, and the series in them are the expected ones: a latency CDF
# against the stats writer driver's closed-form samples, a time series
# against its closed-form counter, a sweep plot against the means computed
# from each point's own stats.h5, and a self-contained HTML report.
. "${top_srcdir:-.}/tests/cli/lib.sh"
# Points run configs in the embedded CPython, whose allocations are not
# leak-checked (docs/configs.md); ASan and UBSan stay on.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS

PY=/usr/bin/python3
SW="$top_srcdir/tests/sweep"
DRIVER="$top_builddir/tests/stats/stats_writer_driver"
export PYTHONPATH="$top_srcdir/python"
check_py() {
    name=$1; shift 2
    if "$PY" "$@" >"$TMP/py.out" 2>&1; then ok "$name ($(tail -1 "$TMP/py.out"))"; else
        bad "$name" "$(tail -c 600 "$TMP/py.out")"; fi
}
png_ok() {
    if [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
    then ok "$2"; else bad "$2" "$(ls -l "$1" 2>&1)"; fi
}

mkdir -p "$TMP/a"
"$DRIVER" "$TMP/a" --dumps 50 --reset-after 20 --flush-interval 0 2>"$TMP/err" || bad "driver"
A="$TMP/a/stats.h5"

expect_status 0 "plot cdf (SVG)" -- "$IOMMUSIM" plot cdf "$A" system.dev0.lat -o "$TMP/cdf.svg"
check_py "CDF steps = fraction of the closed-form samples below each edge" -- \
    "$SW/check_plots.py" cdf "$A" "$TMP/cdf.svg"
expect_status 0 "plot cdf (PNG)" -- "$IOMMUSIM" plot cdf "$A" system.dev0.lat -o "$TMP/cdf.png"
png_ok "$TMP/cdf.png" "CDF PNG written"
expect_status 0 "plot series (PNG)" -- "$IOMMUSIM" plot series "$A" system.dev0.reqs -o "$TMP/ts.png"
png_ok "$TMP/ts.png" "time series PNG written"
check_py "time series: one vertex per dump, the closed-form counter" -- \
    "$SW/check_plots.py" series "$A" "$TMP/ts.svg"

expect_status 0 "a quick-start sweep to plot" -- "$IOMMUSIM" sweep "$SW/quick.py" -j2 --outdir "$TMP/q" -q
expect_status 0 "plot sweep (SVG): hit rate vs entries by pattern" -- "$IOMMUSIM" plot sweep "$TMP/q" \
    --x entries --y system.iotlb.hit_rate --by system.nic.pattern -o "$TMP/sw.svg"
check_py "sweep plot: one line per pattern, the means over seeds" -- "$SW/check_plots.py" sweep "$TMP/q" "$TMP/sw2.svg"
expect_grep "$TMP/sw.svg" 'id="series:system\.nic\.pattern=uniform"' "SVG names the series"
expect_status 0 "plot sweep (PNG)" -- "$IOMMUSIM" plot sweep "$TMP/q/sweep.h5" \
    --x entries --y system.iotlb.hit_rate --by system.nic.pattern -o "$TMP/sw.png"
png_ok "$TMP/sw.png" "sweep PNG written"
expect_status 0 "plot series of one point of a sweep.h5" -- "$IOMMUSIM" plot series \
    "$TMP/q/sweep.h5" system.iotlb.hits --point p0003 -o "$TMP/pts.svg"
expect_grep "$TMP/pts.svg" 'id="time:system\.iotlb\.hits"' "point series named"
expect_status 2 "--point that is not in the sweep" -- "$IOMMUSIM" plot series \
    "$TMP/q/sweep.h5" system.iotlb.hits --point p9999 -o "$TMP/pts.svg"

expect_status 0 "report" -- "$IOMMUSIM" report "$TMP/q" --y system.iotlb.hit_rate --y system.nic.throughput
[ -s "$TMP/q/report.html" ] && ok "report.html written in the sweep directory" || bad "report.html written"
check_py "report: the point table, inline plots, nothing external" -- "$SW/check_plots.py" report \
    "$TMP/q" "$TMP/q/report.html"
expect_status 0 "report with default stats" -- "$IOMMUSIM" report "$TMP/q" -o "$TMP/r2.html"
expect_grep "$TMP/r2.html" '<figure id="plot:' "default report has plots"

expect_status 2 "unknown stat" -- "$IOMMUSIM" plot sweep "$TMP/q" --x entries --y nosuch -o "$TMP/x.png"
expect_grep "$TMP/err" "--y nosuch: no such parameter or stat in the sweep" "unknown stat named"
expect_status 2 "bad output extension" -- "$IOMMUSIM" plot cdf "$A" system.dev0.lat -o "$TMP/x.jpg"
expect_status 2 "missing file" -- "$IOMMUSIM" plot series "$TMP/none.h5" system.dev0.reqs -o "$TMP/x.png"
finish
