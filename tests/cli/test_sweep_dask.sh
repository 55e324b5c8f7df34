#!/bin/sh
# test_sweep_dask.sh - `iommusim sweep --dask` through a real Dask cluster on
# 127.0.0.1: a scheduler and two worker processes started here (Debian
# python3-distributed; NOTES.md), stopped by the PIDs this test started.
# The quick-start sweep must give the same statistics as a local run; a
# point crashing on a worker is recorded with its signal while the others
# go on; an unreachable scheduler fails every point with a reason.
# Every step is bounded by `timeout`.
. "${top_srcdir:-.}/tests/cli/lib.sh"
# Points run configs in the embedded CPython, whose allocations are not
# leak-checked (docs/configs.md); ASan and UBSan stay on.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS

SW="$top_srcdir/tests/sweep"
CHECK="$SW/check_sweep.py"
if ! command -v dask-scheduler >/dev/null || ! command -v dask-worker >/dev/null; then
    echo "SKIP: dask-scheduler/dask-worker not installed (python3-distributed)"; exit 77
fi
# A free port: ask the kernel.
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADDR="tcp://127.0.0.1:$PORT"
dask-scheduler --host 127.0.0.1 --port "$PORT" --no-dashboard >"$TMP/sched.log" 2>&1 &
SPID=$!
# The workers see SWEEP_TEST_INJECT=1: small.py's crash mode crashes there.
SWEEP_TEST_INJECT=1 dask-worker "$ADDR" --nworkers 2 --nthreads 1 --no-dashboard \
    --local-directory "$TMP/dw" >"$TMP/work.log" 2>&1 &
WPID=$!
stop_cluster() { kill "$WPID" "$SPID" 2>/dev/null; wait "$WPID" "$SPID" 2>/dev/null; }
trap 'stop_cluster; rm -rf "$TMP"' EXIT
# Wait (at most 30 s) until both workers have joined.
if timeout 30 /usr/bin/python3 -c "
import sys, time
from distributed import Client
c = Client('$ADDR', timeout=20)
while len(c.scheduler_info()['workers']) < 2: time.sleep(0.2)
c.close()" >"$TMP/wait.log" 2>&1; then ok "scheduler and two workers up on 127.0.0.1"
else bad "scheduler and two workers up" "$(tail -3 "$TMP/wait.log" "$TMP/sched.log")"; finish; exit; fi

expect_status 0 "quick-start sweep through Dask" -- timeout 120 \
    "$IOMMUSIM" sweep "$SW/quick.py" -j4 --outdir "$TMP/d" --dask "$ADDR" -q
expect_grep "$TMP/d/manifest.json" '"runner": "dask"' "manifest says dask"
expect_grep "$TMP/d/points/p0005/stdout.log" '^iotlb hit_rate ' "the worker's stdout brought back"
expect_status 0 "the same sweep locally" -- timeout 120 \
    "$IOMMUSIM" sweep "$SW/quick.py" -j2 --outdir "$TMP/l" -q
if /usr/bin/python3 "$CHECK" same "$TMP/l/sweep.h5" "$TMP/d/sweep.h5" >"$TMP/py" 2>&1
then ok "Dask and local runs give bit-identical statistics"
else bad "Dask and local runs give bit-identical statistics" "$(cat "$TMP/py")"; fi
grep -q 'worker' "$TMP/sched.log" && ok "the scheduler saw the workers" || bad "scheduler log"

expect_status 1 "a point crashing on a worker fails alone" -- timeout 120 \
    "$IOMMUSIM" sweep "$SW/small.py" -j4 --outdir "$TMP/c" --dask "$ADDR" --point-timeout 20
expect_grep "$TMP/c/manifest.json" '"id": "p0002".*"status": "failed".*"signal": 6' \
    "crash on the worker: signal 6 (abort) recorded"
expect_grep "$TMP/c/manifest.json" '"id": "p0001".*"status": "ok"' "the others go on"

stop_cluster
expect_status 2 "scheduler gone: the sweep stops before running anything" -- timeout 60 \
    "$IOMMUSIM" sweep "$SW/small.py" -j2 --outdir "$TMP/g" --dask "$ADDR"
expect_grep "$TMP/err" 'cannot reach the Dask scheduler tcp://127\.0\.0\.1' \
    "unreachable scheduler named"
finish
