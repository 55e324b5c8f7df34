"""iommusim._runner - run one config for the `iommusim` command.

The C side (src/py/py.c) calls main(config, args) and exits with what it
returns: 0 ok, 1 simulation error, 2 config error (including a Python
exception in the config), 130 interrupted. Every failure is reported here,
on stderr, in one line per problem; a Python exception shows only the
config's own frames, not the runner's or the iommusim package's.
"""
import os
import runpy
import sys

from . import _objects as _o

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _err(msg):
    print(f"iommusim: {msg}", file=sys.stderr)


def _user_frames(tb):
    """The traceback's frames outside this package and the stdlib's runpy."""
    import traceback                # only when a config fails: not at start-up
    keep = []
    for fr in traceback.extract_tb(tb):
        fn = fr.filename
        if fn.startswith("<frozen") or os.path.basename(fn) == "runpy.py":
            continue
        if os.path.abspath(fn).startswith(_PKG_DIR + os.sep):
            continue
        keep.append(fr)
    return keep


def _print_exception(e):
    import traceback
    frames = _user_frames(e.__traceback__)
    if frames:
        sys.stderr.write("Traceback (most recent call last):\n")
        sys.stderr.write("".join(traceback.format_list(frames)))
    sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))


def _time(tick):
    for unit, div in (("s", 1e12), ("ms", 1e9), ("us", 1e6), ("ns", 1e3)):
        if tick >= div:
            return f"{tick / div:.6g} {unit}"
    return f"{tick} ps"


def _close_stats(code):
    """Finish OUTDIR/stats.h5 and stats.txt; returns the exit code, 1 if
    they cannot be written. A run that did not end normally (code != 0) keeps
    what was measured, marked incomplete (/run/complete = 0)."""
    try:
        dumps = _o._stats_close(code == 0)
    except _o.SimulationError as e:
        _err(str(e))
        return code or 1
    if dumps is not None and code != 0 and _o._c.options()["verbosity"] >= 1:
        path = os.path.join(_o._c.options()["outdir"], "stats.h5")
        _err(f"statistics up to the stop kept in {path} ({dumps} dumps, "
             f"marked incomplete)")
    return code


def _run(config):
    code = _run_config(config)
    code = _close_stats(code)
    if code == 0:
        opts = _o._c.options()
        if opts["verbosity"] >= 1:
            _err(f"done: simulated {_time(_o._c.now())}, {_o._c.events()} events; "
                 f"output in {opts['outdir']}")
    return code


def _run_config(config):
    try:
        runpy.run_path(config, run_name="__main__")
        if _o._c.options()["dump_config"] and not _o._state.dumped:
            _o.instantiate()        # prints and raises _Dumped
    except _o._Dumped:
        return 0
    except _o.ConfigError as e:
        for line in e.errors:
            _err(line)
        return 2
    except _o.SimulationError as e:
        _err(str(e))
        return 1
    except KeyboardInterrupt:
        _err(f"interrupted at {_time(_o._c.now())} simulated time "
             f"({_o._c.events()} events); stopped")
        return 130
    except SystemExit as e:
        # sys.exit() or argparse (--help: 0, a usage error: 2): the config
        # chose to stop; say nothing more.
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException as e:      # noqa: B902 - report anything the config raised
        _print_exception(e)
        return 2
    if not _o._state.simulated:
        _err(f"warning: {config} never called simulate(); nothing was simulated")
        return 2
    return 0


def main(config, args):
    sys.argv = [config] + list(args)
    # The config's own modules next to it import like a script's.
    sys.path.insert(0, os.path.dirname(os.path.abspath(config)))
    try:
        code = _run(config)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code
