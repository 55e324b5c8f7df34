# numpy_inside.py - Debian's dist-packages import inside the embedded Python.
import numpy as np

import iommusim as sim

root = sim.Root()
root.system = sim.System(src=sim.PeriodicSource(period="1ns"))
sim.simulate(until="99ns")
print("mean", np.mean([root.system.src.read("events"), 0.0]))
