"""h5edit.py - change single values of a stats.h5 copy, to construct known
differences for the compare tests (tests/cli/test_compare.sh).

    h5edit.py FILE set PATH ROW [COL] VALUE    PATH an HDF5 path (/stats/...)
    h5edit.py FILE del PATH                    remove an object
ROW -1 is the last dump.
"""
import sys

import h5py

f = h5py.File(sys.argv[1], "r+")
op, path = sys.argv[2], sys.argv[3]
if op == "del":
    del f[path]
elif op == "set":
    rest = sys.argv[4:]
    ds = f[path]
    row = int(rest[0])
    if len(rest) == 3:
        ds[row if row >= 0 else ds.shape[0] + row, int(rest[1])] = float(rest[2])
    else:
        ds[row if row >= 0 else ds.shape[0] + row] = float(rest[1])
else:
    sys.exit("h5edit.py: unknown operation %s" % op)
f.close()
