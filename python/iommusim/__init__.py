"""iommusim - write simulation configs for the iommusim simulator.

A config is a Python script run by the `iommusim` command (which embeds
Python). It builds a tree of objects under one Root and calls simulate():

    import iommusim as sim

    root = sim.Root()
    root.system = sim.System()
    root.system.clk = sim.ClockDomain(frequency="2GHz")
    root.system.src = sim.PeriodicSource(period="4cycles", clock=root.system.clk)
    ex = sim.simulate(until="1us")
    print(ex.cause, root.system.src.read("events"))

There is one class per model of the simulator (`iommusim --list-models`),
generated from the C descriptors; `iommusim --describe MODEL` and
docs/params.md list their parameters. See docs/configs.md.

Under a plain Python (for example /usr/bin/python3 reading statistics with
iommusim.stats) the simulator is absent, and only the analysis modules work.
"""
try:
    import _iommusim
except ImportError:                 # not inside the iommusim binary
    _iommusim = None

if _iommusim is not None:
    from ._objects import (ConfigError, ExitRecord, Root, SimObject,  # noqa: F401
                           SimulationError, find, instantiate, models, now, options,
                           outdir, reset_stats, simulate)
    from ._objects import make_classes as _make_classes

    _classes = _make_classes()
    globals().update(_classes)
    __all__ = ["ConfigError", "ExitRecord", "Root", "SimObject", "SimulationError",
               "find", "instantiate", "models", "now", "options", "outdir",
               "reset_stats", "simulate"] + sorted(_classes)
    del _classes
