#!/bin/sh
# test_sweep.sh - `iommusim sweep` end to end on real config runs: every
# point runs and merges (values checked against 1us/P + 1), progress lines,
# a crashing, a failing and a hanging point are recorded while the others go
# on, --resume reruns only those, Ctrl-C stops and keeps what finished,
# -j1 and -j2 merge to bit-identical statistics, `compare` works on sweeps,
# and bad input exits 2 with one line.
. "${top_srcdir:-.}/tests/cli/lib.sh"
# Points run configs in the embedded CPython, whose allocations are not
# leak-checked (docs/configs.md); ASan and UBSan stay on.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS

PY=/usr/bin/python3
SW="$top_srcdir/tests/sweep"
CHECK="$SW/check_sweep.py"

# status_of DIR ID: the point's status in the manifest (also checks the JSON).
status_of() {
    "$PY" -c "import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json'));
print([p['status'] for p in m['points'] if p['id']==sys.argv[2]][0])" "$1" "$2"
}
check_py() {
    name=$1; shift 2
    if "$PY" "$@" >"$TMP/py.out" 2>&1; then ok "$name"; else
        bad "$name" "$(head -c 600 "$TMP/py.out")"; fi
}

# --- A clean sweep: 8 points, progress on a timer ------------------------------
SWEEP_TEST_INJECT=0 expect_status 0 "clean sweep of 8 points at -j2" -- \
    "$IOMMUSIM" sweep "$SW/small.py" -j2 --outdir "$TMP/a" --progress --progress-interval 0.05
expect_grep "$TMP/err" '^sweep: [0-9]+/8 done, [0-9]+ failed, [0-9]+ running, elapsed [0-9]+s, ETA ' \
    "progress line: done/failed/running and ETA"
expect_grep "$TMP/err" '^sweep: 8/8 done, 0 failed, 0 running' "final progress line"
expect_grep "$TMP/err" 'merged into .*/a/sweep\.h5$' "summary names sweep.h5"
[ -f "$TMP/a/sweep.h5" ] && [ ! -e "$TMP/a/sweep.h5.tmp" ] && [ ! -e "$TMP/a/manifest.json.tmp" ] \
    && ok "sweep.h5 and manifest in place, no .tmp" || bad "sweep.h5 and manifest in place" "$(ls "$TMP/a")"
check_py "merged values: events = 1us/P + 1 per point, params table, seeds 7/8" -- "$CHECK" periods "$TMP/a"
expect_grep "$TMP/a/points/p0002/stdout.log" '^events 251' "per-point stdout log (4ns: 251 events)"
[ "$(status_of "$TMP/a" p0007)" = ok ] && ok "manifest: status ok" || bad "manifest: status ok"
check_py "load_sweep: one row per point, params and chosen stats (1us/P + 1)" -- -c "
import sys; sys.path.insert(0, '$top_srcdir/python')
from iommusim.stats import load_sweep
df = load_sweep('$TMP/a', ['system.tick.events'])
assert list(df.columns) == ['point', 'seed', 'status', 'system.tick.period', 'mode',
                            'system.tick.events'], list(df.columns)
assert list(df['system.tick.events']) == [501, 501, 251, 251, 201, 201, 101, 101], df
m = df.groupby('system.tick.period')['system.tick.events'].mean()
assert m['4ns'] == 251 and m['10ns'] == 101, m"

# --- Injected crash, failure and hang: recorded, the others go on -------------
SWEEP_TEST_INJECT=1 expect_status 1 "sweep with failing points exits 1" -- \
    "$IOMMUSIM" sweep "$SW/small.py" -j2 --outdir "$TMP/b" --point-timeout 1.5
for p in p0000 p0001; do
    [ "$(status_of "$TMP/b" $p)" = ok ] && ok "$p ok despite the others" || bad "$p ok"; done
for p in p0002 p0003 p0004 p0005; do
    [ "$(status_of "$TMP/b" $p)" = failed ] && ok "$p recorded failed" || bad "$p failed"; done
for p in p0006 p0007; do
    [ "$(status_of "$TMP/b" $p)" = timeout ] && ok "$p recorded timeout" || bad "$p timeout"; done
expect_grep "$TMP/b/manifest.json" '"id": "p0002".*"signal": 6, .*"error": "killed by signal 6 \(Aborted\)' \
    "crash: signal and reason in the manifest"
expect_grep "$TMP/b/manifest.json" '"id": "p0004".*"exit_code": 2, .*"error": "exit 2: RuntimeError: injected failure"' \
    "config error: exit code 2 and the exception's line"
expect_grep "$TMP/err" 'point p0006 timeout: timed out after 1\.5s' "timeout reported"
expect_grep "$TMP/err" '8 points: 2 ok, 6 failed; merged into' "summary counts"
check_py "failed sweep still merges the finished points" -- -c "
import h5py; f = h5py.File('$TMP/b/sweep.h5', 'r')
assert sorted(f['points']) == ['p0000', 'p0001'], list(f['points'])
assert [s.decode() for s in f['params/status'][:]] == ['ok'] * 2 + ['failed'] * 4 + ['timeout'] * 2"

check_py "load_sweep: a failed point's stats are NaN" -- -c "
import sys, math; sys.path.insert(0, '$top_srcdir/python')
from iommusim.stats import load_sweep
df = load_sweep('$TMP/b/sweep.h5', ['system.tick.events'])
ev = list(df['system.tick.events'])
assert ev[:2] == [501, 501] and all(math.isnan(x) for x in ev[2:]), ev
assert list(df['status'])[2] == 'failed'"

# --- Resume: only the failed points run ----------------------------------------
ls -li "$TMP/b/points/p0000/stats.h5" >"$TMP/before"
expect_status 2 "a second run without --resume refuses the directory" -- \
    "$IOMMUSIM" sweep "$SW/small.py" --outdir "$TMP/b"
expect_grep "$TMP/err" 'already holds a sweep \(manifest\.json\); use --resume' "refusal names --resume"
SWEEP_TEST_INJECT=0 expect_status 0 "--resume finishes the sweep" -- \
    "$IOMMUSIM" sweep "$SW/small.py" -j2 --outdir "$TMP/b" --resume
ls -li "$TMP/b/points/p0000/stats.h5" | cmp -s - "$TMP/before" \
    && ok "--resume leaves finished points untouched" || bad "--resume leaves finished points untouched"
check_py "resumed sweep: all 8 points, right values" -- "$CHECK" periods "$TMP/b"
check_py "resumed sweep equals the clean one, bit for bit" -- "$CHECK" same "$TMP/a/sweep.h5" "$TMP/b/sweep.h5"
touch -d '2001-01-01' "$TMP/b/points/p0003/stats.h5"
SWEEP_TEST_INJECT=1 expect_status 0 "--resume of a finished sweep runs nothing" -- \
    "$IOMMUSIM" sweep "$SW/small.py" -j2 --outdir "$TMP/b" --resume
[ "$(stat -c %Y "$TMP/b/points/p0003/stats.h5")" = "$(date -d 2001-01-01 +%s)" ] \
    && ok "finished sweep never recomputed" || bad "finished sweep never recomputed"

# --- Ctrl-C: running points stopped, finished kept, exit 130 -----------------
SWEEP_TEST_INJECT=1 "$IOMMUSIM" sweep "$SW/small.py" -j1 --outdir "$TMP/c" >"$TMP/c.out" 2>"$TMP/c.err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '"id": "p0006".*"status": "running"' "$TMP/c/manifest.json" 2>/dev/null; do
    sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid; st=$?
[ $st -eq 130 ] && ok "Ctrl-C: exit 130" || bad "Ctrl-C: exit 130" "exit $st: $(cat "$TMP/c.err")"
[ "$(status_of "$TMP/c" p0006)" = interrupted ] && ok "Ctrl-C: running point interrupted" \
    || bad "Ctrl-C: running point interrupted" "$(status_of "$TMP/c" p0006)"
[ "$(status_of "$TMP/c" p0007)" = pending ] && ok "Ctrl-C: later point not started" || bad "later point not started"
[ "$(status_of "$TMP/c" p0001)" = ok ] && ok "Ctrl-C: finished point kept" || bad "finished point kept"
expect_grep "$TMP/c.err" "interrupted: 2 of 8 points done; .*--resume' finishes the sweep" "Ctrl-C: says how to resume"
SWEEP_TEST_INJECT=0 expect_status 0 "resume after Ctrl-C" -- \
    "$IOMMUSIM" sweep "$SW/small.py" -j2 --outdir "$TMP/c" --resume
check_py "resumed after Ctrl-C: right values" -- "$CHECK" periods "$TMP/c"

# --- Determinism: the quick start over IOTLB sizes x patterns, -j1 vs -j2 ------
expect_status 0 "quick-start sweep at -j1" -- "$IOMMUSIM" sweep "$SW/quick.py" -j1 --outdir "$TMP/q1" -q
expect_status 0 "quick-start sweep at -j2" -- "$IOMMUSIM" sweep "$SW/quick.py" -j2 --outdir "$TMP/q2" -q
check_py "-j1 and -j2 give bit-identical statistics" -- "$CHECK" same "$TMP/q1/sweep.h5" "$TMP/q2/sweep.h5"
check_py "the seeds of the repeats matter (the check above can fail)" -- "$CHECK" seeds "$TMP/q1/sweep.h5"
expect_status 0 "compare: -j1 vs -j2 sweeps, zero tolerance" -- \
    "$IOMMUSIM" compare --rtol 0 "$TMP/q1/sweep.h5" "$TMP/q2/sweep.h5"
cp "$TMP/q2/sweep.h5" "$TMP/q3.h5"
"$PY" "$SW/h5edit.py" "$TMP/q3.h5" set /points/p0003/stats/system/iotlb/hits -1 0
expect_status 1 "compare: a changed point of a sweep" -- "$IOMMUSIM" compare "$TMP/q1/sweep.h5" "$TMP/q3.h5"
expect_grep "$TMP/out" '^p0003:system\.iotlb\.hits +[0-9]+ +0 +-100%$' "compare names the point and stat"
expect_status 2 "compare: a sweep against a single run" -- \
    "$IOMMUSIM" compare "$TMP/q1/sweep.h5" "$TMP/q1/points/p0000/stats.h5"

# --- The shipped example: the quick start over IOTLB sizes x patterns ----------
expect_status 0 "configs/sweeps/quickstart_iotlb.py runs (16 points)" -- \
    "$IOMMUSIM" sweep "$top_srcdir/configs/sweeps/quickstart_iotlb.py" -j2 --outdir "$TMP/ex" -q
check_py "example: a 4 x 4 table of hit rates, every point ok" -- -c "
import sys; sys.path.insert(0, '$top_srcdir/python')
from iommusim.stats import load_sweep
df = load_sweep('$TMP/ex', ['system.iotlb.hit_rate'])
t = df.pivot(index='entries', columns='system.nic.pattern', values='system.iotlb.hit_rate')
assert t.shape == (4, 4) and not t.isna().any().any(), t
assert list(t.index) == [16, 64, 256, 1024] and (df['status'] == 'ok').all()"

# --- The scaling benchmark's driver runs (speed is not checked here) -----------
expect_status 0 "bench/sweep-scaling smoke run (16 points of 100 us, -j1 and -j2)" -- \
    sh "$top_srcdir/bench/sweep-scaling" "$top_builddir" "$top_srcdir" 100us
expect_grep "$TMP/out" '^sweep16 until=100us j1_s=[0-9.]+ j2_s=[0-9.]+ speedup=[0-9.]+ target>=1\.8 (PASS|FAIL)$' \
    "scaling line: both wall times and the ratio"

# --- Slurm: the job array script, run here task by task with bash --------------
SWEEP_TEST_INJECT=0 expect_status 0 "--emit-slurm writes a job array" -- \
    "$IOMMUSIM" sweep "$SW/small.py" --emit-slurm "$TMP/slurm" --outdir "$TMP/sr"
expect_grep "$TMP/slurm/sweep.sbatch" '^#SBATCH --array=0-7$' "one array task per point (8)"
[ "$(wc -l <"$TMP/slurm/points.txt")" -eq 8 ] && ok "points.txt: 8 lines" || bad "points.txt: 8 lines"
[ ! -e "$TMP/sr/points/p0000/stats.h5" ] && ok "--emit-slurm runs nothing" || bad "--emit-slurm runs nothing"
t=0
while [ $t -lt 8 ]; do
    SWEEP_TEST_INJECT=0 SLURM_ARRAY_TASK_ID=$t bash "$TMP/slurm/sweep.sbatch" || bad "array task $t"
    t=$((t + 1)); done
PYTHONPATH="$top_srcdir/python" expect_status 0 "merge --slurm after the array" -- \
    "$PY" -m iommusim.sweep merge --slurm "$TMP/sr"
check_py "Slurm results: right values" -- "$CHECK" periods "$TMP/sr"

# --- Bad input -------------------------------------------------------------------
expect_status 2 "no sweep file" -- "$IOMMUSIM" sweep
expect_status 2 "-j 0" -- "$IOMMUSIM" sweep "$SW/small.py" -j 0
expect_status 2 "missing sweep file" -- "$IOMMUSIM" sweep "$TMP/nope.py" --outdir "$TMP/d"
expect_grep "$TMP/err" 'nope\.py: no such sweep file' "missing sweep file named"
printf 'from iommusim.sweep import Sweep\nsweep = Sweep("%s/point.py")\nsweep.zip({"a": [1, 2], "b": [1]})\n' \
    "$SW" >"$TMP/badzip.py"
expect_status 2 "zip of unequal lists" -- "$IOMMUSIM" sweep "$TMP/badzip.py" --outdir "$TMP/e"
expect_grep "$TMP/err" 'zip: the lists have different lengths \(a: 2, b: 1\)' "unequal zip explained"
expect_status 2 "bad --dask address" -- "$IOMMUSIM" sweep "$SW/small.py" --dask localhost
expect_status 0 "sweep --help" -- "$IOMMUSIM" sweep --help
finish
