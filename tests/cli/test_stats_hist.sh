#!/bin/sh
# test_stats_hist.sh - model latency histograms in stats.h5 (issue 4): a
# quick-start run's DMA engine histograms are real histograms, (dumps x
# bins) counts with bin edges, read by iommusim.stats.load(...).hist().
# Expected values are derivations, not pasted output: the log-linear edges
# of src/dev/lathist.h (unit bins to 16, then 8 per octave), every sample in
# exactly one bin, the request histogram's count equal to the requests
# completed (each completion records one sample), its translation sum equal
# to the summed translation time (the same values added in the same order),
# cumulative dumps that never decrease, and bit-identical bins for the same
# seed.
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac
PYTHONPATH="$SRC/python"; export PYTHONPATH

check() {
    name=$1; code=$2; shift 2
    if $PY - "$@" >"$TMP/py.out" 2>&1 <<PYEOF
import sys, math
import h5py, numpy as np
import iommusim.stats as S
$code
PYEOF
    then ok "$name"; else bad "$name" "$(head -c 600 "$TMP/py.out")"; fi
}

for d in q1 q2; do
    expect_status 0 "quick start with 20 us dumps ($d)" -- "$IOMMUSIM" -q --no-progress \
        --seed 3 --outdir $d --stats-period 20us "$SRC/configs/quickstart.py" --until 200us
done

check "translation_latency is a histogram of (dumps x 498) counts with lathist edges" '
s = S.load("q1/stats.h5")
p = "system.nic.translation_latency"
assert s.kind(p) == "histogram", s.kind(p)
g = s._obj(p)
assert g.attrs["scale"] == "loglin", g.attrs["scale"]
assert s.n == 10, s.n
assert g["counts"].shape == (10, 62 * 8 + 2), g["counts"].shape
e = g["edges"][:]
want = [float(i) for i in range(17)]
for k in range(2, 64):
    for j in range(8):
        if k * 8 + j > 16:   # 16 itself is the last unit edge
            want.append(2.0 ** (k + 2) * (1 + j / 8))
want = want[:62 * 8 + 1]
want[-1] = 2.0 ** 64
assert list(e) == want, [(i, a, b) for i, (a, b) in enumerate(zip(e, want)) if a != b][:3]
'

check "every sample in one bin, dumps cumulative, count matches completed requests" '
s = S.load("q1/stats.h5")
for name in ("translation_latency", "request_latency", "packet_latency"):
    p = "system.nic." + name
    c = s._obj(p)["counts"][:].astype(np.int64)
    summ = s.values(p)
    assert (c.sum(axis=1) == summ[:, 0]).all(), name
    assert (np.diff(c, axis=0) >= 0).all(), name + ": a bin decreased"
    assert c[-1].sum() > 100, (name, c[-1].sum())
    assert c[:, 0].sum() == 0 and c[:, -1].sum() == 0, name + ": under/overflow"
req = s.series("system.nic.request_latency")["count"].values
done = (s.series("system.nic.read_requests")["value"].values +
        s.series("system.nic.write_requests")["value"].values)
assert (req == done).all(), (req, done)
xl = s.series("system.nic.translation_latency")
assert (xl["sum"].values == s.series("system.nic.xlate_stall")["value"].values).all()
assert (xl["count"].values >= req).all()
'

check "hist() of the last dump: percentiles within their bin, bins frame" '
s = S.load("q1/stats.h5")
h = s.hist("system.nic.translation_latency")
assert h.count == int(h.counts.sum()), (h.count, h.counts.sum())
for q, key in ((50, "p50"), (99, "p99")):
    v = h.summary[key]
    assert v == h.percentile(q), (key, v, h.percentile(q))
    b = np.searchsorted(h.edges, v, side="right") - 1
    assert h.counts[b] > 0, (key, v)
    assert h.summary["min"] <= v <= h.summary["max"]
mean = s.series("system.nic.xlate_lat_mean")["value"].values[-1]
assert abs(h.summary["mean"] - mean) <= 1e-9 * mean, (h.summary["mean"], mean)
df = h.bins
assert int(df["count"].sum()) == h.count and len(df) == 62 * 8 + 2
'

check "same seed: bit-identical histogram datasets" '
with h5py.File("q1/stats.h5") as a, h5py.File("q2/stats.h5") as b:
    for name in ("translation_latency", "request_latency", "packet_latency"):
        for ds in ("counts", "summary", "edges"):
            x = a["stats/system/nic/" + name + "/" + ds][:]
            y = b["stats/system/nic/" + name + "/" + ds][:]
            assert x.tobytes() == y.tobytes(), (name, ds)
'
finish
