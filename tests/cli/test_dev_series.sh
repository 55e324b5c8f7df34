#!/bin/sh
# test_dev_series.sh - a DmaDevice's achieved-throughput time series,
# `interval_throughput` in stats.h5: the quick start with a 100 us stats
# period against a derivation.
#
# The NIC receives 1500-byte packets back to back at 100 Gb/s: one per
# (1500 + 20) * 8 / 100e9 s = 121.6 ns. Each packet moves 1500 bytes of
# data plus a 16-byte descriptor read and a 16-byte write-back, so in steady
# state the DMA engine moves 100e9 * 1532 / 1520 = 100.789 Gb/s. A 100 us
# period holds 822 or 823 packets (100 / 0.1216 = 822.4), so every period
# after the first reads within one packet (1532 * 8 bits / 100 us = 0.123
# Gb/s) of that; the first is lower by the pipeline's fill (about 1 us).
# Identity: each row times its period is the bits moved in it, so the sum
# over rows is 8 * (read_bytes + write_bytes) at the last dump, exactly up
# to rounding. Not a readout: a config's read() leaves the series alone.
# The embedded CPython's allocations are not leak-checked (docs/configs.md).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac

expect_status 0 "the quick start with a 100 us stats period" -- \
    "$IOMMUSIM" -q --no-progress --outdir qs --stats-period 100us "$SRC/configs/quickstart.py" \
    --until 1ms

# check NAME PYTHON-BODY: the body (over f, the open stats.h5) must print "ok".
check() {
    if $PY - qs/stats.h5 "$2" >"$TMP/py" 2>&1 <<'PYEOF'
import sys
import h5py
import numpy as np
f = h5py.File(sys.argv[1], "r")
exec(sys.argv[2])
PYEOF
    then grep -q '^ok$' "$TMP/py" && ok "$1" || bad "$1" "$(head -c 400 "$TMP/py")"
    else bad "$1" "$(head -c 400 "$TMP/py")"; fi
}

check "a scalar with a row per dump, in bit/s" '
d = f["stats/system/nic/interval_throughput"]
n = f["dumps/tick"].shape[0]
print("ok" if n == 10 and d.shape == (n,) and d.attrs["kind"] == "scalar"
      and d.attrs["unit"] == "bit/s" else (n, d.shape, dict(d.attrs)))'

check "every period after the first within one packet of 100e9 * 1532/1520" '
v = f["stats/system/nic/interval_throughput"][()]
want, pkt = 100e9 * 1532 / 1520, 1532 * 8 / 100e-6
bad = [x for x in v[1:] if abs(x - want) > pkt]
print("ok" if not bad else (want, pkt, list(v)))'

check "the first period is short of it by the pipeline fill only" '
v = f["stats/system/nic/interval_throughput"][()]
want = 100e9 * 1532 / 1520
print("ok" if want * (1 - 0.03) < v[0] < want else v[0])'

check "rows times periods sum to the bytes moved" '
t = np.concatenate(([0], f["dumps/tick"][()])).astype(float)
v = f["stats/system/nic/interval_throughput"][()]
bits = float(np.sum(v * np.diff(t) / 1e12))
s = f["stats/system/nic"]
moved = 8 * float(s["read_bytes"][-1] + s["write_bytes"][-1])
print("ok" if abs(bits - moved) <= 1e-9 * moved else (bits, moved))'

# A config that reads its device between simulate() calls does not cut the
# series: same rows as without the reads.
cat >reads.py <<'PY'
import runpy, sys
import iommusim as sim
sys.argv = [sys.argv[0], "--until", "500us"]
orig = sim.simulate
def simulate(until=None, **kw):
    ex = None
    for t in ("100us", "250us", "500us"):
        ex = orig(until=t, **kw)
        sim.find("system.nic").read("throughput")
    return ex
sim.simulate = simulate
runpy.run_path(QS, run_name="__main__")
PY
sed -i "s|QS, run_name|\"$SRC/configs/quickstart.py\", run_name|" reads.py
expect_status 0 "a config reading the device mid-run" -- \
    "$IOMMUSIM" -q --no-progress --outdir rd --stats-period 100us reads.py
expect_status 0 "the same run without the reads" -- \
    "$IOMMUSIM" -q --no-progress --outdir nr --stats-period 100us "$SRC/configs/quickstart.py" \
    --until 500us
if $PY -c '
import sys, h5py, numpy as np
a = h5py.File("rd/stats.h5", "r")["stats/system/nic/interval_throughput"][()]
b = h5py.File("nr/stats.h5", "r")["stats/system/nic/interval_throughput"][()]
sys.exit(0 if a.shape == b.shape and np.array_equal(a, b) else 1)' 2>"$TMP/py"
then ok "reads from the config leave the series unchanged"
else bad "reads from the config leave the series unchanged" "$(head -c 300 "$TMP/py")"; fi
finish
