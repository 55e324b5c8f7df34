#!/bin/sh
# test_config.sh - running Python configs: results against closed forms,
# argv and argparse, the user's own modules, --set, --dump-config, outdir,
# repeated simulate()/reset_stats(), --progress, listings and docs.
# The embedded CPython's own allocations are not ours to leak-check: with
# --enable-sanitizers, LeakSanitizer is off for these runs only (docs/configs.md).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
C="$top_srcdir/tests/cli/configs"
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $C in /*) ;; *) C="$OLDPWD/$C" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac

expect_line() {     # FILE EXACT-LINE NAME
    if grep -Fxq -- "$2" "$1"; then ok "$3"; else
        bad "$3" "no line '$2' in: $(head -c 400 "$1")"; fi
}

# --- A periodic source at 3 GHz, closed form -------------------------------
# Event k at 1000 + round(k * 1000 / 3) ps <= 10^6 ps  <=>  k <= 2997: 2998.
expect_status 0 "periodic config runs" -- "$IOMMUSIM" -q "$C/periodic.py"
expect_line "$TMP/out" "count 2998" "3 GHz, 1-cycle period: 2998 events by 1 us (exact, no drift)"
expect_line "$TMP/out" "exit limit tick 1000000 events 2998" "exit record: cause, tick, events"
[ -s "$TMP/err" ] && bad "-q is quiet" "stderr: $(head -c 200 "$TMP/err")" || ok "-q is quiet"

# The config's own args reach its sys.argv and argparse.
expect_status 0 "config args" -- "$IOMMUSIM" -q "$C/periodic.py" --until 2us --period 3cycles
expect_line "$TMP/out" "argv: --until 2us --period 3cycles" "sys.argv holds the config's args"
# 3 cycles at 3 GHz = 1 ns: events at 1, 2, ..., 2000 ns.
expect_line "$TMP/out" "count 2000" "argparse values used (period 1 ns from 1 ns to 2 us)"
expect_status 0 "config --help" -- "$IOMMUSIM" "$C/periodic.py" --help
expect_grep "$TMP/out" "usage: periodic.py" "argparse --help in a config exits 0"

# --set overrides what the config set, typed like a config value.
# 2 cycles: round(2k * 1000 / 3) <= 999000  <=>  k <= 1498: 1499 events.
expect_status 0 "--set" -- "$IOMMUSIM" -q --set system.src.period=2cycles "$C/periodic.py"
expect_line "$TMP/out" "count 1499" "--set system.src.period=2cycles: 1499 events"
expect_status 0 "--set twice" -- "$IOMMUSIM" -q --set system.src.count=10 \
    --set system.clk.frequency=1GHz "$C/periodic.py"
expect_line "$TMP/out" "count 10" "--set count caps the source"

# --- Phases: warm-up, reset_stats(), max_events ----------------------------
expect_status 0 "phases config" -- "$IOMMUSIM" -q "$C/phases.py"
expect_line "$TMP/out" "warm limit 101" "10 ns period by 1 us: 0..1000 ns, 101 events"
expect_line "$TMP/out" "burst 5 last 4000" "count=5 at 1 ns: 5 events, last at 4 ns"
expect_line "$TMP/out" "measure limit 100 gap 10000" "after reset_stats: 1010..2000 ns, 100 events, gap 10 ns"
expect_line "$TMP/out" "capped max_events 7" "max_events stops the run"
expect_line "$TMP/out" "frozen: system.src.period: the tree cannot change after instantiate() (set it before the first simulate())" \
    "parameters cannot change after instantiate()"

# --- Lists: a TraceSource fires at each listed time ------------------------
# Times 30 ns, 10 ns, 25 cycles at 1 GHz (25 ns) and 2 us: by 1 us the first
# three (last at 30 ns), by 3 us all four.
expect_status 0 "list parameter" -- "$IOMMUSIM" -q "$C/trace.py"
expect_line "$TMP/out" "events 3 last 30000" "list of times, any order, one in cycles: 3 events by 1 us"
expect_status 0 "list parameter, longer run" -- "$IOMMUSIM" -q "$C/trace.py" --until 3us
expect_line "$TMP/out" "events 4 last 2000000" "all 4 listed times by 3 us"
expect_status 0 "--set a list" -- "$IOMMUSIM" -q --set "system.t.times=1ns, 2ns" "$C/trace.py"
expect_line "$TMP/out" "events 2 last 2000" "--set replaces a list"
expect_status 0 "--set an empty list" -- "$IOMMUSIM" -q --set "system.t.times=" "$C/trace.py"
expect_line "$TMP/out" "events 0 last 0" "--set an empty list: no events"

# A long list (1000 items, ~7 KB of text) is not truncated anywhere.
long=$(seq -s, -f '%gns' 1 1000)
expect_status 0 "--set a long list" -- "$IOMMUSIM" -q --set "system.t.times=$long" "$C/trace.py"
expect_line "$TMP/out" "events 1000 last 1000000" "1000 listed times: 1000 events, last at 1 us"

# --- The user's modules next to the config; Poisson against its mean ------
expect_status 0 "sources config (imports helpers.py)" -- "$IOMMUSIM" -q "$SRC/configs/sources.py"
# Over 0.9 ms: 9000 +- 95 and 2250 +- 47 events; accept 5 standard deviations.
awk '/^system\.a:/ { a = $2 } /^system\.b:/ { b = $2 }
     END { exit !(a > 9000 - 475 && a < 9000 + 475 && b > 2250 - 237 && b < 2250 + 237) }' \
    "$TMP/out" && ok "Poisson counts within 5 sd of rate * window" || \
    bad "Poisson counts" "$(cat "$TMP/out")"
cp "$TMP/out" "$TMP/seed1"
"$IOMMUSIM" -q "$SRC/configs/sources.py" >"$TMP/again" 2>&1
cmp -s "$TMP/seed1" "$TMP/again" && ok "same seed, same output" || bad "same seed, same output"
"$IOMMUSIM" -q --seed 2 "$SRC/configs/sources.py" >"$TMP/seed2" 2>&1
cmp -s "$TMP/seed1" "$TMP/seed2" && bad "--seed changes the streams" || ok "--seed changes the streams"
expect_status 0 "default example" -- "$IOMMUSIM" -q "$SRC/configs/default.py"
expect_line "$TMP/out" "system.tick.events 501" "default example: 4 cycles at 2 GHz, 501 events by 1 us"

# Debian's dist-packages inside the embedded interpreter.
if $PY -c 'import numpy' 2>/dev/null; then
    expect_status 0 "numpy in a config" -- "$IOMMUSIM" -q "$C/numpy_inside.py"
    expect_line "$TMP/out" "mean 50.0" "numpy imports and computes inside a config"
fi

# --- --dump-config and outdir ----------------------------------------------
expect_status 0 "--dump-config" -- "$IOMMUSIM" --dump-config --set system.src.count=7 "$C/periodic.py"
grep -q '^exit' "$TMP/out" && bad "--dump-config does not simulate" || ok "--dump-config does not simulate"
sed -n '/^{/,$p' "$TMP/out" >"$TMP/dump.json"
$PY - "$TMP/dump.json" <<'PYEOF' && ok "--dump-config JSON: resolved values, canonical units, overrides" || bad "--dump-config JSON" "$(head -c 600 "$TMP/dump.json")"
import json, sys
j = json.load(open(sys.argv[1]))
o = j["objects"]
src = o["system.src"]
assert src["type"] == "PeriodicSource", src
assert src["params"] == {"period": "1cycles", "start": "3cycles", "count": 7,
                         "clock": "system.clk"}, src["params"]
assert o["system.clk"]["params"] == {"frequency": "3GHz"}, o["system.clk"]
assert o["system"]["children"] == ["clk", "src"], o["system"]
assert j["seed"] == 1
PYEOF
"$IOMMUSIM" --dump-config "$C/trace.py" >"$TMP/trace.json"
$PY -c 'import json, sys
p = json.load(open(sys.argv[1]))["objects"]["system.t"]["params"]
assert p["times"] == ["30ns", "10ns", "25cycles", "2us"], p' "$TMP/trace.json" && \
    ok "--dump-config: a list is a JSON list" || bad "--dump-config: a list is a JSON list" "$(cat "$TMP/trace.json")"
mkdir -p "$TMP/o"
expect_status 0 "--outdir" -- "$IOMMUSIM" -q --outdir "$TMP/o/run1" "$C/periodic.py"
if [ -f "$TMP/o/run1/config.json" ] && $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/o/run1/config.json"; then
    ok "--outdir DIR gets config.json"; else bad "--outdir DIR gets config.json"; fi
ls "$TMP/o/run1" | grep -q tmp && bad "no temporary files left" || ok "no temporary files left"

# --- Progress on stderr -----------------------------------------------------
expect_status 0 "--progress" -- "$IOMMUSIM" --progress "$C/periodic.py" --until 20us --period 1cycle
expect_grep "$TMP/err" '^iommusim: sim 20 us \(100\.0% of 20 us\), [0-9.e+]+ events/s, host [0-9.]+ s$' \
    "--progress prints simulated time, % of end, events/s, host time"
expect_status 0 "no progress when not a terminal" -- "$IOMMUSIM" "$C/periodic.py"
grep -q 'events/s' "$TMP/err" && bad "progress off by default off a terminal" || ok "progress off by default off a terminal"
expect_grep "$TMP/err" '^iommusim: done: simulated 1 us, 2998 events; output in iommusim-out$' "a summary line by default"

# --- Listings and docs -------------------------------------------------------
expect_status 0 "--list-models" -- "$IOMMUSIM" --list-models
expect_grep "$TMP/out" '^PoissonSource +Fires events' "--list-models lists models"
expect_status 0 "--describe" -- "$IOMMUSIM" --describe PeriodicSource
expect_grep "$TMP/out" '^  period +latency, default 10ns$' "--describe: type and default"
expect_grep "$TMP/out" 'time between events' "--describe: doc"
expect_grep "$TMP/out" '^  count +int, default 0, min 0$' "--describe: bounds"
"$IOMMUSIM" --params-markdown >"$TMP/params.md"
cmp -s "$TMP/params.md" "$SRC/docs/params.md" && ok "docs/params.md is up to date (make docs)" || \
    bad "docs/params.md is up to date" "run 'make docs'"
finish
