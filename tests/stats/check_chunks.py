"""check_chunks.py - how the compressed datasets' chunks of a stats.h5 were
stored, as HDF5 records it: each chunk's filter mask says which of the
dataset's filters (0 shuffle, 1 deflate) were skipped for it (h5writer.h,
enum stats_h5_chunks).

Usage: check_chunks.py FILE MODE
  zlib   every chunk went through shuffle and deflate (mask 0)
  raw    every chunk is stored as it is (mask 3)
  auto   every chunk is deflated without shuffle (mask 1) or raw (mask 3);
         system.iommu.walk_lat/counts all deflated; system.noise.v, when
         present, holds both kinds (a dataset of mixed chunks) and takes
         less room than raw
Exit status 0 when every check passes; each failure prints one line.
"""
import sys

import h5py

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL", what)


def masks(ds):
    return [ds.id.get_chunk_info(i).filter_mask for i in range(ds.id.get_num_chunks())]


def dense_chunks(f, filtered):
    """One-value-a-dump datasets under auto: a full chunk is stored raw
    (mask 3: its values mostly change every dump, not worth deflating), and
    a last chunk filled to at most half is deflated (mask 1): its unfilled
    rows repeat the last one, at most half the chunk's bytes are literals
    (9 bits a byte at worst), so the stream is always smaller than raw."""
    seen = 0
    for name, ds in filtered.items():
        if ds.ndim != 1:
            continue
        seen += 1
        rows, per = ds.shape[0], ds.chunks[0]
        for i in range(ds.id.get_num_chunks()):
            info = ds.id.get_chunk_info(i)
            first = info.chunk_offset[0]
            filled = min(rows - first, per)
            if filled == per:
                check(info.filter_mask == 3, "%s: full chunk at %d stored raw" % (name, first))
            elif filled <= per // 2:
                check(info.filter_mask == 1,
                      "%s: chunk at %d (%d of %d rows) deflated" % (name, first, filled, per))
                check(info.size < filled * 8 + 1024,
                      "%s: chunk at %d takes %d bytes for %d rows" % (name, first, info.size,
                                                                       filled))
    check(seen >= 1, "one-value datasets are compressed too")


def room(path):
    """Many flushes rewrite the partly filled chunks: the file stays within
    every chunk stored raw plus 1 MiB of metadata (a deflated chunk that
    grows at each rewrite needs new room each time, and would not)."""
    import os
    raw = [0]

    def add(_, o):
        if isinstance(o, h5py.Dataset) and o.chunks:
            per = o.dtype.itemsize
            for c in o.chunks:
                per *= c
            raw[0] += o.id.get_num_chunks() * per
    with h5py.File(path, "r") as f:
        f.visititems(add)
    size = os.path.getsize(path)
    check(size <= raw[0] + (1 << 20), "file %d bytes within raw chunks %d + 1 MiB" % (size, raw[0]))


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "room":
        room(path)
        print("%d failed" % failures)
        return 1 if failures else 0
    filtered = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: filtered.__setitem__(n, o)
                     if isinstance(o, h5py.Dataset) and o.compression == "gzip" else None)
        check(len(filtered) >= 1, "compressed datasets in the file")
        for name, ds in filtered.items():
            check(ds.shuffle, "%s declares shuffle + deflate" % name)
            m = set(masks(ds))
            want = {"zlib": {0}, "raw": {3}, "auto": {1, 3}}[mode]
            check(m and m <= want, "%s masks %s within %s" % (name, sorted(m), sorted(want)))
        if mode == "auto":
            dense_chunks(f, filtered)
        walk = "stats/system/iommu/walk_lat/counts"
        if mode == "auto":
            check(set(masks(f[walk])) == {1}, "walk_lat counts all deflated")
        noise = "stats/system/noise/v"
        if mode == "auto" and noise in f:
            ds = f[noise]
            check(set(masks(ds)) == {1, 3}, "noise vector mixes deflated and raw chunks")
            raw = ds.id.get_num_chunks() * ds.chunks[0] * ds.chunks[1] * 8
            check(ds.id.get_storage_size() < raw, "mixed chunks take less room than raw")
    print("%d compressed datasets, %d failed" % (len(filtered), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
