#!/bin/sh
# test_sweep_plugin.sh - `iommusim sweep --plugin PATH` (repeatable) loads an
# out-of-tree model in every point. The example plugin (examples/plugin/,
# FixedLatencyIOMMU) is compiled against the source tree's headers (its
# symbols resolve in the iommusim process at load time), and a 2-point sweep
# over its latency runs its config: with --plugin both points succeed and each
# point's mean translation latency is exactly its latency (50 ns, 120 ns: the
# model answers every request `latency` after it arrives); without it both
# fail naming the missing class. A missing plugin file is one line and exit
# 2 before anything runs, and --plugin with --emit-slurm is refused (the job
# scripts take IOMMUSIM_PLUGIN_PATH instead).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$PWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$PWD/$top_srcdir" ;; esac
case $top_builddir in /*) BLD=$top_builddir ;; *) BLD="$PWD/$top_builddir" ;; esac
unset IOMMUSIM_PLUGIN_PATH
PY=/usr/bin/python3
cd "$TMP" || exit 1

if cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -I"$SRC/src" -I"$BLD" -o fixed.so \
        "$SRC/examples/plugin/fixed_iommu.c" >cc.log 2>&1; then
    ok "the example plugin builds against the source tree"
else
    bad "the example plugin builds" "$(head -c 600 cc.log)"; finish; exit
fi
cat > sw.py <<PYEOF
from iommusim.sweep import Sweep
sweep = Sweep("$SRC/examples/plugin/fixed_iommu.py", args=["--until", "5us"])
sweep.grid({"latency": ["50ns", "120ns"]})
PYEOF

# A relative plugin path: the points run elsewhere, so sweep makes it absolute.
expect_status 0 "sweep --plugin ./fixed.so: every point runs" -- \
    "$IOMMUSIM" sweep --plugin ./fixed.so --plugin "$TMP/fixed.so" -j 2 --outdir with \
    --no-progress sw.py
if "$PY" - with >py.out 2>&1 <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
want = {"50ns": 50000.0, "120ns": 120000.0}
assert [p["status"] for p in m["points"]] == ["ok", "ok"], m["points"]
for p in m["points"]:
    mean = None
    for line in open(p["outdir"] + "/stats.txt"):
        f = line.split()
        if f and f[0] == "system.dev.xlate_lat_mean":
            mean = float(f[1])
    assert mean == want[p["params"]["latency"]], (p["id"], mean)
PYEOF
then ok "both points ok, mean translation latency = each point's latency"
else bad "both points ok, latencies" "$(head -c 600 py.out)"; fi

expect_status 1 "without --plugin the points fail" -- \
    "$IOMMUSIM" sweep -j 2 --outdir without --no-progress sw.py
expect_grep "$TMP/err" "point p0000 failed: .*FixedLatencyIOMMU" "the failure names the model"

expect_status 2 "a missing plugin file" -- \
    "$IOMMUSIM" sweep --plugin nothere.so --outdir none sw.py
expect_grep "$TMP/err" "^iommusim sweep: --plugin nothere.so: cannot use it \(No such file" \
    "the error names the file"
expect_one_line "one line"
[ ! -e none ] && ok "nothing ran" || bad "nothing ran" "$(ls none)"

expect_status 2 "--plugin with --emit-slurm" -- \
    "$IOMMUSIM" sweep --plugin ./fixed.so --emit-slurm slurm sw.py
expect_grep "$TMP/err" "IOMMUSIM_PLUGIN_PATH" "it says what to do instead"
expect_one_line "one line"

finish
