"""swmr_reader.py - read a statistics file while stats_writer_driver writes
it (HDF5 SWMR), through h5py directly and through iommusim.stats.

Usage: swmr_reader.py OUTDIR PYTHONPATH [TIMEOUT_S [DUMPS]]
Waits for OUTDIR/stats.h5.tmp, then polls until the writer renames it to
stats.h5. At every poll it checks that the dump count never shrinks, that
each counter row holds the closed form of the driver (reqs at dump i is
i(i+1)/2, no reset) and that the loader agrees. Passes only if it saw the
file grow at least three times while the writer was running.
"""
import os
import sys
import time

import h5py

outdir, pythonpath = sys.argv[1], sys.argv[2]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
total = int(sys.argv[4]) if len(sys.argv) > 4 else 100
sys.path.insert(0, pythonpath)
from iommusim.stats import load  # noqa: E402

tmp = os.path.join(outdir, "stats.h5.tmp")
deadline = time.time() + timeout
while not os.path.exists(tmp):
    if time.time() > deadline:
        sys.exit("swmr_reader: %s never appeared" % tmp)
    time.sleep(0.01)
# The writer creates the file, lays it out, then starts SWMR: until then an
# SWMR open may fail; retry.
while True:
    try:
        f = h5py.File(tmp, "r", libver="latest", swmr=True)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("swmr_reader: cannot open %s with SWMR" % tmp)
        time.sleep(0.02)

sizes = []
errors = 0
tick = f["dumps/tick"]
reqs = f["stats/system/dev0/reqs"]
summary = f["stats/system/dev0/lat/summary"]
while os.path.exists(tmp) and time.time() < deadline:
    tick.refresh()
    n = tick.shape[0]
    reqs.refresh()
    summary.refresh()
    if reqs.shape[0] < n or summary.shape[0] < n:
        print("swmr_reader: a stat has fewer rows (%d, %d) than dumps/tick (%d)"
              % (reqs.shape[0], summary.shape[0], n))
        errors += 1
    if sizes and n < sizes[-1]:
        print("swmr_reader: dump count shrank from %d to %d" % (sizes[-1], n))
        errors += 1
    if n and (not sizes or n != sizes[-1]):
        sizes.append(n)
        got = reqs[:n].tolist()
        want = [i * (i + 1) // 2 for i in range(1, n + 1)]
        if got != want:
            print("swmr_reader: reqs rows differ at n=%d" % n)
            errors += 1
        if list(tick[:n]) != [i * 1000000 for i in range(1, n + 1)]:
            print("swmr_reader: ticks differ at n=%d" % n)
            errors += 1
        if summary[n - 1, 0] != 5 * n:
            print("swmr_reader: lat count %g at dump %d, want %d" % (summary[n - 1, 0], n, 5 * n))
            errors += 1
        try:
            s = load(tmp)
            m = s.n
            if m < n or list(s.series("system.dev0.reqs")["value"])[:n] != want:
                print("swmr_reader: loader disagrees at n=%d (it sees %d)" % (n, m))
                errors += 1
            # /run/complete turns 1 just before the rename, with every dump in.
            if s.complete and (s.meta["dumps"] != s.n or s.n != total):
                print("swmr_reader: complete with %d of %d dumps" % (s.n, s.meta["dumps"]))
                errors += 1
            s.close()
        except OSError as e:
            # The writer may rename the file between our check and the open.
            if os.path.exists(tmp):
                print("swmr_reader: loader failed on the live file: %s" % e)
                errors += 1
    time.sleep(0.03)
f.close()
print("swmr_reader: saw %d distinct sizes (%s ... %s)" % (
    len(sizes), sizes[:3], sizes[-1:]))
if len(sizes) < 3:
    print("swmr_reader: the file did not visibly grow while being written")
    errors += 1
sys.exit(1 if errors else 0)
