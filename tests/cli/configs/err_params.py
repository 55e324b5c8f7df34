# err_params.py - several mistakes at once; instantiate() must report all.
import iommusim as sim

root = sim.Root()
root.system = sim.System()
root.system.src = sim.PeriodicSource(perod="1ns")          # typo
root.system.bad = sim.PeriodicSource(period="80", count=-1)  # no unit; negative
root.system.clk = sim.ClockDomain(frequency="2 Ghz")         # wrong unit case
sim.simulate(until="1us")
