"""check_stats_file.py - recompute every value stats_writer_driver recorded
and compare it with what h5py reads from stats.h5, stats.txt and the
iommusim.stats loader.

The expected values come from the closed forms in stats_writer_driver.c's
header comment, recomputed here with numpy from scratch (never from the
simulator's output). Percentiles are checked against the exact nearest-rank
percentiles of the sample within the bound of stats/SCHEMA.md.

Usage:
  check_stats_file.py FILE --dumps N --period P [--reset-after K] [--wide W]
                      [--noisy] [--txt stats.txt]
  check_stats_file.py --same A B      # identical statistics (determinism)
Exit status 0 when every check passes; each failure prints one line.
"""
import argparse
import datetime
import json
import math
import socket
import sys

import h5py
import numpy as np

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL", what)


def near(a, b, tol):
    if isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and math.isnan(a) or np.isnan(a)
    return abs(a - b) <= tol


def nearest_rank(sorted_x, ppm):
    k = -(-len(sorted_x) * ppm // 1000000)
    return sorted_x[max(k, 1) - 1]


M64 = (1 << 64) - 1


def noise(x):
    """splitmix64's output for state x (stats_writer_driver.c)."""
    z = (x + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def noisy_add(j, e):
    """What --noisy adds to element e at dump j."""
    return noise(16 * j + e) >> 14 if (j - 1) // 512 % 2 else 1


def expected(n_dumps, period, reset_after, wide, noisy=False):
    """Per dump: dict path -> value (vectors as lists, hists as samples)."""
    out = []
    for i in range(1, n_dumps + 1):
        lo = reset_after if reset_after and i > reset_after else 0
        reset_tick = lo * period
        js = list(range(lo + 1, i + 1))
        sj = sum(js)
        tick = i * period
        e = {
            "tick": tick,
            "reset_tick": reset_tick,
            "system.dev0.reqs": sj,
            "system.dev0.bytes": 64.0 * sj,
            "system.iommu.maps": [len(js) * (k + 1) for k in range(3)],
            "system.iommu.iotlb.hits": sj,
            "system.iommu.iotlb.misses": len(js),
            "system.iommu.iotlb.never": 0,
            "system.iommu.iotlb.hit_rate": sj / (sj + len(js)),
            "system.iommu.iotlb.empty_rate": float("nan"),
            "system.dev0.bw": 64.0 * sj / ((tick - reset_tick) / 1e12),
            # Level j % 4 over each whole interval j of the span.
            "system.dev0.queue_depth": sum((j % 4) * period for j in js) / (tick - reset_tick),
            "system.dev0.lat": [float((37 * j + 101 * k) % 1200) for j in js for k in range(5)],
            "system.iommu.walk_lat": [float(1 + (j * k) % 5000) for j in js for k in (1, 2, 3)],
        }
        for c in range(wide):
            e["system.extra.c%d" % c] = sj
        if noisy:
            e["system.noise.v"] = [sum(noisy_add(j, k) for j in js) & M64 for k in range(16)]
        out.append(e)
    return out


LIN_EDGES = np.arange(11) * 100.0
LOG_EDGES = np.array([2.0 ** o * (1 + s / 4) for o in range(12) for s in range(4)] + [4096.0])

STATS = {
    # path: (kind, unit, description)
    "system.dev0.reqs": ("counter", "count", "requests issued"),
    "system.dev0.bytes": ("scalar", "B", "bytes transferred"),
    "system.dev0.queue_depth": ("twa", "entries", "time-weighted queue depth"),
    "system.iommu.maps": ("vector", "count", "maps by page size"),
    "system.iommu.iotlb.hits": ("counter", "count", "IOTLB hits"),
    "system.iommu.iotlb.misses": ("counter", "count", "IOTLB misses"),
    "system.iommu.iotlb.never": ("counter", "count", "never incremented"),
    "system.iommu.iotlb.hit_rate": ("formula", "ratio", "IOTLB hit rate"),
    "system.iommu.iotlb.empty_rate": ("formula", "ratio", "a rate with no events"),
    "system.dev0.bw": ("formula", "B/s", "bandwidth"),
    "system.dev0.lat": ("histogram", "ns", "request latency"),
    "system.iommu.walk_lat": ("histogram", "ns", "walk latency"),
}
EXPRS = {
    "system.iommu.iotlb.hit_rate": "hits / (hits + misses)",
    "system.iommu.iotlb.empty_rate": "never / (never + never)",
    "system.dev0.bw": "bytes / @seconds",
}


def h5(path):
    return "/stats/" + path.replace(".", "/")


def hist_expect(samples, edges):
    x = np.sort(np.asarray(samples))
    idx = np.searchsorted(edges, x, side="right") - 1
    nb = len(edges) - 1
    counts = np.zeros(nb + 2, dtype=np.int64)
    counts[0] = np.sum(x < edges[0])
    counts[-1] = np.sum(x >= edges[-1])
    inr = (x >= edges[0]) & (x < edges[-1])
    for b in idx[inr]:
        counts[b + 1] += 1
    return x, counts


def pct_bound(x, edges, value):
    """Width of the bin (clipped to [min, max]) holding value."""
    mn, mx = x[0], x[-1]
    if value < edges[0]:
        a, z = mn, edges[0]
    elif value >= edges[-1]:
        a, z = edges[-1], mx
    else:
        b = np.searchsorted(edges, value, side="right") - 1
        a, z = edges[b], edges[b + 1]
    return max(min(z, mx) - max(a, mn), 0.0) + 1e-9


def check_file(args):
    exp = expected(args.dumps, args.period, args.reset_after, args.wide, args.noisy)
    n = args.dumps
    f = h5py.File(args.file, "r")
    a = f.attrs
    check(int(a["schema_version"]) == 1, "schema_version is 1")
    for key in ("iommusim_version", "git_revision", "config_json", "command_line",
                "host_name", "start_time"):
        check(isinstance(a[key], str), "attribute %s is a string" % key)
    run = {k: v[()] for k, v in f["run"].items()}
    run["end_time"] = run["end_time"].decode()
    check(a["git_revision"] == "test-revision", "git_revision")
    cfg = json.loads(a["config_json"])
    check(cfg == {"driver": {"dumps": n, "period": args.period}}, "config_json round trip")
    check(int(a["seed"]) == 1234, "seed")
    check("stats_writer_driver" in a["command_line"] and
          ("--dumps %d" % n) in a["command_line"], "command_line")
    check(a["host_name"] == socket.gethostname(), "host_name")
    st = datetime.datetime.strptime(a["start_time"], "%Y-%m-%dT%H:%M:%SZ")
    en = datetime.datetime.strptime(run["end_time"], "%Y-%m-%dT%H:%M:%SZ")
    check(st <= en, "start_time <= end_time")
    check(abs(st.replace(tzinfo=datetime.timezone.utc).timestamp()
              - int(a["start_time_unix"])) <= 1, "start_time matches start_time_unix")
    check(float(run["end_time_unix"]) >= float(a["start_time_unix"]), "end after start")
    check(near(float(run["wall_seconds"]),
               float(run["end_time_unix"]) - float(a["start_time_unix"]), 1e-6), "wall_seconds")
    check(int(run["sim_ticks"]) == n * args.period, "sim_ticks")
    check(int(run["events_processed"]) == 8 * n, "events_processed")
    check(int(run["dumps"]) == n, "run/dumps")
    check(int(run["complete"]) == 1, "complete")
    check(int(a["ticks_per_second"]) == 10 ** 12, "ticks_per_second")

    tick = f["dumps/tick"][:]
    reset = f["dumps/reset_tick"][:]
    check(tick.shape == (n,), "dumps/tick has one row per dump")
    check(list(tick) == [e["tick"] for e in exp], "dumps/tick values")
    check(list(reset) == [e["reset_tick"] for e in exp], "dumps/reset_tick values")
    check(f["dumps/tick"].attrs["unit"] == "ps", "tick unit")

    # Every stat object, and nothing else, carries a kind.
    found = {}
    f["stats"].visititems(lambda name, o: found.__setitem__(name.replace("/", "."), o)
                          if "kind" in o.attrs else None)
    want_paths = set(STATS) | {"system.extra.c%d" % c for c in range(args.wide)}
    if args.noisy:
        want_paths.add("system.noise.v")
    check(set(found) == want_paths, "the file holds exactly the registered stats (%s)"
          % sorted(set(found) ^ want_paths))

    for path, (kind, unit, desc) in STATS.items():
        o = f[h5(path)]
        check(o.attrs["kind"] == kind, "%s kind" % path)
        check(o.attrs["unit"] == unit, "%s unit" % path)
        check(o.attrs["description"] == desc, "%s description" % path)
        if path in EXPRS:
            check(o.attrs["expr"] == EXPRS[path], "%s expr" % path)

    for path in ("system.dev0.reqs", "system.iommu.iotlb.hits", "system.iommu.iotlb.misses",
                 "system.iommu.iotlb.never") + tuple("system.extra.c%d" % c
                                                     for c in range(args.wide)):
        ds = f[h5(path)]
        check(ds.dtype == np.uint64 and ds.shape == (n,), "%s is uint64 (dumps,)" % path)
        check(list(ds[:]) == [e[path] for e in exp], "%s values" % path)
    for path in ("system.dev0.bytes", "system.dev0.queue_depth",
                 "system.iommu.iotlb.hit_rate", "system.iommu.iotlb.empty_rate",
                 "system.dev0.bw"):
        ds = f[h5(path)]
        check(ds.dtype == np.float64 and ds.shape == (n,), "%s is float64 (dumps,)" % path)
        got = ds[:]
        bad = [i for i, e in enumerate(exp)
               if not near(got[i], e[path], 1e-9 * max(1.0, abs(e[path])))]
        check(not bad, "%s values (first bad dump %s: %s vs %s)" % (
            path, bad[:1], got[bad[0]] if bad else "", exp[bad[0]][path] if bad else ""))
    ds = f[h5("system.iommu.maps")]
    check(list(ds.attrs["elements"]) == ["4K", "2M", "1G"], "vector element names")
    check(ds.shape == (n, 3) and ds.dtype == np.uint64, "vector shape")
    check(ds[:].tolist() == [e["system.iommu.maps"] for e in exp], "vector values")
    if args.noisy:
        ds = f[h5("system.noise.v")]
        check(ds.shape == (n, 16) and ds.dtype == np.uint64, "noisy vector shape")
        check(ds[:].tolist() == [e["system.noise.v"] for e in exp], "noisy vector values")

    for path, edges, scale in (("system.dev0.lat", LIN_EDGES, "linear"),
                               ("system.iommu.walk_lat", LOG_EDGES, "log2")):
        g = f[h5(path)]
        check(g.attrs["scale"] == scale, "%s scale" % path)
        check(int(g.attrs["nbins"]) == len(edges) - 1, "%s nbins" % path)
        check(np.array_equal(g["edges"][:], edges), "%s edges" % path)
        check(list(g["summary"].attrs["columns"]) ==
              ["count", "sum", "mean", "stdev", "min", "max", "p50", "p90", "p99", "p99.9"],
              "%s summary columns" % path)
        counts, summary = g["counts"][:], g["summary"][:]
        check(counts.shape == (n, len(edges) + 1), "%s counts shape" % path)
        check(summary.shape == (n, 10), "%s summary shape" % path)
        for i, e in enumerate(exp):
            x, want_counts = hist_expect(e[path], edges)
            ok = np.array_equal(counts[i], want_counts)
            s = summary[i]
            ok = ok and s[0] == len(x) and near(s[1], x.sum(), 1e-9 * x.sum())
            ok = ok and near(s[2], x.mean(), 1e-9 * x.mean())
            ok = ok and near(s[3], x.std(ddof=1) if len(x) > 1 else 0.0, 1e-6)
            ok = ok and s[4] == x[0] and s[5] == x[-1]
            for col, ppm in zip(range(6, 10), (500000, 900000, 990000, 999000)):
                exact = nearest_rank(x, ppm)
                if not near(s[col], exact, pct_bound(x, edges, exact)):
                    ok = False
            if not ok:
                check(False, "%s dump %d: counts, summary or percentiles" % (path, i))
                break
        else:
            check(True, "%s every dump" % path)
    f.close()

    # The loader reads the same numbers.
    sys.path.insert(0, args.pythonpath)
    from iommusim.stats import load
    with load(args.file) as s:
        check(s.n == n and s.complete, "loader: dumps and complete")
        check(s.meta["seed"] == 1234 and s.meta["schema_version"] == 1, "loader: meta")
        check(s.meta["sim_ticks"] == n * args.period and s.meta["end_time"] == run["end_time"],
              "loader: end-of-run meta")
        sc = s.scalars.set_index("path")
        last = exp[-1]
        check(sc.loc["system.dev0.reqs", "value"] == last["system.dev0.reqs"],
              "loader: scalars counter")
        check(sc.loc["system.dev0.reqs", "unit"] == "count", "loader: scalars unit")
        check(near(sc.loc["system.iommu.iotlb.hit_rate", "value"],
                   last["system.iommu.iotlb.hit_rate"], 1e-12), "loader: scalars formula")
        check(math.isnan(sc.loc["system.iommu.iotlb.empty_rate", "value"]),
              "loader: NaN formula")
        check(sc.loc["system.iommu.maps::1G", "value"] == last["system.iommu.maps"][2],
              "loader: vector element")
        ser = s.series("system.dev0.reqs")
        check(list(ser.index) == [e["tick"] / 1e12 for e in exp], "loader: series index")
        check(list(ser["value"]) == [e["system.dev0.reqs"] for e in exp], "loader: series")
        check(list(s.series("system.iommu.maps").columns) == ["4K", "2M", "1G"],
              "loader: vector series columns")
        h = s.hist("system.dev0.lat")
        x = np.sort(last["system.dev0.lat"])
        check(h.count == len(x), "loader: hist count")
        check(int(h.counts.sum()) + h.underflow + h.overflow == len(x), "loader: hist bins")
        check(near(h.percentile(99), h.percentiles["p99"], 1e-9),
              "loader: percentile() matches the stored p99")
        check(near(h.percentile(25), nearest_rank(x, 250000),
                   pct_bound(x, LIN_EDGES, nearest_rank(x, 250000))),
              "loader: p25 within bound")
        check(int(h.bins["count"].sum()) == len(x), "loader: bins table")

    if args.txt:
        vals = {}
        with open(args.txt) as t:
            for line in t:
                parts = line.split()
                if len(parts) >= 2 and not line.startswith("-"):
                    vals[parts[0]] = parts[1]
        last = exp[-1]
        check(vals.get("sim_ticks") == str(last["tick"]), "stats.txt sim_ticks")
        check(vals.get("system.dev0.reqs") == str(last["system.dev0.reqs"]),
              "stats.txt counter")
        check(near(float(vals.get("system.iommu.iotlb.hit_rate", "nan")),
                   last["system.iommu.iotlb.hit_rate"], 1e-8), "stats.txt formula")
        check(vals.get("system.iommu.iotlb.empty_rate") == "nan", "stats.txt NaN")
        check(vals.get("system.iommu.maps::total") == str(sum(last["system.iommu.maps"])),
              "stats.txt vector total")
        check(vals.get("system.dev0.lat::samples") == str(len(last["system.dev0.lat"])),
              "stats.txt hist samples")
        with h5py.File(args.file, "r") as f2:
            p99 = f2[h5("system.dev0.lat") + "/summary"][-1, 8]
        check(near(float(vals.get("system.dev0.lat::p99", "nan")), p99, 1e-6 * p99),
              "stats.txt p99 equals the file's")


def check_same(a, b):
    """Every dataset under /stats and /dumps is bit-identical (/run holds
    host wall-clock times, which differ by design)."""
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = []
        other = []
        for g in ("stats", "dumps"):
            fa[g].visititems(lambda nm, o: names.append(g + "/" + nm)
                             if isinstance(o, h5py.Dataset) else None)
            fb[g].visititems(lambda nm, o: other.append(g + "/" + nm)
                             if isinstance(o, h5py.Dataset) else None)
        check(len(names) > 20, "datasets to compare")
        check(sorted(names) == sorted(other), "same datasets")
        for nm in names:
            x, y = fa[nm][()], fb[nm][()]
            check(x.tobytes() == y.tobytes(), "bit-identical %s" % nm)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file", nargs="?")
    p.add_argument("--dumps", type=int)
    p.add_argument("--period", type=int, default=1000000)
    p.add_argument("--reset-after", type=int, default=0)
    p.add_argument("--wide", type=int, default=0)
    p.add_argument("--noisy", action="store_true")
    p.add_argument("--txt")
    p.add_argument("--pythonpath", default="python")
    p.add_argument("--same", nargs=2)
    args = p.parse_args()
    if args.same:
        check_same(*args.same)
    else:
        check_file(args)
    print("%d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
