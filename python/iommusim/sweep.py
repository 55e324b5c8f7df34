"""iommusim.sweep - declare parameter sweeps; list, merge and export them.

A sweep file is a Python script that builds a Sweep at module level
(docs/sweeps.md):

    from iommusim.sweep import Sweep

    sweep = Sweep("quickstart.py", args=["--until", "50us"])
    sweep.grid({"system.iotlb.entries": [16, 64, 256], "policy": ["strict", "lazy"]})
    sweep.repeat(2)                       # seeds 1 and 2 for every point

A parameter name with a dot is an object parameter, passed as
`--set NAME=VALUE`; a name without one is an argument of the config, passed
after it as `--NAME VALUE`. grid() varies its parameters as a Cartesian
product, zip() varies them together, random() draws N samples from ranges;
several calls combine as a product, and repeat(R) runs each point R times
with seeds base_seed .. base_seed + R - 1. Points are numbered p0000, p0001,
... in that order, so a sweep file always gives the same point list.

Command line (used by `iommusim sweep`, runs under /usr/bin/python3):
    python3 -m iommusim.sweep list SWEEP.py --outdir DIR [--resume] --out FILE
    python3 -m iommusim.sweep merge DIR
    python3 -m iommusim.sweep emit-slurm SWEEP.py DIR --iommusim BIN --outdir RESULTS
"""
import itertools
import json
import math
import os
import random as _random
import shlex
import sys

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
SWEEP_H5_VERSION = 1


class SweepError(Exception):
    """A mistake in a sweep declaration or a sweep directory."""


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise SweepError("parameter names must be non-empty strings (got %r)" % (name,))
    bare = name[2:] if name.startswith("--") else name
    if not bare or any(c.isspace() or c in "=/" for c in bare):
        raise SweepError("parameter '%s': a name has no spaces, '=' or '/'" % name)
    return bare


def _check_value(name, v):
    if isinstance(v, bool) or v is None or isinstance(v, (int, float, str)):
        if isinstance(v, float) and not math.isfinite(v):
            raise SweepError("parameter '%s': value %r is not finite" % (name, v))
        if isinstance(v, str) and any(c in v for c in "\t\n\r"):
            raise SweepError("parameter '%s': value %r has a tab or newline" % (name, v))
        return v
    raise SweepError("parameter '%s': value %r is not a number, bool or string"
                     % (name, v))


def format_value(v):
    """A value as the command line takes it (True -> 'true')."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


class Sweep:
    """A base config plus the parameters to vary (module docstring)."""

    def __init__(self, config, args=(), sets=None, base_seed=1, name=None):
        self.config = os.fspath(config)
        self.args = [str(a) for a in args]
        self.sets = dict(sets or {})
        self.base_seed = int(base_seed)
        self.name = name
        self.blocks = []            # each a list of {name: value} dicts
        self.repeats = 1
        self.names = []             # swept parameter names, declaration order
        self.path = None            # the sweep file, set by load()

    def _add(self, block, names):
        for n in names:
            if n in self.names:
                raise SweepError("parameter '%s' is swept twice" % n)
        self.names += names
        self.blocks.append(block)
        return self

    def grid(self, params):
        """Every combination of the values of each parameter."""
        names = [_check_name(n) for n in params]
        values = []
        for n, vs in zip(names, params.values()):
            vs = list(vs) if not isinstance(vs, (str, bytes)) else [vs]
            if not vs:
                raise SweepError("grid: parameter '%s' has no values" % n)
            values.append([_check_value(n, v) for v in vs])
        return self._add([dict(zip(names, combo)) for combo in itertools.product(*values)],
                         names)

    def zip(self, params):
        """The i-th values of every parameter together (equal lengths)."""
        names = [_check_name(n) for n in params]
        lists = [list(v) for v in params.values()]
        if len({len(v) for v in lists}) > 1:
            raise SweepError("zip: the lists have different lengths (%s)" % ", ".join(
                "%s: %d" % (n, len(v)) for n, v in zip(names, lists)))
        if not lists or not lists[0]:
            raise SweepError("zip: no values")
        return self._add([{n: _check_value(n, v) for n, v in zip(names, row)}
                          for row in zip(*lists)], names)

    def random(self, n, ranges, seed=1):
        """n samples: for each parameter a (lo, hi) pair of ints (uniform
        integer, inclusive), of floats (uniform), ("log", lo, hi) (log-uniform
        float), or a list (uniform choice). Drawn from a generator seeded by
        `seed`, so the points are the same every time."""
        if not isinstance(n, int) or n < 1:
            raise SweepError("random: n must be a positive integer (got %r)" % (n,))
        rng = _random.Random(seed)
        names = [_check_name(k) for k in ranges]
        specs = list(ranges.values())
        block = []
        for _ in range(n):
            pt = {}
            for name, spec in zip(names, specs):
                if isinstance(spec, list):
                    v = rng.choice(spec)
                elif isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "log":
                    lo, hi = float(spec[1]), float(spec[2])
                    if not 0 < lo <= hi:
                        raise SweepError("random: '%s': log range needs 0 < lo <= hi" % name)
                    v = math.exp(rng.uniform(math.log(lo), math.log(hi)))
                elif isinstance(spec, tuple) and len(spec) == 2:
                    lo, hi = spec
                    if lo > hi:
                        raise SweepError("random: '%s': lo > hi" % name)
                    if isinstance(lo, int) and isinstance(hi, int):
                        v = rng.randint(lo, hi)
                    else:
                        v = rng.uniform(float(lo), float(hi))
                else:
                    raise SweepError("random: '%s': expected (lo, hi), ('log', lo, hi) "
                                     "or a list of choices (got %r)" % (name, spec))
                pt[name] = _check_value(name, v)
            block.append(pt)
        return self._add(block, names)

    def repeat(self, n, base_seed=None):
        """Run every point n times, with seeds base_seed .. base_seed + n - 1."""
        if not isinstance(n, int) or n < 1:
            raise SweepError("repeat: n must be a positive integer (got %r)" % (n,))
        self.repeats = n
        if base_seed is not None:
            self.base_seed = int(base_seed)
        return self

    def points(self):
        """The point list: dicts with id, params, seed."""
        combos = [{}]
        for block in self.blocks:
            combos = [dict(a, **b) for a in combos for b in block]
        out = []
        for c in combos:
            for r in range(self.repeats):
                out.append({"id": "p%04d" % len(out), "params": c,
                            "seed": self.base_seed + r})
        return out

    def config_path(self):
        """The base config, relative paths resolved against the sweep file."""
        if os.path.isabs(self.config) or not self.path:
            return os.path.abspath(self.config)
        return os.path.abspath(os.path.join(os.path.dirname(self.path), self.config))

    def point_args(self, point, outdir):
        """The iommusim arguments (after the binary) that run one point."""
        # One thread per point: the sweep itself fills the cores with points
        # (a point's event sets on more threads would only oversubscribe).
        args = ["--outdir", outdir, "--seed", str(point["seed"]), "--no-progress",
                "--threads", "1"]
        for k, v in self.sets.items():
            args += ["--set", "%s=%s" % (k, format_value(v))]
        cfg_args = []
        for k, v in point["params"].items():
            if "." in k:
                args += ["--set", "%s=%s" % (k, format_value(v))]
            else:
                cfg_args += ["--" + k, format_value(v)]
        return args + [self.config_path()] + self.args + cfg_args

    def describe(self):
        return {"config": self.config_path(), "args": self.args, "sets": self.sets,
                "names": self.names, "repeats": self.repeats, "base_seed": self.base_seed,
                "name": self.name, "sweep_file": self.path}


def load(path):
    """Run a sweep file and return its Sweep (the one named `sweep`, or the
    only Sweep it made)."""
    import runpy
    if not os.path.isfile(path):
        raise SweepError("%s: no such sweep file" % path)
    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    try:
        ns = runpy.run_path(path, run_name="__sweep__")
    finally:
        sys.path.pop(0)
    found = ns.get("sweep")
    if not isinstance(found, Sweep):
        cands = [v for v in ns.values() if isinstance(v, Sweep)]
        if len(cands) != 1:
            raise SweepError("%s: defines %s Sweep objects; name the one to run 'sweep'"
                             % (path, len(cands) or "no"))
        found = cands[0]
    found.path = path
    if not os.path.isfile(found.config_path()):
        raise SweepError("%s: base config %s: no such file" % (path, found.config_path()))
    if not found.points():
        raise SweepError("%s: the sweep has no points" % path)
    return found


def read_manifest(outdir):
    """The manifest of a sweep directory as a dict, or None if there is none."""
    path = os.path.join(outdir, MANIFEST)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise SweepError("%s: unreadable manifest (%s)" % (path, e)) from None
    if m.get("iommusim_sweep_manifest") != MANIFEST_VERSION:
        raise SweepError("%s: not an iommusim sweep manifest of version %d"
                         % (path, MANIFEST_VERSION))
    return m


def _atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_dask(addr, timeout=10):
    """Fail early, once, if the Dask scheduler cannot be reached."""
    from distributed import Client
    try:
        Client(addr, timeout=timeout).close()
    except (OSError, TimeoutError) as e:
        raise SweepError("cannot reach the Dask scheduler %s (%s)" % (addr, e)) from None


def cmd_list(sweep_file, outdir, resume, out):
    """Write the point list for the C runner: one point a line,
    ID TAB SEED TAB STATE TAB WALL TAB PARAMS_JSON TAB ARG TAB ARG ...
    STATE is 'done' for a point an earlier run finished with the same
    parameters and seed (kept by --resume), else 'todo'."""
    sw = load(sweep_file)
    outdir = os.path.abspath(outdir)
    prev = {}
    if resume:
        m = read_manifest(outdir)
        if m is not None:
            prev = {p["id"]: p for p in m.get("points", [])}
    lines = []
    for p in sw.points():
        pdir = os.path.join(outdir, "points", p["id"])
        params = json.dumps(p["params"], sort_keys=False, ensure_ascii=True)
        state, wall = "todo", 0.0
        old = prev.get(p["id"])
        if (old and old.get("status") == "ok" and old.get("params") == p["params"]
                and old.get("seed") == p["seed"]
                and os.path.isfile(os.path.join(pdir, "stats.h5"))):
            state, wall = "done", float(old.get("wall_s", 0.0))
        args = sw.point_args(p, pdir)
        for a in args:
            if "\t" in a or "\n" in a:
                raise SweepError("point %s: argument %r has a tab or newline" % (p["id"], a))
        lines.append("\t".join([p["id"], str(p["seed"]), state, repr(wall), params] + args))
    _atomic_write(out, "".join(line + "\n" for line in lines))
    _atomic_write(os.path.join(outdir, "sweep.json"), json.dumps(sw.describe(), indent=1))
    return 0


def _column(values):
    """A parameter column as a numpy array: int64, float64 or strings."""
    import numpy as np
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.float64)
    import h5py
    return np.asarray([format_value(v) for v in values],
                      dtype=h5py.string_dtype("utf-8"))


def cmd_merge(outdir):
    """DIR/sweep.h5 from the manifest and the finished points' stats.h5
    (stats/SCHEMA.md, 'sweep.h5'). Points in manifest order; values copied
    bit for bit, so the merged statistics do not depend on the order in
    which points finished."""
    import h5py
    import numpy as np
    m = read_manifest(outdir)
    if m is None:
        raise SweepError("%s: no %s (run 'iommusim sweep' first)" % (outdir, MANIFEST))
    points = m["points"]
    names = m.get("sweep", {}).get("names", [])
    out = os.path.join(outdir, "sweep.h5")
    tmp = out + ".tmp"
    sdt = h5py.string_dtype("utf-8")
    with h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["sweep_version"] = SWEEP_H5_VERSION
        f.attrs["sweep_json"] = json.dumps(m.get("sweep", {}), sort_keys=True)
        f.attrs["param_names"] = np.asarray(names, dtype=sdt) if names else \
            np.zeros(0, dtype=sdt)
        pg = f.create_group("params", track_order=True)
        pg.create_dataset("point", data=np.asarray([p["id"] for p in points], dtype=sdt))
        pg.create_dataset("seed", data=np.asarray([p["seed"] for p in points],
                                                  dtype=np.uint64))
        pg.create_dataset("status", data=np.asarray([p["status"] for p in points],
                                                    dtype=sdt))
        for n in names:
            pg.create_dataset(n, data=_column([p["params"].get(n, "") for p in points]))
        g = f.create_group("points", track_order=True)
        for p in points:
            src = os.path.join(outdir, "points", p["id"], "stats.h5")
            if p["status"] != "ok" or not os.path.isfile(src):
                continue
            dst = g.create_group(p["id"])
            with h5py.File(src, "r") as s:
                for k, v in s.attrs.items():
                    dst.attrs[k] = v
                for child in ("dumps", "run", "stats"):
                    s.copy(s[child], dst, name=child)
            dst.attrs["params_json"] = json.dumps(p["params"], sort_keys=True)
            dst.attrs["point_seed"] = np.uint64(p["seed"])
    fd = os.open(tmp, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, out)
    return 0


SLURM_TEMPLATE = """#!/bin/bash
# Slurm job array for the iommusim sweep {sweep_file}: one array task per
# point. Written by `iommusim sweep --emit-slurm`; submit with
#     sbatch {script}
# Each task reads line SLURM_ARRAY_TASK_ID + 1 of points.txt (a point id and
# the iommusim arguments, shell-quoted) and runs it; results go under
# {results}/points/ID. Afterwards, on a node with h5py:
#     PYTHONPATH={pythonpath} /usr/bin/python3 -m iommusim.sweep merge {results}
#SBATCH --job-name={job}
#SBATCH --array=0-{last}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --output={results}/points/slurm-%a.out
set -euo pipefail
here=$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)
line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$here/points.txt")
eval "set -- $line"
id=$1; shift
mkdir -p "{results}/points/$id"
exec {iommusim} "$@" >"{results}/points/$id/stdout.log" 2>"{results}/points/$id/stderr.log"
"""


def cmd_emit_slurm(sweep_file, slurm_dir, iommusim, results):
    """DIR/points.txt and DIR/sweep.sbatch, plus a manifest in RESULTS listing
    the points as 'pending' so that `merge` (after the array ran) and
    `iommusim sweep --resume` work on the results."""
    sw = load(sweep_file)
    os.makedirs(slurm_dir, exist_ok=True)
    results = os.path.abspath(results)
    os.makedirs(os.path.join(results, "points"), exist_ok=True)
    lines, mpoints = [], []
    for p in sw.points():
        pdir = os.path.join(results, "points", p["id"])
        args = sw.point_args(p, pdir)
        lines.append(" ".join(shlex.quote(a) for a in [p["id"]] + args))
        mpoints.append({"id": p["id"], "params": p["params"], "seed": p["seed"],
                        "status": "pending", "exit_code": None, "signal": None,
                        "wall_s": 0.0, "error": "", "outdir": pdir})
    _atomic_write(os.path.join(slurm_dir, "points.txt"), "".join(x + "\n" for x in lines))
    script = os.path.join(slurm_dir, "sweep.sbatch")
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    _atomic_write(script, SLURM_TEMPLATE.format(
        sweep_file=sw.path, script=script, results=shlex.quote(results),
        pythonpath=shlex.quote(pkg), job=shlex.quote(sw.name or "iommusim-sweep"),
        last=len(lines) - 1, iommusim=shlex.quote(os.path.abspath(iommusim))))
    os.chmod(script, 0o755)
    _atomic_write(os.path.join(results, MANIFEST), json.dumps({
        "iommusim_sweep_manifest": MANIFEST_VERSION, "sweep": sw.describe(),
        "runner": "slurm", "points": mpoints}, indent=1))
    print("%s: %d points; submit with: sbatch %s" % (slurm_dir, len(lines), script))
    return 0


def mark_slurm_results(outdir):
    """After a Slurm array ran: a point with a complete stats.h5 is 'ok'."""
    m = read_manifest(outdir)
    for p in m["points"]:
        if p["status"] == "pending" and os.path.isfile(os.path.join(p["outdir"], "stats.h5")):
            p["status"] = "ok"
    _atomic_write(os.path.join(outdir, MANIFEST), json.dumps(m, indent=1))


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="python3 -m iommusim.sweep")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list")
    p.add_argument("sweep_file")
    p.add_argument("--outdir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--dask", metavar="ADDR", help="check that this scheduler answers")
    p = sub.add_parser("merge")
    p.add_argument("outdir")
    p.add_argument("--slurm", action="store_true",
                   help="first mark the points a Slurm array finished as ok")
    p = sub.add_parser("emit-slurm")
    p.add_argument("sweep_file")
    p.add_argument("slurm_dir")
    p.add_argument("--iommusim", required=True)
    p.add_argument("--outdir", required=True)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "list":
            if args.dask:
                check_dask(args.dask)
            return cmd_list(args.sweep_file, args.outdir, args.resume, args.out)
        if args.cmd == "merge":
            if args.slurm:
                mark_slurm_results(args.outdir)
            return cmd_merge(args.outdir)
        return cmd_emit_slurm(args.sweep_file, args.slurm_dir, args.iommusim, args.outdir)
    except SweepError as e:
        print("iommusim sweep: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("iommusim sweep: %s: %s" % (e.filename or "", e.strerror or e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run the module's importable copy, so that sweep files (which import
    # iommusim.sweep) and this code share one Sweep class.
    from iommusim.sweep import main as _main
    sys.exit(_main())
