"""check_sweep.py - checks of merged sweep files for tests/cli/test_sweep.sh.

    check_sweep.py same A.h5 B.h5        every point's /stats identical, bit for bit
    check_sweep.py periods DIR           small.py's values against closed forms
    check_sweep.py seeds A.h5            repeats with different seeds differ
"""
import json
import sys

import h5py
import numpy as np


def datasets(g):
    out = {}
    g.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset)
                 else None)
    return out


def same(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        pa, pb = sorted(fa["points"]), sorted(fb["points"])
        assert pa == pb and pa, (pa, pb)
        for p in pa:
            da, db = datasets(fa["points"][p]["stats"]), datasets(fb["points"][p]["stats"])
            assert sorted(da) == sorted(db), p
            for k in da:
                assert da[k].dtype == db[k].dtype and da[k].tobytes() == db[k].tobytes(), \
                    "%s %s differs" % (p, k)
        for k in ("point", "seed", "status"):
            assert list(fa["params"][k][:]) == list(fb["params"][k][:]), k
    print("%d points identical" % len(pa))


def periods(d):
    # 1 us / P + 1 events for period P (ticks 0, P, ..., 1 us); point ids in
    # declaration order: zip of 4 periods, each repeated with seeds 7 and 8.
    want = {"2ns": 501, "4ns": 251, "5ns": 201, "10ns": 101}
    with h5py.File(d + "/sweep.h5", "r") as f:
        ids = [x.decode() for x in f["params/point"][:]]
        per = [x.decode() for x in f["params/system.tick.period"][:]]
        seeds = list(f["params/seed"][:])
        assert ids == ["p%04d" % i for i in range(8)], ids
        assert per == [p for p in ["2ns", "4ns", "5ns", "10ns"] for _ in (0, 1)], per
        assert seeds == [7, 8] * 4, seeds
        for i, p in zip(ids, per):
            ev = f["points"][i]["stats/system/tick/events"][-1]
            assert ev == want[p], (i, p, ev)
            assert json.loads(f["points"][i].attrs["params_json"])["system.tick.period"] == p
    print("8 points match 1us/P + 1")


def seeds(a):
    with h5py.File(a, "r") as f:
        x = f["points/p0000/stats/system/iotlb/hits"][-1]
        y = f["points/p0001/stats/system/iotlb/hits"][-1]
        assert x != y, (x, y)
    print("seeds differ: %d vs %d hits" % (x, y))


{"same": lambda: same(*sys.argv[2:4]), "periods": lambda: periods(sys.argv[2]),
 "seeds": lambda: seeds(sys.argv[2])}[sys.argv[1]]()
