"""iommusim.stats - read iommusim statistics files (OUTDIR/stats.h5).

The layout is documented in stats/SCHEMA.md (schema_version 1). Runs under
Debian's /usr/bin/python3 (h5py, numpy, pandas).

    from iommusim.stats import load
    s = load("out/stats.h5")           # a finished file, or a live .tmp
    s.meta["seed"], s.meta["config_json"]
    s.scalars                          # DataFrame: path, value, unit, kind, description
    s.series("system.iommu.iotlb.hits")   # DataFrame indexed by simulated time (s)
    h = s.hist("system.dev0.lat")      # bins, counts, percentiles of the last dump
    s.refresh()                        # live file: see dumps written since

A file still being written (SWMR) is read consistently: the dump count is
taken from /dumps/tick, which the writer extends after every stat dataset,
and every stat is read up to that count.

Command line:
    python3 -m iommusim.stats show FILE [PATTERN]   final values, PATTERN a glob
                                                    (system.iommu.*) or substring
    python3 -m iommusim.stats export FILE --csv     every dump, long form, to stdout
"""
import fnmatch
import math
import sys

import h5py
import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
TICKS_PER_SECOND = 10 ** 12
SUMMARY_COLUMNS = ("count", "sum", "mean", "stdev", "min", "max",
                   "p50", "p90", "p99", "p99.9")
_SCALAR_KINDS = ("counter", "scalar", "twa", "formula")


def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v


def _plain(v):
    """An attribute as a plain Python value."""
    v = _text(v)
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    return v


class Hist:
    """One dump of a histogram.

    edges      the nbins + 1 bin edges
    counts     the nbins in-range counts
    underflow  samples below edges[0]; overflow: at or above edges[-1]
    summary    dict: count, sum, mean, stdev, min, max, p50, p90, p99, p99.9
    percentiles  dict of the four stored percentiles
    bins       DataFrame lo, hi, count (underflow and overflow rows included,
               bounded by min and max)
    """

    def __init__(self, path, unit, edges, row, summary):
        self.path = path
        self.unit = unit
        self.edges = np.asarray(edges, dtype=float)
        row = np.asarray(row, dtype=np.uint64)
        self.underflow = int(row[0])
        self.overflow = int(row[-1])
        self.counts = row[1:-1]
        self.summary = dict(zip(SUMMARY_COLUMNS, (float(x) for x in summary)))
        self.percentiles = {k: self.summary[k] for k in ("p50", "p90", "p99", "p99.9")}

    @property
    def count(self):
        return int(self.summary["count"])

    @property
    def bins(self):
        mn, mx = self.summary["min"], self.summary["max"]
        first, last = self.edges[0], self.edges[-1]
        lo = np.concatenate(([first if math.isnan(mn) else min(mn, first)], self.edges))
        hi = np.concatenate((self.edges, [last if math.isnan(mx) else max(mx, last)]))
        counts = np.concatenate(([self.underflow], self.counts, [self.overflow]))
        return pd.DataFrame({"lo": lo, "hi": hi, "count": counts.astype(np.int64)})

    def percentile(self, q):
        """The nearest-rank percentile q (0 < q <= 100) estimated from the
        bins exactly as the simulator does (stats/SCHEMA.md: error bound)."""
        n = self.count
        if n == 0:
            return math.nan
        ppm = int(round(q * 10000))
        if not 0 < ppm <= 1000000:
            raise ValueError("percentile must be in (0, 100]")
        k = -(-n * ppm // 1000000)
        mn, mx = self.summary["min"], self.summary["max"]
        full = [self.underflow] + [int(c) for c in self.counts] + [self.overflow]
        cum = 0
        for b, c in enumerate(full):
            if cum + c >= k:
                if b == 0:
                    a, z = mn, self.edges[0]
                elif b == len(full) - 1:
                    a, z = self.edges[-1], mx
                else:
                    a, z = self.edges[b - 1], self.edges[b]
                a, z = max(a, mn), min(z, mx)
                z = max(z, a)
                return a + (z - a) * ((k - cum) - 0.5) / c
            cum += c
        return mx

    def __repr__(self):
        return "Hist(%s, %d samples, mean %g %s)" % (
            self.path, self.count, self.summary["mean"], self.unit)


class StatsFile:
    """An open statistics file; see the module docstring."""

    def __init__(self, path, group=None):
        self.path = path
        self._owns = group is None
        if group is not None:
            # One point of a merged sweep.h5: a group laid out like a file's
            # root (stats/SCHEMA.md, "sweep.h5"); the caller owns the file.
            self._f = group
            self.swmr = False
        else:
            try:
                self._f = h5py.File(path, "r", libver="latest", swmr=True)
                self.swmr = True
            except (OSError, ValueError):
                self._f = h5py.File(path, "r")
                self.swmr = False
        version = self._f.attrs.get("schema_version")
        if version is None or int(version) != SCHEMA_VERSION:
            if self._owns:
                self._f.close()
            raise ValueError("%s: not an iommusim statistics file of schema %d "
                             "(schema_version %r)" % (path, SCHEMA_VERSION, version))
        self._stats = {}
        self._f["stats"].visititems(self._visit)
        self.refresh()

    def _visit(self, name, obj):
        kind = obj.attrs.get("kind")
        if kind is not None:
            self._stats[name.replace("/", ".")] = obj

    # --- context manager -------------------------------------------------
    def close(self):
        if self._owns:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- metadata and dumps ----------------------------------------------
    def refresh(self):
        """Re-read the dump count (and metadata) of a file being written."""
        tick = self._f["dumps/tick"]
        if self.swmr:
            tick.refresh()
            self._f["dumps/reset_tick"].refresh()
        self.n = int(tick.shape[0])
        self._tick = tick[: self.n].astype(np.uint64)
        self._reset = self._f["dumps/reset_tick"][: self.n].astype(np.uint64)
        self.meta = {k: _plain(v) for k, v in self._f.attrs.items()}
        # End-of-run values are datasets (SCHEMA.md: /run), filled at close.
        for k, ds in self._f["run"].items():
            if self.swmr:
                ds.refresh()
            self.meta[k] = _plain(ds[()])
        return self.n

    @property
    def complete(self):
        return bool(self.meta.get("complete", 0))

    @property
    def dumps(self):
        """DataFrame of dump index, tick, reset_tick and time_s."""
        return pd.DataFrame({"tick": self._tick, "reset_tick": self._reset,
                             "time_s": self._tick.astype(float) / TICKS_PER_SECOND})

    @property
    def paths(self):
        return sorted(self._stats)

    def kind(self, path):
        return _text(self._obj(path).attrs["kind"])

    def unit(self, path):
        return _text(self._obj(path).attrs["unit"])

    def description(self, path):
        return _text(self._obj(path).attrs["description"])

    def _obj(self, path):
        try:
            return self._stats[path]
        except KeyError:
            raise KeyError("%s: no stat '%s'" % (self.path, path)) from None

    def _rows(self, ds):
        if self.swmr:
            ds.refresh()
        return ds[: self.n]

    # --- values -----------------------------------------------------------
    def values(self, path):
        """The raw (dumps,) or (dumps, n) array of a stat; histogram: summary."""
        obj = self._obj(path)
        if self.kind(path) == "histogram":
            return self._rows(obj["summary"])
        return self._rows(obj)

    def series(self, path):
        """All dumps of a stat as a DataFrame indexed by simulated time in
        seconds (index name time_s): one column 'value' for counters,
        scalars, twa and formulas; one per element for vectors; the summary
        columns for histograms."""
        kind = self.kind(path)
        obj = self._obj(path)
        if kind == "vector":
            cols = [_text(x) for x in obj.attrs["elements"]]
        elif kind == "histogram":
            cols = list(SUMMARY_COLUMNS)
        else:
            cols = ["value"]
        data = np.asarray(self.values(path))
        if data.ndim == 1:
            data = data.reshape(-1, 1)
        index = pd.Index(self._tick.astype(float) / TICKS_PER_SECOND, name="time_s")
        return pd.DataFrame(data, index=index, columns=cols)

    def hist(self, path, dump=-1):
        """One dump (default the last) of a histogram as a Hist."""
        if self.kind(path) != "histogram":
            raise TypeError("%s is a %s, not a histogram" % (path, self.kind(path)))
        if self.n == 0:
            raise IndexError("%s: no dumps yet" % self.path)
        g = self._obj(path)
        counts = self._rows(g["counts"])
        summary = self._rows(g["summary"])
        return Hist(path, self.unit(path), g["edges"][:], counts[dump], summary[dump])

    def _final_rows(self, dump=-1):
        """(path, value, unit, kind, description) for every value of a dump."""
        for path in self.paths:
            kind, unit, desc = self.kind(path), self.unit(path), self.description(path)
            vals = self.values(path)
            if len(vals) == 0:
                continue
            row = vals[dump]
            if kind in _SCALAR_KINDS:
                yield path, row.item(), unit, kind, desc
            elif kind == "vector":
                elems = [_text(x) for x in self._obj(path).attrs["elements"]]
                for e, v in zip(elems, row):
                    yield "%s::%s" % (path, e), int(v), unit, kind, desc
                yield "%s::total" % path, int(np.sum(row)), unit, kind, desc
            else:
                for c, v in zip(SUMMARY_COLUMNS, row):
                    yield "%s::%s" % (path, c), float(v), \
                        "samples" if c == "count" else unit, kind, desc

    @property
    def scalars(self):
        """DataFrame of the last dump: path, value, unit, kind, description.
        Vectors appear as path::element and path::total, histograms as
        path::count, ::mean, ::p99 and the other summary columns."""
        return pd.DataFrame(list(self._final_rows()),
                            columns=["path", "value", "unit", "kind", "description"])

    def __repr__(self):
        return "StatsFile(%s, %d stats, %d dumps%s)" % (
            self.path, len(self._stats), self.n, "" if self.complete else ", incomplete")


def load(path):
    """Open a statistics file (finished, or live under SWMR)."""
    return StatsFile(path)


# --- sweeps -----------------------------------------------------------------

def load_sweep(path, stats=None):
    """A merged sweep (DIR or DIR/sweep.h5, stats/SCHEMA.md) as a pandas
    DataFrame with one row per point: point, seed, status, one column per
    swept parameter, then the final value of each chosen stat (NaN for a
    point that did not finish). `stats` is a list of value paths as
    `iommusim stats show` prints them (`system.iotlb.hit_rate`,
    `system.nic.lat::p99`) or globs of them; None takes every value."""
    import os
    if os.path.isdir(path):
        path = os.path.join(path, "sweep.h5")
    with h5py.File(path, "r") as f:
        if "sweep_version" not in f.attrs:
            raise ValueError("%s: not a merged sweep (no sweep_version attribute)" % path)
        names = [_text(x) for x in f.attrs["param_names"]]
        cols = {"point": [_text(x) for x in f["params/point"][:]],
                "seed": f["params/seed"][:].astype(np.uint64),
                "status": [_text(x) for x in f["params/status"][:]]}
        for n in names:
            v = f["params"][n][:]
            cols[n] = [_text(x) for x in v] if v.dtype.kind in "OS" else v
        df = pd.DataFrame(cols)
        values = {}
        for i, pid in enumerate(cols["point"]):
            if "points" not in f or pid not in f["points"]:
                continue
            s = StatsFile("%s:%s" % (path, pid), group=f["points"][pid])
            for p, v, _u, _k, _d in s._final_rows():
                if stats is None or any(fnmatch.fnmatchcase(p, pat) for pat in stats):
                    values.setdefault(p, {})[i] = float(v)
        for p in sorted(values):
            df[p] = [values[p].get(i, math.nan) for i in range(len(df))]
    return df


# --- command line -----------------------------------------------------------

def _match(pattern, path):
    if pattern is None:
        return True
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    return pattern in path


def _fmt(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return "%.9g" % v
    return str(v)


def _show(path, pattern):
    with load(path) as s:
        rows = [r for r in s._final_rows() if _match(pattern, r[0].split("::")[0])]
        if not rows:
            print("iommusim stats: %s: no stat matches '%s'" % (path, pattern),
                  file=sys.stderr)
            return 1
        width = max(len(r[0]) for r in rows)
        for p, v, unit, _kind, _desc in rows:
            print("%-*s %20s %s" % (width, p, _fmt(v), unit))
    return 0


def _export_csv(path, out):
    import csv
    with load(path) as s:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["dump", "tick", "time_s", "path", "value", "unit"])
        ticks = s._tick
        for d in range(s.n):
            t = int(ticks[d])
            for p, v, unit, _k, _desc in s._final_rows(d):
                w.writerow([d, t, repr(t / TICKS_PER_SECOND), p, _fmt(v), unit])
    return 0


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(prog="iommusim stats",
                                     description="Show or export an iommusim stats.h5 file.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("show", help="print the final value of each stat")
    p.add_argument("file")
    p.add_argument("pattern", nargs="?", help="glob (system.iommu.*) or substring")
    p = sub.add_parser("export", help="write every dump as CSV to stdout")
    p.add_argument("file")
    p.add_argument("--csv", action="store_true", required=True, help="CSV output")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "show":
            return _show(args.file, args.pattern)
        return _export_csv(args.file, sys.stdout)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error. Point stdout at
        # /dev/null so the interpreter's final flush does not complain.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, ValueError, KeyError) as e:
        import os
        msg = str(e).strip("'\"")
        if isinstance(e, OSError) and e.errno:
            msg = "%s: %s" % (args.file, os.strerror(e.errno))
        elif isinstance(e, OSError) and args.file not in msg:
            msg = "%s: %s" % (args.file, msg)
        print("iommusim stats: %s" % msg, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
