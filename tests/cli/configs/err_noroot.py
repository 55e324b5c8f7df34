# err_noroot.py - objects but no Root.
import iommusim as sim

system = sim.System(src=sim.PeriodicSource())
sim.simulate(until="1us")
