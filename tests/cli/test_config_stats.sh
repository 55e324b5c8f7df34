#!/bin/sh
# test_config_stats.sh - a config run writes OUTDIR/stats.h5 and stats.txt
# (issue 4): values against closed forms, periodic dumps (--stats-period and
# simulate(stats_period=...)), reset_stats(), the IOTLB hit rate against C/N,
# run metadata, bit-identical statistics for the same seed, Ctrl-C (kept,
# marked incomplete), no file after a config error, a one-line error when
# the file cannot be created. Files are read with /usr/bin/python3 through
# iommusim.stats.load (and h5py for exact dataset comparisons).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac
C="$SRC/tests/cli/configs"
PYTHONPATH="$SRC/python"; export PYTHONPATH

# check NAME PYTHON-CODE: run the code (S = iommusim.stats, h5py, numpy as
# np imported; sys.argv[1:] = extra args); it prints nothing and exits 0 on
# success, or prints why it failed.
check() {
    name=$1; code=$2; shift 2
    if $PY - "$@" >"$TMP/py.out" 2>&1 <<PYEOF
import sys, json, math
import h5py, numpy as np
import iommusim.stats as S
$code
PYEOF
    then ok "$name"; else bad "$name" "$(head -c 600 "$TMP/py.out")"; fi
}

SP="$C/stats_source.py"

# --- A final dump only: PeriodicSource at 10 ns by 1 us ----------------------
# Events at 0, 10, ..., 1000 ns: floor(T / period) + 1 = 101.
expect_status 0 "config run with stats" -- "$IOMMUSIM" -q --outdir o1 "$SP"
[ -f o1/stats.h5 ] && [ -f o1/stats.txt ] && [ ! -e o1/stats.h5.tmp ] \
    && ok "stats.h5 and stats.txt written, no .tmp left" \
    || bad "stats.h5 and stats.txt written, no .tmp left" "$(ls o1)"
expect_grep o1/stats.txt "^system\.src\.events +101 +#" "stats.txt: events = floor(1us/10ns)+1 = 101"
check "stats.h5: one final dump at 1 us, 101 events, complete" '
s = S.load("o1/stats.h5")
assert s.meta["complete"] == 1 and s.meta["dumps"] == 1, s.meta
ev = s.series("system.src.events")
assert list(ev.index) == [1e-6] and list(ev["value"]) == [101], ev
assert s.meta["sim_ticks"] == 10**6, s.meta["sim_ticks"]
f = h5py.File("o1/stats.h5")
assert f["stats/system/src/events"].attrs["kind"] == "counter"
assert f["stats/system/src/events"].dtype == np.uint64
assert f["stats/system/src/mean_gap"][0] == 10000.0       # 10 ns in ps
'

# --- Run metadata -------------------------------------------------------------
"$IOMMUSIM" -q --seed 7 --dump-config "$SP" >dump.json 2>/dev/null
expect_status 0 "run with --seed 7" -- "$IOMMUSIM" -q --seed 7 --outdir o2 "$SP" --until 2us
ver=$("$IOMMUSIM" --version | sed 's/^iommusim //')
check "metadata: version, seed, config JSON, command line, host" '
s = S.load("o2/stats.h5")
m = s.meta
ver, host = sys.argv[1], sys.argv[2]
assert m["iommusim_version"] == ver, m["iommusim_version"]
assert m["seed"] == 7
assert json.loads(m["config_json"]) == json.load(open("dump.json")), "config_json differs from --dump-config"
assert m["command_line"].endswith("--seed 7 --outdir o2 " + sys.argv[3] + " --until 2us"), m["command_line"]
assert m["host_name"] == host, (m["host_name"], host)
assert m["schema_version"] == 1
' "$ver" "$(hostname)" "$SP"
open_rev=$($PY -c 'import sys, h5py; print(h5py.File(sys.argv[1]).attrs["git_revision"])' o2/stats.h5)
# The build records `git describe --always --dirty` (others may have
# committed since): in a checkout it must name a commit of this repository.
if [ -e "$SRC/.git" ]; then
    commit=${open_rev%-dirty}
    if [ -n "$commit" ] && [ "$commit" != unknown ] &&
       git -C "$SRC" cat-file -e "$commit^{commit}" 2>/dev/null; then
        ok "git_revision names a commit of the checkout ($open_rev)"
    else
        bad "git_revision names a commit of the checkout" "got '$open_rev'"
    fi
else
    [ "$open_rev" = unknown ] && ok "git_revision outside a checkout: unknown" \
        || bad "git_revision outside a checkout: unknown" "got '$open_rev'"
fi

# --- Periodic dumps -----------------------------------------------------------
# --stats-period T, run to U: dumps at T, 2T, ... <= U, plus a final one at U
# unless a periodic dump was already there: ceil(U / T) dumps, the k-th (at
# t = kT) holding floor(t / 10ns) + 1 events.
expect_status 0 "--stats-period 100ns" -- "$IOMMUSIM" -q --outdir o3 --stats-period 100ns "$SP"
check "--stats-period 100ns over 1 us: 10 dumps, 10k+1 events at k*100ns" '
s = S.load("o3/stats.h5")
ev = s.series("system.src.events")
ticks = [round(t * 1e12) for t in ev.index]
assert ticks == [100000 * k for k in range(1, 11)], ticks
assert list(ev["value"]) == [10 * k + 1 for k in range(1, 11)], list(ev["value"])
assert s.meta["dumps"] == 10 and s.meta["complete"] == 1
'
expect_status 0 "--stats-period 300ns" -- "$IOMMUSIM" -q --outdir o4 --stats-period 300ns "$SP"
check "--stats-period 300ns over 1 us: ceil(1000/300) = 4 dumps (3 periodic + final)" '
f = h5py.File("o4/stats.h5")
assert list(f["dumps/tick"][:]) == [300000, 600000, 900000, 1000000], f["dumps/tick"][:]
assert list(f["stats/system/src/events"][:]) == [31, 61, 91, 101]
'
expect_status 0 "stats_period in the config" -- "$IOMMUSIM" -q --outdir o5 "$SP" --stats-period 250ns
check "simulate(stats_period=\"250ns\"): 4 dumps" '
f = h5py.File("o5/stats.h5")
assert list(f["dumps/tick"][:]) == [250000, 500000, 750000, 1000000], f["dumps/tick"][:]
'
expect_status 0 "--stats-period overrides the config" -- \
    "$IOMMUSIM" -q --outdir o6 --stats-period 500ns "$SP" --stats-period 250ns
check "--stats-period 500ns beats the config's 250ns: 2 dumps" '
f = h5py.File("o6/stats.h5")
assert list(f["dumps/tick"][:]) == [500000, 1000000], f["dumps/tick"][:]
'
expect_status 2 "--stats-period without a unit" -- "$IOMMUSIM" --stats-period 10 "$SP"
expect_grep "$TMP/err" "^iommusim: --stats-period: missing or unknown unit \(got '10'" \
    "--stats-period 10: one line, the unit is missing"

# --- reset_stats() -------------------------------------------------------------
# Warm-up to 500 ns, reset, run to 1 us, dumps every 100 ns: before the reset
# 10k+1 events; after it the events of (500 ns, t]: (t - 500ns) / 10ns.
expect_status 0 "warm-up and reset" -- "$IOMMUSIM" -q --outdir o7 --stats-period 100ns "$SP" --warmup 500ns
check "reset_stats() zeroes counters; reset_tick marks the span" '
f = h5py.File("o7/stats.h5")
ev = list(f["stats/system/src/events"][:])
assert ev == [11, 21, 31, 41, 51, 10, 20, 30, 40, 50], ev
assert list(f["dumps/reset_tick"][:]) == [0] * 5 + [500000] * 5, f["dumps/reset_tick"][:]
'
expect_grep o7/stats.txt "^system\.src\.events +50 +#" "stats.txt after reset: 50 events"

# --- IOTLB hit rate ~ C/N (configs/iommu_random.py, C = 64, N = 256) -----------
expect_status 0 "iommu_random with stats" -- "$IOMMUSIM" -q --outdir o8 --stats-period 1ms \
    "$SRC/configs/iommu_random.py"
check "IOTLB hit_rate = hits/(hits+misses) ~ C/N = 0.25; registry paths" '
s = S.load("o8/stats.h5")
sc = s.scalars.set_index("path")["value"]
hits, misses = sc["system.iotlb.hits"], sc["system.iotlb.misses"]
assert sc["system.iotlb.lookups"] == hits + misses
assert sc["system.iotlb.hit_rate"] == hits / (hits + misses)
# 10^5 uniform lookups: binomial sd sqrt(.25*.75/1e5) = 0.0014; allow 0.01.
assert abs(sc["system.iotlb.hit_rate"] - 64 / 256) < 0.01, sc["system.iotlb.hit_rate"]
assert sc["system.probe.completed"] == sc["system.iotlb.lookups"]
for p in ("system.mem.requests", "system.walker.walks", "system.iommu.translations"):
    assert p in sc.index, p
f = h5py.File("o8/stats.h5")
assert f["stats/system/iotlb/hit_rate"].attrs["expr"] == "hits / (hits + misses)"
# Warm-up of 2 ms, then reset: 22 dumps (1 ms apart), resets at 2 ms.
assert f["dumps/tick"].shape[0] == 22
'

# --- Determinism: same seed, bit-identical statistics ---------------------------
same() {
    check "$1" '
def datasets(path):
    out = {}
    with h5py.File(path) as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and (name.startswith("stats/") or name.startswith("dumps/")):
                out[name] = obj[()].tobytes()
        f.visititems(visit)
        for k in ("sim_ticks", "events_processed", "dumps"):
            out["run/" + k] = f["run/" + k][()].tobytes()
    return out
a, b = datasets(sys.argv[1]), datasets(sys.argv[2])
assert len(a) > 40, len(a)
diff = sorted(k for k in a if a[k] != b.get(k)) + sorted(set(b) - set(a))
if sys.argv[3] == "same":
    assert not diff, diff[:5]
else:
    assert "stats/system/iotlb/hits" in diff, "different seeds gave the same hits"
' "$2" "$3" "$4"
}
for d in s1 s2; do
    "$IOMMUSIM" -q --seed 5 --outdir $d --stats-period 500us "$SRC/configs/iommu_random.py" \
        --policy random --until 6ms >/dev/null 2>&1
done
"$IOMMUSIM" -q --seed 6 --outdir s3 --stats-period 500us "$SRC/configs/iommu_random.py" \
    --policy random --until 6ms >/dev/null 2>&1
same "same seed: every stat and dump dataset bit-identical" s1/stats.h5 s2/stats.h5 same
same "another seed: the comparison sees the difference" s1/stats.h5 s3/stats.h5 differ

# --- Ctrl-C: what was measured is kept, marked incomplete -------------------------
# long.py: a 1 ps PeriodicSource to 1 s. Stop it once simulating; the file
# must be readable, /run/complete 0, and its last dump must hold the closed
# form floor(t / 1ps) + 1 events at its tick t.
interrupt_run -- "$IOMMUSIM" --progress --outdir o9 --stats-period 10ns "$C/long.py"
expect_grep "$TMP/int.out" "^130$" "Ctrl-C with stats: exit 130"
expect_grep "$TMP/int.err" "^iommusim: statistics up to the stop kept in o9/stats.h5 \([0-9]+ dumps, marked incomplete\)$" \
    "Ctrl-C: one line says the statistics were kept, incomplete"
[ -f o9/stats.h5 ] && [ -f o9/stats.txt ] && [ ! -e o9/stats.h5.tmp ] \
    && ok "Ctrl-C: stats.h5 and stats.txt in place, no .tmp" \
    || bad "Ctrl-C: stats.h5 and stats.txt in place, no .tmp" "$(ls o9)"
check "Ctrl-C: readable, complete = 0, last dump at the stop, closed form holds" '
s = S.load("o9/stats.h5")
m = s.meta
assert m["complete"] == 0, m["complete"]
f = h5py.File("o9/stats.h5")
t, ev = f["dumps/tick"][:], f["stats/system/src/events"][:]
assert len(t) == m["dumps"] >= 2
assert t[-1] == m["sim_ticks"], (t[-1], m["sim_ticks"])
assert (ev == t + 1).all(), (t[-3:], ev[-3:])
assert (t[:-1] % 10000 == 0).all()
assert m["end_time"] != "" and m["wall_seconds"] > 0
'

# --- Errors ------------------------------------------------------------------------
# A config error before instantiate: no stats file, and an old one untouched.
cp -r o1 o10
expect_status 2 "config error" -- "$IOMMUSIM" --outdir o10 "$C/err_params.py"
cmp -s o1/stats.h5 o10/stats.h5 && [ ! -e o10/stats.h5.tmp ] \
    && ok "config error: no stats written, the previous stats.h5 untouched" \
    || bad "config error: no stats written, the previous stats.h5 untouched" "$(ls o10)"
expect_status 2 "config error, fresh outdir" -- "$IOMMUSIM" --outdir o11 "$C/err_params.py"
[ ! -e o11/stats.h5 ] && [ ! -e o11/stats.h5.tmp ] \
    && ok "config error: no stats.h5 in a fresh outdir" || bad "config error: no stats.h5 in a fresh outdir"
# stats.h5.tmp cannot be created (a directory is in the way): one line, exit 1.
mkdir -p o12/stats.h5.tmp
expect_status 1 "stats file cannot be created" -- "$IOMMUSIM" --outdir o12 "$SP"
expect_grep "$TMP/err" "^iommusim: o12/stats\.h5\.tmp: .*cannot create: Is a directory" \
    "unwritable stats file: one line naming the file and why"
[ "$(grep -c . "$TMP/err")" -eq 1 ] && ok "unwritable stats file: exactly one line" \
    || bad "unwritable stats file: exactly one line" "$(cat "$TMP/err")"
# An unwritable outdir: one line, exit 1 (config.json is the first file written).
expect_status 1 "unwritable outdir" -- "$IOMMUSIM" --outdir /proc/iommusim-no "$SP"
[ "$(grep -c . "$TMP/err")" -eq 1 ] && ok "unwritable outdir: exactly one line" \
    || bad "unwritable outdir: exactly one line" "$(cat "$TMP/err")"

finish
