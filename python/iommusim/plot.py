"""iommusim.plot - the plots users look at instead of reading numbers.

    iommusim plot sweep DIR --x PARAM --y STAT [--by PARAM] -o OUT.png|.svg
    iommusim plot cdf FILE.h5 HIST [--point ID] -o OUT.svg
    iommusim plot series FILE.h5 STAT [--column C] [--point ID] -o OUT.png
    iommusim report DIR [-o DIR/report.html] [--x PARAM] [--by PARAM] [--y STAT]...

* sweep: a stat of a merged sweep (iommusim.stats.load_sweep) against a
  swept parameter, one line per value of another (`--by`), the mean over the
  repeats (seeds) of each point, with their min-max range as error bars.
* cdf: the cumulative distribution of a histogram's last dump, from its
  bins: at each bin's upper edge, the fraction of samples below it
  (underflow and overflow bounded by the recorded min and max).
* series: a stat over simulated time, one value per dump.
* report: one self-contained HTML page (plots inline as SVG): the sweep's
  point table and, for each chosen stat, its plot against --x by --by
  (defaults: the first and second swept parameters; the stats that vary
  most across points).

Matplotlib runs with the Agg backend (no display needed). The output format
follows the file name: .png or .svg. In SVG every plotted line is a group
whose id names it (`series:BY=VALUE`, `cdf:PATH`, `time:PATH`), so tools and
tests can find a series. Runs under Debian's /usr/bin/python3.
"""
import argparse
import html
import io
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import stats as _stats  # noqa: E402

# Deterministic, text-preserving SVG: the same data gives the same file.
plt.rcParams["svg.hashsalt"] = "iommusim"
plt.rcParams["svg.fonttype"] = "none"
plt.rcParams["path.simplify"] = False


class PlotError(Exception):
    """A bad argument (unknown stat or parameter, bad output name)."""


def _save(fig, out):
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".svg"):
        raise PlotError("%s: the output must end in .png or .svg" % out)
    d = os.path.dirname(os.path.abspath(out))
    tmp = os.path.join(d, "." + os.path.basename(out) + ".tmp")
    fig.savefig(tmp, format=ext[1:], metadata={"Date": None} if ext == ".svg" else None)
    plt.close(fig)
    os.replace(tmp, out)


def _numeric(values):
    try:
        return np.asarray(values, dtype=float), True
    except (TypeError, ValueError):
        return list(values), False


def sweep_series(df, x, y, by=None):
    """{label: (xs, mean, lo, hi)}, label the --by value (or y): y averaged over the rows (repeats) of each
    x (and by) value; failed points (NaN) are left out."""
    for col, what in ((x, "--x"), (y, "--y")) + (((by, "--by"),) if by else ()):
        if col not in df.columns:
            cols = [c for c in df.columns if c not in ("point", "seed", "status")]
            raise PlotError("%s %s: no such parameter or stat in the sweep (have: %s%s)"
                            % (what, col, ", ".join(cols[:8]),
                               ", ..." if len(cols) > 8 else ""))
    d = df[df[y].notna()]
    groups = [(None, d)] if by is None else list(d.groupby(by, sort=True))
    out = {}
    # Numbers in ascending order; strings ("4ns") in the sweep's own order.
    numeric = _numeric(df[x])[1]
    order = None if numeric else list(dict.fromkeys(df[x]))
    for key, g in groups:
        agg = g.groupby(x, sort=numeric)[y].agg(["mean", "min", "max"])
        if order is not None:
            agg = agg.reindex([v for v in order if v in agg.index])
        label = y if by is None else str(key)
        out[label] = (list(agg.index), agg["mean"].to_numpy(), agg["min"].to_numpy(),
                      agg["max"].to_numpy())
    return out


def plot_sweep(df, x, y, out, by=None, title=None):
    series = sweep_series(df, x, y, by)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (xs, mean, lo, hi) in series.items():
        xv, numeric = _numeric(xs)
        pos = xv if numeric else np.arange(len(xs))
        line = ax.errorbar(pos, mean, yerr=[mean - lo, hi - mean], marker="o",
                           capsize=3, label=label)
        line.lines[0].set_gid("series:" + (label if by is None else "%s=%s" % (by, label)))
        if not numeric:
            ax.set_xticks(pos)
            ax.set_xticklabels([str(v) for v in xs])
    xv, numeric = _numeric(df[x])
    if numeric and len(xv) and np.all(xv > 0) and xv.max() / xv.min() >= 16:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title or "%s vs %s" % (y, x))
    ax.grid(True, alpha=0.3)
    if by is not None:
        ax.legend(title=by, fontsize="small")
    fig.tight_layout()
    _save(fig, out)
    return series


def cdf_points(h):
    """(xs, fractions) of a Hist: at each bin's upper bound, the fraction of
    samples below it, starting at (lower bound, 0)."""
    b = h.bins
    b = b[b["count"] > 0] if h.count else b
    if h.count == 0:
        return np.array([]), np.array([])
    cum = np.cumsum(b["count"].to_numpy()) / float(h.count)
    xs = np.concatenate(([b["lo"].iloc[0]], b["hi"].to_numpy()))
    return xs, np.concatenate(([0.0], cum))


def _open_stats(path, point):
    """A StatsFile for a stats.h5, or for one point of a sweep.h5."""
    import h5py
    if point is None:
        return _stats.load(path), None
    f = h5py.File(path, "r")
    if "points" not in f or point not in f["points"]:
        f.close()
        raise PlotError("%s: no finished point '%s'" % (path, point))
    return _stats.StatsFile("%s:%s" % (path, point), group=f["points"][point]), f


def plot_cdf(path, hist, out, point=None):
    s, f = _open_stats(path, point)
    try:
        h = s.hist(hist)
    finally:
        s.close()
        if f is not None:
            f.close()
    xs, ys = cdf_points(h)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    (line,) = ax.step(xs, ys, where="post", label=hist)
    line.set_gid("cdf:" + hist)
    for q in (50, 99):
        v = h.percentiles.get("p%d" % q)
        if v is not None and not math.isnan(v):
            ax.axvline(v, ls=":", color="grey")
            ax.text(v, 0.02 + 0.1 * (q == 99), " p%d" % q, color="grey")
    ax.set_xlabel("%s (%s)" % (hist, h.unit))
    ax.set_ylabel("fraction of samples <= x")
    ax.set_ylim(0, 1.02)
    ax.set_title("CDF of %s (%d samples)" % (hist, h.count))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    _save(fig, out)
    return xs, ys


def plot_series(path, stat, out, column=None, point=None):
    s, f = _open_stats(path, point)
    try:
        df = s.series(stat)
        unit = s.unit(stat)
    finally:
        s.close()
        if f is not None:
            f.close()
    col = column or df.columns[0]
    if col not in df.columns:
        raise PlotError("%s has no column '%s' (columns: %s)"
                        % (stat, col, ", ".join(df.columns)))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    t = df.index.to_numpy() * 1e6
    (line,) = ax.plot(t, df[col].to_numpy(), marker=".", label=col)
    line.set_gid("time:" + stat)
    ax.set_xlabel("simulated time (us)")
    ax.set_ylabel("%s%s (%s)" % (stat, "" if col == "value" else "::" + col, unit))
    ax.set_title("%s over time" % stat)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    _save(fig, out)
    return t, df[col].to_numpy()


# --- report -------------------------------------------------------------------

def _varying_stats(df, first, n=4):
    """The n stats whose values vary most (coefficient of variation) across
    the finished points."""
    scored = []
    for c in df.columns[first:]:
        v = df[c].dropna().to_numpy(dtype=float)
        if len(v) < 2 or not np.all(np.isfinite(v)):
            continue
        m = np.mean(np.abs(v))
        # Mostly-zero stats (faults, stale windows) vary a lot but say little.
        if m > 0 and np.std(v) > 0 and np.count_nonzero(v) * 2 >= len(v):
            scored.append((-(np.std(v) / m), c))
    return [c for _s, c in sorted(scored)[:n]]


def _svg_inline(draw):
    """Run draw(out) into a temporary SVG file and return its text."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "p.svg")
        draw(p)
        with open(p, encoding="utf-8") as f:
            text = f.read()
    return text[text.index("<svg"):]


def write_report(sweep_dir, out=None, x=None, by=None, ys=None):
    import json
    df = _stats.load_sweep(sweep_dir)
    path = sweep_dir if not os.path.isdir(sweep_dir) else os.path.join(sweep_dir, "sweep.h5")
    import h5py
    with h5py.File(path, "r") as f:
        names = [_stats._text(v) for v in f.attrs["param_names"]]
        desc = json.loads(_stats._text(f.attrs["sweep_json"]))
    first = 3 + len(names)
    x = x or (names[0] if names else None)
    if by is None and len(names) > 1:
        by = names[1] if names[1] != x else names[0]
    ys = ys or _varying_stats(df, first)
    out = out or os.path.join(os.path.dirname(os.path.abspath(path)), "report.html")
    plots = []
    if x is not None:
        for y in ys:
            plots.append((y, _svg_inline(lambda p, y=y: plot_sweep(df, x, y, p, by=by))))
    shown = list(df.columns[:first]) + [y for y in ys if y in df.columns]
    rows = []
    for _i, r in df[shown].iterrows():
        cells = []
        for c in shown:
            v = r[c]
            if isinstance(v, float):
                v = "nan" if math.isnan(v) else "%.6g" % v
            cells.append("<td%s>%s</td>" % (' class="bad"' if c == "status" and v != "ok"
                                            else "", html.escape(str(v))))
        rows.append("<tr>%s</tr>" % "".join(cells))
    ok = int((df["status"] == "ok").sum())
    doc = io.StringIO()
    doc.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
    doc.write("<title>iommusim sweep report: %s</title>\n" % html.escape(
        desc.get("name") or os.path.basename(desc.get("sweep_file") or path)))
    doc.write("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
              "collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
              "td.bad{color:#b00}figure{display:inline-block;margin:1em}</style>\n")
    doc.write("</head><body>\n<h1>Sweep report</h1>\n<p>Sweep file <code>%s</code>, "
              "config <code>%s</code>: %d points, %d ok.</p>\n" % (
                  html.escape(str(desc.get("sweep_file"))),
                  html.escape(str(desc.get("config"))), len(df), ok))
    doc.write("<h2>Points</h2>\n<table id=\"points\">\n<tr>%s</tr>\n%s\n</table>\n" % (
        "".join("<th>%s</th>" % html.escape(c) for c in shown), "\n".join(rows)))
    doc.write("<h2>Plots</h2>\n")
    for y, svg in plots:
        doc.write("<figure id=\"plot:%s\">%s<figcaption>%s vs %s%s (mean over seeds, "
                  "min-max bars)</figcaption></figure>\n" % (
                      html.escape(y), svg, html.escape(y), html.escape(x),
                      ", one line per " + html.escape(by) if by else ""))
    doc.write("</body></html>\n")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(doc.getvalue())
    os.replace(tmp, out)
    return out, ys


# --- command line ---------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("%s: %s" % (self.prog, message), file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    ap = _Parser(prog="iommusim plot", description="Plot sweeps, latency CDFs and time series.")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("sweep", help="a stat against a swept parameter")
    p.add_argument("sweep", help="sweep directory or sweep.h5")
    p.add_argument("--x", required=True)
    p.add_argument("--y", required=True)
    p.add_argument("--by")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("cdf", help="the CDF of a histogram")
    p.add_argument("file")
    p.add_argument("hist")
    p.add_argument("--point")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("series", help="a stat over simulated time")
    p.add_argument("file")
    p.add_argument("stat")
    p.add_argument("--column")
    p.add_argument("--point")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("report", help="an HTML page for a sweep")
    p.add_argument("sweep")
    p.add_argument("-o", "--output")
    p.add_argument("--x")
    p.add_argument("--by")
    p.add_argument("--y", action="append")
    args = ap.parse_args(argv)
    prog = "iommusim report" if args.cmd == "report" else "iommusim plot"
    try:
        if args.cmd == "sweep":
            plot_sweep(_stats.load_sweep(args.sweep), args.x, args.y, args.output, by=args.by)
        elif args.cmd == "cdf":
            plot_cdf(args.file, args.hist, args.output, point=args.point)
        elif args.cmd == "series":
            plot_series(args.file, args.stat, args.output, column=args.column,
                        point=args.point)
        else:
            out, _ys = write_report(args.sweep, args.output, args.x, args.by, args.y)
            print(out)
            return 0
        print(args.output)
        return 0
    except PlotError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError, TypeError) as e:
        msg = str(e).strip("'\"")
        if isinstance(e, OSError) and e.errno:
            msg = "%s: %s" % (e.filename or "", os.strerror(e.errno))
        print("%s: %s" % (prog, msg), file=sys.stderr)
        return 1 if not isinstance(e, OSError) else 2


if __name__ == "__main__":
    sys.exit(main())
