#!/bin/sh
# test_stats_chunks.sh - the compressed chunks' encodings (h5writer.h, enum
# stats_h5_chunks) give the same statistics: the driver writes the same
# run with --chunks zlib (shuffle + zlib), auto (row-delta deflate, raw
# when that does not shrink a chunk) and raw; h5py checks every value of
# each file against the closed forms (check_stats_file.py, with a vector
# whose counts are incompressible in every other chunk), the three files
# are bit-identical in every dataset, each chunk's filter mask says what
# was applied (check_chunks.py: the auto file mixes deflated and raw chunks
# in one dataset), and h5dump, a second reader, decodes every chunk.
. "${top_srcdir:-.}/tests/cli/lib.sh"

DRIVER="$top_builddir/tests/stats/stats_writer_driver"
PY=/usr/bin/python3
PYPATH="$top_srcdir/python"
CHECK="$top_srcdir/tests/stats/check_stats_file.py"
CHUNKS="$top_srcdir/tests/stats/check_chunks.py"

check_py() {
    name=$1; shift 2
    if "$PY" "$@" >"$TMP/py.out" 2>&1; then ok "$name"; else
        bad "$name" "$(grep -v '^[0-9]* checks' "$TMP/py.out" | head -c 600)"; fi
}

# 1100 dumps in batches of 300 with a reset after 600: chunks end mid-batch
# (partly filled chunks are written, then rewritten whole), and the noise
# vector's 512-row chunks alternate between steady and incompressible.
for mode in zlib auto raw; do
    mkdir -p "$TMP/$mode"
    expect_status 0 "driver writes with --chunks $mode" -- \
        "$DRIVER" "$TMP/$mode" --dumps 1100 --batch 300 --reset-after 600 --noisy \
        --wide 20 --chunks "$mode"
    check_py "--chunks $mode: h5py reads back every value" -- "$CHECK" \
        "$TMP/$mode/stats.h5" --dumps 1100 --reset-after 600 --noisy --wide 20 \
        --pythonpath "$PYPATH"
    check_py "--chunks $mode: each chunk's filter mask" -- "$CHUNKS" "$TMP/$mode/stats.h5" "$mode"
    # Only /stats (the root holds the command line, /run host times), and
    # without the first line (the file's name).
    if h5dump -g /stats "$TMP/$mode/stats.h5" >"$TMP/h5.$mode" 2>&1; then
        tail -n +2 "$TMP/h5.$mode" >"$TMP/dump.$mode"
        ok "--chunks $mode: h5dump decodes every chunk"
    else bad "--chunks $mode: h5dump decodes every chunk" "$(head -c 300 "$TMP/h5.$mode")"; fi
done
check_py "auto and zlib files hold bit-identical statistics" -- "$CHECK" \
    --same "$TMP/auto/stats.h5" "$TMP/zlib/stats.h5"
check_py "auto and raw files hold bit-identical statistics" -- "$CHECK" \
    --same "$TMP/auto/stats.h5" "$TMP/raw/stats.h5"
# h5dump's text of /stats (every attribute and value) is the same.
if cmp -s "$TMP/dump.auto" "$TMP/dump.zlib" && cmp -s "$TMP/dump.auto" "$TMP/dump.raw"; then
    ok "h5dump prints the same data for all three"
else bad "h5dump prints the same data for all three" \
    "$(diff "$TMP/dump.auto" "$TMP/dump.zlib" | grep -v 'TIME\|time' | head -c 400)"; fi

# File batches of 1200 dumps gathered from the simulation's hand-offs of
# 512 (512 + 512 + 176), with a reset in the middle.
mkdir -p "$TMP/gather"
expect_status 0 "driver writes 2000 dumps in batches of 1200" -- \
    "$DRIVER" "$TMP/gather" --dumps 2000 --batch 1200 --flush-interval 1000 \
    --reset-after 1300 --noisy
check_py "batches gathered from hand-offs check out" -- "$CHECK" "$TMP/gather/stats.h5" \
    --dumps 2000 --reset-after 1300 --noisy --pythonpath "$PYPATH"

# 4500 dumps in batches of 1000: the one-value datasets' first 4096-row
# chunk is completed inside the fifth batch from rows kept since the
# fourth, and stored raw; the next one is left a tenth filled and deflated.
mkdir -p "$TMP/dense"
expect_status 0 "driver writes 4500 dumps in batches of 1000" -- \
    "$DRIVER" "$TMP/dense" --dumps 4500 --batch 1000 --reset-after 2500 --noisy
check_py "full and partial dense chunks check out" -- "$CHECK" "$TMP/dense/stats.h5" \
    --dumps 4500 --reset-after 2500 --noisy --pythonpath "$PYPATH"
check_py "dense chunks: full ones raw, the partial one deflated" -- "$CHUNKS" \
    "$TMP/dense/stats.h5" auto

# A flush every 10 ms: every partial chunk is rewritten at each flush and
# the file must not grow with the number of flushes. 2000 dumps of 50 us
# make about ten flushes: enough for the room check to fail when partial
# dense chunks are deflated at every flush (4.2 MB against 2.0 + 1 MiB),
# and the value check (quadratic in the dumps) stays at seconds.
mkdir -p "$TMP/often"
expect_status 0 "driver writes 2000 dumps with a flush every 10 ms" -- \
    "$DRIVER" "$TMP/often" --dumps 2000 --flush-interval 0.01 --sleep-us 50 --noisy \
    --reset-after 1200
check_py "frequently flushed file checks out" -- "$CHECK" "$TMP/often/stats.h5" \
    --dumps 2000 --reset-after 1200 --noisy --pythonpath "$PYPATH"
check_py "frequently flushed file: chunks in auto encoding" -- "$CHUNKS" \
    "$TMP/often/stats.h5" auto
check_py "frequently flushed file: no room lost to rewrites" -- "$CHUNKS" \
    "$TMP/often/stats.h5" room

# The writer thread off: the same encodings from the simulation thread.
mkdir -p "$TMP/sync"
expect_status 0 "driver writes auto chunks without a writer thread" -- \
    "$DRIVER" "$TMP/sync" --dumps 1100 --batch 100 --noisy --sync
check_py "synchronous auto file checks out" -- "$CHECK" "$TMP/sync/stats.h5" --dumps 1100 \
    --noisy --pythonpath "$PYPATH"
check_py "synchronous auto file: filter masks" -- "$CHUNKS" "$TMP/sync/stats.h5" auto

finish
