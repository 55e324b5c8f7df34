"""iommusim.compare - regression check between two statistics files.

    python3 -m iommusim.compare BASELINE.h5 NEW.h5 [--rtol X] [--atol Y]
                                [--only PATTERN]... [--expect FILE]

Compares the final dump of every stat (vector elements and histogram summary
columns one by one, as `iommusim stats show` lists them) and prints a table
of those that differ beyond tolerance: path, baseline, new, relative change.
Works on two single-run files (OUTDIR/stats.h5) and on two merged sweeps
(DIR/sweep.h5, points matched by their id). A single run may also be a text
values file (`--write-values STATS.h5 OUT.txt` writes one: a header line,
then `path TAB value`), which is how stats/baselines/ keeps its baselines. Exit status: 0 every compared
value within tolerance, 1 some differ (or a stat or point exists on one
side only), 2 usage error or an unreadable file.

A value passes when |new - baseline| <= atol + rtol * |baseline| (NaN equals
NaN: a rate with no events stays "no value"). The defaults, rtol 1e-9 and
atol 0, accept only floating-point noise: the simulator is deterministic.

The expectations file gives per-stat tolerances, one rule a line, the first
matching rule wins, and rules beat --rtol/--atol:

    # PATTERN               tolerances
    system.nic.throughput   rtol=0.02
    system.*.p99*           rtol=0.05 atol=1000
    system.iommu.table_bytes ignore

PATTERN is a glob (fnmatch, matched against the value's path such as
`system.nic.lat::p99`) or, without glob characters, a substring. Metadata
(times, host, command line) is never compared.

Runs under Debian's /usr/bin/python3 (h5py, numpy).
"""
import argparse
import fnmatch
import math
import os
import sys

import h5py

from .stats import SCHEMA_VERSION, StatsFile

DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 0.0


class UsageError(Exception):
    """A bad argument or file: exit 2."""


def _match(pattern, path):
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    return pattern in path


class Rule:
    def __init__(self, pattern, rtol=None, atol=None, ignore=False, where=""):
        self.pattern, self.rtol, self.atol, self.ignore, self.where = \
            pattern, rtol, atol, ignore, where


def parse_expect(path):
    """The rules of an expectations file (see the module docstring)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise UsageError("%s: cannot read the expectations file (%s)"
                         % (path, e.strerror or e)) from None
    except UnicodeDecodeError:
        raise UsageError("%s: not a text file" % path) from None
    rules = []
    for n, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].split()
        if not text:
            continue
        where = "%s:%d" % (path, n)
        pattern, opts = text[0], text[1:]
        if not opts:
            raise UsageError("%s: '%s' has no tolerance (expected rtol=X, atol=Y "
                             "or ignore)" % (where, pattern))
        rule = Rule(pattern, where=where)
        for o in opts:
            if o == "ignore":
                rule.ignore = True
                continue
            key, eq, val = o.partition("=")
            if not eq or key not in ("rtol", "atol"):
                raise UsageError("%s: unknown setting '%s' (expected rtol=X, atol=Y "
                                 "or ignore)" % (where, o))
            try:
                v = float(val)
            except ValueError:
                v = -1.0
            if not v >= 0 or math.isinf(v):
                raise UsageError("%s: %s must be a finite number >= 0 (got '%s')"
                                 % (where, key, val))
            setattr(rule, key, v)
        rules.append(rule)
    return rules


def _tolerance(path, rules, rtol, atol):
    """(rtol, atol, ignore) for one value path: the first matching rule."""
    for r in rules:
        if _match(r.pattern, path):
            if r.ignore:
                return rtol, atol, True
            return (rtol if r.rtol is None else r.rtol,
                    atol if r.atol is None else r.atol, False)
    return rtol, atol, False


def _close(a, b, rtol, atol):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:                      # also equal infinities
        return True
    return abs(b - a) <= atol + rtol * abs(a)


def _values(s):
    """{value path: float} of the last dump of a StatsFile."""
    return {p: float(v) for p, v, _u, _k, _d in s._final_rows()}


def _fmt(v):
    if v is None:
        return "-"
    if math.isnan(v):
        return "nan"
    if v == int(v) and abs(v) < 1e15:
        return "%d" % v
    return "%.9g" % v


def _change(a, b):
    if a is None:
        return "added"
    if b is None:
        return "removed"
    if math.isnan(a) or math.isnan(b):
        return "nan"
    if a == 0:
        return "from 0"
    return "%+.4g%%" % (100.0 * (b - a) / abs(a))


def compare_values(base, new, only, rules, rtol, atol, prefix=""):
    """Compare two {path: value} dicts. Returns (rows, compared): rows of
    (path, baseline, new, change) that differ, and how many values were
    compared."""
    rows, compared = [], 0
    for path in sorted(set(base) | set(new)):
        if only and not any(_match(p, path.split("::")[0]) or _match(p, path)
                            for p in only):
            continue
        r, a, ignore = _tolerance(path, rules, rtol, atol)
        if ignore:
            continue
        compared += 1
        va, vb = base.get(path), new.get(path)
        if va is None or vb is None or not _close(va, vb, r, a):
            rows.append((prefix + path, va, vb, _change(va, vb)))
    return rows, compared


VALUES_HEADER = "# iommusim stats values 1"


def write_values(h5path, out):
    """The final values of a stats.h5 as text (a baseline that diffs well in
    review): the header line, then 'path TAB value' a line, values written
    so that float() reads back the same double (repr)."""
    s = StatsFile(h5path)
    try:
        vals = _values(s)
    finally:
        s.close()
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(VALUES_HEADER + "\n")
        for p in sorted(vals):
            f.write("%s\t%r\n" % (p, vals[p]))
    os.replace(tmp, out)


def read_values(path):
    """{path: value} of a values file written by write_values."""
    vals = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines[1:], 2):
        if not line or line.startswith("#"):
            continue
        p, tab, v = line.partition("\t")
        try:
            vals[p] = float(v)
        except ValueError:
            tab = ""
        if not tab:
            raise UsageError("%s:%d: malformed line (expected PATH<TAB>VALUE)" % (path, n))
    return vals


def _is_values(path):
    with open(path, "rb") as f:
        return f.read(len(VALUES_HEADER)) == VALUES_HEADER.encode()


def _open(path):
    """(kind, h5py.File) with kind 'run' or 'sweep', or ('values', None) for
    a text values file; UsageError if none of these."""
    if not os.path.exists(path):
        raise UsageError("%s: No such file or directory" % path)
    if os.path.isfile(path) and _is_values(path):
        return "values", None
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise UsageError("%s: not an HDF5 file (expected a stats.h5 or a sweep.h5)"
                         % path) from None
    if "sweep_version" in f.attrs:
        return "sweep", f
    version = f.attrs.get("schema_version")
    if version is None or int(version) != SCHEMA_VERSION:
        f.close()
        raise UsageError("%s: not an iommusim statistics file (no schema_version %d "
                         "or sweep_version attribute)" % (path, SCHEMA_VERSION))
    return "run", f


def _group_values(path, group):
    s = StatsFile(path, group=group)
    try:
        return _values(s)
    finally:
        s.close()


def _sweep_points(path, f):
    """{point id: h5py group} of the finished points of a sweep.h5."""
    if "points" not in f:
        return {}
    return {name: f["points"][name] for name in f["points"]}


def compare_files(base_path, new_path, only=(), rules=(), rtol=DEFAULT_RTOL,
                  atol=DEFAULT_ATOL):
    """Compare two files; returns (rows, compared, notes)."""
    kb, fb = _open(base_path)
    try:
        kn, fn = _open(new_path)
    except UsageError:
        if fb is not None:
            fb.close()
        raise
    try:
        if "values" in (kb, kn) and {kb, kn} <= {"values", "run"}:
            va = read_values(base_path) if kb == "values" else _group_values(base_path, fb)
            vb = read_values(new_path) if kn == "values" else _group_values(new_path, fn)
            rows, n = compare_values(va, vb, only, rules, rtol, atol)
            return rows, n, []
        if kb != kn:
            raise UsageError("%s is a %s file but %s is a %s file: compare like with like"
                             % (base_path, "sweep" if kb == "sweep" else "single-run",
                                new_path, "sweep" if kn == "sweep" else "single-run"))
        if kb == "run":
            rows, n = compare_values(_group_values(base_path, fb),
                                     _group_values(new_path, fn), only, rules, rtol, atol)
            return rows, n, []
        pb, pn = _sweep_points(base_path, fb), _sweep_points(new_path, fn)
        rows, total, notes = [], 0, []
        for pid in sorted(set(pb) | set(pn)):
            if pid not in pn:
                rows.append((pid + ":", None, None, "point missing in new"))
                total += 1
                continue
            if pid not in pb:
                rows.append((pid + ":", None, None, "point missing in baseline"))
                total += 1
                continue
            pa, pnn = pb[pid].attrs.get("params_json"), pn[pid].attrs.get("params_json")
            if pa != pnn:
                notes.append("%s: parameters differ (baseline %s, new %s)" % (pid, pa, pnn))
            r, n = compare_values(_group_values("%s:%s" % (base_path, pid), pb[pid]),
                                  _group_values("%s:%s" % (new_path, pid), pn[pid]),
                                  only, rules, rtol, atol, prefix=pid + ":")
            rows += r
            total += n
        return rows, total, notes
    finally:
        for f in (fb, fn):
            if f is not None:
                f.close()


def print_table(rows, out):
    head = ("path", "baseline", "new", "change")
    cells = [head] + [(p, _fmt(a), _fmt(b), c) for p, a, b, c in rows]
    w = [max(len(r[i]) for r in cells) for i in range(4)]
    for r in cells:
        print("%-*s  %*s  %*s  %*s" % (w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3]),
              file=out)


def _nonneg(text):
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v >= 0 or math.isinf(v):
        raise argparse.ArgumentTypeError("must be a finite number >= 0 (got '%s')" % text)
    return v


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("iommusim compare: %s" % message, file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--write-values"]:
        if len(argv) != 3:
            print("usage: iommusim compare --write-values STATS.h5 OUT.txt", file=sys.stderr)
            return 2
        try:
            write_values(argv[1], argv[2])
        except (OSError, ValueError, KeyError) as e:
            print("iommusim compare: %s: %s" % (argv[1], str(e).strip("'\"")),
                  file=sys.stderr)
            return 2
        return 0
    ap = _Parser(prog="iommusim compare",
                 description="Compare the statistics of two runs (stats.h5) or two "
                 "sweeps (sweep.h5); exit 1 if any value differs beyond tolerance.")
    ap.add_argument("baseline")
    ap.add_argument("new")
    ap.add_argument("--rtol", type=_nonneg, default=DEFAULT_RTOL,
                    help="relative tolerance (default %g)" % DEFAULT_RTOL)
    ap.add_argument("--atol", type=_nonneg, default=DEFAULT_ATOL,
                    help="absolute tolerance (default %g)" % DEFAULT_ATOL)
    ap.add_argument("--only", action="append", default=[], metavar="PATTERN",
                    help="compare only stats matching PATTERN (glob or substring; "
                    "repeatable)")
    ap.add_argument("--expect", metavar="FILE",
                    help="per-stat tolerances: lines 'PATTERN rtol=X atol=Y' or "
                    "'PATTERN ignore'")
    ap.add_argument("-q", "--quiet", action="store_true", help="no table, only the status")
    args = ap.parse_args(argv)
    try:
        rules = parse_expect(args.expect) if args.expect else []
        rows, compared, notes = compare_files(args.baseline, args.new, args.only, rules,
                                              args.rtol, args.atol)
    except UsageError as e:
        print("iommusim compare: %s" % e, file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as e:
        print("iommusim compare: %s" % str(e).strip("'\""), file=sys.stderr)
        return 2
    for n in notes:
        print("note: %s" % n, file=sys.stderr)
    if args.only and compared == 0:
        print("iommusim compare: no stat matches %s" % " or ".join(
            "'%s'" % p for p in args.only), file=sys.stderr)
        return 2
    if rows:
        if not args.quiet:
            print_table(rows, sys.stdout)
        print("%d of %d values differ beyond tolerance (rtol %g, atol %g%s)"
              % (len(rows), compared, args.rtol, args.atol,
                 ", rules from " + args.expect if args.expect else ""))
        return 1
    if not args.quiet:
        print("all %d values within tolerance (rtol %g, atol %g%s)"
              % (compared, args.rtol, args.atol,
                 ", rules from " + args.expect if args.expect else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
