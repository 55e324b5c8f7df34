# err_exception.py - a bug in the config: a Python exception.
import iommusim as sim


def build(root):
    root.system = sim.System()
    raise ValueError("boom in the user's code")


build(sim.Root())
sim.simulate(until="1us")
