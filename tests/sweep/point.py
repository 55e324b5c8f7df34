"""point.py - a tiny config for the sweep tests (tests/cli/test_sweep.sh).

A periodic source runs for 1 us: with period P it fires 1us / P + 1 times
(ticks 0, P, ..., 1us), which the tests check in the merged sweep.h5.
--mode injects a failure, but only when SWEEP_TEST_INJECT=1 is set, so a
later --resume without it succeeds: crash (abort() after simulating, as a
failed C assert does; not SIGSEGV, which AddressSanitizer would turn into
exit 1), fail (a Python exception: exit 2), sleep (30 s of host time:
--point-timeout).
"""
import argparse
import os
import time

import iommusim as sim

ap = argparse.ArgumentParser()
ap.add_argument("--mode", default="ok", choices=["ok", "crash", "fail", "sleep"])
args = ap.parse_args()
inject = os.environ.get("SWEEP_TEST_INJECT") == "1"

root = sim.Root()
root.system = sim.System()
root.system.clk = sim.ClockDomain(frequency="1GHz")
root.system.tick = sim.PeriodicSource(period="10ns", clock=root.system.clk)
if inject and args.mode == "sleep":
    time.sleep(30)
sim.simulate(until="1us")
print("events", root.system.tick.read("events"))
if inject and args.mode == "crash":
    os.abort()
if inject and args.mode == "fail":
    raise RuntimeError("injected failure")
